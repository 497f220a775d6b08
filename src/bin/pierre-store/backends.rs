//! What the admin tool does differently per backend: backups and restores.

use std::{future::Future, path::Path, process::Stdio};

use eyre::{WrapErr, bail, eyre};
use pierre_store::{Backend, Postgres, Sqlite, Store};

/// A backend the admin tool can back up and restore.
pub trait AdminBackend: Backend {
    /// Writes a backup of the database behind `store` to `path`.
    fn backup(
        store: &Store<Self>,
        url: &str,
        path: &Path,
    ) -> impl Future<Output = eyre::Result<()>> + Send;
    /// Replaces the database at `url` with the backup at `path`.
    fn restore(url: &str, path: &Path) -> impl Future<Output = eyre::Result<()>> + Send;
}

impl AdminBackend for Sqlite {
    async fn backup(store: &Store<Self>, _url: &str, path: &Path) -> eyre::Result<()> {
        Ok(store.backup_to(path).await?)
    }

    async fn restore(url: &str, path: &Path) -> eyre::Result<()> {
        Ok(Store::<Sqlite>::restore_file(url, path).await?)
    }
}

impl AdminBackend for Postgres {
    async fn backup(_store: &Store<Self>, url: &str, path: &Path) -> eyre::Result<()> {
        if path.exists() {
            bail!("{} already exists", path.display());
        }
        let path = path.to_string_lossy().into_owned();
        run_tool(
            "pg_dump",
            &[
                "--format=custom",
                "--no-owner",
                "--file",
                &path,
                "--dbname",
                url,
            ],
        )
        .await
    }

    async fn restore(url: &str, path: &Path) -> eyre::Result<()> {
        if !path.is_file() {
            bail!("backup {} does not exist", path.display());
        }
        let path = path.to_string_lossy().into_owned();
        run_tool(
            "pg_restore",
            &[
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                "--dbname",
                url,
                &path,
            ],
        )
        .await
    }
}

/// Runs a PostgreSQL client tool; a clear error when it is not installed or fails.
async fn run_tool(tool: &str, args: &[&str]) -> eyre::Result<()> {
    let output = tokio::process::Command::new(tool)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                eyre!("{tool} is not installed (it comes with the PostgreSQL client tools, e.g. Debian's postgresql-client)")
            } else {
                eyre!(e).wrap_err(format!("cannot run {tool}"))
            }
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(eyre!("{}", stderr.trim())).wrap_err(format!("{tool} failed"));
    }
    Ok(())
}
