//! The commands, written once for both backends.

mod copy;
mod demo;
mod maintenance;
mod setup;

use std::path::{Path, PathBuf};

use eyre::{WrapErr, bail};
use pierre_store::{EncryptionKey, Error, ForBackend, Store, StoreConfig, redact_url};

use crate::{
    backends::AdminBackend,
    cli::{Cli, Command},
    output::Output,
};

/// Runs `cli.command` on backend `B`.
pub async fn run<B: AdminBackend>(cli: Cli, url: String) -> eyre::Result<()> {
    let out = Output::new(cli.quiet, cli.verbose);
    let key_path = cli.key_path();
    out.detail(format!(
        "database {} ({} backend), key file {}",
        redact_url(&url),
        <B as sqlx::Database>::NAME,
        key_path.display()
    ));
    match cli.command {
        Command::Init => setup::init::<B>(&url, &key_path, out).await,
        Command::Restore { path } => {
            B::restore(&url, &path).await?;
            out.say(format!(
                "restored {} into {}",
                path.display(),
                redact_url(&url)
            ));
            Ok(())
        }
        command => {
            // Only `init` (and `copy` for its target) may create a database: the rest work on
            // an existing one and refuse a missing one, creating nothing.
            let store = open::<B>(&url, &key_path, cli.key_path.is_some(), false).await?;
            let result = match command {
                Command::Migrate { status: true, .. } => setup::migration_status(&store, out).await,
                Command::Migrate { to, .. } => setup::migrate(&store, to, out).await,
                Command::Status => setup::status(&store, &url, out).await,
                Command::Backup { path, replace } => {
                    backup(&store, &url, &path, replace).await?;
                    out.say(format!("backup written to {}", path.display()));
                    Ok(())
                }
                Command::RotateKey {
                    new_key,
                    servers_switched,
                    batch_size,
                } => {
                    maintenance::rotate_key(&store, &new_key, servers_switched, batch_size, out)
                        .await
                }
                Command::PruneUsage {
                    older_than,
                    batch_size,
                } => maintenance::prune_usage(&store, older_than, batch_size, out).await,
                Command::Maintain { months_ahead } => {
                    maintenance::maintain(&store, months_ahead, out).await
                }
                Command::Demo { force } => demo::demo(&store, force, out).await,
                Command::Copy { to } => {
                    async {
                        let to = Cli::copy_target(to)?;
                        let copy = CopyInto {
                            source: store.clone(),
                            to: to.clone(),
                            key_path: key_path.clone(),
                            path_given: cli.key_path.is_some(),
                            out,
                        };
                        pierre_store::run_for_url(&to, copy).await?
                    }
                    .await
                }
                Command::Init | Command::Restore { .. } => unreachable!("handled above"),
            };
            store.close().await;
            result
        }
    }
}

/// Writes a backup to `path`, which must not exist; with `replace`, to a new private file
/// beside it that is then renamed over `path` (replacing a symbolic link there, never
/// following it), so `path` holds the old backup or the new one, never a partial file.
async fn backup<B: AdminBackend>(
    store: &Store<B>,
    url: &str,
    path: &std::path::Path,
    replace: bool,
) -> eyre::Result<()> {
    if !replace {
        return B::backup(store, url, path).await;
    }
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    name.push(format!(".{}.new", uuid::Uuid::new_v4().simple()));
    let fresh = path.with_file_name(name);
    let written = B::backup(store, url, &fresh).await.and_then(|()| {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."));
        std::fs::rename(&fresh, path)
            .and_then(|()| std::fs::File::open(dir)?.sync_all())
            .wrap_err_with(|| format!("cannot move the new backup to {}", path.display()))
    });
    if written.is_err() {
        let _ = std::fs::remove_file(&fresh);
    }
    written
}

/// `copy`: opens (creating it if missing) the target database `to`, on the backend its URL
/// names, with the source's key, and copies `source` into it.
struct CopyInto<A: AdminBackend> {
    source: Store<A>,
    to: String,
    key_path: PathBuf,
    path_given: bool,
    out: Output,
}

impl<A: AdminBackend, T: AdminBackend> ForBackend<T> for CopyInto<A> {
    type Output = eyre::Result<()>;

    async fn run(self) -> Self::Output {
        let target = open::<T>(&self.to, &self.key_path, self.path_given, true).await?;
        copy::copy(&self.source, target, &self.to, self.out).await
    }
}

/// The store at `url` with the existing key: from `DATABASE_ENCRYPTION_KEY` unless a key
/// path was given on the command line, else from the key file, which must exist (a new key
/// would make every stored token unreadable). A missing SQLite database is created only
/// when `create` is set; see [`connect`].
async fn open<B: AdminBackend>(
    url: &str,
    key_path: &Path,
    path_given: bool,
    create: bool,
) -> eyre::Result<Store<B>> {
    let key = match StoreConfig::key_from_env()? {
        Some(key) if !path_given => key,
        _ => EncryptionKey::load(key_path)?,
    };
    connect(url, key, create).await
}

/// The store at `url` with `key` and the pool settings of the environment; a missing SQLite
/// file is created only when `create` is set. A database that does not exist is an error
/// saying how to make one. `DATABASE_READ_URLS` is ignored: the admin commands read what
/// they just wrote (`demo`, `copy`) or must see the primary itself, and the replicas of
/// the environment belong to its database, not to a `copy` target.
async fn connect<B: AdminBackend>(
    url: &str,
    key: EncryptionKey,
    create: bool,
) -> eyre::Result<Store<B>> {
    let mut config = StoreConfig::from_env_with_key(key)?;
    config.database_url = url.to_owned();
    config.read_urls.clear();
    config.create_if_missing = create;
    match Store::<B>::connect(config).await {
        Err(Error::NotFound {
            entity: "database", ..
        }) => bail!(
            "no database at {}: {}",
            redact_url(url),
            B::missing_database_hint(url)
        ),
        result => result.wrap_err_with(|| format!("cannot open {}", redact_url(url))),
    }
}
