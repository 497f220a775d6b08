use sqlx::{PgConnection, PgPool, Postgres};

use crate::{
    backend::{UserQueries, codec::Timestamp, rows::UserRow},
    model::UserId,
};

impl UserQueries for Postgres {
    async fn insert_user(pool: &PgPool, row: &UserRow) -> sqlx::Result<()> {
        sqlx::query!(
            "INSERT INTO users (id, email, password_hash, firstname, lastname, status, is_admin,
                tier, rate_limit_multiplier, created_at, updated_at, last_active, approved_at,
                approved_by, suspended_at, suspended_by, suspension_reason)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
            row.id as _,
            row.email,
            row.password_hash,
            row.firstname,
            row.lastname,
            row.status,
            row.is_admin,
            row.tier,
            row.rate_limit_multiplier,
            row.created_at as _,
            row.updated_at as _,
            row.last_active as _,
            row.approved_at as _,
            row.approved_by as _,
            row.suspended_at as _,
            row.suspended_by as _,
            row.suspension_reason,
        )
        .execute(pool)
        .await?;
        Ok(())
    }

    async fn select_user_by_id(pool: &PgPool, id: UserId) -> sqlx::Result<Option<UserRow>> {
        sqlx::query_as!(
            UserRow,
            r#"SELECT id AS "id: UserId", email, password_hash, firstname, lastname, status,
                is_admin, tier, rate_limit_multiplier,
                created_at AS "created_at: Timestamp", updated_at AS "updated_at: Timestamp",
                last_active AS "last_active: Timestamp", approved_at AS "approved_at: Timestamp",
                approved_by AS "approved_by: UserId", suspended_at AS "suspended_at: Timestamp",
                suspended_by AS "suspended_by: UserId", suspension_reason
             FROM users WHERE id = $1"#,
            id as _
        )
        .fetch_optional(pool)
        .await
    }

    async fn select_user_by_email(pool: &PgPool, email: &str) -> sqlx::Result<Option<UserRow>> {
        sqlx::query_as!(
            UserRow,
            r#"SELECT id AS "id: UserId", email, password_hash, firstname, lastname, status,
                is_admin, tier, rate_limit_multiplier,
                created_at AS "created_at: Timestamp", updated_at AS "updated_at: Timestamp",
                last_active AS "last_active: Timestamp", approved_at AS "approved_at: Timestamp",
                approved_by AS "approved_by: UserId", suspended_at AS "suspended_at: Timestamp",
                suspended_by AS "suspended_by: UserId", suspension_reason
             FROM users WHERE email = $1"#,
            email
        )
        .fetch_optional(pool)
        .await
    }

    async fn update_user_last_active(
        pool: &PgPool,
        id: UserId,
        at: Timestamp,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "UPDATE users SET last_active = $2 WHERE id = $1",
            id as _,
            at as _
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn delete_user(conn: &mut PgConnection, id: UserId) -> sqlx::Result<u64> {
        let done = sqlx::query!("DELETE FROM users WHERE id = $1", id as _)
            .execute(conn)
            .await?;
        Ok(done.rows_affected())
    }

    async fn update_user_password_hash(
        pool: &PgPool,
        id: UserId,
        password_hash: &str,
        at: Timestamp,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1",
            id as _,
            password_hash,
            at as _
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn select_users_page(
        pool: &PgPool,
        statuses: &[&str],
        tiers: &[&str],
        after: Option<(Timestamp, UserId)>,
        limit: i64,
    ) -> sqlx::Result<Vec<UserRow>> {
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
             WHERE status = ANY($1::text[]) AND tier = ANY($2::text[])
               AND ($3::timestamptz IS NULL OR (created_at, id) > ($3, $4::uuid))
             ORDER BY created_at, id
             LIMIT $5"#,
            statuses as _,
            tiers as _,
            after_created_at as _,
            after_id as _,
            limit
        )
        .fetch_all(pool)
        .await
    }

    async fn approve_user(
        pool: &PgPool,
        id: UserId,
        by: UserId,
        at: Timestamp,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "UPDATE users SET status = 'active', approved_at = $3, approved_by = $2,
                updated_at = $3
             WHERE id = $1 AND status = 'pending'",
            id as _,
            by as _,
            at as _
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn suspend_user(
        pool: &PgPool,
        id: UserId,
        by: UserId,
        reason: &str,
        at: Timestamp,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "UPDATE users SET status = 'suspended', suspended_at = $3, suspended_by = $2,
                suspension_reason = $4, updated_at = $3
             WHERE id = $1 AND status IN ('pending', 'active')",
            id as _,
            by as _,
            at as _,
            reason
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn reactivate_user(
        pool: &PgPool,
        id: UserId,
        by: UserId,
        at: Timestamp,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "UPDATE users SET
                status = CASE WHEN approved_at IS NULL THEN 'pending' ELSE 'active' END,
                approved_at = CASE WHEN approved_at IS NULL THEN NULL ELSE $3::timestamptz END,
                approved_by = CASE WHEN approved_at IS NULL THEN NULL ELSE $2::uuid END,
                suspended_at = NULL, suspended_by = NULL, suspension_reason = NULL,
                updated_at = $3
             WHERE id = $1 AND status = 'suspended'
               AND EXISTS (SELECT 1 FROM users AS actor WHERE actor.id = $2)",
            id as _,
            by as _,
            at as _
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn update_user_profile(
        pool: &PgPool,
        id: UserId,
        firstname: Option<&str>,
        lastname: Option<&str>,
        at: Timestamp,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "UPDATE users SET firstname = $2, lastname = $3, updated_at = $4
             WHERE id = $1 AND status <> 'deleted'",
            id as _,
            firstname,
            lastname,
            at as _
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn update_user_tier(
        pool: &PgPool,
        id: UserId,
        tier: &str,
        at: Timestamp,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "UPDATE users SET tier = $2, updated_at = $3
             WHERE id = $1 AND status <> 'deleted'",
            id as _,
            tier,
            at as _
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }
}
