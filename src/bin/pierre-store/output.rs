//! What the commands print: messages on stdout unless `--quiet`, and progress bars only on
//! a terminal.
//!
//! A failed write to stdout never panics (as `println!` does) and never stops a command
//! half-way: the message and every later one are dropped and the command finishes its
//! work. A closed pipe (`pierre-store status | head -3`) is then no error at all; any
//! other write error is reported when the command ends ([`stdout_result`]).

use std::{
    io::{self, IsTerminal, Write},
    sync::OnceLock,
};

use indicatif::{ProgressBar, ProgressStyle};

/// How much to print.
#[derive(Clone, Copy, Debug)]
pub struct Output {
    quiet: bool,
    verbose: bool,
}

impl Output {
    pub fn new(quiet: bool, verbose: bool) -> Self {
        Self { quiet, verbose }
    }

    /// A normal message.
    pub fn say(&self, message: impl AsRef<str>) {
        if !self.quiet {
            print_line(message.as_ref());
        }
    }

    /// A message shown with `--verbose` only.
    pub fn detail(&self, message: impl AsRef<str>) {
        if self.verbose {
            print_line(message.as_ref());
        }
    }

    /// A progress bar of `total` steps: drawn on a terminal, hidden otherwise (or with
    /// `--quiet`).
    pub fn progress(&self, total: u64, what: &str) -> ProgressBar {
        if self.quiet || !std::io::stdout().is_terminal() {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message(what.to_owned());
        bar
    }
}

/// The first write to stdout that failed; nothing is written after it.
static STDOUT_ERROR: OnceLock<io::Error> = OnceLock::new();

/// Writes `message` and a newline to stdout, unless an earlier write failed.
fn print_line(message: &str) {
    if STDOUT_ERROR.get().is_some() {
        return;
    }
    if let Err(err) = writeln!(io::stdout().lock(), "{message}") {
        let _ = STDOUT_ERROR.set(err);
    }
}

/// `Ok` when every message reached stdout or the reader closed it early (a broken pipe:
/// the reader wanted no more); the write error otherwise (e.g. a full disk).
pub fn stdout_result() -> io::Result<()> {
    match STDOUT_ERROR.get() {
        Some(err) if err.kind() != io::ErrorKind::BrokenPipe => {
            Err(io::Error::new(err.kind(), err.to_string()))
        }
        _ => Ok(()),
    }
}
