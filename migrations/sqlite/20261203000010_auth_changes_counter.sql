-- A durable counter of every change that can refuse, or alter, a credential that a store
-- holds in its authentication cache (issue 13): an API key's row (every column but
-- last_used and usage_count, which the write-behind flush updates every second), a key
-- deleted, a user's status changed or a user deleted, an A2A client's row (every column
-- but last_used) or a client deleted. Bumped by triggers, so every writer is covered: the
-- store, the admin binary, raw SQL. Each store polls it (DATABASE_AUTH_POLL_MS) and
-- drops its cached credentials when it moved. One row, id 1: a change while it is missing
-- fails (RAISE) rather than go unseen by the other stores.
CREATE TABLE auth_changes (
    id      INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    counter INTEGER NOT NULL
);
INSERT INTO auth_changes (id, counter) VALUES (1, 0);

CREATE TRIGGER auth_changes_api_keys_update
AFTER UPDATE OF id, user_id, name, key_hash, key_prefix, tier, scopes, is_active,
    rate_limit_override, expires_at, created_at, metadata ON api_keys
BEGIN
    SELECT RAISE(ABORT, 'auth_changes has no row 1: other stores would not see this change')
    WHERE NOT EXISTS (SELECT 1 FROM auth_changes WHERE id = 1);
    UPDATE auth_changes SET counter = counter + 1 WHERE id = 1;
END;

CREATE TRIGGER auth_changes_api_keys_delete AFTER DELETE ON api_keys
BEGIN
    SELECT RAISE(ABORT, 'auth_changes has no row 1: other stores would not see this change')
    WHERE NOT EXISTS (SELECT 1 FROM auth_changes WHERE id = 1);
    UPDATE auth_changes SET counter = counter + 1 WHERE id = 1;
END;

CREATE TRIGGER auth_changes_users_update AFTER UPDATE OF id, status ON users
BEGIN
    SELECT RAISE(ABORT, 'auth_changes has no row 1: other stores would not see this change')
    WHERE NOT EXISTS (SELECT 1 FROM auth_changes WHERE id = 1);
    UPDATE auth_changes SET counter = counter + 1 WHERE id = 1;
END;

CREATE TRIGGER auth_changes_users_delete AFTER DELETE ON users
BEGIN
    SELECT RAISE(ABORT, 'auth_changes has no row 1: other stores would not see this change')
    WHERE NOT EXISTS (SELECT 1 FROM auth_changes WHERE id = 1);
    UPDATE auth_changes SET counter = counter + 1 WHERE id = 1;
END;

CREATE TRIGGER auth_changes_a2a_clients_update
AFTER UPDATE OF id, name, api_key_hash, capabilities, rate_limit_per_day, is_active,
    created_at, metadata, revoked_at ON a2a_clients
BEGIN
    SELECT RAISE(ABORT, 'auth_changes has no row 1: other stores would not see this change')
    WHERE NOT EXISTS (SELECT 1 FROM auth_changes WHERE id = 1);
    UPDATE auth_changes SET counter = counter + 1 WHERE id = 1;
END;

CREATE TRIGGER auth_changes_a2a_clients_delete AFTER DELETE ON a2a_clients
BEGIN
    SELECT RAISE(ABORT, 'auth_changes has no row 1: other stores would not see this change')
    WHERE NOT EXISTS (SELECT 1 FROM auth_changes WHERE id = 1);
    UPDATE auth_changes SET counter = counter + 1 WHERE id = 1;
END;
