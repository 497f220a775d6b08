use std::{path::Path, str::FromStr, time::Duration};

use sqlx::{
    ConnectOptions, Connection, SqliteConnection, SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode},
};

/// Writes a consistent copy of the database to `path` (which must not exist).
pub(crate) async fn vacuum_into(pool: &SqlitePool, path: &Path) -> sqlx::Result<()> {
    let path = path.to_string_lossy();
    sqlx::query!("VACUUM INTO ?1", path).execute(pool).await?;
    Ok(())
}

/// SQLite's own consistency check of the database file at `path`, opened read-only:
/// `["ok"]` for a sound database, else the problems found.
pub(crate) async fn integrity_check(path: &Path) -> sqlx::Result<Vec<String>> {
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .connect()
        .await?;
    let problems = sqlx::query_scalar!(
        r#"SELECT CAST(integrity_check AS TEXT) AS "problem!: String" FROM pragma_integrity_check"#
    )
    .fetch_all(&mut conn)
    .await?;
    conn.close().await?;
    Ok(problems)
}

/// A connection to the database at `url` holding its exclusive lock, or `Ok(None)` when
/// another connection (of any process) has the database open.
///
/// It asks to leave WAL mode, which SQLite only does when no other connection is open
/// (otherwise the mode silently stays `wal`), and then takes the exclusive lock.
pub(crate) async fn lock_exclusively(url: &str) -> sqlx::Result<Option<SqliteConnection>> {
    let connected = SqliteConnectOptions::from_str(url)?
        .journal_mode(SqliteJournalMode::Delete)
        .busy_timeout(Duration::ZERO)
        .connect()
        .await;
    let mut conn = match connected {
        Ok(conn) => conn,
        Err(sqlx::Error::Database(e)) if e.message().contains("locked") => return Ok(None),
        Err(e) => return Err(e),
    };
    let mode = sqlx::query_scalar!(
        r#"SELECT CAST(journal_mode AS TEXT) AS "mode!: String" FROM pragma_journal_mode"#
    )
    .fetch_one(&mut conn)
    .await?;
    if mode != "delete" {
        return Ok(None);
    }
    match sqlx::query!("BEGIN EXCLUSIVE").execute(&mut conn).await {
        Ok(_) => Ok(Some(conn)),
        Err(sqlx::Error::Database(e)) if e.message().contains("locked") => Ok(None),
        Err(e) => Err(e),
    }
}
