use sqlx::{MySql, MySqlConnection, MySqlPool};

use super::{
    json_rows::{datetime, json_array},
    lifecycle::server_error_number,
};
use crate::{
    backend::{
        UsageQueries,
        codec::Timestamp,
        rows::{ApiKeyUsageRow, EndpointUsageRow, JwtUsageRow, UsageStatsRow},
    },
    model::{ApiKeyId, UserId},
};

// Endpoints are utf8mb4_bin text, whose comparisons ignore trailing spaces (a PAD SPACE
// collation: '/a' = '/a ', and '/a\t' sorts before '/a'). The endpoint statements group and
// order by the text's bytes (`CAST(endpoint AS BINARY)`), as SQLite and PostgreSQL's
// COLLATE "C" do; within a group every endpoint has the same bytes, so MIN(endpoint) is it.

impl UsageQueries for MySql {
    // MySQL's usage tables are plain tables, pruned by DELETE: the partition functions run
    // no statement.
    async fn create_usage_partitions(
        _pool: &MySqlPool,
        _instants: &[Timestamp],
    ) -> sqlx::Result<u64> {
        Ok(0)
    }

    fn is_missing_partition(_error: &sqlx::Error) -> bool {
        false
    }

    fn is_insufficient_privilege(error: &sqlx::Error) -> bool {
        // 1044: no access to the database; 1142 / 1143: a command denied on a table / a
        // column; 1227: the statement needs a privilege such as SUPER; 1370: a routine's.
        matches!(
            server_error_number(error),
            Some(1044 | 1142 | 1143 | 1227 | 1370)
        )
    }

    async fn drop_oldest_api_key_usage_partition_before(
        _pool: &MySqlPool,
        _cutoff: Timestamp,
    ) -> sqlx::Result<Option<u64>> {
        Ok(None)
    }

    async fn drop_oldest_jwt_usage_partition_before(
        _pool: &MySqlPool,
        _cutoff: Timestamp,
    ) -> sqlx::Result<Option<u64>> {
        Ok(None)
    }

    async fn insert_api_key_usage(pool: &MySqlPool, row: &ApiKeyUsageRow) -> sqlx::Result<u64> {
        // The key is read LOCK IN SHARE MODE (as a foreign key check would lock it) so that
        // it cannot be deleted before the row commits; no row is inserted when it does not
        // exist. Its id is the last parameter.
        let done = sqlx::query!(
            "INSERT INTO api_key_usage (api_key_id, `timestamp`, endpoint, method, status_code,
                response_time_ms, request_size_bytes, response_size_bytes, ip_address,
                user_agent, error_message)
             SELECT k.id, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
             FROM api_keys k WHERE k.id = ? LOCK IN SHARE MODE",
            row.timestamp,
            row.endpoint,
            row.method,
            row.status_code,
            row.response_time_ms,
            row.request_size_bytes,
            row.response_size_bytes,
            row.ip_address,
            row.user_agent,
            row.error_message,
            row.api_key_id,
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn insert_jwt_usage(pool: &MySqlPool, row: &JwtUsageRow) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "INSERT INTO jwt_usage (user_id, `timestamp`, endpoint, method, status_code,
                response_time_ms, request_size_bytes, response_size_bytes, ip_address,
                user_agent)
             SELECT u.id, ?, ?, ?, ?, ?, ?, ?, ?, ?
             FROM users u WHERE u.id = ? LOCK IN SHARE MODE",
            row.timestamp,
            row.endpoint,
            row.method,
            row.status_code,
            row.response_time_ms,
            row.request_size_bytes,
            row.response_size_bytes,
            row.ip_address,
            row.user_agent,
            row.user_id,
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn select_usage_stats(pool: &MySqlPool, user_id: UserId) -> sqlx::Result<UsageStatsRow> {
        // AVG over DOUBLE: AVG of a BIGINT is a DECIMAL rounded to 4 places
        // (div_precision_increment).
        sqlx::query_as!(
            UsageStatsRow,
            "SELECT COUNT(*) AS `total_requests!: i64`,
                COUNT(CASE WHEN u.status_code < 400 THEN 1 END) AS `successful_requests!: i64`,
                AVG(CAST(u.response_time_ms AS DOUBLE)) AS `average_response_time_ms?: f64`,
                MIN(u.`timestamp`) AS `first_request?: Timestamp`,
                MAX(u.`timestamp`) AS `last_request?: Timestamp`
             FROM api_key_usage u JOIN api_keys k ON k.id = u.api_key_id
             WHERE k.user_id = ?",
            user_id
        )
        .fetch_one(pool)
        .await
    }

    async fn delete_api_key_usage_before(
        pool: &MySqlPool,
        cutoff: Timestamp,
        limit: i64,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "DELETE FROM api_key_usage WHERE `timestamp` < ? ORDER BY id LIMIT ?",
            cutoff,
            limit
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn delete_jwt_usage_before(
        pool: &MySqlPool,
        cutoff: Timestamp,
        limit: i64,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "DELETE FROM jwt_usage WHERE `timestamp` < ? ORDER BY id LIMIT ?",
            cutoff,
            limit
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn insert_api_key_usage_batch(
        conn: &mut MySqlConnection,
        rows: &[ApiKeyUsageRow],
    ) -> sqlx::Result<u64> {
        // The rows travel as one JSON array, unpacked by JSON_TABLE: one checked statement
        // for any number of rows, inserted in their order. The join reads each row's key
        // LOCK IN SHARE MODE (so it cannot be deleted before the rows commit) and leaves
        // out the rows of a missing key. STRAIGHT_JOIN keeps the rows first and each key
        // looked up by its primary key: with few keys the optimizer would otherwise scan
        // (and lock) every key. Text columns are LONGTEXT, never cut short, and go
        // through CAST (`json_rows` says why).
        let batch: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r.api_key_id.into_inner(),
                    datetime(r.timestamp),
                    &r.endpoint,
                    &r.method,
                    r.status_code,
                    r.response_time_ms,
                    r.request_size_bytes,
                    r.response_size_bytes,
                    &r.ip_address,
                    &r.user_agent,
                    &r.error_message,
                )
            })
            .collect();
        let done = sqlx::query!(
            "INSERT INTO api_key_usage (api_key_id, `timestamp`, endpoint, method, status_code,
                response_time_ms, request_size_bytes, response_size_bytes, ip_address,
                user_agent, error_message)
             SELECT k.id, b.at, CAST(b.endpoint AS CHAR CHARACTER SET utf8mb4),
                CAST(b.method AS CHAR CHARACTER SET utf8mb4), b.status_code, b.response_time_ms,
                b.request_size_bytes, b.response_size_bytes,
                CAST(b.ip_address AS CHAR CHARACTER SET utf8mb4),
                CAST(b.user_agent AS CHAR CHARACTER SET utf8mb4),
                CAST(b.error_message AS CHAR CHARACTER SET utf8mb4)
             FROM JSON_TABLE(?, '$[*]' COLUMNS (
                n FOR ORDINALITY,
                api_key_id CHAR(36) CHARACTER SET ascii PATH '$[0]',
                at DATETIME(6) PATH '$[1]',
                endpoint LONGTEXT CHARACTER SET utf8mb4 PATH '$[2]',
                method LONGTEXT CHARACTER SET utf8mb4 PATH '$[3]',
                status_code BIGINT PATH '$[4]',
                response_time_ms BIGINT PATH '$[5]',
                request_size_bytes BIGINT PATH '$[6]',
                response_size_bytes BIGINT PATH '$[7]',
                ip_address LONGTEXT CHARACTER SET utf8mb4 PATH '$[8]',
                user_agent LONGTEXT CHARACTER SET utf8mb4 PATH '$[9]',
                error_message LONGTEXT CHARACTER SET utf8mb4 PATH '$[10]')) AS b
             STRAIGHT_JOIN api_keys k ON k.id = b.api_key_id
             ORDER BY b.n LOCK IN SHARE MODE",
            json_array(&batch)?
        )
        .execute(conn)
        .await?;
        Ok(done.rows_affected())
    }

    async fn insert_jwt_usage_batch(
        conn: &mut MySqlConnection,
        rows: &[JwtUsageRow],
    ) -> sqlx::Result<u64> {
        // Text columns are LONGTEXT, never cut short, and go through CAST (`json_rows`
        // says why).
        let batch: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r.user_id.into_inner(),
                    datetime(r.timestamp),
                    &r.endpoint,
                    &r.method,
                    r.status_code,
                    r.response_time_ms,
                    r.request_size_bytes,
                    r.response_size_bytes,
                    &r.ip_address,
                    &r.user_agent,
                )
            })
            .collect();
        let done = sqlx::query!(
            "INSERT INTO jwt_usage (user_id, `timestamp`, endpoint, method, status_code,
                response_time_ms, request_size_bytes, response_size_bytes, ip_address,
                user_agent)
             SELECT u.id, b.at, CAST(b.endpoint AS CHAR CHARACTER SET utf8mb4),
                CAST(b.method AS CHAR CHARACTER SET utf8mb4), b.status_code, b.response_time_ms,
                b.request_size_bytes, b.response_size_bytes,
                CAST(b.ip_address AS CHAR CHARACTER SET utf8mb4),
                CAST(b.user_agent AS CHAR CHARACTER SET utf8mb4)
             FROM JSON_TABLE(?, '$[*]' COLUMNS (
                n FOR ORDINALITY,
                user_id CHAR(36) CHARACTER SET ascii PATH '$[0]',
                at DATETIME(6) PATH '$[1]',
                endpoint LONGTEXT CHARACTER SET utf8mb4 PATH '$[2]',
                method LONGTEXT CHARACTER SET utf8mb4 PATH '$[3]',
                status_code BIGINT PATH '$[4]',
                response_time_ms BIGINT PATH '$[5]',
                request_size_bytes BIGINT PATH '$[6]',
                response_size_bytes BIGINT PATH '$[7]',
                ip_address LONGTEXT CHARACTER SET utf8mb4 PATH '$[8]',
                user_agent LONGTEXT CHARACTER SET utf8mb4 PATH '$[9]')) AS b
             STRAIGHT_JOIN users u ON u.id = b.user_id
             ORDER BY b.n LOCK IN SHARE MODE",
            json_array(&batch)?
        )
        .execute(conn)
        .await?;
        Ok(done.rows_affected())
    }

    async fn select_api_key_endpoint_usage(
        pool: &MySqlPool,
        api_key_id: ApiKeyId,
        from: Timestamp,
        to: Timestamp,
        limit: i64,
    ) -> sqlx::Result<Vec<EndpointUsageRow>> {
        sqlx::query_as!(
            EndpointUsageRow,
            "SELECT MIN(endpoint) AS `endpoint!: String`, COUNT(*) AS `requests!: i64`,
                COUNT(CASE WHEN status_code >= 400 THEN 1 END) AS `errors!: i64`,
                AVG(CAST(response_time_ms AS DOUBLE)) AS `average_response_time_ms?: f64`
             FROM api_key_usage
             WHERE api_key_id = ? AND `timestamp` >= ? AND `timestamp` < ?
             GROUP BY CAST(endpoint AS BINARY)
             ORDER BY COUNT(*) DESC, CAST(endpoint AS BINARY) LIMIT ?",
            api_key_id,
            from,
            to,
            limit
        )
        .fetch_all(pool)
        .await
    }

    async fn select_jwt_endpoint_usage(
        pool: &MySqlPool,
        user_id: UserId,
        from: Timestamp,
        to: Timestamp,
        limit: i64,
    ) -> sqlx::Result<Vec<EndpointUsageRow>> {
        sqlx::query_as!(
            EndpointUsageRow,
            "SELECT MIN(endpoint) AS `endpoint!: String`, COUNT(*) AS `requests!: i64`,
                COUNT(CASE WHEN status_code >= 400 THEN 1 END) AS `errors!: i64`,
                AVG(CAST(response_time_ms AS DOUBLE)) AS `average_response_time_ms?: f64`
             FROM jwt_usage
             WHERE user_id = ? AND `timestamp` >= ? AND `timestamp` < ?
             GROUP BY CAST(endpoint AS BINARY)
             ORDER BY COUNT(*) DESC, CAST(endpoint AS BINARY) LIMIT ?",
            user_id,
            from,
            to,
            limit
        )
        .fetch_all(pool)
        .await
    }
}
