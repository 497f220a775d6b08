//! Revocation across processes (issue 13), a test binary without the libtest harness.
//!
//! Two OS processes share one database. The child (process A) opens a store with the
//! authentication cache on, warms every key, and then, for each key the parent names,
//! authenticates it every ~0.5 ms until it is refused, printing when. The parent (process
//! B) revokes the key through its own store as soon as the child is watching it, and
//! measures the delay from its `revoke_api_key` returning to the child's first refusal.
//!
//! Per backend, three runs:
//! 1. signals on (PostgreSQL `LISTEN`/`NOTIFY`, SQLite and MySQL poll every 50 ms): goal
//!    < 100 ms;
//! 2. PostgreSQL only: the child's `LISTEN` connection killed (`pg_terminate_backend`)
//!    right before each revocation, TTL 1 h: refused within 1 s, which only the re-read of
//!    the counter once the watch has reconnected can do;
//! 3. signals off (`auth_poll_interval = 0`, no poll and no `LISTEN`): refused within the
//!    TTL, never later.
//!
//! p50/p99 of each run are printed; with signals on the p99 is held to the 100 ms goal and
//! the worst to 250 ms. The child gives up 2 s past a run's bound (printing `still
//! accepted`), so a revocation never seen fails the test instead of hanging it.
//! `PIERRE_REVOCATIONS` sets the revocations per run (default 40).

mod common;

use std::{
    io::{BufRead, BufReader, Write},
    process::{Child, ChildStdin, ChildStdout, Command, Stdio},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use common::{TestBackend, TestDb};
use pierre_store::{
    ApiKeyId, ApiKeyTier, EncryptionKey, MySql, Postgres, Sqlite, Store, StoreConfig, User,
    UserStatus,
};
use sqlx::Connection;

const CHILD_URL: &str = "PIERRE_REVOCATION_CHILD_URL";
const CHILD_BACKEND: &str = "PIERRE_REVOCATION_CHILD_BACKEND";
const CHILD_KEYS: &str = "PIERRE_REVOCATION_CHILD_KEYS";
const CHILD_POLL_MS: &str = "PIERRE_REVOCATION_CHILD_POLL_MS";
const CHILD_TTL_MS: &str = "PIERRE_REVOCATION_CHILD_TTL_MS";
const CHILD_DEADLINE_MS: &str = "PIERRE_REVOCATION_CHILD_DEADLINE_MS";

fn main() -> eyre::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    match std::env::var(CHILD_BACKEND).as_deref() {
        Ok("sqlite") => runtime.block_on(child::<Sqlite>()),
        Ok("postgres") => runtime.block_on(child::<Postgres>()),
        Ok("mysql") => runtime.block_on(child::<MySql>()),
        _ => runtime.block_on(parent()),
    }
}

fn now_micros() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros())
}

fn env_ms(name: &str) -> eyre::Result<Duration> {
    Ok(Duration::from_millis(std::env::var(name)?.parse()?))
}

/// Process A: authenticates the keys the parent names until each is refused.
async fn child<B: pierre_store::Backend>() -> eyre::Result<()> {
    let url = std::env::var(CHILD_URL)?;
    let keys: Vec<String> = std::fs::read_to_string(std::env::var(CHILD_KEYS)?)?
        .lines()
        .map(str::to_owned)
        .collect();
    let mut config = StoreConfig::new(url, EncryptionKey::generate());
    config.auth_poll_interval = env_ms(CHILD_POLL_MS)?;
    config.auth_cache_ttl = env_ms(CHILD_TTL_MS)?;
    // A revocation never seen must fail the test, not hang it for the TTL (1 h in the
    // signalled runs): give up past this, and say so to the parent.
    let deadline = env_ms(CHILD_DEADLINE_MS)?;
    let store = Store::<B>::connect(config).await?;
    for key in &keys {
        eyre::ensure!(
            store.authenticate_api_key(key).await?.is_some(),
            "a key is refused before its revocation"
        );
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready")?;
    out.flush()?;
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let line = line?;
        let Some(index) = line.strip_prefix("watch ") else {
            break;
        };
        let key = &keys[index.parse::<usize>()?];
        eyre::ensure!(
            store.authenticate_api_key(key).await?.is_some(),
            "key {index} refused before its revocation"
        );
        writeln!(out, "watching {index}")?;
        out.flush()?;
        let watching = std::time::Instant::now();
        while store.authenticate_api_key(key).await?.is_some() {
            if watching.elapsed() > deadline {
                writeln!(out, "still accepted {index} after {deadline:?}")?;
                out.flush()?;
                eyre::bail!("key {index} still accepted after {deadline:?}");
            }
            tokio::time::sleep(Duration::from_micros(500)).await;
        }
        writeln!(out, "refused {index} {}", now_micros())?;
        out.flush()?;
    }
    store.close().await;
    Ok(())
}

/// One run's settings.
struct Run {
    name: &'static str,
    poll: Duration,
    ttl: Duration,
    kill_listener: bool,
    /// Asserted on the worst delay.
    bound: Duration,
    /// Asserted on the 99th percentile, when set.
    p99_bound: Option<Duration>,
}

async fn parent() -> eyre::Result<()> {
    let revocations: usize = std::env::var("PIERRE_REVOCATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    // Goal: refused within 100 ms. The p99 is held to it; the worst single revocation
    // gets 2.5x for a loaded 2-core machine, still far below the 1 h TTL.
    let signals = || Run {
        name: "signals on (TTL 1 h)",
        poll: Duration::from_millis(50),
        ttl: Duration::from_secs(3600),
        kill_listener: false,
        bound: Duration::from_millis(250),
        p99_bound: Some(Duration::from_millis(100)),
    };
    let ttl_only = || Run {
        name: "signals off (TTL 1 s only)",
        poll: Duration::ZERO,
        ttl: Duration::from_secs(1),
        kill_listener: false,
        // The TTL, plus slack for the child's poll and a loaded machine.
        bound: Duration::from_millis(1_500),
        p99_bound: None,
    };
    run_backend::<Sqlite>("SQLite", revocations, &[signals(), ttl_only()]).await?;
    // With a 1 h TTL only the re-read of the counter after the watch reconnects can make
    // the bound (measured p99 ~200 ms).
    let killed = Run {
        name: "LISTEN connection killed before each revocation (TTL 1 h)",
        poll: Duration::from_millis(50),
        ttl: Duration::from_secs(3600),
        kill_listener: true,
        bound: Duration::from_secs(1),
        p99_bound: None,
    };
    run_backend::<Postgres>("PostgreSQL", revocations, &[signals(), killed, ttl_only()]).await?;
    // MySQL has no notifications: the counter is polled, as on SQLite.
    run_backend::<MySql>("MySQL", revocations, &[signals(), ttl_only()]).await?;
    println!("auth_revocation: ok");
    Ok(())
}

async fn run_backend<B: TestBackend>(
    label: &str,
    revocations: usize,
    runs: &[Run],
) -> eyre::Result<()> {
    for run in runs {
        let db = TestDb::<B>::new_as_app_role().await?;
        // Process B's store revokes; it needs no cache of its own.
        let mut config = StoreConfig::new(&db.url, db.key.clone());
        config.auth_cache_entries = 0;
        let store = Store::<B>::connect(config).await?;
        let mut owner = User::new("revoker@example.com", "hash");
        owner.status = UserStatus::Active;
        let owner = store.create_user(&owner).await?;
        let mut ids: Vec<ApiKeyId> = Vec::new();
        let mut plaintexts = String::new();
        for n in 0..revocations {
            let (key, plaintext) = store
                .issue_api_key(owner, &format!("k{n}"), ApiKeyTier::Trial, vec![], None)
                .await?;
            ids.push(key.id);
            plaintexts.push_str(plaintext.expose());
            plaintexts.push('\n');
        }
        let dir = tempfile::tempdir()?;
        let keys_file = dir.path().join("keys");
        std::fs::write(&keys_file, plaintexts)?;

        // What main() reads to pick the child's backend.
        let backend = match B::NAME {
            "SQLite" => "sqlite",
            "PostgreSQL" => "postgres",
            "MySQL" => "mysql",
            other => eyre::bail!("no child process for the backend {other}"),
        };
        let mut child = Command::new(std::env::current_exe()?)
            .env(CHILD_BACKEND, backend)
            .env(CHILD_URL, &db.url)
            .env(CHILD_KEYS, &keys_file)
            .env(CHILD_POLL_MS, run.poll.as_millis().to_string())
            .env(CHILD_TTL_MS, run.ttl.as_millis().to_string())
            .env(
                CHILD_DEADLINE_MS,
                (run.bound + Duration::from_secs(2)).as_millis().to_string(),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let result = measure(&db, &store, &ids, run, &mut child).await;
        let _ = child.kill();
        let _ = child.wait();
        let mut delays = result?;
        delays.sort();
        let pct = |p: usize| delays[(delays.len() * p / 100).min(delays.len() - 1)];
        let (p50, p99, max) = (pct(50), pct(99), delays[delays.len() - 1]);
        println!(
            "{label}, {}: {} revocations refused by the other process after p50 {:.1} ms, \
             p99 {:.1} ms, max {:.1} ms (bound asserted {} ms)",
            run.name,
            delays.len(),
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3,
            max.as_secs_f64() * 1e3,
            run.bound.as_millis()
        );
        if let Some(bound) = run.p99_bound {
            eyre::ensure!(
                p99 <= bound,
                "{label}, {}: p99 {p99:?} (bound {bound:?})",
                run.name
            );
        }
        eyre::ensure!(
            max <= run.bound,
            "{label}, {}: a revocation took {max:?} (bound {:?})",
            run.name,
            run.bound
        );
        store.close().await;
    }
    Ok(())
}

struct Pipes {
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl Pipes {
    fn expect(&mut self, prefix: &str) -> eyre::Result<String> {
        let mut line = String::new();
        if self.output.read_line(&mut line)? == 0 {
            eyre::bail!("the child exited while the parent waited for {prefix:?}");
        }
        let line = line.trim_end().to_owned();
        eyre::ensure!(
            line.starts_with(prefix),
            "expected {prefix:?}, got {line:?}"
        );
        Ok(line)
    }
}

async fn measure<B: TestBackend>(
    db: &TestDb<B>,
    store: &Store<B>,
    ids: &[ApiKeyId],
    run: &Run,
    child: &mut Child,
) -> eyre::Result<Vec<Duration>> {
    let mut pipes = Pipes {
        input: child.stdin.take().ok_or_else(|| eyre::eyre!("no stdin"))?,
        output: BufReader::new(
            child
                .stdout
                .take()
                .ok_or_else(|| eyre::eyre!("no stdout"))?,
        ),
    };
    // Blocking pipe reads: run them off the runtime's workers.
    let mut pipes_ref = tokio::task::block_in_place(|| -> eyre::Result<_> {
        pipes.expect("ready")?;
        Ok(pipes)
    })?;
    let mut delays = Vec::with_capacity(ids.len());
    let mut seed = (now_micros() as u64) | 1;
    for (index, id) in ids.iter().enumerate() {
        pipes_ref = tokio::task::block_in_place(|| -> eyre::Result<_> {
            writeln!(pipes_ref.input, "watch {index}")?;
            pipes_ref.input.flush()?;
            pipes_ref.expect("watching ")?;
            Ok(pipes_ref)
        })?;
        if run.kill_listener {
            // The child's watch reconnects after each kill; wait for it to be back.
            let since = std::time::Instant::now();
            while kill_listener(&db.admin_url()).await? == 0 {
                eyre::ensure!(
                    since.elapsed() < Duration::from_secs(5),
                    "no LISTEN connection to kill"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        // At a random moment, as revocations come, not just after the child's last poll.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        tokio::time::sleep(Duration::from_micros(seed % 150_000)).await;
        store.revoke_api_key(*id).await?;
        let revoked = now_micros();
        let line;
        (line, pipes_ref) = tokio::task::block_in_place(|| -> eyre::Result<_> {
            let line = pipes_ref.expect("refused ")?;
            Ok((line, pipes_ref))
        })?;
        let refused: u128 = line
            .rsplit(' ')
            .next()
            .ok_or_else(|| eyre::eyre!("no time"))?
            .parse()?;
        let micros = u64::try_from(refused.saturating_sub(revoked)).unwrap_or(u64::MAX);
        delays.push(Duration::from_micros(micros));
    }
    drop(pipes_ref.input);
    Ok(delays)
}

/// Terminates every `LISTEN` connection on the test database; returns how many.
async fn kill_listener(admin_url: &str) -> eyre::Result<i64> {
    let mut admin = sqlx::PgConnection::connect(admin_url).await?;
    let killed: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND query LIKE 'LISTEN%'
           AND pid <> pg_backend_pid()) AS t",
    )
    .fetch_one(&mut admin)
    .await?;
    Ok(killed)
}
