-- `user_oauth_tokens` by the seed's column names: the row's own `id` (the primary key, a
-- UUID as every id on PostgreSQL) and the encrypted columns `access_token_encrypted` /
-- `refresh_token_encrypted` (still BYTEA). `(user_id, provider)` stays unique: it is what
-- the store upserts on. Same change as the SQLite migration.
--
-- The ciphertexts are not touched. Their associated data names the token ("access_token" /
-- "refresh_token"), not the column, so every token still decrypts.
--
-- Every existing row gets a fresh random id (the volatile default is evaluated per row);
-- the store always supplies the id afterwards, so the default is dropped, as on SQLite.
ALTER TABLE user_oauth_tokens RENAME COLUMN access_token TO access_token_encrypted;
ALTER TABLE user_oauth_tokens RENAME COLUMN refresh_token TO refresh_token_encrypted;
ALTER TABLE user_oauth_tokens ADD COLUMN id UUID NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE user_oauth_tokens ALTER COLUMN id DROP DEFAULT;
ALTER TABLE user_oauth_tokens DROP CONSTRAINT user_oauth_tokens_pkey;
ALTER TABLE user_oauth_tokens ADD CONSTRAINT user_oauth_tokens_pkey PRIMARY KEY (id);
ALTER TABLE user_oauth_tokens
    ADD CONSTRAINT user_oauth_tokens_user_id_provider_key UNIQUE (user_id, provider);
