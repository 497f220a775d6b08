use std::{str::FromStr, time::Duration};

use sqlx::{
    Sqlite, SqlitePool,
    migrate::{MigrateError, Migrator},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous},
};

use crate::{StoreConfig, backend::Lifecycle};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long a connection waits for another writer's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

impl Lifecycle for Sqlite {
    async fn connect(config: &StoreConfig) -> sqlx::Result<SqlitePool> {
        let options = SqliteConnectOptions::from_str(&config.database_url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        // The embedded default lives in ./data/: create the directory of a new file.
        let file = options.get_filename();
        if !config.database_url.contains(":memory:")
            && let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir)?;
        }
        config.pool_options().connect_with(options).await
    }

    async fn migrate(pool: &SqlitePool) -> Result<(), MigrateError> {
        MIGRATOR.run(pool).await
    }

    async fn begin_write(pool: &SqlitePool) -> sqlx::Result<sqlx::Transaction<'static, Sqlite>> {
        pool.begin_with("BEGIN IMMEDIATE").await
    }
}
