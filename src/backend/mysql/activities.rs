// TEMPORARY STUBS: replaced by the area's statements (issue 14). Never merged into main.
#![allow(unused_variables, unused_imports)]

use sqlx::{MySql, MySqlConnection, MySqlPool};

use crate::{
    backend::{ActivityQueries, codec::Timestamp, rows::*},
    model::*,
};

impl ActivityQueries for MySql {
    async fn insert_activity(pool: &MySqlPool, row: &ActivityRow) -> sqlx::Result<()> {
        todo!("mysql insert_activity")
    }

    async fn select_activity(
        pool: &MySqlPool,
        tenant_id: TenantId,
        id: ActivityId,
    ) -> sqlx::Result<Option<ActivityRow>> {
        todo!("mysql select_activity")
    }

    async fn select_user_activities(
        pool: &MySqlPool,
        tenant_id: TenantId,
        user_id: UserId,
        limit: i64,
    ) -> sqlx::Result<Vec<ActivityRow>> {
        todo!("mysql select_user_activities")
    }

    async fn select_user_stats(
        pool: &MySqlPool,
        tenant_id: TenantId,
        user_id: UserId,
    ) -> sqlx::Result<UserStatsRow> {
        todo!("mysql select_user_stats")
    }

    async fn soft_delete_activity(
        pool: &MySqlPool,
        tenant_id: TenantId,
        id: ActivityId,
        at: Timestamp,
    ) -> sqlx::Result<u64> {
        todo!("mysql soft_delete_activity")
    }
}
