//! Metrics and tracing of store calls. The only tests in this binary that install a global
//! metrics recorder and tracing subscriber; each backend's test reads only its own labels.

mod common;

use std::{
    io::Write,
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use common::{TestBackend, TestDb};
use metrics_util::{
    CompositeKey, MetricKind,
    debugging::{DebugValue, DebuggingRecorder, Snapshotter},
};
use pierre_store::{Error, OAuthProvider, OAuthToken, Store, StoreConfig, User, UserId};

backend_tests!(calls_are_counted_timed_and_traced_without_secrets);

fn snapshotter() -> &'static Snapshotter {
    static SNAPSHOTTER: OnceLock<Snapshotter> = OnceLock::new();
    SNAPSHOTTER.get_or_init(|| {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        recorder
            .install()
            .expect("the only recorder of this test binary");
        snapshotter
    })
}

/// Everything the tracing subscriber printed.
fn logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = Arc::clone(&buffer);
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || SharedWriter(Arc::clone(&writer)))
            .init();
        buffer
    })
}

struct SharedWriter(Arc<Mutex<Vec<u8>>>);

impl Write for SharedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn label<'a>(key: &'a CompositeKey, name: &str) -> Option<&'a str> {
    key.key()
        .labels()
        .find(|l| l.key() == name)
        .map(|l| l.value())
}

/// One snapshot (taking it resets the recorder's values).
type Snap = Vec<(
    CompositeKey,
    Option<metrics::Unit>,
    Option<metrics::SharedString>,
    DebugValue,
)>;

/// The value of counter `name` for this backend, op and outcome.
fn counter(snap: &Snap, backend: &str, name: &str, op: &str, outcome: &str) -> u64 {
    snap.iter()
        .filter(|(key, ..)| key.kind() == MetricKind::Counter && key.key().name() == name)
        .filter(|(key, ..)| {
            label(key, "backend") == Some(backend)
                && label(key, "op") == Some(op)
                && label(key, "outcome") == Some(outcome)
        })
        .map(|(.., value)| match value {
            DebugValue::Counter(n) => *n,
            _ => 0,
        })
        .sum()
}

fn histogram_samples(snap: &Snap, backend: &str, op: &str) -> usize {
    snap.iter()
        .filter(|(key, ..)| key.key().name() == "pierre_store_call_duration_seconds")
        .filter(|(key, ..)| label(key, "backend") == Some(backend) && label(key, "op") == Some(op))
        .map(|(.., value)| match value {
            DebugValue::Histogram(samples) => samples.len(),
            _ => 0,
        })
        .sum()
}

fn gauge(snap: &Snap, backend: &str, name: &str) -> Option<f64> {
    snap.iter().find_map(|(key, _, _, value)| {
        let matches = key.key().name() == name && label(key, "backend") == Some(backend);
        match value {
            DebugValue::Gauge(v) if matches => Some(v.into_inner()),
            _ => None,
        }
    })
}

async fn calls_are_counted_timed_and_traced_without_secrets<B: TestBackend>() -> eyre::Result<()> {
    // A snapshot drains every value, so the two backends' tests take turns.
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _turn = TURN.lock().await;
    let _ = snapshotter().snapshot();
    logs();
    let backend = <B as sqlx::Database>::NAME;
    let db = TestDb::<B>::new().await?;
    // Every call is "slow" for this store, so each one logs a WARN line.
    let mut config = StoreConfig::new(db.url.clone(), db.key.clone());
    config.slow_call_threshold = Duration::ZERO;
    config.max_connections = 3;
    let store = Store::<B>::connect(config).await?;

    let user = User::new("metrics@example.com", "SECRET-PASSWORD-HASH");
    store.create_user(&user).await?;
    let err = store
        .create_user(&User {
            id: UserId::new(),
            ..user.clone()
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }));
    store
        .create_user(&User::new("not an email", "h"))
        .await
        .unwrap_err();
    store.update_last_active(UserId::new()).await.unwrap_err();
    for _ in 0..3 {
        store.get_user(user.id).await?;
    }
    let token = OAuthToken {
        access_token: "SECRET-ACCESS-TOKEN".into(),
        refresh_token: None,
        expires_at: None,
        scope: None,
    };
    store
        .upsert_oauth_token(user.id, OAuthProvider::Strava, &token)
        .await?;
    store
        .get_oauth_token(user.id, OAuthProvider::Strava)
        .await?;

    let snap: Snap = snapshotter().snapshot().into_vec();
    let calls = "pierre_store_calls_total";
    assert_eq!(counter(&snap, backend, calls, "create_user", "ok"), 1);
    assert_eq!(counter(&snap, backend, calls, "create_user", "conflict"), 1);
    assert_eq!(counter(&snap, backend, calls, "create_user", "invalid"), 1);
    assert_eq!(
        counter(&snap, backend, calls, "update_last_active", "not_found"),
        1
    );
    assert_eq!(counter(&snap, backend, calls, "get_user", "ok"), 3);
    assert_eq!(histogram_samples(&snap, backend, "get_user"), 3);
    assert_eq!(histogram_samples(&snap, backend, "create_user"), 3);
    assert_eq!(
        gauge(&snap, backend, "pierre_store_pool_max_connections"),
        Some(3.0)
    );
    let stats = store.pool_stats();
    assert_eq!(stats.max, 3);
    assert!(
        stats.size >= 1 && stats.size <= 3 && stats.idle + stats.in_use == stats.size,
        "{stats:?}"
    );

    let text = String::from_utf8(logs().lock().expect("log buffer").clone())?;
    assert!(
        text.contains("slow store call") && text.contains("op=\"get_oauth_token\"")
            || text.contains("op=get_oauth_token"),
        "{text}"
    );
    assert!(
        text.contains(&format!("backend=\"{backend}\""))
            || text.contains(&format!("backend={backend}")),
        "{text}"
    );
    for secret in [
        "SECRET-PASSWORD-HASH",
        "SECRET-ACCESS-TOKEN",
        db.url.as_str(),
    ] {
        assert!(!text.contains(secret), "{secret} appeared in the logs");
    }
    Ok(())
}
