use std::path::Path;

use sqlx::SqlitePool;

/// Writes a consistent copy of the database to `path` (which must not exist).
pub(crate) async fn vacuum_into(pool: &SqlitePool, path: &Path) -> sqlx::Result<()> {
    let path = path.to_string_lossy();
    sqlx::query!("VACUUM INTO ?1", path).execute(pool).await?;
    Ok(())
}
