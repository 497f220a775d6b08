//! Agent-to-agent clients: other programs that call the server on their own behalf.

use serde_json::Value;
use time::OffsetDateTime;

use super::A2AClientId;
use crate::clock;

/// A registered agent. Only the hash of its key is stored.
#[derive(Clone, Debug, PartialEq)]
pub struct A2AClient {
    /// The client's id.
    pub id: A2AClientId,
    /// Display name (1 to 255 characters).
    pub name: String,
    /// Hash of the client's API key; unique.
    pub api_key_hash: String,
    /// What the client may do.
    pub capabilities: Vec<String>,
    /// Requests allowed per day.
    pub rate_limit_per_day: i64,
    /// Whether the client is accepted: the reversible switch
    /// ([`Store::set_a2a_client_active`](crate::Store::set_a2a_client_active)). Always false
    /// once the client is revoked.
    pub is_active: bool,
    /// When the client was registered.
    pub created_at: OffsetDateTime,
    /// When the client last made a request.
    pub last_used: Option<OffsetDateTime>,
    /// Free-form JSON.
    pub metadata: Value,
    /// When the client was revoked for good
    /// ([`Store::revoke_a2a_client`](crate::Store::revoke_a2a_client)); `None` while it is
    /// not.
    pub revoked_at: Option<OffsetDateTime>,
}

impl A2AClient {
    /// A new active, unrevoked client with a fresh id, created now, no capabilities, 1000
    /// requests a day and empty metadata.
    #[must_use]
    pub fn new(name: &str, api_key_hash: &str) -> Self {
        Self {
            id: A2AClientId::new(),
            name: name.to_owned(),
            api_key_hash: api_key_hash.to_owned(),
            capabilities: Vec::new(),
            rate_limit_per_day: 1000,
            is_active: true,
            created_at: clock::now(),
            last_used: None,
            metadata: Value::Object(serde_json::Map::new()),
            revoked_at: None,
        }
    }
}

/// The fields [`Store::update_a2a_client`](crate::Store::update_a2a_client) changes: each
/// `None` leaves its field as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct A2AClientUpdate {
    /// A new display name (1 to 255 characters).
    pub name: Option<String>,
    /// New capabilities, replacing the old ones.
    pub capabilities: Option<Vec<String>>,
    /// A new daily request limit (not negative).
    pub rate_limit_per_day: Option<i64>,
    /// Deactivates (`Some(false)`) or reactivates (`Some(true)`) the client, as
    /// [`Store::set_a2a_client_active`](crate::Store::set_a2a_client_active) does: a
    /// revoked client cannot be reactivated.
    pub is_active: Option<bool>,
}
