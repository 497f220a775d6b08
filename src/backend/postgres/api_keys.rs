use serde_json::Value;
use sqlx::{PgPool, Postgres, types::Json};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    backend::{
        ApiKeyQueries,
        codec::Timestamp,
        rows::{ApiKeyAuthRow, ApiKeyRow, ApiKeyUpdateRow, ApiKeyUsesRow},
    },
    model::{ApiKeyId, UserId},
};

impl ApiKeyQueries for Postgres {
    async fn insert_api_key(pool: &PgPool, row: &ApiKeyRow) -> sqlx::Result<()> {
        sqlx::query!(
            "INSERT INTO api_keys (id, user_id, name, key_hash, key_prefix, tier, scopes,
                is_active, last_used, usage_count, rate_limit_override, expires_at, created_at,
                metadata)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            row.id as _,
            row.user_id as _,
            row.name,
            row.key_hash,
            row.key_prefix,
            row.tier,
            row.scopes as _,
            row.is_active,
            row.last_used as _,
            row.usage_count,
            row.rate_limit_override,
            row.expires_at as _,
            row.created_at as _,
            row.metadata as _,
        )
        .execute(pool)
        .await?;
        Ok(())
    }

    async fn select_api_key_by_hash(
        pool: &PgPool,
        key_hash: &str,
    ) -> sqlx::Result<Option<ApiKeyRow>> {
        sqlx::query_as!(
            ApiKeyRow,
            r#"SELECT id AS "id: ApiKeyId", user_id AS "user_id: UserId", name, key_hash,
                key_prefix, tier, scopes AS "scopes: Json<Vec<String>>", is_active,
                last_used AS "last_used: Timestamp", usage_count, rate_limit_override,
                expires_at AS "expires_at: Timestamp", created_at AS "created_at: Timestamp",
                metadata AS "metadata: Json<Value>"
             FROM api_keys WHERE key_hash = $1"#,
            key_hash
        )
        .fetch_optional(pool)
        .await
    }

    async fn select_api_keys_by_user(
        pool: &PgPool,
        user_id: UserId,
    ) -> sqlx::Result<Vec<ApiKeyRow>> {
        sqlx::query_as!(
            ApiKeyRow,
            r#"SELECT id AS "id: ApiKeyId", user_id AS "user_id: UserId", name, key_hash,
                key_prefix, tier, scopes AS "scopes: Json<Vec<String>>", is_active,
                last_used AS "last_used: Timestamp", usage_count, rate_limit_override,
                expires_at AS "expires_at: Timestamp", created_at AS "created_at: Timestamp",
                metadata AS "metadata: Json<Value>"
             FROM api_keys WHERE user_id = $1 ORDER BY created_at, id"#,
            user_id as _
        )
        .fetch_all(pool)
        .await
    }

    async fn touch_valid_api_key(
        pool: &PgPool,
        key_hash: &str,
        now: Timestamp,
    ) -> sqlx::Result<Option<ApiKeyRow>> {
        sqlx::query_as!(
            ApiKeyRow,
            r#"UPDATE api_keys SET last_used = $2, usage_count = usage_count + 1
             WHERE key_hash = $1 AND is_active AND (expires_at IS NULL OR expires_at > $2)
                AND EXISTS (SELECT 1 FROM users u WHERE u.id = api_keys.user_id
                    AND u.status IN ('active', 'pending'))
             RETURNING id AS "id: ApiKeyId", user_id AS "user_id: UserId", name, key_hash,
                key_prefix, tier, scopes AS "scopes: Json<Vec<String>>", is_active,
                last_used AS "last_used: Timestamp", usage_count, rate_limit_override,
                expires_at AS "expires_at: Timestamp", created_at AS "created_at: Timestamp",
                metadata AS "metadata: Json<Value>""#,
            key_hash,
            now as _
        )
        .fetch_optional(pool)
        .await
    }

    async fn select_api_key_for_auth(
        pool: &PgPool,
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
             FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key_hash = $1"#,
            key_hash
        )
        .fetch_optional(pool)
        .await
    }

    async fn add_api_key_uses(pool: &PgPool, rows: &[ApiKeyUsesRow]) -> sqlx::Result<u64> {
        // One array per column, unpacked by UNNEST: one checked statement for the batch.
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id.into_inner()).collect();
        let uses: Vec<i64> = rows.iter().map(|r| r.uses).collect();
        let last_used: Vec<OffsetDateTime> = rows.iter().map(|r| r.last_used.0).collect();
        let done = sqlx::query!(
            "UPDATE api_keys AS k SET usage_count = k.usage_count + b.uses,
                last_used = GREATEST(k.last_used, b.last_used)
             FROM UNNEST($1::uuid[], $2::bigint[], $3::timestamptz[]) AS b(id, uses, last_used)
             WHERE k.id = b.id",
            &ids,
            &uses,
            &last_used
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn deactivate_api_key(pool: &PgPool, id: ApiKeyId) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "UPDATE api_keys SET is_active = FALSE WHERE id = $1",
            id as _
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn update_api_key(
        pool: &PgPool,
        id: ApiKeyId,
        changes: &ApiKeyUpdateRow,
    ) -> sqlx::Result<Option<ApiKeyRow>> {
        sqlx::query_as!(
            ApiKeyRow,
            r#"UPDATE api_keys SET name = COALESCE($2, name), scopes = COALESCE($3, scopes),
                rate_limit_override = CASE WHEN $4 THEN $5 ELSE rate_limit_override END,
                expires_at = CASE WHEN $6 THEN $7 ELSE expires_at END
             WHERE id = $1
             RETURNING id AS "id: ApiKeyId", user_id AS "user_id: UserId", name, key_hash,
                key_prefix, tier, scopes AS "scopes: Json<Vec<String>>", is_active,
                last_used AS "last_used: Timestamp", usage_count, rate_limit_override,
                expires_at AS "expires_at: Timestamp", created_at AS "created_at: Timestamp",
                metadata AS "metadata: Json<Value>""#,
            id as _,
            changes.name,
            changes.scopes as _,
            changes.set_rate_limit_override,
            changes.rate_limit_override,
            changes.set_expires_at,
            changes.expires_at as _,
        )
        .fetch_optional(pool)
        .await
    }
}
