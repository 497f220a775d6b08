//! The SQLite backend: an embedded database file in WAL mode. One file per area holds that
//! area's statements.

mod a2a_clients;
mod activities;
mod api_keys;
mod auth_changes;
mod backup;
mod copy;
mod lifecycle;
mod tenants;
mod tokens;
mod usage;
mod users;

pub(crate) use backup::{integrity_check, lock_exclusively, vacuum_into};

impl super::Backend for sqlx::Sqlite {
    const INFO: &'static str = "SQLite (embedded, WAL journal)";
}
