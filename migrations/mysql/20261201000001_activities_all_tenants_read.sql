-- Nothing to do on MySQL / MariaDB: no row-level security to read past (see 20261129000002).
DO 0;
