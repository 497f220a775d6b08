-- SQLite has no row-level security: the PostgreSQL migration of this version adds functions
-- that read `activities` under its policy in one round trip. This migration keeps the two
-- version histories in step.
CREATE TABLE IF NOT EXISTS _pierre_noop_20261130000002 (x INTEGER);
DROP TABLE _pierre_noop_20261130000002;
