use sqlx::{PgConnection, PgPool, Postgres};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    backend::{
        UsageQueries,
        codec::Timestamp,
        rows::{ApiKeyUsageRow, EndpointUsageRow, JwtUsageRow, UsageStatsRow},
    },
    model::{ApiKeyId, UserId},
};

impl UsageQueries for Postgres {
    async fn create_usage_partitions(pool: &PgPool, instants: &[Timestamp]) -> sqlx::Result<u64> {
        // The function of migration 20261203000001: one partition per table and month.
        let instants: Vec<OffsetDateTime> = instants.iter().map(|t| t.0).collect();
        let created = sqlx::query_scalar!(
            r#"SELECT create_usage_partitions($1::timestamptz[]) AS "created!""#,
            &instants
        )
        .fetch_one(pool)
        .await?;
        Ok(u64::try_from(created).unwrap_or(0))
    }

    fn is_missing_partition(error: &sqlx::Error) -> bool {
        // Partition routing fails with 23514 (check_violation), "no partition of relation
        // ... found for row", naming the table but no constraint; a CHECK constraint's
        // violation names its constraint. Told apart without reading the message, which
        // the server may translate (lc_messages).
        matches!(error, sqlx::Error::Database(e)
            if e.code().as_deref() == Some("23514") && e.constraint().is_none())
    }

    fn is_insufficient_privilege(error: &sqlx::Error) -> bool {
        matches!(error, sqlx::Error::Database(e) if e.code().as_deref() == Some("42501"))
    }

    async fn drop_oldest_api_key_usage_partition_before(
        pool: &PgPool,
        cutoff: Timestamp,
    ) -> sqlx::Result<Option<u64>> {
        let rows = sqlx::query_scalar!(
            r#"SELECT drop_oldest_usage_partition_before('api_key_usage', $1) AS "rows""#,
            cutoff as _
        )
        .fetch_one(pool)
        .await?;
        Ok(rows.map(|rows| u64::try_from(rows).unwrap_or(0)))
    }

    async fn drop_oldest_jwt_usage_partition_before(
        pool: &PgPool,
        cutoff: Timestamp,
    ) -> sqlx::Result<Option<u64>> {
        let rows = sqlx::query_scalar!(
            r#"SELECT drop_oldest_usage_partition_before('jwt_usage', $1) AS "rows""#,
            cutoff as _
        )
        .fetch_one(pool)
        .await?;
        Ok(rows.map(|rows| u64::try_from(rows).unwrap_or(0)))
    }

    async fn insert_api_key_usage(pool: &PgPool, row: &ApiKeyUsageRow) -> sqlx::Result<u64> {
        // The key is locked FOR KEY SHARE (as a foreign key check would) so that it cannot be
        // deleted before the row commits; no row is inserted when it does not exist.
        let done = sqlx::query!(
            "INSERT INTO api_key_usage (api_key_id, timestamp, endpoint, method, status_code,
                response_time_ms, request_size_bytes, response_size_bytes, ip_address,
                user_agent, error_message)
             SELECT k.id, $2::timestamptz, $3::text, $4::text, $5::bigint, $6::bigint,
                $7::bigint, $8::bigint, $9::text, $10::text, $11::text
             FROM api_keys k WHERE k.id = $1 FOR KEY SHARE",
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
        Ok(done.rows_affected())
    }

    async fn insert_jwt_usage(pool: &PgPool, row: &JwtUsageRow) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "INSERT INTO jwt_usage (user_id, timestamp, endpoint, method, status_code,
                response_time_ms, request_size_bytes, response_size_bytes, ip_address,
                user_agent)
             SELECT u.id, $2::timestamptz, $3::text, $4::text, $5::bigint, $6::bigint,
                $7::bigint, $8::bigint, $9::text, $10::text
             FROM users u WHERE u.id = $1 FOR KEY SHARE",
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
        Ok(done.rows_affected())
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
            "DELETE FROM api_key_usage u USING
                (SELECT id, timestamp FROM api_key_usage WHERE timestamp < $1 ORDER BY id LIMIT $2)
                AS old WHERE u.id = old.id AND u.timestamp = old.timestamp",
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
            "DELETE FROM jwt_usage u USING
                (SELECT id, timestamp FROM jwt_usage WHERE timestamp < $1 ORDER BY id LIMIT $2)
                AS old WHERE u.id = old.id AND u.timestamp = old.timestamp",
            cutoff as _,
            limit
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn insert_api_key_usage_batch(
        conn: &mut PgConnection,
        rows: &[ApiKeyUsageRow],
    ) -> sqlx::Result<u64> {
        // One array per column, unpacked by UNNEST: one checked statement for any number
        // of rows. Each distinct key is looked up and locked FOR KEY SHARE once per batch
        // (a foreign key would do it once per row); rows of a missing key are left out.
        let ids: Vec<Uuid> = rows.iter().map(|r| r.api_key_id.into_inner()).collect();
        let timestamps: Vec<OffsetDateTime> = rows.iter().map(|r| r.timestamp.0).collect();
        let endpoints: Vec<&str> = rows.iter().map(|r| r.endpoint.as_str()).collect();
        let methods: Vec<&str> = rows.iter().map(|r| r.method.as_str()).collect();
        let statuses: Vec<i64> = rows.iter().map(|r| r.status_code).collect();
        let times: Vec<Option<i64>> = rows.iter().map(|r| r.response_time_ms).collect();
        let request_sizes: Vec<Option<i64>> = rows.iter().map(|r| r.request_size_bytes).collect();
        let response_sizes: Vec<Option<i64>> = rows.iter().map(|r| r.response_size_bytes).collect();
        let ips: Vec<Option<&str>> = rows.iter().map(|r| r.ip_address.as_deref()).collect();
        let agents: Vec<Option<&str>> = rows.iter().map(|r| r.user_agent.as_deref()).collect();
        let errors: Vec<Option<&str>> = rows.iter().map(|r| r.error_message.as_deref()).collect();
        let done = sqlx::query!(
            "INSERT INTO api_key_usage (api_key_id, timestamp, endpoint, method, status_code,
                response_time_ms, request_size_bytes, response_size_bytes, ip_address,
                user_agent, error_message)
             WITH live AS (SELECT id FROM api_keys WHERE id = ANY($1) FOR KEY SHARE)
             SELECT b.* FROM UNNEST($1::uuid[], $2::timestamptz[], $3::text[], $4::text[],
                $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::text[], $10::text[],
                $11::text[]) AS b(api_key_id)
             JOIN live ON live.id = b.api_key_id",
            &ids,
            &timestamps,
            &endpoints as _,
            &methods as _,
            &statuses,
            &times as _,
            &request_sizes as _,
            &response_sizes as _,
            &ips as _,
            &agents as _,
            &errors as _
        )
        .execute(conn)
        .await?;
        Ok(done.rows_affected())
    }

    async fn insert_jwt_usage_batch(
        conn: &mut PgConnection,
        rows: &[JwtUsageRow],
    ) -> sqlx::Result<u64> {
        let ids: Vec<Uuid> = rows.iter().map(|r| r.user_id.into_inner()).collect();
        let timestamps: Vec<OffsetDateTime> = rows.iter().map(|r| r.timestamp.0).collect();
        let endpoints: Vec<&str> = rows.iter().map(|r| r.endpoint.as_str()).collect();
        let methods: Vec<&str> = rows.iter().map(|r| r.method.as_str()).collect();
        let statuses: Vec<i64> = rows.iter().map(|r| r.status_code).collect();
        let times: Vec<Option<i64>> = rows.iter().map(|r| r.response_time_ms).collect();
        let request_sizes: Vec<Option<i64>> = rows.iter().map(|r| r.request_size_bytes).collect();
        let response_sizes: Vec<Option<i64>> = rows.iter().map(|r| r.response_size_bytes).collect();
        let ips: Vec<Option<&str>> = rows.iter().map(|r| r.ip_address.as_deref()).collect();
        let agents: Vec<Option<&str>> = rows.iter().map(|r| r.user_agent.as_deref()).collect();
        let done = sqlx::query!(
            "INSERT INTO jwt_usage (user_id, timestamp, endpoint, method, status_code,
                response_time_ms, request_size_bytes, response_size_bytes, ip_address,
                user_agent)
             WITH live AS (SELECT id FROM users WHERE id = ANY($1) FOR KEY SHARE)
             SELECT b.* FROM UNNEST($1::uuid[], $2::timestamptz[], $3::text[], $4::text[],
                $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::text[], $10::text[])
                AS b(user_id)
             JOIN live ON live.id = b.user_id",
            &ids,
            &timestamps,
            &endpoints as _,
            &methods as _,
            &statuses,
            &times as _,
            &request_sizes as _,
            &response_sizes as _,
            &ips as _,
            &agents as _
        )
        .execute(conn)
        .await?;
        Ok(done.rows_affected())
    }

    async fn select_api_key_endpoint_usage(
        pool: &PgPool,
        api_key_id: ApiKeyId,
        from: Timestamp,
        to: Timestamp,
        limit: i64,
    ) -> sqlx::Result<Vec<EndpointUsageRow>> {
        // Endpoints tie-break in byte order whatever the database's collation, as on SQLite.
        sqlx::query_as!(
            EndpointUsageRow,
            r#"SELECT endpoint, COUNT(*) AS "requests!: i64",
                COUNT(*) FILTER (WHERE status_code >= 400) AS "errors!: i64",
                AVG(response_time_ms)::DOUBLE PRECISION AS "average_response_time_ms?: f64"
             FROM api_key_usage
             WHERE api_key_id = $1 AND timestamp >= $2 AND timestamp < $3
             GROUP BY endpoint ORDER BY COUNT(*) DESC, endpoint COLLATE "C" LIMIT $4"#,
            api_key_id as _,
            from as _,
            to as _,
            limit
        )
        .fetch_all(pool)
        .await
    }

    async fn select_jwt_endpoint_usage(
        pool: &PgPool,
        user_id: UserId,
        from: Timestamp,
        to: Timestamp,
        limit: i64,
    ) -> sqlx::Result<Vec<EndpointUsageRow>> {
        sqlx::query_as!(
            EndpointUsageRow,
            r#"SELECT endpoint, COUNT(*) AS "requests!: i64",
                COUNT(*) FILTER (WHERE status_code >= 400) AS "errors!: i64",
                AVG(response_time_ms)::DOUBLE PRECISION AS "average_response_time_ms?: f64"
             FROM jwt_usage
             WHERE user_id = $1 AND timestamp >= $2 AND timestamp < $3
             GROUP BY endpoint ORDER BY COUNT(*) DESC, endpoint COLLATE "C" LIMIT $4"#,
            user_id as _,
            from as _,
            to as _,
            limit
        )
        .fetch_all(pool)
        .await
    }
}
