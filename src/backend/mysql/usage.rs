// TEMPORARY STUBS: replaced by the area's statements (issue 14). Never merged into main.
#![allow(unused_variables, unused_imports)]

use sqlx::{MySql, MySqlConnection, MySqlPool};

use crate::{
    backend::{UsageQueries, codec::Timestamp, rows::*},
    model::*,
};

impl UsageQueries for MySql {
    async fn insert_api_key_usage(pool: &MySqlPool, row: &ApiKeyUsageRow) -> sqlx::Result<u64> {
        todo!("mysql insert_api_key_usage")
    }

    async fn insert_jwt_usage(pool: &MySqlPool, row: &JwtUsageRow) -> sqlx::Result<u64> {
        todo!("mysql insert_jwt_usage")
    }

    async fn insert_api_key_usage_batch(
        conn: &mut MySqlConnection,
        rows: &[ApiKeyUsageRow],
    ) -> sqlx::Result<u64> {
        todo!("mysql insert_api_key_usage_batch")
    }

    async fn insert_jwt_usage_batch(
        conn: &mut MySqlConnection,
        rows: &[JwtUsageRow],
    ) -> sqlx::Result<u64> {
        todo!("mysql insert_jwt_usage_batch")
    }

    async fn delete_api_key_usage_before(
        pool: &MySqlPool,
        cutoff: Timestamp,
        limit: i64,
    ) -> sqlx::Result<u64> {
        todo!("mysql delete_api_key_usage_before")
    }

    async fn delete_jwt_usage_before(
        pool: &MySqlPool,
        cutoff: Timestamp,
        limit: i64,
    ) -> sqlx::Result<u64> {
        todo!("mysql delete_jwt_usage_before")
    }

    async fn create_usage_partitions(
        pool: &MySqlPool,
        instants: &[Timestamp],
    ) -> sqlx::Result<u64> {
        todo!("mysql create_usage_partitions")
    }

    fn is_missing_partition(error: &sqlx::Error) -> bool {
        todo!("mysql is_missing_partition")
    }

    fn is_insufficient_privilege(error: &sqlx::Error) -> bool {
        todo!("mysql is_insufficient_privilege")
    }

    async fn drop_oldest_api_key_usage_partition_before(
        pool: &MySqlPool,
        cutoff: Timestamp,
    ) -> sqlx::Result<Option<u64>> {
        todo!("mysql drop_oldest_api_key_usage_partition_before")
    }

    async fn drop_oldest_jwt_usage_partition_before(
        pool: &MySqlPool,
        cutoff: Timestamp,
    ) -> sqlx::Result<Option<u64>> {
        todo!("mysql drop_oldest_jwt_usage_partition_before")
    }

    async fn select_usage_stats(pool: &MySqlPool, user_id: UserId) -> sqlx::Result<UsageStatsRow> {
        todo!("mysql select_usage_stats")
    }

    async fn select_api_key_endpoint_usage(
        pool: &MySqlPool,
        api_key_id: ApiKeyId,
        from: Timestamp,
        to: Timestamp,
        limit: i64,
    ) -> sqlx::Result<Vec<EndpointUsageRow>> {
        todo!("mysql select_api_key_endpoint_usage")
    }

    async fn select_jwt_endpoint_usage(
        pool: &MySqlPool,
        user_id: UserId,
        from: Timestamp,
        to: Timestamp,
        limit: i64,
    ) -> sqlx::Result<Vec<EndpointUsageRow>> {
        todo!("mysql select_jwt_endpoint_usage")
    }
}
