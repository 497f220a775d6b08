use std::time::Duration;

use sqlx::{PgPool, Postgres, postgres::PgListener};

use crate::backend::{AuthChangeQueries, AuthWatch};

/// The channel the `auth_changed()` trigger function notifies (migration 20261203000010).
const CHANNEL: &str = "pierre_auth_changes";

/// A connection of its own listening on [`CHANNEL`].
pub struct PgAuthWatch(PgListener);

impl AuthChangeQueries for Postgres {
    type AuthWatch = PgAuthWatch;

    async fn select_auth_change_counter(pool: &PgPool) -> sqlx::Result<i64> {
        sqlx::query_scalar!("SELECT counter FROM auth_changes WHERE id = 1")
            .fetch_one(pool)
            .await
    }

    async fn watch_auth_changes(pool: &PgPool, _poll: Duration) -> sqlx::Result<PgAuthWatch> {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        Ok(PgAuthWatch(listener))
    }
}

impl AuthWatch for PgAuthWatch {
    async fn changed(&mut self) -> sqlx::Result<()> {
        // `try_recv` answers `None` when the connection was lost; it would reconnect on
        // the next call, but notifications sent meanwhile are gone: report the loss.
        match self.0.try_recv().await? {
            Some(_) => Ok(()),
            None => Err(sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "the LISTEN connection for auth_changes was lost",
            ))),
        }
    }
}
