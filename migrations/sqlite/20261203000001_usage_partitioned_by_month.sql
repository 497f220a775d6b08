-- PostgreSQL partitions api_key_usage and jwt_usage by month in this version. SQLite has
-- no table partitioning: its usage tables stay as they are and are pruned by DELETE.
SELECT 1;
