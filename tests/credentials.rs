//! Passwords, API keys and A2A secrets as the server uses them to authenticate callers.

mod common;

use std::time::Instant;

use common::{TestBackend, TestDb};
use pierre_store::{
    A2A_SECRET_PREFIX, A2AClientId, API_KEY_PREFIX, ApiKeyId, ApiKeyTier, Error, User, UserId,
    UserStatus, password,
};
use time::OffsetDateTime;

backend_tests!(
    password_login_accepts_the_right_password_only,
    password_login_refuses_suspended_and_deleted_users,
    weak_password_hashes_are_upgraded_at_login,
    issued_api_keys_authenticate_and_count_their_use,
    revoked_and_expired_api_keys_do_not_authenticate,
    api_keys_of_suspended_and_deleted_users_do_not_authenticate,
    issued_a2a_clients_authenticate_and_inactive_ones_do_not,
    deactivated_and_revoked_a2a_clients_do_not_authenticate,
    login_time_does_not_tell_whether_the_email_exists,
);

/// On a single-threaded executor, where hashing on the executor would visibly block it.
mod single_threaded_executor {
    #[tokio::test(flavor = "current_thread")]
    async fn sqlite_lookups_keep_completing_while_passwords_hash() -> eyre::Result<()> {
        super::lookups_keep_completing_while_passwords_hash::<pierre_store::Sqlite>().await
    }

    #[tokio::test(flavor = "current_thread")]
    async fn postgres_lookups_keep_completing_while_passwords_hash() -> eyre::Result<()> {
        super::lookups_keep_completing_while_passwords_hash::<pierre_store::Postgres>().await
    }
}

async fn user_with_password<B: TestBackend>(
    db: &TestDb<B>,
    email: &str,
    pw: &str,
    status: UserStatus,
) -> eyre::Result<User> {
    let mut user = User::new(email, &password::hash(pw).await?);
    user.status = status;
    db.store.create_user(&user).await?;
    Ok(user)
}

async fn password_login_accepts_the_right_password_only<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let user = user_with_password(
        &db,
        "alice@example.com",
        "correct horse",
        UserStatus::Active,
    )
    .await?;
    let found = db
        .store
        .verify_user_password("Alice@Example.com", "correct horse")
        .await?;
    assert_eq!(found.map(|u| u.id), Some(user.id));
    assert!(
        db.store
            .verify_user_password("alice@example.com", "Correct horse")
            .await?
            .is_none()
    );
    assert!(
        db.store
            .verify_user_password("alice@example.com", "")
            .await?
            .is_none()
    );
    assert!(
        db.store
            .verify_user_password("nobody@example.com", "correct horse")
            .await?
            .is_none()
    );
    assert!(
        db.store
            .verify_user_password("not an email", "x")
            .await?
            .is_none()
    );
    // Pending users are not refused by the store; the server decides what pending means.
    user_with_password(&db, "new@example.com", "pw", UserStatus::Pending).await?;
    assert!(
        db.store
            .verify_user_password("new@example.com", "pw")
            .await?
            .is_some()
    );
    Ok(())
}

async fn password_login_refuses_suspended_and_deleted_users<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    for (email, status) in [
        ("s@example.com", UserStatus::Suspended),
        ("d@example.com", UserStatus::Deleted),
    ] {
        user_with_password(&db, email, "pw", status).await?;
        assert!(
            db.store.verify_user_password(email, "pw").await?.is_none(),
            "{status:?}"
        );
    }
    Ok(())
}

async fn weak_password_hashes_are_upgraded_at_login<B: TestBackend>() -> eyre::Result<()> {
    use argon2::{Algorithm, Argon2, Params, PasswordHasher, Version, password_hash::SaltString};
    let db = TestDb::<B>::new().await?;
    let weak = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(4096, 1, 1, None)?,
    )
    .hash_password(b"pw", &SaltString::from_b64("c29tZXNhbHRzb21lc2FsdA")?)?
    .to_string();
    assert!(password::needs_rehash(&weak));
    let user = User::new("old@example.com", &weak);
    db.store.create_user(&user).await?;

    let logged_in = db
        .store
        .verify_user_password("old@example.com", "pw")
        .await?
        .expect("right password");
    let stored = db.store.get_user(user.id).await?.expect("user");
    assert_ne!(stored.password_hash, weak);
    assert_eq!(stored.password_hash, logged_in.password_hash);
    assert!(
        stored.password_hash.contains("m=19456,t=2,p=1"),
        "{:?}",
        stored.password_hash.get(..30)
    );
    assert!(!password::needs_rehash(&stored.password_hash));
    assert!(
        db.store
            .verify_user_password("old@example.com", "pw")
            .await?
            .is_some()
    );
    Ok(())
}

async fn issued_api_keys_authenticate_and_count_their_use<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let user = db
        .store
        .create_user(&User::new("k@example.com", "hash"))
        .await?;
    let (key, plaintext) = db
        .store
        .issue_api_key(
            user,
            "laptop",
            ApiKeyTier::Premium,
            vec!["read".into()],
            None,
        )
        .await?;
    assert!(plaintext.starts_with(API_KEY_PREFIX) && plaintext.len() == API_KEY_PREFIX.len() + 43);
    assert!(key.key_prefix.starts_with(API_KEY_PREFIX) && plaintext.starts_with(&key.key_prefix));
    assert_eq!(key.key_hash.len(), 64, "hex SHA-256");
    let shown = format!("{plaintext} {plaintext:?} {key:?}");
    assert!(
        !shown.contains(&plaintext[API_KEY_PREFIX.len()..]) && shown.contains("[redacted]"),
        "{shown}"
    );
    assert!(!key.key_hash.contains(&plaintext[API_KEY_PREFIX.len()..]));
    assert_eq!(
        db.store
            .get_api_key_by_hash(&key.key_hash)
            .await?
            .map(|k| k.id),
        Some(key.id)
    );

    for n in 1..=3 {
        let found = db
            .store
            .authenticate_api_key(&plaintext)
            .await?
            .expect("valid key");
        assert_eq!((found.id, found.usage_count), (key.id, n));
        assert!(found.last_used.is_some());
    }
    assert!(
        db.store
            .authenticate_api_key(&format!("{}x", plaintext.expose()))
            .await?
            .is_none()
    );
    assert!(db.store.authenticate_api_key("").await?.is_none());
    assert!(
        db.store
            .authenticate_api_key(&"p".repeat(10_000))
            .await?
            .is_none()
    );

    let (_, second) = db
        .store
        .issue_api_key(user, "phone", ApiKeyTier::Trial, vec![], None)
        .await?;
    assert_ne!(second.expose(), plaintext.expose());
    Ok(())
}

async fn revoked_and_expired_api_keys_do_not_authenticate<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let user = db
        .store
        .create_user(&User::new("k@example.com", "hash"))
        .await?;
    let (key, plaintext) = db
        .store
        .issue_api_key(user, "k", ApiKeyTier::Standard, vec![], None)
        .await?;
    db.store.revoke_api_key(key.id).await?;
    db.store.revoke_api_key(key.id).await?;
    assert!(db.store.authenticate_api_key(&plaintext).await?.is_none());
    let listed = db.store.get_api_keys_for_user(user).await?;
    assert_eq!(
        (listed.len(), listed[0].is_active, listed[0].usage_count),
        (1, false, 0)
    );
    let err = db.store.revoke_api_key(ApiKeyId::new()).await.unwrap_err();
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

    let past = OffsetDateTime::now_utc() - time::Duration::seconds(1);
    let (_, expired) = db
        .store
        .issue_api_key(user, "old", ApiKeyTier::Trial, vec![], Some(past))
        .await?;
    assert!(db.store.authenticate_api_key(&expired).await?.is_none());
    let future = OffsetDateTime::now_utc() + time::Duration::hours(1);
    let (_, valid) = db
        .store
        .issue_api_key(user, "new", ApiKeyTier::Trial, vec![], Some(future))
        .await?;
    assert!(db.store.authenticate_api_key(&valid).await?.is_some());

    let err = db
        .store
        .issue_api_key(UserId::new(), "x", ApiKeyTier::Trial, vec![], None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    Ok(())
}

/// A key authenticates only while its user may log in: `active` and `pending` users' keys
/// work (as their passwords do), `suspended` and `deleted` users' keys are refused without
/// counting the use, also when the user is suspended after the key was issued.
async fn api_keys_of_suspended_and_deleted_users_do_not_authenticate<B: TestBackend>()
-> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    for (email, status, accepted) in [
        ("a@example.com", UserStatus::Active, true),
        ("p@example.com", UserStatus::Pending, true),
        ("s@example.com", UserStatus::Suspended, false),
        ("d@example.com", UserStatus::Deleted, false),
    ] {
        let user = user_with_password(&db, email, "pw", status).await?;
        let (key, plaintext) = db
            .store
            .issue_api_key(user.id, "k", ApiKeyTier::Standard, vec![], None)
            .await?;
        let found = db.store.authenticate_api_key(&plaintext).await?;
        assert_eq!(found.is_some(), accepted, "key of a {status:?} user");
        let stored = db.store.get_api_key_by_hash(&key.key_hash).await?;
        assert_eq!(
            stored.map(|k| k.usage_count),
            Some(i64::from(accepted)),
            "use counted only when accepted ({status:?})"
        );
    }

    // Suspended after the key was issued: refused from then on.
    let (key, plaintext) = db
        .store
        .issue_api_key(
            db.store
                .get_user_by_email("a@example.com")
                .await?
                .expect("exists")
                .id,
            "later",
            ApiKeyTier::Trial,
            vec![],
            None,
        )
        .await?;
    assert!(db.store.authenticate_api_key(&plaintext).await?.is_some());
    // Raw SQL is another writer (as the admin binary or another server would be): the
    // store's authentication cache sees it through the `auth_changes` triggers, within
    // the poll interval (SQLite, 50 ms by default) or a notification (PostgreSQL).
    B::raw_execute(
        &db.url,
        "UPDATE users SET status = 'suspended' WHERE email = 'a@example.com'",
    )
    .await?;
    let suspended = std::time::Instant::now();
    let mut accepted = 1;
    while db.store.authenticate_api_key(&plaintext).await?.is_some() {
        accepted += 1;
        assert!(
            suspended.elapsed() < std::time::Duration::from_secs(2),
            "refused once the user is suspended"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let stored = db.store.get_api_key_by_hash(&key.key_hash).await?;
    assert_eq!(
        stored.map(|k| (k.is_active, k.usage_count)),
        Some((true, accepted)),
        "every accepted use counted, none refused"
    );
    Ok(())
}

async fn issued_a2a_clients_authenticate_and_inactive_ones_do_not<B: TestBackend>()
-> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let (client, secret) = db
        .store
        .issue_a2a_client("agent", vec!["stats".into()], 500)
        .await?;
    assert!(secret.starts_with(A2A_SECRET_PREFIX));
    assert_ne!(client.api_key_hash, secret.expose());
    let found = db
        .store
        .authenticate_a2a_client(&secret)
        .await?
        .expect("valid secret");
    assert_eq!((found.id, found.rate_limit_per_day), (client.id, 500));
    assert!(found.last_used.is_some());
    assert!(
        db.store
            .authenticate_a2a_client("a2a_live_wrong")
            .await?
            .is_none()
    );

    // An inactive client whose secret is known: stored hash = hex SHA-256 of the secret.
    use sha2::Digest;
    let known = "a2a_live_known-secret";
    let hash: String = sha2::Sha256::digest(known)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut inactive = pierre_store::A2AClient::new("off", &hash);
    inactive.is_active = false;
    db.store.create_a2a_client(&inactive).await?;
    assert!(
        db.store.authenticate_a2a_client(known).await?.is_none(),
        "inactive clients are refused"
    );
    assert!(db.store.get_a2a_client(inactive.id).await?.is_some());
    Ok(())
}

async fn lookups_keep_completing_while_passwords_hash<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let id = db
        .store
        .create_user(&User::new("busy@example.com", "hash"))
        .await?;
    // 16 hashes keep the cores busy for a good while (each one is ~19 MiB, 2 passes).
    let hashing: Vec<_> = (0..16)
        .map(|n| tokio::spawn(async move { password::hash(&format!("pw-{n}")).await }))
        .collect();
    let started = Instant::now();
    assert!(db.store.get_user(id).await?.is_some());
    let lookup_took = started.elapsed();
    let all_done_by_then = hashing.iter().all(tokio::task::JoinHandle::is_finished);
    for task in hashing {
        assert!(task.await??.starts_with("$argon2id$"));
    }
    // The hashes run on the blocking pool, so the executor's one thread stays free and the
    // lookup finishes while hashing goes on. Had they run on the executor, it would run
    // every hash task to completion before it could finish the lookup.
    assert!(
        !all_done_by_then,
        "the lookup ({lookup_took:?}) waited for every hash to finish"
    );
    Ok(())
}

/// A2A clients with the guarantees of API keys: a deactivated client stops authenticating
/// until it is activated again; a revoked one stops for good (it cannot be reactivated),
/// stays listed with the time of its revocation, and revoking again changes nothing.
async fn deactivated_and_revoked_a2a_clients_do_not_authenticate<B: TestBackend>()
-> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let (client, secret) = db.store.issue_a2a_client("agent", vec![], 100).await?;
    assert!(db.store.authenticate_a2a_client(&secret).await?.is_some());

    db.store.set_a2a_client_active(client.id, false).await?;
    assert!(
        db.store.authenticate_a2a_client(&secret).await?.is_none(),
        "inactive"
    );
    db.store.set_a2a_client_active(client.id, true).await?;
    assert!(
        db.store.authenticate_a2a_client(&secret).await?.is_some(),
        "active again"
    );

    db.store.revoke_a2a_client(client.id).await?;
    assert!(
        db.store.authenticate_a2a_client(&secret).await?.is_none(),
        "revoked"
    );
    let revoked = db
        .store
        .get_a2a_client(client.id)
        .await?
        .expect("still listed");
    assert!(!revoked.is_active);
    let revoked_at = revoked.revoked_at.expect("revocation time kept");
    db.store.revoke_a2a_client(client.id).await?;
    assert_eq!(
        db.store.get_a2a_client(client.id).await?,
        Some(revoked.clone()),
        "revoking again changes nothing"
    );
    assert_eq!(revoked.revoked_at, Some(revoked_at));

    let err = db
        .store
        .set_a2a_client_active(client.id, true)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Conflict { entity: "a2a client", constraint } if constraint.contains("revoked")),
        "{err:?}"
    );
    assert_eq!(db.store.get_a2a_client(client.id).await?, Some(revoked));
    assert!(db.store.authenticate_a2a_client(&secret).await?.is_none());
    db.store.set_a2a_client_active(client.id, false).await?;

    for err in [
        db.store
            .revoke_a2a_client(A2AClientId::new())
            .await
            .unwrap_err(),
        db.store
            .set_a2a_client_active(A2AClientId::new(), true)
            .await
            .unwrap_err(),
    ] {
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
    }

    // A client stored as revoked cannot be stored active.
    let mut stored = pierre_store::A2AClient::new("copied", "copied-hash");
    stored.revoked_at = Some(OffsetDateTime::now_utc());
    let err = db.store.create_a2a_client(&stored).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidInput {
                field: "is_active",
                ..
            }
        ),
        "{err:?}"
    );
    Ok(())
}

/// A failed login for a known email takes as long as one for an unknown email, whatever the
/// password's length (over [`password::MAX_PASSWORD_LEN`] included). The four kinds of
/// attempt take turns, and their medians are compared with a generous bound: the machine's
/// noise moves single samples a lot, a leak (a skipped Argon2 verification) is ~100x.
async fn login_time_does_not_tell_whether_the_email_exists<B: TestBackend>() -> eyre::Result<()> {
    const ROUNDS: usize = 15;
    let db = TestDb::<B>::new().await?;
    user_with_password(
        &db,
        "known@example.com",
        "the right one",
        UserStatus::Active,
    )
    .await?;
    let long = "x".repeat(password::MAX_PASSWORD_LEN * 4);
    let attempts = [
        ("known", "known@example.com", "short wrong"),
        ("unknown", "unknown@example.com", "short wrong"),
        ("known", "known@example.com", long.as_str()),
        ("unknown", "unknown@example.com", long.as_str()),
    ];
    let mut samples = vec![Vec::with_capacity(ROUNDS); attempts.len()];
    for round in 0..ROUNDS {
        for turn in 0..attempts.len() {
            // A different kind goes first in each round.
            let kind = (round + turn) % attempts.len();
            let (_, email, pw) = attempts[kind];
            let started = Instant::now();
            assert!(db.store.verify_user_password(email, pw).await?.is_none());
            samples[kind].push(started.elapsed());
        }
    }
    let medians: Vec<_> = samples
        .iter_mut()
        .map(|s| {
            s.sort();
            s[ROUNDS / 2]
        })
        .collect();
    println!(
        "median login time, known/unknown email: short password {:?}/{:?}, long {:?}/{:?}",
        medians[0], medians[1], medians[2], medians[3]
    );
    for (known, unknown, length) in [(0, 1, "short"), (2, 3, "long")] {
        let ratio = medians[known].as_secs_f64() / medians[unknown].as_secs_f64();
        assert!(
            (0.5..=2.0).contains(&ratio),
            "{length} password: known email {:?}, unknown email {:?} (median of {ROUNDS}): ratio {ratio:.3}",
            medians[known],
            medians[unknown]
        );
    }
    Ok(())
}
