//! Read replicas against a real streaming standby: the primary and standby that
//! `scripts/with-standby` starts (as `make test` does), named by TEST_POSTGRES_PRIMARY_URL,
//! TEST_POSTGRES_REPLICA_URL and TEST_POSTGRES_REPLICA_CTL. Without them these tests fail
//! with instructions; they never skip.
//!
//! The PostgreSQL tests stop the standby or pause its replay, which every other test of
//! this binary would see: they take [`SERIAL`] one at a time.

mod common;

mod sqlite {
    use pierre_store::{EncryptionKey, Error, Sqlite, Store, StoreConfig};

    /// SQLite accepts no replica: a `Config` error naming the setting, before anything is
    /// opened or created, and never the replica URL's password.
    #[tokio::test]
    async fn sqlite_refuses_read_replicas_with_a_config_error() -> eyre::Result<()> {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("pierre.db");
        let mut config = StoreConfig::new(
            format!("sqlite:{}", file.display()),
            EncryptionKey::generate(),
        );
        config.read_urls = vec!["postgres://reader:s3cret-pw@replica.example/pierre".into()];
        let error = Store::<Sqlite>::connect(config).await.unwrap_err();
        let Error::Config(message) = &error else {
            eyre::bail!("expected Error::Config, got {error:?}");
        };
        assert!(message.contains("DATABASE_READ_URLS"), "{message}");
        assert!(message.contains("SQLite has no read replicas"), "{message}");
        assert!(!message.contains("s3cret-pw"), "{message}");
        assert!(!file.exists(), "no database file is created");
        Ok(())
    }

    /// `Debug` of the settings hides every replica's password.
    #[test]
    fn replica_urls_are_redacted_in_debug() {
        let mut config = StoreConfig::new("sqlite::memory:", EncryptionKey::generate());
        config.read_urls = vec![
            "postgres://reader:s3cret-pw@replica1.example/pierre".into(),
            "postgres://reader@replica2.example/pierre?password=other-pw".into(),
        ];
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("s3cret-pw") && !shown.contains("other-pw"),
            "{shown}"
        );
        assert!(shown.contains("replica1.example") && shown.contains("replica2.example"));
    }
}

mod postgres {
    use std::{
        future::Future,
        time::{Duration, Instant},
    };

    use pierre_store::{
        EncryptionKey, Error, Postgres, Store, StoreConfig, User, UserFilter, UserStatus,
    };
    use sqlx::{AssertSqlSafe, Connection, PgConnection};

    use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

    use crate::common::{Cleanup, seed_tenants, with_database};

    fn snapshotter() -> &'static Snapshotter {
        static SNAPSHOTTER: std::sync::OnceLock<Snapshotter> = std::sync::OnceLock::new();
        SNAPSHOTTER.get_or_init(|| {
            let recorder = DebuggingRecorder::new();
            let snapshotter = recorder.snapshotter();
            recorder
                .install()
                .expect("the only recorder of this test binary");
            snapshotter
        })
    }

    /// One replica test at a time: they stop the standby and pause its replay.
    static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

    /// How long a test waits for the standby to catch up or come back.
    const PATIENCE: Duration = Duration::from_secs(20);

    fn env(name: &str) -> String {
        std::env::var(name).unwrap_or_else(|_| {
            panic!(
                "{name} is not set, and the read-replica tests are never skipped. Run \
                 `make test`, or run this test binary under scripts/with-standby \
                 (`scripts/with-standby cargo test --test replicas`), which starts a \
                 throwaway primary and a streaming standby; or set \
                 TEST_POSTGRES_PRIMARY_URL, TEST_POSTGRES_REPLICA_URL (superuser URLs of a \
                 primary and its hot standby) and TEST_POSTGRES_REPLICA_CTL (a command \
                 taking `stop` or `start` for the standby)."
            )
        })
    }

    /// A fresh database on the primary, seen on the standby, and a store whose replica is
    /// the standby.
    struct ReplicaDb {
        store: Store<Postgres>,
        /// The database on the primary (the URL the store writes to).
        primary_url: String,
        /// The same database on the standby.
        replica_url: String,
        _cleanup: Cleanup,
        _role: Option<RoleCleanup>,
    }

    /// Drops a role on the primary when dropped (after the database that it owns).
    struct RoleCleanup(String);

    impl Drop for RoleCleanup {
        fn drop(&mut self) {
            let role = self.0.clone();
            let _ = std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map(|rt| {
                        rt.block_on(async {
                            let primary = env("TEST_POSTGRES_PRIMARY_URL");
                            if let Ok(mut admin) = PgConnection::connect(&primary).await {
                                let _ = sqlx::query(AssertSqlSafe(format!(
                                    "DROP ROLE IF EXISTS {role}"
                                )))
                                .execute(&mut admin)
                                .await;
                            }
                        });
                    })
            })
            .join();
        }
    }

    impl ReplicaDb {
        /// As the server's superuser, or as a new ordinary role owning the database
        /// (`NOSUPERUSER NOBYPASSRLS`) when `as_app_role`.
        async fn new(
            as_app_role: bool,
            configure: impl FnOnce(&mut StoreConfig),
        ) -> eyre::Result<Self> {
            let (primary, replica) = (
                env("TEST_POSTGRES_PRIMARY_URL"),
                env("TEST_POSTGRES_REPLICA_URL"),
            );
            let suffix = uuid::Uuid::new_v4().simple().to_string();
            let name = format!("pierre_replica_{suffix}");
            let mut admin = PgConnection::connect(&primary).await?;
            let role = as_app_role.then(|| format!("pierre_app_{suffix}"));
            if let Some(role) = &role {
                sqlx::query(AssertSqlSafe(format!(
                    "CREATE ROLE {role} LOGIN PASSWORD 'app-password' NOSUPERUSER NOCREATEDB \
                     NOCREATEROLE NOBYPASSRLS"
                )))
                .execute(&mut admin)
                .await?;
                sqlx::query(AssertSqlSafe(format!(
                    "CREATE DATABASE {name} OWNER {role}"
                )))
                .execute(&mut admin)
                .await?;
            } else {
                sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut admin)
                    .await?;
            }
            let role_cleanup = role.clone().map(RoleCleanup);
            let cleanup = Cleanup::PgDatabase(with_database(&primary, &name, None));
            let primary_url = with_database(&primary, &name, role.as_deref());
            let replica_url = with_database(&replica, &name, role.as_deref());
            let key = EncryptionKey::generate();
            let mut config = StoreConfig::new(&primary_url, key);
            config.read_urls = vec![replica_url.clone()];
            configure(&mut config);
            let store = Store::<Postgres>::connect(config).await?;
            store.migrate().await?;
            // The new database and its schema reach the standby.
            eventually("the schema reaches the standby", || async {
                let mut conn = PgConnection::connect(&with_database(&replica, &name, None)).await?;
                let migrated: Option<String> =
                    sqlx::query_scalar("SELECT to_regclass('users')::text")
                        .fetch_one(&mut conn)
                        .await?;
                Ok(migrated.is_some())
            })
            .await?;
            Ok(Self {
                store,
                primary_url,
                replica_url,
                _cleanup: cleanup,
                _role: role_cleanup,
            })
        }

        fn replica_reads(&self) -> u64 {
            self.store.replica_stats()[0].reads
        }

        async fn emails(&self) -> Result<Vec<String>, Error> {
            Ok(self
                .store
                .list_users(&UserFilter::default(), None, 1000)
                .await?
                .users
                .into_iter()
                .map(|u| u.email)
                .collect())
        }
    }

    /// Retries `check` until it returns true, for up to [`PATIENCE`].
    async fn eventually<F, Fut>(what: &str, mut check: F) -> eyre::Result<()>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = eyre::Result<bool>>,
    {
        let started = Instant::now();
        let mut last = None;
        while started.elapsed() < PATIENCE {
            match check().await {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(error) => last = Some(error),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        eyre::bail!("timed out waiting until {what} (last error: {last:?})")
    }

    /// Runs the standby's ctl (`stop` or `start`).
    async fn standby(verb: &str) -> eyre::Result<()> {
        let ctl = env("TEST_POSTGRES_REPLICA_CTL");
        let status = tokio::task::spawn_blocking({
            let verb = verb.to_owned();
            move || {
                std::process::Command::new(ctl)
                    .arg(verb)
                    .stdout(std::process::Stdio::null())
                    .status()
            }
        })
        .await??;
        eyre::ensure!(status.success(), "standby {verb} failed: {status}");
        Ok(())
    }

    /// Starts the standby again when dropped (a failing test leaves it running for the
    /// others).
    struct StartStandbyOnDrop;

    impl Drop for StartStandbyOnDrop {
        fn drop(&mut self) {
            if let Ok(ctl) = std::env::var("TEST_POSTGRES_REPLICA_CTL") {
                let _ = std::process::Command::new(ctl)
                    .arg("start")
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .status();
            }
        }
    }

    /// Runs `sql` as superuser on the standby's `postgres` database.
    async fn on_standby(sql: &'static str) -> eyre::Result<()> {
        let mut conn = PgConnection::connect(&env("TEST_POSTGRES_REPLICA_URL")).await?;
        sqlx::query(sql).execute(&mut conn).await?;
        Ok(())
    }

    /// Resumes the standby's replay when dropped.
    struct ResumeReplayOnDrop;

    impl Drop for ResumeReplayOnDrop {
        fn drop(&mut self) {
            let _ = std::thread::spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map(|rt| rt.block_on(on_standby("SELECT pg_wal_replay_resume()")))
            })
            .join();
        }
    }

    /// A user written on the primary is listed through the store from the standby, once it
    /// has replayed the write; the primary serves no lag-tolerant read meanwhile.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn replica_serves_writes_made_on_the_primary() -> eyre::Result<()> {
        let _serial = SERIAL.lock().await;
        snapshotter();
        let db = ReplicaDb::new(false, |_| {}).await?;
        db.store
            .create_user(&User::new("seen@example.com", "hash"))
            .await?;
        eventually("the standby lists the new user", || async {
            Ok(db.emails().await? == ["seen@example.com"])
        })
        .await?;
        assert!(db.replica_reads() >= 1);
        assert_eq!(db.store.primary_lag_tolerant_reads(), 0);
        let stats = &db.store.replica_stats()[0];
        assert!(stats.healthy, "{stats:?}");
        assert!(stats.pool.size >= 1, "{stats:?}");
        assert!(!stats.url.contains("app-password"));
        // The metrics show the replica's reads, health and pool (read once: a snapshot
        // drains the counters).
        let snapshot = snapshotter().snapshot().into_vec();
        let value = |name: &str, labels: &[(&str, &str)]| {
            snapshot
                .iter()
                .filter(|(key, ..)| key.key().name() == name)
                .find(|(key, ..)| {
                    labels
                        .iter()
                        .all(|(k, v)| key.key().labels().any(|l| l.key() == *k && l.value() == *v))
                })
                .map(|(.., value)| value)
        };
        assert!(
            matches!(
                value("pierre_store_lag_tolerant_reads_total", &[("pool", "replica"), ("replica", "0")]),
                Some(DebugValue::Counter(n)) if *n >= 1
            ),
            "{snapshot:?}"
        );
        assert!(matches!(
            value("pierre_store_replica_healthy", &[("replica", "0")]),
            Some(DebugValue::Gauge(v)) if v.into_inner() == 1.0
        ));
        assert!(value("pierre_store_replica_lag_seconds", &[("replica", "0")]).is_some());
        assert!(
            value(
                "pierre_store_replica_pool_connections",
                &[("replica", "0"), ("state", "idle")]
            )
            .is_some()
        );
        // Reads that must see the caller's own writes stay on the primary.
        let reads = db.replica_reads();
        db.store.get_user_by_email("seen@example.com").await?;
        assert_eq!(db.replica_reads(), reads);
        Ok(())
    }

    /// Lag-tolerant reads are spread over the healthy replicas in turn (the standby named
    /// twice stands for two replicas).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn replica_reads_are_spread_round_robin() -> eyre::Result<()> {
        let _serial = SERIAL.lock().await;
        let db = ReplicaDb::new(false, |config| {
            let replica = config.read_urls[0].clone();
            config.read_urls.push(replica);
        })
        .await?;
        db.store
            .create_user(&User::new("rr@example.com", "hash"))
            .await?;
        eventually("both replicas list the user", || async {
            Ok(db.emails().await?.len() == 1 && db.emails().await?.len() == 1)
        })
        .await?;
        let before: Vec<u64> = db.store.replica_stats().iter().map(|r| r.reads).collect();
        for _ in 0..6 {
            assert_eq!(db.emails().await?, ["rr@example.com"]);
        }
        let after: Vec<u64> = db.store.replica_stats().iter().map(|r| r.reads).collect();
        assert_eq!(
            (after[0] - before[0], after[1] - before[1]),
            (3, 3),
            "{before:?} -> {after:?}"
        );
        assert_eq!(db.store.primary_lag_tolerant_reads(), 0);
        Ok(())
    }

    /// With the standby stopped, lag-tolerant reads come from the primary and none fails:
    /// a replica that fails mid-read (its connections killed) and one found down by its
    /// health check; once known down, reads do not wait for its checks. Once the standby
    /// is started again, reads go back to it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn replica_stopped_reads_fall_back_to_the_primary_and_return() -> eyre::Result<()> {
        let _serial = SERIAL.lock().await;
        // Trusts its last health check for a minute: its first read after the stop goes
        // to the dead replica and fails there.
        let trusting = ReplicaDb::new(false, |config| {
            config.read_check_interval = Duration::from_secs(60);
        })
        .await?;
        let checking = Store::<Postgres>::connect({
            let mut config = StoreConfig::new(&trusting.primary_url, EncryptionKey::generate());
            config.read_urls = vec![trusting.replica_url.clone()];
            config.read_check_interval = Duration::from_millis(200);
            config
        })
        .await?;
        trusting
            .store
            .create_user(&User::new("before@example.com", "hash"))
            .await?;
        eventually("the standby lists the user", || async {
            Ok(trusting.emails().await? == ["before@example.com"])
        })
        .await?;
        let all = UserFilter::default();
        let list = || checking.list_users(&all, None, 10);
        eventually("the second store reads from the standby", || async {
            list().await?;
            Ok(checking.replica_stats()[0].reads > 0)
        })
        .await?;

        let _restart = StartStandbyOnDrop;
        standby("stop").await?;
        trusting
            .store
            .create_user(&User::new("during@example.com", "hash"))
            .await?;
        let primary_reads = trusting.store.primary_lag_tolerant_reads();
        assert_eq!(
            trusting.emails().await?,
            ["before@example.com", "during@example.com"],
            "the read fails over to the primary"
        );
        let stats = &trusting.store.replica_stats()[0];
        assert_eq!(stats.failures, 1, "{stats:?}");
        assert!(!stats.healthy, "{stats:?}");
        assert_eq!(
            trusting.store.primary_lag_tolerant_reads(),
            primary_reads + 1
        );

        tokio::time::sleep(Duration::from_millis(300)).await;
        let (served, failures) = (
            checking.replica_stats()[0].reads,
            checking.replica_stats()[0].failures,
        );
        let started = Instant::now();
        assert_eq!(list().await?.users.len(), 2);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "a down replica holds a read up for {:?}",
            started.elapsed()
        );
        let stats = &checking.replica_stats()[0];
        assert!(!stats.healthy, "{stats:?}");
        assert_eq!(
            (stats.reads, stats.failures),
            (served, failures),
            "{stats:?}"
        );
        assert_eq!(checking.primary_lag_tolerant_reads(), 1);
        // Known to be down: its next checks run beside the reads, which do not wait for them.
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let started = Instant::now();
            assert_eq!(list().await?.users.len(), 2);
            assert!(
                started.elapsed() < Duration::from_millis(1000),
                "a read waited {:?} for the check of a replica known to be down",
                started.elapsed()
            );
        }
        assert_eq!(checking.primary_lag_tolerant_reads(), 4);

        standby("start").await?;
        eventually("reads return to the restarted standby", || async {
            assert_eq!(list().await?.users.len(), 2);
            Ok(checking.replica_stats()[0].reads > served)
        })
        .await?;
        assert!(checking.replica_stats()[0].healthy);
        Ok(())
    }

    /// With the standby's replay paused, a write on the primary never reaches it: once it
    /// trails by more than the bound, lag-tolerant reads go to the primary and see the
    /// write. When replay resumes, the standby serves again.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn replica_paused_replay_sends_lag_bound_reads_to_the_primary() -> eyre::Result<()> {
        let _serial = SERIAL.lock().await;
        let db = ReplicaDb::new(false, |config| {
            config.read_max_lag = Duration::from_millis(300);
            config.read_check_interval = Duration::from_millis(100);
        })
        .await?;
        db.store
            .create_user(&User::new("old@example.com", "hash"))
            .await?;
        eventually("the standby lists the first user", || async {
            Ok(db.emails().await? == ["old@example.com"])
        })
        .await?;
        assert_eq!(db.store.primary_lag_tolerant_reads(), 0);

        let _resume = ResumeReplayOnDrop;
        on_standby("SELECT pg_wal_replay_pause()").await?;
        eventually("replay is paused", || async {
            let mut conn = PgConnection::connect(&env("TEST_POSTGRES_REPLICA_URL")).await?;
            let state: String = sqlx::query_scalar("SELECT pg_get_wal_replay_pause_state()")
                .fetch_one(&mut conn)
                .await?;
            Ok(state == "paused")
        })
        .await?;
        let mut user = User::new("new@example.com", "hash");
        user.status = UserStatus::Active;
        db.store.create_user(&user).await?;
        tokio::time::sleep(Duration::from_millis(600)).await;
        // The standby has not replayed it (read straight from it).
        let mut on_replica = PgConnection::connect(&db.replica_url).await?;
        let replicated: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email = 'new@example.com'")
                .fetch_one(&mut on_replica)
                .await?;
        assert_eq!(replicated, 0, "replay is paused");

        let replica_reads = db.replica_reads();
        assert_eq!(db.emails().await?, ["old@example.com", "new@example.com"]);
        assert_eq!(
            db.replica_reads(),
            replica_reads,
            "the lagging standby served a read"
        );
        assert_eq!(db.store.primary_lag_tolerant_reads(), 1);
        let stats = &db.store.replica_stats()[0];
        assert!(!stats.healthy, "{stats:?}");
        assert!(
            stats
                .lag
                .is_some_and(|lag| lag > Duration::from_millis(300)),
            "{stats:?}"
        );

        on_standby("SELECT pg_wal_replay_resume()").await?;
        eventually("reads return to the standby", || async {
            let emails = db.emails().await?;
            Ok(emails.len() == 2 && db.replica_reads() > replica_reads)
        })
        .await?;
        Ok(())
    }

    /// Points the standby's `primary_conninfo` back at what it was when dropped (the test
    /// set it to a port where nothing listens).
    struct RestoreConninfoOnDrop(String);

    impl Drop for RestoreConninfoOnDrop {
        fn drop(&mut self) {
            let restore = self.0.clone();
            let _ = std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map(|rt| rt.block_on(set_primary_conninfo(&restore)))
            })
            .join();
        }
    }

    /// Sets the standby's `primary_conninfo` (ALTER SYSTEM, then a reload: PostgreSQL 13+
    /// restarts the WAL receiver with it).
    async fn set_primary_conninfo(conninfo: &str) -> eyre::Result<()> {
        let mut conn = PgConnection::connect(&env("TEST_POSTGRES_REPLICA_URL")).await?;
        let alter: String =
            sqlx::query_scalar("SELECT format('ALTER SYSTEM SET primary_conninfo = %L', $1::text)")
                .bind(conninfo)
                .fetch_one(&mut conn)
                .await?;
        sqlx::query(AssertSqlSafe(alter)).execute(&mut conn).await?;
        sqlx::query("SELECT pg_reload_conf()")
            .execute(&mut conn)
            .await?;
        Ok(())
    }

    /// A standby cut off from its primary (its `primary_conninfo` pointed at a port where
    /// nothing listens) has replayed all it received, so its replay lag reads 0; it must
    /// still be skipped: lag-tolerant reads go to the primary and see a write the standby
    /// never got. Once the link is back, the standby serves again. Both as the superuser
    /// (who sees the WAL receiver's status and last message time) and as the ordinary role
    /// (who sees only whether a receiver runs). Before the fix the standby served the stale
    /// list (`left: ["cut@example.com"]`, right: both users).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn replica_cut_off_from_its_primary_sends_reads_to_the_primary() -> eyre::Result<()> {
        let _serial = SERIAL.lock().await;
        for as_app_role in [false, true] {
            let db = ReplicaDb::new(as_app_role, |config| {
                config.read_check_interval = Duration::from_millis(100);
            })
            .await?;
            db.store
                .create_user(&User::new("cut@example.com", "hash"))
                .await?;
            eventually("the standby lists the first user", || async {
                Ok(db.emails().await? == ["cut@example.com"])
            })
            .await?;
            assert_eq!(db.store.primary_lag_tolerant_reads(), 0);

            let mut standby_admin =
                PgConnection::connect(&env("TEST_POSTGRES_REPLICA_URL")).await?;
            let conninfo: String = sqlx::query_scalar("SELECT current_setting('primary_conninfo')")
                .fetch_one(&mut standby_admin)
                .await?;
            let _restore = RestoreConninfoOnDrop(conninfo.clone());
            set_primary_conninfo("host=127.0.0.1 port=1 user=postgres connect_timeout=2").await?;
            eventually("the standby's WAL receiver stops streaming", || async {
                let mut conn = PgConnection::connect(&env("TEST_POSTGRES_REPLICA_URL")).await?;
                let streaming: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'",
                )
                .fetch_one(&mut conn)
                .await?;
                Ok(streaming == 0)
            })
            .await?;
            let mut user = User::new("unseen@example.com", "hash");
            user.status = UserStatus::Active;
            db.store.create_user(&user).await?;
            tokio::time::sleep(Duration::from_millis(300)).await;
            let mut on_replica = PgConnection::connect(&db.replica_url).await?;
            let replicated: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email = 'unseen@example.com'")
                    .fetch_one(&mut on_replica)
                    .await?;
            assert_eq!(replicated, 0, "the cut-off standby cannot have it");

            let replica_reads = db.replica_reads();
            assert_eq!(
                db.emails().await?,
                ["cut@example.com", "unseen@example.com"]
            );
            assert_eq!(
                db.replica_reads(),
                replica_reads,
                "the cut-off standby served a read"
            );
            assert_eq!(db.store.primary_lag_tolerant_reads(), 1);
            assert!(!db.store.replica_stats()[0].healthy);

            set_primary_conninfo(&conninfo).await?;
            eventually("reads return to the standby", || async {
                let emails = db.emails().await?;
                Ok(emails.len() == 2 && db.replica_reads() > replica_reads)
            })
            .await?;
        }
        Ok(())
    }

    /// Tenant-scoped reads (row-level security, the tenant set per statement) and the
    /// health check work on the standby as the ordinary application role.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn replica_serves_tenant_reads_as_the_app_role() -> eyre::Result<()> {
        let _serial = SERIAL.lock().await;
        let db = ReplicaDb::new(true, |_| {}).await?;
        let (user, tenants) =
            seed_tenants(&db.store, "tenant@example.com", &[("one", 3), ("two", 2)]).await?;
        eventually(
            "the standby serves the first tenant's activities",
            || async {
                let reads = db.replica_reads();
                let listed = db.store.get_user_activities(tenants[0], user, 10).await?;
                Ok(listed.len() == 3 && db.replica_reads() == reads + 1)
            },
        )
        .await?;
        let reads = db.replica_reads();
        let stats = db.store.get_user_stats(tenants[1], user).await?;
        assert_eq!(stats.total_activities, 2);
        assert_eq!(
            db.store
                .get_user_activities(tenants[1], user, 10)
                .await?
                .len(),
            2
        );
        assert_eq!(
            db.replica_reads(),
            reads + 2,
            "both reads came from the standby"
        );
        assert_eq!(db.store.primary_lag_tolerant_reads(), 0);
        Ok(())
    }

    /// A replica URL that is malformed or of another backend is a `Config` error that
    /// names the entry and hides its password; one that is down when the store starts is
    /// not an error.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn replica_urls_are_checked_and_a_down_replica_is_not_an_error() -> eyre::Result<()> {
        let _serial = SERIAL.lock().await;
        let primary = env("TEST_POSTGRES_PRIMARY_URL");
        let key = EncryptionKey::generate();
        for bad in [
            "sqlite:/tmp/x.db?password=s3cret-pw",
            "postgres://u:s3cret-pw@[::1/db",
        ] {
            let mut config = StoreConfig::new(&primary, key.clone());
            config.read_urls = vec!["postgres://127.0.0.1:1/postgres".into(), bad.into()];
            let error = Store::<Postgres>::connect(config).await.unwrap_err();
            let Error::Config(message) = &error else {
                eyre::bail!("expected Error::Config for {bad}, got {error:?}");
            };
            assert!(message.contains("read replica 2"), "{message}");
            assert!(!message.contains("s3cret-pw"), "{message}");
        }
        let mut config = StoreConfig::new(&primary, key);
        config.read_urls = vec!["postgres://127.0.0.1:1/postgres".into()];
        let store = Store::<Postgres>::connect(config).await?;
        let users = store.list_users(&UserFilter::default(), None, 1).await;
        assert!(
            users.is_err(),
            "the primary's postgres database has no schema"
        );
        assert_eq!(store.primary_lag_tolerant_reads(), 1);
        assert!(!store.replica_stats()[0].healthy);
        Ok(())
    }
}
