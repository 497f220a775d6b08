//! MySQL / MariaDB with binary logging on: an ordinary user (all privileges on its
//! database, no `SUPER`) may not create triggers or procedures there unless
//! `log_bin_trust_function_creators` is on (error 1419). `migrate` and `restore` must refuse
//! before changing anything, saying what to do, rather than fail half-way.
//!
//! Needs the throwaway server of `scripts/with-mariadb --log-bin` (`TEST_MYSQL_LOG_BIN_URL`,
//! a login with every privilege): `scripts/run-tests` runs this file under it. Without the
//! variable every test fails, saying so; none is skipped.

use std::process::Command;

use pierre_store::{EncryptionKey, Error, MySql, Store};
use sqlx::{AssertSqlSafe, Connection, MySqlConnection};

/// The server with binary logging on, as a user with every privilege.
fn admin_url() -> String {
    std::env::var("TEST_MYSQL_LOG_BIN_URL").expect(
        "TEST_MYSQL_LOG_BIN_URL is not set: run this test under `scripts/with-mariadb \
         --log-bin` (scripts/run-tests does)",
    )
}

/// `admin_url` with its database replaced by `database` (and its login by `user`, password
/// `pw`, when given).
fn url_for(database: &str, user: Option<&str>) -> String {
    let mut url = url::Url::parse(&admin_url()).expect("a URL");
    url.set_path(database);
    if let Some(user) = user {
        url.set_username(user).expect("a user");
        url.set_password(Some("pw")).expect("a password");
    }
    url.to_string()
}

/// Runs `statements` as the administrator.
async fn admin(statements: &[String]) -> eyre::Result<()> {
    let mut conn = MySqlConnection::connect(&admin_url()).await?;
    for statement in statements {
        sqlx::raw_sql(AssertSqlSafe(statement.as_str()))
            .execute(&mut conn)
            .await?;
    }
    conn.close().await?;
    Ok(())
}

/// A fresh database `name` (with a table `kept` of one row) and an ordinary user `name`
/// with all privileges on it and none elsewhere.
async fn database_and_user(name: &str) -> eyre::Result<()> {
    admin(&[
        format!("DROP DATABASE IF EXISTS {name}"),
        format!("DROP USER IF EXISTS '{name}'@'%'"),
        format!("CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"),
        format!("CREATE TABLE {name}.kept (id INT PRIMARY KEY)"),
        format!("INSERT INTO {name}.kept VALUES (1)"),
        format!("CREATE USER '{name}'@'%' IDENTIFIED BY 'pw'"),
        format!("GRANT ALL PRIVILEGES ON {name}.* TO '{name}'@'%'"),
    ])
    .await
}

/// The tables of database `name`.
async fn tables(name: &str) -> eyre::Result<Vec<String>> {
    let mut conn = MySqlConnection::connect(&admin_url()).await?;
    let tables = sqlx::query_scalar::<_, String>(
        "SELECT CAST(table_name AS CHAR) FROM information_schema.tables \
         WHERE table_schema = ? ORDER BY table_name",
    )
    .bind(name)
    .fetch_all(&mut conn)
    .await?;
    conn.close().await?;
    Ok(tables)
}

#[track_caller]
fn assert_names_the_fix(message: &str) {
    assert!(
        message.contains("binary logging")
            && message.contains("SET GLOBAL log_bin_trust_function_creators = 1")
            && message.contains("SUPER")
            && message.contains("nothing was changed"),
        "{message}"
    );
}

/// One test: the server-wide setting it changes would otherwise race with the other checks.
#[tokio::test]
async fn a_user_without_super_is_refused_before_anything_changes() -> eyre::Result<()> {
    restore_refuses_before_dropping_anything().await?;
    migrate_refuses_before_applying_anything().await
}

/// `migrate` and `migrate_to` refuse; the fix the message names, or SUPER, lets them run.
async fn migrate_refuses_before_applying_anything() -> eyre::Result<()> {
    let name = "pierre_binlog_migrate";
    database_and_user(name).await?;
    let store = Store::<MySql>::new(&url_for(name, Some(name)), EncryptionKey::generate()).await?;
    match store.migrate().await {
        Err(Error::Config(message)) => assert_names_the_fix(&message),
        other => panic!("expected Error::Config, got {other:?}"),
    }
    match store
        .migrate_to(store.migration_status().await?[0].version)
        .await
    {
        Err(Error::Config(message)) => assert_names_the_fix(&message),
        other => panic!("expected Error::Config, got {other:?}"),
    }
    assert_eq!(tables(name).await?, ["kept"], "nothing applied");
    assert!(store.migration_status().await?.iter().all(|m| !m.applied));

    // The fix the message names works, and a migrated database is not refused again.
    admin(&["SET GLOBAL log_bin_trust_function_creators = 1".into()]).await?;
    let migrated = store.migrate().await;
    admin(&["SET GLOBAL log_bin_trust_function_creators = 0".into()]).await?;
    migrated?;
    store.migrate().await?;
    store
        .check_migration_privileges()
        .await
        .expect_err("still refused to create");
    store.close().await;

    // So does migrating as a user with SUPER.
    let name = "pierre_binlog_super";
    database_and_user(name).await?;
    admin(&[format!("GRANT SUPER ON *.* TO '{name}'@'%'")]).await?;
    let store = Store::<MySql>::new(&url_for(name, Some(name)), EncryptionKey::generate()).await?;
    store.check_migration_privileges().await?;
    store.migrate().await?;
    store.close().await;
    Ok(())
}

/// `pierre-store restore` refuses, the database untouched.
async fn restore_refuses_before_dropping_anything() -> eyre::Result<()> {
    let name = "pierre_binlog_restore";
    database_and_user(name).await?;
    let dir = tempfile::tempdir()?;
    let backup = dir.path().join("backup.sql");
    std::fs::write(
        &backup,
        "CREATE TABLE restored (id INT);\n-- Dump completed on 2026-11-30 20:00:00\n",
    )?;
    let out = Command::new(env!("CARGO_BIN_EXE_pierre-store"))
        .env_remove("DATABASE_URL")
        .env_remove("DATABASE_ENCRYPTION_KEY")
        .args(["--database-url", &url_for(name, Some(name)), "restore"])
        .arg(&backup)
        .output()?;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "restored: {err}");
    assert!(err.starts_with("error: cannot restore"), "{err}");
    assert_names_the_fix(&err);
    assert_eq!(tables(name).await?, ["kept"], "nothing dropped or restored");
    Ok(())
}
