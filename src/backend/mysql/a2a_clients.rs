// TEMPORARY STUBS: replaced by the area's statements (issue 14). Never merged into main.
#![allow(unused_variables, unused_imports)]

use sqlx::{MySql, MySqlConnection, MySqlPool};

use crate::{
    backend::{A2AClientQueries, codec::Timestamp, rows::*},
    model::*,
};

impl A2AClientQueries for MySql {
    async fn insert_a2a_client(pool: &MySqlPool, row: &A2AClientRow) -> sqlx::Result<()> {
        todo!("mysql insert_a2a_client")
    }

    async fn select_a2a_client_by_id(
        pool: &MySqlPool,
        id: A2AClientId,
    ) -> sqlx::Result<Option<A2AClientRow>> {
        todo!("mysql select_a2a_client_by_id")
    }

    async fn touch_active_a2a_client(
        pool: &MySqlPool,
        api_key_hash: &str,
        now: Timestamp,
    ) -> sqlx::Result<Option<A2AClientRow>> {
        todo!("mysql touch_active_a2a_client")
    }

    async fn select_a2a_client_by_key_hash(
        pool: &MySqlPool,
        api_key_hash: &str,
    ) -> sqlx::Result<Option<A2AClientRow>> {
        todo!("mysql select_a2a_client_by_key_hash")
    }

    async fn set_a2a_clients_last_used(
        pool: &MySqlPool,
        rows: &[A2AClientUseRow],
    ) -> sqlx::Result<u64> {
        todo!("mysql set_a2a_clients_last_used")
    }

    async fn revoke_a2a_client(
        pool: &MySqlPool,
        id: A2AClientId,
        at: Timestamp,
    ) -> sqlx::Result<u64> {
        todo!("mysql revoke_a2a_client")
    }

    async fn set_a2a_client_active(
        pool: &MySqlPool,
        id: A2AClientId,
        active: bool,
    ) -> sqlx::Result<u64> {
        todo!("mysql set_a2a_client_active")
    }

    async fn update_a2a_client(
        pool: &MySqlPool,
        id: A2AClientId,
        changes: &A2AClientUpdateRow,
    ) -> sqlx::Result<Option<A2AClientRow>> {
        todo!("mysql update_a2a_client")
    }

    async fn select_a2a_clients_page_by_active(
        pool: &MySqlPool,
        active: bool,
        after: A2AClientId,
        limit: i64,
    ) -> sqlx::Result<Vec<A2AClientRow>> {
        todo!("mysql select_a2a_clients_page_by_active")
    }
}
