//! Site benchmark: the real `sharegen build` and `sharegen watch`.
//!
//! 1. `build` over 1,000 shares. A fake `~/.claude/projects/` holds 1,000
//!    copies of the small fixture transcripts (each under its own session
//!    id, spread over 20 project folders). One `sharegen list --json` gives
//!    every session's share id; `shares.json` is then written directly in
//!    its documented schema (sharing 1,000 sessions one `share` call at a
//!    time is slow), with the sessions' project folders allowed. Then: one
//!    cold `build --json` (everything rendered), several unchanged builds
//!    (timed; `--json` must show nothing rendered and nothing written), and
//!    a few rebuilds after appending one message to one session (exactly
//!    that share must be rendered; the written files are reported).
//! 2. `watch` over 200 shares: 199 small sessions and one ~100 MB session
//!    (`common::generate`, as `benches/parse.rs` builds it). `sharegen
//!    watch -v --debounce 1000` runs until its first build is done and its
//!    CPU time stops growing; then its CPU time (`/proc/<pid>/stat` utime +
//!    stime, and the threads' `schedstat` for ns resolution) is sampled over
//!    10 idle seconds. Then a message is appended to a small session, and to
//!    the big one, and the time until the page on disk holds the new text is
//!    measured (stat of `s/<id>/index.html` every 2 ms; on a change the page
//!    is read and searched). The timestamps of watch's `-v` lines (`change:`
//!    when the first event arrives, `rendered:` when the rebuild is over)
//!    split that latency into event delivery, debounce and rebuild. Finally
//!    `sharegen export` of the big session (HTML, then JSON) is timed once
//!    each, the two renders a rebuild of that share does, and a child (this
//!    binary, re-executed) times the steps of that rebuild one by one with
//!    the library (see [`child`]).
//!
//! Every process runs with a clean environment: `HOME=<tmp>`,
//! `SHAREGEN_HOME=<tmp>/sg`, `SHAREGEN_SALT=bench` and `PATH` only (so no
//! `CLAUDE_CONFIG_DIR`, `XDG_DATA_HOME` or `OPENCODE_DB`). Linux only (it
//! reads `/proc`).
//!
//! Prints a table and writes `target/bench-results/site.json`. Exits 1
//! (after writing the results) when a check fails: an unchanged build
//! rendered or wrote something, a rebuild rendered other shares, or a page
//! never showed the appended text.
//!
//! Environment:
//! - `SHAREGEN_BENCH_FIXTURES`: folder of Claude Code project folders
//!   (default `tests/fixtures/claude-code/projects`).
//! - `SHAREGEN_BENCH_RESULTS`: where results go (default
//!   `$CARGO_TARGET_DIR/bench-results`, else `target/bench-results`).
//! - `SHAREGEN_BENCH_BIN`: the `sharegen` binary (default: the one cargo
//!   built for this bench).
//! - `SHAREGEN_BENCH_RUNS`: unchanged builds (default 10).
//! - `SHAREGEN_BENCH_SITE_SHARES` (default 1000), `SHAREGEN_BENCH_SITE_PROJECTS`
//!   (default 20), `SHAREGEN_BENCH_SITE_MAX_KB`: largest fixture copied
//!   (default 200), `SHAREGEN_BENCH_SITE_CHANGED_RUNS`: rebuilds after an
//!   append (default 3).
//! - `SHAREGEN_BENCH_SITE_WATCH_SHARES` (default 200),
//!   `SHAREGEN_BENCH_SITE_DEBOUNCE_MS` (default 1000),
//!   `SHAREGEN_BENCH_SITE_IDLE_S` (default 10),
//!   `SHAREGEN_BENCH_SITE_LATENCY_RUNS`: appends to a small session (default
//!   5), `SHAREGEN_BENCH_SITE_BIG_MB`: size of the big session (default 100;
//!   0: none), `SHAREGEN_BENCH_SITE_BIG_RUNS`: appends to it (default 3),
//!   `SHAREGEN_BENCH_SITE_BIG_UNIQUE=1`: write it with
//!   `GenOptions::unique_text` (default 0: as `benches/parse.rs` does).
//! - `SHAREGEN_BENCH_KEEP`: keep the fake stores and sites (prints where).

#[path = "common/mod.rs"]
mod common;

use chrono::{SecondsFormat, Utc};
use common::{
    GenOptions, MB, env_or, fixtures_dir, generate, load_templates, median_of, metric, min_of,
    write_results,
};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// The targets.
const TARGET_UNCHANGED_SECS: f64 = 1.0;
const TARGET_IDLE_CPU_PCT: f64 = 1.0;
/// The latency target is the debounce plus this (report only).
const LATENCY_SLACK_SECS: f64 = 0.1;
const SALT: &str = "bench";
/// How often the page is stat'ed while waiting for it.
const POLL: Duration = Duration::from_millis(2);
/// CPU time below which a settle window counts as quiet.
const QUIET_NS: u64 = 5_000_000;
/// Set in the phase child: the session file, and the folder it writes to.
const CHILD_FILE: &str = "SHAREGEN_BENCH_SITE_CHILD_FILE";
const CHILD_OUT: &str = "SHAREGEN_BENCH_SITE_CHILD_OUT";

fn knob(key: &str, default: usize) -> usize {
    env_or(key, &default.to_string()).parse().unwrap_or(default)
}

use common::{binary, has_conversation, project_name, session_id};

fn main() {
    if let Some(file) = std::env::var_os(CHILD_FILE) {
        let out = std::env::var_os(CHILD_OUT).expect("phase child: no out");
        child(Path::new(&file), Path::new(&out));
        return;
    }
    let shares = knob("SHAREGEN_BENCH_SITE_SHARES", 1000).max(1);
    let projects = knob("SHAREGEN_BENCH_SITE_PROJECTS", 20).max(1);
    let max_kb = knob("SHAREGEN_BENCH_SITE_MAX_KB", 200) as u64;
    let unchanged_runs = knob("SHAREGEN_BENCH_RUNS", 10).max(1);
    let changed_runs = knob("SHAREGEN_BENCH_SITE_CHANGED_RUNS", 3).max(1);
    let watch_shares = knob("SHAREGEN_BENCH_SITE_WATCH_SHARES", 200).max(2);
    let debounce_ms = knob("SHAREGEN_BENCH_SITE_DEBOUNCE_MS", 1000) as u64;
    let idle_secs = knob("SHAREGEN_BENCH_SITE_IDLE_S", 10).max(1) as u64;
    let latency_runs = knob("SHAREGEN_BENCH_SITE_LATENCY_RUNS", 5).max(1);
    let big_mb = knob("SHAREGEN_BENCH_SITE_BIG_MB", 100) as u64;
    let big_runs = knob("SHAREGEN_BENCH_SITE_BIG_RUNS", 3).max(1);
    let big_unique = knob("SHAREGEN_BENCH_SITE_BIG_UNIQUE", 0) != 0;
    let keep = std::env::var_os("SHAREGEN_BENCH_KEEP").is_some();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let bin = binary();
    assert!(
        bin.is_file(),
        "no sharegen binary at {} (cargo build --release)",
        bin.display()
    );
    assert!(
        Path::new("/proc/self/stat").is_file(),
        "the site bench reads /proc (Linux only)"
    );

    let fixtures = fixtures_dir();
    let sources = small_session_files(&fixtures, max_kb * 1000);
    assert!(
        !sources.is_empty(),
        "no transcripts under {max_kb} KB with a conversation in {}",
        fixtures.display()
    );
    let tmp = tempfile::Builder::new()
        .prefix("sharegen-bench-site")
        .tempdir()
        .expect("temp dir");
    let mut problems: Vec<String> = Vec::new();
    let mut metrics = serde_json::Map::new();

    // -----------------------------------------------------------------------
    // 1. `sharegen build` over `shares` shares.
    let home = Home::new(tmp.path().join("build"), &bin);
    let t = Instant::now();
    let (_, store_bytes) = write_sessions(&home, &sources, shares, projects);
    let rows = share_all(&home, shares);
    let setup_secs = t.elapsed().as_secs_f64();
    eprintln!(
        "site: {shares} sessions ({} fixtures up to {max_kb} KB) in {projects} project folders, {:.1} MB, shared in {setup_secs:.2} s",
        sources.len(),
        store_bytes as f64 / MB
    );

    let (cold_secs, cold) = home.build();
    if cold.rendered.len() != shares || !cold.failed.is_empty() {
        problems.push(format!(
            "cold build: {} rendered, {} failed, for {shares} shares",
            cold.rendered.len(),
            cold.failed.len()
        ));
    }
    let site_bytes = dir_bytes(&home.site());
    eprintln!(
        "site: cold build {cold_secs:.2} s, {} rendered, {} files written, site {:.1} MB",
        cold.rendered.len(),
        cold.written.len(),
        site_bytes as f64 / MB
    );

    let mut unchanged = Vec::new();
    for i in 0..unchanged_runs {
        let (secs, out) = home.build();
        if !out.rendered.is_empty() || !out.written.is_empty() || !out.failed.is_empty() {
            problems.push(format!(
                "unchanged build {i}: rendered {:?}, wrote {:?}, failed {:?}",
                out.rendered, out.written, out.failed
            ));
        }
        if out.unchanged != shares {
            problems.push(format!(
                "unchanged build {i}: {} unchanged of {shares}",
                out.unchanged
            ));
        }
        unchanged.push(secs);
    }

    // One message appended to one session, then a build.
    let target = &rows[rows.len() / 2];
    let mut changed = Vec::new();
    let mut changed_written: Vec<Vec<String>> = Vec::new();
    for i in 0..changed_runs {
        let marker = marker("build", i);
        append_message(&target.path, &marker).expect("appending to a session");
        let (secs, out) = home.build();
        if out.rendered != [target.share_id.clone()] || !out.failed.is_empty() {
            problems.push(format!(
                "rebuild after an append to {}: rendered {:?}, failed {:?}",
                target.share_id, out.rendered, out.failed
            ));
        }
        let page = home.page(&target.share_id);
        if !file_contains(&page, &marker) {
            problems.push(format!("{} does not hold {marker}", page.display()));
        }
        changed.push(secs);
        changed_written.push(out.written);
    }
    if keep {
        eprintln!("site: keeping {}", home.dir.display());
    }

    // -----------------------------------------------------------------------
    // 2. `sharegen watch` over `watch_shares` shares.
    let whome = Home::new(tmp.path().join("watch"), &bin);
    let small_n = if big_mb > 0 {
        watch_shares - 1
    } else {
        watch_shares
    };
    let (_, watch_small_bytes) = write_sessions(&whome, &sources, small_n, projects);
    let mut big_path = None;
    let mut big_info = json!(null);
    if big_mb > 0 {
        let templates = load_templates(&fixtures);
        let all: Vec<_> = templates.iter().collect();
        let dir = whome.projects().join("-home-bench-work-big");
        std::fs::create_dir_all(&dir).expect("big project dir");
        let p = dir.join(format!("{}.jsonl", session_id(1_000_000)));
        let t = Instant::now();
        let opts = GenOptions {
            unique_text: big_unique,
        };
        let info = generate(&all, big_mb * 1_000_000, &p, opts).expect("writing the big session");
        eprintln!(
            "site: big session {:.1} MB, {} lines, {} copies, written in {:.2} s",
            info.bytes as f64 / MB,
            info.lines,
            info.copies,
            t.elapsed().as_secs_f64()
        );
        big_info = json!({
            "bytes": info.bytes,
            "lines": info.lines,
            "copies": info.copies,
            "unique_text": big_unique,
        });
        big_path = Some(p);
    }
    let wrows = share_all(&whome, watch_shares);
    let small = wrows
        .iter()
        .find(|r| Some(&r.path) != big_path.as_ref())
        .expect("a small share")
        .clone();
    let big = big_path.as_ref().map(|p| {
        wrows
            .iter()
            .find(|r| &r.path == p)
            .expect("the big share")
            .clone()
    });
    let small_bytes = std::fs::metadata(&small.path).map_or(0, |m| m.len());

    let debounce = Duration::from_millis(debounce_ms);
    let settle_window = debounce + Duration::from_secs(1);
    let mut watch = Watch::start(&whome, debounce_ms);
    let pid = watch.pid();
    let index = whome.site().join("index.html");
    let first_build = loop {
        if index.is_file() {
            break watch.started.elapsed().as_secs_f64();
        }
        if let Some(status) = watch.try_wait() {
            panic!("sharegen watch exited ({status}):\n{}", watch.log());
        }
        assert!(
            watch.started.elapsed() < Duration::from_secs(600),
            "no site/index.html after 600 s:\n{}",
            watch.log()
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    let settle_secs = settle(pid, settle_window, Duration::from_secs(120));
    eprintln!(
        "site: watch's first build {first_build:.2} s, CPU quiet {settle_secs:.1} s after start"
    );

    // Idle.
    let lines_before = watch.line_count();
    let (ticks0, tasks0) = (stat_ticks(pid), task_totals(pid));
    let t = Instant::now();
    std::thread::sleep(Duration::from_secs(idle_secs));
    let (ticks1, tasks1) = (stat_ticks(pid), task_totals(pid));
    let idle_elapsed = t.elapsed().as_secs_f64();
    let idle_cpu_pct = (ticks1 - ticks0) as f64 / clk_tck() / idle_elapsed * 100.0;
    let idle_cpu_ns_pct = tasks1.ns.saturating_sub(tasks0.ns) as f64 / 1e9 / idle_elapsed * 100.0;
    let idle_switches = tasks1.switches.saturating_sub(tasks0.switches);
    let idle_lines = watch.line_count() - lines_before;
    let idle_rss_mb = proc_status_kb(pid, "VmRSS") as f64 * 1024.0 / MB;
    let threads = tasks1.threads;

    // Latency, small session.
    let mut small_trials = Vec::new();
    for i in 0..latency_runs {
        match latency_trial(&watch, &whome, &small, &marker("small", i), debounce, 60) {
            Ok(tr) => small_trials.push(tr),
            Err(e) => problems.push(format!("small session, append {i}: {e}")),
        }
        settle(pid, settle_window, Duration::from_secs(120));
    }
    // Latency, big session.
    let mut big_trials = Vec::new();
    if let Some(big) = &big {
        for i in 0..big_runs {
            match latency_trial(&watch, &whome, big, &marker("big", i), debounce, 600) {
                Ok(tr) => big_trials.push(tr),
                Err(e) => problems.push(format!("big session, append {i}: {e}")),
            }
            settle(pid, settle_window, Duration::from_secs(300));
        }
    }
    let watch_peak_mb = proc_status_kb(pid, "VmHWM") as f64 * 1024.0 / MB;
    let (clean, log) = watch.stop();
    if !clean {
        problems.push("sharegen watch did not stop cleanly on SIGINT".into());
    }

    // Exports of the big session: the two renders its rebuild does.
    let mut big_exports = None;
    if let Some(big) = &big {
        let p = big.path.to_string_lossy().into_owned();
        let html = tmp.path().join("big.html");
        let js = tmp.path().join("big.json");
        let (h, _) = whome.run(&["export", &p, "-o", &html.to_string_lossy()]);
        let (j, _) = whome.run(&[
            "export",
            &p,
            "--format",
            "json",
            "-o",
            &js.to_string_lossy(),
        ]);
        let sizes = (
            std::fs::metadata(&html).map_or(0, |m| m.len()),
            std::fs::metadata(&js).map_or(0, |m| m.len()),
        );
        big_exports = Some((h, j, sizes));
    }
    // The same steps in one process, timed one by one (see `child`).
    let mut phases: Option<Value> = None;
    if let Some(big) = &big {
        let out_dir = tmp.path().join("phases");
        std::fs::create_dir_all(&out_dir).expect("phase dir");
        let exe = std::env::current_exe().expect("this bench's path");
        let mut c = Command::new(exe);
        whome.env(&mut c);
        c.env(CHILD_FILE, &big.path).env(CHILD_OUT, &out_dir);
        let o = c.output().expect("running the phase child");
        assert!(
            o.status.success(),
            "phase child failed: {}\n{}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        );
        phases = Some(serde_json::from_slice(&o.stdout).expect("phase child output"));
    }
    if keep {
        eprintln!("site: keeping {}", tmp.keep().display());
    }

    // -----------------------------------------------------------------------
    // Report.
    let debounce_s = debounce.as_secs_f64();
    let latency_target = debounce_s + LATENCY_SLACK_SECS;
    println!();
    println!(
        "site: `sharegen build` over {shares} shares ({:.1} MB of sessions, site {:.1} MB), {cpus} CPUs; wall clock per process",
        store_bytes as f64 / MB,
        site_bytes as f64 / MB
    );
    println!(
        "{:<34} {:>5} {:>9} {:>9} {:>9}  target",
        "build", "runs", "min ms", "median ms", "max ms"
    );
    let row = |name: &str, v: &[f64], target: &str| {
        println!(
            "{:<34} {:>5} {:>9.1} {:>9.1} {:>9.1}  {target}",
            name,
            v.len(),
            min_of(v) * 1e3,
            median_of(v) * 1e3,
            max_of(v) * 1e3
        );
    };
    row(
        &format!("cold ({} rendered)", cold.rendered.len()),
        &[cold_secs],
        "-",
    );
    row(
        "unchanged (0 rendered, 0 written)",
        &unchanged,
        &format!("< {:.0} ms", TARGET_UNCHANGED_SECS * 1e3),
    );
    row("one session appended (1 rendered)", &changed, "-");
    for (i, w) in changed_written.iter().enumerate() {
        println!("  files written by rebuild {}: {}", i + 1, w.join(", "));
    }
    println!();
    println!(
        "site: `sharegen watch --debounce {debounce_ms}` over {watch_shares} shares ({:.1} MB small{}), {threads} threads",
        watch_small_bytes as f64 / MB,
        if big_mb > 0 {
            format!(" + one {big_mb} MB session")
        } else {
            String::new()
        }
    );
    println!("  first build (site/index.html)  {first_build:>8.2} s");
    println!(
        "  idle CPU over {idle_elapsed:.1} s           {idle_cpu_pct:>8.3} %  (schedstat {idle_cpu_ns_pct:.4} %, {idle_switches} context switches, {idle_lines} log lines; target < {TARGET_IDLE_CPU_PCT} %)"
    );
    println!("  RSS idle / peak                {idle_rss_mb:>8.1} MB / {watch_peak_mb:.1} MB");
    println!(
        "{:<34} {:>5} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "append → page on disk", "runs", "min ms", "median ms", "event ms", "rebuild", "total"
    );
    let trial_row = |name: &str, v: &[Trial]| {
        if v.is_empty() {
            println!("{name:<34} {:>5}", 0);
            return;
        }
        let lat: Vec<f64> = v.iter().map(|t| t.latency).collect();
        let ev: Vec<f64> = v.iter().map(|t| t.event).collect();
        let rb: Vec<f64> = v.iter().map(|t| t.to_page).collect();
        let tot: Vec<f64> = v.iter().filter_map(|t| t.rebuild).collect();
        println!(
            "{:<34} {:>5} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
            name,
            v.len(),
            min_of(&lat) * 1e3,
            median_of(&lat) * 1e3,
            median_of(&ev) * 1e3,
            median_of(&rb) * 1e3,
            median_of(&tot) * 1e3
        );
    };
    trial_row(
        &format!("small session ({:.0} KB)", small_bytes as f64 / 1e3),
        &small_trials,
    );
    if big.is_some() {
        trial_row(&format!("{big_mb} MB session"), &big_trials);
    }
    println!(
        "  (medians: event = append → watch's `change:` line; rebuild = debounce over → page renamed into place; total = debounce over → `rendered:` line; issue's target: debounce + {:.0} ms = {:.0} ms)",
        LATENCY_SLACK_SECS * 1e3,
        latency_target * 1e3
    );
    if let Some((h, j, (hs, js))) = big_exports {
        println!(
            "  `sharegen export` of the {big_mb} MB session: HTML {h:.2} s ({:.1} MB), JSON {j:.2} s ({:.1} MB)",
            hs as f64 / MB,
            js as f64 / MB
        );
    }
    let phase = |pass: usize, k: &str| -> f64 {
        phases
            .as_ref()
            .and_then(|p| p[pass][k].as_f64())
            .unwrap_or(f64::NAN)
    };
    if phases.is_some() {
        println!(
            "  rebuilds of that share as watch does them, step by step (one process; pass 1 cold, passes 2 and 3 after an append):"
        );
        for (name, k) in [
            ("load_share (tail read + build)", "load_share_s"),
            ("redact (reusing the last pass)", "prepare_s"),
            ("HTML page (render + write)", "html_s"),
            ("session.json (render + write)", "json_s"),
        ] {
            println!(
                "    {name:<32} {:>7.3} s {:>7.3} s {:>7.3} s",
                phase(0, k),
                phase(1, k),
                phase(2, k)
            );
        }
        if let Some(p) = &phases {
            println!(
                "    messages reused: {} of {}; reads: {} / {}",
                p[2]["messages_reused"], p[2]["messages"], p[1]["tail_read"], p[2]["tail_read"]
            );
        }
    }

    let b = format!("site_build_{shares}");
    metric(
        &mut metrics,
        &format!("{b}.cold_s"),
        cold_secs,
        "s",
        None,
        false,
    );
    metric(
        &mut metrics,
        &format!("{b}.unchanged_min_s"),
        min_of(&unchanged),
        "s",
        Some(TARGET_UNCHANGED_SECS),
        true,
    );
    metric(
        &mut metrics,
        &format!("{b}.unchanged_median_s"),
        median_of(&unchanged),
        "s",
        None,
        false,
    );
    metric(
        &mut metrics,
        &format!("{b}.one_changed_min_s"),
        min_of(&changed),
        "s",
        None,
        true,
    );
    metric(
        &mut metrics,
        &format!("{b}.one_changed_median_s"),
        median_of(&changed),
        "s",
        None,
        false,
    );
    let w = format!("site_watch_{watch_shares}");
    metric(
        &mut metrics,
        &format!("{w}.first_build_s"),
        first_build,
        "s",
        None,
        false,
    );
    metric(
        &mut metrics,
        &format!("{w}.idle_cpu_pct"),
        idle_cpu_pct,
        "%",
        Some(TARGET_IDLE_CPU_PCT),
        false,
    );
    metric(
        &mut metrics,
        &format!("{w}.idle_cpu_schedstat_pct"),
        idle_cpu_ns_pct,
        "%",
        None,
        false,
    );
    metric(
        &mut metrics,
        &format!("{w}.idle_context_switches"),
        idle_switches as f64,
        "count",
        None,
        false,
    );
    metric(
        &mut metrics,
        &format!("{w}.idle_rss_mb"),
        idle_rss_mb,
        "MB",
        None,
        false,
    );
    metric(
        &mut metrics,
        &format!("{w}.peak_rss_mb"),
        watch_peak_mb,
        "MB",
        None,
        false,
    );
    let mut trial_metrics = |label: &str, v: &[Trial]| {
        if v.is_empty() {
            return;
        }
        let lat: Vec<f64> = v.iter().map(|t| t.latency).collect();
        let rb: Vec<f64> = v.iter().map(|t| t.to_page).collect();
        for (name, value) in [
            (format!("latency_{label}_min_s"), min_of(&lat)),
            (format!("latency_{label}_median_s"), median_of(&lat)),
            (format!("rebuild_{label}_median_s"), median_of(&rb)),
        ] {
            metric(
                &mut metrics,
                &format!("{w}.{name}"),
                value,
                "s",
                None,
                false,
            );
        }
    };
    trial_metrics("small", &small_trials);
    trial_metrics(&format!("{big_mb}mb"), &big_trials);
    if let Some((h, j, _)) = big_exports {
        metric(
            &mut metrics,
            &format!("{w}.export_{big_mb}mb_html_s"),
            h,
            "s",
            None,
            false,
        );
        metric(
            &mut metrics,
            &format!("{w}.export_{big_mb}mb_json_s"),
            j,
            "s",
            None,
            false,
        );
    }

    if phases.is_some() {
        for (name, pass, k) in [
            ("load_share_s", 2, "load_share_s"),
            ("load_share_cold_s", 0, "load_share_s"),
            ("prepare_s", 2, "prepare_s"),
            ("html_s", 2, "html_s"),
            ("html_cold_s", 0, "html_s"),
            ("json_s", 2, "json_s"),
        ] {
            metric(
                &mut metrics,
                &format!("{w}.phase_{big_mb}mb_{name}"),
                phase(pass, k),
                "s",
                None,
                false,
            );
        }
    }
    let trials_json = |v: &[Trial]| -> Value {
        v.iter()
            .map(|t| {
                json!({
                    "latency_s": t.latency,
                    "event_s": t.event,
                    "to_page_s": t.to_page,
                    "rebuild_s": t.rebuild,
                    "page_bytes": t.page_bytes,
                })
            })
            .collect()
    };
    let out = json!({
        "bench": "site",
        "recorded": Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
        "cpus": cpus,
        "binary": bin,
        "metrics": metrics,
        "details": {
            "build": {
                "shares": shares,
                "projects": projects,
                "fixtures": sources.iter().map(|p| p.strip_prefix(&fixtures).unwrap_or(p).display().to_string()).collect::<Vec<_>>(),
                "store_bytes": store_bytes,
                "site_bytes": site_bytes,
                "setup_secs": setup_secs,
                "cold_secs": cold_secs,
                "cold_rendered": cold.rendered.len(),
                "cold_written": cold.written.len(),
                "unchanged_secs": unchanged,
                "changed_secs": changed,
                "changed_share": target.share_id,
                "changed_session_bytes": std::fs::metadata(&target.path).map_or(0, |m| m.len()),
                "changed_written": changed_written,
            },
            "watch": {
                "shares": watch_shares,
                "debounce_ms": debounce_ms,
                "small_bytes": watch_small_bytes,
                "big_mb": big_mb,
                "big": big_info,
                "first_build_secs": first_build,
                "settled_after_secs": settle_secs,
                "idle_secs": idle_elapsed,
                "idle_ticks": ticks1 - ticks0,
                // Nonzero: the counters work (the first build used CPU).
                "cpu_before_idle_ticks": ticks0,
                "cpu_before_idle_schedstat_s": tasks0.ns as f64 / 1e9,
                "clk_tck": clk_tck(),
                "idle_schedstat_ns": tasks1.ns.saturating_sub(tasks0.ns),
                "idle_context_switches": idle_switches,
                "idle_log_lines": idle_lines,
                "threads": threads,
                "latency_target_s": latency_target,
                "small_share": small.share_id,
                "small_session_bytes": small_bytes,
                "small": trials_json(&small_trials),
                "big_share": big.as_ref().map(|b| b.share_id.clone()),
                "big_trials": trials_json(&big_trials),
                "exports": big_exports.map(|(h, j, (hs, js))| json!({"html_s": h, "json_s": j, "html_bytes": hs, "json_bytes": js})),
                "phases": phases,
                "stopped_cleanly": clean,
            },
            "problems": problems,
        },
    });
    let path = write_results("site", &out);
    println!("results: {}", path.display());
    if !problems.is_empty() {
        eprintln!("site: CHECKS FAILED:");
        for p in &problems {
            eprintln!("  - {p}");
        }
        eprintln!("watch log (last 40 lines):");
        let lines: Vec<&str> = log.lines().collect();
        for l in &lines[lines.len().saturating_sub(40)..] {
            eprintln!("  {l}");
        }
        std::process::exit(1);
    }
}

/// The phase child: what `site::build` does for one changed share, step by
/// step, twice in one process. Pass 1 starts with the highlighter's cache
/// empty (a first build); pass 2 finds it filled by pass 1, as a `watch`
/// rebuild after an append does. Prints one JSON array, one object per
/// pass.
fn child(file: &Path, out: &Path) {
    use sharegen::cli::Format;
    use sharegen::fsutil::AtomicFile;
    let diag = sharegen::diag::Diag::silent();
    let stores = sharegen::sources::Stores::from_env();
    let config = sharegen::config::Config::default();
    let renderer = sharegen::render::Renderer::new(&config, SALT.as_bytes().to_vec(), None, None)
        .expect("renderer");
    let share = sharegen::share::Share {
        share_id: "bench".into(),
        agent: sharegen::model::Agent::ClaudeCode,
        session_id: file
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("session id")
            .to_string(),
        path: file.to_path_buf(),
        project: None,
        title: None,
        shared_at: Utc::now(),
        expires: None,
        last_rendered: None,
        last_published: None,
        protection: None,
    };
    // As `watch` runs: transcripts read incrementally, redaction on, and
    // what each rebuild made kept for the next. Pass 0 is the first build;
    // before each later pass a message is appended, as in the latency
    // trials.
    sharegen::sources::jsonl::enable_tails(true);
    let redactor = sharegen::redact::Redactor::new(
        &sharegen::config::RedactConfig::default(),
        SALT.as_bytes(),
        Path::new("config.toml"),
    )
    .expect("redactor");
    let cache = sharegen::site::LiveCache::default();
    let mut passes = Vec::new();
    for pass in 0..3 {
        if pass > 0 {
            // Watch's debounce: the page's staged copy is made meanwhile.
            std::thread::sleep(std::time::Duration::from_secs(1));
            append_message(file, &format!("phase child pass {pass}")).expect("appending");
        }
        let t = Instant::now();
        let since = cache.generation("bench", "bench", true);
        let load = sharegen::site::load_share_live(&share, &stores, &diag, since).expect("loading");
        let load_share_s = t.elapsed().as_secs_f64();
        let partial = load.unchanged.is_some();
        let tail = format!("{:?}", sharegen::sources::claude_code::last_tail_read(file));
        let t = Instant::now();
        let watched = sharegen::site::watched_paths(&load.session, file);
        let watched_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let mut p = cache
            .prepare_live("bench", "bench", load, Some(&redactor))
            .expect("a load the cache holds the base of");
        let prepare_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        // As watch writes it (see sharegen::site::page): staged from the
        // second pass on; a staged write's time includes the SHA-256 taken
        // after the page is in place.
        let shell = renderer
            .render_page_shell(&p.session, Some("bench"), &mut p.frags, p.reuse)
            .expect("rendering");
        let (written, how, page) = sharegen::site::page::write(
            &out.join("index.html"),
            &shell,
            &p.frags,
            p.reuse,
            p.page.take(),
            sharegen::site::page::stage_min(),
        )
        .expect("writing the page");
        p.page = page;
        let html_bytes = written.size;
        let html_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let mut f = AtomicFile::create(&out.join("session.json"), None).expect("temp file");
        renderer
            .render_to(&p.session, Format::Json, None, &mut f)
            .expect("rendering");
        let json_bytes = f.commit_if_changed().expect("committing").size;
        let json_s = t.elapsed().as_secs_f64();
        let reused = p.reuse;
        let messages = p.session.messages.len();
        cache.store("bench", "bench", p, Vec::new(), Utc::now());
        passes.push(json!({
            "load_share_s": load_share_s,
            "tail_read": tail,
            "partial_load": partial,
            "watched_paths_s": watched_s,
            "watched_paths": watched.len(),
            "prepare_s": prepare_s,
            "messages": messages,
            "messages_reused": reused,
            "html_s": html_s,
            "html_bytes": html_bytes,
            "page_write": format!("{how:?}"),
            "json_s": json_s,
            "json_bytes": json_bytes,
        }));
    }
    println!("{}", Value::Array(passes));
}

// ---------------------------------------------------------------------------
// The fake home and the sharegen processes.

/// A fake `$HOME` with sharegen's home in `sg/`.
struct Home {
    dir: PathBuf,
    bin: PathBuf,
}

#[derive(Debug, Clone)]
struct Row {
    id: String,
    path: PathBuf,
    share_id: String,
    project: Option<String>,
}

#[derive(Debug, Default)]
struct BuildOut {
    rendered: Vec<String>,
    unchanged: usize,
    failed: Vec<Value>,
    written: Vec<String>,
}

impl Home {
    fn new(dir: PathBuf, bin: &Path) -> Home {
        std::fs::create_dir_all(&dir).expect("home dir");
        Home {
            dir,
            bin: bin.to_path_buf(),
        }
    }

    fn sg(&self) -> PathBuf {
        self.dir.join("sg")
    }

    fn site(&self) -> PathBuf {
        self.sg().join("site")
    }

    fn page(&self, share_id: &str) -> PathBuf {
        self.site().join("s").join(share_id).join("index.html")
    }

    fn projects(&self) -> PathBuf {
        self.dir.join(".claude/projects")
    }

    /// The clean environment every process gets.
    fn env(&self, c: &mut Command) {
        c.env_clear()
            .env("HOME", &self.dir)
            .env("SHAREGEN_HOME", self.sg())
            .env("SHAREGEN_SALT", SALT)
            .stdin(Stdio::null());
        if let Some(path) = std::env::var_os("PATH") {
            c.env("PATH", path);
        }
    }

    /// `sharegen ARGS` with a clean environment.
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.args(args);
        self.env(&mut c);
        c
    }

    /// Runs to completion; wall time and stdout. Panics on failure.
    fn run(&self, args: &[&str]) -> (f64, Vec<u8>) {
        let t = Instant::now();
        let out = self.cmd(args).output().expect("running sharegen");
        let secs = t.elapsed().as_secs_f64();
        assert!(
            out.status.success(),
            "sharegen {args:?} failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        (secs, out.stdout)
    }

    /// `sharegen build --json`: wall time and what it did (exit 1 with
    /// failed shares still prints the report).
    fn build(&self) -> (f64, BuildOut) {
        let t = Instant::now();
        let out = self
            .cmd(&["build", "--json"])
            .output()
            .expect("running sharegen build");
        let secs = t.elapsed().as_secs_f64();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "sharegen build --json printed no JSON ({e}; {}):\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )
        });
        let strings = |k: &str| -> Vec<String> {
            v[k].as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default()
        };
        let b = BuildOut {
            rendered: strings("rendered"),
            unchanged: v["unchanged"].as_array().map_or(0, Vec::len),
            failed: v["failed"].as_array().cloned().unwrap_or_default(),
            written: strings("written"),
        };
        (secs, b)
    }
}

/// Writes `n` copies of `sources` (round robin) as
/// `<home>/.claude/projects/<project>/<session-id>.jsonl`. Returns the files
/// and the bytes written.
fn write_sessions(
    home: &Home,
    sources: &[PathBuf],
    n: usize,
    projects: usize,
) -> (Vec<PathBuf>, u64) {
    let root = home.projects();
    let mut files = Vec::with_capacity(n);
    let mut bytes = 0;
    for p in 0..projects.min(n) {
        std::fs::create_dir_all(root.join(project_name(p))).expect("project dir");
    }
    for i in 0..n {
        let dest = root
            .join(project_name(i % projects))
            .join(format!("{}.jsonl", session_id(i)));
        bytes += std::fs::copy(&sources[i % sources.len()], &dest).expect("copying a transcript");
        files.push(dest);
    }
    (files, bytes)
}

/// Shares every session of `home`: one `list --json` for the share ids,
/// then `sg/shares.json` written directly (schema version 1, as
/// `src/share.rs` writes it), with the sessions' project folders allowed as
/// `sharegen allow` would.
fn share_all(home: &Home, expected: usize) -> Vec<Row> {
    let (_, out) = home.run(&["list", "--json"]);
    let v: Value = serde_json::from_slice(&out).expect("list --json output");
    let rows: Vec<Row> = v
        .as_array()
        .expect("list --json printed no array")
        .iter()
        .map(|r| Row {
            id: r["id"].as_str().expect("id").to_string(),
            path: PathBuf::from(r["path"].as_str().expect("path")),
            share_id: r["share_id"].as_str().expect("share_id").to_string(),
            project: r["project"].as_str().map(String::from),
        })
        .collect();
    assert_eq!(
        rows.len(),
        expected,
        "sharegen list shows {} sessions, {expected} written",
        rows.len()
    );
    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    let shares: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut s = json!({
                "share_id": r.share_id,
                "agent": "claude-code",
                "session_id": r.id,
                "path": r.path,
                "shared_at": now,
            });
            if let Some(p) = &r.project {
                s["project"] = json!(p);
            }
            s
        })
        .collect();
    let allowed: BTreeSet<&str> = rows.iter().filter_map(|r| r.project.as_deref()).collect();
    let list = json!({ "version": 1, "shares": shares, "allowed_dirs": allowed });
    std::fs::create_dir_all(home.sg()).expect("sharegen home");
    let mut bytes = serde_json::to_vec_pretty(&list).expect("json");
    bytes.push(b'\n');
    std::fs::write(home.sg().join("shares.json"), bytes).expect("writing shares.json");
    rows
}

/// Main transcripts (not `agent-*`) of at most `max_bytes` that list as a
/// session (a user or assistant record that is not meta). Sorted by path.
fn small_session_files(dir: &Path, max_bytes: u64) -> Vec<PathBuf> {
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
            let size = f.metadata().map_or(u64::MAX, |m| m.len());
            if name.ends_with(".jsonl")
                && !name.starts_with("agent-")
                && p.is_file()
                && size <= max_bytes
                && has_conversation(&p)
            {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

// ---------------------------------------------------------------------------
// Appending to a session.

/// Text no page holds before it is appended: letters, digits and dashes
/// only, so the page holds it verbatim.
fn marker(kind: &str, i: usize) -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("sharegen-bench-{kind}-{i}-{nanos:x}")
}

/// The last record of a transcript that takes part in the main chain (a
/// user, assistant, system, progress or attachment record with a uuid,
/// not on a sidechain), and whether the file ends with a newline. Reads
/// the last 8 MB, or the whole file when that holds none.
fn last_chain_record(path: &Path) -> std::io::Result<(Value, bool)> {
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    for tail in [8u64 << 20, u64::MAX] {
        let start = len.saturating_sub(tail);
        f.seek(SeekFrom::Start(start))?;
        let mut buf = Vec::new();
        f.read_to_end(&mut buf)?;
        let ends_nl = buf.last() == Some(&b'\n');
        let mut lines: Vec<&[u8]> = buf.split(|&b| b == b'\n').collect();
        if start > 0 && !lines.is_empty() {
            lines.remove(0); // a partial line
        }
        for l in lines.iter().rev() {
            let Ok(v) = serde_json::from_slice::<Value>(l) else {
                continue;
            };
            let chain = matches!(
                v.get("type").and_then(Value::as_str),
                Some("user" | "assistant" | "system" | "progress" | "attachment")
            );
            if chain
                && v.get("uuid").and_then(Value::as_str).is_some()
                && v.get("isSidechain").and_then(Value::as_bool) != Some(true)
            {
                return Ok((v, ends_nl));
            }
        }
        if start == 0 {
            break;
        }
    }
    Err(std::io::Error::other(format!(
        "{}: no chain record",
        path.display()
    )))
}

/// Appends a user message holding `text` to the transcript, parented to
/// its last chain record, in one `write` (one change event). Returns the
/// time just before that `write`.
fn append_message(path: &Path, text: &str) -> std::io::Result<Instant> {
    static N: AtomicUsize = AtomicUsize::new(0);
    let (last, ends_nl) = last_chain_record(path)?;
    let n = N.fetch_add(1, Ordering::Relaxed);
    let rec = json!({
        "parentUuid": last["uuid"],
        "isSidechain": false,
        "userType": "external",
        "cwd": last["cwd"],
        "sessionId": last["sessionId"],
        "version": last["version"],
        "type": "user",
        "message": { "role": "user", "content": text },
        "uuid": format!("5a4e6e00-0000-4000-8000-{n:012x}"),
        "timestamp": Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
    });
    let mut line = Vec::new();
    if !ends_nl {
        line.push(b'\n');
    }
    serde_json::to_writer(&mut line, &rec)?;
    line.push(b'\n');
    let mut f = std::fs::OpenOptions::new().append(true).open(path)?;
    // Before the write: watch may see the event before `write` returns.
    let t0 = Instant::now();
    f.write_all(&line)?;
    Ok(t0)
}

fn file_contains(path: &Path, needle: &str) -> bool {
    std::fs::read(path)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .is_some_and(|s| s.contains(needle))
}

fn dir_bytes(dir: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    rd.flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_bytes(&e.path()),
            Ok(_) => e.metadata().map_or(0, |m| m.len()),
            Err(_) => 0,
        })
        .sum()
}

// ---------------------------------------------------------------------------
// `sharegen watch`.

/// A running `sharegen watch -v`; its stderr lines are kept with the time
/// each arrived.
struct Watch {
    child: Child,
    started: Instant,
    lines: Arc<Mutex<Vec<(Instant, String)>>>,
    reader: Option<std::thread::JoinHandle<()>>,
    stopped: bool,
}

impl Watch {
    fn start(home: &Home, debounce_ms: u64) -> Watch {
        let started = Instant::now();
        let mut child = home
            .cmd(&["watch", "-v", "--debounce", &debounce_ms.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting sharegen watch");
        let stderr = child.stderr.take().expect("stderr");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        let reader = std::thread::spawn(move || {
            let mut r = BufReader::new(stderr);
            let mut line = String::new();
            loop {
                line.clear();
                match r.read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => sink
                        .lock()
                        .unwrap()
                        .push((Instant::now(), line.trim_end().to_string())),
                }
            }
        });
        Watch {
            child,
            started,
            lines,
            reader: Some(reader),
            stopped: false,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    fn line_count(&self) -> usize {
        self.lines.lock().unwrap().len()
    }

    /// The first line at or after `t` that `pred` accepts.
    fn line_after(&self, t: Instant, pred: impl Fn(&str) -> bool) -> Option<Instant> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .find(|(at, l)| *at >= t && pred(l))
            .map(|(at, _)| *at)
    }

    fn log(&self) -> String {
        let lines = self.lines.lock().unwrap();
        lines
            .iter()
            .map(|(at, l)| format!("{:>9.3} {l}\n", (*at - self.started).as_secs_f64()))
            .collect()
    }

    /// SIGINT, then up to 15 s for a clean exit (else SIGKILL). Returns
    /// whether it exited with status 0, and its log.
    fn stop(&mut self) -> (bool, String) {
        self.stopped = true;
        let mut clean = false;
        if sys::interrupt(self.pid()) {
            let t = Instant::now();
            while t.elapsed() < Duration::from_secs(15) {
                if let Some(s) = self.try_wait() {
                    clean = s.success();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        if self.try_wait().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        (clean, self.log())
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if !self.stopped {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// One append: times from just before the `write` to the page on disk
/// holding the text (`latency`), to watch's `change:` line (`event`), from
/// the debounce running out to the page in place (`to_page`), and to the
/// `rendered:` line (`rebuild`).
struct Trial {
    latency: f64,
    event: f64,
    to_page: f64,
    rebuild: Option<f64>,
    page_bytes: u64,
}

fn latency_trial(
    watch: &Watch,
    home: &Home,
    row: &Row,
    marker: &str,
    debounce: Duration,
    timeout_secs: u64,
) -> Result<Trial, String> {
    let page = home.page(&row.share_id);
    let mut seen = page_stamp(&page);
    let t0 = append_message(&row.path, marker).map_err(|e| format!("append: {e}"))?;
    let deadline = t0 + Duration::from_secs(timeout_secs);
    let (at, page_bytes) = loop {
        let now = Instant::now();
        let stamp = page_stamp(&page);
        if stamp != seen {
            seen = stamp;
            if let Ok(b) = std::fs::read(&page)
                && std::str::from_utf8(&b).is_ok_and(|s| s.contains(marker))
            {
                break (now, b.len() as u64);
            }
        }
        if now > deadline {
            return Err(format!(
                "{} did not show the appended text within {timeout_secs} s",
                page.display()
            ));
        }
        std::thread::sleep(POLL);
    };
    let latency = (at - t0).as_secs_f64();
    let change = watch
        .line_after(t0, |l| l.starts_with("change:"))
        .ok_or("no `change:` line from watch")?;
    let event = (change - t0).as_secs_f64();
    // The `rendered:` line follows session.json, the manifest and the
    // share list's update.
    let t = Instant::now();
    let rendered = loop {
        if let Some(r) = watch.line_after(t0, |l| {
            l.contains(" rendered: ") && l.contains(&row.share_id)
        }) {
            break Some(r);
        }
        if t.elapsed() > Duration::from_secs(timeout_secs) {
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let d = debounce.as_secs_f64();
    Ok(Trial {
        latency,
        event,
        to_page: latency - event - d,
        rebuild: rendered.map(|r| (r - change).as_secs_f64() - d),
        page_bytes,
    })
}

/// What tells a rewritten page apart: inode, size, mtime.
fn page_stamp(p: &Path) -> Option<(u64, u64, SystemTime)> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(p).ok()?;
    Some((m.ino(), m.len(), m.modified().ok()?))
}

// ---------------------------------------------------------------------------
// CPU time from /proc.

/// utime + stime of the process, in clock ticks.
fn stat_ticks(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces): state is
    // field 3, utime 14, stime 15.
    let rest = s.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let num = |i: usize| f.get(i).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
    num(11) + num(12)
}

#[derive(Debug, Clone, Copy, Default)]
struct Tasks {
    /// Time on CPU of the live threads (`schedstat`), ns.
    ns: u64,
    /// Voluntary + involuntary context switches of the live threads.
    switches: u64,
    threads: usize,
}

fn task_totals(pid: u32) -> Tasks {
    let mut t = Tasks::default();
    let Ok(rd) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return t;
    };
    for e in rd.flatten() {
        let dir = e.path();
        t.threads += 1;
        if let Ok(s) = std::fs::read_to_string(dir.join("schedstat")) {
            t.ns += s
                .split_whitespace()
                .next()
                .and_then(|x| x.parse::<u64>().ok())
                .unwrap_or(0);
        }
        if let Ok(s) = std::fs::read_to_string(dir.join("status")) {
            for l in s.lines() {
                if let Some(v) = l
                    .strip_prefix("voluntary_ctxt_switches:")
                    .or_else(|| l.strip_prefix("nonvoluntary_ctxt_switches:"))
                {
                    t.switches += v.trim().parse::<u64>().unwrap_or(0);
                }
            }
        }
    }
    t
}

fn proc_status_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Waits until the process uses less than `QUIET_NS` of CPU over one
/// `window` (a window longer than the debounce, so a pending rebuild falls
/// into it). Returns the seconds waited.
fn settle(pid: u32, window: Duration, timeout: Duration) -> f64 {
    let t = Instant::now();
    loop {
        let a = task_totals(pid).ns;
        std::thread::sleep(window);
        let b = task_totals(pid).ns;
        if b.saturating_sub(a) < QUIET_NS || t.elapsed() > timeout {
            return t.elapsed().as_secs_f64();
        }
    }
}

fn clk_tck() -> f64 {
    sys::clk_tck()
}

fn max_of(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

/// `sysconf(_SC_CLK_TCK)` and `kill(pid, SIGINT)`, declared by hand (no
/// `libc` dependency; Linux values).
mod sys {
    use std::ffi::{c_int, c_long};

    unsafe extern "C" {
        fn sysconf(name: c_int) -> c_long;
        fn kill(pid: c_int, sig: c_int) -> c_int;
    }

    const SC_CLK_TCK: c_int = 2;
    const SIGINT: c_int = 2;

    pub fn clk_tck() -> f64 {
        // SAFETY: sysconf has no preconditions.
        let v = unsafe { sysconf(SC_CLK_TCK) };
        if v > 0 { v as f64 } else { 100.0 }
    }

    /// Sends SIGINT; false when that failed.
    pub fn interrupt(pid: u32) -> bool {
        // SAFETY: kill has no memory preconditions; pid is our child's.
        unsafe { kill(pid as c_int, SIGINT) == 0 }
    }
}
