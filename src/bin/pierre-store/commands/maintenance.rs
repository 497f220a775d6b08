//! `rotate-key` and `prune-usage`.

use std::path::Path;

use eyre::bail;
use pierre_store::{EncryptionKey, RotationOptions, Store};

use crate::{backends::AdminBackend, output::Output};

/// Re-encrypts every token under the key in `new_key_path` (created if missing).
pub async fn rotate_key<B: AdminBackend>(
    store: &Store<B>,
    new_key_path: &Path,
    batch_size: u32,
    out: Output,
) -> eyre::Result<()> {
    let created = !new_key_path.exists();
    let new_key = EncryptionKey::load_or_create(new_key_path)?;
    if created {
        out.say(format!(
            "created new key file {} (key id {})",
            new_key_path.display(),
            new_key.id()
        ));
    }
    let old_id = store.encryption_key_id();
    let before = store.token_key_counts().await?;
    let bar = out.progress(before.total, "re-encrypting tokens");
    let options = RotationOptions {
        batch_size,
        ..RotationOptions::default()
    };
    let report = store
        .rotate_encryption_key_with(&new_key, options, |r| {
            bar.set_position(r.skipped + r.reencrypted + r.failed)
        })
        .await?;
    bar.finish_and_clear();
    out.say(format!(
        "rotated from key {old_id} to {}: {} re-encrypted, {} already under the new key, {} failed, {} batches",
        new_key.id(),
        report.reencrypted,
        report.skipped,
        report.failed,
        report.batches
    ));
    if report.failed > 0 {
        bail!(
            "{} token rows could not be decrypted with the current key and were left as they were",
            report.failed
        );
    }
    out.say(format!(
        "next: use {} as the key (DATABASE_ENCRYPTION_KEY_PATH or --key-path) and keep the old key \
         file until every server runs with the new one",
        new_key_path.display()
    ));
    Ok(())
}

/// Deletes usage rows older than `older_than`.
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
