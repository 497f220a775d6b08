//! Input rules, checked by `Store` before any write so that a rejected call writes nothing.

use crate::{Error, Result};

/// Longest email accepted (RFC 5321 path limit).
pub(crate) const MAX_EMAIL_LEN: usize = 254;
/// Longest name (tenant, API key, A2A client, activity, activity type).
pub(crate) const MAX_NAME_LEN: usize = 255;
/// Longest free-text value that is not a name (endpoint, user agent, reason, hash, ...).
pub(crate) const MAX_TEXT_LEN: usize = 4096;
/// Longest OAuth token accepted.
pub(crate) const MAX_TOKEN_LEN: usize = 16 * 1024;
/// Most rows one page of a listing returns.
pub(crate) const MAX_PAGE_LEN: u32 = 1000;

/// Trims and lower-cases an email, then checks its shape: one `@`, a non-empty local part,
/// a dotted domain, no whitespace or control characters, at most 254 characters.
pub(crate) fn email(raw: &str) -> Result<String> {
    let email = raw.trim().to_lowercase();
    let invalid = |reason: &str| Err(Error::invalid("email", reason));
    if email.is_empty() {
        return invalid("is empty");
    }
    if email.chars().count() > MAX_EMAIL_LEN {
        return invalid("is longer than 254 characters");
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return invalid("contains whitespace or control characters");
    }
    let Some((local, domain)) = email.split_once('@') else {
        return invalid("has no '@'");
    };
    if local.is_empty() || domain.contains('@') {
        return invalid("must be local-part@domain");
    }
    if domain.starts_with('.')
        || domain.ends_with('.')
        || !domain.contains('.')
        || domain.contains("..")
    {
        return invalid("has no valid domain");
    }
    Ok(email)
}

/// A name: not blank, at most 255 characters, no NUL.
pub(crate) fn name(field: &'static str, value: &str) -> Result<()> {
    non_blank(field, value, MAX_NAME_LEN)
}

/// Text that is not blank: as [`text`], and not only whitespace.
pub(crate) fn non_blank(field: &'static str, value: &str, max: usize) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::invalid(field, "is empty"));
    }
    text(field, value, max)
}

/// The size of a page: 1 to [`MAX_PAGE_LEN`]. Returns it as the backends bind it.
pub(crate) fn page_limit(limit: u32) -> Result<i64> {
    if (1..=MAX_PAGE_LEN).contains(&limit) {
        Ok(i64::from(limit))
    } else {
        Err(Error::invalid(
            "limit",
            format!("{limit} is not between 1 and {MAX_PAGE_LEN}"),
        ))
    }
}

/// Free text: at most `max` characters and no NUL (which PostgreSQL cannot store).
pub(crate) fn text(field: &'static str, value: &str, max: usize) -> Result<()> {
    if value.contains('\0') {
        return Err(Error::invalid(field, "contains a NUL character"));
    }
    if value.chars().count() > max {
        return Err(Error::invalid(
            field,
            format!("is longer than {max} characters"),
        ));
    }
    Ok(())
}

/// Optional free text: as [`text`] when present.
pub(crate) fn opt_text(field: &'static str, value: Option<&str>, max: usize) -> Result<()> {
    value.map_or(Ok(()), |v| text(field, v, max))
}

/// Required free text: as [`text`], and not empty.
pub(crate) fn required(field: &'static str, value: &str, max: usize) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid(field, "is empty"));
    }
    text(field, value, max)
}

/// A stored key hash (an API key's `key_hash`, an A2A client's `api_key_hash`): not empty,
/// at most [`MAX_NAME_LEN`] characters, and no whitespace or control character. MySQL
/// compares these columns with a PAD SPACE collation, where `h` and `h ` are one value;
/// refusing whitespace on every backend keeps one key one key everywhere.
pub(crate) fn key_hash(field: &'static str, value: &str) -> Result<()> {
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::invalid(
            field,
            "contains whitespace or control characters",
        ));
    }
    required(field, value, MAX_NAME_LEN)
}

/// A tenant slug: `[a-z0-9-]{1,63}`.
pub(crate) fn slug(value: &str) -> Result<()> {
    let ok = (1..=63).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid("slug", "must match [a-z0-9-]{1,63}"))
    }
}

/// An HTTP status code: 100 to 599.
pub(crate) fn status_code(value: u16) -> Result<()> {
    if (100..=599).contains(&value) {
        Ok(())
    } else {
        Err(Error::invalid(
            "status_code",
            format!("{value} is not between 100 and 599"),
        ))
    }
}

/// A finite number that is not negative.
pub(crate) fn non_negative_f64(field: &'static str, value: f64) -> Result<()> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            format!("{value} is not a finite, non-negative number"),
        ))
    }
}

/// An integer that is not negative.
pub(crate) fn non_negative_i64(field: &'static str, value: i64) -> Result<()> {
    if value >= 0 {
        Ok(())
    } else {
        Err(Error::invalid(field, format!("{value} is negative")))
    }
}

/// A list of short labels (scopes, capabilities).
pub(crate) fn labels(field: &'static str, values: &[String]) -> Result<()> {
    values
        .iter()
        .try_for_each(|v| required(field, v, MAX_NAME_LEN))
}

/// A timestamp both backends can store: years 1 to 9999.
pub(crate) fn timestamp(field: &'static str, value: time::OffsetDateTime) -> Result<()> {
    if (1..=9999).contains(&value.year()) {
        Ok(())
    } else {
        Err(Error::invalid(field, "year must be between 1 and 9999"))
    }
}

/// An optional timestamp: as [`timestamp`] when present.
pub(crate) fn opt_timestamp(
    field: &'static str,
    value: Option<time::OffsetDateTime>,
) -> Result<()> {
    value.map_or(Ok(()), |v| timestamp(field, v))
}

/// JSON both backends store and return identically: no NUL in any string or key
/// (PostgreSQL's JSONB refuses `\u0000`), and no float that JSON writes in exponent
/// notation (`1e15`, `5e-324`): JSONB rewrites those as plain decimals, which come back
/// as integers or fail to parse. Such numbers can be stored as strings.
pub(crate) fn json(field: &'static str, value: &serde_json::Value) -> Result<()> {
    use serde_json::Value;
    let has_nul = |s: &str| s.contains('\0');
    let ok = match value {
        Value::String(s) => !has_nul(s),
        Value::Array(items) => return items.iter().try_for_each(|v| json(field, v)),
        Value::Object(map) => {
            for (key, v) in map {
                if has_nul(key) {
                    return Err(Error::invalid(field, "has a key with a NUL character"));
                }
                json(field, v)?;
            }
            true
        }
        Value::Number(n)
            if n.is_f64() && serde_json::to_string(n).is_ok_and(|s| s.contains(['e', 'E'])) =>
        {
            return Err(Error::invalid(
                field,
                format!(
                    "the number {n} does not round-trip through PostgreSQL JSONB; store it as a string"
                ),
            ));
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => true,
    };
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(field, "has a string with a NUL character"))
    }
}

/// A time window `[from, to)`: both storable, `from` strictly before `to` (after both are
/// truncated to the microseconds the store keeps, so the window holds at least one).
pub(crate) fn window(from: time::OffsetDateTime, to: time::OffsetDateTime) -> Result<()> {
    timestamp("from", from)?;
    timestamp("to", to)?;
    if crate::clock::truncate(from) < crate::clock::truncate(to) {
        Ok(())
    } else {
        Err(Error::invalid("to", "must be after from"))
    }
}
