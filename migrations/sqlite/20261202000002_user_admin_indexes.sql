-- The seed's indexes for the user administration and the token refresh worker:
-- `idx_users_tier` serves Store::list_users filtered by tier (`idx_users_status`, from the
-- initial schema, serves it filtered by status, e.g. the pending-approval queue);
-- `idx_oauth_tokens_expires` serves Store::list_tokens_expiring_before (tokens expiring
-- before an instant, oldest first), which would otherwise scan and sort every token.
CREATE INDEX idx_users_tier ON users (tier);
CREATE INDEX idx_oauth_tokens_expires ON user_oauth_tokens (expires_at);
