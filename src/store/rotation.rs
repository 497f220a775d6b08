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
    /// Rows not under the new key when the run ended, counted after the last batch.
    pub remaining: u64,
    /// Whether every token row was under the new key when the run ended (`remaining ==
    /// 0`, checked after the last batch): only then can the old key go. False when the run
    /// was stopped by `max_batches`, when rows failed, or when another process kept
    /// sealing tokens with an old key through every pass.
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

/// Passes over the table: later passes pick up rows that another process, still running
/// with the old key active, sealed while the earlier passes ran.
const MAX_PASSES: usize = 8;

impl<B: Backend> Store<B> {
    /// Makes `new_key` the active key of this store (and every clone of it) and
    /// re-encrypts every stored secret (OAuth access and refresh tokens) that is under
    /// another key, with default [`RotationOptions`]. See
    /// [`Store::rotate_encryption_key_with`].
    ///
    /// Runs on the primary.
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
    /// Runs on the primary.
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
    /// - the switch waits for token writes of this store (and its clones) already in
    ///   flight, so none of them seals with the old key after it; every later write seals
    ///   with `new_key`;
    /// - every batch is one transaction; a crash or kill loses at most the batch in flight,
    ///   and running the rotation again finishes the job without re-encrypting any row
    ///   twice (rows already under `new_key` are never touched);
    /// - after each pass over the table one count checks that no row is left under
    ///   another key; rows left (written meanwhile by another process still sealing with
    ///   an old key) get another pass, up to 8;
    /// - `complete` means that final count found every row under `new_key`: the old key
    ///   can then be thrown away. Otherwise `remaining` says how many rows are not.
    ///   Other processes sharing the database must run with `new_key` active (and the old
    ///   one retired) before the rotation starts, or their writes keep it incomplete.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a zero batch size (nothing changes). [`Error::Database`]
    /// when a statement fails; the store then stays switched to `new_key` (every later
    /// write uses it), the batches committed before stay under `new_key` and the other
    /// rows under their old keys, all readable while both keys are in the ring. Keep both
    /// keys and run the rotation again with the same `new_key`: it is safe to rerun and
    /// skips the rows already done.
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
            self.switch_to(new_key).await;
            let keys = self.keys();
            let key_id = keys.active_id();

            let (total, stale) = B::count_tokens_by_key(&self.pool, key_id.as_bytes()).await?;
            let mut report = RotationReport {
                skipped: u64::try_from(total - stale).unwrap_or(0),
                to_reencrypt: u64::try_from(stale).unwrap_or(0),
                remaining: u64::try_from(stale).unwrap_or(0),
                ..RotationReport::default()
            };
            let mut failed = HashSet::new();
            for _ in 0..MAX_PASSES {
                if report.remaining == 0 {
                    break;
                }
                let before = report.reencrypted;
                let mut after = (UserId::from(Uuid::nil()), String::new());
                let stopped = loop {
                    if options.max_batches.is_some_and(|max| report.batches >= max) {
                        break true;
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
                    let Some(last) = rows.last() else {
                        break false;
                    };
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
                };
                let (_, stale) = B::count_tokens_by_key(&self.pool, key_id.as_bytes()).await?;
                report.remaining = u64::try_from(stale).unwrap_or(0);
                if stopped || report.reencrypted == before {
                    break;
                }
            }
            report.failed = failed.len() as u64;
            report.complete = report.remaining == 0;
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
    let access = keys.decrypt(&row.access_token_encrypted, &access_aad, "access_token")?;
    let refresh = row
        .refresh_token_encrypted
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
        access_token_encrypted: keys.encrypt(&access, &access_aad),
        refresh_token_encrypted: refresh,
    })
}
