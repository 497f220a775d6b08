//! Measures the memory one cached credential costs (README, "Authentication cache"): the
//! growth of the resident set while `N` distinct API keys are authenticated once each (so
//! each is loaded into the cache), on a SQLite store in a temporary directory. Linux only
//! (reads `/proc/self/statm`).
//!
//! `cargo run --release --example auth_cache_memory [N]` (default 100,000).

use std::time::Instant;

use pierre_store::{ApiKeyTier, EncryptionKey, Sqlite, Store, StoreConfig, User};

fn resident_bytes() -> eyre::Result<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm")?;
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .ok_or_else(|| eyre::eyre!("no resident field"))?
        .parse()?;
    Ok(pages * 4096)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> eyre::Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(100_000);
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite:{}", dir.path().join("memory.db").display());
    let mut config = StoreConfig::new(&url, EncryptionKey::generate());
    // Room for every key, so none is evicted while measuring.
    config.auth_cache_entries = n * 2;
    let store = Store::<Sqlite>::connect(config).await?;
    store.migrate().await?;
    let started = Instant::now();
    let owner = store
        .create_user(&User::new("memory@example.com", "hash"))
        .await?;
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut plaintexts = Vec::new();
                for i in (t..n).step_by(8) {
                    let (_, plaintext) = store
                        .issue_api_key(
                            owner,
                            &format!("key {i}"),
                            ApiKeyTier::Standard,
                            vec!["read".into()],
                            None,
                        )
                        .await?;
                    plaintexts.push(plaintext.expose().to_owned());
                }
                eyre::Ok(plaintexts)
            })
        })
        .collect();
    let mut plaintexts = Vec::with_capacity(n);
    for task in tasks {
        plaintexts.extend(task.await??);
    }
    eprintln!("issued {n} keys in {:.1?}", started.elapsed());

    // Warm the pool and statement caches on a few keys first.
    let warm = n / 100;
    for plaintext in &plaintexts[..warm] {
        eyre::ensure!(store.authenticate_api_key(plaintext).await?.is_some());
    }
    let before = resident_bytes()?;
    for plaintext in &plaintexts[warm..] {
        eyre::ensure!(store.authenticate_api_key(plaintext).await?.is_some());
    }
    let after = resident_bytes()?;
    let loaded = (n - warm) as u64;
    println!(
        "{loaded} keys loaded into the cache: resident set +{:.1} MiB, {} bytes per cached key",
        (after.saturating_sub(before)) as f64 / (1 << 20) as f64,
        after.saturating_sub(before) / loaded
    );
    store.close().await;
    Ok(())
}
