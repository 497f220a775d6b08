//! Key rotation: every secret re-encrypted under the new key, in resumable batches, while
//! the store keeps writing.

mod common;

use std::{collections::HashMap, future::Future, time::Duration};

use common::{TestBackend, TestDb};
use pierre_store::{
    EncryptionKey, Error, KeyId, MySql, OAuthProvider, OAuthToken, Postgres, RotationOptions,
    Sqlite, Store, StoreConfig, User, UserId,
};
use sqlx::Connection;
use tokio::{sync::oneshot, task::JoinHandle};

backend_tests!(
    full_rotation_reencrypts_everything_and_the_old_key_can_go,
    interrupted_rotation_resumes_without_reencrypting_twice,
    tokens_written_during_rotation_end_up_under_the_new_key,
    undecryptable_rows_are_counted_failed_and_left_alone,
    unknown_key_id_fails_to_decrypt,
    a_write_straddling_the_switch_ends_under_the_new_key,
    a_cancelled_write_straddling_the_switch_ends_under_the_new_key,
    a_server_still_sealing_with_the_old_key_keeps_the_rotation_incomplete,
    a_failed_rotation_stays_switched_and_rerunning_it_finishes,
);

const PROVIDERS: [(OAuthProvider, &str); 2] = [
    (OAuthProvider::Strava, "strava"),
    (OAuthProvider::Garmin, "garmin"),
];

fn token(n: usize, provider: &str) -> OAuthToken {
    OAuthToken {
        access_token: format!("access-{provider}-{n}"),
        refresh_token: (n % 3 != 0).then(|| format!("refresh-{provider}-{n}")),
        expires_at: None,
        scope: Some("read".into()),
    }
}

/// `users` users with a token at each of two providers.
async fn seed<B: TestBackend>(db: &TestDb<B>, users: usize) -> eyre::Result<Vec<UserId>> {
    let mut ids = Vec::new();
    for n in 0..users {
        let id = db
            .store
            .create_user(&User::new(&format!("u{n}@example.com"), "hash"))
            .await?;
        for (provider, name) in PROVIDERS {
            db.store
                .upsert_oauth_token(id, provider, &token(n, name))
                .await?;
        }
        ids.push(id);
    }
    Ok(ids)
}

/// Asserts that every raw ciphertext carries `key`'s id.
async fn assert_all_under<B: TestBackend>(
    db: &TestDb<B>,
    users: &[UserId],
    key: &EncryptionKey,
) -> eyre::Result<()> {
    for &user in users {
        for (_, name) in PROVIDERS {
            let (access, refresh) = B::raw_token_columns(&db.url, user, name).await?;
            assert_eq!(
                KeyId::of_ciphertext(&access),
                Some(key.id()),
                "{user}/{name} access"
            );
            if let Some(refresh) = refresh {
                assert_eq!(
                    KeyId::of_ciphertext(&refresh),
                    Some(key.id()),
                    "{user}/{name} refresh"
                );
            }
        }
    }
    Ok(())
}

async fn full_rotation_reencrypts_everything_and_the_old_key_can_go<B: TestBackend>()
-> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let users = seed(&db, 12).await?;
    let new_key = EncryptionKey::generate();
    let mut batches_seen = 0;
    let options = RotationOptions {
        batch_size: 5,
        ..RotationOptions::default()
    };
    let report = db
        .store
        .rotate_encryption_key_with(&new_key, options, |_| batches_seen += 1)
        .await?;
    assert_eq!(
        (report.reencrypted, report.skipped, report.failed),
        (24, 0, 0),
        "{report:?}"
    );
    assert!(
        report.complete && report.batches == 5 && batches_seen == 5,
        "{report:?}"
    );
    assert_eq!(db.store.encryption_key_id(), new_key.id());
    assert_all_under(&db, &users, &new_key).await?;

    // The old key thrown away: the new key alone reads everything.
    let fresh = db.reopen_with(new_key.clone()).await?;
    for (n, &user) in users.iter().enumerate() {
        for (provider, name) in PROVIDERS {
            assert_eq!(
                fresh.get_oauth_token(user, provider).await?,
                Some(token(n, name))
            );
        }
    }
    let old_only = db.reopen_with(db.key.clone()).await?;
    let err = old_only
        .get_oauth_token(users[0], OAuthProvider::Strava)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Decryption { .. }), "{err:?}");

    // Rotating again to the same key finds nothing to do.
    let again = db.store.rotate_encryption_key(&new_key).await?;
    assert_eq!((again.reencrypted, again.skipped, again.failed), (0, 24, 0));
    Ok(())
}

async fn interrupted_rotation_resumes_without_reencrypting_twice<B: TestBackend>()
-> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let users = seed(&db, 10).await?;
    let new_key = EncryptionKey::generate();
    let stopped = db
        .store
        .rotate_encryption_key_with(
            &new_key,
            RotationOptions {
                batch_size: 4,
                max_batches: Some(2),
            },
            |_| {},
        )
        .await?;
    assert_eq!(
        (stopped.reencrypted, stopped.batches, stopped.complete),
        (8, 2, false),
        "{stopped:?}"
    );

    // A restarted process: new key active, old key retired.
    let mut config = StoreConfig::new(db.url.clone(), new_key.clone());
    config.retired_keys = vec![db.key.clone()];
    let restarted = Store::<B>::connect(config).await?;
    assert!(
        restarted
            .get_oauth_token(users[9], OAuthProvider::Garmin)
            .await?
            .is_some(),
        "mixed keys readable"
    );
    let resumed = restarted.rotate_encryption_key(&new_key).await?;
    assert_eq!(
        (resumed.reencrypted, resumed.skipped, resumed.failed),
        (12, 8, 0),
        "{resumed:?}"
    );
    assert!(resumed.complete);
    assert_all_under(&db, &users, &new_key).await
}

async fn tokens_written_during_rotation_end_up_under_the_new_key<B: TestBackend>()
-> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let users = seed(&db, 20).await?;
    let new_key = EncryptionKey::generate();

    let writers: Vec<_> = (0..4)
        .map(|w| {
            let store = db.store.clone();
            let users = users.clone();
            tokio::spawn(async move {
                let mut last = HashMap::new();
                for round in 0..15 {
                    // Each writer owns the users whose index is w modulo 4.
                    let user = users[(round * 4 + w) % users.len()];
                    let value = OAuthToken {
                        access_token: format!("writer-{w}-round-{round}"),
                        refresh_token: Some(format!("r-{w}-{round}")),
                        expires_at: None,
                        scope: None,
                    };
                    store
                        .upsert_oauth_token(user, OAuthProvider::Strava, &value)
                        .await?;
                    last.insert(user, value);
                    tokio::task::yield_now().await;
                }
                eyre::Ok(last)
            })
        })
        .collect();
    let options = RotationOptions {
        batch_size: 3,
        ..RotationOptions::default()
    };
    let report = db
        .store
        .rotate_encryption_key_with(&new_key, options, |_| {})
        .await?;
    let mut latest = HashMap::new();
    for writer in writers {
        latest.extend(writer.await??);
    }
    assert!(report.complete && report.failed == 0, "{report:?}");

    // Writes are never lost, and nothing is left under the old key.
    assert_all_under(&db, &users, &new_key).await?;
    let fresh = db.reopen_with(new_key).await?;
    for (n, &user) in users.iter().enumerate() {
        assert_eq!(
            fresh.get_oauth_token(user, OAuthProvider::Garmin).await?,
            Some(token(n, "garmin"))
        );
        let strava = fresh
            .get_oauth_token(user, OAuthProvider::Strava)
            .await?
            .expect("kept");
        if let Some(written) = latest.get(&user) {
            assert_eq!(&strava, written, "the last write wins and survives");
        } else {
            assert_eq!(strava, token(n, "strava"));
        }
    }
    Ok(())
}

async fn undecryptable_rows_are_counted_failed_and_left_alone<B: TestBackend>() -> eyre::Result<()>
{
    let db = TestDb::<B>::new().await?;
    let users = seed(&db, 3).await?;
    B::raw_set_access_token(&db.url, users[1], "strava", vec![1, 2, 3]).await?;
    let report = db
        .store
        .rotate_encryption_key(&EncryptionKey::generate())
        .await?;
    assert_eq!((report.reencrypted, report.failed), (5, 1), "{report:?}");
    let (raw, _) = B::raw_token_columns(&db.url, users[1], "strava").await?;
    assert_eq!(raw, vec![1, 2, 3]);
    Ok(())
}

async fn unknown_key_id_fails_to_decrypt<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let users = seed(&db, 1).await?;
    let (mut raw, _) = B::raw_token_columns(&db.url, users[0], "strava").await?;
    raw[1..9].copy_from_slice(b"otherkey");
    let sealed_with = KeyId::of_ciphertext(&raw).expect("a key id");
    B::raw_set_access_token(&db.url, users[0], "strava", raw).await?;
    let err = db
        .store
        .get_oauth_token(users[0], OAuthProvider::Strava)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Decryption {
                what: "access_token",
                ..
            }
        ),
        "{err:?}"
    );
    // The message names the key the value needs and the keys loaded: ids, never keys.
    let shown = err.to_string();
    assert!(
        shown.contains(&sealed_with.to_string()) && shown.contains(&db.key.id().to_string()),
        "{shown}"
    );
    assert!(
        !shown.contains(db.key.to_base64().as_str()),
        "no key material: {shown}"
    );

    // A value under a loaded key that does not open still says only that.
    let (mut raw, _) = B::raw_token_columns(&db.url, users[0], "garmin").await?;
    let last = raw.len() - 1;
    raw[last] ^= 1;
    B::raw_set_access_token(&db.url, users[0], "garmin", raw).await?;
    let err = db
        .store
        .get_oauth_token(users[0], OAuthProvider::Garmin)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot decrypt access_token: wrong key or corrupted data"
    );
    Ok(())
}

/// A lock held from another connection that makes a token write for one user wait.
struct Blocker {
    release: oneshot::Sender<()>,
    holder: JoinHandle<eyre::Result<()>>,
}

impl Blocker {
    /// Ends the holder's transaction, letting the waiting writes through.
    async fn release(self) -> eyre::Result<()> {
        let _ = self.release.send(());
        self.holder.await?
    }
}

/// How to hold up a token write without holding up a rotation on another backend's terms.
trait WriteBlocking: TestBackend {
    /// Holds a lock (until [`Blocker::release`]) that a token write for `user` must wait
    /// for: SQLite's write lock; on PostgreSQL and MySQL a `FOR UPDATE` lock on the user's row,
    /// which the new token row's foreign-key check must share.
    fn block_token_writes(
        url: &str,
        user: UserId,
    ) -> impl Future<Output = eyre::Result<Blocker>> + Send;
}

/// Runs `hold` (which takes the lock on its connection) in a task that keeps it until
/// released, then commits.
async fn blocker<C: Connection + 'static>(
    url: &str,
    hold: impl for<'c> FnOnce(&'c mut C) -> HoldFuture<'c> + Send + 'static,
) -> eyre::Result<Blocker> {
    let mut conn = C::connect(url).await?;
    let (held_tx, held_rx) = oneshot::channel();
    let (release, released) = oneshot::channel::<()>();
    let holder = tokio::spawn(async move {
        hold(&mut conn).await?;
        let _ = held_tx.send(());
        let _ = released.await;
        conn.close().await?;
        eyre::Ok(())
    });
    held_rx.await?;
    Ok(Blocker { release, holder })
}

/// Raw statements taking a lock on a borrowed connection.
type HoldFuture<'a> = std::pin::Pin<Box<dyn Future<Output = eyre::Result<()>> + Send + 'a>>;

impl WriteBlocking for Sqlite {
    async fn block_token_writes(url: &str, _user: UserId) -> eyre::Result<Blocker> {
        blocker::<sqlx::SqliteConnection>(url, |conn| {
            Box::pin(async move {
                sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
                Ok(())
            })
        })
        .await
    }
}

impl WriteBlocking for Postgres {
    async fn block_token_writes(url: &str, user: UserId) -> eyre::Result<Blocker> {
        let user = user.into_inner();
        blocker::<sqlx::PgConnection>(url, move |conn| {
            Box::pin(async move {
                sqlx::query("BEGIN").execute(&mut *conn).await?;
                sqlx::query("SELECT 1 FROM users WHERE id = $1 FOR UPDATE")
                    .bind(user)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            })
        })
        .await
    }
}

impl WriteBlocking for MySql {
    async fn block_token_writes(url: &str, user: UserId) -> eyre::Result<Blocker> {
        let user = user.to_string();
        blocker::<sqlx::MySqlConnection>(url, move |conn| {
            Box::pin(async move {
                sqlx::query("BEGIN").execute(&mut *conn).await?;
                sqlx::query("SELECT 1 FROM users WHERE id = ? FOR UPDATE")
                    .bind(user)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            })
        })
        .await
    }
}

/// Six users with tokens, a user `late` whose token writes are blocked (until the
/// [`Blocker`] is released), and a new key to rotate to.
async fn blocked_late_writer<B: WriteBlocking>()
-> eyre::Result<(TestDb<B>, UserId, EncryptionKey, Blocker)> {
    let db = TestDb::<B>::new().await?;
    seed(&db, 6).await?;
    let late = db
        .store
        .create_user(&User::new("late@example.com", "hash"))
        .await?;
    let blocker = B::block_token_writes(&db.url, late).await?;
    Ok((db, late, EncryptionKey::generate(), blocker))
}

/// The probe: a token write that took the old key, then waited for the database while the
/// rotation started, must not land under the old key after the rotation says `complete`.
async fn a_write_straddling_the_switch_ends_under_the_new_key<B: WriteBlocking>() -> eyre::Result<()>
{
    let (db, late, new_key, blocker) = blocked_late_writer::<B>().await?;
    let write = {
        let store = db.store.clone();
        tokio::spawn(async move {
            store
                .upsert_oauth_token(late, OAuthProvider::Strava, &token(99, "strava"))
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await; // the write waits on the lock
    let rotation = {
        let (store, key) = (db.store.clone(), new_key.clone());
        tokio::spawn(async move { store.rotate_encryption_key(&key).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await; // the rotation is under way
    blocker.release().await?;
    write.await??;
    let report = rotation.await??;

    let counts = db.store.token_key_counts().await?;
    assert!(
        report.complete && report.remaining == 0 && counts.under_active_key == counts.total,
        "{report:?}, {counts:?}"
    );
    let new_key_only = db.reopen_with(new_key).await?;
    assert_eq!(
        new_key_only
            .get_oauth_token(late, OAuthProvider::Strava)
            .await?,
        Some(token(99, "strava"))
    );
    Ok(())
}

/// As above, but the caller gives up on the write (a timeout drops its future) while it
/// waits for the lock: the statement already on its way still commits, and the rotation
/// must wait for it rather than switch keys, count and say `complete` before it lands.
async fn a_cancelled_write_straddling_the_switch_ends_under_the_new_key<B: WriteBlocking>()
-> eyre::Result<()> {
    let (db, late, new_key, blocker) = blocked_late_writer::<B>().await?;
    let gave_up = tokio::time::timeout(
        Duration::from_millis(300),
        db.store
            .upsert_oauth_token(late, OAuthProvider::Strava, &token(99, "strava")),
    )
    .await;
    assert!(gave_up.is_err(), "the write waits on the lock: {gave_up:?}");
    let rotation = {
        let (store, key) = (db.store.clone(), new_key.clone());
        tokio::spawn(async move { store.rotate_encryption_key(&key).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await; // the rotation is under way
    blocker.release().await?;
    let report = rotation.await??;
    // The abandoned write lands whenever the lock lets it: wait for it.
    let mut counts = db.store.token_key_counts().await?;
    for _ in 0..100 {
        if counts.total == 13 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        counts = db.store.token_key_counts().await?;
    }
    assert_eq!(counts.total, 13, "the abandoned write committed");
    assert!(
        report.complete && counts.under_active_key == counts.total,
        "{report:?}, {counts:?}"
    );
    Ok(())
}

/// A server that was not switched to the new key keeps sealing with the old one while the
/// rotation runs: the rotation must not say `complete`, and says how many rows remain.
async fn a_server_still_sealing_with_the_old_key_keeps_the_rotation_incomplete<B: TestBackend>()
-> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let users = seed(&db, 6).await?;
    let unswitched = db.reopen_with(db.key.clone()).await?;
    let new_key = EncryptionKey::generate();
    let runtime = tokio::runtime::Handle::current();
    let options = RotationOptions {
        batch_size: 4,
        ..RotationOptions::default()
    };
    let report = db
        .store
        .rotate_encryption_key_with(&new_key, options, |_| {
            // After every batch, the unswitched server refreshes a token.
            tokio::task::block_in_place(|| {
                runtime.block_on(unswitched.upsert_oauth_token(
                    users[0],
                    OAuthProvider::Strava,
                    &token(0, "strava"),
                ))
            })
            .expect("the unswitched server writes");
        })
        .await?;
    let counts = db.store.token_key_counts().await?;
    assert_eq!(
        counts.total - counts.under_active_key,
        1,
        "the last write is under the old key"
    );
    assert!(
        !report.complete && report.remaining == 1,
        "{report:?}, {counts:?}"
    );
    Ok(())
}

/// A rotation that fails half-way leaves the store switched to the new key (later writes
/// use it), the finished batches under the new key and the rest under the old one, all
/// readable; running it again once the cause is gone finishes the job.
async fn a_failed_rotation_stays_switched_and_rerunning_it_finishes<B: TestBackend>()
-> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let users = seed(&db, 6).await?;
    let last = users.iter().map(ToString::to_string).max().expect("users");
    // The last user's rows (the last batch in key order) cannot be updated.
    common::fail_token_updates::<B>(&db.url, &last).await?;
    let new_key = EncryptionKey::generate();
    let options = RotationOptions {
        batch_size: 2,
        ..RotationOptions::default()
    };
    let err = db
        .store
        .rotate_encryption_key_with(&new_key, options, |_| {})
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Database(_)), "{err:?}");

    assert_eq!(db.store.encryption_key_id(), new_key.id(), "still switched");
    let counts = db.store.token_key_counts().await?;
    assert_eq!((counts.total, counts.under_active_key), (12, 10));
    for (n, &user) in users.iter().enumerate() {
        for (provider, name) in PROVIDERS {
            assert_eq!(
                db.store.get_oauth_token(user, provider).await?,
                Some(token(n, name))
            );
        }
    }

    common::allow_token_updates::<B>(&db.url).await?;
    let rerun = db.store.rotate_encryption_key(&new_key).await?;
    assert!(
        rerun.complete && (rerun.reencrypted, rerun.skipped, rerun.failed) == (2, 10, 0),
        "{rerun:?}"
    );
    assert_all_under(&db, &users, &new_key).await
}
