use std::time::Duration;

use sqlx::{Sqlite, SqlitePool};

use crate::backend::{AuthChangeQueries, poll_watch::PollWatch};

impl AuthChangeQueries for Sqlite {
    /// SQLite has no notifications: the counter is polled.
    type AuthWatch = PollWatch;

    async fn select_auth_change_counter(pool: &SqlitePool) -> sqlx::Result<i64> {
        sqlx::query_scalar!("SELECT counter AS \"counter!: i64\" FROM auth_changes WHERE id = 1")
            .fetch_one(pool)
            .await
    }

    async fn watch_auth_changes(_pool: &SqlitePool, poll: Duration) -> sqlx::Result<PollWatch> {
        Ok(PollWatch::start(poll).await)
    }
}
