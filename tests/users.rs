//! Users: round trips, email rules, conflicts, last-active, deletion cascade.

mod common;

use common::{TestBackend, TestDb};
use pierre_store::{Error, User, UserId, UserStatus, UserTier};
use time::macros::datetime;

backend_tests!(
    round_trip_keeps_every_field,
    round_trip_of_defaults,
    email_is_trimmed_and_lower_cased_on_write_and_lookup,
    duplicate_email_is_a_conflict,
    invalid_users_are_rejected_and_nothing_is_written,
    missing_user_reads_as_none,
    update_last_active_moves_forward_and_reports_missing_user,
    deleting_a_user_takes_its_rows_with_it,
);

async fn round_trip_keeps_every_field<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let admin = User::new("admin@example.com", "hash-a");
    db.store.create_user(&admin).await?;

    let mut user = User::new(
        "full@example.com",
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
    );
    user.firstname = Some("Zoë".into());
    user.lastname = Some("O'Brien; DROP TABLE users; --".into());
    user.status = UserStatus::Suspended;
    user.is_admin = true;
    user.tier = UserTier::Enterprise;
    user.rate_limit_multiplier = 2.5;
    // Microsecond precision, including trailing zeros that a text encoding would trim.
    user.created_at = datetime!(2024-02-29 23:59:59.123456 UTC);
    user.updated_at = datetime!(2024-03-01 00:00:00.100000 UTC);
    user.last_active = datetime!(2024-03-01 00:00:00.000001 UTC);
    user.approved_at = Some(datetime!(2024-03-02 12:00:00 UTC));
    user.approved_by = Some(admin.id);
    user.suspended_at = Some(datetime!(2024-03-03 08:30:00.5 UTC));
    user.suspended_by = Some(admin.id);
    user.suspension_reason = Some("abuse".into());

    assert_eq!(db.store.create_user(&user).await?, user.id);
    let stored = db.store.get_user(user.id).await?.expect("user stored");
    assert_eq!(stored, user);
    Ok(())
}

async fn round_trip_of_defaults<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let user = User::new("plain@example.com", "hash");
    db.store.create_user(&user).await?;
    let stored = db.store.get_user(user.id).await?.expect("user stored");
    assert_eq!(stored, user);
    assert_eq!(stored.status, UserStatus::Pending);
    assert_eq!(stored.tier, UserTier::Free);
    assert_eq!(stored.firstname, None);
    assert_eq!(stored.approved_by, None);
    assert_eq!(
        stored.created_at.nanosecond() % 1_000,
        0,
        "whole microseconds"
    );
    Ok(())
}

async fn email_is_trimmed_and_lower_cased_on_write_and_lookup<B: TestBackend>() -> eyre::Result<()>
{
    let db = TestDb::<B>::new().await?;
    let user = User::new("  Alice@Example.COM ", "hash");
    db.store.create_user(&user).await?;

    let stored = db.store.get_user(user.id).await?.expect("user stored");
    assert_eq!(stored.email, "alice@example.com");
    for lookup in [
        "alice@example.com",
        "ALICE@EXAMPLE.COM",
        " Alice@example.com\t",
    ] {
        let found = db.store.get_user_by_email(lookup).await?;
        assert_eq!(found.map(|u| u.id), Some(user.id), "lookup {lookup:?}");
    }
    assert!(
        db.store
            .get_user_by_email("bob@example.com")
            .await?
            .is_none()
    );
    assert!(db.store.get_user_by_email("not an email").await?.is_none());
    Ok(())
}

async fn duplicate_email_is_a_conflict<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let first = User::new("alice@example.com", "hash");
    db.store.create_user(&first).await?;

    let again = User::new("ALICE@example.com", "other");
    let err = db.store.create_user(&again).await.unwrap_err();
    assert!(
        matches!(err, Error::Conflict { entity: "user", .. }),
        "{err:?}"
    );
    assert!(db.store.get_user(again.id).await?.is_none());

    let same_id = User {
        email: "other@example.com".into(),
        ..first.clone()
    };
    let err = db.store.create_user(&same_id).await.unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
    Ok(())
}

async fn invalid_users_are_rejected_and_nothing_is_written<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let long_local = format!("{}@example.com", "a".repeat(250));
    let bad_emails = [
        "",
        "   ",
        "no-at-sign",
        "@example.com",
        "alice@",
        "alice@localhost",
        "a@b@c.com",
        "alice @example.com",
        "alice@example..com",
        "alice@.example.com",
        &long_local,
        "nul\0@example.com",
    ];
    for email in bad_emails {
        let err = db
            .store
            .create_user(&User::new(email, "hash"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidInput { field: "email", .. }),
            "{email:?}: {err:?}"
        );
    }
    let mut user = User::new("ok@example.com", "");
    let err = db.store.create_user(&user).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidInput {
                field: "password_hash",
                ..
            }
        ),
        "{err:?}"
    );

    user.password_hash = "hash".into();
    user.firstname = Some("x".repeat(256));
    let err = db.store.create_user(&user).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidInput {
                field: "firstname",
                ..
            }
        ),
        "{err:?}"
    );

    user.firstname = None;
    user.rate_limit_multiplier = f64::NAN;
    let err = db.store.create_user(&user).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidInput {
                field: "rate_limit_multiplier",
                ..
            }
        ),
        "{err:?}"
    );

    user.rate_limit_multiplier = 1.0;
    user.approved_at = Some(datetime!(-0001-01-01 00:00 UTC));
    let err = db.store.create_user(&user).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidInput {
                field: "approved_at",
                ..
            }
        ),
        "{err:?}"
    );

    user.approved_at = None;
    user.approved_by = Some(UserId::new());
    let err = db.store.create_user(&user).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");

    assert_eq!(
        B::raw_count(&db.url, "users").await?,
        0,
        "no rejected user was written"
    );
    Ok(())
}

async fn missing_user_reads_as_none<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    assert!(db.store.get_user(UserId::new()).await?.is_none());
    Ok(())
}

async fn update_last_active_moves_forward_and_reports_missing_user<B: TestBackend>()
-> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let mut user = User::new("active@example.com", "hash");
    user.last_active = datetime!(2020-01-01 00:00 UTC);
    db.store.create_user(&user).await?;

    db.store.update_last_active(user.id).await?;
    let stored = db.store.get_user(user.id).await?.expect("user stored");
    assert!(stored.last_active > user.last_active);
    assert_eq!(
        stored.created_at, user.created_at,
        "only last_active changes"
    );

    let missing = UserId::new();
    let err = db.store.update_last_active(missing).await.unwrap_err();
    assert!(
        matches!(err, Error::NotFound { entity: "user", .. }),
        "{err:?}"
    );
    Ok(())
}

async fn deleting_a_user_takes_its_rows_with_it<B: TestBackend>() -> eyre::Result<()> {
    use pierre_store::{
        Activity, ApiKey, ApiKeyUsage, JwtUsage, OAuthProvider, OAuthToken, Tenant,
    };
    let db = TestDb::<B>::new().await?;
    let keep = User::new("keep@example.com", "hash");
    let gone = User::new("gone@example.com", "hash");
    // Owned by the user who stays: deleting a tenant's owner is refused (tests/tenants.rs).
    let tenant = Tenant::new("T", "t", keep.id);
    for user in [&keep, &gone] {
        db.store.create_user(user).await?;
        if user.id == keep.id {
            db.store.create_tenant(&tenant).await?;
        }
        let token = OAuthToken {
            access_token: "access".into(),
            refresh_token: None,
            expires_at: None,
            scope: None,
        };
        db.store
            .upsert_oauth_token(user.id, OAuthProvider::Garmin, &token)
            .await?;
        let key = ApiKey::new(user.id, "key", &format!("hash-{}", user.id), "pk_");
        db.store.create_api_key(&key).await?;
        db.store
            .record_api_usage(&ApiKeyUsage::new(key.id, "/x", "GET", 200))
            .await?;
        db.store
            .record_jwt_usage(&JwtUsage::new(user.id, "/x", "GET", 200))
            .await?;
        let activity = Activity::new(
            user.id,
            "Run",
            "run",
            1.0,
            1,
            time::OffsetDateTime::now_utc(),
        );
        db.store.create_activity(tenant.id, &activity).await?;
    }
    assert!(db.store.delete_user(gone.id).await?);
    assert!(
        !db.store.delete_user(gone.id).await?,
        "second delete finds nothing"
    );
    assert_eq!(B::raw_count(&db.url, "tenants").await?, 1);
    for table in [
        "users",
        "user_oauth_tokens",
        "api_keys",
        "api_key_usage",
        "jwt_usage",
        "activities",
    ] {
        assert_eq!(
            B::raw_count(&db.url, table).await?,
            1,
            "{table} keeps only the other user's row"
        );
    }
    assert!(
        db.store
            .get_oauth_token(keep.id, OAuthProvider::Garmin)
            .await?
            .is_some()
    );
    Ok(())
}
