use sqlx::{PgConnection, PgPool, Postgres};

use crate::{
    backend::{
        TokenQueries,
        codec::Timestamp,
        rows::{ExpiringTokenRow, OAuthTokenRow, TokenCiphertextRow},
    },
    model::{OAuthTokenId, UserId},
};

impl TokenQueries for Postgres {
    async fn upsert_oauth_token(conn: &mut PgConnection, row: &OAuthTokenRow) -> sqlx::Result<()> {
        sqlx::query!(
            "INSERT INTO user_oauth_tokens (id, user_id, provider, access_token_encrypted,
                refresh_token_encrypted, expires_at, scope, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (user_id, provider) DO UPDATE SET
                access_token_encrypted = excluded.access_token_encrypted,
                refresh_token_encrypted = excluded.refresh_token_encrypted,
                expires_at = excluded.expires_at, scope = excluded.scope,
                updated_at = excluded.updated_at",
            row.id as _,
            row.user_id as _,
            row.provider,
            row.access_token_encrypted,
            row.refresh_token_encrypted,
            row.expires_at as _,
            row.scope,
            row.created_at as _,
            row.updated_at as _,
        )
        .execute(conn)
        .await?;
        Ok(())
    }

    async fn select_oauth_token(
        pool: &PgPool,
        user_id: UserId,
        provider: &str,
    ) -> sqlx::Result<Option<OAuthTokenRow>> {
        sqlx::query_as!(
            OAuthTokenRow,
            r#"SELECT id AS "id: OAuthTokenId", user_id AS "user_id: UserId", provider,
                access_token_encrypted, refresh_token_encrypted,
                expires_at AS "expires_at: Timestamp", scope,
                created_at AS "created_at: Timestamp", updated_at AS "updated_at: Timestamp"
             FROM user_oauth_tokens WHERE user_id = $1 AND provider = $2"#,
            user_id as _,
            provider
        )
        .fetch_optional(pool)
        .await
    }

    async fn delete_oauth_token(
        pool: &PgPool,
        user_id: UserId,
        provider: &str,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "DELETE FROM user_oauth_tokens WHERE user_id = $1 AND provider = $2",
            user_id as _,
            provider
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn select_tokens_not_under_key(
        conn: &mut PgConnection,
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
             WHERE (user_id, provider) > ($2, $3)
               AND (substring(access_token_encrypted FROM 2 FOR 8) <> $1
                    OR (refresh_token_encrypted IS NOT NULL AND substring(refresh_token_encrypted FROM 2 FOR 8) <> $1))
             ORDER BY user_id, provider
             LIMIT $4
             FOR UPDATE"#,
            key_id,
            after_user_id as _,
            after_provider,
            limit
        )
        .fetch_all(conn)
        .await
    }

    async fn update_token_ciphertexts(
        conn: &mut PgConnection,
        row: &TokenCiphertextRow,
    ) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "UPDATE user_oauth_tokens SET access_token_encrypted = $3, refresh_token_encrypted = $4
             WHERE user_id = $1 AND provider = $2",
            row.user_id as _,
            row.provider,
            row.access_token_encrypted,
            row.refresh_token_encrypted
        )
        .execute(conn)
        .await?;
        Ok(done.rows_affected())
    }

    async fn count_tokens_by_key(pool: &PgPool, key_id: &[u8]) -> sqlx::Result<(i64, i64)> {
        let counts = sqlx::query!(
            r#"SELECT COUNT(*) AS "total!",
                COUNT(*) FILTER (WHERE substring(access_token_encrypted FROM 2 FOR 8) <> $1
                    OR (refresh_token_encrypted IS NOT NULL AND substring(refresh_token_encrypted FROM 2 FOR 8) <> $1))
                    AS "stale!"
             FROM user_oauth_tokens"#,
            key_id
        )
        .fetch_one(pool)
        .await?;
        Ok((counts.total, counts.stale))
    }

    async fn select_tokens_expiring_before(
        pool: &PgPool,
        before: Timestamp,
        limit: i64,
    ) -> sqlx::Result<Vec<ExpiringTokenRow>> {
        sqlx::query_as!(
            ExpiringTokenRow,
            r#"SELECT user_id AS "user_id: UserId", provider,
                expires_at AS "expires_at!: Timestamp"
             FROM user_oauth_tokens
             WHERE expires_at < $1
             ORDER BY expires_at, user_id, provider
             LIMIT $2"#,
            before as _,
            limit
        )
        .fetch_all(pool)
        .await
    }
}
