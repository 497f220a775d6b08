//! One call that opens whichever backend a URL names: `open_and_run` and `run_for_url`.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use common::{TestBackend, TestDb};
use pierre_store::{
    Backend, EncryptionKey, Error, ForBackend, Store, StoreConfig, User, WithStore, open_and_run,
    run_for_url,
};

backend_tests!(
    open_and_run_opens_the_store_each_scheme_names,
    run_for_url_runs_the_code_for_the_backend_the_url_names,
);

/// What a server's generic code does with the store it is handed: a lookup, and the name
/// of the backend it was monomorphised for.
struct LookUp {
    email: &'static str,
}

impl<B: Backend> WithStore<B> for LookUp {
    type Output = pierre_store::Result<(&'static str, Option<User>)>;

    async fn run(self, store: Store<B>) -> Self::Output {
        let user = store.get_user_by_email(self.email).await?;
        store.close().await;
        Ok((B::NAME, user))
    }
}

/// Every spelling of `url`'s scheme that names the same backend.
fn spellings(url: &str) -> Vec<String> {
    match url.strip_prefix("postgres://") {
        Some(rest) => vec![url.to_owned(), format!("postgresql://{rest}")],
        None => vec![url.to_owned()],
    }
}

async fn open_and_run_opens_the_store_each_scheme_names<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    let alice = db
        .store
        .create_user(&User::new("alice@example.com", "hash"))
        .await?;
    for url in spellings(&db.url) {
        let config = StoreConfig::new(url.clone(), db.key.clone());
        // Spawned: the entry point's future is `Send`, as a server's `main` needs.
        let app = LookUp {
            email: "alice@example.com",
        };
        let (name, user) = tokio::spawn(open_and_run(config, app)).await???;
        assert_eq!(name, B::NAME, "{url}");
        assert_eq!(user.map(|u| u.id), Some(alice), "{url}: the same database");
    }
    Ok(())
}

/// Generic code that opens nothing: the backend's name.
struct Name;

impl<B: Backend> ForBackend<B> for Name {
    type Output = &'static str;

    async fn run(self) -> &'static str {
        B::NAME
    }
}

async fn run_for_url_runs_the_code_for_the_backend_the_url_names<B: TestBackend>()
-> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    for url in spellings(&db.url) {
        assert_eq!(run_for_url(&url, Name).await?, B::NAME, "{url}");
    }
    Ok(())
}

/// Counts its runs: it must never run for a URL no backend opens.
struct MustNotRun<'a>(&'a AtomicUsize);

impl<B: Backend> ForBackend<B> for MustNotRun<'_> {
    type Output = ();

    async fn run(self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl<B: Backend> WithStore<B> for MustNotRun<'_> {
    type Output = ();

    async fn run(self, _store: Store<B>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn an_unknown_scheme_is_a_config_error_listing_the_supported_ones() {
    let runs = AtomicUsize::new(0);
    for url in [
        // MySQL is a backend now (mysql: and mariadb:): another scheme with a password.
        "mssql://root:hunter2@localhost/db",
        "",
        "not a url",
        "http://example.com",
        "sqlite",
        "postgres",
        "host=db password=hunter2:x",
        "app:hunter2@db/pierre",
    ] {
        let config = StoreConfig::new(url, EncryptionKey::generate());
        for err in [
            open_and_run(config, MustNotRun(&runs)).await.unwrap_err(),
            run_for_url(url, MustNotRun(&runs)).await.unwrap_err(),
        ] {
            let Error::Config(message) = &err else {
                panic!("{url:?}: expected Config, got {err:?}")
            };
            for scheme in ["sqlite:", "postgres:", "postgresql:", "mysql:", "mariadb:"] {
                assert!(message.contains(scheme), "{url:?}: {message}");
            }
            assert!(!message.contains("hunter2"), "{message}");
        }
    }
    assert_eq!(runs.load(Ordering::SeqCst), 0, "the app never ran");
}
