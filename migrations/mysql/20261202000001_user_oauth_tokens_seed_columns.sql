-- Nothing to do on MySQL / MariaDB: the initial schema already has the seed's user_oauth_tokens columns (id, access_token_encrypted, refresh_token_encrypted).
DO 0;
