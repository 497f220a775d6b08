use sqlx::{Sqlite, SqliteConnection, SqlitePool};

use crate::{
    backend::{
        TokenQueries,
        codec::Timestamp,
        rows::{ExpiringTokenRow, OAuthTokenRow, TokenCiphertextRow},
    },
    model::{OAuthTokenId, UserId},
};

impl TokenQueries for Sqlite {
    async fn upsert_oauth_token(
        conn: &mut SqliteConnection,
        row: &OAuthTokenRow,
    ) -> sqlx::Result<()> {
        sqlx::query!(
            "INSERT INTO user_oauth_tokens (id, user_id, provider, access_token_encrypted,
                refresh_token_encrypted, expires_at, scope, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (user_id, provider) DO UPDATE SET
                access_token_encrypted = excluded.access_token_encrypted,
                refresh_token_encrypted = excluded.refresh_token_encrypted,
                expires_at = excluded.expires_at, scope = excluded.scope,
                updated_at = excluded.updated_at",
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
        pool: &SqlitePool,
        user_id: UserId,
        provider: &str,
    ) -> sqlx::Result<Option<OAuthTokenRow>> {
        sqlx::query_as!(
            OAuthTokenRow,
            r#"SELECT id AS "id: OAuthTokenId", user_id AS "user_id: UserId", provider,
                access_token_encrypted, refresh_token_encrypted,
                expires_at AS "expires_at: Timestamp", scope,
                created_at AS "created_at: Timestamp", updated_at AS "updated_at: Timestamp"
             FROM user_oauth_tokens WHERE user_id = ?1 AND provider = ?2"#,
            user_id,
            provider
        )
        .fetch_optional(pool)
        .await
    }

    async fn delete_oauth_token(
        pool: &SqlitePool,
        user_id: UserId,
        provider: &str,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "DELETE FROM user_oauth_tokens WHERE user_id = ?1 AND provider = ?2",
            user_id,
            provider
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn select_tokens_not_under_key(
        conn: &mut SqliteConnection,
        key_id: &[u8],
        after_user_id: UserId,
        after_provider: &str,
        limit: i64,
    ) -> sqlx::Result<Vec<TokenCiphertextRow>> {
        sqlx::query_as!(
            TokenCiphertextRow,
            r#"SELECT user_id AS "user_id: UserId", provider, access_token_encrypted,
                refresh_token_encrypted
             FROM user_oauth_tokens
             WHERE (user_id, provider) > (?2, ?3)
               AND (substr(access_token_encrypted, 2, 8) <> ?1
                    OR (refresh_token_encrypted IS NOT NULL AND substr(refresh_token_encrypted, 2, 8) <> ?1))
             ORDER BY user_id, provider
             LIMIT ?4"#,
            key_id,
            after_user_id,
            after_provider,
            limit
        )
        .fetch_all(conn)
        .await
    }

    async fn update_token_ciphertexts(
        conn: &mut SqliteConnection,
        row: &TokenCiphertextRow,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "UPDATE user_oauth_tokens SET access_token_encrypted = ?3, refresh_token_encrypted = ?4
             WHERE user_id = ?1 AND provider = ?2",
            row.user_id,
            row.provider,
            row.access_token_encrypted,
            row.refresh_token_encrypted
        )
        .execute(conn)
        .await?;
        Ok(done.rows_affected())
    }

    async fn count_tokens_by_key(pool: &SqlitePool, key_id: &[u8]) -> sqlx::Result<(i64, i64)> {
        let counts = sqlx::query!(
            r#"SELECT COUNT(*) AS "total!: i64",
                COUNT(*) FILTER (WHERE substr(access_token_encrypted, 2, 8) <> ?1
                    OR (refresh_token_encrypted IS NOT NULL AND substr(refresh_token_encrypted, 2, 8) <> ?1))
                    AS "stale!: i64"
             FROM user_oauth_tokens"#,
            key_id
        )
        .fetch_one(pool)
        .await?;
        Ok((counts.total, counts.stale))
    }

    async fn select_tokens_expiring_before(
        pool: &SqlitePool,
        before: Timestamp,
        limit: i64,
    ) -> sqlx::Result<Vec<ExpiringTokenRow>> {
        sqlx::query_as!(
            ExpiringTokenRow,
            r#"SELECT user_id AS "user_id: UserId", provider,
                expires_at AS "expires_at!: Timestamp"
             FROM user_oauth_tokens
             WHERE expires_at < ?1
             ORDER BY expires_at, user_id, provider
             LIMIT ?2"#,
            before,
            limit
        )
        .fetch_all(pool)
        .await
    }
}
