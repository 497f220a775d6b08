-- SQLite has no row-level security: the PostgreSQL migration of this version adds a policy
-- on `activities`. Here the store's tenant filter in every activities statement is the
-- whole protection. This migration keeps the two version histories in step.
CREATE TABLE IF NOT EXISTS _pierre_noop_20261129000002 (x INTEGER);
DROP TABLE _pierre_noop_20261129000002;
