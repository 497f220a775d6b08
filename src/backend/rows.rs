//! Rows as both backends read and write them: the model types in storage form (enums as
//! text, timestamps as [`Timestamp`], secrets encrypted, JSON wrapped). `Store` converts
//! between these and the public models; backends only move them in and out of SQL.

use serde_json::Value;
use sqlx::types::Json;

use super::codec::Timestamp;
use crate::model::{A2AClientId, ActivityId, ApiKeyId, OAuthTokenId, TenantId, UserId};

/// A `users` row.
#[derive(Debug)]
pub struct UserRow {
    pub id: UserId,
    pub email: String,
    pub password_hash: String,
    pub firstname: Option<String>,
    pub lastname: Option<String>,
    pub status: String,
    pub is_admin: bool,
    pub tier: String,
    pub rate_limit_multiplier: f64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_active: Timestamp,
    pub approved_at: Option<Timestamp>,
    pub approved_by: Option<UserId>,
    pub suspended_at: Option<Timestamp>,
    pub suspended_by: Option<UserId>,
    pub suspension_reason: Option<String>,
}

/// A `user_oauth_tokens` row; the tokens are ciphertexts.
#[derive(Debug)]
pub struct OAuthTokenRow {
    pub id: OAuthTokenId,
    pub user_id: UserId,
    pub provider: String,
    pub access_token_encrypted: Vec<u8>,
    pub refresh_token_encrypted: Option<Vec<u8>>,
    pub expires_at: Option<Timestamp>,
    pub scope: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The encrypted columns of a `user_oauth_tokens` row, as key rotation reads and writes
/// them.
#[derive(Debug)]
pub struct TokenCiphertextRow {
    pub user_id: UserId,
    pub provider: String,
    pub access_token_encrypted: Vec<u8>,
    pub refresh_token_encrypted: Option<Vec<u8>>,
}

/// Which token of `user_oauth_tokens` expires when (no encrypted column).
#[derive(Debug)]
pub struct ExpiringTokenRow {
    pub user_id: UserId,
    pub provider: String,
    pub expires_at: Timestamp,
}

/// An `api_keys` row.
#[derive(Debug)]
pub struct ApiKeyRow {
    pub id: ApiKeyId,
    pub user_id: UserId,
    pub name: String,
    pub key_hash: String,
    pub key_prefix: String,
    pub tier: String,
    pub scopes: Json<Vec<String>>,
    pub is_active: bool,
    pub last_used: Option<Timestamp>,
    pub usage_count: i64,
    pub rate_limit_override: Option<i64>,
    pub expires_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub metadata: Json<Value>,
}

/// An `api_keys` row with its user's `status`, as the authentication cache loads it.
#[derive(Debug)]
pub struct ApiKeyAuthRow {
    pub id: ApiKeyId,
    pub user_id: UserId,
    pub name: String,
    pub key_hash: String,
    pub key_prefix: String,
    pub tier: String,
    pub scopes: Json<Vec<String>>,
    pub is_active: bool,
    pub last_used: Option<Timestamp>,
    pub usage_count: i64,
    pub rate_limit_override: Option<i64>,
    pub expires_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub metadata: Json<Value>,
    /// The owning user's `status`.
    pub user_status: String,
}

impl ApiKeyAuthRow {
    /// The key's own row and its user's status.
    pub fn split(self) -> (ApiKeyRow, String) {
        (
            ApiKeyRow {
                id: self.id,
                user_id: self.user_id,
                name: self.name,
                key_hash: self.key_hash,
                key_prefix: self.key_prefix,
                tier: self.tier,
                scopes: self.scopes,
                is_active: self.is_active,
                last_used: self.last_used,
                usage_count: self.usage_count,
                rate_limit_override: self.rate_limit_override,
                expires_at: self.expires_at,
                created_at: self.created_at,
                metadata: self.metadata,
            },
            self.user_status,
        )
    }
}

/// Uses of one API key counted in memory, to be added to its row by a write-behind flush.
#[derive(Debug)]
pub struct ApiKeyUsesRow {
    pub id: ApiKeyId,
    /// Added to `usage_count`.
    pub uses: i64,
    /// `last_used` becomes this unless it is already later.
    pub last_used: Timestamp,
}

/// The latest use of one A2A client seen in memory, for a write-behind flush.
#[derive(Debug)]
pub struct A2AClientUseRow {
    pub id: A2AClientId,
    /// `last_used` becomes this unless it is already later.
    pub last_used: Timestamp,
}

/// An `api_key_usage` row (without its generated id).
#[derive(Debug)]
pub struct ApiKeyUsageRow {
    pub api_key_id: ApiKeyId,
    pub timestamp: Timestamp,
    pub endpoint: String,
    pub method: String,
    pub status_code: i64,
    pub response_time_ms: Option<i64>,
    pub request_size_bytes: Option<i64>,
    pub response_size_bytes: Option<i64>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub error_message: Option<String>,
}

/// A `jwt_usage` row (without its generated id).
#[derive(Debug)]
pub struct JwtUsageRow {
    pub user_id: UserId,
    pub timestamp: Timestamp,
    pub endpoint: String,
    pub method: String,
    pub status_code: i64,
    pub response_time_ms: Option<i64>,
    pub request_size_bytes: Option<i64>,
    pub response_size_bytes: Option<i64>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
}

/// An `api_key_usage` row with its id, as a copy pages through them.
#[derive(Debug)]
pub struct StoredApiKeyUsageRow {
    pub id: i64,
    pub api_key_id: ApiKeyId,
    pub timestamp: Timestamp,
    pub endpoint: String,
    pub method: String,
    pub status_code: i64,
    pub response_time_ms: Option<i64>,
    pub request_size_bytes: Option<i64>,
    pub response_size_bytes: Option<i64>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub error_message: Option<String>,
}

impl From<StoredApiKeyUsageRow> for ApiKeyUsageRow {
    fn from(r: StoredApiKeyUsageRow) -> Self {
        Self {
            api_key_id: r.api_key_id,
            timestamp: r.timestamp,
            endpoint: r.endpoint,
            method: r.method,
            status_code: r.status_code,
            response_time_ms: r.response_time_ms,
            request_size_bytes: r.request_size_bytes,
            response_size_bytes: r.response_size_bytes,
            ip_address: r.ip_address,
            user_agent: r.user_agent,
            error_message: r.error_message,
        }
    }
}

/// A `jwt_usage` row with its id, as a copy pages through them.
#[derive(Debug)]
pub struct StoredJwtUsageRow {
    pub id: i64,
    pub user_id: UserId,
    pub timestamp: Timestamp,
    pub endpoint: String,
    pub method: String,
    pub status_code: i64,
    pub response_time_ms: Option<i64>,
    pub request_size_bytes: Option<i64>,
    pub response_size_bytes: Option<i64>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
}

impl From<StoredJwtUsageRow> for JwtUsageRow {
    fn from(r: StoredJwtUsageRow) -> Self {
        Self {
            user_id: r.user_id,
            timestamp: r.timestamp,
            endpoint: r.endpoint,
            method: r.method,
            status_code: r.status_code,
            response_time_ms: r.response_time_ms,
            request_size_bytes: r.request_size_bytes,
            response_size_bytes: r.response_size_bytes,
            ip_address: r.ip_address,
            user_agent: r.user_agent,
        }
    }
}

/// The aggregate over a user's `api_key_usage` rows.
#[derive(Debug)]
pub struct UsageStatsRow {
    pub total_requests: i64,
    pub successful_requests: i64,
    pub average_response_time_ms: Option<f64>,
    pub first_request: Option<Timestamp>,
    pub last_request: Option<Timestamp>,
}

/// One endpoint's aggregate over a usage table, for one key or user and a time window.
#[derive(Debug)]
pub struct EndpointUsageRow {
    pub endpoint: String,
    pub requests: i64,
    pub errors: i64,
    pub average_response_time_ms: Option<f64>,
}

/// The changes of an `api_keys` update: `None` keeps `name` or `scopes`; a `set_*` flag
/// that is false keeps its column whatever the value beside it.
#[derive(Debug)]
pub struct ApiKeyUpdateRow {
    pub name: Option<String>,
    pub scopes: Option<Json<Vec<String>>>,
    pub set_rate_limit_override: bool,
    pub rate_limit_override: Option<i64>,
    pub set_expires_at: bool,
    pub expires_at: Option<Timestamp>,
}

/// The changes of an `a2a_clients` update: each `None` keeps its column.
#[derive(Debug)]
pub struct A2AClientUpdateRow {
    pub name: Option<String>,
    pub capabilities: Option<Json<Vec<String>>>,
    pub rate_limit_per_day: Option<i64>,
    pub is_active: Option<bool>,
}

/// An `a2a_clients` row.
#[derive(Debug)]
pub struct A2AClientRow {
    pub id: A2AClientId,
    pub name: String,
    pub api_key_hash: String,
    pub capabilities: Json<Vec<String>>,
    pub rate_limit_per_day: i64,
    pub is_active: bool,
    pub created_at: Timestamp,
    pub last_used: Option<Timestamp>,
    pub metadata: Json<Value>,
    pub revoked_at: Option<Timestamp>,
}

/// What [`TenantQueries::delete_tenant`](super::TenantQueries::delete_tenant) removed.
#[derive(Debug)]
pub struct DeletedTenantRow {
    pub slug: String,
    pub activities: u64,
}

/// A `tenants` row.
#[derive(Debug)]
pub struct TenantRow {
    pub id: TenantId,
    pub name: String,
    pub slug: String,
    pub domain: Option<String>,
    pub plan: String,
    pub owner_user_id: UserId,
    pub is_active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// An `activities` row that is not soft-deleted.
#[derive(Debug)]
pub struct ActivityRow {
    pub id: ActivityId,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub name: String,
    /// The `type` column (the seed's name; a Rust keyword).
    pub activity_type: String,
    pub distance: f64,
    pub duration: i64,
    pub start_date: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// An `activities` row as stored, soft-deleted or not (what a copy moves).
#[derive(Debug)]
pub struct StoredActivityRow {
    pub id: ActivityId,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub name: String,
    /// The `type` column (the seed's name; a Rust keyword).
    pub activity_type: String,
    pub distance: f64,
    pub duration: i64,
    pub start_date: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub deleted_at: Option<Timestamp>,
}

/// The aggregate over a user's activities in one tenant.
#[derive(Debug)]
pub struct UserStatsRow {
    pub total_activities: i64,
    pub total_distance: Option<f64>,
    pub total_time: Option<i64>,
    pub avg_distance: Option<f64>,
    pub first_activity: Option<Timestamp>,
    pub last_activity: Option<Timestamp>,
}

/// A row of sqlx's `_sqlx_migrations` bookkeeping table.
#[derive(Debug)]
pub struct AppliedMigrationRow {
    pub version: i64,
    pub description: String,
    pub installed_on: Timestamp,
    pub success: bool,
    pub checksum: Vec<u8>,
}

/// The server process (`pg_backend_pid()`) behind a statement of one pool connection
/// (`first`), behind a statement of another connection of the pool that has begun a
/// transaction meanwhile (`other`), and behind the first connection's next statement
/// (`again`). A direct connection or a session pooler gives `first == again != other`.
#[derive(Debug)]
pub struct SessionProbeRow {
    pub first: i32,
    pub other: i32,
    pub again: i32,
}

/// A replica's own view of its lag and of its WAL receiver (PostgreSQL:
/// `pg_stat_wal_receiver`).
#[derive(Debug)]
pub struct ReplicaHealthRow {
    /// Milliseconds it trails: 0 when it has replayed all the WAL it received, else the
    /// time since the last transaction it replayed committed; `None` when unknown (nothing
    /// replayed yet, or the server is not a standby, e.g. a promoted one).
    pub lag_ms: Option<i64>,
    /// Whether a WAL receiver process runs (visible to every role).
    pub receiver: bool,
    /// Whether that receiver is streaming; `None` when the role may not see it (only
    /// superusers and members of `pg_read_all_stats` do) or no receiver runs.
    pub streaming: Option<bool>,
    /// Milliseconds since the receiver last heard from the primary (WAL or keepalive);
    /// `None` as for `streaming`.
    pub silence_ms: Option<i64>,
    /// The replica's `wal_receiver_timeout` in milliseconds (0: disabled). A receiver that
    /// has heard nothing for half of it asks the primary for a keepalive, and gives up the
    /// connection after all of it.
    pub receiver_timeout_ms: i64,
}

/// Row counts of every table, and the database's size on disk.
#[derive(Debug)]
pub struct TableCountsRow {
    pub users: i64,
    pub user_oauth_tokens: i64,
    pub api_keys: i64,
    pub api_key_usage: i64,
    pub jwt_usage: i64,
    pub a2a_clients: i64,
    pub tenants: i64,
    pub activities: i64,
    pub size_bytes: i64,
}
