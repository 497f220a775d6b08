//! Encryption of secrets at rest: keys, key files, and the key ring a store encrypts with.
//!
//! Values are sealed with XChaCha20-Poly1305 under a fresh random 192-bit nonce. The stored
//! form is `version (1 byte) || key id (8 bytes) || nonce (24 bytes) || ciphertext and tag`.
//! The key id says which key of the ring opens the value, so keys can be rotated. The
//! associated data binds a ciphertext to the place it was written for (row and column), so
//! a value copied elsewhere fails to decrypt.

use std::{
    fmt, fs,
    io::{ErrorKind, Read, Write},
    path::Path,
    sync::Arc,
};

use base64::Engine;
use chacha20poly1305::{
    AeadCore, KeyInit, XChaCha20Poly1305, XNonce,
    aead::{Aead, OsRng, Payload, rand_core::RngCore},
};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::{Error, Result};

/// Length of a key in bytes.
pub const KEY_LEN: usize = 32;
const FORMAT_VERSION: u8 = 1;
const KEY_ID_LEN: usize = 8;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 1 + KEY_ID_LEN + NONCE_LEN;

/// Identifies a key without revealing it: the first 8 bytes of SHA-256 over a fixed label
/// and the key. Shown as 16 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId([u8; KEY_ID_LEN]);

impl KeyId {
    /// The id's bytes, as stored after the version byte.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The id stored in the header of a sealed value, if it has one.
    #[must_use]
    pub fn of_ciphertext(stored: &[u8]) -> Option<Self> {
        match stored {
            [FORMAT_VERSION, rest @ ..] if rest.len() >= KEY_ID_LEN => {
                rest[..KEY_ID_LEN].try_into().ok().map(Self)
            }
            _ => None,
        }
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

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

    /// This key's id, as stored in front of every value it seals.
    #[must_use]
    pub fn id(&self) -> KeyId {
        let digest = Sha256::new()
            .chain_update(b"pierre-store key id v1\0")
            .chain_update(self.0.as_ref())
            .finalize();
        let mut id = [0_u8; KEY_ID_LEN];
        id.copy_from_slice(&digest[..KEY_ID_LEN]);
        KeyId(id)
    }

    /// The key encoded in standard base64 (44 characters), as in the
    /// `DATABASE_ENCRYPTION_KEY` environment variable.
    ///
    /// # Errors
    /// [`Error::Config`] when `encoded` is not base64 or not 32 bytes once decoded. The
    /// message never contains the value.
    pub fn from_base64(encoded: &str) -> Result<Self> {
        let bytes = Zeroizing::new(
            base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .map_err(|_| Error::Config("the encryption key is not valid base64".into()))?,
        );
        Self::from_slice(&bytes)
    }

    /// The key in standard base64, for `DATABASE_ENCRYPTION_KEY`. Treat the result as a
    /// secret.
    #[must_use]
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(self.0.as_ref()))
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

    /// Reads the existing key file at `path` (exactly 32 raw bytes, private to its owner).
    /// Never creates, changes or removes a file.
    ///
    /// # Errors
    /// [`Error::Config`] when there is no such file, it does not hold exactly 32 bytes, or
    /// group or others may read it; [`Error::Io`] when it cannot be read.
    pub fn load(path: &Path) -> Result<Self> {
        Self::read_file(path)?.ok_or_else(|| {
            Error::Config(format!(
                "key file {} does not exist (create one with `pierre-store init`, or point \
                 DATABASE_ENCRYPTION_KEY_PATH at the right file)",
                path.display()
            ))
        })
    }

    /// Reads the key file at `path` (exactly 32 raw bytes), or, when there is no file,
    /// creates it (and its parent directories) with a new random key, readable by its
    /// owner only (mode 0600).
    ///
    /// Guarantees: an existing file is never overwritten; the file appears complete or not
    /// at all (the key is written and synced to a temporary file in the same directory,
    /// then linked into place, and the directory is synced), so a process starting at the
    /// same moment never reads a half-written key, and when several race to create it they
    /// all end up with the one key that was linked first.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read or written; [`Error::Config`] when it
    /// does not hold exactly 32 bytes, or (on Unix) when group or others may read it, as
    /// ssh does for private keys.
    pub fn load_or_create(path: &Path) -> Result<Self> {
        loop {
            if let Some(key) = Self::read_file(path)? {
                return Ok(key);
            }
            if let Some(key) = Self::create_file(path)? {
                return Ok(key);
            }
            // Another process linked its key first: read theirs.
        }
    }

    /// The key in the file at `path`, or `None` when there is no such file.
    fn read_file(path: &Path) -> Result<Option<Self>> {
        let io = |source| Error::Io {
            path: path.to_owned(),
            source,
        };
        let file = match fs::File::open(path) {
            Ok(file) => file,
            Err(error) if error.kind() == ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(io(error)),
        };
        let metadata = file.metadata().map_err(io)?;
        refuse_shared_key_file(path, &metadata)?;
        let mut bytes = Zeroizing::new(Vec::with_capacity(KEY_LEN + 1));
        file.take(KEY_LEN as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        Self::from_slice(&bytes).map(Some).map_err(|_| {
            Error::Config(format!(
                "key file {} holds {} bytes, expected {KEY_LEN}",
                path.display(),
                metadata.len()
            ))
        })
    }

    /// Writes a new key to a temporary file next to `path` and links it into place; `None`
    /// when a file appeared at `path` meanwhile (the new key is then discarded).
    fn create_file(path: &Path) -> Result<Option<Self>> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| Error::Io { path, source }
        };
        let dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        create_dir_all_synced(dir)?;
        let key = Self::generate();
        let mut suffix = [0_u8; 8];
        OsRng.fill_bytes(&mut suffix);
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let temp = dir.join(format!(
            ".{name}.{}.{}.tmp",
            std::process::id(),
            KeyId(suffix)
        ));
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = options.open(&temp).and_then(|mut file| {
            file.write_all(key.0.as_ref())?;
            file.sync_all()
        });
        // Linking fails if `path` exists: the first key linked wins, and is never replaced.
        let linked = written.and_then(|()| crate::files::link_new(&temp, path));
        let removed = fs::remove_file(&temp);
        match linked {
            Ok(()) => {
                removed.map_err(io(&temp))?;
                sync_dir(dir)?;
                Ok(Some(key))
            }
            Err(error) if error.kind() == ErrorKind::AlreadyExists => Ok(None),
            Err(error) => Err(io(path)(error)),
        }
    }
}

/// Creates `dir` and its missing ancestors, syncing the parent of each one created so the
/// new entries survive a crash.
fn create_dir_all_synced(dir: &Path) -> Result<()> {
    let missing: Vec<&Path> = dir.ancestors().take_while(|a| !a.exists()).collect();
    fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_owned(),
        source,
    })?;
    for created in missing.iter().rev() {
        if let Some(parent) = created.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_dir(parent)?;
        }
    }
    Ok(())
}

/// Flushes a directory's entries to disk (on Unix; elsewhere a no-op).
fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| Error::Io {
            path: dir.to_owned(),
            source,
        })?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EncryptionKey([redacted])")
    }
}

/// Refuses a key file that group or others may read (mode bits 077).
fn refuse_shared_key_file(path: &Path, metadata: &fs::Metadata) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = metadata.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(Error::Config(format!(
                "key file {path} is accessible by group or others (mode {mode:03o}); \
                 run `chmod 600 {path}`",
                path = path.display(),
                mode = mode & 0o777,
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = (path, metadata);
    Ok(())
}

/// One key, ready to use.
struct Sealer {
    id: KeyId,
    cipher: XChaCha20Poly1305,
}

impl Sealer {
    fn new(key: &EncryptionKey) -> Self {
        Self {
            id: key.id(),
            cipher: XChaCha20Poly1305::new(key.0.as_ref().into()),
        }
    }
}

/// The keys of a store: one active key that seals every new value, and retired keys that
/// still open values sealed before a rotation. Built once; ciphers are not rebuilt per call.
pub(crate) struct KeyRing {
    active: Arc<Sealer>,
    retired: Vec<Arc<Sealer>>,
}

impl KeyRing {
    pub(crate) fn new(active: &EncryptionKey, retired: &[EncryptionKey]) -> Self {
        let active = Arc::new(Sealer::new(active));
        let mut ring = Self {
            active,
            retired: Vec::new(),
        };
        for key in retired {
            ring.add_retired(Arc::new(Sealer::new(key)));
        }
        ring
    }

    fn add_retired(&mut self, sealer: Arc<Sealer>) {
        if sealer.id != self.active.id && self.retired.iter().all(|r| r.id != sealer.id) {
            self.retired.push(sealer);
        }
    }

    /// This ring with `key` active and every other key (the old active one included)
    /// retired. If `key` is already active, the same keys.
    pub(crate) fn rotated_to(&self, key: &EncryptionKey) -> Self {
        let new = key.id();
        let active = std::iter::once(&self.active)
            .chain(&self.retired)
            .find(|s| s.id == new)
            .cloned()
            .unwrap_or_else(|| Arc::new(Sealer::new(key)));
        let mut ring = Self {
            active,
            retired: Vec::new(),
        };
        for sealer in std::iter::once(&self.active).chain(&self.retired) {
            ring.add_retired(Arc::clone(sealer));
        }
        ring
    }

    /// The ids of every key of the ring, the active one first.
    pub(crate) fn ids(&self) -> Vec<KeyId> {
        std::iter::once(&self.active)
            .chain(&self.retired)
            .map(|s| s.id)
            .collect()
    }

    /// The id of the active key.
    pub(crate) fn active_id(&self) -> KeyId {
        self.active.id
    }

    /// Seals `plaintext` with the active key, bound to `aad`.
    pub(crate) fn encrypt(&self, plaintext: &str, aad: &[u8]) -> Vec<u8> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .active
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad,
                },
            )
            .expect("XChaCha20-Poly1305 encryption cannot fail for in-memory input");
        let mut out = Vec::with_capacity(HEADER_LEN + sealed.len());
        out.push(FORMAT_VERSION);
        out.extend_from_slice(&self.active.id.0);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens a value sealed by [`KeyRing::encrypt`] (with this ring's active key or one of
    /// its retired keys) with the same `aad`.
    ///
    /// # Errors
    /// [`Error::Decryption`] naming `what` for an unknown key id (with that id and the
    /// ring's ids), a different `aad`, or data that is truncated, tampered with or not
    /// UTF-8.
    pub(crate) fn decrypt(&self, stored: &[u8], aad: &[u8], what: &'static str) -> Result<String> {
        let sealers = || std::iter::once(&self.active).chain(&self.retired);
        let failure = |sealed_with| Error::Decryption {
            what,
            sealed_with,
            loaded: self.ids(),
        };
        let fail = || failure(None);
        if stored.len() < HEADER_LEN + TAG_LEN {
            return Err(fail());
        }
        let id = KeyId::of_ciphertext(stored).ok_or_else(fail)?;
        let sealer = sealers()
            .find(|s| s.id == id)
            .ok_or_else(|| failure(Some(id)))?;
        let nonce: [u8; NONCE_LEN] = stored[1 + KEY_ID_LEN..HEADER_LEN]
            .try_into()
            .map_err(|_| fail())?;
        let plaintext = sealer
            .cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &stored[HEADER_LEN..],
                    aad,
                },
            )
            .map_err(|_| fail())?;
        String::from_utf8(plaintext).map_err(|_| fail())
    }
}
