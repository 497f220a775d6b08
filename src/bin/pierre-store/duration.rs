//! `90d`-style durations for `prune-usage --older-than`.

/// Parses a whole number followed by `s`, `m`, `h`, `d` or `w`.
pub fn parse(text: &str) -> Result<time::Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("{text:?} has no unit (use s, m, h, d or w, e.g. 90d)"))?;
    let (number, unit) = text.split_at(split);
    let n: i64 = number
        .parse()
        .map_err(|_| format!("{text:?} does not start with a whole number"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => {
            return Err(format!(
                "unknown unit {unit:?} in {text:?} (use s, m, h, d or w)"
            ));
        }
    };
    n.checked_mul(seconds)
        .map(time::Duration::seconds)
        .ok_or_else(|| format!("{text:?} is too long"))
}
