//! A live page in headless Chromium (driven by tests/browser/live.mjs):
//! `sharegen watch` runs on a shared session, the site is served on
//! http://127.0.0.1, and a message appended to the session file must appear
//! on the open page without a reload or navigation, keeping the scroll
//! position and a block opened by hand, with no console error, no CSP
//! violation and no request except the page's own `./` and `version.json`
//! on that server. The same page opened from file:// must not poll at all
//! and shows no "live" badge.
//!
//! Needs /usr/bin/chromium, node and tests/browser/node_modules, which
//! `scripts/test` installs. Missing ones fail the test, unless
//! SHAREGEN_SKIP_BROWSER=1 says to skip it. The harness's full report goes
//! to target/browser-live/result.json.

mod common;
use common::browser::CHROMIUM;

use common::*;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const SESSION: &str = "03eb5929-52b3-4b13-ada3-b93ae35806b8";
/// The harness bounds itself to this; the test kills it a minute later.
const HARNESS_TIMEOUT: Duration = Duration::from_secs(120);
/// How long the page has to show the appended message.
const APPEAR: Duration = Duration::from_secs(20);
/// How long the file:// page is watched for polling.
const FILE_QUIET: Duration = Duration::from_secs(4);
/// Scroll position kept within this many pixels.
const SCROLL_TOLERANCE: f64 = 4.0;

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn env(cmd: &mut std::process::Command, home: &Path) {
    cmd.env("HOME", home)
        .env("SHAREGEN_HOME", home.join("sg"))
        .env("SHAREGEN_SALT", "test")
        .env_remove("CLAUDE_CONFIG_DIR")
        .env_remove("XDG_DATA_HOME")
        .env_remove("OPENCODE_DB")
        .env_remove("CLAUDE_SESSION_ID")
        .env_remove("OPENCODE_SESSION_ID");
}

fn sharegen_cmd(home: &Path) -> std::process::Command {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("sharegen"));
    env(&mut c, home);
    c
}

/// A child process killed (and reaped) when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The harness: on drop, its standard input is closed (it then shuts the
/// browser and the server down by itself), it gets some seconds to do so,
/// and is killed after that.
struct Harness {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Harness {
    fn wait_until(&mut self, deadline: Instant) -> Option<i32> {
        loop {
            match self.child.try_wait() {
                Ok(Some(st)) => return st.code(),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return None;
                }
            }
        }
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.stdin.take();
        self.wait_until(Instant::now() + Duration::from_secs(15));
    }
}

fn session_file(home: &Path) -> PathBuf {
    walkdir::WalkDir::new(home.join(".claude/projects"))
        .into_iter()
        .flatten()
        .find(|e| e.file_name().to_string_lossy() == format!("{SESSION}.jsonl"))
        .expect("the fixture session")
        .path()
        .to_path_buf()
}

fn wait_for(what: &str, log: &Path, limit: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}; watch said:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Collects failures so one run reports all of them.
#[derive(Default)]
struct Failures(Vec<String>);

impl Failures {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.0.push(what());
        }
    }
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn n(v: &Value) -> i64 {
    v.as_i64().unwrap_or(-1)
}

fn arr(v: &Value) -> impl Iterator<Item = &Value> {
    v.as_array().into_iter().flatten()
}

/// Console errors, uncaught exceptions and CSP violations.
fn check_quiet(f: &mut Failures, at: &str, rec: &Value) {
    for m in arr(&rec["console"]) {
        let text = s(&m["text"]);
        f.check(
            s(&m["type"]) != "error" && !text.contains("Content Security Policy"),
            || format!("{at}: console {}: {text}", s(&m["type"])),
        );
    }
    for e in arr(&rec["page_errors"]) {
        f.0.push(format!("{at}: uncaught exception: {e}"));
    }
    for v in arr(&rec["csp_violations"]) {
        f.0.push(format!("{at}: CSP violation: {v}"));
    }
    if let Some(e) = rec.get("error") {
        f.0.push(format!("{at}: the checks could not finish: {}", s(e)));
    }
}

fn check_http(f: &mut Failures, r: &Value, word: &str) {
    let at = "http";
    check_quiet(f, at, r);
    let url = s(&r["url"]);
    let version = format!("{url}version.json");
    let (loaded, before, after, later) = (&r["loaded"], &r["before"], &r["after"], &r["later"]);

    f.check(!s(&loaded["data_live"]).is_empty(), || {
        format!("{at}: the page is not a live page (no data-live): {loaded}")
    });
    f.check(r["timings"]["badge"].is_number(), || {
        format!("{at}: the live badge (#live) never became visible: {loaded}")
    });
    f.check(arr(&r["requests"]).any(|q| s(&q["url"]) == version), || {
        format!("{at}: the page never polled {version}")
    });
    f.check(n(&before["word_count"]) == 0, || {
        format!("{at}: {word:?} was on the page before it was appended: {before}")
    });

    // The message appears, once, as a new prompt at the end.
    f.check(r["appear_ms"].is_number(), || {
        format!(
            "{at}: {word:?} did not appear on the open page within {APPEAR:?} of the append ({}); \
             last message on the page: {}",
            s(&r["appear_error"]),
            after["last_top_article"]
        )
    });
    if r["appear_ms"].is_number() {
        f.check(n(&after["word_count"]) == 1, || {
            format!("{at}: {word:?} shown {} times", after["word_count"])
        });
        f.check(
            n(&after["top_articles"]) == n(&before["top_articles"]) + 1,
            || {
                format!(
                    "{at}: {} top-level messages before the append, {} after (expected one more)",
                    before["top_articles"], after["top_articles"]
                )
            },
        );
        let last = &after["last_top_article"];
        f.check(
            s(&last["text"]).contains(word) && s(&last["class"]).contains("user"),
            || format!("{at}: the appended message is not the last prompt: {last}"),
        );
    }

    // Without a reload or navigation.
    let marker = s(&r["marker"]);
    f.check(!marker.is_empty(), || format!("{at}: no window marker set"));
    for (k, v) in [("after", after), ("later", later)] {
        f.check(s(&v["marker"]) == marker, || {
            format!(
                "{at}: the window marker was lost ({k}): the page reloaded: {}",
                v["marker"]
            )
        });
        f.check(
            v["time_origin"] == loaded["time_origin"] && n(&v["navigation_entries"]) == 1,
            || format!("{at}: a new document was loaded ({k}): {v} vs {loaded}"),
        );
        f.check(v["badge_visible"] == true, || {
            format!("{at}: the live badge is gone ({k})")
        });
    }
    let navs: Vec<&Value> = arr(&r["navigations"]).collect();
    f.check(navs.len() == 1 && n(&r["loads"]) == 1, || {
        format!(
            "{at}: expected one navigation and one load, saw {} loads and {navs:?}",
            r["loads"]
        )
    });
    let documents: Vec<&Value> = arr(&r["requests"])
        .filter(|q| s(&q["type"]) == "document")
        .collect();
    f.check(documents.len() == 1, || {
        format!("{at}: document requests: {documents:?}")
    });

    // Scroll position and the block opened by hand are kept.
    let (y0, y1) = (
        before["scroll"]["y"].as_f64().unwrap_or(-1.0),
        after["scroll"]["y"].as_f64().unwrap_or(-2.0),
    );
    f.check(y0 > 0.0, || {
        format!("{at}: could not scroll to the middle: {}", before["scroll"])
    });
    f.check((y1 - y0).abs() <= SCROLL_TOLERANCE, || {
        format!(
            "{at}: the scroll position moved from {y0} to {y1}: {} -> {}",
            before["scroll"], after["scroll"]
        )
    });
    let y2 = later["scroll"]["y"].as_f64().unwrap_or(-2.0);
    f.check((y2 - y0).abs() <= SCROLL_TOLERANCE, || {
        format!("{at}: the scroll position moved later, from {y0} to {y2}")
    });
    f.check(
        !r["opened"].is_null() && r["opened_still_open"] == true,
        || {
            format!(
                "{at}: the block opened by hand ({}) is not open after the update: {}",
                r["opened"], r["opened_still_open"]
            )
        },
    );

    // Only the page and its version.json, on our server; the page itself
    // fetched again after the append, and not again once settled.
    for q in arr(&r["requests"]) {
        let u = s(&q["url"]);
        f.check(u == url || u == version || u.starts_with("data:"), || {
            format!("{at}: request to {u} ({})", s(&q["type"]))
        });
    }
    let appended = n(&r["appended_at"]);
    let settled = n(&r["settled_at"]);
    let refetches: Vec<i64> = arr(&r["requests"])
        .filter(|q| s(&q["url"]) == url && s(&q["type"]) != "document")
        .map(|q| n(&q["at"]))
        .collect();
    f.check(refetches.iter().any(|&t| t >= appended), || {
        format!("{at}: the page was not fetched again after the append: {refetches:?}")
    });
    f.check(refetches.iter().all(|&t| t >= appended), || {
        format!("{at}: the page was fetched again before anything changed: {refetches:?}")
    });
    f.check(
        settled < 0 || refetches.iter().all(|&t| t <= settled),
        || {
            format!(
                "{at}: the page was fetched again after the update settled (at {settled} ms): \
                 {refetches:?}"
            )
        },
    );
}

fn check_file(f: &mut Failures, r: &Value) {
    let at = "file://";
    check_quiet(f, at, r);
    let (loaded, later) = (&r["loaded"], &r["later"]);
    f.check(!s(&loaded["data_live"]).is_empty(), || {
        format!("{at}: the page is not a live page (no data-live): {loaded}")
    });
    f.check(n(&r["requests_at_load"]) >= 1, || {
        format!("{at}: no request recorded at all (the recorder is broken): {r}")
    });
    let after: Vec<&Value> = arr(&r["requests_after_load"]).collect();
    f.check(
        r["requests_after_load"].is_array() && after.is_empty(),
        || format!("{at}: requests after load: {after:?}"),
    );
    for (k, v) in [("at load", loaded), ("later", later)] {
        f.check(
            v["fetch_calls"].as_array().is_some_and(|a| a.is_empty()),
            || {
                format!(
                    "{at}: the page called fetch/XHR ({k}): {}",
                    v["fetch_calls"]
                )
            },
        );
        f.check(
            v["badge_exists"] == true && v["badge_visible"] == false,
            || format!("{at}: the live badge shows ({k}): {v}"),
        );
    }
}

#[test]
fn live_page_updates_in_place_in_headless_chromium() {
    if common::browser::skip_or_require("the live browser test") {
        return;
    }

    let t0 = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    copy_tree(&fixtures().join("projects"), &home.join(".claude/projects"));
    let session = session_file(home);

    let o = sharegen_cmd(home)
        .args(["share", SESSION, "--yes"])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "sharegen share: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let stdout = String::from_utf8(o.stdout).unwrap();
    let id = stdout.split('\t').next().unwrap().trim().to_string();
    assert!(!id.is_empty(), "no share id in {stdout:?}");

    let site = home.join("sg/site");
    let page_dir = site.join("s").join(&id);
    let log = home.join("watch.log");
    let _watch = Killed(
        sharegen_cmd(home)
            .args(["watch", "--debounce", "200"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("cannot start sharegen watch"),
    );
    wait_for("watch's first build", &log, Duration::from_secs(30), || {
        page_dir.join("index.html").is_file() && page_dir.join("version.json").is_file()
    });
    let setup_time = t0.elapsed();

    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let word = format!("quokkalive{}x{nanos}", std::process::id());
    let harness_tmp = home.join("browser-tmp");
    std::fs::create_dir_all(&harness_tmp).unwrap();
    let result_path = home.join("result.json");
    let spec = json!({
        "chromium": CHROMIUM,
        "site_dir": site,
        "page": format!("s/{id}/"),
        "word": word,
        "timeout_ms": HARNESS_TIMEOUT.as_millis() as u64,
        "sync_ms": 30_000,
        "appear_ms": APPEAR.as_millis() as u64,
        "file_quiet_ms": FILE_QUIET.as_millis() as u64,
        "result_path": result_path,
    });
    let spec_path = home.join("spec.json");
    std::fs::write(&spec_path, serde_json::to_vec_pretty(&spec).unwrap()).unwrap();

    let t1 = Instant::now();
    let mut child = std::process::Command::new("node")
        .arg(manifest().join("tests/browser/live.mjs"))
        .arg(&spec_path)
        .current_dir(manifest())
        // Chromium's profile and anything else it leaves go away with tmp.
        .env("TMPDIR", &harness_tmp)
        .env("HOME", &harness_tmp)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start node (run scripts/test, which installs what the browser test needs)");
    let stdin = child.stdin.take();
    let stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let mut harness = Harness { child, stdin };
    let (tx, rx) = mpsc::channel::<String>();
    let out_thread = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            all.push_str(&line);
            all.push('\n');
            if tx.send(line).is_err() {
                break;
            }
        }
        all
    });
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });

    // Wait for "ready", append, answer "appended"; then for the end.
    let deadline = t1 + HARNESS_TIMEOUT + Duration::from_secs(60);
    let mut appended_at = None;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left.max(Duration::from_millis(1))) {
            Ok(line) if line.trim() == "ready" && appended_at.is_none() => {
                let mut f = std::fs::OpenOptions::new()
                    .append(true)
                    .open(&session)
                    .unwrap();
                writeln!(
                    f,
                    r#"{{"type":"user","uuid":"live-1","parentUuid":null,"timestamp":"2026-11-21T10:00:00Z","message":{{"role":"user","content":"Appended live: {word}"}}}}"#
                )
                .unwrap();
                drop(f);
                appended_at = Some(Instant::now());
                if let Some(w) = harness.stdin.as_mut() {
                    let _ = w.write_all(b"appended\n").and_then(|_| w.flush());
                }
            }
            Ok(_) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => break,
        }
    }
    harness.stdin.take();
    let status = harness.wait_until(deadline);
    drop(harness);
    let stdout = out_thread.join().unwrap();
    let stderr = err_thread.join().unwrap();
    let browser_time = t1.elapsed();

    // What watch wrote, to tell a page fault from a watch fault.
    let on_disk = std::fs::read_to_string(page_dir.join("index.html"))
        .unwrap_or_default()
        .contains(&word);
    let watch_log = std::fs::read_to_string(&log).unwrap_or_default();
    drop(_watch);

    let text = std::fs::read_to_string(&result_path).unwrap_or_else(|_| {
        stdout
            .lines()
            .filter(|l| l.trim() != "ready")
            .collect::<Vec<_>>()
            .join("\n")
    });
    let result: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "the harness printed no JSON ({e}; exit {status:?})\n--- stdout\n{}\n--- stderr\n{}",
            stdout.chars().take(4000).collect::<String>(),
            stderr.chars().take(4000).collect::<String>()
        )
    });
    let report_dir = target_dir().join("browser-live");
    std::fs::create_dir_all(&report_dir).unwrap();
    let report = report_dir.join("result.json");
    std::fs::write(&report, serde_json::to_vec_pretty(&result).unwrap()).unwrap();

    let mut f = Failures::default();
    f.check(result["fatal"].is_null() && status == Some(0), || {
        format!(
            "the harness failed (exit {status:?}): {}\n{}",
            result["fatal"],
            stderr.chars().take(4000).collect::<String>()
        )
    });
    f.check(appended_at.is_some(), || {
        format!(
            "the harness never said it was ready (steps: {})",
            result["http"]["steps"]
        )
    });
    check_http(&mut f, &result["http"], &word);
    check_file(&mut f, &result["file"]);
    for r in arr(&result["server_requests"]) {
        let path = s(&r["url"]);
        f.check(
            s(&r["method"]) == "GET"
                && (path == format!("/s/{id}/") || path == format!("/s/{id}/version.json")),
            || format!("the server was asked for {} {path}", s(&r["method"])),
        );
    }
    if appended_at.is_some() && !result["http"]["appear_ms"].is_number() {
        f.0.push(format!(
            "after the append, watch {} the page on disk (watch said:\n{})",
            if on_disk {
                "had rewritten"
            } else {
                "had NOT rewritten"
            },
            watch_log.trim_end()
        ));
    }

    let polls = arr(&result["http"]["requests"])
        .filter(|q| s(&q["url"]).ends_with("/version.json"))
        .count();
    say(&format!(
        "live browser test: setup {:.1} s, harness {:.1} s ({}); appended message shown after {} ms; \
         {polls} polls of version.json; details: {}\n",
        setup_time.as_secs_f64(),
        browser_time.as_secs_f64(),
        s(&result["browser_version"]),
        result["http"]["appear_ms"],
        report.strip_prefix(manifest()).unwrap_or(&report).display()
    ));
    assert!(
        f.0.is_empty(),
        "{} live browser check(s) failed:\n- {}",
        f.0.len(),
        f.0.join("\n- ")
    );
}
