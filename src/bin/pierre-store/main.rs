//! `pierre-store`: set up and look after a pierre-store database, on SQLite, PostgreSQL or
//! MySQL / MariaDB.
//!
//! The URL's scheme picks the backend at start-up (with `copy --to URL`, the target's too),
//! through the library's [`pierre_store::run_for_url`]; every command is generic code
//! monomorphised for `Store<Sqlite>`, `Store<Postgres>` and `Store<MySql>`.

mod backends;
mod cli;
mod commands;
mod duration;
mod mysql_tools;
mod output;

use std::process::ExitCode;

use clap::Parser;
use pierre_store::ForBackend;

use crate::{backends::AdminBackend, cli::Cli};

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
    pierre_store::run_for_url(&url.clone(), Run { cli, url }).await?
}

/// The command line's command, run for the backend its database URL names.
struct Run {
    cli: Cli,
    url: String,
}

impl<B: AdminBackend> ForBackend<B> for Run {
    type Output = eyre::Result<()>;

    async fn run(self) -> Self::Output {
        commands::run::<B>(self.cli, self.url).await
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
