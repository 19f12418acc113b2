//! Codex CLI: every fixture rollout exported to JSON, HTML and Markdown and
//! checked against an oracle that reads the files with plain serde_json;
//! `list` on a HOME laid out like `~/.codex`; selection; zstd archives;
//! `watch` on a growing rollout; and no panic on damaged input.

mod common;

use common::*;
use proptest::prelude::*;
use serde_json::Value;
use sharegen::sources;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

const MAIN: &str = "0199a8f3-6c1e-7d40-b2a5-3e9f1c7d2a10";
const CHILD: &str = "0199a8f5-1b2c-7e55-8a01-5c4d3e2f1a09";

fn main_fixture() -> PathBuf {
    agent_fixtures("codex").join(format!("sharegen/rollout-2025-11-12T09-00-00-{MAIN}.jsonl"))
}

/// What the oracle expects of one rollout.
#[derive(Debug, Default)]
struct Expected {
    id: String,
    cwd: Option<String>,
    parent: Option<String>,
    prompts: Vec<String>,
    assistant: Vec<String>,
    reasoning: Vec<String>,
    /// (call id, tool name) in file order.
    calls: Vec<(String, String)>,
    /// call id → the output text the model saw.
    outputs: HashMap<String, String>,
    /// input (without cached), output, cached, reasoning.
    tokens: [u64; 4],
}

/// Harness text, by the simplest rule: tagged blocks and AGENTS.md.
fn injected(t: &str) -> bool {
    let t = t.trim();
    t.starts_with('<') || t.starts_with("# AGENTS.md")
}

/// Texts that appear in two streams count as many times as the stream that
/// has them most often.
fn merge(a: Vec<String>, b: Vec<String>) -> Vec<String> {
    let mut count: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for t in a {
        count.entry(t).or_default().0 += 1;
    }
    for t in b {
        count.entry(t).or_default().1 += 1;
    }
    let mut out = Vec::new();
    for (t, (x, y)) in count {
        for _ in 0..x.max(y) {
            out.push(t.clone());
        }
    }
    out
}

fn output_text(o: &Value) -> String {
    match o {
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(v) if v["output"].is_string() => v["output"].as_str().unwrap().to_string(),
            _ => s.clone(),
        },
        Value::Array(items) => items
            .iter()
            .filter_map(|i| i["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        Value::Object(_) => o["text"].as_str().unwrap_or("").to_string(),
        _ => String::new(),
    }
}

fn tokens_of(u: &Value) -> [u64; 4] {
    let n = |k: &str| u[k].as_u64().unwrap_or(0);
    [
        n("input_tokens") - n("cached_input_tokens"),
        n("output_tokens"),
        n("cached_input_tokens"),
        n("reasoning_output_tokens"),
    ]
}

fn expected(path: &Path) -> Expected {
    let mut e = Expected::default();
    let (mut rp, mut ep) = (Vec::new(), Vec::new());
    let (mut ra, mut ea) = (Vec::new(), Vec::new());
    let (mut rr, mut er) = (Vec::new(), Vec::new());
    let mut last_total: Option<[u64; 4]> = None;
    let mut summed = [0u64; 4];
    for v in lines(path) {
        let p = &v["payload"];
        match (v["type"].as_str(), p["type"].as_str()) {
            (Some("session_meta"), _) if e.id.is_empty() => {
                e.id = p["id"].as_str().unwrap_or("").to_string();
                e.cwd = p["cwd"].as_str().map(String::from);
                e.parent = p["source"]["subagent"]["thread_spawn"]["parent_thread_id"]
                    .as_str()
                    .map(String::from);
            }
            (Some("response_item"), Some("message") | None) => {
                let texts: Vec<&str> = p["content"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|i| i["text"].as_str()).collect())
                    .unwrap_or_default();
                match p["role"].as_str() {
                    Some("user") => {
                        let t: Vec<&str> = texts
                            .into_iter()
                            .filter(|t| !injected(t) && !t.trim().is_empty())
                            .map(str::trim)
                            .collect();
                        if !t.is_empty() {
                            rp.push(t.join("\n"));
                        }
                    }
                    Some("assistant") => {
                        ra.extend(texts.into_iter().map(String::from));
                    }
                    _ => {}
                }
            }
            (Some("response_item"), Some("reasoning")) => {
                for s in p["summary"].as_array().into_iter().flatten() {
                    rr.push(s["text"].as_str().unwrap_or("").trim().to_string());
                }
            }
            (Some("response_item"), Some(t)) if t.ends_with("_call") => {
                let id = p["call_id"]
                    .as_str()
                    .or(p["id"].as_str())
                    .unwrap_or("")
                    .to_string();
                let name = match t {
                    "local_shell_call" => "local_shell".to_string(),
                    "web_search_call" => "web_search".to_string(),
                    "tool_search_call" => "tool_search".to_string(),
                    "image_generation_call" => "image_generation".to_string(),
                    "function_call" | "custom_tool_call" => {
                        p["name"].as_str().unwrap_or("").to_string()
                    }
                    _ => continue,
                };
                e.calls.push((id, name));
            }
            (Some("response_item"), Some("function_call_output" | "custom_tool_call_output")) => {
                let id = p["call_id"].as_str().unwrap_or("").to_string();
                e.outputs
                    .entry(id)
                    .or_insert_with(|| output_text(&p["output"]));
            }
            (Some("event_msg"), Some("user_message")) => {
                let m = p["message"].as_str().unwrap_or("");
                if !injected(m) && !m.trim().is_empty() {
                    ep.push(m.trim().to_string());
                }
            }
            (Some("event_msg"), Some("agent_message")) => {
                ea.push(p["message"].as_str().unwrap_or("").to_string());
            }
            (Some("event_msg"), Some("agent_reasoning")) => {
                er.push(p["text"].as_str().unwrap_or("").trim().to_string());
            }
            (Some("event_msg"), Some("token_count")) => {
                let info = &p["info"];
                if info["total_token_usage"].is_object() {
                    last_total = Some(tokens_of(&info["total_token_usage"]));
                } else if info["prompt"].is_u64() {
                    summed[0] += info["prompt"].as_u64().unwrap();
                    summed[1] += info["completion"].as_u64().unwrap_or(0);
                }
            }
            (Some("event_msg"), Some("turn.completed")) if p["usage"].is_object() => {
                for (s, x) in summed.iter_mut().zip(tokens_of(&p["usage"])) {
                    *s += x;
                }
            }
            _ => {}
        }
    }
    e.prompts = merge(rp, ep);
    e.assistant = merge(ra, ea);
    e.reasoning = merge(rr, er);
    e.tokens = last_total.unwrap_or(summed);
    e
}

fn parts<'a>(s: &'a Value, role: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    s["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(move |m| m["role"] == role)
        .flat_map(|m| m["parts"].as_array().unwrap())
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
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

/// Child rollouts of `parent` among the fixtures.
fn children_of(id: &str) -> Vec<PathBuf> {
    codex_fixture_files()
        .into_iter()
        .filter(|f| expected(f).parent.as_deref() == Some(id))
        .collect()
}

/// Markup-free text for comparing what Markdown became in HTML.
fn plain(s: &str) -> String {
    collapse_ws(&s.replace(['`', '*', '>'], " "))
}

fn check_json(file: &Path, s: &Value, e: &Expected) {
    let name = file.display();
    assert_eq!(s["agent"], "codex", "{name}");
    assert_eq!(s["id"], e.id.as_str(), "{name}");
    assert_eq!(s["project"].as_str(), e.cwd.as_deref(), "{name}");
    let user_texts: Vec<String> = parts(s, "user")
        .filter(|p| p["type"] == "text")
        .map(|p| p["text"].as_str().unwrap().trim().to_string())
        .collect();
    assert_eq!(
        sorted(user_texts),
        sorted(e.prompts.clone()),
        "{name}: user prompts"
    );
    let assistant_texts: Vec<String> = parts(s, "assistant")
        .filter(|p| p["type"] == "text")
        .map(|p| p["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        sorted(assistant_texts),
        sorted(e.assistant.clone()),
        "{name}: assistant texts"
    );
    let reasoning: Vec<String> = parts(s, "assistant")
        .filter(|p| p["type"] == "reasoning" && p["state"] == "recorded")
        .flat_map(|p| {
            p["text"]
                .as_str()
                .unwrap()
                .split("\n\n**")
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    for r in &e.reasoning {
        let first = r.split("\n\n**").next().unwrap();
        assert!(
            reasoning
                .iter()
                .any(|x| x.contains(first.trim_start_matches("**"))),
            "{name}: reasoning missing: {r:?}"
        );
    }
    let calls = calls_of(s);
    let mut got: Vec<(String, String)> = calls
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut want = e.calls.clone();
    // Results whose call is not in the file stand alone as `unknown` calls.
    got.retain(|(id, n)| n != "unknown" || want.iter().any(|(w, _)| w == id));
    got.sort();
    want.sort();
    assert_eq!(got, want, "{name}: tool calls");
    for (id, out) in &e.outputs {
        let Some(c) = calls.iter().find(|c| c["id"] == id.as_str()) else {
            continue;
        };
        assert_eq!(
            c["output"].as_str(),
            Some(out.as_str()),
            "{name}: output of {id}"
        );
        assert_ne!(c["status"], "pending", "{name}: status of {id}");
    }
    let t = &s["totals"];
    let got = [
        t["input"].as_u64().unwrap(),
        t["output"].as_u64().unwrap(),
        t["cache_read"].as_u64().unwrap(),
        t["reasoning"].as_u64().unwrap_or(0),
    ];
    assert_eq!(got, e.tokens, "{name}: token totals");
}

#[test]
fn every_fixture_exports_completely_in_every_format() {
    let files = codex_fixture_files();
    assert!(files.len() >= 12, "{files:?}");
    let mut checked_calls = 0;
    for file in &files {
        let e = expected(file);
        assert!(!e.id.is_empty(), "{}: no session_meta", file.display());
        // JSON: the model, against the oracle.
        let doc: Value = serde_json::from_str(&export_to(file, "json")).unwrap();
        assert_eq!(doc["schema_version"], 1);
        let s = &doc["session"];
        check_json(file, s, &e);
        checked_calls += e.calls.len();
        // The JSON reads back into the documented model.
        let back: sharegen::model::ExportDocument = serde_json::from_value(doc.clone()).unwrap();
        assert_eq!(serde_json::to_value(&back).unwrap(), doc);

        let children: Vec<Expected> = children_of(&e.id).iter().map(|f| expected(f)).collect();
        // HTML: every prompt and assistant text is on the page, and every
        // call (with the subagents' ones nested) is a tool block.
        let page = export_to(file, "html");
        let text = plain(&html_text(&page));
        for t in e.prompts.iter().chain(&e.assistant) {
            assert!(
                text.contains(&plain(t)),
                "{}: missing from HTML: {t:?}",
                file.display()
            );
        }
        let doc_html = scraper::Html::parse_document(&page);
        let tools = doc_html
            .select(&scraper::Selector::parse("details.tool").unwrap())
            .count();
        let want = e.calls.len()
            + children.iter().map(|c| c.calls.len()).sum::<usize>()
            + calls_of(s)
                .iter()
                .filter(|c| c["name"] == "unknown")
                .count();
        assert_eq!(tools, want, "{}: tool blocks in HTML", file.display());
        // Markdown: prompts and texts verbatim, one block per call.
        let md = export_to(file, "md");
        for t in e.prompts.iter().chain(&e.assistant) {
            assert!(
                md.contains(t.trim_end()),
                "{}: missing from Markdown: {t:?}",
                file.display()
            );
        }
        let mut per_name: HashMap<&str, usize> = HashMap::new();
        for (_, n) in e.calls.iter().chain(children.iter().flat_map(|c| &c.calls)) {
            *per_name.entry(n.as_str()).or_default() += 1;
        }
        for (n, k) in per_name {
            let found = md.matches(&format!("<details><summary>{n}")).count();
            assert!(
                found >= k,
                "{}: {k} `{n}` calls, {found} in Markdown",
                file.display()
            );
        }
    }
    assert!(checked_calls >= 12, "only {checked_calls} calls checked");
}

fn list(home: &Path, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["list", "--json"];
    args.extend_from_slice(extra);
    serde_json::from_str(&run_ok_all(home, &args)).unwrap()
}

#[test]
fn list_shows_every_rollout_with_its_fields() {
    let home = codex_home();
    let rows = list(home.path(), &[]);
    let mut want: Vec<String> = codex_fixture_files()
        .iter()
        .map(|f| expected(f))
        .filter(|e| e.parent.is_none())
        .map(|e| e.id)
        .collect();
    want.sort();
    let mut got: Vec<String> = rows
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    got.sort();
    assert_eq!(got, want, "subagents fold into their parent");
    for r in &rows {
        assert_eq!(r["agent"], "codex");
        let path = Path::new(r["path"].as_str().unwrap());
        let e = expected(path);
        assert_eq!(r["project"].as_str(), e.cwd.as_deref(), "{r}");
        assert_eq!(r["share_id"].as_str().unwrap().len(), 10);
        assert!(r["updated"].is_string() && r["created"].is_string(), "{r}");
        // The listing's counts and title agree with the full read.
        let doc: Value = serde_json::from_str(&export_to(path, "json")).unwrap();
        let s = &doc["session"];
        let n = s["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["role"] == "user" || m["role"] == "assistant")
            .count() as u64;
        assert_eq!(
            r["messages"].as_u64().unwrap(),
            n,
            "messages of {}",
            r["id"]
        );
        assert!(n as usize >= e.prompts.len());
        assert_eq!(r["title"], s["title"], "title of {}", r["id"]);
    }
    let main = rows.iter().find(|r| r["id"] == MAIN).unwrap();
    assert_eq!(main["title"], "Fix count_lines off-by-one");
    assert_eq!(main["subagents"], 1);
    assert_eq!(main["project"], "/home/dev/tally");
    let standard = rows.iter().find(|r| r["id"] == "abc-123").unwrap();
    assert_eq!(standard["title"], "Add rate limiting");
    assert_eq!(standard["messages"], 2);

    // --agent filters; the other agents' stores are absent here.
    assert_eq!(list(home.path(), &["--agent", "codex"]).len(), rows.len());
    assert!(list(home.path(), &["--agent", "gemini"]).is_empty());
    let out = sharegen_all(home.path())
        .args(["list", "--agent", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("codex, gemini"));

    // A second listing comes from the cache and says the same.
    assert_eq!(list(home.path(), &[]), rows);
    assert!(home.path().join("sg/cache/codex-list.json").is_file());
}

#[test]
fn codex_home_moves_with_the_environment() {
    let home = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    place_rollout(elsewhere.path(), &main_fixture());
    let out = sharegen_all(home.path())
        .env("CODEX_HOME", elsewhere.path())
        .args(["list", "--json"])
        .output()
        .unwrap();
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["id"], MAIN);
    // Without it, ~/.codex (empty here) is used.
    assert!(list(home.path(), &[]).is_empty());
}

#[test]
fn selection_by_id_prefix_path_and_latest() {
    let home = codex_home();
    let export = |q: &str| -> Value {
        let out = run_ok_all(home.path(), &["export", q, "--format", "json", "-o", "-"]);
        serde_json::from_str::<Value>(&out).unwrap()["session"].clone()
    };
    assert_eq!(export(MAIN)["id"], MAIN);
    assert_eq!(export("0199a8f3")["id"], MAIN);
    // The newest session: the blockquotes fixture, from 2026.
    assert_eq!(export("latest")["id"], "quote-123");
    let path = walkdir::WalkDir::new(home.path().join(".codex"))
        .into_iter()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().contains(MAIN))
        .unwrap()
        .into_path();
    let s = export(path.to_str().unwrap());
    assert_eq!(s["id"], MAIN);
    assert_eq!(s["subagents"][0]["session"]["id"], CHILD);
    // The Codex home itself, as a path, lists its sessions.
    let out = sharegen_all(home.path())
        .args(["export", "-o", "-"])
        .arg(home.path().join(".codex"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "several sessions: ambiguous");
    assert!(String::from_utf8_lossy(&out.stderr).contains(MAIN));
}

#[test]
fn the_rich_session_keeps_every_kind_of_record() {
    let out = sharegen_all(tempfile::tempdir().unwrap().path())
        .args(["export", "--format", "json", "-o", "-"])
        .arg(main_fixture())
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let file = main_fixture()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_string();
    assert!(
        stderr.contains(&format!(
            "{file}:48: unknown line type `line:hologram_record`"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{file}:49: unknown response item")),
        "{stderr}"
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &doc["session"];
    assert_eq!(s["git_branch"], "main");
    assert_eq!(s["agent_version"], "0.58.0");
    assert_eq!(s["models"], serde_json::json!(["gpt-5.1-codex"]));
    assert_eq!(s["created"], "2025-11-12T09:00:00Z");
    let msgs = s["messages"].as_array().unwrap();
    // Injected context: notices, not prompts.
    let notices: Vec<(&str, &str)> = msgs
        .iter()
        .flat_map(|m| m["parts"].as_array().unwrap())
        .filter(|p| p["type"] == "notice")
        .map(|p| (p["kind"].as_str().unwrap(), p["text"].as_str().unwrap()))
        .collect();
    let has = |kind: &str, start: &str| {
        notices
            .iter()
            .any(|(k, t)| *k == kind && t.starts_with(start))
    };
    assert!(has("injected", "<permissions instructions>"), "{notices:?}");
    assert!(has("injected", "# AGENTS.md instructions"), "{notices:?}");
    assert!(has("injected", "<environment_context>"), "{notices:?}");
    assert!(has("shell", "<user_shell_command>"), "{notices:?}");
    assert!(
        has("interrupted", "Turn aborted: interrupted"),
        "{notices:?}"
    );
    // Reasoning: one summary, one encrypted block shown as redacted.
    let states: Vec<&str> = msgs
        .iter()
        .flat_map(|m| m["parts"].as_array().unwrap())
        .filter(|p| p["type"] == "reasoning")
        .map(|p| p["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, vec!["recorded", "redacted"]);
    // Tokens: the duplicate count is ignored; turns carry their sums.
    let usages: Vec<&Value> = msgs
        .iter()
        .filter(|m| m["role"] == "assistant")
        .filter_map(|m| m.get("usage"))
        .collect();
    assert_eq!(usages.len(), 2, "{usages:?}");
    assert_eq!(usages[0]["input"], 8200 + 9200 - 8064);
    assert_eq!(usages[0]["output"], 310 + 380);
    assert_eq!(usages[1]["output"], 215);
    assert_eq!(s["totals"]["input"], 26900 - 16128);
    assert_eq!(s["totals"]["cache_read"], 16128);
    assert_eq!(s["totals"]["reasoning"], 448);
    // Calls: results, exit codes, durations, diffs from the patch event.
    let calls: HashMap<String, Value> = calls_of(s)
        .into_iter()
        .map(|c| (c["id"].as_str().unwrap().to_string(), c))
        .collect();
    let a1 = &calls["call_A1"];
    assert_eq!(a1["input"]["command"][2], "sed -n 1,20p src/lib.rs");
    assert_eq!(a1["extras"]["exit_code"], 0);
    assert_eq!(a1["status"], "completed");
    let a2 = &calls["call_A2"];
    assert_eq!(a2["name"], "apply_patch");
    let diffs = a2["extras"]["diffs"].as_array().unwrap();
    assert_eq!(diffs.len(), 2);
    assert_eq!(diffs[0]["path"], "/home/dev/tally/src/lib.rs");
    assert_eq!(diffs[0]["hunks"][0]["old_start"], 1);
    assert_eq!(diffs[1]["status"], "added");
    let a3 = &calls["call_A3"];
    assert_eq!(a3["status"], "error");
    assert_eq!(a3["extras"]["exit_code"], 101);
    assert_eq!(a3["duration_ms"], 4200);
    let b1 = &calls["call_B1"];
    assert_eq!(
        b1["input"]["cmd"],
        "sed -i 's/use tally::/use tally_core::/' tests/count.rs && cargo test -q"
    );
    assert_eq!(b1["extras"]["exit_code"], 0);
    assert!(
        calls["ws_01"]["output"]
            .as_str()
            .unwrap()
            .contains("https://docs.rs/clap")
    );
    assert_eq!(calls["call_B0"]["extras"]["child_session"], CHILD);
    // The subagent hangs off its spawn call.
    let sub = &s["subagents"][0];
    assert_eq!(sub["tool_call_id"], "call_B0");
    assert_eq!(sub["agent_type"], "explorer");
    assert_eq!(sub["session"]["models"][0], "gpt-5.1-codex-mini");
    // One compaction marker (the record and its event are one compaction),
    // and the records from the future are kept.
    let kinds: Vec<&str> = msgs
        .iter()
        .flat_map(|m| m["parts"].as_array().unwrap())
        .map(|p| p["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == "compaction").count(), 1);
    assert_eq!(kinds.iter().filter(|k| **k == "unknown").count(), 2);

    // The page shows the diff table and hides nothing it should show.
    let page = export_to(&main_fixture(), "html");
    let html = scraper::Html::parse_document(&page);
    let sel = |s: &str| scraper::Selector::parse(s).unwrap();
    assert_eq!(html.select(&sel("details.k-patch .file-diff")).count(), 2);
    assert!(html.select(&sel(".reasoning.marker")).count() >= 1);
    assert!(page.contains("Codex CLI"));
}

fn rollout(lines: &[Value]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

#[test]
fn patches_without_events_become_diffs_from_the_envelope() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("rollout-2025-01-01T00-00-00-p.jsonl");
    let patch = "*** Begin Patch\n*** Update File: a.py\n@@ def f():\n-    return 1\n+    return 2\n*** Add File: b.txt\n+hello\n*** End Patch";
    let heredoc = format!("apply_patch <<'EOF'\n{patch}\nEOF\n");
    let ts = "2025-01-01T00:00:00Z";
    let text = rollout(&[
        serde_json::json!({"timestamp":ts,"type":"session_meta","payload":{"id":"p","cwd":"/w"}}),
        serde_json::json!({"timestamp":ts,"type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_text","text":"patch it"}]}}),
        serde_json::json!({"timestamp":ts,"type":"response_item","payload":{"type":"function_call","name":"apply_patch","call_id":"c1","arguments":serde_json::json!({"input":patch}).to_string()}}),
        serde_json::json!({"timestamp":ts,"type":"response_item","payload":{"type":"function_call_output","call_id":"c1","output":"Done!"}}),
        serde_json::json!({"timestamp":ts,"type":"response_item","payload":{"type":"function_call","name":"shell","call_id":"c2","arguments":serde_json::json!({"command":["apply_patch", patch]}).to_string()}}),
        serde_json::json!({"timestamp":ts,"type":"response_item","payload":{"type":"local_shell_call","call_id":"c3","status":"completed","action":{"type":"exec","command":["bash","-lc",heredoc]}}}),
        serde_json::json!({"timestamp":ts,"type":"response_item","payload":{"type":"function_call_output","call_id":"c3","output":"Done!"}}),
    ]);
    std::fs::write(&f, text).unwrap();
    let doc: Value = serde_json::from_str(&export_to(&f, "json")).unwrap();
    let calls = calls_of(&doc["session"]);
    assert_eq!(calls.len(), 3);
    for c in &calls {
        let d = c["extras"]["diffs"]
            .as_array()
            .unwrap_or_else(|| panic!("{c}"));
        assert_eq!(d.len(), 2, "{c}");
        assert_eq!(d[0]["path"], "a.py");
        assert_eq!(
            d[0]["hunks"][0]["lines"],
            serde_json::json!(["-    return 1", "+    return 2"])
        );
        assert_eq!(d[0]["hunks"][0]["old_start"], 0, "position not recorded");
        assert_eq!(d[1]["status"], "added");
    }
    assert_eq!(calls[1]["status"], "pending");
    let page = export_to(&f, "html");
    let html = scraper::Html::parse_document(&page);
    let sel = scraper::Selector::parse(".file-diff").unwrap();
    assert_eq!(html.select(&sel).count(), 6, "every call shows its files");
    assert!(!page.contains("@@ -0"));
}

#[test]
fn zstd_archives_read_like_their_plain_twin() {
    let plain_home = tempfile::tempdir().unwrap();
    let plain_file = place_rollout(&plain_home.path().join(".codex"), &main_fixture());
    let zst_home = tempfile::tempdir().unwrap();
    let dir = zst_home.path().join(".codex/archived_sessions/2025/11/12");
    std::fs::create_dir_all(&dir).unwrap();
    let name = format!("{}.zst", plain_file.file_name().unwrap().to_string_lossy());
    let bytes = std::fs::read(main_fixture()).unwrap();
    let compressed = zstd::encode_all(&bytes[..], 3).unwrap();
    assert!(compressed.len() < bytes.len());
    std::fs::write(dir.join(&name), &compressed).unwrap();

    let a = list(plain_home.path(), &[]);
    let b = list(zst_home.path(), &[]);
    assert_eq!(a.len(), 1);
    assert_eq!(b.len(), 1);
    for k in [
        "id", "title", "project", "created", "updated", "messages", "share_id",
    ] {
        assert_eq!(a[0][k], b[0][k], "{k}");
    }
    assert!(b[0]["path"].as_str().unwrap().ends_with(".jsonl.zst"));
    let export = |home: &Path| -> Value {
        let out = run_ok_all(home, &["export", MAIN, "--format", "json", "-o", "-"]);
        let mut v: Value = serde_json::from_str(&out).unwrap();
        v["session"]["source_paths"] = Value::Null;
        v
    };
    assert_eq!(export(plain_home.path()), export(zst_home.path()));
    // The archive as a path, too.
    let doc: Value = serde_json::from_str(&export_to(&dir.join(&name), "json")).unwrap();
    assert_eq!(doc["session"]["id"], MAIN);

    // A resumed archive is expanded beside it: listed once, from the .jsonl.
    std::fs::write(dir.join(name.trim_end_matches(".zst")), &bytes).unwrap();
    let c = list(zst_home.path(), &[]);
    assert_eq!(c.len(), 1);
    assert!(c[0]["path"].as_str().unwrap().ends_with(".jsonl"));
}

#[test]
fn sharegen_never_writes_into_the_codex_home() {
    let home = codex_home();
    let store = home.path().join(".codex");
    let before = snapshot(&store);
    run_ok_all(home.path(), &["list"]);
    run_ok_all(home.path(), &["export", MAIN, "-o", "-"]);
    run_ok_all(home.path(), &["share", MAIN, "--yes"]);
    run_ok_all(home.path(), &["build"]);
    assert_eq!(before, snapshot(&store));
}

#[test]
fn watch_follows_appends_to_a_shared_rollout() {
    let home = tempfile::tempdir().unwrap();
    let file = place_rollout(&home.path().join(".codex"), &main_fixture());
    let out = run_ok_all(home.path(), &["share", MAIN, "--yes"]);
    let id = out.split('\t').next().unwrap().to_string();
    let (_watch, log) = start_watch(home.path(), true);
    let page = || {
        std::fs::read_to_string(home.path().join(format!("sg/site/s/{id}/index.html")))
            .unwrap_or_default()
    };
    wait_until("the first build", || page().contains("<main"));
    // Changes count once the watches are in place.
    wait_until("the watches", || {
        std::fs::read_to_string(&log).is_ok_and(|l| l.contains("watching for changes"))
    });
    assert!(page().contains("Fix count_lines off-by-one"));

    // Codex appends a turn: the event, the item, the answer.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&file)
        .unwrap();
    let ts = "2025-11-12T10:00:00.000Z";
    for l in [
        serde_json::json!({"timestamp":ts,"type":"event_msg","payload":{"type":"user_message","message":"Appended while watching: pelicans","images":[]}}),
        serde_json::json!({"timestamp":ts,"type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_text","text":"Appended while watching: pelicans"}]}}),
    ] {
        writeln!(f, "{l}").unwrap();
    }
    f.flush().unwrap();
    wait_until("the appended prompt", || page().contains("pelicans"));
    // A line written in two pieces shows once it is whole.
    let answer = serde_json::json!({"timestamp":ts,"type":"response_item","payload":{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Flamingos are pink."}]}}).to_string();
    let (a, b) = answer.split_at(answer.len() / 2);
    write!(f, "{a}").unwrap();
    f.flush().unwrap();
    std::thread::sleep(Duration::from_millis(600));
    assert!(!page().contains("Flamingos"));
    writeln!(f, "{b}").unwrap();
    f.flush().unwrap();
    wait_until("the completed line", || {
        page().contains("Flamingos are pink.")
    });
    // Once, though Codex recorded it twice (event and item).
    let html = scraper::Html::parse_document(&page());
    let prompts = html
        .select(&scraper::Selector::parse("article.msg.user").unwrap())
        .filter(|a| a.text().collect::<String>().contains("pelicans"))
        .count();
    assert_eq!(prompts, 1);
}

// ---- Damaged input --------------------------------------------------------

/// Lists a store holding `bytes` as its one rollout and loads whatever it
/// finds, both through the store and by path; returns the sessions found.
/// Where both succeed, the listing's counts match the full read.
fn exercise(bytes: &[u8], zst: bool) -> usize {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sessions/2025/01/01");
    std::fs::create_dir_all(&dir).unwrap();
    let name = if zst {
        "rollout-2025-01-01T00-00-00-x.jsonl.zst"
    } else {
        "rollout-2025-01-01T00-00-00-x.jsonl"
    };
    let file = dir.join(name);
    std::fs::write(&file, bytes).unwrap();
    exercise_store(&sources::codex::Codex::new(tmp.path().to_path_buf()), &file)
}

#[test]
fn truncated_and_corrupted_rollouts_do_not_panic() {
    let mut rng = Lcg(0xc0de);
    let mut loaded = 0;
    for f in codex_fixture_files() {
        let bytes = std::fs::read(&f).unwrap();
        loaded += exercise(&bytes, false);
        let compressed = zstd::encode_all(&bytes[..], 3).unwrap();
        assert_eq!(exercise(&compressed, true), 1, "{}", f.display());
        for _ in 0..6 {
            let cut = (rng.next() as usize) % bytes.len().max(1);
            exercise(&bytes[..cut], false);
            let zcut = (rng.next() as usize) % compressed.len();
            exercise(&compressed[..zcut], true);
            // A few flipped bytes.
            let mut bad = bytes.clone();
            for _ in 0..4 {
                let i = (rng.next() as usize) % bad.len();
                bad[i] = rng.next() as u8;
            }
            exercise(&bad, false);
        }
    }
    assert!(loaded >= 12);
}

#[test]
fn random_bytes_after_a_valid_header_do_not_panic() {
    let mut rng = Lcg(7);
    let head = b"{\"timestamp\":\"2025-01-01T00:00:00Z\",\"type\":\"session_meta\",\"payload\":{\"id\":\"r\",\"cwd\":\"/\"}}\n";
    for i in 0..150 {
        let len = (rng.next() % 2048) as usize;
        let mut bytes = head.to_vec();
        bytes.extend((0..len).map(|_| rng.next() as u8));
        exercise(&bytes, false);
        if i % 10 == 0 {
            exercise(&bytes, true);
        }
    }
}

/// Rollout lines with the documented kinds and fields of random types.
fn arb_line() -> impl Strategy<Value = String> {
    let val = prop_oneof![
        Just("null".to_string()),
        Just("7".to_string()),
        Just("-1".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        Just("\"\"".to_string()),
        "\"[a-z<>_ \\\\u{d800}]{0,10}\"".prop_map(|s| s),
        Just(r#""{\"command\":[\"ls\"]}""#.to_string()),
        Just(r#""{\"output\":\"x\",\"metadata\":{\"exit_code\":3}}""#.to_string()),
        Just(r#"[{"type":"input_text","text":"hi"},{"type":"input_image","image_url":"data:image/png;base64,AA=="}]"#.to_string()),
        Just(r#"[{"type":"output_text","text":"hi"}]"#.to_string()),
        Just(r#""*** Begin Patch\n*** Update File: a\n@@\n-x\n+y\n*** End Patch""#.to_string()),
        Just(r#"{"total_token_usage":{"input_tokens":5,"cached_input_tokens":9,"output_tokens":1},"last_token_usage":{"input_tokens":5}}"#.to_string()),
        Just(r#"{"/a":{"type":"update","unified_diff":"@@ -1 +1 @@\n-a\n+b"},"/b":{"type":"add"}}"#.to_string()),
        Just(r#"{"Ok":{"content":[{"type":"text","text":"ok"}]}}"#.to_string()),
    ];
    let kind = prop_oneof![
        Just("session_meta"),
        Just("response_item"),
        Just("response_item"),
        Just("event_msg"),
        Just("event_msg"),
        Just("turn_context"),
        Just("compacted"),
        Just("world_state"),
        Just("what"),
    ];
    let ptype = prop_oneof![
        Just("message"),
        Just("reasoning"),
        Just("function_call"),
        Just("function_call_output"),
        Just("custom_tool_call"),
        Just("custom_tool_call_output"),
        Just("local_shell_call"),
        Just("web_search_call"),
        Just("user_message"),
        Just("agent_message"),
        Just("agent_reasoning"),
        Just("token_count"),
        Just("exec_command_end"),
        Just("patch_apply_end"),
        Just("mcp_tool_call_end"),
        Just("web_search_end"),
        Just("task_started"),
        Just("task_complete"),
        Just("turn_aborted"),
        Just("context_compacted"),
        Just("thread_name_updated"),
        Just("brand_new"),
    ];
    let role = prop_oneof![Just("user"), Just("assistant"), Just("developer")];
    (
        kind,
        ptype,
        role,
        val.clone(),
        val.clone(),
        val.clone(),
        val,
        0u8..3,
    )
        .prop_map(|(kind, ptype, role, a, b, c, d, call)| {
            format!(
                r#"{{"timestamp":"2025-01-01T00:00:0{call}Z","type":"{kind}","payload":{{"type":"{ptype}","role":"{role}","call_id":"c{call}","id":"c{call}","name":"shell","content":{a},"arguments":{b},"output":{c},"input":{b},"message":{b},"text":{b},"summary":{a},"encrypted_content":{b},"info":{d},"changes":{d},"result":{d},"exit_code":{c},"model":{b},"cwd":{b},"action":{d},"command":{a},"status":{b}}}}}"#
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn arbitrary_records_never_panic_and_list_like_they_load(
        lines in proptest::collection::vec(arb_line(), 0..14)
    ) {
        exercise(lines.join("\n").as_bytes(), false);
    }
}

#[test]
fn a_subagent_filed_under_the_next_day_still_belongs_to_its_parent() {
    let home = tempfile::tempdir().unwrap();
    let codex = home.path().join(".codex");
    place_rollout(&codex, &main_fixture());
    let child = agent_fixtures("codex").join(format!(
        "sharegen/rollout-2025-11-12T09-01-02-{CHILD}.jsonl"
    ));
    // Folders are named in local time: near midnight a child can land in
    // the next day's folder.
    let dir = codex.join("sessions/2025/11/13");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(&child, dir.join(child.file_name().unwrap())).unwrap();
    let rows = list(home.path(), &[]);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["subagents"], 1);
    let out = run_ok_all(
        home.path(),
        &["export", MAIN, "--format", "json", "-o", "-"],
    );
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["session"]["subagents"][0]["session"]["id"], CHILD);
    // The subagent's rollout is among the page's sources (for `watch`).
    let sub_paths = &doc["session"]["subagents"][0]["session"]["source_paths"];
    assert!(sub_paths[0].as_str().unwrap().contains("2025/11/13"));
}

/// A patch Codex could not apply (its answer: "apply_patch verification
/// failed: …", with no exit code) is a failed call, and the page says its
/// diff may not have been made; Markdown keeps the reason.
#[test]
fn a_patch_codex_refused_is_a_failed_call() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp
        .path()
        .join("rollout-2026-01-05T10-00-00-0199a1b2-0000-7000-8000-000000000001.jsonl");
    let lines = [
        r#"{"timestamp":"2026-01-05T10:00:00.000Z","type":"session_meta","payload":{"id":"0199a1b2-0000-7000-8000-000000000001","timestamp":"2026-01-05T10:00:00.000Z","cwd":"/w","originator":"codex_cli_rs","cli_version":"0.80.0"}}"#,
        r#"{"timestamp":"2026-01-05T10:00:02.000Z","type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_text","text":"patch it"}]}}"#,
        r#"{"timestamp":"2026-01-05T10:00:03.000Z","type":"response_item","payload":{"type":"custom_tool_call","status":"completed","call_id":"A","name":"apply_patch","input":"*** Begin Patch\n*** Update File: a.txt\n@@\n-OLD_A\n+NEW_A\n*** End Patch"}}"#,
        r#"{"timestamp":"2026-01-05T10:00:04.000Z","type":"response_item","payload":{"type":"custom_tool_call_output","call_id":"A","output":"apply_patch verification failed: Failed to find expected lines in a.txt"}}"#,
        r#"{"timestamp":"2026-01-05T10:00:05.000Z","type":"response_item","payload":{"type":"function_call","name":"shell","arguments":"{\"command\":[\"grep\",\"-r\",\"a b\",\".\"]}","call_id":"B"}}"#,
        r#"{"timestamp":"2026-01-05T10:00:06.000Z","type":"response_item","payload":{"type":"function_call_output","call_id":"B","output":"{\"output\":\"apply_patch verification failed: quoted from a log\",\"metadata\":{\"exit_code\":0,\"duration_seconds\":0.1}}"}}"#,
    ];
    std::fs::write(&f, lines.join("\n") + "\n").unwrap();
    let doc: Value = serde_json::from_str(&export_to(&f, "json")).unwrap();
    let calls = calls_of(&doc["session"]);
    assert_eq!(calls[0]["status"], "error", "{calls:#?}");
    // The same words in another command's output are just text.
    assert_eq!(calls[1]["status"], "completed");
    let page = export_to(&f, "html");
    assert!(
        page.contains(
            "This edit failed (see its output): the changes shown may not have been made."
        )
    );
    let md = export_to(&f, "md");
    assert!(
        md.contains("apply_patch: <code>a.txt</code> (error)"),
        "{md}"
    );
    assert!(
        md.contains("apply_patch verification failed: Failed to find expected lines"),
        "{md}"
    );
    // An argument list shows as a shell would read it.
    assert!(md.contains("$ grep -r 'a b' ."), "{md}");
    assert!(html_text(&page).contains("grep -r 'a b' ."));
}

/// A rate limit says when it lifts: why the session stopped, and until when.
#[test]
fn a_rate_limit_says_when_it_lifts() {
    let f = Path::new("tests/fixtures/codex/codex_053_rate_limit.jsonl");
    let doc: Value = serde_json::from_str(&export_to(f, "json")).unwrap();
    let notices: Vec<String> = doc["session"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["parts"].as_array().unwrap())
        .filter(|p| p["kind"] == "error")
        .map(|p| p["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        notices,
        ["Rate limit exceeded (resets at 2025-10-31 13:05 UTC)"]
    );
}
