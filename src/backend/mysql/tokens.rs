// TEMPORARY STUBS: replaced by the area's statements (issue 14). Never merged into main.
#![allow(unused_variables, unused_imports)]

use sqlx::{MySql, MySqlConnection, MySqlPool};

use crate::{
    backend::{TokenQueries, codec::Timestamp, rows::*},
    model::*,
};

impl TokenQueries for MySql {
    async fn upsert_oauth_token(
        conn: &mut MySqlConnection,
        row: &OAuthTokenRow,
    ) -> sqlx::Result<()> {
        todo!("mysql upsert_oauth_token")
    }

    async fn select_oauth_token(
        pool: &MySqlPool,
        user_id: UserId,
        provider: &str,
    ) -> sqlx::Result<Option<OAuthTokenRow>> {
        todo!("mysql select_oauth_token")
    }

    async fn select_tokens_not_under_key(
        conn: &mut MySqlConnection,
        key_id: &[u8],
        after_user_id: UserId,
        after_provider: &str,
        limit: i64,
    ) -> sqlx::Result<Vec<TokenCiphertextRow>> {
        todo!("mysql select_tokens_not_under_key")
    }

    async fn update_token_ciphertexts(
        conn: &mut MySqlConnection,
        row: &TokenCiphertextRow,
    ) -> sqlx::Result<u64> {
        todo!("mysql update_token_ciphertexts")
    }

    async fn count_tokens_by_key(pool: &MySqlPool, key_id: &[u8]) -> sqlx::Result<(i64, i64)> {
        todo!("mysql count_tokens_by_key")
    }

    async fn select_tokens_expiring_before(
        pool: &MySqlPool,
        before: Timestamp,
        limit: i64,
    ) -> sqlx::Result<Vec<ExpiringTokenRow>> {
        todo!("mysql select_tokens_expiring_before")
    }

    async fn delete_oauth_token(
        pool: &MySqlPool,
        user_id: UserId,
        provider: &str,
    ) -> sqlx::Result<u64> {
        todo!("mysql delete_oauth_token")
    }
}
