//! What only a connection pooler shows: run by `scripts/run-tests` in its pass through a
//! throwaway PgBouncer (`scripts/with-pgbouncer`, which sets `TEST_PGBOUNCER`), and skipped
//! by name (`--skip pgbouncer::`) in the direct pass. Without the pooler these tests fail,
//! never pass vacuously.

mod common;

use common::{TestDb, forward, postgres_server_url};
use pierre_store::{EncryptionKey, Error, Postgres, Store, StoreConfig, User};
use sqlx::{Connection, Row};

/// The pool mode of the PgBouncer in front of the test server; fails outside the pooler
/// pass.
fn pool_mode() -> eyre::Result<String> {
    std::env::var("TEST_PGBOUNCER").map_err(|_| {
        eyre::eyre!(
            "TEST_PGBOUNCER is not set: run these tests through scripts/with-pgbouncer \
             (make test-pgbouncer)"
        )
    })
}

/// The test server's database through the same PgBouncer in transaction pool mode.
fn transaction_pooled_url() -> eyre::Result<String> {
    std::env::var("TEST_PGBOUNCER_TRANSACTION_URL").map_err(|_| {
        eyre::eyre!("TEST_PGBOUNCER_TRANSACTION_URL is not set: run through scripts/with-pgbouncer")
    })
}

/// `url` pointed at PgBouncer's admin console (database `pgbouncer`).
fn admin_console(url: &str) -> eyre::Result<String> {
    let mut url = url::Url::parse(url)?;
    url.set_path("/pgbouncer");
    Ok(url.into())
}

/// Column `name` of an admin console row, as text.
fn text(row: &sqlx::postgres::PgRow, name: &str) -> Option<String> {
    row.try_get(name).ok()
}

mod pgbouncer {
    use super::*;

    /// The pass really goes through PgBouncer: its admin console lists the store's
    /// connection, as the application's role, on the test's database.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_store_reaches_postgres_through_pgbouncer() -> eyre::Result<()> {
        let mode = pool_mode()?;
        let db = TestDb::<Postgres>::new_as_app_role().await?;
        let user = User::new("pooled@example.com", "hash");
        db.store.create_user(&user).await?;
        assert_eq!(db.store.get_user(user.id).await?, Some(user));

        let url = url::Url::parse(&db.url)?;
        let (role, database) = (url.username(), url.path().trim_start_matches('/'));
        let mut console =
            sqlx::PgConnection::connect(&admin_console(&postgres_server_url())?).await?;
        let clients = sqlx::raw_sql("SHOW CLIENTS")
            .fetch_all(&mut console)
            .await?;
        let ours = clients
            .iter()
            .filter(|row| {
                text(row, "user").as_deref() == Some(role)
                    && text(row, "database").as_deref() == Some(database)
            })
            .count();
        assert!(
            ours >= 1,
            "PgBouncer ({mode} mode) lists no client of {role} on {database}"
        );
        let pools = sqlx::raw_sql("SHOW POOLS").fetch_all(&mut console).await?;
        let pool_mode = pools
            .iter()
            .find(|row| text(row, "database").as_deref() == Some(database))
            .and_then(|row| text(row, "pool_mode"));
        assert_eq!(pool_mode.as_deref(), Some(mode.as_str()));
        Ok(())
    }

    /// PgBouncer checks passwords itself (SCRAM against the hash the server stores, read
    /// with `auth_query`): a wrong one is refused at once, as a database error.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_wrong_password_is_refused_by_pgbouncer() -> eyre::Result<()> {
        pool_mode()?;
        let db = TestDb::<Postgres>::new_as_app_role().await?;
        let wrong = db.url.replace(":app-password@", ":not-the-password@");
        assert_ne!(wrong, db.url);
        let started = std::time::Instant::now();
        let err = Store::<Postgres>::new(&wrong, EncryptionKey::generate())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Database(_)), "{err:?}");
        assert!(
            started.elapsed().as_secs() < 5,
            "took {:?}",
            started.elapsed()
        );
        Ok(())
    }

    /// The failure the connect check is there for: behind PgBouncer 1.18 in transaction
    /// mode, sqlx's named prepared statements collide between two connections (both name
    /// their first one `sqlx_s_1`, and the second lands on the server session of the
    /// first), with the statement cache on or off.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn named_statements_break_behind_transaction_pooling() -> eyre::Result<()> {
        let url = transaction_pooled_url()?;
        let separator = if url.contains('?') { '&' } else { '?' };
        let uncached = format!("{url}{separator}statement-cache-capacity=0");
        for url in [url, uncached] {
            let mut one = sqlx::PgConnection::connect(&url).await?;
            let mut two = sqlx::PgConnection::connect(&url).await?;
            let mut failure = None;
            for (n, conn) in [(1, &mut one), (2, &mut two)] {
                let result = sqlx::query_scalar::<_, i32>("SELECT $1::int4")
                    .bind(n)
                    .fetch_one(conn)
                    .await;
                if let Err(err) = result {
                    failure = Some(err);
                    break;
                }
            }
            let err = failure.ok_or_else(|| eyre::eyre!("{url}: both connections worked"))?;
            println!("{url}: {err}");
            let code = err.as_database_error().and_then(|e| e.code());
            assert!(
                matches!(code.as_deref(), Some("42P05" | "26000")),
                "{url}: expected a lost or colliding prepared statement, got {err:?}"
            );
        }
        Ok(())
    }

    /// So `Store::connect` refuses a transaction pooler with a configuration error saying
    /// what to do, unless told the pooler keeps prepared statements.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn transaction_pooling_is_refused_at_connect() -> eyre::Result<()> {
        let url = transaction_pooled_url()?;
        let err = Store::<Postgres>::connect(StoreConfig::new(&url, EncryptionKey::generate()))
            .await
            .unwrap_err();
        let Error::Config(message) = &err else {
            panic!("expected Config, got {err:?}")
        };
        assert!(
            message.contains("transaction") && message.contains("DATABASE_TRANSACTION_POOLER"),
            "{message}"
        );

        let mut config = StoreConfig::new(&url, EncryptionKey::generate());
        config.transaction_pooler = true;
        let store = Store::<Postgres>::connect(config).await?;
        store.close().await;

        // The session-mode URL of the same PgBouncer passes the check.
        let store =
            Store::<Postgres>::new(&postgres_server_url(), EncryptionKey::generate()).await?;
        store.close().await;
        Ok(())
    }

    /// A store and PgBouncer up before PostgreSQL (containers started together): connect
    /// waits until the server behind PgBouncer is there. Here PgBouncer's server is a
    /// port where nothing listens until a forwarder to the test server starts on it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn connect_waits_for_the_server_behind_pgbouncer() -> eyre::Result<()> {
        pool_mode()?;
        let var = |name: &str| {
            std::env::var(name)
                .map_err(|_| eyre::eyre!("{name} is not set: run through scripts/with-pgbouncer"))
        };
        let (url, port) = (
            var("TEST_PGBOUNCER_LATE_URL")?,
            var("TEST_PGBOUNCER_LATE_PORT")?,
        );
        let delay = std::time::Duration::from_millis(1500);
        let mut config = StoreConfig::new(&url, EncryptionKey::generate());
        config.acquire_timeout = std::time::Duration::from_secs(20);
        let started = std::time::Instant::now();
        let connect = tokio::spawn(Store::<Postgres>::connect(config));
        tokio::time::sleep(delay).await;
        let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
        let forwarder = tokio::spawn(forward(listener));

        let store = connect.await??;
        let waited = started.elapsed();
        assert!(
            waited >= delay,
            "connected after {waited:?}, before the server was up"
        );
        let one: i32 = sqlx::query_scalar("SELECT 1")
            .fetch_one(store.pool())
            .await?;
        assert_eq!(one, 1);
        println!("connected through PgBouncer after {waited:?}");
        store.close().await;
        forwarder.abort();
        Ok(())
    }
}
