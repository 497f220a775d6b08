//! Copying a whole database into an empty one on the other backend: every row arrives,
//! secrets still authenticate and tokens still decrypt, soft-deleted activities and users
//! that refer to users copied after them survive; a non-empty target or one at another
//! schema version is refused untouched.

mod common;

use common::{
    PerBackend, RawTokenRow, TestBackend, TestDb, raw_counts, seed_tenants, usage_partitions,
};
use pierre_store::{
    Activity, ApiKey, ApiKeyTier, ApiKeyUsage, Error, JwtUsage, OAuthProvider, OAuthToken, Store,
    Tenant, UsageRecorderConfig, User, UserId,
};
use time::{Duration, OffsetDateTime, macros::datetime};
use uuid::Uuid;

// Named after the source backend (the suite counts tests per backend by module).
backend_tests!(
    ; to_each_other: copies_everything, counts_and_copies_hold_every_tenant_as_the_app_role,
    copy_keeps_a_long_text_or_refuses_it, copy_keeps_a_long_usage_endpoint_or_refuses_it,
    copy_fills_usage_partitions_of_every_month,
);

const USAGE_ROWS: u32 = 1_234;

async fn copies_everything<A: TestBackend, B: TestBackend>() -> eyre::Result<()> {
    let source = TestDb::<A>::new().await?;
    let s = &source.store;

    // The approver's id sorts after the approved user's: it is copied later.
    let approver = User {
        id: UserId::from(Uuid::from_u128(u128::MAX - 1)),
        is_admin: true,
        ..User::new("admin@example.com", "hash-a")
    };
    let approved = User {
        id: UserId::from(Uuid::from_u128(1)),
        approved_by: Some(approver.id),
        approved_at: Some(datetime!(2026-01-02 03:04:05.123456 UTC)),
        suspended_by: Some(approver.id),
        suspended_at: Some(datetime!(2026-02-03 04:05:06 UTC)),
        suspension_reason: Some("copied".into()),
        ..User::new("user@example.com", "hash-u")
    };
    s.create_user(&approver).await?;
    s.create_user(&approved).await?;
    let runner = s
        .create_user(&User::new("runner@example.com", "hash-r"))
        .await?;

    let tenant = s
        .create_tenant(&Tenant::new("Club", "club", runner))
        .await?;
    let mut activity_ids = Vec::new();
    for n in 0..3 {
        let activity = Activity::new(
            runner,
            &format!("run {n}"),
            "run",
            1000.5 * f64::from(n + 1),
            1800 + i64::from(n),
            datetime!(2026-03-01 06:00 UTC) + Duration::days(i64::from(n)),
        );
        activity_ids.push(s.create_activity(tenant, &activity).await?);
    }
    assert!(s.delete_activity(tenant, activity_ids[0]).await?);

    let (key, plaintext) = s
        .issue_api_key(
            runner,
            "laptop",
            ApiKeyTier::Premium,
            vec!["read".into()],
            None,
        )
        .await?;
    let token = OAuthToken {
        access_token: "strava-access-secret".into(),
        refresh_token: Some("strava-refresh-secret".into()),
        expires_at: Some(datetime!(2026-12-01 00:00 UTC)),
        scope: Some("read".into()),
    };
    s.upsert_oauth_token(runner, OAuthProvider::Strava, &token)
        .await?;
    let (client, client_secret) = s
        .issue_a2a_client("agent", vec!["read".into()], 100)
        .await?;

    // More usage rows than one page of the copy.
    let recorder = s.usage_recorder(UsageRecorderConfig::default())?;
    let start = OffsetDateTime::now_utc() - Duration::hours(1);
    for n in 0..USAGE_ROWS {
        let usage = ApiKeyUsage {
            timestamp: start + Duration::milliseconds(i64::from(n)),
            response_time_ms: Some(n % 97),
            ..ApiKeyUsage::new(key.id, "/mcp", "POST", if n % 10 == 0 { 500 } else { 200 })
        };
        recorder.record_api(&usage).await?;
    }
    for _ in 0..3 {
        recorder
            .record_jwt(&JwtUsage::new(runner, "/jwt", "GET", 200))
            .await?;
    }
    assert_eq!(recorder.shutdown().await.written, u64::from(USAGE_ROWS) + 3);

    // The target opens its database with the source's key, as a server moving over would.
    let target_db = TestDb::<B>::new().await?;
    let t = target_db.reopen_with(source.key.clone()).await?;
    // In a spawned task: the copy's future is `Send`, as every store method's is.
    let (from, to) = (s.clone(), t.clone());
    let report = tokio::spawn(async move { from.copy_into(&to).await }).await??;
    let copied: Vec<_> = report.rows.iter().map(|(table, n)| (*table, *n)).collect();
    assert_eq!(
        copied,
        [
            ("users", 3),
            ("tenants", 1),
            ("api_keys", 1),
            ("user_oauth_tokens", 1),
            ("a2a_clients", 1),
            ("activities", 3),
            ("api_key_usage", u64::from(USAGE_ROWS)),
            ("jwt_usage", 3),
        ]
    );
    assert_eq!(s.table_counts().await?.rows, t.table_counts().await?.rows);

    for user in [approver.id, approved.id, runner] {
        assert!(t.get_user(user).await? == s.get_user(user).await?, "{user}");
    }
    assert!(t.get_user(approved.id).await? == Some(approved.clone()));
    assert_eq!(t.get_tenant(tenant).await?, s.get_tenant(tenant).await?);
    assert_eq!(
        t.get_user_activities(tenant, runner, 10).await?,
        s.get_user_activities(tenant, runner, 10).await?
    );
    assert_eq!(t.get_user_activities(tenant, runner, 10).await?.len(), 2);
    assert_eq!(
        t.get_activity(tenant, activity_ids[0]).await?,
        None,
        "still deleted"
    );
    assert_eq!(
        t.get_user_stats(tenant, runner).await?,
        s.get_user_stats(tenant, runner).await?
    );
    assert_eq!(
        t.get_usage_stats(runner).await?,
        s.get_usage_stats(runner).await?
    );
    assert!(
        t.get_oauth_token(runner, OAuthProvider::Strava).await? == Some(token),
        "the token decrypts on the target"
    );
    let token_ids =
        |rows: Vec<RawTokenRow>| -> Vec<Uuid> { rows.into_iter().map(|row| row.id).collect() };
    assert_eq!(
        token_ids(B::raw_token_rows(&target_db.url).await?),
        token_ids(A::raw_token_rows(&source.url).await?),
        "the token keeps its id"
    );
    let found = t
        .authenticate_api_key(&plaintext)
        .await?
        .expect("key copied");
    assert_eq!((found.id, found.usage_count), (key.id, 1));
    let agent = t
        .authenticate_a2a_client(client_secret.expose())
        .await?
        .expect("client copied");
    assert_eq!(agent.id, client.id);

    // A second copy into the now non-empty target is refused and changes nothing.
    let before = t.table_counts().await?.rows;
    let err = s.copy_into(&t).await.unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput { field: "target", reason } if reason.contains("not empty")),
        "{err:?}"
    );
    assert_eq!(t.table_counts().await?.rows, before);

    // So is a target at another schema version.
    let (url, _cleanup) = B::fresh_database().await?;
    let behind = Store::<B>::new(&url, source.key.clone()).await?;
    let first = behind.migration_status().await?[0].version;
    behind.migrate_to(first).await?;
    let err = s.copy_into(&behind).await.unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput { field: "target", reason } if reason.contains("schema version")),
        "{err:?}"
    );
    Ok(())
}

/// Run as the role the README recommends (on PostgreSQL an ordinary owner, bound by the
/// row-level security policy), `table_counts` and `copy_into` still see every tenant's
/// activities: the counts match what a superuser counts, and so does the copy, on both
/// sides.
async fn counts_and_copies_hold_every_tenant_as_the_app_role<A: TestBackend, B: TestBackend>()
-> eyre::Result<()> {
    let source = TestDb::<A>::new_as_app_role().await?;
    let s = &source.store;
    seed_tenants(s, "two@example.com", &[("first", 3), ("second", 2)]).await?;
    let truth = raw_counts::<A>(&source.admin_url()).await?;
    assert!(truth.contains(&("activities", 5)), "{truth:?}");
    let counted: Vec<_> = s
        .table_counts()
        .await?
        .rows
        .into_iter()
        .map(|(table, n)| (table, i64::try_from(n).unwrap_or(-1)))
        .collect();
    assert_eq!(counted, truth, "table_counts as the app role");

    let target_db = TestDb::<B>::new_as_app_role().await?;
    let t = target_db.reopen_with(source.key.clone()).await?;
    let report = s.copy_into(&t).await?;
    assert!(report.rows.contains(&("activities", 5)), "{report:?}");
    assert_eq!(
        raw_counts::<B>(&target_db.admin_url()).await?,
        truth,
        "copied rows"
    );
    Ok(())
}

/// Usage from months the target has no partition for (2016, and 2040), as the ordinary
/// role on both sides: the copy creates them (on PostgreSQL) and carries every row.
async fn copy_fills_usage_partitions_of_every_month<A: TestBackend, B: TestBackend>()
-> eyre::Result<()> {
    let source = TestDb::<A>::new_as_app_role().await?;
    let s = &source.store;
    let user = s.create_user(&User::new("far@example.com", "hash")).await?;
    let (key, _) = s
        .issue_api_key(user, "k", ApiKeyTier::Trial, vec![], None)
        .await?;
    let instants = [
        datetime!(2016-02-29 23:59:59.999999 UTC),
        datetime!(2016-03-01 00:00 UTC),
        OffsetDateTime::now_utc(),
        datetime!(2040-12-31 12:00 UTC),
    ];
    for at in instants {
        s.record_api_usage(&ApiKeyUsage {
            timestamp: at,
            ..ApiKeyUsage::new(key.id, "/far", "GET", 200)
        })
        .await?;
        s.record_jwt_usage(&JwtUsage {
            timestamp: at,
            ..JwtUsage::new(user, "/far", "GET", 200)
        })
        .await?;
    }
    let target = TestDb::<B>::new_as_app_role().await?;
    let report = s.copy_into(&target.store).await?;
    assert!(report.rows.contains(&("api_key_usage", 4)), "{report:?}");
    assert!(report.rows.contains(&("jwt_usage", 4)), "{report:?}");
    assert_eq!(
        raw_counts::<B>(&target.admin_url()).await?,
        raw_counts::<A>(&source.admin_url()).await?
    );
    assert_eq!(
        target.store.get_usage_stats(user).await?,
        s.get_usage_stats(user).await?
    );
    for table in ["api_key_usage", "jwt_usage"] {
        if let Some(names) = usage_partitions::<B>(&target.admin_url(), table).await? {
            for month in ["2016_02", "2016_03", "2040_12"] {
                let name = format!("{table}_p{month}");
                assert!(names.contains(&name), "{name} missing from {names:?}");
            }
        }
    }
    Ok(())
}

/// A profile longer than the store accepts, written by raw SQL (as data from before the
/// store's validation may be), copied to another backend: it arrives whole or the copy
/// fails; it is never cut short.
async fn copy_keeps_a_long_text_or_refuses_it<A: TestBackend, B: TestBackend>() -> eyre::Result<()>
{
    let source = TestDb::<A>::new().await?;
    let user = source
        .store
        .create_user(&User::new("long@example.com", "hash"))
        .await?;
    let sql = A::of(PerBackend {
        sqlite: "UPDATE users SET firstname = replace(hex(zeroblob(35000)), '0', 'x')",
        postgres: "UPDATE users SET firstname = repeat('x', 70000)",
        mysql: "UPDATE users SET firstname = REPEAT('x', 70000)",
    });
    let written = A::raw_execute(&source.admin_url(), sql).await;
    let Ok(1) = written else {
        // MySQL's TEXT holds 65535 bytes: nothing to copy from there.
        eprintln!("source refused the long text: {written:?}");
        return Ok(());
    };
    let target_db = TestDb::<B>::new().await?;
    let target = target_db.reopen_with(source.key.clone()).await?;
    match source.store.copy_into(&target).await {
        Ok(report) => {
            let copied = target.get_user(user).await?.expect("copied");
            assert_eq!(
                copied.firstname.map(|f| f.len()),
                Some(70_000),
                "{report:?}"
            );
        }
        Err(error) => eprintln!("copy refused: {error}"),
    }
    Ok(())
}

/// As [`copy_keeps_a_long_text_or_refuses_it`], for a usage row's endpoint: the usage is
/// copied in batches (on MySQL through `JSON_TABLE`).
async fn copy_keeps_a_long_usage_endpoint_or_refuses_it<A: TestBackend, B: TestBackend>()
-> eyre::Result<()> {
    let source = TestDb::<A>::new().await?;
    let user = source
        .store
        .create_user(&User::new("long@example.com", "hash"))
        .await?;
    let key = ApiKey::new(user, "key", "h", "p");
    source.store.create_api_key(&key).await?;
    let usage = ApiKeyUsage::new(key.id, "/a", "GET", 200);
    source.store.record_api_usage(&usage).await?;
    let sql = A::of(PerBackend {
        sqlite: "UPDATE api_key_usage SET endpoint = replace(hex(zeroblob(35000)), '0', 'x')",
        postgres: "UPDATE api_key_usage SET endpoint = repeat('x', 70000)",
        mysql: "UPDATE api_key_usage SET endpoint = REPEAT('x', 70000)",
    });
    let written = A::raw_execute(&source.admin_url(), sql).await;
    let Ok(1) = written else {
        eprintln!("source refused the long text: {written:?}");
        return Ok(());
    };
    let target_db = TestDb::<B>::new().await?;
    let target = target_db.reopen_with(source.key.clone()).await?;
    match source.store.copy_into(&target).await {
        Ok(report) => {
            let from = usage.timestamp - time::Duration::hours(1);
            let to = usage.timestamp + time::Duration::hours(1);
            let copied = target
                .get_api_key_endpoint_usage(key.id, from, to, None)
                .await?;
            let lengths: Vec<_> = copied.iter().map(|e| e.endpoint.len()).collect();
            assert_eq!(lengths, vec![70_000], "{report:?}");
        }
        Err(error) => eprintln!("copy refused: {error}"),
    }
    Ok(())
}
