use std::{convert::Infallible, str::FromStr, time::Duration};

use sqlx::{
    Sqlite, SqlitePool,
    migrate::{MigrateError, Migrator},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous},
};

use crate::{
    StoreConfig,
    backend::{
        Lifecycle,
        codec::Timestamp,
        rows::{AppliedMigrationRow, ReplicaHealthRow, SessionProbeRow, TableCountsRow},
    },
};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long a connection waits for another writer's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

impl Lifecycle for Sqlite {
    async fn connect(config: &StoreConfig) -> sqlx::Result<SqlitePool> {
        let options = SqliteConnectOptions::from_str(&config.database_url)?
            .create_if_missing(config.create_if_missing)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let file = options.get_filename();
        if !config.database_url.contains(":memory:") {
            if !config.create_if_missing && !file.exists() {
                return Err(sqlx::Error::Io(std::io::ErrorKind::NotFound.into()));
            }
            // The embedded default lives in ./data/: create the directory of a new file.
            if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
        }
        config.pool_options().connect_with(options).await
    }

    fn is_missing_database(error: &sqlx::Error) -> bool {
        matches!(error, sqlx::Error::Io(e) if e.kind() == std::io::ErrorKind::NotFound)
    }

    fn is_server_starting(_error: &sqlx::Error) -> bool {
        // A file opens or fails to: there is no server to wait for.
        false
    }

    fn is_lost_statement(_error: &sqlx::Error) -> bool {
        false
    }

    async fn probe_sessions(
        _pool: &SqlitePool,
        _wait: Duration,
    ) -> sqlx::Result<Option<SessionProbeRow>> {
        // An embedded database: no server sessions, no pooler.
        Ok(None)
    }

    fn migrator() -> &'static Migrator {
        &MIGRATOR
    }

    async fn migrate(pool: &SqlitePool, target: Option<i64>) -> Result<(), MigrateError> {
        match target {
            Some(version) => MIGRATOR.run_to(version, pool).await,
            None => MIGRATOR.run(pool).await,
        }
    }

    async fn select_routines_refused(_pool: &SqlitePool) -> sqlx::Result<bool> {
        // No binary logging here: nothing refuses the schema's triggers and functions.
        Ok(false)
    }

    async fn migrations_table_exists(pool: &SqlitePool) -> sqlx::Result<bool> {
        sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM sqlite_master
                 WHERE type = 'table' AND name = '_sqlx_migrations') AS "exists!: bool""#
        )
        .fetch_one(pool)
        .await
    }

    async fn select_applied_migrations(
        pool: &SqlitePool,
    ) -> sqlx::Result<Vec<AppliedMigrationRow>> {
        // sqlx records `installed_on` as SQLite's CURRENT_TIMESTAMP text (UTC, seconds).
        sqlx::query_as!(
            AppliedMigrationRow,
            r#"SELECT version AS "version!: i64", description,
                unixepoch(installed_on) * 1000000 AS "installed_on!: Timestamp",
                success AS "success: bool", checksum
             FROM _sqlx_migrations ORDER BY version"#
        )
        .fetch_all(pool)
        .await
    }

    async fn select_table_counts(pool: &SqlitePool) -> sqlx::Result<TableCountsRow> {
        sqlx::query_as!(
            TableCountsRow,
            r#"SELECT (SELECT COUNT(*) FROM users) AS "users!: i64",
                (SELECT COUNT(*) FROM user_oauth_tokens) AS "user_oauth_tokens!: i64",
                (SELECT COUNT(*) FROM api_keys) AS "api_keys!: i64",
                (SELECT COUNT(*) FROM api_key_usage) AS "api_key_usage!: i64",
                (SELECT COUNT(*) FROM jwt_usage) AS "jwt_usage!: i64",
                (SELECT COUNT(*) FROM a2a_clients) AS "a2a_clients!: i64",
                (SELECT COUNT(*) FROM tenants) AS "tenants!: i64",
                (SELECT COUNT(*) FROM activities) AS "activities!: i64",
                (SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size())
                    AS "size_bytes!: i64""#
        )
        .fetch_one(pool)
        .await
    }

    async fn begin_write(pool: &SqlitePool) -> sqlx::Result<sqlx::Transaction<'static, Sqlite>> {
        pool.begin_with("BEGIN IMMEDIATE").await
    }

    /// An embedded database has no replicas: no replica pool can exist.
    type ReplicaPool = Infallible;

    fn connect_replica(_: &StoreConfig, _: &str, _: Duration) -> sqlx::Result<Infallible> {
        Err(sqlx::Error::Configuration(
            "SQLite has no read replicas: leave DATABASE_READ_URLS (StoreConfig::read_urls) \
             empty for a SQLite database"
                .into(),
        ))
    }

    fn replica_pool(replica: &Infallible) -> &SqlitePool {
        match *replica {}
    }

    async fn select_replica_health(replica: &Infallible) -> sqlx::Result<ReplicaHealthRow> {
        match *replica {}
    }
}
