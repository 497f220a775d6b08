use sqlx::{Sqlite, SqliteConnection, SqlitePool};

use crate::{
    backend::{UserQueries, codec::Timestamp, rows::UserRow},
    model::UserId,
};

impl UserQueries for Sqlite {
    async fn insert_user(pool: &SqlitePool, row: &UserRow) -> sqlx::Result<()> {
        sqlx::query!(
            "INSERT INTO users (id, email, password_hash, firstname, lastname, status, is_admin,
                tier, rate_limit_multiplier, created_at, updated_at, last_active, approved_at,
                approved_by, suspended_at, suspended_by, suspension_reason)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
            row.id,
            row.email,
            row.password_hash,
            row.firstname,
            row.lastname,
            row.status,
            row.is_admin,
            row.tier,
            row.rate_limit_multiplier,
            row.created_at,
            row.updated_at,
            row.last_active,
            row.approved_at,
            row.approved_by,
            row.suspended_at,
            row.suspended_by,
            row.suspension_reason,
        )
        .execute(pool)
        .await?;
        Ok(())
    }

    async fn select_user_by_id(pool: &SqlitePool, id: UserId) -> sqlx::Result<Option<UserRow>> {
        sqlx::query_as!(
            UserRow,
            r#"SELECT id AS "id: UserId", email, password_hash, firstname, lastname, status,
                is_admin, tier, rate_limit_multiplier,
                created_at AS "created_at: Timestamp", updated_at AS "updated_at: Timestamp",
                last_active AS "last_active: Timestamp", approved_at AS "approved_at: Timestamp",
                approved_by AS "approved_by: UserId", suspended_at AS "suspended_at: Timestamp",
                suspended_by AS "suspended_by: UserId", suspension_reason
             FROM users WHERE id = ?1"#,
            id
        )
        .fetch_optional(pool)
        .await
    }

    async fn select_user_by_email(pool: &SqlitePool, email: &str) -> sqlx::Result<Option<UserRow>> {
        sqlx::query_as!(
            UserRow,
            r#"SELECT id AS "id: UserId", email, password_hash, firstname, lastname, status,
                is_admin, tier, rate_limit_multiplier,
                created_at AS "created_at: Timestamp", updated_at AS "updated_at: Timestamp",
                last_active AS "last_active: Timestamp", approved_at AS "approved_at: Timestamp",
                approved_by AS "approved_by: UserId", suspended_at AS "suspended_at: Timestamp",
                suspended_by AS "suspended_by: UserId", suspension_reason
             FROM users WHERE email = ?1"#,
            email
        )
        .fetch_optional(pool)
        .await
    }

    async fn update_user_last_active(
        pool: &SqlitePool,
        id: UserId,
        at: Timestamp,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query!("UPDATE users SET last_active = ?2 WHERE id = ?1", id, at)
            .execute(pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn delete_user(conn: &mut SqliteConnection, id: UserId) -> sqlx::Result<u64> {
        let done = sqlx::query!("DELETE FROM users WHERE id = ?1", id)
            .execute(conn)
            .await?;
        Ok(done.rows_affected())
    }

    async fn update_user_password_hash(
        pool: &SqlitePool,
        id: UserId,
        password_hash: &str,
        at: Timestamp,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "UPDATE users SET password_hash = ?2, updated_at = ?3 WHERE id = ?1",
            id,
            password_hash,
            at
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn select_users_page(
        pool: &SqlitePool,
        statuses: &[&str],
        tiers: &[&str],
        after: Option<(Timestamp, UserId)>,
        limit: i64,
    ) -> sqlx::Result<Vec<UserRow>> {
        // The lists travel as JSON arrays, unpacked by json_each: one checked statement
        // for any filter.
        let statuses =
            serde_json::to_string(statuses).map_err(|e| sqlx::Error::Encode(e.into()))?;
        let tiers = serde_json::to_string(tiers).map_err(|e| sqlx::Error::Encode(e.into()))?;
        let (after_created_at, after_id) = after.unzip();
        sqlx::query_as!(
            UserRow,
            r#"SELECT id AS "id: UserId", email, password_hash, firstname, lastname, status,
                is_admin, tier, rate_limit_multiplier,
                created_at AS "created_at: Timestamp", updated_at AS "updated_at: Timestamp",
                last_active AS "last_active: Timestamp", approved_at AS "approved_at: Timestamp",
                approved_by AS "approved_by: UserId", suspended_at AS "suspended_at: Timestamp",
                suspended_by AS "suspended_by: UserId", suspension_reason
             FROM users
             WHERE status IN (SELECT value FROM json_each(?1))
               -- likely(): a hint that the tier list is the wider one, so the planner
               -- reads by idx_users_status (the approval queue) rather than by tier.
               AND likely(tier IN (SELECT value FROM json_each(?2)))
               AND (?3 IS NULL OR (created_at, id) > (?3, ?4))
             ORDER BY created_at, id
             LIMIT ?5"#,
            statuses,
            tiers,
            after_created_at,
            after_id,
            limit
        )
        .fetch_all(pool)
        .await
    }

    async fn approve_user(
        pool: &SqlitePool,
        id: UserId,
        by: UserId,
        at: Timestamp,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "UPDATE users SET status = 'active', approved_at = ?3, approved_by = ?2,
                updated_at = ?3
             WHERE id = ?1 AND status = 'pending'",
            id,
            by,
            at
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn suspend_user(
        pool: &SqlitePool,
        id: UserId,
        by: UserId,
        reason: &str,
        at: Timestamp,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "UPDATE users SET status = 'suspended', suspended_at = ?3, suspended_by = ?2,
                suspension_reason = ?4, updated_at = ?3
             WHERE id = ?1 AND status IN ('pending', 'active')",
            id,
            by,
            at,
            reason
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn reactivate_user(
        pool: &SqlitePool,
        id: UserId,
        by: UserId,
        at: Timestamp,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "UPDATE users SET
                status = CASE WHEN approved_at IS NULL THEN 'pending' ELSE 'active' END,
                approved_at = CASE WHEN approved_at IS NULL THEN NULL ELSE ?3 END,
                approved_by = CASE WHEN approved_at IS NULL THEN NULL ELSE ?2 END,
                suspended_at = NULL, suspended_by = NULL, suspension_reason = NULL,
                updated_at = ?3
             WHERE id = ?1 AND status = 'suspended'
               AND EXISTS (SELECT 1 FROM users AS actor WHERE actor.id = ?2)",
            id,
            by,
            at
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn update_user_profile(
        pool: &SqlitePool,
        id: UserId,
        firstname: Option<&str>,
        lastname: Option<&str>,
        at: Timestamp,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "UPDATE users SET firstname = ?2, lastname = ?3, updated_at = ?4
             WHERE id = ?1 AND status <> 'deleted'",
            id,
            firstname,
            lastname,
            at
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn update_user_tier(
        pool: &SqlitePool,
        id: UserId,
        tier: &str,
        at: Timestamp,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "UPDATE users SET tier = ?2, updated_at = ?3
             WHERE id = ?1 AND status <> 'deleted'",
            id,
            tier,
            at
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }
}
