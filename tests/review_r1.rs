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
    ; to_each_other: copy_keeps_a_long_text_or_refuses_it, copy_keeps_a_long_usage_endpoint_or_refuses_it,
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
