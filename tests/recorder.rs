//! The batched usage recorder: nothing accepted is lost, back-pressure is explicit, a
//! failing batch is retried, salvaged row by row, and reported, and rows of a deleted key
//! or user are reported, never orphaned.

mod common;

use std::time::Duration;

use common::{PerBackend, TestBackend, TestDb};
use pierre_store::{
    ApiKey, ApiKeyId, ApiKeyUsage, Error, JwtUsage, UsageRecorderConfig, User, UserId,
};

backend_tests!(
    every_accepted_row_is_written_in_batches,
    a_batch_that_fails_is_retried_salvaged_and_reported,
    usage_of_a_deleted_key_is_reported_and_never_orphaned,
    invalid_rows_are_refused_before_queueing,
);

/// Where back-pressure must show: on a single-threaded runtime the writer cannot drain the
/// channel while the caller never yields.
mod single_threaded_executor {
    #[tokio::test(flavor = "current_thread")]
    async fn sqlite_a_full_queue_refuses_rows_explicitly() -> eyre::Result<()> {
        super::a_full_queue_refuses_rows_explicitly::<pierre_store::Sqlite>().await
    }

    #[tokio::test(flavor = "current_thread")]
    async fn postgres_a_full_queue_refuses_rows_explicitly() -> eyre::Result<()> {
        super::a_full_queue_refuses_rows_explicitly::<pierre_store::Postgres>().await
    }
}

async fn user_and_key<B: TestBackend>(
    db: &TestDb<B>,
    email: &str,
) -> eyre::Result<(UserId, ApiKeyId)> {
    let user = db.store.create_user(&User::new(email, "hash")).await?;
    let key = db
        .store
        .create_api_key(&ApiKey::new(user, "k", &format!("hash-{email}"), "pk_"))
        .await?;
    Ok((user, key))
}

fn usage(key: ApiKeyId, n: u32) -> ApiKeyUsage {
    ApiKeyUsage {
        response_time_ms: Some(n % 300),
        ..ApiKeyUsage::new(key, "/mcp", "POST", 200)
    }
}

async fn every_accepted_row_is_written_in_batches<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let (user, key) = user_and_key(&db, "r@example.com").await?;
    let config = UsageRecorderConfig {
        max_batch: 500,
        ..UsageRecorderConfig::default()
    };
    let recorder = db.store.usage_recorder(config)?;
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let recorder = recorder.clone();
            tokio::spawn(async move {
                for n in 0..625 {
                    recorder.record_api(&usage(key, w * 1000 + n)).await?;
                }
                for _ in 0..75 {
                    recorder
                        .record_jwt(&JwtUsage::new(user, "/jwt", "GET", 200))
                        .await?;
                }
                eyre::Ok(())
            })
        })
        .collect();
    for writer in writers {
        writer.await??;
    }
    let stats = recorder.clone().shutdown().await;
    assert_eq!(
        (stats.accepted, stats.written, stats.failed),
        (2800, 2800, 0),
        "{stats:?}"
    );
    assert!(
        stats.batches >= 6 && stats.batches < 100,
        "batched: {stats:?}"
    );
    assert_eq!(B::raw_count(&db.url, "api_key_usage").await?, 2500);
    assert_eq!(B::raw_count(&db.url, "jwt_usage").await?, 300);
    assert_eq!(db.store.get_usage_stats(user).await?.total_requests, 2500);

    let err = recorder.record_api(&usage(key, 1)).await.unwrap_err();
    assert!(matches!(err, Error::Closed), "{err:?}");
    Ok(())
}

async fn a_full_queue_refuses_rows_explicitly<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let (_, key) = user_and_key(&db, "full@example.com").await?;
    let config = UsageRecorderConfig {
        capacity: 8,
        ..UsageRecorderConfig::default()
    };
    let recorder = db.store.usage_recorder(config)?;
    let mut accepted = 0;
    let mut refused = 0;
    for n in 0..20 {
        match recorder.try_record_api(&usage(key, n)) {
            Ok(()) => accepted += 1,
            Err(Error::Overloaded) => refused += 1,
            Err(other) => return Err(other.into()),
        }
    }
    assert_eq!(
        (accepted, refused),
        (8, 12),
        "the queue holds 8; the rest are refused, not dropped"
    );
    let stats = recorder.shutdown().await;
    assert_eq!(
        (stats.accepted, stats.written, stats.failed),
        (8, 8, 0),
        "{stats:?}"
    );
    assert_eq!(B::raw_count(&db.url, "api_key_usage").await?, 8);
    Ok(())
}

/// Makes every later insert of a usage row with endpoint `/poison` fail inside the
/// database, as a constraint or trigger added by an operator would.
async fn inject_poison<B: TestBackend>(url: &str) -> eyre::Result<()> {
    B::raw_execute(
        url,
        B::of(PerBackend {
            sqlite: "SELECT 1",
            postgres: "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
                 IF NEW.endpoint = '/poison' THEN RAISE EXCEPTION 'poisoned row'; END IF;
                 RETURN NEW;
             END $$",
            mysql: "DO 0",
        }),
    )
    .await?;
    B::raw_execute(
        url,
        B::of(PerBackend {
            sqlite:
                "CREATE TRIGGER poison BEFORE INSERT ON api_key_usage WHEN NEW.endpoint = '/poison'
             BEGIN SELECT RAISE(ABORT, 'poisoned row'); END",
            postgres: "CREATE TRIGGER poison BEFORE INSERT ON api_key_usage
             FOR EACH ROW EXECUTE FUNCTION poison()",
            mysql: "CREATE TRIGGER poison BEFORE INSERT ON api_key_usage FOR EACH ROW
             BEGIN
                 IF NEW.endpoint = '/poison' THEN
                     SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'poisoned row';
                 END IF;
             END",
        }),
    )
    .await?;
    Ok(())
}

async fn a_batch_that_fails_is_retried_salvaged_and_reported<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let (user, key) = user_and_key(&db, "kept@example.com").await?;
    let config = UsageRecorderConfig {
        max_batch: 50,
        flush_interval: Duration::from_millis(5),
        retries: 1,
        ..UsageRecorderConfig::default()
    };
    let recorder = db.store.usage_recorder(config)?;
    for n in 0..300 {
        recorder.record_api(&usage(key, n)).await?;
        recorder
            .record_api(&ApiKeyUsage::new(key, "/poison", "GET", 500))
            .await?;
        if n == 150 {
            // A database error mid-run: every batch holding a /poison row now fails.
            inject_poison::<B>(&db.url).await?;
        }
    }
    let stats = recorder.shutdown().await;
    assert_eq!(stats.accepted, 600);
    assert_eq!(stats.accepted, stats.written + stats.failed, "{stats:?}");
    // The /poison rows queued after the injection (n > 150) cannot be written.
    assert!((149..=300).contains(&stats.failed), "{stats:?}");
    assert!(
        stats
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("poisoned row")),
        "{stats:?}"
    );
    // Every healthy row made it, though most shared a batch with failing rows.
    let totals = db.store.get_usage_stats(user).await?;
    assert_eq!(totals.successful_requests, 300, "{totals:?}");
    assert_eq!(totals.total_requests, stats.written, "{totals:?}");
    Ok(())
}

/// Rows of a key or user deleted while they wait are reported, and none is left behind
/// without its key or user (the usage tables have no foreign key; the inserts check).
async fn usage_of_a_deleted_key_is_reported_and_never_orphaned<B: TestBackend>() -> eyre::Result<()>
{
    let db = TestDb::<B>::new().await?;
    let (kept_user, kept) = user_and_key(&db, "kept@example.com").await?;
    let mut doomed = Vec::new();
    for d in 0..6 {
        doomed.push(user_and_key(&db, &format!("doomed{d}@example.com")).await?);
    }
    let config = UsageRecorderConfig {
        max_batch: 40,
        flush_interval: Duration::from_millis(1),
        ..UsageRecorderConfig::default()
    };
    let recorder = db.store.usage_recorder(config)?;
    let producers: Vec<_> = (0..3)
        .map(|p| {
            let (recorder, store, doomed) = (recorder.clone(), db.store.clone(), doomed.clone());
            tokio::spawn(async move {
                for n in 0..400 {
                    recorder.record_api(&usage(kept, n)).await?;
                    recorder
                        .record_jwt(&JwtUsage::new(kept_user, "/jwt", "GET", 200))
                        .await?;
                    let (user, key) = doomed[(p + n as usize) % doomed.len()];
                    recorder.record_api(&usage(key, n)).await?;
                    recorder
                        .record_jwt(&JwtUsage::new(user, "/jwt", "GET", 200))
                        .await?;
                    // One producer deletes the doomed users (their keys go with them) one
                    // by one while all three keep recording for them.
                    if p == 0 && n % 60 == 59 {
                        let (user, _) = doomed[n as usize / 60];
                        eyre::ensure!(store.delete_user(user).await?);
                    }
                }
                eyre::Ok(())
            })
        })
        .collect();
    for producer in producers {
        producer.await??;
    }
    let stats = recorder.shutdown().await;
    assert_eq!(stats.accepted, 4800);
    assert_eq!(stats.accepted, stats.written + stats.failed, "{stats:?}");
    assert!(
        stats.failed > 0,
        "rows of deleted users were queued: {stats:?}"
    );
    assert!(
        stats
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("no longer exists")),
        "{stats:?}"
    );
    // Only the kept user's rows remain: nothing orphaned, nothing of theirs lost.
    assert_eq!(B::raw_count(&db.url, "api_key_usage").await?, 1200);
    assert_eq!(B::raw_count(&db.url, "jwt_usage").await?, 1200);
    assert_eq!(
        db.store.get_usage_stats(kept_user).await?.total_requests,
        1200
    );
    Ok(())
}

async fn invalid_rows_are_refused_before_queueing<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let (user, key) = user_and_key(&db, "v@example.com").await?;
    let recorder = db.store.usage_recorder(UsageRecorderConfig::default())?;
    let bad = ApiKeyUsage {
        status_code: 700,
        ..usage(key, 1)
    };
    assert!(matches!(
        recorder.record_api(&bad).await,
        Err(Error::InvalidInput {
            field: "status_code",
            ..
        })
    ));
    assert!(matches!(
        recorder.try_record_jwt(&JwtUsage::new(user, "", "GET", 200)),
        Err(Error::InvalidInput {
            field: "endpoint",
            ..
        })
    ));
    let stats = recorder.shutdown().await;
    assert_eq!((stats.accepted, stats.written), (0, 0));
    Ok(())
}
