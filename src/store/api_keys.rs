//! API keys: issuing, authenticating and revoking them, and storing and reading their rows.

use std::time::Instant;

use sqlx::types::Json;
use time::OffsetDateTime;

use crate::{
    ApiKey, ApiKeyId, ApiKeyTier, ApiKeyUpdate, Backend, Error, Result, Store, UserId, UserStatus,
    backend::{
        codec::Timestamp,
        rows::{ApiKeyRow, ApiKeyUpdateRow},
    },
    clock,
    secret::{self, PlaintextSecret},
    validate,
};

use super::convert::stored_enum;

/// What every issued API key starts with.
pub const API_KEY_PREFIX: &str = "pk_live_";

/// The life of a key issued by the store: issue, authenticate, revoke.
impl<B: Backend> Store<B> {
    /// Issues a new API key for `user`: 256 random bits after [`API_KEY_PREFIX`]. Stores
    /// only its SHA-256 hash and a display prefix, and returns the key's row with the
    /// plaintext, which cannot be recovered later.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// As [`Store::create_api_key`].
    pub async fn issue_api_key(
        &self,
        user: UserId,
        name: &str,
        tier: ApiKeyTier,
        scopes: Vec<String>,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<(ApiKey, PlaintextSecret)> {
        self.observe("issue_api_key", async move {
            let issued = secret::issue(API_KEY_PREFIX);
            let mut key = ApiKey::new(user, name, &issued.hash, &issued.display_prefix);
            key.tier = tier;
            key.scopes = scopes;
            key.expires_at = expires_at.map(clock::truncate);
            self.create_api_key_unobserved(&key).await?;
            Ok((key, issued.plaintext))
        })
        .await
    }

    /// The key whose plaintext this is, if it is active and not expired and its user may
    /// log in, with this use counted: the returned key's `usage_count` includes it and its
    /// `last_used` is now. `None` for an unknown, revoked or expired key, and for the key
    /// of a `suspended` or `deleted` user (nothing is counted then). A `pending` user's key
    /// authenticates, as the user's password does ([`Store::verify_user_password`]):
    /// pending means "not yet approved", and what such a user may do is the server's
    /// decision (it can read [`User::status`](crate::User::status)).
    ///
    /// With the authentication cache on (the default, [`StoreConfig::auth_cache_entries`](crate::StoreConfig::auth_cache_entries)),
    /// a key seen before is answered from memory (expiry checked against the clock on
    /// every call) and its use is written to the database by the next flush (at most
    /// [`StoreConfig::usage_flush_interval`](crate::StoreConfig::usage_flush_interval)
    /// later, and by [`Store::close`]); an unknown key is one read of the database and is
    /// not cached. A revocation, expiry, suspension or deletion made through this store
    /// (or a clone) is seen by the next call after it returns; one made by another process
    /// within the poll interval (SQLite) or a notification's delay (PostgreSQL), and
    /// within [`StoreConfig::auth_cache_ttl`](crate::StoreConfig::auth_cache_ttl) at worst.
    /// With the cache off, each call is one `UPDATE` that counts the use. Runs on the
    /// primary.
    ///
    /// # Errors
    /// [`Error::Database`]; [`Error::CorruptData`] for a row this build cannot read.
    pub async fn authenticate_api_key(&self, plaintext: &str) -> Result<Option<ApiKey>> {
        const OP: &str = "authenticate_api_key";
        let Some(cache) = &self.auth else {
            return self
                .observe(OP, async move {
                    let Some(hash) = secret::lookup_hash(plaintext) else {
                        return Ok(None);
                    };
                    B::touch_valid_api_key(&self.pool, &hash, clock::now().into())
                        .await?
                        .map(api_key_from_row)
                        .transpose()
                })
                .await;
        };
        // The hot path: answered from memory, counted and timed without a span.
        let started = Instant::now();
        let Some(digest) = secret::lookup_digest(plaintext) else {
            self.observe_in_memory(OP, started);
            return Ok(None);
        };
        // After `close()`, go to the (closed) pool: later calls fail, as documented.
        if let Some(entry) = cache.fresh_key(&digest).filter(|_| !self.pool.is_closed()) {
            let key = cache.use_key(&entry, clock::now());
            self.observe_in_memory(OP, started);
            return Ok(key);
        }
        self.observe(OP, async move {
            let generation = cache.generation();
            let Some(row) = B::select_api_key_for_auth(&self.pool, &secret::hex(&digest)).await?
            else {
                return Ok(None);
            };
            let (row, user_status) = row.split();
            let key = api_key_from_row(row)?;
            let user_status: UserStatus = stored_enum("status", &user_status)?;
            let may_log_in = matches!(user_status, UserStatus::Active | UserStatus::Pending);
            let entry = cache.fill_key(digest, generation, key, may_log_in);
            Ok(cache.use_key(&entry, clock::now()))
        })
        .await
    }

    /// Deactivates the key: it stays listed, but no longer authenticates. Idempotent.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::NotFound`] when there is no such key.
    pub async fn revoke_api_key(&self, id: ApiKeyId) -> Result<()> {
        let _changing = self.credentials_changing();
        self.observe("revoke_api_key", async move {
            if B::deactivate_api_key(&self.pool, id).await? == 0 {
                return Err(Error::NotFound {
                    entity: "api key",
                    id: id.to_string(),
                });
            }
            Ok(())
        })
        .await
    }
}

impl<B: Backend> Store<B> {
    /// Stores `key` as given. Returns `key.id`.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty or over-long name, hash, prefix or scope, a hash
    /// with whitespace or a control character, or a negative counter; [`Error::Conflict`]
    /// when the hash or id is taken; [`Error::NotFound`] when the user does not exist.
    pub async fn create_api_key(&self, key: &ApiKey) -> Result<ApiKeyId> {
        self.observe("create_api_key", self.create_api_key_unobserved(key))
            .await
    }

    /// [`Store::create_api_key`] without its own metrics and span, for store methods that
    /// create a key as part of their call.
    pub(super) async fn create_api_key_unobserved(&self, key: &ApiKey) -> Result<ApiKeyId> {
        let row = api_key_row(key)?;
        B::insert_api_key(&self.pool, &row)
            .await
            .map_err(Error::on_write("api key", "user"))?;
        Ok(key.id)
    }

    /// The key with this hash, active or not, expired or not: the caller decides. `None`,
    /// without a query, for a hash the store would not accept (see
    /// [`Store::create_api_key`]).
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::Database`]; [`Error::CorruptData`] for a row this build cannot read.
    ///
    /// Its `usage_count` and `last_used` include the uses this store counted and has not
    /// written yet (see [`Store::authenticate_api_key`]).
    pub async fn get_api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>> {
        self.observe("get_api_key_by_hash", async move {
            if validate::key_hash("key_hash", key_hash).is_err() {
                return Ok(None);
            }
            let _no_flush = self.no_usage_flush().await;
            B::select_api_key_by_hash(&self.pool, key_hash)
                .await?
                .map(|row| self.api_key_with_pending_uses(row))
                .transpose()
        })
        .await
    }

    /// With the authentication cache on, keeps the write-behind flush from writing until
    /// the guard is dropped: hold it over a read of keys given to
    /// [`Store::api_key_with_pending_uses`], so that uses being written are counted once.
    async fn no_usage_flush(&self) -> Option<tokio::sync::RwLockReadGuard<'_, ()>> {
        match &self.auth {
            Some(cache) => Some(cache.no_flush().await),
            None => None,
        }
    }

    /// The key of `row`, with the uses counted here and not yet written added.
    fn api_key_with_pending_uses(&self, row: ApiKeyRow) -> Result<ApiKey> {
        let key = api_key_from_row(row)?;
        Ok(match &self.auth {
            Some(cache) => cache.with_pending_uses(key),
            None => key,
        })
    }

    /// Every key of the user, inactive ones included, oldest first, with the uses counted
    /// here and not yet written (as [`Store::get_api_key_by_hash`]).
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// As [`Store::get_api_key_by_hash`].
    pub async fn get_api_keys_for_user(&self, user: UserId) -> Result<Vec<ApiKey>> {
        self.observe("get_api_keys_for_user", async move {
            let _no_flush = self.no_usage_flush().await;
            B::select_api_keys_by_user(&self.pool, user)
                .await?
                .into_iter()
                .map(|row| self.api_key_with_pending_uses(row))
                .collect()
        })
        .await
    }
}

fn api_key_row(key: &ApiKey) -> Result<ApiKeyRow> {
    validate::name("name", &key.name)?;
    validate::key_hash("key_hash", &key.key_hash)?;
    validate::required("key_prefix", &key.key_prefix, validate::MAX_NAME_LEN)?;
    validate::labels("scopes", &key.scopes)?;
    validate::non_negative_i64("usage_count", key.usage_count)?;
    if let Some(limit) = key.rate_limit_override {
        validate::non_negative_i64("rate_limit_override", limit)?;
    }
    validate::json("metadata", &key.metadata)?;
    validate::opt_timestamp("last_used", key.last_used)?;
    validate::opt_timestamp("expires_at", key.expires_at)?;
    validate::timestamp("created_at", key.created_at)?;
    Ok(ApiKeyRow {
        id: key.id,
        user_id: key.user_id,
        name: key.name.clone(),
        key_hash: key.key_hash.clone(),
        key_prefix: key.key_prefix.clone(),
        tier: key.tier.as_str().to_owned(),
        scopes: Json(key.scopes.clone()),
        is_active: key.is_active,
        last_used: key.last_used.map(Timestamp::from),
        usage_count: key.usage_count,
        rate_limit_override: key.rate_limit_override,
        expires_at: key.expires_at.map(Timestamp::from),
        created_at: key.created_at.into(),
        metadata: Json(key.metadata.clone()),
    })
}

pub(super) fn api_key_from_row(row: ApiKeyRow) -> Result<ApiKey> {
    Ok(ApiKey {
        id: row.id,
        user_id: row.user_id,
        name: row.name,
        key_hash: row.key_hash,
        key_prefix: row.key_prefix,
        tier: stored_enum("tier", &row.tier)?,
        scopes: row.scopes.0,
        is_active: row.is_active,
        last_used: row.last_used.map(Into::into),
        usage_count: row.usage_count,
        rate_limit_override: row.rate_limit_override,
        expires_at: row.expires_at.map(Into::into),
        created_at: row.created_at.into(),
        metadata: row.metadata.0,
    })
}

impl<B: Backend> Store<B> {
    /// Changes the key's name, scopes, rate limit override or expiry (the fields of
    /// `update` that are `Some`) in one statement, and returns the key as stored after it.
    /// The change is seen by the next [`Store::authenticate_api_key`]: an expiry moved
    /// into the past refuses the key from then on. A revoked (inactive) key can be edited
    /// but stays revoked: nothing here activates a key. Expiry is kept to the microsecond.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty or over-long name or scope, a negative rate
    /// limit override or an expiry year outside 1..=9999 (nothing is changed);
    /// [`Error::NotFound`] when there is no such key; [`Error::CorruptData`] for a row this
    /// build cannot read.
    pub async fn update_api_key(&self, id: ApiKeyId, update: &ApiKeyUpdate) -> Result<ApiKey> {
        let _changing = self.credentials_changing();
        self.observe("update_api_key", async move {
            let changes = api_key_update_row(update)?;
            let _no_flush = self.no_usage_flush().await;
            B::update_api_key(&self.pool, id, &changes)
                .await?
                .map(|row| self.api_key_with_pending_uses(row))
                .transpose()?
                .ok_or_else(|| Error::NotFound {
                    entity: "api key",
                    id: id.to_string(),
                })
        })
        .await
    }
}

fn api_key_update_row(update: &ApiKeyUpdate) -> Result<ApiKeyUpdateRow> {
    if let Some(name) = &update.name {
        validate::name("name", name)?;
    }
    if let Some(scopes) = &update.scopes {
        validate::labels("scopes", scopes)?;
    }
    if let Some(Some(limit)) = update.rate_limit_override {
        validate::non_negative_i64("rate_limit_override", limit)?;
    }
    if let Some(expires_at) = update.expires_at {
        validate::opt_timestamp("expires_at", expires_at)?;
    }
    Ok(ApiKeyUpdateRow {
        name: update.name.clone(),
        scopes: update.scopes.clone().map(Json),
        set_rate_limit_override: update.rate_limit_override.is_some(),
        rate_limit_override: update.rate_limit_override.flatten(),
        set_expires_at: update.expires_at.is_some(),
        expires_at: update.expires_at.flatten().map(Timestamp::from),
    })
}
