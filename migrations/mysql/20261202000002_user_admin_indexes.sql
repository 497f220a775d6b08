-- Nothing to do on MySQL / MariaDB: the initial schema already has idx_users_tier and idx_oauth_tokens_expires.
DO 0;
