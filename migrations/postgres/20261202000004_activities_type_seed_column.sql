-- `activities.activity_type` is the seed's `type` (its queries read and write
-- `activities.type`). The Rust field stays `Activity::activity_type`, as in the seed; only
-- the column is renamed. The CHECK follows the column (and takes the name a fresh table
-- would give it); the `scoped_*` functions of 20261130000002 return `SETOF activities` /
-- select `*`, so they follow it too. Same change as the SQLite migration.
ALTER TABLE activities RENAME COLUMN activity_type TO type;
ALTER TABLE activities RENAME CONSTRAINT activities_activity_type_check TO activities_type_check;
