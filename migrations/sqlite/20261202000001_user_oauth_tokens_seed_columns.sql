-- `user_oauth_tokens` by the seed's column names: the row's own `id` (the primary key; a
-- hyphenated lower-case version 4 UUID, as every id on SQLite) and the encrypted columns
-- `access_token_encrypted` / `refresh_token_encrypted` (still BLOBs). `(user_id, provider)`
-- stays unique: it is what the store upserts on. Same change as the PostgreSQL migration.
--
-- The ciphertexts are moved unchanged. Their associated data names the token
-- ("access_token" / "refresh_token"), not the column, so every token still decrypts.
--
-- SQLite cannot add a PRIMARY KEY column: the table is rebuilt, and every existing row gets
-- a fresh random id. No table references `user_oauth_tokens`, so dropping the old table
-- cascades nowhere; it has no triggers or indexes besides its keys. Its foreign key to
-- `users` (ON DELETE CASCADE) and its CHECK are kept; each copied row is checked again.
CREATE TABLE user_oauth_tokens_rebuilt (
    id                      TEXT    NOT NULL PRIMARY KEY,
    user_id                 TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider                TEXT    NOT NULL CHECK (provider IN ('strava', 'fitbit', 'garmin')),
    access_token_encrypted  BLOB    NOT NULL,
    refresh_token_encrypted BLOB,
    expires_at              INTEGER,
    scope                   TEXT,
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL,
    CONSTRAINT user_oauth_tokens_user_id_provider_key UNIQUE (user_id, provider)
);
INSERT INTO user_oauth_tokens_rebuilt (id, user_id, provider, access_token_encrypted,
    refresh_token_encrypted, expires_at, scope, created_at, updated_at)
SELECT lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4'
        || substr(hex(randomblob(2)), 2) || '-'
        || substr('89ab', 1 + (random() & 3), 1) || substr(hex(randomblob(2)), 2) || '-'
        || hex(randomblob(6))),
    user_id, provider, access_token, refresh_token, expires_at, scope, created_at, updated_at
FROM user_oauth_tokens;
DROP TABLE user_oauth_tokens;
ALTER TABLE user_oauth_tokens_rebuilt RENAME TO user_oauth_tokens;
