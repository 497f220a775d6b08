use std::{str::FromStr, time::Duration};

use sqlx::{
    PgPool, Postgres,
    migrate::{MigrateError, Migrator},
    postgres::PgConnectOptions,
};

use crate::{
    StoreConfig,
    backend::{
        Lifecycle,
        codec::Timestamp,
        rows::{AppliedMigrationRow, TableCountsRow},
    },
};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

impl Lifecycle for Postgres {
    async fn connect(config: &StoreConfig) -> sqlx::Result<PgPool> {
        let options = PgConnectOptions::from_str(&config.database_url)?;
        config.pool_options().connect_with(options).await
    }

    fn is_missing_database(error: &sqlx::Error) -> bool {
        // 3D000: invalid_catalog_name, "database ... does not exist".
        matches!(error, sqlx::Error::Database(e) if e.code().as_deref() == Some("3D000"))
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

    async fn select_replica_lag(replica: &PgPool) -> sqlx::Result<Option<i64>> {
        sqlx::query_scalar!(
            r#"SELECT CASE
                 WHEN NOT pg_is_in_recovery() THEN NULL
                 WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                 ELSE (EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) * 1000)::bigint
               END AS "lag_ms""#
        )
        .fetch_one(replica)
        .await
    }
}
