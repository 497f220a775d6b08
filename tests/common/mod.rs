//! The test harness: a fresh database per test on either backend, and a macro that
//! instantiates a generic test once per backend.
//!
//! SQLite tests get their own file in a temporary directory. PostgreSQL tests get their own
//! database on the server at `TEST_POSTGRES_URL`, MySQL tests on the server at
//! `TEST_MYSQL_URL` (both set by `make test`, which starts throwaway servers when they are
//! not set); without them they fail, never skip.

#![allow(dead_code, unreachable_pub)]

use std::future::Future;

use pierre_store::{
    Activity, Backend, EncryptionKey, MySql, Postgres, Sqlite, Store, Tenant, TenantId, User,
    UserId,
};
use sqlx::{AssertSqlSafe, Connection, migrate::MigrateDatabase};

/// Writes `backend_tests!(test_a, test_b)`: for each generic
/// `async fn test_a<B: TestBackend>() -> eyre::Result<()>`, a `sqlite::test_a`, a
/// `postgres::test_a` and a `mysql::test_a` test.
///
/// Tests that move data between two backends follow `; to_each_other:`: for each generic
/// `async fn test_c<A: TestBackend, B: TestBackend>()` (from backend `A` to backend `B`), a
/// test for every ordered pair of different backends, named after the source
/// (`sqlite::to_postgres::test_c`, `postgres::to_sqlite::test_c`):
/// `backend_tests!(test_a; to_each_other: test_c)`.
///
/// The backends and the pairs are listed once, in the first arm: a new backend adds its
/// line there and a `to_<new>` pair to every other line.
#[macro_export]
macro_rules! backend_tests {
    (@backends $names:tt $pairs:tt
        $(($module:ident, $a:ty) => [$(($target:ident, $b:ty)),*];)+) => {
        $(
            mod $module {
                $crate::backend_tests!(@single $a, $names);
                $($crate::backend_tests!(@pairs $target, $a, $b, $pairs);)*
            }
        )+
    };
    (@single $a:ty, [$($name:ident),*]) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() -> eyre::Result<()> {
                super::$name::<$a>().await
            }
        )*
    };
    (@pairs $target:ident, $a:ty, $b:ty, []) => {};
    (@pairs $target:ident, $a:ty, $b:ty, [$($name:ident),+]) => {
        mod $target {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() -> eyre::Result<()> {
                    super::super::$name::<$a, $b>().await
                }
            )+
        }
    };
    ($($name:ident),* $(,)? $(; to_each_other: $($pair:ident),+ $(,)?)?) => {
        $crate::backend_tests!(@backends [$($name),*] [$($($pair),+)?]
            (sqlite, pierre_store::Sqlite) =>
                [(to_postgres, pierre_store::Postgres), (to_mysql, pierre_store::MySql)];
            (postgres, pierre_store::Postgres) =>
                [(to_sqlite, pierre_store::Sqlite), (to_mysql, pierre_store::MySql)];
            (mysql, pierre_store::MySql) =>
                [(to_sqlite, pierre_store::Sqlite), (to_postgres, pierre_store::Postgres)];
        );
    };
}

/// A migrated store on a database of its own, removed when dropped.
pub struct TestDb<B: Backend> {
    /// The store under test.
    pub store: Store<B>,
    /// The URL it was opened with.
    pub url: String,
    /// Its key.
    pub key: EncryptionKey,
    cleanup: Cleanup,
}

impl<B: TestBackend> TestDb<B> {
    /// A fresh, migrated database and a store on it.
    pub async fn new() -> eyre::Result<Self> {
        let (url, cleanup) = B::fresh_database().await?;
        let key = EncryptionKey::generate();
        let store = Store::<B>::new(&url, key.clone()).await?;
        store.migrate().await?;
        Ok(Self {
            store,
            url,
            key,
            cleanup,
        })
    }

    /// A fresh, migrated database opened the way the README tells users to run in
    /// production: on PostgreSQL as an ordinary role (`NOSUPERUSER NOBYPASSRLS`) that owns
    /// the database and applied its migrations; on MySQL as a user with every privilege on
    /// that one database and none elsewhere; on SQLite the same as [`TestDb::new`].
    /// `url` is that role's URL; [`TestDb::admin_url`] is the server's superuser one.
    pub async fn new_as_app_role() -> eyre::Result<Self> {
        let (url, cleanup) = B::fresh_database_as_app_role().await?;
        let key = EncryptionKey::generate();
        let store = Store::<B>::new(&url, key.clone()).await?;
        store.migrate().await?;
        Ok(Self {
            store,
            url,
            key,
            cleanup,
        })
    }

    /// A URL with full rights on this database: the app URL on SQLite, the superuser's
    /// on PostgreSQL (for checks that must see past row-level security) and MySQL.
    pub fn admin_url(&self) -> String {
        self.cleanup
            .admin_url()
            .map_or_else(|| self.url.clone(), str::to_owned)
    }

    /// Another store on the same database, with another key.
    pub async fn reopen_with(&self, key: EncryptionKey) -> eyre::Result<Store<B>> {
        Ok(Store::<B>::new(&self.url, key).await?)
    }
}

/// What removes a test database.
pub enum Cleanup {
    /// A temporary directory holding the SQLite file.
    Dir(tempfile::TempDir),
    /// A PostgreSQL database, dropped (with its connections) on drop.
    PgDatabase(String),
    /// A PostgreSQL database owned by an ordinary role: both dropped on drop.
    PgAppDatabase {
        /// The superuser URL of the database.
        admin_url: String,
        /// The owning role.
        role: String,
    },
    /// A MySQL database, dropped on drop.
    MyDatabase(String),
    /// A MySQL database and the user whose privileges are limited to it: both dropped on
    /// drop.
    MyAppDatabase {
        /// The URL of the database as the test server's user.
        admin_url: String,
        /// The database's user.
        user: String,
    },
}

impl Cleanup {
    /// The superuser URL of a database owned by an ordinary role (see
    /// [`TestBackend::fresh_database_as_app_role`]); `None` for the other kinds.
    pub fn admin_url(&self) -> Option<&str> {
        match self {
            Self::PgAppDatabase { admin_url, .. } | Self::MyAppDatabase { admin_url, .. } => {
                Some(admin_url)
            }
            _ => None,
        }
    }
}

/// Runs `work` to completion on a runtime of its own, in a thread of its own: `Drop` runs
/// inside the test's runtime, which cannot be blocked on.
fn block_on_thread<F: Future<Output = ()> + Send + 'static>(work: F) {
    let _ = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map(|rt| rt.block_on(work))
    })
    .join();
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Self::MyDatabase(url) = self {
            let url = url.clone();
            block_on_thread(async move {
                let _ = MySql::drop_database(&url).await;
            });
        }
        if let Self::MyAppDatabase { admin_url, user } = self {
            let (url, user) = (admin_url.clone(), user.clone());
            block_on_thread(async move {
                let _ = MySql::drop_database(&url).await;
                if let Ok(mut admin) = sqlx::MySqlConnection::connect(&mysql_server_url()).await {
                    let _ = sqlx::query(AssertSqlSafe(format!("DROP USER IF EXISTS '{user}'@'%'")))
                        .execute(&mut admin)
                        .await;
                }
            });
        }
        if let Self::PgDatabase(url) = self {
            let url = url.clone();
            block_on_thread(async move {
                let _ = Postgres::force_drop_database(&url).await;
            });
        }
        if let Self::PgAppDatabase { admin_url, role } = self {
            let (url, role) = (admin_url.clone(), role.clone());
            block_on_thread(async move {
                let _ = Postgres::force_drop_database(&url).await;
                if let Ok(mut admin) = sqlx::PgConnection::connect(&postgres_server_url()).await {
                    let _ = sqlx::query(AssertSqlSafe(format!("DROP ROLE IF EXISTS {role}")))
                        .execute(&mut admin)
                        .await;
                }
            });
        }
    }
}

/// A `user_oauth_tokens` row as stored (see [`RawSql::raw_token_rows`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawTokenRow {
    /// The row's own id.
    pub id: uuid::Uuid,
    /// The owner.
    pub user_id: UserId,
    /// The provider, as stored.
    pub provider: String,
    /// The sealed access token.
    pub access_token_encrypted: Vec<u8>,
    /// The sealed refresh token, if any.
    pub refresh_token_encrypted: Option<Vec<u8>>,
}

/// A `user_oauth_tokens` row with ids as the backend stores them (`Id`).
#[derive(sqlx::FromRow)]
pub struct StoredTokenRow<Id> {
    id: Id,
    user_id: Id,
    provider: String,
    access_token_encrypted: Vec<u8>,
    refresh_token_encrypted: Option<Vec<u8>>,
}

/// One value per backend, for what a test does differently on each (raw SQL in each
/// dialect, say). A new backend adds a field: the compiler then names every place that
/// must say what to do on it.
pub struct PerBackend<T> {
    /// The value on SQLite.
    pub sqlite: T,
    /// The value on PostgreSQL.
    pub postgres: T,
    /// The value on MySQL / MariaDB.
    pub mysql: T,
}

/// What a backend needs to run the shared suite: how to make a database, and the few
/// facts of its SQL dialect that the raw-SQL helpers ([`RawSql`]) need.
pub trait TestBackend: Backend + RawSql {
    /// The URL of a new, empty database, and what removes it.
    fn fresh_database() -> impl Future<Output = eyre::Result<(String, Cleanup)>> + Send;
    /// As [`TestBackend::fresh_database`], but on PostgreSQL the database is owned by a new
    /// ordinary role (`NOSUPERUSER NOBYPASSRLS`, password login) and the URL is that role's:
    /// the set-up the README recommends. The same as `fresh_database` on SQLite.
    fn fresh_database_as_app_role() -> impl Future<Output = eyre::Result<(String, Cleanup)>> + Send;
    /// A URL of another backend (for scheme-mismatch tests).
    fn other_backend_url() -> &'static str;
    /// This backend's value of `choices`.
    fn of<T>(choices: PerBackend<T>) -> T;
}

/// The SQL dialect facts the raw-SQL helpers need.
pub trait Dialect: sqlx::Database {
    /// How a bound id is written: ids are stored as text on SQLite and MySQL, as `uuid` on
    /// PostgreSQL.
    type Id: for<'q> sqlx::Encode<'q, Self> + sqlx::Type<Self> + Send + Unpin + 'static;
    /// Parameter `n` of a statement: `?n`, `$n`, or `?` on MySQL (positional: number the
    /// parameters in the order they appear in the text).
    fn param(n: u8) -> String;
    /// `id` as this backend stores it.
    fn id(id: uuid::Uuid) -> Self::Id;
    /// An id as this backend stores it, read back.
    fn parse_id(id: Self::Id) -> eyre::Result<uuid::Uuid>;
    /// The rows a statement affected (sqlx has no trait for it).
    fn rows_affected(done: &Self::QueryResult) -> u64;
}

impl Dialect for Sqlite {
    type Id = String;

    fn param(n: u8) -> String {
        format!("?{n}")
    }

    fn id(id: uuid::Uuid) -> String {
        id.to_string()
    }

    fn parse_id(id: String) -> eyre::Result<uuid::Uuid> {
        Ok(id.parse()?)
    }

    fn rows_affected(done: &sqlx::sqlite::SqliteQueryResult) -> u64 {
        done.rows_affected()
    }
}

impl Dialect for Postgres {
    type Id = uuid::Uuid;

    fn param(n: u8) -> String {
        format!("${n}")
    }

    fn id(id: uuid::Uuid) -> uuid::Uuid {
        id
    }

    fn parse_id(id: uuid::Uuid) -> eyre::Result<uuid::Uuid> {
        Ok(id)
    }

    fn rows_affected(done: &sqlx::postgres::PgQueryResult) -> u64 {
        done.rows_affected()
    }
}

impl Dialect for MySql {
    type Id = String;

    fn param(_n: u8) -> String {
        "?".to_owned()
    }

    fn id(id: uuid::Uuid) -> String {
        id.to_string()
    }

    fn parse_id(id: String) -> eyre::Result<uuid::Uuid> {
        Ok(id.parse()?)
    }

    fn rows_affected(done: &sqlx::mysql::MySqlQueryResult) -> u64 {
        done.rows_affected()
    }
}

/// Raw SQL on a backend's database, around the store (to look at or damage what it
/// stored): written once, for every backend that has a [`Dialect`] and sqlx's usual types.
pub trait RawSql {
    /// Runs one statement of raw SQL; returns the rows it affected.
    fn raw_execute(url: &str, sql: &'static str) -> impl Future<Output = eyre::Result<u64>> + Send;
    /// `SELECT COUNT(*)` of a table.
    fn raw_count(url: &str, table: &'static str) -> impl Future<Output = eyre::Result<i64>> + Send;
    /// Runs a query of one row of one integer column (a `COUNT(*)` of a catalog, say).
    fn raw_i64(url: &str, sql: &'static str) -> impl Future<Output = eyre::Result<i64>> + Send;
    /// The raw stored `(access_token_encrypted, refresh_token_encrypted)` columns of a token
    /// row.
    fn raw_token_columns(
        url: &str,
        user: UserId,
        provider: &'static str,
    ) -> impl Future<Output = eyre::Result<(Vec<u8>, Option<Vec<u8>>)>> + Send;
    /// Overwrites the stored `access_token_encrypted` column of a token row with `bytes`.
    fn raw_set_access_token(
        url: &str,
        user: UserId,
        provider: &'static str,
        bytes: Vec<u8>,
    ) -> impl Future<Output = eyre::Result<()>> + Send;
    /// Every `user_oauth_tokens` row, read with raw SQL by the seed's column names
    /// (`id`, `access_token_encrypted`, `refresh_token_encrypted`), ordered by user and
    /// provider.
    fn raw_token_rows(url: &str) -> impl Future<Output = eyre::Result<Vec<RawTokenRow>>> + Send;
}

impl<DB> RawSql for DB
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Vec<u8>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: for<'r> sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    for<'r> (Vec<u8>, Option<Vec<u8>>): sqlx::FromRow<'r, DB::Row>,
    for<'r> StoredTokenRow<DB::Id>: sqlx::FromRow<'r, DB::Row>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    async fn raw_execute(url: &str, sql: &'static str) -> eyre::Result<u64> {
        let mut conn = DB::Connection::connect(url).await?;
        let done = sqlx::query::<DB>(sql).execute(&mut conn).await?;
        Ok(DB::rows_affected(&done))
    }

    async fn raw_count(url: &str, table: &'static str) -> eyre::Result<i64> {
        let mut conn = DB::Connection::connect(url).await?;
        let sql = format!("SELECT COUNT(*) FROM {table}");
        Ok(sqlx::query_scalar::<DB, i64>(AssertSqlSafe(sql))
            .fetch_one(&mut conn)
            .await?)
    }

    async fn raw_i64(url: &str, sql: &'static str) -> eyre::Result<i64> {
        let mut conn = DB::Connection::connect(url).await?;
        Ok(sqlx::query_scalar::<DB, i64>(sql)
            .fetch_one(&mut conn)
            .await?)
    }

    async fn raw_token_rows(url: &str) -> eyre::Result<Vec<RawTokenRow>> {
        let mut conn = DB::Connection::connect(url).await?;
        let sql = "SELECT id, user_id, provider, access_token_encrypted, \
                   refresh_token_encrypted FROM user_oauth_tokens ORDER BY user_id, provider";
        let rows: Vec<StoredTokenRow<DB::Id>> =
            sqlx::query_as::<DB, _>(sql).fetch_all(&mut conn).await?;
        rows.into_iter()
            .map(|row| {
                Ok(RawTokenRow {
                    id: DB::parse_id(row.id)?,
                    user_id: UserId::from(DB::parse_id(row.user_id)?),
                    provider: row.provider,
                    access_token_encrypted: row.access_token_encrypted,
                    refresh_token_encrypted: row.refresh_token_encrypted,
                })
            })
            .collect()
    }

    async fn raw_token_columns(
        url: &str,
        user: UserId,
        provider: &'static str,
    ) -> eyre::Result<(Vec<u8>, Option<Vec<u8>>)> {
        let mut conn = DB::Connection::connect(url).await?;
        let sql = format!(
            "SELECT access_token_encrypted, refresh_token_encrypted FROM user_oauth_tokens \
             WHERE user_id = {} AND provider = {}",
            DB::param(1),
            DB::param(2)
        );
        Ok(sqlx::query_as::<DB, _>(AssertSqlSafe(sql))
            .bind(DB::id(user.into_inner()))
            .bind(provider)
            .fetch_one(&mut conn)
            .await?)
    }

    async fn raw_set_access_token(
        url: &str,
        user: UserId,
        provider: &'static str,
        bytes: Vec<u8>,
    ) -> eyre::Result<()> {
        let mut conn = DB::Connection::connect(url).await?;
        let sql = format!(
            "UPDATE user_oauth_tokens SET access_token_encrypted = {} \
             WHERE user_id = {} AND provider = {}",
            DB::param(1),
            DB::param(2),
            DB::param(3)
        );
        let done = sqlx::query::<DB>(AssertSqlSafe(sql))
            .bind(bytes)
            .bind(DB::id(user.into_inner()))
            .bind(provider)
            .execute(&mut conn)
            .await?;
        eyre::ensure!(DB::rows_affected(&done) == 1, "no token row to overwrite");
        Ok(())
    }
}

impl TestBackend for Sqlite {
    fn of<T>(choices: PerBackend<T>) -> T {
        choices.sqlite
    }

    async fn fresh_database() -> eyre::Result<(String, Cleanup)> {
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite:{}", dir.path().join("pierre.db").display());
        Ok((url, Cleanup::Dir(dir)))
    }

    async fn fresh_database_as_app_role() -> eyre::Result<(String, Cleanup)> {
        Self::fresh_database().await
    }

    fn other_backend_url() -> &'static str {
        "postgres://postgres@127.0.0.1:1/postgres"
    }
}

impl TestBackend for Postgres {
    fn of<T>(choices: PerBackend<T>) -> T {
        choices.postgres
    }

    async fn fresh_database() -> eyre::Result<(String, Cleanup)> {
        let name = format!("pierre_test_{}", uuid::Uuid::new_v4().simple());
        let url = with_database(&postgres_server_url(), &name, None);
        Postgres::create_database(&url).await?;
        Ok((url.clone(), Cleanup::PgDatabase(url)))
    }

    async fn fresh_database_as_app_role() -> eyre::Result<(String, Cleanup)> {
        let server = postgres_server_url();
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let (role, name) = (
            format!("pierre_app_{suffix}"),
            format!("pierre_test_{suffix}"),
        );
        let mut admin = sqlx::PgConnection::connect(&server).await?;
        for statement in [
            format!(
                "CREATE ROLE {role} LOGIN PASSWORD 'app-password' NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS"
            ),
            format!("CREATE DATABASE {name} OWNER {role}"),
        ] {
            sqlx::query(AssertSqlSafe(statement))
                .execute(&mut admin)
                .await?;
        }
        let admin_url = with_database(&server, &name, None);
        let app_url = with_database(&server, &name, Some(&role));
        Ok((app_url, Cleanup::PgAppDatabase { admin_url, role }))
    }

    fn other_backend_url() -> &'static str {
        "sqlite::memory:"
    }
}

impl TestBackend for MySql {
    fn of<T>(choices: PerBackend<T>) -> T {
        choices.mysql
    }

    async fn fresh_database() -> eyre::Result<(String, Cleanup)> {
        let name = format!("pierre_test_{}", uuid::Uuid::new_v4().simple());
        let url = with_database(&mysql_server_url(), &name, None);
        MySql::create_database(&url).await?;
        Ok((url.clone(), Cleanup::MyDatabase(url)))
    }

    async fn fresh_database_as_app_role() -> eyre::Result<(String, Cleanup)> {
        let server = mysql_server_url();
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        // MySQL 8 limits user names to 32 characters.
        let (user, name) = (
            format!("pierre_app_{}", &suffix[..16]),
            format!("pierre_test_{suffix}"),
        );
        let mut admin = sqlx::MySqlConnection::connect(&server).await?;
        // What the README ("MySQL / MariaDB") tells users to run, statement for statement: a
        // database in utf8mb4_bin and a user whose privileges stop at it. (`fresh_database`
        // leaves the server's default character set: latin1 on `scripts/with-mariadb`'s
        // server, which every table of the schema overrides.)
        for statement in [
            format!("CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"),
            format!("CREATE USER '{user}'@'%' IDENTIFIED BY 'app-password'"),
            format!("GRANT ALL PRIVILEGES ON {name}.* TO '{user}'@'%'"),
        ] {
            sqlx::query(AssertSqlSafe(statement))
                .execute(&mut admin)
                .await?;
        }
        let admin_url = with_database(&server, &name, None);
        let app_url = with_database(&server, &name, Some(&user));
        Ok((app_url, Cleanup::MyAppDatabase { admin_url, user }))
    }

    fn other_backend_url() -> &'static str {
        "postgres://postgres@127.0.0.1:1/postgres"
    }
}

/// `server` (a PostgreSQL or MySQL URL) pointed at database `name`, logged in as `role` with the
/// password `app-password` when given (the server's user otherwise).
pub fn with_database(server: &str, name: &str, role: Option<&str>) -> String {
    let (base, query) = server.split_once('?').unwrap_or((server, ""));
    let base = base.rsplit_once('/').map_or(base, |(root, _)| root);
    let base = match role {
        Some(role) => {
            let (scheme, rest) = base.split_once("://").expect("a URL with a scheme");
            let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
            format!("{scheme}://{role}:app-password@{host}")
        }
        None => base.to_owned(),
    };
    if query.is_empty() {
        format!("{base}/{name}")
    } else {
        format!("{base}/{name}?{query}")
    }
}

/// The server the PostgreSQL suite runs on; panics with instructions when unset.
pub fn postgres_server_url() -> String {
    std::env::var("TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!(
            "TEST_POSTGRES_URL is not set, and the PostgreSQL suite is never skipped. \
             Run `make test` (it starts a throwaway PostgreSQL cluster), or set \
             TEST_POSTGRES_URL=postgres://user@host:port/postgres for a server where that \
             user may CREATE DATABASE."
        )
    })
}

/// The MySQL / MariaDB server the MySQL suite runs on; panics with instructions when unset.
pub fn mysql_server_url() -> String {
    std::env::var("TEST_MYSQL_URL").unwrap_or_else(|_| {
        panic!(
            "TEST_MYSQL_URL is not set, and the MySQL suite is never skipped. Run `make test` \
             (it starts a throwaway MariaDB server), or set \
             TEST_MYSQL_URL=mysql://user:password@host:3306/mysql for a server where that \
             user may CREATE DATABASE, CREATE USER and GRANT."
        )
    })
}

/// Every table of the schema whose rows the store counts.
pub const TABLES: [&str; 8] = [
    "users",
    "user_oauth_tokens",
    "api_keys",
    "api_key_usage",
    "jwt_usage",
    "a2a_clients",
    "tenants",
    "activities",
];

/// `(table, rows)` for every table, counted with raw SQL at `url`: pass an admin URL to
/// count past row-level security.
pub async fn raw_counts<B: TestBackend>(url: &str) -> eyre::Result<Vec<(&'static str, i64)>> {
    let mut counts = Vec::new();
    for table in TABLES {
        counts.push((table, B::raw_count(url, table).await?));
    }
    Ok(counts)
}

/// A new user (`email`) owning one tenant per `(slug, activities)`, each with that many
/// activities: data in several tenants, for checks that must see past row-level
/// security. Returns the user and the tenants, in order.
pub async fn seed_tenants<B: Backend>(
    store: &Store<B>,
    email: &str,
    tenants: &[(&str, i64)],
) -> eyre::Result<(UserId, Vec<TenantId>)> {
    let user = store.create_user(&User::new(email, "hash")).await?;
    let mut ids = Vec::new();
    for (slug, activities) in tenants {
        let tenant = store.create_tenant(&Tenant::new(slug, slug, user)).await?;
        for n in 0..*activities {
            let start = time::macros::datetime!(2026-03-01 06:00 UTC) + time::Duration::days(n);
            let activity = Activity::new(user, "run", "run", 1.0, n, start);
            store.create_activity(tenant, &activity).await?;
        }
        ids.push(tenant);
    }
    Ok((user, ids))
}

/// The URL of a database of backend `B` that does not exist: on SQLite a file in a
/// directory that does not exist either (under `dir`), on PostgreSQL a database name never
/// created on the test server (the same on MySQL).
pub fn missing_database_url<B: TestBackend>(dir: &std::path::Path) -> String {
    B::of::<&dyn Fn() -> String>(PerBackend {
        sqlite: &|| format!("sqlite:{}", dir.join("nowhere/pierre.db").display()),
        postgres: &|| {
            let name = format!("pierre_missing_{}", uuid::Uuid::new_v4().simple());
            with_database(&postgres_server_url(), &name, None)
        },
        mysql: &|| {
            let name = format!("pierre_missing_{}", uuid::Uuid::new_v4().simple());
            with_database(&mysql_server_url(), &name, None)
        },
    })()
}

/// Whether a database exists at `url` (made by [`missing_database_url`] or a harness
/// function), checked without creating anything (sqlx's URL options never create a SQLite
/// file unless the URL asks for it with `mode=rwc`).
pub async fn database_exists<B: TestBackend>(url: &str) -> bool {
    B::Connection::connect(url).await.is_ok()
}

/// Makes every update of `user`'s token rows fail ("injected failure"), as a failing
/// batch of a key rotation would, until [`allow_token_updates`].
pub async fn fail_token_updates<B: TestBackend>(url: &str, user: &str) -> eyre::Result<()> {
    let install: &'static str = Box::leak(
        B::of(PerBackend {
            sqlite: "CREATE TRIGGER fail_token_update BEFORE UPDATE ON user_oauth_tokens
             WHEN OLD.user_id = '{user}' BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
            postgres: "DO $do$ BEGIN
               CREATE FUNCTION fail_token_update() RETURNS trigger LANGUAGE plpgsql
                 AS $f$ BEGIN RAISE EXCEPTION 'injected failure'; END $f$;
               CREATE TRIGGER fail_token_update BEFORE UPDATE ON user_oauth_tokens FOR EACH ROW
                 WHEN (OLD.user_id = '{user}') EXECUTE FUNCTION fail_token_update();
             END $do$",
            mysql: "CREATE TRIGGER fail_token_update BEFORE UPDATE ON user_oauth_tokens
             FOR EACH ROW BEGIN
               IF OLD.user_id = '{user}' THEN
                 SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'injected failure';
               END IF;
             END",
        })
        .replace("{user}", user)
        .into_boxed_str(),
    );
    B::raw_execute(url, install).await?;
    Ok(())
}

/// Undoes [`fail_token_updates`].
pub async fn allow_token_updates<B: TestBackend>(url: &str) -> eyre::Result<()> {
    B::raw_execute(
        url,
        B::of(PerBackend {
            sqlite: "DROP TRIGGER fail_token_update",
            postgres: "DROP TRIGGER fail_token_update ON user_oauth_tokens",
            mysql: "DROP TRIGGER fail_token_update",
        }),
    )
    .await?;
    Ok(())
}

/// `host:port` of the server at `TEST_POSTGRES_URL`.
pub fn server_address() -> eyre::Result<String> {
    let url = url::Url::parse(&postgres_server_url())?;
    let host = url.host_str().unwrap_or("127.0.0.1");
    Ok(format!("{host}:{}", url.port().unwrap_or(5432)))
}

/// Forwards every connection accepted on `listener` to the server at `TEST_POSTGRES_URL`
/// (a server that "starts" when this starts).
pub async fn forward(listener: tokio::net::TcpListener) {
    while let Ok((mut client, _)) = listener.accept().await {
        tokio::spawn(async move {
            if let Ok(address) = server_address()
                && let Ok(mut server) = tokio::net::TcpStream::connect(address).await
            {
                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            }
        });
    }
}

/// The partitions of the usage table `table`, by name, on PostgreSQL (where the usage
/// tables are partitioned by month); `None` on SQLite and MySQL.
pub async fn usage_partitions<B: TestBackend>(
    url: &str,
    table: &str,
) -> eyre::Result<Option<Vec<String>>> {
    if B::of(PerBackend {
        sqlite: true,
        postgres: false,
        mysql: true,
    }) {
        return Ok(None);
    }
    let mut conn = sqlx::PgConnection::connect(url).await?;
    let names = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = $1::regclass ORDER BY 1",
    )
    .bind(table)
    .fetch_all(&mut conn)
    .await?;
    Ok(Some(names))
}
