//! A batching writer for usage rows: callers hand rows to a bounded channel and return at
//! once; a background task writes them in batches, one transaction per batch.

use std::{
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use tokio::{
    sync::{mpsc, oneshot},
    time::{Instant, timeout_at},
};

use crate::{
    ApiKeyUsage, Backend, Error, JwtUsage, Result, Store,
    backend::rows::{ApiKeyUsageRow, JwtUsageRow},
};

/// How a [`UsageRecorder`] batches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UsageRecorderConfig {
    /// Rows the channel holds before callers wait ([`UsageRecorder::record_api`]) or are
    /// refused ([`UsageRecorder::try_record_api`]). Default 10 000.
    pub capacity: usize,
    /// A batch is written as soon as it has this many rows. Default 1 000.
    pub max_batch: usize,
    /// ... or when its oldest row has waited this long. Default 50 ms.
    pub flush_interval: Duration,
    /// Further attempts at a failed batch before its rows are written one by one and any
    /// row that still fails is counted failed. Default 3.
    pub retries: u32,
    /// Batches written at the same time, each on its own connection. Default 2.
    pub writers: usize,
}

impl Default for UsageRecorderConfig {
    fn default() -> Self {
        Self {
            capacity: 10_000,
            max_batch: 1_000,
            flush_interval: Duration::from_millis(50),
            retries: 3,
            writers: 2,
        }
    }
}

/// Counts kept by a recorder. Once it has shut down, `accepted == written + failed`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecorderStats {
    /// Rows taken into the channel.
    pub accepted: u64,
    /// Rows written to the database.
    pub written: u64,
    /// Rows not written: their API key or user no longer existed when their batch was
    /// written, or a database error persisted through the retries and the row-by-row
    /// attempt.
    pub failed: u64,
    /// Batches committed.
    pub batches: u64,
    /// The last write error, if any.
    pub last_error: Option<String>,
}

enum Message {
    Api(ApiKeyUsageRow),
    Jwt(JwtUsageRow),
    Shutdown(oneshot::Sender<()>),
}

#[derive(Default)]
struct Counters {
    accepted: AtomicU64,
    written: AtomicU64,
    failed: AtomicU64,
    batches: AtomicU64,
    last_error: Mutex<Option<String>>,
}

/// A cheap, cloneable handle to a background usage writer, made by
/// [`Store::usage_recorder`]. Rows are validated when recorded (an invalid row is refused
/// at once, never queued). No accepted row is dropped silently: it is written, or counted
/// in [`RecorderStats::failed`] and reported through `tracing`.
#[derive(Clone)]
pub struct UsageRecorder {
    sender: mpsc::Sender<Message>,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for UsageRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsageRecorder")
            .field("stats", &self.stats())
            .finish()
    }
}

impl<B: Backend> Store<B> {
    /// Starts a background task (on the current tokio runtime) that writes usage rows in
    /// batches, and returns its handle.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a zero capacity or batch size.
    pub fn usage_recorder(&self, config: UsageRecorderConfig) -> Result<UsageRecorder> {
        if config.capacity == 0 || config.max_batch == 0 {
            return Err(Error::invalid(
                "config",
                "capacity and max_batch must be at least 1",
            ));
        }
        let (sender, receiver) = mpsc::channel(config.capacity);
        let counters = Arc::new(Counters::default());
        tokio::spawn(run(self.clone(), config, receiver, Arc::clone(&counters)));
        Ok(UsageRecorder { sender, counters })
    }
}

impl UsageRecorder {
    /// Queues one API key usage row, waiting while the channel is full (back-pressure).
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] as for [`Store::record_api_usage`]; [`Error::Closed`] after
    /// [`UsageRecorder::shutdown`].
    pub async fn record_api(&self, usage: &ApiKeyUsage) -> Result<()> {
        let row = super::usage::api_usage_row(usage)?;
        self.send(Message::Api(row)).await
    }

    /// Queues one API key usage row if there is room, without waiting.
    ///
    /// # Errors
    /// [`Error::Overloaded`] when the channel is full (nothing was queued);
    /// [`Error::InvalidInput`]; [`Error::Closed`].
    pub fn try_record_api(&self, usage: &ApiKeyUsage) -> Result<()> {
        let row = super::usage::api_usage_row(usage)?;
        self.try_send(Message::Api(row))
    }

    /// Queues one JWT usage row, waiting while the channel is full.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// As [`UsageRecorder::record_api`].
    pub async fn record_jwt(&self, usage: &JwtUsage) -> Result<()> {
        let row = super::usage::jwt_usage_row(usage)?;
        self.send(Message::Jwt(row)).await
    }

    /// Queues one JWT usage row if there is room, without waiting.
    ///
    /// # Errors
    /// As [`UsageRecorder::try_record_api`].
    pub fn try_record_jwt(&self, usage: &JwtUsage) -> Result<()> {
        let row = super::usage::jwt_usage_row(usage)?;
        self.try_send(Message::Jwt(row))
    }

    async fn send(&self, message: Message) -> Result<()> {
        self.sender.send(message).await.map_err(|_| Error::Closed)?;
        self.counters.accepted.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn try_send(&self, message: Message) -> Result<()> {
        self.sender.try_send(message).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => Error::Overloaded,
            mpsc::error::TrySendError::Closed(_) => Error::Closed,
        })?;
        self.counters.accepted.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// The counts so far.
    #[must_use]
    pub fn stats(&self) -> RecorderStats {
        let c = &self.counters;
        RecorderStats {
            accepted: c.accepted.load(Ordering::Relaxed),
            written: c.written.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            batches: c.batches.load(Ordering::Relaxed),
            last_error: c
                .last_error
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        }
    }

    /// Writes every row accepted so far, stops the background task and returns the final
    /// counts. Every clone of this handle is closed too: later records fail with
    /// [`Error::Closed`].
    ///
    /// Runs on the primary.
    pub async fn shutdown(self) -> RecorderStats {
        let (done, wait) = oneshot::channel();
        if self.sender.send(Message::Shutdown(done)).await.is_ok() {
            let _ = wait.await;
        }
        self.stats()
    }
}

/// A batch on its way to a writer.
type Batch = (Vec<ApiKeyUsageRow>, Vec<JwtUsageRow>);

/// The background task: gathers rows into batches and hands them to `config.writers`
/// writer tasks.
async fn run<B: Backend>(
    store: Store<B>,
    config: UsageRecorderConfig,
    mut receiver: mpsc::Receiver<Message>,
    counters: Arc<Counters>,
) {
    let (batches, batch_receiver) = mpsc::channel::<Batch>(config.writers);
    let batch_receiver = Arc::new(tokio::sync::Mutex::new(batch_receiver));
    let writers: Vec<_> = (0..config.writers)
        .map(|_| {
            let (store, counters, batch_receiver) = (
                store.clone(),
                Arc::clone(&counters),
                Arc::clone(&batch_receiver),
            );
            tokio::spawn(async move {
                loop {
                    let next = batch_receiver.lock().await.recv().await;
                    let Some((api, jwt)) = next else { break };
                    write(&store, &config, &counters, &api, &jwt).await;
                }
            })
        })
        .collect();

    let mut api = Vec::with_capacity(config.max_batch);
    let mut jwt = Vec::new();
    let mut shutdown = None;
    while shutdown.is_none() {
        // Wait for a first row, then gather more until the batch is full or old enough.
        match receiver.recv().await {
            Some(message) => take(message, &mut api, &mut jwt, &mut shutdown),
            None => break,
        }
        let deadline = Instant::now() + config.flush_interval;
        while shutdown.is_none() && api.len() + jwt.len() < config.max_batch {
            match timeout_at(deadline, receiver.recv()).await {
                Ok(Some(message)) => take(message, &mut api, &mut jwt, &mut shutdown),
                Ok(None) | Err(_) => break,
            }
        }
        if shutdown.is_some() {
            receiver.close();
            while let Ok(message) = receiver.try_recv() {
                take(message, &mut api, &mut jwt, &mut None);
            }
        }
        while !api.is_empty() || !jwt.is_empty() {
            let api_part: Vec<_> = api.drain(..api.len().min(config.max_batch)).collect();
            let jwt_part: Vec<_> = jwt
                .drain(..jwt.len().min(config.max_batch - api_part.len()))
                .collect();
            if batches.send((api_part, jwt_part)).await.is_err() {
                break;
            }
        }
    }
    // Every batch is handed over: let the writers finish them, then answer `shutdown`.
    drop(batches);
    for writer in writers {
        let _ = writer.await;
    }
    if let Some(done) = shutdown {
        let _ = done.send(());
    }
}

fn take(
    message: Message,
    api: &mut Vec<ApiKeyUsageRow>,
    jwt: &mut Vec<JwtUsageRow>,
    shutdown: &mut Option<oneshot::Sender<()>>,
) {
    match message {
        Message::Api(row) => api.push(row),
        Message::Jwt(row) => jwt.push(row),
        Message::Shutdown(done) => *shutdown = Some(done),
    }
}

/// Writes one batch in one transaction, retrying with a growing pause; if it keeps failing,
/// writes the rows one by one so that one bad row cannot sink the others.
async fn write<B: Backend>(
    store: &Store<B>,
    config: &UsageRecorderConfig,
    counters: &Counters,
    api: &[ApiKeyUsageRow],
    jwt: &[JwtUsageRow],
) {
    let rows = (api.len() + jwt.len()) as u64;
    let mut pause = Duration::from_millis(20);
    for attempt in 0..=config.retries {
        match store.write_usage_batch(api, jwt).await {
            Ok(inserted) => {
                count_written(counters, rows, inserted);
                counters.batches.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Err(error) => {
                tracing::warn!(attempt, rows, %error, "usage batch failed");
                note_error(counters, &error.to_string());
                if attempt < config.retries {
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
            }
        }
    }
    for row in api {
        one_by_one(
            counters,
            store
                .write_usage_batch(std::slice::from_ref(row), &[])
                .await,
        );
    }
    for row in jwt {
        one_by_one(
            counters,
            store
                .write_usage_batch(&[], std::slice::from_ref(row))
                .await,
        );
    }
}

fn one_by_one(counters: &Counters, result: Result<u64>) {
    match result {
        Ok(inserted) => count_written(counters, 1, inserted),
        Err(error) => {
            tracing::error!(%error, "usage row could not be written; counted as failed");
            note_error(counters, &error.to_string());
            counters.failed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Counts a committed write of `rows` rows of which `inserted` went in; the others were
/// left out because their API key or user no longer exists.
fn count_written(counters: &Counters, rows: u64, inserted: u64) {
    counters.written.fetch_add(inserted, Ordering::Relaxed);
    let left_out = rows.saturating_sub(inserted);
    if left_out > 0 {
        let message =
            format!("{left_out} usage rows not written: their API key or user no longer exists");
        tracing::error!(left_out, "{message}; counted as failed");
        note_error(counters, &message);
        counters.failed.fetch_add(left_out, Ordering::Relaxed);
    }
}

fn note_error(counters: &Counters, error: &str) {
    *counters
        .last_error
        .lock()
        .unwrap_or_else(PoisonError::into_inner) = Some(error.to_owned());
}
