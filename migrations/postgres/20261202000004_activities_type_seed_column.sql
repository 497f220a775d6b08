-- `activities.activity_type` is the seed's `type` (its queries read and write
-- `activities.type`). The Rust field stays `Activity::activity_type`, as in the seed; only
-- the column is renamed. The CHECK follows the column; the `scoped_*` functions of
-- 20261130000002 return `SETOF activities` / select `*`, so they follow it too. Same change
-- as the SQLite migration.
ALTER TABLE activities RENAME COLUMN activity_type TO type;
