-- A durable counter of every change that can refuse, or alter, a credential a store holds
-- in its authentication cache (issue 13), as on the other backends: an API key's row
-- (every column but last_used and usage_count, which the write-behind flush updates), a key
-- deleted, a user's status changed or a user deleted, an A2A client's row (every column but
-- last_used) or a client deleted. Bumped by triggers, so every writer is covered. MySQL has
-- no LISTEN/NOTIFY: each store polls the counter (DATABASE_AUTH_POLL_MS), as on SQLite.
--
-- MySQL triggers fire per row and on every UPDATE (there is no UPDATE OF column list), so
-- the update triggers compare the watched columns with <=> (NULL-safe). Text and JSON
-- columns are compared as bytes (CAST(... AS BINARY), valid on MySQL 8 and MariaDB, where
-- the BINARY operator is deprecated on MySQL): their utf8mb4_bin collation is PAD SPACE,
-- under which 'key' <=> 'key ' is true, so a rename adding a trailing space would go
-- unseen. A user's keys deleted by ON DELETE CASCADE fire no trigger here, but the user's
-- own delete does. One row, id 1: a change while it is missing fails (SIGNAL) rather than
-- go unseen.
CREATE TABLE auth_changes (
    id      INT    NOT NULL,
    counter BIGINT NOT NULL,
    CONSTRAINT auth_changes_pkey PRIMARY KEY (id),
    CONSTRAINT auth_changes_id_check CHECK (id = 1)
) ENGINE = InnoDB;
INSERT INTO auth_changes (id, counter) VALUES (1, 0);

CREATE PROCEDURE auth_changed()
    SQL SECURITY DEFINER
BEGIN
    UPDATE auth_changes SET counter = counter + 1 WHERE id = 1;
    IF ROW_COUNT() = 0 THEN
        SIGNAL SQLSTATE '45000'
            SET MESSAGE_TEXT = 'auth_changes has no row 1: other stores would not see this change';
    END IF;
END;

CREATE TRIGGER auth_changes_api_keys_update AFTER UPDATE ON api_keys FOR EACH ROW
BEGIN
    IF NOT (CAST(OLD.id AS BINARY) <=> CAST(NEW.id AS BINARY)
            AND CAST(OLD.user_id AS BINARY) <=> CAST(NEW.user_id AS BINARY)
            AND CAST(OLD.name AS BINARY) <=> CAST(NEW.name AS BINARY)
            AND CAST(OLD.key_hash AS BINARY) <=> CAST(NEW.key_hash AS BINARY)
            AND CAST(OLD.key_prefix AS BINARY) <=> CAST(NEW.key_prefix AS BINARY)
            AND CAST(OLD.tier AS BINARY) <=> CAST(NEW.tier AS BINARY)
            AND CAST(OLD.scopes AS BINARY) <=> CAST(NEW.scopes AS BINARY)
            AND OLD.is_active <=> NEW.is_active
            AND OLD.rate_limit_override <=> NEW.rate_limit_override
            AND OLD.expires_at <=> NEW.expires_at
            AND OLD.created_at <=> NEW.created_at
            AND CAST(OLD.metadata AS BINARY) <=> CAST(NEW.metadata AS BINARY)) THEN
        CALL auth_changed();
    END IF;
END;

CREATE TRIGGER auth_changes_api_keys_delete AFTER DELETE ON api_keys FOR EACH ROW
    CALL auth_changed();

CREATE TRIGGER auth_changes_users_update AFTER UPDATE ON users FOR EACH ROW
BEGIN
    IF NOT (CAST(OLD.id AS BINARY) <=> CAST(NEW.id AS BINARY)
            AND CAST(OLD.status AS BINARY) <=> CAST(NEW.status AS BINARY)) THEN
        CALL auth_changed();
    END IF;
END;

CREATE TRIGGER auth_changes_users_delete AFTER DELETE ON users FOR EACH ROW
    CALL auth_changed();

CREATE TRIGGER auth_changes_a2a_clients_update AFTER UPDATE ON a2a_clients FOR EACH ROW
BEGIN
    IF NOT (CAST(OLD.id AS BINARY) <=> CAST(NEW.id AS BINARY)
            AND CAST(OLD.name AS BINARY) <=> CAST(NEW.name AS BINARY)
            AND CAST(OLD.api_key_hash AS BINARY) <=> CAST(NEW.api_key_hash AS BINARY)
            AND CAST(OLD.capabilities AS BINARY) <=> CAST(NEW.capabilities AS BINARY)
            AND OLD.rate_limit_per_day <=> NEW.rate_limit_per_day
            AND OLD.is_active <=> NEW.is_active
            AND OLD.created_at <=> NEW.created_at
            AND CAST(OLD.metadata AS BINARY) <=> CAST(NEW.metadata AS BINARY)
            AND OLD.revoked_at <=> NEW.revoked_at) THEN
        CALL auth_changed();
    END IF;
END;

CREATE TRIGGER auth_changes_a2a_clients_delete AFTER DELETE ON a2a_clients FOR EACH ROW
    CALL auth_changed();
