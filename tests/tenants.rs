//! Tenants: round trips, lookups, updates and the uniqueness of slug and domain.

mod common;

use common::{TestBackend, TestDb};
use pierre_store::{Activity, Error, Tenant, TenantId, TenantPlan, User, UserId};
use time::macros::datetime;

backend_tests!(
    tenant_round_trip_and_lookup_by_slug,
    update_writes_every_field_and_bumps_updated_at,
    update_of_a_missing_tenant_is_not_found,
    duplicate_slug_or_domain_is_a_conflict_on_create_and_update,
    invalid_tenants_are_rejected_and_nothing_is_written,
    deleting_a_tenant_owner_is_refused_and_keeps_other_users_activities,
    deleting_a_tenant_removes_its_activities_and_reports_them,
    deleting_a_tenant_while_activities_are_added_reports_every_one_it_removed,
);

async fn owner<B: TestBackend>(db: &TestDb<B>, email: &str) -> eyre::Result<UserId> {
    Ok(db.store.create_user(&User::new(email, "hash")).await?)
}

async fn tenant_round_trip_and_lookup_by_slug<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let owner = owner(&db, "o@example.com").await?;
    let mut tenant = Tenant::new("Acme Running Club", "acme-run-2", owner);
    tenant.domain = Some("run.acme.example".into());
    tenant.plan = TenantPlan::Enterprise;
    tenant.is_active = false;
    tenant.created_at = datetime!(2024-12-31 23:59:59.999999 UTC);
    tenant.updated_at = datetime!(2025-01-01 00:00:00.000001 UTC);
    assert_eq!(db.store.create_tenant(&tenant).await?, tenant.id);
    assert_eq!(db.store.get_tenant(tenant.id).await?, Some(tenant.clone()));
    assert_eq!(
        db.store.get_tenant_by_slug("acme-run-2").await?,
        Some(tenant)
    );
    assert_eq!(db.store.get_tenant_by_slug("nope").await?, None);
    assert_eq!(db.store.get_tenant(TenantId::new()).await?, None);

    let plain = Tenant::new("Plain", "plain", owner);
    db.store.create_tenant(&plain).await?;
    let stored = db.store.get_tenant(plain.id).await?.expect("stored");
    assert_eq!(
        (stored.plan, stored.domain, stored.is_active),
        (TenantPlan::Starter, None, true)
    );
    Ok(())
}

async fn update_writes_every_field_and_bumps_updated_at<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let first = owner(&db, "first@example.com").await?;
    let second = owner(&db, "second@example.com").await?;
    let mut tenant = Tenant::new("Old", "old", first);
    tenant.updated_at = datetime!(2020-01-01 00:00 UTC);
    db.store.create_tenant(&tenant).await?;

    let changed = Tenant {
        name: "New".into(),
        slug: "new".into(),
        domain: Some("new.example".into()),
        plan: TenantPlan::Professional,
        owner_user_id: second,
        is_active: false,
        ..tenant.clone()
    };
    db.store.update_tenant(&changed).await?;
    let stored = db.store.get_tenant(tenant.id).await?.expect("stored");
    assert!(stored.updated_at > tenant.updated_at, "updated_at bumped");
    assert_eq!(stored.created_at, tenant.created_at, "created_at kept");
    assert_eq!(
        stored,
        Tenant {
            updated_at: stored.updated_at,
            ..changed
        }
    );
    assert_eq!(db.store.get_tenant_by_slug("old").await?, None);

    let err = db
        .store
        .update_tenant(&Tenant {
            owner_user_id: UserId::new(),
            ..stored
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    Ok(())
}

async fn update_of_a_missing_tenant_is_not_found<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let owner = owner(&db, "o@example.com").await?;
    let err = db
        .store
        .update_tenant(&Tenant::new("Ghost", "ghost", owner))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotFound {
                entity: "tenant",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(B::raw_count(&db.url, "tenants").await?, 0);
    Ok(())
}

async fn duplicate_slug_or_domain_is_a_conflict_on_create_and_update<B: TestBackend>()
-> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let owner = owner(&db, "o@example.com").await?;
    let mut a = Tenant::new("A", "alpha", owner);
    a.domain = Some("alpha.example".into());
    db.store.create_tenant(&a).await?;
    let b = Tenant::new("B", "beta", owner);
    db.store.create_tenant(&b).await?;

    let err = db
        .store
        .create_tenant(&Tenant::new("C", "alpha", owner))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Conflict {
                entity: "tenant",
                ..
            }
        ),
        "slug: {err:?}"
    );
    let mut same_domain = Tenant::new("D", "delta", owner);
    same_domain.domain = Some("alpha.example".into());
    let err = db.store.create_tenant(&same_domain).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Conflict {
                entity: "tenant",
                ..
            }
        ),
        "domain: {err:?}"
    );

    let err = db
        .store
        .update_tenant(&Tenant {
            slug: "alpha".into(),
            ..b.clone()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Conflict { .. }),
        "slug on update: {err:?}"
    );
    let err = db
        .store
        .update_tenant(&Tenant {
            domain: Some("alpha.example".into()),
            ..b.clone()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Conflict { .. }),
        "domain on update: {err:?}"
    );
    assert_eq!(
        db.store.get_tenant(b.id).await?.map(|t| (t.slug, t.domain)),
        Some(("beta".into(), None))
    );

    // Several tenants without a domain are fine.
    db.store
        .create_tenant(&Tenant::new("E", "epsilon", owner))
        .await?;
    Ok(())
}

async fn invalid_tenants_are_rejected_and_nothing_is_written<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let owner_id = owner(&db, "o@example.com").await?;
    let base = Tenant::new("Name", "slug", owner_id);
    let cases: Vec<(&str, Tenant)> = vec![
        (
            "name",
            Tenant {
                name: String::new(),
                ..base.clone()
            },
        ),
        (
            "name",
            Tenant {
                name: "n".repeat(256),
                ..base.clone()
            },
        ),
        (
            "slug",
            Tenant {
                slug: String::new(),
                ..base.clone()
            },
        ),
        (
            "slug",
            Tenant {
                slug: "Upper".into(),
                ..base.clone()
            },
        ),
        (
            "slug",
            Tenant {
                slug: "under_score".into(),
                ..base.clone()
            },
        ),
        (
            "slug",
            Tenant {
                slug: "s".repeat(64),
                ..base.clone()
            },
        ),
        (
            "slug",
            Tenant {
                slug: "ünï".into(),
                ..base.clone()
            },
        ),
        (
            "slug",
            Tenant {
                slug: "a'; --".into(),
                ..base.clone()
            },
        ),
        (
            "domain",
            Tenant {
                domain: Some(String::new()),
                ..base.clone()
            },
        ),
        (
            "domain",
            Tenant {
                domain: Some("has space.example".into()),
                ..base.clone()
            },
        ),
    ];
    for (field, tenant) in cases {
        let err = db.store.create_tenant(&tenant).await.unwrap_err();
        assert!(
            matches!(&err, Error::InvalidInput { field: f, .. } if *f == field),
            "{field}: {err:?}"
        );
    }
    let err = db
        .store
        .create_tenant(&Tenant::new("Orphan", "orphan", UserId::new()))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert_eq!(B::raw_count(&db.url, "tenants").await?, 0);
    db.store
        .create_tenant(&Tenant {
            slug: "s".repeat(63),
            ..base
        })
        .await?;
    Ok(())
}

/// Row counts of the tables a user deletion touches, seen past row-level security.
async fn counts<B: TestBackend>(db: &TestDb<B>) -> eyre::Result<[i64; 3]> {
    let url = db.admin_url();
    Ok([
        B::raw_count(&url, "users").await?,
        B::raw_count(&url, "tenants").await?,
        B::raw_count(&url, "activities").await?,
    ])
}

/// User A owns tenant T, in which user B has activities. Deleting A is refused (it would
/// take B's activities with T) with a `Conflict` naming T, and nothing changes; once T has
/// another owner, A can go, and B's activities stay. On PostgreSQL as the ordinary role
/// that owns the database, under the row-level security policy on `activities`.
async fn deleting_a_tenant_owner_is_refused_and_keeps_other_users_activities<B: TestBackend>()
-> eyre::Result<()> {
    let db = TestDb::<B>::new_as_app_role().await?;
    let a = owner(&db, "a@example.com").await?;
    let b = owner(&db, "b@example.com").await?;
    let mut tenant = Tenant::new("Team", "team-t", a);
    db.store.create_tenant(&tenant).await?;
    let at = datetime!(2025-03-01 07:00 UTC);
    for (user, n) in [(a, 1), (b, 2)] {
        for _ in 0..n {
            let activity = Activity::new(user, "Run", "run", 5.0, 1800, at);
            db.store.create_activity(tenant.id, &activity).await?;
        }
    }
    assert_eq!(counts(&db).await?, [2, 1, 3]);

    let err = db.store.delete_user(a).await.unwrap_err();
    assert!(
        matches!(&err, Error::Conflict { entity: "user", constraint } if constraint.contains("team-t")),
        "{err:?}"
    );
    println!("delete_user(owner): {err}");
    assert_eq!(counts(&db).await?, [2, 1, 3], "nothing changed");
    assert_eq!(
        db.store.get_user_activities(tenant.id, b, 10).await?.len(),
        2
    );

    tenant.owner_user_id = b;
    db.store.update_tenant(&tenant).await?;
    assert!(db.store.delete_user(a).await?);
    assert_eq!(
        counts(&db).await?,
        [1, 1, 2],
        "only A and A's own activity went"
    );
    assert_eq!(
        db.store.get_user_activities(tenant.id, b, 10).await?.len(),
        2
    );
    Ok(())
}

/// `delete_tenant` removes the tenant and every activity in it (soft-deleted ones too,
/// whoever's), keeps the users and other tenants, reports what it removed, and frees the
/// owner for `delete_user`. As the ordinary role on PostgreSQL (row-level security).
async fn deleting_a_tenant_removes_its_activities_and_reports_them<B: TestBackend>()
-> eyre::Result<()> {
    let db = TestDb::<B>::new_as_app_role().await?;
    let a = owner(&db, "a@example.com").await?;
    let b = owner(&db, "b@example.com").await?;
    let gone = Tenant::new("Gone", "gone", a);
    let kept = Tenant::new("Kept", "kept", b);
    let at = datetime!(2025-03-01 07:00 UTC);
    for tenant in [&gone, &kept] {
        db.store.create_tenant(tenant).await?;
        for user in [a, b, b] {
            let activity = Activity::new(user, "Ride", "ride", 20.0, 3600, at);
            db.store.create_activity(tenant.id, &activity).await?;
        }
    }
    let soft = db.store.get_user_activities(gone.id, b, 1).await?[0].id;
    assert!(db.store.delete_activity(gone.id, soft).await?);

    let err = db.store.delete_user(a).await.unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
    let deleted = db.store.delete_tenant(gone.id).await?;
    assert_eq!(
        (deleted.id, deleted.slug.as_str(), deleted.activities),
        (gone.id, "gone", 3)
    );
    assert_eq!(counts(&db).await?, [2, 1, 3]);
    assert_eq!(db.store.get_tenant(gone.id).await?, None);
    assert_eq!(db.store.get_user_activities(kept.id, b, 10).await?.len(), 2);

    let err = db.store.delete_tenant(gone.id).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotFound {
                entity: "tenant",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(db.store.delete_user(a).await?, "no longer an owner");
    assert_eq!(counts(&db).await?, [1, 1, 2]);
    Ok(())
}

/// Writers keep adding activities to a tenant while it is deleted: the deletion succeeds
/// (on MySQL, without a deadlock between its delete of the activities and an insert
/// waiting for the tenant's lock), reports exactly the activities that were added, and
/// every later add is `NotFound`.
async fn deleting_a_tenant_while_activities_are_added_reports_every_one_it_removed<
    B: TestBackend,
>() -> eyre::Result<()> {
    const WRITERS: usize = 6;
    let db = TestDb::<B>::new_as_app_role().await?;
    let owner = owner(&db, "o@example.com").await?;
    for round in 0..4 {
        let tenant = Tenant::new("Busy", &format!("busy-{round}"), owner);
        db.store.create_tenant(&tenant).await?;
        let started = std::sync::Arc::new(tokio::sync::Barrier::new(WRITERS + 1));
        let writers: Vec<_> = (0..WRITERS)
            .map(|_| {
                let (store, started) = (db.store.clone(), started.clone());
                tokio::spawn(async move {
                    let add = || {
                        let activity = Activity::new(
                            owner,
                            "Run",
                            "run",
                            5.0,
                            1800,
                            datetime!(2025-03-01 07:00 UTC),
                        );
                        let store = store.clone();
                        async move { store.create_activity(tenant.id, &activity).await }
                    };
                    add().await?;
                    started.wait().await;
                    for added in 1..500_u64 {
                        match add().await {
                            Ok(_) => {}
                            Err(Error::NotFound { .. }) => return Ok(added),
                            Err(e) => return Err(e.into()),
                        }
                    }
                    eyre::Ok(500)
                })
            })
            .collect();
        started.wait().await;
        let deleted = db.store.delete_tenant(tenant.id).await?;
        let mut added = 0;
        for writer in writers {
            added += writer.await??;
        }
        assert_eq!(deleted.activities, added, "round {round}");
        assert_eq!(counts(&db).await?, [1, 0, 0], "round {round}");
    }
    Ok(())
}
