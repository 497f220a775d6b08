//! The `pierre-store` admin binary, run as a process on both backends.

mod common;

use std::{
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

use common::{
    Cleanup, PerBackend, RawSql, TestBackend, database_exists, missing_database_url, raw_counts,
    seed_tenants, usage_partitions,
};
use pierre_store::{
    ApiKeyUsage, EncryptionKey, MySql, OAuthProvider, Postgres, Sqlite, Store, User,
};
use time::{Duration, OffsetDateTime};

backend_tests!(
    init_twice_changes_nothing_the_second_time,
    migrate_status_and_status_describe_the_database,
    backup_then_restore_brings_the_data_back,
    rotate_key_leaves_tokens_readable_with_the_new_key_only,
    rotate_key_says_what_a_failed_run_left_and_a_rerun_finishes,
    prune_usage_removes_old_rows_and_counts_them,
    a_wrong_key_is_a_clear_error,
    demo_refuses_a_database_with_other_users_unless_forced,
    demo_twice_like_make_run_gives_a_random_password_once,
    output_into_a_closed_pipe_ends_quietly,
    migrate_to_refuses_unknown_versions_and_prints_no_debug_forms,
    read_only_commands_create_no_database,
    backup_replace_swaps_in_a_complete_backup,
    demo_replaces_the_fixed_password_of_earlier_releases,
    maintain_and_backup_restore_keep_usage_partitions,
    database_read_urls_in_the_environment_are_ignored,
    ; to_each_other: copy_moves_everything_to_the_other_backend,
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
        Self::with(B::fresh_database().await?)
    }

    /// On PostgreSQL, a database owned by an ordinary role, reached as that role: the set-up
    /// the README recommends for production.
    async fn new_as_app_role() -> eyre::Result<Self> {
        Self::with(B::fresh_database_as_app_role().await?)
    }

    fn with((url, cleanup): (String, Cleanup)) -> eyre::Result<Self> {
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

    /// A URL that sees every row: the superuser's on PostgreSQL.
    fn admin_url(&self) -> &str {
        self._cleanup.admin_url().unwrap_or(&self.url)
    }

    fn run_with_key(&self, key: &Path, args: &[&str]) -> Output {
        self.command_with_key(key, args)
            .output()
            .expect("the binary runs")
    }

    fn command_with_key(&self, key: &Path, args: &[&str]) -> Command {
        let mut cmd = pierre_store_cmd();
        cmd.current_dir(self.dir.path())
            .arg("--database-url")
            .arg(&self.url)
            .arg("--key-path")
            .arg(key)
            .args(args);
        cmd
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

/// Users are never shown Rust `Debug` forms such as `Some(..)` or `None`.
#[track_caller]
fn no_debug_forms(text: &str) {
    assert!(
        !text.contains("Some(") && !text.contains("None"),
        "a Debug form in the output: {text}"
    );
}

#[track_caller]
fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        stderr(&out),
        stdout(&out)
    );
    no_debug_forms(&stdout(&out));
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
    no_debug_forms(&err);
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

/// Backups and restores as the role the README recommends (on PostgreSQL an ordinary
/// owner, bound by row-level security), with activities in two tenants: `status` counts
/// every row, a failed backup leaves nothing at its path, a backup is private (0600) and
/// never replaces a file, and restoring it (into a new database, and over the live one)
/// brings back every row of every table, as a superuser counts them.
async fn backup_then_restore_brings_the_data_back<B: TestBackend>() -> eyre::Result<()> {
    let s = Setup::<B>::new_as_app_role().await?;
    ok(s.run(&["init"]));
    ok(s.run(&["demo"]));
    {
        let store = s.store().await?;
        seed_tenants(&store, "second@example.com", &[("second", 2)]).await?;
        store.close().await;
    }
    let source = raw_counts::<B>(s.admin_url()).await?;
    let activities = source
        .iter()
        .find(|(table, _)| *table == "activities")
        .map_or(0, |(_, n)| *n);
    assert!(activities > 2, "activities in both tenants: {source:?}");
    let status = ok(s.run(&["status"]));
    let line = format!("  {:<18} {:>10} rows", "activities", activities);
    assert!(status.contains(&line), "{line:?} missing from\n{status}");

    // A path that starts with a dash, relative to the working directory.
    let backup = s.dir.path().join("-pierre.backup");
    if s._cleanup.admin_url().is_some() {
        // Something the dump cannot read makes it fail part-way: on PostgreSQL a table the
        // app role may not read; on MySQL, where the app user may read everything in its
        // database, a view whose table is gone.
        let (break_it, repair): (&[&'static str], &'static str) = B::of(PerBackend {
            sqlite: (&[][..], ""),
            postgres: (
                &["CREATE TABLE zz_not_yours (x integer)"],
                "DROP TABLE zz_not_yours",
            ),
            mysql: (
                &[
                    "CREATE TABLE zz_gone (x integer)",
                    "CREATE VIEW zz_not_yours AS SELECT x FROM zz_gone",
                    "DROP TABLE zz_gone",
                ],
                "DROP VIEW zz_not_yours",
            ),
        });
        for statement in break_it {
            B::raw_execute(s.admin_url(), statement).await?;
        }
        failed(s.run(&["backup", "--", "-pierre.backup"]));
        assert!(
            !backup.exists(),
            "a failed backup leaves nothing at its path"
        );
        B::raw_execute(s.admin_url(), repair).await?;
    }
    ok(s.run(&["backup", "--", "-pierre.backup"]));
    assert_eq!(
        format!(
            "{:o}",
            std::fs::metadata(&backup)?.permissions().mode() & 0o777
        ),
        "600",
        "a backup is readable by its owner only"
    );
    let written = std::fs::read(&backup)?;
    failed(s.run(&["backup", "--", "-pierre.backup"]));
    assert_eq!(
        std::fs::read(&backup)?,
        written,
        "an existing file is left alone"
    );
    let mut names: Vec<_> = std::fs::read_dir(s.dir.path())?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()?;
    names.retain(|n| n != "keys" && !n.starts_with("pierre.db"));
    assert_eq!(names, ["-pierre.backup"], "no stray files");

    // Into a new database, as its own ordinary role.
    let other = Setup::<B>::new_as_app_role().await?;
    let restored = pierre_store_cmd()
        .current_dir(s.dir.path())
        .args(["--database-url", &other.url, "--key-path"])
        .arg(s.key_path())
        .args(["restore", "--", "-pierre.backup"])
        .output()?;
    ok(restored);
    assert_eq!(
        raw_counts::<B>(other.admin_url()).await?,
        source,
        "every row of every table in the restored database"
    );

    // Over the live database, which has moved on since.
    {
        let store = s.store().await?;
        store
            .create_user(&User::new("after-backup@example.com", "hash"))
            .await?;
        store.close().await;
    }
    ok(s.run(&["restore", "--", "-pierre.backup"]));
    assert_eq!(raw_counts::<B>(s.admin_url()).await?, source);
    let store = s.store().await?;
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
    let old_key = EncryptionKey::load(&s.key_path())?;
    let new_key = EncryptionKey::load(&new_key_path)?;
    let retire = |id| format!("key {id} can now leave");
    assert!(
        report.contains(&retire(old_key.id())) && !report.contains(&retire(new_key.id())),
        "names the old key, never the new one, as the one to retire: {report}"
    );

    let with_new = Store::<B>::new(&s.url, new_key.clone()).await?;
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
        again.contains("0 re-encrypted, 1 already under it"),
        "{again}"
    );
    assert!(
        again.contains("no other key was loaded") && !again.contains("be deleted"),
        "{again}"
    );
    // With the servers' environment (the new key active, the old one retired), the old
    // key is the one to retire, never the active one.
    let in_server_env = s
        .command_with_key(
            &new_key_path,
            &[
                "rotate-key",
                "--new-key",
                &new_key_arg,
                "--servers-switched",
            ],
        )
        .env(
            "DATABASE_RETIRED_ENCRYPTION_KEYS",
            old_key.to_base64().as_str(),
        )
        .output()?;
    let in_server_env = ok(in_server_env);
    assert!(
        in_server_env.contains(&retire(old_key.id()))
            && !in_server_env.contains(&retire(new_key.id())),
        "{in_server_env}"
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
        done.contains("1 re-encrypted, 3 already under it")
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
        .args(["--database-url", "oracle://scott@localhost/db", "status"])
        .output()
        .expect("runs");
    let err = failed(out);
    assert!(
        err.contains("unsupported database URL")
            && err.contains("sqlite:")
            && err.contains("mysql:"),
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

async fn copy_moves_everything_to_the_other_backend<A: TestBackend, B: TestBackend>()
-> eyre::Result<()> {
    let s = Setup::<A>::new().await?;
    ok(s.run(&["init"]));
    ok(s.run(&["demo"]));
    let (to, _cleanup) = B::fresh_database().await?;
    // The target URL from the environment, so that its password stays out of `ps`.
    let printed = ok(pierre_store_cmd()
        .env("COPY_TO_DATABASE_URL", &to)
        .args(["--database-url", &s.url, "--key-path"])
        .arg(s.key_path())
        .arg("copy")
        .output()?);
    assert!(
        printed.contains("api_key_usage") && printed.contains("copied into"),
        "{printed}"
    );

    let source = s.store().await?;
    let target = Store::<B>::new(&to, EncryptionKey::load(&s.key_path())?).await?;
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

/// A nightly job writing to one name: a second `backup` onto it is refused and keeps the
/// first; with `--replace` the new backup takes its place whole, and restores.
async fn backup_replace_swaps_in_a_complete_backup<B: TestBackend>() -> eyre::Result<()> {
    let s = Setup::<B>::new().await?;
    ok(s.run(&["init"]));
    ok(s.run(&["demo"]));
    ok(s.run(&["backup", "nightly.backup"]));
    let store = s.store().await?;
    store
        .create_user(&User::new("tuesday@example.com", "hash"))
        .await?;
    let err = failed(s.run(&["backup", "nightly.backup"]));
    assert!(err.contains("already exists"), "{err}");
    ok(s.run(&["backup", "--replace", "nightly.backup"]));
    let backup = s.dir.path().join("nightly.backup");
    assert_eq!(
        std::fs::metadata(&backup)?.permissions().mode() & 0o777,
        0o600
    );
    let leftovers: Vec<_> = std::fs::read_dir(s.dir.path())?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(".nightly"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "no temporary file left: {leftovers:?}"
    );
    store.close().await;
    ok(s.run(&["restore", "nightly.backup"]));
    let store = s.store().await?;
    assert!(
        store
            .get_user_by_email("tuesday@example.com")
            .await?
            .is_some(),
        "the newer backup was restored"
    );
    Ok(())
}

/// A database seeded by an earlier `demo` has an active account whose password was fixed
/// and public: `demo` refuses to show it as if all were well, and `--force` replaces it by
/// a fresh seed with a random password.
async fn demo_replaces_the_fixed_password_of_earlier_releases<B: TestBackend>() -> eyre::Result<()>
{
    let s = Setup::<B>::new().await?;
    ok(s.run(&["init"]));
    let store = s.store().await?;
    let mut old = User::new(
        "demo@pierre.example",
        &pierre_store::password::hash("demo password").await?,
    );
    old.status = pierre_store::UserStatus::Active;
    let old_id = store.create_user(&old).await?;
    store
        .create_tenant(&pierre_store::Tenant::new(
            "Demo running club",
            "demo-club",
            old_id,
        ))
        .await?;

    let err = failed(s.run(&["demo"]));
    assert!(
        err.contains("demo password") && err.contains("--force"),
        "{err}"
    );
    assert!(
        store
            .verify_user_password("demo@pierre.example", "demo password")
            .await?
            .is_some(),
        "refused: nothing changed"
    );
    let out = ok(s.run(&["demo", "--force"]));
    let password = printed_password(&out).expect("a new password, printed once");
    assert!(
        store
            .verify_user_password("demo@pierre.example", "demo password")
            .await?
            .is_none(),
        "the fixed password no longer opens the account"
    );
    assert!(
        store
            .verify_user_password("demo@pierre.example", &password)
            .await?
            .is_some(),
        "{out}"
    );
    Ok(())
}

/// Puts a bash script named after each of `tools` in `<dir>/bin`, running `body` with
/// `$REAL` set to the real tool's path; returns that directory and a `PATH` value that
/// finds the wrappers first.
fn wrap_tools(dir: &Path, tools: &[&str], body: &str) -> eyre::Result<(PathBuf, String)> {
    let bin = dir.join("bin");
    std::fs::create_dir(&bin)?;
    let path = std::env::var("PATH").unwrap_or_default();
    for tool in tools {
        let real = std::env::split_paths(&path)
            .map(|dir| dir.join(tool))
            .find(|candidate| candidate.is_file())
            .expect("the database client tools are installed");
        let wrapper = bin.join(tool);
        std::fs::write(
            &wrapper,
            format!("#!/bin/bash\nREAL='{}'\n{body}\n", real.display()),
        )?;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755))?;
    }
    let path = format!("{}:{path}", bin.display());
    Ok((bin, path))
}

/// A PostgreSQL backup never keeps a dump that lost the activities to row-level security:
/// not on a database from before the policy that lets backups read every tenant (pg_dump's
/// own error, nothing written), nor when that policy is missing (an archive with no
/// activities while the database has some is refused, nothing written).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_backups_never_keep_a_dump_missing_activities() -> eyre::Result<()> {
    // A database at the schema of the previous release, as the app role.
    let s = Setup::<Postgres>::new_as_app_role().await?;
    let key = EncryptionKey::load_or_create(&s.key_path())?;
    let old = Store::<Postgres>::new(&s.url, key).await?;
    old.migrate_to(20_261_130_000_002).await?;
    let owner = old
        .create_user(&User::new("owner@example.com", "hash"))
        .await?;
    for slug in ["a", "b"] {
        old.create_tenant(&pierre_store::Tenant::new(slug, slug, owner))
            .await?;
    }
    old.close().await;
    // Activities by that release's column names (today's store writes `type`).
    Postgres::raw_execute(
        s.admin_url(),
        "INSERT INTO activities (id, tenant_id, user_id, name, activity_type, distance,
            duration, start_date, created_at, updated_at)
         SELECT gen_random_uuid(), id, owner_user_id, 'Run', 'run', 1.0, 60, now(), now(), now()
         FROM tenants, generate_series(1, 3) AS g(n)
         WHERE n <= CASE slug WHEN 'a' THEN 3 ELSE 2 END",
    )
    .await?;
    let err = failed(s.run(&["backup", "old.backup"]));
    assert!(err.contains("row-level security"), "{err}");
    assert!(!s.dir.path().join("old.backup").exists(), "nothing written");

    // Migrated, but pg_dump's session loses the `options` parameter on the way, as a
    // pooler may drop it (a wrapper strips it from the URL).
    ok(s.run(&["migrate"]));
    let strip_options = r#"args=()
for a in "$@"; do args+=("$(printf '%s' "$a" | sed -E 's/[?&]options=[^&]*//')"); done
exec "$REAL" "${args[@]}""#;
    let (_, path) = wrap_tools(s.dir.path(), &["pg_dump"], strip_options)?;
    let stripped = s
        .command_with_key(&s.key_path(), &["backup", "new.backup"])
        .env("PATH", &path)
        .output()?;
    let err = failed(stripped);
    assert!(
        err.contains("holds no activities although the database has 5"),
        "{err}"
    );
    assert!(!s.dir.path().join("new.backup").exists(), "nothing written");
    ok(s.run(&["backup", "new.backup"]));
    Ok(())
}

/// The password of a PostgreSQL URL, in whichever form sqlx accepts it (here a `password`
/// query parameter among others), appears neither in `status` output nor on the command
/// line of `pg_dump` / `pg_restore` (which other local users can read in `ps`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_passwords_stay_off_screens_and_command_lines() -> eyre::Result<()> {
    let s = Setup::<Postgres>::new_as_app_role().await?;
    let (userinfo_form, query) = s.url.split_once('?').unwrap_or((&s.url, ""));
    let (before_password, after_password) = userinfo_form
        .split_once(":app-password@")
        .expect("the harness URL has the password in its userinfo");
    let mut url = format!(
        "{before_password}@{after_password}?application_name=pierre-admin&password=app-password"
    );
    if !query.is_empty() {
        url = format!("{url}&{query}");
    }

    // Wrappers that log their command lines, then run the real tools.
    let log = s.dir.path().join("argv.log");
    let log_argv = format!(
        "echo \"$0 $*\" >> '{}'\nexec \"$REAL\" \"$@\"",
        log.display()
    );
    let (bin, path) = wrap_tools(s.dir.path(), &["pg_dump", "pg_restore"], &log_argv)?;
    let run = |args: &[&str]| {
        pierre_store_cmd()
            .current_dir(s.dir.path())
            .env("PATH", format!("{}:{path}", bin.display()))
            .env("DATABASE_URL", &url)
            .arg("--key-path")
            .arg(s.key_path())
            .args(args)
            .output()
            .expect("the binary runs")
    };
    ok(run(&["init"]));
    let status = run(&["-v", "status"]);
    let shown = format!("{}{}", stdout(&status), stderr(&status));
    assert!(status.status.success(), "{shown}");
    assert!(
        !shown.contains("app-password") && shown.contains("password=[redacted]"),
        "{shown}"
    );
    ok(run(&["backup", "pierre.backup"]));
    ok(run(&["restore", "pierre.backup"]));
    let argv = std::fs::read_to_string(&log)?;
    assert_eq!(argv.lines().count(), 3, "dump, check, restore: {argv}");
    assert!(!argv.contains("app-password"), "{argv}");
    Ok(())
}

/// The password of a MySQL URL (percent-encoded, with characters an option file must
/// escape) appears neither in `status` output nor on the command lines of the client
/// tools: they read it from an option file that only its owner can read (0600, named by
/// the first argument) and that is gone once the command ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_passwords_stay_off_screens_and_command_lines() -> eyre::Result<()> {
    let s = Setup::<MySql>::new_as_app_role().await?;
    // The password `app-pa\ss "#1`: a backslash, a space, a quote and a comment sign.
    let user = url::Url::parse(&s.url)?.username().to_owned();
    MySql::raw_execute(
        s.admin_url(),
        Box::leak(
            format!("ALTER USER '{user}'@'%' IDENTIFIED BY 'app-pa\\\\ss \"#1'").into_boxed_str(),
        ),
    )
    .await?;
    let url = s.url.replace(":app-password@", ":app-pa%5Css%20%22%231@");
    assert_ne!(url, s.url);

    // Wrappers that log their command lines and their option file's mode.
    let log = s.dir.path().join("argv.log");
    let log_argv = format!(
        "echo \"$0 $* $(stat -c %a \"${{1#--defaults-file=}}\")\" >> '{}'\nexec \"$REAL\" \"$@\"",
        log.display()
    );
    let (bin, path) = wrap_tools(s.dir.path(), &["mariadb-dump", "mariadb"], &log_argv)?;
    let tmp = s.dir.path().join("tmp");
    std::fs::create_dir(&tmp)?;
    let run = |args: &[&str]| {
        pierre_store_cmd()
            .current_dir(s.dir.path())
            .env("PATH", format!("{}:{path}", bin.display()))
            .env("TMPDIR", &tmp)
            .env("DATABASE_URL", &url)
            .arg("--key-path")
            .arg(s.key_path())
            .args(args)
            .output()
            .expect("the binary runs")
    };
    ok(run(&["init"]));
    ok(run(&["demo"]));
    let status = run(&["-v", "status"]);
    let shown = format!("{}{}", stdout(&status), stderr(&status));
    assert!(status.status.success(), "{shown}");
    assert!(
        !shown.contains("app-pa") && shown.contains(":[redacted]@"),
        "{shown}"
    );
    ok(run(&["backup", "pierre.backup"]));
    ok(run(&["restore", "pierre.backup"]));
    let argv = std::fs::read_to_string(&log)?;
    assert_eq!(argv.lines().count(), 3, "dump, list, restore: {argv}");
    for line in argv.lines() {
        assert!(
            line.contains(" --defaults-file=") && line.ends_with(" 600"),
            "the option file first, private: {line}"
        );
    }
    assert!(!argv.contains("app-pa"), "{argv}");
    assert_eq!(
        std::fs::read_dir(&tmp)?.count(),
        0,
        "the option files are removed"
    );
    let store = Store::<MySql>::new(&url, EncryptionKey::load(&s.key_path())?).await?;
    assert!(
        store
            .get_user_by_email("demo@pierre.example")
            .await?
            .is_some(),
        "restored"
    );
    Ok(())
}

/// A MySQL backup stopped by SIGTERM (a service manager, `timeout`) or SIGINT (Ctrl-C)
/// leaves no option file, password inside, behind in the temporary directory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_option_files_are_removed_when_a_backup_is_stopped() -> eyre::Result<()> {
    let s = Setup::<MySql>::new_as_app_role().await?;
    ok(s.run(&["init"]));
    let (_, path) = wrap_tools(s.dir.path(), &["mariadb-dump"], "sleep 30")?;
    let tmp = s.dir.path().join("tmp");
    std::fs::create_dir(&tmp)?;
    for signal in ["-TERM", "-INT"] {
        let mut backup = s
            .command_with_key(&s.key_path(), &["backup", "stopped.sql"])
            .env("PATH", &path)
            .env("TMPDIR", &tmp)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()?;
        let started = std::time::Instant::now();
        while std::fs::read_dir(&tmp)?.count() == 0 {
            assert!(started.elapsed().as_secs() < 20, "no option file written");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let killed = Command::new("kill")
            .args([signal, &backup.id().to_string()])
            .status()?;
        assert!(killed.success());
        assert!(!backup.wait()?.success(), "{signal}: the backup failed");
        assert_eq!(
            std::fs::read_dir(&tmp)?.count(),
            0,
            "{signal}: the option file is removed"
        );
        assert!(!s.dir.path().join("stopped.sql").exists());
    }
    Ok(())
}

/// A MySQL restore refuses a file that is not a complete dump before changing anything,
/// and a dump that fails part-way (MySQL cannot roll back what it already replaced) says
/// that the database may be partly restored; the good backup then restores.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_restore_refuses_incomplete_dumps_and_says_when_it_failed_part_way()
-> eyre::Result<()> {
    let s = Setup::<MySql>::new_as_app_role().await?;
    ok(s.run(&["init"]));
    ok(s.run(&["demo"]));
    ok(s.run(&["backup", "good.sql"]));
    let counts = raw_counts::<MySql>(s.admin_url()).await?;
    let good = std::fs::read_to_string(s.dir.path().join("good.sql"))?;

    let (head, _) = good.split_at(good.len() / 2);
    std::fs::write(s.dir.path().join("cut.sql"), head)?;
    let err = failed(s.run(&["restore", "cut.sql"]));
    assert!(
        err.contains("not a complete") && err.contains("nothing changed"),
        "{err}"
    );
    assert_eq!(raw_counts::<MySql>(s.admin_url()).await?, counts);

    let at = good
        .find("-- Table structure for table `users`")
        .expect("users");
    let broken = format!(
        "{}INSERT INTO zz_no_such_table VALUES (1);\n{}",
        &good[..at],
        &good[at..]
    );
    std::fs::write(s.dir.path().join("broken.sql"), broken)?;
    let err = failed(s.run(&["restore", "broken.sql"]));
    assert!(
        err.contains("partly restored")
            && err.contains("restore again")
            && err.contains("zz_no_such_table"),
        "{err}"
    );

    ok(s.run(&["restore", "good.sql"]));
    assert_eq!(raw_counts::<MySql>(s.admin_url()).await?, counts);
    Ok(())
}

/// A MySQL restore runs a dump's SQL only: a client command in it (`\\!` runs a shell
/// command as the restoring user) is refused, and a dump that switches to another database
/// (`mariadb-dump --databases` writes `CREATE DATABASE` and `USE`) is refused before
/// anything is dropped, instead of emptying this database and filling that one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_restore_runs_no_client_commands_and_stays_in_its_database() -> eyre::Result<()> {
    let s = Setup::<MySql>::new_as_app_role().await?;
    ok(s.run(&["init"]));
    ok(s.run(&["demo"]));
    ok(s.run(&["backup", "good.sql"]));
    let counts = raw_counts::<MySql>(s.admin_url()).await?;
    let good = std::fs::read_to_string(s.dir.path().join("good.sql"))?;
    let at = good
        .find("-- Table structure for table `users`")
        .expect("users");

    // Without the sandbox line recent `mariadb-dump`s begin with: a dump by hand, or by
    // `mysqldump` or an older `mariadb-dump`, has none.
    let (first, _) = good.split_once('\n').expect("lines");
    let unsandboxed = good[..at]
        .strip_prefix(first)
        .filter(|_| first.contains("sandbox"));
    let planted = s.dir.path().join("planted");
    let hostile = format!(
        "{}\\! touch {}\n{}",
        unsandboxed.unwrap_or(&good[..at]),
        planted.display(),
        &good[at..]
    );
    std::fs::write(s.dir.path().join("hostile.sql"), hostile)?;
    let _ = s.run(&["restore", "hostile.sql"]);
    assert!(!planted.exists(), "the dump ran a shell command");

    ok(s.run(&["restore", "good.sql"]));
    let elsewhere = format!(
        "{}CREATE DATABASE IF NOT EXISTS `pierre_elsewhere`;\nUSE `pierre_elsewhere`;\n{}",
        &good[..at],
        &good[at..]
    );
    std::fs::write(s.dir.path().join("elsewhere.sql"), elsewhere)?;
    let err = failed(s.run(&["restore", "elsewhere.sql"]));
    assert!(
        err.contains("another database") && err.contains("nothing changed"),
        "{err}"
    );
    assert_eq!(raw_counts::<MySql>(s.admin_url()).await?, counts);
    Ok(())
}

/// MySQL backups and restores connect as the URL says and nothing else does: a user's
/// `~/.my.cnf` (here one whose `no-data` would leave every row out of the backup, which
/// still ends with the completion line) changes neither.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_backups_ignore_the_users_option_files() -> eyre::Result<()> {
    let s = Setup::<MySql>::new_as_app_role().await?;
    ok(s.run(&["init"]));
    ok(s.run(&["demo"]));
    let home = s.dir.path().join("home");
    std::fs::create_dir(&home)?;
    std::fs::write(
        home.join(".my.cnf"),
        "[mariadb-dump]\nno-data\n[mysqldump]\nno-data\n",
    )?;
    let backup = s
        .command_with_key(&s.key_path(), &["backup", "home.sql"])
        .env("HOME", &home)
        .output()?;
    ok(backup);
    let dump = std::fs::read_to_string(s.dir.path().join("home.sql"))?;
    assert!(
        dump.contains("INSERT INTO `users`"),
        "no rows in the backup"
    );
    Ok(())
}

/// Where only the older names of the MySQL client tools are installed (`mysqldump`,
/// `mysql`), backups and restores use them; with neither, `backup` says what to install and
/// writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_backups_fall_back_to_mysqldump_and_mysql() -> eyre::Result<()> {
    let s = Setup::<MySql>::new().await?;
    ok(s.run(&["init"]));
    ok(s.run(&["demo"]));
    let counts = raw_counts::<MySql>(&s.url).await?;
    let log = s.dir.path().join("argv.log");
    let log_tool = format!("echo \"$0\" >> '{}'\nexec \"$REAL\" \"$@\"", log.display());
    // Only the wrappers on PATH: no mariadb-dump, no mariadb.
    let (bin, _) = wrap_tools(s.dir.path(), &["mysqldump", "mysql"], &log_tool)?;
    let run = |path: &Path, args: &[&str]| {
        s.command_with_key(&s.key_path(), args)
            .env("PATH", path)
            .output()
            .expect("the binary runs")
    };
    ok(run(&bin, &["backup", "old-names.sql"]));
    ok(run(&bin, &["restore", "old-names.sql"]));
    assert_eq!(raw_counts::<MySql>(&s.url).await?, counts);
    let tools: Vec<String> = std::fs::read_to_string(&log)?
        .lines()
        .filter_map(|l| Path::new(l).file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    assert_eq!(tools, ["mysqldump", "mysql", "mysql"]);

    let empty = s.dir.path().join("empty");
    std::fs::create_dir(&empty)?;
    let err = failed(run(&empty, &["backup", "none.sql"]));
    assert!(
        err.contains("neither mariadb-dump nor mysqldump is installed"),
        "{err}"
    );
    assert!(!s.dir.path().join("none.sql").exists(), "nothing written");
    Ok(())
}

/// SQLite to MySQL (as its app user) to PostgreSQL, through the binary's `copy`: every
/// row arrives at each step, the sealed tokens byte for byte, and they still decrypt at
/// the end with the key the SQLite database was made with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_sqlite_to_mysql_to_postgres_keeps_tokens_readable() -> eyre::Result<()> {
    let s = Setup::<Sqlite>::new().await?;
    ok(s.run(&["init"]));
    ok(s.run(&["demo"]));
    let (mysql, _mysql_cleanup) = MySql::fresh_database_as_app_role().await?;
    let (postgres, _postgres_cleanup) = Postgres::fresh_database().await?;
    for (from, to) in [(&s.url, &mysql), (&mysql, &postgres)] {
        let printed = ok(pierre_store_cmd()
            .env("COPY_TO_DATABASE_URL", to)
            .args(["--database-url", from, "--key-path"])
            .arg(s.key_path())
            .arg("copy")
            .output()?);
        assert!(printed.contains("copied into"), "{printed}");
        assert!(!printed.contains("app-password"), "{printed}");
    }

    let key = EncryptionKey::load(&s.key_path())?;
    let counts = raw_counts::<Sqlite>(&s.url).await?;
    assert_eq!(raw_counts::<MySql>(&mysql).await?, counts);
    assert_eq!(raw_counts::<Postgres>(&postgres).await?, counts);
    let tokens = Sqlite::raw_token_rows(&s.url).await?;
    assert!(!tokens.is_empty());
    assert_eq!(MySql::raw_token_rows(&mysql).await?, tokens);
    assert_eq!(Postgres::raw_token_rows(&postgres).await?, tokens);

    let target = Store::<Postgres>::new(&postgres, key).await?;
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
    Ok(())
}

async fn demo_refuses_a_database_with_other_users_unless_forced<B: TestBackend>() -> eyre::Result<()>
{
    let s = Setup::<B>::new().await?;
    ok(s.run(&["init"]));
    let store = s.store().await?;
    store
        .create_user(&User::new("someone@example.com", "hash"))
        .await?;
    let before = store.table_counts().await?.rows;

    let err = failed(s.run(&["demo"]));
    assert!(
        err.contains("1 user") && err.contains("--force"),
        "names the user count and the flag: {err}"
    );
    assert_eq!(store.table_counts().await?.rows, before, "nothing written");

    let forced = ok(s.run(&["demo", "--force"]));
    assert!(forced.contains("seeded"), "{forced}");
    let demo = store.get_user_by_email("demo@pierre.example").await?;
    assert!(demo.is_some(), "seeded with --force");
    assert_eq!(
        store.table_counts().await?.rows[0],
        ("users", 2),
        "someone and the demo user"
    );
    // Seeded already: a rerun only shows the data, so it needs no flag.
    assert!(ok(s.run(&["demo"])).contains("already present"));
    Ok(())
}

/// The password line `demo` prints when it seeds: `demo user password (shown once): PW`.
fn printed_password(out: &str) -> Option<String> {
    out.lines()
        .find_map(|l| l.strip_prefix("demo user password (shown once): "))
        .map(str::to_owned)
}

async fn demo_twice_like_make_run_gives_a_random_password_once<B: TestBackend>() -> eyre::Result<()>
{
    let s = Setup::<B>::new().await?;
    ok(s.run(&["init"]));
    let first = ok(s.run(&["demo"]));
    let password = printed_password(&first).expect("the password is printed once");
    assert!(password.len() >= 20, "a random password: {password}");
    ok(s.run(&["init"]));
    let second = ok(s.run(&["demo"]));
    assert!(second.contains("already present"), "{second}");
    assert_eq!(printed_password(&second), None, "printed only when seeded");

    let store = s.store().await?;
    assert!(
        store
            .verify_user_password("demo@pierre.example", &password)
            .await?
            .is_some(),
        "the printed password opens the demo account"
    );
    assert!(
        store
            .verify_user_password("demo@pierre.example", "demo password")
            .await?
            .is_none(),
        "the old fixed password does not"
    );

    // Another demo database gets another password.
    let other = Setup::<B>::new().await?;
    ok(other.run(&["init"]));
    assert_ne!(printed_password(&ok(other.run(&["demo"]))), Some(password));
    Ok(())
}

async fn output_into_a_closed_pipe_ends_quietly<B: TestBackend>() -> eyre::Result<()> {
    let s = Setup::<B>::new().await?;
    ok(s.run(&["init"]));
    for args in [
        &["demo"][..],
        &["migrate", "--status"],
        &["status"],
        &["-v", "status"],
    ] {
        let mut child = s
            .command_with_key(&s.key_path(), args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        // The reader goes away before the binary writes: every write meets a closed pipe.
        drop(child.stdout.take());
        let out = child.wait_with_output()?;
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{args:?}: status {:?}, stderr: {}",
            out.status,
            stderr(&out)
        );
    }
    assert!(
        s.store()
            .await?
            .get_user_by_email("demo@pierre.example")
            .await?
            .is_some(),
        "demo did its work although nobody read its output"
    );
    Ok(())
}

async fn migrate_to_refuses_unknown_versions_and_prints_no_debug_forms<B: TestBackend>()
-> eyre::Result<()> {
    let s = Setup::<B>::new().await?;
    let versions: Vec<String> = {
        let store = Store::<B>::new(&s.url, EncryptionKey::load_or_create(&s.key_path())?).await?;
        let versions: Vec<String> = store
            .migration_status()
            .await?
            .iter()
            .map(|m| m.version.to_string())
            .collect();
        store.migrate_to(versions[0].parse()?).await?;
        store.close().await;
        versions
    };
    assert!(versions.len() >= 3, "{versions:?}");

    let err = failed(s.run(&["migrate", "--to", "1"]));
    assert!(err.contains("no migration has version 1"), "{err}");
    for version in &versions {
        assert!(err.contains(version.as_str()), "lists {version}: {err}");
    }
    let stepped = ok(s.run(&["migrate", "--to", &versions[1]]));
    assert!(
        stepped.contains(&format!(
            "schema migrated from {} to {}",
            versions[0], versions[1]
        )),
        "{stepped}"
    );
    let behind = ok(s.run(&["migrate", "--to", &versions[0]]));
    assert!(
        behind.contains(&format!("already at version {}", versions[1])),
        "{behind}"
    );
    let last = versions.last().expect("versions");
    assert!(ok(s.run(&["migrate"])).contains(&format!("to {last}")));
    assert!(ok(s.run(&["migrate"])).contains(&format!("schema version {last}: nothing to apply")));
    Ok(())
}

async fn read_only_commands_create_no_database<B: TestBackend>() -> eyre::Result<()> {
    let s = Setup::<B>::new().await?;
    EncryptionKey::load_or_create(&s.key_path())?;
    let url = missing_database_url::<B>(s.dir.path());
    let backup = s.dir.path().join("backup");
    let copy_target = s.dir.path().join("copy-target.db");
    let copy_to = format!("sqlite:{}", copy_target.display());
    let new_key = s.dir.path().join("new.key");
    for args in [
        &["status"][..],
        &["migrate", "--status"],
        &["migrate"],
        &["migrate", "--to", "1"],
        &["backup", &backup.to_string_lossy()],
        &["demo"],
        &["prune-usage", "--older-than", "1d"],
        &["rotate-key", "--new-key", &new_key.to_string_lossy()],
        &["copy", "--to", &copy_to],
    ] {
        let out = pierre_store_cmd()
            .arg("--database-url")
            .arg(&url)
            .arg("--key-path")
            .arg(s.key_path())
            .args(args)
            .output()?;
        let err = failed(out);
        assert!(
            err.contains("no database at") && err.contains("init"),
            "{args:?}: {err}"
        );
        assert!(!database_exists::<B>(&url).await, "{args:?} created it");
    }
    assert!(
        !s.dir.path().join("nowhere").exists()
            && !backup.exists()
            && !copy_target.exists()
            && !new_key.exists(),
        "nothing created"
    );
    Ok(())
}

/// The admin binary needs no replicas: `DATABASE_READ_URLS` in its environment (set for
/// the application on the same host) is ignored, so `demo`, `status` and `copy --to sqlite:`
/// work; before, opening any SQLite store failed with "SQLite has no read replicas".
async fn database_read_urls_in_the_environment_are_ignored<B: TestBackend>() -> eyre::Result<()> {
    let s = Setup::<B>::new().await?;
    ok(s.run(&["init"]));
    // A replica nobody listens on: used, it would only slow the reads down, not fail them.
    let replicas = "postgres://reader@127.0.0.1:1/pierre";
    let run = |args: &[&str]| {
        s.command_with_key(&s.key_path(), args)
            .env("DATABASE_READ_URLS", replicas)
            .output()
            .expect("the binary runs")
    };
    ok(run(&["demo"]));
    ok(run(&["status"]));
    let target = s.dir.path().join("copy-target.db");
    let printed = ok(run(&[
        "copy",
        "--to",
        &format!("sqlite:{}", target.display()),
    ]));
    assert!(printed.contains("copied into"), "{printed}");
    let copied = Store::<pierre_store::Sqlite>::new(
        &format!("sqlite:{}", target.display()),
        EncryptionKey::load(&s.key_path())?,
    )
    .await?;
    assert!(
        copied
            .get_user_by_email("demo@pierre.example")
            .await?
            .is_some(),
        "the demo user is copied"
    );
    copied.close().await;
    Ok(())
}

/// As the ordinary owning role: `maintain` creates the usage partitions of further months
/// (and says how many); a backup holds every partition and its rows, and restoring it
/// brings them back, into a new database and over the live one, where a partition and a
/// row added since (a month of 2018) go, as everything written after the backup does.
async fn maintain_and_backup_restore_keep_usage_partitions<B: TestBackend>() -> eyre::Result<()> {
    let s = Setup::<B>::new_as_app_role().await?;
    ok(s.run(&["init"]));
    let out = ok(s.run(&["maintain", "--months-ahead", "5"]));
    let created = B::of(PerBackend {
        sqlite: 0,
        postgres: 4,
        mysql: 0,
    });
    assert!(
        out.contains(&format!("usage partitions: {created} created")),
        "{out}"
    );
    assert!(ok(s.run(&["maintain", "--months-ahead", "5"])).contains(": 0 created"));
    let bad = s.run(&["maintain", "--months-ahead", "500"]);
    assert!(failed(bad).contains("months_ahead"));

    let store = s.store().await?;
    let user = store
        .create_user(&User::new("p@example.com", "hash"))
        .await?;
    let (key, _) = store
        .issue_api_key(user, "k", pierre_store::ApiKeyTier::Trial, vec![], None)
        .await?;
    let old = time::macros::datetime!(2019-06-10 10:00 UTC);
    for at in [old, OffsetDateTime::now_utc()] {
        let usage = ApiKeyUsage {
            timestamp: at,
            ..ApiKeyUsage::new(key.id, "/x", "GET", 200)
        };
        store.record_api_usage(&usage).await?;
    }
    let source = raw_counts::<B>(s.admin_url()).await?;
    let partitions = usage_partitions::<B>(s.admin_url(), "api_key_usage").await?;
    if let Some(names) = &partitions {
        assert!(
            names.contains(&"api_key_usage_p2019_06".to_owned()),
            "{names:?}"
        );
    }
    ok(s.run(&["backup", "usage.backup"]));

    let other = Setup::<B>::new_as_app_role().await?;
    let restored = pierre_store_cmd()
        .current_dir(s.dir.path())
        .args(["--database-url", &other.url, "--key-path"])
        .arg(s.key_path())
        .args(["restore", "usage.backup"])
        .output()?;
    ok(restored);
    assert_eq!(raw_counts::<B>(other.admin_url()).await?, source);
    assert_eq!(
        usage_partitions::<B>(other.admin_url(), "api_key_usage").await?,
        partitions
    );

    let since = ApiKeyUsage {
        timestamp: time::macros::datetime!(2018-01-01 00:00 UTC),
        ..ApiKeyUsage::new(key.id, "/x", "GET", 200)
    };
    store.record_api_usage(&since).await?;
    store.close().await;
    ok(s.run(&["restore", "usage.backup"]));
    assert_eq!(raw_counts::<B>(s.admin_url()).await?, source);
    assert_eq!(
        usage_partitions::<B>(s.admin_url(), "api_key_usage").await?,
        partitions
    );
    // The restored tables take new rows, in new months too.
    let store = s.store().await?;
    store.record_api_usage(&since).await?;
    assert_eq!(store.get_usage_stats(user).await?.total_requests, 3);
    Ok(())
}
