//! Password hashing with Argon2id at the OWASP parameters (19 MiB of memory, 2 passes,
//! 1 lane), in PHC string format. Hashing is deliberately slow, so it runs on tokio's
//! blocking pool and never stalls the async executor.

use std::sync::OnceLock;

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version,
    password_hash::{SaltString, rand_core::OsRng},
};

use crate::{Error, Result};

/// Memory cost in KiB (OWASP: 19 MiB).
pub const MEMORY_KIB: u32 = 19_456;
/// Passes over memory (OWASP: 2).
pub const ITERATIONS: u32 = 2;
/// Lanes (OWASP: 1).
pub const PARALLELISM: u32 = 1;
/// Longest password accepted, in bytes (longer inputs only cost time).
pub const MAX_PASSWORD_LEN: usize = 1024;

fn hasher() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .expect("the OWASP parameters are valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn check_password(password: &str) -> Result<()> {
    if password.is_empty() {
        return Err(Error::invalid("password", "is empty"));
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(Error::invalid(
            "password",
            format!("is longer than {MAX_PASSWORD_LEN} bytes"),
        ));
    }
    Ok(())
}

fn hash_blocking(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| Error::invalid("password", e.to_string()))
}

fn verify_blocking(password: &str, phc: &str) -> Result<bool> {
    let parsed = PasswordHash::new(phc)
        .map_err(|_| Error::invalid("password_hash", "is not a PHC string"))?;
    match hasher().verify_password(password.as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::Password) => Ok(false),
        Err(_) => Err(Error::invalid(
            "password_hash",
            "uses an unsupported algorithm or parameters",
        )),
    }
}

async fn blocking<T: Send + 'static>(
    job: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(job)
        .await
        .map_err(|e| Error::invalid("password", format!("hashing task failed: {e}")))?
}

/// Hashes `password` with Argon2id and a fresh random salt; returns the PHC string.
///
/// # Errors
/// [`Error::InvalidInput`] for an empty password or one over [`MAX_PASSWORD_LEN`] bytes.
pub async fn hash(password: &str) -> Result<String> {
    check_password(password)?;
    let password = zeroize::Zeroizing::new(password.to_owned());
    blocking(move || hash_blocking(&password)).await
}

/// Whether `password` matches the PHC string `phc`. A password over [`MAX_PASSWORD_LEN`]
/// bytes never matches (no hash is made of one), but still costs one full Argon2
/// verification, so the time taken does not depend on the password's length (nor tells a
/// login's caller whether there was a hash to check it against).
///
/// # Errors
/// [`Error::InvalidInput`] when `phc` is not a PHC string of a supported algorithm.
pub async fn verify(password: &str, phc: &str) -> Result<bool> {
    if password.len() > MAX_PASSWORD_LEN {
        verify_dummy(password).await;
        return Ok(false);
    }
    let password = zeroize::Zeroizing::new(password.to_owned());
    let phc = phc.to_owned();
    blocking(move || verify_blocking(&password, &phc)).await
}

/// Spends the time of one verification without a real hash (of at most the first
/// [`MAX_PASSWORD_LEN`] bytes of `password`), so that a login for an unknown email, or with
/// an over-long password, takes as long as any other.
pub(crate) async fn verify_dummy(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let mut end = password.len().min(MAX_PASSWORD_LEN);
    while !password.is_char_boundary(end) {
        end -= 1;
    }
    let password = zeroize::Zeroizing::new(password[..end].to_owned());
    let _ = blocking(move || {
        let dummy =
            DUMMY.get_or_init(|| hash_blocking("pierre-store dummy password").unwrap_or_default());
        verify_blocking(&password, dummy)
    })
    .await;
}

/// Whether `phc` was made with weaker settings than [`hash`] uses now (another algorithm,
/// or less memory, fewer passes or fewer lanes), so it should be replaced at the next
/// successful login.
#[must_use]
pub fn needs_rehash(phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return true;
    };
    if parsed.algorithm != Algorithm::Argon2id.ident() {
        return true;
    }
    match Params::try_from(&parsed) {
        Ok(params) => {
            params.m_cost() < MEMORY_KIB
                || params.t_cost() < ITERATIONS
                || params.p_cost() < PARALLELISM
        }
        Err(_) => true,
    }
}
