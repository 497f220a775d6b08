//! Rows handed to one statement as a single JSON array parameter, unpacked in SQL by
//! `JSON_TABLE(?, '$[*]' COLUMNS (...))`: a `query!` macro takes a fixed number of
//! parameters, so this is how one checked statement writes any number of rows.
//!
//! Each row is a JSON array (its columns by position, `'$[0]'`, `'$[1]'`, ...); ids are
//! their hyphenated text, timestamps [`datetime`] text read by a `DATETIME(6)` column of
//! the `JSON_TABLE`, and `None` is JSON `null`, which `JSON_TABLE` reads as SQL `NULL`.
//!
//! `JSON_TABLE` does not fail on a value its column cannot hold: strict mode does not
//! apply to it, and it cuts the text, or reads `0` or a zero date, with only a warning. So
//! every column that carries free text is `LONGTEXT`: an over-long value reaches the
//! table's own column and fails there (every session is strict, see `Lifecycle::connect`).
//! It must reach it through an expression, `CAST(b.x AS CHAR CHARACTER SET utf8mb4)`:
//! MariaDB 10.11 copies a `JSON_TABLE` `LONGTEXT` (or `MEDIUMTEXT`) column straight into a
//! `TEXT` column with its length wrapped modulo 65,536 (70,000 bytes arrive as 4,464) and
//! no error or warning, while the cast value fails with error 1406, data too long.
//! The other columns cannot be cut or zeroed for a value the store produces, because the
//! store builds this JSON itself: ids are 36-character hyphenated UUIDs (`CHAR(36)`),
//! numbers are Rust `i64` (`BIGINT`), and timestamps are [`datetime`] text of a year the
//! store writes (1 to 9999, `validate::timestamp`).

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
