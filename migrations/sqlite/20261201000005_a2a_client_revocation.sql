-- A2A clients can be revoked for good (Store::revoke_a2a_client): `revoked_at` is when.
-- A revoked client is inactive and cannot be activated again; `is_active` alone is the
-- reversible switch (Store::set_a2a_client_active). Existing clients are not revoked.
ALTER TABLE a2a_clients ADD COLUMN revoked_at INTEGER;
