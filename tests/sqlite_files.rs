//! What only the embedded backend has: database files, their URLs, `backup_to` and
//! `restore_file`.

use std::{
    os::unix::fs::{MetadataExt, PermissionsExt},
    path::Path,
};

use pierre_store::{EncryptionKey, Error, OAuthProvider, OAuthToken, Sqlite, Store, User};

#[tokio::test]
async fn url_forms_open_and_a_missing_file_and_directory_are_created() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let root = dir.path().display().to_string();
    for url in [
        format!("sqlite:{root}/plain.db"),
        format!("sqlite://{root}/slashes.db?mode=rwc"),
        format!("sqlite:{root}/new/nested/dir/pierre.db"),
    ] {
        let store = Store::<Sqlite>::new(&url, EncryptionKey::generate()).await?;
        store.migrate().await?;
        store
            .create_user(&User::new("u@example.com", "hash"))
            .await?;
        store.close().await;
    }
    assert!(dir.path().join("plain.db").is_file());
    assert!(dir.path().join("slashes.db").is_file());
    assert!(dir.path().join("new/nested/dir/pierre.db").is_file());
    Ok(())
}

#[tokio::test]
async fn backup_is_a_database_that_opens_and_holds_the_data() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let key = EncryptionKey::generate();
    let url = format!("sqlite:{}", dir.path().join("live.db").display());
    let store = Store::<Sqlite>::new(&url, key.clone()).await?;
    store.migrate().await?;
    let user = User::new("backup@example.com", "hash");
    store.create_user(&user).await?;
    let token = OAuthToken {
        access_token: "a".into(),
        refresh_token: Some("r".into()),
        expires_at: None,
        scope: None,
    };
    store
        .upsert_oauth_token(user.id, OAuthProvider::Strava, &token)
        .await?;

    // A path with a quote in it, to show the path is bound, not spliced into the SQL.
    let backup = dir.path().join("it's a backup.db");
    store.backup_to(&backup).await?;
    let err = store.backup_to(&backup).await.unwrap_err();
    assert!(
        matches!(err, Error::InvalidInput { field: "path", .. }),
        "{err:?}"
    );

    // Writes after the backup do not reach it.
    store
        .create_user(&User::new("later@example.com", "hash"))
        .await?;

    let copy = Store::<Sqlite>::new(&format!("sqlite:{}", backup.display()), key).await?;
    copy.migrate().await?;
    assert_eq!(copy.get_user(user.id).await?, Some(user.clone()));
    assert_eq!(
        copy.get_oauth_token(user.id, OAuthProvider::Strava).await?,
        Some(token)
    );
    assert_eq!(copy.get_user_by_email("later@example.com").await?, None);
    Ok(())
}

#[tokio::test]
async fn a_file_that_is_not_sqlite_is_a_clear_error() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("garbage.db");
    std::fs::write(&path, vec![0x42; 8192])?;
    let result = async {
        let store = Store::<Sqlite>::new(
            &format!("sqlite:{}", path.display()),
            EncryptionKey::generate(),
        )
        .await?;
        store.migrate().await
    }
    .await;
    let err = result.unwrap_err();
    assert!(
        matches!(err, Error::Database(_) | Error::Migration(_)),
        "{err:?}"
    );
    assert!(err.to_string().contains("not a database"), "{err}");
    Ok(())
}

#[tokio::test]
async fn a_read_only_database_refuses_writes_clearly_and_stays_sound() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("ro.db");
    let key = EncryptionKey::generate();
    let writable = Store::<Sqlite>::new(&format!("sqlite:{}", path.display()), key.clone()).await?;
    writable.migrate().await?;
    let user = User::new("ro@example.com", "hash");
    writable.create_user(&user).await?;
    writable.close().await;

    let read_only =
        Store::<Sqlite>::new(&format!("sqlite:{}?mode=ro", path.display()), key).await?;
    assert_eq!(read_only.get_user(user.id).await?, Some(user));
    let err = read_only
        .create_user(&User::new("new@example.com", "hash"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Database(_)) && err.to_string().contains("readonly"),
        "{err}"
    );
    read_only.close().await;
    Store::<Sqlite>::check_database_file(&path).await?;
    Ok(())
}

/// A full disk, as SQLite sees it: `max_page_count` caps the file, so writes hit
/// SQLITE_FULL exactly as they would on a full filesystem.
#[tokio::test]
async fn a_full_disk_is_a_clear_error_and_corrupts_nothing() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("full.db");
    let mut config = pierre_store::StoreConfig::new(
        format!("sqlite:{}", path.display()),
        EncryptionKey::generate(),
    );
    config.max_connections = 1;
    let store = Store::<Sqlite>::connect(config).await?;
    store.migrate().await?;
    let first = User::new("first@example.com", "hash");
    store.create_user(&first).await?;
    let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
        .fetch_one(store.pool())
        .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "PRAGMA max_page_count = {}",
        pages + 2
    )))
    .execute(store.pool())
    .await?;

    let mut written = vec![first];
    let error = loop {
        let user = User {
            password_hash: "x".repeat(2000),
            ..User::new(&format!("u{}@example.com", written.len()), "h")
        };
        match store.create_user(&user).await {
            Ok(_) => written.push(user),
            Err(e) => break e,
        }
        assert!(written.len() < 10_000, "the size limit never bit");
    };
    assert!(
        matches!(error, Error::Database(_)) && error.to_string().contains("full"),
        "{error}"
    );
    for user in &written {
        assert_eq!(
            store.get_user(user.id).await?.as_ref(),
            Some(user),
            "acknowledged rows intact"
        );
    }
    store.close().await;
    Store::<Sqlite>::check_database_file(&path).await?;
    // With room again, writing resumes.
    let store = Store::<Sqlite>::new(
        &format!("sqlite:{}", path.display()),
        EncryptionKey::generate(),
    )
    .await?;
    store
        .create_user(&User::new("after@example.com", "hash"))
        .await?;
    Ok(())
}

/// The permission bits of `path`, in octal.
fn mode(path: &Path) -> std::io::Result<String> {
    Ok(format!(
        "{:o}",
        std::fs::metadata(path)?.permissions().mode() & 0o777
    ))
}

/// The names in `dir`, sorted.
fn listing(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut names = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<std::io::Result<Vec<_>>>()?;
    names.sort();
    Ok(names)
}

/// A backup is readable by its owner only, is created exclusively (an existing file, or a
/// symlink pointing anywhere, is refused and left as it was) and a refused backup leaves
/// no stray file behind.
#[tokio::test]
async fn backups_are_private_and_never_replace_or_follow_what_is_there() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite:{}", dir.path().join("live.db").display());
    let store = Store::<Sqlite>::new(&url, EncryptionKey::generate()).await?;
    store.migrate().await?;
    store
        .create_user(&User::new("b@example.com", "hash"))
        .await?;

    let backups = dir.path().join("backups");
    std::fs::create_dir(&backups)?;
    let backup = backups.join("one.db");
    store.backup_to(&backup).await?;
    assert_eq!(mode(&backup)?, "600", "backup mode");
    Store::<Sqlite>::check_database_file(&backup).await?;

    let existing = backups.join("existing.db");
    std::fs::write(&existing, b"precious")?;
    let err = store.backup_to(&existing).await.unwrap_err();
    assert!(
        matches!(err, Error::InvalidInput { field: "path", .. }),
        "{err:?}"
    );
    assert_eq!(std::fs::read(&existing)?, b"precious");

    // A symlink to a file that does not exist yet: the backup must not create it.
    let elsewhere = dir.path().join("elsewhere.db");
    let link = backups.join("link.db");
    std::os::unix::fs::symlink(&elsewhere, &link)?;
    let err = store.backup_to(&link).await.unwrap_err();
    assert!(
        matches!(err, Error::InvalidInput { field: "path", .. }),
        "{err:?}"
    );
    assert!(!elsewhere.exists(), "nothing written through the link");
    assert!(std::fs::symlink_metadata(&link)?.file_type().is_symlink());
    assert_eq!(listing(&backups)?, ["existing.db", "link.db", "one.db"]);
    Ok(())
}

/// Restoring through a symlinked database path writes the file the link points to, keeps
/// that file's mode and owner, removes stale `-wal` / `-shm` files, and leaves the link a
/// link.
#[tokio::test]
async fn restore_through_a_symlink_writes_the_real_file_and_keeps_mode_and_owner()
-> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let real = dir.path().join("data/real.db");
    let link = dir.path().join("pierre.db");
    std::fs::create_dir(dir.path().join("data"))?;
    std::os::unix::fs::symlink("data/real.db", &link)?;
    let url = format!("sqlite:{}", link.display());
    let key = EncryptionKey::generate();

    let store = Store::<Sqlite>::new(&url, key.clone()).await?;
    store.migrate().await?;
    let kept = User::new("kept@example.com", "hash");
    store.create_user(&kept).await?;
    let backup = dir.path().join("backup.db");
    store.backup_to(&backup).await?;
    store
        .create_user(&User::new("later@example.com", "hash"))
        .await?;
    store.close().await;

    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640))?;
    let as_root = std::fs::metadata(dir.path())?.uid() == 0;
    if as_root {
        std::os::unix::fs::chown(&real, Some(4242), Some(4343))?;
    }
    let owner = std::fs::metadata(&real).map(|m| (m.uid(), m.gid()))?;
    // Stale files of an earlier crash, next to the real database.
    std::fs::write(dir.path().join("data/real.db-wal"), b"stale wal")?;
    std::fs::write(dir.path().join("data/real.db-shm"), b"stale shm")?;

    Store::<Sqlite>::restore_file(&url, &backup).await?;

    assert!(
        std::fs::symlink_metadata(&link)?.file_type().is_symlink(),
        "the link is still a link"
    );
    assert_eq!(mode(&real)?, "640", "the database keeps its mode");
    let meta = std::fs::metadata(&real)?;
    assert_eq!((meta.uid(), meta.gid()), owner, "and its owner");
    assert_eq!(
        listing(&dir.path().join("data"))?,
        ["real.db"],
        "no stale -wal / -shm"
    );
    let store = Store::<Sqlite>::new(&format!("sqlite:{}", real.display()), key).await?;
    assert_eq!(store.get_user(kept.id).await?, Some(kept));
    assert_eq!(store.get_user_by_email("later@example.com").await?, None);
    Ok(())
}
