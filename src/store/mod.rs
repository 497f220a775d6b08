//! [`Store<B>`]: the public API. Everything that is not SQL happens here, once for both
//! backends: validation, normalisation, encryption, mapping rows to models and database
//! errors to [`Error`].

mod a2a_clients;
mod activities;
mod api_keys;
mod convert;
mod tenants;
mod tokens;
mod usage;
mod users;

use std::{fmt, sync::Arc};

use sqlx::Pool;

use crate::{Backend, EncryptionKey, Result, StoreConfig, config, crypto::Cipher};

/// The database layer on backend `B` ([`Sqlite`](crate::Sqlite) or
/// [`Postgres`](crate::Postgres)): a connection pool and the cipher for OAuth tokens.
///
/// Cloning is cheap (the pool and cipher are shared), and every method's future is `Send`,
/// so a store can be handed to `tokio::spawn`ed tasks.
pub struct Store<B: Backend> {
    pool: Pool<B>,
    cipher: Arc<Cipher>,
}

impl<B: Backend> Clone for Store<B> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            cipher: Arc::clone(&self.cipher),
        }
    }
}

impl<B: Backend> fmt::Debug for Store<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("backend", &B::NAME)
            .field("pool_size", &self.pool.size())
            .finish_non_exhaustive()
    }
}

impl<B: Backend> Store<B> {
    /// Connects to `database_url` with default pool settings. Runs no migration: call
    /// [`Store::migrate`] to create or update the schema. A missing SQLite file (and its
    /// directory) is created.
    ///
    /// # Errors
    /// [`Error::Config`] for a URL of another backend or an unknown scheme;
    /// [`Error::Database`] when the database cannot be reached.
    pub async fn new(database_url: &str, key: EncryptionKey) -> Result<Self> {
        Self::connect(StoreConfig::new(database_url, key)).await
    }

    /// Connects with the given settings. Runs no migration.
    ///
    /// # Errors
    /// As [`Store::new`], and [`Error::Config`] for inconsistent pool bounds.
    pub async fn connect(config: StoreConfig) -> Result<Self> {
        config::check_scheme::<B>(&config.database_url)?;
        config.validate()?;
        let pool = B::connect(&config).await?;
        Ok(Self {
            pool,
            cipher: Arc::new(Cipher::new(&config.encryption_key)),
        })
    }

    /// Applies the migrations this build embeds that the database lacks. Idempotent: a
    /// second call changes nothing. Versions are recorded in `_sqlx_migrations`.
    ///
    /// # Errors
    /// [`Error::Migration`] when a migration fails or the applied ones differ from this
    /// build's.
    pub async fn migrate(&self) -> Result<()> {
        B::migrate(&self.pool).await?;
        Ok(())
    }

    /// Which backend this is, e.g. `"SQLite (embedded, WAL journal)"`.
    #[must_use]
    pub fn backend_info(&self) -> &'static str {
        B::INFO
    }

    /// Closes every connection; later calls fail with [`Error::Database`].
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[cfg(feature = "backend-sqlite")]
impl Store<sqlx::Sqlite> {
    /// Writes a consistent copy of the live database to `path` (SQLite's `VACUUM INTO`),
    /// while the store keeps serving. The copy opens as a normal database.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when `path` already exists; [`Error::Database`] when SQLite
    /// cannot write it.
    pub async fn backup_to(&self, path: &std::path::Path) -> Result<()> {
        if path.exists() {
            return Err(crate::Error::invalid(
                "path",
                format!("{} already exists", path.display()),
            ));
        }
        crate::backend::sqlite::vacuum_into(&self.pool, path).await?;
        Ok(())
    }
}
