//! What the commands print: messages on stdout unless `--quiet`, and progress bars only on
//! a terminal.

use std::io::IsTerminal;

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
            println!("{}", message.as_ref());
        }
    }

    /// A message shown with `--verbose` only.
    pub fn detail(&self, message: impl AsRef<str>) {
        if self.verbose {
            println!("{}", message.as_ref());
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
