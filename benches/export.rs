//! Export benchmark: the real `sharegen export` of large Claude Code
//! sessions, plus `sharegen --version` start-up.
//!
//! Builds ~10 MB and ~100 MB transcripts from the fixture transcripts
//! (`common::generate`, as `benches/parse.rs` does, but with
//! `GenOptions::unique_text`: every multi-line string differs between
//! copies, so the highlighter's cache cannot serve a copy from an earlier
//! one), and a ~10 MB "text-only" transcript from the fixtures that hold no
//! image or document. Then, each in its own child process:
//!
//! - `sharegen export FILE -o OUT.html`: one untimed run, then
//!   `SHAREGEN_BENCH_RUNS` timed ones. Wall time from spawn to exit; peak
//!   RSS and CPU time from `/usr/bin/time -v` when it is there, else from
//!   `wait4(2)`'s `rusage` (`SHAREGEN_BENCH_METER=time|wait4` chooses).
//! - `--format md` and `--format json`: one timed run each.
//! - The "session's text" (see [`TextStats`]) is counted in the JSON
//!   export, and compared with the size of the HTML page.
//! - Phases (info): this binary re-executed, loading the session with the
//!   library and timing each render step (`render_messages`,
//!   `render_page`, `write_atomic`, `md::render`, JSON) with its `VmHWM`.
//! - `sharegen --version`, `SHAREGEN_BENCH_VERSION_RUNS` times.
//!
//! Prints a table and writes `target/bench-results/export.json`.
//!
//! Environment (all optional):
//! - `SHAREGEN_BENCH_BIN`: the `sharegen` binary (default: the one cargo
//!   built for this bench).
//! - `SHAREGEN_BENCH_FIXTURES`, `SHAREGEN_BENCH_RESULTS`,
//!   `SHAREGEN_BENCH_KEEP`: as for the other benches.
//! - `SHAREGEN_BENCH_RUNS`: timed HTML exports per input (default 5).
//! - `SHAREGEN_BENCH_EXPORT_SIZES`: sizes in MB (default `10,100`).
//! - `SHAREGEN_BENCH_EXPORT_TEXT_MB`: size of the text-only input (default
//!   10; 0 skips it).
//! - `SHAREGEN_BENCH_EXPORT_UNIQUE`: `0` repeats the fixtures' text
//!   exactly, as the parse bench does (default 1).
//! - `SHAREGEN_BENCH_EXPORT_PHASES`: child runs per phase (default 2; 0
//!   skips the phases).
//! - `SHAREGEN_BENCH_VERSION_RUNS`: `--version` runs (default 50).
//! - `SHAREGEN_BENCH_METER`: `time` or `wait4` (default: `time` if
//!   `/usr/bin/time -v` works).

#[path = "common/mod.rs"]
mod common;

use chrono::{SecondsFormat, Utc};
use common::{
    GenInfo, GenOptions, MB, Template, binary, env_or, fixtures_dir, generate, load_templates,
    median_of, metric, min_of, status_kb, write_results,
};
use serde_json::{Value, json};
use sharegen::diag::Diag;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Set in the phase child: which phase (`page`, `body`, `md`, `json`).
const CHILD_PHASE: &str = "SHAREGEN_BENCH_EXPORT_CHILD";
/// Set in the phase child: the transcript, and where `page` writes.
const CHILD_FILE: &str = "SHAREGEN_BENCH_EXPORT_FILE";
const CHILD_OUT: &str = "SHAREGEN_BENCH_EXPORT_OUT";

/// The targets: HTML export time by input size in MB.
const TARGET_SECS: &[(u64, f64)] = &[(10, 0.150), (100, 1.5)];
/// Peak RSS of the export / input size.
const TARGET_RSS_RATIO: f64 = 2.0;
/// Page size / the session's text, for a text-heavy session.
const TARGET_PAGE_TEXT_RATIO: f64 = 1.5;
/// `sharegen --version`, wall clock.
const TARGET_VERSION_SECS: f64 = 0.020;

fn main() {
    if let Ok(phase) = std::env::var(CHILD_PHASE) {
        child(&phase);
        return;
    }
    // `cargo bench` passes `--bench`; there are no arguments to read.
    let bin = binary();
    assert!(
        bin.is_file(),
        "no sharegen binary at {} (cargo build --release)",
        bin.display()
    );
    let fixtures = fixtures_dir();
    let templates = load_templates(&fixtures);
    assert!(
        !templates.is_empty(),
        "no usable transcripts under {}",
        fixtures.display()
    );
    let sizes: Vec<u64> = env_or("SHAREGEN_BENCH_EXPORT_SIZES", "10,100")
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let text_mb: u64 = env_or("SHAREGEN_BENCH_EXPORT_TEXT_MB", "10")
        .parse()
        .unwrap_or(10);
    let runs: usize = env_or("SHAREGEN_BENCH_RUNS", "5")
        .parse()
        .unwrap_or(5)
        .max(1);
    let phase_runs: usize = env_or("SHAREGEN_BENCH_EXPORT_PHASES", "2")
        .parse()
        .unwrap_or(2);
    let version_runs: usize = env_or("SHAREGEN_BENCH_VERSION_RUNS", "50")
        .parse()
        .unwrap_or(50)
        .max(1);
    let opts = GenOptions {
        unique_text: env_or("SHAREGEN_BENCH_EXPORT_UNIQUE", "1") != "0",
    };
    let meter = Meter::choose();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());

    let tmp = tempfile::Builder::new()
        .prefix("sharegen-bench-export")
        .tempdir()
        .expect("temp dir");
    let env = Env {
        bin: bin.clone(),
        home: tmp.path().join("home"),
        scratch: tmp.path().join("scratch"),
        meter,
    };
    std::fs::create_dir_all(env.home.join("sg")).expect("home");
    std::fs::create_dir_all(&env.scratch).expect("scratch");

    let all: Vec<&Template> = templates.iter().collect();
    let text_only: Vec<&Template> = templates.iter().filter(|t| !t.has_attachments).collect();
    let mut inputs: Vec<(String, Vec<&Template>, u64)> = sizes
        .iter()
        .map(|&s| (format!("export_{s}mb"), all.clone(), s))
        .collect();
    if text_mb > 0 && !text_only.is_empty() {
        inputs.push((
            format!("export_text_{text_mb}mb"),
            text_only.clone(),
            text_mb,
        ));
    }

    let mut metrics = serde_json::Map::new();
    let mut details = serde_json::Map::new();
    let mut rows = Vec::new();
    for (name, set, size) in &inputs {
        let path = tmp.path().join(format!("{name}.jsonl"));
        let t = Instant::now();
        let info = generate(set, size * 1_000_000, &path, opts).expect("writing the transcript");
        eprintln!(
            "export: generated {} ({:.1} MB, {} lines, {} copies of {} fixtures) in {:.2} s",
            path.display(),
            info.bytes as f64 / MB,
            info.lines,
            info.copies,
            set.len(),
            t.elapsed().as_secs_f64()
        );
        let row = bench_input(&env, name, &path, &info, runs, phase_runs);
        let text_heavy = name.starts_with("export_text_");
        record(&mut metrics, name, &row, *size, text_heavy);
        details.insert(
            name.clone(),
            json!({
                "file_bytes": info.bytes,
                "lines": info.lines,
                "copies": info.copies,
                "fixtures": set.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
                "messages": row.messages,
                "html_secs": row.html.iter().map(|r| r.secs).collect::<Vec<_>>(),
                "html_peak_rss_kb": row.html.iter().map(|r| r.peak_kb).collect::<Vec<_>>(),
                "html_cpu_secs": row.html.iter().map(|r| r.cpu_secs).collect::<Vec<_>>(),
                "page_bytes": row.page_bytes,
                "md_bytes": row.md_bytes,
                "json_bytes": row.json_bytes,
                "text": {
                    "prose_bytes": row.text.prose,
                    "tool_bytes": row.text.tool,
                    "text_bytes": row.text.text(),
                    "attachment_bytes": row.text.attachments,
                },
                "phases": row.phases.as_ref().map(Phases::to_json),
            }),
        );
        rows.push((name.clone(), row));
    }

    let version = bench_version(&env, version_runs);
    metric(
        &mut metrics,
        "version.min_s",
        min_of(&version),
        "s",
        Some(TARGET_VERSION_SECS),
        true,
    );
    metric(
        &mut metrics,
        "version.median_s",
        median_of(&version),
        "s",
        None,
        false,
    );
    details.insert("version_secs".into(), json!(version));

    if std::env::var_os("SHAREGEN_BENCH_KEEP").is_some() {
        eprintln!("export: keeping {}", tmp.keep().display());
    }

    print_tables(&rows, &version, cpus, &env.meter, opts);
    let out = json!({
        "bench": "export",
        "recorded": Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
        "cpus": cpus,
        "binary": bin,
        "meter": env.meter.name(),
        "unique_text": opts.unique_text,
        "metrics": metrics,
        "details": details,
    });
    let path = write_results("export", &out);
    println!("results: {}", path.display());
}

/// What every run needs.
struct Env {
    bin: PathBuf,
    /// `$HOME` of the runs; `$SHAREGEN_HOME` is `home/sg`.
    home: PathBuf,
    /// Outputs and `/usr/bin/time` reports.
    scratch: PathBuf,
    meter: Meter,
}

struct Row {
    bytes: u64,
    messages: u64,
    html: Vec<Run>,
    md: Run,
    json: Run,
    page_bytes: u64,
    md_bytes: u64,
    json_bytes: u64,
    text: TextStats,
    phases: Option<Phases>,
}

impl Row {
    fn html_min(&self) -> f64 {
        min_of(&self.html.iter().map(|r| r.secs).collect::<Vec<_>>())
    }
    fn html_median(&self) -> f64 {
        median_of(&self.html.iter().map(|r| r.secs).collect::<Vec<_>>())
    }
    fn html_cpu_median(&self) -> f64 {
        median_of(&self.html.iter().map(|r| r.cpu_secs).collect::<Vec<_>>())
    }
    fn html_peak_kb(&self) -> u64 {
        self.html.iter().map(|r| r.peak_kb).max().unwrap_or(0)
    }
    fn ratio(&self, peak_kb: u64) -> f64 {
        peak_kb as f64 * 1024.0 / self.bytes as f64
    }
}

fn bench_input(
    env: &Env,
    name: &str,
    path: &Path,
    info: &GenInfo,
    runs: usize,
    phase_runs: usize,
) -> Row {
    let out = |ext: &str| env.scratch.join(format!("{name}.{ext}"));
    let export = |format: &str| {
        let o = out(format);
        let args = [
            "export".as_ref(),
            path.as_os_str(),
            "--format".as_ref(),
            format.as_ref(),
            "-o".as_ref(),
            o.as_os_str(),
        ];
        env.run(&args)
    };
    // JSON first: it gives the message count and the session's text.
    let json_run = export("json");
    let json_bytes = file_len(&out("json"));
    let doc: Value = serde_json::from_slice(&std::fs::read(out("json")).expect("reading the JSON"))
        .expect("the JSON export parses");
    let mut text = TextStats::default();
    text.add_session(&doc["session"]);
    let messages = doc["session"]["messages"]
        .as_array()
        .map_or(0, |m| m.len() as u64);
    drop(doc);
    let md_run = export("md");
    let md_bytes = file_len(&out("md"));

    // One untimed HTML export (checked), then the timed ones.
    export("html");
    let page = std::fs::read_to_string(out("html")).expect("reading the page");
    let page_bytes = page.len() as u64;
    assert!(
        page.starts_with("<!") && page.contains(&format!("id=\"m-{messages}\"")),
        "{name}: the page does not look like a page of {messages} messages"
    );
    drop(page);
    let html: Vec<Run> = (0..runs).map(|_| export("html")).collect();

    let phases = (phase_runs > 0).then(|| Phases::measure(path, &out("phase.html"), phase_runs));
    eprintln!(
        "export: {name}: html min {:.3} s, {:.1} MB page",
        min_of(&html.iter().map(|r| r.secs).collect::<Vec<_>>()),
        page_bytes as f64 / MB
    );
    Row {
        bytes: info.bytes,
        messages,
        html,
        md: md_run,
        json: json_run,
        page_bytes,
        md_bytes,
        json_bytes,
        text,
        phases,
    }
}

fn record(m: &mut serde_json::Map<String, Value>, p: &str, row: &Row, size: u64, text_heavy: bool) {
    let t_secs = TARGET_SECS
        .iter()
        .find(|(s, _)| *s == size && !text_heavy)
        .map(|(_, t)| *t);
    let html_kb = row.html_peak_kb();
    let text = row.text.text().max(1) as f64;
    let mut put = |k: &str, v: f64, unit: &str, target: Option<f64>, regress: bool| {
        metric(m, &format!("{p}.{k}"), v, unit, target, regress)
    };
    put("html_time_min_s", row.html_min(), "s", t_secs, true);
    put("html_time_median_s", row.html_median(), "s", None, false);
    put("html_cpu_median_s", row.html_cpu_median(), "s", None, false);
    put(
        "html_peak_rss_ratio",
        row.ratio(html_kb),
        "x file",
        (!text_heavy).then_some(TARGET_RSS_RATIO),
        true,
    );
    put(
        "html_peak_rss_mb",
        html_kb as f64 * 1024.0 / MB,
        "MB",
        None,
        false,
    );
    put("page_mb", row.page_bytes as f64 / MB, "MB", None, false);
    put("text_mb", text / MB, "MB", None, false);
    // Deterministic, so checked for regressions too.
    put(
        "page_text_ratio",
        row.page_bytes as f64 / text,
        "x text",
        text_heavy.then_some(TARGET_PAGE_TEXT_RATIO),
        true,
    );
    put(
        "page_text_attachments_ratio",
        row.page_bytes as f64 / (text + row.text.attachments as f64),
        "x text",
        None,
        false,
    );
    put("md_time_s", row.md.secs, "s", None, false);
    put(
        "md_peak_rss_ratio",
        row.ratio(row.md.peak_kb),
        "x file",
        None,
        false,
    );
    put("json_time_s", row.json.secs, "s", None, false);
    put(
        "json_peak_rss_ratio",
        row.ratio(row.json.peak_kb),
        "x file",
        None,
        false,
    );
    if let Some(ph) = &row.phases {
        put("phase_load_s", ph.load, "s", None, false);
        put("phase_html_messages_s", ph.body, "s", None, false);
        put("phase_html_page_s", ph.page, "s", None, false);
        put("phase_write_s", ph.write, "s", None, false);
        put("phase_md_s", ph.md, "s", None, false);
        put("phase_json_s", ph.json, "s", None, false);
        put(
            "phase_rss_loaded_mb",
            ph.rss_loaded_kb as f64 * 1024.0 / MB,
            "MB",
            None,
            false,
        );
    }
}

fn file_len(p: &Path) -> u64 {
    std::fs::metadata(p).map_or(0, |m| m.len())
}

// ---------------------------------------------------------------------------
// The session's text.

/// The session's text, counted in the `--format json` export: the UTF-8
/// byte length of every string below, in the session and, recursively, in
/// its subagents' sessions (`subagents[].session`).
///
/// - `prose`: `parts[].text` of `text`, `reasoning` and `notice` parts, and
///   `summary` of `compaction` parts.
/// - `tool`: of `tool_call` parts, `output` and every string value inside
///   `input` (at any depth; keys are not counted); of `diff` parts,
///   `before`, `after` and `patch`.
///
/// Not counted: ids, times, names, models, paths, enum tags, usage, and the
/// `extras` of tool calls, which restate the output in structured form
/// (`extras.file.content` is a Read's output without line numbers,
/// `extras.stdout` a shell's output, `extras.diffs` an Edit's input).
/// Base64 data of `file` parts and of `extras.attachments[]` (images,
/// documents) are counted apart, as `attachments`.
#[derive(Debug, Default, Clone, Copy)]
struct TextStats {
    prose: u64,
    tool: u64,
    attachments: u64,
}

impl TextStats {
    fn text(&self) -> u64 {
        self.prose + self.tool
    }

    fn add_session(&mut self, s: &Value) {
        let str_len = |v: &Value| v.as_str().map_or(0, |s| s.len() as u64);
        for m in s["messages"].as_array().into_iter().flatten() {
            for p in m["parts"].as_array().into_iter().flatten() {
                match p["type"].as_str().unwrap_or("") {
                    "text" | "reasoning" | "notice" => self.prose += str_len(&p["text"]),
                    "compaction" => self.prose += str_len(&p["summary"]),
                    "tool_call" => {
                        self.tool += str_len(&p["output"]) + string_leaves(&p["input"]);
                        for a in p["extras"]["attachments"].as_array().into_iter().flatten() {
                            self.attachments += str_len(&a["data"]);
                        }
                    }
                    "diff" => {
                        self.tool +=
                            str_len(&p["before"]) + str_len(&p["after"]) + str_len(&p["patch"])
                    }
                    "file" => self.attachments += str_len(&p["data"]),
                    _ => {}
                }
            }
        }
        for a in s["subagents"].as_array().into_iter().flatten() {
            self.add_session(&a["session"]);
        }
    }
}

fn string_leaves(v: &Value) -> u64 {
    match v {
        Value::String(s) => s.len() as u64,
        Value::Array(a) => a.iter().map(string_leaves).sum(),
        Value::Object(m) => m.values().map(string_leaves).sum(),
        _ => 0,
    }
}

// ---------------------------------------------------------------------------
// Running the binary: wall time, peak RSS, CPU time.

#[derive(Debug, Clone, Copy)]
struct Run {
    secs: f64,
    peak_kb: u64,
    cpu_secs: f64,
}

enum Meter {
    /// `/usr/bin/time -v -o REPORT sharegen …`.
    GnuTime(PathBuf),
    /// `wait4(2)` on the child, for its `rusage`.
    Wait4,
}

impl Meter {
    fn choose() -> Meter {
        let want = env_or("SHAREGEN_BENCH_METER", "auto");
        let time = PathBuf::from("/usr/bin/time");
        let time_works = || {
            Command::new(&time)
                .args(["-v", "true"])
                .output()
                .is_ok_and(|o| {
                    o.status.success()
                        && String::from_utf8_lossy(&o.stderr).contains("Maximum resident set size")
                })
        };
        match want.as_str() {
            "wait4" => Meter::Wait4,
            "time" => {
                assert!(
                    time_works(),
                    "SHAREGEN_BENCH_METER=time: /usr/bin/time -v does not work"
                );
                Meter::GnuTime(time)
            }
            _ if time_works() => Meter::GnuTime(time),
            _ => Meter::Wait4,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Meter::GnuTime(_) => "/usr/bin/time -v",
            Meter::Wait4 => "wait4",
        }
    }
}

impl Env {
    fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .env("HOME", &self.home)
            .env("SHAREGEN_HOME", self.home.join("sg"))
            .env("SHAREGEN_SALT", "bench")
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        if let Some(path) = std::env::var_os("PATH") {
            cmd.env("PATH", path);
        }
        cmd
    }

    /// Runs `sharegen ARGS` to completion and measures it.
    fn run(&self, args: &[&std::ffi::OsStr]) -> Run {
        let stderr_path = self.scratch.join("stderr.txt");
        let stderr = File::create(&stderr_path).expect("stderr file");
        let check = |ok: bool, what: String| {
            assert!(
                ok,
                "sharegen {args:?}: {what}\n{}",
                std::fs::read_to_string(&stderr_path).unwrap_or_default()
            );
        };
        match &self.meter {
            Meter::GnuTime(time) => {
                let report = self.scratch.join("time.txt");
                let mut cmd = self.command(time);
                cmd.arg("-v")
                    .arg("-o")
                    .arg(&report)
                    .arg(&self.bin)
                    .args(args)
                    .stderr(stderr);
                let t = Instant::now();
                let status = cmd.status().expect("running /usr/bin/time");
                let secs = t.elapsed().as_secs_f64();
                check(status.success(), format!("exit {status}"));
                let text = std::fs::read_to_string(&report).expect("reading the time report");
                let field = |name: &str| -> f64 {
                    text.lines()
                        .find_map(|l| l.trim().strip_prefix(name)?.trim().strip_prefix(':'))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or_else(|| panic!("no `{name}` in the time report:\n{text}"))
                };
                Run {
                    secs,
                    peak_kb: field("Maximum resident set size (kbytes)") as u64,
                    cpu_secs: field("User time (seconds)") + field("System time (seconds)"),
                }
            }
            Meter::Wait4 => {
                let mut cmd = self.command(&self.bin);
                cmd.args(args).stderr(stderr);
                let t = Instant::now();
                // Reaped by `wait4` below, which std does not know about.
                #[allow(clippy::zombie_processes)]
                let pid = cmd.spawn().expect("running sharegen").id();
                let (status, ru) = rusage::wait(pid);
                let secs = t.elapsed().as_secs_f64();
                check(status == 0, format!("wait status {status:#x}"));
                Run {
                    secs,
                    peak_kb: ru.peak_kb,
                    cpu_secs: ru.cpu_secs,
                }
            }
        }
    }
}

/// `wait4(2)` with a hand-written `struct rusage` (no `libc` dependency;
/// std links the C library anyway). Linux only.
#[cfg(target_os = "linux")]
mod rusage {
    use std::ffi::{c_int, c_long};

    #[repr(C)]
    #[derive(Default)]
    struct Timeval {
        sec: c_long,
        usec: c_long,
    }

    /// `struct rusage` (Linux): two timevals, then 14 longs.
    #[repr(C)]
    #[derive(Default)]
    struct Rusage {
        utime: Timeval,
        stime: Timeval,
        maxrss: c_long,
        rest: [c_long; 13],
    }

    unsafe extern "C" {
        fn wait4(pid: c_int, status: *mut c_int, options: c_int, usage: *mut Rusage) -> c_int;
    }

    pub struct Usage {
        /// `ru_maxrss`: kilobytes on Linux.
        pub peak_kb: u64,
        pub cpu_secs: f64,
    }

    /// Waits for `pid`; returns the raw wait status and the child's usage.
    pub fn wait(pid: u32) -> (i32, Usage) {
        let mut status: c_int = 0;
        let mut ru = Rusage::default();
        loop {
            // SAFETY: valid pointers to owned, properly laid out values.
            let r = unsafe { wait4(pid as c_int, &mut status, 0, &mut ru) };
            if r == pid as c_int {
                break;
            }
            let e = std::io::Error::last_os_error();
            assert!(
                e.kind() == std::io::ErrorKind::Interrupted,
                "wait4({pid}): {e}"
            );
        }
        let secs = |t: &Timeval| t.sec as f64 + t.usec as f64 / 1e6;
        (
            status,
            Usage {
                peak_kb: ru.maxrss.max(0) as u64,
                cpu_secs: secs(&ru.utime) + secs(&ru.stime),
            },
        )
    }
}

#[cfg(not(target_os = "linux"))]
mod rusage {
    pub struct Usage {
        pub peak_kb: u64,
        pub cpu_secs: f64,
    }

    pub fn wait(_pid: u32) -> (i32, Usage) {
        panic!("the wait4 meter is Linux-only: set SHAREGEN_BENCH_METER=time")
    }
}

/// Wall times of `sharegen --version` (spawned directly, no meter).
fn bench_version(env: &Env, runs: usize) -> Vec<f64> {
    let run = || {
        let mut cmd = env.command(&env.bin);
        cmd.arg("--version").stderr(Stdio::null());
        let t = Instant::now();
        let status = cmd.status().expect("running sharegen --version");
        let secs = t.elapsed().as_secs_f64();
        assert!(status.success(), "sharegen --version: {status}");
        secs
    };
    run(); // warms the page cache
    (0..runs).map(|_| run()).collect()
}

// ---------------------------------------------------------------------------
// Phases: this binary, re-executed, runs the export steps with the library.

/// Minimum over the child runs of each step, in seconds.
#[derive(Debug, Default)]
struct Phases {
    load: f64,
    /// `render::html::render_messages` (the message bodies, in parallel).
    body: f64,
    /// `render::html::render_page` (messages + template).
    page: f64,
    /// `fsutil::write_atomic` of the page (with its fsync).
    write: f64,
    md: f64,
    json: f64,
    /// `VmHWM` after loading, and after each step (the largest seen).
    rss_loaded_kb: u64,
    rss_page_kb: u64,
    rss_written_kb: u64,
    rss_md_kb: u64,
    rss_json_kb: u64,
}

impl Phases {
    fn measure(file: &Path, out: &Path, runs: usize) -> Phases {
        let exe = std::env::current_exe().expect("current exe");
        let run = |phase: &str| -> Value {
            let o = Command::new(&exe)
                .env(CHILD_PHASE, phase)
                .env(CHILD_FILE, file)
                .env(CHILD_OUT, out)
                .output()
                .expect("running the phase child");
            assert!(
                o.status.success(),
                "phase child ({phase}) failed: {}\n{}",
                o.status,
                String::from_utf8_lossy(&o.stderr)
            );
            let stdout = String::from_utf8_lossy(&o.stdout);
            let line = stdout.lines().last().unwrap_or("");
            serde_json::from_str(line).unwrap_or_else(|e| panic!("phase report `{line}`: {e}"))
        };
        let mut p = Phases {
            load: f64::INFINITY,
            body: f64::INFINITY,
            page: f64::INFINITY,
            write: f64::INFINITY,
            md: f64::INFINITY,
            json: f64::INFINITY,
            ..Phases::default()
        };
        let f = |v: &Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
        let u = |v: &Value, k: &str| v[k].as_u64().unwrap_or(0);
        for _ in 0..runs {
            for phase in ["page", "body", "md", "json"] {
                let v = run(phase);
                p.load = p.load.min(f(&v, "load_s"));
                p.rss_loaded_kb = p.rss_loaded_kb.max(u(&v, "rss_loaded_kb"));
                match phase {
                    "page" => {
                        p.page = p.page.min(f(&v, "render_s"));
                        p.write = p.write.min(f(&v, "write_s"));
                        p.rss_page_kb = p.rss_page_kb.max(u(&v, "rss_rendered_kb"));
                        p.rss_written_kb = p.rss_written_kb.max(u(&v, "rss_end_kb"));
                    }
                    "body" => p.body = p.body.min(f(&v, "render_s")),
                    "md" => {
                        p.md = p.md.min(f(&v, "render_s"));
                        p.rss_md_kb = p.rss_md_kb.max(u(&v, "rss_rendered_kb"));
                    }
                    _ => {
                        p.json = p.json.min(f(&v, "render_s"));
                        p.rss_json_kb = p.rss_json_kb.max(u(&v, "rss_rendered_kb"));
                    }
                }
            }
        }
        p
    }

    fn to_json(&self) -> Value {
        json!({
            "load_s": self.load,
            "html_messages_s": self.body,
            "html_page_s": self.page,
            "write_s": self.write,
            "md_s": self.md,
            "json_s": self.json,
            "rss_loaded_kb": self.rss_loaded_kb,
            "rss_page_kb": self.rss_page_kb,
            "rss_written_kb": self.rss_written_kb,
            "rss_md_kb": self.rss_md_kb,
            "rss_json_kb": self.rss_json_kb,
        })
    }
}

/// The phase child: load, then one step, reporting times and `VmHWM`.
fn child(phase: &str) {
    use sharegen::render::{html, md, templates::Templates};
    let file = PathBuf::from(std::env::var_os(CHILD_FILE).expect("phase child: no file"));
    let diag = Diag::silent();
    let t = Instant::now();
    let session = sharegen::sources::claude_code::load_file(&file, &diag).expect("loading");
    let load_s = t.elapsed().as_secs_f64();
    let rss_loaded_kb = status_kb("VmHWM");
    let t = Instant::now();
    let mut write_s = 0.0;
    let bytes = match phase {
        "page" => {
            let templates = Templates::new(None).expect("templates");
            let page = html::render_page(&session, &html::PageOptions::default(), &templates)
                .expect("rendering the page");
            page.into_bytes()
        }
        "body" => html::render_messages(&session, "", 0).into_bytes(),
        "md" => md::render(&session).into_bytes(),
        "json" => {
            let doc = sharegen::model::ExportDocument {
                schema_version: sharegen::model::SCHEMA_VERSION,
                generator: "sharegen bench".into(),
                share_id: String::new(),
                session,
            };
            serde_json::to_vec_pretty(&doc).expect("json")
        }
        other => panic!("unknown phase {other}"),
    };
    let render_s = t.elapsed().as_secs_f64();
    let rss_rendered_kb = status_kb("VmHWM");
    if phase == "page" {
        let out = PathBuf::from(std::env::var_os(CHILD_OUT).expect("phase child: no out"));
        let t = Instant::now();
        sharegen::fsutil::write_atomic(&out, &bytes, None).expect("writing the page");
        write_s = t.elapsed().as_secs_f64();
    }
    let report = json!({
        "load_s": load_s,
        "render_s": render_s,
        "write_s": write_s,
        "bytes": bytes.len(),
        "rss_loaded_kb": rss_loaded_kb,
        "rss_rendered_kb": rss_rendered_kb,
        "rss_end_kb": status_kb("VmHWM"),
    });
    println!("{report}");
}

// ---------------------------------------------------------------------------
// Output.

fn print_tables(
    rows: &[(String, Row)],
    version: &[f64],
    cpus: usize,
    meter: &Meter,
    opts: GenOptions,
) {
    println!();
    println!(
        "export: `sharegen export FILE -o OUT`, {cpus} CPUs, wall clock per process; \
         peak RSS and CPU by {}; {} text",
        meter.name(),
        if opts.unique_text {
            "unique"
        } else {
            "repeated"
        }
    );
    println!(
        "{:<18} {:>7} {:>5} {:>4} {:>8} {:>8} {:>7} {:>8} {:>8} {:>7} {:>7} {:>7}",
        "input",
        "file MB",
        "fmt",
        "runs",
        "min s",
        "median s",
        "CPU s",
        "peak MB",
        "RSS/file",
        "out MB",
        "text MB",
        "out/txt"
    );
    for (name, r) in rows {
        let text = r.text.text().max(1) as f64;
        let line = |fmt: &str, runs: usize, min: f64, med: f64, cpu: f64, kb: u64, out: u64| {
            println!(
                "{:<18} {:>7.1} {:>5} {:>4} {:>8.3} {:>8.3} {:>7.2} {:>8.1} {:>7.2}x {:>7.1} {:>7.2} {:>6.2}x",
                name,
                r.bytes as f64 / MB,
                fmt,
                runs,
                min,
                med,
                cpu,
                kb as f64 * 1024.0 / MB,
                r.ratio(kb),
                out as f64 / MB,
                text / MB,
                out as f64 / text
            );
        };
        line(
            "html",
            r.html.len(),
            r.html_min(),
            r.html_median(),
            r.html_cpu_median(),
            r.html_peak_kb(),
            r.page_bytes,
        );
        line(
            "md",
            1,
            r.md.secs,
            r.md.secs,
            r.md.cpu_secs,
            r.md.peak_kb,
            r.md_bytes,
        );
        line(
            "json",
            1,
            r.json.secs,
            r.json.secs,
            r.json.cpu_secs,
            r.json.peak_kb,
            r.json_bytes,
        );
    }
    println!(
        "text MB = the session's text (prose + tool input/output strings); attachments (base64) apart:"
    );
    for (name, r) in rows {
        println!(
            "  {name}: {} messages, prose {:.2} MB, tool {:.2} MB, attachments {:.2} MB; page / (text + attachments) {:.2}x",
            r.messages,
            r.text.prose as f64 / MB,
            r.text.tool as f64 / MB,
            r.text.attachments as f64 / MB,
            r.page_bytes as f64 / (r.text.text() + r.text.attachments).max(1) as f64
        );
    }
    if rows.iter().any(|(_, r)| r.phases.is_some()) {
        println!();
        println!(
            "phases (library, in one process; min of the child runs; VmHWM in MB after the step)"
        );
        println!(
            "{:<18} {:>7} {:>9} {:>8} {:>7} {:>7} {:>7} | {:>7} {:>7} {:>7} {:>7} {:>7}",
            "input",
            "load s",
            "msgs s",
            "page s",
            "write s",
            "md s",
            "json s",
            "loaded",
            "page",
            "written",
            "md",
            "json"
        );
        for (name, r) in rows {
            if let Some(p) = &r.phases {
                let mb = |kb: u64| kb as f64 * 1024.0 / MB;
                println!(
                    "{:<18} {:>7.3} {:>9.3} {:>8.3} {:>7.3} {:>7.3} {:>7.3} | {:>7.1} {:>7.1} {:>7.1} {:>7.1} {:>7.1}",
                    name,
                    p.load,
                    p.body,
                    p.page,
                    p.write,
                    p.md,
                    p.json,
                    mb(p.rss_loaded_kb),
                    mb(p.rss_page_kb),
                    mb(p.rss_written_kb),
                    mb(p.rss_md_kb),
                    mb(p.rss_json_kb)
                );
            }
        }
    }
    println!();
    println!(
        "sharegen --version: {} runs, min {:.2} ms, median {:.2} ms, max {:.2} ms",
        version.len(),
        min_of(version) * 1e3,
        median_of(version) * 1e3,
        version.iter().copied().fold(0.0, f64::max) * 1e3
    );
    let targets: Vec<String> = TARGET_SECS
        .iter()
        .map(|(s, t)| format!("{s} MB html < {t} s"))
        .collect();
    println!(
        "targets: {}; peak RSS < {TARGET_RSS_RATIO}x file; text-only page < {TARGET_PAGE_TEXT_RATIO}x text; --version < {} ms",
        targets.join(", "),
        TARGET_VERSION_SECS * 1e3
    );
}
