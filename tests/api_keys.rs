//! API keys and A2A clients: round trips, listing, conflicts, validation.

mod common;

use common::{TestBackend, TestDb};
use pierre_store::{A2AClient, A2AClientId, ApiKey, ApiKeyTier, Error, User, UserId};
use serde_json::json;
use time::macros::datetime;

backend_tests!(
    api_key_round_trip_keeps_every_field,
    api_keys_for_user_lists_inactive_keys_and_only_that_user,
    duplicate_api_key_hash_is_a_conflict,
    invalid_api_keys_are_rejected_and_nothing_is_written,
    a2a_client_round_trip_and_lookup_by_key_hash,
    duplicate_a2a_key_hash_is_a_conflict,
    invalid_a2a_clients_are_rejected,
);

async fn owner<B: TestBackend>(db: &TestDb<B>, email: &str) -> eyre::Result<UserId> {
    Ok(db.store.create_user(&User::new(email, "hash")).await?)
}

async fn api_key_round_trip_keeps_every_field<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let user = owner(&db, "k@example.com").await?;
    let mut key = ApiKey::new(user, "CI key", "sha256:abcdef", "pk_live_abcd");
    key.tier = ApiKeyTier::Custom;
    key.scopes = vec!["read".into(), "write:activities".into()];
    key.is_active = false;
    key.last_used = Some(datetime!(2025-05-05 05:05:05.000500 UTC));
    key.usage_count = 42;
    key.rate_limit_override = Some(5000);
    key.expires_at = Some(datetime!(2026-01-01 00:00 UTC));
    key.created_at = datetime!(2025-01-01 00:00:00.000001 UTC);
    key.metadata = json!({"team": "data", "nested": {"list": [1, 2.5, null, true, "ü"]}});

    assert_eq!(db.store.create_api_key(&key).await?, key.id);
    assert_eq!(
        db.store.get_api_key_by_hash("sha256:abcdef").await?,
        Some(key.clone())
    );
    assert_eq!(db.store.get_api_key_by_hash("sha256:other").await?, None);

    let plain = ApiKey::new(user, "plain", "h2", "pk_");
    db.store.create_api_key(&plain).await?;
    let stored = db.store.get_api_key_by_hash("h2").await?.expect("stored");
    assert_eq!(stored, plain);
    assert_eq!(stored.tier, ApiKeyTier::Trial);
    assert!(stored.scopes.is_empty());
    assert_eq!(stored.metadata, json!({}));
    Ok(())
}

async fn api_keys_for_user_lists_inactive_keys_and_only_that_user<B: TestBackend>()
-> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let alice = owner(&db, "alice@example.com").await?;
    let bob = owner(&db, "bob@example.com").await?;
    let mut first = ApiKey::new(alice, "first", "h1", "p1");
    first.created_at = datetime!(2025-01-01 00:00:00.000001 UTC);
    let mut second = ApiKey::new(alice, "second", "h2", "p2");
    second.created_at = datetime!(2025-01-01 00:00:00.00001 UTC);
    second.is_active = false;
    let bobs = ApiKey::new(bob, "bob", "h3", "p3");
    for key in [&second, &bobs, &first] {
        db.store.create_api_key(key).await?;
    }
    assert_eq!(
        db.store.get_api_keys_for_user(alice).await?,
        vec![first, second]
    );
    assert_eq!(db.store.get_api_keys_for_user(UserId::new()).await?, vec![]);
    Ok(())
}

async fn duplicate_api_key_hash_is_a_conflict<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let user = owner(&db, "k@example.com").await?;
    db.store
        .create_api_key(&ApiKey::new(user, "a", "same-hash", "p"))
        .await?;
    let err = db
        .store
        .create_api_key(&ApiKey::new(user, "b", "same-hash", "p"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Conflict {
                entity: "api key",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(db.store.get_api_keys_for_user(user).await?.len(), 1);
    Ok(())
}

async fn invalid_api_keys_are_rejected_and_nothing_is_written<B: TestBackend>() -> eyre::Result<()>
{
    let db = TestDb::<B>::new().await?;
    let user = owner(&db, "k@example.com").await?;
    let base = ApiKey::new(user, "name", "hash", "prefix");
    let too_long = "n".repeat(256);
    let cases: Vec<(&str, ApiKey)> = vec![
        (
            "name",
            ApiKey {
                name: String::new(),
                ..base.clone()
            },
        ),
        (
            "name",
            ApiKey {
                name: "   ".into(),
                ..base.clone()
            },
        ),
        (
            "name",
            ApiKey {
                name: too_long.clone(),
                ..base.clone()
            },
        ),
        (
            "name",
            ApiKey {
                name: "nul\0".into(),
                ..base.clone()
            },
        ),
        (
            "key_hash",
            ApiKey {
                key_hash: String::new(),
                ..base.clone()
            },
        ),
        (
            "key_prefix",
            ApiKey {
                key_prefix: too_long,
                ..base.clone()
            },
        ),
        (
            "scopes",
            ApiKey {
                scopes: vec![String::new()],
                ..base.clone()
            },
        ),
        (
            "usage_count",
            ApiKey {
                usage_count: -1,
                ..base.clone()
            },
        ),
        (
            "rate_limit_override",
            ApiKey {
                rate_limit_override: Some(-5),
                ..base.clone()
            },
        ),
        (
            "metadata",
            ApiKey {
                metadata: json!({"k": "nul\u{0}"}),
                ..base.clone()
            },
        ),
    ];
    for (field, key) in cases {
        let err = db.store.create_api_key(&key).await.unwrap_err();
        assert!(
            matches!(&err, Error::InvalidInput { field: f, .. } if *f == field),
            "{field}: {err:?}"
        );
    }
    let orphan = ApiKey::new(UserId::new(), "orphan", "orphan-hash", "p");
    let err = db.store.create_api_key(&orphan).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    // Exactly 255 characters is fine.
    db.store
        .create_api_key(&ApiKey {
            name: "n".repeat(255),
            ..base
        })
        .await?;
    assert_eq!(B::raw_count(&db.url, "api_keys").await?, 1);
    Ok(())
}

async fn a2a_client_round_trip_and_lookup_by_key_hash<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let mut client = A2AClient::new("Coach bot", "a2a-hash");
    client.capabilities = vec!["activities:read".into(), "stats".into()];
    client.rate_limit_per_day = 10_000;
    client.is_active = false;
    client.last_used = Some(datetime!(2025-07-07 07:07:07.070707 UTC));
    client.metadata = json!(["any", {"shape": 1}]);
    assert_eq!(db.store.create_a2a_client(&client).await?, client.id);
    assert_eq!(
        db.store.get_a2a_client(client.id).await?,
        Some(client.clone()),
        "inactive clients are returned"
    );
    assert_eq!(
        db.store.get_system_user_by_api_key("a2a-hash").await?,
        Some(client)
    );
    assert_eq!(db.store.get_system_user_by_api_key("nope").await?, None);
    assert_eq!(db.store.get_a2a_client(A2AClientId::new()).await?, None);

    let plain = A2AClient::new("Plain", "plain-hash");
    db.store.create_a2a_client(&plain).await?;
    assert_eq!(db.store.get_a2a_client(plain.id).await?, Some(plain));
    Ok(())
}

async fn duplicate_a2a_key_hash_is_a_conflict<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    db.store
        .create_a2a_client(&A2AClient::new("one", "dup"))
        .await?;
    let err = db
        .store
        .create_a2a_client(&A2AClient::new("two", "dup"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Conflict {
                entity: "a2a client",
                ..
            }
        ),
        "{err:?}"
    );
    Ok(())
}

async fn invalid_a2a_clients_are_rejected<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let base = A2AClient::new("name", "hash");
    let cases: Vec<(&str, A2AClient)> = vec![
        (
            "name",
            A2AClient {
                name: String::new(),
                ..base.clone()
            },
        ),
        (
            "name",
            A2AClient {
                name: "x".repeat(256),
                ..base.clone()
            },
        ),
        (
            "api_key_hash",
            A2AClient {
                api_key_hash: String::new(),
                ..base.clone()
            },
        ),
        (
            "capabilities",
            A2AClient {
                capabilities: vec![String::new()],
                ..base.clone()
            },
        ),
        (
            "rate_limit_per_day",
            A2AClient {
                rate_limit_per_day: -1,
                ..base.clone()
            },
        ),
    ];
    for (field, client) in cases {
        let err = db.store.create_a2a_client(&client).await.unwrap_err();
        assert!(
            matches!(&err, Error::InvalidInput { field: f, .. } if *f == field),
            "{field}: {err:?}"
        );
    }
    assert_eq!(B::raw_count(&db.url, "a2a_clients").await?, 0);
    Ok(())
}

mod json_numbers {
    use super::*;

    async fn json_numbers_round_trip_exactly<B: TestBackend>() -> eyre::Result<()> {
        let db = TestDb::<B>::new().await?;
        let user = owner(&db, "j@example.com").await?;
        let mut key = ApiKey::new(user, "json", "json-hash", "pk_");
        key.metadata = json!({
            "one_point_zero": 1.0, "negative_zero": -0.0, "integral_float": 1e15, "big_float": 123456789012345.6,
            "u64_max": u64::MAX, "i64_min": i64::MIN, "small": 0.00001234,
            "third": 0.3333333333333333, "nested": [{"a": [1.5, 2, "x"]}]
        });
        db.store.create_api_key(&key).await?;
        let stored = db
            .store
            .get_api_key_by_hash("json-hash")
            .await?
            .expect("stored");
        assert_eq!(stored.metadata, key.metadata);

        // Floats JSON writes with an exponent would come back changed from JSONB (or not
        // at all): refused on both backends, with nothing written.
        for number in [1e16, 5e-324, 1.7976931348623157e308, -2.5e-7] {
            let key = ApiKey {
                metadata: json!({ "n": number }),
                ..ApiKey::new(user, "x", "json-bad", "p")
            };
            let err = db.store.create_api_key(&key).await.unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::InvalidInput {
                        field: "metadata",
                        ..
                    }
                ),
                "{number}: {err:?}"
            );
        }
        assert_eq!(db.store.get_api_keys_for_user(user).await?.len(), 1);
        Ok(())
    }

    backend_tests!(json_numbers_round_trip_exactly);
}
