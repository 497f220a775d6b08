use sqlx::{Sqlite, SqlitePool};

use crate::{
    backend::{
        ActivityQueries,
        codec::Timestamp,
        rows::{ActivityRow, UserStatsRow},
    },
    model::{ActivityId, TenantId, UserId},
};

impl ActivityQueries for Sqlite {
    async fn insert_activity(pool: &SqlitePool, row: &ActivityRow) -> sqlx::Result<()> {
        sqlx::query!(
            "INSERT INTO activities (id, tenant_id, user_id, name, type, distance,
                duration, start_date, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
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
        pool: &SqlitePool,
        tenant_id: TenantId,
        id: ActivityId,
    ) -> sqlx::Result<Option<ActivityRow>> {
        sqlx::query_as!(
            ActivityRow,
            r#"SELECT id AS "id: ActivityId", tenant_id AS "tenant_id: TenantId",
                user_id AS "user_id: UserId", name, type AS activity_type, distance, duration,
                start_date AS "start_date: Timestamp", created_at AS "created_at: Timestamp",
                updated_at AS "updated_at: Timestamp"
             FROM activities WHERE tenant_id = ?1 AND id = ?2 AND deleted_at IS NULL"#,
            tenant_id,
            id
        )
        .fetch_optional(pool)
        .await
    }

    async fn select_user_activities(
        pool: &SqlitePool,
        tenant_id: TenantId,
        user_id: UserId,
        limit: i64,
    ) -> sqlx::Result<Vec<ActivityRow>> {
        sqlx::query_as!(
            ActivityRow,
            r#"SELECT id AS "id: ActivityId", tenant_id AS "tenant_id: TenantId",
                user_id AS "user_id: UserId", name, type AS activity_type, distance, duration,
                start_date AS "start_date: Timestamp", created_at AS "created_at: Timestamp",
                updated_at AS "updated_at: Timestamp"
             FROM activities
             WHERE tenant_id = ?1 AND user_id = ?2 AND deleted_at IS NULL
             ORDER BY start_date DESC, id
             LIMIT ?3"#,
            tenant_id,
            user_id,
            limit
        )
        .fetch_all(pool)
        .await
    }

    async fn select_user_stats(
        pool: &SqlitePool,
        tenant_id: TenantId,
        user_id: UserId,
    ) -> sqlx::Result<UserStatsRow> {
        sqlx::query_as!(
            UserStatsRow,
            r#"SELECT COUNT(*) AS "total_activities!: i64",
                SUM(distance) AS "total_distance?: f64",
                SUM(duration) AS "total_time?: i64",
                AVG(distance) AS "avg_distance?: f64",
                MIN(start_date) AS "first_activity?: Timestamp",
                MAX(start_date) AS "last_activity?: Timestamp"
             FROM activities
             WHERE tenant_id = ?1 AND user_id = ?2 AND deleted_at IS NULL"#,
            tenant_id,
            user_id
        )
        .fetch_one(pool)
        .await
    }

    async fn soft_delete_activity(
        pool: &SqlitePool,
        tenant_id: TenantId,
        id: ActivityId,
        at: Timestamp,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "UPDATE activities SET deleted_at = ?3, updated_at = ?3
             WHERE tenant_id = ?1 AND id = ?2 AND deleted_at IS NULL",
            tenant_id,
            id,
            at
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }
}
