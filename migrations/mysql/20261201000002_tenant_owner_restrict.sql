-- Nothing to do on MySQL / MariaDB: the initial schema already refuses to delete a user who owns a tenant (tenants_owner_user_id_fkey has no ON DELETE action).
DO 0;
