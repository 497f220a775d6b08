//! PostgreSQL row-level security on `activities`: connected as an ordinary role (as a
//! server should be), a raw query without the tenant setting sees no activity at all, while
//! the store's tenant-scoped calls keep working, and the one-statement read functions leave
//! no tenant setting behind.

mod common;

use common::{TestDb, seed_tenants};
use pierre_store::{Activity, EncryptionKey, Postgres, Store, Tenant, User};
use sqlx::{Connection, PgConnection};
use time::macros::datetime;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_queries_without_the_tenant_setting_see_no_activities() -> eyre::Result<()> {
    let db = TestDb::<Postgres>::new().await?;
    let role = format!("pierre_app_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&db.url).await?;
    for statement in [
        format!("CREATE ROLE {role} LOGIN PASSWORD 'app-password' NOSUPERUSER NOBYPASSRLS"),
        format!("GRANT USAGE ON SCHEMA public TO {role}"),
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"),
        format!("GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&mut admin)
            .await?;
    }
    let (scheme, rest) = db.url.split_once("://").expect("a URL");
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let app_url = format!("{scheme}://{role}:app-password@{host}");

    let result = async {
        let store = Store::<Postgres>::new(&app_url, EncryptionKey::generate()).await?;
        let user = store.create_user(&User::new("rls@example.com", "h")).await?;
        let a = store.create_tenant(&Tenant::new("A", "tenant-a", user)).await?;
        let b = store.create_tenant(&Tenant::new("B", "tenant-b", user)).await?;
        for (tenant, n) in [(a, 3), (b, 2)] {
            for _ in 0..n {
                let activity = Activity::new(user, "run", "run", 1.0, 1, datetime!(2025-01-01 00:00 UTC));
                store.create_activity(tenant, &activity).await?;
            }
        }
        // The store's scoped calls work through the policy.
        assert_eq!(store.get_user_activities(a, user, 10).await?.len(), 3);
        assert_eq!(store.get_user_activities(b, user, 10).await?.len(), 2);
        assert_eq!(store.get_user_stats(b, user).await?.total_activities, 2);
        store.close().await;

        // The same role, raw: nothing without the setting; one tenant's rows with it.
        let mut raw = PgConnection::connect(&app_url).await?;
        let visible: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM activities").fetch_one(&mut raw).await?;
        assert_eq!(visible, 0, "no tenant setting, no rows");
        // A scoped read function sets the tenant for its own statement only.
        let scoped: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM scoped_user_activities($1, $2, 10)")
            .bind(a.into_inner())
            .bind(user.into_inner())
            .fetch_one(&mut raw)
            .await?;
        assert_eq!(scoped, 3);
        let visible: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM activities").fetch_one(&mut raw).await?;
        assert_eq!(visible, 0, "the setting ended with the statement");
        let mut tx = raw.begin().await?;
        sqlx::query("SELECT set_config('pierre.tenant_id', $1, true)").bind(a.to_string()).execute(&mut *tx).await?;
        let visible: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM activities").fetch_one(&mut *tx).await?;
        assert_eq!(visible, 3, "only tenant A's rows");
        let smuggled = sqlx::query(
            "INSERT INTO activities (id, tenant_id, user_id, name, type, distance, duration,
                start_date, created_at, updated_at) VALUES ($1, $2, $3, 'x', 'run', 0, 0, now(), now(), now())",
        )
        .bind(uuid::Uuid::new_v4())
        .bind(b.into_inner())
        .bind(user.into_inner())
        .execute(&mut *tx)
        .await;
        assert!(
            refused_by_policy(&smuggled),
            "a row for tenant B cannot be written under tenant A's setting: {smuggled:?}"
        );
        drop(tx);

        // The superuser (who bypasses the policy) sees that the rows are all there.
        let all: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM activities").fetch_one(&mut admin).await?;
        assert_eq!(all, 5);
        eyre::Ok(())
    }
    .await;

    for statement in [format!("DROP OWNED BY {role}"), format!("DROP ROLE {role}")] {
        let _ = sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&mut admin)
            .await;
    }
    result
}

/// The maintenance read policy (migration `20261201000001`): with `pierre.all_tenants` on,
/// the owning role reads every tenant's rows but still writes none outside the tenant
/// setting, and a transaction-local setting does not outlive its transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_tenants_reads_everything_and_writes_nothing_more() -> eyre::Result<()> {
    let db = TestDb::<Postgres>::new_as_app_role().await?;
    let store = &db.store;
    let (user, tenants) = seed_tenants(store, "all@example.com", &[("a", 3), ("b", 2)]).await?;
    let a = tenants[0];
    let mut raw = PgConnection::connect(&db.url).await?;
    let mut tx = raw.begin().await?;
    sqlx::query("SELECT set_config('pierre.all_tenants', 'on', true)")
        .execute(&mut *tx)
        .await?;
    let visible: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM activities")
        .fetch_one(&mut *tx)
        .await?;
    assert_eq!(visible, 5, "every tenant's rows");
    let updated = sqlx::query("UPDATE activities SET name = 'changed'")
        .execute(&mut *tx)
        .await?
        .rows_affected();
    assert_eq!(updated, 0, "no tenant setting: nothing to update");
    let deleted = sqlx::query("DELETE FROM activities")
        .execute(&mut *tx)
        .await?
        .rows_affected();
    assert_eq!(deleted, 0, "nor to delete");
    let inserted = sqlx::query(
        "INSERT INTO activities (id, tenant_id, user_id, name, type, distance, duration,
            start_date, created_at, updated_at) VALUES ($1, $2, $3, 'x', 'run', 0, 0, now(), now(), now())",
    )
    .bind(uuid::Uuid::new_v4())
    .bind(a.into_inner())
    .bind(user.into_inner())
    .execute(&mut *tx)
    .await;
    assert!(refused_by_policy(&inserted), "nor to insert: {inserted:?}");
    drop(tx);
    let visible: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM activities")
        .fetch_one(&mut raw)
        .await?;
    assert_eq!(visible, 0, "the setting ended with its transaction");
    assert_eq!(
        store.table_counts().await?.rows.last(),
        Some(&("activities", 5))
    );
    assert_eq!(
        store.get_user_activities(a, user, 10).await?.len(),
        3,
        "scoped reads unchanged"
    );
    Ok(())
}

/// Whether a statement failed because row-level security refused it (SQLSTATE 42501), not
/// for another reason such as a misspelt column.
fn refused_by_policy<T>(result: &Result<T, sqlx::Error>) -> bool {
    matches!(
        result,
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42501")
    )
}
