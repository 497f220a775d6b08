//! Copying every row of one store's database into another's, on the same or the other
//! backend: how a SQLite deployment moves to PostgreSQL.

use uuid::Uuid;

use crate::{
    Backend, Error, Result, Store,
    backend::rows::{ApiKeyUsageRow, JwtUsageRow},
    model::{A2AClientId, ActivityId, ApiKeyId, TenantId, UserId},
};

/// Rows read per statement while copying.
const PAGE: i64 = 500;

/// Reads pages with `read` (each starting after the `key` of the last row of the previous
/// one, the first after `start`) and hands each to `write`; evaluates to the rows handed
/// over. Errors return from the enclosing function. A macro rather than a function taking
/// async closures: the future of such a function is not provably `Send` (rustc cannot yet
/// name the closures' futures' auto traits), and every store method's future must be.
macro_rules! pages {
    (
        $start:expr,
        |$after:pat_param| $read:expr,
        |$row:ident| $key:expr,
        |$page:ident| $write:block $(,)?
    ) => {{
        let mut next = $start;
        let mut copied: u64 = 0;
        loop {
            let $after = next;
            let page = $read?;
            let Some($row) = page.last() else {
                break copied;
            };
            next = $key;
            copied += page.len() as u64;
            let $page = page;
            $write
        }
    }};
}

/// What [`Store::copy_into`] copied.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CopyReport {
    /// `(table, rows copied)`, in the order the tables were copied.
    pub rows: Vec<(&'static str, u64)>,
}

impl<A: Backend> Store<A> {
    /// Copies every row of this store's database into `target`'s: users, tenants, API
    /// keys, OAuth tokens, A2A clients, activities (soft-deleted ones included) and usage
    /// rows. Ids, timestamps and every column are kept, except the generated ids of usage
    /// rows, which the target numbers anew in the same order. Tokens are copied as their
    /// ciphertext: the target store must be opened with the same encryption key (file) to
    /// read them.
    ///
    /// Stop writers to the source first: rows written during the copy may be missed. The
    /// target is written table by table; if the copy fails half-way, drop the target
    /// database, create it again and rerun.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] (field `target`, nothing written) when the two databases are
    /// not at the same schema version or the target already holds rows;
    /// [`Error::CorruptData`] when a usage row's API key or user is missing from the
    /// source; [`Error::Database`].
    pub async fn copy_into<B: Backend>(&self, target: &Store<B>) -> Result<CopyReport> {
        self.observe("copy_into", async move {
            let (source_version, target_version) = (
                self.read_schema_version().await?,
                target.read_schema_version().await?,
            );
            if source_version != target_version {
                return Err(Error::invalid(
                    "target",
                    format!(
                        "schema version {target_version:?} differs from the source's \
                         {source_version:?}: migrate both first"
                    ),
                ));
            }
            let counts = target.read_table_counts().await?;
            if let Some((table, _)) = counts.rows.iter().find(|(_, n)| *n > 0) {
                return Err(Error::invalid(
                    "target",
                    format!("the target database is not empty ({table} has rows)"),
                ));
            }
            let (from, to) = (&self.pool, &target.pool);
            let mut report = CopyReport::default();

            // Users first, without the columns that point at other users (they may not be
            // copied yet); those are set once every user is in.
            let mut moderated = Vec::new();
            let users = pages!(
                UserId::from(Uuid::nil()),
                |after| A::page_users(from, after, PAGE).await,
                |row| row.id,
                |page| {
                    for mut row in page {
                        if row.approved_by.is_some() || row.suspended_by.is_some() {
                            moderated.push((
                                row.id,
                                row.approved_by.take(),
                                row.suspended_by.take(),
                            ));
                        }
                        B::insert_user(to, &row).await?;
                    }
                },
            );
            for (id, approved_by, suspended_by) in moderated {
                B::set_user_moderators(to, id, approved_by, suspended_by).await?;
            }
            report.rows.push(("users", users));

            let mut tenant_ids = Vec::new();
            let tenants = pages!(
                TenantId::from(Uuid::nil()),
                |after| A::page_tenants(from, after, PAGE).await,
                |row| row.id,
                |page| {
                    for row in page {
                        tenant_ids.push(row.id);
                        B::insert_tenant(to, &row).await?;
                    }
                },
            );
            report.rows.push(("tenants", tenants));

            let api_keys = pages!(
                ApiKeyId::from(Uuid::nil()),
                |after| A::page_api_keys(from, after, PAGE).await,
                |row| row.id,
                |page| {
                    for row in page {
                        B::insert_api_key(to, &row).await?;
                    }
                },
            );
            report.rows.push(("api_keys", api_keys));

            let tokens = pages!(
                (UserId::from(Uuid::nil()), String::new()),
                |(user, provider)| A::page_oauth_tokens(from, (user, &provider), PAGE).await,
                |row| (row.user_id, row.provider.clone()),
                |page| {
                    let mut conn = to.acquire().await?;
                    for row in page {
                        B::upsert_oauth_token(&mut conn, &row).await?;
                    }
                },
            );
            report.rows.push(("user_oauth_tokens", tokens));

            let a2a_clients = pages!(
                A2AClientId::from(Uuid::nil()),
                |after| A::page_a2a_clients(from, after, PAGE).await,
                |row| row.id,
                |page| {
                    for row in page {
                        B::insert_a2a_client(to, &row).await?;
                    }
                },
            );
            report.rows.push(("a2a_clients", a2a_clients));

            // Tenant by tenant: on PostgreSQL each is read and written under its own
            // row-level security scope.
            let mut activities = 0;
            for tenant in tenant_ids {
                activities += pages!(
                    ActivityId::from(Uuid::nil()),
                    |after| A::page_activities(from, tenant, after, PAGE).await,
                    |row| row.id,
                    |page| {
                        B::insert_stored_activities(to, tenant, &page).await?;
                    },
                );
            }
            report.rows.push(("activities", activities));

            let api_key_usage = pages!(
                0,
                |after| A::page_api_key_usage(from, after, PAGE).await,
                |row| row.id,
                |page| {
                    let rows: Vec<ApiKeyUsageRow> = page.into_iter().map(Into::into).collect();
                    let inserted = target.write_usage_batch(&rows, &[]).await?;
                    all_inserted("api_key_usage.api_key_id", rows.len(), inserted)?;
                },
            );
            report.rows.push(("api_key_usage", api_key_usage));

            let jwt_usage = pages!(
                0,
                |after| A::page_jwt_usage(from, after, PAGE).await,
                |row| row.id,
                |page| {
                    let rows: Vec<JwtUsageRow> = page.into_iter().map(Into::into).collect();
                    let inserted = target.write_usage_batch(&[], &rows).await?;
                    all_inserted("jwt_usage.user_id", rows.len(), inserted)?;
                },
            );
            report.rows.push(("jwt_usage", jwt_usage));
            Ok(report)
        })
        .await
    }
}

/// Usage inserts leave out rows whose key or user does not exist: in a copy that means the
/// source holds orphans.
fn all_inserted(field: &'static str, rows: usize, inserted: u64) -> Result<()> {
    if inserted == rows as u64 {
        return Ok(());
    }
    Err(Error::CorruptData {
        field,
        reason: format!(
            "{} usage rows refer to a key or user the source does not have",
            rows as u64 - inserted
        ),
    })
}
