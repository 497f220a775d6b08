use serde_json::Value;
use sqlx::{Sqlite, SqlitePool, types::Json};

use crate::{
    backend::{
        CopyQueries, Lifecycle,
        codec::Timestamp,
        rows::{
            A2AClientRow, ApiKeyRow, OAuthTokenRow, StoredActivityRow, StoredApiKeyUsageRow,
            StoredJwtUsageRow, TenantRow, UserRow,
        },
    },
    model::{A2AClientId, ActivityId, ApiKeyId, OAuthTokenId, TenantId, UserId},
};

impl CopyQueries for Sqlite {
    async fn page_users(
        pool: &SqlitePool,
        after: UserId,
        limit: i64,
    ) -> sqlx::Result<Vec<UserRow>> {
        sqlx::query_as!(
            UserRow,
            r#"SELECT id AS "id: UserId", email, password_hash, firstname, lastname, status,
                is_admin, tier, rate_limit_multiplier,
                created_at AS "created_at: Timestamp", updated_at AS "updated_at: Timestamp",
                last_active AS "last_active: Timestamp", approved_at AS "approved_at: Timestamp",
                approved_by AS "approved_by: UserId", suspended_at AS "suspended_at: Timestamp",
                suspended_by AS "suspended_by: UserId", suspension_reason
             FROM users WHERE id > ?1 ORDER BY id LIMIT ?2"#,
            after,
            limit
        )
        .fetch_all(pool)
        .await
    }

    async fn set_user_moderators(
        pool: &SqlitePool,
        id: UserId,
        approved_by: Option<UserId>,
        suspended_by: Option<UserId>,
    ) -> sqlx::Result<()> {
        sqlx::query!(
            "UPDATE users SET approved_by = ?2, suspended_by = ?3 WHERE id = ?1",
            id,
            approved_by,
            suspended_by
        )
        .execute(pool)
        .await?;
        Ok(())
    }

    async fn page_oauth_tokens(
        pool: &SqlitePool,
        after: (UserId, &str),
        limit: i64,
    ) -> sqlx::Result<Vec<OAuthTokenRow>> {
        sqlx::query_as!(
            OAuthTokenRow,
            r#"SELECT id AS "id: OAuthTokenId", user_id AS "user_id: UserId", provider,
                access_token_encrypted, refresh_token_encrypted,
                expires_at AS "expires_at: Timestamp", scope,
                created_at AS "created_at: Timestamp", updated_at AS "updated_at: Timestamp"
             FROM user_oauth_tokens WHERE (user_id, provider) > (?1, ?2)
             ORDER BY user_id, provider LIMIT ?3"#,
            after.0,
            after.1,
            limit
        )
        .fetch_all(pool)
        .await
    }

    async fn page_api_keys(
        pool: &SqlitePool,
        after: ApiKeyId,
        limit: i64,
    ) -> sqlx::Result<Vec<ApiKeyRow>> {
        sqlx::query_as!(
            ApiKeyRow,
            r#"SELECT id AS "id: ApiKeyId", user_id AS "user_id: UserId", name, key_hash,
                key_prefix, tier, scopes AS "scopes: Json<Vec<String>>", is_active,
                last_used AS "last_used: Timestamp", usage_count, rate_limit_override,
                expires_at AS "expires_at: Timestamp", created_at AS "created_at: Timestamp",
                metadata AS "metadata: Json<Value>"
             FROM api_keys WHERE id > ?1 ORDER BY id LIMIT ?2"#,
            after,
            limit
        )
        .fetch_all(pool)
        .await
    }

    async fn page_a2a_clients(
        pool: &SqlitePool,
        after: A2AClientId,
        limit: i64,
    ) -> sqlx::Result<Vec<A2AClientRow>> {
        sqlx::query_as!(
            A2AClientRow,
            r#"SELECT id AS "id: A2AClientId", name, api_key_hash,
                capabilities AS "capabilities: Json<Vec<String>>", rate_limit_per_day, is_active,
                created_at AS "created_at: Timestamp", last_used AS "last_used: Timestamp",
                metadata AS "metadata: Json<Value>", revoked_at AS "revoked_at: Timestamp"
             FROM a2a_clients WHERE id > ?1 ORDER BY id LIMIT ?2"#,
            after,
            limit
        )
        .fetch_all(pool)
        .await
    }

    async fn page_tenants(
        pool: &SqlitePool,
        after: TenantId,
        limit: i64,
    ) -> sqlx::Result<Vec<TenantRow>> {
        sqlx::query_as!(
            TenantRow,
            r#"SELECT id AS "id: TenantId", name, slug, domain, plan,
                owner_user_id AS "owner_user_id: UserId", is_active,
                created_at AS "created_at: Timestamp", updated_at AS "updated_at: Timestamp"
             FROM tenants WHERE id > ?1 ORDER BY id LIMIT ?2"#,
            after,
            limit
        )
        .fetch_all(pool)
        .await
    }

    async fn page_activities(
        pool: &SqlitePool,
        tenant: TenantId,
        after: ActivityId,
        limit: i64,
    ) -> sqlx::Result<Vec<StoredActivityRow>> {
        sqlx::query_as!(
            StoredActivityRow,
            r#"SELECT id AS "id: ActivityId", tenant_id AS "tenant_id: TenantId",
                user_id AS "user_id: UserId", name, type AS activity_type, distance, duration,
                start_date AS "start_date: Timestamp", created_at AS "created_at: Timestamp",
                updated_at AS "updated_at: Timestamp", deleted_at AS "deleted_at: Timestamp"
             FROM activities WHERE tenant_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3"#,
            tenant,
            after,
            limit
        )
        .fetch_all(pool)
        .await
    }

    async fn insert_stored_activities(
        pool: &SqlitePool,
        tenant: TenantId,
        rows: &[StoredActivityRow],
    ) -> sqlx::Result<()> {
        let mut tx = Self::begin_write(pool).await?;
        for row in rows {
            sqlx::query!(
                "INSERT INTO activities (id, tenant_id, user_id, name, type, distance,
                    duration, start_date, created_at, updated_at, deleted_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                row.id,
                tenant,
                row.user_id,
                row.name,
                row.activity_type,
                row.distance,
                row.duration,
                row.start_date,
                row.created_at,
                row.updated_at,
                row.deleted_at,
            )
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }

    async fn page_api_key_usage(
        pool: &SqlitePool,
        after: i64,
        limit: i64,
    ) -> sqlx::Result<Vec<StoredApiKeyUsageRow>> {
        sqlx::query_as!(
            StoredApiKeyUsageRow,
            r#"SELECT id AS "id!: i64", api_key_id AS "api_key_id: ApiKeyId",
                timestamp AS "timestamp: Timestamp", endpoint, method, status_code,
                response_time_ms, request_size_bytes, response_size_bytes, ip_address,
                user_agent, error_message
             FROM api_key_usage WHERE id > ?1 ORDER BY id LIMIT ?2"#,
            after,
            limit
        )
        .fetch_all(pool)
        .await
    }

    async fn page_jwt_usage(
        pool: &SqlitePool,
        after: i64,
        limit: i64,
    ) -> sqlx::Result<Vec<StoredJwtUsageRow>> {
        sqlx::query_as!(
            StoredJwtUsageRow,
            r#"SELECT id AS "id!: i64", user_id AS "user_id: UserId",
                timestamp AS "timestamp: Timestamp", endpoint, method, status_code,
                response_time_ms, request_size_bytes, response_size_bytes, ip_address,
                user_agent
             FROM jwt_usage WHERE id > ?1 ORDER BY id LIMIT ?2"#,
            after,
            limit
        )
        .fetch_all(pool)
        .await
    }
}
