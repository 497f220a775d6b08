//! Credentials the store issues (API keys, A2A client secrets): generated from the OS
//! random generator, shown to the caller once, stored only as a SHA-256 hash.

use std::{fmt, ops::Deref};

use base64::Engine;
use chacha20poly1305::aead::{OsRng, rand_core::RngCore};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// Random bytes in every issued secret (256 bits).
const SECRET_BYTES: usize = 32;
/// Random characters kept in the display prefix: 12 base64url characters, 72 bits.
const DISPLAY_CHARS: usize = 12;
/// Longest plaintext that can be an issued secret; longer input is rejected unhashed.
const MAX_SECRET_LEN: usize = 128;

/// A plaintext credential: returned once when it is issued, or a password taken out of a
/// database URL by [`split_url_password`](crate::split_url_password). `Debug` and `Display` show
/// `[redacted]`; read it with [`PlaintextSecret::expose`] (or through `Deref<Target = str>`)
/// to hand it to its owner. The memory is wiped on drop.
pub struct PlaintextSecret(Zeroizing<String>);

impl PlaintextSecret {
    /// Wraps `secret` (a credential issued here, or a password taken out of a URL).
    pub(crate) fn new(secret: String) -> Self {
        Self(Zeroizing::new(secret))
    }

    /// The secret itself.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl Deref for PlaintextSecret {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PlaintextSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PlaintextSecret([redacted])")
    }
}

impl fmt::Display for PlaintextSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A freshly generated secret with what is stored about it.
pub(crate) struct Issued {
    pub(crate) plaintext: PlaintextSecret,
    /// Lower-case hex SHA-256 of the plaintext: the only form stored.
    pub(crate) hash: String,
    /// `kind` and the first 12 random characters, for telling keys apart on screen.
    pub(crate) display_prefix: String,
}

/// A new secret `kind` + 43 base64url characters (256 random bits).
///
/// The display prefix keeps 72 random bits: among `n` keys, the chance that two share a
/// prefix is about `n² / 2^73` (1e-10 for a million keys), so it tells keys apart; it is
/// never used to look a key up.
pub(crate) fn issue(kind: &str) -> Issued {
    let mut bytes = Zeroizing::new([0_u8; SECRET_BYTES]);
    OsRng.fill_bytes(bytes.as_mut());
    let random =
        Zeroizing::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes.as_ref()));
    let plaintext = Zeroizing::new(format!("{kind}{}", random.as_str()));
    Issued {
        hash: hash(&plaintext),
        display_prefix: format!("{kind}{}", &random[..DISPLAY_CHARS]),
        plaintext: PlaintextSecret(plaintext),
    }
}

/// Lower-case hex SHA-256 of `plaintext`.
pub(crate) fn hash(plaintext: &str) -> String {
    hex(&Sha256::digest(plaintext.as_bytes()).into())
}

/// Lower-case hex of a SHA-256 digest: the form stored.
pub(crate) fn hex(digest: &[u8; 32]) -> String {
    digest
        .iter()
        .fold(String::with_capacity(64), |mut out, byte| {
            use std::fmt::Write;
            let _ = write!(out, "{byte:02x}");
            out
        })
}

/// The SHA-256 to look a presented secret up by, or `None` when it is too long to be one
/// the store issued (as [`lookup_hash`], without the hex form).
pub(crate) fn lookup_digest(plaintext: &str) -> Option<[u8; 32]> {
    (plaintext.len() <= MAX_SECRET_LEN).then(|| Sha256::digest(plaintext.as_bytes()).into())
}

/// The hash to look a presented secret up by, or `None` when it is too long to be one the
/// store issued (it is then not hashed, so that over-long input costs nothing).
pub(crate) fn lookup_hash(plaintext: &str) -> Option<String> {
    (plaintext.len() <= MAX_SECRET_LEN).then(|| hash(plaintext))
}
