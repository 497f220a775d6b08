//! The three migration directories describe the same schema: after `migrate()`, every
//! database's own catalog lists the same tables, columns (with nullability), primary and
//! unique keys, foreign keys (with their ON DELETE action), indexes and triggers. On
//! PostgreSQL the usage tables are partitioned by month: their partitions are not counted
//! as tables, and their unique index on `(id, timestamp)` stands for SQLite's primary key
//! `id`. On MySQL the indexes InnoDB adds for foreign keys are not counted (see
//! [`mysql_schema`]).
//!
//! Also: every JSON column refuses text that is not JSON, written with raw SQL around the
//! store. (That a timestamp reads back as written, to the microsecond, is checked through
//! the store on every backend by tests/usage.rs `usage_rows_keep_their_fields`,
//! tests/activities.rs `activities_come_newest_first_and_respect_the_limit` and
//! tests/properties.rs.)

mod common;

use std::collections::BTreeSet;

use common::{PerBackend, TestBackend, TestDb};
use pierre_store::{MySql, Postgres, Sqlite};
use sqlx::{Connection, MySqlConnection, PgConnection, SqliteConnection};

backend_tests!(every_json_column_refuses_text_that_is_not_json);

/// A schema as a set of comparable facts.
#[derive(Debug, Default, PartialEq)]
struct Schema {
    /// (table, column, nullable)
    columns: BTreeSet<(String, String, bool)>,
    /// (table, "primary" | "unique", columns joined with ',')
    keys: BTreeSet<(String, &'static str, String)>,
    /// (table, column, referenced table, referenced column, on delete)
    foreign_keys: BTreeSet<(String, String, String, String, String)>,
    /// (index name, table, columns joined with ',')
    indexes: BTreeSet<(String, String, String)>,
    /// (trigger name, table)
    triggers: BTreeSet<(String, String)>,
}

const SKIP_TABLES: [&str; 2] = ["_sqlx_migrations", "sqlite_sequence"];

/// The tables partitioned by month on PostgreSQL: their partitions are left out of its
/// catalog (they are the same table), and their key is a unique index on `(id, timestamp)`.
const PARTITIONED: [&str; 2] = ["api_key_usage", "jwt_usage"];

async fn sqlite_schema(url: &str) -> eyre::Result<Schema> {
    let mut conn = SqliteConnection::connect(url).await?;
    let mut schema = Schema::default();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    )
    .fetch_all(&mut conn)
    .await?;
    for table in tables
        .into_iter()
        .filter(|t| !SKIP_TABLES.contains(&t.as_str()))
    {
        let columns: Vec<(String, bool, i64)> =
            sqlx::query_as("SELECT name, \"notnull\", pk FROM pragma_table_info(?1)")
                .bind(&table)
                .fetch_all(&mut conn)
                .await?;
        let mut pk: Vec<(i64, String)> = Vec::new();
        for (name, not_null, pk_pos) in columns {
            if pk_pos > 0 {
                pk.push((pk_pos, name.clone()));
            }
            schema.columns.insert((table.clone(), name, !not_null));
        }
        pk.sort();
        let pk: Vec<_> = pk.into_iter().map(|(_, c)| c).collect();
        schema.keys.insert((table.clone(), "primary", pk.join(",")));

        let indexes: Vec<(String, bool, String)> =
            sqlx::query_as("SELECT name, \"unique\", origin FROM pragma_index_list(?1)")
                .bind(&table)
                .fetch_all(&mut conn)
                .await?;
        for (index, _unique, origin) in indexes {
            let cols: Vec<String> =
                sqlx::query_scalar("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")
                    .bind(&index)
                    .fetch_all(&mut conn)
                    .await?;
            match origin.as_str() {
                "u" => {
                    schema
                        .keys
                        .insert((table.clone(), "unique", cols.join(",")));
                }
                "c" => {
                    schema
                        .indexes
                        .insert((index, table.clone(), cols.join(",")));
                }
                _ => {} // "pk": covered by the primary key above
            }
        }
        let fks: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT \"from\", \"table\", \"to\", on_delete FROM pragma_foreign_key_list(?1)",
        )
        .bind(&table)
        .fetch_all(&mut conn)
        .await?;
        for (from, to_table, to, on_delete) in fks {
            schema
                .foreign_keys
                .insert((table.clone(), from, to_table, to, on_delete));
        }
    }
    let triggers: Vec<(String, String)> =
        sqlx::query_as("SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'")
            .fetch_all(&mut conn)
            .await?;
    schema.triggers.extend(triggers);
    Ok(schema)
}

async fn postgres_schema(url: &str) -> eyre::Result<Schema> {
    let mut conn = PgConnection::connect(url).await?;
    let mut schema = Schema::default();
    let columns: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT col.table_name::text, col.column_name::text, col.is_nullable::text
         FROM information_schema.columns col
         JOIN pg_class t ON t.relname = col.table_name
             AND t.relnamespace = 'public'::regnamespace
         WHERE col.table_schema = 'public' AND NOT t.relispartition",
    )
    .fetch_all(&mut conn)
    .await?;
    for (table, column, nullable) in columns {
        if !SKIP_TABLES.contains(&table.as_str()) {
            schema.columns.insert((table, column, nullable == "YES"));
        }
    }
    let keys: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT t.relname::text, c.contype::text,
                string_agg(a.attname::text, ',' ORDER BY k.n)
         FROM pg_constraint c
         JOIN pg_class t ON t.oid = c.conrelid
         CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
         WHERE c.contype IN ('p', 'u') AND t.relnamespace = 'public'::regnamespace
           AND NOT t.relispartition
         GROUP BY c.oid, t.relname, c.contype",
    )
    .fetch_all(&mut conn)
    .await?;
    for (table, kind, cols) in keys {
        if !SKIP_TABLES.contains(&table.as_str()) {
            let kind = if kind == "p" { "primary" } else { "unique" };
            schema.keys.insert((table, kind, cols));
        }
    }
    let fks: Vec<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT t.relname::text, a.attname::text, ft.relname::text, fa.attname::text,
                CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL'
                     WHEN 'd' THEN 'SET DEFAULT' WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END
         FROM pg_constraint c
         JOIN pg_class t ON t.oid = c.conrelid
         JOIN pg_class ft ON ft.oid = c.confrelid
         CROSS JOIN LATERAL unnest(c.conkey, c.confkey) AS k(attnum, fattnum)
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
         JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = k.fattnum
         WHERE c.contype = 'f' AND t.relnamespace = 'public'::regnamespace",
    )
    .fetch_all(&mut conn)
    .await?;
    schema.foreign_keys.extend(fks);
    let indexes: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT i.relname::text, t.relname::text,
                string_agg(a.attname::text, ',' ORDER BY k.n)
         FROM pg_index x
         JOIN pg_class i ON i.oid = x.indexrelid
         JOIN pg_class t ON t.oid = x.indrelid
         CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
         WHERE t.relnamespace = 'public'::regnamespace AND NOT t.relispartition
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
         GROUP BY i.relname, t.relname",
    )
    .fetch_all(&mut conn)
    .await?;
    for (index, table, cols) in indexes {
        // The one deliberate difference: PostgreSQL's usage tables are partitioned by month
        // (migration 20261203000001) and their primary key on `id` is a unique index on
        // `(id, timestamp)` (a partitioned table's unique index must include the partition
        // key). Ids still come from one identity.
        if PARTITIONED.contains(&table.as_str()) && index == format!("{table}_id_timestamp_key") {
            assert_eq!(cols, "id,timestamp", "{table}'s key");
            schema.keys.insert((table, "primary", "id".to_owned()));
        } else if !SKIP_TABLES.contains(&table.as_str()) {
            schema.indexes.insert((index, table, cols));
        }
    }
    // TRUNCATE triggers (tgtype bit 32) have no SQLite counterpart (SQLite has no
    // TRUNCATE; its DELETE fires the delete triggers): PostgreSQL-only by nature.
    let triggers: Vec<(String, String)> = sqlx::query_as(
        "SELECT t.tgname::text, c.relname::text FROM pg_trigger t
         JOIN pg_class c ON c.oid = t.tgrelid
         WHERE NOT t.tgisinternal AND c.relnamespace = 'public'::regnamespace
           AND NOT c.relispartition AND (t.tgtype & 32) = 0",
    )
    .fetch_all(&mut conn)
    .await?;
    schema.triggers.extend(triggers);
    Ok(schema)
}

/// MySQL's catalog, from `information_schema` of the test database. InnoDB gives every
/// foreign key without an index of its own (one whose first columns are the key's) an
/// index named after the constraint (`users_approved_by_fkey`, `activities_user_id_fkey`):
/// the other backends have no such index, so these are left out. MySQL has no TRUNCATE
/// triggers (as SQLite): every trigger counts.
async fn mysql_schema(url: &str) -> eyre::Result<Schema> {
    let mut conn = MySqlConnection::connect(url).await?;
    let mut schema = Schema::default();
    let columns: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_name, column_name, is_nullable FROM information_schema.COLUMNS
         WHERE table_schema = DATABASE()",
    )
    .fetch_all(&mut conn)
    .await?;
    for (table, column, nullable) in columns {
        if !SKIP_TABLES.contains(&table.as_str()) {
            schema.columns.insert((table, column, nullable == "YES"));
        }
    }
    let keys: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT c.table_name, c.constraint_type,
                GROUP_CONCAT(k.column_name ORDER BY k.ordinal_position SEPARATOR ',')
         FROM information_schema.TABLE_CONSTRAINTS c
         JOIN information_schema.KEY_COLUMN_USAGE k
           ON k.constraint_schema = c.constraint_schema
          AND k.table_name = c.table_name AND k.constraint_name = c.constraint_name
         WHERE c.constraint_schema = DATABASE()
           AND c.constraint_type IN ('PRIMARY KEY', 'UNIQUE')
         GROUP BY c.table_name, c.constraint_name, c.constraint_type",
    )
    .fetch_all(&mut conn)
    .await?;
    for (table, kind, cols) in keys {
        if !SKIP_TABLES.contains(&table.as_str()) {
            let kind = if kind == "PRIMARY KEY" {
                "primary"
            } else {
                "unique"
            };
            schema.keys.insert((table, kind, cols));
        }
    }
    let fks: Vec<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT k.table_name, k.column_name, k.referenced_table_name,
                k.referenced_column_name, r.delete_rule
         FROM information_schema.KEY_COLUMN_USAGE k
         JOIN information_schema.REFERENTIAL_CONSTRAINTS r
           ON r.constraint_schema = k.constraint_schema
          AND r.table_name = k.table_name AND r.constraint_name = k.constraint_name
         WHERE k.constraint_schema = DATABASE()",
    )
    .fetch_all(&mut conn)
    .await?;
    schema.foreign_keys.extend(fks);
    // Every index that is not a key's (PRIMARY, UNIQUE) or a foreign key's own.
    let indexes: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT s.index_name, s.table_name,
                GROUP_CONCAT(s.column_name ORDER BY s.seq_in_index SEPARATOR ',')
         FROM information_schema.STATISTICS s
         WHERE s.table_schema = DATABASE()
           AND NOT EXISTS (SELECT 1 FROM information_schema.TABLE_CONSTRAINTS c
                           WHERE c.constraint_schema = s.table_schema
                             AND c.table_name = s.table_name
                             AND c.constraint_name = s.index_name)
         GROUP BY s.table_name, s.index_name",
    )
    .fetch_all(&mut conn)
    .await?;
    for (index, table, cols) in indexes {
        if !SKIP_TABLES.contains(&table.as_str()) {
            schema.indexes.insert((index, table, cols));
        }
    }
    let triggers: Vec<(String, String)> = sqlx::query_as(
        "SELECT trigger_name, event_object_table FROM information_schema.TRIGGERS
         WHERE trigger_schema = DATABASE()",
    )
    .fetch_all(&mut conn)
    .await?;
    schema.triggers.extend(triggers);
    Ok(schema)
}

#[tokio::test]
async fn every_backend_has_the_same_schema() -> eyre::Result<()> {
    let sqlite = TestDb::<Sqlite>::new().await?;
    let postgres = TestDb::<Postgres>::new().await?;
    let mysql = TestDb::<MySql>::new().await?;
    let left = sqlite_schema(&sqlite.url).await?;

    assert!(left.columns.len() > 50, "the catalogs were read: {left:?}");
    assert!(
        left.foreign_keys.len() >= 7 && left.indexes.len() >= 5,
        "{left:?}"
    );
    assert!(left.triggers.len() >= 2, "{left:?}");
    for (name, right) in [
        ("PostgreSQL", postgres_schema(&postgres.url).await?),
        ("MySQL", mysql_schema(&mysql.url).await?),
    ] {
        let sides = ("SQLite", name);
        assert_same(
            "columns and nullability",
            sides,
            &left.columns,
            &right.columns,
        );
        assert_same("primary and unique keys", sides, &left.keys, &right.keys);
        assert_same(
            "foreign keys",
            sides,
            &left.foreign_keys,
            &right.foreign_keys,
        );
        assert_same("indexes", sides, &left.indexes, &right.indexes);
        assert_same("triggers", sides, &left.triggers, &right.triggers);
    }
    Ok(())
}

/// Fails listing only what differs between the catalogs of the backends named `sides`.
fn assert_same<T: Ord + std::fmt::Debug>(
    what: &str,
    (left_name, right_name): (&str, &str),
    left: &BTreeSet<T>,
    right: &BTreeSet<T>,
) {
    let only_left: Vec<_> = left.difference(right).collect();
    let only_right: Vec<_> = right.difference(left).collect();
    assert!(
        only_left.is_empty() && only_right.is_empty(),
        "{what} differ\n  only in {left_name}: {only_left:?}\n  only in {right_name}: {only_right:?}"
    );
}

/// The JSON columns, each with a value of the JSON type the store writes there.
const JSON_COLUMNS: [(&str, &str, &str); 4] = [
    ("api_keys", "scopes", "[]"),
    ("api_keys", "metadata", "{}"),
    ("a2a_clients", "capabilities", "[]"),
    ("a2a_clients", "metadata", "{}"),
];

/// Text that is not JSON, written into each JSON column with raw SQL (around the store's
/// checks), is refused: by the `jsonb` type on PostgreSQL, by a `json_valid` check on
/// SQLite and MySQL (on MariaDB `JSON` is `LONGTEXT` with that check). The same row with
/// valid JSON is accepted, so the refusal is the JSON's.
async fn every_json_column_refuses_text_that_is_not_json<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let url = db.admin_url();
    // A timestamp literal of each backend's timestamp columns.
    let at = B::of(PerBackend {
        sqlite: "1767225600000000",
        postgres: "'2026-01-01T00:00:00Z'",
        mysql: "'2026-01-01 00:00:00'",
    });
    let user = "00000000-0000-4000-8000-000000000001";
    let insert_user = format!(
        "INSERT INTO users (id, email, password_hash, created_at, updated_at, last_active)
         VALUES ('{user}', 'json@example.com', 'hash', {at}, {at}, {at})"
    );
    B::raw_execute(&url, Box::leak(insert_user.into_boxed_str())).await?;
    for (n, (table, column, valid)) in JSON_COLUMNS.into_iter().enumerate() {
        for (value, accepted) in [("not json", false), ("{\"a\": ", false), (valid, true)] {
            let insert = match table {
                "api_keys" => format!(
                    "INSERT INTO api_keys (id, user_id, name, key_hash, key_prefix, created_at,
                        {column})
                     VALUES ('00000000-0000-4000-8000-00000000010{n}', '{user}', 'k',
                        'hash-{n}', 'pk_', {at}, '{value}')"
                ),
                _ => format!(
                    "INSERT INTO a2a_clients (id, name, api_key_hash, created_at, {column})
                     VALUES ('00000000-0000-4000-8000-00000000020{n}', 'c', 'hash-{n}', {at},
                        '{value}')"
                ),
            };
            let result = B::raw_execute(&url, Box::leak(insert.into_boxed_str())).await;
            assert_eq!(
                result.is_ok(),
                accepted,
                "{table}.{column} = {value:?}: {result:?}"
            );
        }
    }
    Ok(())
}
