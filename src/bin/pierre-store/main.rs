//! `pierre-store`: set up and look after a pierre-store database, on SQLite or PostgreSQL.
//!
//! The URL's scheme picks the backend at start-up (with `copy --to URL`, the target's too:
//! the only places in the project where a URL chooses a backend at run time); every command
//! is generic code monomorphised for `Store<Sqlite>` and `Store<Postgres>`.

mod backends;
mod cli;
mod commands;
mod duration;
mod output;

use std::process::ExitCode;

use clap::Parser;
use pierre_store::{Postgres, Sqlite};

use crate::{backends::UrlBackend, cli::Cli};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => return fail(&eyre::Report::new(err)),
    };
    let result = runtime.block_on(run(cli)).and_then(|()| {
        output::stdout_result().map_err(|e| eyre::Report::new(e).wrap_err("cannot write to stdout"))
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(&err),
    }
}

async fn run(cli: Cli) -> eyre::Result<()> {
    let url = cli.database_url();
    match backends::backend_of(&url)? {
        UrlBackend::Sqlite => commands::run::<Sqlite>(cli, url).await,
        UrlBackend::Postgres => commands::run::<Postgres>(cli, url).await,
    }
}

/// One clear line on stderr (with the chain of causes), and a failing exit status. A
/// backtrace only when `RUST_BACKTRACE` asks for one.
fn fail(err: &eyre::Report) -> ExitCode {
    eprintln!("error: {err:#}");
    if std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
        eprintln!("{err:?}");
    }
    ExitCode::FAILURE
}
