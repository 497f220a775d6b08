use std::time::Duration;

use sqlx::{
    PgPool, Postgres,
    postgres::{PgListener, PgPoolOptions},
};

use crate::backend::{AuthChangeQueries, AuthWatch};

/// The channel the `auth_changed()` trigger function notifies (migration 20261203000010).
const CHANNEL: &str = "pierre_auth_changes";

/// A connection of its own listening on [`CHANNEL`]: taken from a one-connection pool made
/// for it (the store's connect options and acquire timeout), never from the store's pool,
/// which keeps every one of its `max_connections` for the store's calls.
pub struct PgAuthWatch(PgListener);

impl AuthChangeQueries for Postgres {
    type AuthWatch = PgAuthWatch;

    async fn select_auth_change_counter(pool: &PgPool) -> sqlx::Result<i64> {
        sqlx::query_scalar!("SELECT counter FROM auth_changes WHERE id = 1")
            .fetch_one(pool)
            .await
    }

    async fn watch_auth_changes(pool: &PgPool, _poll: Duration) -> sqlx::Result<PgAuthWatch> {
        // PgListener::connect_with(pool) holds one of the pool's connections for as long as
        // it lives (and takes another to reconnect): with max_connections = 1 the store
        // could serve nothing. Its own pool, with no idle or lifetime limit (the connection
        // is never idle in the pool: the listener holds it).
        let own = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(pool.options().get_acquire_timeout())
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_lazy_with(pool.connect_options().as_ref().clone());
        let mut listener = PgListener::connect_with(&own).await?;
        listener.listen(CHANNEL).await?;
        Ok(PgAuthWatch(listener))
    }
}

impl AuthWatch for PgAuthWatch {
    async fn changed(&mut self) -> sqlx::Result<bool> {
        // `try_recv` answers `None` when the connection was lost; it would reconnect on
        // the next call, but notifications sent meanwhile are gone: report the loss.
        match self.0.try_recv().await? {
            Some(_) => Ok(true),
            None => Err(sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "the LISTEN connection for auth_changes was lost",
            ))),
        }
    }
}
