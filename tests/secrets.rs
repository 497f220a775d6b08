//! Key files and redaction: no backend involved.

use std::os::unix::fs::PermissionsExt;

use pierre_store::{EncryptionKey, Error, OAuthToken, StoreConfig, User};

#[test]
fn load_or_create_writes_a_private_32_byte_file_once() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("keys/encryption.key");
    EncryptionKey::load_or_create(&path)?;
    let bytes = std::fs::read(&path)?;
    assert_eq!(bytes.len(), 32);
    assert_eq!(
        std::fs::metadata(&path)?.permissions().mode() & 0o777,
        0o600
    );

    EncryptionKey::load_or_create(&path)?;
    assert_eq!(
        std::fs::read(&path)?,
        bytes,
        "an existing key file is never overwritten"
    );
    Ok(())
}

#[test]
fn a_key_file_of_the_wrong_length_is_refused_and_kept() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    for len in [0, 16, 31, 33, 64] {
        let path = dir.path().join(format!("key-{len}"));
        std::fs::write(&path, vec![7; len])?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        let err = EncryptionKey::load_or_create(&path).unwrap_err();
        assert!(
            matches!(&err, Error::Config(m) if m.contains("32")),
            "{len}: {err:?}"
        );
        assert_eq!(std::fs::read(&path)?.len(), len, "file left as it was");
    }
    Ok(())
}

#[test]
fn from_slice_wants_exactly_32_bytes() {
    assert!(EncryptionKey::from_slice(&[1; 32]).is_ok());
    for len in [0, 31, 33] {
        assert!(matches!(
            EncryptionKey::from_slice(&vec![1; len]),
            Err(Error::Config(_))
        ));
    }
}

#[test]
fn debug_output_never_shows_secrets() {
    let key = EncryptionKey::from_bytes([0xAB; 32]);
    let key_debug = format!("{key:?}");
    assert!(
        key_debug.contains("redacted")
            && !key_debug.to_lowercase().contains("ab, ab")
            && !key_debug.contains("171")
    );

    let config = StoreConfig::new("sqlite:x.db", key.clone());
    assert!(!format!("{config:?}").contains("171"));
    let config = StoreConfig::new(
        "postgres://pierre:hunter2@db:5432/pierre?sslmode=require",
        key,
    );
    let shown = format!("{config:?}");
    assert!(
        !shown.contains("hunter2") && shown.contains("pierre:[redacted]@db:5432/pierre"),
        "{shown}"
    );

    let user = User::new("u@example.com", "$argon2id$SECRET-HASH");
    assert!(!format!("{user:?}").contains("SECRET-HASH"));

    let token = OAuthToken {
        access_token: "ACCESS-SECRET".into(),
        refresh_token: Some("REFRESH-SECRET".into()),
        expires_at: None,
        scope: Some("read".into()),
    };
    let shown = format!("{token:?}");
    assert!(
        !shown.contains("ACCESS-SECRET") && !shown.contains("REFRESH-SECRET"),
        "{shown}"
    );
    assert!(shown.contains("read"));
}

#[test]
fn a_key_file_readable_by_others_is_refused() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("shared.key");
    std::fs::write(&path, [9_u8; 32])?;
    for mode in [0o644, 0o640, 0o604] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))?;
        let err = EncryptionKey::load_or_create(&path).unwrap_err();
        assert!(
            matches!(&err, Error::Config(m) if m.contains("chmod 600")),
            "{mode:o}: {err:?}"
        );
    }
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    assert_eq!(
        EncryptionKey::load_or_create(&path)?.id(),
        EncryptionKey::from_bytes([9; 32]).id()
    );
    Ok(())
}

#[test]
fn base64_keys_round_trip_and_bad_ones_are_refused() {
    let key = EncryptionKey::generate();
    let encoded = key.to_base64();
    assert_eq!(
        EncryptionKey::from_base64(&encoded).map(|k| k.id()).ok(),
        Some(key.id())
    );
    for bad in ["", "not base64!", "c2hvcnQ="] {
        let err = EncryptionKey::from_base64(bad).unwrap_err();
        assert!(
            matches!(&err, Error::Config(m) if !m.contains(bad) || bad.is_empty()),
            "{err:?}"
        );
    }
}

/// Every place sqlx takes a PostgreSQL password from: the userinfo, a `password` query
/// parameter anywhere among the others, a percent-encoded value or name; and a MySQL
/// URL's (userinfo only). None survives `redact_url`, and what is not secret is kept.
#[test]
fn redact_url_hides_every_password_form_sqlx_accepts() {
    use pierre_store::redact_url;
    for (url, kept) in [
        (
            "postgres://app:hunter2@db:5432/pierre",
            "postgres://app:[redacted]@db:5432/pierre",
        ),
        (
            "postgres://app:hun%40ter2@db/pierre?sslmode=require",
            "@db/pierre?sslmode=require",
        ),
        (
            "postgresql://app@db/pierre?password=hunter2",
            "postgresql://app@db/pierre?password=[redacted]",
        ),
        (
            "postgres://app@db/pierre?sslmode=require&password=hunter2&application_name=x",
            "?sslmode=require&password=[redacted]&application_name=x",
        ),
        (
            "postgres://app@db/pierre?password=hun%74er2",
            "password=[redacted]",
        ),
        ("postgres://app@db/pierre?pass%77ord=hunter2", "=[redacted]"),
        (
            "postgres://app@db/pierre?password=hunter2&password=hunter2",
            "password=[redacted]&password=[redacted]",
        ),
        (
            "postgres://app:x@db/p?password=hunter2",
            "app:[redacted]@db/p?password=[redacted]",
        ),
        (
            "postgres:///pierre?host=/run/postgresql&user=app&password=hunter2",
            "host=/run/postgresql&user=app&",
        ),
        ("postgres://app:hunter2@db:notaport/pierre", "postgres:"),
        (
            "mysql://app:hunter2@db:3306/pierre",
            "mysql://app:[redacted]@db:3306/pierre",
        ),
        (
            "mariadb://app:hun%40ter2@db/pierre?ssl-mode=REQUIRED",
            "mariadb://app:[redacted]@db/pierre?ssl-mode=REQUIRED",
        ),
        (
            "mysql://app:hunter2@localhost/pierre?socket=/run/mysqld/mysqld.sock",
            "@localhost/pierre?socket=/run/mysqld/mysqld.sock",
        ),
    ] {
        let shown = redact_url(url);
        assert!(
            !shown.contains("hunter2") && !shown.contains("hun%") && shown.contains(kept),
            "{url} -> {shown}"
        );
    }
    for plain in [
        "sqlite:./data/pierre.db",
        "sqlite::memory:",
        "sqlite://data/pierre.db?mode=rwc",
        "postgres://app@db:5432/pierre?sslmode=require",
        "mysql://app@db:3306/pierre?ssl-mode=REQUIRED",
    ] {
        assert_eq!(redact_url(plain), plain);
    }
}

#[test]
fn store_config_debug_hides_a_query_password() {
    let config = StoreConfig::new(
        "postgres://pierre@db/pierre?sslmode=require&password=hunter2",
        EncryptionKey::generate(),
    );
    let shown = format!("{config:?}");
    assert!(
        !shown.contains("hunter2") && shown.contains("password=[redacted]"),
        "{shown}"
    );
}

/// What goes to `PGPASSWORD`: the password sqlx would use, wherever the URL holds it, and
/// the URL without any password for the command line.
#[test]
fn split_url_password_takes_out_the_password_sqlx_would_use() {
    use pierre_store::split_url_password;
    for (url, rest, password) in [
        (
            "postgres://app:s%40cret%3A1@db:5432/pierre?sslmode=require",
            "postgres://app@db:5432/pierre?sslmode=require",
            Some("s@cret:1"),
        ),
        (
            "postgres://app@db/pierre?sslmode=require&password=s%26cret&application_name=x",
            "postgres://app@db/pierre?sslmode=require&application_name=x",
            Some("s&cret"),
        ),
        (
            "postgres://app:old@db/pierre?pass%77ord=new",
            "postgres://app@db/pierre",
            Some("new"),
        ),
        ("postgres://app@db/pierre", "postgres://app@db/pierre", None),
    ] {
        let (shown, secret) = split_url_password(url).expect("parses");
        assert_eq!(shown, rest, "{url}");
        assert_eq!(secret.as_deref(), password, "{url}");
    }
    let err = split_url_password("postgres://app:hunter2@db:notaport/pierre").unwrap_err();
    assert!(
        matches!(&err, Error::Config(m) if !m.contains("hunter2")),
        "{err:?}"
    );
}

/// Threads starting at the same moment on a missing key file: every one gets the same key
/// (none reads a half-written file, none makes a second key), and one file remains.
#[test]
fn racing_load_or_create_calls_all_get_the_same_key() -> eyre::Result<()> {
    const THREADS: usize = 8;
    let dir = tempfile::tempdir()?;
    for round in 0..200 {
        let path = dir.path().join(format!("round-{round}/encryption.key"));
        let start = std::sync::Arc::new(std::sync::Barrier::new(THREADS));
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let (path, start) = (path.clone(), std::sync::Arc::clone(&start));
                std::thread::spawn(move || {
                    start.wait();
                    EncryptionKey::load_or_create(&path).map(|key| key.id())
                })
            })
            .collect();
        let ids = threads
            .into_iter()
            .map(|t| t.join().expect("no panic"))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| eyre::eyre!("round {round}: {e}"))?;
        assert!(ids.iter().all(|id| *id == ids[0]), "round {round}: {ids:?}");
        let on_disk = EncryptionKey::from_slice(&std::fs::read(&path)?)?;
        assert_eq!(
            on_disk.id(),
            ids[0],
            "round {round}: the file holds that key"
        );
        let entries = std::fs::read_dir(path.parent().expect("a parent"))?.count();
        assert_eq!(entries, 1, "round {round}: no temporary file left behind");
    }
    Ok(())
}

/// `load` reads a key file and never makes one, even when the file disappears while it
/// looks: it either returns the key that was there or says the file does not exist.
#[test]
fn load_never_creates_a_key_file() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let missing = dir.path().join("absent/encryption.key");
    let err = EncryptionKey::load(&missing).unwrap_err();
    assert!(
        matches!(&err, Error::Config(m) if m.contains("does not exist")),
        "{err:?}"
    );
    assert!(!missing.exists() && !dir.path().join("absent").exists());

    // A file that comes and goes (always holding the same key) under a reader.
    let path = dir.path().join("flapping.key");
    let known = EncryptionKey::from_bytes([5; 32]).id();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flapper = {
        let (path, stop) = (path.clone(), std::sync::Arc::clone(&stop));
        std::thread::spawn(move || -> std::io::Result<()> {
            let staged = path.with_extension("staged");
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                std::fs::write(&staged, [5_u8; 32])?;
                std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(0o600))?;
                std::fs::rename(&staged, &path)?;
                // Removing fails only if the reader made a file and we lost it: keep going.
                let _ = std::fs::remove_file(&path);
            }
            Ok(())
        })
    };
    let mut loaded = 0;
    for _ in 0..20_000 {
        match EncryptionKey::load(&path) {
            Ok(key) => {
                loaded += 1;
                assert_eq!(key.id(), known, "load returned a key it made itself");
            }
            Err(Error::Config(m)) if m.contains("does not exist") => {}
            Err(err) => panic!("unexpected error: {err:?}"),
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    flapper.join().expect("no panic")?;
    println!("loaded the flapping file {loaded} times out of 20000");
    Ok(())
}
