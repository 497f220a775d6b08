//! Small conversions between stored values and model values, shared by every area.

use std::str::FromStr;

use crate::{Error, Result};

/// Parses a stored enum value; an unknown one means the row was written by something else.
pub(super) fn stored_enum<T: FromStr>(field: &'static str, value: &str) -> Result<T> {
    value.parse().map_err(|_| Error::CorruptData {
        field,
        reason: format!("unknown value {value:?}"),
    })
}

/// A stored count, which is never negative.
pub(super) fn stored_count(field: &'static str, value: i64) -> Result<u64> {
    u64::try_from(value).map_err(|_| Error::CorruptData {
        field,
        reason: format!("negative count {value}"),
    })
}
