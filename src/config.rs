//! Connection settings, from code or from the environment.

use std::{env, path::PathBuf, time::Duration};

use sqlx::pool::PoolOptions;
use zeroize::Zeroizing;

use crate::{Backend, EncryptionKey, Error, PlaintextSecret, Result};

/// The database URL used when `DATABASE_URL` is not set: an embedded SQLite file.
pub const DEFAULT_DATABASE_URL: &str = "sqlite:./data/pierre.db";
/// The key file used when `DATABASE_ENCRYPTION_KEY_PATH` is not set.
pub const DEFAULT_KEY_PATH: &str = "./data/encryption.key";

/// Everything [`Store::connect`](crate::Store::connect) needs. `Debug` hides the keys and
/// any password in the URL.
#[derive(Clone)]
pub struct StoreConfig {
    /// `sqlite:...` or `postgres://...`; must match the store's backend.
    pub database_url: String,
    /// The key that encrypts OAuth tokens (the active key).
    pub encryption_key: EncryptionKey,
    /// Earlier keys, still accepted for decryption until
    /// [`Store::rotate_encryption_key`](crate::Store::rotate_encryption_key) has
    /// re-encrypted everything (`DATABASE_RETIRED_ENCRYPTION_KEYS`: base64 keys separated
    /// by commas).
    pub retired_keys: Vec<EncryptionKey>,
    /// Most connections the pool opens (`DATABASE_MAX_CONNECTIONS`, default 10).
    pub max_connections: u32,
    /// Connections the pool keeps open when idle (`DATABASE_MIN_CONNECTIONS`, default 0).
    pub min_connections: u32,
    /// How long a call waits for a free connection before failing
    /// (`DATABASE_ACQUIRE_TIMEOUT`, seconds, default 30).
    pub acquire_timeout: Duration,
    /// How long an unused connection stays open (`DATABASE_IDLE_TIMEOUT`, seconds, default
    /// 600; 0 means forever).
    pub idle_timeout: Option<Duration>,
    /// How long any connection lives before it is replaced (`DATABASE_MAX_LIFETIME`,
    /// seconds, default 1800; 0 means forever).
    pub max_lifetime: Option<Duration>,
    /// Store calls slower than this are logged at WARN through `tracing`
    /// (`DATABASE_SLOW_CALL_MS`, milliseconds, default 500).
    pub slow_call_threshold: Duration,
    /// Whether connecting creates a missing SQLite database file and its directory
    /// (default `true`, what a server wants on first start). With `false`, a missing file
    /// is [`Error::NotFound`] (entity `"database"`) and nothing is created: for tools that
    /// only look at an existing database. PostgreSQL never creates a database: a missing
    /// one is that same error either way.
    pub create_if_missing: bool,
    /// Read replicas (streaming standbys of the primary at `database_url`), one URL each
    /// (`DATABASE_READ_URLS`, comma-separated; default none). Reads that tolerate a little
    /// lag go to a healthy one of them, in turn; every other call stays on the primary.
    /// PostgreSQL only: [`Store::connect`](crate::Store::connect) refuses replicas on
    /// SQLite with [`Error::Config`]. `Debug` hides their passwords. They are not checked
    /// for a transaction pooler as `database_url` is (see `transaction_pooler`): point
    /// them at the standbys directly or through a session pooler.
    pub read_urls: Vec<String>,
    /// The most a replica may trail the primary and still serve reads
    /// (`DATABASE_READ_MAX_LAG_MS`, milliseconds, default 1000), as the replica itself
    /// measures it: none when it has replayed all the WAL it received, else the time
    /// since the last transaction it replayed committed on the primary. A replica whose WAL
    /// receiver does not follow the primary (none running; where the role may see it, not
    /// streaming or silent for longer than this bound and 3/4 of its
    /// `wal_receiver_timeout`) is skipped whatever its lag: see the README, "Read replicas".
    pub read_max_lag: Duration,
    /// How long a replica's health (reachable, lag) is trusted before it is measured again
    /// (`DATABASE_READ_CHECK_INTERVAL_MS`, milliseconds, default 1000). A read may thus go
    /// to a replica that trails by up to `read_max_lag` plus this.
    pub read_check_interval: Duration,
    /// Whether the PostgreSQL URL is a transaction-mode pooler that keeps prepared
    /// statements across server sessions (PgBouncer 1.21 or later with
    /// `max_prepared_statements` above 0): `DATABASE_TRANSACTION_POOLER`, `true` or
    /// `false` (default). When `false`, [`Store::connect`](crate::Store::connect) checks
    /// that one connection's statements stay in one server session and refuses a
    /// transaction pooler with [`Error::Config`] (sqlx's named prepared statements break
    /// behind one; a statement-mode pooler refuses the check's transaction, an
    /// [`Error::Database`]). No effect on SQLite.
    pub transaction_pooler: bool,
    /// Most credentials (API keys and A2A clients, each) held in the in-process
    /// authentication cache (`DATABASE_AUTH_CACHE_ENTRIES`, default 100,000; 0 turns the
    /// cache off: every authentication is then one `UPDATE` in the database, as before).
    /// See the README, section "Authentication cache", for what it guarantees.
    pub auth_cache_entries: usize,
    /// How long a cached credential is trusted at most without reading it again
    /// (`DATABASE_AUTH_CACHE_TTL_MS`, milliseconds, default 30,000): the bound on how late
    /// another process's revocation can be seen if every change signal is lost.
    pub auth_cache_ttl: Duration,
    /// How often a SQLite store polls the `auth_changes` counter for changes made by other
    /// processes (`DATABASE_AUTH_POLL_MS`, milliseconds, default 50: a read of one row 20
    /// times a second). PostgreSQL is told by `LISTEN`/`NOTIFY` instead. Zero turns the
    /// cross-process watch off on both backends (only [`StoreConfig::auth_cache_ttl`] then
    /// bounds staleness): for a single process that owns its database, or for tests.
    pub auth_poll_interval: Duration,
    /// How often the counted uses of cached credentials (`usage_count`, `last_used`) are
    /// written to the database, one statement per batch (`DATABASE_USAGE_FLUSH_MS`,
    /// milliseconds, default 1,000). A crash loses at most this much counting.
    pub usage_flush_interval: Duration,
}

impl StoreConfig {
    /// Settings for `database_url` and `encryption_key`, with default pool settings.
    pub fn new(database_url: impl Into<String>, encryption_key: EncryptionKey) -> Self {
        Self {
            database_url: database_url.into(),
            encryption_key,
            retired_keys: Vec::new(),
            max_connections: 10,
            min_connections: 0,
            acquire_timeout: Duration::from_secs(30),
            idle_timeout: Some(Duration::from_secs(600)),
            max_lifetime: Some(Duration::from_secs(1800)),
            slow_call_threshold: Duration::from_millis(500),
            create_if_missing: true,
            read_urls: Vec::new(),
            read_max_lag: Duration::from_millis(1000),
            read_check_interval: Duration::from_millis(1000),
            transaction_pooler: false,
            auth_cache_entries: 100_000,
            auth_cache_ttl: Duration::from_secs(30),
            auth_poll_interval: Duration::from_millis(50),
            usage_flush_interval: Duration::from_secs(1),
        }
    }

    /// Settings from the environment: `DATABASE_URL` (default
    /// [`DEFAULT_DATABASE_URL`]); the key from `DATABASE_ENCRYPTION_KEY` (base64, for
    /// containers) or else from the file at `DATABASE_ENCRYPTION_KEY_PATH` (default
    /// [`DEFAULT_KEY_PATH`]; created if missing, see [`EncryptionKey::load_or_create`]);
    /// `DATABASE_RETIRED_ENCRYPTION_KEYS`; and the pool variables named on the fields.
    ///
    /// # Errors
    /// [`Error::Config`] for a malformed number or inconsistent pool bounds;
    /// [`Error::Io`] / [`Error::Config`] from the key file.
    pub fn from_env() -> Result<Self> {
        let key = match Self::key_from_env()? {
            Some(key) => key,
            None => EncryptionKey::load_or_create(&Self::key_path_from_env())?,
        };
        Self::from_env_with_key(key)
    }

    /// The key in `DATABASE_ENCRYPTION_KEY` (base64), if that variable is set. A variable
    /// that is set is never ignored: it is the key or an error.
    ///
    /// # Errors
    /// [`Error::Config`] naming the variable when it is set but not UTF-8, not base64, or
    /// not 32 bytes once decoded. The message never contains the value.
    pub fn key_from_env() -> Result<Option<EncryptionKey>> {
        const NAME: &str = "DATABASE_ENCRYPTION_KEY";
        env_secret(NAME)?
            .map(|encoded| EncryptionKey::from_base64(&encoded).map_err(naming(NAME)))
            .transpose()
    }

    /// `DATABASE_ENCRYPTION_KEY_PATH`, or [`DEFAULT_KEY_PATH`].
    #[must_use]
    pub fn key_path_from_env() -> PathBuf {
        env::var_os("DATABASE_ENCRYPTION_KEY_PATH")
            .map_or_else(|| PathBuf::from(DEFAULT_KEY_PATH), PathBuf::from)
    }

    /// As [`StoreConfig::from_env`], with `key` as the active key instead of the one the
    /// environment names.
    ///
    /// # Errors
    /// As [`StoreConfig::from_env`], except for the key.
    pub fn from_env_with_key(key: EncryptionKey) -> Result<Self> {
        let url = env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_owned());
        let mut config = Self::new(url, key);
        const RETIRED: &str = "DATABASE_RETIRED_ENCRYPTION_KEYS";
        if let Some(list) = env_secret(RETIRED)? {
            config.retired_keys = list
                .split(',')
                .filter(|k| !k.trim().is_empty())
                .map(EncryptionKey::from_base64)
                .collect::<Result<_>>()
                .map_err(naming(RETIRED))?;
        }
        if let Some(n) = env_number("DATABASE_MAX_CONNECTIONS")? {
            config.max_connections = u32::try_from(n)
                .map_err(|_| Error::Config("DATABASE_MAX_CONNECTIONS is too large".into()))?;
        }
        if let Some(n) = env_number("DATABASE_MIN_CONNECTIONS")? {
            config.min_connections = u32::try_from(n)
                .map_err(|_| Error::Config("DATABASE_MIN_CONNECTIONS is too large".into()))?;
        }
        if let Some(secs) = env_number("DATABASE_ACQUIRE_TIMEOUT")? {
            config.acquire_timeout = Duration::from_secs(secs);
        }
        if let Some(secs) = env_number("DATABASE_IDLE_TIMEOUT")? {
            config.idle_timeout = (secs > 0).then(|| Duration::from_secs(secs));
        }
        if let Some(ms) = env_number("DATABASE_SLOW_CALL_MS")? {
            config.slow_call_threshold = Duration::from_millis(ms);
        }
        if let Some(secs) = env_number("DATABASE_MAX_LIFETIME")? {
            config.max_lifetime = (secs > 0).then(|| Duration::from_secs(secs));
        }
        if let Some(list) = env_secret("DATABASE_READ_URLS")? {
            config.read_urls = list
                .split(',')
                .map(str::trim)
                .filter(|url| !url.is_empty())
                .map(str::to_owned)
                .collect();
        }
        if let Some(ms) = env_number("DATABASE_READ_MAX_LAG_MS")? {
            config.read_max_lag = Duration::from_millis(ms);
        }
        if let Some(ms) = env_number("DATABASE_READ_CHECK_INTERVAL_MS")? {
            config.read_check_interval = Duration::from_millis(ms);
        }
        const POOLER: &str = "DATABASE_TRANSACTION_POOLER";
        match env::var(POOLER).as_deref().map(str::trim) {
            Err(env::VarError::NotPresent) => {}
            Ok("true" | "1") => config.transaction_pooler = true,
            Ok("false" | "0") => config.transaction_pooler = false,
            Ok(other) => {
                return Err(Error::Config(format!(
                    "{POOLER} must be true or false, got {other:?}"
                )));
            }
            Err(env::VarError::NotUnicode(_)) => {
                return Err(Error::Config(format!("{POOLER} is not UTF-8")));
            }
        }
        if let Some(n) = env_number("DATABASE_AUTH_CACHE_ENTRIES")? {
            config.auth_cache_entries = usize::try_from(n)
                .map_err(|_| Error::Config("DATABASE_AUTH_CACHE_ENTRIES is too large".into()))?;
        }
        if let Some(ms) = env_number("DATABASE_AUTH_CACHE_TTL_MS")? {
            config.auth_cache_ttl = Duration::from_millis(ms);
        }
        if let Some(ms) = env_number("DATABASE_AUTH_POLL_MS")? {
            config.auth_poll_interval = Duration::from_millis(ms);
        }
        if let Some(ms) = env_number("DATABASE_USAGE_FLUSH_MS")? {
            config.usage_flush_interval = Duration::from_millis(ms);
        }
        config.validate()?;
        Ok(config)
    }

    /// Checks the pool bounds.
    pub(crate) fn validate(&self) -> Result<()> {
        if self.max_connections == 0 {
            return Err(Error::Config("max_connections must be at least 1".into()));
        }
        if self.min_connections > self.max_connections {
            return Err(Error::Config(format!(
                "min_connections ({}) exceeds max_connections ({})",
                self.min_connections, self.max_connections
            )));
        }
        if self.auth_cache_entries > 0 && self.auth_cache_ttl.is_zero() {
            return Err(Error::Config(
                "auth_cache_ttl (DATABASE_AUTH_CACHE_TTL_MS) must be at least 1 ms; \
                 turn the cache off with auth_cache_entries = 0 instead"
                    .into(),
            ));
        }
        if self.usage_flush_interval.is_zero() {
            return Err(Error::Config(
                "usage_flush_interval (DATABASE_USAGE_FLUSH_MS) must be at least 1 ms".into(),
            ));
        }
        Ok(())
    }

    /// Pool options for any backend, from these settings.
    #[cfg_attr(
        not(any(feature = "backend-sqlite", feature = "backend-postgres")),
        allow(dead_code)
    )]
    pub(crate) fn pool_options<DB: sqlx::Database>(&self) -> PoolOptions<DB> {
        PoolOptions::new()
            .max_connections(self.max_connections)
            .min_connections(self.min_connections)
            .acquire_timeout(self.acquire_timeout)
            .idle_timeout(self.idle_timeout)
            .max_lifetime(self.max_lifetime)
    }
}

impl std::fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreConfig")
            .field("database_url", &redact_url(&self.database_url))
            .field("encryption_key", &self.encryption_key)
            .field("retired_keys", &self.retired_keys.len())
            .field("max_connections", &self.max_connections)
            .field("min_connections", &self.min_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("max_lifetime", &self.max_lifetime)
            .field("slow_call_threshold", &self.slow_call_threshold)
            .field("create_if_missing", &self.create_if_missing)
            .field(
                "read_urls",
                &self
                    .read_urls
                    .iter()
                    .map(|url| redact_url(url))
                    .collect::<Vec<_>>(),
            )
            .field("read_max_lag", &self.read_max_lag)
            .field("read_check_interval", &self.read_check_interval)
            .field("transaction_pooler", &self.transaction_pooler)
            .field("auth_cache_entries", &self.auth_cache_entries)
            .field("auth_cache_ttl", &self.auth_cache_ttl)
            .field("auth_poll_interval", &self.auth_poll_interval)
            .field("usage_flush_interval", &self.usage_flush_interval)
            .finish()
    }
}

/// What takes the place of a password in a URL shown to people.
const REDACTED: &str = "[redacted]";

/// `url` with every password sqlx would read from it replaced by `[redacted]`: the one in
/// its `user:password@` part and every `password` query parameter (also when the name or
/// value is percent-encoded, anywhere among the other parameters). Safe to print or log.
/// A URL without a password comes back unchanged; one that does not parse as a URL (which
/// sqlx cannot open either) keeps only its scheme when it might hold a password (it has
/// an `@` or the word "password").
#[must_use]
pub fn redact_url(url: &str) -> String {
    match replace_passwords(url, Some(REDACTED)) {
        Some((shown, Some(_))) => shown,
        Some((_, None)) => url.to_owned(),
        None if url.contains('@') || url.to_ascii_lowercase().contains("password") => {
            format!("{}:{REDACTED}", scheme_of(url))
        }
        None => url.to_owned(),
    }
}

/// `url` with every password sqlx would read from it left out (see [`redact_url`] for
/// where it looks), and the password sqlx would use (a `password` query parameter wins
/// over the `user:password@` part, the last such parameter over earlier ones),
/// percent-decoded. For handing the password to another program through its environment
/// (e.g. `PGPASSWORD`) rather than on a command line, which other local users can read.
///
/// # Errors
/// [`Error::Config`] when `url` does not parse as a URL (the message does not repeat it).
pub fn split_url_password(url: &str) -> Result<(String, Option<PlaintextSecret>)> {
    let (rest, password) = replace_passwords(url, None)
        .ok_or_else(|| Error::Config("the database URL does not parse as a URL".into()))?;
    Ok((rest, password.map(PlaintextSecret::new)))
}

/// `url` with each password in it (userinfo, `password` query parameters) replaced by
/// `replacement`, or left out when it is `None`, and the password sqlx would use
/// (percent-decoded); `None` when `url` does not parse. Parsed as sqlx parses it (the `url`
/// crate), so that what counts as the password here is what sqlx sends.
fn replace_passwords(url: &str, replacement: Option<&str>) -> Option<(String, Option<String>)> {
    use url::{Position, form_urlencoded};

    let parsed = url::Url::parse(url).ok()?;
    let mut password = parsed.password().map(percent_decode);
    let mut out = match (parsed.password(), replacement) {
        (None, _) => parsed[..Position::AfterPath].to_owned(),
        (Some(_), Some(replacement)) => format!(
            "{}{replacement}{}",
            &parsed[..Position::BeforePassword],
            &parsed[Position::AfterPassword..Position::AfterPath]
        ),
        (Some(_), None) => format!(
            "{}{}",
            &parsed[..Position::AfterUsername],
            &parsed[Position::AfterPassword..Position::AfterPath]
        ),
    };
    if let Some(query) = parsed.query() {
        let mut kept = Vec::new();
        for pair in query.split('&') {
            let raw_name = pair.split_once('=').map_or(pair, |(name, _)| name);
            let mut decoded = form_urlencoded::parse(pair.as_bytes());
            match decoded.next() {
                Some((name, value)) if name == "password" => {
                    password = Some(value.into_owned());
                    if let Some(replacement) = replacement {
                        kept.push(format!("{raw_name}={replacement}"));
                    }
                }
                _ => kept.push(pair.to_owned()),
            }
        }
        if !kept.is_empty() {
            out.push('?');
            out.push_str(&kept.join("&"));
        }
    }
    if let Some(fragment) = parsed.fragment() {
        out.push('#');
        out.push_str(fragment);
    }
    Some((out, password))
}

/// `text` with its `%XX` escapes decoded (invalid UTF-8 replaced), as sqlx decodes the
/// password of a URL's userinfo.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = bytes
            .get(i + 1..i + 3)
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (bytes[i], escaped) {
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

/// The value of the secret variable `name`, if set.
///
/// # Errors
/// [`Error::Config`] naming the variable when it is set but not UTF-8.
fn env_secret(name: &str) -> Result<Option<Zeroizing<String>>> {
    env::var_os(name)
        .map(|value| {
            value
                .into_string()
                .map(Zeroizing::new)
                .map_err(|_| Error::Config(format!("{name} is set but is not UTF-8")))
        })
        .transpose()
}

/// Puts the variable's name in front of a key error's message.
fn naming(name: &'static str) -> impl Fn(Error) -> Error {
    move |error| match error {
        Error::Config(message) => Error::Config(format!("{name}: {message}")),
        other => other,
    }
}

fn env_number(name: &str) -> Result<Option<u64>> {
    match env::var(name) {
        Ok(value) => value
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| Error::Config(format!("{name} must be a whole number, got {value:?}"))),
        Err(env::VarError::NotPresent) => Ok(None),
        Err(env::VarError::NotUnicode(_)) => Err(Error::Config(format!("{name} is not UTF-8"))),
    }
}

/// Every backend the library knows, as `(sqlx's name, URL schemes, store type)`: the one
/// place where URL schemes are known (they are sqlx's, [`sqlx::Database::URL_SCHEMES`]).
const BACKENDS: [(&str, &[&str], &str); 3] = [
    (
        <sqlx::Sqlite as sqlx::Database>::NAME,
        <sqlx::Sqlite as sqlx::Database>::URL_SCHEMES,
        "Store<Sqlite>",
    ),
    (
        <sqlx::Postgres as sqlx::Database>::NAME,
        <sqlx::Postgres as sqlx::Database>::URL_SCHEMES,
        "Store<Postgres>",
    ),
    (
        <sqlx::MySql as sqlx::Database>::NAME,
        <sqlx::MySql as sqlx::Database>::URL_SCHEMES,
        "Store<MySql>",
    ),
];

/// The scheme of `url`: what comes before its first `:` when that has a scheme's shape (a
/// letter, then letters, digits, `+`, `-` or `.`), else empty. Never more: whatever else
/// comes before a `:` (`host=db password=secret:...`) may be a secret.
fn scheme_of(url: &str) -> &str {
    url.split_once(':')
        .map(|(scheme, _)| scheme)
        .filter(|scheme| {
            scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        })
        .unwrap_or("")
}

/// Whether `url`'s scheme is one of `DB`'s.
pub(crate) fn is_url_of<DB: sqlx::Database>(url: &str) -> bool {
    DB::URL_SCHEMES.contains(&scheme_of(url))
}

/// `schemes` as `a:, b: or c:`.
fn list_schemes<'a>(schemes: impl IntoIterator<Item = &'a str>) -> String {
    let schemes: Vec<String> = schemes.into_iter().map(|s| format!("{s}:")).collect();
    match schemes.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// The error for a URL whose scheme no backend opens: names the scheme (never the rest of
/// the URL, which may hold a password) and lists every supported one.
#[cfg_attr(
    not(all(feature = "backend-sqlite", feature = "backend-postgres")),
    allow(dead_code)
)]
pub(crate) fn unsupported_scheme(url: &str) -> Error {
    let supported = BACKENDS
        .iter()
        .flat_map(|(_, schemes, _)| schemes.iter().copied());
    let scheme = match scheme_of(url) {
        "" => "none".to_owned(),
        scheme => format!("{scheme:?}"),
    };
    Error::Config(format!(
        "unsupported database URL scheme {scheme}: use a URL starting with {}",
        list_schemes(supported)
    ))
}

/// Refuses a URL that `B` cannot open, naming the backend the URL is for when it is another
/// supported one.
pub(crate) fn check_scheme<B: Backend>(url: &str) -> Result<()> {
    if is_url_of::<B>(url) {
        return Ok(());
    }
    let expected = format!(
        "a URL starting with {}",
        list_schemes(B::URL_SCHEMES.iter().copied())
    );
    let scheme = scheme_of(url);
    Err(Error::Config(
        match BACKENDS
            .iter()
            .find(|(_, schemes, _)| schemes.contains(&scheme))
        {
            Some((other_name, _, other_store)) => format!(
                "the database URL is for {other_name} but this store is the {} backend: \
                 use {other_store} for a {other_name} URL, or give this store {expected}",
                B::NAME
            ),
            None => format!(
                "unsupported database URL scheme {scheme:?}: a {} store needs {expected}",
                B::NAME
            ),
        },
    ))
}
