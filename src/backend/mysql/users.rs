use sqlx::{MySql, MySqlConnection, MySqlPool};

use crate::{
    backend::{UserQueries, codec::Timestamp, rows::UserRow},
    model::UserId,
};

impl UserQueries for MySql {
    async fn insert_user(pool: &MySqlPool, row: &UserRow) -> sqlx::Result<()> {
        sqlx::query!(
            "INSERT INTO users (id, email, password_hash, firstname, lastname, status, is_admin,
                tier, rate_limit_multiplier, created_at, updated_at, last_active, approved_at,
                approved_by, suspended_at, suspended_by, suspension_reason)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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

    async fn select_user_by_id(pool: &MySqlPool, id: UserId) -> sqlx::Result<Option<UserRow>> {
        sqlx::query_as!(
            UserRow,
            "SELECT id AS `id: UserId`, email, password_hash, firstname, lastname, status,
                is_admin AS `is_admin: bool`, tier, rate_limit_multiplier,
                created_at AS `created_at: Timestamp`, updated_at AS `updated_at: Timestamp`,
                last_active AS `last_active: Timestamp`, approved_at AS `approved_at: Timestamp`,
                approved_by AS `approved_by: UserId`, suspended_at AS `suspended_at: Timestamp`,
                suspended_by AS `suspended_by: UserId`, suspension_reason
             FROM users WHERE id = ?",
            id
        )
        .fetch_optional(pool)
        .await
    }

    async fn select_user_by_email(pool: &MySqlPool, email: &str) -> sqlx::Result<Option<UserRow>> {
        sqlx::query_as!(
            UserRow,
            "SELECT id AS `id: UserId`, email, password_hash, firstname, lastname, status,
                is_admin AS `is_admin: bool`, tier, rate_limit_multiplier,
                created_at AS `created_at: Timestamp`, updated_at AS `updated_at: Timestamp`,
                last_active AS `last_active: Timestamp`, approved_at AS `approved_at: Timestamp`,
                approved_by AS `approved_by: UserId`, suspended_at AS `suspended_at: Timestamp`,
                suspended_by AS `suspended_by: UserId`, suspension_reason
             FROM users WHERE email = ?",
            email
        )
        .fetch_optional(pool)
        .await
    }

    async fn delete_user(conn: &mut MySqlConnection, id: UserId) -> sqlx::Result<u64> {
        // The user's tokens, keys and activities go by ON DELETE CASCADE; its usage by the
        // BEFORE DELETE trigger of migration 20261130000001 (cascades fire no triggers).
        let done = sqlx::query!("DELETE FROM users WHERE id = ?", id)
            .execute(conn)
            .await?;
        Ok(done.rows_affected())
    }

    async fn update_user_password_hash(
        pool: &MySqlPool,
        id: UserId,
        password_hash: &str,
        at: Timestamp,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?",
            password_hash,
            at,
            id
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn update_user_last_active(
        pool: &MySqlPool,
        id: UserId,
        at: Timestamp,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query!("UPDATE users SET last_active = ? WHERE id = ?", at, id)
            .execute(pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn select_users_page(
        pool: &MySqlPool,
        statuses: &[&str],
        tiers: &[&str],
        after: Option<(Timestamp, UserId)>,
        limit: i64,
    ) -> sqlx::Result<Vec<UserRow>> {
        // Each list is bound as four parameters, padded with NULLs (`x IN ('a', NULL)` is
        // true for 'a' and never for anything else): there are four statuses and four
        // tiers. Lists unpacked from JSON (JSON_TABLE) would be one parameter each, but
        // MariaDB 10.11 then scans every user (no statistics for a JSON_TABLE) where these
        // lists use idx_users_status / idx_users_tier (tests/query_plans.rs). The `after`
        // comparison is spelt out: MariaDB reads a row comparison as a scan.
        let [s1, s2, s3, s4] = padded(statuses)?;
        let [t1, t2, t3, t4] = padded(tiers)?;
        let (after_created_at, after_id) = after.unzip();
        sqlx::query_as!(
            UserRow,
            "SELECT id AS `id: UserId`, email, password_hash, firstname, lastname, status,
                is_admin AS `is_admin: bool`, tier, rate_limit_multiplier,
                created_at AS `created_at: Timestamp`, updated_at AS `updated_at: Timestamp`,
                last_active AS `last_active: Timestamp`, approved_at AS `approved_at: Timestamp`,
                approved_by AS `approved_by: UserId`, suspended_at AS `suspended_at: Timestamp`,
                suspended_by AS `suspended_by: UserId`, suspension_reason
             FROM users
             WHERE status IN (?, ?, ?, ?) AND tier IN (?, ?, ?, ?)
               AND (? IS NULL OR created_at > ? OR (created_at = ? AND id > ?))
             ORDER BY created_at, id
             LIMIT ?",
            s1,
            s2,
            s3,
            s4,
            t1,
            t2,
            t3,
            t4,
            after_created_at,
            after_created_at,
            after_created_at,
            after_id,
            limit
        )
        .fetch_all(pool)
        .await
    }

    async fn approve_user(
        pool: &MySqlPool,
        id: UserId,
        by: UserId,
        at: Timestamp,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "UPDATE users SET status = 'active', approved_at = ?, approved_by = ?,
                updated_at = ?
             WHERE id = ? AND status = 'pending'",
            at,
            by,
            at,
            id
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn suspend_user(
        pool: &MySqlPool,
        id: UserId,
        by: UserId,
        reason: &str,
        at: Timestamp,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "UPDATE users SET status = 'suspended', suspended_at = ?, suspended_by = ?,
                suspension_reason = ?, updated_at = ?
             WHERE id = ? AND status IN ('pending', 'active')",
            at,
            by,
            reason,
            at,
            id
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn reactivate_user(
        pool: &MySqlPool,
        id: UserId,
        by: UserId,
        at: Timestamp,
    ) -> sqlx::Result<u64> {
        // MySQL refuses a subquery on the table being updated (error 1093), so the actor's
        // existence is a join. The assignments may see each other's new values (MySQL
        // assigns left to right): each CASE only asks whether approved_at is NULL, which
        // none of them changes.
        let done = sqlx::query!(
            "UPDATE users AS u JOIN users AS actor ON actor.id = ? SET
                u.status = CASE WHEN u.approved_at IS NULL THEN 'pending' ELSE 'active' END,
                u.approved_at = CASE WHEN u.approved_at IS NULL THEN NULL ELSE ? END,
                u.approved_by = CASE WHEN u.approved_at IS NULL THEN NULL ELSE actor.id END,
                u.suspended_at = NULL, u.suspended_by = NULL, u.suspension_reason = NULL,
                u.updated_at = ?
             WHERE u.id = ? AND u.status = 'suspended'",
            by,
            at,
            at,
            id
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn update_user_profile(
        pool: &MySqlPool,
        id: UserId,
        firstname: Option<&str>,
        lastname: Option<&str>,
        at: Timestamp,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "UPDATE users SET firstname = ?, lastname = ?, updated_at = ?
             WHERE id = ? AND status <> 'deleted'",
            firstname,
            lastname,
            at,
            id
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn update_user_tier(
        pool: &MySqlPool,
        id: UserId,
        tier: &str,
        at: Timestamp,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "UPDATE users SET tier = ?, updated_at = ?
             WHERE id = ? AND status <> 'deleted'",
            tier,
            at,
            id
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }
}

/// `values` padded with `None` to `N` entries, for an `IN` list of `N` parameters; an
/// encoding error when there are more than `N` (the store never passes more: they are the
/// distinct values of an enum of `N` variants).
fn padded<'a, const N: usize>(values: &[&'a str]) -> sqlx::Result<[Option<&'a str>; N]> {
    if values.len() > N {
        return Err(sqlx::Error::Encode(
            format!("{} values for an IN list of {N}", values.len()).into(),
        ));
    }
    Ok(std::array::from_fn(|i| values.get(i).copied()))
}
