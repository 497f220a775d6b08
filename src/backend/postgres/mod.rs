//! The PostgreSQL backend: a server reached over TCP (TLS when the URL asks for it). One
//! file per area holds that area's statements.

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

impl super::Backend for sqlx::Postgres {
    const INFO: &'static str = "PostgreSQL (server)";
}
