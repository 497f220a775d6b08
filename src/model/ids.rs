//! Newtype identifiers: one type per entity, so a `UserId` can never be passed where a
//! `TenantId` is expected.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! uuid_id {
    ($($(#[$doc:meta])+ $name:ident),+ $(,)?) => {$(
        $(#[$doc])+
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh random (version 4) identifier.
            #[must_use]
            pub fn new() -> Self {
                Self(Uuid::new_v4())
            }

            /// The underlying UUID.
            #[must_use]
            pub const fn into_inner(self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    )+};
}

uuid_id! {
    /// Identifies a [`User`](crate::User).
    UserId,
    /// Identifies a [`Tenant`](crate::Tenant).
    TenantId,
    /// Identifies an [`ApiKey`](crate::ApiKey).
    ApiKeyId,
    /// Identifies an [`A2AClient`](crate::A2AClient).
    A2AClientId,
    /// Identifies an [`Activity`](crate::Activity).
    ActivityId,
    /// Identifies a stored OAuth token row (`user_oauth_tokens.id`, the seed's column). The
    /// store assigns it when a user's token at a provider is first stored and keeps it
    /// when the token is replaced; callers address tokens by user and provider, so it
    /// stays inside the crate.
    OAuthTokenId,
}
