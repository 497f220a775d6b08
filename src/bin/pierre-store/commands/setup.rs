//! `init`, `migrate` and `status`.

use std::path::Path;

use pierre_store::{EncryptionKey, Store, redact_url};

use crate::{backends::AdminBackend, output::Output};

/// Creates what is missing (key file, database, schema) and says what it did.
pub async fn init<B: AdminBackend>(url: &str, key_path: &Path, out: Output) -> eyre::Result<()> {
    let existed = key_path.exists();
    let key = EncryptionKey::load_or_create(key_path)?;
    out.say(format!(
        "key file:  {} ({}, key id {})",
        key_path.display(),
        if existed {
            "existing"
        } else {
            "created, mode 0600"
        },
        key.id()
    ));
    let store = super::connect::<B>(url, key, true).await?;
    let before = store.schema_version().await?;
    store.migrate().await?;
    let after = store.schema_version().await?;
    out.say(format!(
        "database:  {} ({})",
        redact_url(url),
        store.backend_info()
    ));
    out.say(match (before, after) {
        (None, Some(v)) => format!("schema:    created, version {v}"),
        (Some(b), Some(a)) if b == a => {
            format!("schema:    version {a}, up to date (nothing to do)")
        }
        (b, a) => format!(
            "schema:    migrated from {} to {}",
            version_text(b),
            version_text(a)
        ),
    });
    store.close().await;
    Ok(())
}

/// Applies pending migrations (up to `to`).
pub async fn migrate<B: AdminBackend>(
    store: &Store<B>,
    to: Option<i64>,
    out: Output,
) -> eyre::Result<()> {
    let before = store.schema_version().await?;
    match to {
        Some(version) => store.migrate_to(version).await?,
        None => store.migrate().await?,
    }
    let after = store.schema_version().await?;
    let after_text = version_text(after);
    out.say(match to {
        _ if before != after => format!(
            "schema migrated from {} to {after_text}",
            version_text(before)
        ),
        Some(version) if after > Some(version) => format!(
            "schema already at version {after_text}, past {version}: nothing to apply \
             (migrations are never undone)"
        ),
        _ => format!("schema version {after_text}: nothing to apply"),
    });
    Ok(())
}

/// A schema version as users read it: the number, or `none` for a database never migrated.
fn version_text(version: Option<i64>) -> String {
    version.map_or_else(|| "none".to_owned(), |v| v.to_string())
}

/// Lists every migration with its state.
pub async fn migration_status<B: AdminBackend>(store: &Store<B>, out: Output) -> eyre::Result<()> {
    for m in store.migration_status().await? {
        let state = match (m.applied, m.checksum_ok, m.known) {
            (true, Some(false), _) => "applied, CHANGED since (checksum mismatch)".to_owned(),
            (true, _, false) => "applied, unknown to this build (database is newer)".to_owned(),
            (true, _, _) => format!(
                "applied {}",
                m.applied_at.map_or_else(String::new, |t| t.to_string())
            ),
            (false, _, _) => "pending".to_owned(),
        };
        out.say(format!("{} {:<30} {state}", m.version, m.description));
    }
    Ok(())
}

/// Everything an operator wants to know at a glance.
pub async fn status<B: AdminBackend>(store: &Store<B>, url: &str, out: Output) -> eyre::Result<()> {
    let pool = store.pool_stats();
    let migrations = store.migration_status().await?;
    let pending = migrations.iter().filter(|m| !m.applied).count();
    out.say(format!("backend:        {}", store.backend_info()));
    out.say(format!("database:       {}", redact_url(url)));
    out.say(format!(
        "schema version: {} ({pending} pending)",
        version_text(store.schema_version().await?)
    ));
    out.say(format!(
        "pool:           {} open ({} in use, {} idle), max {}, min {}, acquire timeout {} s",
        pool.size,
        pool.in_use,
        pool.idle,
        pool.max,
        pool.min,
        pool.acquire_timeout.as_secs_f64()
    ));
    out.say(format!("key id:         {}", store.encryption_key_id()));
    if migrations.iter().any(|m| m.applied) {
        let counts = store.table_counts().await?;
        out.say(format!("size:           {} bytes", counts.size_bytes));
        for (table, rows) in counts.rows {
            out.say(format!("  {table:<18} {rows:>10} rows"));
        }
        let tokens = store.token_key_counts().await?;
        out.say(format!(
            "tokens:         {} of {} sealed with this key",
            tokens.under_active_key, tokens.total
        ));
        if tokens.under_active_key < tokens.total {
            out.say("warning: some tokens are under another key: wrong key, or a rotation to finish (rotate-key)");
        }
    }
    Ok(())
}
