-- Nothing to do on MySQL / MariaDB: the initial schema already has idx_a2a_clients_is_active_id.
DO 0;
