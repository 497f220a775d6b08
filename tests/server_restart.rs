//! The database server stops under load and comes back: the store returns errors while it
//! is down (no panic, no call hanging past the acquire timeout) and serves again afterwards
//! without being rebuilt. Run on each server backend (SQLite has no server), against the
//! throwaway servers `make test` starts (`TEST_POSTGRES_CTL`, `TEST_MYSQL_CTL`).

mod common;

use std::{
    process::Command,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use common::{TestBackend, TestDb};
use pierre_store::{Error, MySql, Postgres, Store, StoreConfig, User};

/// A backend with a server the test can stop and start again.
trait Server: TestBackend {
    /// The variable naming the test server's handle, `$CTL stop|start` (set by the
    /// `scripts/with-*` script that started a throwaway server).
    const CTL: &'static str;
    /// The variable naming a server given by the user, which is never stopped.
    const URL: &'static str;
}

impl Server for Postgres {
    const CTL: &'static str = "TEST_POSTGRES_CTL";
    const URL: &'static str = "TEST_POSTGRES_URL";
}

impl Server for MySql {
    const CTL: &'static str = "TEST_MYSQL_CTL";
    const URL: &'static str = "TEST_MYSQL_URL";
}

mod postgres {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_store_survives_a_server_restart() -> eyre::Result<()> {
        super::the_store_survives_a_server_restart::<pierre_store::Postgres>().await
    }
}

mod mysql {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_store_survives_a_server_restart() -> eyre::Result<()> {
        super::the_store_survives_a_server_restart::<pierre_store::MySql>().await
    }
}

/// Stops `B`'s throwaway server under a write load for 3 s, then starts it again.
async fn the_store_survives_a_server_restart<B: Server>() -> eyre::Result<()> {
    let Ok(ctl) = std::env::var(B::CTL) else {
        eprintln!(
            "WARNING: the_store_survives_a_server_restart on {} did not restart anything: {} is \
             unset (it is set by `make test` for its throwaway server; a server given in {} is \
             never stopped)",
            B::NAME,
            B::CTL,
            B::URL
        );
        return Ok(());
    };
    let db = TestDb::<B>::new().await?;
    let mut config = StoreConfig::new(db.url.clone(), db.key.clone());
    config.acquire_timeout = Duration::from_secs(1);
    config.max_connections = 4;
    let store = Store::<B>::connect(config).await?;

    let running = Arc::new(AtomicBool::new(true));
    let load = {
        let (store, running) = (store.clone(), Arc::clone(&running));
        tokio::spawn(async move {
            let (mut ok, mut errors, mut slowest, mut n) = (0_u64, 0_u64, Duration::ZERO, 0_u64);
            let mut last_ok = Instant::now();
            while running.load(Ordering::Relaxed) {
                let started = Instant::now();
                let result = store
                    .create_user(&User::new(&format!("load{n}@example.com"), "h"))
                    .await;
                slowest = slowest.max(started.elapsed());
                match result {
                    Ok(_) => {
                        ok += 1;
                        last_ok = Instant::now();
                    }
                    Err(Error::Database(_)) => errors += 1,
                    Err(other) => return Err(eyre::eyre!("unexpected error kind: {other:?}")),
                }
                n += 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            eyre::Ok((ok, errors, slowest, last_ok))
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let status = Command::new(&ctl).arg("stop").status()?;
    eyre::ensure!(status.success(), "could not stop the server");
    let stopped_at = Instant::now();
    // Longer than the acquire timeout, so some call must give up and report an error.
    tokio::time::sleep(Duration::from_millis(3000)).await;
    let status = Command::new(&ctl).arg("start").status()?;
    eyre::ensure!(status.success(), "could not start the server again");
    let restarted_at = Instant::now();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    running.store(false, Ordering::Relaxed);
    let (ok, errors, slowest, last_ok) = load.await??;

    println!(
        "{} restart: {ok} calls ok, {errors} errors while down ({:.1?} down), slowest call {slowest:.2?}",
        B::NAME,
        restarted_at - stopped_at
    );
    assert!(errors > 0, "calls failed while the server was down");
    assert!(
        slowest < Duration::from_secs(4),
        "no call hung past the acquire timeout: {slowest:?}"
    );
    assert!(
        last_ok > restarted_at,
        "the same store served again after the restart"
    );
    assert!(
        store
            .get_user_by_email("load0@example.com")
            .await?
            .is_some()
    );
    Ok(())
}
