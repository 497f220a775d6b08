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
}
