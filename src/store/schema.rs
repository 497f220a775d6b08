//! The schema: migrating, and what version a database is at.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use crate::{Backend, Error, Result, Store};

use super::convert::stored_count;

/// What [`Store::check_migration_privileges`] says when the server refuses the schema's
/// triggers and procedure.
const ROUTINES_REFUSED: &str = "the MySQL / MariaDB server has binary logging on and lets \
    only users with the SUPER privilege create triggers and procedures (error 1419), which \
    the schema has; nothing was changed. As an administrator, either run `SET GLOBAL \
    log_bin_trust_function_creators = 1` and also set `log_bin_trust_function_creators = 1` \
    in the server's configuration (so that it survives a restart), or run this as a user \
    with SUPER";

/// One migration, as this build knows it and as the database recorded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationInfo {
    /// Version (the timestamp prefix of the migration file).
    pub version: i64,
    /// Description (the rest of the file name).
    pub description: String,
    /// Whether the database has applied it successfully.
    pub applied: bool,
    /// When it was applied (whole seconds on SQLite).
    pub applied_at: Option<OffsetDateTime>,
    /// For an applied migration this build also embeds: whether the recorded checksum
    /// matches the embedded file (`false` means the file changed after it was applied).
    /// `None` when not applied, or applied but unknown to this build.
    pub checksum_ok: Option<bool>,
    /// Whether this build embeds the migration (`false`: the database is newer).
    pub known: bool,
}

/// Rows per table and size on disk.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableCounts {
    /// `(table, rows)` for every table of the schema.
    pub rows: Vec<(&'static str, u64)>,
    /// Size of the database in bytes (SQLite: pages × page size; PostgreSQL:
    /// `pg_database_size`).
    pub size_bytes: u64,
}

impl<B: Backend> Store<B> {
    /// Applies the migrations this build embeds that the database lacks, then (on
    /// PostgreSQL) creates the usage partitions of the current month and the
    /// [`USAGE_PARTITION_MONTHS_AHEAD`](crate::USAGE_PARTITION_MONTHS_AHEAD) months after
    /// it that are missing, as [`Store::create_usage_partitions`] does. A role that does not
    /// own the usage tables may not create them (SQLSTATE 42501): when the current month's
    /// partitions exist, a warning is logged and `migrate` succeeds (inserts of a later
    /// month fail loudly until the owner creates its partitions, e.g. with
    /// `pierre-store maintain`). Idempotent: a
    /// second call changes nothing (until a new month begins). Versions are recorded in
    /// `_sqlx_migrations`.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::Config`](crate::Error::Config) when a migration is pending and the user may
    /// not create its triggers and procedure (see [`Store::check_migration_privileges`]);
    /// nothing is applied.
    /// [`Error::Migration`](crate::Error::Migration) when a migration fails, when an applied
    /// migration's checksum differs from the embedded file, or when the database has applied
    /// a migration this build does not know (it is newer than this build). Nothing is
    /// applied in the last two cases. [`Error::Database`](crate::Error::Database) when the
    /// current month's partitions are missing and cannot be created.
    pub async fn migrate(&self) -> Result<()> {
        self.observe("migrate", async move {
            self.check_privileges_if_pending(i64::MAX).await?;
            B::migrate(&self.pool, None).await?;
            self.create_partitions_after_migrate().await
        })
        .await
    }

    /// The partitions [`Store::migrate`] makes: the months ahead, or, for a role that may
    /// not create partitions, a check that the current month's exist.
    async fn create_partitions_after_migrate(&self) -> Result<()> {
        match self
            .create_partitions_ahead(super::USAGE_PARTITION_MONTHS_AHEAD)
            .await
        {
            Err(Error::Database(error)) if B::is_insufficient_privilege(&error) => {
                // Creates nothing when this month's partitions exist, so needs no privilege.
                self.create_partitions_ahead(0).await?;
                tracing::warn!(
                    %error,
                    "usage partitions of the months ahead not created (the role does not \
                     own the usage tables): run `pierre-store maintain` as their owner"
                );
                Ok(())
            }
            other => other.map(|_| ()),
        }
    }

    /// Applies pending migrations up to and including `version`, which must be the version
    /// of a migration this build embeds. A version at or below the database's changes
    /// nothing (migrations are never undone).
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) (field `version`, the reason
    /// listing the known versions) when no migration has `version`; nothing is applied.
    /// Otherwise as [`Store::migrate`].
    pub async fn migrate_to(&self, version: i64) -> Result<()> {
        self.observe("migrate_to", async move {
            let known: Vec<i64> = B::migrator()
                .iter()
                .filter(|m| m.migration_type.is_up_migration())
                .map(|m| m.version)
                .collect();
            if !known.contains(&version) {
                let list: Vec<String> = known.iter().map(i64::to_string).collect();
                return Err(Error::invalid(
                    "version",
                    format!(
                        "no migration has version {version}; known versions: {}",
                        list.join(", ")
                    ),
                ));
            }
            self.check_privileges_if_pending(version).await?;
            B::migrate(&self.pool, Some(version)).await?;
            Ok(())
        })
        .await
    }

    /// Checks that the connection's user may create the schema's triggers and procedure.
    /// Only MySQL / MariaDB may refuse them: a server with binary logging on
    /// (`log_bin`) and `log_bin_trust_function_creators` off lets only a user with the
    /// `SUPER` privilege create triggers and routines (error 1419), so there a migration
    /// or restore by an ordinary user would fail half-way. [`Store::migrate`] checks this
    /// before applying anything; call it before any other work that re-creates them.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::Config`](crate::Error::Config) when the user may not, saying what to do;
    /// [`Error::Database`](crate::Error::Database).
    pub async fn check_migration_privileges(&self) -> Result<()> {
        if B::select_routines_refused(&self.pool).await? {
            return Err(Error::Config(ROUTINES_REFUSED.into()));
        }
        Ok(())
    }

    /// [`Store::check_migration_privileges`] when a migration up to `version` is pending.
    /// The privileges are asked first: on SQLite and PostgreSQL that runs no statement, so
    /// the migration status is read only where the server refuses the routines.
    async fn check_privileges_if_pending(&self, version: i64) -> Result<()> {
        if !B::select_routines_refused(&self.pool).await? {
            return Ok(());
        }
        let pending = self
            .read_migration_status()
            .await?
            .iter()
            .any(|m| m.known && !m.applied && m.version <= version);
        if pending {
            return Err(Error::Config(ROUTINES_REFUSED.into()));
        }
        Ok(())
    }

    /// The highest successfully applied migration, or `None` for a database never migrated.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::Database`](crate::Error::Database).
    pub async fn schema_version(&self) -> Result<Option<i64>> {
        self.observe("schema_version", self.read_schema_version())
            .await
    }

    /// [`Store::schema_version`] without its own metrics and span.
    pub(super) async fn read_schema_version(&self) -> Result<Option<i64>> {
        Ok(self
            .read_migration_status()
            .await?
            .iter()
            .filter(|m| m.applied)
            .map(|m| m.version)
            .max())
    }

    /// Every migration this build embeds and every one the database recorded, by version.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::Database`](crate::Error::Database).
    pub async fn migration_status(&self) -> Result<Vec<MigrationInfo>> {
        self.observe("migration_status", self.read_migration_status())
            .await
    }

    /// [`Store::migration_status`] without its own metrics and span.
    async fn read_migration_status(&self) -> Result<Vec<MigrationInfo>> {
        let applied = if B::migrations_table_exists(&self.pool).await? {
            B::select_applied_migrations(&self.pool).await?
        } else {
            Vec::new()
        };
        let mut status: BTreeMap<i64, MigrationInfo> = B::migrator()
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .map(|m| {
                let info = MigrationInfo {
                    version: m.version,
                    description: m.description.to_string(),
                    applied: false,
                    applied_at: None,
                    checksum_ok: None,
                    known: true,
                };
                (m.version, info)
            })
            .collect();
        for row in applied {
            let embedded = B::migrator().iter().find(|m| m.version == row.version);
            let entry = status.entry(row.version).or_insert_with(|| MigrationInfo {
                version: row.version,
                description: row.description.clone(),
                applied: false,
                applied_at: None,
                checksum_ok: None,
                known: false,
            });
            entry.applied = row.success;
            entry.applied_at = Some(row.installed_on.into());
            entry.checksum_ok = embedded.map(|m| *m.checksum == *row.checksum);
        }
        Ok(status.into_values().collect())
    }

    /// Rows per table and the database size.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::Database`](crate::Error::Database), e.g. before the schema exists.
    pub async fn table_counts(&self) -> Result<TableCounts> {
        self.observe("table_counts", self.read_table_counts()).await
    }

    /// [`Store::table_counts`] without its own metrics and span.
    pub(super) async fn read_table_counts(&self) -> Result<TableCounts> {
        let row = B::select_table_counts(&self.pool).await?;
        Ok(TableCounts {
            rows: vec![
                ("users", stored_count("users", row.users)?),
                (
                    "user_oauth_tokens",
                    stored_count("user_oauth_tokens", row.user_oauth_tokens)?,
                ),
                ("api_keys", stored_count("api_keys", row.api_keys)?),
                (
                    "api_key_usage",
                    stored_count("api_key_usage", row.api_key_usage)?,
                ),
                ("jwt_usage", stored_count("jwt_usage", row.jwt_usage)?),
                ("a2a_clients", stored_count("a2a_clients", row.a2a_clients)?),
                ("tenants", stored_count("tenants", row.tenants)?),
                ("activities", stored_count("activities", row.activities)?),
            ],
            size_bytes: stored_count("size_bytes", row.size_bytes)?,
        })
    }
}
