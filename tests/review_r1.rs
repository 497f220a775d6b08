//! Reviewer 1's checks of the MySQL backend against the other two: trailing spaces in
//! unique keys, a refused user delete keeping usage, far-past timestamps.

mod common;

use common::{PerBackend, TestBackend, TestDb};
use pierre_store::{ApiKey, ApiKeyUsage, Error, Tenant, User};
use time::macros::datetime;

backend_tests!(
    refused_delete_of_a_tenant_owner_keeps_its_usage,
    year_500_timestamps_round_trip,
    duplicate_email_conflict_names_the_rule_not_the_email,
    usage_recorded_while_its_user_is_deleted_leaves_no_orphan,
);

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
