//! The store's notion of time: UTC, whole microseconds, so that every timestamp written
//! reads back identically on both backends.

use time::OffsetDateTime;

/// The current time in UTC, truncated to whole microseconds.
pub(crate) fn now() -> OffsetDateTime {
    truncate(OffsetDateTime::now_utc())
}

/// `at` converted to UTC and truncated (towards the past) to whole microseconds.
pub(crate) fn truncate(at: OffsetDateTime) -> OffsetDateTime {
    let at = at.to_offset(time::UtcOffset::UTC);
    let sub_micro = at.nanosecond() % 1_000;
    at - time::Duration::nanoseconds(i64::from(sub_micro))
}
