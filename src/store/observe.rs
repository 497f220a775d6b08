//! One place where every store call is measured and traced.
//!
//! Metrics go through the `metrics` facade, so a server installs whichever exporter it
//! likes; with no recorder installed they cost an atomic load. Names:
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `pierre_store_calls_total` | counter | `op`, `backend`, `outcome` |
//! | `pierre_store_call_duration_seconds` | histogram | `op`, `backend`, `outcome` |
//! | `pierre_store_connection_errors_total` | counter | `backend` |
//! | `pierre_store_pool_connections` | gauge | `backend`, `state` (`idle` / `in_use`) |
//! | `pierre_store_pool_max_connections` | gauge | `backend` |
//! | `pierre_store_lag_tolerant_reads_total` | counter | `pool` (`primary` / `replica`), `replica` |
//! | `pierre_store_replica_healthy` | gauge (1 or 0) | `replica` |
//! | `pierre_store_replica_lag_seconds` | gauge | `replica` |
//! | `pierre_store_replica_pool_connections` | gauge | `replica`, `state` (`idle` / `in_use`) |
//!
//! The pool gauges without `replica` are the primary's; `replica` is a replica's position
//! in [`StoreConfig::read_urls`](crate::StoreConfig::read_urls), from 0.
//!
//! `outcome` is `ok`, `not_found`, `conflict`, `invalid` or `error`.
//!
//! An authentication answered from memory (an authentication cache hit) is counted and
//! timed like any call, but opens no span and leaves the pool gauges alone: it uses no
//! connection, and a span would cost more than the call.

use std::{future::Future, time::Instant};

use tracing::Instrument;

use crate::{Backend, Error, Result, Store};

impl<B: Backend> Store<B> {
    /// Runs `call` as the store operation `op`: in a `pierre_store` tracing span (fields
    /// `op` and `backend`; never arguments, so never a secret), counting it, timing it,
    /// and warning when it takes longer than the slow-call threshold.
    pub(super) async fn observe<T>(
        &self,
        op: &'static str,
        call: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        let backend = <B as sqlx::Database>::NAME;
        let span = tracing::debug_span!("pierre_store", op, backend);
        let started = Instant::now();
        let result = call.instrument(span).await;
        let elapsed = started.elapsed();
        let outcome = match &result {
            Ok(_) => "ok",
            Err(Error::NotFound { .. }) => "not_found",
            Err(Error::Conflict { .. }) => "conflict",
            Err(Error::InvalidInput { .. }) => "invalid",
            Err(_) => "error",
        };
        if let Err(Error::Database(
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed,
        )) = &result
        {
            metrics::counter!("pierre_store_connection_errors_total", "backend" => backend)
                .increment(1);
        }
        metrics::counter!("pierre_store_calls_total", "op" => op, "backend" => backend, "outcome" => outcome)
            .increment(1);
        metrics::histogram!("pierre_store_call_duration_seconds", "op" => op, "backend" => backend, "outcome" => outcome)
            .record(elapsed.as_secs_f64());
        let pool = self.pool_stats();
        metrics::gauge!("pierre_store_pool_connections", "backend" => backend, "state" => "idle")
            .set(f64::from(pool.idle));
        metrics::gauge!("pierre_store_pool_connections", "backend" => backend, "state" => "in_use")
            .set(f64::from(pool.in_use));
        metrics::gauge!("pierre_store_pool_max_connections", "backend" => backend)
            .set(f64::from(pool.max));
        self.replicas.record_pool_gauges();
        if elapsed >= self.slow_call_threshold {
            tracing::warn!(
                op,
                backend,
                outcome,
                elapsed_ms = elapsed.as_millis() as u64,
                "slow store call"
            );
        }
        result
    }

    /// Counts and times the store operation `op` answered from memory (an authentication
    /// cache hit) since `started`: the same two metrics as [`Store::observe`] with outcome
    /// `ok`, without a span or pool gauges (no connection was used), so that the hot path
    /// stays at memory speed.
    pub(super) fn observe_in_memory(&self, op: &'static str, started: Instant) {
        let backend = <B as sqlx::Database>::NAME;
        metrics::counter!("pierre_store_calls_total", "op" => op, "backend" => backend, "outcome" => "ok")
            .increment(1);
        metrics::histogram!("pierre_store_call_duration_seconds", "op" => op, "backend" => backend, "outcome" => "ok")
            .record(started.elapsed().as_secs_f64());
    }
}
