use sqlx::{PgPool, Postgres};

use crate::{
    backend::{
        UsageQueries,
        codec::Timestamp,
        rows::{ApiKeyUsageRow, JwtUsageRow, UsageStatsRow},
    },
    model::UserId,
};

impl UsageQueries for Postgres {
    async fn insert_api_key_usage(pool: &PgPool, row: &ApiKeyUsageRow) -> sqlx::Result<()> {
        sqlx::query!(
            "INSERT INTO api_key_usage (api_key_id, timestamp, endpoint, method, status_code,
                response_time_ms, request_size_bytes, response_size_bytes, ip_address,
                user_agent, error_message)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            row.api_key_id as _,
            row.timestamp as _,
            row.endpoint,
            row.method,
            row.status_code,
            row.response_time_ms,
            row.request_size_bytes,
            row.response_size_bytes,
            row.ip_address,
            row.user_agent,
            row.error_message,
        )
        .execute(pool)
        .await?;
        Ok(())
    }

    async fn insert_jwt_usage(pool: &PgPool, row: &JwtUsageRow) -> sqlx::Result<()> {
        sqlx::query!(
            "INSERT INTO jwt_usage (user_id, timestamp, endpoint, method, status_code,
                response_time_ms, request_size_bytes, response_size_bytes, ip_address,
                user_agent)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            row.user_id as _,
            row.timestamp as _,
            row.endpoint,
            row.method,
            row.status_code,
            row.response_time_ms,
            row.request_size_bytes,
            row.response_size_bytes,
            row.ip_address,
            row.user_agent,
        )
        .execute(pool)
        .await?;
        Ok(())
    }

    async fn select_usage_stats(pool: &PgPool, user_id: UserId) -> sqlx::Result<UsageStatsRow> {
        sqlx::query_as!(
            UsageStatsRow,
            r#"SELECT COUNT(*) AS "total_requests!: i64",
                COUNT(*) FILTER (WHERE u.status_code < 400) AS "successful_requests!: i64",
                AVG(u.response_time_ms)::DOUBLE PRECISION AS "average_response_time_ms?: f64",
                MIN(u.timestamp) AS "first_request?: Timestamp",
                MAX(u.timestamp) AS "last_request?: Timestamp"
             FROM api_key_usage u JOIN api_keys k ON k.id = u.api_key_id
             WHERE k.user_id = $1"#,
            user_id as _
        )
        .fetch_one(pool)
        .await
    }

    async fn delete_api_key_usage_before(
        pool: &PgPool,
        cutoff: Timestamp,
        limit: i64,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "DELETE FROM api_key_usage WHERE id IN
                (SELECT id FROM api_key_usage WHERE timestamp < $1 ORDER BY id LIMIT $2)",
            cutoff as _,
            limit
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn delete_jwt_usage_before(
        pool: &PgPool,
        cutoff: Timestamp,
        limit: i64,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "DELETE FROM jwt_usage WHERE id IN
                (SELECT id FROM jwt_usage WHERE timestamp < $1 ORDER BY id LIMIT $2)",
            cutoff as _,
            limit
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }
}
