use crate::{
    Backend, DeletedTenant, Error, Result, Store, Tenant, TenantId, backend::rows::TenantRow,
    clock, validate,
};

use super::convert::stored_enum;

/// Longest domain name (RFC 1035).
const MAX_DOMAIN_LEN: usize = 253;

impl<B: Backend> Store<B> {
    /// Stores `tenant` as given. Returns `tenant.id`.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad name, slug or domain; [`Error::Conflict`] when the
    /// slug, domain or id is taken; [`Error::NotFound`] when the owner does not exist.
    pub async fn create_tenant(&self, tenant: &Tenant) -> Result<TenantId> {
        self.observe("create_tenant", async move {
            let row = tenant_row(tenant, tenant.updated_at)?;
            B::insert_tenant(&self.pool, &row)
                .await
                .map_err(Error::on_write("tenant", "owner user"))?;
            Ok(tenant.id)
        })
        .await
    }

    /// The tenant with this id, active or not.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::Database`]; [`Error::CorruptData`] for a row this build cannot read.
    pub async fn get_tenant(&self, id: TenantId) -> Result<Option<Tenant>> {
        self.observe("get_tenant", async move {
            B::select_tenant_by_id(&self.pool, id)
                .await?
                .map(tenant_from_row)
                .transpose()
        })
        .await
    }

    /// The tenant with this slug, active or not.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// As [`Store::get_tenant`].
    pub async fn get_tenant_by_slug(&self, slug: &str) -> Result<Option<Tenant>> {
        self.observe("get_tenant_by_slug", async move {
            B::select_tenant_by_slug(&self.pool, slug)
                .await?
                .map(tenant_from_row)
                .transpose()
        })
        .await
    }

    /// Writes name, slug, domain, plan, owner and `is_active` of the tenant with
    /// `tenant.id`, and sets its `updated_at` to now.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::NotFound`] when there is no such tenant (or no such owner);
    /// [`Error::Conflict`] when the new slug or domain is taken; [`Error::InvalidInput`] as
    /// for [`Store::create_tenant`].
    pub async fn update_tenant(&self, tenant: &Tenant) -> Result<()> {
        self.observe("update_tenant", async move {
            let row = tenant_row(tenant, clock::now())?;
            let changed = B::update_tenant(&self.pool, &row)
                .await
                .map_err(Error::on_write("tenant", "owner user"))?;
            if changed == 0 {
                return Err(Error::NotFound {
                    entity: "tenant",
                    id: tenant.id.to_string(),
                });
            }
            Ok(())
        })
        .await
    }

    /// Deletes the tenant and every activity in it, whoever's (soft-deleted ones too), in
    /// one transaction: all of it or nothing. Returns what was removed. The users, the
    /// owner included, are kept. This is how to free a user who owns tenants for
    /// [`Store::delete_user`]; the other is to give the tenant another owner with
    /// [`Store::update_tenant`].
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::NotFound`] when there is no such tenant (nothing is deleted);
    /// [`Error::Database`].
    pub async fn delete_tenant(&self, id: TenantId) -> Result<DeletedTenant> {
        let _changing = self.credentials_changing();
        self.observe("delete_tenant", async move {
            let mut tx = B::begin_write(&self.pool).await?;
            let Some(deleted) = B::delete_tenant(&mut tx, id).await? else {
                return Err(Error::NotFound {
                    entity: "tenant",
                    id: id.to_string(),
                });
            };
            tx.commit().await?;
            Ok(DeletedTenant {
                id,
                slug: deleted.slug,
                activities: deleted.activities,
            })
        })
        .await
    }
}

fn tenant_row(tenant: &Tenant, updated_at: time::OffsetDateTime) -> Result<TenantRow> {
    validate::name("name", &tenant.name)?;
    validate::slug(&tenant.slug)?;
    if let Some(domain) = &tenant.domain {
        validate::required("domain", domain, MAX_DOMAIN_LEN)?;
        if domain.chars().any(char::is_whitespace) {
            return Err(Error::invalid("domain", "contains whitespace"));
        }
    }
    validate::timestamp("created_at", tenant.created_at)?;
    validate::timestamp("updated_at", updated_at)?;
    Ok(TenantRow {
        id: tenant.id,
        name: tenant.name.clone(),
        slug: tenant.slug.clone(),
        domain: tenant.domain.clone(),
        plan: tenant.plan.as_str().to_owned(),
        owner_user_id: tenant.owner_user_id,
        is_active: tenant.is_active,
        created_at: tenant.created_at.into(),
        updated_at: updated_at.into(),
    })
}

fn tenant_from_row(row: TenantRow) -> Result<Tenant> {
    Ok(Tenant {
        id: row.id,
        name: row.name,
        slug: row.slug,
        domain: row.domain,
        plan: stored_enum("plan", &row.plan)?,
        owner_user_id: row.owner_user_id,
        is_active: row.is_active,
        created_at: row.created_at.into(),
        updated_at: row.updated_at.into(),
    })
}
