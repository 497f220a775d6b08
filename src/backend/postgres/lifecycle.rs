use std::str::FromStr;

use sqlx::{
    PgPool, Postgres,
    migrate::{MigrateError, Migrator},
    postgres::PgConnectOptions,
};

use crate::{StoreConfig, backend::Lifecycle};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

impl Lifecycle for Postgres {
    async fn connect(config: &StoreConfig) -> sqlx::Result<PgPool> {
        let options = PgConnectOptions::from_str(&config.database_url)?;
        config.pool_options().connect_with(options).await
    }

    async fn migrate(pool: &PgPool) -> Result<(), MigrateError> {
        MIGRATOR.run(pool).await
    }

    async fn begin_write(pool: &PgPool) -> sqlx::Result<sqlx::Transaction<'static, Postgres>> {
        pool.begin().await
    }
}
