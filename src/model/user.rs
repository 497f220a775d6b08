//! Users: accounts that log in, own API keys, tokens and activities.

use std::{fmt, str::FromStr};

use time::OffsetDateTime;
use uuid::Uuid;

use super::{UserId, UserStatus, UserTier};
use crate::{Error, clock};

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

/// Which users [`Store::list_users`](crate::Store::list_users) returns: those whose status
/// is one of `statuses` and whose tier is one of `tiers`. An empty list leaves that column
/// open (the default selects every user).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserFilter {
    /// The statuses to keep (e.g. `[Pending]` for the approval queue); empty = any.
    pub statuses: Vec<UserStatus>,
    /// The tiers to keep; empty = any.
    pub tiers: Vec<UserTier>,
}

/// Where a page of [`Store::list_users`](crate::Store::list_users) ended: pass it back to
/// get the users after it. Users are listed by `(created_at, id)`, so a page never repeats
/// or skips a user because others were added or changed meanwhile (a user created later
/// than the cursor's position appears on a later page; one created earlier does not).
///
/// It travels as text (`Display` / `FromStr`, e.g. in an admin page's URL):
/// `<created_at in microseconds since the Unix epoch>_<id>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserCursor {
    created_at: OffsetDateTime,
    id: UserId,
}

impl UserCursor {
    /// The cursor just after `user`.
    pub(crate) fn after(user: &User) -> Self {
        Self {
            created_at: user.created_at,
            id: user.id,
        }
    }

    /// The position: the last listed user's `created_at` and id.
    pub(crate) const fn position(self) -> (OffsetDateTime, UserId) {
        (self.created_at, self.id)
    }
}

impl fmt::Display for UserCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let micros = self.created_at.unix_timestamp_nanos() / 1_000;
        write!(f, "{micros}_{}", self.id)
    }
}

impl FromStr for UserCursor {
    type Err = Error;

    /// Parses a cursor written by `Display`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `cursor` for any other text.
    fn from_str(text: &str) -> Result<Self, Error> {
        let invalid = || Error::invalid("cursor", "is not a cursor returned by list_users");
        let (micros, id) = text.split_once('_').ok_or_else(invalid)?;
        let micros: i128 = micros.parse::<i64>().map_err(|_| invalid())?.into();
        let created_at =
            OffsetDateTime::from_unix_timestamp_nanos(micros * 1_000).map_err(|_| invalid())?;
        if !(1..=9999).contains(&created_at.year()) {
            return Err(invalid());
        }
        let id = Uuid::parse_str(id).map_err(|_| invalid())?;
        Ok(Self {
            created_at,
            id: id.into(),
        })
    }
}

/// One page of [`Store::list_users`](crate::Store::list_users).
#[derive(Clone, Debug, PartialEq)]
pub struct UserPage {
    /// The users, by `created_at` then id.
    pub users: Vec<User>,
    /// Where the next page starts; `None` when this page is the last.
    pub next: Option<UserCursor>,
}

/// The fields a user (or an administrator) may edit with
/// [`Store::update_user_profile`](crate::Store::update_user_profile). Both are written:
/// `None` clears a field.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserProfile {
    /// Given name (at most 255 characters, no NUL).
    pub firstname: Option<String>,
    /// Family name (at most 255 characters, no NUL).
    pub lastname: Option<String>,
}
