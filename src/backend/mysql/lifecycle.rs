use std::{convert::Infallible, str::FromStr, time::Duration};

use sqlx::{
    MySql, MySqlPool,
    migrate::{MigrateError, Migrator},
    mysql::{MySqlConnectOptions, MySqlDatabaseError},
};

use crate::{
    StoreConfig,
    backend::{
        Lifecycle,
        codec::Timestamp,
        is_hang_up,
        rows::{AppliedMigrationRow, ReplicaHealthRow, SessionProbeRow, TableCountsRow},
    },
};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/mysql");

/// The server's error number of `error`, if the server sent one.
pub(super) fn server_error_number(error: &sqlx::Error) -> Option<u16> {
    match error {
        sqlx::Error::Database(e) => e
            .try_downcast_ref::<MySqlDatabaseError>()
            .map(|e| e.number()),
        _ => None,
    }
}

impl Lifecycle for MySql {
    async fn connect(config: &StoreConfig) -> sqlx::Result<MySqlPool> {
        // sqlx sets the session's time_zone to +00:00 and its character set to utf8mb4; the
        // store never relies on the first (DATETIME has no zone) and the schema sets the
        // second on every table. Every session is made strict (STRICT_ALL_TABLES added to
        // the server's sql_mode), so that on a server whose default is not strict a value
        // too long or out of range for its column fails instead of being cut or zeroed.
        let options = MySqlConnectOptions::from_str(&config.database_url)?;
        config
            .pool_options()
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    sqlx::query!(
                        "SET SESSION sql_mode =
                             CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'STRICT_ALL_TABLES')"
                    )
                    .execute(conn)
                    .await
                    .map(drop)
                })
            })
            .connect_with(options)
            .await
    }

    fn is_missing_database(error: &sqlx::Error) -> bool {
        // 1049: ER_BAD_DB_ERROR, "Unknown database ...".
        server_error_number(error) == Some(1049)
    }

    fn is_server_starting(error: &sqlx::Error) -> bool {
        match error {
            sqlx::Error::Io(e) => is_hang_up(e),
            // 1040: too many connections; 1053: server shutdown in progress.
            _ => matches!(server_error_number(error), Some(1040 | 1053)),
        }
    }

    fn is_lost_statement(_error: &sqlx::Error) -> bool {
        // No transaction pooler is supported in front of MySQL.
        false
    }

    async fn probe_sessions(
        _pool: &MySqlPool,
        _wait: Duration,
    ) -> sqlx::Result<Option<SessionProbeRow>> {
        // No transaction pooler is supported in front of MySQL (README), so none is looked
        // for.
        Ok(None)
    }

    fn migrator() -> &'static Migrator {
        &MIGRATOR
    }

    async fn migrate(pool: &MySqlPool, target: Option<i64>) -> Result<(), MigrateError> {
        match target {
            Some(version) => MIGRATOR.run_to(version, pool).await,
            None => MIGRATOR.run(pool).await,
        }
    }

    async fn select_routines_refused(pool: &MySqlPool) -> sqlx::Result<bool> {
        // information_schema.user_privileges names its grantee `'user'@'host'`;
        // CURRENT_USER() gives `user@host` unquoted (the host never holds an `@`, the user
        // may). A user with SUPER (e.g. `GRANT ALL PRIVILEGES ON *.*`) may create
        // triggers and routines whatever the binary logging.
        sqlx::query_scalar!(
            "SELECT (@@log_bin AND NOT @@log_bin_trust_function_creators AND NOT EXISTS (
                 SELECT 1 FROM information_schema.user_privileges
                 WHERE privilege_type = 'SUPER'
                   AND grantee = CONCAT('''',
                       LEFT(CURRENT_USER(), CHAR_LENGTH(CURRENT_USER())
                           - CHAR_LENGTH(SUBSTRING_INDEX(CURRENT_USER(), '@', -1)) - 1),
                       '''@''', SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')))
             AS `refused!: bool`"
        )
        .fetch_one(pool)
        .await
    }

    async fn migrations_table_exists(pool: &MySqlPool) -> sqlx::Result<bool> {
        sqlx::query_scalar!(
            "SELECT EXISTS (SELECT 1 FROM information_schema.tables
                 WHERE table_schema = DATABASE() AND table_name = '_sqlx_migrations')
             AS `exists!: bool`"
        )
        .fetch_one(pool)
        .await
    }

    async fn select_applied_migrations(pool: &MySqlPool) -> sqlx::Result<Vec<AppliedMigrationRow>> {
        // sqlx records `installed_on` as a TIMESTAMP, which this session (time_zone +00:00)
        // reads in UTC.
        sqlx::query_as!(
            AppliedMigrationRow,
            "SELECT version, description, installed_on AS `installed_on: Timestamp`,
                success AS `success: bool`, checksum
             FROM _sqlx_migrations ORDER BY version"
        )
        .fetch_all(pool)
        .await
    }

    async fn select_table_counts(pool: &MySqlPool) -> sqlx::Result<TableCountsRow> {
        sqlx::query_as!(
            TableCountsRow,
            "SELECT (SELECT COUNT(*) FROM users) AS `users!: i64`,
                (SELECT COUNT(*) FROM user_oauth_tokens) AS `user_oauth_tokens!: i64`,
                (SELECT COUNT(*) FROM api_keys) AS `api_keys!: i64`,
                (SELECT COUNT(*) FROM api_key_usage) AS `api_key_usage!: i64`,
                (SELECT COUNT(*) FROM jwt_usage) AS `jwt_usage!: i64`,
                (SELECT COUNT(*) FROM a2a_clients) AS `a2a_clients!: i64`,
                (SELECT COUNT(*) FROM tenants) AS `tenants!: i64`,
                (SELECT COUNT(*) FROM activities) AS `activities!: i64`,
                (SELECT CAST(COALESCE(SUM(data_length + index_length), 0) AS SIGNED)
                 FROM information_schema.tables WHERE table_schema = DATABASE())
                    AS `size_bytes!: i64`"
        )
        .fetch_one(pool)
        .await
    }

    async fn begin_write(pool: &MySqlPool) -> sqlx::Result<sqlx::Transaction<'static, MySql>> {
        // InnoDB locks the rows a write reads or changes whatever the isolation level; the
        // usage triggers run per row inside the deleting statement (migration
        // 20261130000001), so no level is required.
        pool.begin().await
    }

    /// No read replicas on MySQL: no replica pool can exist.
    type ReplicaPool = Infallible;

    fn connect_replica(_: &StoreConfig, _: &str, _: Duration) -> sqlx::Result<Infallible> {
        Err(sqlx::Error::Configuration(
            "read replicas are supported on PostgreSQL only: leave DATABASE_READ_URLS \
             (StoreConfig::read_urls) empty for a MySQL database"
                .into(),
        ))
    }

    fn replica_pool(replica: &Infallible) -> &MySqlPool {
        match *replica {}
    }

    async fn select_replica_health(replica: &Infallible) -> sqlx::Result<ReplicaHealthRow> {
        match *replica {}
    }
}
