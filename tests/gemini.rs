//! Gemini CLI (and Antigravity CLI): every fixture exported to JSON, HTML
//! and Markdown and checked against an oracle that reads the files with
//! plain serde_json (replaying `.jsonl` logs on its own); `list` on a HOME
//! laid out like `~/.gemini`; `watch` on a whole-file rewrite; and no
//! panic on damaged input.

mod common;

use common::*;
use proptest::prelude::*;
use serde_json::Value;
use sha2::{Digest, Sha256};

use sharegen::sources;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

const SID: &str = "5f1c2a9b-3d4e-4f60-8a7b-9c0d1e2f3a4b";
const SUB: &str = "a81e7c44-0b9d-4c2e-9f3a-6d5b4c3a2b1c";
const AGY: &str = "7d3f0c52-5a1e-4b7e-9c11-2f9e8a6b4d10";
/// Where the shared `.json` fixtures pretend to come from.
const LEGACY_PROJECT: &str = "/home/u/legacy-app";

fn jsonl_fixture() -> PathBuf {
    agent_fixtures("gemini").join("sharegen/session-2026-05-04T14-00-5f1c2a9b.jsonl")
}

fn json_fixtures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(agent_fixtures("gemini"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    v.sort();
    v
}

fn chat_fixtures() -> Vec<PathBuf> {
    let mut v = json_fixtures();
    v.push(jsonl_fixture());
    v.push(
        agent_fixtures("gemini")
            .join(format!("sharegen/{SID}"))
            .join(format!("{SUB}.jsonl")),
    );
    v
}

fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A HOME with `~/.gemini` holding the chat fixtures (the `.json` ones in
/// a hash-named folder of the old layout, the `.jsonl` one in a slug
/// folder) and the Antigravity CLI conversation.
fn gemini_home() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let g = tmp.path().join(".gemini");
    let hashed = g.join("tmp").join(sha256_hex(LEGACY_PROJECT)).join("chats");
    std::fs::create_dir_all(&hashed).unwrap();
    for f in json_fixtures() {
        let name = format!(
            "session-2024-01-01T10-00-{}",
            f.file_name().unwrap().to_string_lossy()
        );
        std::fs::copy(&f, hashed.join(name)).unwrap();
    }
    copy_tree(
        &agent_fixtures("gemini").join("sharegen"),
        &g.join("tmp/weather/chats"),
    );
    std::fs::write(
        g.join("projects.json"),
        format!(
            r#"{{"projects":{{"/home/dev/weather":"weather","{LEGACY_PROJECT}":"legacy-app"}}}}"#
        ),
    )
    .unwrap();
    copy_tree(
        &agent_fixtures("gemini").join("antigravity-cli"),
        &g.join("antigravity-cli"),
    );
    tmp
}

// ---- The oracle -----------------------------------------------------------

/// The messages of a chat file, replayed by the documented rules.
fn replay(path: &Path) -> (Value, Vec<Value>) {
    if path.extension().is_some_and(|e| e == "json") {
        let mut v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let msgs = v["messages"].as_array().cloned().unwrap_or_default();
        v["messages"] = Value::Null;
        return (v, msgs);
    }
    let mut meta = serde_json::Map::new();
    let mut msgs: Vec<Value> = Vec::new();
    for l in lines(path) {
        if let Some(id) = l["$rewindTo"].as_str() {
            if let Some(i) = msgs.iter().position(|m| m["id"] == id) {
                msgs.truncate(i);
            }
        } else if let Some(set) = l["$set"].as_object() {
            for (k, v) in set {
                if k == "messages" {
                    msgs = v.as_array().cloned().unwrap_or_default();
                } else {
                    meta.insert(k.clone(), v.clone());
                }
            }
        } else if l["type"].is_string() {
            match msgs.iter().position(|m| m["id"] == l["id"]) {
                Some(i) => msgs[i] = l,
                None => msgs.push(l),
            }
        } else {
            meta.extend(l.as_object().unwrap().clone());
        }
    }
    (Value::Object(meta), msgs)
}

fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

#[derive(Debug, Default)]
struct Expected {
    id: String,
    summary: Option<String>,
    prompts: Vec<String>,
    texts: Vec<String>,
    thoughts: Vec<String>,
    notices: Vec<String>,
    /// (call id, name, output)
    calls: Vec<(String, String, Option<String>)>,
    /// input without cached (plus tool), output with thoughts, cached.
    tokens: [u64; 3],
    models: Vec<String>,
}

fn expected(path: &Path) -> Expected {
    let (meta, msgs) = replay(path);
    let mut e = Expected {
        id: meta["sessionId"].as_str().unwrap().to_string(),
        summary: meta["summary"].as_str().map(String::from),
        ..Expected::default()
    };
    for m in msgs {
        match m["type"].as_str().unwrap() {
            "user" => {
                let shown = if m["displayContent"].is_null() {
                    &m["content"]
                } else {
                    &m["displayContent"]
                };
                e.prompts.push(text_of(shown));
            }
            "gemini" => {
                let t = text_of(&m["content"]);
                if !t.trim().is_empty() {
                    e.texts.push(t);
                }
                for th in m["thoughts"].as_array().into_iter().flatten() {
                    e.thoughts
                        .push(th["description"].as_str().unwrap().to_string());
                }
                for c in m["toolCalls"].as_array().into_iter().flatten() {
                    let out = c["result"]
                        .as_array()
                        .and_then(|r| r[0]["functionResponse"]["response"]["output"].as_str())
                        .or(c["resultDisplay"].as_str())
                        .map(String::from);
                    e.calls.push((
                        c["id"].as_str().unwrap_or("").to_string(),
                        c["name"].as_str().unwrap().to_string(),
                        out,
                    ));
                }
                let t = &m["tokens"];
                if t.is_object() {
                    let n = |k: &str| t[k].as_u64().unwrap_or(0);
                    e.tokens[0] += n("input") - n("cached") + n("tool");
                    e.tokens[1] += n("output") + n("thoughts");
                    e.tokens[2] += n("cached");
                }
                if let Some(model) = m["model"].as_str()
                    && !e.models.iter().any(|x| x == model)
                {
                    e.models.push(model.to_string());
                }
            }
            _ => e.notices.push(text_of(&m["content"])),
        }
    }
    e
}

fn parts_of<'a>(s: &'a Value, role: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    s["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(move |m| m["role"] == role)
        .flat_map(|m| m["parts"].as_array().unwrap())
}

fn calls_of(s: &Value) -> Vec<Value> {
    s["messages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["parts"].as_array().unwrap())
        .filter(|p| p["type"] == "tool_call")
        .cloned()
        .collect()
}

fn plain(s: &str) -> String {
    collapse_ws(&s.replace(['`', '*', '>'], " "))
}

fn check(file: &Path, e: &Expected, subagents: &[Expected]) {
    let name = file.display();
    let doc: Value = serde_json::from_str(&export_to(file, "json")).unwrap();
    let s = &doc["session"];
    assert_eq!(s["agent"], "gemini", "{name}");
    assert_eq!(s["id"], e.id.as_str(), "{name}");
    let prompts: Vec<&str> = parts_of(s, "user")
        .filter(|p| p["type"] == "text")
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert_eq!(prompts, e.prompts, "{name}: prompts");
    let texts: Vec<&str> = parts_of(s, "assistant")
        .filter(|p| p["type"] == "text")
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, e.texts, "{name}: assistant texts");
    let thoughts: Vec<&str> = parts_of(s, "assistant")
        .filter(|p| p["type"] == "reasoning")
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert_eq!(thoughts.len(), e.thoughts.len(), "{name}: thoughts");
    for (got, want) in thoughts.iter().zip(&e.thoughts) {
        assert!(got.ends_with(want.as_str()), "{name}: {got:?} vs {want:?}");
    }
    let notices: Vec<&str> = parts_of(s, "system")
        .filter(|p| p["type"] == "notice")
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert_eq!(notices, e.notices, "{name}: info/warning/error");
    let calls = calls_of(s);
    let got: Vec<(String, String, Option<String>)> = calls
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["name"].as_str().unwrap().to_string(),
                c["output"].as_str().map(String::from),
            )
        })
        .collect();
    assert_eq!(got, e.calls, "{name}: tool calls");
    let t = &s["totals"];
    let got = [
        t["input"].as_u64().unwrap(),
        t["output"].as_u64().unwrap(),
        t["cache_read"].as_u64().unwrap(),
    ];
    assert_eq!(got, e.tokens, "{name}: tokens");
    assert_eq!(s["models"], serde_json::json!(e.models), "{name}: models");
    // The title: the session's summary, else the first prompt's first line.
    let title = e.summary.clone().or_else(|| {
        e.prompts
            .first()
            .map(|p| p.trim().lines().next().unwrap_or("").to_string())
    });
    assert_eq!(s["title"].as_str(), title.as_deref(), "{name}: title");
    assert_eq!(
        s["subagents"].as_array().unwrap().len(),
        subagents.len(),
        "{name}: subagents"
    );

    let page = export_to(file, "html");
    let text = plain(&html_text(&page));
    for t in e.prompts.iter().chain(&e.texts) {
        assert!(text.contains(&plain(t)), "{name}: missing from HTML: {t:?}");
    }
    let html = scraper::Html::parse_document(&page);
    let tools = html
        .select(&scraper::Selector::parse("details.tool").unwrap())
        .count();
    let want = e.calls.len() + subagents.iter().map(|x| x.calls.len()).sum::<usize>();
    assert_eq!(tools, want, "{name}: tool blocks");

    let md = export_to(file, "md");
    for t in e.prompts.iter().chain(&e.texts) {
        assert!(
            md.contains(t.trim_end()),
            "{name}: missing from Markdown: {t:?}"
        );
    }
    let mut per_name: HashMap<&str, usize> = HashMap::new();
    for (_, n, _) in e
        .calls
        .iter()
        .chain(subagents.iter().flat_map(|x| &x.calls))
    {
        *per_name.entry(n.as_str()).or_default() += 1;
    }
    for (n, k) in per_name {
        let found = md.matches(&format!("<details><summary>{n}")).count();
        assert_eq!(found, k, "{name}: `{n}` calls in Markdown");
    }
}

#[test]
fn every_chat_fixture_exports_completely_in_every_format() {
    let mut calls = 0;
    for f in chat_fixtures() {
        let e = expected(&f);
        let subs: Vec<Expected> = if f == jsonl_fixture() {
            vec![expected(
                &agent_fixtures("gemini").join(format!("sharegen/{SID}/{SUB}.jsonl")),
            )]
        } else {
            Vec::new()
        };
        check(&f, &e, &subs);
        calls += e.calls.len();
    }
    assert!(calls >= 7, "{calls}");
}

#[test]
fn jsonl_replay_details() {
    let doc: Value = serde_json::from_str(&export_to(&jsonl_fixture(), "json")).unwrap();
    let s = &doc["session"];
    // `$set` gave the title; the rewound prompt and its answer are gone.
    assert_eq!(s["title"], "Fix forecast unit conversion");
    let all = s.to_string();
    assert!(!all.contains("rename the module to temperature.ts"));
    assert!(!all.contains("Renaming the module now"));
    // The tool call recorded before and after it ran: once, finished.
    let calls = calls_of(s);
    let shell: Vec<&Value> = calls
        .iter()
        .filter(|c| c["id"] == "run_shell_command_1")
        .collect();
    assert_eq!(shell.len(), 1);
    assert_eq!(shell[0]["status"], "completed");
    // The edit shows its recorded diff.
    let edit = calls.iter().find(|c| c["name"] == "replace").unwrap();
    let d = &edit["extras"]["diffs"][0];
    assert_eq!(d["path"], "/home/dev/weather/src/forecast.ts");
    assert!(
        d["patch"]
            .as_str()
            .unwrap()
            .contains("+import { toCelsius }")
    );
    // The subagent is linked to the call that ran it.
    let sub = &s["subagents"][0];
    assert_eq!(sub["session"]["id"], SUB);
    assert_eq!(sub["tool_call_id"], "codebase_investigator_1");
    // Per-message usage, with the documented conventions.
    let u = &s["messages"][1]["usage"];
    assert_eq!(u["input"], 9120);
    assert_eq!(u["output"], 64 + 40);
    assert_eq!(u["reasoning"], 40);
    let page = export_to(&jsonl_fixture(), "html");
    let html = scraper::Html::parse_document(&page);
    let sel = scraper::Selector::parse("details.k-edit .file-diff").unwrap();
    assert_eq!(html.select(&sel).count(), 1);
    assert!(page.contains("Gemini CLI"));
}

fn list(home: &Path, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["list", "--json"];
    args.extend_from_slice(extra);
    serde_json::from_str(&run_ok_all(home, &args)).unwrap()
}

#[test]
fn list_shows_every_session_with_its_project() {
    let home = gemini_home();
    let rows = list(home.path(), &["--agent", "gemini"]);
    let mut want: Vec<String> = json_fixtures()
        .iter()
        .map(|f| expected(f).id)
        .chain([SID.to_string()])
        .collect();
    want.sort();
    let mut got: Vec<String> = rows
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    got.sort();
    assert_eq!(got, want, "the subagent session is folded in");
    for r in &rows {
        assert_eq!(r["agent"], "gemini");
        let path = Path::new(r["path"].as_str().unwrap());
        let want_project = if r["id"] == SID {
            "/home/dev/weather"
        } else {
            LEGACY_PROJECT
        };
        assert_eq!(r["project"], want_project, "{r}");
        let doc: Value = serde_json::from_str(&export_to(path, "json")).unwrap();
        let s = &doc["session"];
        let n = s["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["role"] == "user" || m["role"] == "assistant")
            .count() as u64;
        assert_eq!(r["messages"].as_u64().unwrap(), n, "{r}");
        assert_eq!(r["title"], s["title"], "{r}");
        assert!(r["updated"].is_string(), "{r}");
    }
    let main = rows.iter().find(|r| r["id"] == SID).unwrap();
    assert_eq!(main["subagents"], 1);
    assert_eq!(main["title"], "Fix forecast unit conversion");
    let std = rows.iter().find(|r| r["id"] == "sess-uuid-1").unwrap();
    assert_eq!(std["title"], "Fix the login bug");
    assert_eq!(std["messages"], 4);
    // Selection by prefix and by the store as a path.
    let out = run_ok_all(
        home.path(),
        &["export", "5f1c", "--format", "json", "-o", "-"],
    );
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["session"]["id"], SID);
    assert_eq!(doc["session"]["project"], "/home/dev/weather");
    let out = sharegen_all(home.path())
        .args(["export", "-o", "-"])
        .arg(home.path().join(".gemini/tmp/weather"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Antigravity is its own agent.
    let agy = list(home.path(), &["--agent", "antigravity"]);
    assert_eq!(agy.len(), 1);
    assert_eq!(agy[0]["id"], AGY);
    assert_eq!(agy[0]["project"], "/home/dev/tally");
    assert_eq!(list(home.path(), &[]).len(), rows.len() + 1);
}

#[test]
fn a_resumed_legacy_session_is_read_from_its_jsonl() {
    let home = tempfile::tempdir().unwrap();
    let chats = home.path().join(".gemini/tmp/p/chats");
    std::fs::create_dir_all(&chats).unwrap();
    std::fs::write(chats.join("../.project_root"), "/srv/p\n").unwrap();
    let json = agent_fixtures("gemini").join("standard_session.json");
    std::fs::copy(&json, chats.join("session-2024-01-01T10-00-sess-uui.json")).unwrap();
    let (meta, msgs) = replay(&json);
    let mut jsonl = String::new();
    jsonl.push_str(&format!("{}\n", serde_json::json!({"sessionId": meta["sessionId"], "projectHash": meta["projectHash"], "startTime": meta["startTime"]})));
    for m in &msgs {
        jsonl.push_str(&format!("{m}\n"));
    }
    jsonl.push_str(r#"{"id":"u3","timestamp":"2024-01-02T09:00:00Z","type":"user","content":"Resumed the next day"}"#);
    jsonl.push('\n');
    std::fs::write(chats.join("session-2024-01-01T10-00-sess-uui.jsonl"), jsonl).unwrap();
    let rows = list(home.path(), &[]);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0]["path"].as_str().unwrap().ends_with(".jsonl"));
    assert_eq!(rows[0]["project"], "/srv/p");
    assert_eq!(rows[0]["messages"], 5);
}

#[test]
fn gemini_cli_home_moves_the_store() {
    let home = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let chats = elsewhere.path().join(".gemini/tmp/x/chats");
    std::fs::create_dir_all(&chats).unwrap();
    std::fs::copy(
        agent_fixtures("gemini").join("tool_calls.json"),
        chats.join("session-2024-01-01T10-00-sess-uui.json"),
    )
    .unwrap();
    let out = sharegen_all(home.path())
        .env("GEMINI_CLI_HOME", elsewhere.path())
        .args(["list", "--json"])
        .output()
        .unwrap();
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["id"], "sess-uuid-2");
    assert!(list(home.path(), &[]).is_empty());
}

#[test]
fn antigravity_transcripts_export_completely() {
    let home = gemini_home();
    let file = home.path().join(format!(
        ".gemini/antigravity-cli/brain/{AGY}/.system_generated/logs/transcript_full.jsonl"
    ));
    // The oracle: prompts in USER_REQUEST, planner texts and calls.
    let steps = lines(&file);
    let prompts: Vec<String> = steps
        .iter()
        .filter(|s| s["type"] == "USER_INPUT")
        .map(|s| {
            let c = s["content"].as_str().unwrap();
            let a = c.find("<USER_REQUEST>").unwrap() + "<USER_REQUEST>".len();
            let b = c.find("</USER_REQUEST>").unwrap();
            c[a..b].trim().to_string()
        })
        .collect();
    let texts: Vec<String> = steps
        .iter()
        .filter(|s| s["type"] == "PLANNER_RESPONSE")
        .filter_map(|s| s["content"].as_str().map(String::from))
        .collect();
    let calls: Vec<String> = steps
        .iter()
        .flat_map(|s| s["tool_calls"].as_array().cloned().unwrap_or_default())
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    let results: Vec<String> = steps
        .iter()
        .filter(|s| {
            s["source"] == "MODEL" && s["type"] != "PLANNER_RESPONSE" && s["content"].is_string()
        })
        .map(|s| s["content"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(calls.len(), results.len());

    let out = run_ok_all(home.path(), &["export", AGY, "--format", "json", "-o", "-"]);
    let doc: Value = serde_json::from_str(&out).unwrap();
    let s = &doc["session"];
    assert_eq!(s["agent"], "antigravity");
    assert_eq!(s["project"], "/home/dev/tally");
    assert_eq!(s["models"][0], "Gemini 3.5 Flash (Medium)");
    let got_prompts: Vec<&str> = parts_of(s, "user")
        .filter(|p| p["type"] == "text")
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert_eq!(got_prompts, prompts);
    let got_texts: Vec<&str> = parts_of(s, "assistant")
        .filter(|p| p["type"] == "text")
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert_eq!(got_texts, texts);
    let got_calls = calls_of(s);
    let names: Vec<&str> = got_calls
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, calls);
    let outputs: Vec<&str> = got_calls
        .iter()
        .map(|c| c["output"].as_str().unwrap())
        .collect();
    assert_eq!(outputs, results, "results answer calls in order");
    assert_eq!(got_calls[0]["input"]["Query"], "TODO");
    assert_eq!(got_calls[0]["title"], "Searching for TODOs");
    let kinds: Vec<&str> = s["messages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["parts"].as_array().unwrap())
        .map(|p| p["type"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"compaction"));
    let page = run_ok_all(home.path(), &["export", AGY, "-o", "-"]);
    assert!(page.contains("Antigravity CLI"));
    let text = plain(&html_text(&page));
    for t in prompts.iter().chain(&texts) {
        assert!(text.contains(&plain(t)), "{t}");
    }
    let md = run_ok_all(home.path(), &["export", AGY, "--format", "md", "-o", "-"]);
    for t in prompts.iter().chain(&texts) {
        assert!(md.contains(t.as_str()), "{t}");
    }

    // transcript.jsonl encodes every argument value as JSON in a string.
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("brain/c1/.system_generated/logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(
        logs.join("transcript.jsonl"),
        concat!(
            r#"{"step_index":0,"source":"USER_EXPLICIT","type":"USER_INPUT","status":"DONE","created_at":"2026-06-26T21:16:16Z","content":"<USER_REQUEST>List.</USER_REQUEST>"}"#,
            "\n",
            r#"{"step_index":1,"source":"MODEL","type":"PLANNER_RESPONSE","status":"DONE","created_at":"2026-06-26T21:16:17Z","tool_calls":[{"name":"list_dir","args":{"DirectoryPath":"\"/tmp/repo\"","Recursive":"false"}}]}"#,
            "\n",
        ),
    )
    .unwrap();
    let doc: Value = serde_json::from_str(&export_to(tmp.path(), "json")).unwrap();
    let c = &calls_of(&doc["session"])[0];
    assert_eq!(c["input"]["DirectoryPath"], "/tmp/repo");
    assert_eq!(c["input"]["Recursive"], false);
    assert_eq!(c["status"], "pending");
    assert_eq!(doc["session"]["id"], "c1");
}

#[test]
fn sharegen_never_writes_into_the_gemini_folder() {
    let home = gemini_home();
    let store = home.path().join(".gemini");
    let before = snapshot(&store);
    run_ok_all(home.path(), &["list"]);
    run_ok_all(home.path(), &["export", SID, "-o", "-"]);
    run_ok_all(home.path(), &["share", SID, "--yes"]);
    run_ok_all(home.path(), &["share", AGY, "--yes"]);
    run_ok_all(home.path(), &["build"]);
    assert_eq!(before, snapshot(&store));
}

#[test]
fn watch_follows_a_chat_file_rewritten_whole() {
    let home = tempfile::tempdir().unwrap();
    let chats = home.path().join(".gemini/tmp/p/chats");
    std::fs::create_dir_all(&chats).unwrap();
    let file = chats.join("session-2024-01-01T10-00-sess-uui.json");
    std::fs::copy(
        agent_fixtures("gemini").join("standard_session.json"),
        &file,
    )
    .unwrap();
    let out = run_ok_all(home.path(), &["share", "sess-uuid-1", "--yes"]);
    let id = out.split('\t').next().unwrap().to_string();
    let (_watch, log) = start_watch(home.path(), true);
    let page = || {
        std::fs::read_to_string(home.path().join(format!("sg/site/s/{id}/index.html")))
            .unwrap_or_default()
    };
    wait_until("the first build", || page().contains("Fix the login bug"));
    wait_until("the watches", || {
        std::fs::read_to_string(&log).is_ok_and(|l| l.contains("watching for changes"))
    });
    // Gemini CLI rewrites the whole file in place with one more message.
    let mut v: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    v["messages"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "id": "u3", "timestamp": "2024-01-01T10:09:00Z", "type": "user",
            "content": "Rewritten while watching: herons"
        }));
    std::fs::write(&file, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    wait_until("the rewritten file", || page().contains("herons"));
}

// ---- Damaged input --------------------------------------------------------

/// Lists a store holding `bytes` as one chat file (`ext`: json or jsonl)
/// and loads what it finds; where both work, the listing's count matches.
fn exercise(bytes: &[u8], ext: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let chats = tmp.path().join("tmp/p/chats");
    std::fs::create_dir_all(&chats).unwrap();
    let file = chats.join(format!("session-x.{ext}"));
    std::fs::write(&file, bytes).unwrap();
    exercise_store(
        &sources::gemini::Gemini::new(tmp.path().to_path_buf()),
        &file,
    );
}

fn exercise_antigravity(bytes: &[u8]) {
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("brain/c/.system_generated/logs");
    std::fs::create_dir_all(&logs).unwrap();
    let file = logs.join("transcript_full.jsonl");
    std::fs::write(&file, bytes).unwrap();
    exercise_store(
        &sources::antigravity::Antigravity::new(tmp.path().to_path_buf()),
        &file,
    );
}

#[test]
fn truncated_and_corrupted_files_do_not_panic() {
    let mut rng = Lcg(0xbeef);
    let agy = agent_fixtures("gemini").join(format!(
        "antigravity-cli/brain/{AGY}/.system_generated/logs/transcript_full.jsonl"
    ));
    let mut files: Vec<PathBuf> = chat_fixtures();
    files.push(agy.clone());
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        let ext = f.extension().unwrap().to_string_lossy().to_string();
        for _ in 0..8 {
            let cut = (rng.next() as usize) % bytes.len();
            let mut bad = bytes[..cut].to_vec();
            if rng.next().is_multiple_of(2) && !bad.is_empty() {
                let i = (rng.next() as usize) % bad.len();
                bad[i] = rng.next() as u8;
            }
            if f == agy {
                exercise_antigravity(&bad);
            } else {
                exercise(&bad, &ext);
            }
        }
    }
    for i in 0..60 {
        let len = (rng.next() % 2048) as usize;
        let mut bytes = b"{\"sessionId\":\"s\",\"projectHash\":\"h\"}\n".to_vec();
        bytes.extend((0..len).map(|_| rng.next() as u8));
        exercise(&bytes, if i % 2 == 0 { "jsonl" } else { "json" });
        exercise_antigravity(&bytes);
    }
}

/// Chat-log lines: messages, updates and rewinds with fields of random
/// types.
fn arb_line() -> impl Strategy<Value = String> {
    let val = prop_oneof![
        Just("null".to_string()),
        Just("3".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        Just("\"\"".to_string()),
        "\"[a-z ]{0,8}\"".prop_map(|s| s),
        Just(r#"[{"text":"hi"},{"inlineData":{"mimeType":"image/png","data":"AA=="}},{"x":1}]"#.to_string()),
        Just(r#"[{"id":"c","name":"read_file","args":{"file_path":"a"},"status":"success","result":[{"functionResponse":{"response":{"output":"x"}}}],"resultDisplay":{"fileDiff":"@@ -1 +1 @@\n-a\n+b","fileName":"a"}}]"#.to_string()),
        Just(r#"{"input":5,"output":1,"cached":9,"thoughts":2}"#.to_string()),
        Just(r#"[{"subject":"s","description":"d"},7]"#.to_string()),
    ];
    let ty = prop_oneof![
        Just("user"),
        Just("gemini"),
        Just("info"),
        Just("error"),
        Just("odd")
    ];
    prop_oneof![
        (ty, 0u8..4, val.clone(), val.clone(), val.clone(), val.clone()).prop_map(
            |(ty, id, a, b, c, d)| format!(
                r#"{{"id":"m{id}","type":"{ty}","timestamp":{a},"content":{b},"toolCalls":{c},"tokens":{d},"thoughts":{c},"displayContent":{a},"model":{a}}}"#
            )
        ),
        (0u8..4).prop_map(|id| format!(r#"{{"$rewindTo":"m{id}"}}"#)),
        val.clone()
            .prop_map(|v| format!(r#"{{"$set":{{"summary":{v},"lastUpdated":{v}}}}}"#)),
        val.prop_map(|v| format!(r#"{{"$set":{{"messages":{v}}}}}"#)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(250))]
    #[test]
    fn arbitrary_chat_logs_never_panic(lines in proptest::collection::vec(arb_line(), 0..12)) {
        let mut text = String::from("{\"sessionId\":\"s\",\"startTime\":\"2026-01-01T00:00:00Z\"}\n");
        text.push_str(&lines.join("\n"));
        exercise(text.as_bytes(), "jsonl");
        let messages: Vec<Value> = lines
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .collect();
        let json = serde_json::json!({"sessionId": "s", "projectHash": "h", "messages": messages});
        exercise(json.to_string().as_bytes(), "json");
    }
}

/// Loads the transcript at `rel` in the HOME `home` with the Gemini or the
/// Antigravity source (a few bytes of a chat could pass for another
/// agent's file).
fn load_transcript(home: &Path, rel: &str) -> Option<sharegen::model::Session> {
    let (source, r) = transcript_source(home, rel);
    source.load(&r, &sharegen::diag::Diag::silent()).ok()
}

/// The source of the chat file or transcript at `home/rel`, and a
/// reference to it.
fn transcript_source(home: &Path, rel: &str) -> (Box<dyn sources::Source>, sources::SessionRef) {
    let root = home.join(".gemini");
    let source: Box<dyn sources::Source> = if rel.contains("antigravity-cli") {
        Box::new(sources::antigravity::Antigravity::new(
            root.join("antigravity-cli"),
        ))
    } else {
        Box::new(sources::gemini::Gemini::new(root))
    };
    let r = sources::SessionRef {
        agent: source.agent(),
        id: String::new(),
        path: home.join(rel),
    };
    (source, r)
}

/// `watch` reads only what was appended to a Gemini `.jsonl` chat (and its
/// subagent's file) or an Antigravity transcript: grown in random cuts
/// (mid-line too), each read after the first reads the new bytes only,
/// and the session is what a fresh read of the same bytes gives.
#[test]
fn watch_reads_only_the_appended_lines_of_gemini_and_antigravity_transcripts() {
    sharegen::sources::jsonl::enable_tails(true);
    let mut rng = Lcg(5);
    let agy =
        format!(".gemini/antigravity-cli/brain/{AGY}/.system_generated/logs/transcript_full.jsonl");
    for rel in [
        ".gemini/tmp/weather/chats/session-2026-05-04T14-00-5f1c2a9b.jsonl",
        agy.as_str(),
    ] {
        let home = gemini_home();
        let path = home.path().join(rel);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, b"").unwrap();
        let mut written = 0;
        let mut loaded = false;
        for cut in live::cuts(bytes.len(), 25, &mut rng) {
            live::append(&path, &bytes[written..cut]);
            written = cut;
            let got = load_transcript(home.path(), rel);
            let read = sources::gemini::last_tail_read(&path)
                .or_else(|| sources::antigravity::last_tail_read(&path));
            if loaded && got.is_some() {
                assert!(
                    matches!(read, Some(sources::jsonl::TailRead::Appended { .. })),
                    "{rel}: cut at byte {cut}: read {read:?}"
                );
            }
            loaded |= got.is_some();
            let fresh = tempfile::tempdir().unwrap();
            copy_tree(home.path(), fresh.path());
            let want = load_transcript(fresh.path(), rel);
            assert!(
                got.map(live::without_paths) == want.map(live::without_paths),
                "{rel}: cut at byte {cut} of {}: differs from a fresh read",
                bytes.len()
            );
        }
        assert!(loaded, "{rel}: never loaded");
    }
}

/// `watch`'s loads of a Gemini `.jsonl` chat and an Antigravity transcript
/// hand on only the messages from the first changed one on: grown in
/// random cuts (mid-line too), each load put together with the previous
/// ones is what a fresh read gives, and most loads after the first are
/// such partial ones.
#[test]
fn watch_hands_on_only_the_changed_messages_of_gemini_and_antigravity_transcripts() {
    sharegen::sources::jsonl::enable_tails(true);
    let mut rng = Lcg(11);
    let agy =
        format!(".gemini/antigravity-cli/brain/{AGY}/.system_generated/logs/transcript_full.jsonl");
    for rel in [
        ".gemini/tmp/weather/chats/session-2026-05-04T14-00-5f1c2a9b.jsonl",
        agy.as_str(),
    ] {
        let mut stats = live::Stats::default();
        for round in 0..6 {
            let home = gemini_home();
            // A chat with subagent files is loaded whole; this one grows
            // without them.
            let subagents = home
                .path()
                .join(".gemini/tmp/weather/chats/5f1c2a9b-3d4e-4f60-8a7b-9c0d1e2f3a4b");
            std::fs::remove_dir_all(&subagents).unwrap();
            let path = home.path().join(rel);
            let bytes = std::fs::read(&path).unwrap();
            std::fs::write(&path, b"").unwrap();
            let (source, r) = transcript_source(home.path(), rel);
            let mut held = None;
            let mut written = 0;
            for cut in live::cuts(bytes.len(), 25, &mut rng) {
                live::append(&path, &bytes[written..cut]);
                written = cut;
                let fresh = tempfile::tempdir().unwrap();
                copy_tree(home.path(), fresh.path());
                let Some(want) = load_transcript(fresh.path(), rel) else {
                    continue;
                };
                let at = format!("round {round}, cut at byte {cut} of {}", bytes.len());
                live::check_load(rel, &at, source.as_ref(), &r, &mut held, &mut stats, want);
            }
        }
        assert!(
            stats.partial * 2 > stats.steps,
            "{rel}: too few partial loads: {stats:?}"
        );
    }
}

/// A chat file or transcript given as a path is read whole to be listed,
/// and the load that follows (an export's) is served from that reading:
/// the same session, subagents and project as a load from the store, with
/// the file emptied in between. A later load reads the file again.
#[test]
fn a_file_given_as_a_path_is_read_once_for_its_export() {
    let home = gemini_home();
    let diag = sharegen::diag::Diag::silent();
    let hashed = sha256_hex(LEGACY_PROJECT);
    let whole = format!(".gemini/tmp/{hashed}/chats/session-2024-01-01T10-00-tool_calls.json");
    let agy =
        format!(".gemini/antigravity-cli/brain/{AGY}/.system_generated/logs/transcript_full.jsonl");
    for rel in [
        ".gemini/tmp/weather/chats/session-2026-05-04T14-00-5f1c2a9b.jsonl",
        whole.as_str(),
        agy.as_str(),
    ] {
        let path = home.path().join(rel);
        let (store, r) = transcript_source(home.path(), rel);
        let want = store.load(&r, &diag).unwrap();
        assert!(!want.messages.is_empty(), "{rel}");
        if rel.contains("weather") {
            assert_eq!(want.subagents.len(), 1, "{rel}");
            assert_eq!(want.project.as_deref(), Some("/home/dev/weather"));
        }
        if rel.contains("antigravity-cli") {
            assert_eq!(want.project.as_deref(), Some("/home/dev/tally"));
        }
        let (source, found) = sources::refs_for_path(&path, &diag).unwrap().unwrap();
        let r = sources::SessionRef {
            agent: found[0].agent,
            id: found[0].id.clone(),
            path: path.clone(),
        };
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, b"").unwrap();
        assert_eq!(source.load(&r, &diag).unwrap(), want, "{rel}");
        let again = source.load(&r, &diag);
        assert!(
            again.is_err() || again.is_ok_and(|s| s.messages.is_empty()),
            "{rel}: a second load was served the first reading"
        );
        std::fs::write(&path, bytes).unwrap();
    }
}

/// `watch` finds a share's source at every rebuild: a Gemini `.jsonl` chat
/// and an Antigravity transcript are recognised from their first line and
/// their folder (not read whole), and only for their own session.
#[test]
fn a_shared_chat_file_is_found_for_its_session_only() {
    let home = gemini_home();
    let diag = sharegen::diag::Diag::silent();
    let agy =
        format!(".gemini/antigravity-cli/brain/{AGY}/.system_generated/logs/transcript_full.jsonl");
    for rel in [
        ".gemini/tmp/weather/chats/session-2026-05-04T14-00-5f1c2a9b.jsonl",
        agy.as_str(),
    ] {
        let path = home.path().join(rel);
        let (_, found) = sources::refs_for_path(&path, &diag).unwrap().unwrap();
        let id = &found[0].id;
        let source = sources::source_for_session(&path, id, &diag)
            .unwrap()
            .unwrap_or_else(|| panic!("{rel}: not found for {id}"));
        assert_eq!(source.agent(), found[0].agent, "{rel}");
        let r = sources::SessionRef {
            agent: source.agent(),
            id: id.clone(),
            path: path.clone(),
        };
        assert_eq!(&source.load(&r, &diag).unwrap().id, id, "{rel}");
        assert!(
            sources::source_for_session(&path, "another-session", &diag)
                .unwrap()
                .is_none(),
            "{rel}: found for another session"
        );
    }
}

/// `info`, `error` and `warning` records are notices of their own kinds: a
/// warning is not labelled an error.
#[test]
fn warnings_are_not_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let file = agent_fixtures("gemini").join("system_messages.json");
    let out = run_ok_all(
        tmp.path(),
        &[
            "export",
            file.to_str().unwrap(),
            "--format",
            "json",
            "-o",
            "-",
        ],
    );
    let doc: Value = serde_json::from_str(&out).unwrap();
    let kinds: Vec<&str> = doc["session"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["parts"].as_array().unwrap())
        .filter(|p| p["type"] == "notice")
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["other", "error", "warning"]);
    let page = run_ok_all(tmp.path(), &["export", file.to_str().unwrap(), "-o", "-"]);
    assert!(
        page.contains("<span class=\"nlabel\">Warning</span>"),
        "{page}"
    );
}

/// A prompt recorded with `displayContent` (what the user typed) keeps the
/// image attached to what was sent.
#[test]
fn typed_text_does_not_hide_an_attached_image() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("session-2026-05-01T10-00-a1b2c3d4.jsonl");
    let png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
    std::fs::write(
        &f,
        format!(
            "{}\n{}\n",
            r#"{"sessionId":"a1b2c3d4-0000-4000-8000-000000000001","projectHash":"ab","startTime":"2026-05-01T10:00:00.000Z","lastUpdated":"2026-05-01T10:00:00.000Z","kind":"main"}"#,
            serde_json::json!({
                "id": "u1", "timestamp": "2026-05-01T10:00:01.000Z", "type": "user",
                "content": [{"text": "What is in this picture? (with the file's text expanded)"},
                            {"inlineData": {"mimeType": "image/png", "data": png}}],
                "displayContent": [{"text": "What is in this picture?"}]
            })
        ),
    )
    .unwrap();
    let doc: Value = serde_json::from_str(&export_to(&f, "json")).unwrap();
    let parts = &doc["session"]["messages"][0]["parts"];
    assert_eq!(parts[0]["text"], "What is in this picture?");
    assert_eq!(parts[1]["type"], "file");
    assert_eq!(parts[1]["mime"], "image/png");
    assert_eq!(parts.as_array().unwrap().len(), 2, "{parts:#}");
}
