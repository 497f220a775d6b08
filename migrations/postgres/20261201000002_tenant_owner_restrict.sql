-- Deleting a user must never delete another user's data: `tenants.owner_user_id` cascaded,
-- so deleting a tenant's owner deleted the tenant and, through `activities.tenant_id`, every
-- other user's activities in it. The owner's deletion is now refused (NO ACTION: a foreign
-- key violation at the end of the statement, which rolls it back) until the tenant has
-- another owner (Store::update_tenant) or is deleted (Store::delete_tenant); the store
-- reports which tenant blocks it. Same constraint name. NO ACTION rather than RESTRICT
-- because SQLite reports a RESTRICT as a trigger error, not as a foreign key violation.
ALTER TABLE tenants DROP CONSTRAINT tenants_owner_user_id_fkey;
ALTER TABLE tenants ADD CONSTRAINT tenants_owner_user_id_fkey
    FOREIGN KEY (owner_user_id) REFERENCES users (id) ON DELETE NO ACTION;
