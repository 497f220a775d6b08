// TEMPORARY STUBS: replaced by the area's statements (issue 14). Never merged into main.
#![allow(unused_variables, unused_imports)]

use sqlx::{MySql, MySqlConnection, MySqlPool};

use crate::{
    backend::{CopyQueries, codec::Timestamp, rows::*},
    model::*,
};

impl CopyQueries for MySql {
    async fn page_users(pool: &MySqlPool, after: UserId, limit: i64) -> sqlx::Result<Vec<UserRow>> {
        todo!("mysql page_users")
    }

    async fn set_user_moderators(
        pool: &MySqlPool,
        id: UserId,
        approved_by: Option<UserId>,
        suspended_by: Option<UserId>,
    ) -> sqlx::Result<()> {
        todo!("mysql set_user_moderators")
    }

    async fn page_oauth_tokens(
        pool: &MySqlPool,
        after: (UserId, &str),
        limit: i64,
    ) -> sqlx::Result<Vec<OAuthTokenRow>> {
        todo!("mysql page_oauth_tokens")
    }

    async fn page_api_keys(
        pool: &MySqlPool,
        after: ApiKeyId,
        limit: i64,
    ) -> sqlx::Result<Vec<ApiKeyRow>> {
        todo!("mysql page_api_keys")
    }

    async fn page_a2a_clients(
        pool: &MySqlPool,
        after: A2AClientId,
        limit: i64,
    ) -> sqlx::Result<Vec<A2AClientRow>> {
        todo!("mysql page_a2a_clients")
    }

    async fn page_tenants(
        pool: &MySqlPool,
        after: TenantId,
        limit: i64,
    ) -> sqlx::Result<Vec<TenantRow>> {
        todo!("mysql page_tenants")
    }

    async fn page_activities(
        pool: &MySqlPool,
        tenant: TenantId,
        after: ActivityId,
        limit: i64,
    ) -> sqlx::Result<Vec<StoredActivityRow>> {
        todo!("mysql page_activities")
    }

    async fn insert_stored_activities(
        pool: &MySqlPool,
        tenant: TenantId,
        rows: &[StoredActivityRow],
    ) -> sqlx::Result<()> {
        todo!("mysql insert_stored_activities")
    }

    async fn page_api_key_usage(
        pool: &MySqlPool,
        after: i64,
        limit: i64,
    ) -> sqlx::Result<Vec<StoredApiKeyUsageRow>> {
        todo!("mysql page_api_key_usage")
    }

    async fn page_jwt_usage(
        pool: &MySqlPool,
        after: i64,
        limit: i64,
    ) -> sqlx::Result<Vec<StoredJwtUsageRow>> {
        todo!("mysql page_jwt_usage")
    }
}
