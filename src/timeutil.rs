//! Parsing `--since` values: a duration back from now (`30m`, `12h`, `7d`,
//! `2w`) or a date (`2026-01-31`, RFC 3339).

use chrono::{DateTime, NaiveDate, Utc};

/// Parses `s` relative to `now`.
pub fn parse_since(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let s = s.trim();
    if let Some(d) = parse_duration(s) {
        return Ok(now - d);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    Err(format!(
        "invalid time `{s}`: use a duration such as 30m, 12h, 7d, 2w, or a date such as 2026-01-31"
    ))
}

/// Parses `7d`-style durations.
pub fn parse_duration(s: &str) -> Option<chrono::Duration> {
    let unit = s.chars().last()?;
    let n: i64 = s[..s.len() - unit.len_utf8()].parse().ok()?;
    if n < 0 {
        return None;
    }
    match unit {
        's' => chrono::Duration::try_seconds(n),
        'm' => chrono::Duration::try_minutes(n),
        'h' => chrono::Duration::try_hours(n),
        'd' => chrono::Duration::try_days(n),
        'w' => chrono::Duration::try_weeks(n),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_dates() {
        let now = DateTime::parse_from_rfc3339("2026-02-10T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            parse_since("7d", now).unwrap().to_rfc3339(),
            "2026-02-03T12:00:00+00:00"
        );
        assert_eq!(
            parse_since("2026-01-31", now).unwrap().to_rfc3339(),
            "2026-01-31T00:00:00+00:00"
        );
        assert!(parse_since("soon", now).is_err());
        assert!(parse_since("-3d", now).is_err());
    }
}
