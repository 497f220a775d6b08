//! The seam between [`Store`](crate::Store) and the SQL: a sealed [`Backend`] trait
//! implemented by two marker types, sqlx's own [`Sqlite`](sqlx::Sqlite) and
//! [`Postgres`](sqlx::Postgres). The backend is a type chosen at compile time; nothing in
//! the library matches on it at run time.
//!
//! # Adding a statement
//!
//! 1. Declare it in `queries.rs`: one trait function per SQL statement, in its area's
//!    trait, taking and returning plain values or the row types of `rows.rs` (a new row
//!    type goes there, the same for every backend).
//! 2. Implement it once per backend, in `sqlite/<area>.rs` and `postgres/<area>.rs`: one
//!    `sqlx::query!`-family macro, nothing else (no validation, encryption or decisions:
//!    those belong to `Store<B>` in `src/store/<area>.rs`).
//! 3. Make the two SQL texts differ (`?1` against `$1` already does; a statement without
//!    parameters needs an alias or a comment): the `.sqlx/` cache is keyed by a hash of
//!    the text, so two identical texts share one file and one backend breaks.
//! 4. Run `make prepare` and commit `.sqlx/` with the change (`make check-sqlx` says
//!    whether it is up to date).
//!
//! On PostgreSQL, a read of tenant-scoped rows (activities) calls a `scoped_*` SQL
//! function that sets `pierre.tenant_id` for row-level security and runs the query in
//! one round trip (migration `20261130000002`); a write runs in a transaction that sets
//! the tenant first. A plain `SELECT` on `activities` sees no rows as the application's
//! role.
//!
//! A schema change is a new migration in both `migrations/sqlite/` and
//! `migrations/postgres/` with the same version (a no-op file on the backend it does not
//! concern); never edit an applied one. `tests/schema_parity.rs` compares the two
//! catalogs.

pub(crate) mod codec;
mod queries;
pub(crate) mod rows;

#[cfg(feature = "backend-mysql")]
pub(crate) mod mysql;
#[cfg(any(feature = "backend-sqlite", feature = "backend-mysql"))]
mod poll_watch;
#[cfg(feature = "backend-postgres")]
pub(crate) mod postgres;
#[cfg(feature = "backend-sqlite")]
pub(crate) mod sqlite;

pub(crate) use queries::*;

/// Whether a connection attempt failed the way it does while a server is not (yet)
/// listening: nothing listens, or something accepts and hangs up at once (a container's port
/// proxy, a server shutting down for a restart). For the servers'
/// [`Lifecycle::is_server_starting`].
#[cfg(any(feature = "backend-postgres", feature = "backend-mysql"))]
fn is_hang_up(error: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        error.kind(),
        ErrorKind::ConnectionRefused
            | ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::UnexpectedEof
            | ErrorKind::BrokenPipe
            | ErrorKind::NotConnected
    )
}

/// A database the store runs on: [`Sqlite`](crate::Sqlite) (embedded) or
/// [`Postgres`](crate::Postgres) (server). Sealed: its query functions are internal and no
/// other crate can implement it. Its name and URL schemes are sqlx's
/// ([`sqlx::Database::NAME`], [`sqlx::Database::URL_SCHEMES`]). Use it as the parameter of [`Store`](crate::Store):
/// `Store<Sqlite>` or `Store<Postgres>`.
pub trait Backend:
    Lifecycle
    + UserQueries
    + TokenQueries
    + ApiKeyQueries
    + UsageQueries
    + A2AClientQueries
    + TenantQueries
    + ActivityQueries
    + CopyQueries
    + AuthChangeQueries
{
    /// A one-line description, returned by [`Store::backend_info`](crate::Store::backend_info).
    const INFO: &'static str;
}
