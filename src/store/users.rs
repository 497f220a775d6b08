use crate::{
    Backend, Error, Result, Store, User, UserId,
    backend::{codec::Timestamp, rows::UserRow},
    clock, validate,
};

use super::convert::stored_enum;

impl<B: Backend> Store<B> {
    /// Stores `user` as given (its id, timestamps and fields), with the email trimmed and
    /// lower-cased. Returns `user.id`.
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
    /// # Errors
    /// [`Error::Conflict`] naming the tenants' slugs when the user owns any (nothing is
    /// deleted); [`Error::Database`].
    pub async fn delete_user(&self, id: UserId) -> Result<bool> {
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

fn user_row(user: &User) -> Result<UserRow> {
    let email = validate::email(&user.email)?;
    validate::required("password_hash", &user.password_hash, validate::MAX_TEXT_LEN)?;
    validate::opt_text(
        "firstname",
        user.firstname.as_deref(),
        validate::MAX_NAME_LEN,
    )?;
    validate::opt_text("lastname", user.lastname.as_deref(), validate::MAX_NAME_LEN)?;
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
