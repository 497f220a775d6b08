//! Tenant-scoped activities: ordering, limit, soft delete, stats, isolation.

mod common;

use common::{TestBackend, TestDb};
use pierre_store::{Activity, ActivityId, Error, Tenant, TenantId, User, UserId};
use time::{Duration, OffsetDateTime, macros::datetime};

backend_tests!(
    activity_round_trip_sets_the_tenant_from_the_scope,
    activities_come_newest_first_and_respect_the_limit,
    soft_deleted_activities_are_excluded_from_reads_and_stats,
    user_stats_add_up,
    tenants_are_isolated,
    randomized_scoped_reads_never_cross_tenants,
    invalid_activities_are_rejected_and_nothing_is_written,
);

struct World {
    user: UserId,
    tenant: TenantId,
}

async fn world<B: TestBackend>(db: &TestDb<B>, email: &str, slug: &str) -> eyre::Result<World> {
    let user = db.store.create_user(&User::new(email, "hash")).await?;
    let tenant = db
        .store
        .create_tenant(&Tenant::new(slug, slug, user))
        .await?;
    Ok(World { user, tenant })
}

fn run(user: UserId, name: &str, distance: f64, duration: i64, start: OffsetDateTime) -> Activity {
    Activity::new(user, name, "run", distance, duration, start)
}

async fn activity_round_trip_sets_the_tenant_from_the_scope<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let w = world(&db, "a@example.com", "club").await?;
    let activity = Activity::new(
        w.user,
        "Morning ride 🚴",
        "ride",
        42_195.5,
        3600,
        datetime!(2025-04-01 06:30:00.123456 UTC),
    );
    assert_eq!(
        db.store.create_activity(w.tenant, &activity).await?,
        activity.id
    );
    let stored = db
        .store
        .get_activity(w.tenant, activity.id)
        .await?
        .expect("stored");
    assert_eq!(
        stored,
        Activity {
            tenant_id: w.tenant,
            ..activity.clone()
        }
    );
    assert_eq!(
        db.store.get_user_activities(w.tenant, w.user, 10).await?,
        vec![stored]
    );
    assert_eq!(
        db.store.get_activity(w.tenant, ActivityId::new()).await?,
        None
    );
    Ok(())
}

async fn activities_come_newest_first_and_respect_the_limit<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let w = world(&db, "a@example.com", "club").await?;
    let base = datetime!(2025-06-01 08:00:00 UTC);
    // Starts a microsecond apart, and a text-sorting trap (.1 vs .099999 vs whole second).
    let offsets = [0_i64, 1, 100_000, 99_999, 1_000_000, -1];
    for (i, micros) in offsets.iter().enumerate() {
        let start = base + Duration::microseconds(*micros);
        db.store
            .create_activity(w.tenant, &run(w.user, &format!("run {i}"), 1.0, 60, start))
            .await?;
    }
    let all = db.store.get_user_activities(w.tenant, w.user, 100).await?;
    let starts: Vec<_> = all.iter().map(|a| a.start_date).collect();
    let mut expected: Vec<_> = offsets
        .iter()
        .map(|m| base + Duration::microseconds(*m))
        .collect();
    expected.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(starts, expected);

    let top3 = db.store.get_user_activities(w.tenant, w.user, 3).await?;
    assert_eq!(top3, all[..3].to_vec());
    assert!(
        db.store
            .get_user_activities(w.tenant, w.user, 0)
            .await?
            .is_empty()
    );
    Ok(())
}

async fn soft_deleted_activities_are_excluded_from_reads_and_stats<B: TestBackend>()
-> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let w = world(&db, "a@example.com", "club").await?;
    let keep = run(w.user, "keep", 1000.0, 300, datetime!(2025-01-01 00:00 UTC));
    let gone = run(w.user, "gone", 5000.0, 900, datetime!(2025-02-01 00:00 UTC));
    db.store.create_activity(w.tenant, &keep).await?;
    db.store.create_activity(w.tenant, &gone).await?;

    assert!(db.store.delete_activity(w.tenant, gone.id).await?);
    assert!(
        !db.store.delete_activity(w.tenant, gone.id).await?,
        "already deleted"
    );
    assert_eq!(db.store.get_activity(w.tenant, gone.id).await?, None);
    let listed = db.store.get_user_activities(w.tenant, w.user, 10).await?;
    assert_eq!(
        listed.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![keep.id]
    );
    let stats = db.store.get_user_stats(w.tenant, w.user).await?;
    assert_eq!(
        (
            stats.total_activities,
            stats.total_distance,
            stats.total_time
        ),
        (1, 1000.0, 300)
    );
    assert_eq!(stats.last_activity, Some(keep.start_date));
    assert_eq!(
        B::raw_count(&db.url, "activities").await?,
        2,
        "soft delete keeps the row"
    );
    Ok(())
}

async fn user_stats_add_up<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let w = world(&db, "a@example.com", "club").await?;
    let other = db
        .store
        .create_user(&User::new("b@example.com", "hash"))
        .await?;
    let empty = db.store.get_user_stats(w.tenant, w.user).await?;
    assert_eq!(
        (
            empty.total_activities,
            empty.total_distance,
            empty.total_time,
            empty.avg_distance
        ),
        (0, 0.0, 0, 0.0)
    );
    assert_eq!((empty.first_activity, empty.last_activity), (None, None));

    let first = datetime!(2025-01-01 07:00:00.000001 UTC);
    let last = datetime!(2025-03-01 07:00:00.1 UTC);
    for (distance, duration, start) in [
        (5000.0, 1500, first),
        (10000.0, 3000, last),
        (0.0, 0, datetime!(2025-02-01 07:00 UTC)),
    ] {
        db.store
            .create_activity(w.tenant, &run(w.user, "r", distance, duration, start))
            .await?;
    }
    db.store
        .create_activity(
            w.tenant,
            &run(
                other,
                "other user",
                99999.0,
                1,
                datetime!(2030-01-01 00:00 UTC),
            ),
        )
        .await?;
    let stats = db.store.get_user_stats(w.tenant, w.user).await?;
    assert_eq!(stats.total_activities, 3);
    assert!((stats.total_distance - 15000.0).abs() < 1e-9);
    assert_eq!(stats.total_time, 4500);
    assert!((stats.avg_distance - 5000.0).abs() < 1e-9);
    assert_eq!(stats.first_activity, Some(first));
    assert_eq!(stats.last_activity, Some(last));
    Ok(())
}

async fn tenants_are_isolated<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let a = world(&db, "a@example.com", "tenant-a").await?;
    let b_tenant = db
        .store
        .create_tenant(&Tenant::new("B", "tenant-b", a.user))
        .await?;
    let in_a = run(a.user, "in A", 1234.0, 100, datetime!(2025-05-05 05:05 UTC));
    db.store.create_activity(a.tenant, &in_a).await?;

    assert_eq!(
        db.store.get_user_activities(b_tenant, a.user, 10).await?,
        vec![]
    );
    assert_eq!(db.store.get_activity(b_tenant, in_a.id).await?, None);
    assert_eq!(
        db.store
            .get_user_stats(b_tenant, a.user)
            .await?
            .total_activities,
        0
    );
    assert!(
        !db.store.delete_activity(b_tenant, in_a.id).await?,
        "cannot delete across tenants"
    );
    assert_eq!(
        db.store
            .get_user_activities(a.tenant, a.user, 10)
            .await?
            .len(),
        1
    );

    // The same user in tenant B sees only B's activities.
    let in_b = run(a.user, "in B", 1.0, 1, datetime!(2025-05-06 05:05 UTC));
    db.store.create_activity(b_tenant, &in_b).await?;
    let listed_b = db.store.get_user_activities(b_tenant, a.user, 10).await?;
    assert_eq!(
        listed_b.iter().map(|x| x.id).collect::<Vec<_>>(),
        vec![in_b.id]
    );
    assert!(listed_b.iter().all(|x| x.tenant_id == b_tenant));
    Ok(())
}

async fn invalid_activities_are_rejected_and_nothing_is_written<B: TestBackend>() -> eyre::Result<()>
{
    let db = TestDb::<B>::new().await?;
    let w = world(&db, "a@example.com", "club").await?;
    let base = run(w.user, "ok", 1.0, 1, datetime!(2025-01-01 00:00 UTC));
    let cases: Vec<(&str, Activity)> = vec![
        (
            "name",
            Activity {
                name: String::new(),
                ..base.clone()
            },
        ),
        (
            "name",
            Activity {
                name: "n".repeat(256),
                ..base.clone()
            },
        ),
        (
            "activity_type",
            Activity {
                activity_type: " ".into(),
                ..base.clone()
            },
        ),
        (
            "activity_type",
            Activity {
                activity_type: "t".repeat(256),
                ..base.clone()
            },
        ),
        (
            "distance",
            Activity {
                distance: -0.5,
                ..base.clone()
            },
        ),
        (
            "distance",
            Activity {
                distance: f64::INFINITY,
                ..base.clone()
            },
        ),
        (
            "distance",
            Activity {
                distance: f64::NAN,
                ..base.clone()
            },
        ),
        (
            "duration",
            Activity {
                duration: -1,
                ..base.clone()
            },
        ),
    ];
    for (field, activity) in cases {
        let err = db
            .store
            .create_activity(w.tenant, &activity)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::InvalidInput { field: f, .. } if *f == field),
            "{field}: {err:?}"
        );
    }
    let err = db
        .store
        .create_activity(TenantId::new(), &base)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    let err = db
        .store
        .create_activity(w.tenant, &run(UserId::new(), "x", 1.0, 1, base.start_date))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert_eq!(B::raw_count(&db.url, "activities").await?, 0);
    Ok(())
}

async fn randomized_scoped_reads_never_cross_tenants<B: TestBackend>() -> eyre::Result<()> {
    use std::collections::{BTreeSet, HashMap};
    let db = TestDb::<B>::new().await?;
    let mut seed = 0x2545_F491_4F6C_DD1D_u64;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let mut users = Vec::new();
    for u in 0..12 {
        users.push(
            db.store
                .create_user(&User::new(&format!("u{u}@example.com"), "h"))
                .await?,
        );
    }
    let mut tenants = Vec::new();
    for t in 0..8 {
        let owner = users[t % users.len()];
        tenants.push(
            db.store
                .create_tenant(&Tenant::new("T", &format!("tenant-{t}"), owner))
                .await?,
        );
    }
    let mut expected: HashMap<(TenantId, UserId), BTreeSet<ActivityId>> = HashMap::new();
    let mut all = Vec::new();
    for n in 0..300 {
        let (tenant, user) = (tenants[next(tenants.len())], users[next(users.len())]);
        let activity = run(
            user,
            "r",
            1.0,
            1,
            datetime!(2025-01-01 00:00 UTC) + Duration::minutes(n),
        );
        db.store.create_activity(tenant, &activity).await?;
        expected
            .entry((tenant, user))
            .or_default()
            .insert(activity.id);
        all.push((tenant, activity.id));
    }
    for &tenant in &tenants {
        for &user in &users {
            let listed = db.store.get_user_activities(tenant, user, 1000).await?;
            assert!(
                listed
                    .iter()
                    .all(|a| a.tenant_id == tenant && a.user_id == user)
            );
            let ids: BTreeSet<_> = listed.iter().map(|a| a.id).collect();
            let want = expected.get(&(tenant, user)).cloned().unwrap_or_default();
            assert_eq!(ids, want, "tenant {tenant}, user {user}");
            let stats = db.store.get_user_stats(tenant, user).await?;
            assert_eq!(stats.total_activities, want.len() as u64);
        }
    }
    for _ in 0..100 {
        let (owner_tenant, id) = all[next(all.len())];
        let other = tenants[next(tenants.len())];
        let found = db.store.get_activity(other, id).await?;
        assert_eq!(
            found.is_some(),
            other == owner_tenant,
            "activity {id} read through tenant {other}"
        );
    }
    Ok(())
}
