-- Nothing to do on MySQL / MariaDB: only PostgreSQL's usage tables are partitioned by month (InnoDB partitioning forbids the foreign-key-free design's triggers nothing, but its partitions would need the timestamp in every unique key and manual maintenance; pruning here deletes in batches, as on SQLite).
DO 0;
