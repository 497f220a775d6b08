-- Deleting a user must never delete another user's data: `tenants.owner_user_id` cascaded,
-- so deleting a tenant's owner deleted the tenant and, through `activities.tenant_id`, every
-- other user's activities in it. The owner's deletion is now refused (NO ACTION), as on
-- PostgreSQL (see its migration of this version).
--
-- SQLite cannot alter a foreign key: `tenants` is rebuilt. With foreign keys on (sqlx's
-- default; inside the migration's transaction PRAGMA foreign_keys cannot be changed), DROP
-- TABLE tenants would first delete every tenant and so cascade into `activities`. So
-- `activities` is set aside first (copied, dropped), `tenants` is rebuilt, and `activities`
-- is rebuilt exactly as it was, referencing the new `tenants`. All of it runs in the
-- migration's one transaction with every foreign key enforced: each copied row is checked
-- again, and a failure leaves the database as it was.
CREATE TABLE activities_kept AS SELECT * FROM activities;
DROP TABLE activities;

CREATE TABLE tenants_rebuilt (
    id            TEXT    NOT NULL PRIMARY KEY,
    name          TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    slug          TEXT    NOT NULL CHECK (length(slug) BETWEEN 1 AND 63),
    domain        TEXT,
    plan          TEXT    NOT NULL DEFAULT 'starter'
        CHECK (plan IN ('starter', 'professional', 'enterprise')),
    owner_user_id TEXT    NOT NULL REFERENCES users (id) ON DELETE NO ACTION,
    is_active     BOOLEAN NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    CONSTRAINT tenants_slug_key UNIQUE (slug),
    CONSTRAINT tenants_domain_key UNIQUE (domain)
);
INSERT INTO tenants_rebuilt SELECT * FROM tenants;
DROP TABLE tenants;
ALTER TABLE tenants_rebuilt RENAME TO tenants;
CREATE INDEX idx_tenants_owner_user_id ON tenants (owner_user_id);

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
INSERT INTO activities SELECT * FROM activities_kept;
DROP TABLE activities_kept;
CREATE INDEX idx_activities_tenant_id_user_id_start_date
    ON activities (tenant_id, user_id, start_date);
