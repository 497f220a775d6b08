//! `copy`: every row of this database into an empty one, on either backend.

use eyre::WrapErr;
use pierre_store::{Store, redact_url};

use crate::{backends::AdminBackend, output::Output};

/// Migrates `target` (the database at `to`, opened with the source's key), copies every
/// row of `source` into it and prints the rows per table.
pub async fn copy<A: AdminBackend, T: AdminBackend>(
    source: &Store<A>,
    target: Store<T>,
    to: &str,
    out: Output,
) -> eyre::Result<()> {
    let result = async {
        target
            .migrate()
            .await
            .wrap_err_with(|| format!("cannot migrate {}", redact_url(to)))?;
        Ok::<_, eyre::Report>(source.copy_into(&target).await?)
    }
    .await;
    target.close().await;
    let report = result?;
    for (table, rows) in &report.rows {
        out.say(format!("{table:<18} {rows:>10} rows"));
    }
    out.say(format!(
        "copied into {}: point DATABASE_URL at it and keep the same key file",
        redact_url(to)
    ));
    Ok(())
}
