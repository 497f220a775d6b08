-- Nothing to do on MySQL / MariaDB: this backend's usage triggers (20261130000001) run per row, in the deleting statement, at any isolation level.
DO 0;
