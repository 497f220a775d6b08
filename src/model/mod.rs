//! Plain data: what callers store and get back. No I/O here.

mod a2a;
mod activity;
mod api_key;
mod enums;
mod ids;
mod oauth;
mod tenant;
mod usage;
mod user;

pub use a2a::{A2AClient, A2AClientUpdate};
pub use activity::{Activity, UserStats};
pub use api_key::{ApiKey, ApiKeyUpdate};
pub use enums::{ApiKeyTier, OAuthProvider, TenantPlan, UserStatus, UserTier};
pub(crate) use ids::OAuthTokenId;
pub use ids::{A2AClientId, ActivityId, ApiKeyId, TenantId, UserId};
pub use oauth::{ExpiringToken, OAuthToken};
pub use tenant::{DeletedTenant, Tenant};
pub use usage::{ApiKeyUsage, ApiKeyUsageStats, EndpointUsage, JwtUsage};
pub use user::{User, UserCursor, UserFilter, UserPage, UserProfile};
