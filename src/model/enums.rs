//! Closed sets stored as lower-case text: each enum converts with `as_str` and `FromStr`,
//! and an unknown value is an [`Error::InvalidInput`](crate::Error::InvalidInput).

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::Error;

macro_rules! text_enum {
    ($(#[$doc:meta] $name:ident ($field:literal) { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? })+) => {$(
        #[$doc]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stored, lower-case name.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }

        impl FromStr for $name {
            type Err = Error;

            fn from_str(value: &str) -> Result<Self, Error> {
                match value {
                    $($text => Ok(Self::$variant),)+
                    other => Err(Error::InvalidInput {
                        field: $field,
                        reason: format!("unknown value {other:?}"),
                    }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )+};
}

text_enum! {
    /// Where a user is in its life cycle.
    UserStatus ("status") {
        /// Registered, waiting for an administrator's approval (the default).
        Pending => "pending",
        /// Approved and allowed to use the service.
        Active => "active",
        /// Blocked by an administrator.
        Suspended => "suspended",
        /// Deleted by the user or an administrator; kept for bookkeeping.
        Deleted => "deleted",
    }
    /// A user's subscription tier.
    UserTier ("tier") {
        /// The default tier.
        Free => "free",
        /// Paid entry tier.
        Basic => "basic",
        /// Paid tier for heavy users.
        Professional => "professional",
        /// Contract tier.
        Enterprise => "enterprise",
    }
    /// A fitness-data provider whose OAuth tokens the store keeps.
    OAuthProvider ("provider") {
        /// Strava.
        Strava => "strava",
        /// Fitbit.
        Fitbit => "fitbit",
        /// Garmin Connect.
        Garmin => "garmin",
    }
    /// The rate-limit tier of an API key.
    ApiKeyTier ("tier") {
        /// Trial key (the default).
        Trial => "trial",
        /// Standard paid key.
        Standard => "standard",
        /// Premium paid key.
        Premium => "premium",
        /// Limits set per key (see `ApiKey::rate_limit_override`).
        Custom => "custom",
    }
    /// A tenant's plan.
    TenantPlan ("plan") {
        /// The default plan.
        Starter => "starter",
        /// Mid-size organisations.
        Professional => "professional",
        /// Contract plan.
        Enterprise => "enterprise",
    }
}
