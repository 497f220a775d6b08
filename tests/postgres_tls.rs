//! PostgreSQL over TLS: a `sslmode=require` URL connects (rustls). `make test` starts its
//! throwaway server with a self-signed certificate; a server given in TEST_POSTGRES_URL must
//! accept TLS too.

mod common;

use common::TestDb;
use pierre_store::{EncryptionKey, Postgres, Store, User};

#[tokio::test]
async fn sslmode_require_urls_work() -> eyre::Result<()> {
    let db = TestDb::<Postgres>::new().await?;
    let separator = if db.url.contains('?') { '&' } else { '?' };
    let url = format!("{}{separator}sslmode=require", db.url);
    let store = Store::<Postgres>::new(&url, EncryptionKey::generate())
        .await
        .map_err(|e| eyre::eyre!("{e} (does the server at TEST_POSTGRES_URL accept TLS?)"))?;
    let id = store
        .create_user(&User::new("tls@example.com", "hash"))
        .await?;
    assert_eq!(db.store.get_user(id).await?.map(|u| u.id), Some(id));
    Ok(())
}
