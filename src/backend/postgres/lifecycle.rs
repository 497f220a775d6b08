use std::{str::FromStr, time::Duration};

use sqlx::{
    PgConnection, PgPool, Postgres,
    migrate::{MigrateError, Migrator},
    postgres::PgConnectOptions,
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

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// The server process behind `conn`'s statement. Unnamed (not persistent): a named one
/// would itself be lost by the poolers [`Lifecycle::probe_sessions`] looks for.
async fn select_backend_pid(conn: &mut PgConnection) -> sqlx::Result<i32> {
    sqlx::query_scalar!(r#"SELECT pg_backend_pid() AS "pid!""#)
        .persistent(false)
        .fetch_one(conn)
        .await
}

impl Lifecycle for Postgres {
    async fn connect(config: &StoreConfig) -> sqlx::Result<PgPool> {
        let options = PgConnectOptions::from_str(&config.database_url)?;
        config.pool_options().connect_with(options).await
    }

    fn is_missing_database(error: &sqlx::Error) -> bool {
        // 3D000: invalid_catalog_name, "database ... does not exist". PgBouncer passes the
        // server's message on under its own code, 08P01.
        matches!(error, sqlx::Error::Database(e) if match e.code().as_deref() {
            Some("3D000") => true,
            Some("08P01") => e.message().starts_with("database \"")
                && e.message().ends_with("\" does not exist"),
            _ => false,
        })
    }

    fn is_server_starting(error: &sqlx::Error) -> bool {
        match error {
            sqlx::Error::Io(e) => is_hang_up(e),
            // sqlx 0.9 reads a hang-up before the answer to its SSLRequest as a 0x00 byte.
            sqlx::Error::Protocol(message) => message.contains("from SSLRequest: 0x00"),
            sqlx::Error::Database(e) => match e.code().as_deref() {
                // cannot_connect_now ("the database system is starting up", "... is in
                // recovery mode", "... is shutting down"); too_many_connections.
                Some("57P03" | "53300") => true,
                // PgBouncer while its server is down: it sends no SQLSTATE of its own.
                Some("08P01") => {
                    let message = e.message();
                    message.contains("(server_login_retry)") || message.contains("(server down)")
                }
                _ => false,
            },
            _ => false,
        }
    }

    fn is_lost_statement(error: &sqlx::Error) -> bool {
        // 26000: invalid_sql_statement_name ("prepared statement ... does not exist");
        // 42P05: duplicate_prepared_statement ("prepared statement ... already exists").
        matches!(error, sqlx::Error::Database(e)
            if matches!(e.code().as_deref(), Some("26000" | "42P05")))
    }

    async fn probe_sessions(
        pool: &PgPool,
        wait: Duration,
    ) -> sqlx::Result<Option<SessionProbeRow>> {
        let mut one = pool.acquire().await?;
        let first = select_backend_pid(&mut one).await?;
        // The second connection: a server at its connection limit (53300, which sqlx's
        // pool retries until the acquire timeout) or a pooler with no free server
        // connection (its BEGIN waits in the pooler's queue) must not hold this up.
        let two = tokio::time::timeout(wait, pool.acquire()).await;
        let Ok(two) = two else {
            // Back in the pool before the caller goes on: dropped, it would return from a
            // spawned task, and a read started meanwhile would try to open a connection
            // of its own instead (for the whole acquire timeout at a connection limit).
            one.return_to_pool().await;
            return Err(sqlx::Error::PoolTimedOut);
        };
        let mut two = two?;
        let probe = tokio::time::timeout(wait, async {
            let mut transaction = sqlx::Connection::begin(&mut *two).await?;
            let other = select_backend_pid(&mut transaction).await?;
            let again = select_backend_pid(&mut one).await?;
            transaction.rollback().await?;
            Ok::<_, sqlx::Error>((other, again))
        })
        .await;
        let Ok(probe) = probe else {
            // Its BEGIN may still wait in a pooler's queue: closed, not returned to the
            // pool, where its return would wait for the answer (and `Pool::close` with it).
            drop(two.detach());
            one.return_to_pool().await;
            return Err(sqlx::Error::PoolTimedOut);
        };
        let (other, again) = probe?;
        Ok(Some(SessionProbeRow {
            first,
            other,
            again,
        }))
    }

    fn migrator() -> &'static Migrator {
        &MIGRATOR
    }

    async fn migrate(pool: &PgPool, target: Option<i64>) -> Result<(), MigrateError> {
        match target {
            Some(version) => MIGRATOR.run_to(version, pool).await,
            None => MIGRATOR.run(pool).await,
        }
    }

    async fn select_routines_refused(_pool: &PgPool) -> sqlx::Result<bool> {
        // No binary logging here: nothing refuses the schema's triggers and functions.
        Ok(false)
    }

    async fn migrations_table_exists(pool: &PgPool) -> sqlx::Result<bool> {
        sqlx::query_scalar!(r#"SELECT to_regclass('_sqlx_migrations') IS NOT NULL AS "exists!""#)
            .fetch_one(pool)
            .await
    }

    async fn select_applied_migrations(pool: &PgPool) -> sqlx::Result<Vec<AppliedMigrationRow>> {
        sqlx::query_as!(
            AppliedMigrationRow,
            r#"SELECT version, description, installed_on AS "installed_on: Timestamp", success,
                checksum
             FROM _sqlx_migrations ORDER BY version"#
        )
        .fetch_all(pool)
        .await
    }

    async fn select_table_counts(pool: &PgPool) -> sqlx::Result<TableCountsRow> {
        // Every tenant's activities: the policy of migration `..._activities_all_tenants_read`
        // admits them to reads while `pierre.all_tenants` is on, here for this transaction only.
        let mut tx = pool.begin().await?;
        sqlx::query_scalar!(
            r#"SELECT set_config('pierre.all_tenants', 'on', true) AS "all_tenants!""#
        )
        .fetch_one(&mut *tx)
        .await?;
        let counts = sqlx::query_as!(
            TableCountsRow,
            r#"SELECT (SELECT COUNT(*) FROM users) AS "users!",
                (SELECT COUNT(*) FROM user_oauth_tokens) AS "user_oauth_tokens!",
                (SELECT COUNT(*) FROM api_keys) AS "api_keys!",
                (SELECT COUNT(*) FROM api_key_usage) AS "api_key_usage!",
                (SELECT COUNT(*) FROM jwt_usage) AS "jwt_usage!",
                (SELECT COUNT(*) FROM a2a_clients) AS "a2a_clients!",
                (SELECT COUNT(*) FROM tenants) AS "tenants!",
                (SELECT COUNT(*) FROM activities) AS "activities!",
                pg_database_size(current_database()) AS "size_bytes!""#
        )
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(counts)
    }

    async fn begin_write(pool: &PgPool) -> sqlx::Result<sqlx::Transaction<'static, Postgres>> {
        // Whatever the database's default_transaction_isolation: the usage triggers on
        // users and api_keys refuse to run above READ COMMITTED (migration 20261201000003).
        pool.begin_with("BEGIN ISOLATION LEVEL READ COMMITTED")
            .await
    }

    type ReplicaPool = PgPool;

    fn connect_replica(
        config: &StoreConfig,
        url: &str,
        max_acquire: Duration,
    ) -> sqlx::Result<PgPool> {
        let options = PgConnectOptions::from_str(url)?;
        let acquire = config.acquire_timeout.min(max_acquire);
        Ok(config
            .pool_options()
            .acquire_timeout(acquire)
            .connect_lazy_with(options))
    }

    fn replica_pool(replica: &PgPool) -> &PgPool {
        replica
    }

    async fn select_replica_health(replica: &PgPool) -> sqlx::Result<ReplicaHealthRow> {
        // pg_stat_wal_receiver shows an ordinary role the pid only (status and times NULL);
        // it has no row while no receiver runs (primary unreachable, bad primary_conninfo).
        sqlx::query_as!(
            ReplicaHealthRow,
            r#"SELECT CASE
                 WHEN NOT pg_is_in_recovery() THEN NULL
                 WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                 ELSE (EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) * 1000)::bigint
               END AS "lag_ms",
               r.pid IS NOT NULL AS "receiver!",
               r.status = 'streaming' AS "streaming",
               (EXTRACT(EPOCH FROM now() - r.last_msg_receipt_time) * 1000)::bigint AS "silence_ms",
               (SELECT setting::bigint FROM pg_settings WHERE name = 'wal_receiver_timeout')
                 AS "receiver_timeout_ms!"
             FROM (SELECT 1) AS one
             LEFT JOIN pg_stat_wal_receiver AS r ON true"#
        )
        .fetch_one(replica)
        .await
    }
}
