//! Hardening (issue 7): ids read from `shares.json` are checked before
//! they become paths, everything sharegen writes stays inside its output
//! folder, and symbolic links in agent stores are not followed out of the
//! store.

mod common;

use common::sharegen;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const MAIN: &str = "11111111-2222-4333-8444-555555555555";

/// A transcript line.
fn line(kind: &str, uuid: &str, parent: Option<&str>, session: &str, text: &str) -> String {
    let role = if kind == "assistant" {
        "assistant"
    } else {
        "user"
    };
    let content = if kind == "assistant" {
        json!([{"type": "text", "text": text}])
    } else {
        json!(text)
    };
    format!(
        "{}\n",
        json!({"type": kind, "uuid": uuid, "parentUuid": parent, "sessionId": session,
            "timestamp": "2026-02-01T10:00:00Z", "cwd": "/work/project", "isSidechain": kind == "agent",
            "message": {"role": role, "content": content}})
    )
}

fn transcript(session: &str, text: &str) -> String {
    line("user", &format!("{session}-u"), None, session, text)
        + &line(
            "assistant",
            &format!("{session}-a"),
            Some(&format!("{session}-u")),
            session,
            &format!("answer to {text}"),
        )
}

/// A subagent transcript (an `agent-*.jsonl` naming its parent session).
fn agent(parent: &str, text: &str) -> String {
    format!(
        "{}\n",
        json!({"type": "user", "uuid": format!("{text}-1"), "parentUuid": null, "sessionId": parent,
            "agentId": text, "isSidechain": true, "timestamp": "2026-02-01T10:00:01Z",
            "message": {"role": "user", "content": text}})
    )
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A home with one shared Claude Code session; its share id.
fn shared_home() -> (tempfile::TempDir, String) {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp
        .path()
        .join(".claude/projects/-work-project")
        .join(format!("{MAIN}.jsonl"));
    write(&file, &transcript(MAIN, "hello"));
    let out = sharegen(tmp.path())
        .args(["share", MAIN, "--yes"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8(out.stdout).unwrap();
    let id = id.split('\t').next().unwrap().to_string();
    (tmp, id)
}

fn shares_json(home: &Path) -> PathBuf {
    home.join("sg/shares.json")
}

fn edit_shares(home: &Path, f: impl FnOnce(&mut Value)) {
    let p = shares_json(home);
    let mut v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    f(&mut v);
    std::fs::write(&p, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
}

fn run(home: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let o = sharegen(home).args(args).output().unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// An empty bare git repository at `path`.
fn bare_repo(path: &Path) -> PathBuf {
    let ok = std::process::Command::new("git")
        .args(["init", "-q", "--bare"])
        .arg(path)
        .status()
        .unwrap();
    assert!(ok.success());
    path.to_path_buf()
}

/// Every file below `dir`.
fn files(dir: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter(|e| !e.file_type().is_dir())
        .map(|e| e.path().to_path_buf())
        .collect()
}

#[test]
fn a_share_id_that_is_a_path_is_refused() {
    let (tmp, _) = shared_home();
    let home = tmp.path();
    let site = home.join("site");
    for bad in ["../../escaped", "../x", "/tmp/abs", "ABCDEFGHIJ", "abc"] {
        edit_shares(home, |v| v["shares"][0]["share_id"] = json!(bad));
        let before = std::fs::read(shares_json(home)).unwrap();
        for args in [
            &["build", "--out", site.to_str().unwrap()][..],
            &["shares"][..],
            &["unshare", MAIN][..],
        ] {
            let (code, _, err) = run(home, args);
            assert_eq!(code, Some(1), "{args:?} with share id {bad:?}: {err}");
            assert!(
                err.contains("shares.json") && err.contains("is not a share id"),
                "{args:?}: {err}"
            );
        }
        // Nothing was written, anywhere, and the list is as it was.
        assert!(!site.exists(), "{bad}: the site was written");
        assert!(
            !home.join("escaped").exists()
                && !tmp.path().parent().unwrap().join("escaped").exists()
        );
        assert_eq!(std::fs::read(shares_json(home)).unwrap(), before);
    }
}

#[test]
fn a_session_id_that_is_a_path_is_refused() {
    let (tmp, _) = shared_home();
    let home = tmp.path();
    for bad in ["../../../etc", "a/b", "..", ""] {
        edit_shares(home, |v| v["shares"][0]["session_id"] = json!(bad));
        let (code, _, err) = run(
            home,
            &["build", "--out", home.join("site").to_str().unwrap()],
        );
        assert_eq!(code, Some(1), "{bad:?}: {err}");
        assert!(err.contains("is not a session id"), "{bad:?}: {err}");
    }
}

/// A share list made in code (not read from shares.json) is checked too.
#[test]
fn site_build_renders_no_share_whose_id_is_not_an_id() {
    use sharegen::share::{Share, ShareList};
    let (tmp, id) = shared_home();
    let home = tmp.path();
    let file = home
        .join(".claude/projects/-work-project")
        .join(format!("{MAIN}.jsonl"));
    let share = |share_id: &str| Share {
        share_id: share_id.into(),
        agent: sharegen::model::Agent::ClaudeCode,
        session_id: MAIN.into(),
        path: file.clone(),
        project: None,
        title: None,
        shared_at: chrono::Utc::now(),
        expires: None,
        last_rendered: None,
        last_published: None,
        protection: None,
    };
    let list = ShareList {
        shares: vec![share("../../../escaped-x"), share(&id)],
        ..ShareList::default()
    };
    let out = home.join("deep/site");
    let renderer = sharegen::render::Renderer::new(
        &sharegen::config::Config::default(),
        b"salt".to_vec(),
        None,
        None,
    )
    .unwrap();
    let opts = sharegen::site::SiteOptions {
        out: out.clone(),
        session_json: true,
        index_page: true,
        index_by_robots: false,
        live: false,
        redactor: None,
        live_cache: None,
        stage_min: sharegen::site::page::STAGE_MIN_BYTES,
    };
    let diag = sharegen::diag::Diag::silent();
    let report = sharegen::site::build(
        &list,
        &sharegen::sources::Stores::default(),
        &renderer,
        &opts,
        &diag,
        chrono::Utc::now(),
    )
    .unwrap();
    assert_eq!(report.rendered, std::slice::from_ref(&id));
    assert_eq!(report.failed.len(), 1, "{:?}", report.failed);
    assert!(report.failed[0].1.contains("not a share id"));
    for f in files(home) {
        let rel = f.strip_prefix(home).unwrap();
        assert!(
            !rel.to_string_lossy().contains("escaped"),
            "{} was written",
            f.display()
        );
    }
    assert!(out.join(format!("s/{id}/index.html")).is_file());
}

#[cfg(unix)]
#[test]
fn site_build_writes_and_deletes_nothing_through_a_link_in_its_folder() {
    let (tmp, id) = shared_home();
    let home = tmp.path();
    let site = home.join("site");
    let outside = home.join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let build = |home: &Path| run(home, &["build", "--out", site.to_str().unwrap()]);
    // `s/` is a link to a folder elsewhere: the page is not written there.
    std::fs::create_dir_all(&site).unwrap();
    std::os::unix::fs::symlink(&outside, site.join("s")).unwrap();
    let (code, _, err) = build(home);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("symbolic link"), "{err}");
    assert!(files(&outside).is_empty(), "{:?}", files(&outside));
    // Built properly, then `s/` swapped for a link to a folder holding a
    // file of the same name: unsharing must not delete that file.
    std::fs::remove_file(site.join("s")).unwrap();
    let (code, _, err) = build(home);
    assert_eq!(code, Some(0), "{err}");
    assert!(site.join(format!("s/{id}/index.html")).is_file());
    std::fs::rename(site.join("s"), home.join("old-s")).unwrap();
    let victim = outside.join(&id).join("index.html");
    write(&victim, "not sharegen's");
    std::os::unix::fs::symlink(&outside, site.join("s")).unwrap();
    let (code, _, err) = run(home, &["unshare", MAIN]);
    assert_eq!(code, Some(0), "{err}");
    let (code, _, err) = build(home);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "not sharegen's");
}

#[test]
fn build_takes_dash_o_for_its_folder_as_export_does() {
    let (tmp, id) = shared_home();
    let home = tmp.path();
    let site = home.join("site-o");
    let (code, _, err) = run(home, &["build", "-o", site.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert!(site.join(format!("s/{id}/index.html")).is_file());
}

#[test]
fn unshare_of_neither_a_share_nor_a_session_names_the_share_list() {
    let (tmp, _) = shared_home();
    let (code, _, err) = run(tmp.path(), &["unshare", "zzzz"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("no session matches `zzzz`") && err.contains("the share list "),
        "{err}"
    );
}

/// Options that do not apply are refused, not ignored; nothing is written.
#[test]
fn export_refuses_options_that_do_not_apply() {
    let (tmp, _) = shared_home();
    let home = tmp.path();
    let page = home.join("one.html");
    let p = page.to_str().unwrap();
    for (args, said) in [
        (
            vec!["export", MAIN, "--agent", "codex", "-o", p],
            "--agent, --project and --since",
        ),
        (
            vec!["export", MAIN, "--since", "7d", "-o", p],
            "--agent, --project and --since",
        ),
        (
            vec!["export", MAIN, "-o", "-", "--open"],
            "--open opens one page",
        ),
        (vec!["export", "--all", "-o", p], "looks like a file"),
        (vec!["export", "--all", "-o", "-"], "not to -o -"),
    ] {
        let (code, stdout, err) = run(home, &args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(said), "{args:?}: {err}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
        assert!(!page.exists(), "{args:?} wrote {}", page.display());
    }
}

/// `share SHARE_ID` changes that share's options, as `unshare SHARE_ID`
/// removes it.
#[test]
fn share_takes_a_share_id() {
    let (tmp, id) = shared_home();
    let home = tmp.path();
    let (code, out, err) = run(home, &["share", &id, "--title", "Renamed"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.starts_with(&id), "{out}");
    let (_, out, _) = run(home, &["shares", "--json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v[0]["title"], "Renamed", "{v}");
}

/// Sharing an expired share again says so and how to revive it;
/// `--expires never` clears the expiry.
#[test]
fn an_expired_share_is_revived_with_a_new_expiry_or_never() {
    let (tmp, _) = shared_home();
    let home = tmp.path();
    edit_shares(home, |v| {
        v["shares"][0]["expires"] = json!("2020-01-01T00:00:00Z")
    });
    let (code, _, err) = run(home, &["share", MAIN]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("expired on 2020-01-01 00:00 UTC"), "{err}");
    let (code, _, err) = run(home, &["share", MAIN, "--expires", "never"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("expired"), "{err}");
    let (_, out, _) = run(home, &["shares", "--json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["expired"], false, "{v}");
    assert!(v[0].get("expires").is_none(), "{v}");
}

#[test]
fn unshare_of_a_session_that_is_not_shared_says_so() {
    let (tmp, _) = shared_home();
    let home = tmp.path();
    let other = "2b2b2b2b-0000-4000-8000-000000000000";
    write(
        &home.join(format!(".claude/projects/-work-project/{other}.jsonl")),
        &transcript(other, "not shared"),
    );
    let (code, _, err) = run(home, &["unshare", "2b2b2b2b"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!("claude-code session {other} is not shared")),
        "{err}"
    );
}

/// A share made from a relative path is found from any folder, and can be
/// unshared by that path even once the file is gone.
#[test]
fn a_share_made_from_a_relative_path_works_from_anywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let work = home.join("work");
    let file = work.join("talk.jsonl");
    write(&file, &transcript("talk", "relative"));
    let share = |dir: &Path, args: &[&str]| {
        let o = sharegen(home).current_dir(dir).args(args).output().unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, err) = share(&work, &["share", "./talk.jsonl", "--yes"]);
    assert_eq!(code, Some(0), "{err}");
    let list: Value = serde_json::from_slice(&std::fs::read(shares_json(home)).unwrap()).unwrap();
    assert_eq!(
        list["shares"][0]["path"],
        json!(std::path::absolute(&file).unwrap())
    );
    let (code, err) = share(home, &["build"]);
    assert_eq!(code, Some(0), "{err}");
    std::fs::remove_file(&file).unwrap();
    let (code, err) = share(&work, &["unshare", "./talk.jsonl"]);
    assert_eq!(code, Some(0), "{err}");
    let list: Value = serde_json::from_slice(&std::fs::read(shares_json(home)).unwrap()).unwrap();
    assert_eq!(list["shares"], json!([]));
}

#[cfg(unix)]
#[test]
fn export_all_writes_only_inside_its_folder() {
    let (tmp, id) = shared_home();
    let home = tmp.path();
    let out = home.join("export");
    let (code, stdout, err) = run(home, &["export", "--all", "-o", out.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    let page = out.join(format!("{id}.html"));
    assert!(stdout.contains(&page.display().to_string()), "{stdout}");
    // The page's name is now a link to a file elsewhere: it is not followed.
    let elsewhere = home.join("elsewhere.html");
    write(&elsewhere, "keep me");
    std::fs::remove_file(&page).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &page).unwrap();
    let (code, _, err) = run(home, &["export", "--all", "-o", out.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("symbolic link"), "{err}");
    assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "keep me");
}

#[cfg(unix)]
#[test]
fn claude_code_store_links_leading_out_are_not_followed() {
    use std::os::unix::fs::symlink;
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let outside = home.join("elsewhere");
    let project = home.join(".claude/projects/-work-project");
    let main = project.join(format!("{MAIN}.jsonl"));
    write(&main, &transcript(MAIN, "main prompt"));
    // Outside the store: a transcript, a subagent of MAIN, a subagents tree.
    write(
        &outside.join("other.jsonl"),
        &transcript("99999999-2222-4333-8444-555555555555", "OUTSIDE-TRANSCRIPT"),
    );
    write(
        &outside.join("agent-out1.jsonl"),
        &agent(MAIN, "OUTSIDE-SIBLING"),
    );
    write(
        &outside.join("subs/agent-out2.jsonl"),
        &agent(MAIN, "OUTSIDE-TREE"),
    );
    write(
        &outside.join("meta.json"),
        r#"{"agentType": "OUTSIDE-META"}"#,
    );
    symlink(
        outside.join("other.jsonl"),
        project.join("99999999-2222-4333-8444-555555555555.jsonl"),
    )
    .unwrap();
    symlink(
        outside.join("agent-out1.jsonl"),
        project.join("agent-out1.jsonl"),
    )
    .unwrap();
    std::fs::create_dir_all(project.join(MAIN)).unwrap();
    symlink(outside.join("subs"), project.join(MAIN).join("subagents")).unwrap();
    // Inside the store: a link to a subagent kept in the project's archive
    // is followed, and its meta file next to it is read; a meta file
    // linked out is not.
    write(
        &project.join("archive/agent-in1.jsonl"),
        &agent(MAIN, "INSIDE-LINKED"),
    );
    symlink(
        project.join("archive/agent-in1.jsonl"),
        project.join("agent-in1.jsonl"),
    )
    .unwrap();
    write(
        &project.join("agent-in2.jsonl"),
        &agent(MAIN, "INSIDE-PLAIN"),
    );
    symlink(
        outside.join("meta.json"),
        project.join("agent-in2.meta.json"),
    )
    .unwrap();

    // A project folder linked out of the store is not read either.
    write(
        &outside.join("proj/88888888-2222-4333-8444-555555555555.jsonl"),
        &transcript("88888888-2222-4333-8444-555555555555", "OUTSIDE-PROJECT"),
    );
    symlink(outside.join("proj"), home.join(".claude/projects/-linked")).unwrap();

    let (code, stdout, err) = run(home, &["list", "--json"]);
    assert_eq!(code, Some(0), "{err}");
    // Each link not followed is said, not silently dropped.
    for link in ["99999999-2222-4333-8444-555555555555.jsonl", "-linked"] {
        assert!(
            err.lines()
                .any(|l| l.contains(link) && l.contains("a symbolic link out of the store")),
            "{link}: {err}"
        );
    }
    let listed: Value = serde_json::from_str(&stdout).unwrap();
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [MAIN], "{stdout}");

    for target in [MAIN.to_string(), main.display().to_string()] {
        let (code, json, err) = run(
            home,
            &[
                "export",
                &target,
                "--no-redact",
                "--format",
                "json",
                "-o",
                "-",
            ],
        );
        assert_eq!(code, Some(0), "{err}");
        assert!(json.contains("main prompt"));
        for marker in [
            "OUTSIDE-TRANSCRIPT",
            "OUTSIDE-SIBLING",
            "OUTSIDE-TREE",
            "OUTSIDE-META",
        ] {
            assert!(!json.contains(marker), "{target}: {marker} was read");
        }
        for marker in ["INSIDE-LINKED", "INSIDE-PLAIN"] {
            assert!(json.contains(marker), "{target}: {marker} was not read");
        }
    }
}

#[cfg(unix)]
#[test]
fn opencode_store_links_leading_out_are_not_followed() {
    use std::os::unix::fs::symlink;
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let data = home.join(".local/share/opencode");
    let store = data.join("storage");
    common::copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/opencode/storage-v1"),
        &store,
    );
    let sid = "ses_3ce42bdb9ffeEIUUu08AuKTJms";
    let mid = "msg_c31bd424c001ICzhibLcSkazYE";
    let project = "c4153c5335dc81f0e622888f1f387c4b84dc54d5";
    let outside = home.join("elsewhere");
    // A session file linked in from outside.
    write(
        &outside.join("ses_evil.json"),
        &json!({"id": "ses_evil", "title": "OUTSIDE-SESSION", "directory": "/x", "time": {"created": 1, "updated": 2}}).to_string(),
    );
    symlink(
        outside.join("ses_evil.json"),
        store.join("session").join(project).join("ses_evil.json"),
    )
    .unwrap();
    // A part folder and the session diff of the real session, linked out.
    let part_dir = store.join("part").join(mid);
    std::fs::rename(&part_dir, home.join("real-parts")).unwrap();
    write(
        &outside.join("parts/prt_evil.json"),
        &json!({"id": "prt_evil", "type": "text", "text": "OUTSIDE-PART"}).to_string(),
    );
    symlink(outside.join("parts"), &part_dir).unwrap();
    let diff = store.join("session_diff").join(format!("{sid}.json"));
    std::fs::remove_file(&diff).unwrap();
    write(
        &outside.join("diff.json"),
        &json!([{"file": "OUTSIDE-DIFF", "before": "a", "after": "b", "additions": 1, "deletions": 1}]).to_string(),
    );
    symlink(outside.join("diff.json"), &diff).unwrap();
    // A message folder of a session whose file is real, linked out.
    write(
        &store.join("session").join(project).join("ses_two.json"),
        &json!({"id": "ses_two", "title": "two", "directory": "/x", "time": {"created": 1, "updated": 2}}).to_string(),
    );
    write(
        &outside.join("messages/msg_evil.json"),
        &json!({"id": "msg_evil", "role": "user", "time": {"created": 1}}).to_string(),
    );
    symlink(
        outside.join("messages"),
        store.join("message").join("ses_two"),
    )
    .unwrap();
    // A database linked in from outside (not a real one: read, it would
    // be reported as unreadable).
    write(&outside.join("opencode.db"), "SQLite format 3\0 not really");
    symlink(outside.join("opencode.db"), data.join("opencode.db")).unwrap();

    let (code, stdout, err) = run(home, &["list", "--json"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        !err.contains("opencode.db"),
        "the linked database was read: {err}"
    );
    let listed: Value = serde_json::from_str(&stdout).unwrap();
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&sid) && ids.contains(&"ses_two"), "{stdout}");
    assert!(!ids.contains(&"ses_evil"), "{stdout}");
    let two = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "ses_two")
        .unwrap();
    assert_eq!(two["messages"], 0, "{two}");
    for target in [sid, "ses_two"] {
        let (code, json, err) = run(
            home,
            &[
                "export",
                target,
                "--no-redact",
                "--format",
                "json",
                "-o",
                "-",
            ],
        );
        assert_eq!(code, Some(0), "{err}");
        for marker in [
            "OUTSIDE-SESSION",
            "OUTSIDE-PART",
            "OUTSIDE-DIFF",
            "msg_evil",
        ] {
            assert!(!json.contains(marker), "{target}: {marker} was read");
        }
    }
    // The link is what is refused: the same folder moved back in is read.
    std::fs::remove_file(&part_dir).unwrap();
    std::fs::rename(home.join("real-parts"), &part_dir).unwrap();
    let (_, json, _) = run(
        home,
        &["export", sid, "--no-redact", "--format", "json", "-o", "-"],
    );
    assert!(json.contains("Respond with exactly"), "{json}");
}

/// A bad value from a `SHAREGEN_*` variable is blamed on the variable, not
/// on a config.toml that may not exist.
#[test]
fn a_bad_variable_is_named_as_the_source() {
    let tmp = tempfile::tempdir().unwrap();
    let o = sharegen(tmp.path())
        .args(["list"])
        .env("SHAREGEN_SITE_INDEX", "maybe")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("$SHAREGEN_SITE_INDEX: invalid type"), "{err}");
    assert!(!err.contains("config.toml"), "{err}");
}

/// With nothing to list, stdout stays empty: the note goes to stderr, and
/// `-q` silences it.
#[test]
fn list_with_no_sessions_writes_nothing_to_stdout() {
    let tmp = tempfile::tempdir().unwrap();
    for (args, said) in [
        (vec!["list"], "no sessions found"),
        (
            vec!["list", "--agent", "codex"],
            "no sessions match the filters",
        ),
        (vec!["-q", "list"], ""),
        (vec!["list", "--limit", "0"], ""),
    ] {
        let (code, stdout, err) = run(tmp.path(), &args);
        assert_eq!(code, Some(0), "{args:?}: {err}");
        assert_eq!(stdout, "", "{args:?}");
        assert!(err.starts_with(said), "{args:?}: {err}");
        assert_eq!(err.is_empty(), said.is_empty(), "{args:?}: {err}");
    }
}

/// A folder sharegen did not build (no manifest) keeps its own pages: the
/// build refuses instead of replacing them.
#[test]
fn build_does_not_replace_pages_it_did_not_write() {
    let (tmp, id) = shared_home();
    let home = tmp.path();
    let site = home.join("mysite");
    write(&site.join("index.html"), "MY OWN PAGE");
    let (code, _, err) = run(home, &["build", "-o", site.to_str().unwrap()]);
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("index.html is not sharegen's"), "{err}");
    assert_eq!(
        std::fs::read_to_string(site.join("index.html")).unwrap(),
        "MY OWN PAGE"
    );
    assert!(!site.join("s").exists());
    // Moved away, the folder is built, and built again.
    std::fs::remove_file(site.join("index.html")).unwrap();
    for _ in 0..2 {
        let (code, _, err) = run(home, &["build", "-o", site.to_str().unwrap()]);
        assert_eq!(code, Some(0), "{err}");
    }
    assert!(site.join(format!("s/{id}/index.html")).is_file());
}

/// What can be checked before connecting is checked, and said once.
#[test]
fn git_publish_checks_the_remote_path_and_the_prefix_first() {
    let (tmp, _) = shared_home();
    let home = tmp.path();
    let missing = home.join("missing.git");
    let (code, _, err) = run(home, &["publish", "--git", missing.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("missing.git does not exist"), "{err}");
    assert_eq!(err.matches("publishing to").count(), 1, "{err}");
    assert!(!home.join("sg/cache/publish-git").exists());
    let bare = bare_repo(&home.join("remote.git"));
    for prefix in ["../x", "a/../b", "./a"] {
        let (code, _, err) = run(
            home,
            &[
                "publish",
                "--git",
                bare.to_str().unwrap(),
                "--prefix",
                prefix,
                "--dry-run",
            ],
        );
        assert_eq!(code, Some(2), "{prefix}: {err}");
        assert!(err.contains("is not a usable prefix"), "{prefix}: {err}");
    }
    let (code, _, err) = run(
        home,
        &[
            "publish",
            "--git",
            bare.to_str().unwrap(),
            "--prefix",
            "/docs/s/",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn a_bucket_url_or_prefix_that_cannot_be_used_is_a_usage_error() {
    let (tmp, _) = shared_home();
    let home = tmp.path();
    let dir = format!("file://{}", home.join("bucket").display());
    for args in [
        vec!["publish", "--bucket", "/tmp/not-a-url"],
        vec!["publish", "--bucket", "ftp://host/x"],
        vec!["publish", "--bucket", &dir, "--prefix", "../up"],
    ] {
        let (code, _, err) = run(home, &args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
    }
    assert!(!home.join("bucket").exists());
}

/// doctor writes nothing, and finds what would make a command fail: a
/// config that parses but cannot be used, a share whose session is gone.
#[test]
fn doctor_writes_nothing_and_finds_what_would_fail() {
    let fresh = tempfile::tempdir().unwrap();
    let (code, _, err) = run(fresh.path(), &["doctor"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        !fresh.path().join("sg").exists(),
        "{:?}",
        files(fresh.path())
    );

    let (tmp, id) = shared_home();
    let home = tmp.path();
    let problems = |home: &Path| -> Vec<(String, String)> {
        let (_, out, _) = run(home, &["doctor", "--json"]);
        let v: Value = serde_json::from_str(&out).unwrap();
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["status"] == "error")
            .map(|c| {
                let s = |k: &str| c[k].as_str().unwrap().to_string();
                (s("area"), s("detail"))
            })
            .collect()
    };
    assert_eq!(problems(home), vec![]);
    for (config, said) in [
        ("[render]\ntheme = \"nosuch\"\n", "unknown theme `nosuch`"),
        (
            "[redact]\nallow = [\"(unclosed\"]\n",
            "redact rule `(unclosed`",
        ),
        (
            "[site]\nbase_url = \"not a url\"\n",
            "is not an http(s) URL",
        ),
    ] {
        write(&home.join("sg/config.toml"), config);
        let p = problems(home);
        assert!(
            p.iter().any(|(a, d)| a == "config" && d.contains(said)),
            "{config}: {p:?}"
        );
    }
    std::fs::remove_file(home.join("sg/config.toml")).unwrap();
    // A bad value from a variable is blamed on it, not on config.toml.
    for (var, value, said) in [
        (
            "SHAREGEN_RENDER_THEME",
            "nosuch",
            "$SHAREGEN_RENDER_THEME: unknown theme `nosuch`",
        ),
        (
            "SHAREGEN_SITE_BASE_URL",
            "ftp://x",
            "$SHAREGEN_SITE_BASE_URL: site.base_url `ftp://x`",
        ),
    ] {
        let o = sharegen(home)
            .env(var, value)
            .args(["doctor", "--json"])
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains(said), "{out}");
        assert!(!out.contains("config.toml:"), "{out}");
    }
    // A good theme from a variable is not blamed for the file's bad
    // templates folder.
    write(
        &home.join("sg/config.toml"),
        "[render]\ntemplates = \"/nonexistent-templates\"\n",
    );
    let o = sharegen(home)
        .env("SHAREGEN_RENDER_THEME", "default")
        .args(["doctor", "--json"])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("config.toml:"), "{out}");
    assert!(!out.contains("$SHAREGEN_RENDER_THEME"), "{out}");
    std::fs::remove_file(home.join("sg/config.toml")).unwrap();
    std::fs::remove_file(home.join(format!(".claude/projects/-work-project/{MAIN}.jsonl")))
        .unwrap();
    let p = problems(home);
    assert!(
        p.iter()
            .any(|(a, d)| *a == format!("share {id}") && d.contains("is gone")),
        "{p:?}"
    );
}

/// `templates themes` lists the themes of the folder config.toml names,
/// which pages use, as `--templates` does.
#[test]
fn templates_themes_follows_the_config() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let dir = home.join("tpl");
    write(&dir.join("themes/red.css"), "body { color: red }");
    write(
        &home.join("sg/config.toml"),
        &format!("[render]\ntemplates = {:?}\n", dir.display().to_string()),
    );
    let (code, out, err) = run(home, &["templates", "themes"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.lines().any(|l| l == "red"), "{out}");
    assert!(out.lines().any(|l| l == "default"), "{out}");
}

/// Every configured target is published even when one fails, and a share
/// that cannot be rendered fails `publish` as it fails `build`.
#[test]
fn publish_tries_every_target_and_fails_on_a_share_it_cannot_render() {
    let (tmp, id) = shared_home();
    let home = tmp.path();
    let bucket = home.join("bucket");
    write(
        &home.join("sg/config.toml"),
        &format!(
            "[publish.git]\nurl = {:?}\n[publish.bucket]\nurl = \"file://{}\"\n",
            home.join("missing.git").display().to_string(),
            bucket.display()
        ),
    );
    let (code, _, err) = run(home, &["publish"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("missing.git does not exist"), "{err}");
    assert!(bucket.join(format!("s/{id}/index.html")).is_file(), "{err}");
    // The session goes; the page published before stays, and the run fails.
    std::fs::remove_file(home.join("sg/config.toml")).unwrap();
    std::fs::remove_file(home.join(format!(".claude/projects/-work-project/{MAIN}.jsonl")))
        .unwrap();
    let target = format!("file://{}", bucket.display());
    let (code, _, err) = run(home, &["publish", "--bucket", &target]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("1 share(s) could not be rendered"), "{err}");
    assert!(bucket.join(format!("s/{id}/index.html")).is_file());
}

/// Two targets behind one `site.base_url`: each share's address is
/// printed once, not once per target.
#[test]
fn publish_prints_each_address_once_for_two_targets() {
    let (tmp, id) = shared_home();
    let home = tmp.path();
    let repo = bare_repo(&home.join("site.git"));
    write(
        &home.join("sg/config.toml"),
        &format!(
            "[site]\nbase_url = \"https://sessions.example\"\n[publish.git]\nurl = {:?}\n[publish.bucket]\nurl = \"file://{}\"\n",
            repo.display().to_string(),
            home.join("bucket").display()
        ),
    );
    let (code, out, err) = run(home, &["publish"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, format!("https://sessions.example/s/{id}/\n"), "{err}");
    // Both targets were published to.
    assert_eq!(err.matches(": uploaded ").count(), 2, "{err}");
}

/// An empty SHAREGEN_SALT (an unset CI secret) is warned about, since
/// share IDs then come from elsewhere.
#[test]
fn an_empty_salt_variable_is_warned_about() {
    let tmp = tempfile::tempdir().unwrap();
    let o = sharegen(tmp.path())
        .env("SHAREGEN_SALT", "")
        .args(["list"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert_eq!(
        err.matches("SHAREGEN_SALT is set but empty").count(),
        1,
        "{err}"
    );
}
