//! Usage tables partitioned by month on PostgreSQL (migration 20261203000001): the upgrade
//! keeps every row and id, partitions exist ahead of time and are created on demand for a
//! row of any month (never parked in a catch-all), and pruning drops whole months. On
//! SQLite, where the tables are not partitioned, the same calls behave as before.

mod common;

use std::{future::Future, pin::Pin};

use common::{
    PerBackend, TestBackend, TestDb, postgres_server_url, usage_partitions, with_database,
};
use pierre_store::{
    ApiKey, ApiKeyId, ApiKeyUsage, EncryptionKey, JwtUsage, Store, USAGE_PARTITION_MONTHS_AHEAD,
    UsageRecorderConfig, User, UserId,
};
use sqlx::{AssertSqlSafe, Connection, MySqlConnection, PgConnection, SqliteConnection};
use time::{Duration, OffsetDateTime, macros::datetime};

backend_tests!(
    upgrading_to_partitions_keeps_rows_ids_and_deletion_cascade,
    partitions_exist_ahead_after_migrate_and_maintain,
    a_row_years_away_gets_its_partition_on_demand,
    the_recorder_batch_gets_its_partitions_on_demand,
    concurrent_inserts_of_a_new_month_create_its_partition_once,
    pruning_drops_whole_partitions_and_deletes_only_in_the_boundary_one,
    pruning_at_a_month_boundary_only_drops_partitions,
);

/// The version before the partitioned usage tables.
const BEFORE_PARTITIONS: i64 = 20_261_202_000_004;

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = eyre::Result<T>> + Send + 'a>>;

/// The ids of `table`, in order, read with raw SQL.
async fn ids<B: TestBackend>(url: &str, table: &str) -> eyre::Result<Vec<i64>> {
    let sql = format!("SELECT id FROM {table} ORDER BY id");
    let sqlite: BoxFuture<'_, Vec<i64>> = Box::pin(async {
        let mut conn = SqliteConnection::connect(url).await?;
        Ok(sqlx::query_scalar(AssertSqlSafe(sql.clone()))
            .fetch_all(&mut conn)
            .await?)
    });
    let postgres: BoxFuture<'_, Vec<i64>> = Box::pin(async {
        let mut conn = PgConnection::connect(url).await?;
        Ok(sqlx::query_scalar(AssertSqlSafe(sql.clone()))
            .fetch_all(&mut conn)
            .await?)
    });
    let mysql: BoxFuture<'_, Vec<i64>> = Box::pin(async {
        let mut conn = MySqlConnection::connect(url).await?;
        Ok(sqlx::query_scalar(AssertSqlSafe(sql.clone()))
            .fetch_all(&mut conn)
            .await?)
    });
    B::of(PerBackend {
        sqlite,
        postgres,
        mysql,
    })
    .await
}

/// `table_pYYYY_MM` for `at`'s month.
fn partition_of(table: &str, at: OffsetDateTime) -> String {
    format!("{table}_p{:04}_{:02}", at.year(), u8::from(at.month()))
}

/// Asserts, on PostgreSQL, that both usage tables have the partition of each month of
/// `instants`.
async fn assert_partitions<B: TestBackend>(
    url: &str,
    instants: &[OffsetDateTime],
) -> eyre::Result<()> {
    for table in ["api_key_usage", "jwt_usage"] {
        if let Some(names) = usage_partitions::<B>(url, table).await? {
            for at in instants {
                let name = partition_of(table, *at);
                assert!(names.contains(&name), "{name} missing from {names:?}");
            }
        }
    }
    Ok(())
}

/// A user with one API key.
async fn user_and_key<B: TestBackend>(
    store: &Store<B>,
    email: &str,
) -> eyre::Result<(UserId, ApiKeyId)> {
    let user = store.create_user(&User::new(email, "hash")).await?;
    let key = store
        .create_api_key(&ApiKey::new(user, "k", &format!("hash-{email}"), "pk_"))
        .await?;
    Ok((user, key))
}

fn api_at(key: ApiKeyId, at: OffsetDateTime, endpoint: &str) -> ApiKeyUsage {
    ApiKeyUsage {
        timestamp: at,
        ..ApiKeyUsage::new(key, endpoint, "GET", 200)
    }
}

fn jwt_at(user: UserId, at: OffsetDateTime, endpoint: &str) -> JwtUsage {
    JwtUsage {
        timestamp: at,
        ..JwtUsage::new(user, endpoint, "GET", 200)
    }
}

/// Usage written before the migration, as the ordinary owning role (on PostgreSQL), across
/// months and at a month's last microsecond: after it every row is there with its id, a new
/// row's id carries on past the old sequence (not past the highest surviving id), deleting
/// a user or key still deletes its usage, and the tables are partitioned with no DEFAULT
/// partition.
async fn upgrading_to_partitions_keeps_rows_ids_and_deletion_cascade<B: TestBackend>()
-> eyre::Result<()> {
    let (url, _cleanup) = B::fresh_database_as_app_role().await?;
    let store = Store::<B>::new(&url, EncryptionKey::generate()).await?;
    store.migrate_to(BEFORE_PARTITIONS).await?;
    let (stays, stays_key) = user_and_key(&store, "stays@example.com").await?;
    let (goes, goes_key) = user_and_key(&store, "goes@example.com").await?;
    let instants = [
        datetime!(2023-12-31 23:59:59.999999 UTC),
        datetime!(2024-01-01 00:00 UTC),
        datetime!(2025-07-15 12:00 UTC),
        OffsetDateTime::now_utc(),
    ];
    for at in instants {
        for (user, key) in [(stays, stays_key), (goes, goes_key)] {
            store.record_api_usage(&api_at(key, at, "/mcp")).await?;
            store.record_jwt_usage(&jwt_at(user, at, "/jwt")).await?;
        }
    }
    // The newest row goes: the identity stands past the highest surviving id.
    B::raw_execute(
        &url,
        "DELETE FROM api_key_usage WHERE id = (SELECT MAX(id) FROM api_key_usage)",
    )
    .await?;
    let api_ids = ids::<B>(&url, "api_key_usage").await?;
    let jwt_ids = ids::<B>(&url, "jwt_usage").await?;
    let stats = store.get_usage_stats(stays).await?;
    assert_eq!((api_ids.len(), jwt_ids.len()), (7, 8));

    store.migrate().await?;
    assert!(store.schema_version().await? > Some(BEFORE_PARTITIONS));
    assert_eq!(ids::<B>(&url, "api_key_usage").await?, api_ids);
    assert_eq!(ids::<B>(&url, "jwt_usage").await?, jwt_ids);
    assert_eq!(store.get_usage_stats(stays).await?, stats);
    assert_partitions::<B>(&url, &instants).await?;
    if usage_partitions::<B>(&url, "api_key_usage")
        .await?
        .is_some()
    {
        let mut conn = PgConnection::connect(&url).await?;
        let partitioned: Vec<(String, bool)> = sqlx::query_as(
            "SELECT c.relname::text, p.partdefid <> 0 FROM pg_partitioned_table p
             JOIN pg_class c ON c.oid = p.partrelid ORDER BY 1",
        )
        .fetch_all(&mut conn)
        .await?;
        assert_eq!(
            partitioned,
            [
                ("api_key_usage".to_owned(), false),
                ("jwt_usage".to_owned(), false)
            ],
            "both tables partitioned, neither with a DEFAULT partition"
        );
    }

    // A new row's id comes after the deleted one's.
    store
        .record_api_usage(&ApiKeyUsage::new(stays_key, "/new", "GET", 200))
        .await?;
    let after = ids::<B>(&url, "api_key_usage").await?;
    assert_eq!(after.len(), 8);
    assert_eq!(
        after.last(),
        Some(&(api_ids.last().unwrap() + 2)),
        "{after:?}"
    );

    // The deletion triggers still reach every partition.
    assert!(store.delete_user(goes).await?);
    assert_eq!(B::raw_count(&url, "api_key_usage").await?, 5);
    assert_eq!(B::raw_count(&url, "jwt_usage").await?, 4);
    Ok(())
}

/// `migrate` leaves this month and the months ahead partitioned; `create_usage_partitions`
/// (the `maintain` command) adds further months, is idempotent, and refuses an absurd
/// horizon. As the ordinary role.
async fn partitions_exist_ahead_after_migrate_and_maintain<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new_as_app_role().await?;
    let now = OffsetDateTime::now_utc().replace_day(1)?;
    let month = |n: u8| {
        (0..n).fold(now, |at, _| {
            let next = at.month().next();
            let year = if next == time::Month::January {
                at.year() + 1
            } else {
                at.year()
            };
            at.replace_year(year)
                .and_then(|at| at.replace_month(next))
                .expect("a date")
        })
    };
    let ahead: Vec<_> = (0..=3).map(month).collect();
    assert_eq!(USAGE_PARTITION_MONTHS_AHEAD, 3);
    assert_partitions::<B>(&db.url, &ahead).await?;
    assert_eq!(
        db.store.create_usage_partitions(3).await?,
        0,
        "nothing missing"
    );

    let created = db.store.create_usage_partitions(6).await?;
    let expected = B::of(PerBackend {
        sqlite: 0,
        postgres: 6,
        mysql: 0,
    });
    assert_eq!(created, expected, "three more months, two tables");
    let further: Vec<_> = (0..=6).map(month).collect();
    assert_partitions::<B>(&db.url, &further).await?;
    assert_eq!(db.store.create_usage_partitions(6).await?, 0);
    assert!(matches!(
        db.store.create_usage_partitions(121).await,
        Err(pierre_store::Error::InvalidInput {
            field: "months_ahead",
            ..
        })
    ));
    Ok(())
}

/// A row two years ahead or behind (no partition made ahead covers it) is written, not
/// refused or parked: its month's partition is created on the spot. As the ordinary role.
async fn a_row_years_away_gets_its_partition_on_demand<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new_as_app_role().await?;
    let (user, key) = user_and_key(&db.store, "far@example.com").await?;
    let now = OffsetDateTime::now_utc();
    let far = [now + Duration::days(2 * 366), now - Duration::days(2 * 366)];
    if let Some(names) = usage_partitions::<B>(&db.url, "api_key_usage").await? {
        for at in far {
            assert!(
                !names.contains(&partition_of("api_key_usage", at)),
                "{names:?}"
            );
        }
    }
    for at in far {
        db.store.record_api_usage(&api_at(key, at, "/far")).await?;
        db.store.record_jwt_usage(&jwt_at(user, at, "/far")).await?;
    }
    assert_partitions::<B>(&db.url, &far).await?;
    let stats = db.store.get_usage_stats(user).await?;
    assert_eq!(stats.total_requests, 2);
    assert_eq!(stats.first_request, Some(pierre_store_micros(far[1])));
    assert_eq!(stats.last_request, Some(pierre_store_micros(far[0])));
    let window = (far[1] - Duration::days(1), far[0] + Duration::days(1));
    let jwt = db
        .store
        .get_jwt_endpoint_usage(user, window.0, window.1, None)
        .await?;
    assert_eq!(jwt.len(), 1);
    assert_eq!(jwt[0].requests, 2);
    Ok(())
}

/// `at` as the store keeps it: whole microseconds.
fn pierre_store_micros(at: OffsetDateTime) -> OffsetDateTime {
    at - Duration::nanoseconds(i64::from(at.nanosecond() % 1_000))
}

/// A recorder batch mixing this month with months three years away on both tables: the
/// batch is refused for the missing months, they are created, and every row is written
/// (none counted failed). As the ordinary role.
async fn the_recorder_batch_gets_its_partitions_on_demand<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new_as_app_role().await?;
    let (user, key) = user_and_key(&db.store, "batch@example.com").await?;
    let now = OffsetDateTime::now_utc();
    let far = [now + Duration::days(3 * 366), now - Duration::days(3 * 366)];
    let recorder = db.store.usage_recorder(UsageRecorderConfig {
        max_batch: 100,
        flush_interval: std::time::Duration::from_secs(5),
        retries: 0,
        ..UsageRecorderConfig::default()
    })?;
    for n in 0..30 {
        let at = [now, far[0], far[1]][n % 3];
        recorder.record_api(&api_at(key, at, "/batch")).await?;
        recorder.record_jwt(&jwt_at(user, at, "/batch")).await?;
    }
    let stats = recorder.shutdown().await;
    assert_eq!((stats.written, stats.failed), (60, 0), "{stats:?}");
    assert_eq!(stats.batches, 1, "one batch, written whole: {stats:?}");
    assert_partitions::<B>(&db.url, &far).await?;
    assert_eq!(B::raw_count(&db.url, "api_key_usage").await?, 30);
    assert_eq!(B::raw_count(&db.url, "jwt_usage").await?, 30);
    Ok(())
}

/// Sixteen writers meeting the same missing month at once: each creates it or finds it
/// created, and every row is written.
async fn concurrent_inserts_of_a_new_month_create_its_partition_once<B: TestBackend>()
-> eyre::Result<()> {
    let db = TestDb::<B>::new_as_app_role().await?;
    let (_, key) = user_and_key(&db.store, "race@example.com").await?;
    let at = datetime!(2031-05-17 08:00 UTC);
    let writers: Vec<_> = (0..16)
        .map(|_| {
            let store = db.store.clone();
            tokio::spawn(async move { store.record_api_usage(&api_at(key, at, "/race")).await })
        })
        .collect();
    for writer in writers {
        writer.await??;
    }
    assert_eq!(B::raw_count(&db.url, "api_key_usage").await?, 16);
    if let Some(names) = usage_partitions::<B>(&db.url, "api_key_usage").await? {
        let count = names
            .iter()
            .filter(|n| n.as_str() == "api_key_usage_p2031_05")
            .count();
        assert_eq!(count, 1, "{names:?}");
    }
    Ok(())
}

/// Writes usage in 2019 (January to April) for one key and one user; returns them.
async fn seed_2019<B: TestBackend>(store: &Store<B>) -> eyre::Result<(UserId, ApiKeyId)> {
    let (user, key) = user_and_key(store, "old@example.com").await?;
    for at in [
        datetime!(2019-01-10 10:00 UTC),
        datetime!(2019-01-31 23:59:59.999999 UTC),
        datetime!(2019-02-01 00:00 UTC),
        datetime!(2019-02-20 10:00 UTC),
        datetime!(2019-02-21 10:00 UTC),
        datetime!(2019-03-01 00:00 UTC),
        datetime!(2019-03-14 23:59:59.999999 UTC),
        datetime!(2019-03-15 00:00 UTC),
        datetime!(2019-03-20 10:00 UTC),
        datetime!(2019-04-02 10:00 UTC),
    ] {
        store.record_api_usage(&api_at(key, at, "/old")).await?;
    }
    for at in [
        datetime!(2019-01-05 10:00 UTC),
        datetime!(2019-03-10 10:00 UTC),
        datetime!(2019-03-25 10:00 UTC),
    ] {
        store.record_jwt_usage(&jwt_at(user, at, "/old")).await?;
    }
    Ok((user, key))
}

/// Pruning at 2019-03-15: January's and February's partitions are dropped whole (their
/// rows counted before any batch runs), March's keeps its rows from the cutoff on and
/// loses only those before it, by DELETE; the report counts both. SQLite deletes the
/// same rows.
async fn pruning_drops_whole_partitions_and_deletes_only_in_the_boundary_one<B: TestBackend>()
-> eyre::Result<()> {
    let db = TestDb::<B>::new_as_app_role().await?;
    let (user, _) = seed_2019(&db.store).await?;
    let mut reports = Vec::new();
    let report = db
        .store
        .prune_usage(datetime!(2019-03-15 00:00 UTC), 1, |r| reports.push(*r))
        .await?;
    assert_eq!((report.api_key_usage, report.jwt_usage), (7, 2));
    let dropped = (reports[0].api_key_usage, reports[0].jwt_usage);
    assert_eq!(
        dropped,
        B::of(PerBackend {
            sqlite: (0, 0),
            postgres: (5, 1),
            mysql: (0, 0),
        }),
        "rows of whole partitions, before any DELETE: {reports:?}"
    );
    if let Some(names) = usage_partitions::<B>(&db.url, "api_key_usage").await? {
        assert!(
            !names
                .iter()
                .any(|n| n.ends_with("2019_01") || n.ends_with("2019_02")),
            "{names:?}"
        );
        assert!(
            names.contains(&"api_key_usage_p2019_03".to_owned()),
            "{names:?}"
        );
        assert!(
            names.contains(&"api_key_usage_p2019_04".to_owned()),
            "{names:?}"
        );
    }
    let stats = db.store.get_usage_stats(user).await?;
    assert_eq!(stats.total_requests, 3);
    assert_eq!(stats.first_request, Some(datetime!(2019-03-15 00:00 UTC)));
    assert_eq!(B::raw_count(&db.url, "jwt_usage").await?, 1);
    // Again: nothing left to prune.
    let again = db
        .store
        .prune_usage(datetime!(2019-03-15 00:00 UTC), 1, |_| {})
        .await?;
    assert_eq!((again.api_key_usage, again.jwt_usage), (0, 0));
    Ok(())
}

/// Pruning at 00:00 UTC on the 1st of April: on PostgreSQL every month before it goes as a
/// whole partition and no row is left for a DELETE; the counts are those of the rows.
async fn pruning_at_a_month_boundary_only_drops_partitions<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new_as_app_role().await?;
    let (user, _) = seed_2019(&db.store).await?;
    let mut reports = Vec::new();
    let report = db
        .store
        .prune_usage(datetime!(2019-04-01 00:00 UTC), 1000, |r| reports.push(*r))
        .await?;
    assert_eq!((report.api_key_usage, report.jwt_usage), (9, 3));
    let first = (reports[0].api_key_usage, reports[0].jwt_usage);
    assert_eq!(
        first,
        B::of(PerBackend {
            sqlite: (0, 0),
            postgres: (9, 3),
            mysql: (0, 0),
        }),
        "{reports:?}"
    );
    if let Some(names) = usage_partitions::<B>(&db.url, "jwt_usage").await? {
        assert!(
            !names
                .iter()
                .any(|n| n.contains("_p2019_0") && !n.ends_with("2019_04")),
            "{names:?}"
        );
    }
    assert_eq!(db.store.get_usage_stats(user).await?.total_requests, 1);
    Ok(())
}

/// A role that may write usage but does not own the tables (migrated by another role)
/// cannot add a partition: a row of a month without one fails loudly with the server's
/// reason (`Error::Database`, SQLSTATE 42501), and rows of existing months still go in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_partition_creation_by_a_non_owner_fails_loudly() -> eyre::Result<()> {
    let db = TestDb::<pierre_store::Postgres>::new().await?;
    let (_, key) = user_and_key(&db.store, "writer@example.com").await?;
    let role = format!("pierre_writer_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&db.url).await?;
    for statement in [
        format!("CREATE ROLE {role} LOGIN PASSWORD 'app-password' NOSUPERUSER NOBYPASSRLS"),
        format!("GRANT SELECT, INSERT ON api_key_usage TO {role}"),
        format!("GRANT SELECT, UPDATE ON api_keys TO {role}"),
        format!("GRANT USAGE ON SEQUENCE api_key_usage_id_seq TO {role}"),
    ] {
        sqlx::query(AssertSqlSafe(statement))
            .execute(&mut admin)
            .await?;
    }
    let name = db.url.rsplit('/').next().unwrap_or_default().to_owned();
    let url = with_database(&postgres_server_url(), &name, Some(&role));
    let writer = Store::<pierre_store::Postgres>::new(&url, db.key.clone()).await?;
    let result = async {
        writer
            .record_api_usage(&ApiKeyUsage::new(key, "/now", "GET", 200))
            .await?;
        let far = writer
            .record_api_usage(&api_at(key, datetime!(2035-06-01 12:00 UTC), "/far"))
            .await;
        eyre::Ok(far)
    }
    .await;
    writer.close().await;
    drop(admin);
    drop(db);
    let mut server = PgConnection::connect(&postgres_server_url()).await?;
    sqlx::query(AssertSqlSafe(format!("DROP ROLE IF EXISTS {role}")))
        .execute(&mut server)
        .await?;
    match result? {
        // 42501, insufficient_privilege: here "permission denied for schema public" (no
        // CREATE on the schema); with it, "must be owner of table api_key_usage".
        Err(pierre_store::Error::Database(sqlx::Error::Database(error))) => {
            assert_eq!(error.code().as_deref(), Some("42501"), "{error}");
        }
        other => panic!("expected a database error, got {other:?}"),
    }
    Ok(())
}

/// Privileges an operator granted on the old usage tables and their identity sequences (a
/// reader, a writer through PUBLIC) hold on the partitioned tables after the upgrade.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_partition_upgrade_keeps_grants() -> eyre::Result<()> {
    let (url, cleanup) = <pierre_store::Postgres as TestBackend>::fresh_database().await?;
    let store = Store::<pierre_store::Postgres>::new(&url, EncryptionKey::generate()).await?;
    store.migrate_to(BEFORE_PARTITIONS).await?;
    let role = format!("pierre_reader_{}", uuid::Uuid::new_v4().simple());
    let mut conn = PgConnection::connect(&url).await?;
    for statement in [
        format!("CREATE ROLE {role} NOLOGIN"),
        format!("GRANT SELECT ON api_key_usage TO {role} WITH GRANT OPTION"),
        format!("GRANT USAGE ON SEQUENCE api_key_usage_id_seq TO {role}"),
        "GRANT SELECT, INSERT ON jwt_usage TO PUBLIC".to_owned(),
    ] {
        sqlx::query(AssertSqlSafe(statement))
            .execute(&mut conn)
            .await?;
    }
    let result = async {
        store.migrate().await?;
        let check = format!(
            "SELECT has_table_privilege('{role}', 'api_key_usage', 'SELECT WITH GRANT OPTION'),
                NOT has_table_privilege('{role}', 'api_key_usage', 'INSERT'),
                has_sequence_privilege('{role}', pg_get_serial_sequence('api_key_usage', 'id'),
                    'USAGE'),
                has_table_privilege('{role}', 'jwt_usage', 'INSERT'),
                (SELECT relkind = 'p' FROM pg_class WHERE oid = 'api_key_usage'::regclass)"
        );
        let kept: (bool, bool, bool, bool, bool) = sqlx::query_as(AssertSqlSafe(check))
            .fetch_one(&mut conn)
            .await?;
        eyre::Ok(kept)
    }
    .await;
    store.close().await;
    drop(conn);
    drop(cleanup);
    let mut server = PgConnection::connect(&postgres_server_url()).await?;
    sqlx::query(AssertSqlSafe(format!("DROP ROLE IF EXISTS {role}")))
        .execute(&mut server)
        .await?;
    assert_eq!(result?, (true, true, true, true, true));
    Ok(())
}

/// Runs `statements` on `url`'s database with raw SQL.
async fn raw_statements(url: &str, statements: &[String]) -> eyre::Result<()> {
    let mut conn = PgConnection::connect(url).await?;
    for statement in statements {
        sqlx::query(AssertSqlSafe(statement.clone()))
            .execute(&mut conn)
            .await?;
    }
    Ok(())
}

/// A login role granted `grants` (each `{role}`-templated) on `db`'s database, and a store
/// opened as it; the role is dropped by [`drop_role`].
async fn store_as_non_owner(
    db: &TestDb<pierre_store::Postgres>,
    prefix: &str,
    grants: &[&str],
) -> eyre::Result<(Store<pierre_store::Postgres>, String)> {
    let role = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    let mut statements = vec![format!(
        "CREATE ROLE {role} LOGIN PASSWORD 'app-password' NOSUPERUSER NOBYPASSRLS"
    )];
    statements.extend(grants.iter().map(|g| g.replace("{role}", &role)));
    raw_statements(&db.url, &statements).await?;
    let name = db.url.rsplit('/').next().unwrap_or_default().to_owned();
    let url = with_database(&postgres_server_url(), &name, Some(&role));
    let store = Store::<pierre_store::Postgres>::new(&url, db.key.clone()).await?;
    Ok((store, role))
}

/// Drops a role made by [`store_as_non_owner`] (its database dropped first).
async fn drop_role(role: &str) -> eyre::Result<()> {
    raw_statements(
        &postgres_server_url(),
        &[format!("DROP ROLE IF EXISTS {role}")],
    )
    .await
}

/// A maintenance role that may delete usage but does not own the tables prunes by DELETE:
/// it may not drop partitions (42501), and the prune still removes every row before the
/// cutoff instead of failing. Failed before the fix with `database error: error returned
/// from database: permission denied for table api_key_usage_p2019_01`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_partition_prune_by_a_non_owner_deletes_instead() -> eyre::Result<()> {
    let db = TestDb::<pierre_store::Postgres>::new().await?;
    let (user, _) = seed_2019(&db.store).await?;
    let (pruner, role) = store_as_non_owner(
        &db,
        "pierre_pruner",
        &["GRANT SELECT, DELETE ON api_key_usage, jwt_usage TO {role}"],
    )
    .await?;
    let result = pruner
        .prune_usage(datetime!(2019-03-15 00:00 UTC), 2, |_| {})
        .await;
    pruner.close().await;
    let partitions = usage_partitions::<pierre_store::Postgres>(&db.url, "api_key_usage").await?;
    let stats = db.store.get_usage_stats(user).await?;
    drop(db);
    drop_role(&role).await?;
    let report = result?;
    assert_eq!((report.api_key_usage, report.jwt_usage), (7, 2));
    assert_eq!(
        stats.total_requests, 3,
        "only the rows from the cutoff on remain"
    );
    assert!(
        partitions.is_some_and(|p| p.contains(&"api_key_usage_p2019_01".to_owned())),
        "the non-owner dropped nothing"
    );
    Ok(())
}

/// A role that does not own the usage tables (the owner migrated them) may call
/// `Store::migrate` at start-up in a month whose partitions exist although a month ahead
/// is missing: it logs a warning instead of failing. Failed before the fix with
/// `database error: error returned from database: must be owner of table api_key_usage`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_partition_migrate_by_a_non_owner_succeeds_when_this_month_exists()
-> eyre::Result<()> {
    let db = TestDb::<pierre_store::Postgres>::new().await?;
    let last = OffsetDateTime::now_utc()
        .date()
        .replace_day(1)?
        .midnight()
        .assume_utc();
    let mut ahead = last;
    for _ in 0..USAGE_PARTITION_MONTHS_AHEAD {
        ahead = (ahead.date() + Duration::days(31))
            .replace_day(1)?
            .midnight()
            .assume_utc();
    }
    raw_statements(
        &db.url,
        &[
            format!("DROP TABLE {}", partition_of("api_key_usage", ahead)),
            format!("DROP TABLE {}", partition_of("jwt_usage", ahead)),
        ],
    )
    .await?;
    let (starter, role) = store_as_non_owner(
        &db,
        "pierre_starter",
        // CREATE on the schema: sqlx's migrator runs CREATE TABLE IF NOT EXISTS
        // _sqlx_migrations, which needs it even when the table exists.
        &[
            "GRANT SELECT ON _sqlx_migrations TO {role}",
            "GRANT CREATE ON SCHEMA public TO {role}",
        ],
    )
    .await?;
    let result = starter.migrate().await;
    starter.close().await;
    drop(db);
    drop_role(&role).await?;
    result?;
    Ok(())
}

/// A partition created (by `maintain`, or on demand) while a transaction reads the usage
/// tables neither waits for that reader nor holds up inserts into an existing month.
/// Failed before the fix (CREATE TABLE ... PARTITION OF, ACCESS EXCLUSIVE) with
/// `an insert into this month waited behind the partition creation`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_partition_creation_does_not_hold_up_inserts_behind_a_reader() -> eyre::Result<()>
{
    let db = TestDb::<pierre_store::Postgres>::new_as_app_role().await?;
    let (_, key) = user_and_key(&db.store, "reader@example.com").await?;
    let mut reader = PgConnection::connect(&db.url).await?;
    sqlx::query("BEGIN").execute(&mut reader).await?;
    sqlx::query("SELECT COUNT(*) FROM api_key_usage")
        .execute(&mut reader)
        .await?;
    sqlx::query("SELECT COUNT(*) FROM jwt_usage")
        .execute(&mut reader)
        .await?;
    let store = db.store.clone();
    let create = tokio::spawn(async move { store.create_usage_partitions(24).await });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    let insert = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        db.store
            .record_api_usage(&ApiKeyUsage::new(key, "/now", "GET", 200)),
    )
    .await;
    let waited = started.elapsed();
    let created = tokio::time::timeout(std::time::Duration::from_secs(5), create).await;
    sqlx::query("COMMIT").execute(&mut reader).await?;
    assert!(
        insert.is_ok(),
        "an insert into this month waited behind the partition creation"
    );
    insert??;
    assert!(waited < std::time::Duration::from_secs(1), "{waited:?}");
    let created =
        created.map_err(|_| eyre::eyre!("the partition creation waited for the reader"))???;
    assert_eq!(created, 2 * (24 - u64::from(USAGE_PARTITION_MONTHS_AHEAD)));
    Ok(())
}

/// A partition created while a transaction writes jwt_usage and then api_key_usage (the
/// order of a recorder batch) does not deadlock with it: both finish. Failed before the
/// fix (the creation locked api_key_usage, then jwt_usage) with `deadlock detected`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_partition_creation_and_a_recorder_batch_do_not_deadlock() -> eyre::Result<()> {
    let db = TestDb::<pierre_store::Postgres>::new_as_app_role().await?;
    let (user, key) = user_and_key(&db.store, "batch@example.com").await?;
    let mut batch = PgConnection::connect(&db.url).await?;
    sqlx::query("BEGIN").execute(&mut batch).await?;
    sqlx::query(
        "INSERT INTO jwt_usage (user_id, timestamp, endpoint, method, status_code)
         VALUES ($1, now(), '/jwt', 'GET', 200)",
    )
    .bind(user.into_inner())
    .execute(&mut batch)
    .await?;
    let store = db.store.clone();
    let create = tokio::spawn(async move { store.create_usage_partitions(24).await });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let api = sqlx::query(
        "INSERT INTO api_key_usage (api_key_id, timestamp, endpoint, method, status_code)
         VALUES ($1, now(), '/api', 'GET', 200)",
    )
    .bind(key.into_inner())
    .execute(&mut batch)
    .await;
    let commit = sqlx::query("COMMIT").execute(&mut batch).await;
    let created = create.await?;
    api?;
    commit?;
    assert!(created? > 0);
    assert_eq!(db.store.get_usage_stats(user).await?.total_requests, 1);
    Ok(())
}

/// The prune function reads partition bounds the same whatever the session's DateStyle
/// and TimeZone: from a session with DateStyle SQL, DMY and TimeZone Europe/Dublin, a
/// cutoff of 2026-06-30 23:30 UTC drops nothing of June (which holds a row at 23:45 UTC),
/// and 2026-07-01 00:00 UTC drops June whole. Failed before the fix (June dropped, its
/// 23:45 row with it): `June reaches past the cutoff, left: 1, right: 0`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_partition_prune_ignores_the_session_datestyle_and_timezone() -> eyre::Result<()> {
    let db = TestDb::<pierre_store::Postgres>::new_as_app_role().await?;
    let (user, _) = user_and_key(&db.store, "dublin@example.com").await?;
    db.store
        .record_jwt_usage(&jwt_at(user, datetime!(2026-06-30 23:45 UTC), "/late"))
        .await?;
    let mut session = PgConnection::connect(&db.url).await?;
    sqlx::query("SET DateStyle = 'SQL, DMY'")
        .execute(&mut session)
        .await?;
    sqlx::query("SET TimeZone = 'Europe/Dublin'")
        .execute(&mut session)
        .await?;
    let prune = "SELECT drop_oldest_usage_partition_before('jwt_usage', $1)::bigint";
    let dropped: Option<i64> = sqlx::query_scalar(prune)
        .bind(datetime!(2026-06-30 23:30 UTC))
        .fetch_one(&mut session)
        .await?;
    assert_eq!(dropped.unwrap_or(0), 0, "June reaches past the cutoff");
    assert_eq!(
        <pierre_store::Postgres as common::RawSql>::raw_count(&db.url, "jwt_usage").await?,
        1
    );
    let dropped: Option<i64> = sqlx::query_scalar(prune)
        .bind(datetime!(2026-07-01 00:00 UTC))
        .fetch_one(&mut session)
        .await?;
    assert_eq!(dropped, Some(1), "June lies wholly before the cutoff");
    Ok(())
}

/// Pruning while a transaction reads api_key_usage: dropping a partition waits for that
/// reader at most its lock timeout (1 s), then fails with SQLSTATE 55P03, and an insert
/// into this month meanwhile waits no longer than that. Failed before the fix (the drop
/// waited for the reader, every insert queued behind it) with `an insert into this month
/// waited behind the prune`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_partition_prune_waits_for_a_reader_only_up_to_its_lock_timeout()
-> eyre::Result<()> {
    let db = TestDb::<pierre_store::Postgres>::new_as_app_role().await?;
    let (_, key) = seed_2019(&db.store).await?;
    let mut reader = PgConnection::connect(&db.url).await?;
    sqlx::query("BEGIN").execute(&mut reader).await?;
    sqlx::query("SELECT COUNT(*) FROM api_key_usage")
        .execute(&mut reader)
        .await?;
    let store = db.store.clone();
    let prune = tokio::spawn(async move {
        store
            .prune_usage(datetime!(2019-03-15 00:00 UTC), 100, |_| {})
            .await
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let started = std::time::Instant::now();
    let insert = tokio::time::timeout(
        std::time::Duration::from_secs(3),
        db.store
            .record_api_usage(&ApiKeyUsage::new(key, "/now", "GET", 200)),
    )
    .await;
    let waited = started.elapsed();
    let pruned = tokio::time::timeout(std::time::Duration::from_secs(5), prune).await;
    sqlx::query("COMMIT").execute(&mut reader).await?;
    assert!(
        insert.is_ok(),
        "an insert into this month waited behind the prune"
    );
    insert??;
    assert!(waited < std::time::Duration::from_secs(2), "{waited:?}");
    match pruned.map_err(|_| eyre::eyre!("the prune waited for the reader"))?? {
        Err(pierre_store::Error::Database(sqlx::Error::Database(error))) => {
            assert_eq!(error.code().as_deref(), Some("55P03"), "{error}");
        }
        other => panic!("expected a lock timeout, got {other:?}"),
    }
    // Once the reader is gone, the prune goes through.
    let report = db
        .store
        .prune_usage(datetime!(2019-03-15 00:00 UTC), 100, |_| {})
        .await?;
    assert_eq!(report.api_key_usage, 7);
    Ok(())
}

/// The upgrade hands `create_usage_partitions` one instant per month that holds rows, not
/// every timestamp: an array of every distinct timestamp passes PostgreSQL's 1 GB
/// allocation limit past ~67M rows (`invalid memory alloc request size`), which no test
/// can reach here. Runs the migration's own array expression over 60 rows in two months,
/// before the upgrade. Failed before the fix with `left: 34, right: 6`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_partition_upgrade_passes_one_instant_per_month() -> eyre::Result<()> {
    let migration =
        include_str!("../migrations/postgres/20261203000001_usage_partitioned_by_month.sql");
    let call = "SELECT create_usage_partitions(ARRAY(";
    let start = migration
        .find(call)
        .ok_or_else(|| eyre::eyre!("the migration calls create_usage_partitions"))?
        + call.len();
    let end = start
        + migration[start..]
            .find("));")
            .ok_or_else(|| eyre::eyre!("the call ends with `));`"))?;
    // Read from the tables before they are renamed for the copy.
    let months = migration[start..end].replace("_unpartitioned", "");

    let (url, _cleanup) = <pierre_store::Postgres as TestBackend>::fresh_database().await?;
    let store = Store::<pierre_store::Postgres>::new(&url, EncryptionKey::generate()).await?;
    store.migrate_to(BEFORE_PARTITIONS).await?;
    let (user, key) = user_and_key(&store, "many@example.com").await?;
    for i in 0..30 {
        let at = datetime!(2024-01-01 00:00 UTC) + Duration::hours(i * 40);
        store.record_api_usage(&api_at(key, at, "/many")).await?;
        store.record_jwt_usage(&jwt_at(user, at, "/many")).await?;
    }
    store.close().await;
    let mut conn = PgConnection::connect(&url).await?;
    let count: i32 = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT cardinality(ARRAY({months}))"
    )))
    .fetch_one(&mut conn)
    .await?;
    // January and February 2024, and now with the three months after it.
    assert_eq!(count, 6);
    Ok(())
}
