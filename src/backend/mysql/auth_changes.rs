use std::time::Duration;

use sqlx::{MySql, MySqlPool};

use crate::backend::{AuthChangeQueries, poll_watch::PollWatch};

impl AuthChangeQueries for MySql {
    /// MySQL has no LISTEN/NOTIFY: the counter is polled, as on SQLite.
    type AuthWatch = PollWatch;

    async fn select_auth_change_counter(pool: &MySqlPool) -> sqlx::Result<i64> {
        sqlx::query_scalar!("SELECT counter AS `counter!: i64` FROM auth_changes WHERE id = 1")
            .fetch_one(pool)
            .await
    }

    async fn watch_auth_changes(_pool: &MySqlPool, poll: Duration) -> sqlx::Result<PollWatch> {
        Ok(PollWatch::start(poll).await)
    }
}
