//! Command-line arguments.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Set up and look after a pierre-store database (SQLite, PostgreSQL or MySQL / MariaDB).
#[derive(Debug, Parser)]
#[command(name = "pierre-store", version, about)]
pub struct Cli {
    /// Database URL [env: DATABASE_URL] [default: sqlite:./data/pierre.db]. A password
    /// given here is visible to other local users (ps) for the whole run: prefer
    /// DATABASE_URL.
    #[arg(long, global = true)]
    pub database_url: Option<String>,

    /// Encryption key file [env: DATABASE_ENCRYPTION_KEY_PATH] [default: ./data/encryption.key]
    #[arg(long, global = true)]
    pub key_path: Option<PathBuf>,

    /// Print only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Print more detail.
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the data directory, the key file (mode 0600) and the database, and apply the
    /// migrations. Safe to run again: it then changes nothing.
    Init,
    /// Apply pending migrations, or list applied and pending ones.
    Migrate {
        /// List migrations instead of applying them.
        #[arg(long)]
        status: bool,
        /// Apply pending migrations only up to this version.
        #[arg(long, conflicts_with = "status")]
        to: Option<i64>,
    },
    /// Backend, schema version, pool settings, rows per table, size, key in use.
    Status,
    /// Write a backup of the database to PATH (SQLite: a database file; PostgreSQL: a
    /// pg_dump custom-format archive; MySQL: a mariadb-dump / mysqldump SQL file).
    Backup {
        /// Where to write it; must not exist, unless --replace is given.
        path: PathBuf,
        /// Replace what is at PATH (a file, or a symbolic link, which is replaced, not
        /// followed) in one step once the new backup is complete: for a nightly job
        /// writing to a fixed name. A failed backup leaves the old one in place.
        #[arg(long)]
        replace: bool,
    },
    /// Replace the database with the backup at PATH. Stop the server first. On MySQL
    /// everything in the database is dropped first, and a restore that fails part-way
    /// leaves it partly restored (MySQL cannot roll back DDL): restore again.
    Restore {
        /// A backup written by `backup`.
        path: PathBuf,
    },
    /// Rotate the encryption key, servers first. Without --servers-switched: create the key
    /// file NEW_KEY if missing, say how to switch the servers to it, and re-encrypt
    /// nothing. With it: re-encrypt every token under NEW_KEY, and report `complete` only
    /// when every token is under it. Safe to interrupt and run again.
    RotateKey {
        /// The new key file.
        #[arg(long)]
        new_key: PathBuf,
        /// Every server already runs with NEW_KEY active and the old key in
        /// DATABASE_RETIRED_ENCRYPTION_KEYS: re-encrypt now.
        #[arg(long)]
        servers_switched: bool,
        /// Rows per transaction.
        #[arg(long, default_value_t = 500)]
        batch_size: u32,
    },
    /// Delete usage rows older than a duration (e.g. 90d, 12h, 30m). On PostgreSQL, whole
    /// monthly partitions older than that are dropped, and rows are deleted only in the
    /// month the cutoff falls in.
    PruneUsage {
        /// Age beyond which rows go: a number with s, m, h, d or w.
        #[arg(long, value_parser = crate::duration::parse)]
        older_than: time::Duration,
        /// Rows per delete statement.
        #[arg(long, default_value_t = 5000)]
        batch_size: u32,
    },
    /// Routine upkeep, safe to run at any time (e.g. daily from cron): on PostgreSQL,
    /// create the monthly partitions of the usage tables for this month and the next
    /// MONTHS_AHEAD months where missing. Nothing to do on SQLite and MySQL.
    Maintain {
        /// Months after the current one that must have their partitions (at most 120).
        #[arg(long, default_value_t = pierre_store::USAGE_PARTITION_MONTHS_AHEAD)]
        months_ahead: u32,
    },
    /// Seed a demo tenant, user, Strava token, API key, usage and activities, then print the
    /// user's usage and activity statistics. The demo user gets a random password, printed
    /// once. Refuses a database that already holds other users, unless --force.
    Demo {
        /// Seed even though the database holds other users (it adds an active account with
        /// the printed password).
        #[arg(long)]
        force: bool,
    },
    /// Copy every row into the empty database at URL (e.g. from SQLite to PostgreSQL),
    /// migrating it first. It is opened with this database's key. Stop the server first.
    Copy {
        /// The target database (sqlite:<path>, postgres://... or mysql://...); it must hold no rows
        /// [env: COPY_TO_DATABASE_URL]. A password given here is visible to other local
        /// users (ps) for the whole run: prefer COPY_TO_DATABASE_URL.
        #[arg(long)]
        to: Option<String>,
    },
}

impl Cli {
    /// `--database-url`, else `DATABASE_URL`, else the embedded default.
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            std::env::var("DATABASE_URL")
                .unwrap_or_else(|_| pierre_store::DEFAULT_DATABASE_URL.to_owned())
        })
    }

    /// The target of `copy`: `to` (its `--to`), else `COPY_TO_DATABASE_URL`.
    ///
    /// # Errors
    /// When neither is given.
    pub fn copy_target(to: Option<String>) -> eyre::Result<String> {
        to.or_else(|| std::env::var("COPY_TO_DATABASE_URL").ok())
            .ok_or_else(|| {
                eyre::eyre!("copy needs a target: set COPY_TO_DATABASE_URL (or give --to URL)")
            })
    }

    /// `--key-path`, else `DATABASE_ENCRYPTION_KEY_PATH`, else the default.
    pub fn key_path(&self) -> PathBuf {
        self.key_path
            .clone()
            .unwrap_or_else(pierre_store::StoreConfig::key_path_from_env)
    }
}
