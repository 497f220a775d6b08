//! What only the embedded backend can do with its database file: back it up, check a
//! backup, and put a backup in place.

use std::{
    fs,
    path::{Path, PathBuf},
    str::FromStr,
};

use sqlx::{Sqlite, sqlite::SqliteConnectOptions};

use crate::{Error, Result, Store, backend::sqlite};

impl Store<Sqlite> {
    /// Writes a consistent copy of the live database to `path` (SQLite's `VACUUM INTO`,
    /// with the path bound as a parameter), while the store keeps serving. The copy opens
    /// as a normal database.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when `path` already exists; [`Error::Database`] when SQLite
    /// cannot write it.
    pub async fn backup_to(&self, path: &Path) -> Result<()> {
        if path.exists() {
            return Err(Error::invalid(
                "path",
                format!("{} already exists", path.display()),
            ));
        }
        sqlite::vacuum_into(&self.pool, path).await?;
        Ok(())
    }

    /// Runs SQLite's `integrity_check` on the database file at `path`, opened read-only.
    ///
    /// # Errors
    /// [`Error::Database`] when `path` is not a SQLite database; [`Error::CorruptData`]
    /// listing the problems when the check fails.
    pub async fn check_database_file(path: &Path) -> Result<()> {
        let problems = sqlite::integrity_check(path).await?;
        if problems == ["ok"] {
            Ok(())
        } else {
            Err(Error::CorruptData {
                field: "database file",
                reason: problems.join("; "),
            })
        }
    }

    /// Replaces the database at `database_url` with the backup at `backup`, safely:
    /// the backup must pass [`Store::check_database_file`]; the live database must not be
    /// open anywhere else (stop the server first); the backup is copied next to the live
    /// file, flushed to disk and renamed over it, so a crash leaves either the old or the
    /// new database, never a mix.
    ///
    /// # Errors
    /// [`Error::Busy`] when another connection or process has the database open;
    /// [`Error::CorruptData`] / [`Error::Database`] for a bad backup; [`Error::Io`].
    pub async fn restore_file(database_url: &str, backup: &Path) -> Result<()> {
        crate::config::check_scheme::<Sqlite>(database_url)?;
        Self::check_database_file(backup).await?;
        let live = SqliteConnectOptions::from_str(database_url)?
            .get_filename()
            .to_path_buf();
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| Error::Io { path, source }
        };
        // Hold the exclusive lock while the file is swapped, if there is a file.
        let _lock = if live.exists() {
            match sqlite::lock_exclusively(database_url).await? {
                Some(conn) => Some(conn),
                None => {
                    return Err(Error::Busy(format!(
                        "{} is open in another process; stop it before restoring",
                        live.display()
                    )));
                }
            }
        } else {
            None
        };
        let staged = sibling(&live, ".restoring");
        fs::copy(backup, &staged).map_err(io(&staged))?;
        fs::File::open(&staged)
            .and_then(|f| f.sync_all())
            .map_err(io(&staged))?;
        fs::rename(&staged, &live).map_err(io(&live))?;
        for stale in [sibling(&live, "-wal"), sibling(&live, "-shm")] {
            match fs::remove_file(&stale) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&stale)(e)),
                _ => {}
            }
        }
        if let Some(dir) = live.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(io(dir))?;
        }
        Ok(())
    }
}

/// `path` with `suffix` appended to its file name.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}
