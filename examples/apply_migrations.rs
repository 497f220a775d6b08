//! Creates the database at the given URL (SQLite or PostgreSQL) if it is missing and
//! applies the embedded migrations; with `--drop`, drops it instead. `make prepare` and
//! `make check-sqlx` use it for the scratch databases the query macros are checked
//! against. It is built with `--no-default-features`, so it compiles without any cached
//! query metadata.

use eyre::{WrapErr, bail};
use sqlx::{
    Connection, Postgres, Sqlite,
    migrate::{MigrateDatabase, Migrator},
};

static SQLITE: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("./migrations/postgres");

#[tokio::main(flavor = "current_thread")]
async fn main() -> eyre::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (drop, url) = match args.as_slice() {
        [flag, url] if flag == "--drop" => (true, url.as_str()),
        [url] => (false, url.as_str()),
        _ => bail!("usage: apply-migrations [--drop] <database-url>"),
    };
    if url.starts_with("sqlite:") {
        run::<Sqlite>(url, drop, &SQLITE).await
    } else {
        run::<Postgres>(url, drop, &POSTGRES).await
    }
}

async fn run<DB>(url: &str, drop: bool, migrator: &Migrator) -> eyre::Result<()>
where
    DB: MigrateDatabase + sqlx::Database,
    DB::Connection: sqlx::migrate::Migrate,
{
    if drop {
        return DB::drop_database(url)
            .await
            .wrap_err("cannot drop the database");
    }
    if !DB::database_exists(url).await? {
        DB::create_database(url)
            .await
            .wrap_err("cannot create the database")?;
    }
    let mut conn = DB::Connection::connect(url).await?;
    migrator.run_direct(None, &mut conn, false).await?;
    Ok(())
}
