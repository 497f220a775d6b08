use sqlx::types::Json;

use crate::{
    A2AClient, A2AClientId, Backend, Error, Result, Store,
    backend::{codec::Timestamp, rows::A2AClientRow},
    validate,
};

impl<B: Backend> Store<B> {
    /// Stores `client` as given. Returns `client.id`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty or over-long name, hash or capability, a
    /// negative rate limit, or a client both active and revoked; [`Error::Conflict`] when
    /// the key hash or id is taken.
    pub async fn create_a2a_client(&self, client: &A2AClient) -> Result<A2AClientId> {
        self.observe("create_a2a_client", self.insert_a2a_client(client))
            .await
    }

    /// [`Store::create_a2a_client`] without its own metrics and span, for store methods
    /// that register a client as part of their call.
    pub(super) async fn insert_a2a_client(&self, client: &A2AClient) -> Result<A2AClientId> {
        validate::name("name", &client.name)?;
        validate::required("api_key_hash", &client.api_key_hash, validate::MAX_NAME_LEN)?;
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

    /// The client whose API key has this hash, active or not.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn get_system_user_by_api_key(&self, key_hash: &str) -> Result<Option<A2AClient>> {
        self.observe("get_system_user_by_api_key", async move {
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
