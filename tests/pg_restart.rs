//! The PostgreSQL server stops under load and comes back: the store returns errors while it
//! is down (no panic, no call hanging past the acquire timeout) and serves again afterwards
//! without being rebuilt. Needs the server `make test` starts (`TEST_POSTGRES_CTL`).

mod common;

use std::{
    process::Command,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use common::TestDb;
use pierre_store::{Error, Postgres, Store, StoreConfig, User};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_survives_a_server_restart() -> eyre::Result<()> {
    let Ok(ctl) = std::env::var("TEST_POSTGRES_CTL") else {
        eprintln!(
            "WARNING: the_store_survives_a_server_restart did not restart anything: \
             TEST_POSTGRES_CTL is unset (it is set by `make test` for its throwaway server; a \
             server given in TEST_POSTGRES_URL is never stopped)"
        );
        return Ok(());
    };
    let db = TestDb::<Postgres>::new().await?;
    let mut config = StoreConfig::new(db.url.clone(), db.key.clone());
    config.acquire_timeout = Duration::from_secs(1);
    config.max_connections = 4;
    let store = Store::<Postgres>::connect(config).await?;

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
        "PostgreSQL restart: {ok} calls ok, {errors} errors while down ({:.1?} down), slowest call {slowest:.2?}",
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
