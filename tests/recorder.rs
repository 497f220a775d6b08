//! The batched usage recorder: nothing accepted is lost, back-pressure is explicit, and a
//! failing batch is retried, salvaged row by row, and reported.

mod common;

use std::time::Duration;

use common::{TestBackend, TestDb};
use pierre_store::{
    ApiKey, ApiKeyId, ApiKeyUsage, Error, JwtUsage, UsageRecorderConfig, User, UserId,
};

backend_tests!(
    every_accepted_row_is_written_in_batches,
    a_batch_that_fails_is_retried_salvaged_and_reported,
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

async fn a_batch_that_fails_is_retried_salvaged_and_reported<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let (_, kept) = user_and_key(&db, "kept@example.com").await?;
    let (doomed_user, doomed) = user_and_key(&db, "doomed@example.com").await?;
    let config = UsageRecorderConfig {
        max_batch: 50,
        flush_interval: Duration::from_millis(5),
        retries: 1,
        ..UsageRecorderConfig::default()
    };
    let recorder = db.store.usage_recorder(config)?;
    for n in 0..300 {
        recorder.record_api(&usage(kept, n)).await?;
        recorder.record_api(&usage(doomed, n)).await?;
        if n == 150 {
            // A database error mid-run: rows queued for this key now break the foreign key.
            db.store.delete_user(doomed_user).await?;
        }
    }
    let stats = recorder.shutdown().await;
    assert_eq!(stats.accepted, 600);
    assert_eq!(stats.accepted, stats.written + stats.failed, "{stats:?}");
    assert!(stats.failed > 0 && stats.failed <= 300, "{stats:?}");
    assert!(stats.last_error.is_some());
    // Every row of the healthy key made it, though it shared batches with failing rows.
    assert_eq!(B::raw_count(&db.url, "api_key_usage").await?, 300);
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
