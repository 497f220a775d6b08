-- PostgreSQL only: its usage triggers now refuse to run above READ COMMITTED (see the
-- PostgreSQL migration of this version). SQLite transactions are serializable by taking the
-- one write lock, so its triggers always see every committed usage row. This migration
-- keeps the two version histories in step.
CREATE TABLE IF NOT EXISTS _pierre_noop_20261201000003 (x INTEGER);
DROP TABLE _pierre_noop_20261201000003;
