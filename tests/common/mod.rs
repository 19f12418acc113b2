//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod browser;
pub mod live;

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/claude-code")
}

pub fn sharegen(home: &Path) -> Command {
    let mut c = Command::cargo_bin("sharegen").unwrap();
    c.env("HOME", home)
        .env("SHAREGEN_HOME", home.join("sg"))
        .env("SHAREGEN_SALT", "test-salt")
        .env_remove("CLAUDE_CONFIG_DIR")
        .env_remove("XDG_DATA_HOME")
        .env_remove("OPENCODE_DB")
        .env_remove("CLAUDE_SESSION_ID")
        .env_remove("OPENCODE_SESSION_ID")
        .env_remove("CODEX_HOME")
        .env_remove("GEMINI_CLI_HOME");
    c
}

pub fn lines(path: &Path) -> Vec<Value> {
    let bytes = std::fs::read(path).unwrap();
    String::from_utf8_lossy(&bytes)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.is_object())
        .collect()
}

pub fn role_of(v: &Value) -> &str {
    match v["type"].as_str().unwrap_or("") {
        "message" => v["message"]["role"].as_str().unwrap_or(""),
        t => t,
    }
}

/// Text of a tool_result's content, the way the agent stored it.
pub fn result_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .filter(|i| i["type"] == "text")
            .map(|i| i["text"].as_str().unwrap_or("").to_string())
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// The agent files that belong to a main transcript, by layout.
pub fn agent_files(main: &Path) -> Vec<PathBuf> {
    let id = main.file_stem().unwrap().to_str().unwrap();
    let dir = main.parent().unwrap();
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(dir.join(id).join("subagents"))
        .into_iter()
        .flatten()
    {
        let p = entry.path();
        let name = p.file_name().unwrap().to_string_lossy();
        if name.starts_with("agent-") && name.ends_with(".jsonl") {
            out.push(p.to_path_buf());
        }
    }
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("agent-") && name.ends_with(".jsonl") {
            let first = lines(&p)
                .into_iter()
                .find_map(|v| v["sessionId"].as_str().map(String::from));
            if first.as_deref() == Some(id) {
                out.push(p);
            }
        }
    }
    out
}

pub fn main_transcripts() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(fixtures()).into_iter().flatten() {
        let p = entry.path();
        let name = p.file_name().unwrap().to_string_lossy();
        let in_subagents = p.components().any(|c| c.as_os_str() == "subagents");
        if name.ends_with(".jsonl")
            && !name.starts_with("agent-")
            && !in_subagents
            && name != "journal.jsonl"
            && std::fs::metadata(p).unwrap().len() > 0
            && lines(p)
                .iter()
                .any(|v| matches!(role_of(v), "user" | "assistant"))
        {
            out.push(p.to_path_buf());
        }
    }
    out.sort();
    out
}

/// Copies a folder tree.
pub fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from).into_iter().flatten() {
        let dst = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dst).unwrap();
        } else {
            std::fs::copy(entry.path(), &dst).unwrap();
        }
    }
}

/// Cargo's target folder (where test artifacts such as screenshots go).
pub fn target_dir() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { manifest.join(p) })
        .unwrap_or_else(|| manifest.join("target"))
}

/// Written straight to the terminal: cargo's capture would hide it when
/// the test passes.
pub fn say(text: &str) {
    use std::io::Write;
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// `sharegen export FILE --format FORMAT -o -` with a fresh home; its output.
/// Exports `file` as it was recorded (`--no-redact`: these tests check
/// what the readers keep; tests/redaction.rs checks what redaction drops).
pub fn export_to(file: &Path, format: &str) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let out = sharegen(tmp.path())
        .args(["export", "--no-redact", "--format", format, "-o", "-"])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `sharegen(home)` for the readers' fidelity tests: outputs as recorded
/// (`SHAREGEN_REDACT_ENABLED=0`: these tests check what the readers keep;
/// tests/redaction.rs checks what redaction drops).
pub fn sharegen_all(home: &Path) -> Command {
    let mut c = sharegen(home);
    c.env("SHAREGEN_REDACT_ENABLED", "0");
    c
}

/// `tests/fixtures/<agent>`.
pub fn agent_fixtures(agent: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(agent)
}

/// The first `timestamp` of a Codex rollout, as Codex names its folders
/// and files: (`YYYY/MM/DD`, `YYYY-MM-DDThh-mm-ss`).
pub fn codex_date(file: &Path) -> (String, String) {
    let ts = lines(file)
        .iter()
        .find_map(|v| v["timestamp"].as_str().map(str::to_string))
        .unwrap_or_else(|| "2025-01-01T00:00:00Z".into());
    let t = chrono::DateTime::parse_from_rfc3339(&ts)
        .unwrap_or_else(|_| chrono::DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z").unwrap());
    (
        t.format("%Y/%m/%d").to_string(),
        t.format("%Y-%m-%dT%H-%M-%S").to_string(),
    )
}

/// Places a rollout in `<codex home>/sessions/` the way Codex names it;
/// returns its new path. Files not named `rollout-…` get that name.
pub fn place_rollout(codex_home: &Path, file: &Path) -> PathBuf {
    let (dir, stamp) = codex_date(file);
    let name = file.file_name().unwrap().to_string_lossy().to_string();
    let name = if name.starts_with("rollout-") {
        name
    } else {
        format!("rollout-{stamp}-{name}")
    };
    let dest = codex_home.join("sessions").join(dir).join(name);
    std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
    std::fs::copy(file, &dest).unwrap();
    dest
}

/// Every Codex fixture rollout, the subagent included.
pub fn codex_fixture_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = walkdir::WalkDir::new(agent_fixtures("codex"))
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    v.sort();
    v
}

/// A HOME whose `~/.codex` holds every Codex fixture.
pub fn codex_home() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for f in codex_fixture_files() {
        place_rollout(&tmp.path().join(".codex"), &f);
    }
    tmp
}

/// Runs sharegen and returns stdout; fails the test with stderr otherwise.
pub fn run_ok_all(home: &Path, args: &[&str]) -> String {
    let out = sharegen_all(home).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "sharegen {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The visible text of an HTML page, whitespace collapsed.
pub fn html_text(page: &str) -> String {
    let doc = scraper::Html::parse_document(page);
    let text: Vec<&str> = doc.root_element().text().collect();
    collapse_ws(&text.join(" "))
}

/// Runs of whitespace as one space.
pub fn collapse_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Runs `sharegen ARGS` (as `c`), asserting success; returns stdout.
pub fn run_ok_cmd(mut c: Command, args: &[&str]) -> String {
    let out = c.args(args).output().unwrap();
    assert!(
        out.status.success(),
        "sharegen {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `sharegen ARGS` with [`sharegen`]'s environment, asserting success.
pub fn run_ok(home: &Path, args: &[&str]) -> String {
    run_ok_cmd(sharegen(home), args)
}

/// Shares `session` (`--yes`); returns its share ID.
pub fn share(home: &Path, session: &str) -> String {
    let out = run_ok(home, &["share", session, "--yes"]);
    out.split('\t').next().unwrap().trim().to_string()
}

/// A Claude Code transcript `<id>.jsonl` under `home/.claude/projects`.
pub fn session_file(home: &Path, id: &str) -> PathBuf {
    walkdir::WalkDir::new(home.join(".claude/projects"))
        .into_iter()
        .flatten()
        .find(|e| e.file_name().to_string_lossy() == format!("{id}.jsonl"))
        .unwrap()
        .path()
        .to_path_buf()
}

/// Appends a user prompt to a Claude Code transcript, as the agent would.
pub fn append_prompt(home: &Path, id: &str, uuid: &str, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(session_file(home, id))
        .unwrap();
    writeln!(
        f,
        r#"{{"type":"user","uuid":"{uuid}","parentUuid":null,"timestamp":"2026-11-21T10:00:00Z","message":{{"role":"user","content":"{text}"}}}}"#
    )
    .unwrap();
}

/// A running `sharegen watch`, stopped when dropped.
pub struct Watch(pub std::process::Child);

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `sharegen watch --debounce 200` (with `-v` when `verbose`) for
/// `home`, with no agent-store variables from the environment; its stderr
/// goes to `home/watch.log`, returned beside it.
pub fn start_watch(home: &Path, verbose: bool) -> (Watch, PathBuf) {
    let log = home.join("watch.log");
    let mut args = vec!["watch", "--debounce", "200"];
    if verbose {
        args.insert(0, "-v");
    }
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("sharegen"))
        .env("HOME", home)
        .env("SHAREGEN_HOME", home.join("sg"))
        .env("SHAREGEN_SALT", "test-salt")
        // Every page is staged (see sharegen::site::page), so that the
        // tests below see staged rewrites match fresh builds.
        .env("SHAREGEN_STAGE_MIN_BYTES", "0")
        .env_remove("CLAUDE_CONFIG_DIR")
        .env_remove("XDG_DATA_HOME")
        .env_remove("CODEX_HOME")
        .env_remove("GEMINI_CLI_HOME")
        .args(&args)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    (Watch(child), log)
}

/// Polls `f` every 50 ms until it holds; panics naming `what` after 30 s.
pub fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !f() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Every file under `root`, with its bytes (to show nothing was written).
pub fn snapshot(root: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| (e.path().to_path_buf(), std::fs::read(e.path()).unwrap()))
        .collect()
}

/// A small deterministic generator, so failures reproduce.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// The reference `sharegen` loads a listed session by.
pub fn session_ref(s: &sharegen::model::SessionSummary) -> sharegen::sources::SessionRef {
    sharegen::sources::SessionRef {
        agent: s.agent,
        id: s.id.clone(),
        path: s.path.clone(),
    }
}

/// Lists `store` and loads every session it finds; where a load works, its
/// user and assistant messages must be the listing's count. Then loads
/// whatever `file` holds by path. Returns the number of sessions listed.
/// (For damaged input: nothing may panic.)
pub fn exercise_store(store: &dyn sharegen::sources::Source, file: &Path) -> usize {
    use sharegen::model::Role;
    let diag = sharegen::diag::Diag::silent();
    let found = store.discover(&diag).unwrap_or_default();
    for s in &found {
        if let Ok(full) = store.load(&session_ref(s), &diag) {
            let n = full
                .messages
                .iter()
                .filter(|m| matches!(m.role, Role::User | Role::Assistant))
                .count() as u64;
            assert_eq!(
                n,
                s.messages,
                "listing and load disagree on {}",
                file.display()
            );
        }
    }
    if let Ok(Some((source, by_path))) = sharegen::sources::refs_for_path(file, &diag) {
        for s in by_path {
            let _ = source.load(&session_ref(&s), &diag);
        }
    }
    found.len()
}
