-- `activities.activity_type` is the seed's `type` (its queries read and write
-- `activities.type`). The Rust field stays `Activity::activity_type`, as in the seed; only
-- the column is renamed. SQLite rewrites the column's CHECK and index references itself.
-- Same change as the PostgreSQL migration.
ALTER TABLE activities RENAME COLUMN activity_type TO type;
