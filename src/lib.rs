//! # pierre-store
//!
//! The database layer of the Pierre fitness-data MCP server: users, encrypted OAuth tokens,
//! API keys, usage analytics, A2A clients, tenants and tenant-scoped activities, on
//! **SQLite** (embedded) or **PostgreSQL**, behind one generic [`Store<B>`].
//!
//! The backend is a type chosen at compile time, `Store<Sqlite>` or `Store<Postgres>`;
//! every SQL statement is checked at compile time by sqlx against cached metadata.
//!
//! ```
//! use pierre_store::{EncryptionKey, Sqlite, Store, User};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), pierre_store::Error> {
//! # let dir = tempfile::tempdir().unwrap();
//! # let url = format!("sqlite:{}", dir.path().join("pierre.db").display());
//! let store = Store::<Sqlite>::new(&url, EncryptionKey::generate()).await?;
//! store.migrate().await?;
//!
//! let id = store.create_user(&User::new("Alice@Example.com", "$argon2id$...")).await?;
//! let alice = store.get_user_by_email("alice@example.com").await?.expect("stored");
//! assert_eq!(alice.id, id);
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod backend;
mod clock;
mod config;
mod crypto;
mod error;
mod files;
mod model;
#[cfg(all(
    feature = "backend-sqlite",
    feature = "backend-postgres",
    feature = "backend-mysql"
))]
mod open;
pub mod password;
mod secret;
mod store;
mod validate;

pub use backend::Backend;
pub use config::{
    DEFAULT_DATABASE_URL, DEFAULT_KEY_PATH, StoreConfig, redact_url, split_url_password,
};
pub use crypto::{EncryptionKey, KEY_LEN, KeyId};
pub use error::{Error, Result};
pub use files::StagedFile;
pub use model::*;
#[cfg(all(
    feature = "backend-sqlite",
    feature = "backend-postgres",
    feature = "backend-mysql"
))]
pub use open::{ForBackend, WithStore, open_and_run, run_for_url};
pub use secret::PlaintextSecret;
pub use sqlx::{MySql, Postgres, Sqlite};
pub use store::{
    A2A_SECRET_PREFIX, API_KEY_PREFIX, CopyReport, MigrationInfo, PoolStats, PruneReport,
    RecorderStats, ReplicaStats, RotationOptions, RotationReport, Store, TableCounts,
    TokenKeyCounts, USAGE_PARTITION_MONTHS_AHEAD, UsageRecorder, UsageRecorderConfig,
};

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
