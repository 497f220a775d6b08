use crate::{
    Backend, Error, Result, Store, User, UserCursor, UserFilter, UserId, UserPage, UserProfile,
    UserStatus, UserTier,
    backend::{codec::Timestamp, rows::UserRow},
    clock, validate,
};

use super::convert::stored_enum;

impl<B: Backend> Store<B> {
    /// Stores `user` as given (its id, timestamps and fields), with the email trimmed and
    /// lower-cased. Returns `user.id`.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a malformed email or an oversized field (nothing is
    /// written); [`Error::Conflict`] when the email or id is taken; [`Error::NotFound`] when
    /// `approved_by` / `suspended_by` name no user.
    pub async fn create_user(&self, user: &User) -> Result<UserId> {
        self.observe("create_user", async move {
            let row = user_row(user)?;
            B::insert_user(&self.pool, &row)
                .await
                .map_err(Error::on_write("user", "approving or suspending user"))?;
            Ok(user.id)
        })
        .await
    }

    /// The user with this id, if any.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::Database`]; [`Error::CorruptData`] for a row this build cannot read.
    pub async fn get_user(&self, id: UserId) -> Result<Option<User>> {
        self.observe("get_user", async move {
            B::select_user_by_id(&self.pool, id)
                .await?
                .map(user_from_row)
                .transpose()
        })
        .await
    }

    /// The user with this email (compared trimmed and lower-cased), if any. A string that is
    /// not an email matches no user.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// As [`Store::get_user`].
    pub async fn get_user_by_email(&self, email: &str) -> Result<Option<User>> {
        self.observe("get_user_by_email", async move {
            let Ok(email) = validate::email(email) else {
                return Ok(None);
            };
            B::select_user_by_email(&self.pool, &email)
                .await?
                .map(user_from_row)
                .transpose()
        })
        .await
    }

    /// Deletes the user and, with it, its OAuth tokens, API keys and their usage, JWT
    /// usage and its own activities (in every tenant), in one transaction. Returns whether
    /// the user existed. Never deletes another user's data: a user who owns a tenant is
    /// refused (its other members' activities would go with the tenant) until the tenant
    /// has another owner ([`Store::update_tenant`]) or is deleted
    /// ([`Store::delete_tenant`]).
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::Conflict`] naming the tenants' slugs when the user owns any (nothing is
    /// deleted); [`Error::Database`].
    pub async fn delete_user(&self, id: UserId) -> Result<bool> {
        let _changing = self.credentials_changing();
        self.observe("delete_user", async move {
            let mut tx = B::begin_write(&self.pool).await?;
            let deleted = match B::delete_user(&mut tx, id).await {
                Ok(deleted) => deleted,
                Err(error) if is_foreign_key_violation(&error) => {
                    drop(tx);
                    let slugs = B::select_tenant_slugs_by_owner(&self.pool, id).await?;
                    return Err(owns_tenants(&slugs));
                }
                Err(error) => return Err(error.into()),
            };
            tx.commit().await?;
            Ok(deleted > 0)
        })
        .await
    }

    /// Sets the user's `last_active` to now.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::NotFound`] when there is no such user.
    pub async fn update_last_active(&self, id: UserId) -> Result<()> {
        self.observe("update_last_active", async move {
            let changed = B::update_user_last_active(&self.pool, id, clock::now().into()).await?;
            if changed == 0 {
                return Err(Error::NotFound {
                    entity: "user",
                    id: id.to_string(),
                });
            }
            Ok(())
        })
        .await
    }

    /// One page of the users `filter` selects, by `created_at` then id (oldest first: the
    /// pending-approval queue is `UserFilter { statuses: vec![UserStatus::Pending], .. }`),
    /// starting after `after` (from the first user when `None`), at most `limit` users.
    /// [`UserPage::next`] is where the next page starts, `None` on the last page. A
    /// status filter reads by `idx_users_status`; a tier filter by `idx_users_tier` on
    /// PostgreSQL (on SQLite the statement always reads by status, see the README).
    ///
    /// Reads from a healthy read replica when there is one (it may trail the primary by up
    /// to [`StoreConfig::read_max_lag`](crate::StoreConfig::read_max_lag)), else from the
    /// primary; a replica that fails the read is never the caller's error.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `limit` unless it is 1 to 1000; [`Error::Database`];
    /// [`Error::CorruptData`] for a row this build cannot read.
    pub async fn list_users(
        &self,
        filter: &UserFilter,
        after: Option<UserCursor>,
        limit: u32,
    ) -> Result<UserPage> {
        self.observe("list_users", async move {
            let limit = validate::page_limit(limit)?;
            let statuses = stored_names(&filter.statuses, UserStatus::ALL, UserStatus::as_str);
            let tiers = stored_names(&filter.tiers, UserTier::ALL, UserTier::as_str);
            let after = after.map(|cursor| {
                let (created_at, id) = cursor.position();
                (Timestamp::from(created_at), id)
            });
            // One row more than asked tells whether another page follows.
            let (statuses, tiers) = (&statuses, &tiers);
            let mut rows = self
                .read_tolerating_lag(|pool| async move {
                    B::select_users_page(&pool, statuses, tiers, after, limit + 1).await
                })
                .await?;
            let page_len = usize::try_from(limit).unwrap_or(usize::MAX);
            let more = rows.len() > page_len;
            rows.truncate(page_len);
            let users = rows
                .into_iter()
                .map(user_from_row)
                .collect::<Result<Vec<_>>>()?;
            let next = if more {
                users.last().map(UserCursor::after)
            } else {
                None
            };
            Ok(UserPage { users, next })
        })
        .await
    }

    /// Approves a `pending` user: it becomes `active`, with `approved_at` now and
    /// `approved_by` the acting administrator `by`, in one statement. `by` must be an
    /// existing user; whether it may approve (e.g. `is_admin`) is the caller's decision.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `status` naming the transition when the user is not
    /// pending (approving an active, suspended or deleted user); [`Error::NotFound`] with
    /// the id of the user, or of `by`, that does not exist. Nothing changes on error.
    pub async fn approve_user(&self, id: UserId, by: UserId) -> Result<()> {
        let _changing = self.credentials_changing();
        self.observe("approve_user", async move {
            let changed = B::approve_user(&self.pool, id, by, clock::now().into())
                .await
                .map_err(actor_not_found(by))?;
            self.explain_unchanged(id, changed, &APPROVE).await
        })
        .await
    }

    /// Suspends a `pending` or `active` user for `reason`: it becomes `suspended`, with
    /// `suspended_at` now, `suspended_by` the acting administrator `by` and
    /// `suspension_reason`, in one statement. Its API keys stop authenticating and its
    /// password login is refused from the next call on ([`Store::authenticate_api_key`],
    /// [`Store::verify_user_password`]). `by` must be an existing user (any: the caller
    /// decides who may suspend; a user may suspend itself).
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `suspension_reason` when it is blank, has a NUL or is
    /// longer than 4096 characters, on `status` naming the transition when the user is
    /// already suspended or deleted; [`Error::NotFound`] as [`Store::approve_user`].
    /// Nothing changes on error.
    pub async fn suspend_user(&self, id: UserId, by: UserId, reason: &str) -> Result<()> {
        let _changing = self.credentials_changing();
        self.observe("suspend_user", async move {
            validate::non_blank("suspension_reason", reason, validate::MAX_TEXT_LEN)?;
            let changed = B::suspend_user(&self.pool, id, by, reason, clock::now().into())
                .await
                .map_err(actor_not_found(by))?;
            self.explain_unchanged(id, changed, &SUSPEND).await
        })
        .await
    }

    /// Lifts a `suspended` user's suspension, in one statement: a user that had been
    /// approved becomes `active` again, and `approved_at` / `approved_by` record this
    /// reactivation (now, `by`); a user suspended before anyone approved it goes back to
    /// `pending` (reactivation never stands in for an approval: [`Store::approve_user`]
    /// still has to), and then nothing records `by`. The suspension columns
    /// (`suspended_at`, `suspended_by`, `suspension_reason`) are cleared, so they always
    /// describe the current suspension. The store keeps no history of past suspensions: a
    /// server that needs one logs the calls.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `status` naming the transition when the user is not
    /// suspended; [`Error::NotFound`] as [`Store::approve_user`]. Nothing changes on error.
    pub async fn reactivate_user(&self, id: UserId, by: UserId) -> Result<()> {
        let _changing = self.credentials_changing();
        self.observe("reactivate_user", async move {
            let changed = B::reactivate_user(&self.pool, id, by, clock::now().into())
                .await
                .map_err(actor_not_found(by))?;
            // The statement also changes nothing when `by` does not exist (a never-approved
            // user's reactivation stores no `by` for a foreign key to check).
            if changed == 0 && B::select_user_by_id(&self.pool, by).await?.is_none() {
                return Err(Error::NotFound {
                    entity: "user",
                    id: by.to_string(),
                });
            }
            self.explain_unchanged(id, changed, &REACTIVATE).await
        })
        .await
    }

    /// Replaces the user's `firstname` and `lastname` (a `None` clears the field) and sets
    /// `updated_at`, in one statement. A deleted user's profile is left as it is.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `firstname` / `lastname` longer than 255 characters or
    /// with a NUL, on `status` when the user is deleted; [`Error::NotFound`] when there is
    /// no such user. Nothing changes on error.
    pub async fn update_user_profile(&self, id: UserId, profile: &UserProfile) -> Result<()> {
        self.observe("update_user_profile", async move {
            validate_profile(profile.firstname.as_deref(), profile.lastname.as_deref())?;
            let changed = B::update_user_profile(
                &self.pool,
                id,
                profile.firstname.as_deref(),
                profile.lastname.as_deref(),
                clock::now().into(),
            )
            .await?;
            self.explain_unchanged(id, changed, &UPDATE_PROFILE).await
        })
        .await
    }

    /// Sets the user's subscription tier and `updated_at`, in one statement.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `status` when the user is deleted; [`Error::NotFound`]
    /// when there is no such user. Nothing changes on error.
    pub async fn update_user_tier(&self, id: UserId, tier: UserTier) -> Result<()> {
        self.observe("update_user_tier", async move {
            let changed =
                B::update_user_tier(&self.pool, id, tier.as_str(), clock::now().into()).await?;
            self.explain_unchanged(id, changed, &UPDATE_TIER).await
        })
        .await
    }

    /// `Ok` when a guarded update changed the user; otherwise why not, from one read:
    /// no such user, or a status `change` does not apply to.
    async fn explain_unchanged(&self, id: UserId, changed: u64, change: &Change) -> Result<()> {
        if changed > 0 {
            return Ok(());
        }
        let Some(row) = B::select_user_by_id(&self.pool, id).await? else {
            return Err(Error::NotFound {
                entity: "user",
                id: id.to_string(),
            });
        };
        let status: UserStatus = stored_enum("status", &row.status)?;
        if change.from.contains(&status) {
            // The update saw another status, changed by someone else before this read.
            return Err(Error::Conflict {
                entity: "user",
                constraint: format!("its status changed concurrently (now {status}): retry"),
            });
        }
        let article = if status == UserStatus::Active {
            "an"
        } else {
            "a"
        };
        Err(Error::invalid(
            "status",
            format!(
                "cannot {} {article} {status} user ({})",
                change.action, change.rule
            ),
        ))
    }
}

/// A guarded update of a user: what it does (for messages), the statuses it applies to
/// (the same as its statement's `WHERE`) and the rule in words.
struct Change {
    action: &'static str,
    from: &'static [UserStatus],
    rule: &'static str,
}

const APPROVE: Change = Change {
    action: "approve",
    from: &[UserStatus::Pending],
    rule: "pending -> active",
};
const SUSPEND: Change = Change {
    action: "suspend",
    from: &[UserStatus::Pending, UserStatus::Active],
    rule: "pending or active -> suspended",
};
const REACTIVATE: Change = Change {
    action: "reactivate",
    from: &[UserStatus::Suspended],
    rule: "suspended -> active, or pending if never approved",
};
const NOT_DELETED: &[UserStatus] = &[
    UserStatus::Pending,
    UserStatus::Active,
    UserStatus::Suspended,
];
const UPDATE_PROFILE: Change = Change {
    action: "update the profile of",
    from: NOT_DELETED,
    rule: "a deleted user is kept as it was",
};
const UPDATE_TIER: Change = Change {
    action: "update the tier of",
    from: NOT_DELETED,
    rule: "a deleted user is kept as it was",
};

/// Maps the failure of an update that records `by` as its actor: a foreign key violation
/// means that user does not exist.
fn actor_not_found(by: UserId) -> impl Fn(sqlx::Error) -> Error {
    move |error| {
        if is_foreign_key_violation(&error) {
            Error::NotFound {
                entity: "user",
                id: by.to_string(),
            }
        } else {
            error.into()
        }
    }
}

/// The stored names of `chosen`, or of every value in `all` when `chosen` is empty.
fn stored_names<T: Copy>(
    chosen: &[T],
    all: &[T],
    name: fn(T) -> &'static str,
) -> Vec<&'static str> {
    let values = if chosen.is_empty() { all } else { chosen };
    values.iter().copied().map(name).collect()
}

/// Whether the error is a foreign key violation (on a user's deletion: a tenant it owns).
fn is_foreign_key_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db)
        if db.kind() == sqlx::error::ErrorKind::ForeignKeyViolation)
}

/// The refusal of deleting the owner of the tenants with these slugs.
fn owns_tenants(slugs: &[String]) -> Error {
    let constraint = match slugs {
        [slug] => format!("user owns tenant {slug}: transfer or delete the tenant first"),
        [] => "user owns a tenant: transfer or delete it first".to_owned(),
        _ => format!(
            "user owns tenants {}: transfer or delete them first",
            slugs.join(", ")
        ),
    };
    Error::Conflict {
        entity: "user",
        constraint,
    }
}

/// The rules of the profile fields, on creation and on update.
fn validate_profile(firstname: Option<&str>, lastname: Option<&str>) -> Result<()> {
    validate::opt_text("firstname", firstname, validate::MAX_NAME_LEN)?;
    validate::opt_text("lastname", lastname, validate::MAX_NAME_LEN)
}

fn user_row(user: &User) -> Result<UserRow> {
    let email = validate::email(&user.email)?;
    validate::required("password_hash", &user.password_hash, validate::MAX_TEXT_LEN)?;
    validate_profile(user.firstname.as_deref(), user.lastname.as_deref())?;
    validate::opt_text(
        "suspension_reason",
        user.suspension_reason.as_deref(),
        validate::MAX_TEXT_LEN,
    )?;
    validate::non_negative_f64("rate_limit_multiplier", user.rate_limit_multiplier)?;
    validate::timestamp("created_at", user.created_at)?;
    validate::timestamp("updated_at", user.updated_at)?;
    validate::timestamp("last_active", user.last_active)?;
    validate::opt_timestamp("approved_at", user.approved_at)?;
    validate::opt_timestamp("suspended_at", user.suspended_at)?;
    Ok(UserRow {
        id: user.id,
        email,
        password_hash: user.password_hash.clone(),
        firstname: user.firstname.clone(),
        lastname: user.lastname.clone(),
        status: user.status.as_str().to_owned(),
        is_admin: user.is_admin,
        tier: user.tier.as_str().to_owned(),
        rate_limit_multiplier: user.rate_limit_multiplier,
        created_at: user.created_at.into(),
        updated_at: user.updated_at.into(),
        last_active: user.last_active.into(),
        approved_at: user.approved_at.map(Timestamp::from),
        approved_by: user.approved_by,
        suspended_at: user.suspended_at.map(Timestamp::from),
        suspended_by: user.suspended_by,
        suspension_reason: user.suspension_reason.clone(),
    })
}

pub(super) fn user_from_row(row: UserRow) -> Result<User> {
    Ok(User {
        id: row.id,
        email: row.email,
        password_hash: row.password_hash,
        firstname: row.firstname,
        lastname: row.lastname,
        status: stored_enum("status", &row.status)?,
        is_admin: row.is_admin,
        tier: stored_enum("tier", &row.tier)?,
        rate_limit_multiplier: row.rate_limit_multiplier,
        created_at: row.created_at.into(),
        updated_at: row.updated_at.into(),
        last_active: row.last_active.into(),
        approved_at: row.approved_at.map(Into::into),
        approved_by: row.approved_by,
        suspended_at: row.suspended_at.map(Into::into),
        suspended_by: row.suspended_by,
        suspension_reason: row.suspension_reason,
    })
}
