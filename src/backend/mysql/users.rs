// TEMPORARY STUBS: replaced by the area's statements (issue 14). Never merged into main.
#![allow(unused_variables, unused_imports)]

use sqlx::{MySql, MySqlConnection, MySqlPool};

use crate::{
    backend::{UserQueries, codec::Timestamp, rows::*},
    model::*,
};

impl UserQueries for MySql {
    async fn insert_user(pool: &MySqlPool, row: &UserRow) -> sqlx::Result<()> {
        todo!("mysql insert_user")
    }

    async fn select_user_by_id(pool: &MySqlPool, id: UserId) -> sqlx::Result<Option<UserRow>> {
        todo!("mysql select_user_by_id")
    }

    async fn select_user_by_email(pool: &MySqlPool, email: &str) -> sqlx::Result<Option<UserRow>> {
        todo!("mysql select_user_by_email")
    }

    async fn delete_user(conn: &mut MySqlConnection, id: UserId) -> sqlx::Result<u64> {
        todo!("mysql delete_user")
    }

    async fn update_user_password_hash(
        pool: &MySqlPool,
        id: UserId,
        password_hash: &str,
        at: Timestamp,
    ) -> sqlx::Result<u64> {
        todo!("mysql update_user_password_hash")
    }

    async fn update_user_last_active(
        pool: &MySqlPool,
        id: UserId,
        at: Timestamp,
    ) -> sqlx::Result<u64> {
        todo!("mysql update_user_last_active")
    }

    async fn select_users_page(
        pool: &MySqlPool,
        statuses: &[&str],
        tiers: &[&str],
        after: Option<(Timestamp, UserId)>,
        limit: i64,
    ) -> sqlx::Result<Vec<UserRow>> {
        todo!("mysql select_users_page")
    }

    async fn approve_user(
        pool: &MySqlPool,
        id: UserId,
        by: UserId,
        at: Timestamp,
    ) -> sqlx::Result<u64> {
        todo!("mysql approve_user")
    }

    async fn suspend_user(
        pool: &MySqlPool,
        id: UserId,
        by: UserId,
        reason: &str,
        at: Timestamp,
    ) -> sqlx::Result<u64> {
        todo!("mysql suspend_user")
    }

    async fn reactivate_user(
        pool: &MySqlPool,
        id: UserId,
        by: UserId,
        at: Timestamp,
    ) -> sqlx::Result<u64> {
        todo!("mysql reactivate_user")
    }

    async fn update_user_profile(
        pool: &MySqlPool,
        id: UserId,
        firstname: Option<&str>,
        lastname: Option<&str>,
        at: Timestamp,
    ) -> sqlx::Result<u64> {
        todo!("mysql update_user_profile")
    }

    async fn update_user_tier(
        pool: &MySqlPool,
        id: UserId,
        tier: &str,
        at: Timestamp,
    ) -> sqlx::Result<u64> {
        todo!("mysql update_user_tier")
    }
}
