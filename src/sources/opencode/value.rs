//! Lenient reading of OpenCode's JSON records.
//!
//! Record shapes change between OpenCode versions, so every field is
//! optional and a field of the wrong type reads as absent. Nothing here
//! panics on any input.

use crate::diag::Diag;
use crate::model::Usage;
use crate::sources::jsonl::replace_lone_surrogates;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::borrow::Cow;
use std::path::Path;

/// Token counts above this are treated as this value. OpenCode stores
/// JavaScript numbers; the cap keeps sums of absurd values from
/// overflowing.
const TOKEN_CAP: u64 = 1 << 40;

/// The string at `v[key]`.
pub(super) fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)?.as_str()
}

/// The string at `v[key]`, unless it is blank.
pub(super) fn text_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    str_at(v, key).filter(|s| !s.trim().is_empty())
}

/// A non-negative integer, from a number (fractions truncated) or a
/// numeric string.
pub(super) fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0)
                .map(|f| f as u64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// An integer, from a number (fractions truncated) or a numeric string.
pub(super) fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A finite float.
pub(super) fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64().filter(|f| f.is_finite()),
        Value::String(s) => s.trim().parse().ok().filter(|f: &f64| f.is_finite()),
        _ => None,
    }
}

/// Epoch milliseconds as a UTC time.
pub(super) fn time_ms(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
}

/// `v.time[key]` in epoch milliseconds.
pub(super) fn time_field(v: &Value, key: &str) -> Option<i64> {
    v.get("time")?.get(key).and_then(as_i64)
}

/// Milliseconds from `start` to `end`, when both are known and ordered.
pub(super) fn duration(start: Option<i64>, end: Option<i64>) -> Option<u64> {
    let d = end?.checked_sub(start?)?;
    u64::try_from(d).ok()
}

/// Usage from an OpenCode `tokens` object
/// (`{input, output, reasoning, cache: {read, write}}`) and a `cost`.
/// `None` when neither is present.
pub(super) fn usage(tokens: Option<&Value>, cost: Option<&Value>) -> Option<Usage> {
    let tokens = tokens.filter(|t| t.is_object());
    let cost = cost.and_then(as_f64);
    if tokens.is_none() && cost.is_none() {
        return None;
    }
    let count = |v: Option<&Value>| v.and_then(as_u64).unwrap_or(0).min(TOKEN_CAP);
    let mut u = Usage {
        cost,
        ..Usage::default()
    };
    if let Some(t) = tokens {
        u.input = count(t.get("input"));
        u.output = count(t.get("output"));
        u.reasoning = count(t.get("reasoning"));
        let cache = t.get("cache");
        u.cache_read = count(cache.and_then(|c| c.get("read")));
        u.cache_write = count(cache.and_then(|c| c.get("write")));
    }
    Some(u)
}

/// A value shown as text: strings as they are, anything else as JSON.
pub(super) fn display(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// [`display`], taking the value instead of copying it.
pub(super) fn into_display(v: Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s),
        other => Some(other.to_string()),
    }
}

/// [`text_at`], taking the string out of `v` instead of copying it.
pub(super) fn take_text(v: &mut Value, key: &str) -> Option<String> {
    match v.get_mut(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(std::mem::take(s)),
        _ => None,
    }
}

/// Parses JSON text, repairing lone UTF-16 surrogate escapes.
pub(super) fn parse_json(text: &str) -> Result<Value, serde_json::Error> {
    match serde_json::from_str(text) {
        Ok(v) => Ok(v),
        Err(e) => match replace_lone_surrogates(text) {
            Cow::Owned(fixed) => serde_json::from_str(&fixed).map_err(|_| e),
            Cow::Borrowed(_) => Err(e),
        },
    }
}

/// Parses the bytes of a JSON record file. Reports a failure through
/// `diag` (a cut-off file as `truncated`, anything else as `malformed`).
pub(super) fn parse_record(path: &Path, bytes: &[u8], diag: &Diag) -> Option<Value> {
    let text = String::from_utf8_lossy(bytes);
    match parse_json(&text) {
        Ok(v) => Some(v),
        Err(e) if e.is_eof() => {
            diag.warn(
                path,
                None,
                "truncated",
                "file is incomplete (still being written?); skipped",
            );
            None
        }
        Err(e) => {
            diag.warn(
                path,
                None,
                "malformed",
                format!("skipped a file that is not valid JSON: {e}"),
            );
            None
        }
    }
}

/// Reads and parses one JSON record file. A file that does not parse is
/// read once more (OpenCode writes these files in place, so a reader can
/// catch one half-written) before it is reported and skipped.
pub(super) fn read_record(path: &Path, diag: &Diag) -> Option<Value> {
    let first = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            diag.warn(path, None, "unreadable", format!("cannot read: {e}"));
            return None;
        }
    };
    if let Ok(v) = parse_json(&String::from_utf8_lossy(&first)) {
        return Some(v);
    }
    let again = std::fs::read(path).unwrap_or_default();
    parse_record(path, &again, diag)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_are_read_leniently() {
        assert_eq!(as_u64(&json!(12)), Some(12));
        assert_eq!(as_u64(&json!(12.9)), Some(12));
        assert_eq!(as_u64(&json!("7")), Some(7));
        assert_eq!(as_u64(&json!(-3)), None);
        assert_eq!(as_u64(&json!([1])), None);
        assert_eq!(as_i64(&json!(-3.5)), Some(-3));
        assert_eq!(as_f64(&json!("x")), None);
    }

    #[test]
    fn usage_reads_tokens_and_cost() {
        let t = json!({"input": 2, "output": 7, "reasoning": 1, "cache": {"read": 5, "write": 3}});
        let u = usage(Some(&t), Some(&json!(0.25))).unwrap();
        assert_eq!((u.input, u.output, u.reasoning), (2, 7, 1));
        assert_eq!((u.cache_read, u.cache_write), (5, 3));
        assert_eq!(u.cost, Some(0.25));
        assert!(usage(Some(&json!("x")), None).is_none());
        let huge = json!({"input": 1e300});
        assert_eq!(usage(Some(&huge), None).unwrap().input, TOKEN_CAP);
    }

    #[test]
    fn durations_need_ordered_ends() {
        assert_eq!(duration(Some(10), Some(25)), Some(15));
        assert_eq!(duration(Some(25), Some(10)), None);
        assert_eq!(duration(Some(i64::MIN), Some(i64::MAX)), None);
        assert_eq!(duration(None, Some(1)), None);
    }
}
