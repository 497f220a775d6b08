-- SQLite has no row-level security: the PostgreSQL migration of this version lets
-- whole-database maintenance reads (counts, copy, backups) see every tenant's activities
-- through the policy. Here they always could. This migration keeps the two version
-- histories in step.
CREATE TABLE IF NOT EXISTS _pierre_noop_20261201000001 (x INTEGER);
DROP TABLE _pierre_noop_20261201000001;
