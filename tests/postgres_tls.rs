//! PostgreSQL over TLS (rustls). `sslmode=require` encrypts but accepts any certificate;
//! `sslmode=verify-full` with the server's root certificate also checks the certificate and
//! the host name, and refuses a server it cannot verify.
//!
//! `make test` starts its throwaway server with a certificate for `localhost` signed by a
//! root of its own, and exports that root as `TEST_POSTGRES_ROOT_CERT`. A server given in
//! `TEST_POSTGRES_URL` must accept TLS, and `TEST_POSTGRES_ROOT_CERT` must name the root
//! certificate its certificate chains to (the verification tests fail with instructions
//! otherwise: they are never skipped).

mod common;

use common::TestDb;
use pierre_store::{EncryptionKey, Error, Postgres, Store, User};

/// `url` with `params` added to its query string, and its host replaced by `host` when
/// given.
fn with_tls(url: &str, host: Option<&str>, params: &str) -> String {
    let url = match host {
        Some(host) => {
            let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
            let (userinfo, hostport) = rest.split_at(rest.rfind('@').map_or(0, |at| at + 1));
            let port_and_path = hostport.find([':', '/']).map_or("", |i| &hostport[i..]);
            format!("{scheme}://{userinfo}{host}{port_and_path}")
        }
        None => url.to_owned(),
    };
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{params}")
}

/// The host of `url` (between `@` or `//` and the port or path).
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let hostport = rest.rsplit_once('@').map_or(rest, |(_, hostport)| hostport);
    let end = hostport.find([':', '/', '?']).unwrap_or(hostport.len());
    &hostport[..end]
}

/// The host name to verify the certificate against: the test server's own, except that a
/// loopback address is reached as `localhost` (the name in the throwaway server's
/// certificate, and in Debian's snakeoil one).
fn certificate_host(url: &str) -> &str {
    match host_of(url) {
        "127.0.0.1" | "[::1]" | "localhost" => "localhost",
        other => other,
    }
}

/// The root certificate of the server at `TEST_POSTGRES_URL`; panics with instructions
/// when `TEST_POSTGRES_ROOT_CERT` is unset.
fn root_cert() -> String {
    std::env::var("TEST_POSTGRES_ROOT_CERT").unwrap_or_else(|_| {
        panic!(
            "TEST_POSTGRES_ROOT_CERT is not set, so certificate verification cannot be tested. \
             `make test` sets it for its throwaway server. For a server of your own, set it \
             to the root certificate that signed the server's certificate (for a self-signed \
             server certificate, that certificate itself: `SHOW ssl_cert_file`; on Debian \
             /etc/ssl/certs/ssl-cert-snakeoil.pem), and make TEST_POSTGRES_URL use the host \
             name the certificate names."
        )
    })
}

/// A user written over `url` can be read back over the test database's own store.
async fn write_and_read_back(db: &TestDb<Postgres>, url: &str, email: &str) -> eyre::Result<()> {
    let store = Store::<Postgres>::new(url, EncryptionKey::generate())
        .await
        .map_err(|e| {
            eyre::eyre!(
                "{e} (does the server at TEST_POSTGRES_URL accept TLS, with a certificate that \
                 TEST_POSTGRES_ROOT_CERT verifies?)"
            )
        })?;
    let id = store.create_user(&User::new(email, "hash")).await?;
    assert_eq!(db.store.get_user(id).await?.map(|u| u.id), Some(id));
    store.close().await;
    Ok(())
}

#[tokio::test]
async fn sslmode_require_urls_work() -> eyre::Result<()> {
    let db = TestDb::<Postgres>::new().await?;
    write_and_read_back(
        &db,
        &with_tls(&db.url, None, "sslmode=require"),
        "tls@example.com",
    )
    .await
}

#[tokio::test]
async fn sslmode_verify_full_with_the_servers_root_certificate_connects() -> eyre::Result<()> {
    let root = root_cert();
    let db = TestDb::<Postgres>::new().await?;
    let url = with_tls(
        &db.url,
        Some(certificate_host(&db.url)),
        &format!("sslmode=verify-full&sslrootcert={root}"),
    );
    write_and_read_back(&db, &url, "verified@example.com").await
}

/// The connection error of `url`, which must fail because of the server's certificate.
async fn refused(url: &str) -> Error {
    match Store::<Postgres>::new(url, EncryptionKey::generate()).await {
        Ok(_) => panic!("connected to {url}, which verification should refuse"),
        Err(err) => {
            assert!(
                matches!(err, Error::Database(_)) && err.to_string().contains("certificate"),
                "refused for its certificate: {err}"
            );
            err
        }
    }
}

#[tokio::test]
async fn sslmode_verify_full_refuses_a_server_it_cannot_verify() -> eyre::Result<()> {
    let root = root_cert();
    let db = TestDb::<Postgres>::new().await?;
    let host = certificate_host(&db.url);
    let unrelated = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/unrelated-root.crt");

    for mode in ["verify-full", "verify-ca"] {
        let params = format!("sslmode={mode}&sslrootcert={unrelated}");
        let err = refused(&with_tls(&db.url, Some(host), &params)).await;
        println!("{mode}, unrelated root: {err}");
    }

    // The right root but another name for the server: verify-full checks the host name.
    if host == "localhost" {
        let err = refused(&with_tls(
            &db.url,
            Some("127.0.0.1"),
            &format!("sslmode=verify-full&sslrootcert={root}"),
        ))
        .await;
        println!("another host name: {err}");
    } else {
        eprintln!(
            "WARNING: the host-name check was not tested: the server at TEST_POSTGRES_URL is \
             not on loopback, so no second name for it is known"
        );
    }
    Ok(())
}

#[test]
fn urls_are_rewritten_as_intended() {
    assert_eq!(
        with_tls(
            "postgres://u:p@127.0.0.1:5432/db",
            Some("localhost"),
            "sslmode=verify-full"
        ),
        "postgres://u:p@localhost:5432/db?sslmode=verify-full"
    );
    assert_eq!(
        with_tls("postgres://127.0.0.1/db?x=1", Some("localhost"), "a=b"),
        "postgres://localhost/db?x=1&a=b"
    );
    assert_eq!(certificate_host("postgres://u@127.0.0.1:1/db"), "localhost");
    assert_eq!(certificate_host("postgres://db.example:1/db"), "db.example");
}
