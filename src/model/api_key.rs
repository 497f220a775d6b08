//! API keys: long-lived credentials a user hands to programs.

use serde_json::Value;
use time::OffsetDateTime;

use super::{ApiKeyId, ApiKeyTier, UserId};
use crate::clock;

/// An API key as stored: only its hash and a short display prefix, never the key itself.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiKey {
    /// The key's id.
    pub id: ApiKeyId,
    /// The user the key belongs to.
    pub user_id: UserId,
    /// A name the user chose (1 to 255 characters).
    pub name: String,
    /// Hash of the key; unique.
    pub key_hash: String,
    /// The first characters of the key, shown to the user to tell keys apart.
    pub key_prefix: String,
    /// Rate-limit tier.
    pub tier: ApiKeyTier,
    /// What the key may do.
    pub scopes: Vec<String>,
    /// Whether the key is accepted; an inactive key is kept but refused by callers.
    pub is_active: bool,
    /// When the key was last used.
    pub last_used: Option<OffsetDateTime>,
    /// How many requests the key has made.
    pub usage_count: i64,
    /// Requests per period that replace the tier's limit.
    pub rate_limit_override: Option<i64>,
    /// When the key stops being accepted.
    pub expires_at: Option<OffsetDateTime>,
    /// When the key was created.
    pub created_at: OffsetDateTime,
    /// Free-form JSON.
    pub metadata: Value,
}

impl ApiKey {
    /// A new active trial key with a fresh id, created now, no scopes and empty metadata.
    #[must_use]
    pub fn new(user_id: UserId, name: &str, key_hash: &str, key_prefix: &str) -> Self {
        Self {
            id: ApiKeyId::new(),
            user_id,
            name: name.to_owned(),
            key_hash: key_hash.to_owned(),
            key_prefix: key_prefix.to_owned(),
            tier: ApiKeyTier::Trial,
            scopes: Vec::new(),
            is_active: true,
            last_used: None,
            usage_count: 0,
            rate_limit_override: None,
            expires_at: None,
            created_at: clock::now(),
            metadata: Value::Object(serde_json::Map::new()),
        }
    }
}

/// The fields [`Store::update_api_key`](crate::Store::update_api_key) changes: each `None`
/// leaves its field as stored. The key's secret, owner, tier, activity and counters cannot
/// be changed this way; a revoked key stays revoked.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ApiKeyUpdate {
    /// A new name (1 to 255 characters).
    pub name: Option<String>,
    /// New scopes, replacing the old ones.
    pub scopes: Option<Vec<String>>,
    /// A new rate limit override: `Some(None)` removes it, so the tier's limit applies.
    pub rate_limit_override: Option<Option<i64>>,
    /// A new expiry: `Some(None)` removes it; an instant in the past makes the key expire
    /// at once.
    pub expires_at: Option<Option<OffsetDateTime>>,
}
