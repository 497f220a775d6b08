use sqlx::{MySql, MySqlExecutor, MySqlPool, types::Json};

use super::json_rows::{datetime, json_array};
use crate::{
    backend::{
        A2AClientQueries,
        codec::Timestamp,
        rows::{A2AClientRow, A2AClientUpdateRow, A2AClientUseRow},
    },
    model::A2AClientId,
};

/// The client with this id: [`A2AClientQueries::select_a2a_client_by_id`], and the read-back
/// of [`A2AClientQueries::update_a2a_client`] inside its transaction.
async fn select_by_id(
    executor: impl MySqlExecutor<'_>,
    id: A2AClientId,
) -> sqlx::Result<Option<A2AClientRow>> {
    sqlx::query_as!(
        A2AClientRow,
        "SELECT id AS `id: A2AClientId`, name, api_key_hash,
            capabilities AS `capabilities: Json<Vec<String>>`, rate_limit_per_day,
            is_active AS `is_active: bool`, created_at AS `created_at: Timestamp`,
            last_used AS `last_used: Timestamp`, metadata AS `metadata: Json<serde_json::Value>`,
            revoked_at AS `revoked_at: Timestamp`
         FROM a2a_clients WHERE id = ?",
        id
    )
    .fetch_optional(executor)
    .await
}

/// The client with this key hash: [`A2AClientQueries::select_a2a_client_by_key_hash`], and
/// the read-back of [`A2AClientQueries::touch_active_a2a_client`] inside its transaction.
async fn select_by_key_hash(
    executor: impl MySqlExecutor<'_>,
    api_key_hash: &str,
) -> sqlx::Result<Option<A2AClientRow>> {
    sqlx::query_as!(
        A2AClientRow,
        "SELECT id AS `id: A2AClientId`, name, api_key_hash,
            capabilities AS `capabilities: Json<Vec<String>>`, rate_limit_per_day,
            is_active AS `is_active: bool`, created_at AS `created_at: Timestamp`,
            last_used AS `last_used: Timestamp`, metadata AS `metadata: Json<serde_json::Value>`,
            revoked_at AS `revoked_at: Timestamp`
         FROM a2a_clients WHERE api_key_hash = ?",
        api_key_hash
    )
    .fetch_optional(executor)
    .await
}

impl A2AClientQueries for MySql {
    async fn insert_a2a_client(pool: &MySqlPool, row: &A2AClientRow) -> sqlx::Result<()> {
        sqlx::query!(
            "INSERT INTO a2a_clients (id, name, api_key_hash, capabilities, rate_limit_per_day,
                is_active, created_at, last_used, metadata, revoked_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        pool: &MySqlPool,
        id: A2AClientId,
    ) -> sqlx::Result<Option<A2AClientRow>> {
        select_by_id(pool, id).await
    }

    async fn touch_active_a2a_client(
        pool: &MySqlPool,
        api_key_hash: &str,
        now: Timestamp,
    ) -> sqlx::Result<Option<A2AClientRow>> {
        // No UPDATE ... RETURNING: the UPDATE, then the read of its row in the same
        // transaction. The UPDATE's exclusive row lock, held until the commit, keeps any
        // other writer (a revocation) off the row between the two.
        let mut tx = pool.begin().await?;
        let touched = sqlx::query!(
            "UPDATE a2a_clients SET last_used = ?
             WHERE api_key_hash = ? AND is_active AND revoked_at IS NULL",
            now,
            api_key_hash
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let row = if touched == 0 {
            None
        } else {
            select_by_key_hash(&mut *tx, api_key_hash).await?
        };
        tx.commit().await?;
        Ok(row)
    }

    async fn select_a2a_client_by_key_hash(
        pool: &MySqlPool,
        api_key_hash: &str,
    ) -> sqlx::Result<Option<A2AClientRow>> {
        select_by_key_hash(pool, api_key_hash).await
    }

    async fn set_a2a_clients_last_used(
        pool: &MySqlPool,
        rows: &[A2AClientUseRow],
    ) -> sqlx::Result<u64> {
        // One JSON array of [id, last_used] expanded by JSON_TABLE: one checked statement
        // for the whole batch (the id column ascii, as a2a_clients.id is, so that the join
        // uses the primary key). last_used is not watched by the auth_changes trigger.
        let batch: Vec<_> = rows
            .iter()
            .map(|r| (r.id.into_inner(), datetime(r.last_used)))
            .collect();
        let done = sqlx::query!(
            "UPDATE a2a_clients c JOIN JSON_TABLE(?, '$[*]' COLUMNS (
                    id CHAR(36) CHARACTER SET ascii PATH '$[0]',
                    last_used DATETIME(6) PATH '$[1]')) b ON c.id = b.id
             SET c.last_used = GREATEST(COALESCE(c.last_used, b.last_used), b.last_used)",
            json_array(&batch)?
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn revoke_a2a_client(
        pool: &MySqlPool,
        id: A2AClientId,
        at: Timestamp,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "UPDATE a2a_clients SET is_active = FALSE, revoked_at = COALESCE(revoked_at, ?)
             WHERE id = ?",
            at,
            id
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn set_a2a_client_active(
        pool: &MySqlPool,
        id: A2AClientId,
        active: bool,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "UPDATE a2a_clients SET is_active = ?
             WHERE id = ? AND (revoked_at IS NULL OR NOT ?)",
            active,
            id,
            active
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn update_a2a_client(
        pool: &MySqlPool,
        id: A2AClientId,
        changes: &A2AClientUpdateRow,
    ) -> sqlx::Result<Option<A2AClientRow>> {
        // No UPDATE ... RETURNING: the UPDATE, then the read of its row in the same
        // transaction, under the UPDATE's row lock (no other write in between). A revoked
        // client asked to become active matches no row: nothing changes and None is
        // returned, as for no such client.
        let mut tx = pool.begin().await?;
        let updated = sqlx::query!(
            "UPDATE a2a_clients SET name = COALESCE(?, name),
                capabilities = COALESCE(?, capabilities),
                rate_limit_per_day = COALESCE(?, rate_limit_per_day),
                is_active = COALESCE(?, is_active)
             WHERE id = ? AND (revoked_at IS NULL OR NOT COALESCE(?, FALSE))",
            changes.name,
            changes.capabilities,
            changes.rate_limit_per_day,
            changes.is_active,
            id,
            changes.is_active
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let row = if updated == 0 {
            None
        } else {
            select_by_id(&mut *tx, id).await?
        };
        tx.commit().await?;
        Ok(row)
    }

    async fn select_a2a_clients_page_by_active(
        pool: &MySqlPool,
        active: bool,
        after: A2AClientId,
        limit: i64,
    ) -> sqlx::Result<Vec<A2AClientRow>> {
        sqlx::query_as!(
            A2AClientRow,
            "SELECT id AS `id: A2AClientId`, name, api_key_hash,
                capabilities AS `capabilities: Json<Vec<String>>`, rate_limit_per_day,
                is_active AS `is_active: bool`, created_at AS `created_at: Timestamp`,
                last_used AS `last_used: Timestamp`,
                metadata AS `metadata: Json<serde_json::Value>`,
                revoked_at AS `revoked_at: Timestamp`
             FROM a2a_clients WHERE is_active = ? AND id > ? ORDER BY id LIMIT ?",
            active,
            after,
            limit
        )
        .fetch_all(pool)
        .await
    }
}
