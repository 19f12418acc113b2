//! `sharegen publish --git`, end to end against real git servers on
//! 127.0.0.1: `git daemon --enable=receive-pack` and `git http-backend`
//! behind a small HTTP/1.1 server that requires Basic auth. The remote is
//! inspected with the git CLI, independently of sharegen.

mod common;

use base64::Engine;
use common::*;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const IDEAS: &str = "03eb5929-52b3-4b13-ada3-b93ae35806b8";
const WORKTREES: &str = "ef958aa1-0e93-49f0-bb71-150f63befcd1";
const BRANCH: &str = "refs/heads/gh-pages";

/// A HOME with the Claude Code fixtures as its store.
fn home() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(
        &fixtures().join("projects"),
        &tmp.path().join(".claude/projects"),
    );
    tmp
}

/// sharegen with no ambient git credentials or config.
fn sg(home: &Path) -> assert_cmd::Command {
    let mut c = sharegen(home);
    c.env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("SHAREGEN_GIT_TOKEN")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GH_TOKEN")
        .env_remove("SSH_AUTH_SOCK")
        .env_remove("SHAREGEN_SITE_BASE_URL");
    c
}

fn run_ok(home: &Path, args: &[&str]) -> String {
    run_ok_cmd(sg(home), args)
}

fn share(home: &Path, session: &str) -> String {
    let out = run_ok(home, &["share", session, "--yes"]);
    out.split('\t').next().unwrap().trim().to_string()
}

fn publish(home: &Path, url: &str, extra: &[&str]) -> Value {
    let mut args = vec!["publish", "--git", url, "--json"];
    args.extend_from_slice(extra);
    let v: Value = serde_json::from_str(&run_ok(home, &args)).unwrap();
    v[0].clone()
}

/// The git CLI on a bare repository.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn try_git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8(out.stdout).unwrap())
}

fn commits(repo: &Path) -> Vec<String> {
    try_git(repo, &["rev-list", BRANCH])
        .map(|s| s.lines().map(String::from).collect())
        .unwrap_or_default()
}

fn files_at(repo: &Path, rev: &str) -> Vec<String> {
    git(repo, &["ls-tree", "-r", "--name-only", rev])
        .lines()
        .map(String::from)
        .collect()
}

fn show(repo: &Path, rev_path: &str) -> Vec<u8> {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(repo)
        .args(["cat-file", "blob", rev_path])
        .output()
        .unwrap();
    assert!(out.status.success(), "{rev_path}");
    out.stdout
}

fn loose_objects(repo: &Path) -> usize {
    walkdir::WalkDir::new(repo.join("objects"))
        .min_depth(2)
        .into_iter()
        .flatten()
        .filter(|e| {
            e.file_type().is_file()
                && e.path()
                    .parent()
                    .and_then(|p| p.file_name())
                    .is_some_and(|n| n.len() == 2)
        })
        .count()
}

fn packs(repo: &Path) -> usize {
    std::fs::read_dir(repo.join("objects/pack"))
        .map(|d| d.flatten().count())
        .unwrap_or(0)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "server on {port} did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A folder of bare repositories, served by `git daemon` on 127.0.0.1.
struct Daemon {
    root: tempfile::TempDir,
    child: Child,
    port: u16,
}

impl Daemon {
    fn start() -> Daemon {
        let root = tempfile::tempdir().unwrap();
        let repo = root.path().join("site.git");
        let out = Command::new("git")
            .args(["init", "--bare", "-q", "--initial-branch=main"])
            .arg(&repo)
            .output()
            .unwrap();
        assert!(out.status.success());
        let port = free_port();
        let child = Command::new("git")
            .args([
                "daemon",
                "--reuseaddr",
                "--listen=127.0.0.1",
                &format!("--port={port}"),
                "--export-all",
                "--enable=receive-pack",
                "--informative-errors",
            ])
            .arg(format!("--base-path={}", root.path().display()))
            .arg(root.path())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("git daemon");
        wait_for_port(port);
        Daemon { root, child, port }
    }

    fn url(&self) -> String {
        format!("git://127.0.0.1:{}/site.git", self.port)
    }

    fn repo(&self) -> PathBuf {
        self.root.path().join("site.git")
    }

    fn hook(&self, name: &str, script: &str) {
        let p = self.repo().join("hooks").join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{script}\n")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `git http-backend` behind a threaded HTTP/1.1 server requiring Basic
/// auth with password `token` (any user name).
struct HttpGit {
    root: tempfile::TempDir,
    port: u16,
    requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl HttpGit {
    fn start(token: &str) -> HttpGit {
        let root = tempfile::tempdir().unwrap();
        let out = Command::new("git")
            .args(["init", "--bare", "-q"])
            .arg(root.path().join("site.git"))
            .output()
            .unwrap();
        assert!(out.status.success());
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, s, t) = (requests.clone(), stop.clone(), token.to_string());
        let project = root.path().to_path_buf();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (r, t, project) = (r.clone(), t.clone(), project.clone());
                std::thread::spawn(move || {
                    let _ = serve(conn, &project, &t, &r);
                });
            }
        });
        HttpGit {
            root,
            port,
            requests,
            stop,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/site.git", self.port)
    }

    fn repo(&self) -> PathBuf {
        self.root.path().join("site.git")
    }
}

impl Drop for HttpGit {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// One connection: requests until the client closes it.
fn serve(conn: TcpStream, project: &Path, token: &str, count: &AtomicUsize) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut out = conn;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        count.fetch_add(1, Ordering::SeqCst);
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let target = parts.next().unwrap_or("").to_string();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            reader.read_line(&mut h)?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let header = |k: &str| headers.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let mut body = Vec::new();
        if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            loop {
                let mut size = String::new();
                reader.read_line(&mut size)?;
                let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                    .unwrap_or(0);
                let mut chunk = vec![0; n + 2];
                reader.read_exact(&mut chunk)?;
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..n]);
            }
        } else if let Some(n) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
            body.resize(n, 0);
            reader.read_exact(&mut body)?;
        }
        let user = header("authorization")
            .and_then(|v| v.strip_prefix("Basic ").map(str::to_string))
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|up| {
                let (u, p) = up.split_once(':')?;
                (p == token).then(|| u.to_string())
            });
        let Some(user) = user else {
            let msg = "authentication required";
            write!(
                out,
                "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"git\"\r\nContent-Length: {}\r\n\r\n{msg}",
                msg.len()
            )?;
            out.flush()?;
            continue;
        };
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let mut cgi = Command::new("git")
            .arg("http-backend")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("GIT_PROJECT_ROOT", project)
            .env("GIT_HTTP_EXPORT_ALL", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("REQUEST_METHOD", &method)
            .env("PATH_INFO", path)
            .env("QUERY_STRING", query)
            .env("CONTENT_TYPE", header("content-type").unwrap_or_default())
            .env("CONTENT_LENGTH", body.len().to_string())
            .env(
                "HTTP_GIT_PROTOCOL",
                header("git-protocol").unwrap_or_default(),
            )
            .env("REMOTE_USER", &user)
            .env("REMOTE_ADDR", "127.0.0.1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let mut stdin = cgi.stdin.take().unwrap();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&body);
        });
        let output = cgi.wait_with_output()?;
        let _ = writer.join();
        let raw = output.stdout;
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|i| (i, 4))
            .or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)));
        let (head, payload) = match split {
            Some((i, n)) => (
                String::from_utf8_lossy(&raw[..i]).to_string(),
                &raw[i + n..],
            ),
            None => (String::new(), &raw[..]),
        };
        let mut status = "200 OK".to_string();
        let mut resp = String::new();
        for h in head.lines() {
            if let Some(s) = h.strip_prefix("Status:") {
                status = s.trim().to_string();
            } else if !h.trim().is_empty() {
                resp.push_str(h.trim_end());
                resp.push_str("\r\n");
            }
        }
        write!(
            out,
            "HTTP/1.1 {status}\r\n{resp}Content-Length: {}\r\n\r\n",
            payload.len()
        )?;
        out.write_all(payload)?;
        out.flush()?;
    }
}

#[test]
fn first_publish_then_one_change_then_nothing() {
    let server = Daemon::start();
    let repo = server.repo();
    let home = home();
    let a = share(home.path(), IDEAS);
    let b = share(home.path(), WORKTREES);

    // First publish: the branch is created with the whole site.
    let r1 = publish(home.path(), &server.url(), &[]);
    assert_eq!(r1["up_to_date"], false);
    let c1 = r1["commit"].as_str().unwrap().to_string();
    assert_eq!(commits(&repo), vec![c1.clone()]);
    let files = files_at(&repo, BRANCH);
    for f in [
        format!("s/{a}/index.html"),
        format!("s/{a}/session.json"),
        format!("s/{b}/index.html"),
        "index.html".into(),
        "404.html".into(),
        ".nojekyll".into(),
        "robots.txt".into(),
        "sharegen-manifest.json".into(),
    ] {
        assert!(files.contains(&f), "{f} missing from {files:?}");
    }
    // The pushed bytes are the built site's.
    let site = home.path().join("sg/site");
    assert_eq!(
        show(&repo, &format!("{BRANCH}:s/{a}/index.html")),
        std::fs::read(site.join(format!("s/{a}/index.html"))).unwrap()
    );
    let remote: Value =
        serde_json::from_slice(&show(&repo, &format!("{BRANCH}:sharegen-manifest.json"))).unwrap();
    assert!(remote["files"][format!("s/{b}/index.html")]["publisher"].is_string());

    // One changed share: one commit, touching that share, the index (maybe)
    // and the manifest, carrying only the changed objects.
    append_prompt(home.path(), IDEAS, "u-54", "one more question");
    let (loose, pack) = (loose_objects(&repo), packs(&repo));
    let r2 = publish(home.path(), &server.url(), &[]);
    let c2 = r2["commit"].as_str().unwrap().to_string();
    assert_eq!(commits(&repo), vec![c2.clone(), c1.clone()]);
    let changed: Vec<String> = git(&repo, &["diff", "--name-only", &c1, &c2])
        .lines()
        .map(String::from)
        .collect();
    assert!(
        changed.contains(&format!("s/{a}/index.html")),
        "{changed:?}"
    );
    assert!(changed.contains(&"sharegen-manifest.json".to_string()));
    for f in &changed {
        assert!(
            f.starts_with(&format!("s/{a}/")) || f == "index.html" || f == "sharegen-manifest.json",
            "unexpected change {f}"
        );
    }
    assert_eq!(r2["changed_shares"], serde_json::json!([a]));
    // git unpacks small pushes: the new objects are the changed blobs, the
    // trees on their paths and the commit — not the whole site again.
    assert_eq!(packs(&repo), pack);
    let added = loose_objects(&repo) - loose;
    assert!(
        added <= changed.len() + 4,
        "{added} objects pushed for {changed:?}"
    );

    // Unchanged: no commit, no push.
    let r3 = publish(home.path(), &server.url(), &[]);
    assert_eq!(r3["up_to_date"], true);
    assert!(r3["commit"].is_null());
    assert_eq!(commits(&repo).len(), 2);

    // --dry-run plans without pushing.
    append_prompt(home.path(), WORKTREES, "u-55", "dry run change");
    let r4 = publish(home.path(), &server.url(), &["--dry-run"]);
    assert_eq!(r4["dry_run"], true);
    assert!(
        r4["uploaded"]
            .as_array()
            .unwrap()
            .contains(&Value::from(format!("s/{b}/index.html")))
    );
    assert_eq!(commits(&repo).len(), 2);
}

/// Puts a CNAME and a foreign folder on the branch with the git CLI.
fn seed_foreign(repo: &Path) {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let run = |args: &[&str]| {
        let out = Command::new("git")
            .current_dir(w)
            .args(args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "Someone")
            .env("GIT_AUTHOR_EMAIL", "someone@example.org")
            .env("GIT_COMMITTER_NAME", "Someone")
            .env("GIT_COMMITTER_EMAIL", "someone@example.org")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&["init", "-q", "-b", "gh-pages"]);
    std::fs::write(w.join("CNAME"), "shares.example.org\n").unwrap();
    std::fs::create_dir_all(w.join("blog")).unwrap();
    std::fs::write(w.join("blog/post.html"), "<p>mine</p>\n").unwrap();
    run(&["add", "."]);
    run(&["commit", "-q", "-m", "site"]);
    run(&["push", "-q", &repo.display().to_string(), "gh-pages"]);
}

#[test]
fn unshare_removes_the_page_and_leaves_foreign_files_alone() {
    let server = Daemon::start();
    let repo = server.repo();
    seed_foreign(&repo);
    let home = home();
    let a = share(home.path(), IDEAS);
    let b = share(home.path(), WORKTREES);
    publish(home.path(), &server.url(), &[]);
    let files = files_at(&repo, BRANCH);
    assert!(files.contains(&format!("s/{a}/index.html")));
    assert!(files.contains(&"CNAME".to_string()));

    let out = sg(home.path()).args(["unshare", &a]).output().unwrap();
    assert!(out.status.success());
    // Keep mode: the page stays in history; the user is told.
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--history squash"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = publish(home.path(), &server.url(), &[]);
    assert_eq!(r["removed_shares"], serde_json::json!([a]));
    let files = files_at(&repo, BRANCH);
    assert!(
        !files.iter().any(|f| f.starts_with(&format!("s/{a}/"))),
        "{files:?}"
    );
    assert!(files.contains(&format!("s/{b}/index.html")));
    assert_eq!(
        show(&repo, &format!("{BRANCH}:CNAME")),
        b"shares.example.org\n"
    );
    assert_eq!(
        show(&repo, &format!("{BRANCH}:blog/post.html")),
        b"<p>mine</p>\n"
    );
    // The foreign commit is still in the branch's history.
    assert_eq!(commits(&repo).len(), 3);
}

#[test]
fn prefix_publishes_into_a_folder_with_its_own_nojekyll() {
    let server = Daemon::start();
    let repo = server.repo();
    seed_foreign(&repo);
    let home = home();
    let a = share(home.path(), IDEAS);
    publish(home.path(), &server.url(), &["--prefix", "shares"]);
    let files = files_at(&repo, BRANCH);
    assert!(
        files.contains(&format!("shares/s/{a}/index.html")),
        "{files:?}"
    );
    assert!(files.contains(&"shares/.nojekyll".to_string()));
    assert!(files.contains(&"shares/sharegen-manifest.json".to_string()));
    assert!(files.contains(&"CNAME".to_string()));
    assert!(!files.contains(&"index.html".to_string()));
}

#[test]
fn a_refusing_hook_is_an_error_not_a_success() {
    let server = Daemon::start();
    server.hook(
        "pre-receive",
        "echo 'GH006: Protected branch update failed' >&2; exit 1",
    );
    let home = home();
    share(home.path(), IDEAS);
    let out = sg(home.path())
        .args(["publish", "--git", &server.url()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("refused"), "{err}");
    assert!(err.contains("pre-receive hook declined"), "{err}");
    assert!(commits(&server.repo()).is_empty());
}

/// The branch's index page (with the `/` that attributes escape back).
fn index_at(repo: &Path) -> String {
    String::from_utf8(show(repo, &format!("{BRANCH}:index.html")))
        .unwrap()
        .replace("&#x2f;", "/")
}

#[test]
fn the_index_lists_every_publishers_shares() {
    let server = Daemon::start();
    let repo = server.repo();
    let (h1, h2) = (home(), home());
    let a = share(h1.path(), IDEAS);
    let b = share(h2.path(), WORKTREES);
    publish(h1.path(), &server.url(), &[]);
    let r = publish(h2.path(), &server.url(), &[]);
    assert!(
        r["uploaded"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "index.html"),
        "{r}"
    );
    let index = index_at(&repo);
    assert!(index.contains(&format!("href=\"s/{a}/\"")), "{index}");
    assert!(index.contains(&format!("href=\"s/{b}/\"")), "{index}");

    // The first publisher unshares: its row goes, the other stays, and
    // the other publisher's next publish does not bring it back.
    let out = sg(h1.path()).args(["unshare", &a]).output().unwrap();
    assert!(out.status.success());
    publish(h1.path(), &server.url(), &[]);
    let index = index_at(&repo);
    assert!(!index.contains(&format!("s/{a}/")), "{index}");
    assert!(index.contains(&format!("href=\"s/{b}/\"")), "{index}");
    let r = publish(h2.path(), &server.url(), &[]);
    assert_eq!(r["up_to_date"], true, "{r}");
    let index = index_at(&repo);
    assert!(!index.contains(&format!("s/{a}/")), "{index}");
    assert!(index.contains(&format!("href=\"s/{b}/\"")), "{index}");
}

#[test]
fn racing_publishers_both_land_their_shares() {
    let server = Daemon::start();
    // The first push to reach the hook waits (up to 10 s) until a second
    // push reaches it too: both then update the branch from the same tip,
    // so one of them is refused and must fetch, re-plan and retry.
    server.hook(
        "pre-receive",
        "touch \"$GIT_DIR/racer-$$\"\n\
         for i in $(seq 100); do\n\
           [ \"$(ls \"$GIT_DIR\" | grep -c '^racer-')\" -ge 2 ] && break\n\
           sleep 0.1\n\
         done\n\
         exit 0",
    );
    let (h1, h2) = (home(), home());
    let a = share(h1.path(), IDEAS);
    let b = share(h2.path(), WORKTREES);
    let spawn = |h: &Path| {
        let mut c = Command::new(assert_cmd::cargo::cargo_bin("sharegen"));
        c.env("HOME", h)
            .env("SHAREGEN_HOME", h.join("sg"))
            .env("SHAREGEN_SALT", "test-salt")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env_remove("CLAUDE_CONFIG_DIR")
            .args(["publish", "--git", &server.url(), "--json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c.spawn().unwrap()
    };
    let (p1, p2) = (spawn(h1.path()), spawn(h2.path()));
    let (o1, o2) = (
        p1.wait_with_output().unwrap(),
        p2.wait_with_output().unwrap(),
    );
    for o in [&o1, &o2] {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let attempts: u64 = [&o1, &o2]
        .iter()
        .map(|o| {
            let v: Value = serde_json::from_slice(&o.stdout).unwrap();
            v[0]["attempts"].as_u64().unwrap()
        })
        .sum();
    assert!(
        attempts >= 3,
        "no publisher had to retry ({attempts} attempts)"
    );
    let files = files_at(&server.repo(), BRANCH);
    assert!(files.contains(&format!("s/{a}/index.html")), "{files:?}");
    assert!(files.contains(&format!("s/{b}/index.html")), "{files:?}");
    let m: Value = serde_json::from_slice(&show(
        &server.repo(),
        &format!("{BRANCH}:sharegen-manifest.json"),
    ))
    .unwrap();
    assert!(m["files"][format!("s/{a}/index.html")].is_object());
    assert!(m["files"][format!("s/{b}/index.html")].is_object());
    // The retry merged the index too.
    let index = index_at(&server.repo());
    assert!(index.contains(&format!("href=\"s/{a}/\"")), "{index}");
    assert!(index.contains(&format!("href=\"s/{b}/\"")), "{index}");
}

#[test]
fn squash_leaves_no_unshared_page_in_history() {
    let server = Daemon::start();
    let repo = server.repo();
    let home = home();
    let a = share(home.path(), IDEAS);
    let b = share(home.path(), WORKTREES);
    publish(home.path(), &server.url(), &[]);
    append_prompt(home.path(), WORKTREES, "u-46", "later");
    publish(home.path(), &server.url(), &[]);
    assert_eq!(commits(&repo).len(), 2);
    run_ok(home.path(), &["unshare", &a]);
    let r = publish(home.path(), &server.url(), &["--history", "squash"]);
    assert!(r["commit"].is_string());
    let all = commits(&repo);
    assert_eq!(all.len(), 1, "{all:?}");
    for c in &all {
        let files = files_at(&repo, c);
        assert!(!files.iter().any(|f| f.contains(&a)), "{files:?}");
        assert!(files.contains(&format!("s/{b}/index.html")));
    }
    // Squashing an already single-commit, unchanged branch does nothing.
    let r = publish(home.path(), &server.url(), &["--history", "squash"]);
    assert_eq!(r["up_to_date"], true);
    assert_eq!(commits(&repo), all);
}

#[test]
fn git_cli_mode_fetches_and_pushes_with_system_git() {
    let server = Daemon::start();
    let repo = server.repo();
    let home = home();
    let a = share(home.path(), IDEAS);
    let r = publish(home.path(), &server.url(), &["--git-cli"]);
    assert_eq!(
        commits(&repo),
        vec![r["commit"].as_str().unwrap().to_string()]
    );
    append_prompt(home.path(), IDEAS, "u-47", "cli change");
    publish(home.path(), &server.url(), &["--git-cli"]);
    assert_eq!(commits(&repo).len(), 2);
    assert!(files_at(&repo, BRANCH).contains(&format!("s/{a}/index.html")));
    let r = publish(home.path(), &server.url(), &["--git-cli"]);
    assert_eq!(r["up_to_date"], true);
}

#[test]
fn https_token_auth_works_and_a_wrong_token_fails_fast_without_leaking() {
    let token = "tok-3f9a-correct";
    let server = HttpGit::start(token);
    let home = home();
    let a = share(home.path(), IDEAS);

    let out = sg(home.path())
        .args(["publish", "--git", &server.url(), "--json"])
        .env("SHAREGEN_GIT_TOKEN", token)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains(token));
    assert!(files_at(&server.repo(), BRANCH).contains(&format!("s/{a}/index.html")));

    for (var, bad) in [
        ("SHAREGEN_GIT_TOKEN", "wrong-token-77"),
        ("GITHUB_TOKEN", "ghp_wrongwrongwrong"),
    ] {
        append_prompt(
            home.path(),
            IDEAS,
            &format!("u-{var}"),
            &format!("change for {var}"),
        );
        let before = server.requests.load(Ordering::SeqCst);
        let start = Instant::now();
        let out = sg(home.path())
            .args(["publish", "--git", &server.url()])
            .env(var, bad)
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "{:?}",
            start.elapsed()
        );
        assert!(err.contains("authentication failed"), "{err}");
        assert!(err.contains(&format!("the token in {var}")), "{err}");
        assert!(!err.contains(bad), "the token leaked: {err}");
        let made = server.requests.load(Ordering::SeqCst) - before;
        assert!(
            made <= 10,
            "{made} requests: the credential callback looped"
        );
    }

    // No token at all: a clear message, no prompt, no hang.
    let out = sg(home.path())
        .args(["publish", "--git", &server.url()])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("authentication failed"), "{err}");
}

#[test]
fn watch_publish_pushes_each_change_and_each_unshare() {
    let server = Daemon::start();
    let repo = server.repo();
    let home = home();
    let a = share(home.path(), IDEAS);
    let b = share(home.path(), WORKTREES);
    std::fs::write(
        home.path().join("sg/config.toml"),
        format!("[publish.git]\nurl = \"{}\"\n", server.url()),
    )
    .unwrap();
    let log = home.path().join("watch.log");
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("sharegen"))
        .env("HOME", home.path())
        .env("SHAREGEN_HOME", home.path().join("sg"))
        .env("SHAREGEN_SALT", "test-salt")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env_remove("CLAUDE_CONFIG_DIR")
        .env_remove("XDG_DATA_HOME")
        .args(["watch", "--publish", "--debounce", "200"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let wait = |what: &str, f: &dyn Fn() -> bool| {
        let start = Instant::now();
        while !f() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "timed out waiting for {what}; log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let page = |id: &str| {
        try_git(
            &repo,
            &["cat-file", "blob", &format!("{BRANCH}:s/{id}/index.html")],
        )
        .unwrap_or_default()
    };
    wait("the first publish", &|| {
        page(&a).contains("<main") && page(&b).contains("<main")
    });
    // Pages published by watch follow their session.
    assert!(files_at(&repo, BRANCH).contains(&format!("s/{a}/version.json")));
    append_prompt(home.path(), IDEAS, "u-61", "published-while-watching");
    wait("the appended prompt on the branch", &|| {
        page(&a).contains("published-while-watching")
    });
    run_ok(home.path(), &["unshare", &b]);
    wait("the unshared page to leave the branch", &|| {
        !files_at(&repo, BRANCH)
            .iter()
            .any(|f| f.starts_with(&format!("s/{b}/")))
    });
    let _ = child.kill();
    let _ = child.wait();
}
