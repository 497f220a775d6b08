//! Concurrent load on both backends: 16 tasks mixing reads, writes and read-then-write
//! transactions get no error at all (in particular no "database is locked" on SQLite), and
//! every acknowledged write is present afterwards; racing creations of one email give
//! exactly one success and one `Conflict`.

mod common;

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use common::{TestBackend, TestDb};
use pierre_store::{
    ApiKeyTier, ApiKeyUsage, EncryptionKey, Error, OAuthProvider, OAuthToken, RotationOptions,
    User, UserId,
};

backend_tests!(
    sixteen_tasks_of_mixed_load_lose_nothing_and_never_see_busy,
    racing_creations_of_one_email_give_one_success_and_one_conflict,
);

const TASKS: usize = 16;

/// Operations per task: `PIERRE_LOAD_OPS`, default 120 (`make soak` uses more).
fn ops_per_task() -> usize {
    std::env::var("PIERRE_LOAD_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(120)
}

async fn sixteen_tasks_of_mixed_load_lose_nothing_and_never_see_busy<B: TestBackend>()
-> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let owner = db
        .store
        .create_user(&User::new("owner@example.com", "h"))
        .await?;
    let (key, plaintext) = db
        .store
        .issue_api_key(owner, "shared", ApiKeyTier::Trial, vec![], None)
        .await?;
    let plaintext = plaintext.expose().to_owned();
    let started = Instant::now();

    // A key rotation (read-then-write transactions) runs through the whole load.
    let rotator = {
        let store = db.store.clone();
        tokio::spawn(async move {
            let mut reencrypted = 0;
            for _ in 0..3 {
                let options = RotationOptions {
                    batch_size: 8,
                    ..RotationOptions::default()
                };
                reencrypted += store
                    .rotate_encryption_key_with(&EncryptionKey::generate(), options, |_| {})
                    .await?
                    .reencrypted;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            eyre::Ok(reencrypted)
        })
    };
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| {
            let store = db.store.clone();
            let plaintext = plaintext.clone();
            tokio::spawn(async move {
                let mut users = Vec::new();
                let mut tokens: HashMap<UserId, String> = HashMap::new();
                let mut usage = 0_u64;
                for n in 0..ops_per_task() {
                    match n % 6 {
                        0 => users.push(
                            store
                                .create_user(&User::new(&format!("t{t}-{n}@example.com"), "h"))
                                .await?,
                        ),
                        1 => {
                            if let Some(&user) = users.last() {
                                let value = format!("token-{t}-{n}");
                                let token = OAuthToken {
                                    access_token: value.clone(),
                                    refresh_token: None,
                                    expires_at: None,
                                    scope: None,
                                };
                                store
                                    .upsert_oauth_token(user, OAuthProvider::Garmin, &token)
                                    .await?;
                                tokens.insert(user, value);
                            }
                        }
                        2 => {
                            store
                                .record_api_usage(&ApiKeyUsage::new(key.id, "/load", "GET", 200))
                                .await?;
                            usage += 1;
                        }
                        3 => {
                            eyre::ensure!(
                                store.authenticate_api_key(&plaintext).await?.is_some(),
                                "key refused"
                            );
                        }
                        4 => {
                            if let Some(&user) = users.first() {
                                eyre::ensure!(
                                    store.get_user(user).await?.is_some(),
                                    "own user missing"
                                );
                            }
                        }
                        _ => {
                            if let Some((&user, value)) = tokens.iter().next() {
                                let read =
                                    store.get_oauth_token(user, OAuthProvider::Garmin).await?;
                                eyre::ensure!(
                                    read.map(|t| t.access_token).as_ref() == Some(value),
                                    "token lost"
                                );
                            }
                        }
                    }
                }
                eyre::Ok((users, tokens, usage))
            })
        })
        .collect();

    let mut all_users = Vec::new();
    let mut all_tokens = HashMap::new();
    let mut usage = 0;
    for task in tasks {
        let (users, tokens, rows) = task.await??;
        all_users.extend(users);
        all_tokens.extend(tokens);
        usage += rows;
    }
    let reencrypted = rotator.await??;
    let elapsed = started.elapsed();
    let ops = TASKS * ops_per_task();
    println!(
        "{}: {ops} ops from {TASKS} tasks in {elapsed:.2?} ({:.0} ops/s), {reencrypted} rows re-encrypted meanwhile, 0 errors",
        <B as sqlx::Database>::NAME,
        ops as f64 / elapsed.as_secs_f64()
    );

    // Every acknowledged write is there, readable with the key the store ended with.
    for user in &all_users {
        assert!(db.store.get_user(*user).await?.is_some());
    }
    for (user, value) in &all_tokens {
        let read = db
            .store
            .get_oauth_token(*user, OAuthProvider::Garmin)
            .await?;
        assert_eq!(read.map(|t| t.access_token).as_ref(), Some(value));
    }
    assert_eq!(db.store.get_usage_stats(owner).await?.total_requests, usage);
    let authenticated = db
        .store
        .get_api_key_by_hash(&key.key_hash)
        .await?
        .expect("key")
        .usage_count;
    assert_eq!(
        authenticated,
        (TASKS * ops_per_task().div_ceil(6)) as i64,
        "every authentication counted once"
    );
    Ok(())
}

async fn racing_creations_of_one_email_give_one_success_and_one_conflict<B: TestBackend>()
-> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    for round in 0..40 {
        let email = format!("race{round}@example.com");
        let (a, b) = tokio::join!(
            {
                let s = db.store.clone();
                let e = email.clone();
                tokio::spawn(async move { s.create_user(&User::new(&e, "h")).await })
            },
            {
                let s = db.store.clone();
                let e = email.to_uppercase();
                tokio::spawn(async move { s.create_user(&User::new(&e, "h")).await })
            },
        );
        let results = [a?, b?];
        let ok = results.iter().filter(|r| r.is_ok()).count();
        let conflicts = results
            .iter()
            .filter(|r| matches!(r, Err(Error::Conflict { .. })))
            .count();
        assert_eq!((ok, conflicts), (1, 1), "round {round}: {results:?}");
    }
    assert_eq!(B::raw_count(&db.url, "users").await?, 40);
    Ok(())
}
