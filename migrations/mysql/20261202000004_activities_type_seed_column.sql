-- Nothing to do on MySQL / MariaDB: the initial schema already names the column activities.type.
DO 0;
