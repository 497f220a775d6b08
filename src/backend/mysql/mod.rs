//! The MySQL / MariaDB backend: a server reached over TCP (TLS when the URL asks for it) or
//! a Unix socket (`?socket=`). One file per area holds that area's statements.
//!
//! What differs from PostgreSQL: no row-level security (every activities statement names
//! its tenant), no `UPDATE ... RETURNING` (an update and the read of its row run in one
//! transaction), no notifications (the `auth_changes` counter is polled), no read replicas
//! and no partitioned usage tables.

mod a2a_clients;
mod activities;
mod api_keys;
mod auth_changes;
mod copy;
mod lifecycle;
mod tenants;
mod tokens;
mod usage;
mod users;

impl super::Backend for sqlx::MySql {
    const INFO: &'static str = "MySQL / MariaDB (server)";
}
