//! Users: accounts that log in, own API keys, tokens and activities.

use std::fmt;

use time::OffsetDateTime;

use super::{UserId, UserStatus, UserTier};
use crate::clock;

/// An account. `password_hash` is whatever the caller's hasher produced; the store keeps
/// it as given and never prints it (`Debug` redacts it).
#[derive(Clone, PartialEq)]
pub struct User {
    /// The user's id.
    pub id: UserId,
    /// Login email; stored trimmed and lower-cased, unique.
    pub email: String,
    /// Password hash (PHC string or similar). Never logged.
    pub password_hash: String,
    /// Given name.
    pub firstname: Option<String>,
    /// Family name.
    pub lastname: Option<String>,
    /// Life-cycle status.
    pub status: UserStatus,
    /// Whether the user administers the server.
    pub is_admin: bool,
    /// Subscription tier.
    pub tier: UserTier,
    /// Factor applied to the tier's rate limits (1.0 = as the tier says).
    pub rate_limit_multiplier: f64,
    /// When the account was created.
    pub created_at: OffsetDateTime,
    /// When the account was last changed.
    pub updated_at: OffsetDateTime,
    /// When the user was last seen.
    pub last_active: OffsetDateTime,
    /// When an administrator approved the account.
    pub approved_at: Option<OffsetDateTime>,
    /// The administrator who approved the account.
    pub approved_by: Option<UserId>,
    /// When the account was suspended.
    pub suspended_at: Option<OffsetDateTime>,
    /// The administrator who suspended the account.
    pub suspended_by: Option<UserId>,
    /// Why the account was suspended.
    pub suspension_reason: Option<String>,
}

impl User {
    /// A new pending, free-tier, non-admin user with a fresh id, created now.
    #[must_use]
    pub fn new(email: &str, password_hash: &str) -> Self {
        let now = clock::now();
        Self {
            id: UserId::new(),
            email: email.to_owned(),
            password_hash: password_hash.to_owned(),
            firstname: None,
            lastname: None,
            status: UserStatus::Pending,
            is_admin: false,
            tier: UserTier::Free,
            rate_limit_multiplier: 1.0,
            created_at: now,
            updated_at: now,
            last_active: now,
            approved_at: None,
            approved_by: None,
            suspended_at: None,
            suspended_by: None,
            suspension_reason: None,
        }
    }
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("password_hash", &"[redacted]")
            .field("firstname", &self.firstname)
            .field("lastname", &self.lastname)
            .field("status", &self.status)
            .field("is_admin", &self.is_admin)
            .field("tier", &self.tier)
            .field("rate_limit_multiplier", &self.rate_limit_multiplier)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .field("last_active", &self.last_active)
            .field("approved_at", &self.approved_at)
            .field("approved_by", &self.approved_by)
            .field("suspended_at", &self.suspended_at)
            .field("suspended_by", &self.suspended_by)
            .field("suspension_reason", &self.suspension_reason)
            .finish()
    }
}
