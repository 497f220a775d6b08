//! Usage analytics: one row per request, per API key or per JWT-authenticated user.

use time::OffsetDateTime;

use super::{ApiKeyId, UserId};
use crate::clock;

/// One request made with an API key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKeyUsage {
    /// The key that made the request.
    pub api_key_id: ApiKeyId,
    /// When the request was made.
    pub timestamp: OffsetDateTime,
    /// The endpoint called (path or tool name).
    pub endpoint: String,
    /// The method (HTTP verb or RPC method).
    pub method: String,
    /// The response status, 100 to 599; below 400 counts as successful.
    pub status_code: u16,
    /// How long the response took.
    pub response_time_ms: Option<u32>,
    /// Request body size.
    pub request_size_bytes: Option<u32>,
    /// Response body size.
    pub response_size_bytes: Option<u32>,
    /// The client's address.
    pub ip_address: Option<String>,
    /// The client's user agent.
    pub user_agent: Option<String>,
    /// The error returned, if any.
    pub error_message: Option<String>,
}

impl ApiKeyUsage {
    /// A usage row stamped now, with every optional field empty.
    #[must_use]
    pub fn new(api_key_id: ApiKeyId, endpoint: &str, method: &str, status_code: u16) -> Self {
        Self {
            api_key_id,
            timestamp: clock::now(),
            endpoint: endpoint.to_owned(),
            method: method.to_owned(),
            status_code,
            response_time_ms: None,
            request_size_bytes: None,
            response_size_bytes: None,
            ip_address: None,
            user_agent: None,
            error_message: None,
        }
    }
}

/// One request made by a user authenticated with a JWT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JwtUsage {
    /// The user who made the request.
    pub user_id: UserId,
    /// When the request was made.
    pub timestamp: OffsetDateTime,
    /// The endpoint called.
    pub endpoint: String,
    /// The method.
    pub method: String,
    /// The response status, 100 to 599.
    pub status_code: u16,
    /// How long the response took.
    pub response_time_ms: Option<u32>,
    /// Request body size.
    pub request_size_bytes: Option<u32>,
    /// Response body size.
    pub response_size_bytes: Option<u32>,
    /// The client's address.
    pub ip_address: Option<String>,
    /// The client's user agent.
    pub user_agent: Option<String>,
}

impl JwtUsage {
    /// A usage row stamped now, with every optional field empty.
    #[must_use]
    pub fn new(user_id: UserId, endpoint: &str, method: &str, status_code: u16) -> Self {
        Self {
            user_id,
            timestamp: clock::now(),
            endpoint: endpoint.to_owned(),
            method: method.to_owned(),
            status_code,
            response_time_ms: None,
            request_size_bytes: None,
            response_size_bytes: None,
            ip_address: None,
            user_agent: None,
        }
    }
}

/// Aggregate usage over every API key of a user.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiKeyUsageStats {
    /// Number of requests recorded.
    pub total_requests: u64,
    /// Requests with a status below 400.
    pub successful_requests: u64,
    /// Requests with a status of 400 or more.
    pub failed_requests: u64,
    /// Mean response time over the requests that recorded one.
    pub average_response_time_ms: Option<f64>,
    /// The earliest request.
    pub first_request: Option<OffsetDateTime>,
    /// The latest request.
    pub last_request: Option<OffsetDateTime>,
}

/// The usage of one endpoint over a time window, from
/// [`Store::get_api_key_endpoint_usage`](crate::Store::get_api_key_endpoint_usage) or
/// [`Store::get_jwt_endpoint_usage`](crate::Store::get_jwt_endpoint_usage).
#[derive(Clone, Debug, PartialEq)]
pub struct EndpointUsage {
    /// The endpoint, as recorded.
    pub endpoint: String,
    /// Requests to it in the window.
    pub requests: u64,
    /// Those with a status of 400 or more.
    pub errors: u64,
    /// Mean response time over the requests in the window that recorded one (rows whose
    /// `response_time_ms` is `None` are left out of the mean, not counted as zero); `None`
    /// when none did.
    pub average_response_time_ms: Option<f64>,
}
