//! The one error type of the crate.

use std::path::PathBuf;

use crate::KeyId;

/// Shorthand for `Result<T, pierre_store::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, in terms a caller can act on. No variant ever carries a secret (key
/// material, token, password hash) in its message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The row to update, or a row the write refers to, does not exist.
    #[error("{entity} not found{}", if .id.is_empty() { String::new() } else { format!(": {}", .id) })]
    NotFound {
        /// What was looked for (`"user"`, `"tenant"`, ...).
        entity: &'static str,
        /// Its id or key, when known (empty otherwise).
        id: String,
    },

    /// The write conflicts with stored data, and nothing was changed: it would break a
    /// uniqueness rule (duplicate email, tenant slug or domain, API key hash or A2A client
    /// key hash), or stored rows block it (deleting a user who owns a tenant, activating a
    /// revoked A2A client), or a user's status changed between an administrative update
    /// (approve, suspend, ...) and the read that explains why it changed nothing (retry).
    #[error("{entity} conflicts with existing data ({constraint})")]
    Conflict {
        /// What was written or deleted (`"user"`, `"tenant"`, ...).
        entity: &'static str,
        /// The database's name for the broken uniqueness rule (e.g. `users_email_key` or
        /// `users.email`), or what blocks the write and how to clear it (e.g. `user owns
        /// tenant acme: transfer or delete the tenant first`).
        constraint: String,
    },

    /// A value the caller passed breaks a rule; nothing was written.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// The offending field.
        field: &'static str,
        /// Why it was refused.
        reason: String,
    },

    /// A stored secret could not be decrypted: sealed with a key this store does not hold,
    /// truncated or tampered data, or a ciphertext moved to another row or column. The
    /// message names key ids only, never key material.
    #[error("cannot decrypt {what}: {}", decryption_cause(*.sealed_with, .loaded))]
    #[non_exhaustive]
    Decryption {
        /// Which value (e.g. `"access_token"`).
        what: &'static str,
        /// The id of the key the value was sealed with, when it is none of the loaded
        /// keys (the store needs that key, e.g. in `DATABASE_RETIRED_ENCRYPTION_KEYS`);
        /// `None` when the value has no readable header, or a loaded key with that id
        /// did not open it (tampering, or a value moved from elsewhere).
        sealed_with: Option<KeyId>,
        /// The ids of the keys the store holds, the active one first.
        loaded: Vec<KeyId>,
    },

    /// The configuration is unusable: bad or mismatched URL scheme, malformed environment
    /// variable, bad key file.
    #[error("configuration error: {0}")]
    Config(String),

    /// Reading or writing a file (key file, backup) failed.
    #[error("cannot access {}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// The database is in use by another connection or process and the operation needs it
    /// alone (e.g. restoring a SQLite backup over it).
    #[error("database is in use: {0}")]
    Busy(String),

    /// The usage recorder's queue is full; the row was not taken. Retry later or use the
    /// waiting `record_*` methods.
    #[error("usage recorder is overloaded: its queue is full")]
    Overloaded,

    /// The usage recorder has shut down and takes no more rows.
    #[error("usage recorder is shut down")]
    Closed,

    /// A stored value is not one this build understands (e.g. an unknown enum value
    /// written by a newer version).
    #[error("stored {field} is invalid: {reason}")]
    CorruptData {
        /// The column.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },

    /// Applying the schema migrations failed.
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),

    /// Any other database error (connection lost, timeout, ...).
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// Why a value did not decrypt, for [`Error::Decryption`]'s message.
fn decryption_cause(sealed_with: Option<KeyId>, loaded: &[KeyId]) -> String {
    match sealed_with {
        Some(id) => format!(
            "sealed with key {id}, which is not loaded (loaded: {})",
            loaded
                .iter()
                .map(KeyId::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => "wrong key or corrupted data".to_owned(),
    }
}

impl Error {
    /// An [`Error::InvalidInput`] for `field`.
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidInput {
            field,
            reason: reason.into(),
        }
    }

    /// Maps the error of a write to `entity`: unique violations become
    /// [`Error::Conflict`], foreign-key violations [`Error::NotFound`] of `referenced`.
    pub(crate) fn on_write(
        entity: &'static str,
        referenced: &'static str,
    ) -> impl Fn(sqlx::Error) -> Self {
        move |error| {
            if let sqlx::Error::Database(db) = &error {
                match db.kind() {
                    sqlx::error::ErrorKind::UniqueViolation => {
                        let constraint = db
                            .constraint()
                            .map_or_else(|| unique_rule_of(db.message()), str::to_owned);
                        return Self::Conflict { entity, constraint };
                    }
                    sqlx::error::ErrorKind::ForeignKeyViolation => {
                        return Self::NotFound {
                            entity: referenced,
                            id: String::new(),
                        };
                    }
                    _ => {}
                }
            }
            Self::Database(error)
        }
    }
}

/// The broken uniqueness rule named in a database's message when the driver does not give
/// it: SQLite's `UNIQUE constraint failed: users.email` gives `users.email`, MySQL's
/// `Duplicate entry 'a@b.c' for key 'users_email_key'` gives `users_email_key` (never the
/// duplicated value, which may be an email or a key hash: it must not reach logs).
fn unique_rule_of(message: &str) -> String {
    if let Some(columns) = message.strip_prefix("UNIQUE constraint failed: ") {
        return columns.to_owned();
    }
    match message.rsplit_once(" for key '") {
        Some((_, key)) => key.trim_end_matches('\'').to_owned(),
        None => "unique key".to_owned(),
    }
}
