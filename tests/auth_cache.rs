//! The authentication cache (issue 13): every change made through the store is seen by the
//! next authentication in this process; changes made by other writers within the poll
//! interval or a notification, and within the TTL when every signal is off; unknown keys
//! are not cached; counted uses reach the database (write-behind) by `close()`.

mod common;

use std::time::{Duration, Instant};

use common::{TestBackend, TestDb, postgres_server_url, with_database};
use pierre_store::{
    A2AClientUpdate, ApiKey, ApiKeyTier, ApiKeyUpdate, Store, StoreConfig, User, UserId, UserStatus,
};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

backend_tests!(
    revoked_key_is_refused_by_the_next_call,
    expiry_moved_into_the_past_is_refused_by_the_next_call,
    expiry_reached_while_cached_is_refused_at_once,
    suspended_user_key_is_refused_and_reactivated_accepted,
    deleted_user_key_is_refused,
    updated_key_is_returned_as_updated,
    revoked_and_deactivated_a2a_clients_are_refused,
    unknown_keys_are_not_cached,
    other_writers_changes_are_seen_within_the_poll_interval,
    without_signals_a_change_is_seen_within_the_ttl,
    uses_counted_over_many_tasks_all_reach_the_database,
    cache_off_counts_each_use_in_the_database,
    cache_off_uses_from_many_tasks_each_see_their_own_count,
    writing_uses_does_not_move_the_change_counter,
    a_one_connection_pool_serves_calls_while_watching,
    a_missing_change_counter_row_fails_changes_loudly,
    statements_that_match_no_row_do_not_move_the_change_counter,
    renaming_a_key_to_add_a_trailing_space_bumps_auth_changes,
);

async fn user<B: TestBackend>(db: &TestDb<B>, email: &str) -> eyre::Result<UserId> {
    let mut user = User::new(email, "hash");
    user.status = UserStatus::Active;
    Ok(db.store.create_user(&user).await?)
}

/// A second store on the test database with `tune` applied to the default settings.
async fn store_with<B: TestBackend>(
    db: &TestDb<B>,
    tune: impl FnOnce(&mut StoreConfig),
) -> eyre::Result<Store<B>> {
    let mut config = StoreConfig::new(&db.url, db.key.clone());
    tune(&mut config);
    Ok(Store::<B>::connect(config).await?)
}

async fn revoked_key_is_refused_by_the_next_call<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new_as_app_role().await?;
    let owner = user(&db, "r@example.com").await?;
    let (key, plaintext) = db
        .store
        .issue_api_key(owner, "k", ApiKeyTier::Trial, vec![], None)
        .await?;
    for _ in 0..3 {
        assert!(db.store.authenticate_api_key(&plaintext).await?.is_some());
    }
    db.store.revoke_api_key(key.id).await?;
    let after = db.store.authenticate_api_key(&plaintext).await?;
    println!("authenticate right after revoke_api_key: {after:?}");
    assert!(after.is_none());
    Ok(())
}

async fn expiry_moved_into_the_past_is_refused_by_the_next_call<B: TestBackend>() -> eyre::Result<()>
{
    let db = TestDb::<B>::new_as_app_role().await?;
    let owner = user(&db, "e@example.com").await?;
    let (key, plaintext) = db
        .store
        .issue_api_key(owner, "k", ApiKeyTier::Trial, vec![], None)
        .await?;
    assert!(db.store.authenticate_api_key(&plaintext).await?.is_some());
    let past = OffsetDateTime::now_utc() - time::Duration::seconds(1);
    let expire = ApiKeyUpdate {
        expires_at: Some(Some(past)),
        ..ApiKeyUpdate::default()
    };
    db.store.update_api_key(key.id, &expire).await?;
    let after = db.store.authenticate_api_key(&plaintext).await?;
    println!("authenticate right after update_api_key(expires_at: past): {after:?}");
    assert!(after.is_none());
    let clear = ApiKeyUpdate {
        expires_at: Some(None),
        ..ApiKeyUpdate::default()
    };
    db.store.update_api_key(key.id, &clear).await?;
    assert!(db.store.authenticate_api_key(&plaintext).await?.is_some());
    Ok(())
}

/// A cached key whose `expires_at` passes is refused at that instant: a hit checks the
/// expiry against the clock, with no change in the database.
async fn expiry_reached_while_cached_is_refused_at_once<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new_as_app_role().await?;
    let owner = user(&db, "x@example.com").await?;
    // Far enough ahead to cover issuing and the first authentication on a loaded machine.
    let expires = OffsetDateTime::now_utc() + time::Duration::seconds(4);
    let (_, plaintext) = db
        .store
        .issue_api_key(owner, "k", ApiKeyTier::Trial, vec![], Some(expires))
        .await?;
    assert!(db.store.authenticate_api_key(&plaintext).await?.is_some());
    let wait = expires - OffsetDateTime::now_utc();
    tokio::time::sleep(Duration::try_from(wait).unwrap_or_default()).await;
    assert!(OffsetDateTime::now_utc() >= expires);
    assert!(db.store.authenticate_api_key(&plaintext).await?.is_none());
    Ok(())
}

async fn suspended_user_key_is_refused_and_reactivated_accepted<B: TestBackend>() -> eyre::Result<()>
{
    let db = TestDb::<B>::new_as_app_role().await?;
    let admin = user(&db, "admin@example.com").await?;
    let owner = user(&db, "s@example.com").await?;
    let (_, plaintext) = db
        .store
        .issue_api_key(owner, "k", ApiKeyTier::Trial, vec![], None)
        .await?;
    assert!(db.store.authenticate_api_key(&plaintext).await?.is_some());
    db.store.suspend_user(owner, admin, "abuse").await?;
    let after = db.store.authenticate_api_key(&plaintext).await?;
    println!("authenticate right after suspend_user: {after:?}");
    assert!(after.is_none());
    db.store.reactivate_user(owner, admin).await?;
    assert!(db.store.authenticate_api_key(&plaintext).await?.is_some());
    Ok(())
}

async fn deleted_user_key_is_refused<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new_as_app_role().await?;
    let owner = user(&db, "d@example.com").await?;
    let (_, plaintext) = db
        .store
        .issue_api_key(owner, "k", ApiKeyTier::Trial, vec![], None)
        .await?;
    assert!(db.store.authenticate_api_key(&plaintext).await?.is_some());
    assert!(db.store.delete_user(owner).await?);
    let after = db.store.authenticate_api_key(&plaintext).await?;
    println!("authenticate right after delete_user: {after:?}");
    assert!(after.is_none());
    Ok(())
}

async fn updated_key_is_returned_as_updated<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new_as_app_role().await?;
    let owner = user(&db, "u@example.com").await?;
    let (key, plaintext) = db
        .store
        .issue_api_key(
            owner,
            "before",
            ApiKeyTier::Trial,
            vec!["read".into()],
            None,
        )
        .await?;
    assert!(db.store.authenticate_api_key(&plaintext).await?.is_some());
    let update = ApiKeyUpdate {
        name: Some("after".into()),
        scopes: Some(vec!["read".into(), "write".into()]),
        rate_limit_override: Some(Some(7)),
        ..ApiKeyUpdate::default()
    };
    db.store.update_api_key(key.id, &update).await?;
    let seen = db
        .store
        .authenticate_api_key(&plaintext)
        .await?
        .expect("still valid");
    assert_eq!(
        (
            seen.name.as_str(),
            seen.scopes.len(),
            seen.rate_limit_override
        ),
        ("after", 2, Some(7))
    );
    assert_eq!(
        seen.usage_count, 2,
        "the use before the update carries over"
    );
    Ok(())
}

async fn revoked_and_deactivated_a2a_clients_are_refused<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new_as_app_role().await?;
    let (client, secret) = db.store.issue_a2a_client("bot", vec![], 100).await?;
    assert!(db.store.authenticate_a2a_client(&secret).await?.is_some());
    db.store.set_a2a_client_active(client.id, false).await?;
    assert!(
        db.store.authenticate_a2a_client(&secret).await?.is_none(),
        "deactivated"
    );
    db.store.set_a2a_client_active(client.id, true).await?;
    assert!(db.store.authenticate_a2a_client(&secret).await?.is_some());
    let off = A2AClientUpdate {
        is_active: Some(false),
        ..A2AClientUpdate::default()
    };
    db.store.update_a2a_client(client.id, &off).await?;
    assert!(
        db.store.authenticate_a2a_client(&secret).await?.is_none(),
        "deactivated by update_a2a_client"
    );
    let on = A2AClientUpdate {
        is_active: Some(true),
        name: Some("renamed".into()),
        ..A2AClientUpdate::default()
    };
    db.store.update_a2a_client(client.id, &on).await?;
    let seen = db.store.authenticate_a2a_client(&secret).await?;
    assert_eq!(seen.map(|c| c.name), Some("renamed".to_owned()));
    db.store.revoke_a2a_client(client.id).await?;
    let after = db.store.authenticate_a2a_client(&secret).await?;
    println!("authenticate_a2a_client right after revoke_a2a_client: {after:?}");
    assert!(after.is_none());
    Ok(())
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// An unknown key is looked up every time: one stored after a refusal authenticates at
/// once (no negative caching).
async fn unknown_keys_are_not_cached<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new_as_app_role().await?;
    let owner = user(&db, "n@example.com").await?;
    let plaintext = "pk_live_not_yet_stored_0123456789";
    assert!(db.store.authenticate_api_key(plaintext).await?.is_none());
    let key = ApiKey::new(owner, "late", &sha256_hex(plaintext), "pk_live_not");
    db.store.create_api_key(&key).await?;
    let seen = db.store.authenticate_api_key(plaintext).await?;
    assert_eq!(seen.map(|k| k.id), Some(key.id));
    Ok(())
}

/// Another writer (raw SQL on its own connection, as the admin binary or another server
/// would) revokes every key and suspends a user: a store with a long TTL refuses within a
/// bound, through the `auth_changes` triggers and the poll (SQLite) or NOTIFY (PostgreSQL).
async fn other_writers_changes_are_seen_within_the_poll_interval<B: TestBackend>()
-> eyre::Result<()> {
    let db = TestDb::<B>::new_as_app_role().await?;
    let store = store_with(&db, |c| c.auth_cache_ttl = Duration::from_secs(3600)).await?;
    let owner = user(&db, "o@example.com").await?;
    let (_, revoked) = store
        .issue_api_key(owner, "k", ApiKeyTier::Trial, vec![], None)
        .await?;
    let (_, deleted) = store
        .issue_api_key(owner, "k2", ApiKeyTier::Trial, vec![], None)
        .await?;
    let (_, client_secret) = store.issue_a2a_client("bot", vec![], 10).await?;
    assert!(store.authenticate_api_key(&revoked).await?.is_some());
    assert!(store.authenticate_api_key(&deleted).await?.is_some());
    assert!(
        store
            .authenticate_a2a_client(&client_secret)
            .await?
            .is_some()
    );

    for (what, sql, plaintext, is_client) in [
        (
            "raw UPDATE api_keys SET is_active",
            "UPDATE api_keys SET is_active = FALSE WHERE name = 'k'",
            &revoked,
            false,
        ),
        (
            "raw DELETE FROM api_keys",
            "DELETE FROM api_keys WHERE name = 'k2'",
            &deleted,
            false,
        ),
        (
            "raw UPDATE a2a_clients SET is_active",
            "UPDATE a2a_clients SET is_active = FALSE",
            &client_secret,
            true,
        ),
    ] {
        B::raw_execute(&db.admin_url(), sql).await?;
        let started = Instant::now();
        loop {
            let accepted = if is_client {
                store.authenticate_a2a_client(plaintext).await?.is_some()
            } else {
                store.authenticate_api_key(plaintext).await?.is_some()
            };
            if !accepted {
                break;
            }
            eyre::ensure!(
                started.elapsed() < Duration::from_secs(2),
                "{what}: still accepted after 2 s"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        println!("{what}: refused after {:?}", started.elapsed());
    }
    store.close().await;
    Ok(())
}

/// With the cross-process watch off, a change by another writer is seen once the TTL has
/// passed, and not before: the key is served from memory meanwhile.
async fn without_signals_a_change_is_seen_within_the_ttl<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new_as_app_role().await?;
    let ttl = Duration::from_millis(700);
    let store = store_with(&db, |c| {
        c.auth_cache_ttl = ttl;
        c.auth_poll_interval = Duration::ZERO;
    })
    .await?;
    let owner = user(&db, "t@example.com").await?;
    let (_, plaintext) = store
        .issue_api_key(owner, "k", ApiKeyTier::Trial, vec![], None)
        .await?;
    assert!(store.authenticate_api_key(&plaintext).await?.is_some());
    let loaded = Instant::now();
    B::raw_execute(&db.admin_url(), "UPDATE api_keys SET is_active = FALSE").await?;
    assert!(
        store.authenticate_api_key(&plaintext).await?.is_some() || loaded.elapsed() >= ttl,
        "served from memory within the TTL"
    );
    loop {
        if store.authenticate_api_key(&plaintext).await?.is_none() {
            break;
        }
        eyre::ensure!(
            loaded.elapsed() < ttl + Duration::from_millis(500),
            "still accepted {:?} after loading, TTL {ttl:?}",
            loaded.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    println!(
        "no signals: refused {:?} after the key was loaded (TTL {ttl:?})",
        loaded.elapsed()
    );
    store.close().await;
    Ok(())
}

/// N authentications over several tasks (and an A2A client's) are all in the database
/// once the store is closed, read by another store.
async fn uses_counted_over_many_tasks_all_reach_the_database<B: TestBackend>() -> eyre::Result<()> {
    const TASKS: usize = 8;
    const PER_TASK: i64 = 2_500;
    let db = TestDb::<B>::new_as_app_role().await?;
    let store = store_with(&db, |c| c.usage_flush_interval = Duration::from_millis(50)).await?;
    let owner = user(&db, "w@example.com").await?;
    let (key, plaintext) = store
        .issue_api_key(owner, "k", ApiKeyTier::Trial, vec![], None)
        .await?;
    let (client, secret) = store.issue_a2a_client("bot", vec![], 10).await?;
    let started = OffsetDateTime::now_utc();
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let store = store.clone();
            let plaintext = plaintext.expose().to_owned();
            tokio::spawn(async move {
                let mut highest = 0;
                for _ in 0..PER_TASK {
                    let key = store.authenticate_api_key(&plaintext).await?;
                    highest = highest.max(key.map_or(0, |k| k.usage_count));
                    tokio::task::yield_now().await;
                }
                eyre::Ok(highest)
            })
        })
        .collect();
    let mut highest = 0;
    for task in tasks {
        highest = highest.max(task.await??);
    }
    assert!(store.authenticate_a2a_client(&secret).await?.is_some());
    let total = TASKS as i64 * PER_TASK;
    assert_eq!(highest, total, "the last use counted returns the total");
    assert_eq!(
        store
            .get_api_key_by_hash(&key.key_hash)
            .await?
            .map(|k| k.usage_count),
        Some(total),
        "reads through the store include uses not yet written"
    );
    store.close().await;
    assert!(
        store.authenticate_api_key(&plaintext).await.is_err(),
        "a closed store answers nothing from memory"
    );

    let other = store_with(&db, |c| c.auth_cache_entries = 0).await?;
    let stored = other
        .get_api_key_by_hash(&key.key_hash)
        .await?
        .expect("kept");
    println!(
        "{total} authentications over {TASKS} tasks; stored usage_count after close: {}",
        stored.usage_count
    );
    assert_eq!(stored.usage_count, total);
    assert!(
        stored
            .last_used
            .is_some_and(|at| at >= clock_floor(started))
    );
    let client = other.get_a2a_client(client.id).await?.expect("kept");
    assert!(
        client
            .last_used
            .is_some_and(|at| at >= clock_floor(started))
    );
    Ok(())
}

fn clock_floor(at: OffsetDateTime) -> OffsetDateTime {
    at - time::Duration::microseconds(1)
}

/// `auth_cache_entries = 0`: every authentication is an `UPDATE`, so the count is in the
/// database as soon as the call returns, and revocation by another writer is seen at once.
async fn cache_off_counts_each_use_in_the_database<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new_as_app_role().await?;
    let store = store_with(&db, |c| c.auth_cache_entries = 0).await?;
    let owner = user(&db, "c@example.com").await?;
    let (key, plaintext) = store
        .issue_api_key(owner, "k", ApiKeyTier::Trial, vec![], None)
        .await?;
    for n in 1..=3 {
        let seen = store.authenticate_api_key(&plaintext).await?;
        assert_eq!(seen.map(|k| k.usage_count), Some(n));
    }
    let raw: i64 = B::raw_count(&db.url, "api_keys").await?;
    assert_eq!(raw, 1);
    assert_eq!(
        store
            .get_api_key_by_hash(&key.key_hash)
            .await?
            .map(|k| k.usage_count),
        Some(3)
    );
    B::raw_execute(&db.admin_url(), "UPDATE api_keys SET is_active = FALSE").await?;
    assert!(store.authenticate_api_key(&plaintext).await?.is_none());
    Ok(())
}

/// `auth_cache_entries = 0` under concurrency: each authentication adds one and returns the
/// row as its own increment left it (one atomic step), so the counts returned are exactly
/// 1..=N, none lost and none seen twice.
async fn cache_off_uses_from_many_tasks_each_see_their_own_count<B: TestBackend>()
-> eyre::Result<()> {
    const TASKS: usize = 8;
    const PER_TASK: usize = 100;
    let db = TestDb::<B>::new_as_app_role().await?;
    let store = store_with(&db, |c| c.auth_cache_entries = 0).await?;
    let owner = user(&db, "m@example.com").await?;
    let (key, plaintext) = store
        .issue_api_key(owner, "k", ApiKeyTier::Trial, vec![], None)
        .await?;
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let store = store.clone();
            let plaintext = plaintext.expose().to_owned();
            tokio::spawn(async move {
                let mut seen = Vec::with_capacity(PER_TASK);
                for _ in 0..PER_TASK {
                    let key = store.authenticate_api_key(&plaintext).await?;
                    seen.push(key.map(|k| k.usage_count));
                }
                eyre::Ok(seen)
            })
        })
        .collect();
    let mut seen = Vec::new();
    for task in tasks {
        seen.extend(task.await??);
    }
    seen.sort();
    let total = (TASKS * PER_TASK) as i64;
    let expected: Vec<_> = (1..=total).map(Some).collect();
    assert_eq!(seen, expected, "each use returns its own count");
    assert_eq!(
        store
            .get_api_key_by_hash(&key.key_hash)
            .await?
            .map(|k| k.usage_count),
        Some(total)
    );
    Ok(())
}

/// The write-behind flush changes only `usage_count` / `last_used`, which the
/// `auth_changes` triggers do not watch: flushing never drops other processes' caches. A
/// change of a watched column does move the counter.
async fn writing_uses_does_not_move_the_change_counter<B: TestBackend>() -> eyre::Result<()> {
    // `UPDATE ... SET id = 1 WHERE counter = 0` matches 1 row while the counter is 0.
    const COUNTER_IS_ZERO: &str = "UPDATE auth_changes SET id = 1 WHERE counter = 0";
    let db = TestDb::<B>::new_as_app_role().await?;
    let owner = user(&db, "f@example.com").await?;
    let (key, plaintext) = db
        .store
        .issue_api_key(owner, "k", ApiKeyTier::Trial, vec![], None)
        .await?;
    let (_, secret) = db.store.issue_a2a_client("bot", vec![], 10).await?;
    assert_eq!(B::raw_execute(&db.admin_url(), COUNTER_IS_ZERO).await?, 1);
    for _ in 0..10 {
        assert!(db.store.authenticate_api_key(&plaintext).await?.is_some());
        assert!(db.store.authenticate_a2a_client(&secret).await?.is_some());
    }
    db.store.flush_credential_uses().await?;
    let other = store_with(&db, |c| c.auth_cache_entries = 0).await?;
    let stored = other.get_api_key_by_hash(&key.key_hash).await?;
    assert_eq!(
        stored.map(|k| k.usage_count),
        Some(10),
        "the uses were written"
    );
    assert_eq!(
        B::raw_execute(&db.admin_url(), COUNTER_IS_ZERO).await?,
        1,
        "writing uses moved auth_changes"
    );
    B::raw_execute(&db.admin_url(), "UPDATE api_keys SET name = 'renamed'").await?;
    assert_eq!(
        B::raw_execute(&db.admin_url(), COUNTER_IS_ZERO).await?,
        0,
        "a rename moves auth_changes"
    );
    Ok(())
}

/// The watch of other processes' changes (PostgreSQL: a `LISTEN` connection) takes none of
/// the store's connections: a store with `max_connections = 1` serves every call while it
/// runs. Failed on the old code (the listener held the pool's only connection) with
/// `PoolTimedOut` after the acquire timeout.
async fn a_one_connection_pool_serves_calls_while_watching<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new_as_app_role().await?;
    let store = store_with(&db, |config| {
        config.max_connections = 1;
        config.acquire_timeout = Duration::from_secs(2);
    })
    .await?;
    // Let the watch start (and take its connection) before the first call.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let owner = {
        let mut user = User::new("one@example.com", "hash");
        user.status = UserStatus::Active;
        store.create_user(&user).await?
    };
    let (key, plaintext) = store
        .issue_api_key(owner, "k", ApiKeyTier::Trial, vec![], None)
        .await?;
    assert!(store.authenticate_api_key(&plaintext).await?.is_some());
    store.revoke_api_key(key.id).await?;
    assert!(store.authenticate_api_key(&plaintext).await?.is_none());
    let took = started.elapsed();
    println!("five calls through a one-connection store: {took:?}");
    assert!(
        took < Duration::from_secs(2),
        "no call waited for a connection: {took:?}"
    );
    store.close().await;
    Ok(())
}

/// Grants a PostgreSQL role that does not own the schema exactly what the README
/// ("Running as a role that does not own the tables") tells an operator to grant.
const README_GRANTS: [&str; 4] = [
    "GRANT USAGE ON SCHEMA public TO {role}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
    "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}",
    "REVOKE INSERT, UPDATE, DELETE ON auth_changes FROM {role}",
];

/// A store running as a role that does not own the tables, granted what the README says:
/// its revocations succeed and are seen by another store (the trigger bumps the counter
/// with its owner's rights), and its watch sees the owner's revocations. Failed on the old
/// code at `revoke_api_key` with `permission denied for table auth_changes` (the trigger
/// ran in the caller's name).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_non_owner_role_revokes_and_sees_revocations() -> eyre::Result<()> {
    use sqlx::{AssertSqlSafe, Connection, PgConnection};
    let db = TestDb::<pierre_store::Postgres>::new_as_app_role().await?;
    let role = format!("pierre_nonowner_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&db.admin_url()).await?;
    sqlx::query(AssertSqlSafe(format!(
        "CREATE ROLE {role} LOGIN PASSWORD 'app-password' NOSUPERUSER NOBYPASSRLS"
    )))
    .execute(&mut admin)
    .await?;
    let result = async {
        for grant in README_GRANTS {
            sqlx::query(AssertSqlSafe(grant.replace("{role}", &role)))
                .execute(&mut admin)
                .await?;
        }
        let path = db.url.rsplit('/').next().unwrap_or_default();
        let name = path.split('?').next().unwrap_or_default();
        let url = with_database(&postgres_server_url(), name, Some(&role));
        let writer = Store::<pierre_store::Postgres>::new(&url, db.key.clone()).await?;
        let owner = user(&db, "n@example.com").await?;
        let checked = async {
            // The non-owner revokes: it succeeds, this store refuses at once, the owner's
            // store (another process, as far as caches go) within its watch.
            let (key, plaintext) = db
                .store
                .issue_api_key(owner, "a", ApiKeyTier::Trial, vec![], None)
                .await?;
            assert!(writer.authenticate_api_key(&plaintext).await?.is_some());
            assert!(db.store.authenticate_api_key(&plaintext).await?.is_some());
            writer.revoke_api_key(key.id).await?;
            assert!(writer.authenticate_api_key(&plaintext).await?.is_none());
            let seen = refused_within(&db.store, &plaintext, Duration::from_secs(1)).await?;
            println!("owner's store refused the non-owner's revocation after {seen:?}");
            // The owner revokes: the non-owner's watch (SELECT on auth_changes) sees it.
            let (key, plaintext) = db
                .store
                .issue_api_key(owner, "b", ApiKeyTier::Trial, vec![], None)
                .await?;
            assert!(writer.authenticate_api_key(&plaintext).await?.is_some());
            db.store.revoke_api_key(key.id).await?;
            let seen = refused_within(&writer, &plaintext, Duration::from_secs(1)).await?;
            println!("non-owner's store refused the owner's revocation after {seen:?}");
            eyre::Ok(())
        }
        .await;
        writer.close().await;
        checked
    }
    .await;
    drop(admin);
    drop(db);
    let mut server = PgConnection::connect(&postgres_server_url()).await?;
    sqlx::query(AssertSqlSafe(format!("DROP ROLE IF EXISTS {role}")))
        .execute(&mut server)
        .await?;
    result
}

/// How long until `store` refuses `plaintext`; an error after `bound` (the TTL is 30 s,
/// so only a signal can make it in time).
async fn refused_within<B: TestBackend>(
    store: &Store<B>,
    plaintext: &str,
    bound: Duration,
) -> eyre::Result<Duration> {
    let started = Instant::now();
    loop {
        if store.authenticate_api_key(plaintext).await?.is_none() {
            return Ok(started.elapsed());
        }
        if started.elapsed() > bound {
            eyre::bail!("still accepted {bound:?} after the revocation");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Forwards connections on `listener` to the test server (unencrypted). Once `armed`, the
/// first message a client sends that starts with a `Bind` (a prepared statement's
/// execution, not the pool's ping) sets `hold`; while `hold` is set, bytes from the server
/// are kept back: the server has executed and answered, the client has not read it.
async fn holding_forward(
    listener: tokio::net::TcpListener,
    armed: std::sync::Arc<std::sync::atomic::AtomicBool>,
    hold: std::sync::Arc<std::sync::atomic::AtomicBool>,
) {
    use std::sync::atomic::Ordering;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    while let Ok((client, _)) = listener.accept().await {
        let (armed, hold) = (armed.clone(), hold.clone());
        tokio::spawn(async move {
            let Ok(address) = common::server_address() else {
                return;
            };
            let Ok(server) = tokio::net::TcpStream::connect(address).await else {
                return;
            };
            let (mut client_read, mut client_write) = client.into_split();
            let (mut server_read, mut server_write) = server.into_split();
            let hold_up = hold.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                while let Ok(n) = client_read.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    if buf[0] == b'B' && armed.swap(false, Ordering::SeqCst) {
                        hold_up.store(true, Ordering::SeqCst);
                    }
                    if server_write.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
            let mut buf = vec![0u8; 64 * 1024];
            while let Ok(n) = server_read.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                while hold.load(Ordering::SeqCst) {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                if client_write.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        });
    }
}

/// A revocation whose call is dropped after the server committed it but before its reply
/// was read (a caller's timeout) still makes this store's cache stale: with no watch
/// (`auth_poll_interval = 0`) and a 1 h TTL, nothing else would. PostgreSQL only: the
/// server's reply is held back by a proxy (SQLite runs the statement in-process, with no
/// such window to hold open). Failed on the old code (invalidation after the `.await`):
/// the revoked key was served from the cache.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_revocation_dropped_after_commit_still_invalidates() -> eyre::Result<()> {
    use std::sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    };
    let db = TestDb::<pierre_store::Postgres>::new_as_app_role().await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let proxy = listener.local_addr()?;
    let armed = Arc::new(AtomicBool::new(false));
    let hold = Arc::new(AtomicBool::new(false));
    let forwarder = tokio::spawn(holding_forward(listener, armed.clone(), hold.clone()));
    let mut url = url::Url::parse(&db.url)?;
    url.set_port(Some(proxy.port()))
        .map_err(|()| eyre::eyre!("no port"))?;
    url.query_pairs_mut().append_pair("sslmode", "disable");
    let mut config = StoreConfig::new(url.as_str(), db.key.clone());
    config.auth_poll_interval = Duration::ZERO;
    config.auth_cache_ttl = Duration::from_secs(3600);
    // One connection, on which the revocation's statement is already prepared: the held
    // call then sends its whole statement at once and only its reply is held.
    config.max_connections = 1;
    let store = Store::<pierre_store::Postgres>::connect(config).await?;
    let owner = user(&db, "c@example.com").await?;
    let (warm, _) = db
        .store
        .issue_api_key(owner, "warm", ApiKeyTier::Trial, vec![], None)
        .await?;
    store.revoke_api_key(warm.id).await?;
    let (key, plaintext) = db
        .store
        .issue_api_key(owner, "k", ApiKeyTier::Trial, vec![], None)
        .await?;
    assert!(store.authenticate_api_key(&plaintext).await?.is_some());
    armed.store(true, Ordering::SeqCst);
    let dropped =
        tokio::time::timeout(Duration::from_millis(500), store.revoke_api_key(key.id)).await;
    assert!(dropped.is_err(), "the reply was held: the call timed out");
    assert!(
        hold.load(Ordering::SeqCst),
        "the statement's reply was the one held"
    );
    // Committed on the server (the other store sees it through the database).
    let seen = refused_within(&db.store, &plaintext, Duration::from_secs(2)).await?;
    println!("revocation committed; another store refused after {seen:?}");
    hold.store(false, Ordering::SeqCst);
    let after = store.authenticate_api_key(&plaintext).await?;
    println!("authenticate after the dropped revoke_api_key: {after:?}");
    assert!(after.is_none());
    store.close().await;
    forwarder.abort();
    Ok(())
}

/// PostgreSQL: a notification drops the cache even when the counter reads a value already
/// seen (moved back, as a restore of an older dump does), and `TRUNCATE` is signalled.
/// TTL 1 h: only the signals can make the 1 s bounds. Failed on the old code at the first
/// bound (`still accepted 1s after the revocation`): the watch compared the counter only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_counter_moved_back_and_truncate_are_seen() -> eyre::Result<()> {
    use sqlx::{Connection, PgConnection};
    let db = TestDb::<pierre_store::Postgres>::new_as_app_role().await?;
    let store = store_with(&db, |config| {
        config.auth_cache_ttl = Duration::from_secs(3600);
    })
    .await?;
    let owner = user(&db, "aba@example.com").await?;
    let (key, plaintext) = db
        .store
        .issue_api_key(owner, "k", ApiKeyTier::Trial, vec![], None)
        .await?;
    // Let the watch start and read the counter (its first read drops the cache), then
    // cache the key.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(store.authenticate_api_key(&plaintext).await?.is_some());
    let mut admin = PgConnection::connect(&db.admin_url()).await?;
    sqlx::query("UPDATE auth_changes SET counter = counter - 1 WHERE id = 1")
        .execute(&mut admin)
        .await?;
    sqlx::query("UPDATE api_keys SET is_active = false WHERE id = $1")
        .bind(key.id.into_inner())
        .execute(&mut admin)
        .await?;
    let seen = refused_within(&store, &plaintext, Duration::from_secs(1)).await?;
    println!("revoked onto a counter value already seen: refused after {seen:?}");

    let (_, plaintext) = db
        .store
        .issue_api_key(owner, "t", ApiKeyTier::Trial, vec![], None)
        .await?;
    assert!(store.authenticate_api_key(&plaintext).await?.is_some());
    sqlx::query("TRUNCATE api_keys CASCADE")
        .execute(&mut admin)
        .await?;
    let seen = refused_within(&store, &plaintext, Duration::from_secs(1)).await?;
    println!("TRUNCATE api_keys: refused after {seen:?}");
    store.close().await;
    Ok(())
}

/// With the `auth_changes` row deleted, a credential change fails (the trigger raises)
/// and changes nothing, instead of going unseen by every other store. Failed on the old
/// code: `revoke_api_key` returned `Ok(())` with no counter to bump.
async fn a_missing_change_counter_row_fails_changes_loudly<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let owner = user(&db, "m@example.com").await?;
    let (key, plaintext) = db
        .store
        .issue_api_key(owner, "k", ApiKeyTier::Trial, vec![], None)
        .await?;
    B::raw_execute(&db.admin_url(), "DELETE FROM auth_changes").await?;
    let revoked = db.store.revoke_api_key(key.id).await;
    println!("revoke_api_key without the auth_changes row: {revoked:?}");
    let error = revoked.expect_err("the change fails");
    assert!(
        error.to_string().contains("auth_changes has no row 1"),
        "{error}"
    );
    assert!(
        db.store.authenticate_api_key(&plaintext).await?.is_some(),
        "nothing changed"
    );
    Ok(())
}

/// An update or delete that matches no row (an unknown id) does not move the change
/// counter, so it does not empty every store's cache. Failed on the old PostgreSQL code
/// (statement-level triggers bumped it anyway: `left: 0, right: 1`); SQLite's triggers
/// were always per row, so it passed there before too.
async fn statements_that_match_no_row_do_not_move_the_change_counter<B: TestBackend>()
-> eyre::Result<()> {
    // `UPDATE ... SET id = 1 WHERE counter = 0` matches 1 row while the counter is 0.
    const COUNTER_IS_ZERO: &str = "UPDATE auth_changes SET id = 1 WHERE counter = 0";
    let db = TestDb::<B>::new().await?;
    let owner = user(&db, "none@example.com").await?;
    db.store
        .issue_api_key(owner, "k", ApiKeyTier::Trial, vec![], None)
        .await?;
    assert_eq!(B::raw_execute(&db.admin_url(), COUNTER_IS_ZERO).await?, 1);
    for statement in [
        "UPDATE api_keys SET is_active = false WHERE name = 'no such key'",
        "DELETE FROM api_keys WHERE name = 'no such key'",
        "UPDATE users SET status = 'suspended' WHERE email = 'nobody@example.com'",
        "DELETE FROM a2a_clients WHERE name = 'no such client'",
    ] {
        assert_eq!(B::raw_execute(&db.admin_url(), statement).await?, 0);
        assert_eq!(
            B::raw_execute(&db.admin_url(), COUNTER_IS_ZERO).await?,
            1,
            "{statement} moved the counter"
        );
    }
    Ok(())
}

/// A rename that only adds a trailing space is a change: MySQL's PAD SPACE collation
/// compares `key` and `key ` as equal, so its triggers compare the bytes.
async fn renaming_a_key_to_add_a_trailing_space_bumps_auth_changes<B: TestBackend>()
-> eyre::Result<()> {
    const COUNTER: &str = "SELECT counter FROM auth_changes WHERE id = 1";
    let db = TestDb::<B>::new().await?;
    let user = user(&db, "k@example.com").await?;
    let key = ApiKey::new(user, "key", "h", "p");
    db.store.create_api_key(&key).await?;
    let before = B::raw_i64(&db.admin_url(), COUNTER).await?;
    let update = ApiKeyUpdate {
        name: Some("key ".into()),
        ..ApiKeyUpdate::default()
    };
    assert_eq!(db.store.update_api_key(key.id, &update).await?.name, "key ");
    assert!(B::raw_i64(&db.admin_url(), COUNTER).await? > before);
    Ok(())
}
