-- Row-level security on the tenant-scoped table: a session sees and writes only the rows of
-- the tenant named in the `pierre.tenant_id` setting, which the store sets (transaction-
-- local) around every activities statement. Without the setting no row is visible. Applies
-- to the table owner too (FORCE); superusers and roles with BYPASSRLS are not restricted,
-- so run the server as an ordinary role. Foreign-key cascades are not affected.
ALTER TABLE activities ENABLE ROW LEVEL SECURITY;
ALTER TABLE activities FORCE ROW LEVEL SECURITY;
CREATE POLICY activities_tenant_isolation ON activities
    USING (tenant_id = NULLIF(current_setting('pierre.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('pierre.tenant_id', true), '')::uuid);
