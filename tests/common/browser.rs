//! Plumbing shared by the headless Chromium tests: what they need, and
//! running one of the Node harnesses in `tests/browser/` with a deadline.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Debian's `chromium` package, installed by `scripts/test`.
pub const CHROMIUM: &str = "/usr/bin/chromium";

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// True when the browser tests are to be skipped (`SHAREGEN_SKIP_BROWSER=1`;
/// says so, naming `test`). Otherwise panics naming whatever is missing:
/// Chromium, node or the harness's Node modules.
pub fn skip_or_require(test: &str) -> bool {
    if std::env::var("SHAREGEN_SKIP_BROWSER").as_deref() == Ok("1") {
        super::say(&format!("{test} skipped: SHAREGEN_SKIP_BROWSER=1\n"));
        return true;
    }
    let modules = manifest().join("tests/browser/node_modules/playwright-core");
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let mut missing = Vec::new();
    if !Path::new(CHROMIUM).is_file() {
        missing.push(format!("Chromium ({CHROMIUM})"));
    }
    if !node {
        missing.push("node".to_string());
    }
    if !modules.is_dir() {
        missing.push(format!("the Node modules ({})", modules.display()));
    }
    assert!(
        missing.is_empty(),
        "{test} needs {}: run scripts/test, which installs them \
         (or set SHAREGEN_SKIP_BROWSER=1 to skip it)",
        missing.join(", ")
    );
    false
}

/// Runs `node tests/browser/<script> <spec>` with `tmp` as its HOME and
/// TMPDIR (Chromium's profile goes away with it), killing it `timeout` plus
/// a minute after the start. Returns (stdout, stderr, exit status; None
/// when killed).
pub fn run_harness(
    script: &str,
    spec: &Path,
    tmp: &Path,
    timeout: Duration,
) -> (String, String, Option<i32>) {
    let mut child = std::process::Command::new("node")
        .arg(manifest().join("tests/browser").join(script))
        .arg(spec)
        .current_dir(manifest())
        .env("TMPDIR", tmp)
        .env("HOME", tmp)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start node (run scripts/test, which installs what the browser tests need)");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + timeout + Duration::from_secs(60);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    (out.join().unwrap(), err.join().unwrap(), status)
}
