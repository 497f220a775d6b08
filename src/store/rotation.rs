//! Re-encrypting every stored secret under a new key.

use std::collections::HashSet;

use uuid::Uuid;

use crate::{
    Backend, EncryptionKey, Error, OAuthProvider, Result, Store, UserId,
    backend::rows::TokenCiphertextRow, crypto::KeyRing,
};

use super::{convert::stored_enum, tokens::aad};

/// How a rotation runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RotationOptions {
    /// Rows re-encrypted per transaction (default 500). Each batch commits on its own, so
    /// an interrupted rotation keeps the batches it finished.
    pub batch_size: u32,
    /// Stop after this many batches (default: run to the end). Rerunning the rotation
    /// later finishes the job.
    pub max_batches: Option<u64>,
}

impl Default for RotationOptions {
    fn default() -> Self {
        Self {
            batch_size: 500,
            max_batches: None,
        }
    }
}

/// What a rotation did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RotationReport {
    /// Rows re-encrypted under the new key by this run.
    pub reencrypted: u64,
    /// Rows already under the new key when the run started (written after the key became
    /// active, or re-encrypted by an earlier, interrupted run).
    pub skipped: u64,
    /// Rows that no key of the ring could decrypt; left unchanged.
    pub failed: u64,
    /// Batches committed.
    pub batches: u64,
    /// Rows not under the new key when the run started.
    pub to_reencrypt: u64,
    /// Whether the run went to the end (false when stopped by `max_batches`).
    pub complete: bool,
}

/// How many stored tokens the active key can open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TokenKeyCounts {
    /// Token rows in the database.
    pub total: u64,
    /// Rows whose secrets were all sealed with the active key.
    pub under_active_key: u64,
}

/// Passes over the table: later passes pick up rows that writers sealed with the old key
/// while the first pass ran (a write that began before the switch to the new key).
const MAX_PASSES: usize = 8;

impl<B: Backend> Store<B> {
    /// Makes `new_key` the active key of this store (and every clone of it) and
    /// re-encrypts every stored secret (OAuth access and refresh tokens) that is under
    /// another key, with default [`RotationOptions`]. See
    /// [`Store::rotate_encryption_key_with`].
    ///
    /// # Errors
    /// As [`Store::rotate_encryption_key_with`].
    pub async fn rotate_encryption_key(&self, new_key: &EncryptionKey) -> Result<RotationReport> {
        self.rotate_encryption_key_with(new_key, RotationOptions::default(), |_| {})
            .await
    }

    /// How many token rows there are, and how many are sealed with the active key (a
    /// mismatch after a rotation, or a wrong key, shows here).
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn token_key_counts(&self) -> Result<TokenKeyCounts> {
        self.observe("token_key_counts", async move {
            let id = self.keys().active_id();
            let (total, stale) = B::count_tokens_by_key(&self.pool, id.as_bytes()).await?;
            Ok(TokenKeyCounts {
                total: u64::try_from(total).unwrap_or(0),
                under_active_key: u64::try_from(total - stale).unwrap_or(0),
            })
        })
        .await
    }

    /// Makes `new_key` the active key and re-encrypts, batch by batch, every stored secret
    /// under another key of the ring. Calls `progress` after each committed batch.
    ///
    /// Guarantees:
    /// - every batch is one transaction; a crash or kill loses at most the batch in flight,
    ///   and running the rotation again finishes the job without re-encrypting any row
    ///   twice (rows already under `new_key` are never touched);
    /// - the store keeps serving: the switch happens before the first batch, so every
    ///   token written afterwards is sealed with `new_key`, and rows written with the old
    ///   key by calls already in flight are caught by a further pass;
    /// - when the report says `complete` and `failed == 0`, no row references any other
    ///   key, and the old key can be thrown away. Other processes sharing the database must
    ///   run with `new_key` active (and the old one retired) before the rotation starts.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a zero batch size; [`Error::Database`] when a batch
    /// fails (batches committed before stay committed).
    pub async fn rotate_encryption_key_with(
        &self,
        new_key: &EncryptionKey,
        options: RotationOptions,
        mut progress: impl FnMut(&RotationReport) + Send,
    ) -> Result<RotationReport> {
        self.observe("rotate_encryption_key_with", async move {
            if options.batch_size == 0 {
                return Err(Error::invalid("batch_size", "must be at least 1"));
            }
            self.set_keys(self.keys().rotated_to(new_key));
            let keys = self.keys();
            let key_id = keys.active_id();

            let (total, stale) = B::count_tokens_by_key(&self.pool, key_id.as_bytes()).await?;
            let mut report = RotationReport {
                skipped: u64::try_from(total - stale).unwrap_or(0),
                to_reencrypt: u64::try_from(stale).unwrap_or(0),
                ..RotationReport::default()
            };
            let mut failed = HashSet::new();
            for _ in 0..MAX_PASSES {
                let before = report.reencrypted;
                let mut after = (UserId::from(Uuid::nil()), String::new());
                loop {
                    if options.max_batches.is_some_and(|max| report.batches >= max) {
                        return Ok(report);
                    }
                    let mut tx = B::begin_write(&self.pool).await?;
                    let rows = B::select_tokens_not_under_key(
                        &mut tx,
                        key_id.as_bytes(),
                        after.0,
                        &after.1,
                        i64::from(options.batch_size),
                    )
                    .await?;
                    let Some(last) = rows.last() else { break };
                    after = (last.user_id, last.provider.clone());
                    for row in &rows {
                        match reencrypt(&keys, row) {
                            Ok(sealed) => {
                                B::update_token_ciphertexts(&mut tx, &sealed).await?;
                                report.reencrypted += 1;
                            }
                            Err(_) => {
                                failed.insert((row.user_id, row.provider.clone()));
                            }
                        }
                    }
                    tx.commit().await?;
                    report.batches += 1;
                    report.failed = failed.len() as u64;
                    progress(&report);
                }
                if report.reencrypted == before {
                    break;
                }
            }
            report.failed = failed.len() as u64;
            report.complete = true;
            Ok(report)
        })
        .await
    }
}

/// The row's secrets opened with whichever key of the ring sealed them and sealed again with
/// the active key.
fn reencrypt(keys: &KeyRing, row: &TokenCiphertextRow) -> Result<TokenCiphertextRow> {
    let provider: OAuthProvider = stored_enum("provider", &row.provider)?;
    let access_aad = aad(row.user_id, provider, "access_token");
    let access = keys.decrypt(&row.access_token, &access_aad, "access_token")?;
    let refresh = row
        .refresh_token
        .as_deref()
        .map(|sealed| {
            let refresh_aad = aad(row.user_id, provider, "refresh_token");
            keys.decrypt(sealed, &refresh_aad, "refresh_token")
                .map(|plain| keys.encrypt(&plain, &refresh_aad))
        })
        .transpose()?;
    Ok(TokenCiphertextRow {
        user_id: row.user_id,
        provider: row.provider.clone(),
        access_token: keys.encrypt(&access, &access_aad),
        refresh_token: refresh,
    })
}
