//! Batches bound as ONE parameter: a `query!` macro takes a fixed number of parameters and a
//! batch has any number of rows, so the rows travel as one JSON array that the statement
//! expands with `JSON_TABLE(?, '$[*]' COLUMNS (...))`.
//!
//! Each row is a JSON array read by position (`PATH '$[0]'`, `'$[1]'`, ...). Declare id
//! columns `CHAR(36) CHARACTER SET ascii`, as the tables do: with the default character set
//! MariaDB cannot use the primary key to join (it scans the table once per row).

use serde::Serialize;

use crate::backend::codec::Timestamp;

/// The rows as one JSON array text, each row serialised by serde (a tuple becomes an array).
pub(super) fn json_rows<T: Serialize>(rows: &[T]) -> sqlx::Result<String> {
    serde_json::to_string(rows).map_err(|e| sqlx::Error::Encode(e.into()))
}

/// `at` as a `JSON_TABLE` column of type `DATETIME(6)` reads it: UTC
/// `YYYY-MM-DD HH:MM:SS.ffffff`, as the store writes every `DATETIME(6)`.
pub(super) fn json_timestamp(at: Timestamp) -> String {
    let utc = at.0.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}",
        utc.year(),
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second(),
        utc.microsecond()
    )
}
