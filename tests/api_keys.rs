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
    key_hashes_with_whitespace_are_refused_and_never_found,
);

async fn owner<B: TestBackend>(db: &TestDb<B>, email: &str) -> eyre::Result<UserId> {
    Ok(db.store.create_user(&User::new(email, "hash")).await?)
}

/// A key hash with whitespace or a control character is refused on every backend, and a
/// lookup by one finds nothing without asking the database: on MySQL, whose collations
/// pad with spaces, `h ` would otherwise find the key `h`.
async fn key_hashes_with_whitespace_are_refused_and_never_found<B: TestBackend>() -> eyre::Result<()>
{
    let db = TestDb::<B>::new().await?;
    let user = owner(&db, "k@example.com").await?;
    db.store
        .create_api_key(&ApiKey::new(user, "key", "h", "p"))
        .await?;
    db.store
        .create_a2a_client(&A2AClient::new("c", "h"))
        .await?;
    for hash in ["h ", " h", "h\t", "h\n", "a b", "h\u{7f}", "h\u{a0}"] {
        let refused = db
            .store
            .create_api_key(&ApiKey::new(user, "other", hash, "p"))
            .await;
        assert!(
            matches!(
                refused,
                Err(Error::InvalidInput {
                    field: "key_hash",
                    ..
                })
            ),
            "{hash:?}: {refused:?}"
        );
        let refused = db
            .store
            .create_a2a_client(&A2AClient::new("other", hash))
            .await;
        assert!(
            matches!(
                refused,
                Err(Error::InvalidInput {
                    field: "api_key_hash",
                    ..
                })
            ),
            "{hash:?}: {refused:?}"
        );
        assert_eq!(db.store.get_api_key_by_hash(hash).await?, None, "{hash:?}");
        assert_eq!(
            db.store.get_system_user_by_api_key(hash).await?,
            None,
            "{hash:?}"
        );
    }
    assert_eq!(B::raw_count(&db.admin_url(), "api_keys").await?, 1);
    assert_eq!(B::raw_count(&db.admin_url(), "a2a_clients").await?, 1);
    Ok(())
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

/// Updating API keys and A2A clients, and listing A2A clients a page at a time.
mod updates {
    use pierre_store::{A2AClientUpdate, ApiKeyId, ApiKeyUpdate};
    use time::{Duration, OffsetDateTime};

    use super::*;

    backend_tests!(
        api_key_update_changes_its_fields_and_authentication_sees_it,
        api_key_update_never_revives_a_revoked_key,
        invalid_api_key_updates_change_nothing,
        a2a_client_update_changes_its_fields,
        a2a_client_update_never_reactivates_a_revoked_client,
        a2a_clients_are_listed_a_page_at_a_time,
    );

    async fn api_key_update_changes_its_fields_and_authentication_sees_it<B: TestBackend>()
    -> eyre::Result<()> {
        let db = TestDb::<B>::new().await?;
        let user = owner(&db, "u@example.com").await?;
        let (key, plaintext) = db
            .store
            .issue_api_key(
                user,
                "laptop",
                ApiKeyTier::Standard,
                vec!["read".into()],
                None,
            )
            .await?;
        let later = datetime!(2999-01-02 03:04:05.123456789 UTC);
        let updated = db
            .store
            .update_api_key(
                key.id,
                &ApiKeyUpdate {
                    name: Some("desktop".into()),
                    scopes: Some(vec!["read".into(), "write".into()]),
                    rate_limit_override: Some(Some(50)),
                    expires_at: Some(Some(later)),
                },
            )
            .await?;
        let expected = ApiKey {
            name: "desktop".into(),
            scopes: vec!["read".into(), "write".into()],
            rate_limit_override: Some(50),
            expires_at: Some(datetime!(2999-01-02 03:04:05.123456 UTC)),
            ..key.clone()
        };
        assert_eq!(updated, expected);
        assert_eq!(
            db.store.get_api_key_by_hash(&key.key_hash).await?,
            Some(expected.clone())
        );
        let seen = db.store.authenticate_api_key(&plaintext).await?;
        assert_eq!(
            seen.map(|k| (k.name, k.rate_limit_override)),
            Some(("desktop".into(), Some(50)))
        );

        // Only the fields given change; `Some(None)` clears.
        let cleared = db
            .store
            .update_api_key(
                key.id,
                &ApiKeyUpdate {
                    rate_limit_override: Some(None),
                    ..ApiKeyUpdate::default()
                },
            )
            .await?;
        assert_eq!(
            (
                cleared.name.as_str(),
                cleared.rate_limit_override,
                cleared.expires_at
            ),
            ("desktop", None, expected.expires_at)
        );

        // Expiry moved into the past: the next authentication refuses the key, and counts
        // nothing; moved away again, it is accepted again.
        let past = OffsetDateTime::now_utc() - Duration::seconds(1);
        db.store
            .update_api_key(
                key.id,
                &ApiKeyUpdate {
                    expires_at: Some(Some(past)),
                    ..ApiKeyUpdate::default()
                },
            )
            .await?;
        let refused = db.store.authenticate_api_key(&plaintext).await?;
        println!("authenticate after expiry moved into the past: {refused:?}");
        assert!(refused.is_none());
        let stored = db
            .store
            .get_api_key_by_hash(&key.key_hash)
            .await?
            .expect("kept");
        assert_eq!(stored.usage_count, 1);
        db.store
            .update_api_key(
                key.id,
                &ApiKeyUpdate {
                    expires_at: Some(None),
                    ..ApiKeyUpdate::default()
                },
            )
            .await?;
        assert!(db.store.authenticate_api_key(&plaintext).await?.is_some());
        Ok(())
    }

    async fn api_key_update_never_revives_a_revoked_key<B: TestBackend>() -> eyre::Result<()> {
        let db = TestDb::<B>::new().await?;
        let user = owner(&db, "r@example.com").await?;
        let past = OffsetDateTime::now_utc() - Duration::hours(1);
        let (key, plaintext) = db
            .store
            .issue_api_key(user, "old", ApiKeyTier::Trial, vec![], Some(past))
            .await?;
        db.store.revoke_api_key(key.id).await?;
        let updated = db
            .store
            .update_api_key(
                key.id,
                &ApiKeyUpdate {
                    name: Some("renamed".into()),
                    expires_at: Some(None),
                    ..ApiKeyUpdate::default()
                },
            )
            .await?;
        assert_eq!(
            (updated.name.as_str(), updated.is_active),
            ("renamed", false)
        );
        assert!(db.store.authenticate_api_key(&plaintext).await?.is_none());
        Ok(())
    }

    async fn invalid_api_key_updates_change_nothing<B: TestBackend>() -> eyre::Result<()> {
        let db = TestDb::<B>::new().await?;
        let user = owner(&db, "i@example.com").await?;
        let key = ApiKey::new(user, "key", "i-hash", "pk_");
        db.store.create_api_key(&key).await?;
        let cases = [
            (
                "name",
                ApiKeyUpdate {
                    name: Some(" ".into()),
                    ..ApiKeyUpdate::default()
                },
            ),
            (
                "name",
                ApiKeyUpdate {
                    name: Some("n".repeat(256)),
                    ..ApiKeyUpdate::default()
                },
            ),
            (
                "name",
                ApiKeyUpdate {
                    name: Some("a\0b".into()),
                    ..ApiKeyUpdate::default()
                },
            ),
            (
                "scopes",
                ApiKeyUpdate {
                    scopes: Some(vec![String::new()]),
                    ..ApiKeyUpdate::default()
                },
            ),
            (
                "rate_limit_override",
                ApiKeyUpdate {
                    rate_limit_override: Some(Some(-1)),
                    ..ApiKeyUpdate::default()
                },
            ),
            (
                "expires_at",
                ApiKeyUpdate {
                    expires_at: Some(Some(datetime!(0000-06-01 00:00 UTC))),
                    ..ApiKeyUpdate::default()
                },
            ),
        ];
        for (field, update) in cases {
            // Valid fields beside the invalid one are not written either.
            let update = ApiKeyUpdate {
                name: update.name.or_else(|| Some("changed".into())),
                ..update
            };
            let err = db.store.update_api_key(key.id, &update).await.unwrap_err();
            assert!(
                matches!(&err, Error::InvalidInput { field: f, .. } if *f == field),
                "{field}: {err:?}"
            );
        }
        assert_eq!(db.store.get_api_key_by_hash("i-hash").await?, Some(key));
        let err = db
            .store
            .update_api_key(ApiKeyId::new(), &ApiKeyUpdate::default())
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::NotFound {
                    entity: "api key",
                    ..
                }
            ),
            "{err:?}"
        );
        Ok(())
    }

    async fn a2a_client_update_changes_its_fields<B: TestBackend>() -> eyre::Result<()> {
        let db = TestDb::<B>::new().await?;
        let (client, secret) = db
            .store
            .issue_a2a_client("agent", vec!["read".into()], 100)
            .await?;
        let updated = db
            .store
            .update_a2a_client(
                client.id,
                &A2AClientUpdate {
                    name: Some("agent 2".into()),
                    capabilities: Some(vec!["read".into(), "write".into()]),
                    rate_limit_per_day: Some(0),
                    is_active: None,
                },
            )
            .await?;
        let expected = A2AClient {
            name: "agent 2".into(),
            capabilities: vec!["read".into(), "write".into()],
            rate_limit_per_day: 0,
            ..client.clone()
        };
        assert_eq!(updated, expected);
        assert_eq!(db.store.get_a2a_client(client.id).await?, Some(expected));

        let off = A2AClientUpdate {
            is_active: Some(false),
            ..A2AClientUpdate::default()
        };
        assert!(!db.store.update_a2a_client(client.id, &off).await?.is_active);
        assert!(db.store.authenticate_a2a_client(&secret).await?.is_none());
        let on = A2AClientUpdate {
            is_active: Some(true),
            ..A2AClientUpdate::default()
        };
        assert!(db.store.update_a2a_client(client.id, &on).await?.is_active);
        assert!(db.store.authenticate_a2a_client(&secret).await?.is_some());

        let cases = [
            (
                "name",
                A2AClientUpdate {
                    name: Some(String::new()),
                    ..A2AClientUpdate::default()
                },
            ),
            (
                "capabilities",
                A2AClientUpdate {
                    capabilities: Some(vec!["x".repeat(256)]),
                    ..A2AClientUpdate::default()
                },
            ),
            (
                "rate_limit_per_day",
                A2AClientUpdate {
                    rate_limit_per_day: Some(-5),
                    ..A2AClientUpdate::default()
                },
            ),
        ];
        let before = db.store.get_a2a_client(client.id).await?;
        for (field, update) in cases {
            let update = A2AClientUpdate {
                is_active: Some(false),
                ..update
            };
            let err = db
                .store
                .update_a2a_client(client.id, &update)
                .await
                .unwrap_err();
            assert!(
                matches!(&err, Error::InvalidInput { field: f, .. } if *f == field),
                "{field}: {err:?}"
            );
        }
        assert_eq!(db.store.get_a2a_client(client.id).await?, before);
        let err = db
            .store
            .update_a2a_client(A2AClientId::new(), &on)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::NotFound {
                    entity: "a2a client",
                    ..
                }
            ),
            "{err:?}"
        );
        Ok(())
    }

    async fn a2a_client_update_never_reactivates_a_revoked_client<B: TestBackend>()
    -> eyre::Result<()> {
        let db = TestDb::<B>::new().await?;
        let (client, secret) = db.store.issue_a2a_client("agent", vec![], 10).await?;
        db.store.revoke_a2a_client(client.id).await?;
        let revoked = db.store.get_a2a_client(client.id).await?.expect("kept");

        let err = db
            .store
            .update_a2a_client(
                client.id,
                &A2AClientUpdate {
                    name: Some("back".into()),
                    is_active: Some(true),
                    ..A2AClientUpdate::default()
                },
            )
            .await
            .unwrap_err();
        println!("reactivating a revoked client by update: {err}");
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
        assert_eq!(
            db.store.get_a2a_client(client.id).await?,
            Some(revoked.clone())
        );
        assert!(db.store.authenticate_a2a_client(&secret).await?.is_none());

        // Other edits of a revoked client are allowed; it stays revoked and inactive.
        let renamed = db
            .store
            .update_a2a_client(
                client.id,
                &A2AClientUpdate {
                    name: Some("retired agent".into()),
                    is_active: Some(false),
                    ..A2AClientUpdate::default()
                },
            )
            .await?;
        assert_eq!(
            renamed,
            A2AClient {
                name: "retired agent".into(),
                ..revoked
            }
        );
        assert!(db.store.authenticate_a2a_client(&secret).await?.is_none());
        Ok(())
    }

    async fn a2a_clients_are_listed_a_page_at_a_time<B: TestBackend>() -> eyre::Result<()> {
        let db = TestDb::<B>::new().await?;
        let mut ids = Vec::new();
        for n in 0..7 {
            let (client, _) = db
                .store
                .issue_a2a_client(&format!("agent {n}"), vec![], 10)
                .await?;
            ids.push(client.id);
        }
        db.store.set_a2a_client_active(ids[1], false).await?;
        db.store.revoke_a2a_client(ids[4]).await?;
        let inactive: Vec<_> = {
            let mut v = vec![ids[1], ids[4]];
            v.sort();
            v
        };
        let mut sorted = ids.clone();
        sorted.sort();
        let active: Vec<_> = sorted
            .iter()
            .copied()
            .filter(|id| !inactive.contains(id))
            .collect();

        for (filter, expected) in [
            (None, &sorted),
            (Some(true), &active),
            (Some(false), &inactive),
        ] {
            let mut seen = Vec::new();
            let mut after = None;
            loop {
                let page = db.store.list_a2a_clients(filter, after, 2).await?;
                assert!(page.len() <= 2);
                assert!(page.iter().all(|c| filter.is_none_or(|a| c.is_active == a)));
                seen.extend(page.iter().map(|c| c.id));
                match page.last() {
                    Some(last) if page.len() == 2 => after = Some(last.id),
                    _ => break,
                }
            }
            assert_eq!(&seen, expected, "filter {filter:?}");
        }
        let all = db.store.list_a2a_clients(None, None, 1000).await?;
        assert_eq!(all.iter().map(|c| c.id).collect::<Vec<_>>(), sorted);
        assert_eq!(
            all[0],
            db.store.get_a2a_client(sorted[0]).await?.expect("stored")
        );

        for limit in [0, 1001] {
            let err = db
                .store
                .list_a2a_clients(None, None, limit)
                .await
                .unwrap_err();
            assert!(
                matches!(err, Error::InvalidInput { field: "limit", .. }),
                "{err:?}"
            );
        }
        Ok(())
    }
}
