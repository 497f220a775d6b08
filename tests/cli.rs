//! The `pierre-store` admin binary, run as a process on both backends.

mod common;

use std::{
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use common::{Cleanup, TestBackend};
use pierre_store::{ApiKeyUsage, EncryptionKey, OAuthProvider, Store, User};
use time::{Duration, OffsetDateTime};

backend_tests!(
    init_twice_changes_nothing_the_second_time,
    migrate_status_and_status_describe_the_database,
    backup_then_restore_brings_the_data_back,
    rotate_key_leaves_tokens_readable_with_the_new_key_only,
    rotate_key_says_what_a_failed_run_left_and_a_rerun_finishes,
    prune_usage_removes_old_rows_and_counts_them,
    a_wrong_key_is_a_clear_error,
    copy_moves_everything_to_the_other_backend,
);

/// A new, empty database (not migrated, no store holding it open) and a directory for key
/// files and backups.
struct Setup<B: TestBackend> {
    url: String,
    dir: tempfile::TempDir,
    _cleanup: Cleanup,
    _backend: std::marker::PhantomData<B>,
}

impl<B: TestBackend> Setup<B> {
    async fn new() -> eyre::Result<Self> {
        let (url, cleanup) = B::fresh_database().await?;
        Ok(Self {
            url,
            dir: tempfile::tempdir()?,
            _cleanup: cleanup,
            _backend: std::marker::PhantomData,
        })
    }

    fn key_path(&self) -> PathBuf {
        self.dir.path().join("keys/encryption.key")
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_with_key(&self.key_path(), args)
    }

    fn run_with_key(&self, key: &Path, args: &[&str]) -> Output {
        pierre_store_cmd()
            .arg("--database-url")
            .arg(&self.url)
            .arg("--key-path")
            .arg(key)
            .args(args)
            .output()
            .expect("the binary runs")
    }

    /// A store on the test database with the key the binary created.
    async fn store(&self) -> eyre::Result<Store<B>> {
        Ok(Store::<B>::new(&self.url, EncryptionKey::load(&self.key_path())?).await?)
    }
}

fn pierre_store_cmd() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pierre-store"));
    cmd.env_remove("DATABASE_URL")
        .env_remove("DATABASE_ENCRYPTION_KEY")
        .env_remove("DATABASE_ENCRYPTION_KEY_PATH")
        .env_remove("RUST_BACKTRACE");
    cmd
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[track_caller]
fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        stderr(&out),
        stdout(&out)
    );
    stdout(&out)
}

/// A failure must be one `error:` line, no panic, no backtrace.
#[track_caller]
fn failed(out: Output) -> String {
    assert!(
        !out.status.success(),
        "unexpected success: {}",
        stdout(&out)
    );
    let err = stderr(&out);
    assert!(err.starts_with("error: "), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
    err
}

async fn init_twice_changes_nothing_the_second_time<B: TestBackend>() -> eyre::Result<()> {
    let s = Setup::<B>::new().await?;
    let first = ok(s.run(&["init"]));
    assert!(
        first.contains("created, mode 0600") && first.contains("schema:    created"),
        "{first}"
    );
    let key = std::fs::read(s.key_path())?;
    assert_eq!(
        std::fs::metadata(s.key_path())?.permissions().mode() & 0o777,
        0o600
    );

    let second = ok(s.run(&["init"]));
    assert!(
        second.contains("existing") && second.contains("nothing to do"),
        "{second}"
    );
    assert_eq!(std::fs::read(s.key_path())?, key, "key file untouched");
    assert!(s.store().await?.schema_version().await?.is_some());
    Ok(())
}

async fn migrate_status_and_status_describe_the_database<B: TestBackend>() -> eyre::Result<()> {
    let s = Setup::<B>::new().await?;
    ok(s.run(&["init"]));
    let version = s.store().await?.schema_version().await?.expect("migrated");
    let listed = ok(s.run(&["migrate", "--status"]));
    assert!(
        listed.contains(&version.to_string()) && listed.contains("applied"),
        "{listed}"
    );
    assert!(ok(s.run(&["migrate"])).contains("nothing to apply"));

    ok(s.run(&["demo"]));
    let status = ok(s.run(&["status"]));
    for expected in [
        format!("schema version: {version} (0 pending)"),
        "api_key_usage".into(),
        "20 rows".into(),
        "1 of 1 sealed with this key".into(),
        "max 10".into(),
    ] {
        assert!(
            status.contains(&expected),
            "{expected:?} missing from\n{status}"
        );
    }
    let quiet = ok(s.run(&["-q", "status"]));
    assert!(quiet.is_empty(), "{quiet}");
    Ok(())
}

async fn backup_then_restore_brings_the_data_back<B: TestBackend>() -> eyre::Result<()> {
    let s = Setup::<B>::new().await?;
    ok(s.run(&["init"]));
    ok(s.run(&["demo"]));
    let backup = s.dir.path().join("pierre.backup");
    let backup_arg = backup.to_string_lossy().into_owned();
    ok(s.run(&["backup", &backup_arg]));
    failed(s.run(&["backup", &backup_arg]));

    let before = {
        let store = s.store().await?;
        let counts = store.table_counts().await?.rows;
        store
            .create_user(&User::new("after-backup@example.com", "hash"))
            .await?;
        store.close().await;
        counts
    };
    ok(s.run(&["restore", &backup_arg]));

    let store = s.store().await?;
    assert_eq!(
        store.table_counts().await?.rows,
        before,
        "rows as they were at the backup"
    );
    assert!(
        store
            .get_user_by_email("after-backup@example.com")
            .await?
            .is_none()
    );
    let demo = store
        .get_user_by_email("demo@pierre.example")
        .await?
        .expect("demo user back");
    assert!(
        store
            .get_oauth_token(demo.id, OAuthProvider::Strava)
            .await?
            .is_some()
    );
    Ok(())
}

async fn rotate_key_leaves_tokens_readable_with_the_new_key_only<B: TestBackend>()
-> eyre::Result<()> {
    let s = Setup::<B>::new().await?;
    ok(s.run(&["init"]));
    ok(s.run(&["demo"]));
    let new_key_path = s.dir.path().join("keys/new.key");
    let new_key_arg = new_key_path.to_string_lossy().into_owned();

    // Servers first: without --servers-switched, the key is made and nothing re-encrypted.
    let first = s.run(&["rotate-key", "--new-key", &new_key_arg]);
    assert!(
        stdout(&first).contains("created new key file"),
        "{}",
        stdout(&first)
    );
    let err = failed(first);
    assert!(
        err.contains("--servers-switched") && err.contains("DATABASE_RETIRED_ENCRYPTION_KEYS"),
        "{err}"
    );
    let status = ok(s.run(&["status"]));
    assert!(status.contains("1 of 1 sealed with this key"), "{status}");
    // --servers-switched with a key that does not exist cannot be right.
    let err = failed(s.run(&[
        "rotate-key",
        "--new-key",
        &s.dir.path().join("absent.key").to_string_lossy(),
        "--servers-switched",
    ]));
    assert!(err.contains("does not exist"), "{err}");
    assert!(!s.dir.path().join("absent.key").exists());

    let report = ok(s.run(&[
        "rotate-key",
        "--new-key",
        &new_key_arg,
        "--servers-switched",
    ]));
    assert!(
        report.contains("1 re-encrypted") && report.contains("0 failed"),
        "{report}"
    );
    assert!(report.contains("complete: all 1 tokens"), "{report}");

    let new_key = EncryptionKey::load(&new_key_path)?;
    let with_new = Store::<B>::new(&s.url, new_key).await?;
    let demo = with_new
        .get_user_by_email("demo@pierre.example")
        .await?
        .expect("demo user");
    let token = with_new.get_strava_token(demo.id).await?.expect("token");
    assert_eq!(token.access_token, "demo-strava-access-token");
    assert!(
        s.store().await?.get_strava_token(demo.id).await.is_err(),
        "old key no longer opens it"
    );

    let status = ok(s.run_with_key(&new_key_path, &["status"]));
    assert!(status.contains("1 of 1 sealed with this key"), "{status}");
    let again = ok(s.run_with_key(
        &new_key_path,
        &[
            "rotate-key",
            "--new-key",
            &new_key_arg,
            "--servers-switched",
        ],
    ));
    assert!(
        again.contains("0 re-encrypted, 1 already under the new key"),
        "{again}"
    );
    Ok(())
}

/// A rotation that stops half-way says what it left (both keys in use) and how to finish;
/// running the same command again does.
async fn rotate_key_says_what_a_failed_run_left_and_a_rerun_finishes<B: TestBackend>()
-> eyre::Result<()> {
    let s = Setup::<B>::new().await?;
    ok(s.run(&["init"]));
    let store = s.store().await?;
    let mut users = Vec::new();
    for n in 0..4 {
        let user = store
            .create_user(&User::new(&format!("u{n}@example.com"), "hash"))
            .await?;
        store
            .update_strava_token(user, "a", "r", OffsetDateTime::now_utc(), "read".into())
            .await?;
        users.push(user.to_string());
    }
    store.close().await;
    let last = users.iter().max().expect("users");
    common::fail_token_updates::<B>(&s.url, last).await?;
    let new_key_path = s.dir.path().join("new.key");
    let new_key_arg = new_key_path.to_string_lossy().into_owned();
    let _ = s.run(&["rotate-key", "--new-key", &new_key_arg]);
    let rotate = [
        "rotate-key",
        "--new-key",
        &new_key_arg,
        "--servers-switched",
        "--batch-size",
        "1",
    ];
    let err = failed(s.run(&rotate));
    assert!(
        err.contains("stopped after 3 of 4 tokens")
            && err.contains("keep both keys")
            && err.contains("run the same command again")
            && err.contains("injected failure"),
        "{err}"
    );
    common::allow_token_updates::<B>(&s.url).await?;
    let done = ok(s.run(&rotate));
    assert!(
        done.contains("1 re-encrypted, 3 already under the new key")
            && done.contains("complete: all 4 tokens"),
        "{done}"
    );
    Ok(())
}

async fn prune_usage_removes_old_rows_and_counts_them<B: TestBackend>() -> eyre::Result<()> {
    let s = Setup::<B>::new().await?;
    ok(s.run(&["init"]));
    let store = s.store().await?;
    let user = store
        .create_user(&User::new("u@example.com", "hash"))
        .await?;
    let (key, _) = store
        .issue_api_key(user, "k", pierre_store::ApiKeyTier::Trial, vec![], None)
        .await?;
    let now = OffsetDateTime::now_utc();
    for days in [30, 20, 10, 1, 0] {
        let usage = ApiKeyUsage {
            timestamp: now - Duration::days(days),
            ..ApiKeyUsage::new(key.id, "/x", "GET", 200)
        };
        store.record_api_usage(&usage).await?;
    }
    let old_jwt = pierre_store::JwtUsage {
        timestamp: now - Duration::days(40),
        ..pierre_store::JwtUsage::new(user, "/x", "GET", 200)
    };
    store.record_jwt_usage(&old_jwt).await?;

    let out = ok(s.run(&["prune-usage", "--older-than", "7d", "--batch-size", "2"]));
    assert!(
        out.contains("removed 4 rows") && out.contains("3 api_key_usage, 1 jwt_usage"),
        "{out}"
    );
    assert_eq!(store.get_usage_stats(user).await?.total_requests, 2);
    assert!(ok(s.run(&["prune-usage", "--older-than", "7d"])).contains("removed 0 rows"));

    let bad = s.run(&["prune-usage", "--older-than", "7 fortnights"]);
    assert!(
        !bad.status.success() && stderr(&bad).contains("unit"),
        "{}",
        stderr(&bad)
    );
    Ok(())
}

async fn a_wrong_key_is_a_clear_error<B: TestBackend>() -> eyre::Result<()> {
    let s = Setup::<B>::new().await?;
    ok(s.run(&["init"]));
    ok(s.run(&["demo"]));
    let wrong = s.dir.path().join("wrong.key");
    let wrong_id = EncryptionKey::load_or_create(&wrong)?.id();
    let right_id = EncryptionKey::load(&s.key_path())?.id();
    let err = failed(s.run_with_key(&wrong, &["demo"]));
    // Which key the token needs, and which is loaded: ids only.
    assert!(
        err.contains("cannot decrypt")
            && err.contains(&format!("sealed with key {right_id}"))
            && err.contains(&format!("loaded: {wrong_id}")),
        "{err}"
    );
    let status = ok(s.run_with_key(&wrong, &["status"]));
    assert!(
        status.contains("0 of 1 sealed with this key") && status.contains("warning"),
        "{status}"
    );

    let err = failed(s.run_with_key(&s.dir.path().join("missing.key"), &["status"]));
    assert!(err.contains("does not exist"), "{err}");
    Ok(())
}

#[test]
fn a_bad_url_scheme_is_a_clear_error() {
    let out = pierre_store_cmd()
        .args(["--database-url", "mysql://root@localhost/db", "status"])
        .output()
        .expect("runs");
    let err = failed(out);
    assert!(
        err.contains("unsupported database URL") && err.contains("sqlite:"),
        "{err}"
    );
}

#[tokio::test]
async fn sqlite_restore_refuses_while_the_database_is_open() -> eyre::Result<()> {
    let s = Setup::<pierre_store::Sqlite>::new().await?;
    ok(s.run(&["init"]));
    let backup = s.dir.path().join("copy.db");
    ok(s.run(&["backup", &backup.to_string_lossy()]));
    let holder = s.store().await?;
    holder
        .create_user(&User::new("held@example.com", "hash"))
        .await?;
    let err = failed(s.run(&["restore", &backup.to_string_lossy()]));
    assert!(err.contains("in use"), "{err}");
    assert!(
        holder
            .get_user_by_email("held@example.com")
            .await?
            .is_some(),
        "live data untouched"
    );
    holder.close().await;
    ok(s.run(&["restore", &backup.to_string_lossy()]));

    let garbage = s.dir.path().join("garbage.db");
    std::fs::write(&garbage, b"not a database at all, just some bytes")?;
    failed(s.run(&["restore", &garbage.to_string_lossy()]));
    Ok(())
}

async fn copy_moves_everything_to_the_other_backend<B: TestBackend>() -> eyre::Result<()> {
    let s = Setup::<B>::new().await?;
    ok(s.run(&["init"]));
    ok(s.run(&["demo"]));
    let (to, _cleanup) = <B::Other as TestBackend>::fresh_database().await?;
    let printed = ok(s.run(&["copy", "--to", &to]));
    assert!(
        printed.contains("api_key_usage") && printed.contains("copied into"),
        "{printed}"
    );

    let source = s.store().await?;
    let target = Store::<B::Other>::new(&to, EncryptionKey::load(&s.key_path())?).await?;
    let counts = target.table_counts().await?.rows;
    assert_eq!(counts, source.table_counts().await?.rows);
    assert!(
        counts.iter().filter(|(_, n)| *n > 0).count() >= 7,
        "the demo fills all tables but a2a_clients: {counts:?}"
    );
    let demo = target
        .get_user_by_email("demo@pierre.example")
        .await?
        .expect("demo user copied");
    let token = target
        .get_strava_token(demo.id)
        .await?
        .expect("token copied");
    assert_eq!(token.access_token, "demo-strava-access-token");
    target.close().await;

    let again = failed(s.run(&["copy", "--to", &to]));
    assert!(again.contains("not empty"), "{again}");
    Ok(())
}
