use std::time::Duration;

use sqlx::{Sqlite, SqlitePool};
use tokio::time::{Interval, MissedTickBehavior};

use crate::backend::{AuthChangeQueries, AuthWatch};

/// A timer: SQLite has no notifications, so the counter is polled.
pub struct SqliteAuthWatch(Interval);

impl AuthChangeQueries for Sqlite {
    type AuthWatch = SqliteAuthWatch;

    async fn select_auth_change_counter(pool: &SqlitePool) -> sqlx::Result<i64> {
        sqlx::query_scalar!("SELECT counter AS \"counter!: i64\" FROM auth_changes WHERE id = 1")
            .fetch_one(pool)
            .await
    }

    async fn watch_auth_changes(
        _pool: &SqlitePool,
        poll: Duration,
    ) -> sqlx::Result<SqliteAuthWatch> {
        let mut timer = tokio::time::interval(poll);
        timer.set_missed_tick_behavior(MissedTickBehavior::Delay);
        // The first tick is immediate; the caller reads the counter right after starting.
        timer.tick().await;
        Ok(SqliteAuthWatch(timer))
    }
}

impl AuthWatch for SqliteAuthWatch {
    async fn changed(&mut self) -> sqlx::Result<bool> {
        self.0.tick().await;
        Ok(false)
    }
}
