use serde_json::Value;
use sqlx::{Sqlite, SqlitePool, types::Json};

use crate::{
    backend::{
        A2AClientQueries,
        codec::Timestamp,
        rows::{A2AClientRow, A2AClientUpdateRow, A2AClientUseRow},
    },
    model::A2AClientId,
};

impl A2AClientQueries for Sqlite {
    async fn insert_a2a_client(pool: &SqlitePool, row: &A2AClientRow) -> sqlx::Result<()> {
        sqlx::query!(
            "INSERT INTO a2a_clients (id, name, api_key_hash, capabilities, rate_limit_per_day,
                is_active, created_at, last_used, metadata, revoked_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            row.id,
            row.name,
            row.api_key_hash,
            row.capabilities,
            row.rate_limit_per_day,
            row.is_active,
            row.created_at,
            row.last_used,
            row.metadata,
            row.revoked_at,
        )
        .execute(pool)
        .await?;
        Ok(())
    }

    async fn select_a2a_client_by_id(
        pool: &SqlitePool,
        id: A2AClientId,
    ) -> sqlx::Result<Option<A2AClientRow>> {
        sqlx::query_as!(
            A2AClientRow,
            r#"SELECT id AS "id: A2AClientId", name, api_key_hash,
                capabilities AS "capabilities: Json<Vec<String>>", rate_limit_per_day, is_active,
                created_at AS "created_at: Timestamp", last_used AS "last_used: Timestamp",
                metadata AS "metadata: Json<Value>", revoked_at AS "revoked_at: Timestamp"
             FROM a2a_clients WHERE id = ?1"#,
            id
        )
        .fetch_optional(pool)
        .await
    }

    async fn select_a2a_client_by_key_hash(
        pool: &SqlitePool,
        api_key_hash: &str,
    ) -> sqlx::Result<Option<A2AClientRow>> {
        sqlx::query_as!(
            A2AClientRow,
            r#"SELECT id AS "id: A2AClientId", name, api_key_hash,
                capabilities AS "capabilities: Json<Vec<String>>", rate_limit_per_day, is_active,
                created_at AS "created_at: Timestamp", last_used AS "last_used: Timestamp",
                metadata AS "metadata: Json<Value>", revoked_at AS "revoked_at: Timestamp"
             FROM a2a_clients WHERE api_key_hash = ?1"#,
            api_key_hash
        )
        .fetch_optional(pool)
        .await
    }

    async fn touch_active_a2a_client(
        pool: &SqlitePool,
        api_key_hash: &str,
        now: Timestamp,
    ) -> sqlx::Result<Option<A2AClientRow>> {
        sqlx::query_as!(
            A2AClientRow,
            r#"UPDATE a2a_clients SET last_used = ?2 WHERE api_key_hash = ?1 AND is_active = 1
                AND revoked_at IS NULL
             RETURNING id AS "id: A2AClientId", name, api_key_hash,
                capabilities AS "capabilities: Json<Vec<String>>", rate_limit_per_day, is_active,
                created_at AS "created_at: Timestamp", last_used AS "last_used: Timestamp",
                metadata AS "metadata: Json<Value>", revoked_at AS "revoked_at: Timestamp""#,
            api_key_hash,
            now
        )
        .fetch_optional(pool)
        .await
    }

    async fn set_a2a_clients_last_used(
        pool: &SqlitePool,
        rows: &[A2AClientUseRow],
    ) -> sqlx::Result<u64> {
        let batch: Vec<_> = rows
            .iter()
            .map(|r| (r.id.into_inner(), r.last_used.micros()))
            .collect();
        let batch = serde_json::to_string(&batch).map_err(|e| sqlx::Error::Encode(e.into()))?;
        let done = sqlx::query!(
            "UPDATE a2a_clients
             SET last_used = MAX(COALESCE(a2a_clients.last_used, b.last_used), b.last_used)
             FROM (SELECT value ->> 0 AS id, value ->> 1 AS last_used FROM jsonb_each(?1)) AS b
             WHERE a2a_clients.id = b.id",
            batch
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn revoke_a2a_client(
        pool: &SqlitePool,
        id: A2AClientId,
        at: Timestamp,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "UPDATE a2a_clients SET is_active = 0, revoked_at = COALESCE(revoked_at, ?2)
             WHERE id = ?1",
            id,
            at
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn set_a2a_client_active(
        pool: &SqlitePool,
        id: A2AClientId,
        active: bool,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "UPDATE a2a_clients SET is_active = ?2
             WHERE id = ?1 AND (revoked_at IS NULL OR NOT ?2)",
            id,
            active
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn update_a2a_client(
        pool: &SqlitePool,
        id: A2AClientId,
        changes: &A2AClientUpdateRow,
    ) -> sqlx::Result<Option<A2AClientRow>> {
        sqlx::query_as!(
            A2AClientRow,
            r#"UPDATE a2a_clients SET name = COALESCE(?2, name),
                capabilities = COALESCE(?3, capabilities),
                rate_limit_per_day = COALESCE(?4, rate_limit_per_day),
                is_active = COALESCE(?5, is_active)
             WHERE id = ?1 AND (revoked_at IS NULL OR NOT COALESCE(?5, 0))
             RETURNING id AS "id: A2AClientId", name, api_key_hash,
                capabilities AS "capabilities: Json<Vec<String>>", rate_limit_per_day, is_active,
                created_at AS "created_at: Timestamp", last_used AS "last_used: Timestamp",
                metadata AS "metadata: Json<Value>", revoked_at AS "revoked_at: Timestamp""#,
            id,
            changes.name,
            changes.capabilities,
            changes.rate_limit_per_day,
            changes.is_active,
        )
        .fetch_optional(pool)
        .await
    }

    async fn select_a2a_clients_page_by_active(
        pool: &SqlitePool,
        active: bool,
        after: A2AClientId,
        limit: i64,
    ) -> sqlx::Result<Vec<A2AClientRow>> {
        sqlx::query_as!(
            A2AClientRow,
            r#"SELECT id AS "id: A2AClientId", name, api_key_hash,
                capabilities AS "capabilities: Json<Vec<String>>", rate_limit_per_day, is_active,
                created_at AS "created_at: Timestamp", last_used AS "last_used: Timestamp",
                metadata AS "metadata: Json<Value>", revoked_at AS "revoked_at: Timestamp"
             FROM a2a_clients WHERE is_active = ?1 AND id > ?2 ORDER BY id LIMIT ?3"#,
            active,
            after,
            limit
        )
        .fetch_all(pool)
        .await
    }
}
