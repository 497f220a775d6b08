// TEMPORARY STUBS: replaced by the area's statements (issue 14). Never merged into main.
#![allow(unused_variables, unused_imports)]

use sqlx::{MySql, MySqlConnection, MySqlPool};

use crate::{
    backend::{TenantQueries, codec::Timestamp, rows::*},
    model::*,
};

impl TenantQueries for MySql {
    async fn insert_tenant(pool: &MySqlPool, row: &TenantRow) -> sqlx::Result<()> {
        todo!("mysql insert_tenant")
    }

    async fn select_tenant_by_id(
        pool: &MySqlPool,
        id: TenantId,
    ) -> sqlx::Result<Option<TenantRow>> {
        todo!("mysql select_tenant_by_id")
    }

    async fn select_tenant_by_slug(
        pool: &MySqlPool,
        slug: &str,
    ) -> sqlx::Result<Option<TenantRow>> {
        todo!("mysql select_tenant_by_slug")
    }

    async fn update_tenant(pool: &MySqlPool, row: &TenantRow) -> sqlx::Result<u64> {
        todo!("mysql update_tenant")
    }

    async fn select_tenant_slugs_by_owner(
        pool: &MySqlPool,
        owner: UserId,
    ) -> sqlx::Result<Vec<String>> {
        todo!("mysql select_tenant_slugs_by_owner")
    }

    async fn delete_tenant(
        conn: &mut MySqlConnection,
        id: TenantId,
    ) -> sqlx::Result<Option<DeletedTenantRow>> {
        todo!("mysql delete_tenant")
    }
}
