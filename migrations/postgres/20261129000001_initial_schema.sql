-- pierre-store schema, PostgreSQL dialect: the same tables, columns, nullability, CHECKs,
-- unique constraints, foreign keys and indexes as migrations/sqlite, in native types
-- (checked by tests/schema_parity.rs). Integers are BIGINT so both backends map to i64.

CREATE TABLE users (
    id                    UUID             NOT NULL PRIMARY KEY,
    email                 TEXT             NOT NULL,
    password_hash         TEXT             NOT NULL,
    firstname             TEXT,
    lastname              TEXT,
    status                TEXT             NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'active', 'suspended', 'deleted')),
    is_admin              BOOLEAN          NOT NULL DEFAULT FALSE,
    tier                  TEXT             NOT NULL DEFAULT 'free'
        CHECK (tier IN ('free', 'basic', 'professional', 'enterprise')),
    rate_limit_multiplier DOUBLE PRECISION NOT NULL DEFAULT 1.0 CHECK (rate_limit_multiplier >= 0),
    created_at            TIMESTAMPTZ      NOT NULL,
    updated_at            TIMESTAMPTZ      NOT NULL,
    last_active           TIMESTAMPTZ      NOT NULL,
    approved_at           TIMESTAMPTZ,
    approved_by           UUID             REFERENCES users (id) ON DELETE SET NULL,
    suspended_at          TIMESTAMPTZ,
    suspended_by          UUID             REFERENCES users (id) ON DELETE SET NULL,
    suspension_reason     TEXT,
    CONSTRAINT users_email_key UNIQUE (email)
);
CREATE INDEX idx_users_status ON users (status);

CREATE TABLE user_oauth_tokens (
    user_id       UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider      TEXT        NOT NULL CHECK (provider IN ('strava', 'fitbit', 'garmin')),
    access_token  BYTEA       NOT NULL,
    refresh_token BYTEA,
    expires_at    TIMESTAMPTZ,
    scope         TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, provider)
);

CREATE TABLE api_keys (
    id                  UUID        NOT NULL PRIMARY KEY,
    user_id             UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name                TEXT        NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    key_hash            TEXT        NOT NULL,
    key_prefix          TEXT        NOT NULL,
    tier                TEXT        NOT NULL DEFAULT 'trial'
        CHECK (tier IN ('trial', 'standard', 'premium', 'custom')),
    scopes              JSONB       NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(scopes) = 'array'),
    is_active           BOOLEAN     NOT NULL DEFAULT TRUE,
    last_used           TIMESTAMPTZ,
    usage_count         BIGINT      NOT NULL DEFAULT 0 CHECK (usage_count >= 0),
    rate_limit_override BIGINT      CHECK (rate_limit_override >= 0),
    expires_at          TIMESTAMPTZ,
    created_at          TIMESTAMPTZ NOT NULL,
    metadata            JSONB       NOT NULL DEFAULT '{}',
    CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash)
);
CREATE INDEX idx_api_keys_user_id ON api_keys (user_id);

CREATE TABLE tenants (
    id            UUID        NOT NULL PRIMARY KEY,
    name          TEXT        NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    slug          TEXT        NOT NULL CHECK (length(slug) BETWEEN 1 AND 63),
    domain        TEXT,
    plan          TEXT        NOT NULL DEFAULT 'starter'
        CHECK (plan IN ('starter', 'professional', 'enterprise')),
    owner_user_id UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    is_active     BOOLEAN     NOT NULL DEFAULT TRUE,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    CONSTRAINT tenants_slug_key UNIQUE (slug),
    CONSTRAINT tenants_domain_key UNIQUE (domain)
);
CREATE INDEX idx_tenants_owner_user_id ON tenants (owner_user_id);

CREATE TABLE a2a_clients (
    id                 UUID        NOT NULL PRIMARY KEY,
    name               TEXT        NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    api_key_hash       TEXT        NOT NULL,
    capabilities       JSONB       NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(capabilities) = 'array'),
    rate_limit_per_day BIGINT      NOT NULL DEFAULT 1000 CHECK (rate_limit_per_day >= 0),
    is_active          BOOLEAN     NOT NULL DEFAULT TRUE,
    created_at         TIMESTAMPTZ NOT NULL,
    last_used          TIMESTAMPTZ,
    metadata           JSONB       NOT NULL DEFAULT '{}',
    CONSTRAINT a2a_clients_api_key_hash_key UNIQUE (api_key_hash)
);

CREATE TABLE api_key_usage (
    id                  BIGINT      NOT NULL GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    api_key_id          UUID        NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    timestamp           TIMESTAMPTZ NOT NULL,
    endpoint            TEXT        NOT NULL,
    method              TEXT        NOT NULL,
    status_code         BIGINT      NOT NULL CHECK (status_code BETWEEN 100 AND 599),
    response_time_ms    BIGINT      CHECK (response_time_ms >= 0),
    request_size_bytes  BIGINT      CHECK (request_size_bytes >= 0),
    response_size_bytes BIGINT      CHECK (response_size_bytes >= 0),
    ip_address          TEXT,
    user_agent          TEXT,
    error_message       TEXT
);
CREATE INDEX idx_api_key_usage_api_key_id_timestamp ON api_key_usage (api_key_id, timestamp);

CREATE TABLE jwt_usage (
    id                  BIGINT      NOT NULL GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id             UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    timestamp           TIMESTAMPTZ NOT NULL,
    endpoint            TEXT        NOT NULL,
    method              TEXT        NOT NULL,
    status_code         BIGINT      NOT NULL CHECK (status_code BETWEEN 100 AND 599),
    response_time_ms    BIGINT      CHECK (response_time_ms >= 0),
    request_size_bytes  BIGINT      CHECK (request_size_bytes >= 0),
    response_size_bytes BIGINT      CHECK (response_size_bytes >= 0),
    ip_address          TEXT,
    user_agent          TEXT
);
CREATE INDEX idx_jwt_usage_user_id_timestamp ON jwt_usage (user_id, timestamp);

CREATE TABLE activities (
    id            UUID             NOT NULL PRIMARY KEY,
    tenant_id     UUID             NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id       UUID             NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT             NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    activity_type TEXT             NOT NULL CHECK (length(activity_type) BETWEEN 1 AND 255),
    distance      DOUBLE PRECISION NOT NULL CHECK (distance >= 0),
    duration      BIGINT           NOT NULL CHECK (duration >= 0),
    start_date    TIMESTAMPTZ      NOT NULL,
    created_at    TIMESTAMPTZ      NOT NULL,
    updated_at    TIMESTAMPTZ      NOT NULL,
    deleted_at    TIMESTAMPTZ
);
CREATE INDEX idx_activities_tenant_id_user_id_start_date
    ON activities (tenant_id, user_id, start_date);
