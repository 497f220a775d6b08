//! No row-level security on MySQL: every statement here names its tenant in its WHERE
//! clause (or inserts the row's own), and that filter alone isolates the tenants.

use sqlx::{MySql, MySqlPool};

use crate::{
    backend::{
        ActivityQueries,
        codec::Timestamp,
        rows::{ActivityRow, UserStatsRow},
    },
    model::{ActivityId, TenantId, UserId},
};

impl ActivityQueries for MySql {
    async fn insert_activity(pool: &MySqlPool, row: &ActivityRow) -> sqlx::Result<()> {
        sqlx::query!(
            "INSERT INTO activities (id, tenant_id, user_id, name, type, distance,
                duration, start_date, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            row.id,
            row.tenant_id,
            row.user_id,
            row.name,
            row.activity_type,
            row.distance,
            row.duration,
            row.start_date,
            row.created_at,
            row.updated_at,
        )
        .execute(pool)
        .await?;
        Ok(())
    }

    async fn select_activity(
        pool: &MySqlPool,
        tenant_id: TenantId,
        id: ActivityId,
    ) -> sqlx::Result<Option<ActivityRow>> {
        sqlx::query_as!(
            ActivityRow,
            "SELECT id AS `id: ActivityId`, tenant_id AS `tenant_id: TenantId`,
                user_id AS `user_id: UserId`, name, type AS activity_type, distance, duration,
                start_date AS `start_date: Timestamp`, created_at AS `created_at: Timestamp`,
                updated_at AS `updated_at: Timestamp`
             FROM activities WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL",
            tenant_id,
            id
        )
        .fetch_optional(pool)
        .await
    }

    async fn select_user_activities(
        pool: &MySqlPool,
        tenant_id: TenantId,
        user_id: UserId,
        limit: i64,
    ) -> sqlx::Result<Vec<ActivityRow>> {
        sqlx::query_as!(
            ActivityRow,
            "SELECT id AS `id: ActivityId`, tenant_id AS `tenant_id: TenantId`,
                user_id AS `user_id: UserId`, name, type AS activity_type, distance, duration,
                start_date AS `start_date: Timestamp`, created_at AS `created_at: Timestamp`,
                updated_at AS `updated_at: Timestamp`
             FROM activities
             WHERE tenant_id = ? AND user_id = ? AND deleted_at IS NULL
             ORDER BY start_date DESC, id
             LIMIT ?",
            tenant_id,
            user_id,
            limit
        )
        .fetch_all(pool)
        .await
    }

    async fn select_user_stats(
        pool: &MySqlPool,
        tenant_id: TenantId,
        user_id: UserId,
    ) -> sqlx::Result<UserStatsRow> {
        // SUM of a BIGINT is DECIMAL on MySQL: cast back to an integer.
        sqlx::query_as!(
            UserStatsRow,
            "SELECT COUNT(*) AS `total_activities!: i64`,
                SUM(distance) AS `total_distance?: f64`,
                CAST(SUM(duration) AS SIGNED) AS `total_time?: i64`,
                AVG(distance) AS `avg_distance?: f64`,
                MIN(start_date) AS `first_activity?: Timestamp`,
                MAX(start_date) AS `last_activity?: Timestamp`
             FROM activities
             WHERE tenant_id = ? AND user_id = ? AND deleted_at IS NULL",
            tenant_id,
            user_id
        )
        .fetch_one(pool)
        .await
    }

    async fn soft_delete_activity(
        pool: &MySqlPool,
        tenant_id: TenantId,
        id: ActivityId,
        at: Timestamp,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "UPDATE activities SET deleted_at = ?, updated_at = ?
             WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL",
            at,
            at,
            tenant_id,
            id
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }
}
