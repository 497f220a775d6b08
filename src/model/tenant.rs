//! Tenants: the organisations that activities are scoped to.

use time::OffsetDateTime;

use super::{TenantId, TenantPlan, UserId};
use crate::clock;

/// An organisation using the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tenant {
    /// The tenant's id.
    pub id: TenantId,
    /// Display name (1 to 255 characters).
    pub name: String,
    /// URL-safe unique name: `[a-z0-9-]{1,63}`.
    pub slug: String,
    /// Custom domain; unique when set.
    pub domain: Option<String>,
    /// Plan.
    pub plan: TenantPlan,
    /// The user who owns the tenant; deleting that user deletes the tenant.
    pub owner_user_id: UserId,
    /// Whether the tenant is enabled.
    pub is_active: bool,
    /// When the tenant was created.
    pub created_at: OffsetDateTime,
    /// When the tenant was last changed (set by `Store::update_tenant`).
    pub updated_at: OffsetDateTime,
}

impl Tenant {
    /// A new active starter-plan tenant with a fresh id, created now, and no domain.
    #[must_use]
    pub fn new(name: &str, slug: &str, owner_user_id: UserId) -> Self {
        let now = clock::now();
        Self {
            id: TenantId::new(),
            name: name.to_owned(),
            slug: slug.to_owned(),
            domain: None,
            plan: TenantPlan::Starter,
            owner_user_id,
            is_active: true,
            created_at: now,
            updated_at: now,
        }
    }
}

/// What [`Store::delete_tenant`](crate::Store::delete_tenant) removed: the tenant and every
/// one of its activities, whoever they belong to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeletedTenant {
    /// The deleted tenant's id.
    pub id: TenantId,
    /// Its slug (free for a new tenant from now on).
    pub slug: String,
    /// How many activities were deleted with it, soft-deleted ones included.
    pub activities: u64,
}
