-- Whole-database maintenance reads of `activities` as the ordinary owning role the README
-- recommends: `status` counts, `copy`, and `pierre-store backup` (pg_dump) must see every
-- tenant's rows, and under the FORCE'd policy of 20261129000002 that role saw none (pg_dump
-- refused to run: "query would be affected by row-level security policy").
--
-- This adds a second, SELECT-only policy. Permissive policies are OR'ed, so a row is
-- visible when it belongs to the tenant in `pierre.tenant_id` (as before) OR when the
-- setting `pierre.all_tenants` is 'on'. The store sets `pierre.all_tenants` only
-- transaction-locally (set_config(..., true)) in its whole-database reads (table counts);
-- the admin tool sets it for pg_dump's own session (PGOPTIONS-style `options` parameter,
-- with --enable-row-security, so pg_dump reads through the policies instead of refusing).
--
-- Why tenant isolation still holds for the server's normal calls: no tenant-scoped call
-- sets `pierre.all_tenants`, and the setting is transaction-local wherever the store sets
-- it, so it never lingers on a pooled connection; without it this policy admits nothing
-- and every read is limited to the `pierre.tenant_id` tenant exactly as before. Writes are
-- untouched: INSERT, UPDATE and DELETE are still checked against the tenant policy alone
-- (an UPDATE or DELETE must pass both the tenant policy and, for the rows it reads, the
-- SELECT policies), so even with the setting on a session can write only its tenant's
-- rows. As with `pierre.tenant_id`, the setting is a guard against the store's own
-- mistakes (a forgotten tenant filter), not against someone who can run arbitrary SQL as
-- the role: such a person could set either setting.
--
-- Restoring needs no setting: pg_dump emits the table's ENABLE ROW LEVEL SECURITY and its
-- policies after the data, so pg_restore --clean loads the rows into a table without
-- row-level security yet (COPY FROM is refused on a table with row-level security on).
CREATE POLICY activities_all_tenants_read ON activities
    FOR SELECT
    USING (current_setting('pierre.all_tenants', true) = 'on');
