//! The seam between [`Store`](crate::Store) and the SQL: a sealed [`Backend`] trait
//! implemented by two marker types, sqlx's own [`Sqlite`](sqlx::Sqlite) and
//! [`Postgres`](sqlx::Postgres). The backend is a type chosen at compile time; nothing in
//! the library matches on it at run time.

pub(crate) mod codec;
mod queries;
pub(crate) mod rows;

#[cfg(feature = "backend-postgres")]
pub(crate) mod postgres;
#[cfg(feature = "backend-sqlite")]
pub(crate) mod sqlite;

pub(crate) use queries::*;

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
{
    /// A one-line description, returned by [`Store::backend_info`](crate::Store::backend_info).
    const INFO: &'static str;
}
