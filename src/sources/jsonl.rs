//! Loose JSONL reading shared by the line-based sources.
//!
//! Lines are read one at a time. Invalid UTF-8 becomes U+FFFD, JSON-escaped
//! lone surrogates become `\ufffd`, and a last line without a newline that
//! does not parse is treated as still being written. Every problem is
//! reported through [`Diag`] with path:line, once per kind per file.

use crate::diag::Diag;
use crate::error::{IoContext, Result};
use std::borrow::Cow;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// Reads `path` line by line and calls `f(line_number, text, complete)` for
/// each non-blank line. `complete` is false for a last line with no trailing
/// newline. Returns the number of bytes consumed up to the end of the last
/// complete line.
pub fn read_lines(path: &Path, diag: &Diag, mut f: impl FnMut(u64, &str, bool)) -> Result<u64> {
    let file = std::fs::File::open(path).at(path)?;
    read_lines_from(path, file, diag, &mut f)
}

/// Like [`read_lines`], over any reader (`path` is only used in messages).
pub fn read_lines_from(
    path: &Path,
    reader: impl Read,
    diag: &Diag,
    f: &mut dyn FnMut(u64, &str, bool),
) -> Result<u64> {
    let mut r = BufReader::with_capacity(1 << 16, reader);
    let mut buf = Vec::with_capacity(1 << 16);
    let mut lineno = 0u64;
    let mut consumed = 0u64;
    loop {
        buf.clear();
        let n = r.read_until(b'\n', &mut buf).at(path)?;
        if n == 0 {
            break;
        }
        lineno += 1;
        let complete = buf.last() == Some(&b'\n');
        if complete {
            consumed += n as u64;
        }
        let bytes = trim_ascii_ws(&buf);
        if bytes.is_empty() {
            continue;
        }
        let text = match std::str::from_utf8(bytes) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => {
                diag.warn(
                    path,
                    Some(lineno),
                    "invalid-utf8",
                    "invalid UTF-8 replaced with U+FFFD",
                );
                String::from_utf8_lossy(bytes)
            }
        };
        f(lineno, &text, complete);
    }
    Ok(consumed)
}

fn trim_ascii_ws(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &b[start..end.max(start)]
}

/// Parses one line into `T`, repairing lone surrogates. Reports failures
/// and returns `None` for lines that cannot be read.
pub fn parse_line<T: serde::de::DeserializeOwned>(
    path: &Path,
    lineno: u64,
    text: &str,
    complete: bool,
    diag: &Diag,
) -> Option<T> {
    match serde_json::from_str::<T>(text) {
        Ok(v) => Some(v),
        Err(e) => {
            if text.contains("\\u") {
                let fixed = replace_lone_surrogates(text);
                if let Cow::Owned(fixed) = fixed
                    && let Ok(v) = serde_json::from_str::<T>(&fixed)
                {
                    diag.warn(
                        path,
                        Some(lineno),
                        "lone-surrogate",
                        "lone UTF-16 surrogate replaced with U+FFFD",
                    );
                    return Some(v);
                }
            }
            report_bad_line(path, lineno, complete, &e, diag);
            None
        }
    }
}

/// Reports a line that could not be parsed.
pub fn report_bad_line(
    path: &Path,
    lineno: u64,
    complete: bool,
    e: &serde_json::Error,
    diag: &Diag,
) {
    if !complete && e.is_eof() {
        diag.warn(
            path,
            Some(lineno),
            "truncated",
            "last line is incomplete (still being written?); skipped",
        );
    } else {
        diag.warn(
            path,
            Some(lineno),
            "malformed",
            format!("skipped a line that is not valid JSON: {e}"),
        );
    }
}

/// Replaces JSON `\uXXXX` escapes of unpaired UTF-16 surrogates with
/// `\ufffd`. Returns the input unchanged when there is none.
pub fn replace_lone_surrogates(s: &str) -> Cow<'_, str> {
    let b = s.as_bytes();
    let mut out: Option<String> = None;
    let mut last = 0usize;
    let mut i = 0usize;
    let hex = |at: usize| -> Option<u32> {
        let h = b.get(at..at + 4)?;
        u32::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()
    };
    while i < b.len() {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        if b.get(i + 1) != Some(&b'u') {
            i += 2;
            continue;
        }
        let Some(cp) = hex(i + 2) else {
            i += 2;
            continue;
        };
        if (0xD800..0xDC00).contains(&cp) {
            // A high surrogate must be followed by an escaped low one.
            let pair = b.get(i + 6) == Some(&b'\\')
                && b.get(i + 7) == Some(&b'u')
                && hex(i + 8).is_some_and(|lo| (0xDC00..0xE000).contains(&lo));
            if pair {
                i += 12;
                continue;
            }
        } else if !(0xDC00..0xE000).contains(&cp) {
            i += 6;
            continue;
        }
        let o = out.get_or_insert_with(|| String::with_capacity(s.len()));
        o.push_str(&s[last..i]);
        o.push_str("\\ufffd");
        i += 6;
        last = i;
    }
    match out {
        None => Cow::Borrowed(s),
        Some(mut o) => {
            o.push_str(&s[last..]);
            Cow::Owned(o)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lone_surrogates_are_replaced_and_pairs_kept() {
        assert_eq!(replace_lone_surrogates(r#""a\udcb2b""#), r#""a\ufffdb""#);
        assert_eq!(
            replace_lone_surrogates(r#""\ud83d\ude00""#),
            r#""\ud83d\ude00""#
        );
        assert_eq!(replace_lone_surrogates(r#""\ud83dx""#), r#""\ufffdx""#);
        assert_eq!(replace_lone_surrogates(r#""\\udcb2""#), r#""\\udcb2""#);
        let v: serde_json::Value =
            serde_json::from_str(&replace_lone_surrogates(r#"{"t":"x\udcb2y"}"#)).unwrap();
        assert_eq!(v["t"], "x\u{fffd}y");
    }
}
