//! `make bench` (MySQL part): the measurements behind two choices of the MySQL backend, on
//! the server at `TEST_MYSQL_URL` (over TCP) and `TEST_MYSQL_SOCKET` (its Unix socket):
//!
//! - the transport: sqlx 0.9.0 does not set `TCP_NODELAY` (sqlx#4335), so a statement that
//!   spans several TCP segments may wait for the peer's delayed ACK (~40 ms). Point lookups
//!   and a ~200 KB batch insert are timed over TCP and over the socket.
//! - the id representation: point lookups on a `CHAR(36) CHARACTER SET ascii` primary key
//!   (what migrations/mysql uses) against a `BINARY(16)` one, and the tables' sizes.
//!
//! Raw runtime statements on scratch tables of a scratch database (dropped at the end):
//! nothing here goes through the store. `BENCH_SCALE` (default 1 = 100k rows per table) and
//! `BENCH_SECONDS` (time per measurement) apply. Writes `target/bench/mysql_choices.json`.

mod settings;

use std::{
    str::FromStr,
    time::{Duration, Instant},
};

use serde::Serialize;
use sqlx::{
    MySql, MySqlPool, QueryBuilder,
    migrate::MigrateDatabase,
    mysql::{MySqlConnectOptions, MySqlPoolOptions},
};
use uuid::Uuid;

use settings::{scale, seconds};

/// One line of the report.
#[derive(Debug, Serialize)]
struct Figure {
    measurement: String,
    ops_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// Latencies of repeated calls, and their rate.
fn figure(measurement: String, mut latencies: Vec<Duration>, elapsed: Duration) -> Figure {
    latencies.sort();
    let at = |q: f64| {
        let i = ((latencies.len() as f64 - 1.0) * q).round() as usize;
        latencies[i].as_secs_f64() * 1000.0
    };
    Figure {
        ops_per_sec: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50_ms: at(0.50),
        p99_ms: at(0.99),
        measurement,
    }
}

/// A one-connection pool (latency, not throughput, is measured).
async fn pool(options: MySqlConnectOptions) -> sqlx::Result<MySqlPool> {
    MySqlPoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
}

/// Point lookups by primary key on `table` for `seconds()`, ids taken in a fixed
/// pseudo-random order; `bind` turns an id into the column's form.
async fn lookups<T>(
    pool: &MySqlPool,
    table: &str,
    ids: &[Uuid],
    bind: impl Fn(Uuid) -> T,
) -> eyre::Result<(Vec<Duration>, Duration)>
where
    T: for<'q> sqlx::Encode<'q, MySql> + sqlx::Type<MySql> + Send,
{
    let sql = format!("SELECT payload FROM {table} WHERE id = ?");
    let (mut latencies, started, mut i) = (Vec::new(), Instant::now(), 0_usize);
    while started.elapsed() < seconds() {
        i = (i + 7919) % ids.len();
        let t = Instant::now();
        let found: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
            .bind(bind(ids[i]))
            .fetch_optional(pool)
            .await?;
        latencies.push(t.elapsed());
        eyre::ensure!(found.is_some(), "id {} not found in {table}", ids[i]);
    }
    Ok((latencies, started.elapsed()))
}

/// 1,000 rows of ~200 bytes in one INSERT (a ~200 KB statement, as a usage batch is), then
/// deleted again; repeated for `seconds()` (at least 5 times).
async fn batch_inserts(pool: &MySqlPool) -> eyre::Result<(Vec<Duration>, Duration)> {
    let payload = "x".repeat(190);
    let (mut latencies, started) = (Vec::new(), Instant::now());
    while started.elapsed() < seconds() || latencies.len() < 5 {
        let mut insert = QueryBuilder::<MySql>::new("INSERT INTO batch_target (id, payload) ");
        insert.push_values(0..1000, |mut row, _| {
            row.push_bind(Uuid::new_v4().to_string())
                .push_bind(payload.as_str());
        });
        let t = Instant::now();
        insert.build().execute(pool).await?;
        latencies.push(t.elapsed());
        sqlx::query("DELETE FROM batch_target")
            .execute(pool)
            .await?;
    }
    Ok((latencies, started.elapsed()))
}

/// Creates the scratch tables and fills the two id tables with the same `n` ids.
async fn fill(pool: &MySqlPool, n: usize) -> eyre::Result<Vec<Uuid>> {
    for ddl in [
        "CREATE TABLE ids_char (id CHAR(36) CHARACTER SET ascii NOT NULL PRIMARY KEY,
             payload VARCHAR(64) NOT NULL) ENGINE = InnoDB",
        "CREATE TABLE ids_binary (id BINARY(16) NOT NULL PRIMARY KEY,
             payload VARCHAR(64) NOT NULL) ENGINE = InnoDB",
        "CREATE TABLE batch_target (id CHAR(36) CHARACTER SET ascii NOT NULL PRIMARY KEY,
             payload VARCHAR(255) NOT NULL) ENGINE = InnoDB",
    ] {
        sqlx::query(ddl).execute(pool).await?;
    }
    let ids: Vec<Uuid> = (0..n).map(|_| Uuid::new_v4()).collect();
    for chunk in ids.chunks(1000) {
        let mut text = QueryBuilder::<MySql>::new("INSERT INTO ids_char (id, payload) ");
        text.push_values(chunk, |mut row, id| {
            row.push_bind(id.to_string()).push_bind("payload");
        });
        text.build().execute(pool).await?;
        let mut bytes = QueryBuilder::<MySql>::new("INSERT INTO ids_binary (id, payload) ");
        bytes.push_values(chunk, |mut row, id| {
            row.push_bind(*id).push_bind("payload");
        });
        bytes.build().execute(pool).await?;
    }
    sqlx::query("ANALYZE TABLE ids_char, ids_binary")
        .execute(pool)
        .await?;
    Ok(ids)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> eyre::Result<()> {
    let server = std::env::var("TEST_MYSQL_URL").map_err(|_| {
        eyre::eyre!("TEST_MYSQL_URL is not set: run `make bench`, which starts a throwaway MariaDB")
    })?;
    let socket = std::env::var("TEST_MYSQL_SOCKET").map_err(|_| {
        eyre::eyre!(
            "TEST_MYSQL_SOCKET is not set: run `make bench`, which starts a throwaway MariaDB"
        )
    })?;
    let (base, query) = server.split_once('?').unwrap_or((server.as_str(), ""));
    let base = base.rsplit_once('/').map_or(base, |(root, _)| root);
    let url = format!(
        "{base}/pierre_choices_{}{}{query}",
        std::process::id(),
        if query.is_empty() { "" } else { "?" }
    );
    MySql::create_database(&url).await?;
    let result = run(&url, &socket).await;
    MySql::drop_database(&url).await?;
    let figures = result?;

    println!(
        "\n{:<52} {:>10} {:>9} {:>9}",
        "MySQL measurement", "ops/s", "p50 ms", "p99 ms"
    );
    for f in &figures {
        println!(
            "{:<52} {:>10.0} {:>9.3} {:>9.3}",
            f.measurement, f.ops_per_sec, f.p50_ms, f.p99_ms
        );
    }
    std::fs::create_dir_all("target/bench")?;
    std::fs::write(
        "target/bench/mysql_choices.json",
        serde_json::to_string_pretty(&figures)?,
    )?;
    println!("\nwritten to target/bench/mysql_choices.json");
    Ok(())
}

async fn run(url: &str, socket: &str) -> eyre::Result<Vec<Figure>> {
    let tcp = pool(MySqlConnectOptions::from_str(url)?).await?;
    let unix = pool(MySqlConnectOptions::from_str(url)?.socket(socket)).await?;
    let n = ((100_000.0 * scale()) as usize).max(1000);
    let ids = fill(&tcp, n).await?;
    let mut figures = Vec::new();
    for (transport, pool) in [("TCP", &tcp), ("Unix socket", &unix)] {
        let (latencies, elapsed) = lookups(pool, "ids_char", &ids, |id| id.to_string()).await?;
        figures.push(figure(
            format!("point lookup, CHAR(36) id, {transport}"),
            latencies,
            elapsed,
        ));
        let (latencies, elapsed) = batch_inserts(pool).await?;
        figures.push(figure(
            format!("1,000-row INSERT (~200 KB), {transport}"),
            latencies,
            elapsed,
        ));
    }
    let (latencies, elapsed) = lookups(&unix, "ids_binary", &ids, |id| id).await?;
    figures.push(figure(
        "point lookup, BINARY(16) id, Unix socket".to_owned(),
        latencies,
        elapsed,
    ));
    let sizes: Vec<(String, i64)> = sqlx::query_as(
        "SELECT table_name, CAST(data_length + index_length AS SIGNED)
         FROM information_schema.tables
         WHERE table_schema = DATABASE() AND table_name IN ('ids_char', 'ids_binary')
         ORDER BY table_name",
    )
    .fetch_all(&unix)
    .await?;
    for (table, bytes) in sizes {
        println!("{table}: {n} rows, {:.1} MB", bytes as f64 / 1e6);
    }
    tcp.close().await;
    unix.close().await;
    Ok(figures)
}
