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
    /// Whether the client is accepted.
    pub is_active: bool,
    /// When the client was registered.
    pub created_at: OffsetDateTime,
    /// When the client last made a request.
    pub last_used: Option<OffsetDateTime>,
    /// Free-form JSON.
    pub metadata: Value,
}

impl A2AClient {
    /// A new active client with a fresh id, created now, no capabilities, 1000 requests a
    /// day and empty metadata.
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
        }
    }
}
