use sqlx::{MySql, MySqlConnection, MySqlPool};

use crate::{
    backend::{
        TokenQueries,
        codec::Timestamp,
        rows::{ExpiringTokenRow, OAuthTokenRow, TokenCiphertextRow},
    },
    model::{OAuthTokenId, UserId},
};

impl TokenQueries for MySql {
    async fn upsert_oauth_token(
        conn: &mut MySqlConnection,
        row: &OAuthTokenRow,
    ) -> sqlx::Result<()> {
        // The existing row of (user_id, provider) keeps its id and created_at. VALUES(col)
        // is the MariaDB form; MySQL 8 still accepts it (deprecated for `AS new`, which
        // MariaDB lacks).
        sqlx::query!(
            "INSERT INTO user_oauth_tokens (id, user_id, provider, access_token_encrypted,
                refresh_token_encrypted, expires_at, scope, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON DUPLICATE KEY UPDATE
                access_token_encrypted = VALUES(access_token_encrypted),
                refresh_token_encrypted = VALUES(refresh_token_encrypted),
                expires_at = VALUES(expires_at), scope = VALUES(scope),
                updated_at = VALUES(updated_at)",
            row.id,
            row.user_id,
            row.provider,
            row.access_token_encrypted,
            row.refresh_token_encrypted,
            row.expires_at,
            row.scope,
            row.created_at,
            row.updated_at,
        )
        .execute(conn)
        .await?;
        Ok(())
    }

    async fn select_oauth_token(
        pool: &MySqlPool,
        user_id: UserId,
        provider: &str,
    ) -> sqlx::Result<Option<OAuthTokenRow>> {
        sqlx::query_as!(
            OAuthTokenRow,
            "SELECT id AS `id: OAuthTokenId`, user_id AS `user_id: UserId`, provider,
                access_token_encrypted, refresh_token_encrypted,
                expires_at AS `expires_at: Timestamp`, scope,
                created_at AS `created_at: Timestamp`, updated_at AS `updated_at: Timestamp`
             FROM user_oauth_tokens WHERE user_id = ? AND provider = ?",
            user_id,
            provider
        )
        .fetch_optional(pool)
        .await
    }

    async fn delete_oauth_token(
        pool: &MySqlPool,
        user_id: UserId,
        provider: &str,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "DELETE FROM user_oauth_tokens WHERE user_id = ? AND provider = ?",
            user_id,
            provider
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn select_tokens_not_under_key(
        conn: &mut MySqlConnection,
        key_id: &[u8],
        after_user_id: UserId,
        after_provider: &str,
        limit: i64,
    ) -> sqlx::Result<Vec<TokenCiphertextRow>> {
        // SUBSTRING of a BLOB is bytes, compared byte by byte with the bound key id.
        sqlx::query_as!(
            TokenCiphertextRow,
            "SELECT user_id AS `user_id: UserId`, provider, access_token_encrypted,
                refresh_token_encrypted
             FROM user_oauth_tokens
             WHERE (user_id, provider) > (?, ?)
               AND (SUBSTRING(access_token_encrypted, 2, 8) <> ?
                    OR (refresh_token_encrypted IS NOT NULL AND SUBSTRING(refresh_token_encrypted, 2, 8) <> ?))
             ORDER BY user_id, provider
             LIMIT ?
             FOR UPDATE",
            after_user_id,
            after_provider,
            key_id,
            key_id,
            limit
        )
        .fetch_all(conn)
        .await
    }

    async fn update_token_ciphertexts(
        conn: &mut MySqlConnection,
        row: &TokenCiphertextRow,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "UPDATE user_oauth_tokens SET access_token_encrypted = ?, refresh_token_encrypted = ?
             WHERE user_id = ? AND provider = ?",
            row.access_token_encrypted,
            row.refresh_token_encrypted,
            row.user_id,
            row.provider
        )
        .execute(conn)
        .await?;
        Ok(done.rows_affected())
    }

    async fn count_tokens_by_key(pool: &MySqlPool, key_id: &[u8]) -> sqlx::Result<(i64, i64)> {
        // COUNT(CASE ...) counts the rows the CASE keeps (no FILTER clause on MySQL).
        let counts = sqlx::query!(
            "SELECT COUNT(*) AS `total!: i64`,
                COUNT(CASE WHEN SUBSTRING(access_token_encrypted, 2, 8) <> ?
                    OR (refresh_token_encrypted IS NOT NULL AND SUBSTRING(refresh_token_encrypted, 2, 8) <> ?)
                    THEN 1 END) AS `stale!: i64`
             FROM user_oauth_tokens",
            key_id,
            key_id
        )
        .fetch_one(pool)
        .await?;
        Ok((counts.total, counts.stale))
    }

    async fn select_tokens_expiring_before(
        pool: &MySqlPool,
        before: Timestamp,
        limit: i64,
    ) -> sqlx::Result<Vec<ExpiringTokenRow>> {
        sqlx::query_as!(
            ExpiringTokenRow,
            "SELECT user_id AS `user_id: UserId`, provider,
                expires_at AS `expires_at!: Timestamp`
             FROM user_oauth_tokens
             WHERE expires_at < ?
             ORDER BY expires_at, user_id, provider
             LIMIT ?",
            before,
            limit
        )
        .fetch_all(pool)
        .await
    }
}
