use serde_json::Value;
use sqlx::{Sqlite, SqlitePool, types::Json};

use crate::{
    backend::{
        ApiKeyQueries,
        codec::Timestamp,
        rows::{ApiKeyAuthRow, ApiKeyRow, ApiKeyUpdateRow, ApiKeyUsesRow},
    },
    model::{ApiKeyId, UserId},
};

impl ApiKeyQueries for Sqlite {
    async fn insert_api_key(pool: &SqlitePool, row: &ApiKeyRow) -> sqlx::Result<()> {
        sqlx::query!(
            "INSERT INTO api_keys (id, user_id, name, key_hash, key_prefix, tier, scopes,
                is_active, last_used, usage_count, rate_limit_override, expires_at, created_at,
                metadata)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
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
        pool: &SqlitePool,
        key_hash: &str,
    ) -> sqlx::Result<Option<ApiKeyRow>> {
        sqlx::query_as!(
            ApiKeyRow,
            r#"SELECT id AS "id: ApiKeyId", user_id AS "user_id: UserId", name, key_hash,
                key_prefix, tier, scopes AS "scopes: Json<Vec<String>>", is_active,
                last_used AS "last_used: Timestamp", usage_count, rate_limit_override,
                expires_at AS "expires_at: Timestamp", created_at AS "created_at: Timestamp",
                metadata AS "metadata: Json<Value>"
             FROM api_keys WHERE key_hash = ?1"#,
            key_hash
        )
        .fetch_optional(pool)
        .await
    }

    async fn select_api_keys_by_user(
        pool: &SqlitePool,
        user_id: UserId,
    ) -> sqlx::Result<Vec<ApiKeyRow>> {
        sqlx::query_as!(
            ApiKeyRow,
            r#"SELECT id AS "id: ApiKeyId", user_id AS "user_id: UserId", name, key_hash,
                key_prefix, tier, scopes AS "scopes: Json<Vec<String>>", is_active,
                last_used AS "last_used: Timestamp", usage_count, rate_limit_override,
                expires_at AS "expires_at: Timestamp", created_at AS "created_at: Timestamp",
                metadata AS "metadata: Json<Value>"
             FROM api_keys WHERE user_id = ?1 ORDER BY created_at, id"#,
            user_id
        )
        .fetch_all(pool)
        .await
    }

    async fn touch_valid_api_key(
        pool: &SqlitePool,
        key_hash: &str,
        now: Timestamp,
    ) -> sqlx::Result<Option<ApiKeyRow>> {
        sqlx::query_as!(
            ApiKeyRow,
            r#"UPDATE api_keys SET last_used = ?2, usage_count = usage_count + 1
             WHERE key_hash = ?1 AND is_active = 1 AND (expires_at IS NULL OR expires_at > ?2)
                AND EXISTS (SELECT 1 FROM users u WHERE u.id = api_keys.user_id
                    AND u.status IN ('active', 'pending'))
             RETURNING id AS "id: ApiKeyId", user_id AS "user_id: UserId", name, key_hash,
                key_prefix, tier, scopes AS "scopes: Json<Vec<String>>", is_active,
                last_used AS "last_used: Timestamp", usage_count, rate_limit_override,
                expires_at AS "expires_at: Timestamp", created_at AS "created_at: Timestamp",
                metadata AS "metadata: Json<Value>""#,
            key_hash,
            now
        )
        .fetch_optional(pool)
        .await
    }

    async fn select_api_key_for_auth(
        pool: &SqlitePool,
        key_hash: &str,
    ) -> sqlx::Result<Option<ApiKeyAuthRow>> {
        sqlx::query_as!(
            ApiKeyAuthRow,
            r#"SELECT k.id AS "id: ApiKeyId", k.user_id AS "user_id: UserId", k.name, k.key_hash,
                k.key_prefix, k.tier, k.scopes AS "scopes: Json<Vec<String>>", k.is_active,
                k.last_used AS "last_used: Timestamp", k.usage_count, k.rate_limit_override,
                k.expires_at AS "expires_at: Timestamp",
                k.created_at AS "created_at: Timestamp", k.metadata AS "metadata: Json<Value>",
                u.status AS user_status
             FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key_hash = ?1"#,
            key_hash
        )
        .fetch_optional(pool)
        .await
    }

    async fn add_api_key_uses(pool: &SqlitePool, rows: &[ApiKeyUsesRow]) -> sqlx::Result<u64> {
        // One JSON array of [id, uses, last_used], unpacked by jsonb_each: one checked
        // statement for the whole batch.
        let batch: Vec<_> = rows
            .iter()
            .map(|r| (r.id.into_inner(), r.uses, r.last_used.micros()))
            .collect();
        let batch = serde_json::to_string(&batch).map_err(|e| sqlx::Error::Encode(e.into()))?;
        let done = sqlx::query!(
            "UPDATE api_keys SET usage_count = usage_count + b.uses,
                last_used = MAX(COALESCE(api_keys.last_used, b.last_used), b.last_used)
             FROM (SELECT value ->> 0 AS id, value ->> 1 AS uses, value ->> 2 AS last_used
                   FROM jsonb_each(?1)) AS b
             WHERE api_keys.id = b.id",
            batch
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn deactivate_api_key(pool: &SqlitePool, id: ApiKeyId) -> sqlx::Result<u64> {
        let done = sqlx::query!("UPDATE api_keys SET is_active = 0 WHERE id = ?1", id)
            .execute(pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn update_api_key(
        pool: &SqlitePool,
        id: ApiKeyId,
        changes: &ApiKeyUpdateRow,
    ) -> sqlx::Result<Option<ApiKeyRow>> {
        sqlx::query_as!(
            ApiKeyRow,
            r#"UPDATE api_keys SET name = COALESCE(?2, name), scopes = COALESCE(?3, scopes),
                rate_limit_override = CASE WHEN ?4 THEN ?5 ELSE rate_limit_override END,
                expires_at = CASE WHEN ?6 THEN ?7 ELSE expires_at END
             WHERE id = ?1
             RETURNING id AS "id: ApiKeyId", user_id AS "user_id: UserId", name, key_hash,
                key_prefix, tier, scopes AS "scopes: Json<Vec<String>>", is_active,
                last_used AS "last_used: Timestamp", usage_count, rate_limit_override,
                expires_at AS "expires_at: Timestamp", created_at AS "created_at: Timestamp",
                metadata AS "metadata: Json<Value>""#,
            id,
            changes.name,
            changes.scopes,
            changes.set_rate_limit_override,
            changes.rate_limit_override,
            changes.set_expires_at,
            changes.expires_at,
        )
        .fetch_optional(pool)
        .await
    }
}
