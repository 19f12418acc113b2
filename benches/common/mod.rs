//! Shared by `benches/parse.rs` and `benches/export.rs` (each includes it
//! with `#[path = "common/mod.rs"] mod common;`; it lives in a folder so
//! cargo does not take it for a bench of its own).
//!
//! - Input: large Claude Code transcripts built by repeating the fixture
//!   transcripts with fresh ids ([`load_templates`], [`generate`]).
//! - Results: the `metrics` layout `scripts/bench` reads ([`metric`],
//!   [`write_results`]) and small statistics helpers.

#![allow(dead_code)] // each bench uses a different part

use chrono::{DateTime, FixedOffset, SecondsFormat, TimeDelta};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

pub const MB: f64 = 1_000_000.0;

/// Keys whose string value is an id that must stay unique per copy.
const ID_KEYS: &[&str] = &[
    "uuid",
    "parentUuid",
    "logicalParentUuid",
    "leafUuid",
    "requestId",
    "tool_use_id",
    "toolUseID",
    "parentToolUseID",
    "sourceToolAssistantUUID",
    "promptId",
    "messageId",
];

/// Record types that take part in the parent chain.
const CHAIN_TYPES: &[&str] = &["user", "assistant", "system", "progress", "attachment"];

// ---------------------------------------------------------------------------
// Input: fixture transcripts repeated with fresh ids.

/// One fixture transcript, split into literal text and the spots a copy
/// rewrites, so copies keep the fixture's exact bytes (key order, escapes).
pub struct Template {
    /// Path relative to the fixtures folder.
    pub name: String,
    /// Whether it holds an image or document block (base64 data).
    pub has_attachments: bool,
    lines: Vec<Vec<Seg>>,
    text: String,
    /// Top-level timestamps, in order of first appearance.
    times: Vec<DateTime<FixedOffset>>,
    first: DateTime<FixedOffset>,
    last: DateTime<FixedOffset>,
    /// The last chain member's uuid (before any suffix).
    last_uuid: Option<String>,
}

enum Seg {
    /// `text[a..b]`, as is.
    Lit(usize, usize),
    /// The copy's id suffix (placed at the end of an id's text).
    Suffix,
    /// The `times[i]` timestamp, shifted for the copy.
    Time(usize),
    /// The `null` parent of the transcript's first record: the previous
    /// copy's last uuid, so the chain runs across copies.
    RootParent,
    /// The end of a string that holds a newline: with
    /// [`GenOptions::unique_text`], the copy's whitespace mark goes here.
    TextEnd,
}

/// How [`generate`] writes copies.
#[derive(Debug, Clone, Copy, Default)]
pub struct GenOptions {
    /// Make every multi-line string differ between copies: each one gets a
    /// trailing whitespace mark (copy number + 1 in binary, a space for 0
    /// and a tab for 1). Without it, copies repeat the fixtures' text
    /// exactly, which content-keyed caches (the highlighter's) exploit in a
    /// way real sessions do not allow. Whitespace at the end keeps JSON
    /// texts parseable, Markdown and code the same, and paths (never
    /// multi-line) untouched.
    pub unique_text: bool,
}

pub fn fixtures_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("SHAREGEN_BENCH_FIXTURES") {
        return PathBuf::from(d);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/claude-code/projects")
}

/// Main transcripts (`<project>/<uuid>.jsonl`, not `agent-*`) that hold a
/// conversation, sorted by path.
pub fn load_templates(dir: &Path) -> Vec<Template> {
    let mut files = Vec::new();
    for project in std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
    {
        let Ok(rd) = std::fs::read_dir(project.path()) else {
            continue;
        };
        for f in rd.flatten() {
            let p = f.path();
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.ends_with(".jsonl") && !name.starts_with("agent-") && p.is_file() {
                files.push(p);
            }
        }
    }
    files.sort();
    files
        .iter()
        .filter_map(|f| Template::read(f, dir))
        .collect()
}

impl Template {
    fn read(path: &Path, root: &Path) -> Option<Template> {
        let text = std::fs::read_to_string(path).ok()?;
        let name = path
            .strip_prefix(root)
            .unwrap_or(path)
            .display()
            .to_string();
        let mut values: Vec<(usize, usize, Value)> = Vec::new();
        let mut pos = 0;
        for line in text.split_inclusive('\n') {
            let (a, b) = (pos, pos + line.trim_end().len());
            pos += line.len();
            if let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(&text[a..b]) {
                values.push((a, b, v));
            }
        }
        let mut ids = HashSet::new();
        let mut time_index: HashMap<String, usize> = HashMap::new();
        let mut times = Vec::new();
        let mut root = None;
        let mut last_uuid = None;
        let mut has_attachments = false;
        for (i, (_, _, v)) in values.iter().enumerate() {
            collect_ids(v, &mut ids);
            has_attachments |= has_base64_block(v);
            if let Some(ts) = v.get("timestamp").and_then(Value::as_str)
                && !time_index.contains_key(ts)
                && let Ok(t) = DateTime::parse_from_rfc3339(ts)
            {
                time_index.insert(ts.to_string(), times.len());
                times.push(t);
            }
            let uuid = v.get("uuid").and_then(Value::as_str);
            let kind = v.get("type").and_then(Value::as_str).unwrap_or("");
            if uuid.is_some() && root.is_none() && v.get("parentUuid").is_some_and(Value::is_null) {
                root = Some(i);
            }
            if let Some(u) = uuid
                && CHAIN_TYPES.contains(&kind)
                && v.get("isSidechain").and_then(Value::as_bool) != Some(true)
            {
                last_uuid = Some(u.to_string());
            }
        }
        // Only transcripts with a conversation: a first record and a chain.
        let root = root?;
        last_uuid.as_ref()?;
        let first = *times.iter().min()?;
        let last = *times.iter().max()?;

        let mut lines = Vec::with_capacity(values.len());
        for (i, (a, b, _)) in values.iter().enumerate() {
            // (start, end, what replaces text[start..end]); Suffix and
            // TextEnd are insertions (start == end).
            let mut edits: Vec<(usize, usize, Seg)> = Vec::new();
            for (s, e) in string_literals(&text[*a..*b]) {
                let (s, e) = (a + s, a + e);
                let content = &text[s..e];
                if ids.contains(content) {
                    edits.push((e, e, Seg::Suffix));
                } else if let Some(&t) = time_index.get(content) {
                    edits.push((s, e, Seg::Time(t)));
                } else if has_escaped_newline(content) {
                    edits.push((e, e, Seg::TextEnd));
                }
            }
            if i == root {
                let key = "\"parentUuid\":null";
                if let Some(k) = text[*a..*b].find(key) {
                    let s = a + k + key.len() - 4;
                    edits.push((s, s + 4, Seg::RootParent));
                }
            }
            edits.sort_by_key(|(s, _, _)| *s);
            let mut segs = Vec::with_capacity(edits.len() * 2 + 1);
            let mut at = *a;
            for (s, e, seg) in edits {
                if s > at {
                    segs.push(Seg::Lit(at, s));
                }
                segs.push(seg);
                at = e;
            }
            segs.push(Seg::Lit(at, *b));
            lines.push(segs);
        }
        Some(Template {
            name,
            has_attachments,
            lines,
            text,
            times,
            first,
            last,
            last_uuid,
        })
    }
}

fn collect_ids(v: &Value, ids: &mut HashSet<String>) {
    match v {
        Value::Object(m) => {
            let id_holder = matches!(
                m.get("type").and_then(Value::as_str),
                Some("message" | "tool_use" | "server_tool_use")
            );
            for (k, x) in m {
                match x {
                    Value::String(s)
                        if !s.is_empty()
                            && (ID_KEYS.contains(&k.as_str()) || (id_holder && k == "id")) =>
                    {
                        ids.insert(s.clone());
                    }
                    _ => collect_ids(x, ids),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_ids(x, ids)),
        _ => {}
    }
}

/// An `image` or `document` content block anywhere in `v`.
fn has_base64_block(v: &Value) -> bool {
    match v {
        Value::Object(m) => {
            matches!(
                m.get("type").and_then(Value::as_str),
                Some("image" | "document")
            ) || m.values().any(has_base64_block)
        }
        Value::Array(a) => a.iter().any(has_base64_block),
        _ => false,
    }
}

/// Byte ranges of the contents of the JSON string literals in `s` (keys
/// and values, still escaped).
fn string_literals(s: &str) -> Vec<(usize, usize)> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'"' {
            i += 1;
            continue;
        }
        let start = i + 1;
        let mut j = start;
        while j < b.len() && b[j] != b'"' {
            j += if b[j] == b'\\' { 2 } else { 1 };
        }
        let end = j.min(b.len());
        out.push((start, end));
        i = end + 1;
    }
    out
}

/// Whether the (still escaped) contents of a JSON string hold a `\n`.
fn has_escaped_newline(content: &str) -> bool {
    let b = content.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            if b.get(i + 1) == Some(&b'n') {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

/// The whitespace mark of copy `k`, JSON-escaped (see
/// [`GenOptions::unique_text`]).
fn text_mark(k: usize) -> String {
    format!("{:b}", k + 1)
        .chars()
        .map(|c| if c == '0' { " " } else { "\\t" })
        .collect()
}

pub struct GenInfo {
    pub bytes: u64,
    pub lines: u64,
    pub copies: u64,
}

/// Writes copies of the templates, round robin, until `target` bytes. Copy
/// `k` appends `-c<k>` to every id, shifts timestamps to follow the previous
/// copy, and parents its first record to the previous copy's last one.
pub fn generate(
    templates: &[&Template],
    target: u64,
    out: &Path,
    opts: GenOptions,
) -> std::io::Result<GenInfo> {
    assert!(!templates.is_empty(), "no templates to generate from");
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?);
    let mut info = GenInfo {
        bytes: 0,
        lines: 0,
        copies: 0,
    };
    let mut cursor = templates[0].first;
    let mut prev_last: Option<String> = None;
    'copies: for k in 0.. {
        let t = templates[k % templates.len()];
        let suffix = format!("-c{k}");
        let mark = if opts.unique_text {
            text_mark(k)
        } else {
            String::new()
        };
        let offset = cursor - t.first;
        let times: Vec<String> = t
            .times
            .iter()
            .map(|x| {
                (*x + offset)
                    .to_utc()
                    .to_rfc3339_opts(SecondsFormat::Millis, true)
            })
            .collect();
        info.copies += 1;
        for segs in &t.lines {
            let mut n = 1;
            for seg in segs {
                let piece: &str = match seg {
                    Seg::Lit(a, b) => &t.text[*a..*b],
                    Seg::Suffix => &suffix,
                    Seg::Time(i) => &times[*i],
                    Seg::TextEnd => &mark,
                    Seg::RootParent => match &prev_last {
                        Some(p) => {
                            write!(w, "\"{p}\"")?;
                            n += p.len() + 2;
                            continue;
                        }
                        None => "null",
                    },
                };
                w.write_all(piece.as_bytes())?;
                n += piece.len();
            }
            w.write_all(b"\n")?;
            info.bytes += n as u64;
            info.lines += 1;
            if info.bytes >= target {
                break 'copies;
            }
        }
        prev_last = t.last_uuid.as_ref().map(|u| format!("{u}{suffix}"));
        cursor = t.last + offset + TimeDelta::seconds(1);
    }
    w.flush()?;
    Ok(info)
}

// ---------------------------------------------------------------------------
// Measuring and results.

/// A `kB` field of `/proc/self/status` (0 where there is none).
pub fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

pub fn env_or(key: &str, default: &str) -> String {
    std::env::var(key)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

pub fn min_of(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

pub fn median_of(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

/// One result; `regress`: compared with the baseline by `scripts/bench`.
pub fn metric(
    m: &mut serde_json::Map<String, Value>,
    name: &str,
    value: f64,
    unit: &str,
    target: Option<f64>,
    regress: bool,
) {
    m.insert(
        name.to_string(),
        json!({ "value": value, "unit": unit, "target": target, "regress": regress, "better": "lower" }),
    );
}

pub fn results_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("SHAREGEN_BENCH_RESULTS") {
        return PathBuf::from(d);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("bench-results")
}

pub fn write_results(name: &str, v: &Value) -> PathBuf {
    let dir = results_dir();
    std::fs::create_dir_all(&dir).expect("results dir");
    let path = dir.join(format!("{name}.json"));
    let mut bytes = serde_json::to_vec_pretty(v).expect("json");
    bytes.push(b'\n');
    std::fs::write(&path, bytes).expect("writing results");
    path
}

/// The sharegen binary to measure: `$SHAREGEN_BENCH_BIN`, else the one
/// cargo built for this bench, else `target/release/sharegen`.
pub fn binary() -> PathBuf {
    if let Some(b) = std::env::var_os("SHAREGEN_BENCH_BIN") {
        return PathBuf::from(b);
    }
    if let Some(b) = option_env!("CARGO_BIN_EXE_sharegen") {
        return PathBuf::from(b);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/sharegen")
}

/// Whether a transcript lists as a session: a user or assistant record
/// that is not meta.
pub fn has_conversation(path: &Path) -> bool {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines().any(|l| {
        serde_json::from_str::<Value>(l).is_ok_and(|v| {
            matches!(
                v.get("type").and_then(Value::as_str),
                Some("user" | "assistant")
            ) && v.get("isMeta").and_then(Value::as_bool) != Some(true)
        })
    })
}

pub fn project_name(i: usize) -> String {
    format!("-home-bench-work-project-{i:02}")
}

/// A UUID-shaped id, unique and deterministic per `i`.
pub fn session_id(i: usize) -> String {
    let mut x = (i as u64).wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^= x >> 31;
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        x >> 32,
        (x >> 16) & 0xffff,
        x & 0xfff,
        (i >> 12) & 0xfff,
        i & 0xfff_ffff_ffff
    )
}
