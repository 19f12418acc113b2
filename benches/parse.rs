//! Parse benchmark: a large Claude Code session read into the model.
//!
//! Builds ~10 MB and ~100 MB transcripts by repeating the fixture
//! transcripts with fresh ids (`common::generate`, shared with
//! `benches/export.rs`), then loads each one with
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

#[path = "common/mod.rs"]
mod common;

use chrono::{SecondsFormat, Utc};
use common::{
    GenOptions, MB, env_or, fixtures_dir, generate, load_templates, median_of, metric, min_of,
    status_kb, write_results,
};
use serde_json::{Value, json};
use sharegen::diag::Diag;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// Set in the child: the transcript to load.
const CHILD_FILE: &str = "SHAREGEN_BENCH_CHILD_FILE";
/// Set in the child: `read`, `json` or `load` (the default).
const CHILD_PHASE: &str = "SHAREGEN_BENCH_CHILD_PHASE";
/// The targets, for the 100 MB transcript.
const TARGET_SECS_100MB: f64 = 0.5;
const TARGET_RSS_RATIO: f64 = 2.0;
/// Phase runs per size (the minimum is reported).
const PHASE_RUNS: usize = 3;

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
        let all: Vec<_> = templates.iter().collect();
        let info = generate(&all, size * 1_000_000, &path, GenOptions::default())
            .expect("writing the transcript");
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
