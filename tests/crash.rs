//! Crash safety of the embedded backend (a test binary without the libtest harness).
//!
//! The parent runs a child copy of this binary that writes usage rows and tokens to a
//! SQLite file, printing each write once the store acknowledged it; the parent kills it with
//! SIGKILL at a random moment, reopens the database, runs `PRAGMA integrity_check`, and
//! checks that every acknowledged write is present. `PIERRE_CRASH_RUNS` sets the number of
//! kills (default 4; `make soak` uses 25).

use std::{
    collections::BTreeSet,
    io::{BufRead, BufReader, Write},
    process::{Command, Stdio},
    time::{Duration, SystemTime},
};

use pierre_store::{
    ApiKey, ApiKeyUsage, EncryptionKey, OAuthProvider, OAuthToken, Sqlite, Store, User,
};
use sqlx::{Connection, SqliteConnection};

const CHILD_DB: &str = "PIERRE_CRASH_CHILD_DB";
const CHILD_KEY: &str = "PIERRE_CRASH_CHILD_KEY";

fn main() -> eyre::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match (std::env::var(CHILD_DB), std::env::var(CHILD_KEY)) {
        (Ok(url), Ok(key)) => runtime.block_on(child(&url, &key)),
        _ => runtime.block_on(parent()),
    }
}

/// Writes until killed; prints `usage N` / `token N` after each acknowledged write.
async fn child(url: &str, key: &str) -> eyre::Result<()> {
    let store = Store::<Sqlite>::new(url, EncryptionKey::from_base64(key)?).await?;
    let user = store
        .get_user_by_email("crash@example.com")
        .await?
        .ok_or_else(|| eyre::eyre!("no user"))?;
    let key_id = store.get_api_keys_for_user(user.id).await?[0].id;
    let mut out = std::io::stdout().lock();
    for n in 0_u64.. {
        store
            .record_api_usage(&ApiKeyUsage::new(
                key_id,
                &format!("/crash/{n}"),
                "POST",
                200,
            ))
            .await?;
        writeln!(out, "usage {n}")?;
        let token = OAuthToken {
            access_token: format!("token-{n}"),
            refresh_token: None,
            expires_at: None,
            scope: None,
        };
        store
            .upsert_oauth_token(user.id, OAuthProvider::Strava, &token)
            .await?;
        writeln!(out, "token {n}")?;
        out.flush()?;
    }
    Ok(())
}

async fn parent() -> eyre::Result<()> {
    let runs: u32 = std::env::var("PIERRE_CRASH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    let mut seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)?
        .subsec_nanos() as u64
        | 1;
    let (mut verified, mut failed) = (0_u64, 0_u32);
    for run in 0..runs {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = Duration::from_millis(100 + seed % 600);
        match crash_once(delay).await {
            Ok(writes) => {
                verified += writes;
                println!(
                    "crash run {run}: killed after {delay:?}, {writes} acknowledged writes verified, integrity ok"
                );
            }
            Err(e) => {
                failed += 1;
                println!("crash run {run}: FAILED after {delay:?}: {e:#}");
            }
        }
    }
    println!("crash: {runs} SIGKILLs survived with {verified} acknowledged writes verified");
    println!("{} passed, {failed} failed", runs - failed);
    eyre::ensure!(failed == 0, "{failed} crash runs failed");
    Ok(())
}

/// One child, killed after `delay`; returns how many acknowledged writes were verified.
async fn crash_once(delay: Duration) -> eyre::Result<u64> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("crash.db");
    let url = format!("sqlite:{}", path.display());
    let key = EncryptionKey::generate();
    {
        let store = Store::<Sqlite>::new(&url, key.clone()).await?;
        store.migrate().await?;
        let user = store
            .create_user(&User::new("crash@example.com", "h"))
            .await?;
        store
            .create_api_key(&ApiKey::new(user, "k", "crash-key", "pk_"))
            .await?;
        store.close().await;
    }
    let mut child = Command::new(std::env::current_exe()?)
        .env(CHILD_DB, &url)
        .env(CHILD_KEY, key.to_base64().as_str())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| eyre::eyre!("no stdout"))?;
    let reader = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    });
    tokio::time::sleep(delay).await;
    child.kill()?; // SIGKILL
    child.wait()?;
    let lines = reader
        .join()
        .map_err(|_| eyre::eyre!("reader thread panicked"))?;

    let usage: BTreeSet<u64> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("usage ")?.parse().ok())
        .collect();
    let last_token = lines
        .iter()
        .filter_map(|l| l.strip_prefix("token ")?.parse::<u64>().ok())
        .max();
    eyre::ensure!(
        !usage.is_empty(),
        "the child acknowledged no write before the kill"
    );

    // Reopen (recovering the WAL), then check the file and every acknowledged write.
    let store = Store::<Sqlite>::new(&url, key).await?;
    let user = store
        .get_user_by_email("crash@example.com")
        .await?
        .ok_or_else(|| eyre::eyre!("user lost"))?;
    let token = store
        .get_oauth_token(user.id, OAuthProvider::Strava)
        .await?;
    if let Some(last) = last_token {
        let stored: u64 = token
            .ok_or_else(|| eyre::eyre!("acknowledged token lost"))?
            .access_token
            .strip_prefix("token-")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| eyre::eyre!("token garbled"))?;
        eyre::ensure!(
            stored >= last,
            "token {last} was acknowledged but {stored} is stored"
        );
    }
    store.close().await;
    Store::<Sqlite>::check_database_file(&path).await?;
    let mut conn = SqliteConnection::connect(&url).await?;
    let endpoints: Vec<String> = sqlx::query_scalar("SELECT endpoint FROM api_key_usage")
        .fetch_all(&mut conn)
        .await?;
    let stored: BTreeSet<u64> = endpoints
        .iter()
        .filter_map(|e| e.strip_prefix("/crash/")?.parse().ok())
        .collect();
    let missing: Vec<_> = usage.difference(&stored).collect();
    eyre::ensure!(
        missing.is_empty(),
        "acknowledged usage rows lost: {missing:?}"
    );
    Ok(usage.len() as u64 + u64::from(last_token.is_some()))
}
