//! Usage analytics: recording and the per-user aggregate.

mod common;

use common::{TestBackend, TestDb};
use pierre_store::{ApiKey, ApiKeyId, ApiKeyUsage, Error, JwtUsage, User, UserId};
use time::macros::datetime;

backend_tests!(
    usage_stats_add_up_over_all_of_a_users_keys,
    usage_stats_of_a_user_without_usage_are_empty,
    first_and_last_request_are_exact_to_the_microsecond,
    usage_rows_keep_their_fields,
    invalid_usage_is_rejected_and_nothing_is_written,
    usage_recorded_while_its_user_is_deleted_leaves_no_orphan,
);

async fn user_with_key<B: TestBackend>(
    db: &TestDb<B>,
    email: &str,
    hash: &str,
) -> eyre::Result<(UserId, ApiKeyId)> {
    let user = db.store.create_user(&User::new(email, "hash")).await?;
    let key = db
        .store
        .create_api_key(&ApiKey::new(user, "key", hash, "pk_"))
        .await?;
    Ok((user, key))
}

fn usage(key: ApiKeyId, status: u16, ms: Option<u32>, at: time::OffsetDateTime) -> ApiKeyUsage {
    ApiKeyUsage {
        timestamp: at,
        response_time_ms: ms,
        ..ApiKeyUsage::new(key, "/api/activities", "GET", status)
    }
}

async fn usage_stats_add_up_over_all_of_a_users_keys<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let (alice, key1) = user_with_key(&db, "alice@example.com", "h1").await?;
    let key2 = db
        .store
        .create_api_key(&ApiKey::new(alice, "second", "h2", "pk_"))
        .await?;
    let (bob, bob_key) = user_with_key(&db, "bob@example.com", "h3").await?;
    let t0 = datetime!(2025-03-01 12:00 UTC);
    let rows = [
        usage(key1, 200, Some(100), t0),
        usage(key1, 201, Some(200), t0 + time::Duration::seconds(1)),
        usage(key2, 399, None, t0 + time::Duration::seconds(2)),
        usage(key2, 400, Some(300), t0 + time::Duration::seconds(3)),
        usage(key1, 503, Some(400), t0 - time::Duration::seconds(10)),
        usage(bob_key, 200, Some(9999), t0 + time::Duration::days(1)),
    ];
    for row in &rows {
        db.store.record_api_usage(row).await?;
    }
    let stats = db.store.get_usage_stats(alice).await?;
    assert_eq!(stats.total_requests, 5);
    assert_eq!(stats.successful_requests, 3, "status < 400");
    assert_eq!(stats.failed_requests, 2);
    assert_eq!(
        stats.average_response_time_ms,
        Some(250.0),
        "mean over rows that recorded one"
    );
    assert_eq!(stats.first_request, Some(t0 - time::Duration::seconds(10)));
    assert_eq!(stats.last_request, Some(t0 + time::Duration::seconds(3)));

    let bobs = db.store.get_usage_stats(bob).await?;
    assert_eq!((bobs.total_requests, bobs.successful_requests), (1, 1));
    assert_eq!(bobs.average_response_time_ms, Some(9999.0));
    Ok(())
}

async fn usage_stats_of_a_user_without_usage_are_empty<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let (user, _) = user_with_key(&db, "idle@example.com", "h").await?;
    for id in [user, UserId::new()] {
        let stats = db.store.get_usage_stats(id).await?;
        assert_eq!(
            (
                stats.total_requests,
                stats.successful_requests,
                stats.failed_requests
            ),
            (0, 0, 0)
        );
        assert_eq!(stats.average_response_time_ms, None);
        assert_eq!((stats.first_request, stats.last_request), (None, None));
    }
    Ok(())
}

async fn first_and_last_request_are_exact_to_the_microsecond<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let (user, key) = user_with_key(&db, "fine@example.com", "h").await?;
    // Text timestamps with trailing zeros trimmed would sort ":45Z" after ":45.1Z".
    let times = [
        datetime!(2025-01-01 10:00:45 UTC),
        datetime!(2025-01-01 10:00:45.000001 UTC),
        datetime!(2025-01-01 10:00:45.1 UTC),
        datetime!(2025-01-01 10:00:45.099999 UTC),
        datetime!(2025-01-01 10:00:44.999999 UTC),
    ];
    for at in times {
        db.store
            .record_api_usage(&usage(key, 200, None, at))
            .await?;
    }
    let stats = db.store.get_usage_stats(user).await?;
    assert_eq!(
        stats.first_request,
        Some(datetime!(2025-01-01 10:00:44.999999 UTC))
    );
    assert_eq!(
        stats.last_request,
        Some(datetime!(2025-01-01 10:00:45.1 UTC))
    );
    Ok(())
}

async fn usage_rows_keep_their_fields<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let (user, key) = user_with_key(&db, "u@example.com", "h").await?;
    let full = ApiKeyUsage {
        timestamp: datetime!(2025-02-02 02:02:02.020202 UTC),
        response_time_ms: Some(u32::MAX),
        request_size_bytes: Some(0),
        response_size_bytes: Some(123_456),
        ip_address: Some("2001:db8::1".into()),
        user_agent: Some("curl/8 'quoted' \"double\"".into()),
        error_message: Some("upstream timeout".into()),
        ..ApiKeyUsage::new(key, "/mcp/tools/get_activities", "POST", 504)
    };
    db.store.record_api_usage(&full).await?;
    let jwt = JwtUsage {
        response_time_ms: Some(12),
        ip_address: Some("192.0.2.1".into()),
        ..JwtUsage::new(user, "/oauth/callback", "GET", 302)
    };
    db.store.record_jwt_usage(&jwt).await?;
    assert_eq!(B::raw_count(&db.url, "api_key_usage").await?, 1);
    assert_eq!(B::raw_count(&db.url, "jwt_usage").await?, 1);
    let stats = db.store.get_usage_stats(user).await?;
    assert_eq!(stats.average_response_time_ms, Some(f64::from(u32::MAX)));
    assert_eq!(stats.first_request, Some(full.timestamp));
    Ok(())
}

async fn invalid_usage_is_rejected_and_nothing_is_written<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let (user, key) = user_with_key(&db, "u@example.com", "h").await?;
    let base = ApiKeyUsage::new(key, "/x", "GET", 200);
    let cases: Vec<(&str, ApiKeyUsage)> = vec![
        (
            "status_code",
            ApiKeyUsage {
                status_code: 99,
                ..base.clone()
            },
        ),
        (
            "status_code",
            ApiKeyUsage {
                status_code: 600,
                ..base.clone()
            },
        ),
        (
            "status_code",
            ApiKeyUsage {
                status_code: 0,
                ..base.clone()
            },
        ),
        (
            "endpoint",
            ApiKeyUsage {
                endpoint: String::new(),
                ..base.clone()
            },
        ),
        (
            "endpoint",
            ApiKeyUsage {
                endpoint: "e".repeat(5000),
                ..base.clone()
            },
        ),
        (
            "method",
            ApiKeyUsage {
                method: String::new(),
                ..base.clone()
            },
        ),
        (
            "user_agent",
            ApiKeyUsage {
                user_agent: Some("a\0b".into()),
                ..base.clone()
            },
        ),
        (
            "error_message",
            ApiKeyUsage {
                error_message: Some("e".repeat(5000)),
                ..base.clone()
            },
        ),
        (
            "timestamp",
            ApiKeyUsage {
                timestamp: datetime!(0000-12-31 23:59:59.999999 UTC),
                ..base.clone()
            },
        ),
    ];
    for (field, row) in cases {
        let err = db.store.record_api_usage(&row).await.unwrap_err();
        assert!(
            matches!(&err, Error::InvalidInput { field: f, .. } if *f == field),
            "{field}: {err:?}"
        );
    }
    let err = db
        .store
        .record_api_usage(&ApiKeyUsage::new(ApiKeyId::new(), "/x", "GET", 200))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");

    let err = db
        .store
        .record_jwt_usage(&JwtUsage::new(user, "/x", "GET", 700))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidInput {
                field: "status_code",
                ..
            }
        ),
        "{err:?}"
    );
    let err = db
        .store
        .record_jwt_usage(&JwtUsage::new(UserId::new(), "/x", "GET", 200))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");

    assert_eq!(B::raw_count(&db.url, "api_key_usage").await?, 0);
    assert_eq!(B::raw_count(&db.url, "jwt_usage").await?, 0);
    Ok(())
}

/// Usage recorded by two tasks while the key's user is deleted: every row goes with the
/// user (none left behind), and a recording fails only with `NotFound`.
async fn usage_recorded_while_its_user_is_deleted_leaves_no_orphan<B: TestBackend>()
-> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let mut other_errors = Vec::new();
    for round in 0..30 {
        let user = db
            .store
            .create_user(&User::new(&format!("u{round}@example.com"), "hash"))
            .await?;
        let key = ApiKey::new(user, "key", &format!("h{round}"), "p");
        db.store.create_api_key(&key).await?;
        let writers: Vec<_> = (0..2)
            .map(|_| {
                let store = db.store.clone();
                tokio::spawn(async move {
                    for _ in 0..200 {
                        match store
                            .record_api_usage(&ApiKeyUsage::new(key.id, "/a", "GET", 200))
                            .await
                        {
                            Ok(()) => {}
                            Err(Error::NotFound { .. }) => return None,
                            Err(error) => return Some(error.to_string()),
                        }
                    }
                    None
                })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        if let Err(error) = db.store.delete_user(user).await {
            other_errors.push(format!("delete: {error}"));
        }
        for writer in writers {
            other_errors.extend(writer.await?);
        }
    }
    let orphans = B::raw_count(&db.admin_url(), "api_key_usage").await?;
    assert_eq!((orphans, other_errors), (0, vec![]));
    Ok(())
}

/// PostgreSQL only: the usage tables have no foreign key, and triggers on `users` and
/// `api_keys` delete the usage of what is deleted. Those triggers are correct only at
/// READ COMMITTED (at REPEATABLE READ their `DELETE` runs with the deleter's old snapshot).
mod postgres_isolation {
    use std::time::{Duration, Instant};

    use pierre_store::{ApiKey, Postgres, Store, User};
    use sqlx::{AssertSqlSafe, Connection, PgConnection};

    use super::common::TestDb;

    /// Makes `repeatable read` the default of the test database; returns a store whose
    /// connections are opened after the change.
    async fn repeatable_read_by_default(db: &TestDb<Postgres>) -> eyre::Result<Store<Postgres>> {
        let mut admin = PgConnection::connect(&db.url).await?;
        let name: String = sqlx::query_scalar("SELECT current_database()")
            .fetch_one(&mut admin)
            .await?;
        sqlx::query(AssertSqlSafe(format!(
            "ALTER DATABASE {name} SET default_transaction_isolation = 'repeatable read'"
        )))
        .execute(&mut admin)
        .await?;
        let mut check = PgConnection::connect(&db.url).await?;
        let level: String = sqlx::query_scalar("SHOW transaction_isolation")
            .fetch_one(&mut check)
            .await?;
        eyre::ensure!(level == "repeatable read", "default is {level}");
        db.reopen_with(db.key.clone()).await
    }

    /// A raw connection holds an open transaction that inserted a usage row for key K and
    /// a JWT usage row for its user U, each with the store's `FOR KEY SHARE` join, while
    /// `delete_user(U)` runs on a database whose default isolation is REPEATABLE READ and
    /// waits for it. Once the inserter commits and the deletion finishes, no usage row of
    /// K or U may remain.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn usage_committed_while_its_user_is_deleted_under_repeatable_read_is_not_orphaned()
    -> eyre::Result<()> {
        let db = TestDb::<Postgres>::new().await?;
        let store = repeatable_read_by_default(&db).await?;
        let user = store.create_user(&User::new("rr@example.com", "h")).await?;
        let key = store
            .create_api_key(&ApiKey::new(user, "k", "rr-hash", "pk_"))
            .await?;

        let mut inserter = PgConnection::connect(&db.url).await?;
        sqlx::query("BEGIN").execute(&mut inserter).await?;
        let inserted = sqlx::query(
            "INSERT INTO api_key_usage (api_key_id, timestamp, endpoint, method, status_code)
             SELECT k.id, now(), '/x', 'GET', 200 FROM api_keys k WHERE k.id = $1
             FOR KEY SHARE",
        )
        .bind(key.into_inner())
        .execute(&mut inserter)
        .await?
        .rows_affected()
            + sqlx::query(
                "INSERT INTO jwt_usage (user_id, timestamp, endpoint, method, status_code)
             SELECT u.id, now(), '/x', 'GET', 200 FROM users u WHERE u.id = $1
             FOR KEY SHARE",
            )
            .bind(user.into_inner())
            .execute(&mut inserter)
            .await?
            .rows_affected();
        assert_eq!(inserted, 2);

        let deleter = tokio::spawn({
            let store = store.clone();
            async move { store.delete_user(user).await }
        });
        // Wait until the deletion is blocked on the inserter's row lock.
        let mut watcher = PgConnection::connect(&db.url).await?;
        let started = Instant::now();
        loop {
            let waiting: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
            )
            .fetch_one(&mut watcher)
            .await?;
            if waiting > 0 {
                break;
            }
            eyre::ensure!(
                !deleter.is_finished() && started.elapsed() < Duration::from_secs(10),
                "the deletion never waited for the inserter"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        sqlx::query("COMMIT").execute(&mut inserter).await?;
        assert!(deleter.await??, "the user existed");

        let orphans: (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM api_key_usage WHERE api_key_id = $1),
                    (SELECT COUNT(*) FROM jwt_usage WHERE user_id = $2)",
        )
        .bind(key.into_inner())
        .bind(user.into_inner())
        .fetch_one(&mut watcher)
        .await?;
        println!("orphan usage rows (api_key_usage, jwt_usage): {orphans:?}");
        assert_eq!(
            orphans,
            (0, 0),
            "usage rows left behind by a deleted key and user"
        );
        Ok(())
    }

    /// A raw `DELETE` of a key or user at REPEATABLE READ or SERIALIZABLE is refused with
    /// its own SQLSTATE and changes nothing; the same `DELETE` at READ COMMITTED works.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn usage_triggers_refuse_to_run_above_read_committed() -> eyre::Result<()> {
        let db = TestDb::<Postgres>::new().await?;
        let store = repeatable_read_by_default(&db).await?;
        let user = store.create_user(&User::new("rr@example.com", "h")).await?;
        let key = store
            .create_api_key(&ApiKey::new(user, "k", "rr-hash", "pk_"))
            .await?;
        store
            .record_api_usage(&pierre_store::ApiKeyUsage::new(key, "/x", "GET", 200))
            .await?;
        let mut raw = PgConnection::connect(&db.url).await?;
        for (begin, table, id) in [
            ("BEGIN", "api_keys", key.into_inner()),
            (
                "BEGIN ISOLATION LEVEL SERIALIZABLE",
                "api_keys",
                key.into_inner(),
            ),
            ("BEGIN", "users", user.into_inner()),
        ] {
            sqlx::query(begin).execute(&mut raw).await?;
            let err = sqlx::query(AssertSqlSafe(format!("DELETE FROM {table} WHERE id = $1")))
                .bind(id)
                .execute(&mut raw)
                .await
                .expect_err("refused above READ COMMITTED");
            sqlx::query("ROLLBACK").execute(&mut raw).await?;
            let code = err
                .as_database_error()
                .and_then(|e| e.code())
                .map(|c| c.into_owned());
            println!("{begin}; DELETE FROM {table}: {err}");
            assert_eq!(code.as_deref(), Some("PSU01"), "{err}");
        }
        let left: (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM api_keys), (SELECT COUNT(*) FROM api_key_usage)",
        )
        .fetch_one(&mut raw)
        .await?;
        assert_eq!(left, (1, 1), "nothing deleted");

        sqlx::query("BEGIN ISOLATION LEVEL READ COMMITTED")
            .execute(&mut raw)
            .await?;
        sqlx::query("DELETE FROM api_keys WHERE id = $1")
            .bind(key.into_inner())
            .execute(&mut raw)
            .await?;
        sqlx::query("COMMIT").execute(&mut raw).await?;
        let left: (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM api_keys), (SELECT COUNT(*) FROM api_key_usage)",
        )
        .fetch_one(&mut raw)
        .await?;
        assert_eq!(left, (0, 0), "the key and its usage went");
        Ok(())
    }
}

/// Per-endpoint usage of one API key or one JWT user over a window `[from, to)`.
mod per_endpoint {
    use pierre_store::EndpointUsage;
    use time::{Duration, OffsetDateTime};

    use super::*;

    backend_tests!(
        endpoint_usage_counts_each_endpoint_in_the_window_only,
        endpoint_usage_refuses_bad_windows_and_limits,
        endpoints_differing_in_trailing_whitespace_are_counted_apart_in_byte_order,
    );

    fn row(endpoint: &str, requests: u64, errors: u64, mean: Option<f64>) -> EndpointUsage {
        EndpointUsage {
            endpoint: endpoint.to_owned(),
            requests,
            errors,
            average_response_time_ms: mean,
        }
    }

    /// Endpoints are compared by their bytes on every backend: "/a", "/a " and "/a\t" are
    /// three endpoints, tied ones listed in byte order (MySQL's utf8mb4_bin collation
    /// ignores trailing spaces and would merge the first two, and sort "/a\t" first).
    async fn endpoints_differing_in_trailing_whitespace_are_counted_apart_in_byte_order<
        B: TestBackend,
    >() -> eyre::Result<()> {
        let db = TestDb::<B>::new().await?;
        let (user, key) = user_with_key(&db, "w@example.com", "hw").await?;
        let at = datetime!(2025-05-01 12:00 UTC);
        for (endpoint, ms) in [("/a ", 3), ("/a\t", 2), ("/a", 1), ("/a ", 5)] {
            db.store
                .record_api_usage(&ApiKeyUsage {
                    timestamp: at,
                    response_time_ms: Some(ms),
                    ..ApiKeyUsage::new(key, endpoint, "GET", 200)
                })
                .await?;
            db.store
                .record_jwt_usage(&JwtUsage {
                    timestamp: at,
                    response_time_ms: Some(ms),
                    ..JwtUsage::new(user, endpoint, "GET", 200)
                })
                .await?;
        }
        let expected = vec![
            row("/a ", 2, 0, Some(4.0)),
            row("/a", 1, 0, Some(1.0)),
            row("/a\t", 1, 0, Some(2.0)),
        ];
        let (from, to) = (at, at + Duration::hours(1));
        assert_eq!(
            db.store
                .get_api_key_endpoint_usage(key, from, to, None)
                .await?,
            expected
        );
        assert_eq!(
            db.store
                .get_jwt_endpoint_usage(user, from, to, None)
                .await?,
            expected
        );
        Ok(())
    }

    /// The same requests recorded for a key and for a JWT user give the same report: counts
    /// per endpoint, errors at status >= 400, a mean over the rows that recorded a time,
    /// `from` in and `to` out, other keys and users left out, most requests first and ties
    /// in byte order (`/B` < `/a` < `/b`), and `limit` taking the first endpoints.
    async fn endpoint_usage_counts_each_endpoint_in_the_window_only<B: TestBackend>()
    -> eyre::Result<()> {
        let db = TestDb::<B>::new().await?;
        let (user, key) = user_with_key(&db, "e@example.com", "h1").await?;
        let (other_user, other_key) = user_with_key(&db, "o@example.com", "h2").await?;
        let from = datetime!(2025-05-01 00:00 UTC);
        let to = datetime!(2025-05-02 00:00 UTC);
        let us = Duration::microseconds(1);
        let requests: [(&str, u16, Option<u32>, OffsetDateTime); 11] = [
            ("/a", 200, Some(10), from),
            ("/a", 404, Some(30), from + Duration::hours(1)),
            ("/a", 500, None, to - us),
            ("/b", 399, Some(7), from + Duration::hours(2)),
            ("/b", 400, None, from + Duration::hours(3)),
            ("/B", 200, None, from + Duration::hours(4)),
            ("/B", 201, None, from + Duration::hours(5)),
            ("/c", 200, Some(1), from + Duration::hours(6)),
            // Outside the window: just before `from`, at `to`, long after.
            ("/a", 200, Some(1000), from - us),
            ("/b", 500, Some(1000), to),
            ("/d", 200, Some(1000), to + Duration::days(3)),
        ];
        for (endpoint, status, ms, at) in requests {
            db.store
                .record_api_usage(&ApiKeyUsage {
                    timestamp: at,
                    response_time_ms: ms,
                    ..ApiKeyUsage::new(key, endpoint, "GET", status)
                })
                .await?;
            db.store
                .record_jwt_usage(&JwtUsage {
                    timestamp: at,
                    response_time_ms: ms,
                    ..JwtUsage::new(user, endpoint, "POST", status)
                })
                .await?;
        }
        // Another key's and another user's requests in the same window.
        db.store
            .record_api_usage(&usage(other_key, 500, Some(5), from + Duration::hours(1)))
            .await?;
        db.store
            .record_jwt_usage(&JwtUsage {
                timestamp: from + Duration::hours(1),
                ..JwtUsage::new(other_user, "/a", "GET", 500)
            })
            .await?;

        let expected = vec![
            row("/a", 3, 2, Some(20.0)),
            row("/B", 2, 0, None),
            row("/b", 2, 1, Some(7.0)),
            row("/c", 1, 0, Some(1.0)),
        ];
        let by_key = db
            .store
            .get_api_key_endpoint_usage(key, from, to, None)
            .await?;
        let by_user = db
            .store
            .get_jwt_endpoint_usage(user, from, to, None)
            .await?;
        println!("per endpoint, key: {by_key:?}\nper endpoint, user: {by_user:?}");
        assert_eq!(by_key, expected);
        assert_eq!(by_user, expected);
        assert_eq!(
            db.store
                .get_api_key_endpoint_usage(key, from, to, Some(2))
                .await?,
            expected[..2]
        );
        assert_eq!(
            db.store
                .get_jwt_endpoint_usage(user, from, to, Some(3))
                .await?,
            expected[..3]
        );
        // An empty window, an unknown key or user: nothing.
        let later = to + Duration::days(10);
        assert!(
            db.store
                .get_api_key_endpoint_usage(key, later, later + Duration::days(1), None)
                .await?
                .is_empty()
        );
        assert!(
            db.store
                .get_api_key_endpoint_usage(ApiKeyId::new(), from, to, None)
                .await?
                .is_empty()
        );
        assert!(
            db.store
                .get_jwt_endpoint_usage(UserId::new(), from, to, None)
                .await?
                .is_empty()
        );
        Ok(())
    }

    async fn endpoint_usage_refuses_bad_windows_and_limits<B: TestBackend>() -> eyre::Result<()> {
        let db = TestDb::<B>::new().await?;
        let (user, key) = user_with_key(&db, "w@example.com", "h").await?;
        let t = datetime!(2025-05-01 00:00 UTC);
        let year_zero = datetime!(0000-12-31 23:59 UTC);
        let cases = [
            ("to", t, t, None),
            ("to", t, t - Duration::seconds(1), None),
            // Equal once truncated to the microseconds the store keeps.
            ("to", t, t + Duration::nanoseconds(999), None),
            ("from", year_zero, t, None),
            ("limit", t, t + Duration::days(1), Some(0)),
        ];
        for (field, from, to, limit) in cases {
            for err in [
                db.store
                    .get_api_key_endpoint_usage(key, from, to, limit)
                    .await
                    .unwrap_err(),
                db.store
                    .get_jwt_endpoint_usage(user, from, to, limit)
                    .await
                    .unwrap_err(),
            ] {
                assert!(
                    matches!(&err, Error::InvalidInput { field: f, .. } if *f == field),
                    "{field} {from} {to} {limit:?}: {err:?}"
                );
            }
        }
        Ok(())
    }
}
