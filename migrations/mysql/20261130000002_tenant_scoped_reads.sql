-- Nothing to do on MySQL / MariaDB: the other backends' scoped_* read functions exist for PostgreSQL's row-level security, which this backend does not have.
DO 0;
