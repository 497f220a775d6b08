//! What the admin tool does differently per backend (backups and restores), and which
//! backend a URL names.

use std::{future::Future, path::Path, process::Stdio};

use eyre::{WrapErr, bail, eyre};
use pierre_store::{Backend, Postgres, Sqlite, Store};

/// The backend a database URL names by its scheme: how the tool picks one at run time.
pub enum UrlBackend {
    /// `sqlite:`
    Sqlite,
    /// `postgres:` or `postgresql:`
    Postgres,
}

/// The backend of `url`, or an error naming the accepted schemes.
pub fn backend_of(url: &str) -> eyre::Result<UrlBackend> {
    match url.split_once(':').map(|(scheme, _)| scheme) {
        Some("sqlite") => Ok(UrlBackend::Sqlite),
        Some("postgres" | "postgresql") => Ok(UrlBackend::Postgres),
        _ => bail!(
            "unsupported database URL {:?}: use sqlite:<path> or postgres://...",
            pierre_store::redact_url(url)
        ),
    }
}

/// A backend the admin tool can back up and restore.
pub trait AdminBackend: Backend {
    /// What to do about a database that does not exist, for the error that says so.
    const MISSING_DATABASE_HINT: &'static str;
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
    const MISSING_DATABASE_HINT: &'static str =
        "the file does not exist; `pierre-store init` creates one (check the path first)";

    async fn backup(store: &Store<Self>, _url: &str, path: &Path) -> eyre::Result<()> {
        Ok(store.backup_to(path).await?)
    }

    async fn restore(url: &str, path: &Path) -> eyre::Result<()> {
        Ok(Store::<Sqlite>::restore_file(url, path).await?)
    }
}

impl AdminBackend for Postgres {
    const MISSING_DATABASE_HINT: &'static str = "the server has no such database; create it \
        (`createdb`, or `CREATE DATABASE ... OWNER <role>`), then run `pierre-store init`";

    async fn backup(_store: &Store<Self>, url: &str, path: &Path) -> eyre::Result<()> {
        if path.exists() {
            bail!("{} already exists", path.display());
        }
        let path = path.to_string_lossy().into_owned();
        run_tool(
            "pg_dump",
            url,
            &["--format=custom", "--no-owner", "--file", &path],
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
            url,
            &[
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                &path,
            ],
        )
        .await
    }
}

/// `url` without the password of its `user:password@` part, and that password
/// (percent-decoded), so the password can travel in `PGPASSWORD` instead of on a command
/// line that other local users can read.
fn split_password(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_owned(), None);
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, password)) => (
                format!("{scheme}://{user}@{host}{tail}"),
                Some(percent_decode(password)),
            ),
            None => (url.to_owned(), None),
        },
        None => (url.to_owned(), None),
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Runs a PostgreSQL client tool against `url` (password passed in `PGPASSWORD`); a clear
/// error when it is not installed or fails.
async fn run_tool(tool: &str, url: &str, args: &[&str]) -> eyre::Result<()> {
    let (url, password) = split_password(url);
    let mut command = tokio::process::Command::new(tool);
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    let output = command
        .args(args)
        .args(["--dbname", &url])
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

#[cfg(test)]
mod tests {
    use super::split_password;

    #[test]
    fn passwords_leave_the_url_for_pgpassword() {
        assert_eq!(
            split_password("postgres://app:s%40cret%3A1@db:5432/pierre?sslmode=require"),
            (
                "postgres://app@db:5432/pierre?sslmode=require".to_owned(),
                Some("s@cret:1".to_owned())
            )
        );
        assert_eq!(
            split_password("postgres://app@db/pierre"),
            ("postgres://app@db/pierre".to_owned(), None)
        );
        assert_eq!(
            split_password("postgres://db/pierre"),
            ("postgres://db/pierre".to_owned(), None)
        );
    }
}
