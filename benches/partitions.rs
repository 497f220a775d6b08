//! `make bench`, second part: PostgreSQL's usage tables partitioned by month (migration
//! 20261203000001) against the same tables unpartitioned (a database migrated only up to
//! the version before), with the same rows: the `UsageRecorder`'s rows/s while filling
//! them, `get_usage_stats` latency, and pruning the oldest month (the store's
//! `prune_usage`, which drops the month's partition, against the batched `DELETE` it runs
//! on an unpartitioned table, 5 000 rows per statement as `pierre-store prune-usage`).
//!
//! Environment: `TEST_POSTGRES_SOCKET_URL` or `TEST_POSTGRES_URL` (one is required),
//! `BENCH_SCALE` (default 1 = 1M usage rows per database, spread evenly over the last
//! twelve whole months and this one; `BENCH_SCALE=10` reaches 10M), `BENCH_SECONDS` (time
//! per latency measurement, default 1). Writes `target/bench/partitions.json`.

mod settings;

use std::time::{Duration, Instant};

use pierre_store::{
    ApiKey, ApiKeyId, ApiKeyUsage, EncryptionKey, Postgres, Store, UsageRecorderConfig, User,
    UserId,
};
use serde::Serialize;
use sqlx::{AssertSqlSafe, Connection, PgConnection, migrate::MigrateDatabase};
use time::{Duration as TimeDuration, OffsetDateTime};

use settings::{scale, seconds};

/// The last migration before the usage tables were partitioned.
const BEFORE_PARTITIONS: i64 = 20_261_202_000_004;
/// Users, one API key each.
const USERS: usize = 1_000;
/// Rows per `DELETE` when pruning the unpartitioned table (the CLI's default).
const PRUNE_BATCH: i64 = 5_000;

/// One database under test.
struct Side {
    label: &'static str,
    url: String,
    store: Store<Postgres>,
    users: Vec<UserId>,
    keys: Vec<ApiKeyId>,
}

#[derive(Debug, Default, Serialize)]
struct Figures {
    label: &'static str,
    rows: u64,
    recorder_rows_per_sec: f64,
    usage_stats_mean_us: f64,
    usage_stats_p99_us: f64,
    prune_month_rows: u64,
    prune_month_seconds: f64,
    table_bytes_after_prune: i64,
}

async fn side(label: &'static str, url: String, partitioned: bool) -> eyre::Result<Side> {
    Postgres::create_database(&url).await?;
    let store = Store::<Postgres>::new(&url, EncryptionKey::generate()).await?;
    if partitioned {
        store.migrate().await?;
    } else {
        store.migrate_to(BEFORE_PARTITIONS).await?;
    }
    let mut users = Vec::with_capacity(USERS);
    let mut keys = Vec::with_capacity(USERS);
    for i in 0..USERS {
        let user = store
            .create_user(&User::new(&format!("user{i}@bench.example"), "hash"))
            .await?;
        let key = store
            .create_api_key(&ApiKey::new(user, "k", &format!("{i:064x}"), "pk_bench"))
            .await?;
        users.push(user);
        keys.push(key);
    }
    Ok(Side {
        label,
        url,
        store,
        users,
        keys,
    })
}

/// The first instant of the month twelve months before `now`'s.
fn first_month(now: OffsetDateTime) -> OffsetDateTime {
    let start = now.date().replace_day(1).expect("day 1");
    let start = start
        .replace_year(start.year() - 1)
        .expect("a year earlier");
    start.midnight().assume_utc()
}

/// Writes rows `from..to` of `total` through a recorder; returns (rows, seconds).
async fn fill(
    side: &Side,
    from: usize,
    to: usize,
    total: usize,
    start: OffsetDateTime,
    span: TimeDuration,
) -> eyre::Result<(u64, f64)> {
    let recorder = side.store.usage_recorder(UsageRecorderConfig::default())?;
    let started = Instant::now();
    for i in from..to {
        let usage = ApiKeyUsage {
            timestamp: start + span * (i as f64 / total as f64),
            response_time_ms: Some((i % 500) as u32),
            ..ApiKeyUsage::new(
                side.keys[(i * 7919) % USERS],
                "/mcp/tools/get_activities",
                "POST",
                if i % 10 == 0 { 500 } else { 200 },
            )
        };
        recorder.record_api(&usage).await?;
    }
    let stats = recorder.shutdown().await;
    eyre::ensure!(
        stats.written == (to - from) as u64 && stats.failed == 0,
        "{}: rows lost: {stats:?}",
        side.label
    );
    Ok(((to - from) as u64, started.elapsed().as_secs_f64()))
}

/// `get_usage_stats` for users in a fixed pseudo-random order for `limit`; returns the
/// latencies in microseconds.
async fn stats_for(side: &Side, seed: &mut u64, limit: Duration) -> eyre::Result<Vec<f64>> {
    let mut latencies = Vec::new();
    let started = Instant::now();
    while started.elapsed() < limit {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        let user = side.users[(*seed % USERS as u64) as usize];
        let t = Instant::now();
        side.store.get_usage_stats(user).await?;
        latencies.push(t.elapsed().as_secs_f64() * 1e6);
    }
    Ok(latencies)
}

async fn raw_scalar(url: &str, sql: String) -> eyre::Result<i64> {
    let mut conn = PgConnection::connect(url).await?;
    Ok(sqlx::query_scalar(AssertSqlSafe(sql))
        .fetch_one(&mut conn)
        .await?)
}

/// Prunes the oldest month (rows before `cutoff`); returns (rows, seconds).
async fn prune(side: &Side, partitioned: bool, cutoff: OffsetDateTime) -> eyre::Result<(u64, f64)> {
    let started = Instant::now();
    let rows = if partitioned {
        let report = side
            .store
            .prune_usage(cutoff, PRUNE_BATCH as u32, |_| {})
            .await?;
        report.api_key_usage + report.jwt_usage
    } else {
        // What `prune_usage` ran before partitioning: batched deletes, oldest first.
        let mut conn = PgConnection::connect(&side.url).await?;
        let mut rows = 0;
        loop {
            let done = sqlx::query(
                "DELETE FROM api_key_usage WHERE id IN
                    (SELECT id FROM api_key_usage WHERE timestamp < $1 ORDER BY id LIMIT $2)",
            )
            .bind(cutoff)
            .bind(PRUNE_BATCH)
            .execute(&mut conn)
            .await?;
            rows += done.rows_affected();
            if done.rows_affected() < PRUNE_BATCH as u64 {
                break;
            }
        }
        rows
    };
    Ok((rows, started.elapsed().as_secs_f64()))
}

#[tokio::main]
async fn main() -> eyre::Result<()> {
    let server = std::env::var("TEST_POSTGRES_SOCKET_URL")
        .or_else(|_| std::env::var("TEST_POSTGRES_URL"))
        .map_err(|_| eyre::eyre!("TEST_POSTGRES_URL is not set: run `make bench`, which starts a throwaway PostgreSQL"))?;
    let (base, query) = server.split_once('?').unwrap_or((server.as_str(), ""));
    let base = base.rsplit_once('/').map_or(base, |(root, _)| root);
    let url = |name: &str| {
        format!(
            "{base}/pierre_bench_{name}_{}{}{query}",
            std::process::id(),
            if query.is_empty() { "" } else { "?" }
        )
    };
    let sides = [
        side("partitioned", url("partitioned"), true).await?,
        side("unpartitioned", url("unpartitioned"), false).await?,
    ];
    let result = run(&sides).await;
    for s in &sides {
        s.store.close().await;
        Postgres::force_drop_database(&s.url).await?;
    }
    let figures = result?;
    println!(
        "\n{:<14} {:>10} {:>14} {:>12} {:>12} {:>11} {:>10} {:>14}",
        "usage tables",
        "rows",
        "recorder/s",
        "stats mean",
        "stats p99",
        "prune rows",
        "prune s",
        "bytes after"
    );
    for f in &figures {
        println!(
            "{:<14} {:>10} {:>14.0} {:>10.0}us {:>10.0}us {:>11} {:>10.3} {:>14}",
            f.label,
            f.rows,
            f.recorder_rows_per_sec,
            f.usage_stats_mean_us,
            f.usage_stats_p99_us,
            f.prune_month_rows,
            f.prune_month_seconds,
            f.table_bytes_after_prune
        );
    }
    std::fs::create_dir_all("target/bench")?;
    std::fs::write(
        "target/bench/partitions.json",
        serde_json::to_string_pretty(&figures)?,
    )?;
    println!("\nwritten to target/bench/partitions.json");
    Ok(())
}

async fn run(sides: &[Side; 2]) -> eyre::Result<Vec<Figures>> {
    let total = (1_000_000.0 * scale()) as usize;
    let now = OffsetDateTime::now_utc();
    let start = first_month(now);
    let span = now - start;
    let mut figures: Vec<Figures> = sides
        .iter()
        .map(|s| Figures {
            label: s.label,
            ..Figures::default()
        })
        .collect();

    // Filled in ten alternating chunks, oldest rows first, so that a change in the
    // machine's load hits both sides alike.
    let chunk = total.div_ceil(10);
    let mut written = [(0_u64, 0.0_f64); 2];
    for (n, from) in (0..total).step_by(chunk.max(1)).enumerate() {
        let to = (from + chunk).min(total);
        for k in 0..2 {
            let k = if n % 2 == 0 { k } else { 1 - k };
            let (rows, secs) = fill(&sides[k], from, to, total, start, span).await?;
            written[k] = (written[k].0 + rows, written[k].1 + secs);
        }
        eprintln!("  filled {to} of {total} rows on each side");
    }
    for (k, s) in sides.iter().enumerate() {
        figures[k].rows = written[k].0;
        figures[k].recorder_rows_per_sec = written[k].0 as f64 / written[k].1;
        let mut conn = PgConnection::connect(&s.url).await?;
        sqlx::query("ANALYZE api_key_usage")
            .execute(&mut conn)
            .await?;
    }

    let mut samples = [Vec::new(), Vec::new()];
    let mut seeds = [0x9E37_79B9_7F4A_7C15_u64; 2];
    for round in 0..10 {
        for k in 0..2 {
            let k = if round % 2 == 0 { k } else { 1 - k };
            samples[k].extend(stats_for(&sides[k], &mut seeds[k], seconds() / 10).await?);
        }
    }
    for k in 0..2 {
        let lat = &mut samples[k];
        lat.sort_by(f64::total_cmp);
        figures[k].usage_stats_mean_us = lat.iter().sum::<f64>() / lat.len().max(1) as f64;
        figures[k].usage_stats_p99_us = lat.get(lat.len() * 99 / 100).copied().unwrap_or(0.0);
    }

    let cutoff = {
        let d = start.date();
        let (y, m) = if d.month() == time::Month::December {
            (d.year() + 1, time::Month::January)
        } else {
            (d.year(), d.month().next())
        };
        time::Date::from_calendar_date(y, m, 1)?
            .midnight()
            .assume_utc()
    };
    for (k, s) in sides.iter().enumerate() {
        let (rows, secs) = prune(s, k == 0, cutoff).await?;
        figures[k].prune_month_rows = rows;
        figures[k].prune_month_seconds = secs;
        figures[k].table_bytes_after_prune =
            raw_scalar(&s.url, "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c WHERE c.relname LIKE 'api_key_usage%' AND c.relkind = 'r'".to_owned()).await?;
    }
    eyre::ensure!(
        figures[0].prune_month_rows == figures[1].prune_month_rows,
        "both sides prune the same rows: {figures:?}"
    );
    Ok(figures)
}
