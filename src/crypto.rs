//! Encryption of secrets at rest: the key, its file, and the cipher built from it once.
//!
//! Values are sealed with XChaCha20-Poly1305 under a fresh random 192-bit nonce. The stored
//! form is `version (1 byte) || nonce (24 bytes) || ciphertext and tag`. The associated data
//! binds a ciphertext to the place it was written for (row and column), so a value copied
//! elsewhere fails to decrypt.

use std::{fmt, fs, io::Write, path::Path};

use chacha20poly1305::{
    AeadCore, KeyInit, XChaCha20Poly1305, XNonce,
    aead::{Aead, OsRng, Payload, rand_core::RngCore},
};
use zeroize::Zeroizing;

use crate::{Error, Result};

/// Length of a key in bytes.
pub const KEY_LEN: usize = 32;
const FORMAT_VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// A 256-bit key for the values the store encrypts. The bytes are wiped from memory when the
/// key is dropped and `Debug` never shows them.
#[derive(Clone)]
pub struct EncryptionKey(Zeroizing<[u8; KEY_LEN]>);

impl EncryptionKey {
    /// A new random key from the operating system's generator.
    #[must_use]
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0_u8; KEY_LEN]);
        OsRng.fill_bytes(bytes.as_mut());
        Self(bytes)
    }

    /// The key made of exactly these bytes.
    #[must_use]
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The key made of `bytes`.
    ///
    /// # Errors
    /// [`Error::Config`] unless `bytes` is exactly 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        let array: [u8; KEY_LEN] = bytes.try_into().map_err(|_| {
            Error::Config(format!(
                "an encryption key is {KEY_LEN} bytes, got {}",
                bytes.len()
            ))
        })?;
        Ok(Self::from_bytes(array))
    }

    /// Reads the key file at `path` (exactly 32 raw bytes), or, when there is no file,
    /// creates it (and its parent directories) with a new random key, readable by its
    /// owner only (mode 0600). An existing file is never overwritten.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read or written; [`Error::Config`] when it
    /// does not hold exactly 32 bytes.
    pub fn load_or_create(path: &Path) -> Result<Self> {
        let io = |source| Error::Io {
            path: path.to_owned(),
            source,
        };
        match fs::read(path).map(Zeroizing::new) {
            Ok(bytes) => Self::from_slice(&bytes).map_err(|_| {
                Error::Config(format!(
                    "key file {} holds {} bytes, expected {KEY_LEN}",
                    path.display(),
                    bytes.len()
                ))
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    fs::create_dir_all(parent).map_err(io)?;
                }
                let key = Self::generate();
                let mut options = fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                match options.open(path) {
                    Ok(mut file) => {
                        file.write_all(key.0.as_ref()).map_err(io)?;
                        file.sync_all().map_err(io)?;
                        Ok(key)
                    }
                    // Another process created it first: use theirs.
                    Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                        Self::load_or_create(path)
                    }
                    Err(error) => Err(io(error)),
                }
            }
            Err(error) => Err(io(error)),
        }
    }
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EncryptionKey([redacted])")
    }
}

/// The cipher of a store, built once from its key.
pub(crate) struct Cipher(XChaCha20Poly1305);

impl Cipher {
    pub(crate) fn new(key: &EncryptionKey) -> Self {
        Self(XChaCha20Poly1305::new(key.0.as_ref().into()))
    }

    /// Seals `plaintext`, bound to `aad`.
    pub(crate) fn encrypt(&self, plaintext: &str, aad: &[u8]) -> Vec<u8> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .0
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad,
                },
            )
            .expect("XChaCha20-Poly1305 encryption cannot fail for in-memory input");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(FORMAT_VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens a value sealed by [`Cipher::encrypt`] with the same `aad`.
    ///
    /// # Errors
    /// [`Error::Decryption`] naming `what` for a wrong key, a different `aad`, or data that
    /// is truncated, tampered with or not UTF-8.
    pub(crate) fn decrypt(&self, stored: &[u8], aad: &[u8], what: &'static str) -> Result<String> {
        let fail = || Error::Decryption { what };
        if stored.len() < 1 + NONCE_LEN + TAG_LEN || stored[0] != FORMAT_VERSION {
            return Err(fail());
        }
        let (nonce, sealed) = stored[1..].split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| fail())?;
        let plaintext = self
            .0
            .decrypt(&XNonce::from(nonce), Payload { msg: sealed, aad })
            .map_err(|_| fail())?;
        String::from_utf8(plaintext).map_err(|_| fail())
    }
}
