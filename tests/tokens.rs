//! OAuth tokens: encrypted round trips, replacement, deletion, every way decryption must
//! fail, and the refresh worker's listing of tokens about to expire.

mod common;

use common::{TestBackend, TestDb};
use pierre_store::{EncryptionKey, Error, ExpiringToken, OAuthProvider, OAuthToken, User, UserId};
use time::macros::datetime;

backend_tests!(
    round_trip_for_every_provider,
    upsert_replaces_the_previous_token,
    delete_reports_whether_a_token_existed,
    strava_helpers_store_a_strava_token,
    stored_columns_hold_no_plaintext,
    ciphertext_swapped_between_users_or_columns_fails_to_decrypt,
    wrong_key_fails_to_decrypt,
    truncated_or_tampered_ciphertext_fails_to_decrypt,
    token_for_missing_user_or_invalid_token_is_rejected,
    tokens_expiring_before_an_instant_oldest_first_without_decrypting,
    tokens_expiring_refuses_bad_limits,
    each_token_row_has_its_own_id_kept_when_the_token_is_replaced,
);

fn token(access: &str, refresh: Option<&str>) -> OAuthToken {
    OAuthToken {
        access_token: access.into(),
        refresh_token: refresh.map(Into::into),
        expires_at: Some(datetime!(2030-06-01 10:20:30.654321 UTC)),
        scope: Some("read,activity:read_all".into()),
    }
}

async fn user<B: TestBackend>(db: &TestDb<B>, email: &str) -> eyre::Result<UserId> {
    Ok(db.store.create_user(&User::new(email, "hash")).await?)
}

async fn round_trip_for_every_provider<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let id = user(&db, "t@example.com").await?;
    let sparse = OAuthToken {
        access_token: "only-access".into(),
        refresh_token: None,
        expires_at: None,
        scope: None,
    };
    let full = token("access-ü-🚴", Some("refresh"));
    db.store
        .upsert_oauth_token(id, OAuthProvider::Strava, &full)
        .await?;
    db.store
        .upsert_oauth_token(id, OAuthProvider::Fitbit, &sparse)
        .await?;
    assert_eq!(
        db.store.get_oauth_token(id, OAuthProvider::Strava).await?,
        Some(full)
    );
    assert_eq!(
        db.store.get_oauth_token(id, OAuthProvider::Fitbit).await?,
        Some(sparse)
    );
    assert_eq!(
        db.store.get_oauth_token(id, OAuthProvider::Garmin).await?,
        None
    );
    Ok(())
}

async fn upsert_replaces_the_previous_token<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let id = user(&db, "t@example.com").await?;
    db.store
        .upsert_oauth_token(id, OAuthProvider::Garmin, &token("old", Some("old-r")))
        .await?;
    let new = OAuthToken {
        access_token: "new".into(),
        refresh_token: None,
        expires_at: None,
        scope: None,
    };
    db.store
        .upsert_oauth_token(id, OAuthProvider::Garmin, &new)
        .await?;
    assert_eq!(
        db.store.get_oauth_token(id, OAuthProvider::Garmin).await?,
        Some(new)
    );
    assert_eq!(B::raw_count(&db.url, "user_oauth_tokens").await?, 1);
    Ok(())
}

async fn delete_reports_whether_a_token_existed<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let id = user(&db, "t@example.com").await?;
    db.store
        .upsert_oauth_token(id, OAuthProvider::Fitbit, &token("a", None))
        .await?;
    assert!(
        db.store
            .delete_oauth_token(id, OAuthProvider::Fitbit)
            .await?
    );
    assert!(
        !db.store
            .delete_oauth_token(id, OAuthProvider::Fitbit)
            .await?
    );
    assert_eq!(
        db.store.get_oauth_token(id, OAuthProvider::Fitbit).await?,
        None
    );
    Ok(())
}

async fn strava_helpers_store_a_strava_token<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let id = user(&db, "t@example.com").await?;
    let expires = datetime!(2031-01-02 03:04:05.000006 UTC);
    db.store
        .update_strava_token(id, "s-access", "s-refresh", expires, "read".into())
        .await?;
    let expected = OAuthToken {
        access_token: "s-access".into(),
        refresh_token: Some("s-refresh".into()),
        expires_at: Some(expires),
        scope: Some("read".into()),
    };
    assert_eq!(db.store.get_strava_token(id).await?, Some(expected.clone()));
    assert_eq!(
        db.store.get_oauth_token(id, OAuthProvider::Strava).await?,
        Some(expected)
    );
    Ok(())
}

async fn stored_columns_hold_no_plaintext<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let id = user(&db, "t@example.com").await?;
    let access = "ACCESS-TOKEN-PLAINTEXT-0123456789";
    let refresh = "REFRESH-TOKEN-PLAINTEXT-9876543210";
    db.store
        .upsert_oauth_token(id, OAuthProvider::Strava, &token(access, Some(refresh)))
        .await?;
    let (raw_access, raw_refresh) = B::raw_token_columns(&db.url, id, "strava").await?;
    let raw_refresh = raw_refresh.expect("refresh token stored");
    for (raw, plain) in [(&raw_access, access), (&raw_refresh, refresh)] {
        assert!(raw.len() > plain.len(), "ciphertext carries nonce and tag");
        assert!(
            !raw.windows(8)
                .any(|w| plain.as_bytes().windows(8).any(|p| p == w)),
            "no plaintext fragment stored"
        );
    }
    // A fresh nonce per value: the same plaintext encrypts differently each time.
    db.store
        .upsert_oauth_token(id, OAuthProvider::Strava, &token(access, Some(refresh)))
        .await?;
    let (again, _) = B::raw_token_columns(&db.url, id, "strava").await?;
    assert_ne!(again, raw_access);
    Ok(())
}

async fn ciphertext_swapped_between_users_or_columns_fails_to_decrypt<B: TestBackend>()
-> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let alice = user(&db, "alice@example.com").await?;
    let bob = user(&db, "bob@example.com").await?;
    db.store
        .upsert_oauth_token(
            alice,
            OAuthProvider::Strava,
            &token("alice-access", Some("alice-refresh")),
        )
        .await?;
    db.store
        .upsert_oauth_token(bob, OAuthProvider::Strava, &token("bob-access", None))
        .await?;
    db.store
        .upsert_oauth_token(alice, OAuthProvider::Fitbit, &token("alice-fitbit", None))
        .await?;

    // Alice's access token copied into Bob's row.
    let (alice_access, alice_refresh) = B::raw_token_columns(&db.url, alice, "strava").await?;
    B::raw_set_access_token(&db.url, bob, "strava", alice_access.clone()).await?;
    let err = db
        .store
        .get_oauth_token(bob, OAuthProvider::Strava)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Decryption {
                what: "access_token",
                ..
            }
        ),
        "{err:?}"
    );

    // Alice's Strava token copied to her Fitbit row.
    B::raw_set_access_token(&db.url, alice, "fitbit", alice_access).await?;
    let err = db
        .store
        .get_oauth_token(alice, OAuthProvider::Fitbit)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Decryption { .. }), "{err:?}");

    // Her refresh token copied into her access column.
    B::raw_set_access_token(
        &db.url,
        alice,
        "strava",
        alice_refresh.expect("refresh stored"),
    )
    .await?;
    let err = db
        .store
        .get_oauth_token(alice, OAuthProvider::Strava)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Decryption {
                what: "access_token",
                ..
            }
        ),
        "{err:?}"
    );
    Ok(())
}

async fn wrong_key_fails_to_decrypt<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let id = user(&db, "t@example.com").await?;
    db.store
        .upsert_oauth_token(id, OAuthProvider::Strava, &token("secret", Some("r")))
        .await?;
    let other = db.reopen_with(EncryptionKey::generate()).await?;
    let err = other
        .get_oauth_token(id, OAuthProvider::Strava)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Decryption { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("secret"));
    // The right key still works.
    let same = db.reopen_with(db.key.clone()).await?;
    assert_eq!(
        same.get_oauth_token(id, OAuthProvider::Strava)
            .await?
            .map(|t| t.access_token),
        Some("secret".into())
    );
    Ok(())
}

async fn truncated_or_tampered_ciphertext_fails_to_decrypt<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let id = user(&db, "t@example.com").await?;
    db.store
        .upsert_oauth_token(id, OAuthProvider::Strava, &token("secret", None))
        .await?;
    let (good, _) = B::raw_token_columns(&db.url, id, "strava").await?;

    let mut flipped_body = good.clone();
    *flipped_body.last_mut().expect("non-empty") ^= 0x01;
    let mut flipped_nonce = good.clone();
    flipped_nonce[5] ^= 0x80;
    let mut wrong_version = good.clone();
    wrong_version[0] = 0xFF;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("version only", good[..1].to_vec()),
        ("truncated tag", good[..good.len() - 1].to_vec()),
        ("half", good[..good.len() / 2].to_vec()),
        ("flipped body", flipped_body),
        ("flipped nonce", flipped_nonce),
        ("unknown version", wrong_version),
        ("garbage", vec![0xAB; 64]),
    ];
    for (case, bytes) in cases {
        B::raw_set_access_token(&db.url, id, "strava", bytes).await?;
        let err = db
            .store
            .get_oauth_token(id, OAuthProvider::Strava)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Decryption {
                    what: "access_token",
                    ..
                }
            ),
            "{case}: {err:?}"
        );
    }
    Ok(())
}

async fn token_for_missing_user_or_invalid_token_is_rejected<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let err = db
        .store
        .upsert_oauth_token(UserId::new(), OAuthProvider::Strava, &token("a", None))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");

    let id = user(&db, "t@example.com").await?;
    let empty = OAuthToken {
        access_token: String::new(),
        refresh_token: None,
        expires_at: None,
        scope: None,
    };
    let err = db
        .store
        .upsert_oauth_token(id, OAuthProvider::Strava, &empty)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidInput {
                field: "access_token",
                ..
            }
        ),
        "{err:?}"
    );
    let huge = token(&"x".repeat(64 * 1024), None);
    let err = db
        .store
        .upsert_oauth_token(id, OAuthProvider::Strava, &huge)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidInput {
                field: "access_token",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(B::raw_count(&db.url, "user_oauth_tokens").await?, 0);
    Ok(())
}

async fn tokens_expiring_before_an_instant_oldest_first_without_decrypting<B: TestBackend>()
-> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let (a, b) = (
        user(&db, "a@example.com").await?,
        user(&db, "b@example.com").await?,
    );
    let at = |minute: u8| datetime!(2030-01-01 00:00 UTC) + time::Duration::minutes(minute.into());
    let expiring = |access: &str, expires_at| OAuthToken {
        expires_at,
        ..token(access, Some("refresh"))
    };
    for (owner, provider, expires_at) in [
        (a, OAuthProvider::Strava, Some(at(30))),
        (a, OAuthProvider::Fitbit, Some(at(10))),
        (a, OAuthProvider::Garmin, None),
        (b, OAuthProvider::Strava, Some(at(10))),
        (b, OAuthProvider::Fitbit, Some(at(50))),
        (b, OAuthProvider::Garmin, Some(at(20))),
    ] {
        db.store
            .upsert_oauth_token(owner, provider, &expiring("access", expires_at))
            .await?;
    }
    // Listing never decrypts: a store holding none of the keys lists them all the same.
    let stranger = db.reopen_with(EncryptionKey::generate()).await?;
    let listed = stranger.list_tokens_expiring_before(at(50), 100).await?;
    let mut expected = vec![
        ExpiringToken {
            user_id: a,
            provider: OAuthProvider::Fitbit,
            expires_at: at(10),
        },
        ExpiringToken {
            user_id: b,
            provider: OAuthProvider::Strava,
            expires_at: at(10),
        },
        ExpiringToken {
            user_id: b,
            provider: OAuthProvider::Garmin,
            expires_at: at(20),
        },
        ExpiringToken {
            user_id: a,
            provider: OAuthProvider::Strava,
            expires_at: at(30),
        },
    ];
    // Ties on expires_at come in (user_id, provider) order.
    if b.into_inner() < a.into_inner() {
        expected.swap(0, 1);
    }
    assert_eq!(
        listed, expected,
        "before 00:50, oldest first, no expiry-less token"
    );
    assert_eq!(
        db.store.list_tokens_expiring_before(at(50), 2).await?,
        expected[..2],
        "limited"
    );
    assert!(
        db.store
            .list_tokens_expiring_before(at(10), 10)
            .await?
            .is_empty()
    );

    // A refreshed token moves out of the window.
    db.store
        .upsert_oauth_token(a, OAuthProvider::Fitbit, &expiring("new", Some(at(59))))
        .await?;
    let after_refresh = db.store.list_tokens_expiring_before(at(50), 100).await?;
    assert_eq!(after_refresh.len(), 3);
    assert!(
        after_refresh
            .iter()
            .all(|t| t.provider != OAuthProvider::Fitbit || t.user_id != a)
    );
    Ok(())
}

async fn tokens_expiring_refuses_bad_limits<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    for limit in [0, 1001] {
        let err = db
            .store
            .list_tokens_expiring_before(datetime!(2030-01-01 00:00 UTC), limit)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidInput { field: "limit", .. }),
            "{limit}: {err:?}"
        );
    }
    let err = db
        .store
        .list_tokens_expiring_before(datetime!(-0001-01-01 00:00 UTC), 10)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidInput {
                field: "before",
                ..
            }
        ),
        "{err:?}"
    );
    Ok(())
}

/// `user_oauth_tokens.id` (the seed's column) identifies the row: every token gets a
/// distinct UUID, replacing the token keeps it, deleting and storing again gives a new one.
async fn each_token_row_has_its_own_id_kept_when_the_token_is_replaced<B: TestBackend>()
-> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let (a, b) = (
        user(&db, "a@example.com").await?,
        user(&db, "b@example.com").await?,
    );
    for (user, provider) in [
        (a, OAuthProvider::Strava),
        (a, OAuthProvider::Fitbit),
        (b, OAuthProvider::Strava),
    ] {
        db.store
            .upsert_oauth_token(user, provider, &token("first", Some("r")))
            .await?;
    }
    let ids = |rows: Vec<common::RawTokenRow>| -> Vec<_> {
        rows.into_iter()
            .map(|row| ((row.user_id, row.provider), row.id))
            .collect()
    };
    let before = ids(B::raw_token_rows(&db.url).await?);
    let distinct: std::collections::BTreeSet<_> = before.iter().map(|(_, id)| *id).collect();
    assert_eq!(distinct.len(), 3, "{before:?}");
    assert!(distinct.iter().all(|id| id.get_version_num() == 4));

    db.store
        .upsert_oauth_token(a, OAuthProvider::Strava, &token("second", None))
        .await?;
    assert_eq!(
        ids(B::raw_token_rows(&db.url).await?),
        before,
        "replaced in place"
    );

    assert!(
        db.store
            .delete_oauth_token(b, OAuthProvider::Strava)
            .await?
    );
    db.store
        .upsert_oauth_token(b, OAuthProvider::Strava, &token("again", None))
        .await?;
    let after = ids(B::raw_token_rows(&db.url).await?);
    let again = |rows: &[((UserId, String), uuid::Uuid)]| {
        rows.iter()
            .find(|((user, _), _)| *user == b)
            .map(|(_, id)| *id)
    };
    assert_ne!(again(&after), again(&before), "a new row, a new id");
    assert_eq!(after.len(), 3);
    Ok(())
}
