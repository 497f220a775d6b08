//! `make bench`: every hot operation measured twice in one run, through `Store<B>` and as the
//! equivalent hand-written raw sqlx statement on the same pool and data, on SQLite (file,
//! WAL), PostgreSQL and MySQL / MariaDB. The two sides take turns in ten slices per measurement, so a
//! change in the machine's load hits both alike. Prints ops/s and `store/raw`, the time
//! per op through the store over the raw time (1.00 = no overhead, 1.10 = the store is 10%
//! slower; see README), and writes the figures to `target/bench/results.json`.
//!
//! Environment: `TEST_POSTGRES_SOCKET_URL` or `TEST_POSTGRES_URL` (one is required; `make
//! bench` starts a throwaway server and sets both), `TEST_MYSQL_URL` (required; with
//! `TEST_MYSQL_SOCKET`, the MySQL figures go over that Unix socket: see
//! benches/mysql_choices.rs),
//! `BENCH_SCALE` (data size factor, default 1 = 10k users and API keys, 100k usage rows and
//! 100k activities), `BENCH_SECONDS` (time per measurement, default 1).

mod raw;
mod settings;

use std::{
    future::Future,
    sync::Arc,
    time::{Duration, Instant},
};

use pierre_store::{
    Activity, ApiKey, ApiKeyTier, ApiKeyUsage, Backend, EncryptionKey, MySql, OAuthProvider,
    OAuthToken, Postgres, Sqlite, Store, StoreConfig, Tenant, TenantId, UsageRecorderConfig, User,
    UserId,
};
use serde::Serialize;
use sqlx::migrate::MigrateDatabase;
use time::{Duration as TimeDuration, OffsetDateTime};

use raw::Raw;
use settings::{scale, seconds};

/// One line of the report.
#[derive(Debug, Serialize)]
struct Figure {
    backend: &'static str,
    operation: &'static str,
    store_ops_per_sec: f64,
    raw_ops_per_sec: f64,
    /// Store time per op / raw time per op (1.10 = the store is 10% slower).
    store_over_raw: f64,
    /// For the recorder: rows/s through it over rows/s of one INSERT per call; for the
    /// authentication figures: ops/s with the cache on over ops/s with it off.
    #[serde(skip_serializing_if = "Option::is_none")]
    speed_up: Option<f64>,
    /// For the request path: latencies in ms, (p50, p99) with the cache on ("store") and
    /// off ("raw").
    #[serde(skip_serializing_if = "Option::is_none")]
    latency_ms: Option<Latency>,
}

/// Request latencies of the request-path benchmark, in milliseconds.
#[derive(Debug, Serialize)]
struct Latency {
    cache_on_p50: f64,
    cache_on_p99: f64,
    cache_off_p50: f64,
    cache_off_p99: f64,
}

/// The data the operations look up.
struct Data {
    users: Vec<UserId>,
    emails: Vec<String>,
    key_hashes: Vec<String>,
    tenant: TenantId,
    key: EncryptionKey,
}

/// A tiny deterministic generator, so both sides of a comparison see the same inputs.
struct Pick(u64);

impl Pick {
    fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// Slices each measurement is cut into; the two sides take turns, so a change in the
/// machine's load during the measurement hits both alike.
const SLICES: u32 = 10;

/// Runs `store_slice` and `raw_slice` (each measuring for the duration it is given and
/// returning (ops, seconds)) in `SLICES` alternating turns, store first in even turns and
/// raw first in odd ones; returns their ops/s over all turns.
async fn alternate(
    mut store_slice: impl AsyncFnMut(Duration) -> eyre::Result<(u64, f64)>,
    mut raw_slice: impl AsyncFnMut(Duration) -> eyre::Result<(u64, f64)>,
) -> eyre::Result<(f64, f64)> {
    let slice = seconds() / SLICES;
    let (mut store_total, mut raw_total) = ((0, 0.0), (0, 0.0));
    for round in 0..SLICES {
        let (a, b) = if round % 2 == 0 {
            let a = store_slice(slice).await?;
            (a, raw_slice(slice).await?)
        } else {
            let b = raw_slice(slice).await?;
            (store_slice(slice).await?, b)
        };
        store_total = (store_total.0 + a.0, store_total.1 + a.1);
        raw_total = (raw_total.0 + b.0, raw_total.1 + b.1);
    }
    Ok((
        store_total.0 as f64 / store_total.1,
        raw_total.0 as f64 / raw_total.1,
    ))
}

/// Runs `op` until `limit` has passed; returns (ops, seconds).
async fn run_for<F, Fut>(op: &mut F, next: &mut u64, limit: Duration) -> eyre::Result<(u64, f64)>
where
    F: FnMut(u64) -> Fut,
    Fut: Future<Output = eyre::Result<()>>,
{
    let started = Instant::now();
    let mut n = 0_u64;
    while started.elapsed() < limit {
        op(*next).await?;
        *next += 1;
        n += 1;
    }
    Ok((n, started.elapsed().as_secs_f64()))
}

/// Measures `store` and `raw` in alternating slices after a short warm-up of each; returns
/// their ops/s.
async fn interleaved<S, SFut, R, RFut>(mut store: S, mut raw: R) -> eyre::Result<(f64, f64)>
where
    S: FnMut(u64) -> SFut,
    SFut: Future<Output = eyre::Result<()>>,
    R: FnMut(u64) -> RFut,
    RFut: Future<Output = eyre::Result<()>>,
{
    let (mut next_store, mut next_raw) = (0, 0);
    for _ in 0..50 {
        store(next_store).await?;
        next_store += 1;
        raw(next_raw).await?;
        next_raw += 1;
    }
    alternate(
        async |slice| run_for(&mut store, &mut next_store, slice).await,
        async |slice| run_for(&mut raw, &mut next_raw, slice).await,
    )
    .await
}

/// Runs `op` from `tasks` concurrent tasks until `limit` has passed; returns (ops, seconds).
async fn run_concurrently_for<F, Fut>(
    tasks: usize,
    op: &Arc<F>,
    limit: Duration,
) -> eyre::Result<(u64, f64)>
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = eyre::Result<()>> + Send,
{
    let started = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let op = Arc::clone(op);
            tokio::spawn(async move {
                let mut n = 0_u64;
                while started.elapsed() < limit {
                    op(t as u64 * 1_000_000 + n).await?;
                    n += 1;
                }
                eyre::Ok(n)
            })
        })
        .collect();
    let mut total = 0;
    for handle in handles {
        total += handle.await??;
    }
    Ok((total, started.elapsed().as_secs_f64()))
}

/// The same mix from `tasks` concurrent tasks, through the store and raw in alternating
/// slices; returns their total ops/s.
async fn interleaved_concurrently<S, SFut, R, RFut>(
    tasks: usize,
    store: S,
    raw: R,
) -> eyre::Result<(f64, f64)>
where
    S: Fn(u64) -> SFut + Send + Sync + 'static,
    SFut: Future<Output = eyre::Result<()>> + Send,
    R: Fn(u64) -> RFut + Send + Sync + 'static,
    RFut: Future<Output = eyre::Result<()>> + Send,
{
    let (store, raw) = (Arc::new(store), Arc::new(raw));
    alternate(
        async |slice| run_concurrently_for(tasks, &store, slice).await,
        async |slice| run_concurrently_for(tasks, &raw, slice).await,
    )
    .await
}

fn figure(backend: &'static str, operation: &'static str, store: f64, raw: f64) -> Figure {
    Figure {
        backend,
        operation,
        store_ops_per_sec: store,
        raw_ops_per_sec: raw,
        store_over_raw: raw / store,
        speed_up: None,
        latency_ms: None,
    }
}

fn report(figures: &mut Vec<Figure>, f: Figure) {
    eprintln!(
        "  {:<34} store {:>9.0}/s  raw {:>9.0}/s  store/raw {:.2}",
        f.operation, f.store_ops_per_sec, f.raw_ops_per_sec, f.store_over_raw
    );
    figures.push(f);
}

async fn fill<B: Backend>(store: &Store<B>, key: EncryptionKey) -> eyre::Result<Data> {
    let users_n = (10_000.0 * scale()) as usize;
    let usage_n = (100_000.0 * scale()) as usize;
    let activities_n = (100_000.0 * scale()) as usize;
    let started = Instant::now();
    let owner = store
        .create_user(&User::new("owner@bench.example", "hash"))
        .await?;
    let tenant = store
        .create_tenant(&Tenant::new("Bench", "bench", owner))
        .await?;

    let mut users = Vec::with_capacity(users_n);
    let mut emails = Vec::with_capacity(users_n);
    let mut key_hashes = Vec::with_capacity(users_n);
    let mut keys = Vec::with_capacity(users_n);
    let chunks: Vec<Vec<usize>> = (0..users_n)
        .collect::<Vec<_>>()
        .chunks(users_n.div_ceil(8))
        .map(<[usize]>::to_vec)
        .collect();
    let mut tasks = Vec::new();
    for chunk in chunks {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut made = Vec::new();
            for i in chunk {
                let email = format!("user{i}@bench.example");
                let user = store
                    .create_user(&User::new(
                        &email,
                        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
                    ))
                    .await?;
                let hash = format!("{:064x}", i as u128 * 7919 + 1);
                let key = store
                    .create_api_key(&ApiKey::new(user, "bench key", &hash, "pk_live_bench"))
                    .await?;
                let token = OAuthToken {
                    access_token: format!("strava-access-{i}-0123456789abcdef"),
                    refresh_token: Some(format!("strava-refresh-{i}-0123456789abcdef")),
                    expires_at: Some(OffsetDateTime::now_utc() + TimeDuration::hours(6)),
                    scope: Some("read,activity:read_all".into()),
                };
                store
                    .upsert_oauth_token(user, OAuthProvider::Strava, &token)
                    .await?;
                made.push((user, email, hash, key));
            }
            eyre::Ok(made)
        }));
    }
    for task in tasks {
        for (user, email, hash, key) in task.await?? {
            users.push(user);
            emails.push(email);
            key_hashes.push(hash);
            keys.push(key);
        }
    }

    let recorder = store.usage_recorder(UsageRecorderConfig::default())?;
    let now = OffsetDateTime::now_utc();
    for i in 0..usage_n {
        let usage = ApiKeyUsage {
            timestamp: now - TimeDuration::seconds(i as i64),
            response_time_ms: Some((i % 500) as u32),
            ..ApiKeyUsage::new(
                keys[i % keys.len()],
                "/mcp/tools/get_activities",
                "POST",
                if i % 10 == 0 { 500 } else { 200 },
            )
        };
        recorder.record_api(&usage).await?;
    }
    let stats = recorder.shutdown().await;
    eyre::ensure!(
        stats.written == usage_n as u64,
        "prefill lost usage rows: {stats:?}"
    );

    let per_task = activities_n.div_ceil(8);
    let mut tasks = Vec::new();
    for t in 0..8 {
        let store = store.clone();
        let users = users.clone();
        tasks.push(tokio::spawn(async move {
            for i in t * per_task..((t + 1) * per_task).min(activities_n) {
                let activity = Activity::new(
                    users[i % users.len()],
                    "Bench run",
                    "run",
                    (i % 20_000) as f64,
                    (i % 7_200) as i64,
                    now - TimeDuration::minutes(i as i64),
                );
                store.create_activity(tenant, &activity).await?;
            }
            eyre::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    eprintln!(
        "  filled {users_n} users + API keys + tokens, {usage_n} usage rows, {activities_n} activities in {:.1?}",
        started.elapsed()
    );
    Ok(Data {
        users,
        emails,
        key_hashes,
        tenant,
        key,
    })
}

async fn bench<B: Raw>(url: &str) -> eyre::Result<Vec<Figure>> {
    let name = <B as sqlx::Database>::NAME;
    eprintln!("{name}: {}", pierre_store::redact_url(url));
    let key = EncryptionKey::generate();
    let store = Store::<B>::new(url, key.clone()).await?;
    store.migrate().await?;
    let data = Arc::new(fill(&store, key).await?);
    let raw = Arc::new(<B as Raw>::prepare(&store, &data.key));
    <B as Raw>::settle(&raw).await?;
    let mut figures = Vec::new();
    let n = data.users.len();

    macro_rules! compare {
        ($op:literal, |$i:ident| $store_call:expr, |$j:ident| $raw_call:expr) => {{
            let mut store_pick = Pick(0x9E37_79B9_7F4A_7C15);
            let mut raw_pick = Pick(0x9E37_79B9_7F4A_7C15);
            let (store_rate, raw_rate) = interleaved(
                |_| {
                    let $i = store_pick.next(n);
                    $store_call
                },
                |_| {
                    let $j = raw_pick.next(n);
                    $raw_call
                },
            )
            .await?;
            report(&mut figures, figure(name, $op, store_rate, raw_rate));
        }};
    }

    compare!(
        "get_api_key_by_hash (hit)",
        |i| {
            let (s, d) = (&store, &data);
            async move {
                s.get_api_key_by_hash(&d.key_hashes[i])
                    .await?
                    .ok_or_else(|| eyre::eyre!("miss"))?;
                Ok(())
            }
        },
        |i| {
            let (r, d) = (&raw, &data);
            async move {
                <B as Raw>::api_key_by_hash(r, &d.key_hashes[i])
                    .await?
                    .ok_or_else(|| eyre::eyre!("miss"))?;
                Ok(())
            }
        }
    );
    compare!(
        "get_api_key_by_hash (miss)",
        |i| {
            let s = &store;
            async move {
                eyre::ensure!(
                    s.get_api_key_by_hash(&format!("missing-{i}"))
                        .await?
                        .is_none()
                );
                Ok(())
            }
        },
        |i| {
            let r = &raw;
            async move {
                eyre::ensure!(
                    <B as Raw>::api_key_by_hash(r, &format!("missing-{i}"))
                        .await?
                        .is_none()
                );
                Ok(())
            }
        }
    );
    compare!(
        "get_user_by_email",
        |i| {
            let (s, d) = (&store, &data);
            async move {
                s.get_user_by_email(&d.emails[i])
                    .await?
                    .ok_or_else(|| eyre::eyre!("miss"))?;
                Ok(())
            }
        },
        |i| {
            let (r, d) = (&raw, &data);
            async move {
                <B as Raw>::user_by_email(r, &d.emails[i])
                    .await?
                    .ok_or_else(|| eyre::eyre!("miss"))?;
                Ok(())
            }
        }
    );
    compare!(
        "get_user",
        |i| {
            let (s, d) = (&store, &data);
            async move {
                s.get_user(d.users[i])
                    .await?
                    .ok_or_else(|| eyre::eyre!("miss"))?;
                Ok(())
            }
        },
        |i| {
            let (r, d) = (&raw, &data);
            async move {
                <B as Raw>::user(r, d.users[i])
                    .await?
                    .ok_or_else(|| eyre::eyre!("miss"))?;
                Ok(())
            }
        }
    );
    compare!(
        "get_oauth_token (decrypt)",
        |i| {
            let (s, d) = (&store, &data);
            async move {
                s.get_oauth_token(d.users[i], OAuthProvider::Strava)
                    .await?
                    .ok_or_else(|| eyre::eyre!("miss"))?;
                Ok(())
            }
        },
        |i| {
            let (r, d) = (&raw, &data);
            async move {
                <B as Raw>::oauth_token(r, d.users[i])
                    .await?
                    .ok_or_else(|| eyre::eyre!("miss"))?;
                Ok(())
            }
        }
    );
    compare!(
        "upsert_oauth_token",
        |i| {
            let (s, d) = (&store, &data);
            async move {
                let token = OAuthToken {
                    access_token: format!("new-access-{i}"),
                    refresh_token: Some("r".into()),
                    expires_at: None,
                    scope: None,
                };
                s.upsert_oauth_token(d.users[i], OAuthProvider::Strava, &token)
                    .await?;
                Ok(())
            }
        },
        |i| {
            let (r, d) = (&raw, &data);
            async move {
                <B as Raw>::upsert_oauth_token(r, d.users[i], &format!("new-access-{i}"), "r").await
            }
        }
    );
    let key_ids: Vec<_> = {
        let mut ids = Vec::new();
        for hash in data.key_hashes.iter().take(16) {
            ids.push(
                store
                    .get_api_key_by_hash(hash)
                    .await?
                    .ok_or_else(|| eyre::eyre!("miss"))?
                    .id,
            );
        }
        ids
    };
    {
        let (store_rate, raw_rate) = interleaved(
            |i| {
                let s = &store;
                let usage = ApiKeyUsage {
                    response_time_ms: Some(12),
                    ..ApiKeyUsage::new(key_ids[i as usize % 16], "/bench", "GET", 200)
                };
                async move {
                    s.record_api_usage(&usage).await?;
                    Ok(())
                }
            },
            |i| {
                let r = &raw;
                let key = key_ids[i as usize % 16];
                async move { <B as Raw>::insert_usage(r, key).await }
            },
        )
        .await?;
        report(
            &mut figures,
            figure(name, "record_api_usage (1 per call)", store_rate, raw_rate),
        );

        // The batched recorder against one-call-one-INSERT raw sqlx.
        let rows = (100_000.0 * scale().max(0.2)) as usize;
        let recorder = store.usage_recorder(UsageRecorderConfig::default())?;
        let started = Instant::now();
        for i in 0..rows {
            let usage = ApiKeyUsage {
                response_time_ms: Some(12),
                ..ApiKeyUsage::new(key_ids[i % 16], "/bench", "GET", 200)
            };
            recorder.record_api(&usage).await?;
        }
        let stats = recorder.shutdown().await;
        eyre::ensure!(
            stats.written == rows as u64 && stats.failed == 0,
            "recorder lost rows: {stats:?}"
        );
        let recorder_rate = rows as f64 / started.elapsed().as_secs_f64();
        let f = Figure {
            backend: name,
            operation: "UsageRecorder vs 1 INSERT per call",
            store_ops_per_sec: recorder_rate,
            raw_ops_per_sec: raw_rate,
            store_over_raw: raw_rate / recorder_rate,
            speed_up: Some(recorder_rate / raw_rate),
            latency_ms: None,
        };
        eprintln!(
            "  {:<28} store {:>9.0}/s  raw {:>9.0}/s  speed-up {:.1}x",
            f.operation,
            f.store_ops_per_sec,
            f.raw_ops_per_sec,
            recorder_rate / raw_rate
        );
        figures.push(f);
    }
    compare!(
        "get_usage_stats",
        |i| {
            let (s, d) = (&store, &data);
            async move {
                s.get_usage_stats(d.users[i]).await?;
                Ok(())
            }
        },
        |i| {
            let (r, d) = (&raw, &data);
            async move { <B as Raw>::usage_stats(r, d.users[i]).await }
        }
    );
    compare!(
        "get_user_stats",
        |i| {
            let (s, d) = (&store, &data);
            async move {
                s.get_user_stats(d.tenant, d.users[i]).await?;
                Ok(())
            }
        },
        |i| {
            let (r, d) = (&raw, &data);
            async move { <B as Raw>::user_stats(r, d.tenant, d.users[i]).await }
        }
    );
    compare!(
        "get_user_activities (20)",
        |i| {
            let (s, d) = (&store, &data);
            async move {
                s.get_user_activities(d.tenant, d.users[i], 20).await?;
                Ok(())
            }
        },
        |i| {
            let (r, d) = (&raw, &data);
            async move { <B as Raw>::user_activities(r, d.tenant, d.users[i]).await }
        }
    );

    // The lookup mix from 8 tasks on the default pool.
    let (s, d) = (store.clone(), Arc::clone(&data));
    let (r, d2) = (Arc::clone(&raw), Arc::clone(&data));
    let (mix_store, mix_raw) = interleaved_concurrently(
        8,
        move |i| {
            let (s, d) = (s.clone(), Arc::clone(&d));
            async move {
                let u = (i as usize).wrapping_mul(2_654_435_761) % d.users.len();
                match i % 3 {
                    0 => drop(s.get_api_key_by_hash(&d.key_hashes[u]).await?),
                    1 => drop(s.get_user_by_email(&d.emails[u]).await?),
                    _ => drop(s.get_oauth_token(d.users[u], OAuthProvider::Strava).await?),
                }
                Ok(())
            }
        },
        move |i| {
            let (r, d) = (Arc::clone(&r), Arc::clone(&d2));
            async move {
                let u = (i as usize).wrapping_mul(2_654_435_761) % d.users.len();
                match i % 3 {
                    0 => drop(<B as Raw>::api_key_by_hash(&r, &d.key_hashes[u]).await?),
                    1 => drop(<B as Raw>::user_by_email(&r, &d.emails[u]).await?),
                    _ => drop(<B as Raw>::oauth_token(&r, d.users[u]).await?),
                }
                Ok(())
            }
        },
    )
    .await?;
    report(
        &mut figures,
        figure(name, "lookup mix, 8 tasks", mix_store, mix_raw),
    );
    auth_bench::<B>(url, &data, &mut figures).await?;
    store.close().await;
    Ok(figures)
}

/// A figure comparing the authentication cache on ("store" columns) with it off ("raw"
/// columns, today's path: one `UPDATE` per authentication).
fn cache_figure(backend: &'static str, operation: &'static str, on: f64, off: f64) -> Figure {
    let f = Figure {
        speed_up: Some(on / off),
        ..figure(backend, operation, on, off)
    };
    eprintln!(
        "  {:<34} cache on {:>9.0}/s  off {:>9.0}/s  speed-up {:.1}x",
        f.operation,
        on,
        off,
        on / off
    );
    f
}

/// Keys issued for the authentication benchmarks (each with a user and a token).
const AUTH_KEYS: usize = 256;

/// Issue 13: `authenticate_api_key` on warm keys with the authentication cache on and off
/// (1 and 8 tasks), a miss against today's read, and the request path (authenticate +
/// `get_oauth_token` + usage through the recorder) with the cache off and on.
async fn auth_bench<B: Backend>(
    url: &str,
    data: &Arc<Data>,
    figures: &mut Vec<Figure>,
) -> eyre::Result<()> {
    let name = <B as sqlx::Database>::NAME;
    let on = Store::<B>::new(url, data.key.clone()).await?;
    let mut config = StoreConfig::new(url, data.key.clone());
    config.auth_cache_entries = 0;
    let off = Store::<B>::connect(config).await?;
    let mut plaintexts = Vec::with_capacity(AUTH_KEYS);
    for &user in data.users.iter().take(AUTH_KEYS) {
        let (_, plaintext) = on
            .issue_api_key(user, "auth bench", ApiKeyTier::Standard, vec![], None)
            .await?;
        plaintexts.push((user, plaintext.expose().to_owned()));
    }
    let keys = Arc::new(plaintexts);

    let authenticate = |store: &Store<B>, keys: &Arc<Vec<(UserId, String)>>| {
        let (store, keys) = (store.clone(), Arc::clone(keys));
        move |i: u64| {
            let (store, keys) = (store.clone(), Arc::clone(&keys));
            async move {
                let (_, plaintext) = &keys[i as usize % keys.len()];
                eyre::ensure!(store.authenticate_api_key(plaintext).await?.is_some());
                Ok(())
            }
        }
    };
    let (on_1, off_1) = interleaved(authenticate(&on, &keys), authenticate(&off, &keys)).await?;
    figures.push(cache_figure(
        name,
        "authenticate_api_key warm, 1 task",
        on_1,
        off_1,
    ));
    let (on_8, off_8) =
        interleaved_concurrently(8, authenticate(&on, &keys), authenticate(&off, &keys)).await?;
    figures.push(cache_figure(
        name,
        "authenticate_api_key warm, 8 tasks",
        on_8,
        off_8,
    ));
    // A miss (an unknown key: one read) against today's read of a key by its hash.
    let (miss, read) = interleaved(
        |i| {
            let s = &on;
            async move {
                let plaintext = format!("pk_live_unknown_{i}");
                eyre::ensure!(s.authenticate_api_key(&plaintext).await?.is_none());
                Ok(())
            }
        },
        |i| {
            let s = &off;
            async move {
                let hash = format!("{:064x}", u128::from(i) + (1 << 100));
                eyre::ensure!(s.get_api_key_by_hash(&hash).await?.is_none());
                Ok(())
            }
        },
    )
    .await?;
    let f = figure(name, "authenticate miss vs get_api_key_by_hash", miss, read);
    report(figures, f);

    for tasks in [1, 8] {
        let (off_rate, off_latency) = request_path(&off, &keys, tasks).await?;
        let (on_rate, on_latency) = request_path(&on, &keys, tasks).await?;
        let operation = if tasks == 1 {
            "request path, 1 task"
        } else {
            "request path, 8 tasks"
        };
        let f = Figure {
            latency_ms: Some(Latency {
                cache_on_p50: on_latency.0,
                cache_on_p99: on_latency.1,
                cache_off_p50: off_latency.0,
                cache_off_p99: off_latency.1,
            }),
            ..cache_figure(name, operation, on_rate, off_rate)
        };
        eprintln!(
            "  {:<34} p50/p99 ms: cache on {:.3}/{:.3}, off {:.3}/{:.3}",
            "", on_latency.0, on_latency.1, off_latency.0, off_latency.1
        );
        figures.push(f);
    }
    on.close().await;
    off.close().await;
    Ok(())
}

/// Simulated requests from `tasks` tasks for the measurement time: each authenticates a
/// key, reads and decrypts its user's token, and records a usage row through the
/// recorder. Returns requests/s and the (p50, p99) latency in ms.
async fn request_path<B: Backend>(
    store: &Store<B>,
    keys: &Arc<Vec<(UserId, String)>>,
    tasks: usize,
) -> eyre::Result<(f64, (f64, f64))> {
    let recorder = store.usage_recorder(UsageRecorderConfig::default())?;
    let limit = seconds();
    let started = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let (store, keys, recorder) = (store.clone(), Arc::clone(keys), recorder.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut n = t;
                while started.elapsed() < limit {
                    let began = Instant::now();
                    let (user, plaintext) = &keys[n % keys.len()];
                    let key = store
                        .authenticate_api_key(plaintext)
                        .await?
                        .ok_or_else(|| eyre::eyre!("refused"))?;
                    store
                        .get_oauth_token(*user, OAuthProvider::Strava)
                        .await?
                        .ok_or_else(|| eyre::eyre!("no token"))?;
                    let usage = ApiKeyUsage {
                        response_time_ms: Some(3),
                        ..ApiKeyUsage::new(key.id, "/mcp/tools/get_activities", "POST", 200)
                    };
                    recorder.record_api(&usage).await?;
                    latencies.push(began.elapsed());
                    n += tasks;
                }
                eyre::Ok(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for handle in handles {
        latencies.extend(handle.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let stats = recorder.shutdown().await;
    eyre::ensure!(stats.failed == 0, "recorder failed rows: {stats:?}");
    latencies.sort();
    let pct = |p: usize| {
        latencies
            .get((latencies.len() * p / 100).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    Ok((latencies.len() as f64 / elapsed, (pct(50), pct(99))))
}

/// A database of its own on the server at `TEST_MYSQL_URL`, over `TEST_MYSQL_SOCKET` when
/// set.
fn mysql_bench_url() -> eyre::Result<String> {
    let server = std::env::var("TEST_MYSQL_URL").map_err(|_| {
        eyre::eyre!("TEST_MYSQL_URL is not set: run `make bench`, which starts a throwaway MariaDB")
    })?;
    let mut url = url::Url::parse(&server)?;
    url.set_path(&format!("pierre_bench_{}", std::process::id()));
    if let Ok(socket) = std::env::var("TEST_MYSQL_SOCKET") {
        url.query_pairs_mut().append_pair("socket", &socket);
    }
    Ok(url.into())
}

#[tokio::main]
async fn main() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let sqlite_url = format!("sqlite:{}", dir.path().join("bench.db").display());
    // Over the Unix socket when `make bench` provides one: sqlx 0.9.0 leaves Nagle's
    // algorithm on for TCP, which stalls every large statement (the batch inserts) ~40 ms.
    let server = std::env::var("TEST_POSTGRES_SOCKET_URL").or_else(|_| std::env::var("TEST_POSTGRES_URL")).map_err(|_| {
        eyre::eyre!(
            "TEST_POSTGRES_URL is not set: run `make bench`, which starts a throwaway PostgreSQL"
        )
    })?;
    let (base, query) = server.split_once('?').unwrap_or((server.as_str(), ""));
    let base = base.rsplit_once('/').map_or(base, |(root, _)| root);
    let pg_url = format!(
        "{base}/pierre_bench_{}{}{query}",
        std::process::id(),
        if query.is_empty() { "" } else { "?" }
    );
    Postgres::create_database(&pg_url).await?;
    let my_url = mysql_bench_url()?;
    MySql::create_database(&my_url).await?;

    let mut figures = bench::<Sqlite>(&sqlite_url).await?;
    let pg = bench::<Postgres>(&pg_url).await;
    Postgres::force_drop_database(&pg_url).await?;
    figures.extend(pg?);
    let my = bench::<MySql>(&my_url).await;
    MySql::drop_database(&my_url).await?;
    figures.extend(my?);

    println!(
        "\n{:<12} {:<36} {:>12} {:>12} {:>10}",
        "backend", "operation", "store ops/s", "raw ops/s", "store/raw"
    );
    for f in &figures {
        let ratio = f.speed_up.map_or_else(
            || format!("{:.2}", f.store_over_raw),
            |x| format!("({x:.1}x)"),
        );
        println!(
            "{:<12} {:<36} {:>12.0} {:>12.0} {:>10}",
            f.backend, f.operation, f.store_ops_per_sec, f.raw_ops_per_sec, ratio
        );
    }
    std::fs::create_dir_all("target/bench")?;
    std::fs::write(
        "target/bench/results.json",
        serde_json::to_string_pretty(&figures)?,
    )?;
    println!(
        "\nwritten to target/bench/results.json (store/raw = time per op through Store / time per op of raw sqlx, measured in alternating slices; (Nx) = rows/s through the UsageRecorder / rows/s of one raw INSERT per call)"
    );
    Ok(())
}
