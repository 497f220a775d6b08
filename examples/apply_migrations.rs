//! Creates the database at the given URL (SQLite, PostgreSQL or MySQL/MariaDB) if it is
//! missing and applies the embedded migrations; with `--drop`, drops it instead. `make
//! prepare` and `make check-sqlx` use it for the scratch databases the query macros are
//! checked against. It is built with `--no-default-features`, so it compiles without any
//! cached query metadata.

use eyre::{WrapErr, bail};
use sqlx::{
    Connection, Database, MySql, Postgres, Sqlite,
    migrate::{MigrateDatabase, Migrator},
};

static SQLITE: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("./migrations/postgres");
static MYSQL: Migrator = sqlx::migrate!("./migrations/mysql");

#[tokio::main(flavor = "current_thread")]
async fn main() -> eyre::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (drop, url) = match args.as_slice() {
        [flag, url] if flag == "--drop" => (true, url.as_str()),
        [url] => (false, url.as_str()),
        _ => bail!("usage: apply-migrations [--drop] <database-url>"),
    };
    if is_url_of::<Sqlite>(url) {
        run::<Sqlite>(url, drop, &SQLITE).await
    } else if is_url_of::<Postgres>(url) {
        run::<Postgres>(url, drop, &POSTGRES).await
    } else if is_url_of::<MySql>(url) {
        run::<MySql>(url, drop, &MYSQL).await
    } else {
        bail!("not a SQLite, PostgreSQL or MySQL URL (sqlite:, postgres:, mysql: or mariadb:)")
    }
}

/// Whether `url` starts with one of `DB`'s URL schemes (sqlx's, e.g. `mysql` and `mariadb`
/// for MySQL) followed by `:`.
fn is_url_of<DB: Database>(url: &str) -> bool {
    url.split_once(':')
        .is_some_and(|(scheme, _)| DB::URL_SCHEMES.contains(&scheme))
}

async fn run<DB>(url: &str, drop: bool, migrator: &Migrator) -> eyre::Result<()>
where
    DB: MigrateDatabase + Database,
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
