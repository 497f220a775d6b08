//! One call for a program that supports both backends: the URL's scheme picks
//! `Store<Sqlite>` or `Store<Postgres>`, and the caller's generic code runs monomorphised
//! for it. The backend stays a type: no enum, no per-call dispatch, one `match` on the
//! scheme at start-up.

use std::future::Future;

use crate::{Backend, MySql, Postgres, Result, Sqlite, Store, StoreConfig, config};

/// Code generic over the backend, run by [`open_and_run`] with the store the configured
/// URL names. Implement it once for every `B: Backend` (with any further bounds of your
/// own that [`Sqlite`], [`Postgres`] and [`MySql`] meet), usually with an `async fn`:
///
/// ```
/// use pierre_store::{Backend, Store, WithStore};
///
/// struct Server;
///
/// impl<B: Backend> WithStore<B> for Server {
///     type Output = pierre_store::Result<()>;
///
///     async fn run(self, store: Store<B>) -> Self::Output {
///         store.migrate().await?;
///         // serve requests with `store` ...
///         store.close().await;
///         Ok(())
///     }
/// }
/// ```
pub trait WithStore<B: Backend> {
    /// What the code returns; the same type for every backend.
    type Output;

    /// Runs with the open store (not yet migrated: that is the caller's choice). The
    /// future must be `Send`, so that the whole program can run on a multi-threaded
    /// runtime and hand the store to spawned tasks.
    fn run(self, store: Store<B>) -> impl Future<Output = Self::Output> + Send;
}

/// Code generic over the backend, run by [`run_for_url`] for the backend a URL names,
/// without opening anything: for programs that open the database their own way, or not at
/// all (a restore from a backup, say). Implemented like [`WithStore`].
pub trait ForBackend<B: Backend> {
    /// What the code returns; the same type for every backend.
    type Output;

    /// Runs the code for backend `B`. The future must be `Send`.
    fn run(self) -> impl Future<Output = Self::Output> + Send;
}

/// Opens the store that `config.database_url` names (`sqlite:` gives `Store<Sqlite>`,
/// `postgres:` or `postgresql:` gives `Store<Postgres>`, `mysql:` or `mariadb:` gives
/// `Store<MySql>`), as
/// [`Store::connect`] does, and runs `app` with it. Runs no migration. Read the settings
/// with [`StoreConfig::from_env`] to follow `DATABASE_URL`, as the seed's database factory
/// does. The returned future is `Send` when `app` is.
///
/// Only in builds with every backend (the default features).
///
/// # Errors
/// [`Error::Config`](crate::Error::Config) for a URL of no supported scheme (the message
/// lists the supported ones and never repeats the URL) or inconsistent pool bounds, and
/// the other errors of [`Store::connect`]; `app` does not run then. What `app` returns is
/// the `Ok` value.
pub async fn open_and_run<A, R>(config: StoreConfig, app: A) -> Result<R>
where
    A: WithStore<Sqlite, Output = R>
        + WithStore<Postgres, Output = R>
        + WithStore<MySql, Output = R>
        + Send,
{
    let url = config.database_url.clone();
    run_for_url(&url, Open { config, app }).await?
}

/// Runs `app` for the backend whose URL scheme `url` has (`sqlite:` for [`Sqlite`],
/// `postgres:` or `postgresql:` for [`Postgres`], `mysql:` or `mariadb:` for [`MySql`]),
/// without connecting to anything.
///
/// Only in builds with every backend (the default features).
///
/// # Errors
/// [`Error::Config`](crate::Error::Config) for a URL of no supported scheme, listing the
/// supported ones (the URL itself is not repeated: it may hold a password); `app` does not
/// run then. What `app` returns is the `Ok` value.
pub async fn run_for_url<A, R>(url: &str, app: A) -> Result<R>
where
    A: ForBackend<Sqlite, Output = R>
        + ForBackend<Postgres, Output = R>
        + ForBackend<MySql, Output = R>,
{
    if config::is_url_of::<Sqlite>(url) {
        Ok(ForBackend::<Sqlite>::run(app).await)
    } else if config::is_url_of::<Postgres>(url) {
        Ok(ForBackend::<Postgres>::run(app).await)
    } else if config::is_url_of::<MySql>(url) {
        Ok(ForBackend::<MySql>::run(app).await)
    } else {
        Err(config::unsupported_scheme(url))
    }
}

/// [`open_and_run`]'s step between picking the backend and running the caller's code.
struct Open<A> {
    config: StoreConfig,
    app: A,
}

impl<B: Backend, A: WithStore<B> + Send> ForBackend<B> for Open<A> {
    type Output = Result<A::Output>;

    async fn run(self) -> Self::Output {
        let store = Store::<B>::connect(self.config).await?;
        Ok(self.app.run(store).await)
    }
}
