use sqlx::{Sqlite, SqlitePool};

use crate::{
    backend::{TokenQueries, codec::Timestamp, rows::OAuthTokenRow},
    model::UserId,
};

impl TokenQueries for Sqlite {
    async fn upsert_oauth_token(pool: &SqlitePool, row: &OAuthTokenRow) -> sqlx::Result<()> {
        sqlx::query!(
            "INSERT INTO user_oauth_tokens (user_id, provider, access_token, refresh_token,
                expires_at, scope, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (user_id, provider) DO UPDATE SET
                access_token = excluded.access_token, refresh_token = excluded.refresh_token,
                expires_at = excluded.expires_at, scope = excluded.scope,
                updated_at = excluded.updated_at",
            row.user_id,
            row.provider,
            row.access_token,
            row.refresh_token,
            row.expires_at,
            row.scope,
            row.created_at,
            row.updated_at,
        )
        .execute(pool)
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
            r#"SELECT user_id AS "user_id: UserId", provider, access_token, refresh_token,
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
}
