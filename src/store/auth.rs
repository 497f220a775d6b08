//! Logging in with a password.

use crate::{Backend, Result, Store, User, UserStatus, clock, password, validate};

use super::users::user_from_row;

impl<B: Backend> Store<B> {
    /// The user with this email if `password` matches its hash and the user is neither
    /// suspended nor deleted; `None` otherwise (unknown email, wrong password, refused
    /// status: the caller cannot tell which). An unknown email costs the same hashing time
    /// as a known one. A hash made with weaker parameters than the current ones is
    /// replaced by a new hash on success.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) when the stored hash is not a
    /// PHC string; [`Error::Database`](crate::Error::Database).
    pub async fn verify_user_password(&self, email: &str, password: &str) -> Result<Option<User>> {
        self.observe("verify_user_password", async move {
            let found = match validate::email(email) {
                Ok(email) => B::select_user_by_email(&self.pool, &email).await?,
                Err(_) => None,
            };
            let Some(row) = found else {
                password::verify_dummy(password).await;
                return Ok(None);
            };
            let mut user = user_from_row(row)?;
            if !password::verify(password, &user.password_hash).await? {
                return Ok(None);
            }
            if matches!(user.status, UserStatus::Suspended | UserStatus::Deleted) {
                return Ok(None);
            }
            if password::needs_rehash(&user.password_hash) {
                let rehashed = password::hash(password).await?;
                let now = clock::now();
                B::update_user_password_hash(&self.pool, user.id, &rehashed, now.into()).await?;
                user.password_hash = rehashed;
                user.updated_at = now;
            }
            Ok(Some(user))
        })
        .await
    }
}
