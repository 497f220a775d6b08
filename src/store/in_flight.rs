//! A token write that keeps a key switch waiting until its statement has finished, even
//! when the caller stops waiting for it.

use sqlx::{Connection, pool::PoolConnection};
use tokio::sync::OwnedRwLockReadGuard;

use crate::Backend;

/// A pooled connection about to run a token write, and the guard that keeps a key switch
/// waiting for that write ([`Store::no_key_switch`](super::Store)).
///
/// On the normal path the write runs on the caller's task and [`InFlight::finish`] releases
/// both. If the caller's future is dropped instead (a timeout) while the statement may
/// already be on its way, dropping this hands the connection and the guard to a task that
/// makes one more round trip on that same connection, which the database answers only after
/// the statement sent before it has finished, and only then releases the guard: the switch
/// never counts tokens before an abandoned write has landed.
pub(super) struct InFlight<B: Backend> {
    /// `Some` until [`InFlight::finish`] or `drop`, which both consume it.
    conn: Option<PoolConnection<B>>,
    guard: Option<OwnedRwLockReadGuard<()>>,
}

impl<B: Backend> InFlight<B> {
    /// Holds `guard` for the write about to run on `conn`.
    pub(super) fn new(conn: PoolConnection<B>, guard: OwnedRwLockReadGuard<()>) -> Self {
        Self {
            conn: Some(conn),
            guard: Some(guard),
        }
    }

    /// The connection to run the write on.
    pub(super) fn connection(&mut self) -> &mut B::Connection {
        match self.conn.as_deref_mut() {
            Some(conn) => conn,
            None => unreachable!("only finish and drop take the connection, and both end self"),
        }
    }

    /// The write has returned: gives the connection back to the pool and lets a key switch
    /// go ahead.
    pub(super) fn finish(mut self) {
        self.conn = None;
        self.guard = None;
    }
}

impl<B: Backend> Drop for InFlight<B> {
    fn drop(&mut self) {
        let (Some(mut conn), Some(guard)) = (self.conn.take(), self.guard.take()) else {
            return;
        };
        // Without a runtime (dropped after it shut down) nothing can wait: the guard goes.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                // Whatever it returns, the statement before it has finished by now.
                let _finished = conn.ping().await;
                drop(guard);
            });
        }
    }
}
