//! share / unshare / build / watch, end to end with the real binary.

mod common;

use common::*;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const IDEAS: &str = "03eb5929-52b3-4b13-ada3-b93ae35806b8";
const WORKTREES: &str = "ef958aa1-0e93-49f0-bb71-150f63befcd1";

fn home() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(
        &fixtures().join("projects"),
        &tmp.path().join(".claude/projects"),
    );
    tmp
}

fn site(home: &Path) -> PathBuf {
    home.join("sg/site")
}

fn build(home: &Path) -> Value {
    serde_json::from_str(&run_ok(home, &["build", "--json"])).unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn build_writes_the_site_and_its_manifest() {
    let home = home();
    let a = share(home.path(), IDEAS);
    let b = share(home.path(), WORKTREES);
    let report = build(home.path());
    assert_eq!(strings(&report["rendered"]).len(), 2);
    let out = site(home.path());
    for rel in [
        "index.html",
        "404.html",
        ".nojekyll",
        "robots.txt",
        "sharegen-manifest.json",
    ] {
        assert!(out.join(rel).is_file(), "{rel}");
    }
    for id in [&a, &b] {
        assert!(out.join(format!("s/{id}/index.html")).is_file());
        let json: Value = serde_json::from_slice(
            &std::fs::read(out.join(format!("s/{id}/session.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(json["share_id"], id.as_str());
    }
    assert!(
        std::fs::read_to_string(out.join("robots.txt"))
            .unwrap()
            .contains("Disallow: /")
    );
    let index =
        scraper::Html::parse_document(&std::fs::read_to_string(out.join("index.html")).unwrap());
    let hrefs: Vec<&str> = index
        .select(&scraper::Selector::parse("main a").unwrap())
        .filter_map(|a| a.value().attr("href"))
        .collect();
    assert!(
        hrefs.contains(&format!("s/{a}/").as_str()) && hrefs.contains(&format!("s/{b}/").as_str()),
        "{hrefs:?}"
    );
    // The manifest lists every file with its real hash and size.
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(out.join("sharegen-manifest.json")).unwrap())
            .unwrap();
    let files = manifest["files"].as_object().unwrap();
    assert_eq!(
        files.len(),
        8,
        "two pages, two JSON files, index, 404, .nojekyll, robots.txt"
    );
    for (rel, e) in files {
        let bytes = std::fs::read(out.join(rel)).unwrap();
        let hex: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(e["sha256"], hex.as_str(), "{rel}");
        assert_eq!(e["size"], bytes.len() as u64);
    }
    assert_eq!(files[&format!("s/{a}/index.html")]["share_id"], a.as_str());
    // Sessions that were never shared never render.
    let dirs: Vec<String> = std::fs::read_dir(out.join("s"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(dirs.len(), 2);
}

#[test]
fn rebuilds_touch_only_what_changed() {
    let home = home();
    let a = share(home.path(), IDEAS);
    let b = share(home.path(), WORKTREES);
    build(home.path());
    let again = build(home.path());
    assert!(strings(&again["rendered"]).is_empty(), "{again}");
    assert!(strings(&again["written"]).is_empty(), "{again}");
    append_prompt(home.path(), IDEAS, "new-1", "A new prompt about otters");
    let after = build(home.path());
    assert_eq!(strings(&after["rendered"]), vec![a.clone()]);
    assert_eq!(strings(&after["unchanged"]), vec![b.clone()]);
    let written = strings(&after["written"]);
    assert!(
        written.contains(&format!("s/{a}/index.html")),
        "{written:?}"
    );
    assert!(
        written.contains(&format!("s/{a}/session.json")),
        "{written:?}"
    );
    assert!(
        written.contains(&"sharegen-manifest.json".to_string()),
        "{written:?}"
    );
    assert!(!written.iter().any(|w| w.contains(&b)), "{written:?}");
    assert!(written.len() <= 4, "{written:?}");
    let page =
        std::fs::read_to_string(site(home.path()).join(format!("s/{a}/index.html"))).unwrap();
    assert!(page.contains("otters"));
}

#[test]
fn unshare_and_expiry_remove_pages() {
    let home = home();
    let a = share(home.path(), IDEAS);
    let b = share(home.path(), WORKTREES);
    // Long enough for two builds on a loaded machine.
    let expiry = Instant::now() + Duration::from_secs(8);
    run_ok(home.path(), &["share", WORKTREES, "--expires", "8s"]);
    build(home.path());
    let out = site(home.path());
    assert!(out.join(format!("s/{a}")).is_dir());
    run_ok(home.path(), &["unshare", IDEAS]);
    let report = build(home.path());
    assert_eq!(strings(&report["removed"]), vec![a.clone()]);
    assert!(!out.join(format!("s/{a}")).exists());
    // Its files are reported as deleted, not written.
    let page = format!("s/{a}/index.html");
    assert!(strings(&report["deleted"]).contains(&page), "{report}");
    assert!(
        !strings(&report["written"]).iter().any(|f| f.contains(&a)),
        "{report}"
    );
    let manifest = std::fs::read_to_string(out.join("sharegen-manifest.json")).unwrap();
    assert!(!manifest.contains(&a));
    // Expiry.
    std::thread::sleep(
        expiry.saturating_duration_since(Instant::now()) + Duration::from_millis(200),
    );
    let report = build(home.path());
    assert_eq!(strings(&report["removed"]), vec![b.clone()]);
    assert!(!out.join(format!("s/{b}")).exists());
    let shares: Value = serde_json::from_str(&run_ok(home.path(), &["shares", "--json"])).unwrap();
    assert_eq!(shares[0]["expired"], true);
    // Sharing again keeps the ID.
    assert_eq!(share(home.path(), IDEAS), a);
}

#[test]
fn shares_shows_each_sessions_own_title_unless_the_share_has_one() {
    let home = home();
    let listed: Value = serde_json::from_str(&run_ok(home.path(), &["list", "--json"])).unwrap();
    let title_of = |id: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .unwrap()["title"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let ideas = share(home.path(), IDEAS);
    run_ok(
        home.path(),
        &["share", WORKTREES, "--yes", "--title", "Worktree teams"],
    );
    let table = run_ok(home.path(), &["shares"]);
    let row = |id: &str| {
        table
            .lines()
            .find(|l| l.starts_with(id))
            .unwrap()
            .to_string()
    };
    assert!(row(&ideas).ends_with(&title_of(IDEAS)), "{table}");
    assert!(
        table.lines().any(|l| l.ends_with("Worktree teams")),
        "{table}"
    );
    assert!(!table.contains(&title_of(WORKTREES)), "{table}");
    let json: Value = serde_json::from_str(&run_ok(home.path(), &["shares", "--json"])).unwrap();
    let by_id = |id: &str| {
        json.as_array()
            .unwrap()
            .iter()
            .find(|s| s["session_id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(by_id(IDEAS)["session_title"], title_of(IDEAS));
    assert!(by_id(IDEAS).get("title").is_none());
    assert_eq!(by_id(WORKTREES)["title"], "Worktree teams");
    // The session's own title is there too, for scripts.
    assert_eq!(by_id(WORKTREES)["session_title"], title_of(WORKTREES));
}

#[test]
fn watch_publish_without_a_target_fails_before_watching() {
    let home = home();
    let out = sharegen(home.path())
        .args(["watch", "--publish"])
        .timeout(std::time::Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the targets in config.toml, and there is none"),
        "{err}"
    );
    // watch has no --git or --bucket to suggest.
    assert!(!err.contains("--git"), "{err}");
    assert!(!err.contains("watching"), "{err}");
}

/// A site folder that cannot be made is an I/O error (exit 1), said
/// before "watching".
#[cfg(target_os = "linux")]
#[test]
fn watch_into_a_folder_that_cannot_be_made_fails_before_watching() {
    let home = home();
    let out = sharegen(home.path())
        .args(["watch", "-o", "/proc/sharegen-nope"])
        .timeout(std::time::Duration::from_secs(30))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("/proc/sharegen-nope"), "{err}");
    assert!(!err.contains("watching"), "{err}");
}

#[test]
fn the_seatbelt_refuses_off_a_tty_with_exit_3() {
    let home = home();
    let out = sharegen(home.path())
        .args(["share", IDEAS])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("sharegen allow"), "{err}");
    run_ok(home.path(), &["allow", "/home/user/project"]);
    let out = sharegen(home.path())
        .args(["share", IDEAS])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = sharegen(home.path())
        .args(["share", "nope-nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

fn page(home: &Path, id: &str) -> String {
    std::fs::read_to_string(site(home).join(format!("s/{id}/index.html"))).unwrap_or_default()
}

fn renders_of(log: &Path, id: &str) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("rendered:") && l.split("·").next().unwrap_or("").contains(id))
        .count()
}

#[test]
fn build_beside_watch_keeps_its_live_pages() {
    let home = home();
    let a = share(home.path(), IDEAS);
    let (watch, log) = start_watch(home.path(), false);
    wait_until("the first build", || {
        page(home.path(), &a).contains("<main") && renders_of(&log, &a) >= 1
    });
    let version = site(home.path()).join(format!("s/{a}/version.json"));
    assert!(version.is_file());
    // `build` (or `publish`) while watch runs: the live pages stay as
    // they are, nothing is rendered again or deleted.
    let report = build(home.path());
    assert_eq!(
        strings(&report["rendered"]),
        Vec::<String>::new(),
        "{report}"
    );
    assert_eq!(
        strings(&report["deleted"]),
        Vec::<String>::new(),
        "{report}"
    );
    assert!(version.is_file());
    drop(watch);
    // Still so once watch has stopped: the site stays live until its folder
    // is built anew.
    let report = build(home.path());
    assert_eq!(
        strings(&report["rendered"]),
        Vec::<String>::new(),
        "{report}"
    );
    assert!(version.is_file());
}

#[test]
fn watch_follows_appends_bursts_shares_and_recreated_files() {
    let home = home();
    let a = share(home.path(), IDEAS);
    let (_watch, log) = start_watch(home.path(), false);
    wait_until("the first build", || {
        page(home.path(), &a).contains("<main") && renders_of(&log, &a) >= 1
    });
    let base = renders_of(&log, &a);

    // An appended message shows up.
    append_prompt(
        home.path(),
        IDEAS,
        "w-1",
        "Appended while watching: pelicans",
    );
    wait_until("the appended message", || {
        page(home.path(), &a).contains("pelicans")
    });

    // A burst of appends becomes one render (or two, if it straddles).
    let before = renders_of(&log, &a);
    for i in 0..300 {
        append_prompt(
            home.path(),
            IDEAS,
            &format!("burst-{i}"),
            &format!("burst {i}"),
        );
    }
    wait_until("the burst", || page(home.path(), &a).contains("burst 299"));
    std::thread::sleep(Duration::from_millis(600));
    let burst_renders = renders_of(&log, &a) - before;
    assert!(
        (1..=2).contains(&burst_renders),
        "{burst_renders} renders for one burst"
    );
    assert!(base >= 1);

    // A share made while watching takes effect; so does an unshare.
    let b = share(home.path(), WORKTREES);
    wait_until("the new share", || page(home.path(), &b).contains("<main"));
    run_ok(home.path(), &["unshare", &b]);
    wait_until("the unshare", || {
        !site(home.path()).join(format!("s/{b}")).exists()
    });

    // A session file deleted and recreated is picked up again.
    let file = session_file(home.path(), IDEAS);
    let content = std::fs::read(&file).unwrap();
    let failures = || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(&format!("share {a} not rendered")))
            .count()
    };
    std::fs::remove_file(&file).unwrap();
    wait_until("the failure to be said", || failures() == 1);
    assert!(
        page(home.path(), &a).contains("pelicans"),
        "a vanished source keeps its page"
    );
    std::fs::write(&file, &content).unwrap();
    append_prompt(home.path(), IDEAS, "w-2", "Recreated: flamingos");
    wait_until("the recreated file", || {
        page(home.path(), &a).contains("flamingos")
    });
    // Failing again is said again: it is not a warning said once a run.
    let content = std::fs::read(&file).unwrap();
    std::fs::remove_file(&file).unwrap();
    wait_until("the second failure to be said", || failures() == 2);
    std::fs::write(&file, &content).unwrap();
    append_prompt(home.path(), IDEAS, "w-3", "Recreated again: herons");
    wait_until("the file recreated again", || {
        page(home.path(), &a).contains("herons")
    });
    // A file that no longer holds a readable line fails too, and the page
    // stays: it is not replaced by an empty one.
    let content = std::fs::read(&file).unwrap();
    std::fs::write(&file, "not a transcript\n").unwrap();
    wait_until("the unreadable file to be said", || failures() == 3);
    let said = std::fs::read_to_string(&log).unwrap();
    assert!(said.contains("no message could be read"), "{said}");
    assert!(page(home.path(), &a).contains("herons"));
    std::fs::write(&file, &content).unwrap();
    append_prompt(home.path(), IDEAS, "w-4", "Readable again: egrets");
    wait_until("the file readable again", || {
        page(home.path(), &a).contains("egrets")
    });

    // Live pages poll their version.json (and may fetch only from 'self').
    // The page and its version.json are two files: read them until they
    // come from the same build (a rebuild may be under way).
    let live = |home: &Path| -> Option<(String, String, String)> {
        let v: Value = serde_json::from_slice(
            &std::fs::read(site(home).join(format!("s/{a}/version.json"))).ok()?,
        )
        .ok()?;
        let p = scraper::Html::parse_document(&page(home, &a));
        let csp = p
            .select(&scraper::Selector::parse("meta[http-equiv=Content-Security-Policy]").unwrap())
            .next()?
            .value()
            .attr("content")?
            .to_string();
        let body = p
            .select(&scraper::Selector::parse("body").unwrap())
            .next()?;
        Some((
            v["version"].as_str()?.to_string(),
            body.value().attr("data-live")?.to_string(),
            csp,
        ))
    };
    wait_until("the page and version.json of one build", || {
        live(home.path()).is_some_and(|(v, d, _)| v == d)
    });
    let (_, _, csp) = live(home.path()).unwrap();
    assert!(csp.contains("connect-src 'self'"), "{csp}");
}

#[test]
fn concurrent_shares_beside_watch_never_corrupt_the_list() {
    let home = home();
    share(home.path(), IDEAS);
    let (_watch, _log) = start_watch(home.path(), false);
    // The sessions to share, by id.
    let rows: Vec<Value> = serde_json::from_str(&run_ok(home.path(), &["list", "--json"])).unwrap();
    let ids: Vec<String> = rows
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert!(ids.len() >= 10);
    std::thread::scope(|s| {
        for chunk in ids.chunks(ids.len().div_ceil(2)) {
            let home = home.path();
            s.spawn(move || {
                for id in chunk {
                    let out = sharegen(home)
                        .args(["share", id, "--yes"])
                        .output()
                        .unwrap();
                    assert!(
                        out.status.success(),
                        "{}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                    let out = sharegen(home).args(["unshare", id]).output().unwrap();
                    assert!(out.status.success());
                    let out = sharegen(home)
                        .args(["share", id, "--yes"])
                        .output()
                        .unwrap();
                    assert!(out.status.success());
                }
            });
        }
    });
    let list: Value =
        serde_json::from_slice(&std::fs::read(home.path().join("sg/shares.json")).unwrap())
            .unwrap();
    assert_eq!(list["version"], 1);
    let shared: std::collections::BTreeSet<&str> = list["shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session_id"].as_str().unwrap())
        .collect();
    assert_eq!(shared.len(), ids.len(), "every share survived");
}

/// The `<main>` region of a page (the conversation).
fn main_of(page: &str) -> &str {
    let start = page.find("<main").expect("a <main>");
    let end = page.find("</main>").expect("a </main>");
    &page[start..end]
}

/// Appends `line` (a JSON record) to `path` in two writes, the second
/// after `between` runs (which sees the first half only).
fn append_in_halves(path: &Path, line: &str, between: impl FnOnce()) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    let (first, second) = line.as_bytes().split_at(line.len() / 2);
    f.write_all(first).unwrap();
    f.flush().unwrap();
    between();
    f.write_all(second).unwrap();
    f.write_all(b"\n").unwrap();
}

/// A live session (its records are from now, so watch keeps its parser
/// state and rendered messages between rebuilds) grows by a prompt, an
/// answer with a tool call, and that call's result written in two halves:
/// each step shows up, the half-written line does not until it is whole,
/// the result completes the earlier call, and in the end the page's
/// conversation is byte for byte what a fresh `build` renders.
#[test]
fn watch_pages_of_a_growing_live_session_match_fresh_builds() {
    let home = home();
    let a = share(home.path(), IDEAS);
    let file = session_file(home.path(), IDEAS);
    let (_watch, log) = start_watch(home.path(), false);
    wait_until("the first build", || {
        page(home.path(), &a).contains("<main") && renders_of(&log, &a) >= 1
    });
    let last: Value = serde_json::from_str(
        std::fs::read_to_string(&file)
            .unwrap()
            .lines()
            .rev()
            .find(|l| l.contains("\"uuid\""))
            .unwrap(),
    )
    .unwrap();
    let now = || chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let record = |uuid: &str, parent: &Value, kind: &str, message: Value| -> String {
        serde_json::json!({
            "type": kind,
            "uuid": uuid,
            "parentUuid": parent,
            "sessionId": IDEAS,
            "cwd": last["cwd"],
            "timestamp": now(),
            "message": message,
        })
        .to_string()
    };
    let append = |line: &str| {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&file)
            .unwrap();
        writeln!(f, "{line}").unwrap();
    };

    append(&record(
        "11111111-0000-4000-8000-000000000001",
        &last["uuid"],
        "user",
        serde_json::json!({"role": "user", "content": "live-step-one prompt"}),
    ));
    wait_until("the prompt", || {
        page(home.path(), &a).contains("live-step-one")
    });

    append(&record(
        "11111111-0000-4000-8000-000000000002",
        &serde_json::json!("11111111-0000-4000-8000-000000000001"),
        "assistant",
        serde_json::json!({
            "id": "msg_live_1", "role": "assistant", "model": "claude-test",
            "content": [
                {"type": "text", "text": "live-step-two answer"},
                {"type": "tool_use", "id": "toolu_live_1", "name": "Bash",
                 "input": {"command": "echo live-step-two-command"}}
            ]
        }),
    ));
    wait_until("the answer", || {
        page(home.path(), &a).contains("live-step-two answer")
    });
    let renders = renders_of(&log, &a);

    let result = record(
        "11111111-0000-4000-8000-000000000003",
        &serde_json::json!("11111111-0000-4000-8000-000000000002"),
        "user",
        serde_json::json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_live_1",
             "content": "live-step-three output"}
        ]}),
    );
    append_in_halves(&file, &result, || {
        // The half line wakes watch; the rebuild must leave it out.
        wait_until("a rebuild for the half line", || {
            renders_of(&log, &a) > renders
        });
        assert!(!page(home.path(), &a).contains("live-step-three"));
    });
    wait_until("the tool result", || {
        page(home.path(), &a).contains("live-step-three output")
    });

    // The tests stage every page: some of those rebuilds wrote only what
    // changed into the staged copy.
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(
        log_text.lines().any(|l| l
            .split(" · staged: ")
            .nth(1)
            .is_some_and(|ids| ids.contains(&a))),
        "no staged rewrite of {a}:\n{log_text}"
    );
    let watched = page(home.path(), &a);
    let fresh_out = home.path().join("fresh");
    run_ok(
        home.path(),
        &["build", "--out", fresh_out.to_str().unwrap(), "--json"],
    );
    let fresh = std::fs::read_to_string(fresh_out.join(format!("s/{a}/index.html"))).unwrap();
    assert_eq!(
        main_of(&watched),
        main_of(&fresh),
        "watch's incrementally rebuilt conversation differs from a fresh build's"
    );
}
