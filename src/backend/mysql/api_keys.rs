// TEMPORARY STUBS: replaced by the area's statements (issue 14). Never merged into main.
#![allow(unused_variables, unused_imports)]

use sqlx::{MySql, MySqlConnection, MySqlPool};

use crate::{
    backend::{ApiKeyQueries, codec::Timestamp, rows::*},
    model::*,
};

impl ApiKeyQueries for MySql {
    async fn insert_api_key(pool: &MySqlPool, row: &ApiKeyRow) -> sqlx::Result<()> {
        todo!("mysql insert_api_key")
    }

    async fn select_api_key_by_hash(
        pool: &MySqlPool,
        key_hash: &str,
    ) -> sqlx::Result<Option<ApiKeyRow>> {
        todo!("mysql select_api_key_by_hash")
    }

    async fn touch_valid_api_key(
        pool: &MySqlPool,
        key_hash: &str,
        now: Timestamp,
    ) -> sqlx::Result<Option<ApiKeyRow>> {
        todo!("mysql touch_valid_api_key")
    }

    async fn select_api_key_for_auth(
        pool: &MySqlPool,
        key_hash: &str,
    ) -> sqlx::Result<Option<ApiKeyAuthRow>> {
        todo!("mysql select_api_key_for_auth")
    }

    async fn add_api_key_uses(pool: &MySqlPool, rows: &[ApiKeyUsesRow]) -> sqlx::Result<u64> {
        todo!("mysql add_api_key_uses")
    }

    async fn deactivate_api_key(pool: &MySqlPool, id: ApiKeyId) -> sqlx::Result<u64> {
        todo!("mysql deactivate_api_key")
    }

    async fn select_api_keys_by_user(
        pool: &MySqlPool,
        user_id: UserId,
    ) -> sqlx::Result<Vec<ApiKeyRow>> {
        todo!("mysql select_api_keys_by_user")
    }

    async fn update_api_key(
        pool: &MySqlPool,
        id: ApiKeyId,
        changes: &ApiKeyUpdateRow,
    ) -> sqlx::Result<Option<ApiKeyRow>> {
        todo!("mysql update_api_key")
    }
}
