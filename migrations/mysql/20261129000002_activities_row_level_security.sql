-- Nothing to do on MySQL / MariaDB: they have no row-level security. Tenants are kept apart by the store's statements, every one of which names the tenant (see the initial schema's header and README "MySQL / MariaDB").
DO 0;
