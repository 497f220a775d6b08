//! The aggregate queries use the indexes: each backend's planner is asked for its plan of
//! the same statements the store runs (`EXPLAIN QUERY PLAN` / `EXPLAIN`). On PostgreSQL
//! `get_user_stats` runs its statement inside the `scoped_user_stats` function. Also the
//! lookup of the tenants a user owns (`delete_user`'s refusal), the administration's
//! listing of users by status and tier, and the refresh worker's tokens about to expire.
//! On MySQL the same statements as its backend runs them (`EXPLAIN`, on tables seeded
//! enough for its cost model to weigh an index against a scan).

mod common;

use common::TestDb;
use pierre_store::{MySql, Postgres, Sqlite};
use sqlx::{Connection, MySqlConnection, PgConnection, Row, SqliteConnection};

async fn sqlite_plan(url: &str, sql: &'static str) -> eyre::Result<String> {
    let mut conn = SqliteConnection::connect(url).await?;
    let mut query = sqlx::query_as(sql);
    for value in ["x", "y"].iter().take(sql.matches('?').count()) {
        query = query.bind(*value);
    }
    let rows: Vec<(i64, i64, i64, String)> = query.fetch_all(&mut conn).await?;
    Ok(rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("\n"))
}

async fn postgres_plan(url: &str, sql: &'static str) -> eyre::Result<String> {
    let mut conn = PgConnection::connect(url).await?;
    // Tiny test tables would be scanned whole; ask whether the index serves the query.
    sqlx::query("SET enable_seqscan = off")
        .execute(&mut conn)
        .await?;
    let rows: Vec<String> = sqlx::query_scalar(sql).fetch_all(&mut conn).await?;
    Ok(rows.join("\n"))
}

#[tokio::test]
async fn sqlite_stats_queries_use_the_indexes() -> eyre::Result<()> {
    let db = TestDb::<Sqlite>::new().await?;
    let usage = sqlite_plan(
        &db.url,
        "EXPLAIN QUERY PLAN SELECT COUNT(*), COUNT(*) FILTER (WHERE u.status_code < 400),
        AVG(u.response_time_ms), MIN(u.timestamp), MAX(u.timestamp)
        FROM api_key_usage u JOIN api_keys k ON k.id = u.api_key_id WHERE k.user_id = ?1",
    )
    .await?;
    assert!(
        usage.contains("idx_api_keys_user_id")
            && usage.contains("idx_api_key_usage_api_key_id_timestamp"),
        "{usage}"
    );
    let stats = sqlite_plan(
        &db.url,
        "EXPLAIN QUERY PLAN SELECT COUNT(*), SUM(distance), SUM(duration), AVG(distance),
        MIN(start_date), MAX(start_date) FROM activities
        WHERE tenant_id = ?1 AND user_id = ?2 AND deleted_at IS NULL",
    )
    .await?;
    assert!(
        stats.contains("idx_activities_tenant_id_user_id_start_date"),
        "{stats}"
    );
    println!("SQLite get_usage_stats plan:\n{usage}\nSQLite get_user_stats plan:\n{stats}");
    // delete_user's lookup of the tenants that block it.
    let owned = sqlite_plan(
        &db.url,
        "EXPLAIN QUERY PLAN SELECT slug FROM tenants WHERE owner_user_id = ?1 ORDER BY slug",
    )
    .await?;
    assert!(owned.contains("idx_tenants_owner_user_id"), "{owned}");
    Ok(())
}

#[tokio::test]
async fn postgres_stats_queries_use_the_indexes() -> eyre::Result<()> {
    let db = TestDb::<Postgres>::new().await?;
    let usage = postgres_plan(
        &db.url,
        "EXPLAIN SELECT COUNT(*), COUNT(*) FILTER (WHERE u.status_code < 400),
        AVG(u.response_time_ms)::DOUBLE PRECISION, MIN(u.timestamp), MAX(u.timestamp)
        FROM api_key_usage u JOIN api_keys k ON k.id = u.api_key_id
        WHERE k.user_id = '00000000-0000-0000-0000-000000000001'",
    )
    .await?;
    assert!(
        usage.contains("idx_api_keys_user_id")
            && usage.contains("idx_api_key_usage_api_key_id_timestamp"),
        "{usage}"
    );
    let stats = postgres_plan(
        &db.url,
        "EXPLAIN SELECT COUNT(*), SUM(distance), SUM(duration)::BIGINT, AVG(distance),
        MIN(start_date), MAX(start_date) FROM activities
        WHERE tenant_id = '00000000-0000-0000-0000-000000000001'
          AND user_id = '00000000-0000-0000-0000-000000000002' AND deleted_at IS NULL",
    )
    .await?;
    assert!(
        stats.contains("idx_activities_tenant_id_user_id_start_date"),
        "{stats}"
    );
    println!("PostgreSQL get_usage_stats plan:\n{usage}\nPostgreSQL get_user_stats plan:\n{stats}");
    let owned = postgres_plan(
        &db.url,
        "EXPLAIN SELECT slug FROM tenants
        WHERE owner_user_id = '00000000-0000-0000-0000-000000000001' ORDER BY slug",
    )
    .await?;
    assert!(owned.contains("idx_tenants_owner_user_id"), "{owned}");
    Ok(())
}

/// `list_users`' statement as SQLite runs it: the statuses and tiers are bound as lists
/// (every value when the filter leaves them open); `likely()` steers the planner to the
/// status index, which the approval queue needs (without it SQLite picked idx_users_tier).
const SQLITE_LIST_USERS: &str = "EXPLAIN QUERY PLAN SELECT id FROM users
    WHERE status IN (SELECT value FROM json_each(?1))
      AND likely(tier IN (SELECT value FROM json_each(?2)))
      AND (?3 IS NULL OR (created_at, id) > (?3, ?4))
    ORDER BY created_at, id LIMIT ?5";

#[tokio::test]
async fn sqlite_admin_queries_use_the_indexes() -> eyre::Result<()> {
    let db = TestDb::<Sqlite>::new().await?;
    let users = sqlite_plan(&db.url, SQLITE_LIST_USERS).await?;
    assert!(users.contains("USING INDEX idx_users_status"), "{users}");
    let expiring = sqlite_plan(
        &db.url,
        "EXPLAIN QUERY PLAN SELECT user_id, provider, expires_at FROM user_oauth_tokens
        WHERE expires_at < ?1 ORDER BY expires_at, user_id, provider LIMIT ?2",
    )
    .await?;
    assert!(expiring.contains("idx_oauth_tokens_expires"), "{expiring}");
    println!(
        "SQLite list_users plan:\n{users}\nSQLite list_tokens_expiring_before plan:\n{expiring}"
    );
    Ok(())
}

#[tokio::test]
async fn postgres_admin_queries_use_the_indexes() -> eyre::Result<()> {
    let db = TestDb::<Postgres>::new().await?;
    for (filter, index) in [
        (
            "status = ANY('{pending}'::text[])
              AND tier = ANY('{free,basic,professional,enterprise}'::text[])",
            "idx_users_status",
        ),
        (
            "status = ANY('{pending,active,suspended,deleted}'::text[])
              AND tier = ANY('{enterprise}'::text[])",
            "idx_users_tier",
        ),
    ] {
        let sql = format!(
            "EXPLAIN SELECT id FROM users WHERE {filter}
              AND (NULL::timestamptz IS NULL OR (created_at, id) > (NULL::timestamptz, NULL::uuid))
            ORDER BY created_at, id LIMIT 51"
        );
        let plan = postgres_plan(&db.url, sql.leak()).await?;
        assert!(plan.contains(index), "{filter}: {plan}");
        println!("PostgreSQL list_users plan ({filter}):\n{plan}");
    }
    let expiring = postgres_plan(
        &db.url,
        "EXPLAIN SELECT user_id, provider, expires_at FROM user_oauth_tokens
        WHERE expires_at < '2030-01-01T00:00:00Z' ORDER BY expires_at, user_id, provider LIMIT 100",
    )
    .await?;
    assert!(expiring.contains("idx_oauth_tokens_expires"), "{expiring}");
    println!("PostgreSQL list_tokens_expiring_before plan:\n{expiring}");
    Ok(())
}

/// The statements of the per-endpoint usage reports, the A2A client listing and the two
/// updates, as each backend's planner runs them: the `(key or user, timestamp)` indexes, the
/// `(is_active, id)` index for a filtered listing, primary keys otherwise.
mod reports_and_updates {
    use super::*;

    /// Each statement (with SQLite's `?N` placeholders), the index its plan must name and,
    /// for PostgreSQL, the values to plan it with.
    const CASES: [(&str, &str, &str, &str); 6] = [
        (
            "get_api_key_endpoint_usage",
            "SELECT endpoint, COUNT(*), COUNT(*) FILTER (WHERE status_code >= 400),
                AVG(response_time_ms) FROM api_key_usage
             WHERE api_key_id = ?1 AND timestamp >= ?2 AND timestamp < ?3
             GROUP BY endpoint ORDER BY COUNT(*) DESC, endpoint LIMIT ?4",
            "idx_api_key_usage_api_key_id_timestamp",
            "('00000000-0000-0000-0000-000000000001', now(), now() + interval '1 day', 10)",
        ),
        (
            "get_jwt_endpoint_usage",
            "SELECT endpoint, COUNT(*), COUNT(*) FILTER (WHERE status_code >= 400),
                AVG(response_time_ms) FROM jwt_usage
             WHERE user_id = ?1 AND timestamp >= ?2 AND timestamp < ?3
             GROUP BY endpoint ORDER BY COUNT(*) DESC, endpoint LIMIT ?4",
            "idx_jwt_usage_user_id_timestamp",
            "('00000000-0000-0000-0000-000000000001', now(), now() + interval '1 day', 10)",
        ),
        (
            "list_a2a_clients (filtered)",
            "SELECT * FROM a2a_clients WHERE is_active = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
            "idx_a2a_clients_is_active_id",
            "(TRUE, '00000000-0000-0000-0000-000000000001', 10)",
        ),
        (
            "list_a2a_clients",
            "SELECT * FROM a2a_clients WHERE id > ?1 ORDER BY id LIMIT ?2",
            "a2a_clients",
            "('00000000-0000-0000-0000-000000000001', 10)",
        ),
        (
            "update_api_key",
            "UPDATE api_keys SET name = COALESCE(?2, name) WHERE id = ?1",
            "api_keys",
            "('00000000-0000-0000-0000-000000000001', 'x')",
        ),
        (
            "update_a2a_client",
            "UPDATE a2a_clients SET name = COALESCE(?2, name) WHERE id = ?1",
            "a2a_clients",
            "('00000000-0000-0000-0000-000000000001', 'x')",
        ),
    ];

    /// The primary key's index: SQLite's automatic one, PostgreSQL's `<table>_pkey`.
    fn expected_index(backend: &str, index: &str) -> String {
        match (backend, index) {
            (_, i) if i.starts_with("idx_") => i.to_owned(),
            ("sqlite", table) => format!("sqlite_autoindex_{table}_1"),
            (_, table) => format!("{table}_pkey"),
        }
    }

    #[tokio::test]
    async fn sqlite_reports_and_updates_use_indexes() -> eyre::Result<()> {
        let db = TestDb::<Sqlite>::new().await?;
        let mut conn = SqliteConnection::connect(&db.url).await?;
        for (name, sql, index, _) in CASES {
            let rows: Vec<(i64, i64, i64, String)> =
                sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
                    .fetch_all(&mut conn)
                    .await?;
            let plan = rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("\n");
            println!("SQLite {name}:\n{plan}");
            let index = expected_index("sqlite", index);
            assert!(
                plan.contains(&format!("USING INDEX {index} (")),
                "{name}: {plan}"
            );
        }
        Ok(())
    }

    #[tokio::test]
    async fn postgres_reports_and_updates_use_indexes() -> eyre::Result<()> {
        let db = TestDb::<Postgres>::new().await?;
        let mut conn = PgConnection::connect(&db.url).await?;
        // Tiny test tables would be scanned whole; ask whether an index serves the query.
        sqlx::query("SET enable_seqscan = off")
            .execute(&mut conn)
            .await?;
        for (name, sql, index, values) in CASES {
            // The same statement with PostgreSQL's placeholders, planned for `values`.
            let pg = (1..=4).fold(sql.to_owned(), |sql, n| {
                sql.replace(&format!("?{n}"), &format!("${n}"))
            });
            sqlx::query(sqlx::AssertSqlSafe(format!("PREPARE plan_me AS {pg}")))
                .execute(&mut conn)
                .await?;
            let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "EXPLAIN EXECUTE plan_me {values}"
            )))
            .fetch_all(&mut conn)
            .await?;
            sqlx::query("DEALLOCATE plan_me").execute(&mut conn).await?;
            let plan = rows.join("\n");
            println!("PostgreSQL {name}:\n{plan}");
            let index = expected_index("postgres", index);
            // The usage tables are partitioned by month: their plans name the index of each
            // partition scanned, the parent's name with the partition's suffix `_pYYYY_MM`.
            let uses = |scan: &str| {
                plan.contains(&format!("{scan} {index} "))
                    || plan.contains(&format!("{scan} {index}_p"))
            };
            assert!(
                uses("Index Scan using")
                    || uses("Index Only Scan using")
                    || uses("Bitmap Index Scan on"),
                "{name}: {plan}"
            );
        }
        Ok(())
    }
}

/// Rows for MySQL's planner: on empty tables MariaDB reads a unique lookup's "const" table
/// and plans nothing, and with no statistics it picks a foreign key's index or a join
/// buffer over the index the statement needs. So: 200 users (5% pending, 5% enterprise),
/// 400 API keys, 1000 rows of each usage table, 100 tenants with 1000 activities, 200
/// tokens expiring a day apart, 400 A2A clients (half active); then fresh statistics.
/// Ids are built from the row number (`...-8000-` users, `...-9000-` keys, `...-a000-`
/// tenants); at most 1000 rows per recursive CTE (MariaDB's `max_recursive_iterations`).
const MYSQL_SEED: [&str; 9] = [
    "INSERT INTO users (id, email, password_hash, status, tier, created_at, updated_at,
        last_active)
     WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
     SELECT CONCAT('00000000-0000-4000-8000-', LPAD(i, 12, '0')), CONCAT('u', i, '@example.com'),
        'h', IF(i % 20 = 0, 'pending', 'active'), IF(i % 20 = 1, 'enterprise', 'free'),
        NOW(6), NOW(6), NOW(6)
     FROM n",
    "INSERT INTO api_keys (id, user_id, name, key_hash, key_prefix, created_at)
     WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400)
     SELECT CONCAT('00000000-0000-4000-9000-', LPAD(i, 12, '0')),
        CONCAT('00000000-0000-4000-8000-', LPAD(1 + i % 200, 12, '0')), 'k', CONCAT('h', i),
        'pk_', NOW(6)
     FROM n",
    "INSERT INTO api_key_usage (api_key_id, `timestamp`, endpoint, method, status_code,
        response_time_ms)
     WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
     SELECT CONCAT('00000000-0000-4000-9000-', LPAD(1 + i % 400, 12, '0')),
        NOW(6) - INTERVAL i MINUTE, '/mcp', 'POST', 200, 5
     FROM n",
    "INSERT INTO jwt_usage (user_id, `timestamp`, endpoint, method, status_code,
        response_time_ms)
     WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
     SELECT CONCAT('00000000-0000-4000-8000-', LPAD(1 + i % 200, 12, '0')),
        NOW(6) - INTERVAL i MINUTE, '/jwt', 'GET', 200, 5
     FROM n",
    "INSERT INTO tenants (id, name, slug, owner_user_id, created_at, updated_at)
     WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
     SELECT CONCAT('00000000-0000-4000-a000-', LPAD(i, 12, '0')), CONCAT('t', i), CONCAT('t', i),
        CONCAT('00000000-0000-4000-8000-', LPAD(1 + i % 200, 12, '0')), NOW(6), NOW(6)
     FROM n",
    "INSERT INTO activities (id, tenant_id, user_id, name, type, distance, duration,
        start_date, created_at, updated_at)
     WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
     SELECT CONCAT('00000000-0000-4000-b000-', LPAD(i, 12, '0')),
        CONCAT('00000000-0000-4000-a000-', LPAD(1 + i % 100, 12, '0')),
        CONCAT('00000000-0000-4000-8000-', LPAD(1 + i % 200, 12, '0')), 'run', 'run', 1.0, 60,
        NOW(6) - INTERVAL i HOUR, NOW(6), NOW(6)
     FROM n",
    "INSERT INTO user_oauth_tokens (id, user_id, provider, access_token_encrypted, expires_at,
        created_at, updated_at)
     WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
     SELECT CONCAT('00000000-0000-4000-c000-', LPAD(i, 12, '0')),
        CONCAT('00000000-0000-4000-8000-', LPAD(i, 12, '0')), 'strava', X'00',
        NOW(6) + INTERVAL i DAY, NOW(6), NOW(6)
     FROM n",
    "INSERT INTO a2a_clients (id, name, api_key_hash, is_active, created_at)
     WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400)
     SELECT CONCAT('00000000-0000-4000-d000-', LPAD(i, 12, '0')), 'c', CONCAT('h', i), i % 2,
        NOW(6)
     FROM n",
    "ANALYZE TABLE users, api_keys, api_key_usage, jwt_usage, tenants, activities,
        user_oauth_tokens, a2a_clients",
];

/// A migrated MySQL database with [`MYSQL_SEED`]'s rows, and a connection to it.
async fn mysql_seeded() -> eyre::Result<(TestDb<MySql>, MySqlConnection)> {
    let db = TestDb::<MySql>::new().await?;
    let mut conn = MySqlConnection::connect(&db.url).await?;
    for statement in MYSQL_SEED {
        sqlx::query(statement).execute(&mut conn).await?;
    }
    Ok((db, conn))
}

/// MySQL's plan of `sql` (run as `EXPLAIN sql`), one `(table, key)` per row (`key` empty
/// for a scan), and the plan as text.
async fn mysql_plan(
    conn: &mut MySqlConnection,
    sql: &str,
) -> eyre::Result<(Vec<(String, String)>, String)> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN {sql}")))
        .fetch_all(&mut *conn)
        .await?;
    let mut keys = Vec::new();
    let mut text = String::new();
    for row in rows {
        let table: Option<String> = row.try_get("table")?;
        let access: Option<String> = row.try_get("type")?;
        let key: Option<String> = row.try_get("key")?;
        let extra: Option<String> = row.try_get("Extra")?;
        let (table, key) = (table.unwrap_or_default(), key.unwrap_or_default());
        text.push_str(&format!(
            "{table}: {} {key} {}\n",
            access.unwrap_or_default(),
            extra.unwrap_or_default()
        ));
        keys.push((table, key));
    }
    Ok((keys, text))
}

/// A statement's name, its text, and each `(table, index)` it must read a table through.
type PlanCase = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// The statements of MySQL's backend (values written in), each table they read and the
/// index it must be read through (`PRIMARY`: the primary key).
const MYSQL_CASES: [PlanCase; 10] = [
    (
        "get_usage_stats",
        "SELECT COUNT(*), COUNT(CASE WHEN u.status_code < 400 THEN 1 END),
            AVG(CAST(u.response_time_ms AS DOUBLE)), MIN(u.`timestamp`), MAX(u.`timestamp`)
         FROM api_key_usage u JOIN api_keys k ON k.id = u.api_key_id
         WHERE k.user_id = '00000000-0000-4000-8000-000000000001'",
        &[
            ("k", "idx_api_keys_user_id"),
            ("u", "idx_api_key_usage_api_key_id_timestamp"),
        ],
    ),
    (
        "get_user_stats",
        "SELECT COUNT(*), SUM(distance), CAST(SUM(duration) AS SIGNED), AVG(distance),
            MIN(start_date), MAX(start_date) FROM activities
         WHERE tenant_id = '00000000-0000-4000-a000-000000000001'
           AND user_id = '00000000-0000-4000-8000-000000000002' AND deleted_at IS NULL",
        &[("activities", "idx_activities_tenant_id_user_id_start_date")],
    ),
    (
        "delete_user's owned tenants",
        "SELECT slug FROM tenants WHERE owner_user_id = '00000000-0000-4000-8000-000000000001'
         ORDER BY slug",
        &[("tenants", "idx_tenants_owner_user_id")],
    ),
    (
        "list_tokens_expiring_before",
        "SELECT user_id, provider, expires_at FROM user_oauth_tokens
         WHERE expires_at < NOW(6) + INTERVAL 3 DAY
         ORDER BY expires_at, user_id, provider LIMIT 100",
        &[("user_oauth_tokens", "idx_oauth_tokens_expires")],
    ),
    (
        "get_api_key_endpoint_usage",
        "SELECT MIN(endpoint), COUNT(*), COUNT(CASE WHEN status_code >= 400 THEN 1 END),
            AVG(CAST(response_time_ms AS DOUBLE)) FROM api_key_usage
         WHERE api_key_id = '00000000-0000-4000-9000-000000000001'
           AND `timestamp` >= NOW(6) - INTERVAL 1 DAY AND `timestamp` < NOW(6)
         GROUP BY CAST(endpoint AS BINARY)
         ORDER BY COUNT(*) DESC, CAST(endpoint AS BINARY) LIMIT 10",
        &[("api_key_usage", "idx_api_key_usage_api_key_id_timestamp")],
    ),
    (
        "get_jwt_endpoint_usage",
        "SELECT MIN(endpoint), COUNT(*), COUNT(CASE WHEN status_code >= 400 THEN 1 END),
            AVG(CAST(response_time_ms AS DOUBLE)) FROM jwt_usage
         WHERE user_id = '00000000-0000-4000-8000-000000000001'
           AND `timestamp` >= NOW(6) - INTERVAL 1 DAY AND `timestamp` < NOW(6)
         GROUP BY CAST(endpoint AS BINARY)
         ORDER BY COUNT(*) DESC, CAST(endpoint AS BINARY) LIMIT 10",
        &[("jwt_usage", "idx_jwt_usage_user_id_timestamp")],
    ),
    (
        "list_a2a_clients (filtered)",
        "SELECT * FROM a2a_clients
         WHERE is_active = TRUE AND id > '00000000-0000-0000-0000-000000000001'
         ORDER BY id LIMIT 10",
        &[("a2a_clients", "idx_a2a_clients_is_active_id")],
    ),
    (
        "list_a2a_clients",
        "SELECT * FROM a2a_clients WHERE id > '00000000-0000-0000-0000-000000000001'
         ORDER BY id LIMIT 10",
        &[("a2a_clients", "PRIMARY")],
    ),
    (
        "update_api_key",
        "UPDATE api_keys SET name = COALESCE('x', name)
         WHERE id = '00000000-0000-4000-9000-000000000001'",
        &[("api_keys", "PRIMARY")],
    ),
    (
        "update_a2a_client",
        "UPDATE a2a_clients SET name = COALESCE('x', name)
         WHERE id = '00000000-0000-4000-d000-000000000001'",
        &[("a2a_clients", "PRIMARY")],
    ),
];

#[tokio::test]
async fn mysql_queries_use_the_indexes() -> eyre::Result<()> {
    let (_db, mut conn) = mysql_seeded().await?;
    for (name, sql, expected) in MYSQL_CASES {
        let (keys, plan) = mysql_plan(&mut conn, sql).await?;
        println!("MySQL {name}:\n{plan}");
        for (table, index) in expected {
            assert!(
                keys.iter().any(|(t, key)| t == table && key == index),
                "{name}: {table} through {index}:\n{plan}"
            );
        }
    }
    Ok(())
}

/// `list_users`' statement as MySQL runs it: the statuses and tiers are bound as four
/// parameters each, padded with NULLs (every value when the filter leaves them open).
fn mysql_list_users(statuses: &[&str], tiers: &[&str]) -> String {
    let list = |values: &[&str]| {
        (0..4)
            .map(|i| {
                values
                    .get(i)
                    .map_or("NULL".to_owned(), |v| format!("'{v}'"))
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "SELECT id FROM users
         WHERE status IN ({}) AND tier IN ({})
           AND (NULL IS NULL OR created_at > NULL OR (created_at = NULL AND id > NULL))
         ORDER BY created_at, id LIMIT 51",
        list(statuses),
        list(tiers)
    )
}

/// The approval queue (pending users) must be read through `idx_users_status`, a tier's
/// users through `idx_users_tier`, as on the other backends. Failed on MariaDB 10.11 with
/// an earlier `IN (SELECT ... FROM JSON_TABLE(?))` form of the statement: the planner
/// materialized both lists and scanned every user (a `JSON_TABLE` has no statistics).
#[tokio::test]
async fn mysql_admin_queries_use_the_indexes() -> eyre::Result<()> {
    let (_db, mut conn) = mysql_seeded().await?;
    for (statuses, tiers, index) in [
        (
            &["pending"][..],
            &["free", "basic", "professional", "enterprise"][..],
            "idx_users_status",
        ),
        (
            &["pending", "active", "suspended", "deleted"][..],
            &["enterprise"][..],
            "idx_users_tier",
        ),
    ] {
        let (keys, plan) = mysql_plan(&mut conn, &mysql_list_users(statuses, tiers)).await?;
        println!("MySQL list_users plan ({statuses:?}, {tiers:?}):\n{plan}");
        assert!(
            keys.iter().any(|(t, key)| t == "users" && key == index),
            "{statuses:?} {tiers:?}: users through {index}:\n{plan}"
        );
    }
    Ok(())
}
