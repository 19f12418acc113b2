//! List benchmark: the real `sharegen list --json` over 1,000 sessions.
//!
//! Builds a fake `~/.claude/projects/` in a temp dir: 1,000 copies of the
//! fixture transcripts, each under its own session id, spread over 20
//! project folders. Then runs the release binary with `HOME` pointing
//! there: "cold" runs start without sharegen's listing cache (the OS page
//! cache is warm: the files were just written), "warm" runs reuse it. The
//! first cold run's output is checked (one row per session) and the warm
//! output compared with it.
//!
//! Prints a table and writes `target/bench-results/list.json`.
//!
//! Environment:
//! - `SHAREGEN_BENCH_FIXTURES`: folder of Claude Code project folders
//!   (default `tests/fixtures/claude-code/projects`).
//! - `SHAREGEN_BENCH_RESULTS`: where results go (default
//!   `$CARGO_TARGET_DIR/bench-results`, else `target/bench-results`).
//! - `SHAREGEN_BENCH_BIN`: the `sharegen` binary (default: the one cargo
//!   built for this bench).
//! - `SHAREGEN_BENCH_LIST_SESSIONS` (default 1000),
//!   `SHAREGEN_BENCH_LIST_PROJECTS` (default 20).
//! - `SHAREGEN_BENCH_RUNS`: warm runs (default 10; cold runs: 3).
//! - `SHAREGEN_BENCH_KEEP`: keep the fake store (prints where).

#[path = "common/mod.rs"]
mod common;

use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const MB: f64 = 1_000_000.0;
/// The target for a warm `list` over 1,000 sessions.
const TARGET_WARM_SECS: f64 = 0.2;
const COLD_RUNS: usize = 3;
const CACHE_FILE: &str = "cache/claude-code-list.json";

use common::{
    binary, env_or, fixtures_dir, has_conversation, median_of, metric, min_of, project_name,
    session_id, write_results,
};

fn main() {
    let sessions: usize = env_or("SHAREGEN_BENCH_LIST_SESSIONS", "1000")
        .parse()
        .unwrap_or(1000);
    let projects: usize = env_or("SHAREGEN_BENCH_LIST_PROJECTS", "20")
        .parse()
        .unwrap_or(20)
        .max(1);
    let warm_runs: usize = env_or("SHAREGEN_BENCH_RUNS", "10")
        .parse()
        .unwrap_or(10)
        .max(1);
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let bin = binary();
    assert!(
        bin.is_file(),
        "no sharegen binary at {} (cargo build --release)",
        bin.display()
    );

    let fixtures = fixtures_dir();
    let sources = session_files(&fixtures);
    assert!(
        !sources.is_empty(),
        "no usable transcripts under {}",
        fixtures.display()
    );

    let tmp = tempfile::Builder::new()
        .prefix("sharegen-bench-list")
        .tempdir()
        .expect("temp dir");
    let home = tmp.path();
    let t = Instant::now();
    let store_bytes = build_store(home, &sources, sessions, projects);
    eprintln!(
        "list: {sessions} sessions in {projects} project folders ({:.1} MB) written in {:.2} s",
        store_bytes as f64 / MB,
        t.elapsed().as_secs_f64()
    );

    let cache = home.join("sg").join(CACHE_FILE);
    let mut cold = Vec::new();
    let mut cold_out = Vec::new();
    for _ in 0..COLD_RUNS {
        match std::fs::remove_file(&cache) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => panic!("{}: {e}", cache.display()),
        }
        let (secs, out) = run_list(&bin, home);
        cold.push(secs);
        cold_out = out;
    }
    let rows = count_rows(&cold_out);
    if rows != sessions {
        eprintln!("list: WARNING: {rows} rows listed for {sessions} sessions");
    }
    let cache_bytes = std::fs::metadata(&cache).map_or(0, |m| m.len());
    // The cache is in place after the cold runs; one more untimed run.
    let (_, warm_out) = run_list(&bin, home);
    let same = warm_out == cold_out;
    if !same {
        eprintln!("list: WARNING: the warm output differs from the cold output");
    }
    let warm: Vec<f64> = (0..warm_runs).map(|_| run_list(&bin, home).0).collect();
    if std::env::var_os("SHAREGEN_BENCH_KEEP").is_some() {
        eprintln!("list: keeping {}", tmp.keep().display());
    }

    let (warm_min, warm_median) = (min_of(&warm), median_of(&warm));
    let (cold_min, cold_median) = (min_of(&cold), median_of(&cold));
    println!();
    println!(
        "list: `sharegen list --json` over {sessions} sessions, {cpus} CPUs; wall clock per process"
    );
    println!(
        "{:>6} {:>5} {:>9} {:>9} {:>9}",
        "cache", "runs", "min ms", "median ms", "max ms"
    );
    for (name, v) in [("cold", &cold), ("warm", &warm)] {
        println!(
            "{:>6} {:>5} {:>9.1} {:>9.1} {:>9.1}",
            name,
            v.len(),
            min_of(v) * 1e3,
            median_of(v) * 1e3,
            v.iter().copied().fold(0.0, f64::max) * 1e3
        );
    }
    println!(
        "store {:.1} MB, {rows} rows, cache {:.2} MB; target: warm < {:.0} ms",
        store_bytes as f64 / MB,
        cache_bytes as f64 / MB,
        TARGET_WARM_SECS * 1e3
    );

    let p = format!("list_{sessions}");
    let mut metrics = serde_json::Map::new();
    metric(
        &mut metrics,
        &format!("{p}.warm_min_s"),
        warm_min,
        "s",
        Some(TARGET_WARM_SECS),
        true,
    );
    metric(
        &mut metrics,
        &format!("{p}.warm_median_s"),
        warm_median,
        "s",
        None,
        false,
    );
    metric(
        &mut metrics,
        &format!("{p}.cold_min_s"),
        cold_min,
        "s",
        None,
        true,
    );
    metric(
        &mut metrics,
        &format!("{p}.cold_median_s"),
        cold_median,
        "s",
        None,
        false,
    );
    let out = json!({
        "bench": "list",
        "recorded": Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
        "cpus": cpus,
        "binary": bin,
        "metrics": metrics,
        "details": {
            "sessions": sessions,
            "projects": projects,
            "rows": rows,
            "store_bytes": store_bytes,
            "cache_bytes": cache_bytes,
            "warm_matches_cold": same,
            "cold_secs": cold,
            "warm_secs": warm,
        },
    });
    let path = write_results("list", &out);
    println!("results: {}", path.display());
}

/// One `sharegen list --json` with `home` as `$HOME`: wall time, stdout.
fn run_list(bin: &Path, home: &Path) -> (f64, Vec<u8>) {
    let mut cmd = Command::new(bin);
    cmd.args(["list", "--json"])
        .env_clear()
        .env("HOME", home)
        .env("SHAREGEN_HOME", home.join("sg"))
        .env("SHAREGEN_SALT", "bench")
        .stdin(Stdio::null());
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    let t = Instant::now();
    let out = cmd.output().expect("running sharegen");
    let secs = t.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "sharegen list failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    (secs, out.stdout)
}

fn count_rows(stdout: &[u8]) -> usize {
    match serde_json::from_slice::<Value>(stdout) {
        Ok(Value::Array(rows)) => rows.len(),
        _ => panic!("sharegen list --json printed no JSON array"),
    }
}

/// Main transcripts (not `agent-*`) that list as a session: they hold a
/// user or assistant record. Sorted by path.
fn session_files(dir: &Path) -> Vec<PathBuf> {
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
            if name.ends_with(".jsonl")
                && !name.starts_with("agent-")
                && p.is_file()
                && has_conversation(&p)
            {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

/// Writes `<home>/.claude/projects/<project>/<session-id>.jsonl` copies of
/// `sources`, round robin. Returns the bytes written.
fn build_store(home: &Path, sources: &[PathBuf], sessions: usize, projects: usize) -> u64 {
    let root = home.join(".claude/projects");
    let mut bytes = 0;
    for p in 0..projects {
        std::fs::create_dir_all(root.join(project_name(p))).expect("project dir");
    }
    for i in 0..sessions {
        let dest = root
            .join(project_name(i % projects))
            .join(format!("{}.jsonl", session_id(i)));
        bytes += std::fs::copy(&sources[i % sources.len()], &dest).expect("copying a transcript");
    }
    bytes
}
