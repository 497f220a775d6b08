//! Applies the embedded migrations to the database at the given URL (SQLite or
//! PostgreSQL). `make prepare` and `make check-sqlx` use it to build the scratch databases
//! the query macros are checked against; it is built with `--no-default-features`, so it
//! compiles without any cached query metadata.

use std::str::FromStr;

use eyre::{WrapErr, bail};
use sqlx::{ConnectOptions, Connection, migrate::Migrator, sqlite::SqliteConnectOptions};

static SQLITE: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("./migrations/postgres");

#[tokio::main(flavor = "current_thread")]
async fn main() -> eyre::Result<()> {
    let Some(url) = std::env::args().nth(1) else {
        bail!("usage: apply-migrations <database-url>");
    };
    if url.starts_with("sqlite:") {
        let mut conn = SqliteConnectOptions::from_str(&url)?
            .create_if_missing(true)
            .connect()
            .await
            .wrap_err("cannot open the SQLite database")?;
        SQLITE.run(&mut conn).await?;
    } else {
        let mut conn = sqlx::PgConnection::connect(&url)
            .await
            .wrap_err("cannot connect to PostgreSQL")?;
        POSTGRES.run(&mut conn).await?;
    }
    Ok(())
}
