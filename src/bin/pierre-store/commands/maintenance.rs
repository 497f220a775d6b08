//! `rotate-key` and `prune-usage`.

use std::path::Path;

use eyre::{WrapErr, bail};
use pierre_store::{EncryptionKey, RotationOptions, Store};

use crate::{backends::AdminBackend, output::Output};

/// Rotates the key in the safe order. Without `servers_switched`: creates the key file at
/// `new_key_path` if missing, says how to switch the servers to it, and fails without
/// re-encrypting anything (so that no script goes on to drop the old key). With it: loads
/// the existing new key, re-encrypts every token under it, and says `complete` only when
/// a final count finds every token under the new key; otherwise fails saying how many are
/// not.
pub async fn rotate_key<B: AdminBackend>(
    store: &Store<B>,
    new_key_path: &Path,
    servers_switched: bool,
    batch_size: u32,
    out: Output,
) -> eyre::Result<()> {
    let old_id = store.encryption_key_id();
    let path = new_key_path.display();
    if !servers_switched {
        let created = !new_key_path.exists();
        let new_key = EncryptionKey::load_or_create(new_key_path)?;
        if created {
            out.say(format!(
                "created new key file {path} (key id {})",
                new_key.id()
            ));
        }
        bail!(
            "nothing re-encrypted yet: first restart every server with {path} as its key \
             (DATABASE_ENCRYPTION_KEY_PATH) and the current key {old_id} retired \
             (DATABASE_RETIRED_ENCRYPTION_KEYS=$(base64 -w0 <current key file>)), then run \
             this again with --servers-switched"
        );
    }
    let new_key = EncryptionKey::load(new_key_path)
        .wrap_err("--servers-switched, but the servers cannot be running with this key")?;
    let new_id = new_key.id();
    let before = store.token_key_counts().await?;
    let bar = out.progress(before.total, "re-encrypting tokens");
    let options = RotationOptions {
        batch_size,
        ..RotationOptions::default()
    };
    let result = store
        .rotate_encryption_key_with(&new_key, options, |r| {
            bar.set_position(r.skipped + r.reencrypted + r.failed)
        })
        .await;
    bar.finish_and_clear();
    let report = match result {
        Ok(report) => report,
        Err(err) => {
            let done = store
                .token_key_counts()
                .await
                .map_or_else(|_| "?".to_owned(), |c| c.under_active_key.to_string());
            return Err(err).wrap_err(format!(
                "rotation to key {new_id} stopped after {done} of {} tokens: the rest are \
                 still under the earlier key; keep both keys, fix the cause and run the same \
                 command again (it skips the tokens done)",
                before.total
            ));
        }
    };
    out.say(format!(
        "rotated to key {new_id}: {} re-encrypted, {} already under it, {} failed, {} batches",
        report.reencrypted, report.skipped, report.failed, report.batches
    ));
    let after = store.token_key_counts().await?;
    if !report.complete || after.under_active_key < after.total {
        bail!(
            "not complete: {} of {} tokens are not under key {new_id} ({} could not be \
             decrypted with the loaded keys); keep the old key. Put the key they need in \
             DATABASE_RETIRED_ENCRYPTION_KEYS, and make sure no server still runs with the \
             old key active, then run this again",
            after.total - after.under_active_key,
            after.total,
            report.failed
        );
    }
    // The keys to retire are the ring's others, whichever was active when the tool
    // started (with the servers' environment, the new key may already have been).
    let retired: Vec<String> = store
        .encryption_key_ids()
        .into_iter()
        .filter(|id| *id != new_id)
        .map(|id| id.to_string())
        .collect();
    let retire = if retired.is_empty() {
        "no other key was loaded".to_owned()
    } else {
        format!(
            "key {} can now leave DATABASE_RETIRED_ENCRYPTION_KEYS and be deleted",
            retired.join(", key ")
        )
    };
    out.say(format!(
        "complete: all {} tokens are under key {new_id} (keep it: it is the key now); {retire}",
        after.total
    ));
    Ok(())
}

/// Creates the usage partitions of this month and the `months_ahead` after it (PostgreSQL).
pub async fn maintain<B: AdminBackend>(
    store: &Store<B>,
    months_ahead: u32,
    out: Output,
) -> eyre::Result<()> {
    let created = store.create_usage_partitions(months_ahead).await?;
    out.say(format!(
        "usage partitions: {created} created; this month and the {months_ahead} after it \
         have theirs (PostgreSQL only: the usage tables of SQLite and MySQL are not partitioned)"
    ));
    Ok(())
}

/// Deletes usage rows older than `older_than` (on PostgreSQL, dropping whole monthly
/// partitions older than that first).
pub async fn prune_usage<B: AdminBackend>(
    store: &Store<B>,
    older_than: time::Duration,
    batch_size: u32,
    out: Output,
) -> eyre::Result<()> {
    let cutoff = time::OffsetDateTime::now_utc() - older_than;
    let bar = out.progress(0, "deleting usage rows");
    let report = store
        .prune_usage(cutoff, batch_size, |r| {
            bar.set_position(r.api_key_usage + r.jwt_usage)
        })
        .await?;
    bar.finish_and_clear();
    out.say(format!(
        "removed {} rows older than {cutoff}: {} api_key_usage, {} jwt_usage",
        report.api_key_usage + report.jwt_usage,
        report.api_key_usage,
        report.jwt_usage
    ));
    Ok(())
}
