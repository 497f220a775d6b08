//! `StoreConfig::from_env`. The only test in this binary, because it changes the process
//! environment.

use std::{ffi::OsString, os::unix::ffi::OsStringExt, time::Duration};

use pierre_store::{
    Backend, DEFAULT_DATABASE_URL, EncryptionKey, Error, ForBackend, MySql, Postgres, Sqlite,
    Store, StoreConfig, run_for_url,
};

const VARS: [&str; 13] = [
    "DATABASE_ENCRYPTION_KEY",
    "DATABASE_RETIRED_ENCRYPTION_KEYS",
    "DATABASE_URL",
    "DATABASE_MAX_CONNECTIONS",
    "DATABASE_MIN_CONNECTIONS",
    "DATABASE_ACQUIRE_TIMEOUT",
    "DATABASE_IDLE_TIMEOUT",
    "DATABASE_MAX_LIFETIME",
    "DATABASE_ENCRYPTION_KEY_PATH",
    "DATABASE_READ_URLS",
    "DATABASE_READ_MAX_LAG_MS",
    "DATABASE_READ_CHECK_INTERVAL_MS",
    "DATABASE_TRANSACTION_POOLER",
];

fn set(name: &str, value: &str) {
    // SAFETY: this binary runs a single test, on one thread, and spawns no other thread.
    unsafe { std::env::set_var(name, value) }
}

fn set_os(name: &str, value: &OsString) {
    // SAFETY: as in `set`.
    unsafe { std::env::set_var(name, value) }
}

fn clear() {
    for name in VARS {
        // SAFETY: as in `set`.
        unsafe { std::env::remove_var(name) }
    }
}

/// Runs `future` on a runtime of the current thread: no other thread is started, so the
/// environment stays safe to change (see `set`).
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime")
        .block_on(future)
}

/// The backend a URL names, as [`run_for_url`] picks it.
struct BackendName;

impl<B: Backend> ForBackend<B> for BackendName {
    type Output = &'static str;

    async fn run(self) -> &'static str {
        B::NAME
    }
}

#[test]
fn from_env_reads_defaults_values_and_rejects_malformed_ones() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let key_path = dir.path().join("data/encryption.key");
    clear();
    set(
        "DATABASE_ENCRYPTION_KEY_PATH",
        &key_path.display().to_string(),
    );

    let defaults = StoreConfig::from_env()?;
    assert_eq!(defaults.database_url, DEFAULT_DATABASE_URL);
    assert_eq!(defaults.max_connections, 10);
    assert!(key_path.is_file(), "the key file is created");

    set(
        "DATABASE_URL",
        "postgres://u@db:5432/pierre?sslmode=require",
    );
    set("DATABASE_MAX_CONNECTIONS", "25");
    set("DATABASE_MIN_CONNECTIONS", " 2 ");
    set("DATABASE_ACQUIRE_TIMEOUT", "5");
    set("DATABASE_IDLE_TIMEOUT", "0");
    set("DATABASE_MAX_LIFETIME", "60");
    let config = StoreConfig::from_env()?;
    assert_eq!(
        config.database_url,
        "postgres://u@db:5432/pierre?sslmode=require"
    );
    assert_eq!((config.max_connections, config.min_connections), (25, 2));
    assert_eq!(config.acquire_timeout, Duration::from_secs(5));
    assert_eq!(config.idle_timeout, None, "0 means no idle timeout");
    assert_eq!(config.max_lifetime, Some(Duration::from_secs(60)));
    assert!(config.read_urls.is_empty(), "no replica unless named");

    // MySQL / MariaDB: either scheme is read as given and names Store<MySql>; a store of
    // another backend refuses it, and Store<MySql> refuses theirs, before connecting.
    for url in [
        "mysql://app:pw@db:3306/pierre?ssl-mode=required",
        "mariadb://app@db/pierre",
    ] {
        set("DATABASE_URL", url);
        let config = StoreConfig::from_env()?;
        assert_eq!(config.database_url, url);
        assert_eq!(block_on(run_for_url(url, BackendName))?, "MySQL", "{url}");
        for err in [
            block_on(Store::<Sqlite>::connect(config.clone())).map(drop),
            block_on(Store::<Postgres>::connect(config.clone())).map(drop),
        ] {
            assert!(
                matches!(&err, Err(Error::Config(m)) if m.contains("MySQL") && !m.contains("pw")),
                "{url}: {err:?}"
            );
        }
    }
    for url in ["postgres://u@db:5432/pierre", "sqlite:./data/pierre.db"] {
        let err = block_on(Store::<MySql>::connect(StoreConfig::new(
            url,
            EncryptionKey::generate(),
        )))
        .map(drop);
        assert!(
            matches!(&err, Err(Error::Config(m)) if m.contains("MySQL")),
            "{url}: {err:?}"
        );
    }
    set(
        "DATABASE_URL",
        "postgres://u@db:5432/pierre?sslmode=require",
    );
    assert_eq!(config.read_max_lag, Duration::from_millis(1000));

    // Read replicas: comma-separated, blanks around and empty entries ignored.
    set(
        "DATABASE_READ_URLS",
        " postgres://r:pw@replica1/pierre ,, postgres://replica2/pierre,",
    );
    set("DATABASE_READ_MAX_LAG_MS", "250");
    set("DATABASE_READ_CHECK_INTERVAL_MS", "50");
    let config = StoreConfig::from_env()?;
    assert_eq!(
        config.read_urls,
        [
            "postgres://r:pw@replica1/pierre",
            "postgres://replica2/pierre"
        ]
    );
    assert_eq!(config.read_max_lag, Duration::from_millis(250));
    assert_eq!(config.read_check_interval, Duration::from_millis(50));
    set("DATABASE_READ_MAX_LAG_MS", "1s");
    let err = StoreConfig::from_env().unwrap_err();
    assert!(
        matches!(&err, Error::Config(m) if m.contains("DATABASE_READ_MAX_LAG_MS")),
        "{err:?}"
    );
    set("DATABASE_READ_MAX_LAG_MS", "250");
    assert!(
        !config.transaction_pooler,
        "checked for a transaction pooler by default"
    );
    for (value, expected) in [
        ("true", true),
        (" 1 ", true),
        ("false", false),
        ("0", false),
    ] {
        set("DATABASE_TRANSACTION_POOLER", value);
        assert_eq!(
            StoreConfig::from_env()?.transaction_pooler,
            expected,
            "{value:?}"
        );
    }

    for (name, bad) in [
        ("DATABASE_MAX_CONNECTIONS", "ten"),
        ("DATABASE_MAX_CONNECTIONS", "-1"),
        ("DATABASE_MAX_CONNECTIONS", "0"),
        ("DATABASE_MAX_CONNECTIONS", "99999999999"),
        ("DATABASE_MIN_CONNECTIONS", "26"),
        ("DATABASE_ACQUIRE_TIMEOUT", "1.5"),
        ("DATABASE_IDLE_TIMEOUT", ""),
        ("DATABASE_TRANSACTION_POOLER", "yes"),
    ] {
        set(name, bad);
        let err = StoreConfig::from_env().unwrap_err();
        assert!(
            matches!(&err, Error::Config(m) if m.contains("connections") || m.contains(name)),
            "{name}={bad:?}: {err:?}"
        );
        set("DATABASE_MAX_CONNECTIONS", "25");
        set("DATABASE_MIN_CONNECTIONS", "2");
        set("DATABASE_ACQUIRE_TIMEOUT", "5");
        set("DATABASE_IDLE_TIMEOUT", "0");
        set("DATABASE_TRANSACTION_POOLER", "false");
    }

    // A key in the environment wins over the key file (containers).
    let env_key = EncryptionKey::generate();
    let retired = [EncryptionKey::generate(), EncryptionKey::generate()];
    set("DATABASE_ENCRYPTION_KEY", &env_key.to_base64());
    set(
        "DATABASE_RETIRED_ENCRYPTION_KEYS",
        &format!(
            "{},{}",
            retired[0].to_base64().as_str(),
            retired[1].to_base64().as_str()
        ),
    );
    let config = StoreConfig::from_env()?;
    assert_eq!(config.encryption_key.id(), env_key.id());
    let retired_ids: Vec<_> = config.retired_keys.iter().map(EncryptionKey::id).collect();
    assert_eq!(retired_ids, vec![retired[0].id(), retired[1].id()]);
    set("DATABASE_ENCRYPTION_KEY", "c2VjcmV0LWJ1dC10b28tc2hvcnQ=");
    let err = StoreConfig::from_env().unwrap_err();
    assert!(
        matches!(&err, Error::Config(m) if m.contains("DATABASE_ENCRYPTION_KEY") && !m.contains("c2VjcmV0")),
        "{err:?}"
    );
    set("DATABASE_ENCRYPTION_KEY", &env_key.to_base64());
    set("DATABASE_RETIRED_ENCRYPTION_KEYS", "nope");
    assert!(matches!(StoreConfig::from_env(), Err(Error::Config(_))));
    clear();

    // A key variable that is set is used or refused, never skipped for the key file: not
    // base64, the wrong length, or not UTF-8 at all.
    set(
        "DATABASE_ENCRYPTION_KEY_PATH",
        &key_path.display().to_string(),
    );
    let not_utf8 =
        || OsString::from_vec(b"\xffAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".to_vec());
    for name in [
        "DATABASE_ENCRYPTION_KEY",
        "DATABASE_RETIRED_ENCRYPTION_KEYS",
    ] {
        for bad in [
            OsString::from("not base64 at all!"),
            OsString::from("c2hvcnQ="),
            not_utf8(),
        ] {
            set_os(name, &bad);
            let result = StoreConfig::from_env().map(|c| c.encryption_key.id());
            assert!(
                matches!(&result, Err(Error::Config(m)) if m.contains(name)),
                "{name}={bad:?}: {result:?}"
            );
            if name == "DATABASE_ENCRYPTION_KEY" {
                let result = StoreConfig::key_from_env().map(|k| k.map(|k| k.id()));
                assert!(
                    matches!(&result, Err(Error::Config(m)) if m.contains(name)),
                    "{name}={bad:?}: {result:?}"
                );
            }
            clear();
            set(
                "DATABASE_ENCRYPTION_KEY_PATH",
                &key_path.display().to_string(),
            );
        }
    }
    clear();

    set(
        "DATABASE_ENCRYPTION_KEY_PATH",
        &key_path.display().to_string(),
    );
    std::fs::write(&key_path, b"short")?;
    assert!(matches!(StoreConfig::from_env(), Err(Error::Config(_))));
    clear();
    Ok(())
}
