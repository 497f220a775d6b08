use serde_json::Value;
use sqlx::{PgPool, Postgres, types::Json};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    backend::{
        A2AClientQueries,
        codec::Timestamp,
        rows::{A2AClientRow, A2AClientUpdateRow, A2AClientUseRow},
    },
    model::A2AClientId,
};

impl A2AClientQueries for Postgres {
    async fn insert_a2a_client(pool: &PgPool, row: &A2AClientRow) -> sqlx::Result<()> {
        sqlx::query!(
            "INSERT INTO a2a_clients (id, name, api_key_hash, capabilities, rate_limit_per_day,
                is_active, created_at, last_used, metadata, revoked_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            row.id as _,
            row.name,
            row.api_key_hash,
            row.capabilities as _,
            row.rate_limit_per_day,
            row.is_active,
            row.created_at as _,
            row.last_used as _,
            row.metadata as _,
            row.revoked_at as _,
        )
        .execute(pool)
        .await?;
        Ok(())
    }

    async fn select_a2a_client_by_id(
        pool: &PgPool,
        id: A2AClientId,
    ) -> sqlx::Result<Option<A2AClientRow>> {
        sqlx::query_as!(
            A2AClientRow,
            r#"SELECT id AS "id: A2AClientId", name, api_key_hash,
                capabilities AS "capabilities: Json<Vec<String>>", rate_limit_per_day, is_active,
                created_at AS "created_at: Timestamp", last_used AS "last_used: Timestamp",
                metadata AS "metadata: Json<Value>", revoked_at AS "revoked_at: Timestamp"
             FROM a2a_clients WHERE id = $1"#,
            id as _
        )
        .fetch_optional(pool)
        .await
    }

    async fn select_a2a_client_by_key_hash(
        pool: &PgPool,
        api_key_hash: &str,
    ) -> sqlx::Result<Option<A2AClientRow>> {
        sqlx::query_as!(
            A2AClientRow,
            r#"SELECT id AS "id: A2AClientId", name, api_key_hash,
                capabilities AS "capabilities: Json<Vec<String>>", rate_limit_per_day, is_active,
                created_at AS "created_at: Timestamp", last_used AS "last_used: Timestamp",
                metadata AS "metadata: Json<Value>", revoked_at AS "revoked_at: Timestamp"
             FROM a2a_clients WHERE api_key_hash = $1"#,
            api_key_hash
        )
        .fetch_optional(pool)
        .await
    }

    async fn touch_active_a2a_client(
        pool: &PgPool,
        api_key_hash: &str,
        now: Timestamp,
    ) -> sqlx::Result<Option<A2AClientRow>> {
        sqlx::query_as!(
            A2AClientRow,
            r#"UPDATE a2a_clients SET last_used = $2 WHERE api_key_hash = $1 AND is_active
                AND revoked_at IS NULL
             RETURNING id AS "id: A2AClientId", name, api_key_hash,
                capabilities AS "capabilities: Json<Vec<String>>", rate_limit_per_day, is_active,
                created_at AS "created_at: Timestamp", last_used AS "last_used: Timestamp",
                metadata AS "metadata: Json<Value>", revoked_at AS "revoked_at: Timestamp""#,
            api_key_hash,
            now as _
        )
        .fetch_optional(pool)
        .await
    }

    async fn set_a2a_clients_last_used(
        pool: &PgPool,
        rows: &[A2AClientUseRow],
    ) -> sqlx::Result<u64> {
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id.into_inner()).collect();
        let last_used: Vec<OffsetDateTime> = rows.iter().map(|r| r.last_used.0).collect();
        let done = sqlx::query!(
            "UPDATE a2a_clients AS c SET last_used = GREATEST(c.last_used, b.last_used)
             FROM UNNEST($1::uuid[], $2::timestamptz[]) AS b(id, last_used)
             WHERE c.id = b.id",
            &ids,
            &last_used
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn revoke_a2a_client(pool: &PgPool, id: A2AClientId, at: Timestamp) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "UPDATE a2a_clients SET is_active = FALSE, revoked_at = COALESCE(revoked_at, $2)
             WHERE id = $1",
            id as _,
            at as _
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn set_a2a_client_active(
        pool: &PgPool,
        id: A2AClientId,
        active: bool,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "UPDATE a2a_clients SET is_active = $2
             WHERE id = $1 AND (revoked_at IS NULL OR NOT $2)",
            id as _,
            active
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn update_a2a_client(
        pool: &PgPool,
        id: A2AClientId,
        changes: &A2AClientUpdateRow,
    ) -> sqlx::Result<Option<A2AClientRow>> {
        sqlx::query_as!(
            A2AClientRow,
            r#"UPDATE a2a_clients SET name = COALESCE($2, name),
                capabilities = COALESCE($3, capabilities),
                rate_limit_per_day = COALESCE($4, rate_limit_per_day),
                is_active = COALESCE($5, is_active)
             WHERE id = $1 AND (revoked_at IS NULL OR NOT COALESCE($5, FALSE))
             RETURNING id AS "id: A2AClientId", name, api_key_hash,
                capabilities AS "capabilities: Json<Vec<String>>", rate_limit_per_day, is_active,
                created_at AS "created_at: Timestamp", last_used AS "last_used: Timestamp",
                metadata AS "metadata: Json<Value>", revoked_at AS "revoked_at: Timestamp""#,
            id as _,
            changes.name,
            changes.capabilities as _,
            changes.rate_limit_per_day,
            changes.is_active,
        )
        .fetch_optional(pool)
        .await
    }

    async fn select_a2a_clients_page_by_active(
        pool: &PgPool,
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
             FROM a2a_clients WHERE is_active = $1 AND id > $2 ORDER BY id LIMIT $3"#,
            active,
            after as _,
            limit
        )
        .fetch_all(pool)
        .await
    }
}
