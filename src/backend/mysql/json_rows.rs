//! Rows handed to one statement as a single JSON array parameter, unpacked in SQL by
//! `JSON_TABLE(?, '$[*]' COLUMNS (...))`: a `query!` macro takes a fixed number of
//! parameters, so this is how one checked statement writes any number of rows.
//!
//! Each row is a JSON array (its columns by position, `'$[0]'`, `'$[1]'`, ...); ids are
//! their hyphenated text, timestamps [`datetime`] text read by a `DATETIME(6)` column of
//! the `JSON_TABLE`, and `None` is JSON `null`, which `JSON_TABLE` reads as SQL `NULL`.

use serde::Serialize;

use crate::backend::codec::Timestamp;

/// `at` as `DATETIME(6)` text in UTC: `YYYY-MM-DD HH:MM:SS.ffffff`.
pub(super) fn datetime(at: Timestamp) -> String {
    let at = at.0.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.microsecond()
    )
}

/// `rows` as one JSON array, the parameter of a `JSON_TABLE`.
pub(super) fn json_array<T: Serialize>(rows: &[T]) -> sqlx::Result<String> {
    serde_json::to_string(rows).map_err(|e| sqlx::Error::Encode(e.into()))
}
