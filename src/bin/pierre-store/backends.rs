//! What the admin tool does differently per backend: backups and restores.

use std::{future::Future, path::Path, process::Stdio};

use eyre::{WrapErr, bail, eyre};
use pierre_store::{
    Backend, EncryptionKey, MySql, Postgres, Sqlite, StagedFile, Store, redact_url,
};

use crate::mysql_tools;

/// A backend the admin tool can back up and restore.
pub trait AdminBackend: Backend {
    /// What to do about the database at `url`, which does not exist, for the error that
    /// says so.
    fn missing_database_hint(url: &str) -> String;
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
    fn missing_database_hint(_url: &str) -> String {
        "the file does not exist; `pierre-store init` creates one (check the path first)".into()
    }

    async fn backup(store: &Store<Self>, _url: &str, path: &Path) -> eyre::Result<()> {
        Ok(store.backup_to(path).await?)
    }

    async fn restore(url: &str, path: &Path) -> eyre::Result<()> {
        Ok(Store::<Sqlite>::restore_file(url, path).await?)
    }
}

impl AdminBackend for Postgres {
    fn missing_database_hint(_url: &str) -> String {
        "the server has no such database; create it (`createdb`, or `CREATE DATABASE ... \
         OWNER <role>`), then run `pierre-store init`"
            .into()
    }

    /// `pg_dump --format=custom` into a [`StagedFile`]: private (0600), never replacing
    /// anything, at `path` only once complete. On a database with migration
    /// `20261201000001` it reads through row-level security with `pierre.all_tenants` on for
    /// its session, so an ordinary owning role dumps every tenant's activities; on an older
    /// one it dumps as before (a superuser succeeds, an ordinary role gets pg_dump's
    /// row-level security error). Either way the archive's activities are counted before it
    /// is kept: none archived while the database holds some fails the backup.
    async fn backup(store: &Store<Self>, url: &str, path: &Path) -> eyre::Result<()> {
        let all_tenants_policy = store
            .migration_status()
            .await?
            .iter()
            .any(|m| m.version == ALL_TENANTS_MIGRATION && m.applied);
        let activities = activity_count(store).await?;
        let file = StagedFile::create(path)?;
        let staged = file.staged_path().to_string_lossy().into_owned();
        let mut args = vec!["--format=custom", "--no-owner"];
        let url = if all_tenants_policy {
            args.push("--enable-row-security");
            with_all_tenants(url)
        } else {
            url.to_owned()
        };
        args.extend(["--file", &staged]);
        run_tool("pg_dump", &url, &args, None).await?;
        let archived = archived_rows(file.staged_path(), "activities").await?;
        if activities > 0 && archived == 0 {
            bail!(
                "the dump holds no activities although the database has {activities}: \
                 row-level security hid them (is the setting pierre.all_tenants passed \
                 through? a pooler may drop the `options` parameter: back up from the \
                 server directly); nothing written"
            );
        }
        Ok(file.persist()?)
    }

    async fn restore(url: &str, path: &Path) -> eyre::Result<()> {
        if !path.is_file() {
            bail!("backup {} does not exist", path.display());
        }
        run_tool(
            "pg_restore",
            url,
            &[
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
            ],
            Some(path),
        )
        .await
    }
}

impl AdminBackend for MySql {
    fn missing_database_hint(url: &str) -> String {
        // Quoted only when it must be, the hint being quoted itself.
        let name = match mysql_tools::database_name(url) {
            None => "<database>".to_owned(),
            Some(name) if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => name,
            Some(name) => format!("`{}`", name.replace('`', "``")),
        };
        format!(
            "the server has no such database; as an administrator, create it (`CREATE \
             DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`) and grant it to the \
             store's user (`GRANT ALL PRIVILEGES ON {name}.* TO 'app'@'%'`), then run \
             `pierre-store init`"
        )
    }

    /// `mariadb-dump` (or `mysqldump`) into a [`StagedFile`]: private (0600), never
    /// replacing anything, at `path` only once the dump is complete. See
    /// [`mysql_tools::dump`].
    async fn backup(_store: &Store<Self>, url: &str, path: &Path) -> eyre::Result<()> {
        let file = StagedFile::create(path)?;
        mysql_tools::dump(url, file.staged_path()).await?;
        Ok(file.persist()?)
    }

    /// Drops everything in the database, then runs the dump through `mariadb` (or `mysql`):
    /// see [`mysql_tools::restore`]. Refused first, nothing changed, when the server would
    /// refuse the user the dump's triggers and procedure
    /// ([`Store::check_migration_privileges`]): dropping the tables and then failing at the
    /// first trigger would lose the data.
    async fn restore(url: &str, path: &Path) -> eyre::Result<()> {
        // The check reads no encrypted column: any key will do.
        let store = Store::<MySql>::new(url, EncryptionKey::generate())
            .await
            .wrap_err_with(|| format!("cannot open {}", redact_url(url)))?;
        let checked = store.check_migration_privileges().await;
        store.close().await;
        checked.wrap_err("cannot restore")?;
        mysql_tools::restore(url, path).await
    }
}

/// The migration whose policy lets a session with `pierre.all_tenants` on read every
/// tenant's activities.
const ALL_TENANTS_MIGRATION: i64 = 20_261_201_000_001;

/// Rows of `activities` as the store counts them (every tenant's on a migrated database).
async fn activity_count(store: &Store<Postgres>) -> eyre::Result<u64> {
    Ok(store
        .table_counts()
        .await?
        .rows
        .iter()
        .find(|(table, _)| *table == "activities")
        .map_or(0, |(_, rows)| *rows))
}

/// How many rows of `table` the pg_dump archive at `path` holds: the lines of its `COPY`
/// data, streamed through `pg_restore --data-only` (no database involved).
async fn archived_rows(path: &Path, table: &str) -> eyre::Result<u64> {
    use std::io::BufRead;

    let (path, table) = (path.to_owned(), table.to_owned());
    tokio::task::spawn_blocking(move || {
        let mut child = std::process::Command::new("pg_restore")
            .args(["--data-only", "--table", &table, "--file", "-", "--"])
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .wrap_err("cannot run pg_restore to check the backup")?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| eyre!("no pg_restore output"))?;
        let (mut rows, mut in_copy) = (0_u64, false);
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line?;
            if in_copy {
                if line == "\\." {
                    in_copy = false;
                } else {
                    rows += 1;
                }
            } else if line.starts_with("COPY ") {
                in_copy = true;
            }
        }
        if !child.wait()?.success() {
            bail!("pg_restore cannot read the backup it was checking");
        }
        Ok(rows)
    })
    .await?
}

/// `url` with `-c pierre.all_tenants=on` added to its `options` parameter (libpq's, which
/// wins over `PGOPTIONS`), for a session that must read every tenant's activities. The
/// query is edited as text, spaces written `%20` (libpq does not read `+` as a space).
fn with_all_tenants(url: &str) -> String {
    const SETTING: &str = "-c%20pierre.all_tenants%3Don";
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut pairs: Vec<String> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(str::to_owned)
        .collect();
    match pairs.iter_mut().find(|pair| pair.starts_with("options=")) {
        Some(options) => {
            options.push_str("%20");
            options.push_str(SETTING);
        }
        None => pairs.push(format!("options={SETTING}")),
    }
    format!("{base}?{}", pairs.join("&"))
}

/// Runs a PostgreSQL client tool against `url`, then `path` (after `--`, so that no path
/// is taken for an option). The password, wherever the URL holds it, goes in `PGPASSWORD`:
/// never on the command line, which other local users can read. A clear one-line error
/// when the tool is not installed or fails.
async fn run_tool(tool: &str, url: &str, args: &[&str], path: Option<&Path>) -> eyre::Result<()> {
    let (url, password) = pierre_store::split_url_password(url)?;
    let mut command = tokio::process::Command::new(tool);
    if let Some(password) = password {
        command.env("PGPASSWORD", password.expose());
    }
    command.args(args).args(["--dbname", &url]);
    if let Some(path) = path {
        command.arg("--").arg(path);
    }
    let output = command
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
        let lines = stderr_lines(&output.stderr);
        return Err(eyre!("{}", lines.join(" / "))).wrap_err(format!("{tool} failed"));
    }
    Ok(())
}

/// A client tool's standard error as its non-blank lines, trimmed: what its failure says,
/// to put on one line.
pub fn stderr_lines(stderr: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stderr)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use pierre_store::MySql;

    use super::{AdminBackend, with_all_tenants};

    #[test]
    fn the_mysql_missing_database_hint_names_the_urls_database() {
        let hint =
            MySql::missing_database_hint("mysql://app:pw@db:3306/shop_store?ssl-mode=required");
        assert!(
            hint.contains("CREATE DATABASE shop_store CHARACTER SET")
                && hint.contains("ON shop_store.* TO"),
            "{hint}"
        );
        let hint = MySql::missing_database_hint("mysql://app@db/odd%60name-1");
        assert!(hint.contains("CREATE DATABASE `odd``name-1` "), "{hint}");
        let hint = MySql::missing_database_hint("mysql://app@db");
        assert!(hint.contains("CREATE DATABASE <database> "), "{hint}");
    }

    #[test]
    fn the_all_tenants_setting_joins_any_options_already_given() {
        assert_eq!(
            with_all_tenants("postgres://app@db/pierre"),
            "postgres://app@db/pierre?options=-c%20pierre.all_tenants%3Don"
        );
        assert_eq!(
            with_all_tenants("postgres://app@db/pierre?sslmode=require"),
            "postgres://app@db/pierre?sslmode=require&options=-c%20pierre.all_tenants%3Don"
        );
        assert_eq!(
            with_all_tenants("postgres://app@db/pierre?options=-c%20work_mem%3D64MB&x=1"),
            "postgres://app@db/pierre?options=-c%20work_mem%3D64MB%20-c%20pierre.all_tenants%3Don&x=1"
        );
    }
}
