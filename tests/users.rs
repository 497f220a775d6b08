//! Users: round trips, email rules, conflicts, last-active, deletion cascade; the
//! administration: listing by status and tier a page at a time, approval, suspension,
//! reactivation, profile and tier updates.

mod common;

use common::{TestBackend, TestDb};
use pierre_store::{
    ApiKey, ApiKeyTier, ApiKeyUsage, Error, Tenant, User, UserCursor, UserFilter, UserId,
    UserProfile, UserStatus, UserTier,
};
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
    list_users_pages_by_status_and_tier_in_creation_order,
    list_users_refuses_bad_page_sizes_and_cursors,
    approve_records_who_and_when_and_refuses_other_states,
    approving_or_suspending_by_an_unknown_admin_changes_nothing,
    suspension_takes_effect_on_the_next_authentication_and_reactivation_undoes_it,
    suspend_refuses_bad_reasons_and_other_states,
    profile_and_tier_updates_change_only_their_fields,
    reactivating_a_never_approved_user_returns_it_to_pending,
    refused_delete_of_a_tenant_owner_keeps_its_usage,
    year_500_timestamps_round_trip,
    duplicate_email_conflict_names_the_rule_not_the_email,
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

/// A user created at `created_at` (seconds after a fixed instant) with this status and tier.
async fn seeded<B: TestBackend>(
    db: &TestDb<B>,
    email: &str,
    created_at: i64,
    status: UserStatus,
    tier: UserTier,
) -> eyre::Result<User> {
    let mut user = User::new(email, "hash");
    user.created_at = datetime!(2024-01-01 00:00 UTC) + time::Duration::seconds(created_at);
    user.status = status;
    user.tier = tier;
    db.store.create_user(&user).await?;
    Ok(user)
}

/// Every user `filter` selects, read `limit` at a time, with the cursor passed back as
/// text (as a server would through a URL).
async fn all_pages<B: TestBackend>(
    db: &TestDb<B>,
    filter: &UserFilter,
    limit: u32,
) -> eyre::Result<(Vec<UserId>, usize)> {
    let (mut ids, mut pages, mut after) = (Vec::new(), 0, None);
    loop {
        let page = db.store.list_users(filter, after, limit).await?;
        assert!(page.users.len() <= limit as usize);
        pages += 1;
        ids.extend(page.users.iter().map(|u| u.id));
        match page.next {
            Some(cursor) => after = Some(cursor.to_string().parse::<UserCursor>()?),
            None => return Ok((ids, pages)),
        }
    }
}

async fn list_users_pages_by_status_and_tier_in_creation_order<B: TestBackend>() -> eyre::Result<()>
{
    use UserStatus::{Active, Deleted, Pending, Suspended};
    use UserTier::{Basic, Enterprise, Free};
    let db = TestDb::<B>::new().await?;
    // Two pairs share a creation instant: the id breaks the tie.
    let users = [
        seeded(&db, "p1@example.com", 30, Pending, Free).await?,
        seeded(&db, "p2@example.com", 10, Pending, Basic).await?,
        seeded(&db, "p3@example.com", 20, Pending, Free).await?,
        seeded(&db, "p4@example.com", 20, Pending, Enterprise).await?,
        seeded(&db, "a1@example.com", 10, Active, Free).await?,
        seeded(&db, "a2@example.com", 40, Active, Basic).await?,
        seeded(&db, "s1@example.com", 5, Suspended, Free).await?,
        seeded(&db, "d1@example.com", 20, Deleted, Free).await?,
    ];
    let expected = |keep: &dyn Fn(&User) -> bool| {
        let mut chosen: Vec<&User> = users.iter().filter(|u| keep(u)).collect();
        chosen.sort_by_key(|u| (u.created_at, u.id.into_inner()));
        chosen.into_iter().map(|u| u.id).collect::<Vec<_>>()
    };

    let pending = UserFilter {
        statuses: vec![Pending],
        ..UserFilter::default()
    };
    let (ids, pages) = all_pages(&db, &pending, 2).await?;
    assert_eq!(
        ids,
        expected(&|u| u.status == Pending),
        "the approval queue"
    );
    assert_eq!(
        pages, 2,
        "4 pending users in pages of 2: no empty third page"
    );
    let first = db.store.list_users(&pending, None, 3).await?;
    assert_eq!(first.users.len(), 3);
    assert_eq!(first.users[0], users[1], "whole rows come back");

    let free = UserFilter {
        tiers: vec![Free],
        ..UserFilter::default()
    };
    assert_eq!(
        all_pages(&db, &free, 1).await?.0,
        expected(&|u| u.tier == Free)
    );
    let both = UserFilter {
        statuses: vec![Pending, Active],
        tiers: vec![Free, Basic],
    };
    assert_eq!(
        all_pages(&db, &both, 2).await?.0,
        expected(&|u| matches!(u.status, Pending | Active) && matches!(u.tier, Free | Basic))
    );
    assert_eq!(
        all_pages(&db, &UserFilter::default(), 3).await?.0,
        expected(&|_| true),
        "no filter: every user"
    );
    let none = UserFilter {
        statuses: vec![Suspended],
        tiers: vec![Enterprise],
    };
    let page = db.store.list_users(&none, None, 10).await?;
    assert!(page.users.is_empty() && page.next.is_none());
    Ok(())
}

async fn list_users_refuses_bad_page_sizes_and_cursors<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    seeded(&db, "u@example.com", 0, UserStatus::Pending, UserTier::Free).await?;
    for limit in [0, 1001, u32::MAX] {
        let err = db
            .store
            .list_users(&UserFilter::default(), None, limit)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidInput { field: "limit", .. }),
            "{limit}: {err:?}"
        );
    }
    assert_eq!(
        db.store
            .list_users(&UserFilter::default(), None, 1000)
            .await?
            .users
            .len(),
        1
    );
    for text in [
        "",
        "garbage",
        "1_not-a-uuid",
        "x_00000000-0000-0000-0000-000000000000",
        "99999999999999999999_00000000-0000-0000-0000-000000000000",
        "-62135596800000001_00000000-0000-0000-0000-000000000000",
    ] {
        let err = text.parse::<UserCursor>().unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidInput {
                    field: "cursor",
                    ..
                }
            ),
            "{text:?}: {err:?}"
        );
    }
    Ok(())
}

/// Asserts that `result` is an `InvalidInput` on `status` whose reason contains `words`.
fn assert_illegal(result: pierre_store::Result<()>, words: &str) {
    match result {
        Err(Error::InvalidInput {
            field: "status",
            reason,
        }) => assert!(reason.contains(words), "{reason:?} lacks {words:?}"),
        other => panic!("expected an illegal transition ({words}), got {other:?}"),
    }
}

fn assert_not_found(result: pierre_store::Result<()>, id: UserId) {
    match result {
        Err(Error::NotFound {
            entity: "user",
            id: found,
        }) => assert_eq!(found, id.to_string()),
        other => panic!("expected NotFound for user {id}, got {other:?}"),
    }
}

async fn approve_records_who_and_when_and_refuses_other_states<B: TestBackend>() -> eyre::Result<()>
{
    let db = TestDb::<B>::new().await?;
    let admin = seeded(
        &db,
        "admin@example.com",
        0,
        UserStatus::Active,
        UserTier::Free,
    )
    .await?;
    let user = seeded(
        &db,
        "new@example.com",
        1,
        UserStatus::Pending,
        UserTier::Basic,
    )
    .await?;
    let before = time::OffsetDateTime::now_utc() - time::Duration::seconds(1);

    db.store.approve_user(user.id, admin.id).await?;
    let approved = db.store.get_user(user.id).await?.expect("stored");
    assert_eq!(approved.status, UserStatus::Active);
    assert_eq!(approved.approved_by, Some(admin.id));
    let at = approved.approved_at.expect("approved_at set");
    assert!(at > before, "approved now: {at}");
    assert_eq!(approved.updated_at, at);
    assert_eq!(
        User {
            status: user.status,
            approved_at: None,
            approved_by: None,
            updated_at: user.updated_at,
            ..approved.clone()
        },
        user,
        "nothing else changes"
    );

    assert_illegal(
        db.store.approve_user(user.id, admin.id).await,
        "cannot approve an active user",
    );
    let deleted = seeded(
        &db,
        "gone@example.com",
        2,
        UserStatus::Deleted,
        UserTier::Free,
    )
    .await?;
    assert_illegal(
        db.store.approve_user(deleted.id, admin.id).await,
        "cannot approve a deleted user",
    );
    let suspended = seeded(
        &db,
        "s@example.com",
        3,
        UserStatus::Suspended,
        UserTier::Free,
    )
    .await?;
    assert_illegal(
        db.store.approve_user(suspended.id, admin.id).await,
        "pending -> active",
    );
    assert_eq!(db.store.get_user(deleted.id).await?, Some(deleted));
    assert_eq!(db.store.get_user(suspended.id).await?, Some(suspended));
    assert_eq!(db.store.get_user(user.id).await?, Some(approved));

    let missing = UserId::new();
    assert_not_found(db.store.approve_user(missing, admin.id).await, missing);
    Ok(())
}

async fn approving_or_suspending_by_an_unknown_admin_changes_nothing<B: TestBackend>()
-> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let user = seeded(
        &db,
        "new@example.com",
        1,
        UserStatus::Pending,
        UserTier::Free,
    )
    .await?;
    let nobody = UserId::new();
    for result in [
        db.store.approve_user(user.id, nobody).await,
        db.store.suspend_user(user.id, nobody, "spam").await,
    ] {
        assert_not_found(result, nobody);
    }
    db.store.suspend_user(user.id, user.id, "self").await?;
    assert_not_found(db.store.reactivate_user(user.id, nobody).await, nobody);
    let stored = db.store.get_user(user.id).await?.expect("stored");
    assert_eq!(stored.status, UserStatus::Suspended);
    assert_eq!(
        stored.suspended_by,
        Some(user.id),
        "any existing user may act"
    );
    Ok(())
}

async fn suspension_takes_effect_on_the_next_authentication_and_reactivation_undoes_it<
    B: TestBackend,
>() -> eyre::Result<()> {
    // As the README tells production to run: an ordinary role on PostgreSQL.
    let db = TestDb::<B>::new_as_app_role().await?;
    let admin = seeded(
        &db,
        "admin@example.com",
        0,
        UserStatus::Active,
        UserTier::Free,
    )
    .await?;
    let user = seeded(&db, "u@example.com", 1, UserStatus::Pending, UserTier::Free).await?;
    db.store.approve_user(user.id, admin.id).await?;
    let (_, plaintext) = db
        .store
        .issue_api_key(user.id, "k", ApiKeyTier::Trial, vec![], None)
        .await?;
    let key = plaintext.expose();
    assert!(db.store.authenticate_api_key(key).await?.is_some());

    db.store
        .suspend_user(user.id, admin.id, "chargeback")
        .await?;
    assert!(
        db.store.authenticate_api_key(key).await?.is_none(),
        "the very next authentication is refused"
    );
    let suspended = db.store.get_user(user.id).await?.expect("stored");
    assert_eq!(suspended.status, UserStatus::Suspended);
    assert_eq!(suspended.suspended_by, Some(admin.id));
    assert_eq!(suspended.suspension_reason.as_deref(), Some("chargeback"));
    let at = suspended.suspended_at.expect("suspended_at set");
    assert_eq!(suspended.updated_at, at);

    let other_admin = seeded(
        &db,
        "admin2@example.com",
        2,
        UserStatus::Active,
        UserTier::Free,
    )
    .await?;
    db.store.reactivate_user(user.id, other_admin.id).await?;
    let back = db.store.get_user(user.id).await?.expect("stored");
    assert_eq!(back.status, UserStatus::Active);
    assert_eq!(
        (back.suspended_at, back.suspended_by, back.suspension_reason),
        (None, None, None),
        "suspension fields describe the current suspension only"
    );
    assert_eq!(back.approved_by, Some(other_admin.id), "who reactivated");
    assert!(back.approved_at.expect("approved_at") >= at);
    let usage = db
        .store
        .authenticate_api_key(key)
        .await?
        .expect("works again");
    assert_eq!(usage.usage_count, 2, "the refused attempt was not counted");

    assert_illegal(
        db.store.reactivate_user(user.id, admin.id).await,
        "cannot reactivate an active user (suspended -> active, or pending if never approved)",
    );
    let missing = UserId::new();
    assert_not_found(db.store.reactivate_user(missing, admin.id).await, missing);
    Ok(())
}

/// Suspending a sign-up that was never approved and lifting the suspension does not
/// approve it: it goes back to `pending`, with no approval recorded.
async fn reactivating_a_never_approved_user_returns_it_to_pending<B: TestBackend>()
-> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let admin = seeded(
        &db,
        "admin@example.com",
        0,
        UserStatus::Active,
        UserTier::Free,
    )
    .await?;
    let user = seeded(&db, "u@example.com", 1, UserStatus::Pending, UserTier::Free).await?;
    db.store.suspend_user(user.id, admin.id, "spam?").await?;
    db.store.reactivate_user(user.id, admin.id).await?;
    let back = db.store.get_user(user.id).await?.expect("stored");
    assert_eq!(back.status, UserStatus::Pending, "still awaiting approval");
    assert_eq!((back.approved_at, back.approved_by), (None, None));
    assert_eq!(
        (back.suspended_at, back.suspended_by, back.suspension_reason),
        (None, None, None)
    );
    db.store.approve_user(user.id, admin.id).await?;
    let approved = db.store.get_user(user.id).await?.expect("stored");
    assert_eq!(approved.status, UserStatus::Active);
    assert_eq!(approved.approved_by, Some(admin.id));
    Ok(())
}

async fn suspend_refuses_bad_reasons_and_other_states<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let admin = seeded(
        &db,
        "admin@example.com",
        0,
        UserStatus::Active,
        UserTier::Free,
    )
    .await?;
    let user = seeded(&db, "u@example.com", 1, UserStatus::Active, UserTier::Free).await?;
    for reason in ["", "  ", "a\0b", &"r".repeat(4097)] {
        let err = db
            .store
            .suspend_user(user.id, admin.id, reason)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidInput {
                    field: "suspension_reason",
                    ..
                }
            ),
            "{err:?}"
        );
    }
    assert_eq!(db.store.get_user(user.id).await?, Some(user.clone()));

    let pending = seeded(&db, "p@example.com", 2, UserStatus::Pending, UserTier::Free).await?;
    db.store.suspend_user(pending.id, admin.id, "spam").await?;
    assert_illegal(
        db.store.suspend_user(pending.id, admin.id, "again").await,
        "cannot suspend a suspended user",
    );
    let stored = db.store.get_user(pending.id).await?.expect("stored");
    assert_eq!(
        stored.suspension_reason.as_deref(),
        Some("spam"),
        "the first suspension is kept"
    );
    let deleted = seeded(&db, "d@example.com", 3, UserStatus::Deleted, UserTier::Free).await?;
    assert_illegal(
        db.store.suspend_user(deleted.id, admin.id, "x").await,
        "cannot suspend a deleted user",
    );
    assert_eq!(db.store.get_user(deleted.id).await?, Some(deleted));
    let missing = UserId::new();
    assert_not_found(db.store.suspend_user(missing, admin.id, "x").await, missing);
    Ok(())
}

async fn profile_and_tier_updates_change_only_their_fields<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let mut user = User::new("u@example.com", "hash");
    user.status = UserStatus::Active;
    user.firstname = Some("Old".into());
    user.lastname = Some("Name".into());
    user.updated_at = datetime!(2024-01-01 00:00 UTC);
    db.store.create_user(&user).await?;

    let profile = UserProfile {
        firstname: Some("Zoë".into()),
        lastname: None,
    };
    db.store.update_user_profile(user.id, &profile).await?;
    let stored = db.store.get_user(user.id).await?.expect("stored");
    assert_eq!(stored.firstname.as_deref(), Some("Zoë"));
    assert_eq!(stored.lastname, None, "None clears the field");
    assert!(stored.updated_at > user.updated_at);
    assert_eq!(
        User {
            firstname: user.firstname.clone(),
            lastname: user.lastname.clone(),
            updated_at: user.updated_at,
            ..stored.clone()
        },
        user
    );

    db.store
        .update_user_tier(user.id, UserTier::Enterprise)
        .await?;
    let tiered = db.store.get_user(user.id).await?.expect("stored");
    assert_eq!(tiered.tier, UserTier::Enterprise);
    assert_eq!(
        User {
            tier: stored.tier,
            updated_at: stored.updated_at,
            ..tiered.clone()
        },
        stored
    );

    for (profile, field) in [
        (
            UserProfile {
                firstname: Some("x".repeat(256)),
                lastname: None,
            },
            "firstname",
        ),
        (
            UserProfile {
                firstname: None,
                lastname: Some("a\0b".into()),
            },
            "lastname",
        ),
    ] {
        let err = db
            .store
            .update_user_profile(user.id, &profile)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidInput { field: f, .. } if f == field),
            "{err:?}"
        );
    }
    assert_eq!(db.store.get_user(user.id).await?, Some(tiered));

    let deleted = seeded(&db, "d@example.com", 3, UserStatus::Deleted, UserTier::Free).await?;
    assert_illegal(
        db.store.update_user_profile(deleted.id, &profile).await,
        "cannot update the profile of a deleted user",
    );
    assert_illegal(
        db.store.update_user_tier(deleted.id, UserTier::Basic).await,
        "cannot update the tier of a deleted user",
    );
    assert_eq!(db.store.get_user(deleted.id).await?, Some(deleted));
    let missing = UserId::new();
    assert_not_found(
        db.store.update_user_profile(missing, &profile).await,
        missing,
    );
    assert_not_found(
        db.store.update_user_tier(missing, UserTier::Basic).await,
        missing,
    );
    Ok(())
}

/// A delete refused because the user owns a tenant takes nothing with it: its usage stays.
async fn refused_delete_of_a_tenant_owner_keeps_its_usage<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let user = db
        .store
        .create_user(&User::new("o@example.com", "hash"))
        .await?;
    db.store.create_tenant(&Tenant::new("T", "t", user)).await?;
    let key = ApiKey::new(user, "key", "h", "p");
    db.store.create_api_key(&key).await?;
    db.store
        .record_api_usage(&ApiKeyUsage::new(key.id, "/a", "GET", 200))
        .await?;
    let refused = db.store.delete_user(user).await;
    assert!(
        matches!(refused, Err(Error::Conflict { .. })),
        "{refused:?}"
    );
    assert_eq!(db.store.get_usage_stats(user).await?.total_requests, 1);
    Ok(())
}

/// Timestamps far from now, to the microsecond, at both ends of the range every backend
/// stores.
async fn year_500_timestamps_round_trip<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let mut user = User::new("old@example.com", "hash");
    user.created_at = datetime!(0500-03-01 12:00:00.123456 UTC);
    user.updated_at = datetime!(0001-01-01 00:00:00 UTC);
    user.last_active = datetime!(9999-12-31 23:59:59.999999 UTC);
    let id = db.store.create_user(&user).await?;
    assert_eq!(db.store.get_user(id).await?, Some(user));
    Ok(())
}

/// A duplicate email's conflict names the rule, never the email (which is personal data).
async fn duplicate_email_conflict_names_the_rule_not_the_email<B: TestBackend>() -> eyre::Result<()>
{
    let db = TestDb::<B>::new().await?;
    db.store
        .create_user(&User::new("secret.person@example.com", "hash"))
        .await?;
    let err = db
        .store
        .create_user(&User::new("secret.person@example.com", "hash"))
        .await
        .expect_err("duplicate");
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
    assert!(!err.to_string().contains("secret.person"), "{err}");
    Ok(())
}
