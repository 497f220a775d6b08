-- pierre-store schema, MySQL / MariaDB dialect (MariaDB 10.11, MySQL 8.0.16+).
--
-- The MySQL backend arrived after the other two had migrated through every version below,
-- so this first file creates the schema they reached; the later versions only add what
-- has no place here (the usage triggers, the auth_changes counter) or do nothing. The
-- versions are the same in migrations/sqlite/, migrations/postgres/ and here; the catalogs
-- are compared by tests/schema_parity.rs.
--
-- Conventions:
--   ids        CHAR(36) CHARACTER SET ascii, the hyphenated lower-case UUID, as on SQLite.
--              Measured against BINARY(16) (benches/mysql_choices.rs, MariaDB 10.11,
--              20k rows, Unix socket, one run on a loaded 2-core machine): point lookups
--              15.2k/s against 19.2k/s (p50 0.035 against 0.033 ms) and 2.6 MB against
--              1.6 MB of table and index. Chosen anyway: a `mariadb` client shows the id
--              the API returns (BINARY(16) shows 16 raw bytes and needs HEX() to read or
--              type one), it works the same on MySQL 8 (which has no UUID type; MariaDB's
--              UUID type also does not decode as sqlx's Uuid), and its text order is the
--              byte order PostgreSQL's uuid sorts by, so pages in id order agree across
--              backends. A lookup's cost is dominated by the round trip, not the key.
--   timestamps DATETIME(6), UTC by convention (the store writes and reads UTC; the column
--              has no zone, so the session's time_zone never shifts it), microseconds.
--   booleans   BOOLEAN (TINYINT(1)) holding 0/1.
--   JSON       JSON (on MariaDB an alias of LONGTEXT with a json_valid check), with an
--              explicit JSON_TYPE check where the store needs an array or an object.
--   secrets    BLOB types (encrypted by the store; never plaintext).
--   text       utf8mb4 with the binary collation: comparisons and ORDER BY are by bytes,
--              as on SQLite and PostgreSQL (C collation), and case matters the same way,
--              except that a comparison ignores trailing spaces (utf8mb4_bin is PAD SPACE;
--              MySQL 8's NO PAD utf8mb4_0900_bin does not exist on MariaDB): statements
--              that must tell 'a' from 'a ' compare CAST(... AS BINARY).
--
-- Tenant isolation: MariaDB and MySQL have no row-level security. Every statement the
-- store runs on `activities` names the tenant in its WHERE clause (src/backend/mysql/
-- activities.rs); tests/tenants.rs's randomized cross-tenant test runs on this backend too.

CREATE TABLE users (
    id                    CHAR(36) CHARACTER SET ascii NOT NULL,
    email                 VARCHAR(254) NOT NULL,
    password_hash         TEXT         NOT NULL,
    firstname             TEXT,
    lastname              TEXT,
    status                VARCHAR(16)  NOT NULL DEFAULT 'pending',
    is_admin              BOOLEAN      NOT NULL DEFAULT FALSE,
    tier                  VARCHAR(16)  NOT NULL DEFAULT 'free',
    rate_limit_multiplier DOUBLE       NOT NULL DEFAULT 1.0,
    created_at            DATETIME(6)  NOT NULL,
    updated_at            DATETIME(6)  NOT NULL,
    last_active           DATETIME(6)  NOT NULL,
    approved_at           DATETIME(6),
    approved_by           CHAR(36) CHARACTER SET ascii,
    suspended_at          DATETIME(6),
    suspended_by          CHAR(36) CHARACTER SET ascii,
    suspension_reason     TEXT,
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_status_check CHECK (status IN ('pending', 'active', 'suspended', 'deleted')),
    CONSTRAINT users_is_admin_check CHECK (is_admin IN (0, 1)),
    CONSTRAINT users_tier_check CHECK (tier IN ('free', 'basic', 'professional', 'enterprise')),
    CONSTRAINT users_rate_limit_multiplier_check CHECK (rate_limit_multiplier >= 0),
    CONSTRAINT users_approved_by_fkey FOREIGN KEY (approved_by) REFERENCES users (id) ON DELETE SET NULL,
    CONSTRAINT users_suspended_by_fkey FOREIGN KEY (suspended_by) REFERENCES users (id) ON DELETE SET NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE INDEX idx_users_status ON users (status);
CREATE INDEX idx_users_tier ON users (tier);

CREATE TABLE user_oauth_tokens (
    id                      CHAR(36) CHARACTER SET ascii NOT NULL,
    user_id                 CHAR(36) CHARACTER SET ascii NOT NULL,
    provider                VARCHAR(16) NOT NULL,
    access_token_encrypted  MEDIUMBLOB  NOT NULL,
    refresh_token_encrypted MEDIUMBLOB,
    expires_at              DATETIME(6),
    scope                   TEXT,
    created_at              DATETIME(6) NOT NULL,
    updated_at              DATETIME(6) NOT NULL,
    CONSTRAINT user_oauth_tokens_pkey PRIMARY KEY (id),
    CONSTRAINT user_oauth_tokens_user_id_provider_key UNIQUE (user_id, provider),
    CONSTRAINT user_oauth_tokens_provider_check CHECK (provider IN ('strava', 'fitbit', 'garmin')),
    CONSTRAINT user_oauth_tokens_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE INDEX idx_oauth_tokens_expires ON user_oauth_tokens (expires_at);

CREATE TABLE api_keys (
    id                  CHAR(36) CHARACTER SET ascii NOT NULL,
    user_id             CHAR(36) CHARACTER SET ascii NOT NULL,
    name                VARCHAR(255) NOT NULL,
    key_hash            VARCHAR(255) NOT NULL,
    key_prefix          VARCHAR(255) NOT NULL,
    tier                VARCHAR(16)  NOT NULL DEFAULT 'trial',
    scopes              JSON         NOT NULL DEFAULT ('[]'),
    is_active           BOOLEAN      NOT NULL DEFAULT TRUE,
    last_used           DATETIME(6),
    usage_count         BIGINT       NOT NULL DEFAULT 0,
    rate_limit_override BIGINT,
    expires_at          DATETIME(6),
    created_at          DATETIME(6)  NOT NULL,
    metadata            JSON         NOT NULL DEFAULT ('{}'),
    CONSTRAINT api_keys_pkey PRIMARY KEY (id),
    CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash),
    CONSTRAINT api_keys_name_check CHECK (CHAR_LENGTH(name) BETWEEN 1 AND 255),
    CONSTRAINT api_keys_tier_check CHECK (tier IN ('trial', 'standard', 'premium', 'custom')),
    CONSTRAINT api_keys_scopes_check CHECK (JSON_TYPE(scopes) = 'ARRAY'),
    CONSTRAINT api_keys_metadata_check CHECK (JSON_VALID(metadata)),
    CONSTRAINT api_keys_is_active_check CHECK (is_active IN (0, 1)),
    CONSTRAINT api_keys_usage_count_check CHECK (usage_count >= 0),
    CONSTRAINT api_keys_rate_limit_override_check CHECK (rate_limit_override >= 0),
    CONSTRAINT api_keys_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE INDEX idx_api_keys_user_id ON api_keys (user_id);

CREATE TABLE tenants (
    id            CHAR(36) CHARACTER SET ascii NOT NULL,
    name          VARCHAR(255) NOT NULL,
    slug          VARCHAR(63)  NOT NULL,
    domain        VARCHAR(255),
    plan          VARCHAR(16)  NOT NULL DEFAULT 'starter',
    owner_user_id CHAR(36) CHARACTER SET ascii NOT NULL,
    is_active     BOOLEAN      NOT NULL DEFAULT TRUE,
    created_at    DATETIME(6)  NOT NULL,
    updated_at    DATETIME(6)  NOT NULL,
    CONSTRAINT tenants_pkey PRIMARY KEY (id),
    CONSTRAINT tenants_slug_key UNIQUE (slug),
    CONSTRAINT tenants_domain_key UNIQUE (domain),
    CONSTRAINT tenants_name_check CHECK (CHAR_LENGTH(name) BETWEEN 1 AND 255),
    CONSTRAINT tenants_slug_check CHECK (CHAR_LENGTH(slug) BETWEEN 1 AND 63),
    CONSTRAINT tenants_plan_check CHECK (plan IN ('starter', 'professional', 'enterprise')),
    CONSTRAINT tenants_is_active_check CHECK (is_active IN (0, 1)),
    -- A user who owns a tenant cannot be deleted (migration 20261201000002 of the others).
    -- NO ACTION written out: InnoDB treats it as RESTRICT either way, but MariaDB's catalog
    -- reports an unwritten action as RESTRICT (MySQL 8's as NO ACTION), and
    -- tests/schema_parity.rs compares it with the other backends' NO ACTION.
    CONSTRAINT tenants_owner_user_id_fkey FOREIGN KEY (owner_user_id) REFERENCES users (id)
        ON DELETE NO ACTION
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE INDEX idx_tenants_owner_user_id ON tenants (owner_user_id);

CREATE TABLE a2a_clients (
    id                 CHAR(36) CHARACTER SET ascii NOT NULL,
    name               VARCHAR(255) NOT NULL,
    api_key_hash       VARCHAR(255) NOT NULL,
    capabilities       JSON         NOT NULL DEFAULT ('[]'),
    rate_limit_per_day BIGINT       NOT NULL DEFAULT 1000,
    is_active          BOOLEAN      NOT NULL DEFAULT TRUE,
    created_at         DATETIME(6)  NOT NULL,
    last_used          DATETIME(6),
    metadata           JSON         NOT NULL DEFAULT ('{}'),
    revoked_at         DATETIME(6),
    CONSTRAINT a2a_clients_pkey PRIMARY KEY (id),
    CONSTRAINT a2a_clients_api_key_hash_key UNIQUE (api_key_hash),
    CONSTRAINT a2a_clients_name_check CHECK (CHAR_LENGTH(name) BETWEEN 1 AND 255),
    CONSTRAINT a2a_clients_capabilities_check CHECK (JSON_TYPE(capabilities) = 'ARRAY'),
    CONSTRAINT a2a_clients_metadata_check CHECK (JSON_VALID(metadata)),
    CONSTRAINT a2a_clients_rate_limit_per_day_check CHECK (rate_limit_per_day >= 0),
    CONSTRAINT a2a_clients_is_active_check CHECK (is_active IN (0, 1))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE INDEX idx_a2a_clients_is_active_id ON a2a_clients (is_active, id);

-- The usage tables have no foreign keys (as on the other backends since migration
-- 20261130000001): the store's inserts check the API key or user once per statement, and
-- the triggers of that migration delete the usage of deleted keys and users.
CREATE TABLE api_key_usage (
    id                  BIGINT      NOT NULL AUTO_INCREMENT,
    api_key_id          CHAR(36) CHARACTER SET ascii NOT NULL,
    `timestamp`         DATETIME(6) NOT NULL,
    endpoint            TEXT        NOT NULL,
    method              TEXT        NOT NULL,
    status_code         BIGINT      NOT NULL,
    response_time_ms    BIGINT,
    request_size_bytes  BIGINT,
    response_size_bytes BIGINT,
    ip_address          TEXT,
    user_agent          TEXT,
    error_message       TEXT,
    CONSTRAINT api_key_usage_pkey PRIMARY KEY (id),
    CONSTRAINT api_key_usage_status_code_check CHECK (status_code BETWEEN 100 AND 599),
    CONSTRAINT api_key_usage_response_time_ms_check CHECK (response_time_ms >= 0),
    CONSTRAINT api_key_usage_request_size_bytes_check CHECK (request_size_bytes >= 0),
    CONSTRAINT api_key_usage_response_size_bytes_check CHECK (response_size_bytes >= 0)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE INDEX idx_api_key_usage_api_key_id_timestamp ON api_key_usage (api_key_id, `timestamp`);

CREATE TABLE jwt_usage (
    id                  BIGINT      NOT NULL AUTO_INCREMENT,
    user_id             CHAR(36) CHARACTER SET ascii NOT NULL,
    `timestamp`         DATETIME(6) NOT NULL,
    endpoint            TEXT        NOT NULL,
    method              TEXT        NOT NULL,
    status_code         BIGINT      NOT NULL,
    response_time_ms    BIGINT,
    request_size_bytes  BIGINT,
    response_size_bytes BIGINT,
    ip_address          TEXT,
    user_agent          TEXT,
    CONSTRAINT jwt_usage_pkey PRIMARY KEY (id),
    CONSTRAINT jwt_usage_status_code_check CHECK (status_code BETWEEN 100 AND 599),
    CONSTRAINT jwt_usage_response_time_ms_check CHECK (response_time_ms >= 0),
    CONSTRAINT jwt_usage_request_size_bytes_check CHECK (request_size_bytes >= 0),
    CONSTRAINT jwt_usage_response_size_bytes_check CHECK (response_size_bytes >= 0)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE INDEX idx_jwt_usage_user_id_timestamp ON jwt_usage (user_id, `timestamp`);

CREATE TABLE activities (
    id         CHAR(36) CHARACTER SET ascii NOT NULL,
    tenant_id  CHAR(36) CHARACTER SET ascii NOT NULL,
    user_id    CHAR(36) CHARACTER SET ascii NOT NULL,
    name       VARCHAR(255) NOT NULL,
    type       VARCHAR(255) NOT NULL,
    distance   DOUBLE       NOT NULL,
    duration   BIGINT       NOT NULL,
    start_date DATETIME(6)  NOT NULL,
    created_at DATETIME(6)  NOT NULL,
    updated_at DATETIME(6)  NOT NULL,
    deleted_at DATETIME(6),
    CONSTRAINT activities_pkey PRIMARY KEY (id),
    CONSTRAINT activities_name_check CHECK (CHAR_LENGTH(name) BETWEEN 1 AND 255),
    CONSTRAINT activities_type_check CHECK (CHAR_LENGTH(type) BETWEEN 1 AND 255),
    CONSTRAINT activities_distance_check CHECK (distance >= 0),
    CONSTRAINT activities_duration_check CHECK (duration >= 0),
    CONSTRAINT activities_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT activities_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE INDEX idx_activities_tenant_id_user_id_start_date
    ON activities (tenant_id, user_id, start_date);
