//! Read replicas: which pool serves a read that tolerates a little lag, each replica's
//! health (reachable, lag within the bound), and the fall-back to the primary.
//!
//! A replica's health is measured on the replica itself (the backend's `select_replica_health`:
//! its replay lag, and whether its WAL receiver still follows the primary)
//! when a read wants it and the last measure is older than the check interval; one read
//! measures while the others go by the last result. A replica last seen healthy is measured
//! before the read that wants it; one last seen unhealthy in the background, so that a
//! replica that stays down holds no read up. A replica that is down, lags more than
//! the bound, or fails a read is skipped, and the read runs on the primary: no error from a
//! replica ever reaches the caller. It serves again once a later measure finds it healthy.

use std::{
    future::Future,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use sqlx::Pool;

use super::PoolStats;
use crate::{Backend, Error, Result, Store, StoreConfig, backend::rows::ReplicaHealthRow, config};

/// The longest a replica's health check, or a read's wait for one of its connections, may
/// take before the replica counts as down (a replica that is unreachable, not one that is
/// merely slow to answer, should not hold reads up for the primary's acquire timeout).
const REPLICA_TIMEOUT: Duration = Duration::from_secs(2);

/// A store's read replicas and where lag-tolerant reads went.
pub(super) struct Replicas<B: Backend> {
    members: Vec<Arc<Replica<B>>>,
    /// Which replica the next read starts looking at (round-robin).
    next: AtomicUsize,
    max_lag: Duration,
    check_interval: Duration,
    /// Lag-tolerant reads the primary served (no replica configured or none healthy, or
    /// the replica failed the read).
    primary_reads: AtomicU64,
}

struct Replica<B: Backend> {
    pool: B::ReplicaPool,
    /// The URL without its password, for logs and [`ReplicaStats`].
    url: String,
    /// The replica's position in the configured list, as a metrics label.
    label: String,
    health: Mutex<Health>,
    /// Set while one read measures the replica's health.
    checking: AtomicBool,
    reads: AtomicU64,
    failures: AtomicU64,
}

#[derive(Clone, Copy, Default)]
struct Health {
    healthy: bool,
    lag: Option<Duration>,
    checked_at: Option<Instant>,
}

/// One read replica's state, from [`Store::replica_stats`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaStats {
    /// The replica's URL with its password redacted.
    pub url: String,
    /// Whether it serves reads now: it answered its last health check with a lag within
    /// [`StoreConfig::read_max_lag`] and a WAL receiver following the primary (see the
    /// README, "Read replicas"), and has not failed a read since.
    pub healthy: bool,
    /// Its lag at the last health check; `None` when it was unknown or the replica
    /// could not be reached.
    pub lag: Option<Duration>,
    /// Lag-tolerant reads it served.
    pub reads: u64,
    /// Reads it failed, each then served by the primary.
    pub failures: u64,
    /// Its connection pool's figures.
    pub pool: PoolStats,
}

/// Resets [`Replica::checking`] when the check ends, also when its future is dropped.
struct Checking<'a>(&'a AtomicBool);

impl Drop for Checking<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl<B: Backend> Replicas<B> {
    /// The replicas `config` names, their pools opened lazily (none is contacted yet).
    ///
    /// # Errors
    /// [`Error::Config`] for a backend without replicas (SQLite), a URL of another backend
    /// or a malformed one; the message names the entry by position, never its password.
    pub(super) fn open(config: &StoreConfig) -> Result<Self> {
        let members = config
            .read_urls
            .iter()
            .enumerate()
            .map(|(index, url)| {
                let refused = |error: sqlx::Error| {
                    Error::Config(format!(
                        "read replica {} (DATABASE_READ_URLS): {error}",
                        index + 1
                    ))
                };
                let pool = B::connect_replica(config, url, REPLICA_TIMEOUT).map_err(refused)?;
                config::check_scheme::<B>(url).map_err(|error| match error {
                    Error::Config(message) => Error::Config(format!(
                        "read replica {} (DATABASE_READ_URLS): {message}",
                        index + 1
                    )),
                    other => other,
                })?;
                Ok(Arc::new(Replica {
                    pool,
                    url: config::redact_url(url),
                    label: index.to_string(),
                    health: Mutex::default(),
                    checking: AtomicBool::new(false),
                    reads: AtomicU64::new(0),
                    failures: AtomicU64::new(0),
                }))
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            members,
            next: AtomicUsize::new(0),
            max_lag: config.read_max_lag,
            check_interval: config.read_check_interval,
            primary_reads: AtomicU64::new(0),
        })
    }

    /// Closes every replica's pool.
    pub(super) async fn close(&self) {
        for replica in &self.members {
            B::replica_pool(&replica.pool).close().await;
        }
    }

    /// Sets the connection gauges of every replica's pool.
    pub(super) fn record_pool_gauges(&self) {
        for replica in &self.members {
            let pool = PoolStats::of(B::replica_pool(&replica.pool));
            let label = replica.label.clone();
            metrics::gauge!("pierre_store_replica_pool_connections", "replica" => label.clone(), "state" => "idle")
                .set(f64::from(pool.idle));
            metrics::gauge!("pierre_store_replica_pool_connections", "replica" => label, "state" => "in_use")
                .set(f64::from(pool.in_use));
        }
    }

    /// The next healthy replica in turn, measuring the health of those whose last measure
    /// is stale; `None` when there is none.
    async fn pick(&self) -> Option<&Replica<B>> {
        let count = self.members.len();
        if count == 0 {
            return None;
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for offset in 0..count {
            let replica = &self.members[(start + offset) % count];
            if self.usable(replica).await {
                return Some(replica);
            }
        }
        None
    }

    /// Whether `replica` may serve a read. Its last health, unless that is older than the
    /// check interval and no other read is measuring it: then a replica last seen healthy
    /// (or never measured) is measured before the read, and one last seen unhealthy is
    /// measured in the background while this read goes elsewhere (a replica that is down
    /// costs the reads nothing while it stays down).
    async fn usable(&self, replica: &Arc<Replica<B>>) -> bool {
        let health = replica.health();
        let fresh = health
            .checked_at
            .is_some_and(|at| at.elapsed() < self.check_interval);
        if fresh || replica.checking.swap(true, Ordering::AcqRel) {
            return health.healthy;
        }
        let max_lag = self.max_lag;
        if health.healthy || health.checked_at.is_none() {
            let _checking = Checking(&replica.checking);
            return replica.check(max_lag).await;
        }
        let replica = Arc::clone(replica);
        tokio::spawn(async move {
            let _checking = Checking(&replica.checking);
            replica.check(max_lag).await;
        });
        false
    }
}

/// The replica's lag when it is known and the replica is still following its primary, else
/// `None` (unhealthy). Following means: a WAL receiver runs and, where the role may see it
/// (superuser or `pg_read_all_stats`), it is streaming and has heard from the primary
/// within `max_lag` or within 3/4 of the replica's `wal_receiver_timeout`, whichever is
/// longer. An idle primary sends nothing for half of that timeout, until the receiver asks
/// for a keepalive (measured: every 30 s with the default 60 s), so a silence up to 3/4 of
/// it is an idle link, not a broken one. Without `pg_stat_wal_receiver`'s details (an
/// ordinary role), a running receiver counts as following: PostgreSQL ends it after
/// `wal_receiver_timeout` of silence.
///
/// Without this, a standby cut off from its primary (network, bad `primary_conninfo`)
/// has replayed all it received and would report a lag of 0 however stale it is.
fn linked_lag(row: &ReplicaHealthRow, max_lag: Duration) -> Option<Duration> {
    let lag = Duration::from_millis(u64::try_from(row.lag_ms?).unwrap_or(0));
    if !row.receiver || row.streaming == Some(false) {
        return None;
    }
    let timeout = Duration::from_millis(u64::try_from(row.receiver_timeout_ms).unwrap_or(0));
    if let Some(silence) = row.silence_ms
        && !timeout.is_zero()
    {
        let silence = Duration::from_millis(u64::try_from(silence).unwrap_or(0));
        if silence > max_lag.max(timeout * 3 / 4) {
            return None;
        }
    }
    Some(lag)
}

impl<B: Backend> Replica<B> {
    /// Measures the replica's lag and link to its primary and records whether it may serve
    /// reads (see [`linked_lag`]); returns that.
    async fn check(&self, max_lag: Duration) -> bool {
        let before = self.health();
        let lag =
            match tokio::time::timeout(REPLICA_TIMEOUT, B::select_replica_health(&self.pool)).await
            {
                Ok(Ok(row)) => linked_lag(&row, max_lag).or_else(|| {
                    tracing::debug!(replica = %self.url, ?row, "read replica not following its primary");
                    None
                }),
                Ok(Err(error)) => {
                    tracing::warn!(replica = %self.url, %error, "read replica unreachable");
                    None
                }
                Err(_) => {
                    tracing::warn!(replica = %self.url, "read replica health check timed out");
                    None
                }
            };
        let healthy = lag.is_some_and(|lag| lag <= max_lag);
        if before.healthy && !healthy {
            tracing::warn!(replica = %self.url, ?lag, "read replica skipped until healthy");
        } else if !before.healthy && healthy && before.checked_at.is_some() {
            tracing::info!(replica = %self.url, ?lag, "read replica healthy again");
        }
        self.set_health(Health {
            healthy,
            lag,
            checked_at: Some(Instant::now()),
        });
        metrics::gauge!("pierre_store_replica_healthy", "replica" => self.label.clone())
            .set(if healthy { 1.0 } else { 0.0 });
        if let Some(lag) = lag {
            metrics::gauge!("pierre_store_replica_lag_seconds", "replica" => self.label.clone())
                .set(lag.as_secs_f64());
        }
        healthy
    }

    fn health(&self) -> Health {
        *self.health.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set_health(&self, health: Health) {
        *self.health.lock().unwrap_or_else(PoisonError::into_inner) = health;
    }

    /// Takes the replica out of service until its next health check finds it healthy.
    fn failed(&self, error: &sqlx::Error) {
        self.failures.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(replica = %self.url, %error, "read replica failed a read; reading from the primary");
        self.set_health(Health {
            healthy: false,
            lag: None,
            checked_at: Some(Instant::now()),
        });
        metrics::gauge!("pierre_store_replica_healthy", "replica" => self.label.clone()).set(0.0);
    }
}

impl<B: Backend> Store<B> {
    /// Runs the read `query` on a healthy replica (the next in turn) or, when there is
    /// none, or the replica fails it, on the primary. `query` gets the pool to run on; it
    /// may run twice (once on a replica, then on the primary), so it must only read.
    pub(super) async fn read_tolerating_lag<T, F, Fut>(&self, query: F) -> Result<T>
    where
        F: Fn(Pool<B>) -> Fut,
        Fut: Future<Output = sqlx::Result<T>>,
    {
        if let Some(replica) = self.replicas.pick().await {
            match query(B::replica_pool(&replica.pool).clone()).await {
                Ok(value) => {
                    replica.reads.fetch_add(1, Ordering::Relaxed);
                    metrics::counter!("pierre_store_lag_tolerant_reads_total", "pool" => "replica", "replica" => replica.label.clone())
                        .increment(1);
                    return Ok(value);
                }
                Err(error) => replica.failed(&error),
            }
        }
        self.replicas.primary_reads.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("pierre_store_lag_tolerant_reads_total", "pool" => "primary", "replica" => "")
            .increment(1);
        Ok(query(self.pool.clone()).await?)
    }

    /// Each read replica's state, in the order of [`StoreConfig::read_urls`]: health, lag
    /// at the last check, reads served and failed, and its pool's figures. Empty without
    /// replicas. Touches no database.
    #[must_use]
    pub fn replica_stats(&self) -> Vec<ReplicaStats> {
        self.replicas
            .members
            .iter()
            .map(|replica| {
                let health = replica.health();
                ReplicaStats {
                    url: replica.url.clone(),
                    healthy: health.healthy,
                    lag: health.lag,
                    reads: replica.reads.load(Ordering::Relaxed),
                    failures: replica.failures.load(Ordering::Relaxed),
                    pool: PoolStats::of(B::replica_pool(&replica.pool)),
                }
            })
            .collect()
    }

    /// How many reads that tolerate lag the primary served: with no replica configured,
    /// none healthy, or after a replica failed the read.
    #[must_use]
    pub fn primary_lag_tolerant_reads(&self) -> u64 {
        self.replicas.primary_reads.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(streaming: Option<bool>, silence_ms: Option<i64>) -> ReplicaHealthRow {
        ReplicaHealthRow {
            lag_ms: Some(0),
            receiver: true,
            streaming,
            silence_ms,
            receiver_timeout_ms: 60_000,
        }
    }

    /// An idle primary is heard from only every `wal_receiver_timeout / 2` (30 s measured
    /// with the default 60 s): the replica stays healthy in between; a longer silence, a
    /// receiver that is not streaming or none at all make it unhealthy. An ordinary role
    /// sees only whether a receiver runs.
    #[test]
    fn a_replica_follows_while_its_receiver_streams_and_hears_from_the_primary() {
        let max_lag = Duration::from_secs(1);
        let healthy = |row: &ReplicaHealthRow| linked_lag(row, max_lag).is_some();
        assert!(healthy(&row(Some(true), Some(0))));
        assert!(healthy(&row(Some(true), Some(31_000))), "idle primary");
        assert!(
            !healthy(&row(Some(true), Some(46_000))),
            "keepalive unanswered"
        );
        assert!(!healthy(&row(Some(false), Some(0))), "not streaming");
        assert!(healthy(&row(None, None)), "details hidden from the role");
        let none = ReplicaHealthRow {
            receiver: false,
            ..row(None, None)
        };
        assert!(!healthy(&none), "no receiver");
        let no_timeout = ReplicaHealthRow {
            receiver_timeout_ms: 0,
            ..row(Some(true), Some(600_000))
        };
        assert!(
            healthy(&no_timeout),
            "wal_receiver_timeout = 0: silence says nothing"
        );
        let lagging = ReplicaHealthRow {
            lag_ms: Some(5_000),
            ..row(Some(true), Some(0))
        };
        assert_eq!(linked_lag(&lagging, max_lag), Some(Duration::from_secs(5)));
        let unknown = ReplicaHealthRow {
            lag_ms: None,
            ..row(Some(true), Some(0))
        };
        assert!(!healthy(&unknown), "not a standby");
    }
}
