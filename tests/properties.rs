//! Property tests over the public write methods, on both backends: every call either
//! succeeds and reads back exactly what was written (normalised as documented), or returns a
//! typed error and leaves every table as it was. `PIERRE_PROPTEST_CASES` sets the cases per
//! property (default 48; `make soak` uses more). The user administration's updates either
//! apply exactly or fail with a typed error and leave the user as it was.

mod common;

use common::{TestBackend, TestDb};
use pierre_store::{
    A2AClient, Activity, ApiKey, ApiKeyUsage, Error, OAuthProvider, OAuthToken, Store, TableCounts,
    Tenant, UsageRecorderConfig, User, UserProfile, UserStatus, UserTier,
};
use proptest::{
    prelude::*,
    strategy::{Strategy, ValueTree},
    test_runner::TestRunner,
};
use serde_json::Value;
use time::OffsetDateTime;

backend_tests!(
    users_round_trip_or_fail_cleanly,
    user_updates_apply_or_fail_cleanly,
    tokens_round_trip_or_fail_cleanly,
    api_keys_round_trip_or_fail_cleanly,
    a2a_clients_round_trip_or_fail_cleanly,
    tenants_round_trip_or_fail_cleanly,
    activities_round_trip_or_fail_cleanly,
    usage_rows_are_recorded_or_fail_cleanly,
);

fn cases() -> usize {
    std::env::var("PIERRE_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48)
}

/// Strings of every kind: empty, huge, NUL and control characters, SQL metacharacters,
/// any unicode.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => Just(String::new()),
        1 => Just("'; DROP TABLE users; --".to_owned()),
        1 => Just("a\0b".to_owned()),
        1 => Just("ü🚴\u{202e}".repeat(80)),
        12 => "[a-zA-Z0-9 _'\\%;-]{1,40}",
        2 => "\\PC{1,60}",
        2 => any::<String>(),
        1 => proptest::collection::vec(any::<char>(), 200..600).prop_map(String::from_iter),
    ]
}

fn email() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[A-Za-z0-9._%+-]{1,30}@[a-z0-9-]{1,20}\\.[a-z]{2,6}",
        2 => " [A-Z]{1,5}@EXAMPLE\\.COM ",
        2 => "[a-z]{1,5}@ü[a-z]{1,5}\\.de",
        2 => text(),
    ]
}

/// Any instant the `time` crate can hold, at nanosecond precision (years -9999..=9999).
fn instant() -> impl Strategy<Value = OffsetDateTime> {
    prop_oneof![
        1 => (-377_705_116_800_i64..=253_402_300_799_i64, 0..1_000_000_000_u32),
        4 => (946_684_800_i64..4_102_444_800_i64, 0..1_000_000_000_u32),
        1 => Just((-62_135_596_800_i64, 0)),
        1 => Just((253_402_300_799_i64, 999_999_999)),
    ]
    .prop_map(|(secs, nanos)| {
        OffsetDateTime::from_unix_timestamp(secs).expect("in range")
            + time::Duration::nanoseconds(i64::from(nanos))
    })
    .prop_filter("representable", |t| t.year() <= 9999)
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |f| f.is_finite())
            .prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(text(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// What the store promises to return: UTC, whole microseconds.
fn micros(t: OffsetDateTime) -> OffsetDateTime {
    let t = t.to_offset(time::UtcOffset::UTC);
    t - time::Duration::nanoseconds(i64::from(t.nanosecond() % 1_000))
}

fn sample<S: Strategy>(runner: &mut TestRunner, strategy: &S) -> eyre::Result<S::Value> {
    Ok(strategy
        .new_tree(runner)
        .map_err(|e| eyre::eyre!("{e}"))?
        .current())
}

/// The check of a round trip: the row read back is the one written.
fn read_back<T: PartialEq + std::fmt::Debug>(stored: Option<T>, expected: &T) -> eyre::Result<()> {
    eyre::ensure!(stored.as_ref() == Some(expected), "stored {stored:?}");
    Ok(())
}

/// Runs `case` for each sample: on success `check` must hold; on failure the error must be
/// typed and the tables untouched. Returns (accepted, rejected).
async fn property<B: TestBackend, S, F, Fut>(
    db: &TestDb<B>,
    strategy: S,
    mut case: F,
) -> eyre::Result<(usize, usize)>
where
    S: Strategy,
    S::Value: std::fmt::Debug + Clone,
    F: FnMut(S::Value) -> Fut,
    Fut: std::future::Future<Output = Result<eyre::Result<()>, Error>>,
{
    let mut runner = TestRunner::deterministic();
    let (mut accepted, mut rejected) = (0, 0);
    for n in 0..cases() {
        let value = sample(&mut runner, &strategy)?;
        let before: TableCounts = db.store.table_counts().await?;
        match case(value.clone()).await {
            Ok(check) => {
                check.map_err(|e| e.wrap_err(format!("case {n} read back wrong: {value:?}")))?;
                accepted += 1;
            }
            Err(
                e @ (Error::InvalidInput { .. } | Error::Conflict { .. } | Error::NotFound { .. }),
            ) => {
                if std::env::var_os("PIERRE_PROPTEST_VERBOSE").is_some() {
                    println!("case {n} rejected: {e}: {value:?}");
                }
                let after = db.store.table_counts().await?;
                eyre::ensure!(
                    after.rows == before.rows,
                    "case {n}: a rejected call changed rows: {value:?}"
                );
                rejected += 1;
            }
            Err(other) => eyre::bail!("case {n}: untyped error {other:?} for {value:?}"),
        }
    }
    println!(
        "{} cases: {accepted} accepted, {rejected} rejected",
        accepted + rejected
    );
    eyre::ensure!(
        accepted > 0,
        "no case was accepted: the strategy misses the success path"
    );
    Ok((accepted, rejected))
}

async fn users_round_trip_or_fail_cleanly<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let store = db.store.clone();
    let strategy = (
        email(),
        text(),
        proptest::option::of(text()),
        any::<f64>(),
        instant(),
        proptest::option::of(instant()),
    );
    let (accepted, rejected) = property(
        &db,
        strategy,
        |(email, hash, name, multiplier, created, approved)| {
            let store = store.clone();
            async move {
                let mut user = User::new(&email, &hash);
                user.firstname = name;
                user.rate_limit_multiplier = multiplier;
                user.created_at = created;
                user.approved_at = approved;
                store.create_user(&user).await?;
                Ok(check_user(&store, user).await)
            }
        },
    )
    .await?;
    assert!(
        accepted > 0 && rejected > 0,
        "the strategy exercised both paths"
    );
    Ok(())
}

async fn check_user<B: TestBackend>(store: &Store<B>, user: User) -> eyre::Result<()> {
    let stored = store
        .get_user(user.id)
        .await?
        .ok_or_else(|| eyre::eyre!("not stored"))?;
    let expected = User {
        email: user.email.trim().to_lowercase(),
        created_at: micros(user.created_at),
        approved_at: user.approved_at.map(micros),
        ..user
    };
    eyre::ensure!(stored == expected, "stored {stored:?}");
    Ok(())
}

/// One administrative update of a user.
#[derive(Clone, Debug)]
enum UserUpdate {
    Profile(UserProfile),
    Tier(UserTier),
    /// Suspends with this reason, then reactivates.
    Suspend(String),
}

async fn user_updates_apply_or_fail_cleanly<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let admin = db
        .store
        .create_user(&User::new("admin@example.com", "h"))
        .await?;
    let mut user = User::new("u@example.com", "h");
    user.status = UserStatus::Active;
    let id = db.store.create_user(&user).await?;
    let store = db.store.clone();
    let strategy = prop_oneof![
        (proptest::option::of(text()), proptest::option::of(text())).prop_map(
            |(firstname, lastname)| UserUpdate::Profile(UserProfile {
                firstname,
                lastname
            })
        ),
        proptest::sample::select(UserTier::ALL).prop_map(UserUpdate::Tier),
        text().prop_map(UserUpdate::Suspend),
    ];
    let (accepted, rejected) = property(&db, strategy, |update| {
        let store = store.clone();
        async move {
            let before = store.get_user(id).await?;
            let applied = match &update {
                UserUpdate::Profile(profile) => store.update_user_profile(id, profile).await,
                UserUpdate::Tier(tier) => store.update_user_tier(id, *tier).await,
                UserUpdate::Suspend(reason) => store.suspend_user(id, admin, reason).await,
            };
            let after = store.get_user(id).await?.ok_or_else(|| eyre::eyre!("gone"));
            if let Err(error) = applied {
                return match after {
                    Ok(after) if Some(&after) != before.as_ref() => {
                        Ok(Err(eyre::eyre!("a rejected update changed {after:?}")))
                    }
                    _ => Err(error),
                };
            }
            let check = after.and_then(|after| {
                let ok = match &update {
                    UserUpdate::Profile(profile) => {
                        after.firstname == profile.firstname && after.lastname == profile.lastname
                    }
                    UserUpdate::Tier(tier) => after.tier == *tier,
                    UserUpdate::Suspend(reason) => {
                        after.status == UserStatus::Suspended
                            && after.suspension_reason.as_deref() == Some(reason.as_str())
                    }
                };
                eyre::ensure!(ok, "stored {after:?}");
                Ok(())
            });
            if matches!(update, UserUpdate::Suspend(_)) {
                store.reactivate_user(id, admin).await?;
            }
            Ok(check)
        }
    })
    .await?;
    assert!(
        accepted > 0 && rejected > 0,
        "the strategy exercised both paths"
    );
    Ok(())
}

async fn tokens_round_trip_or_fail_cleanly<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let user = db
        .store
        .create_user(&User::new("t@example.com", "h"))
        .await?;
    let store = db.store.clone();
    let strategy = (
        text(),
        proptest::option::of(text()),
        proptest::option::of(instant()),
        proptest::option::of(text()),
    );
    property(&db, strategy, |(access, refresh, expires, scope)| {
        let store = store.clone();
        async move {
            let token = OAuthToken {
                access_token: access,
                refresh_token: refresh,
                expires_at: expires,
                scope,
            };
            store
                .upsert_oauth_token(user, OAuthProvider::Fitbit, &token)
                .await?;
            let stored = store.get_oauth_token(user, OAuthProvider::Fitbit).await?;
            let expected = OAuthToken {
                expires_at: token.expires_at.map(micros),
                ..token
            };
            Ok(read_back(stored, &expected))
        }
    })
    .await?;
    Ok(())
}

async fn api_keys_round_trip_or_fail_cleanly<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let user = db
        .store
        .create_user(&User::new("k@example.com", "h"))
        .await?;
    let store = db.store.clone();
    let strategy = (
        text(),
        text(),
        proptest::collection::vec(text(), 0..4),
        any::<i64>(),
        json(),
    );
    property(&db, strategy, |(name, hash, scopes, count, metadata)| {
        let store = store.clone();
        async move {
            let mut key = ApiKey::new(user, &name, &hash, "pk_");
            key.scopes = scopes;
            key.usage_count = count;
            key.metadata = metadata;
            store.create_api_key(&key).await?;
            let stored = store.get_api_key_by_hash(&key.key_hash).await?;
            Ok(read_back(stored, &key))
        }
    })
    .await?;
    Ok(())
}

async fn a2a_clients_round_trip_or_fail_cleanly<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let store = db.store.clone();
    let strategy = (
        text(),
        text(),
        proptest::collection::vec(text(), 0..4),
        any::<i64>(),
        json(),
    );
    property(
        &db,
        strategy,
        |(name, hash, capabilities, limit, metadata)| {
            let store = store.clone();
            async move {
                let mut client = A2AClient::new(&name, &hash);
                client.capabilities = capabilities;
                client.rate_limit_per_day = limit;
                client.metadata = metadata;
                store.create_a2a_client(&client).await?;
                let stored = store.get_a2a_client(client.id).await?;
                Ok(read_back(stored, &client))
            }
        },
    )
    .await?;
    Ok(())
}

async fn tenants_round_trip_or_fail_cleanly<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let owner = db
        .store
        .create_user(&User::new("o@example.com", "h"))
        .await?;
    let store = db.store.clone();
    let slug = prop_oneof!["[a-z0-9-]{1,63}", text()];
    let strategy = (text(), slug, proptest::option::of(text()));
    property(&db, strategy, |(name, slug, domain)| {
        let store = store.clone();
        async move {
            let mut tenant = Tenant::new(&name, &slug, owner);
            tenant.domain = domain;
            store.create_tenant(&tenant).await?;
            let stored = store.get_tenant(tenant.id).await?;
            Ok(read_back(stored, &tenant))
        }
    })
    .await?;
    Ok(())
}

async fn activities_round_trip_or_fail_cleanly<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let user = db
        .store
        .create_user(&User::new("a@example.com", "h"))
        .await?;
    let tenant = db.store.create_tenant(&Tenant::new("T", "t", user)).await?;
    let store = db.store.clone();
    let distance = prop_oneof![3 => 0.0..1e6_f64, 1 => any::<f64>()];
    let duration = prop_oneof![3 => 0..1_000_000_i64, 1 => any::<i64>()];
    let strategy = (text(), text(), distance, duration, instant());
    property(&db, strategy, |(name, kind, distance, duration, start)| {
        let store = store.clone();
        async move {
            let activity = Activity::new(user, &name, &kind, distance, duration, start);
            store.create_activity(tenant, &activity).await?;
            let stored = store.get_activity(tenant, activity.id).await?;
            let expected = Activity {
                tenant_id: tenant,
                ..activity
            };
            Ok(read_back(stored, &expected))
        }
    })
    .await?;
    Ok(())
}

async fn usage_rows_are_recorded_or_fail_cleanly<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let user = db
        .store
        .create_user(&User::new("u@example.com", "h"))
        .await?;
    let key = db
        .store
        .create_api_key(&ApiKey::new(user, "k", "usage-key", "pk_"))
        .await?;
    let store = db.store.clone();
    let endpoint = prop_oneof![4 => "/[a-z/_]{0,60}", 1 => text()];
    let method = prop_oneof![4 => "[A-Z]{3,7}", 1 => text()];
    let status = prop_oneof![3 => 100..600_u16, 1 => any::<u16>()];
    let strategy = (
        endpoint,
        method,
        status,
        proptest::option::of(any::<u32>()),
        instant(),
        proptest::option::of(text()),
    );
    property(
        &db,
        strategy,
        |(endpoint, method, status, ms, at, agent)| {
            let store = store.clone();
            async move {
                let before = store.get_usage_stats(user).await?;
                let usage = ApiKeyUsage {
                    timestamp: at,
                    response_time_ms: ms,
                    user_agent: agent,
                    ..ApiKeyUsage::new(key, &endpoint, &method, status)
                };
                store.record_api_usage(&usage).await?;
                // The same row through the batch statement of the recorder.
                let recorder = store.usage_recorder(UsageRecorderConfig::default())?;
                recorder.record_api(&usage).await?;
                let recorded = recorder.shutdown().await;
                let after = store.get_usage_stats(user).await?;
                let at = micros(at);
                let ok = (recorded.written, recorded.failed) == (1, 0)
                    && after.total_requests == before.total_requests + 2
                    && after.first_request == Some(before.first_request.map_or(at, |f| f.min(at)))
                    && after.last_request == Some(before.last_request.map_or(at, |l| l.max(at)));
                Ok(if ok {
                    Ok(())
                } else {
                    Err(eyre::eyre!("stats {before:?} -> {after:?}"))
                })
            }
        },
    )
    .await?;
    Ok(())
}
