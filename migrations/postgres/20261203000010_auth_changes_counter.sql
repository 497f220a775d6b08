-- A durable counter of every change that can refuse, or alter, a credential that a store
-- holds in its authentication cache (issue 13): an API key's row (every column but
-- last_used and usage_count, which the write-behind flush updates every second), a key
-- deleted, a user's status changed or a user deleted, an A2A client's row (every column
-- but last_used) or a client deleted. Bumped by triggers, so every writer is covered: the
-- store, the admin binary, raw SQL. The same trigger sends a notification on channel
-- pierre_auth_changes (delivered at commit); each store LISTENs and drops its cached
-- credentials on one, and re-reads the counter whenever its listening connection is
-- (re)established, since notifications sent while it was down are lost. One row, id 1.
-- TRUNCATE of these tables is signalled too (SQLite has no TRUNCATE: its DELETE fires the
-- delete triggers, which also turn off its truncate optimisation).
-- Row-level triggers: a bump per row changed, none for a statement that matched no row
-- (an update of an unknown id must not empty every store's cache); the notification's
-- payload is constant, so PostgreSQL delivers one per transaction however many rows.
CREATE TABLE auth_changes (
    id      INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    counter BIGINT  NOT NULL
);
INSERT INTO auth_changes (id, counter) VALUES (1, 0);

-- SECURITY DEFINER: the trigger bumps the counter with the rights of the function's owner
-- (the role that ran this migration), so a role that may write api_keys, users or
-- a2a_clients needs no privilege on auth_changes beyond SELECT (which its store's watcher
-- reads); without it, UPDATE ... RETURNING in the writer's name needed UPDATE and SELECT,
-- and a revocation by a role lacking either failed. The search path is pinned (below) to
-- pg_catalog, the schema this migration runs in, and pg_temp last, so no one can put an
-- object of the same name in its way.
CREATE FUNCTION auth_changed() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    UPDATE auth_changes SET counter = counter + 1 WHERE id = 1;
    -- Without its row no other store would see this change: fail it loudly instead.
    IF NOT FOUND THEN
        RAISE EXCEPTION 'auth_changes has no row 1: other stores would not see this change';
    END IF;
    PERFORM pg_notify('pierre_auth_changes', '');
    RETURN NULL;
END
$$;
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION auth_changed() SET search_path = pg_catalog, %I, pg_temp',
                   current_schema());
END
$$;

CREATE TRIGGER auth_changes_api_keys_update
AFTER UPDATE OF id, user_id, name, key_hash, key_prefix, tier, scopes, is_active,
    rate_limit_override, expires_at, created_at, metadata ON api_keys
FOR EACH ROW EXECUTE FUNCTION auth_changed();

CREATE TRIGGER auth_changes_api_keys_delete AFTER DELETE ON api_keys
FOR EACH ROW EXECUTE FUNCTION auth_changed();

CREATE TRIGGER auth_changes_users_update AFTER UPDATE OF id, status ON users
FOR EACH ROW EXECUTE FUNCTION auth_changed();

CREATE TRIGGER auth_changes_users_delete AFTER DELETE ON users
FOR EACH ROW EXECUTE FUNCTION auth_changed();

CREATE TRIGGER auth_changes_a2a_clients_update
AFTER UPDATE OF id, name, api_key_hash, capabilities, rate_limit_per_day, is_active,
    created_at, metadata, revoked_at ON a2a_clients
FOR EACH ROW EXECUTE FUNCTION auth_changed();

CREATE TRIGGER auth_changes_a2a_clients_delete AFTER DELETE ON a2a_clients
FOR EACH ROW EXECUTE FUNCTION auth_changed();

-- TRUNCATE fires no DELETE trigger: its own statement-level triggers (review of issue 13).
CREATE TRIGGER auth_changes_api_keys_truncate AFTER TRUNCATE ON api_keys
FOR EACH STATEMENT EXECUTE FUNCTION auth_changed();

CREATE TRIGGER auth_changes_users_truncate AFTER TRUNCATE ON users
FOR EACH STATEMENT EXECUTE FUNCTION auth_changed();

CREATE TRIGGER auth_changes_a2a_clients_truncate AFTER TRUNCATE ON a2a_clients
FOR EACH STATEMENT EXECUTE FUNCTION auth_changed();
