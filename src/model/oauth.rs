//! OAuth tokens of a user at a fitness-data provider, as the caller sees them (decrypted).

use std::fmt;

use time::OffsetDateTime;

use super::{OAuthProvider, UserId};

/// A provider's OAuth token. The store encrypts `access_token` and `refresh_token` before
/// they reach the database; `Debug` never prints them.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthToken {
    /// The bearer token sent to the provider.
    pub access_token: String,
    /// The token that obtains a new access token, if the provider issued one.
    pub refresh_token: Option<String>,
    /// When `access_token` stops working.
    pub expires_at: Option<OffsetDateTime>,
    /// The scopes granted, as the provider wrote them.
    pub scope: Option<String>,
}

impl fmt::Debug for OAuthToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthToken")
            .field("access_token", &"[redacted]")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("expires_at", &self.expires_at)
            .field("scope", &self.scope)
            .finish()
    }
}

/// A stored token that expires before some instant, as
/// [`Store::list_tokens_expiring_before`](crate::Store::list_tokens_expiring_before) lists
/// it for a refresh worker: which token, and when it expires. Nothing secret: the token
/// itself stays encrypted in the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpiringToken {
    /// The token's user.
    pub user_id: UserId,
    /// The provider that issued it.
    pub provider: OAuthProvider,
    /// When its access token stops working.
    pub expires_at: OffsetDateTime,
}
