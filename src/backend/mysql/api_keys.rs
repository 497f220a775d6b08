use sqlx::{MySql, MySqlExecutor, MySqlPool, types::Json};

use super::json_rows::{datetime, json_array};
use crate::{
    backend::{
        ApiKeyQueries,
        codec::Timestamp,
        rows::{ApiKeyAuthRow, ApiKeyRow, ApiKeyUpdateRow, ApiKeyUsesRow},
    },
    model::{ApiKeyId, UserId},
};

/// The key with this hash: [`ApiKeyQueries::select_api_key_by_hash`], and the read-back of
/// [`ApiKeyQueries::touch_valid_api_key`] inside its transaction.
async fn select_by_hash(
    executor: impl MySqlExecutor<'_>,
    key_hash: &str,
) -> sqlx::Result<Option<ApiKeyRow>> {
    sqlx::query_as!(
        ApiKeyRow,
        "SELECT id AS `id: ApiKeyId`, user_id AS `user_id: UserId`, name, key_hash,
            key_prefix, tier, scopes AS `scopes: Json<Vec<String>>`, is_active AS `is_active: bool`,
            last_used AS `last_used: Timestamp`, usage_count, rate_limit_override,
            expires_at AS `expires_at: Timestamp`, created_at AS `created_at: Timestamp`,
            metadata AS `metadata: Json<serde_json::Value>`
         FROM api_keys WHERE key_hash = ?",
        key_hash
    )
    .fetch_optional(executor)
    .await
}

impl ApiKeyQueries for MySql {
    async fn insert_api_key(pool: &MySqlPool, row: &ApiKeyRow) -> sqlx::Result<()> {
        sqlx::query!(
            "INSERT INTO api_keys (id, user_id, name, key_hash, key_prefix, tier, scopes,
                is_active, last_used, usage_count, rate_limit_override, expires_at, created_at,
                metadata)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            row.id,
            row.user_id,
            row.name,
            row.key_hash,
            row.key_prefix,
            row.tier,
            row.scopes,
            row.is_active,
            row.last_used,
            row.usage_count,
            row.rate_limit_override,
            row.expires_at,
            row.created_at,
            row.metadata,
        )
        .execute(pool)
        .await?;
        Ok(())
    }

    async fn select_api_key_by_hash(
        pool: &MySqlPool,
        key_hash: &str,
    ) -> sqlx::Result<Option<ApiKeyRow>> {
        select_by_hash(pool, key_hash).await
    }

    async fn touch_valid_api_key(
        pool: &MySqlPool,
        key_hash: &str,
        now: Timestamp,
    ) -> sqlx::Result<Option<ApiKeyRow>> {
        // No UPDATE ... RETURNING: the UPDATE, then the read of its row in the same
        // transaction. The UPDATE's exclusive row lock, held until the commit, keeps any
        // other writer off the row between the two, so the row read is the one this call
        // made and no increment is lost.
        let mut tx = pool.begin().await?;
        let touched = sqlx::query!(
            "UPDATE api_keys SET last_used = ?, usage_count = usage_count + 1
             WHERE key_hash = ? AND is_active AND (expires_at IS NULL OR expires_at > ?)
                AND EXISTS (SELECT 1 FROM users u WHERE u.id = api_keys.user_id
                    AND u.status IN ('active', 'pending'))",
            now,
            key_hash,
            now
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let row = if touched == 0 {
            None
        } else {
            select_by_hash(&mut *tx, key_hash).await?
        };
        tx.commit().await?;
        Ok(row)
    }

    async fn select_api_key_for_auth(
        pool: &MySqlPool,
        key_hash: &str,
    ) -> sqlx::Result<Option<ApiKeyAuthRow>> {
        sqlx::query_as!(
            ApiKeyAuthRow,
            "SELECT k.id AS `id: ApiKeyId`, k.user_id AS `user_id: UserId`, k.name, k.key_hash,
                k.key_prefix, k.tier, k.scopes AS `scopes: Json<Vec<String>>`,
                k.is_active AS `is_active: bool`, k.last_used AS `last_used: Timestamp`,
                k.usage_count, k.rate_limit_override, k.expires_at AS `expires_at: Timestamp`,
                k.created_at AS `created_at: Timestamp`,
                k.metadata AS `metadata: Json<serde_json::Value>`, u.status AS user_status
             FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key_hash = ?",
            key_hash
        )
        .fetch_optional(pool)
        .await
    }

    async fn add_api_key_uses(pool: &MySqlPool, rows: &[ApiKeyUsesRow]) -> sqlx::Result<u64> {
        // One JSON array of [id, uses, last_used] expanded by JSON_TABLE: one checked
        // statement for the whole batch. The id column is ascii, as api_keys.id is: with
        // JSON_TABLE's default utf8mb4 MariaDB cannot join on the primary key and scans
        // api_keys instead. usage_count and last_used are not watched by the auth_changes
        // trigger, so a flush bumps no counter.
        let batch: Vec<_> = rows
            .iter()
            .map(|r| (r.id.into_inner(), r.uses, datetime(r.last_used)))
            .collect();
        let done = sqlx::query!(
            "UPDATE api_keys k JOIN JSON_TABLE(?, '$[*]' COLUMNS (
                    id CHAR(36) CHARACTER SET ascii PATH '$[0]', uses BIGINT PATH '$[1]',
                    last_used DATETIME(6) PATH '$[2]')) b ON k.id = b.id
             SET k.usage_count = k.usage_count + b.uses,
                k.last_used = GREATEST(COALESCE(k.last_used, b.last_used), b.last_used)",
            json_array(&batch)?
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn deactivate_api_key(pool: &MySqlPool, id: ApiKeyId) -> sqlx::Result<u64> {
        let done = sqlx::query!("UPDATE api_keys SET is_active = FALSE WHERE id = ?", id)
            .execute(pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn select_api_keys_by_user(
        pool: &MySqlPool,
        user_id: UserId,
    ) -> sqlx::Result<Vec<ApiKeyRow>> {
        sqlx::query_as!(
            ApiKeyRow,
            "SELECT id AS `id: ApiKeyId`, user_id AS `user_id: UserId`, name, key_hash,
                key_prefix, tier, scopes AS `scopes: Json<Vec<String>>`,
                is_active AS `is_active: bool`, last_used AS `last_used: Timestamp`,
                usage_count, rate_limit_override, expires_at AS `expires_at: Timestamp`,
                created_at AS `created_at: Timestamp`,
                metadata AS `metadata: Json<serde_json::Value>`
             FROM api_keys WHERE user_id = ? ORDER BY created_at, id",
            user_id
        )
        .fetch_all(pool)
        .await
    }

    async fn update_api_key(
        pool: &MySqlPool,
        id: ApiKeyId,
        changes: &ApiKeyUpdateRow,
    ) -> sqlx::Result<Option<ApiKeyRow>> {
        // No UPDATE ... RETURNING: the UPDATE, then the read of its row in the same
        // transaction, under the UPDATE's row lock (no other write in between).
        let mut tx = pool.begin().await?;
        let updated = sqlx::query!(
            "UPDATE api_keys SET name = COALESCE(?, name), scopes = COALESCE(?, scopes),
                rate_limit_override = CASE WHEN ? THEN ? ELSE rate_limit_override END,
                expires_at = CASE WHEN ? THEN ? ELSE expires_at END
             WHERE id = ?",
            changes.name,
            changes.scopes,
            changes.set_rate_limit_override,
            changes.rate_limit_override,
            changes.set_expires_at,
            changes.expires_at,
            id
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let row = if updated == 0 {
            None
        } else {
            sqlx::query_as!(
                ApiKeyRow,
                "SELECT id AS `id: ApiKeyId`, user_id AS `user_id: UserId`, name, key_hash,
                    key_prefix, tier, scopes AS `scopes: Json<Vec<String>>`,
                    is_active AS `is_active: bool`, last_used AS `last_used: Timestamp`,
                    usage_count, rate_limit_override, expires_at AS `expires_at: Timestamp`,
                    created_at AS `created_at: Timestamp`,
                    metadata AS `metadata: Json<serde_json::Value>`
                 FROM api_keys WHERE id = ?",
                id
            )
            .fetch_optional(&mut *tx)
            .await?
        };
        tx.commit().await?;
        Ok(row)
    }
}
