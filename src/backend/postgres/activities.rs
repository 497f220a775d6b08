use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use crate::{
    backend::{
        ActivityQueries,
        codec::Timestamp,
        rows::{ActivityRow, UserStatsRow},
    },
    model::{ActivityId, TenantId, UserId},
};

/// A transaction in which PostgreSQL's row-level security policy on `activities` admits
/// only `tenant`'s rows (migration `..._activities_row_level_security`): defence in depth
/// under the `tenant_id` filter every statement carries anyway. Writes run in it; reads
/// call the `scoped_*` functions, which set the tenant themselves in one round trip.
pub(super) async fn tenant_scope(
    pool: &PgPool,
    tenant: TenantId,
) -> sqlx::Result<Transaction<'static, Postgres>> {
    let mut tx = pool.begin().await?;
    set_tenant(&mut tx, tenant).await?;
    Ok(tx)
}

/// Names `tenant` for the row-level security policy until the end of the connection's
/// current transaction (`set_config` with `is_local`).
pub(super) async fn set_tenant(conn: &mut PgConnection, tenant: TenantId) -> sqlx::Result<()> {
    sqlx::query_scalar!(
        r#"SELECT set_config('pierre.tenant_id', $1, true) AS "tenant!""#,
        tenant.to_string()
    )
    .fetch_one(conn)
    .await?;
    Ok(())
}

impl ActivityQueries for Postgres {
    async fn insert_activity(pool: &PgPool, row: &ActivityRow) -> sqlx::Result<()> {
        let mut tx = tenant_scope(pool, row.tenant_id).await?;
        sqlx::query!(
            "INSERT INTO activities (id, tenant_id, user_id, name, type, distance,
                duration, start_date, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            row.id as _,
            row.tenant_id as _,
            row.user_id as _,
            row.name,
            row.activity_type,
            row.distance,
            row.duration,
            row.start_date as _,
            row.created_at as _,
            row.updated_at as _,
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    async fn select_activity(
        pool: &PgPool,
        tenant_id: TenantId,
        id: ActivityId,
    ) -> sqlx::Result<Option<ActivityRow>> {
        // One round trip: the function sets the tenant for row-level security itself
        // (migration `..._tenant_scoped_reads`).
        sqlx::query_as!(
            ActivityRow,
            r#"SELECT id AS "id!: ActivityId", tenant_id AS "tenant_id!: TenantId",
                user_id AS "user_id!: UserId", name AS "name!",
                type AS "activity_type!", distance AS "distance!",
                duration AS "duration!", start_date AS "start_date!: Timestamp",
                created_at AS "created_at!: Timestamp", updated_at AS "updated_at!: Timestamp"
             FROM scoped_activity($1, $2)"#,
            tenant_id as _,
            id as _
        )
        .fetch_optional(pool)
        .await
    }

    async fn select_user_activities(
        pool: &PgPool,
        tenant_id: TenantId,
        user_id: UserId,
        limit: i64,
    ) -> sqlx::Result<Vec<ActivityRow>> {
        sqlx::query_as!(
            ActivityRow,
            r#"SELECT id AS "id!: ActivityId", tenant_id AS "tenant_id!: TenantId",
                user_id AS "user_id!: UserId", name AS "name!",
                type AS "activity_type!", distance AS "distance!",
                duration AS "duration!", start_date AS "start_date!: Timestamp",
                created_at AS "created_at!: Timestamp", updated_at AS "updated_at!: Timestamp"
             FROM scoped_user_activities($1, $2, $3)"#,
            tenant_id as _,
            user_id as _,
            limit
        )
        .fetch_all(pool)
        .await
    }

    async fn select_user_stats(
        pool: &PgPool,
        tenant_id: TenantId,
        user_id: UserId,
    ) -> sqlx::Result<UserStatsRow> {
        sqlx::query_as!(
            UserStatsRow,
            r#"SELECT total_activities AS "total_activities!: i64",
                total_distance AS "total_distance?: f64",
                total_time AS "total_time?: i64",
                avg_distance AS "avg_distance?: f64",
                first_activity AS "first_activity?: Timestamp",
                last_activity AS "last_activity?: Timestamp"
             FROM scoped_user_stats($1, $2)"#,
            tenant_id as _,
            user_id as _
        )
        .fetch_one(pool)
        .await
    }

    async fn soft_delete_activity(
        pool: &PgPool,
        tenant_id: TenantId,
        id: ActivityId,
        at: Timestamp,
    ) -> sqlx::Result<u64> {
        let mut tx = tenant_scope(pool, tenant_id).await?;
        let done = sqlx::query!(
            "UPDATE activities SET deleted_at = $3, updated_at = $3
             WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL",
            tenant_id as _,
            id as _,
            at as _
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}
