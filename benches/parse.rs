//! Parse benchmark: a large Claude Code session read into the model.
//!
//! Builds ~10 MB and ~100 MB transcripts by repeating the fixture
//! transcripts with fresh ids (see [`Template`]), then loads each one with
//! `sharegen::sources::claude_code::load_file` in a child process (this
//! binary, re-executed) that reports wall time and peak RSS (`VmHWM`). The
//! same child can also run only the first phases of a load (reading lines;
//! parsing each line into a `serde_json::Value`), to show where time goes.
//!
//! Prints a table and writes `target/bench-results/parse.json`.
//!
//! Environment:
//! - `SHAREGEN_BENCH_FIXTURES`: folder of Claude Code project folders
//!   (default `tests/fixtures/claude-code/projects`).
//! - `SHAREGEN_BENCH_RESULTS`: where results go (default
//!   `$CARGO_TARGET_DIR/bench-results`, else `target/bench-results`).
//! - `SHAREGEN_BENCH_RUNS`: timed loads per size (default 5).
//! - `SHAREGEN_BENCH_PARSE_SIZES`: sizes in MB, comma separated (default
//!   `10,100`).
//! - `SHAREGEN_BENCH_KEEP`: keep the generated transcripts (prints where).

use chrono::{DateTime, FixedOffset, SecondsFormat, TimeDelta, Utc};
use serde_json::{Value, json};
use sharegen::diag::Diag;
use std::collections::{HashMap, HashSet};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Set in the child: the transcript to load.
const CHILD_FILE: &str = "SHAREGEN_BENCH_CHILD_FILE";
/// Set in the child: `read`, `json` or `load` (the default).
const CHILD_PHASE: &str = "SHAREGEN_BENCH_CHILD_PHASE";
const MB: f64 = 1_000_000.0;
/// The targets, for the 100 MB transcript.
const TARGET_SECS_100MB: f64 = 0.5;
const TARGET_RSS_RATIO: f64 = 2.0;
/// Phase runs per size (the minimum is reported).
const PHASE_RUNS: usize = 3;

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

fn main() {
    if let Some(file) = std::env::var_os(CHILD_FILE) {
        let phase = std::env::var(CHILD_PHASE).unwrap_or_else(|_| "load".into());
        child(Path::new(&file), &phase);
        return;
    }
    let fixtures = fixtures_dir();
    let templates = load_templates(&fixtures);
    assert!(
        !templates.is_empty(),
        "no usable transcripts under {}",
        fixtures.display()
    );
    let sizes: Vec<u64> = env_or("SHAREGEN_BENCH_PARSE_SIZES", "10,100")
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let runs: usize = env_or("SHAREGEN_BENCH_RUNS", "5")
        .parse()
        .unwrap_or(5)
        .max(1);
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());

    let tmp = tempfile::Builder::new()
        .prefix("sharegen-bench-parse")
        .tempdir()
        .expect("temp dir");
    let mut metrics = serde_json::Map::new();
    let mut details = serde_json::Map::new();
    let mut rows = Vec::new();
    for &size in &sizes {
        let path = tmp.path().join(format!("{size}mb.jsonl"));
        let t = Instant::now();
        let info = generate(&templates, size * 1_000_000, &path).expect("writing the transcript");
        eprintln!(
            "parse: generated {} ({:.1} MB, {} lines, {} copies) in {:.2} s",
            path.display(),
            info.bytes as f64 / MB,
            info.lines,
            info.copies,
            t.elapsed().as_secs_f64()
        );
        // One untimed load: warms the page cache and checks the file.
        let warm = run_child(&path, "load");
        let loads: Vec<ChildReport> = (0..runs).map(|_| run_child(&path, "load")).collect();
        let read = (0..PHASE_RUNS)
            .map(|_| run_child(&path, "read").secs)
            .fold(f64::INFINITY, f64::min);
        let json = (0..PHASE_RUNS)
            .map(|_| run_child(&path, "json").secs)
            .fold(f64::INFINITY, f64::min);

        let secs: Vec<f64> = loads.iter().map(|r| r.secs).collect();
        let (min, median) = (min_of(&secs), median_of(&secs));
        let peak_kb = loads.iter().map(|r| r.peak_kb).max().unwrap_or(0);
        let peak_bytes = peak_kb as f64 * 1024.0;
        let ratio = peak_bytes / info.bytes as f64;
        let drop = min_of(&loads.iter().map(|r| r.drop_secs).collect::<Vec<_>>());
        let (t_secs, t_ratio) = if size == 100 {
            (Some(TARGET_SECS_100MB), Some(TARGET_RSS_RATIO))
        } else {
            (None, None)
        };
        let p = format!("parse_{size}mb");
        metric(
            &mut metrics,
            &format!("{p}.time_min_s"),
            min,
            "s",
            t_secs,
            true,
        );
        metric(
            &mut metrics,
            &format!("{p}.time_median_s"),
            median,
            "s",
            None,
            false,
        );
        metric(
            &mut metrics,
            &format!("{p}.peak_rss_ratio"),
            ratio,
            "x file",
            t_ratio,
            true,
        );
        metric(
            &mut metrics,
            &format!("{p}.peak_rss_mb"),
            peak_bytes / MB,
            "MB",
            None,
            false,
        );
        metric(
            &mut metrics,
            &format!("{p}.phase_read_lines_s"),
            read,
            "s",
            None,
            false,
        );
        metric(
            &mut metrics,
            &format!("{p}.phase_lines_to_json_s"),
            json,
            "s",
            None,
            false,
        );
        metric(
            &mut metrics,
            &format!("{p}.drop_model_s"),
            drop,
            "s",
            None,
            false,
        );
        details.insert(
            p.clone(),
            json!({
                "file_bytes": info.bytes,
                "lines": info.lines,
                "copies": info.copies,
                "messages": warm.messages,
                "warnings": warm.warnings,
                "start_rss_kb": warm.start_kb,
                "load_secs": secs,
                "peak_rss_kb": loads.iter().map(|r| r.peak_kb).collect::<Vec<_>>(),
            }),
        );
        rows.push(Row {
            size,
            bytes: info.bytes,
            runs,
            min,
            median,
            peak_bytes,
            ratio,
            messages: warm.messages,
            read,
            json,
            drop,
        });
    }
    if std::env::var_os("SHAREGEN_BENCH_KEEP").is_some() {
        eprintln!("parse: keeping {}", tmp.keep().display());
    }

    print_table(&rows, cpus);
    let out = json!({
        "bench": "parse",
        "recorded": Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
        "cpus": cpus,
        "fixtures": templates.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        "metrics": metrics,
        "details": details,
    });
    let path = write_results("parse", &out);
    println!("results: {}", path.display());
}

struct Row {
    size: u64,
    bytes: u64,
    runs: usize,
    min: f64,
    median: f64,
    peak_bytes: f64,
    ratio: f64,
    messages: u64,
    read: f64,
    json: f64,
    drop: f64,
}

fn print_table(rows: &[Row], cpus: usize) {
    println!();
    println!(
        "parse: Claude Code transcript -> model (load_file), {cpus} CPUs; times are wall clock"
    );
    println!(
        "{:>7} {:>8} {:>4} {:>8} {:>8} {:>7} {:>8} {:>8} {:>8} | {:>8} {:>9} {:>7}",
        "size",
        "file MB",
        "runs",
        "min s",
        "median s",
        "MB/s",
        "peak MB",
        "RSS/file",
        "messages",
        "read s",
        "+JSON s",
        "drop s"
    );
    for r in rows {
        println!(
            "{:>5}MB {:>8.1} {:>4} {:>8.3} {:>8.3} {:>7.0} {:>8.1} {:>7.2}x {:>8} | {:>8.3} {:>9.3} {:>7.3}",
            r.size,
            r.bytes as f64 / MB,
            r.runs,
            r.min,
            r.median,
            r.bytes as f64 / MB / r.min,
            r.peak_bytes / MB,
            r.ratio,
            r.messages,
            r.read,
            r.json,
            r.drop
        );
    }
    println!(
        "target (100 MB): < {TARGET_SECS_100MB} s, peak RSS < {TARGET_RSS_RATIO}x file size; \
         read s = read lines only, +JSON s = read lines + serde_json::Value per line"
    );
}

// ---------------------------------------------------------------------------
// The child: load one file, report time and peak memory as one JSON line.

struct ChildReport {
    secs: f64,
    drop_secs: f64,
    peak_kb: u64,
    start_kb: u64,
    messages: u64,
    warnings: u64,
}

fn child(path: &Path, phase: &str) {
    let start_kb = status_kb("VmHWM");
    let diag = Diag::silent();
    let t = Instant::now();
    let (messages, session) = match phase {
        "read" => {
            let mut n = 0u64;
            sharegen::sources::jsonl::read_lines(path, &diag, |_, text, _| n += text.len() as u64)
                .expect("reading");
            (n, None)
        }
        "json" => {
            let mut n = 0u64;
            sharegen::sources::jsonl::read_lines(path, &diag, |_, text, _| {
                if let Ok(v) = serde_json::from_str::<Value>(text) {
                    n += u64::from(v.is_object());
                }
            })
            .expect("reading");
            (n, None)
        }
        _ => {
            let s = sharegen::sources::claude_code::load_file(path, &diag)
                .expect("loading the session");
            (s.messages.len() as u64, Some(s))
        }
    };
    let secs = t.elapsed().as_secs_f64();
    let peak_kb = status_kb("VmHWM");
    let t = Instant::now();
    drop(session);
    let drop_secs = t.elapsed().as_secs_f64();
    let report = json!({
        "secs": secs,
        "drop_secs": drop_secs,
        "peak_kb": peak_kb,
        "start_kb": start_kb,
        "messages": messages,
        "warnings": diag.warnings().len(),
    });
    println!("{report}");
}

/// A `kB` field of `/proc/self/status` (0 where there is none).
fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn run_child(path: &Path, phase: &str) -> ChildReport {
    let exe = std::env::current_exe().expect("current exe");
    let out = Command::new(exe)
        .env(CHILD_FILE, path)
        .env(CHILD_PHASE, phase)
        .output()
        .expect("running the child");
    assert!(
        out.status.success(),
        "child ({phase}) failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or("");
    let v: Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("child report `{line}`: {e}"));
    let f = |k: &str| v[k].as_f64().unwrap_or(0.0);
    let u = |k: &str| v[k].as_u64().unwrap_or(0);
    ChildReport {
        secs: f("secs"),
        drop_secs: f("drop_secs"),
        peak_kb: u("peak_kb"),
        start_kb: u("start_kb"),
        messages: u("messages"),
        warnings: u("warnings"),
    }
}

// ---------------------------------------------------------------------------
// Input: fixture transcripts repeated with fresh ids.

/// One fixture transcript, split into literal text and the spots a copy
/// rewrites, so copies keep the fixture's exact bytes (key order, escapes).
struct Template {
    name: String,
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
}

fn fixtures_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("SHAREGEN_BENCH_FIXTURES") {
        return PathBuf::from(d);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/claude-code/projects")
}

/// Main transcripts (`<project>/<uuid>.jsonl`, not `agent-*`) that hold a
/// conversation, sorted by path.
fn load_templates(dir: &Path) -> Vec<Template> {
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
        for (i, (_, _, v)) in values.iter().enumerate() {
            collect_ids(v, &mut ids);
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
            // (start, end, what replaces text[start..end]); Suffix is empty.
            let mut edits: Vec<(usize, usize, Seg)> = Vec::new();
            for (s, e) in string_literals(&text[*a..*b]) {
                let (s, e) = (a + s, a + e);
                let content = &text[s..e];
                if ids.contains(content) {
                    edits.push((e, e, Seg::Suffix));
                } else if let Some(&t) = time_index.get(content) {
                    edits.push((s, e, Seg::Time(t)));
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

struct GenInfo {
    bytes: u64,
    lines: u64,
    copies: u64,
}

/// Writes copies of the templates, round robin, until `target` bytes. Copy
/// `k` appends `-c<k>` to every id, shifts timestamps to follow the previous
/// copy, and parents its first record to the previous copy's last one.
fn generate(templates: &[Template], target: u64, out: &Path) -> std::io::Result<GenInfo> {
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?);
    let mut info = GenInfo {
        bytes: 0,
        lines: 0,
        copies: 0,
    };
    let mut cursor = templates[0].first;
    let mut prev_last: Option<String> = None;
    'copies: for k in 0.. {
        let t = &templates[k % templates.len()];
        let suffix = format!("-c{k}");
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
// Results.

fn env_or(key: &str, default: &str) -> String {
    std::env::var(key)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

fn min_of(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

fn median_of(v: &[f64]) -> f64 {
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
fn metric(
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

fn results_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("SHAREGEN_BENCH_RESULTS") {
        return PathBuf::from(d);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("bench-results")
}

fn write_results(name: &str, v: &Value) -> PathBuf {
    let dir = results_dir();
    std::fs::create_dir_all(&dir).expect("results dir");
    let path = dir.join(format!("{name}.json"));
    let mut bytes = serde_json::to_vec_pretty(v).expect("json");
    bytes.push(b'\n');
    std::fs::write(&path, bytes).expect("writing results");
    path
}
