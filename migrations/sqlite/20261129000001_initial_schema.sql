-- pierre-store schema, SQLite dialect.
-- Conventions (shared with migrations/postgres, checked by tests/schema_parity.rs):
--   ids        TEXT, hyphenated lower-case UUID
--   timestamps INTEGER, microseconds since the Unix epoch (UTC); sorts and compares exactly
--   booleans   INTEGER 0/1
--   JSON       TEXT holding valid JSON
--   secrets    BLOB (encrypted by the store; never plaintext)

CREATE TABLE users (
    id                    TEXT    NOT NULL PRIMARY KEY,
    email                 TEXT    NOT NULL,
    password_hash         TEXT    NOT NULL,
    firstname             TEXT,
    lastname              TEXT,
    status                TEXT    NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'active', 'suspended', 'deleted')),
    is_admin              BOOLEAN NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
    tier                  TEXT    NOT NULL DEFAULT 'free'
        CHECK (tier IN ('free', 'basic', 'professional', 'enterprise')),
    rate_limit_multiplier REAL    NOT NULL DEFAULT 1.0 CHECK (rate_limit_multiplier >= 0),
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    last_active           INTEGER NOT NULL,
    approved_at           INTEGER,
    approved_by           TEXT    REFERENCES users (id) ON DELETE SET NULL,
    suspended_at          INTEGER,
    suspended_by          TEXT    REFERENCES users (id) ON DELETE SET NULL,
    suspension_reason     TEXT,
    CONSTRAINT users_email_key UNIQUE (email)
);
CREATE INDEX idx_users_status ON users (status);

CREATE TABLE user_oauth_tokens (
    user_id       TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider      TEXT    NOT NULL CHECK (provider IN ('strava', 'fitbit', 'garmin')),
    access_token  BLOB    NOT NULL,
    refresh_token BLOB,
    expires_at    INTEGER,
    scope         TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (user_id, provider)
);

CREATE TABLE api_keys (
    id                  TEXT    NOT NULL PRIMARY KEY,
    user_id             TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name                TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    key_hash            TEXT    NOT NULL,
    key_prefix          TEXT    NOT NULL,
    tier                TEXT    NOT NULL DEFAULT 'trial'
        CHECK (tier IN ('trial', 'standard', 'premium', 'custom')),
    scopes              TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(scopes)),
    is_active           BOOLEAN NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    last_used           INTEGER,
    usage_count         INTEGER NOT NULL DEFAULT 0 CHECK (usage_count >= 0),
    rate_limit_override INTEGER CHECK (rate_limit_override >= 0),
    expires_at          INTEGER,
    created_at          INTEGER NOT NULL,
    metadata            TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
    CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash)
);
CREATE INDEX idx_api_keys_user_id ON api_keys (user_id);

CREATE TABLE tenants (
    id            TEXT    NOT NULL PRIMARY KEY,
    name          TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    slug          TEXT    NOT NULL CHECK (length(slug) BETWEEN 1 AND 63),
    domain        TEXT,
    plan          TEXT    NOT NULL DEFAULT 'starter'
        CHECK (plan IN ('starter', 'professional', 'enterprise')),
    owner_user_id TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    is_active     BOOLEAN NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    CONSTRAINT tenants_slug_key UNIQUE (slug),
    CONSTRAINT tenants_domain_key UNIQUE (domain)
);
CREATE INDEX idx_tenants_owner_user_id ON tenants (owner_user_id);

CREATE TABLE a2a_clients (
    id                 TEXT    NOT NULL PRIMARY KEY,
    name               TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    api_key_hash       TEXT    NOT NULL,
    capabilities       TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(capabilities)),
    rate_limit_per_day INTEGER NOT NULL DEFAULT 1000 CHECK (rate_limit_per_day >= 0),
    is_active          BOOLEAN NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    created_at         INTEGER NOT NULL,
    last_used          INTEGER,
    metadata           TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
    CONSTRAINT a2a_clients_api_key_hash_key UNIQUE (api_key_hash)
);

CREATE TABLE api_key_usage (
    id                  INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    api_key_id          TEXT    NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
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
CREATE INDEX idx_api_key_usage_api_key_id_timestamp ON api_key_usage (api_key_id, timestamp);

CREATE TABLE jwt_usage (
    id                  INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    user_id             TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
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
CREATE INDEX idx_jwt_usage_user_id_timestamp ON jwt_usage (user_id, timestamp);

CREATE TABLE activities (
    id            TEXT    NOT NULL PRIMARY KEY,
    tenant_id     TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id       TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    activity_type TEXT    NOT NULL CHECK (length(activity_type) BETWEEN 1 AND 255),
    distance      REAL    NOT NULL CHECK (distance >= 0),
    duration      INTEGER NOT NULL CHECK (duration >= 0),
    start_date    INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    deleted_at    INTEGER
);
CREATE INDEX idx_activities_tenant_id_user_id_start_date
    ON activities (tenant_id, user_id, start_date);
