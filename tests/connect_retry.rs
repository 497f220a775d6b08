//! `Store::connect` against a PostgreSQL server that is still starting: it waits (retrying
//! with backoff up to the acquire timeout) instead of failing at once, and still fails at
//! once for what waiting cannot mend (a missing database, an unknown role, a wrong scheme).
//!
//! A TCP forwarder on a free loopback port stands for the server: it starts late, or
//! accepts connections and closes them at once for a while (what a container's port proxy
//! does while the server behind it is not up yet), then forwards to the real server at
//! `TEST_POSTGRES_URL`. PostgreSQL only: an SQLite file has no start-up to wait
//! for.

mod common;

use std::time::{Duration, Instant};

use common::{
    Cleanup, TestBackend, forward, missing_database_url, postgres_server_url, with_database,
};
use pierre_store::{EncryptionKey, Error, Postgres, Store, StoreConfig};
use sqlx::Connection;
use tokio::net::TcpListener;

/// How long the "server" stays unreachable in the tests that wait for it.
const DELAY: Duration = Duration::from_millis(1500);

/// A free loopback port (bound, read, released).
async fn free_port() -> eyre::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0").await?.local_addr()?.port())
}

/// The URL of the test server, pointed at 127.0.0.1:`port` instead.
fn url_on_port(port: u16) -> eyre::Result<String> {
    let mut url = url::Url::parse(&postgres_server_url())?;
    url.set_host(Some("127.0.0.1"))?;
    url.set_port(Some(port))
        .map_err(|()| eyre::eyre!("cannot set a port"))?;
    Ok(url.into())
}

/// Accepts connections on `listener` and closes each at once, until `until`.
async fn refuse_until(listener: &TcpListener, until: Instant) {
    while let Ok(Ok((client, _))) = tokio::time::timeout_at(until.into(), listener.accept()).await {
        drop(client);
    }
}

fn config(url: String, acquire_timeout: Duration) -> StoreConfig {
    let mut config = StoreConfig::new(url, EncryptionKey::generate());
    config.acquire_timeout = acquire_timeout;
    config
}

mod postgres {
    use super::*;

    /// Nothing listens on the port at first; the forwarder starts after [`DELAY`]. This
    /// documents sqlx, not the store: sqlx's pool itself retries a refused connection until
    /// the acquire timeout (sqlx-core 0.9.0 `pool/inner.rs`), so it passes without the
    /// store's retry too. [`connect_waits_while_connections_are_closed_at_once`] is the one
    /// that guards the store's retry.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn connect_waits_for_a_server_that_starts_listening_later() -> eyre::Result<()> {
        let port = free_port().await?;
        let started = Instant::now();
        let connect = tokio::spawn(Store::<Postgres>::connect(config(
            url_on_port(port)?,
            Duration::from_secs(20),
        )));
        tokio::time::sleep(DELAY).await;
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let forwarder = tokio::spawn(forward(listener));

        let store = connect.await??;
        let waited = started.elapsed();
        assert!(
            waited >= DELAY,
            "connected after {waited:?}, before the server was up"
        );
        let one: i32 = sqlx::query_scalar("SELECT 1")
            .fetch_one(store.pool())
            .await?;
        assert_eq!(one, 1);
        store.close().await;
        forwarder.abort();
        Ok(())
    }

    /// The port accepts connections and closes them at once for [`DELAY`] (a container's
    /// port proxy whose server is not up), then forwards.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn connect_waits_while_connections_are_closed_at_once() -> eyre::Result<()> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let started = Instant::now();
        let forwarder = tokio::spawn(async move {
            refuse_until(&listener, Instant::now() + DELAY).await;
            forward(listener).await;
        });

        let store =
            Store::<Postgres>::connect(config(url_on_port(port)?, Duration::from_secs(20))).await?;
        let waited = started.elapsed();
        assert!(
            waited >= DELAY,
            "connected after {waited:?}, while the port still closed connections"
        );
        let one: i32 = sqlx::query_scalar("SELECT 1")
            .fetch_one(store.pool())
            .await?;
        assert_eq!(one, 1);
        store.close().await;
        forwarder.abort();
        Ok(())
    }

    /// With no server at all, connecting fails with `Error::Database` once the acquire
    /// timeout has passed, not before and not much after.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn connect_to_no_server_fails_after_the_acquire_timeout() -> eyre::Result<()> {
        let timeout = Duration::from_secs(2);

        let port = free_port().await?;
        let started = Instant::now();
        let err = Store::<Postgres>::connect(config(url_on_port(port)?, timeout))
            .await
            .unwrap_err();
        let waited = started.elapsed();
        assert!(matches!(err, Error::Database(_)), "{err:?}");
        assert!(
            waited >= timeout - Duration::from_millis(100) && waited < timeout * 2,
            "failed after {waited:?} with an acquire timeout of {timeout:?}"
        );

        // A port that closes every connection at once, for ever.
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let refuser = tokio::spawn(async move {
            refuse_until(&listener, Instant::now() + Duration::from_secs(60)).await;
        });
        let started = Instant::now();
        let err = Store::<Postgres>::connect(config(url_on_port(port)?, timeout))
            .await
            .unwrap_err();
        let waited = started.elapsed();
        refuser.abort();
        assert!(matches!(err, Error::Database(_)), "{err:?}");
        assert!(
            waited >= timeout - Duration::from_millis(100) && waited < timeout * 2,
            "failed after {waited:?} with an acquire timeout of {timeout:?}"
        );
        Ok(())
    }

    /// A role allowed one connection (`CONNECTION LIMIT 1`, as a nearly full server): the
    /// pooler check's second connection cannot be had, so the check is skipped (with a
    /// warning) after a short wait instead of failing the connect; the store then works on
    /// its one connection. Before, `connect` waited the whole acquire timeout (sqlx's pool
    /// retries 53300) and failed with `PoolTimedOut` ("pool timed out while waiting for an
    /// open connection"). Through the pooler pass's session-mode PgBouncer the role's
    /// limit holds the second BEGIN in PgBouncer's queue instead, with the same outcome.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn connect_check_is_skipped_when_a_second_connection_cannot_be_had() -> eyre::Result<()> {
        let (url, cleanup) = Postgres::fresh_database_as_app_role().await?;
        let Cleanup::PgAppDatabase { admin_url, role } = &cleanup else {
            eyre::bail!("an app-role database");
        };
        let mut admin = sqlx::PgConnection::connect(admin_url).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "ALTER ROLE {role} CONNECTION LIMIT 1"
        )))
        .execute(&mut admin)
        .await?;
        let started = Instant::now();
        let store = Store::<Postgres>::connect(config(url, Duration::from_secs(10))).await?;
        let took = started.elapsed();
        assert!(took < Duration::from_secs(5), "connect took {took:?}");
        let one: i32 = sqlx::query_scalar("SELECT 1")
            .fetch_one(store.pool())
            .await?;
        assert_eq!(one, 1);
        // Behind a session-mode PgBouncer (the pooler pass) the second connection's BEGIN
        // waits in PgBouncer's queue: had the check put it back in the pool, closing would
        // wait for it (query_wait_timeout, 120 s, seen before it was closed instead).
        let closing = Instant::now();
        store.close().await;
        let took = closing.elapsed();
        assert!(took < Duration::from_secs(5), "close took {took:?}");
        Ok(())
    }

    /// What waiting cannot mend fails at once, with the same errors as without the retry,
    /// even with a long acquire timeout.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn missing_database_unknown_role_and_wrong_scheme_fail_at_once() -> eyre::Result<()> {
        let patience = Duration::from_secs(30);
        let at_once = Duration::from_secs(5);

        let dir = tempfile::tempdir()?;
        let started = Instant::now();
        let err = Store::<Postgres>::connect(config(
            missing_database_url::<Postgres>(dir.path()),
            patience,
        ))
        .await
        .unwrap_err();
        assert!(
            matches!(
                &err,
                Error::NotFound {
                    entity: "database",
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(started.elapsed() < at_once, "took {:?}", started.elapsed());

        let started = Instant::now();
        let url = with_database(
            &postgres_server_url(),
            "postgres",
            Some("pierre_no_such_role"),
        );
        let err = Store::<Postgres>::connect(config(url, patience))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Database(_)), "{err:?}");
        assert!(started.elapsed() < at_once, "took {:?}", started.elapsed());

        let started = Instant::now();
        let err = Store::<Postgres>::connect(config("sqlite::memory:".into(), patience))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err:?}");
        assert!(started.elapsed() < at_once, "took {:?}", started.elapsed());
        Ok(())
    }
}
