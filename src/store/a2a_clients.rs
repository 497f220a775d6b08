//! A2A clients: issuing, authenticating, revoking and (de)activating them, and storing and
//! reading their rows.

use std::time::Instant;

use sqlx::types::Json;

use crate::{
    A2AClient, A2AClientId, A2AClientUpdate, Backend, Error, Result, Store,
    backend::{
        codec::Timestamp,
        rows::{A2AClientRow, A2AClientUpdateRow},
    },
    clock,
    secret::{self, PlaintextSecret},
    validate,
};

/// What every issued A2A client secret starts with.
pub const A2A_SECRET_PREFIX: &str = "a2a_live_";

/// The life of a client registered by the store: issue, authenticate, revoke, deactivate.
impl<B: Backend> Store<B> {
    /// Registers a new A2A client with a fresh secret (256 random bits after
    /// [`A2A_SECRET_PREFIX`]); stores only its SHA-256 hash and returns the plaintext once.
    ///
    /// Runs on the primary.
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
            self.create_a2a_client_unobserved(&client).await?;
            Ok((client, issued.plaintext))
        })
        .await
    }

    /// The active client whose secret this is, with this use recorded: the returned
    /// client's `last_used` is now. `None` for an unknown, deactivated or revoked client.
    /// With the authentication cache on, a client seen before is answered from memory and
    /// `last_used` is written by the next flush, as for [`Store::authenticate_api_key`]
    /// (whose doc says when a change is seen); with it off, each call is one `UPDATE`.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn authenticate_a2a_client(&self, plaintext: &str) -> Result<Option<A2AClient>> {
        const OP: &str = "authenticate_a2a_client";
        let Some(cache) = &self.auth else {
            return self
                .observe(OP, async move {
                    let Some(hash) = secret::lookup_hash(plaintext) else {
                        return Ok(None);
                    };
                    Ok(
                        B::touch_active_a2a_client(&self.pool, &hash, clock::now().into())
                            .await?
                            .map(a2a_client_from_row),
                    )
                })
                .await;
        };
        let started = Instant::now();
        let Some(digest) = secret::lookup_digest(plaintext) else {
            self.observe_in_memory(OP, started);
            return Ok(None);
        };
        // After `close()`, go to the (closed) pool: later calls fail, as documented.
        if let Some(entry) = cache
            .fresh_client(&digest)
            .filter(|_| !self.pool.is_closed())
        {
            let client = cache.use_client(&entry, clock::now());
            self.observe_in_memory(OP, started);
            return Ok(client);
        }
        self.observe(OP, async move {
            let generation = cache.generation();
            let Some(row) =
                B::select_a2a_client_by_key_hash(&self.pool, &secret::hex(&digest)).await?
            else {
                return Ok(None);
            };
            let entry = cache.fill_client(digest, generation, a2a_client_from_row(row));
            Ok(cache.use_client(&entry, clock::now()))
        })
        .await
    }

    /// Revokes the client for good: it stays listed (with `revoked_at` set to now and
    /// `is_active` false) but no longer authenticates, and cannot be activated again; issue
    /// a new client instead. Idempotent: revoking again keeps the first `revoked_at`.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::NotFound`] when there is no such client.
    pub async fn revoke_a2a_client(&self, id: A2AClientId) -> Result<()> {
        let _changing = self.credentials_changing();
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
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::NotFound`] when there is no such client; [`Error::Conflict`] when asked to
    /// activate a revoked client (nothing is changed).
    pub async fn set_a2a_client_active(&self, id: A2AClientId, active: bool) -> Result<()> {
        let _changing = self.credentials_changing();
        self.observe("set_a2a_client_active", async move {
            if B::set_a2a_client_active(&self.pool, id, active).await? == 0 {
                return Err(self.why_a2a_client_unchanged(id).await);
            }
            Ok(())
        })
        .await
    }
}

impl<B: Backend> Store<B> {
    /// Why a guarded update of client `id` changed nothing: the client is revoked and the
    /// update would have activated it (`Conflict`), or there is no such client (`NotFound`).
    async fn why_a2a_client_unchanged(&self, id: A2AClientId) -> Error {
        match B::select_a2a_client_by_id(&self.pool, id).await {
            Ok(Some(_)) => Error::Conflict {
                entity: "a2a client",
                constraint: "client is revoked: issue a new one".to_owned(),
            },
            Ok(None) => a2a_client_not_found(id),
            Err(error) => error.into(),
        }
    }
}

fn a2a_client_not_found(id: A2AClientId) -> Error {
    Error::NotFound {
        entity: "a2a client",
        id: id.to_string(),
    }
}

impl<B: Backend> Store<B> {
    /// Stores `client` as given. Returns `client.id`.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty or over-long name, hash or capability, a hash
    /// with whitespace or a control character, a negative rate limit, or a client both
    /// active and revoked; [`Error::Conflict`] when the key hash or id is taken.
    pub async fn create_a2a_client(&self, client: &A2AClient) -> Result<A2AClientId> {
        self.observe(
            "create_a2a_client",
            self.create_a2a_client_unobserved(client),
        )
        .await
    }

    /// [`Store::create_a2a_client`] without its own metrics and span, for store methods
    /// that register a client as part of their call.
    pub(super) async fn create_a2a_client_unobserved(
        &self,
        client: &A2AClient,
    ) -> Result<A2AClientId> {
        validate::name("name", &client.name)?;
        validate::key_hash("api_key_hash", &client.api_key_hash)?;
        validate::labels("capabilities", &client.capabilities)?;
        validate::non_negative_i64("rate_limit_per_day", client.rate_limit_per_day)?;
        validate::json("metadata", &client.metadata)?;
        validate::timestamp("created_at", client.created_at)?;
        validate::opt_timestamp("last_used", client.last_used)?;
        validate::opt_timestamp("revoked_at", client.revoked_at)?;
        if client.is_active && client.revoked_at.is_some() {
            return Err(Error::invalid(
                "is_active",
                "a revoked client cannot be active",
            ));
        }
        let row = A2AClientRow {
            id: client.id,
            name: client.name.clone(),
            api_key_hash: client.api_key_hash.clone(),
            capabilities: Json(client.capabilities.clone()),
            rate_limit_per_day: client.rate_limit_per_day,
            is_active: client.is_active,
            created_at: client.created_at.into(),
            last_used: client.last_used.map(Timestamp::from),
            metadata: Json(client.metadata.clone()),
            revoked_at: client.revoked_at.map(Timestamp::from),
        };
        B::insert_a2a_client(&self.pool, &row)
            .await
            .map_err(Error::on_write("a2a client", "a2a client"))?;
        Ok(client.id)
    }

    /// The client with this id, active or not.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn get_a2a_client(&self, id: A2AClientId) -> Result<Option<A2AClient>> {
        self.observe("get_a2a_client", async move {
            Ok(B::select_a2a_client_by_id(&self.pool, id)
                .await?
                .map(a2a_client_from_row))
        })
        .await
    }

    /// The client whose API key has this hash, active or not. `None`, without a query, for
    /// a hash the store would not accept (see [`Store::create_a2a_client`]).
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn get_system_user_by_api_key(&self, key_hash: &str) -> Result<Option<A2AClient>> {
        self.observe("get_system_user_by_api_key", async move {
            if validate::key_hash("api_key_hash", key_hash).is_err() {
                return Ok(None);
            }
            Ok(B::select_a2a_client_by_key_hash(&self.pool, key_hash)
                .await?
                .map(a2a_client_from_row))
        })
        .await
    }
}

pub(super) fn a2a_client_from_row(row: A2AClientRow) -> A2AClient {
    A2AClient {
        id: row.id,
        name: row.name,
        api_key_hash: row.api_key_hash,
        capabilities: row.capabilities.0,
        rate_limit_per_day: row.rate_limit_per_day,
        is_active: row.is_active,
        created_at: row.created_at.into(),
        last_used: row.last_used.map(Into::into),
        metadata: row.metadata.0,
        revoked_at: row.revoked_at.map(Into::into),
    }
}

impl<B: Backend> Store<B> {
    /// Changes the client's name, capabilities, daily rate limit or active flag (the fields
    /// of `update` that are `Some`) in one statement, and returns the client as stored
    /// after it. A revoked client can be edited, and deactivated again, but never
    /// reactivated.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty or over-long name or capability or a negative
    /// rate limit; [`Error::Conflict`] when asked to activate a revoked client;
    /// [`Error::NotFound`] when there is no such client. Nothing is changed on error.
    pub async fn update_a2a_client(
        &self,
        id: A2AClientId,
        update: &A2AClientUpdate,
    ) -> Result<A2AClient> {
        let _changing = self.credentials_changing();
        self.observe("update_a2a_client", async move {
            if let Some(name) = &update.name {
                validate::name("name", name)?;
            }
            if let Some(capabilities) = &update.capabilities {
                validate::labels("capabilities", capabilities)?;
            }
            if let Some(limit) = update.rate_limit_per_day {
                validate::non_negative_i64("rate_limit_per_day", limit)?;
            }
            let changes = A2AClientUpdateRow {
                name: update.name.clone(),
                capabilities: update.capabilities.clone().map(Json),
                rate_limit_per_day: update.rate_limit_per_day,
                is_active: update.is_active,
            };
            match B::update_a2a_client(&self.pool, id, &changes).await? {
                Some(row) => Ok(a2a_client_from_row(row)),
                None => Err(self.why_a2a_client_unchanged(id).await),
            }
        })
        .await
    }

    /// One page of the registered clients in id order: up to `limit` clients whose id
    /// comes after `after` (`None` for the first page; pass the last id of a page to get
    /// the next), only active or only inactive ones when `active` is given (revoked
    /// clients are inactive). Keyset pagination: a page never repeats or skips a client
    /// that exists throughout, however many are added or removed meanwhile. Reads the
    /// primary key, or the index on `(is_active, id)` when filtered. The first page starts
    /// after the nil UUID, so a client given the nil id is never listed.
    ///
    /// Reads from a healthy read replica when there is one (it may trail the primary by up
    /// to [`StoreConfig::read_max_lag`](crate::StoreConfig::read_max_lag)), else from the
    /// primary; a replica that fails the read is never the caller's error.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a `limit` outside 1..=1000; [`Error::Database`].
    pub async fn list_a2a_clients(
        &self,
        active: Option<bool>,
        after: Option<A2AClientId>,
        limit: u32,
    ) -> Result<Vec<A2AClient>> {
        self.observe("list_a2a_clients", async move {
            let limit = validate::page_limit(limit)?;
            let after = after.unwrap_or_else(|| A2AClientId::from(uuid::Uuid::nil()));
            let rows = self
                .read_tolerating_lag(|pool| async move {
                    match active {
                        None => B::page_a2a_clients(&pool, after, limit).await,
                        Some(active) => {
                            B::select_a2a_clients_page_by_active(&pool, active, after, limit).await
                        }
                    }
                })
                .await?;
            Ok(rows.into_iter().map(a2a_client_from_row).collect())
        })
        .await
    }
}
