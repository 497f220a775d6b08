//! Issuing and checking API keys and A2A client secrets.

use time::OffsetDateTime;

use crate::{
    A2AClient, A2AClientId, ApiKey, ApiKeyId, ApiKeyTier, Backend, Error, Result, Store, UserId,
    clock,
    secret::{self, MAX_SECRET_LEN, PlaintextSecret},
};

use super::{a2a_clients::a2a_client_from_row, api_keys::api_key_from_row};

/// What every issued API key starts with.
pub const API_KEY_PREFIX: &str = "pk_live_";
/// What every issued A2A client secret starts with.
pub const A2A_SECRET_PREFIX: &str = "a2a_live_";

impl<B: Backend> Store<B> {
    /// Issues a new API key for `user`: 256 random bits after [`API_KEY_PREFIX`]. Stores
    /// only its SHA-256 hash and a display prefix, and returns the key's row with the
    /// plaintext, which cannot be recovered later.
    ///
    /// # Errors
    /// As [`Store::create_api_key`].
    pub async fn issue_api_key(
        &self,
        user: UserId,
        name: &str,
        tier: ApiKeyTier,
        scopes: Vec<String>,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<(ApiKey, PlaintextSecret)> {
        self.observe("issue_api_key", async move {
            let issued = secret::issue(API_KEY_PREFIX);
            let mut key = ApiKey::new(user, name, &issued.hash, &issued.display_prefix);
            key.tier = tier;
            key.scopes = scopes;
            key.expires_at = expires_at.map(clock::truncate);
            self.insert_api_key(&key).await?;
            Ok((key, issued.plaintext))
        })
        .await
    }

    /// The key whose plaintext this is, if it is active and not expired and its user may
    /// log in; its `last_used` and `usage_count` are updated in the same statement (one
    /// round trip). `None` for an unknown, revoked or expired key, and for the key of a
    /// `suspended` or `deleted` user (nothing is counted then). A `pending` user's key
    /// authenticates, as the user's password does ([`Store::verify_user_password`]):
    /// pending means "not yet approved", and what such a user may do is the server's
    /// decision (it can read [`User::status`](crate::User::status)).
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn authenticate_api_key(&self, plaintext: &str) -> Result<Option<ApiKey>> {
        self.observe("authenticate_api_key", async move {
            if plaintext.len() > MAX_SECRET_LEN {
                return Ok(None);
            }
            let hash = secret::hash(plaintext);
            B::touch_valid_api_key(&self.pool, &hash, clock::now().into())
                .await?
                .map(api_key_from_row)
                .transpose()
        })
        .await
    }

    /// Deactivates the key: it stays listed, but no longer authenticates. Idempotent.
    ///
    /// # Errors
    /// [`Error::NotFound`] when there is no such key.
    pub async fn revoke_api_key(&self, id: ApiKeyId) -> Result<()> {
        self.observe("revoke_api_key", async move {
            if B::deactivate_api_key(&self.pool, id).await? == 0 {
                return Err(Error::NotFound {
                    entity: "api key",
                    id: id.to_string(),
                });
            }
            Ok(())
        })
        .await
    }

    /// Registers a new A2A client with a fresh secret (256 random bits after
    /// [`A2A_SECRET_PREFIX`]); stores only its SHA-256 hash and returns the plaintext once.
    ///
    /// # Errors
    /// As [`Store::create_a2a_client`].
    pub async fn issue_a2a_client(
        &self,
        name: &str,
        capabilities: Vec<String>,
        rate_limit_per_day: i64,
    ) -> Result<(A2AClient, PlaintextSecret)> {
        self.observe("issue_a2a_client", async move {
            let issued = secret::issue(A2A_SECRET_PREFIX);
            let mut client = A2AClient::new(name, &issued.hash);
            client.capabilities = capabilities;
            client.rate_limit_per_day = rate_limit_per_day;
            self.insert_a2a_client(&client).await?;
            Ok((client, issued.plaintext))
        })
        .await
    }

    /// The active client whose secret this is, with `last_used` updated in the same
    /// statement (one round trip); `None` for an unknown, deactivated or revoked client.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn authenticate_a2a_client(&self, plaintext: &str) -> Result<Option<A2AClient>> {
        self.observe("authenticate_a2a_client", async move {
            if plaintext.len() > MAX_SECRET_LEN {
                return Ok(None);
            }
            let hash = secret::hash(plaintext);
            Ok(
                B::touch_active_a2a_client(&self.pool, &hash, clock::now().into())
                    .await?
                    .map(a2a_client_from_row),
            )
        })
        .await
    }

    /// Revokes the client for good: it stays listed (with `revoked_at` set to now and
    /// `is_active` false) but no longer authenticates, and cannot be activated again; issue
    /// a new client instead. Idempotent: revoking again keeps the first `revoked_at`.
    ///
    /// # Errors
    /// [`Error::NotFound`] when there is no such client.
    pub async fn revoke_a2a_client(&self, id: A2AClientId) -> Result<()> {
        self.observe("revoke_a2a_client", async move {
            if B::revoke_a2a_client(&self.pool, id, clock::now().into()).await? == 0 {
                return Err(a2a_client_not_found(id));
            }
            Ok(())
        })
        .await
    }

    /// Deactivates (`active == false`) or reactivates the client: a deactivated client stays
    /// listed but does not authenticate until it is activated again. Idempotent.
    ///
    /// # Errors
    /// [`Error::NotFound`] when there is no such client; [`Error::Conflict`] when asked to
    /// activate a revoked client (nothing is changed).
    pub async fn set_a2a_client_active(&self, id: A2AClientId, active: bool) -> Result<()> {
        self.observe("set_a2a_client_active", async move {
            if B::set_a2a_client_active(&self.pool, id, active).await? == 0 {
                return Err(match B::select_a2a_client_by_id(&self.pool, id).await? {
                    Some(_) => Error::Conflict {
                        entity: "a2a client",
                        constraint: "client is revoked: issue a new one".to_owned(),
                    },
                    None => a2a_client_not_found(id),
                });
            }
            Ok(())
        })
        .await
    }
}

fn a2a_client_not_found(id: A2AClientId) -> Error {
    Error::NotFound {
        entity: "a2a client",
        id: id.to_string(),
    }
}
