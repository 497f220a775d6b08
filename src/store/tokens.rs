use time::OffsetDateTime;

use super::{convert::stored_enum, in_flight::InFlight};
use crate::{
    Backend, Error, ExpiringToken, OAuthProvider, OAuthToken, Result, Store, UserId,
    backend::{codec::Timestamp, rows::OAuthTokenRow},
    clock,
    model::OAuthTokenId,
    validate,
};

/// The associated data of an encrypted token column: binds the ciphertext to its row and
/// column, so a value copied to another user, provider or column does not decrypt.
///
/// `token` is `"access_token"` or `"refresh_token"`: part of the ciphertext format, not the
/// column's name. The columns were renamed to the seed's `access_token_encrypted` /
/// `refresh_token_encrypted` (migration 20261202000001) and these strings were kept: never
/// change them, or no token stored before stops decrypting (`Error::Decryption`).
pub(super) fn aad(user: UserId, provider: OAuthProvider, token: &str) -> Vec<u8> {
    format!("pierre-store/user_oauth_tokens/{user}/{provider}/{token}").into_bytes()
}

impl<B: Backend> Store<B> {
    /// Stores the user's token at `provider`, replacing any previous one. The access and
    /// refresh tokens are encrypted before they leave this process, with the active key;
    /// a key rotation of this store waits for the write to finish before it switches keys,
    /// so the row is never left behind under the old key.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty access token or an oversized field;
    /// [`Error::NotFound`] when the user does not exist.
    pub async fn upsert_oauth_token(
        &self,
        user: UserId,
        provider: OAuthProvider,
        token: &OAuthToken,
    ) -> Result<()> {
        self.observe("upsert_oauth_token", async move {
            validate::required("access_token", &token.access_token, validate::MAX_TOKEN_LEN)?;
            validate::opt_text(
                "refresh_token",
                token.refresh_token.as_deref(),
                validate::MAX_TOKEN_LEN,
            )?;
            validate::opt_text("scope", token.scope.as_deref(), validate::MAX_TEXT_LEN)?;
            validate::opt_timestamp("expires_at", token.expires_at)?;
            let now = Timestamp::from(clock::now());
            // A rotation switching keys now waits for this write, so it finds the row
            // whichever key this picks.
            let no_key_switch = self.no_key_switch().await;
            let keys = self.keys();
            let row = OAuthTokenRow {
                // Used only when the user has no token at `provider` yet: a replaced row
                // keeps its id.
                id: OAuthTokenId::new(),
                user_id: user,
                provider: provider.as_str().to_owned(),
                access_token_encrypted: keys
                    .encrypt(&token.access_token, &aad(user, provider, "access_token")),
                refresh_token_encrypted: token
                    .refresh_token
                    .as_deref()
                    .map(|t| keys.encrypt(t, &aad(user, provider, "refresh_token"))),
                expires_at: token.expires_at.map(Timestamp::from),
                scope: token.scope.clone(),
                created_at: now,
                updated_at: now,
            };
            // Dropped before it finishes (the caller stopped waiting), `write` keeps the
            // key switch waiting until the statement already sent has landed.
            let mut write = InFlight::new(self.pool.acquire().await?, no_key_switch);
            let written = B::upsert_oauth_token(write.connection(), &row).await;
            write.finish();
            written.map_err(Error::on_write("oauth token", "user"))
        })
        .await
    }

    /// The user's token at `provider`, decrypted, if any.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::Decryption`] when the stored token does not open with this store's key (wrong
    /// key, tampering, or a ciphertext moved from another row or column).
    pub async fn get_oauth_token(
        &self,
        user: UserId,
        provider: OAuthProvider,
    ) -> Result<Option<OAuthToken>> {
        self.observe("get_oauth_token", async move {
            let Some(row) = B::select_oauth_token(&self.pool, user, provider.as_str()).await?
            else {
                return Ok(None);
            };
            let keys = self.keys();
            let access_token = keys.decrypt(
                &row.access_token_encrypted,
                &aad(user, provider, "access_token"),
                "access_token",
            )?;
            let refresh_token = row
                .refresh_token_encrypted
                .map(|sealed| {
                    keys.decrypt(
                        &sealed,
                        &aad(user, provider, "refresh_token"),
                        "refresh_token",
                    )
                })
                .transpose()?;
            Ok(Some(OAuthToken {
                access_token,
                refresh_token,
                expires_at: row.expires_at.map(Into::into),
                scope: row.scope,
            }))
        })
        .await
    }

    /// The tokens whose `expires_at` is before `before`, soonest (or longest expired)
    /// first, then by user and provider; at most `limit` (1 to 1000). Tokens without an
    /// expiry are never listed. Nothing is decrypted (the store's keys are not needed),
    /// and the query reads by `idx_oauth_tokens_expires`. A refresh worker calls it with
    /// `now + margin`, refreshes each token ([`Store::upsert_oauth_token`] moves its
    /// `expires_at` past the window) and calls again until the list is empty.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `limit` unless it is 1 to 1000, on `before` outside the
    /// years 1 to 9999; [`Error::Database`]; [`Error::CorruptData`] for an unknown stored
    /// provider.
    pub async fn list_tokens_expiring_before(
        &self,
        before: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<ExpiringToken>> {
        self.observe("list_tokens_expiring_before", async move {
            let limit = validate::page_limit(limit)?;
            validate::timestamp("before", before)?;
            B::select_tokens_expiring_before(&self.pool, before.into(), limit)
                .await?
                .into_iter()
                .map(|row| {
                    Ok(ExpiringToken {
                        user_id: row.user_id,
                        provider: stored_enum("provider", &row.provider)?,
                        expires_at: row.expires_at.into(),
                    })
                })
                .collect()
        })
        .await
    }

    /// Removes the user's token at `provider`. Returns whether there was one.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn delete_oauth_token(&self, user: UserId, provider: OAuthProvider) -> Result<bool> {
        self.observe("delete_oauth_token", async move {
            Ok(B::delete_oauth_token(&self.pool, user, provider.as_str()).await? > 0)
        })
        .await
    }

    /// Stores the user's Strava token: [`Store::upsert_oauth_token`] for
    /// [`OAuthProvider::Strava`].
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// As [`Store::upsert_oauth_token`].
    pub async fn update_strava_token(
        &self,
        user: UserId,
        access_token: &str,
        refresh_token: &str,
        expires_at: OffsetDateTime,
        scope: String,
    ) -> Result<()> {
        let token = OAuthToken {
            access_token: access_token.to_owned(),
            refresh_token: Some(refresh_token.to_owned()),
            expires_at: Some(expires_at),
            scope: Some(scope),
        };
        self.upsert_oauth_token(user, OAuthProvider::Strava, &token)
            .await
    }

    /// The user's Strava token: [`Store::get_oauth_token`] for [`OAuthProvider::Strava`].
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// As [`Store::get_oauth_token`].
    pub async fn get_strava_token(&self, user: UserId) -> Result<Option<OAuthToken>> {
        self.get_oauth_token(user, OAuthProvider::Strava).await
    }
}
