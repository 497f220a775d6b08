-- api_key_usage and jwt_usage become partitioned by month on `timestamp` (declarative
-- RANGE partitioning, bounds at 00:00 UTC on the first of each month), so that pruning old
-- usage drops whole partitions instead of deleting rows one by one, and a month's queries
-- touch only that month's partitions.
--
-- Each table is converted in place: the old table is renamed, the partitioned one created
-- with the same columns, CHECK constraints (same names), index and identity, partitions
-- created for every month that holds rows, the rows copied with their ids
-- (OVERRIDING SYSTEM VALUE), the identity carried on from where the old sequence stood, the
-- privileges granted on the old table and sequence granted again, and the old table
-- dropped. The primary key on id becomes a unique index on (id, timestamp),
-- <table>_id_timestamp_key: a partitioned table's unique indexes must include the
-- partition key, and a PRIMARY KEY constraint would break `pierre-store restore` (on
-- PostgreSQL 15, `pg_restore --clean` emits ALTER TABLE ONLY <partition> DROP CONSTRAINT
-- for each partition's inherited key, which fails: "cannot drop inherited constraint"),
-- while a partitioned index is dropped with its table. Ids still come from one identity,
-- never reused; NOT NULL as before. The triggers that delete the usage of deleted users and API keys
-- (20261130000001, 20261201000003) live on users and api_keys and name these tables: they
-- are unchanged. There is no DEFAULT partition: a row whose month has no partition is
-- refused (SQLSTATE 23514, "no partition of relation ... found for row"), never parked;
-- the store then creates that month's partition with create_usage_partitions and retries.

-- Creates, for each distinct month (UTC) of p_instants, that month's partition of both
-- usage tables unless it exists: api_key_usage_pYYYY_MM and jwt_usage_pYYYY_MM, FROM the
-- first of the month TO the first of the next, both at 00:00 UTC. Each partition's indexes
-- are named after the parent table's with the same suffix (idx_jwt_usage_user_id_timestamp
-- _pYYYY_MM, jwt_usage_id_timestamp_key_pYYYY_MM), so that query plans name the index
-- they use.
-- Each partition is made as a plain table (LIKE the parent) and then attached: ATTACH
-- PARTITION takes only a SHARE UPDATE EXCLUSIVE lock on the parent, which neither waits
-- for open readers nor holds up inserts into other months (CREATE TABLE ... PARTITION OF
-- takes ACCESS EXCLUSIVE: it queued behind any open reader of the table, with every insert
-- queued behind it, and could deadlock with a recorder batch writing both tables).
-- Runs with DateStyle ISO and TimeZone UTC whatever the session's, so that the bounds are
-- read the same everywhere.
-- Returns the number of partitions created. Safe to run concurrently: a partition created meanwhile by another
-- session is taken as it is. Runs with the caller's rights: the caller must own the usage
-- tables (the store's role, which applied the migrations, does).
CREATE FUNCTION create_usage_partitions(p_instants timestamptz[]) RETURNS integer
LANGUAGE plpgsql SET search_path FROM CURRENT SET datestyle = 'ISO, YMD' SET timezone = 'UTC'
AS $$
DECLARE
    v_month   timestamp;
    v_parent  text;
    v_name    text;
    v_index   regclass;
    v_like    text;
    v_created integer := 0;
BEGIN
    FOR v_month IN
        SELECT DISTINCT date_trunc('month', t AT TIME ZONE 'UTC')
        FROM unnest(p_instants) AS t WHERE t IS NOT NULL ORDER BY 1
    LOOP
        FOREACH v_parent IN ARRAY ARRAY['api_key_usage', 'jwt_usage'] LOOP
            v_name := v_parent || '_p' || to_char(v_month, 'YYYY_MM');
            CONTINUE WHEN to_regclass(quote_ident(v_name)) IS NOT NULL;
            BEGIN
                EXECUTE format(
                    'CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                    v_name, v_parent);
                EXECUTE format(
                    'ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                    v_parent, v_name,
                    to_char(v_month, 'YYYY-MM-DD') || ' 00:00:00+00',
                    to_char(v_month + interval '1 month', 'YYYY-MM-DD') || ' 00:00:00+00');
                FOR v_index, v_like IN
                    SELECT i.indexrelid::regclass, parent.relname
                    FROM pg_index i
                    JOIN pg_inherits h ON h.inhrelid = i.indexrelid
                    JOIN pg_class parent ON parent.oid = h.inhparent
                    WHERE i.indrelid = v_name::regclass
                LOOP
                    EXECUTE format('ALTER INDEX %s RENAME TO %I',
                        v_index, v_like || '_p' || to_char(v_month, 'YYYY_MM'));
                END LOOP;
                v_created := v_created + 1;
            EXCEPTION WHEN duplicate_table OR unique_violation THEN
                NULL; -- another session created it first (its name, or its row type's)
            END;
        END LOOP;
    END LOOP;
    RETURN v_created;
END
$$;

-- Drops the oldest partition of p_parent (api_key_usage or jwt_usage) whose whole range
-- lies before p_cutoff, and returns how many rows it held (counted before the drop, with
-- the partition locked against inserts, so that pruning reports the rows it removed);
-- NULL when there is none. Partitions reaching p_cutoff or later are left to a DELETE.
-- One partition per call: the ACCESS EXCLUSIVE lock that dropping a partition takes on
-- the parent is held only for that drop, and waits at most lock_timeout (1 s) for open
-- readers of the table, meanwhile holding up inserts, then fails with SQLSTATE 55P03.
-- Runs with DateStyle ISO and TimeZone UTC whatever the session's: the bounds are read
-- back from their text (pg_get_expr), whose form depends on both. Runs with the caller's
-- rights.
CREATE FUNCTION drop_oldest_usage_partition_before(p_parent text, p_cutoff timestamptz)
RETURNS bigint
LANGUAGE plpgsql SET search_path FROM CURRENT SET datestyle = 'ISO, YMD' SET timezone = 'UTC'
    SET lock_timeout = '1s'
AS $$
DECLARE
    v_partition regclass;
    v_rows      bigint;
BEGIN
    IF p_parent NOT IN ('api_key_usage', 'jwt_usage') THEN
        RAISE EXCEPTION 'drop_oldest_usage_partition_before: % is not a usage table', p_parent
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT p.partition INTO v_partition FROM (
        SELECT c.oid::regclass AS partition,
            substring(pg_get_expr(c.relpartbound, c.oid)
                      FROM 'TO \(''([^'']+)''\)')::timestamptz AS upper_bound
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = p_parent::regclass
    ) p
    WHERE p.upper_bound <= p_cutoff
    ORDER BY p.upper_bound
    LIMIT 1;
    IF v_partition IS NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE format('LOCK TABLE %s IN SHARE MODE', v_partition);
    EXECUTE format('SELECT COUNT(*) FROM %s', v_partition) INTO v_rows;
    EXECUTE format('DROP TABLE %s', v_partition);
    RETURN v_rows;
END
$$;

ALTER TABLE api_key_usage RENAME TO api_key_usage_unpartitioned;
ALTER INDEX idx_api_key_usage_api_key_id_timestamp
    RENAME TO idx_api_key_usage_unpartitioned_api_key_id_timestamp;
ALTER SEQUENCE api_key_usage_id_seq RENAME TO api_key_usage_unpartitioned_id_seq;

CREATE TABLE api_key_usage (
    id                  BIGINT      NOT NULL GENERATED ALWAYS AS IDENTITY,
    api_key_id          UUID        NOT NULL,
    timestamp           TIMESTAMPTZ NOT NULL,
    endpoint            TEXT        NOT NULL,
    method              TEXT        NOT NULL,
    status_code         BIGINT      NOT NULL
        CONSTRAINT api_key_usage_status_code_check CHECK (status_code BETWEEN 100 AND 599),
    response_time_ms    BIGINT
        CONSTRAINT api_key_usage_response_time_ms_check CHECK (response_time_ms >= 0),
    request_size_bytes  BIGINT
        CONSTRAINT api_key_usage_request_size_bytes_check CHECK (request_size_bytes >= 0),
    response_size_bytes BIGINT
        CONSTRAINT api_key_usage_response_size_bytes_check CHECK (response_size_bytes >= 0),
    ip_address          TEXT,
    user_agent          TEXT,
    error_message       TEXT
) PARTITION BY RANGE (timestamp);
CREATE UNIQUE INDEX api_key_usage_id_timestamp_key ON api_key_usage (id, timestamp);
CREATE INDEX idx_api_key_usage_api_key_id_timestamp ON api_key_usage (api_key_id, timestamp);

ALTER TABLE jwt_usage RENAME TO jwt_usage_unpartitioned;
ALTER INDEX idx_jwt_usage_user_id_timestamp
    RENAME TO idx_jwt_usage_unpartitioned_user_id_timestamp;
ALTER SEQUENCE jwt_usage_id_seq RENAME TO jwt_usage_unpartitioned_id_seq;

CREATE TABLE jwt_usage (
    id                  BIGINT      NOT NULL GENERATED ALWAYS AS IDENTITY,
    user_id             UUID        NOT NULL,
    timestamp           TIMESTAMPTZ NOT NULL,
    endpoint            TEXT        NOT NULL,
    method              TEXT        NOT NULL,
    status_code         BIGINT      NOT NULL
        CONSTRAINT jwt_usage_status_code_check CHECK (status_code BETWEEN 100 AND 599),
    response_time_ms    BIGINT
        CONSTRAINT jwt_usage_response_time_ms_check CHECK (response_time_ms >= 0),
    request_size_bytes  BIGINT
        CONSTRAINT jwt_usage_request_size_bytes_check CHECK (request_size_bytes >= 0),
    response_size_bytes BIGINT
        CONSTRAINT jwt_usage_response_size_bytes_check CHECK (response_size_bytes >= 0),
    ip_address          TEXT,
    user_agent          TEXT
) PARTITION BY RANGE (timestamp);
CREATE UNIQUE INDEX jwt_usage_id_timestamp_key ON jwt_usage (id, timestamp);
CREATE INDEX idx_jwt_usage_user_id_timestamp ON jwt_usage (user_id, timestamp);

-- The months that hold rows, and this month with the three after it (the store keeps
-- creating months ahead at every `migrate` and `maintain`).
-- One instant per month (an array of every distinct timestamp would pass PostgreSQL's 1 GB
-- allocation limit past ~67M rows).
SELECT create_usage_partitions(ARRAY(
    SELECT date_trunc('month', timestamp, 'UTC') FROM api_key_usage_unpartitioned
    UNION SELECT date_trunc('month', timestamp, 'UTC') FROM jwt_usage_unpartitioned
    UNION SELECT now() + make_interval(months => n) FROM generate_series(0, 3) AS n));

INSERT INTO api_key_usage OVERRIDING SYSTEM VALUE SELECT * FROM api_key_usage_unpartitioned;
INSERT INTO jwt_usage OVERRIDING SYSTEM VALUE SELECT * FROM jwt_usage_unpartitioned;

-- New ids carry on where the old identities stood (not after the highest surviving id:
-- ids of pruned rows are not handed out again).
SELECT setval(pg_get_serial_sequence('api_key_usage', 'id'), last_value, is_called)
FROM api_key_usage_unpartitioned_id_seq;
SELECT setval(pg_get_serial_sequence('jwt_usage', 'id'), last_value, is_called)
FROM jwt_usage_unpartitioned_id_seq;

-- Privileges granted on the old tables and their identity sequences (by an operator: the
-- migrations grant none) pass to the new ones. The owner's own are implicit.
DO $$
DECLARE
    g record;
BEGIN
    FOR g IN
        SELECT a.privilege_type, a.is_grantable, a.grantee, t.kind, t.new_name
        FROM (VALUES
            ('api_key_usage_unpartitioned', 'TABLE', 'api_key_usage'),
            ('jwt_usage_unpartitioned', 'TABLE', 'jwt_usage'),
            ('api_key_usage_unpartitioned_id_seq', 'SEQUENCE',
                pg_get_serial_sequence('api_key_usage', 'id')),
            ('jwt_usage_unpartitioned_id_seq', 'SEQUENCE',
                pg_get_serial_sequence('jwt_usage', 'id'))
        ) AS t(old_name, kind, new_name)
        JOIN pg_class c ON c.oid = t.old_name::regclass
        CROSS JOIN LATERAL aclexplode(c.relacl) AS a
        WHERE a.grantee <> c.relowner
    LOOP
        EXECUTE format('GRANT %s ON %s %s TO %s%s', g.privilege_type, g.kind,
            g.new_name::regclass,
            CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(g.grantee)) END,
            CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
END
$$;

DROP TABLE api_key_usage_unpartitioned;
DROP TABLE jwt_usage_unpartitioned;
