use serde_json::Value;
use sqlx::{MySql, MySqlPool, types::Json};

use crate::{
    backend::{
        CopyQueries,
        codec::Timestamp,
        rows::{
            A2AClientRow, ApiKeyRow, OAuthTokenRow, StoredActivityRow, StoredApiKeyUsageRow,
            StoredJwtUsageRow, TenantRow, UserRow,
        },
    },
    model::{A2AClientId, ActivityId, ApiKeyId, OAuthTokenId, TenantId, UserId},
};

impl CopyQueries for MySql {
    async fn page_users(pool: &MySqlPool, after: UserId, limit: i64) -> sqlx::Result<Vec<UserRow>> {
        sqlx::query_as!(
            UserRow,
            "SELECT id AS `id: UserId`, email, password_hash, firstname, lastname, status,
                is_admin AS `is_admin: bool`, tier, rate_limit_multiplier,
                created_at AS `created_at: Timestamp`, updated_at AS `updated_at: Timestamp`,
                last_active AS `last_active: Timestamp`, approved_at AS `approved_at: Timestamp`,
                approved_by AS `approved_by: UserId`, suspended_at AS `suspended_at: Timestamp`,
                suspended_by AS `suspended_by: UserId`, suspension_reason
             FROM users WHERE id > ? ORDER BY id LIMIT ?",
            after,
            limit
        )
        .fetch_all(pool)
        .await
    }

    async fn set_user_moderators(
        pool: &MySqlPool,
        id: UserId,
        approved_by: Option<UserId>,
        suspended_by: Option<UserId>,
    ) -> sqlx::Result<()> {
        sqlx::query!(
            "UPDATE users SET approved_by = ?, suspended_by = ? WHERE id = ?",
            approved_by,
            suspended_by,
            id
        )
        .execute(pool)
        .await?;
        Ok(())
    }

    async fn page_oauth_tokens(
        pool: &MySqlPool,
        after: (UserId, &str),
        limit: i64,
    ) -> sqlx::Result<Vec<OAuthTokenRow>> {
        // Spelt out rather than as `(user_id, provider) > (?, ?)`: MariaDB reads a row
        // comparison through the whole (user_id, provider) index, not as a range from `after`.
        sqlx::query_as!(
            OAuthTokenRow,
            "SELECT id AS `id: OAuthTokenId`, user_id AS `user_id: UserId`, provider,
                access_token_encrypted, refresh_token_encrypted,
                expires_at AS `expires_at: Timestamp`, scope,
                created_at AS `created_at: Timestamp`, updated_at AS `updated_at: Timestamp`
             FROM user_oauth_tokens WHERE user_id > ? OR (user_id = ? AND provider > ?)
             ORDER BY user_id, provider LIMIT ?",
            after.0,
            after.0,
            after.1,
            limit
        )
        .fetch_all(pool)
        .await
    }

    async fn page_api_keys(
        pool: &MySqlPool,
        after: ApiKeyId,
        limit: i64,
    ) -> sqlx::Result<Vec<ApiKeyRow>> {
        sqlx::query_as!(
            ApiKeyRow,
            "SELECT id AS `id: ApiKeyId`, user_id AS `user_id: UserId`, name, key_hash,
                key_prefix, tier, scopes AS `scopes: Json<Vec<String>>`,
                is_active AS `is_active: bool`,
                last_used AS `last_used: Timestamp`, usage_count, rate_limit_override,
                expires_at AS `expires_at: Timestamp`, created_at AS `created_at: Timestamp`,
                metadata AS `metadata: Json<Value>`
             FROM api_keys WHERE id > ? ORDER BY id LIMIT ?",
            after,
            limit
        )
        .fetch_all(pool)
        .await
    }

    async fn page_a2a_clients(
        pool: &MySqlPool,
        after: A2AClientId,
        limit: i64,
    ) -> sqlx::Result<Vec<A2AClientRow>> {
        sqlx::query_as!(
            A2AClientRow,
            "SELECT id AS `id: A2AClientId`, name, api_key_hash,
                capabilities AS `capabilities: Json<Vec<String>>`, rate_limit_per_day,
                is_active AS `is_active: bool`,
                created_at AS `created_at: Timestamp`, last_used AS `last_used: Timestamp`,
                metadata AS `metadata: Json<Value>`, revoked_at AS `revoked_at: Timestamp`
             FROM a2a_clients WHERE id > ? ORDER BY id LIMIT ?",
            after,
            limit
        )
        .fetch_all(pool)
        .await
    }

    async fn page_tenants(
        pool: &MySqlPool,
        after: TenantId,
        limit: i64,
    ) -> sqlx::Result<Vec<TenantRow>> {
        sqlx::query_as!(
            TenantRow,
            "SELECT id AS `id: TenantId`, name, slug, domain, plan,
                owner_user_id AS `owner_user_id: UserId`,
                is_active AS `is_active: bool`,
                created_at AS `created_at: Timestamp`, updated_at AS `updated_at: Timestamp`
             FROM tenants WHERE id > ? ORDER BY id LIMIT ?",
            after,
            limit
        )
        .fetch_all(pool)
        .await
    }

    async fn page_activities(
        pool: &MySqlPool,
        tenant: TenantId,
        after: ActivityId,
        limit: i64,
    ) -> sqlx::Result<Vec<StoredActivityRow>> {
        sqlx::query_as!(
            StoredActivityRow,
            "SELECT id AS `id: ActivityId`, tenant_id AS `tenant_id: TenantId`,
                user_id AS `user_id: UserId`, name, type AS activity_type, distance, duration,
                start_date AS `start_date: Timestamp`, created_at AS `created_at: Timestamp`,
                updated_at AS `updated_at: Timestamp`, deleted_at AS `deleted_at: Timestamp`
             FROM activities WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?",
            tenant,
            after,
            limit
        )
        .fetch_all(pool)
        .await
    }

    async fn insert_stored_activities(
        pool: &MySqlPool,
        tenant: TenantId,
        rows: &[StoredActivityRow],
    ) -> sqlx::Result<()> {
        let mut tx = pool.begin().await?;
        for row in rows {
            sqlx::query!(
                "INSERT INTO activities (id, tenant_id, user_id, name, type, distance,
                    duration, start_date, created_at, updated_at, deleted_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        pool: &MySqlPool,
        after: i64,
        limit: i64,
    ) -> sqlx::Result<Vec<StoredApiKeyUsageRow>> {
        sqlx::query_as!(
            StoredApiKeyUsageRow,
            "SELECT id AS `id!: i64`, api_key_id AS `api_key_id: ApiKeyId`,
                `timestamp` AS `timestamp: Timestamp`, endpoint, method, status_code,
                response_time_ms, request_size_bytes, response_size_bytes, ip_address,
                user_agent, error_message
             FROM api_key_usage WHERE id > ? ORDER BY id LIMIT ?",
            after,
            limit
        )
        .fetch_all(pool)
        .await
    }

    async fn page_jwt_usage(
        pool: &MySqlPool,
        after: i64,
        limit: i64,
    ) -> sqlx::Result<Vec<StoredJwtUsageRow>> {
        sqlx::query_as!(
            StoredJwtUsageRow,
            "SELECT id AS `id!: i64`, user_id AS `user_id: UserId`,
                `timestamp` AS `timestamp: Timestamp`, endpoint, method, status_code,
                response_time_ms, request_size_bytes, response_size_bytes, ip_address,
                user_agent
             FROM jwt_usage WHERE id > ? ORDER BY id LIMIT ?",
            after,
            limit
        )
        .fetch_all(pool)
        .await
    }
}
