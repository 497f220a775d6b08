//! Backups and restores on MySQL / MariaDB through the client tools: `mariadb-dump` and
//! `mariadb` (or `mysqldump` and `mysql` where the MariaDB names are not installed),
//! connected where sqlx connects for the same URL.
//!
//! The connection settings, the password among them, go in a temporary option file
//! (`--defaults-file`, mode 0600, removed afterwards): never on the command line, which
//! other local users can read, and not in the deprecated `MYSQL_PWD`. It is the only
//! option file the tools read: `/etc/mysql/` and `~/.my.cnf` change nothing (a `no-data`
//! there would make every backup an empty one).

use std::{
    borrow::Cow,
    io::Write,
    os::unix::fs::OpenOptionsExt,
    path::{Path, PathBuf},
    process::Stdio,
};

use eyre::{WrapErr, bail, eyre};
use percent_encoding::percent_decode_str;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

/// The dump tool, then its older name.
const DUMP_TOOLS: [&str; 2] = ["mariadb-dump", "mysqldump"];
/// The client, then its older name.
const CLIENT_TOOLS: [&str; 2] = ["mariadb", "mysql"];
/// The last line of a dump that `mariadb-dump` / `mysqldump` finished.
const COMPLETED: &[u8] = b"-- Dump completed";
/// The line recent `mariadb-dump`s begin with: from it on, a MariaDB client (10.5.25,
/// 10.6.18, 10.11.8 and later) refuses client commands such as `\!` (a shell command as the
/// restoring user), `source` and `tee`; to other clients and the server it is a comment.
const SANDBOX: &[u8] = b"/*M!999999\\- enable the sandbox mode */\n";

/// Writes a dump of the database at `url` into `file` (which must exist; the caller's
/// staged file): tables with their data, triggers and the procedure, read in one
/// consistent snapshot (`--single-transaction`, InnoDB), binary columns in hex. Fails,
/// with the tool's own message, when the tool does, or when the dump does not end with the
/// tool's completion line.
pub async fn dump(url: &str, file: &Path) -> eyre::Result<()> {
    let target = Target::parse(url)?;
    let options = OptionFile::create(&target)?;
    let args = [
        "--single-transaction",
        "--routines",
        "--triggers",
        "--hex-blob",
        "--no-tablespaces",
        "--",
        &target.database,
    ];
    let output = run(&DUMP_TOOLS, &options, &args, Some(file), None).await?;
    check(&output, "nothing written")?;
    if !is_complete(file).await? {
        bail!("the dump ended before its completion line; nothing written");
    }
    Ok(())
}

/// Replaces everything in the database at `url` (tables, views, triggers, procedures,
/// functions, events) by the dump at `path`, in one client session: what is there is
/// dropped, then the dump is run, with its `DEFINER` clauses left out so that its triggers
/// and procedure belong to the restoring user (re-creating another user's would need
/// `SUPER`), in the client's sandbox mode whatever the dump says ([`SANDBOX`]). A dump that
/// is not complete, or that switches to another database (`USE`, `CREATE DATABASE`: a
/// `mariadb-dump --databases` dump), is refused before anything is dropped. MySQL
/// commits each DDL statement at once: a restore that fails part-way leaves the database
/// partly restored, and says so.
pub async fn restore(url: &str, path: &Path) -> eyre::Result<()> {
    if !path.is_file() {
        bail!("backup {} does not exist", path.display());
    }
    if !is_complete(path).await? {
        bail!(
            "{} is not a complete mariadb-dump / mysqldump backup (no `-- Dump completed` \
             line at its end); nothing changed",
            path.display()
        );
    }
    if switches_database(path).await? {
        bail!(
            "{} switches to another database (a `USE` or `CREATE DATABASE` line, as \
             `mariadb-dump --databases` writes): restore a backup written by `backup`; \
             nothing changed",
            path.display()
        );
    }
    let target = Target::parse(url)?;
    let options = OptionFile::create(&target)?;
    let listed = run(
        &CLIENT_TOOLS,
        &options,
        &[
            "--batch",
            "--raw",
            "--skip-column-names",
            "-e",
            DROP_EVERYTHING,
            "--",
            &target.database,
        ],
        None,
        None,
    )
    .await?;
    check(&listed, "nothing changed")?;
    let mut script = SANDBOX.to_vec();
    script.extend_from_slice(b"SET FOREIGN_KEY_CHECKS = 0;\n");
    script.extend_from_slice(&listed.stdout);
    let loaded = run(
        &CLIENT_TOOLS,
        &options,
        &["--batch", "--", &target.database],
        None,
        Some((script, path)),
    )
    .await
    .wrap_err(PARTLY_RESTORED)?;
    check(&loaded, PARTLY_RESTORED)
}

/// The database the `mysql://` URL names, if the URL is well-formed and names one.
pub fn database_name(url: &str) -> Option<String> {
    Target::parse(url).ok().map(|target| target.database)
}

/// What a restore that failed part-way leaves.
const PARTLY_RESTORED: &str = "the database may now be partly restored (MySQL cannot undo \
                               the tables it already replaced): fix the cause and restore again";

/// A query printing one `DROP` statement per table, view, routine and event of the
/// current database.
const DROP_EVERYTHING: &str = "\
    SELECT CONCAT('DROP ', IF(table_type = 'VIEW', 'VIEW', 'TABLE'), ' IF EXISTS `', \
                  REPLACE(table_name, '`', '``'), '`;') \
    FROM information_schema.tables WHERE table_schema = DATABASE() \
    UNION ALL \
    SELECT CONCAT('DROP ', routine_type, ' IF EXISTS `', REPLACE(routine_name, '`', '``'), '`;') \
    FROM information_schema.routines WHERE routine_schema = DATABASE() \
    UNION ALL \
    SELECT CONCAT('DROP EVENT IF EXISTS `', REPLACE(event_name, '`', '``'), '`;') \
    FROM information_schema.events WHERE event_schema = DATABASE()";

/// Where and as whom sqlx connects for a `mysql://` URL (sqlx's defaults: `localhost`,
/// port 3306, user `root`; `?socket=` for a Unix socket), and the client options that
/// say the same.
struct Target {
    /// `name=value` lines of the `[client]` group.
    options: Vec<(&'static str, String)>,
    /// The database (the URL's path).
    database: String,
}

impl Target {
    fn parse(url: &str) -> eyre::Result<Self> {
        let parsed =
            url::Url::parse(url).map_err(|_| eyre!("the database URL does not parse as a URL"))?;
        let decode = |text: &str, what: &str| {
            percent_decode_str(text)
                .decode_utf8()
                .map(Cow::into_owned)
                .map_err(|_| eyre!("the {what} in the database URL is not UTF-8"))
        };
        let database = decode(parsed.path().trim_start_matches('/'), "database name")?;
        if database.is_empty() {
            bail!("the database URL names no database (mysql://user@host/DATABASE)");
        }
        let user = match parsed.username() {
            "" => "root".to_owned(),
            user => decode(user, "user name")?,
        };
        let mut options = vec![("user", user)];
        if let Some(password) = parsed.password() {
            options.push(("password", decode(password, "password")?));
        }
        let query: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
        let param = |names: &[&str]| {
            query
                .iter()
                .rev()
                .find(|(name, _)| names.contains(&name.as_str()))
                .map(|(_, value)| value.clone())
        };
        match param(&["socket"]) {
            Some(socket) => options.extend([("protocol", "socket".into()), ("socket", socket)]),
            None => options.extend([
                // Else the client takes `localhost` for its Unix socket; sqlx uses TCP.
                ("protocol", "tcp".into()),
                ("host", host(&parsed)),
                ("port", parsed.port().unwrap_or(3306).to_string()),
            ]),
        }
        match param(&["ssl-mode", "sslmode"])
            .map(|mode| mode.to_ascii_lowercase())
            .as_deref()
        {
            Some("disabled") => options.push(("skip-ssl", String::new())),
            Some("required") => options.push(("ssl", String::new())),
            Some("verify_ca" | "verify_identity") => options.extend([
                ("ssl", String::new()),
                ("ssl-verify-server-cert", String::new()),
            ]),
            _ => {}
        }
        for (names, option) in [
            (&["ssl-ca", "sslca"][..], "ssl-ca"),
            (&["ssl-cert", "sslcert"], "ssl-cert"),
            (&["ssl-key", "sslkey"], "ssl-key"),
        ] {
            if let Some(value) = param(names) {
                options.push((option, value));
            }
        }
        let charset = param(&["charset"]).unwrap_or_else(|| "utf8mb4".into());
        options.push(("default-character-set", charset));
        Ok(Self { options, database })
    }
}

/// The URL's host as the client tools take it: an IPv6 address without its brackets.
fn host(url: &url::Url) -> String {
    match url.host() {
        Some(url::Host::Ipv6(address)) => address.to_string(),
        Some(host) => host.to_string(),
        None => "localhost".to_owned(),
    }
}

/// A private option file holding a [`Target`]'s `[client]` settings, removed on drop.
struct OptionFile {
    path: PathBuf,
}

impl OptionFile {
    /// Writes it into the temporary directory (a new name, created exclusively, 0600).
    fn create(target: &Target) -> eyre::Result<Self> {
        let mut text = String::from("[client]\n");
        for (name, value) in &target.options {
            if value.contains('\0') {
                bail!("the database URL's {name} holds a NUL character");
            }
            if value.is_empty() {
                text.push_str(&format!("{name}\n"));
            } else {
                text.push_str(&format!("{name}=\"{}\"\n", escape_option(value)));
            }
        }
        let path = std::env::temp_dir().join(format!(
            "pierre-store-{}.cnf",
            uuid::Uuid::new_v4().simple()
        ));
        let file = Self { path };
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&file.path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .wrap_err("cannot write a temporary option file for the MySQL client tools")?;
        Ok(file)
    }

    /// The option that makes a tool read it and no other: it must come first on the command
    /// line.
    fn argument(&self) -> String {
        format!("--defaults-file={}", self.path.display())
    }
}

impl Drop for OptionFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// `value` for a double-quoted option file value, as the client library reads it back.
fn escape_option(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out
}

/// Runs the first installed of `tools` with `options`, then `args`, its output into the
/// existing file `into` when given (else kept); with `input`, writes the script and then
/// the dump at the path (without its `DEFINER` clauses) to its standard input. On SIGINT or
/// SIGTERM the tool is killed and an error returned, so that `options` is removed (dying
/// of the signal would leave it, password inside, in the temporary directory).
async fn run(
    tools: &[&'static str; 2],
    options: &OptionFile,
    args: &[&str],
    into: Option<&Path>,
    input: Option<(Vec<u8>, &Path)>,
) -> eyre::Result<Tool> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    for tool in tools {
        let stdout = match into {
            Some(path) => Stdio::from(
                std::fs::OpenOptions::new()
                    .write(true)
                    .truncate(true)
                    .open(path)
                    .wrap_err_with(|| format!("cannot write {}", path.display()))?,
            ),
            None => Stdio::piped(),
        };
        let spawned = tokio::process::Command::new(tool)
            .arg(options.argument())
            .args(args)
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(stdout)
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn();
        let mut child = match spawned {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            result => result.wrap_err_with(|| format!("cannot run {tool}"))?,
        };
        let feeding = match (input, child.stdin.take()) {
            (Some((script, path)), Some(stdin)) => {
                Some(tokio::spawn(feed(stdin, script, path.to_owned())))
            }
            _ => None,
        };
        let output = tokio::select! {
            output = child.wait_with_output() => {
                output.wrap_err_with(|| format!("cannot run {tool}"))?
            }
            _ = interrupt.recv() => bail!("interrupted; {tool} stopped"),
            _ = terminate.recv() => bail!("terminated; {tool} stopped"),
        };
        let fed = match feeding {
            Some(task) => task.await?,
            None => Ok(()),
        };
        if output.status.success() {
            fed.wrap_err_with(|| format!("cannot feed the backup to {tool}"))?;
        }
        return Ok(Tool {
            name: tool,
            status: output.status,
            stdout: output.stdout,
            stderr: output.stderr,
        });
    }
    bail!(
        "neither {} nor {} is installed (they come with the MariaDB or MySQL client, e.g. \
         Debian's mariadb-client)",
        tools[0],
        tools[1]
    )
}

/// What a tool did.
struct Tool {
    name: &'static str,
    status: std::process::ExitStatus,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// `Ok` when the tool succeeded, else an error with its message on one line (its `ERROR`
/// lines when it printed any: the client also echoes the failing statement), then what
/// that left (`outcome`).
fn check(tool: &Tool, outcome: &str) -> eyre::Result<()> {
    if tool.status.success() {
        return Ok(());
    }
    let lines = crate::backends::stderr_lines(&tool.stderr);
    let errors: Vec<String> = lines
        .iter()
        .filter(|l| l.starts_with("ERROR"))
        .cloned()
        .collect();
    let message = if errors.is_empty() { lines } else { errors };
    bail!("{} failed: {}; {outcome}", tool.name, message.join(" / "))
}

/// Writes `script`, then the dump at `path` without its `DEFINER` clauses, to `stdin`.
async fn feed(
    mut stdin: tokio::process::ChildStdin,
    script: Vec<u8>,
    path: PathBuf,
) -> eyre::Result<()> {
    stdin.write_all(&script).await?;
    let mut lines = tokio::io::BufReader::new(tokio::fs::File::open(&path).await?);
    let mut line = Vec::new();
    while lines.read_until(b'\n', &mut line).await? > 0 {
        stdin.write_all(&without_definer(&line)).await?;
        line.clear();
    }
    stdin.shutdown().await?;
    Ok(())
}

/// `line` without its `` DEFINER=`user`@`host` `` clause: as dumps write it for triggers,
/// views and routines. Data lines (`INSERT INTO`) are never changed.
fn without_definer(line: &[u8]) -> Cow<'_, [u8]> {
    const DEFINER: &[u8] = b"DEFINER=";
    if line.starts_with(b"INSERT INTO ") {
        return Cow::Borrowed(line);
    }
    let Some(start) = line.windows(DEFINER.len()).position(|w| w == DEFINER) else {
        return Cow::Borrowed(line);
    };
    let account = &line[start + DEFINER.len()..];
    let Some(user) = quoted_len(account) else {
        return Cow::Borrowed(line);
    };
    let Some(host) = account
        .get(user..)
        .and_then(|rest| rest.strip_prefix(b"@"))
        .and_then(quoted_len)
    else {
        return Cow::Borrowed(line);
    };
    let mut end = start + DEFINER.len() + user + 1 + host;
    if line.get(end) == Some(&b' ') {
        end += 1;
    }
    let mut out = line[..start].to_vec();
    out.extend_from_slice(&line[end..]);
    Cow::Owned(out)
}

/// The length of the backquoted name at the start of `text` (a doubled backquote inside
/// stands for one), quotes included.
fn quoted_len(text: &[u8]) -> Option<usize> {
    let mut i = 1;
    if text.first() != Some(&b'`') {
        return None;
    }
    loop {
        match (text.get(i), text.get(i + 1)) {
            (Some(b'`'), Some(b'`')) => i += 2,
            (Some(b'`'), _) => return Some(i + 1),
            (Some(_), _) => i += 1,
            (None, _) => return None,
        }
    }
}

/// Whether a line of the dump at `path` starts with `USE` or `CREATE DATABASE`.
async fn switches_database(path: &Path) -> eyre::Result<bool> {
    let mut lines = tokio::io::BufReader::new(
        tokio::fs::File::open(path)
            .await
            .wrap_err_with(|| format!("cannot read {}", path.display()))?,
    );
    let mut line = Vec::new();
    while lines.read_until(b'\n', &mut line).await? > 0 {
        let upper = line.get(..16).unwrap_or(&line).to_ascii_uppercase();
        if upper.starts_with(b"USE ") || upper.starts_with(b"CREATE DATABASE ") {
            return Ok(true);
        }
        line.clear();
    }
    Ok(false)
}

/// Whether the file at `path` ends with a dump tool's completion line.
async fn is_complete(path: &Path) -> eyre::Result<bool> {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};

    let mut file = tokio::fs::File::open(path)
        .await
        .wrap_err_with(|| format!("cannot read {}", path.display()))?;
    let len = file.metadata().await?.len();
    file.seek(std::io::SeekFrom::Start(len.saturating_sub(256)))
        .await?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail).await?;
    let last = tail
        .trim_ascii_end()
        .rsplit(|&b| b == b'\n')
        .next()
        .unwrap_or_default();
    Ok(last.starts_with(COMPLETED))
}

#[cfg(test)]
mod tests {
    use super::{Target, escape_option, without_definer};

    #[test]
    fn definers_are_left_out_of_ddl_and_data_is_untouched() {
        let cases: [(&[u8], &[u8]); 4] = [
            (
                b"/*!50003 CREATE*/ /*!50017 DEFINER=`app`@`%`*/ /*!50003 TRIGGER t\n",
                b"/*!50003 CREATE*/ /*!50017 */ /*!50003 TRIGGER t\n",
            ),
            (
                b"CREATE DEFINER=`a``b`@`127.0.0.1` PROCEDURE `auth_changed`()\n",
                b"CREATE PROCEDURE `auth_changed`()\n",
            ),
            (
                b"INSERT INTO `t` VALUES ('DEFINER=`x`@`y` ')\n",
                b"INSERT INTO `t` VALUES ('DEFINER=`x`@`y` ')\n",
            ),
            (b"DEFINER=`unterminated\n", b"DEFINER=`unterminated\n"),
        ];
        for (line, expected) in cases {
            assert_eq!(
                without_definer(line).as_ref(),
                expected,
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn the_options_are_where_sqlx_connects() -> eyre::Result<()> {
        let options = |url| -> eyre::Result<Vec<String>> {
            let target = Target::parse(url)?;
            Ok(target
                .options
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .chain([format!("database={}", target.database)])
                .collect())
        };
        assert_eq!(
            options("mysql://app:s%40cret@db:3307/pierre%2Dx?ssl-mode=VERIFY_IDENTITY")?,
            [
                "user=app",
                "password=s@cret",
                "protocol=tcp",
                "host=db",
                "port=3307",
                "ssl=",
                "ssl-verify-server-cert=",
                "default-character-set=utf8mb4",
                "database=pierre-x"
            ]
        );
        assert_eq!(
            options("mariadb://localhost/pierre?socket=/run/mysqld/mysqld.sock")?,
            [
                "user=root",
                "protocol=socket",
                "socket=/run/mysqld/mysqld.sock",
                "default-character-set=utf8mb4",
                "database=pierre"
            ]
        );
        assert!(
            options("mysql://[::1]/pierre")?.contains(&"host=::1".to_owned()),
            "an IPv6 address without brackets"
        );
        assert!(Target::parse("mysql://app@db").is_err(), "no database");
        assert_eq!(escape_option("a\"b\\c#d\n"), "a\\\"b\\\\c#d\\n");
        Ok(())
    }
}
