-- Nothing to do on MySQL / MariaDB: the initial schema already has a2a_clients.revoked_at.
DO 0;
