//! [`Store<B>`]: the public API. Everything that is not SQL happens here, once for both
//! backends: validation, normalisation, encryption, mapping rows to models and database
//! errors to [`Error`].

mod a2a_clients;
mod activities;
mod api_keys;
mod auth;
mod auth_cache;
mod convert;
mod copy;
mod in_flight;
mod observe;
mod recorder;
mod replicas;
mod rotation;
mod schema;
#[cfg(feature = "backend-sqlite")]
mod sqlite_files;
mod tenants;
mod tokens;
mod usage;
mod users;

pub use a2a_clients::A2A_SECRET_PREFIX;
pub use api_keys::API_KEY_PREFIX;
pub use copy::CopyReport;
pub use recorder::{RecorderStats, UsageRecorder, UsageRecorderConfig};
pub use replicas::ReplicaStats;
pub use rotation::{RotationOptions, RotationReport, TokenKeyCounts};
pub use schema::{MigrationInfo, TableCounts};
pub use usage::{PruneReport, USAGE_PARTITION_MONTHS_AHEAD};

use std::{
    fmt,
    sync::{Arc, PoisonError, RwLock},
    time::Duration,
};

use sqlx::Pool;

use crate::{Backend, EncryptionKey, Error, KeyId, Result, StoreConfig, config, crypto::KeyRing};

/// The database layer on backend `B` ([`Sqlite`](crate::Sqlite) or
/// [`Postgres`](crate::Postgres)): a connection pool and the key ring for OAuth tokens.
///
/// Cloning is cheap (the pool and cipher are shared), and every method's future is `Send`,
/// so a store can be handed to `tokio::spawn`ed tasks.
///
/// # Read replicas
/// On PostgreSQL, [`StoreConfig::read_urls`] names streaming standbys of the primary.
/// Reads that tolerate a little lag (usage statistics and per-endpoint reports, activity
/// lists and statistics, user and A2A client listings) go to a healthy replica, the next
/// in turn; every write, and every read that must see the caller's own writes
/// (authentication, tokens, lookups by id, hash or email), runs on the primary. Each
/// method's doc says which. A replica that is down, trails by more than
/// [`StoreConfig::read_max_lag`], or fails a read is skipped and the read runs on the
/// primary, without error; it serves again once healthy ([`Store::replica_stats`]).
pub struct Store<B: Backend> {
    /// The primary: every write, and every read that must see the caller's own writes.
    pool: Pool<B>,
    /// Read replicas, for the reads that tolerate a little lag; shared by every clone.
    replicas: Arc<replicas::Replicas<B>>,
    /// Shared by every clone, so a key rotation switches them all to the new key at once.
    keys: Arc<RwLock<Arc<KeyRing>>>,
    /// Held shared by each token write from before it picks its key until its row is
    /// written, and exclusively by a key switch: a switch waits for the writes that may
    /// have picked the old key, so none of them lands after a rotation has looked.
    key_switch: Arc<tokio::sync::RwLock<()>>,
    /// Calls slower than this are logged at WARN.
    slow_call_threshold: std::time::Duration,
    /// The authentication cache, unless turned off (`auth_cache_entries == 0`).
    auth: Option<Arc<auth_cache::AuthCache>>,
}

/// Figures of a store's connection pool, from [`Store::pool_stats`](crate::Store::pool_stats).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections open now.
    pub size: u32,
    /// Open connections not in use.
    pub idle: u32,
    /// Open connections in use.
    pub in_use: u32,
    /// Most connections the pool opens.
    pub max: u32,
    /// Connections kept open when idle.
    pub min: u32,
    /// How long a call waits for a connection.
    pub acquire_timeout: std::time::Duration,
}

impl PoolStats {
    /// The current figures of `pool`.
    fn of<DB: sqlx::Database>(pool: &Pool<DB>) -> Self {
        let size = pool.size();
        let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX);
        Self {
            size,
            idle,
            in_use: size.saturating_sub(idle),
            max: pool.options().get_max_connections(),
            min: pool.options().get_min_connections(),
            acquire_timeout: pool.options().get_acquire_timeout(),
        }
    }
}

impl<B: Backend> Clone for Store<B> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            replicas: Arc::clone(&self.replicas),
            keys: Arc::clone(&self.keys),
            key_switch: Arc::clone(&self.key_switch),
            slow_call_threshold: self.slow_call_threshold,
            auth: self.auth.clone(),
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

/// Opens `B`'s pool, waiting for a server that is still starting: an attempt that fails in
/// a way `B::is_server_starting` recognises is retried after a pause that doubles from
/// 50 ms up to 1 s, until `config.acquire_timeout` has passed since the first. Any other
/// error is returned at once; so is the last one when the time is up
/// ([`sqlx::Error::PoolTimedOut`] when an attempt was still under way then).
async fn connect_waiting<B: Backend>(config: &StoreConfig) -> sqlx::Result<Pool<B>> {
    let deadline = tokio::time::Instant::now() + config.acquire_timeout;
    let mut pause = Duration::from_millis(50);
    loop {
        let error = match tokio::time::timeout_at(deadline, B::connect(config)).await {
            Ok(Ok(pool)) => return Ok(pool),
            Ok(Err(error)) => error,
            Err(_) => return Err(sqlx::Error::PoolTimedOut),
        };
        if !B::is_server_starting(&error) {
            return Err(error);
        }
        tracing::info!(%error, retry_in = ?pause, "database not reachable yet; retrying");
        tokio::time::sleep_until(deadline.min(tokio::time::Instant::now() + pause)).await;
        if tokio::time::Instant::now() >= deadline {
            return Err(error);
        }
        pause = (pause * 2).min(Duration::from_secs(1));
    }
}

/// What [`Store::connect`] says behind a transaction or statement pooler.
const TRANSACTION_POOLER: &str = "the database URL reaches PostgreSQL through a pooler in \
    transaction or statement mode (one connection's statements ran in different server \
    sessions), which loses the prepared statements sqlx names (PgBouncer before 1.21): use \
    session pooling for this database (PgBouncer: pool_mode = session) or a direct URL; \
    behind a pooler that keeps prepared statements (PgBouncer 1.21+ with \
    max_prepared_statements > 0), set DATABASE_TRANSACTION_POOLER=true \
    (StoreConfig::transaction_pooler). \
    See the README, \"Behind a connection pooler\"";

/// How long the pooler check waits for its second connection (capped by the acquire
/// timeout): more than a TLS handshake to a distant server, much less than sqlx's retries
/// of a server at its connection limit (which run until the acquire timeout).
const PROBE_WAIT: Duration = Duration::from_secs(2);

/// Refuses a pool whose connections do not keep one server session, unless
/// `config.transaction_pooler` says the pooler copes (see
/// [`StoreConfig::transaction_pooler`]). Skipped with a pool of one connection (the probe
/// needs two at once), and skipped with a warning (`tracing`, WARN) when the second
/// connection cannot be had within [`PROBE_WAIT`] (a server or role at its connection
/// limit, a pooler with no free server connection).
///
/// # Errors
/// [`Error::Config`] behind a transaction pooler; [`Error::Database`] when the probe
/// itself fails otherwise (a statement-mode pooler refuses its transaction).
async fn refuse_transaction_pooler<B: Backend>(config: &StoreConfig, pool: &Pool<B>) -> Result<()> {
    if config.transaction_pooler || config.max_connections < 2 {
        return Ok(());
    }
    match B::probe_sessions(pool, PROBE_WAIT.min(config.acquire_timeout)).await {
        Ok(Some(probe)) if probe.first == probe.other || probe.first != probe.again => {
            Err(Error::Config(TRANSACTION_POOLER.to_owned()))
        }
        Ok(_) => Ok(()),
        Err(error) if B::is_lost_statement(&error) => {
            Err(Error::Config(TRANSACTION_POOLER.to_owned()))
        }
        Err(sqlx::Error::PoolTimedOut) => {
            tracing::warn!(
                wait = ?PROBE_WAIT.min(config.acquire_timeout),
                "no second database connection for the connection-pooler check (connection \
                 limit reached?); check skipped: a transaction or statement pooler would go \
                 unnoticed"
            );
            Ok(())
        }
        Err(error) => Err(error.into()),
    }
}

impl<B: Backend> Store<B> {
    /// Connects to `database_url` with default pool settings. Runs no migration: call
    /// [`Store::migrate`](crate::Store::migrate) to create or update the schema. A missing SQLite file (and its
    /// directory) is created.
    ///
    /// A PostgreSQL server that is still starting is waited for, up to the acquire timeout
    /// (30 s by default): see [`Store::connect`](crate::Store::connect).
    ///
    /// # Errors
    /// [`Error::Config`](crate::Error::Config) for a URL of another backend or an unknown scheme;
    /// [`Error::NotFound`](crate::Error::NotFound) (entity `"database"`, the URL without
    /// its password as id) for a PostgreSQL database that does not exist;
    /// [`Error::Database`](crate::Error::Database) when the database cannot be reached.
    pub async fn new(database_url: &str, key: EncryptionKey) -> Result<Self> {
        Self::connect(StoreConfig::new(database_url, key)).await
    }

    /// Connects with the given settings. Runs no migration. A missing SQLite file is
    /// created only when [`StoreConfig::create_if_missing`] is set (the default). Read
    /// replicas ([`StoreConfig::read_urls`]) are connected lazily: one that is down now is
    /// skipped until it is healthy, not an error.
    ///
    /// Waits for a PostgreSQL server that is still starting, for at most
    /// [`StoreConfig::acquire_timeout`] in all. sqlx's pool itself retries a refused
    /// connection, "the database system is starting up" (and the other
    /// `cannot_connect_now` states) and too many connections; on top of that, a connection
    /// closed before the server answers and PgBouncer's "server login has been failing" /
    /// "server down" are retried here with a pause that doubles from 50 ms to 1 s (each
    /// retry is logged at INFO through `tracing`). A missing database, a
    /// refused login, a bad URL or TLS failure are returned at once, as is everything on
    /// SQLite.
    ///
    /// On PostgreSQL with `max_connections` of 2 or more, it then checks that one
    /// connection's statements stay in one server session (see
    /// [`StoreConfig::transaction_pooler`]); the second connection the check opens stays
    /// in the pool. When that second connection cannot be had within 2 s (or the acquire
    /// timeout if shorter: a server or role at its connection limit, a pooler with no free
    /// server connection), the check is skipped with a warning (`tracing`, WARN) rather
    /// than failing the connect.
    ///
    /// # Errors
    /// As [`Store::new`](crate::Store::new) (with [`Error::NotFound`](crate::Error::NotFound)
    /// also for a missing SQLite file when `create_if_missing` is off), and
    /// [`Error::Config`](crate::Error::Config) for inconsistent pool bounds, a malformed
    /// replica URL or one of another backend, any replica on SQLite, or a URL that
    /// reaches PostgreSQL through a transaction pooler unless `transaction_pooler` is set
    /// (the message says what to do).
    /// [`Error::Database`](crate::Error::Database) once the acquire timeout has passed with
    /// the server still unreachable (the last connection error, or sqlx's `PoolTimedOut`),
    /// and behind a statement-mode pooler, which refuses the check's transaction itself
    /// (PgBouncer's own error; not tested). Replica URLs are not checked for a pooler.
    pub async fn connect(config: StoreConfig) -> Result<Self> {
        config::check_scheme::<B>(&config.database_url)?;
        config.validate()?;
        let replicas = Arc::new(replicas::Replicas::open(&config)?);
        let pool = connect_waiting::<B>(&config).await.map_err(|error| {
            if B::is_missing_database(&error) {
                Error::NotFound {
                    entity: "database",
                    id: config::redact_url(&config.database_url),
                }
            } else {
                error.into()
            }
        })?;
        if let Err(error) = refuse_transaction_pooler::<B>(&config, &pool).await {
            pool.close().await;
            return Err(error);
        }
        let auth = (config.auth_cache_entries > 0).then(|| start_auth_cache(&pool, &config));
        Ok(Self {
            pool,
            replicas,
            keys: Arc::new(RwLock::new(Arc::new(KeyRing::new(
                &config.encryption_key,
                &config.retired_keys,
            )))),
            key_switch: Arc::default(),
            slow_call_threshold: config.slow_call_threshold,
            auth,
        })
    }

    /// Which backend this is, e.g. `"SQLite (embedded, WAL journal)"`.
    #[must_use]
    pub fn backend_info(&self) -> &'static str {
        B::INFO
    }

    /// The primary's connection pool: an escape hatch for health checks and for
    /// benchmarks comparing the store with raw sqlx on the same connections. Statements run
    /// through it bypass the store's validation, encryption and metrics.
    #[must_use]
    pub fn pool(&self) -> &Pool<B> {
        &self.pool
    }

    /// The primary's connection pool's current figures (each replica's are in
    /// [`Store::replica_stats`]).
    #[must_use]
    pub fn pool_stats(&self) -> PoolStats {
        PoolStats::of(&self.pool)
    }

    /// The ids of every key this store can decrypt with: the active one first, then the
    /// retired ones.
    #[must_use]
    pub fn encryption_key_ids(&self) -> Vec<KeyId> {
        self.keys().ids()
    }

    /// The id of the key new values are encrypted with.
    #[must_use]
    pub fn encryption_key_id(&self) -> KeyId {
        self.keys().active_id()
    }

    /// The current key ring (cheap: an `Arc` clone under a read lock).
    fn keys(&self) -> Arc<KeyRing> {
        Arc::clone(&self.keys.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Makes `key` the active key of this store and all its clones (every other key of the
    /// ring stays, retired), once no token write that picked the current key is in flight.
    async fn switch_to(&self, key: &EncryptionKey) {
        let _no_write_in_flight = self.key_switch.write().await;
        let ring = self.keys().rotated_to(key);
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(ring);
    }

    /// Waits until no key switch is under way and keeps one from starting until the guard
    /// is dropped: hold it from picking the key for a token write until the row is written.
    async fn no_key_switch(&self) -> tokio::sync::OwnedRwLockReadGuard<()> {
        Arc::clone(&self.key_switch).read_owned().await
    }

    /// Writes the credential uses counted in memory and not yet written (see
    /// [`Store::authenticate_api_key`](crate::Store::authenticate_api_key)), stops the
    /// authentication cache's background tasks, and closes every connection, the
    /// replicas' too; later calls fail with [`Error::Database`](crate::Error::Database).
    /// If that last write fails, the uses it held are lost (logged at WARN).
    pub async fn close(&self) {
        self.replicas.close().await;
        if let Some(auth) = &self.auth {
            auth.stop();
            if let Err(error) = auth_cache::flush(&self.pool, &auth.pending_uses()).await {
                tracing::warn!(backend = B::NAME, %error, "writing counted credential uses at close failed");
            }
        }
        self.pool.close().await;
    }

    /// Writes now the credential uses counted in memory and not yet written (the flush
    /// task does it every [`StoreConfig::usage_flush_interval`](crate::StoreConfig::usage_flush_interval)),
    /// in one statement for API keys and one for A2A clients. Does nothing when the
    /// authentication cache is off.
    ///
    /// # Errors
    /// [`Error::Database`](crate::Error::Database); the uses are then kept for the next
    /// flush.
    pub async fn flush_credential_uses(&self) -> Result<()> {
        if let Some(auth) = &self.auth {
            auth_cache::flush(&self.pool, &auth.pending_uses()).await?;
        }
        Ok(())
    }

    /// A guard that makes every credential cached by this store (and its clones) stale
    /// when it is dropped: every method that can refuse or alter a credential creates one
    /// before its statement and keeps it to its end, so the cache is made stale after the
    /// statement returned, and also when the call's future is dropped half-way (a timeout
    /// after the server committed but before its reply was read). A new such method must
    /// do the same: without it, the `auth_changes` triggers still tell this store, but
    /// only after the poll interval or a notification's delay (never, with
    /// `auth_poll_interval` zero, before the TTL).
    fn credentials_changing(&self) -> CredentialsChanging {
        CredentialsChanging(self.auth.clone())
    }
}

/// See [`Store::credentials_changing`]: makes the cache stale on drop.
struct CredentialsChanging(Option<Arc<auth_cache::AuthCache>>);

impl Drop for CredentialsChanging {
    fn drop(&mut self) {
        if let Some(auth) = &self.0 {
            auth.invalidate();
        }
    }
}

/// The authentication cache and its background tasks: the write-behind flush, and the
/// watch of other processes' changes unless `auth_poll_interval` is zero.
fn start_auth_cache<B: Backend>(
    pool: &Pool<B>,
    config: &StoreConfig,
) -> Arc<auth_cache::AuthCache> {
    let (cache, stop) =
        auth_cache::AuthCache::new(config.auth_cache_entries, config.auth_cache_ttl);
    tokio::spawn(auth_cache::run_flusher(
        pool.clone(),
        cache.pending_uses(),
        config.usage_flush_interval,
        stop.clone(),
    ));
    if !config.auth_poll_interval.is_zero() {
        tokio::spawn(auth_cache::run_watcher(
            pool.clone(),
            Arc::downgrade(&cache),
            config.auth_poll_interval,
            stop,
        ));
    }
    cache
}
