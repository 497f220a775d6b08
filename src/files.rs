//! Files that must appear whole, private and without replacing anything: backups.

use std::{
    fs,
    io::ErrorKind,
    os::unix::fs::OpenOptionsExt,
    path::{Path, PathBuf},
};

use crate::{Error, Result};

/// A new file on its way to `path`: written under a temporary name in the same directory
/// (created exclusively, mode 0600, readable by its owner only), then linked at `path` in
/// one step when complete. Until [`StagedFile::persist`] succeeds nothing is at `path`, and
/// dropping the `StagedFile` (after a failed write, say) removes the temporary file.
/// `persist` never replaces what is at `path`, even something that appeared there while
/// the file was being written, and never follows a symbolic link there.
///
/// On a filesystem without hard links (vfat, exFAT, some network and FUSE mounts) the
/// file is copied to `path`, created exclusively, instead: still never replacing anything,
/// but a reader could then see it before it is complete.
#[derive(Debug)]
pub struct StagedFile {
    path: PathBuf,
    staged: PathBuf,
    persisted: bool,
}

impl StagedFile {
    /// Creates the empty temporary file for `path` (`.<name>.<random>.partial` beside it,
    /// mode 0600).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] (field `path`) when something already exists at `path` (a
    /// file, a directory, a symbolic link even if dangling) or `path` has no file name;
    /// [`Error::Io`] when the temporary file cannot be created (e.g. no such directory).
    pub fn create(path: &Path) -> Result<Self> {
        refuse_existing(path)?;
        let name = path
            .file_name()
            .ok_or_else(|| Error::invalid("path", format!("{} names no file", path.display())))?;
        let mut staged_name = std::ffi::OsString::from(".");
        staged_name.push(name);
        staged_name.push(format!(".{}.partial", uuid::Uuid::new_v4().simple()));
        let staged = path.with_file_name(staged_name);
        fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&staged)
            .map_err(|source| Error::Io {
                path: staged.clone(),
                source,
            })?;
        Ok(Self {
            path: path.to_path_buf(),
            staged,
            persisted: false,
        })
    }

    /// Where to write the contents (an existing, empty, private file).
    #[must_use]
    pub fn staged_path(&self) -> &Path {
        &self.staged
    }

    /// Flushes the written file to disk and links it at `path`, then removes the temporary
    /// name and flushes the directory: from then on the complete file is at `path`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] (field `path`) when something appeared at `path` meanwhile
    /// (left untouched; the temporary file is removed); [`Error::Io`].
    pub fn persist(mut self) -> Result<()> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| Error::Io { path, source }
        };
        fs::File::open(&self.staged)
            .and_then(|f| f.sync_all())
            .map_err(io(&self.staged))?;
        match link_new(&self.staged, &self.path) {
            Err(e) if e.kind() == ErrorKind::AlreadyExists => return Err(exists(&self.path)),
            result => result.map_err(io(&self.path))?,
        }
        self.persisted = true;
        fs::remove_file(&self.staged).map_err(io(&self.staged))?;
        let dir = self
            .path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io(dir))
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        if !self.persisted {
            let _ = fs::remove_file(&self.staged);
        }
    }
}

/// Puts the complete file `staged` at `path` unless something is there already (then
/// `AlreadyExists`, nothing changed; a symbolic link at `path` is never followed): a hard
/// link, so `path` appears whole in one step; where the filesystem has no hard links, an
/// exclusive create of `path` (`O_CREAT | O_EXCL`, mode 0600) and a synced copy.
pub(crate) fn link_new(staged: &Path, path: &Path) -> std::io::Result<()> {
    const EPERM: i32 = 1;
    const ENOSYS: i32 = 38;
    const EOPNOTSUPP: i32 = 95;
    match fs::hard_link(staged, path) {
        Err(e) if matches!(e.raw_os_error(), Some(EPERM | ENOSYS | EOPNOTSUPP)) => {
            let mut target = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)?;
            let copied = std::io::copy(&mut fs::File::open(staged)?, &mut target)
                .and_then(|_| target.sync_all());
            if copied.is_err() {
                let _ = fs::remove_file(path);
            }
            copied
        }
        result => result,
    }
}

/// `Ok` when nothing at all is at `path` (not even a dangling symbolic link).
fn refuse_existing(path: &Path) -> Result<()> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(source) => Err(Error::Io {
            path: path.to_path_buf(),
            source,
        }),
        Ok(_) => Err(exists(path)),
    }
}

fn exists(path: &Path) -> Error {
    Error::invalid("path", format!("{} already exists", path.display()))
}
