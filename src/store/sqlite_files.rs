//! What only the embedded backend can do with its database file: back it up, check a
//! backup, and put a backup in place.

use std::{
    fs,
    os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt, fchown},
    path::{Path, PathBuf},
    str::FromStr,
};

use sqlx::{Sqlite, sqlite::SqliteConnectOptions};

use crate::{Error, Result, StagedFile, Store, backend::sqlite};

impl Store<Sqlite> {
    /// Writes a consistent copy of the live database to `path` (SQLite's `VACUUM INTO`,
    /// with the path bound as a parameter), while the store keeps serving. The copy opens
    /// as a normal database. It is created exclusively and readable by its owner only
    /// (0600), and appears at `path` only once complete (see [`StagedFile`]): a failed
    /// backup leaves nothing there, and nothing already there is replaced or followed.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] (field `path`) when anything, even a dangling symbolic link,
    /// is at `path`; [`Error::Io`] when the file cannot be created; [`Error::Database`]
    /// when SQLite cannot write it.
    pub async fn backup_to(&self, path: &Path) -> Result<()> {
        let file = StagedFile::create(path)?;
        sqlite::vacuum_into(&self.pool, file.staged_path()).await?;
        file.persist()
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
    /// the live database must not be open anywhere else (stop the server first); the
    /// backup is copied next to the live file (the file the URL's path resolves to when it
    /// is a symbolic link, which stays a link), with that file's mode and owner (mode 0600
    /// when there is no live file yet); the copy must pass [`Store::check_database_file`]
    /// (so what is checked is what is put in place); stale `-wal` / `-shm` files are
    /// removed; then the copy is flushed to disk and renamed over the live file, so a crash
    /// leaves either the old or the new database, never a mix.
    ///
    /// # Errors
    /// [`Error::Busy`] when another connection or process has the database open;
    /// [`Error::CorruptData`] / [`Error::Database`] for a bad backup; [`Error::Io`] (also
    /// when the live file's owner cannot be kept, e.g. another user's file restored by
    /// someone other than root). The live database is unchanged in every error case.
    pub async fn restore_file(database_url: &str, backup: &Path) -> Result<()> {
        crate::config::check_scheme::<Sqlite>(database_url)?;
        let named = SqliteConnectOptions::from_str(database_url)?
            .get_filename()
            .to_path_buf();
        let live = resolve_links(&named).map_err(io(&named))?;
        let existing = match fs::metadata(&live) {
            Ok(meta) => Some(meta),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io(&live)(e)),
        };
        // Hold the exclusive lock while the file is swapped, if there is a file.
        let _lock = match existing {
            Some(_) => match sqlite::lock_exclusively(database_url).await? {
                Some(conn) => Some(conn),
                None => {
                    return Err(Error::Busy(format!(
                        "{} is open in another process; stop it before restoring",
                        live.display()
                    )));
                }
            },
            None => None,
        };
        let staged = sibling(&live, ".restoring");
        let result = async {
            stage_copy(backup, &staged, existing.as_ref())?;
            Self::check_database_file(&staged).await?;
            for stale in [sibling(&live, "-wal"), sibling(&live, "-shm")] {
                match fs::remove_file(&stale) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(io(&stale)(e));
                    }
                    _ => {}
                }
            }
            fs::rename(&staged, &live).map_err(io(&live))
        }
        .await;
        if result.is_err() {
            let _ = fs::remove_file(&staged);
        }
        result?;
        if let Some(dir) = live.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(io(dir))?;
        }
        Ok(())
    }
}

/// Copies `backup` to a new file at `staged` (replacing a leftover of an interrupted
/// restore) with the mode and owner of `like` (mode 0600 when `None`), flushed to disk.
fn stage_copy(backup: &Path, staged: &Path, like: Option<&fs::Metadata>) -> Result<()> {
    let mode = like.map_or(0o600, |meta| meta.permissions().mode() & 0o7777);
    match fs::remove_file(staged) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(staged)(e)),
        _ => {}
    }
    let mut source = fs::File::open(backup).map_err(io(backup))?;
    let mut out = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(staged)
        .map_err(io(staged))?;
    if let Some(meta) = like {
        fchown(&out, Some(meta.uid()), Some(meta.gid())).map_err(io(staged))?;
    }
    out.set_permissions(fs::Permissions::from_mode(mode))
        .map_err(io(staged))?;
    std::io::copy(&mut source, &mut out).map_err(io(staged))?;
    out.sync_all().map_err(io(staged))
}

/// `path` with every symbolic link in its last component followed, even to a file that
/// does not exist yet: the file SQLite opens for it.
fn resolve_links(path: &Path) -> std::io::Result<PathBuf> {
    let mut path = path.to_path_buf();
    for _ in 0..40 {
        match fs::read_link(&path) {
            Ok(target) => {
                path = match path.parent() {
                    Some(dir) => dir.join(target),
                    None => target,
                };
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::InvalidInput | std::io::ErrorKind::NotFound
                ) =>
            {
                return Ok(path);
            }
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("too many levels of symbolic links"))
}

/// Maps an I/O error on `path` to [`Error::Io`].
fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_path_buf();
    move |source| Error::Io { path, source }
}

/// `path` with `suffix` appended to its file name.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}
