use std::future::Future;

use time::OffsetDateTime;

use crate::{
    ApiKeyId, ApiKeyUsage, ApiKeyUsageStats, Backend, EndpointUsage, Error, JwtUsage, Result,
    Store, UserId,
    backend::{
        codec::Timestamp,
        rows::{ApiKeyUsageRow, EndpointUsageRow, JwtUsageRow},
    },
    clock, validate,
};

use super::convert::stored_count;

/// A usage insert leaves out a row whose key or user does not exist: that is `NotFound`.
fn inserted_or_missing(inserted: u64, entity: &'static str, id: &impl ToString) -> Result<()> {
    if inserted == 0 {
        return Err(Error::NotFound {
            entity,
            id: id.to_string(),
        });
    }
    Ok(())
}

/// Longest HTTP method or RPC verb accepted.
const MAX_METHOD_LEN: usize = 64;
/// Longest client address accepted.
const MAX_IP_LEN: usize = 64;

impl<B: Backend> Store<B> {
    /// Appends one usage row for an API key, with the timestamp it carries. On PostgreSQL,
    /// a row whose month (UTC) has no partition yet gets one, created on the spot: no row
    /// is refused or parked for its date.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a status outside 100..=599, an empty endpoint or method,
    /// or an oversized field; [`Error::NotFound`] when the API key does not exist.
    pub async fn record_api_usage(&self, usage: &ApiKeyUsage) -> Result<()> {
        self.observe("record_api_usage", async move {
            let row = api_usage_row(usage)?;
            let inserted = self
                .with_usage_partitions(&[row.timestamp], || async {
                    Ok(B::insert_api_key_usage(&self.pool, &row).await?)
                })
                .await?;
            inserted_or_missing(inserted, "api key", &usage.api_key_id)
        })
        .await
    }

    /// Appends one usage row for a JWT-authenticated user.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// As [`Store::record_api_usage`]; [`Error::NotFound`] when the user does not exist.
    pub async fn record_jwt_usage(&self, usage: &JwtUsage) -> Result<()> {
        self.observe("record_jwt_usage", async move {
            let row = jwt_usage_row(usage)?;
            let inserted = self
                .with_usage_partitions(&[row.timestamp], || async {
                    Ok(B::insert_jwt_usage(&self.pool, &row).await?)
                })
                .await?;
            inserted_or_missing(inserted, "user", &usage.user_id)
        })
        .await
    }

    /// Totals over the usage of every API key of the user (one aggregate query). A user with
    /// no usage gets zeros and `None`s.
    ///
    /// Reads from a healthy read replica when there is one (it may trail the primary by up
    /// to [`StoreConfig::read_max_lag`](crate::StoreConfig::read_max_lag)), else from the
    /// primary; a replica that fails the read is never the caller's error.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn get_usage_stats(&self, user: UserId) -> Result<ApiKeyUsageStats> {
        self.observe("get_usage_stats", async move {
            let row = self
                .read_tolerating_lag(|pool| async move { B::select_usage_stats(&pool, user).await })
                .await?;
            let total_requests = stored_count("total_requests", row.total_requests)?;
            let successful_requests = stored_count("successful_requests", row.successful_requests)?;
            Ok(ApiKeyUsageStats {
                total_requests,
                successful_requests,
                failed_requests: total_requests.saturating_sub(successful_requests),
                average_response_time_ms: row.average_response_time_ms,
                first_request: row.first_request.map(Into::into),
                last_request: row.last_request.map(Into::into),
            })
        })
        .await
    }
}

/// Rows removed by [`Store::prune_usage`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PruneReport {
    /// `api_key_usage` rows deleted.
    pub api_key_usage: u64,
    /// `jwt_usage` rows deleted.
    pub jwt_usage: u64,
}

impl<B: Backend> Store<B> {
    /// Deletes usage rows (per API key and per JWT user) stamped before `cutoff`. On
    /// PostgreSQL, first drops every monthly partition lying wholly before `cutoff`, oldest
    /// first and one per statement (its rows counted, then gone at once, leaving no dead
    /// rows behind). Each drop takes an ACCESS EXCLUSIVE lock on its table: it waits for
    /// transactions reading the table, holding up inserts meanwhile, at most 1 s, then
    /// fails ([`Error::Database`], SQLSTATE 55P03; run it again later). A role that does not
    /// own the usage tables may not drop partitions (SQLSTATE 42501): it then deletes
    /// their rows instead, as below, and a warning is logged. Then, on both
    /// backends, deletes what is left before `cutoff` (on PostgreSQL only in the partition
    /// holding `cutoff`), oldest first, `batch_size` rows per statement so that other
    /// writers are never blocked for long. Calls `progress` after the partitions are
    /// dropped and after each batch. Stopping half-way loses nothing: run it again to
    /// finish.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a zero batch size; [`Error::Database`] (among them a
    /// partition's lock not had within 1 s).
    pub async fn prune_usage(
        &self,
        cutoff: time::OffsetDateTime,
        batch_size: u32,
        mut progress: impl FnMut(&PruneReport) + Send,
    ) -> Result<PruneReport> {
        self.observe("prune_usage", async move {
            if batch_size == 0 {
                return Err(Error::invalid("batch_size", "must be at least 1"));
            }
            validate::timestamp("cutoff", cutoff)?;
            let cutoff = cutoff.into();
            let limit = i64::from(batch_size);
            let mut report = PruneReport::default();
            if let Err(error) = self.drop_partitions_before(cutoff, &mut report).await {
                if !B::is_insufficient_privilege(&error) {
                    return Err(error.into());
                }
                tracing::warn!(
                    %error,
                    "usage partitions not dropped (the role does not own the usage tables): \
                     their rows are deleted instead"
                );
            }
            progress(&report);
            loop {
                let deleted = B::delete_api_key_usage_before(&self.pool, cutoff, limit).await?;
                report.api_key_usage += deleted;
                progress(&report);
                if deleted < u64::from(batch_size) {
                    break;
                }
            }
            loop {
                let deleted = B::delete_jwt_usage_before(&self.pool, cutoff, limit).await?;
                report.jwt_usage += deleted;
                progress(&report);
                if deleted < u64::from(batch_size) {
                    break;
                }
            }
            Ok(report)
        })
        .await
    }

    /// Drops, oldest first, the partitions of both usage tables lying wholly before
    /// `cutoff`, one per statement, adding their rows to `report`.
    async fn drop_partitions_before(
        &self,
        cutoff: Timestamp,
        report: &mut PruneReport,
    ) -> sqlx::Result<()> {
        while let Some(rows) =
            B::drop_oldest_api_key_usage_partition_before(&self.pool, cutoff).await?
        {
            report.api_key_usage += rows;
        }
        while let Some(rows) = B::drop_oldest_jwt_usage_partition_before(&self.pool, cutoff).await?
        {
            report.jwt_usage += rows;
        }
        Ok(())
    }

    /// On PostgreSQL, creates the monthly partitions of `api_key_usage` and `jwt_usage` for
    /// the current month (UTC) and the `months_ahead` months after it, where missing;
    /// returns how many it created (0 when all exist, and always on SQLite, whose usage
    /// tables are not partitioned). Idempotent and safe to run while the server writes.
    /// [`Store::migrate`] runs it with [`USAGE_PARTITION_MONTHS_AHEAD`]; run it (or
    /// `pierre-store maintain`) from a daily or monthly job so that inserts never have to
    /// create a partition themselves (they would, on demand, rather than fail).
    ///
    /// Runs on the primary. Creating a partition takes only a SHARE UPDATE EXCLUSIVE lock
    /// on each usage table (the partition is made apart, then attached): it does not wait
    /// for readers of the tables, nor hold up inserts into existing months.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for `months_ahead` above 120; [`Error::Database`] (e.g. the
    /// role does not own the usage tables, so may not add partitions to them).
    pub async fn create_usage_partitions(&self, months_ahead: u32) -> Result<u64> {
        self.observe(
            "create_usage_partitions",
            self.create_partitions_ahead(months_ahead),
        )
        .await
    }

    /// [`Store::create_usage_partitions`] without its own metrics and span.
    pub(super) async fn create_partitions_ahead(&self, months_ahead: u32) -> Result<u64> {
        if months_ahead > MAX_MONTHS_AHEAD {
            return Err(Error::invalid(
                "months_ahead",
                format!("must be at most {MAX_MONTHS_AHEAD}"),
            ));
        }
        let instants = month_starts(clock::now(), months_ahead);
        Ok(B::create_usage_partitions(&self.pool, &instants).await?)
    }

    /// Runs `insert`; when PostgreSQL refuses it because a row's month has no partition,
    /// creates the partitions of the months of `instants` (the rows' timestamps) and runs
    /// it once more. A second refusal, or a failure to create the partition, is returned
    /// as it is ([`Error::Database`]): the rows are never parked anywhere else.
    pub(super) async fn with_usage_partitions<T, F, Fut>(
        &self,
        instants: &[Timestamp],
        insert: F,
    ) -> Result<T>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        match insert().await {
            Err(Error::Database(error)) if B::is_missing_partition(&error) => {
                let created = B::create_usage_partitions(&self.pool, instants).await?;
                tracing::info!(created, "usage partitions created on demand");
                insert().await
            }
            other => other,
        }
    }

    /// Inserts both kinds of usage rows in one transaction; returns how many went in (rows
    /// whose API key or user does not exist are left out). On PostgreSQL a row whose month
    /// has no partition gets one (see [`Store::with_usage_partitions`]) and the whole
    /// transaction is run again.
    pub(super) async fn write_usage_batch(
        &self,
        api: &[ApiKeyUsageRow],
        jwt: &[JwtUsageRow],
    ) -> Result<u64> {
        self.observe("write_usage_batch", async move {
            let instants: Vec<Timestamp> = api
                .iter()
                .map(|r| r.timestamp)
                .chain(jwt.iter().map(|r| r.timestamp))
                .collect();
            self.with_usage_partitions(&instants, || async {
                let mut tx = B::begin_write(&self.pool).await?;
                // Users before API keys: each insert locks the rows it refers to, and
                // deleting a user locks the user, then its keys. The same order cannot
                // deadlock.
                let inserted = async {
                    let mut inserted = 0;
                    if !jwt.is_empty() {
                        inserted += B::insert_jwt_usage_batch(&mut tx, jwt).await?;
                    }
                    if !api.is_empty() {
                        inserted += B::insert_api_key_usage_batch(&mut tx, api).await?;
                    }
                    Ok::<_, sqlx::Error>(inserted)
                }
                .await;
                match inserted {
                    Ok(inserted) => {
                        tx.commit().await?;
                        Ok(inserted)
                    }
                    Err(error) => {
                        // Rolled back now, not when the connection is next used: its
                        // locks would hold up the partition made before the retry.
                        let _ = tx.rollback().await;
                        Err(error.into())
                    }
                }
            })
            .await
        })
        .await
    }
}

/// Months ahead that [`Store::migrate`] makes sure have their usage partitions on
/// PostgreSQL: the current month and the three after it.
pub const USAGE_PARTITION_MONTHS_AHEAD: u32 = 3;

/// The most months ahead [`Store::create_usage_partitions`] accepts (ten years).
const MAX_MONTHS_AHEAD: u32 = 120;

/// The first instant (00:00 UTC on the 1st) of `now`'s month and of each of the `ahead`
/// months after it, stopping at year 9999.
fn month_starts(now: OffsetDateTime, ahead: u32) -> Vec<Timestamp> {
    let mut date = now.date().replace_day(1).unwrap_or(now.date());
    let mut months = Vec::new();
    for _ in 0..=ahead {
        months.push(Timestamp(date.midnight().assume_utc()));
        let (year, month) = match date.month() {
            time::Month::December => (date.year() + 1, time::Month::January),
            month => (date.year(), month.next()),
        };
        match time::Date::from_calendar_date(year, month, 1) {
            Ok(next) if year <= 9999 => date = next,
            _ => break,
        }
    }
    months
}

/// Validates an API key usage row and puts it in storage form.
pub(super) fn api_usage_row(usage: &ApiKeyUsage) -> Result<ApiKeyUsageRow> {
    Request {
        timestamp: usage.timestamp,
        endpoint: &usage.endpoint,
        method: &usage.method,
        status_code: usage.status_code,
        ip_address: usage.ip_address.as_deref(),
        user_agent: usage.user_agent.as_deref(),
    }
    .validate()?;
    validate::opt_text(
        "error_message",
        usage.error_message.as_deref(),
        validate::MAX_TEXT_LEN,
    )?;
    Ok(ApiKeyUsageRow {
        api_key_id: usage.api_key_id,
        timestamp: usage.timestamp.into(),
        endpoint: usage.endpoint.clone(),
        method: usage.method.clone(),
        status_code: i64::from(usage.status_code),
        response_time_ms: usage.response_time_ms.map(i64::from),
        request_size_bytes: usage.request_size_bytes.map(i64::from),
        response_size_bytes: usage.response_size_bytes.map(i64::from),
        ip_address: usage.ip_address.clone(),
        user_agent: usage.user_agent.clone(),
        error_message: usage.error_message.clone(),
    })
}

/// Validates a JWT usage row and puts it in storage form.
pub(super) fn jwt_usage_row(usage: &JwtUsage) -> Result<JwtUsageRow> {
    Request {
        timestamp: usage.timestamp,
        endpoint: &usage.endpoint,
        method: &usage.method,
        status_code: usage.status_code,
        ip_address: usage.ip_address.as_deref(),
        user_agent: usage.user_agent.as_deref(),
    }
    .validate()?;
    Ok(JwtUsageRow {
        user_id: usage.user_id,
        timestamp: usage.timestamp.into(),
        endpoint: usage.endpoint.clone(),
        method: usage.method.clone(),
        status_code: i64::from(usage.status_code),
        response_time_ms: usage.response_time_ms.map(i64::from),
        request_size_bytes: usage.request_size_bytes.map(i64::from),
        response_size_bytes: usage.response_size_bytes.map(i64::from),
        ip_address: usage.ip_address.clone(),
        user_agent: usage.user_agent.clone(),
    })
}

/// The fields both kinds of usage row share, checked the same way.
struct Request<'a> {
    timestamp: time::OffsetDateTime,
    endpoint: &'a str,
    method: &'a str,
    status_code: u16,
    ip_address: Option<&'a str>,
    user_agent: Option<&'a str>,
}

impl Request<'_> {
    fn validate(&self) -> Result<()> {
        validate::timestamp("timestamp", self.timestamp)?;
        validate::required("endpoint", self.endpoint, validate::MAX_TEXT_LEN)?;
        validate::required("method", self.method, MAX_METHOD_LEN)?;
        validate::status_code(self.status_code)?;
        validate::opt_text("ip_address", self.ip_address, MAX_IP_LEN)?;
        validate::opt_text("user_agent", self.user_agent, validate::MAX_TEXT_LEN)
    }
}

impl<B: Backend> Store<B> {
    /// Per endpoint, the requests made with the API key in `[from, to)` (`from` included,
    /// `to` excluded): how many, how many failed (status 400 or more) and their mean
    /// response time (requests that recorded none are left out of the mean). Most requests
    /// first, ties by endpoint in byte order; at most `limit` endpoints (`None`: all). One
    /// aggregate query over the key's index on `(api_key_id, timestamp)`. A key with no
    /// usage in the window, or no such key, gets an empty list.
    ///
    /// Reads from a healthy read replica when there is one (it may trail the primary by up
    /// to [`StoreConfig::read_max_lag`](crate::StoreConfig::read_max_lag)), else from the
    /// primary; a replica that fails the read is never the caller's error.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when `from` is not before `to`, a year is outside 1..=9999
    /// or `limit` is zero; [`Error::Database`].
    pub async fn get_api_key_endpoint_usage(
        &self,
        key: ApiKeyId,
        from: OffsetDateTime,
        to: OffsetDateTime,
        limit: Option<u32>,
    ) -> Result<Vec<EndpointUsage>> {
        self.observe("get_api_key_endpoint_usage", async move {
            let limit = endpoint_limit(from, to, limit)?;
            let (from, to) = (from.into(), to.into());
            let rows = self
                .read_tolerating_lag(|pool| async move {
                    B::select_api_key_endpoint_usage(&pool, key, from, to, limit).await
                })
                .await?;
            rows.into_iter().map(endpoint_usage_from_row).collect()
        })
        .await
    }

    /// As [`Store::get_api_key_endpoint_usage`], over the requests the user made with a
    /// JWT (`jwt_usage`; the usage of the user's API keys is not included), through the
    /// index on `(user_id, timestamp)`.
    ///
    /// Reads from a healthy read replica when there is one (it may trail the primary by up
    /// to [`StoreConfig::read_max_lag`](crate::StoreConfig::read_max_lag)), else from the
    /// primary; a replica that fails the read is never the caller's error.
    ///
    /// # Errors
    /// As [`Store::get_api_key_endpoint_usage`].
    pub async fn get_jwt_endpoint_usage(
        &self,
        user: UserId,
        from: OffsetDateTime,
        to: OffsetDateTime,
        limit: Option<u32>,
    ) -> Result<Vec<EndpointUsage>> {
        self.observe("get_jwt_endpoint_usage", async move {
            let limit = endpoint_limit(from, to, limit)?;
            let (from, to) = (from.into(), to.into());
            let rows = self
                .read_tolerating_lag(|pool| async move {
                    B::select_jwt_endpoint_usage(&pool, user, from, to, limit).await
                })
                .await?;
            rows.into_iter().map(endpoint_usage_from_row).collect()
        })
        .await
    }
}

/// Validates a per-endpoint query's window and limit; returns the limit to pass on.
fn endpoint_limit(from: OffsetDateTime, to: OffsetDateTime, limit: Option<u32>) -> Result<i64> {
    validate::window(from, to)?;
    match limit {
        Some(0) => Err(Error::invalid("limit", "must be at least 1")),
        Some(n) => Ok(i64::from(n)),
        None => Ok(i64::MAX),
    }
}

fn endpoint_usage_from_row(row: EndpointUsageRow) -> Result<EndpointUsage> {
    Ok(EndpointUsage {
        endpoint: row.endpoint,
        requests: stored_count("requests", row.requests)?,
        errors: stored_count("errors", row.errors)?,
        average_response_time_ms: row.average_response_time_ms,
    })
}
