-- Usage rows are appended in bulk (the UsageRecorder writes 1000-row batches). A foreign key
-- checks every inserted row; the store's usage inserts now check the referenced API key or
-- user once per statement instead (inside the write transaction, so it cannot be deleted
-- before the rows commit), and rows whose key or user is gone are not inserted (the store
-- reports them). The tables are rebuilt without the foreign key (SQLite cannot drop one)
-- and these triggers take over ON DELETE CASCADE. Same change as the PostgreSQL migration.
CREATE TABLE api_key_usage_rebuilt (
    id                  INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    api_key_id          TEXT    NOT NULL,
    timestamp           INTEGER NOT NULL,
    endpoint            TEXT    NOT NULL,
    method              TEXT    NOT NULL,
    status_code         INTEGER NOT NULL CHECK (status_code BETWEEN 100 AND 599),
    response_time_ms    INTEGER CHECK (response_time_ms >= 0),
    request_size_bytes  INTEGER CHECK (request_size_bytes >= 0),
    response_size_bytes INTEGER CHECK (response_size_bytes >= 0),
    ip_address          TEXT,
    user_agent          TEXT,
    error_message       TEXT
);
INSERT INTO api_key_usage_rebuilt SELECT * FROM api_key_usage;
DROP TABLE api_key_usage;
ALTER TABLE api_key_usage_rebuilt RENAME TO api_key_usage;
CREATE INDEX idx_api_key_usage_api_key_id_timestamp ON api_key_usage (api_key_id, timestamp);

CREATE TABLE jwt_usage_rebuilt (
    id                  INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    user_id             TEXT    NOT NULL,
    timestamp           INTEGER NOT NULL,
    endpoint            TEXT    NOT NULL,
    method              TEXT    NOT NULL,
    status_code         INTEGER NOT NULL CHECK (status_code BETWEEN 100 AND 599),
    response_time_ms    INTEGER CHECK (response_time_ms >= 0),
    request_size_bytes  INTEGER CHECK (request_size_bytes >= 0),
    response_size_bytes INTEGER CHECK (response_size_bytes >= 0),
    ip_address          TEXT,
    user_agent          TEXT
);
INSERT INTO jwt_usage_rebuilt SELECT * FROM jwt_usage;
DROP TABLE jwt_usage;
ALTER TABLE jwt_usage_rebuilt RENAME TO jwt_usage;
CREATE INDEX idx_jwt_usage_user_id_timestamp ON jwt_usage (user_id, timestamp);

CREATE TRIGGER api_keys_delete_usage AFTER DELETE ON api_keys
BEGIN
    DELETE FROM api_key_usage WHERE api_key_id = OLD.id;
END;

CREATE TRIGGER users_delete_jwt_usage AFTER DELETE ON users
BEGIN
    DELETE FROM jwt_usage WHERE user_id = OLD.id;
END;
