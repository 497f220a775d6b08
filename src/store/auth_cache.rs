//! The in-process authentication cache (issue 13): API keys and A2A clients by the SHA-256
//! of their secret, so that authenticating a known credential costs no database round
//! trip, while a revocation is never late in this process and briefly late in others.
//!
//! - **What is cached**: a credential found in the database (active or not, with its
//!   user's status for a key). Unknown secrets are never cached: each one reads the
//!   database, and a flood of them cannot evict known credentials (`quick_cache`'s
//!   S3-FIFO admission keeps entries that are hit).
//! - **What a hit re-checks on every call**: `is_active`, `revoked_at`, `expires_at`
//!   against the clock, and the user's status as loaded: an expiry is never late.
//! - **Invalidation in this process**: a generation counter. An entry records the
//!   generation read *before* the database read that filled it; a hit needs the current
//!   one. Every store method that can refuse or alter a credential bumps the generation
//!   once its statement has returned (committed), so the next call reads the database.
//! - **Other processes**: triggers bump the `auth_changes` counter; a watch task reads it
//!   on every `NOTIFY` (PostgreSQL) or poll tick (SQLite) and after every (re)connection,
//!   and bumps the generation when it moved. A hard TTL bounds staleness if every signal
//!   is lost.
//! - **Write-behind**: a use is counted in memory (atomics; the hot path takes no lock);
//!   a flush task writes the uses of every credential used since the last flush in one
//!   statement per kind, every flush interval and on [`Store::close`](crate::Store::close).

use std::{
    collections::HashMap,
    mem,
    sync::{
        Arc, Mutex, PoisonError, Weak,
        atomic::{AtomicI64, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use quick_cache::sync::Cache;
use sqlx::Pool;
use time::OffsetDateTime;
use tokio::sync::watch;

use crate::{
    A2AClient, A2AClientId, ApiKey, ApiKeyId, Backend,
    backend::{
        AuthWatch,
        codec::Timestamp,
        rows::{A2AClientUseRow, ApiKeyUsesRow},
    },
};

/// The SHA-256 of a presented secret: what the cache is keyed by (never the plaintext).
pub(super) type Digest = [u8; 32];

/// The cache shared by every clone of a store.
pub(super) struct AuthCache {
    keys: Cache<Digest, Arc<Entry<ApiKey, ApiKeyId>>>,
    clients: Cache<Digest, Arc<Entry<A2AClient, A2AClientId>>>,
    generation: AtomicU64,
    ttl: Duration,
    uses: Arc<PendingUses>,
    /// Held by a fill from looking at the earlier entry until its own is in: two tasks
    /// filling the same credential at once share one count.
    filling: Mutex<()>,
    /// Sending (or dropping it with the cache) stops the background tasks.
    stop: watch::Sender<bool>,
}

/// A credential as loaded from the database.
pub(super) struct Entry<T, Id> {
    /// The cache generation read before the database read that loaded it.
    generation: u64,
    loaded_at: Instant,
    item: T,
    /// A key's user is `active` or `pending` (always true for a client).
    owner_may_log_in: bool,
    uses: Arc<Uses<Id>>,
}

/// The uses of one credential counted in this process.
pub(super) struct Uses<Id> {
    id: Id,
    /// `usage_count` as this process knows it: the database's when loaded, plus every use
    /// counted here since.
    count: AtomicI64,
    /// Uses not yet written to the database.
    pending: AtomicI64,
    /// The latest use, microseconds since the Unix epoch.
    last_used: AtomicI64,
}

/// Credentials with uses not yet written (each listed when its `pending` leaves zero).
#[derive(Default)]
pub(super) struct PendingUses {
    keys: Mutex<Vec<Arc<Uses<ApiKeyId>>>>,
    clients: Mutex<Vec<Arc<Uses<A2AClientId>>>>,
    /// Held exclusively by a flush from taking the uses until they are written, and
    /// shared by a read that adds the pending uses to what it read: such a read never
    /// misses uses in flight, and reads do not wait for one another.
    writing: tokio::sync::RwLock<()>,
}

impl<Id: Copy> Uses<Id> {
    fn new(id: Id, count: i64) -> Self {
        Self {
            id,
            count: AtomicI64::new(count),
            pending: AtomicI64::new(0),
            last_used: AtomicI64::new(i64::MIN),
        }
    }

    /// Counts one use at `now`; returns the use count including it. Lists the credential
    /// for the next flush when it had no pending use.
    fn count(self: &Arc<Self>, now: OffsetDateTime, pending: &Mutex<Vec<Arc<Self>>>) -> i64 {
        self.last_used
            .fetch_max(Timestamp::from(now).micros(), Ordering::Relaxed);
        let count = self.count.fetch_add(1, Ordering::Relaxed).saturating_add(1);
        if self.pending.fetch_add(1, Ordering::AcqRel) == 0 {
            pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(Arc::clone(self));
        }
        count
    }

    /// The latest use counted here, if any.
    fn last_used(&self) -> Option<OffsetDateTime> {
        let micros = self.last_used.load(Ordering::Relaxed);
        (micros != i64::MIN)
            .then(|| micros_to_time(micros))
            .flatten()
    }
}

fn micros_to_time(micros: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000).ok()
}

impl AuthCache {
    /// A cache of at most `entries` keys and as many clients, each trusted for `ttl` at
    /// most, and the receiver its background tasks stop on.
    pub(super) fn new(entries: usize, ttl: Duration) -> (Arc<Self>, watch::Receiver<bool>) {
        let (stop, stopped) = watch::channel(false);
        let cache = Arc::new(Self {
            keys: Cache::new(entries),
            clients: Cache::new(entries),
            generation: AtomicU64::new(0),
            ttl,
            uses: Arc::default(),
            filling: Mutex::new(()),
            stop,
        });
        (cache, stopped)
    }

    /// The generation to record for a fill: read it *before* the database read.
    pub(super) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Makes every cached credential stale: the next authentication of each reads the
    /// database again.
    pub(super) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Tells the background tasks to stop.
    pub(super) fn stop(&self) {
        self.stop.send_replace(true);
    }

    /// Waits until no flush is writing and keeps one from starting until the guard is
    /// dropped: hold it over a database read whose result gets
    /// [`AuthCache::with_pending_uses`].
    pub(super) async fn no_flush(&self) -> tokio::sync::RwLockReadGuard<'_, ()> {
        self.uses.writing.read().await
    }

    /// The uses not yet written, for the flush task.
    pub(super) fn pending_uses(&self) -> Arc<PendingUses> {
        Arc::clone(&self.uses)
    }

    fn is_fresh<T, Id>(&self, entry: &Entry<T, Id>) -> bool {
        entry.generation == self.generation() && entry.loaded_at.elapsed() < self.ttl
    }

    /// The cached key for `digest`, if it is still valid to use without the database.
    pub(super) fn fresh_key(&self, digest: &Digest) -> Option<Arc<Entry<ApiKey, ApiKeyId>>> {
        self.keys.get(digest).filter(|entry| self.is_fresh(entry))
    }

    /// Caches `key` (read from the database after `generation` was read) and returns its
    /// entry. Uses counted under an earlier entry of the same key carry over.
    pub(super) fn fill_key(
        &self,
        digest: Digest,
        generation: u64,
        key: ApiKey,
        owner_may_log_in: bool,
    ) -> Arc<Entry<ApiKey, ApiKeyId>> {
        let (id, usage_count) = (key.id, key.usage_count);
        self.fill(
            &self.keys,
            digest,
            generation,
            key,
            id,
            usage_count,
            owner_may_log_in,
        )
    }

    /// The key if it authenticates now (active, unexpired, its user may log in), with
    /// this use counted: `usage_count` includes it and `last_used` is `now`.
    pub(super) fn use_key(
        &self,
        entry: &Arc<Entry<ApiKey, ApiKeyId>>,
        now: OffsetDateTime,
    ) -> Option<ApiKey> {
        let key = &entry.item;
        if !(key.is_active && entry.owner_may_log_in && key.expires_at.is_none_or(|at| at > now)) {
            return None;
        }
        let count = entry.uses.count(now, &self.uses.keys);
        let mut key = key.clone();
        key.usage_count = count;
        key.last_used = Some(now);
        Some(key)
    }

    /// The cached client for `digest`, if it is still valid to use without the database.
    pub(super) fn fresh_client(
        &self,
        digest: &Digest,
    ) -> Option<Arc<Entry<A2AClient, A2AClientId>>> {
        self.clients
            .get(digest)
            .filter(|entry| self.is_fresh(entry))
    }

    /// Caches `client` (read from the database after `generation` was read).
    pub(super) fn fill_client(
        &self,
        digest: Digest,
        generation: u64,
        client: A2AClient,
    ) -> Arc<Entry<A2AClient, A2AClientId>> {
        let id = client.id;
        self.fill(&self.clients, digest, generation, client, id, 0, true)
    }

    /// Caches `item` under `digest` in `cache` (read from the database after `generation`
    /// was read), unless a fresh entry is already there (a racing fill), which is returned
    /// instead. Uses counted on an earlier entry of the same credential carry over.
    #[allow(clippy::too_many_arguments)]
    fn fill<T, Id: Copy + PartialEq>(
        &self,
        cache: &Cache<Digest, Arc<Entry<T, Id>>>,
        digest: Digest,
        generation: u64,
        item: T,
        id: Id,
        stored_count: i64,
        owner_may_log_in: bool,
    ) -> Arc<Entry<T, Id>> {
        let _filling = self.filling.lock().unwrap_or_else(PoisonError::into_inner);
        let earlier = cache.get(&digest);
        if let Some(earlier) = earlier.as_ref().filter(|e| self.is_fresh(e)) {
            return Arc::clone(earlier);
        }
        let entry = Arc::new(Entry {
            generation,
            loaded_at: Instant::now(),
            item,
            owner_may_log_in,
            uses: carried_uses(earlier, id, stored_count),
        });
        cache.insert(digest, Arc::clone(&entry));
        entry
    }

    /// The client if it authenticates now (active, not revoked), with this use counted:
    /// `last_used` is `now`.
    pub(super) fn use_client(
        &self,
        entry: &Arc<Entry<A2AClient, A2AClientId>>,
        now: OffsetDateTime,
    ) -> Option<A2AClient> {
        let client = &entry.item;
        if !(client.is_active && client.revoked_at.is_none()) {
            return None;
        }
        entry.uses.count(now, &self.uses.clients);
        let mut client = client.clone();
        client.last_used = Some(now);
        Some(client)
    }

    /// `key` (as read from the database under [`AuthCache::no_flush`]) with the uses this
    /// process counted and has not written yet added: what the database will hold after
    /// the next flush.
    pub(super) fn with_pending_uses(&self, mut key: ApiKey) -> ApiKey {
        let Some(digest) = digest_of_hash(&key.key_hash) else {
            return key;
        };
        if let Some(entry) = self.keys.get(&digest).filter(|e| e.item.id == key.id) {
            let pending = entry.uses.pending.load(Ordering::Acquire);
            key.usage_count = key.usage_count.saturating_add(pending);
            if let Some(last) = entry.uses.last_used() {
                key.last_used = Some(key.last_used.map_or(last, |stored| stored.max(last)));
            }
        }
        key
    }
}

/// The uses of an earlier entry for the same credential, with the count brought up to at
/// least what the database says plus what is not yet written; else fresh ones.
fn carried_uses<T, Id: Copy + PartialEq>(
    earlier: Option<Arc<Entry<T, Id>>>,
    id: Id,
    stored_count: i64,
) -> Arc<Uses<Id>> {
    match earlier {
        Some(earlier) if earlier.uses.id == id => {
            let uses = Arc::clone(&earlier.uses);
            let known = stored_count.saturating_add(uses.pending.load(Ordering::Acquire));
            uses.count.fetch_max(known, Ordering::Relaxed);
            uses
        }
        _ => Arc::new(Uses::new(id, stored_count)),
    }
}

/// The digest whose lower-case hex is `hash` (`None` for a hash the store did not make).
fn digest_of_hash(hash: &str) -> Option<Digest> {
    let bytes = hash.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut digest = [0_u8; 32];
    for (out, pair) in digest.iter_mut().zip(bytes.chunks_exact(2)) {
        let pair = std::str::from_utf8(pair).ok()?;
        *out = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(digest)
}

/// Writes every use counted and not yet written: one statement for the keys, one for the
/// clients. On failure the uses are kept for the next flush.
///
/// # Errors
/// The database error of the first statement that failed.
pub(super) async fn flush<B: Backend>(pool: &Pool<B>, uses: &PendingUses) -> sqlx::Result<()> {
    let _writing = uses.writing.write().await;
    let mut result = Ok(());
    if let Some((taken, merged)) = take(&uses.keys) {
        let mut rows: Vec<ApiKeyUsesRow> = merged
            .into_iter()
            .map(|(id, (uses, last_used))| ApiKeyUsesRow {
                id,
                uses,
                last_used,
            })
            .collect();
        // In id order, not the map's: two servers' flushes then tend to take the rows'
        // locks in the same order instead of deadlocking (PostgreSQL's plan decides the
        // final order; a small batch's nested loop follows the array).
        rows.sort_unstable_by_key(|row| row.id);
        if let Err(error) = B::add_api_key_uses(pool, &rows).await {
            put_back(&uses.keys, taken);
            result = Err(error);
        }
    }
    if let Some((taken, merged)) = take(&uses.clients) {
        let mut rows: Vec<A2AClientUseRow> = merged
            .into_iter()
            .map(|(id, (_, last_used))| A2AClientUseRow { id, last_used })
            .collect();
        rows.sort_unstable_by_key(|row| row.id);
        if let Err(error) = B::set_a2a_clients_last_used(pool, &rows).await {
            put_back(&uses.clients, taken);
            result = result.and(Err(error));
        }
    }
    result
}

/// Uses taken for a flush: each credential's share (to put back on failure) and the
/// totals per id.
type Taken<Id> = (Vec<(Arc<Uses<Id>>, i64)>, HashMap<Id, (i64, Timestamp)>);

/// Takes the pending uses of one kind, merged per id; `None` when there are none.
fn take<Id: Copy + Eq + std::hash::Hash>(pending: &Mutex<Vec<Arc<Uses<Id>>>>) -> Option<Taken<Id>> {
    let listed = mem::take(&mut *pending.lock().unwrap_or_else(PoisonError::into_inner));
    let mut taken = Vec::with_capacity(listed.len());
    let mut merged: HashMap<Id, (i64, Timestamp)> = HashMap::with_capacity(listed.len());
    for uses in listed {
        let n = uses.pending.swap(0, Ordering::AcqRel);
        if n == 0 {
            continue;
        }
        let last_used = uses.last_used().map_or_else(
            || Timestamp::from(OffsetDateTime::now_utc()),
            Timestamp::from,
        );
        let slot = merged.entry(uses.id).or_insert((0, last_used));
        slot.0 = slot.0.saturating_add(n);
        slot.1 = slot.1.max(last_used);
        taken.push((uses, n));
    }
    (!merged.is_empty()).then_some((taken, merged))
}

/// Puts uses whose write failed back for the next flush.
fn put_back<Id>(pending: &Mutex<Vec<Arc<Uses<Id>>>>, taken: Vec<(Arc<Uses<Id>>, i64)>) {
    let mut again = pending.lock().unwrap_or_else(PoisonError::into_inner);
    for (uses, n) in taken {
        if uses.pending.fetch_add(n, Ordering::AcqRel) == 0 {
            again.push(uses);
        }
    }
}

/// Flushes the pending uses every `every` until told to stop (or the store is dropped),
/// then once more. Never panics; a failed flush is logged and retried.
pub(super) async fn run_flusher<B: Backend>(
    pool: Pool<B>,
    uses: Arc<PendingUses>,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut timer = tokio::time::interval(every);
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    timer.tick().await;
    loop {
        let stopping = tokio::select! {
            _ = timer.tick() => false,
            _ = stop.changed() => true,
        };
        if pool.is_closed() {
            return;
        }
        if let Err(error) = flush(&pool, &uses).await {
            tracing::warn!(backend = B::NAME, %error, "writing counted credential uses failed; kept for the next flush");
        }
        if stopping {
            return;
        }
    }
}

/// Watches `auth_changes` for changes made by other processes (and other stores), and
/// makes `cache` stale after every notification (whatever the counter reads: a restored
/// database can move it back onto a value already seen), and whenever the counter moved
/// at a poll tick or after a (re)connection of the watch, since signals sent while it was
/// down are lost. Stops when told to, when the cache is dropped or the pool closed.
pub(super) async fn run_watcher<B: Backend>(
    pool: Pool<B>,
    cache: Weak<AuthCache>,
    poll: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut last_seen: Option<i64> = None;
    // The wait before starting the watch again: doubled after each failure (a missing
    // table or row, a server down) up to WATCH_BACKOFF_MAX, back to the first after a
    // counter read succeeds, so a broken watch is not retried (and logged) ten times a
    // second forever.
    let first_retry = poll.clamp(Duration::from_millis(50), Duration::from_millis(100));
    let mut retry = first_retry;
    loop {
        if pool.is_closed() {
            return;
        }
        let started = tokio::select! {
            started = B::watch_auth_changes(&pool, poll) => started,
            _ = stop.changed() => return,
        };
        let mut watch = match started {
            Ok(watch) => watch,
            Err(error) => {
                tracing::warn!(backend = B::NAME, %error, ?retry, "watching auth_changes failed; retrying");
                tokio::select! {
                    () = tokio::time::sleep(retry) => {}
                    _ = stop.changed() => return,
                }
                retry = (retry * 2).min(WATCH_BACKOFF_MAX);
                continue;
            }
        };
        loop {
            match B::select_auth_change_counter(&pool).await {
                Ok(counter) => {
                    retry = first_retry;
                    if last_seen != Some(counter) {
                        let Some(cache) = cache.upgrade() else { return };
                        cache.invalidate();
                        last_seen = Some(counter);
                    }
                }
                Err(error) => {
                    tracing::warn!(backend = B::NAME, %error, ?retry, "reading auth_changes failed; retrying");
                    break;
                }
            }
            let woke = tokio::select! {
                woke = watch.changed() => woke,
                _ = stop.changed() => return,
            };
            match woke {
                // A notification: a change was committed. Drop the cache now, not only if the
                // counter reads a value not seen yet (it may have been moved back).
                Ok(true) => {
                    let Some(cache) = cache.upgrade() else { return };
                    cache.invalidate();
                }
                Ok(false) => {}
                Err(error) => {
                    tracing::warn!(backend = B::NAME, %error, "auth_changes watch lost; reconnecting");
                    break;
                }
            }
        }
        tokio::select! {
            () = tokio::time::sleep(retry) => {}
            _ = stop.changed() => return,
        }
        retry = (retry * 2).min(WATCH_BACKOFF_MAX);
    }
}

/// The longest wait between two attempts to restart a failing watch of `auth_changes`.
const WATCH_BACKOFF_MAX: Duration = Duration::from_secs(5);
