//! Claude Code: `export --format json` against the real fixtures, checked by
//! an oracle that reads the fixture files on its own (plain serde_json, no
//! sharegen code), and `list` against a HOME laid out like the real store.

mod common;

use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// What the oracle expects of one transcript file.
#[derive(Default, Debug)]
struct Expected {
    prompts: Vec<String>,
    assistant_texts: Vec<String>,
    thinking: Vec<String>,
    /// tool_use id → (name, result text if any, is_error)
    calls: BTreeMap<String, (String, Option<(String, bool)>)>,
    tokens: [u64; 4],
}

fn expected(path: &Path, only_sidechain: Option<bool>) -> Expected {
    let mut e = Expected::default();
    let all = lines(path);
    let mut usage: HashMap<String, [u64; 4]> = HashMap::new();
    let mut seen_uuid: HashMap<String, Value> = HashMap::new();
    for v in &all {
        if let Some(want) = only_sidechain
            && v["isSidechain"].as_bool().unwrap_or(false) != want
        {
            continue;
        }
        // A uuid written again with the same message is a re-write.
        if let Some(u) = v["uuid"].as_str() {
            match seen_uuid.get(u) {
                Some(m) if *m == v["message"] => continue,
                Some(_) => {}
                None => {
                    seen_uuid.insert(u.to_string(), v["message"].clone());
                }
            }
        }
        let content = &v["message"]["content"];
        match role_of(v) {
            "user" => {
                let meta = v["isMeta"].as_bool().unwrap_or(false);
                let mut texts = Vec::new();
                match content {
                    Value::String(s) => texts.push(s.clone()),
                    Value::Array(blocks) => {
                        for b in blocks {
                            if b["type"] == "text" {
                                texts.push(b["text"].as_str().unwrap_or("").to_string());
                            }
                            if b["type"] == "tool_result" {
                                let id = b["tool_use_id"].as_str().unwrap_or("").to_string();
                                let err = b["is_error"].as_bool().unwrap_or(false);
                                // An error's <tool_use_error> wrapper is dropped.
                                let mut text = result_text(&b["content"]);
                                if err
                                    && let Some(inner) = text
                                        .trim()
                                        .strip_prefix("<tool_use_error>")
                                        .and_then(|s| s.strip_suffix("</tool_use_error>"))
                                {
                                    text = inner.trim().to_string();
                                }
                                e.calls.entry(id).or_insert((String::new(), None)).1 =
                                    Some((text, err));
                            }
                        }
                    }
                    _ => {}
                }
                if !meta {
                    e.prompts
                        .extend(texts.into_iter().filter(|t| !t.trim().is_empty()));
                }
            }
            "assistant" => {
                if let Value::Array(blocks) = content {
                    for b in blocks {
                        match b["type"].as_str() {
                            Some("text") if !b["text"].as_str().unwrap_or("").is_empty() => e
                                .assistant_texts
                                .push(b["text"].as_str().unwrap().to_string()),
                            Some("thinking")
                                if !b["thinking"].as_str().unwrap_or("").trim().is_empty() =>
                            {
                                e.thinking.push(b["thinking"].as_str().unwrap().to_string())
                            }
                            Some("tool_use") => {
                                let id = b["id"].as_str().unwrap_or("").to_string();
                                e.calls.entry(id).or_insert((String::new(), None)).0 =
                                    b["name"].as_str().unwrap_or("").to_string();
                            }
                            _ => {}
                        }
                    }
                }
                let key = v["requestId"].as_str().or(v["message"]["id"].as_str());
                let u = &v["message"]["usage"];
                if let (Some(k), true) = (key, u.is_object()) {
                    let now = [
                        u["input_tokens"].as_u64().unwrap_or(0),
                        u["output_tokens"].as_u64().unwrap_or(0),
                        u["cache_read_input_tokens"].as_u64().unwrap_or(0),
                        u["cache_creation_input_tokens"].as_u64().unwrap_or(0),
                    ];
                    let slot = usage.entry(k.to_string()).or_insert([0; 4]);
                    for i in 0..4 {
                        // Streaming lines repeat usage with growing counts:
                        // a request counts once, at its largest.
                        slot[i] = slot[i].max(now[i]);
                    }
                }
            }
            _ => {}
        }
    }
    for u in usage.values() {
        for (total, v) in e.tokens.iter_mut().zip(u) {
            *total += v;
        }
    }
    // Results without a call in this file are not calls of this session.
    e.calls.retain(|_, (name, _)| !name.is_empty());
    e
}

/// Every text-bearing string in a session's own messages.
fn texts_of(session: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for m in session["messages"].as_array().unwrap() {
        for p in m["parts"].as_array().unwrap() {
            for k in ["text", "summary"] {
                if let Some(t) = p[k].as_str() {
                    out.push(t.to_string());
                }
            }
            if p["type"] == "unknown" {
                out.push(p["raw"].to_string());
            }
        }
    }
    out
}

fn calls_of(session: &Value) -> HashMap<String, Value> {
    let mut out = HashMap::new();
    for m in session["messages"].as_array().unwrap() {
        for p in m["parts"].as_array().unwrap() {
            if p["type"] == "tool_call" {
                out.insert(p["id"].as_str().unwrap().to_string(), p.clone());
            }
        }
    }
    out
}

fn check_session(file: &Path, session: &Value, only_sidechain: Option<bool>) {
    let e = expected(file, only_sidechain);
    let texts = texts_of(session);
    let hay = texts.join("\n");
    for p in &e.prompts {
        for line in p.lines().map(str::trim).filter(|l| !l.is_empty()) {
            // Markup tags are split off; the words inside stay.
            let words = line.trim_start_matches(|c| c != '>' && line.starts_with('<'));
            let words = words.trim_start_matches('>');
            let probe: String = words.chars().take(60).collect();
            let probe = probe.split('<').next().unwrap_or("").trim();
            if probe.is_empty() {
                continue;
            }
            assert!(
                hay.contains(probe),
                "{}: prompt line missing from export: {probe:?}",
                file.display()
            );
        }
    }
    for t in &e.assistant_texts {
        assert!(
            texts.iter().any(|x| x == t),
            "{}: assistant text missing: {:?}",
            file.display(),
            t.chars().take(80).collect::<String>()
        );
    }
    for t in &e.thinking {
        assert!(
            texts.iter().any(|x| x == t),
            "{}: thinking missing",
            file.display()
        );
    }
    let calls = calls_of(session);
    for (id, (name, result)) in &e.calls {
        let c = calls
            .get(id)
            .unwrap_or_else(|| panic!("{}: tool call {id} ({name}) missing", file.display()));
        assert_eq!(
            c["name"],
            name.as_str(),
            "{}: tool name of {id}",
            file.display()
        );
        match result {
            Some((text, err)) => {
                let output = c["output"].as_str().unwrap_or("");
                assert!(
                    output == text || output.contains(text.as_str()),
                    "{}: output of {id}: {output:?} vs {text:?}",
                    file.display()
                );
                let want = if *err { "error" } else { "completed" };
                assert_eq!(c["status"], want, "{}: status of {id}", file.display());
            }
            None => assert_eq!(
                c["status"],
                "pending",
                "{}: {id} has no result",
                file.display()
            ),
        }
    }
    let t = &session["totals"];
    let got = [
        t["input"].as_u64().unwrap(),
        t["output"].as_u64().unwrap(),
        t["cache_read"].as_u64().unwrap(),
        t["cache_write"].as_u64().unwrap(),
    ];
    assert_eq!(got, e.tokens, "{}: token totals", file.display());
}

fn export(file: &Path) -> Value {
    let doc: Value = serde_json::from_str(&export_to(file, "json")).unwrap();
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["share_id"].as_str().unwrap().len(), 10);
    doc["session"].clone()
}

fn find_subagent<'a>(session: &'a Value, id: &str) -> Option<&'a Value> {
    for s in session["subagents"].as_array().unwrap() {
        if s["session"]["id"] == id {
            return Some(&s["session"]);
        }
        if let Some(f) = find_subagent(&s["session"], id) {
            return Some(f);
        }
    }
    None
}

#[test]
fn every_fixture_session_exports_completely() {
    let files = main_transcripts();
    assert!(
        files.len() > 60,
        "found only {} fixture sessions",
        files.len()
    );
    for file in files {
        let session = export(&file);
        let has_main = lines(&file).iter().any(|v| {
            matches!(role_of(v), "user" | "assistant")
                && !v["isSidechain"].as_bool().unwrap_or(false)
        });
        check_session(&file, &session, has_main.then_some(false));
        if has_main {
            // In-file sidechains (the oldest subagent layout) live on as
            // subagents: their assistant texts are all in the tree.
            let e = expected(&file, Some(true));
            let mut sub_texts = Vec::new();
            fn collect(s: &Value, out: &mut Vec<String>) {
                for a in s["subagents"].as_array().unwrap() {
                    out.extend(texts_of(&a["session"]));
                    collect(&a["session"], out);
                }
            }
            collect(&session, &mut sub_texts);
            for t in &e.assistant_texts {
                assert!(
                    sub_texts.contains(t),
                    "{}: sidechain text missing: {t:?}",
                    file.display()
                );
            }
        }
        for agent in agent_files(&file) {
            let aid = agent
                .file_stem()
                .unwrap()
                .to_str()
                .unwrap()
                .trim_start_matches("agent-");
            // Claude Code's warm-up request ("Warmup", at most one answer,
            // no tool call) is not part of the conversation: left out.
            let agent_lines = lines(&agent);
            let warmup = agent_lines.len() <= 2
                && agent_lines
                    .first()
                    .is_some_and(|v| v["message"]["content"] == "Warmup")
                && !agent_lines
                    .iter()
                    .any(|v| v.to_string().contains("\"tool_use\""));
            if warmup {
                assert!(
                    find_subagent(&session, aid).is_none(),
                    "{}: warm-up {aid} shown",
                    file.display()
                );
                continue;
            }
            let sub = find_subagent(&session, aid)
                .unwrap_or_else(|| panic!("{}: subagent {aid} missing", file.display()));
            check_session(&agent, sub, None);
        }
    }
}

#[test]
fn subagents_link_to_their_spawning_calls() {
    let file = fixtures()
        .join("projects/-experiments-worktrees/ef958aa1-0e93-49f0-bb71-150f63befcd1.jsonl");
    let session = export(&file);
    let subs = session["subagents"].as_array().unwrap();
    assert_eq!(subs.len(), 6);
    let calls = calls_of(&session);
    for s in subs {
        let call_id = s["tool_call_id"].as_str().expect("linked to a call");
        let call = &calls[call_id];
        assert!(matches!(call["name"].as_str(), Some("Agent" | "Task")));
        assert_eq!(call["extras"]["child_session"], s["session"]["id"]);
        assert_eq!(s["agent_type"], "general-purpose");
    }
    // The documented de-duplicated output total of this transcript.
    assert_eq!(session["totals"]["output"], 22901);
}

#[test]
fn a_workflows_agents_go_under_the_call_that_started_it() {
    // claude-code-log's fixture: a Workflow call whose result names run
    // wf_demo01; its three agents are in subagents/workflows/wf_demo01/,
    // and workflows/wf_demo01.json names them.
    let file = fixtures()
        .join("focused/claude-code-log/workflow_basic/11110000-0000-4000-8000-000000000001.jsonl");
    let session = export(&file);
    let calls = calls_of(&session);
    let wf = calls.values().find(|c| c["name"] == "Workflow").unwrap();
    assert_eq!(wf["extras"]["child_session"], "wf_demo01");
    let subs: Vec<(String, String, String)> = session["subagents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["tool_call_id"].as_str().unwrap_or("(none)").to_string(),
                s["session"]["id"].as_str().unwrap().to_string(),
                s["description"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let call = wf["id"].as_str().unwrap().to_string();
    assert_eq!(
        subs,
        [
            ("ag000001", "demo-review · Map · review:loader"),
            ("ag000002", "demo-review · Map · review:hierarchy"),
            ("ag000003", "demo-review · Synthesize · synthesize"),
        ]
        .iter()
        .map(|(id, d)| (call.clone(), id.to_string(), d.to_string()))
        .collect::<Vec<_>>()
    );
    // The page nests all three in the call, none under "Other subagents".
    let html = export_to(&file, "html");
    let doc = scraper::Html::parse_document(&html);
    let sel = scraper::Selector::parse("details.tool > .tbody > details.subagent").unwrap();
    let nested: Vec<String> = doc
        .select(&sel)
        .map(|d| d.value().id().unwrap_or("").to_string())
        .collect();
    assert_eq!(nested.len(), 3, "{nested:?}");
    let unique: std::collections::BTreeSet<_> = nested.iter().collect();
    assert_eq!(unique.len(), 3, "anchors must differ: {nested:?}");
    assert!(!html.contains("Other subagents"));
    let md = export_to(&file, "md");
    assert!(md.contains("**Subagent** workflow-subagent — demo-review · Synthesize · synthesize"));
}

/// A run's record written after its agents' files reaches the site on the
/// next build; a record reached through a link leading out of the session's
/// folder is not read.
#[test]
fn a_workflow_record_is_watched_and_not_followed_out() {
    let src = fixtures().join("focused/claude-code-log/workflow_basic");
    let id = "11110000-0000-4000-8000-000000000001";
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let project = home.join(".claude/projects/-repo");
    copy_tree(&src, &project);
    let record = project.join(id).join("workflows/wf_demo01.json");
    let kept = std::fs::read(&record).unwrap();
    std::fs::remove_file(&record).unwrap();
    let share_id = share(home, id);
    let site = home.join("site");
    let descriptions = || -> Vec<Value> {
        let v: Value = serde_json::from_slice(
            &std::fs::read(site.join(format!("s/{share_id}/session.json"))).unwrap(),
        )
        .unwrap();
        v["session"]["subagents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["description"].clone())
            .collect()
    };
    let site_arg = site.display().to_string();
    run_ok(home, &["build", "-o", &site_arg]);
    assert!(descriptions().iter().all(Value::is_null));
    std::fs::write(&record, &kept).unwrap();
    run_ok(home, &["build", "-o", &site_arg]);
    assert_eq!(descriptions()[0], "demo-review · Map · review:loader");

    // The same record behind a link to a folder outside: not read.
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(
        outside.join("wf_demo01.json"),
        String::from_utf8(kept)
            .unwrap()
            .replace("review:loader", "OUTSIDE"),
    )
    .unwrap();
    let runs = project.join(id).join("workflows");
    std::fs::remove_dir_all(&runs).unwrap();
    std::os::unix::fs::symlink(&outside, &runs).unwrap();
    let doc: Value =
        serde_json::from_str(&export_to(&project.join(format!("{id}.jsonl")), "json")).unwrap();
    let text = doc.to_string();
    assert!(!text.contains("OUTSIDE"), "{text}");
}

#[test]
fn old_layout_and_teammates_link_by_id_or_prompt() {
    let team = fixtures()
        .join("focused/claude-code-log/teammates/ef000000-0000-4000-8000-000000000001.jsonl");
    let session = export(&team);
    let subs = session["subagents"].as_array().unwrap();
    assert_eq!(subs.len(), 2);
    assert!(
        subs.iter().all(|s| s["tool_call_id"].is_string()),
        "{subs:#?}"
    );

    let inline = fixtures().join("focused/cclogviewer/valid/with_sidechain.jsonl");
    let session = export(&inline);
    let subs = session["subagents"].as_array().unwrap();
    assert!(!subs.is_empty());
}

#[test]
fn harness_markup_is_classified_not_shown_as_prompts() {
    let file = fixtures().join("message-kinds/user/user_slash_command.jsonl");
    let session = export(&file);
    let kinds: Vec<(String, String)> = session["messages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| {
            m["parts"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |p| (m["role"].to_string(), p["type"].to_string()))
        })
        .collect();
    assert!(
        kinds
            .iter()
            .all(|(role, ty)| role != "\"user\"" || ty != "\"text\""),
        "a slash command became a user prompt: {kinds:?}"
    );
}

#[test]
fn compaction_summary_is_attached_to_its_boundary() {
    // No fixture transcript holds a compaction; this follows the documented
    // shape (session-formats.md §1.8).
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("c.jsonl");
    std::fs::write(
        &f,
        concat!(
            r#"{"type":"user","uuid":"u1","parentUuid":null,"timestamp":"2026-01-01T10:00:00Z","message":{"role":"user","content":"first"}}"#,
            "\n",
            r#"{"type":"system","subtype":"compact_boundary","uuid":"b1","parentUuid":null,"logicalParentUuid":"u1","timestamp":"2026-01-01T11:00:00Z","content":"Conversation compacted","compactMetadata":{"trigger":"auto","preTokens":150000}}"#,
            "\n",
            r#"{"type":"user","uuid":"u2","parentUuid":"b1","isCompactSummary":true,"timestamp":"2026-01-01T11:00:01Z","message":{"role":"user","content":"This session is being continued from a previous conversation. Summary: did things."}}"#,
            "\n",
            r#"{"type":"user","uuid":"u3","parentUuid":"u2","timestamp":"2026-01-01T11:00:02Z","message":{"role":"user","content":"second"}}"#,
            "\n",
        ),
    )
    .unwrap();
    let session = export(&f);
    let msgs = session["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 3, "{msgs:#?}");
    assert_eq!(msgs[0]["parts"][0]["text"], "first");
    assert_eq!(msgs[1]["role"], "system");
    let c = &msgs[1]["parts"][0];
    assert_eq!(c["type"], "compaction");
    assert_eq!(c["trigger"], "auto");
    assert_eq!(c["pre_tokens"], 150000);
    assert!(
        c["summary"]
            .as_str()
            .unwrap()
            .contains("Summary: did things.")
    );
    assert_eq!(msgs[2]["parts"][0]["text"], "second");
    assert_eq!(session["title"], "first");
}

/// The prompt texts of `session`'s user messages, each with whether it is
/// on a rewound branch.
fn prompts_rewound(session: &Value) -> Vec<(String, bool)> {
    session["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "user")
        .filter_map(|m| {
            let text = m["parts"]
                .as_array()?
                .iter()
                .find_map(|p| p["text"].as_str())?;
            Some((
                text.chars().take(30).collect(),
                m["rewound"].as_bool().unwrap_or(false),
            ))
        })
        .collect()
}

#[test]
fn a_rewound_branch_is_marked_and_the_one_continued_is_not() {
    // A real session: after three prompts the user went back to before the
    // second one and asked the opposite question.
    let f =
        fixtures().join("projects/-experiments-ideas/03eb5929-52b3-4b13-ada3-b93ae35806b8.jsonl");
    let session = export(&f);
    let got = prompts_rewound(&session);
    let want: Vec<(String, bool)> = [
        ("Ok, so there's isn't much to s", false),
        ("I very much like this idea, an", true),
        ("OK, so, to be fair, maybe also", true),
        ("Fair enough. Can you write a b", true),
        ("I actually don't like much thi", false),
        ("Ok, so, to be fair, maybe also", false),
        ("Fair enough. Can you write a b", false),
    ]
    .iter()
    .map(|(t, r)| (t.to_string(), *r))
    .collect();
    assert_eq!(got, want);
    // The answers on the rewound branch are rewound too; the rest is not.
    let msgs = session["messages"].as_array().unwrap();
    let rewound: Vec<usize> = (0..msgs.len())
        .filter(|&i| msgs[i]["rewound"] == true)
        .collect();
    assert!(!rewound.is_empty());
    assert!(
        rewound.windows(2).all(|w| w[1] == w[0] + 1),
        "one run: {rewound:?}"
    );
    assert!(rewound.iter().any(|&i| {
        msgs[i]["role"] == "assistant"
            && msgs[i]["parts"]
                .to_string()
                .contains("Clear separation of concerns")
    }));
    assert!(
        msgs[rewound[rewound.len() - 1] + 1]["parts"]
            .to_string()
            .contains("I actually don't like much this idea")
    );

    // claude-code-log's fixture: two branches off one prompt, the later
    // one kept.
    let f = fixtures().join("focused/claude-code-log/dag_within_fork.jsonl");
    let got = prompts_rewound(&export(&f));
    assert_eq!(
        got,
        [
            ("Hello", false),
            ("Fork point", false),
            ("Branch 1 start", true),
            ("Branch 1 end", true),
            ("Branch 2 start", false),
        ]
        .iter()
        .map(|(t, r)| (t.to_string(), *r))
        .collect::<Vec<_>>()
    );
}

/// The hook notices of `session` (and its subagents), in order.
fn hook_notices(session: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for m in session["messages"].as_array().unwrap() {
        for p in m["parts"].as_array().unwrap() {
            if p["type"] == "notice" && p["kind"] == "hook" {
                out.push(p["text"].as_str().unwrap().to_string());
            }
        }
    }
    for a in session["subagents"].as_array().into_iter().flatten() {
        out.extend(hook_notices(&a["session"]));
    }
    out
}

#[test]
fn hook_notices_say_which_hook_did_what() {
    let got = hook_notices(&export(
        &fixtures().join("focused/claude-code-log/hook_attachments.jsonl"),
    ));
    assert_eq!(
        got,
        [
            // Context a hook added, as the model got it.
            "UserPromptSubmit hook added context: clmail status: idle\nfocus: hook-fix-001",
            // A blocking error given as an object, not as raw JSON.
            "PostToolUse:Edit hook blocked: ruff check failed\n$ uv run ruff check",
            "Stop hook failed (exit 1): Failed with non-blocking status code\n$ ./scripts/clmail.cmd actor idle",
        ]
    );
    let got = hook_notices(&export(
        &fixtures().join("focused/scriptorium/glosses.jsonl"),
    ));
    assert_eq!(
        got,
        [
            // A session-start hook's output goes into the context; a hook
            // that printed only to stderr says nothing.
            "SessionStart:clear hook added context: Current git status:\n\n## wide-margins\n$ claude-git-status",
            "Stop hook said: [claude-stop-finish] finishing pass triggered",
            "Stop hook added context: You made these changes this session:\n\nM  rustfmt.toml\nM  src/gloss.rs\nBefore stopping, do a finishing pass on this change-set, working through\nthese in order.",
            "Stop hook was cancelled: timed out after 600 s\n$ claude-stop",
        ]
    );
    // Tool hooks that ran fine print for the transcript view only: a real
    // session with one after every tool call shows none of them.
    let got = hook_notices(&export(&fixtures().join(
        "projects/-experiments-worktrees/ef958aa1-0e93-49f0-bb71-150f63befcd1.jsonl",
    )));
    assert!(!got.is_empty());
    assert!(
        got.iter().all(|t| !t.starts_with("PostToolUse")),
        "{got:#?}"
    );
}

/// Exports `lines` (one record each) as a transcript of its own.
fn export_lines(lines: &[&str]) -> Value {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("c.jsonl");
    std::fs::write(&f, lines.join("\n") + "\n").unwrap();
    export(&f)
}

#[test]
fn copies_and_late_records_do_not_make_or_move_a_rewind() {
    // The same uuid written again with other content is kept beside the
    // first copy; it is not a second prompt typed there.
    let session = export_lines(&[
        r#"{"type":"user","uuid":"u1","parentUuid":null,"timestamp":"2026-01-01T10:00:00Z","message":{"role":"user","content":"first"}}"#,
        r#"{"type":"assistant","uuid":"a1","parentUuid":"u1","timestamp":"2026-01-01T10:00:01Z","message":{"id":"m1","role":"assistant","model":"m","content":[{"type":"text","text":"done"}]}}"#,
        r#"{"type":"user","uuid":"u2","parentUuid":"a1","timestamp":"2026-01-01T10:00:05Z","message":{"role":"user","content":"second"}}"#,
        r#"{"type":"user","uuid":"u2","parentUuid":"a1","timestamp":"2026-01-01T10:00:05Z","message":{"role":"user","content":"second, again"}}"#,
    ]);
    let rewound = |s: &Value| -> Vec<bool> {
        s["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["rewound"] == true)
            .collect()
    };
    assert!(rewound(&session).iter().all(|r| !r), "{session:#}");
    // A replay (fresh uuids, the same times) is not a rewind either.
    let session = export_lines(&[
        r#"{"type":"user","uuid":"u1","parentUuid":null,"timestamp":"2026-01-01T10:00:00Z","message":{"role":"user","content":"start"}}"#,
        r#"{"type":"assistant","uuid":"a1","parentUuid":"u1","timestamp":"2026-01-01T10:00:01Z","message":{"id":"m1","role":"assistant","model":"x","content":[{"type":"text","text":"ok"}]}}"#,
        r#"{"type":"user","uuid":"u2","parentUuid":"a1","timestamp":"2026-01-01T10:00:02Z","message":{"role":"user","content":"do the thing"}}"#,
        r#"{"type":"assistant","uuid":"a2","parentUuid":"u2","timestamp":"2026-01-01T10:00:03Z","message":{"id":"m2","role":"assistant","model":"x","content":[{"type":"text","text":"done the thing"}]}}"#,
        r#"{"type":"user","uuid":"u2r","parentUuid":"a1","timestamp":"2026-01-01T10:00:02Z","message":{"role":"user","content":"do the thing"}}"#,
        r#"{"type":"assistant","uuid":"a2r","parentUuid":"u2r","timestamp":"2026-01-01T10:00:03Z","message":{"id":"m2","role":"assistant","model":"x","content":[{"type":"text","text":"done the thing"}]}}"#,
        r#"{"type":"user","uuid":"u3","parentUuid":"a2r","timestamp":"2026-01-01T11:00:00Z","message":{"role":"user","content":"next after compaction"}}"#,
    ]);
    assert!(rewound(&session).iter().all(|r| !r), "{session:#}");
    // A record that shows nothing, written late on the abandoned branch,
    // does not make it the kept one.
    let session = export_lines(&[
        r#"{"type":"user","uuid":"u1","parentUuid":null,"timestamp":"2026-01-01T10:00:00Z","message":{"role":"user","content":"start"}}"#,
        r#"{"type":"assistant","uuid":"a1","parentUuid":"u1","timestamp":"2026-01-01T10:00:01Z","message":{"id":"m1","role":"assistant","model":"x","content":[{"type":"text","text":"ok"}]}}"#,
        r#"{"type":"user","uuid":"p1","parentUuid":"a1","timestamp":"2026-01-01T10:01:00Z","message":{"role":"user","content":"abandoned attempt"}}"#,
        r#"{"type":"assistant","uuid":"b1","parentUuid":"p1","timestamp":"2026-01-01T10:01:05Z","message":{"id":"m2","role":"assistant","model":"x","content":[{"type":"text","text":"abandoned answer"}]}}"#,
        r#"{"type":"user","uuid":"p2","parentUuid":"a1","timestamp":"2026-01-01T10:05:00Z","message":{"role":"user","content":"the real prompt"}}"#,
        r#"{"type":"assistant","uuid":"b2","parentUuid":"p2","timestamp":"2026-01-01T10:05:05Z","message":{"id":"m3","role":"assistant","model":"x","content":[{"type":"text","text":"real answer"}]}}"#,
        r#"{"type":"progress","uuid":"g1","parentUuid":"b1","timestamp":"2026-01-01T10:06:00Z","data":{"type":"hook_progress"}}"#,
    ]);
    assert_eq!(
        rewound(&session),
        [false, false, true, true, false, false],
        "{session:#}"
    );
    // A real transcript with a `/clear` and, minutes later, a `!` line
    // after the same record: commands are not prompts, and this is no
    // rewind.
    let session = export(&fixtures().join(
        "projects/-Users-dain-workspace-claude-code-log-sample/71c9afe9-d9cc-4583-86b3-e62ba682b83a.jsonl",
    ));
    assert!(rewound(&session).iter().all(|r| !r));
}

/// Claude Code records no exit code: a Bash call that did not fail is
/// taken to have exited 0, but not when its result says the code was
/// interpreted (grep finding nothing exits 1) or the command went on in the
/// background.
#[test]
fn bash_exit_codes_are_not_invented() {
    let exit_of = |file: &Path, needle: &str| -> Vec<Value> {
        calls_of(&export(file))
            .values()
            .filter(|c| {
                c["name"] == "Bash" && c["output"].as_str().is_some_and(|o| o.contains(needle))
            })
            .map(|c| c["extras"]["exit_code"].clone())
            .collect()
    };
    let f = fixtures().join(
        "projects/-Users-dain-workspace-claude-code-log-sample/37f83ec9-f2ea-42a9-925e-0d5c105cb6e8.jsonl",
    );
    // `git log … | grep`, interpreted as "No matches found".
    let got = exit_of(&f, "fatal: ambiguous argument");
    assert!(!got.is_empty() && got.iter().all(Value::is_null), "{got:?}");
    let f = fixtures().join("focused/claude-code-log/task_id_linking.jsonl");
    let got = exit_of(&f, "");
    assert!(!got.is_empty() && got.iter().all(Value::is_null), "{got:?}");
    // A plain call that ran fine still shows exit 0.
    let f =
        fixtures().join("projects/-experiments-ideas/03eb5929-52b3-4b13-ada3-b93ae35806b8.jsonl");
    assert_eq!(exit_of(&f, "work-and-dev-docs.md"), [Value::from(0)]);
}

/// What the harness gave the model besides the prompt is in the page (with
/// the system notices): plan mode on and off, a file the user edited, an
/// instructions file, the task list. Repeated plan-mode reminders and
/// empty task lists are not.
#[test]
fn context_the_harness_gave_the_model_is_kept() {
    let notices = |file: &Path| -> Vec<String> {
        export(file)["messages"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|m| m["parts"].as_array().unwrap().clone())
            .filter(|p| p["type"] == "notice")
            .map(|p| p["text"].as_str().unwrap().to_string())
            .collect()
    };
    let got = notices(&fixtures().join("focused/scriptorium/glosses.jsonl"));
    for want in [
        "Instructions from claude/rules/rust.md:\n\n# Rust Style Guide",
        "Plan mode on: the agent plans and changes no files (plan file: /home/jtk/.claude/plans/",
        "Plan mode off",
        "/home/jtk/projects/scriptorium/rustfmt.toml changed outside the agent (by the user or a tool):\n1\tunstable_features = true",
    ] {
        assert_eq!(
            got.iter().filter(|t| t.starts_with(want)).count(),
            1,
            "{want:?} in {got:#?}"
        );
    }
    assert!(!got.iter().any(|t| t.starts_with("Task list")));
    let got = notices(
        &fixtures()
            .join("projects/-experiments-worktrees/ef958aa1-0e93-49f0-bb71-150f63befcd1.jsonl"),
    );
    let list = got
        .iter()
        .find(|t| t.starts_with("Task list:"))
        .expect("a task list");
    assert!(list.contains("\n✓ Research plan mode (alice)\n"), "{list}");
}

#[test]
fn lone_surrogates_and_malformed_lines_do_not_lose_the_session() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("s.jsonl");
    std::fs::write(
        &f,
        concat!(
            r#"{"type":"user","uuid":"u1","parentUuid":null,"timestamp":"2026-01-01T10:00:00Z","message":{"role":"user","content":"bytes: \udcb2 end"}}"#,
            "\nnot json at all\n",
            r#"{"type":"brand-new-kind","uuid":"x1","parentUuid":"u1"}"#,
            "\n",
            r#"{"type":"assistant","uuid":"a1","parentUuid":"u1","timestamp":"2026-01-01T10:00:01Z","message":{"id":"m1","role":"assistant","content":[{"type":"text","text":"ok"}]}}"#,
            "\n",
            r#"{"type":"assistant","uuid":"a2","parentUuid":"a1","timestamp":"2026-01-01T10:00:02Z","message":{"id":"m2","ro"#,
        ),
    )
    .unwrap();
    let out = sharegen(tmp.path())
        .args(["export", "--format", "json", "-o", "-"])
        .arg(&f)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("s.jsonl:1: lone UTF-16 surrogate"),
        "{stderr}"
    );
    assert!(
        stderr.contains("s.jsonl:2: skipped a line that is not valid JSON"),
        "{stderr}"
    );
    assert!(
        stderr.contains("s.jsonl:3: unknown line type `brand-new-kind`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("s.jsonl:5: last line is incomplete"),
        "{stderr}"
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let msgs = doc["session"]["messages"].as_array().unwrap();
    assert_eq!(msgs[0]["parts"][0]["text"], "bytes: \u{fffd} end");
    assert!(msgs.iter().any(|m| m["parts"][0]["type"] == "unknown"));
    assert!(msgs.iter().any(|m| m["parts"][0]["text"] == "ok"));
}

#[test]
fn repeated_bad_lines_are_counted_and_a_file_with_nothing_readable_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    // `export SESSION -o PAGE`: the exit code and stderr.
    let export = |session: &std::ffi::OsStr, page: &Path| {
        let out = sharegen(tmp.path())
            .arg("export")
            .arg(session)
            .arg("-o")
            .arg(page)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let good = r#"{"type":"user","uuid":"u1","parentUuid":null,"timestamp":"2026-01-01T10:00:00Z","message":{"role":"user","content":"hello"}}"#;
    // Each kind of warning is shown once per file; the rest are counted.
    let mixed = tmp.path().join("mixed.jsonl");
    std::fs::write(
        &mixed,
        format!("{good}\nnot json\nnor this\n[1]\nnor that\n"),
    )
    .unwrap();
    let (code, stderr) = export(mixed.as_os_str(), &tmp.path().join("mixed.html"));
    assert_eq!(code, Some(0), "{stderr}");
    for said in [
        "mixed.jsonl:2: skipped a line that is not valid JSON",
        "mixed.jsonl:4: skipped a line that is not a JSON object",
        "mixed.jsonl: 2 more lines had the same problem as line 2",
    ] {
        assert!(stderr.contains(said), "{said}: {stderr}");
    }
    assert!(!stderr.contains("same problem as line 4"), "{stderr}");
    assert!(tmp.path().join("mixed.html").is_file());
    // Found by id in a store, the file is read to list it and again to
    // load it: its lines are still counted once.
    let id = "0a0a0a0a-1111-4222-8333-444444444444";
    let stored = tmp.path().join(format!(".claude/projects/-w/{id}.jsonl"));
    std::fs::create_dir_all(stored.parent().unwrap()).unwrap();
    std::fs::copy(&mixed, &stored).unwrap();
    let (code, stderr) = export("0a0a0a0a".as_ref(), &tmp.path().join("stored.html"));
    assert_eq!(code, Some(0), "{stderr}");
    let said = format!("{id}.jsonl: 2 more lines had the same problem as line 2");
    assert!(stderr.contains(&said), "{stderr}");

    // Not one line is a record: an error naming the file, and no page.
    for (name, text, bad, line) in [
        ("notes.jsonl", "a note\nanother\nand more\n", 3, 1),
        ("cut.jsonl", &good[..40], 1, 1),
    ] {
        let f = tmp.path().join(name);
        std::fs::write(&f, text).unwrap();
        let page = tmp.path().join(format!("{name}.html"));
        let (code, stderr) = export(f.as_os_str(), &page);
        assert_eq!(code, Some(1), "{name}: {stderr}");
        let s = if bad == 1 { "" } else { "s" };
        let said = format!(
            "{}: no message could be read: {bad} line{s} could not be parsed, the first at line {line}",
            f.display()
        );
        assert!(stderr.contains(&said), "{name}: {stderr}");
        assert!(!page.exists(), "{name}: a page was written");
    }

    // An empty file is an empty session, not an error.
    let empty = tmp.path().join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    let (code, stderr) = export(empty.as_os_str(), &tmp.path().join("empty.html"));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(tmp.path().join("empty.html").is_file());
}

#[test]
fn finding_a_session_by_id_warns_only_about_its_own_files() {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join(".claude/projects/-w");
    std::fs::create_dir_all(&project).unwrap();
    let line = |uuid: &str, text: &str| {
        format!(
            r#"{{"type":"user","uuid":"{uuid}","parentUuid":null,"timestamp":"2026-01-01T10:00:00Z","message":{{"role":"user","content":"{text}"}}}}"#
        )
    };
    let good = "1a1a1a1a-1111-4222-8333-444444444444";
    let bad = "2b2b2b2b-1111-4222-8333-444444444444";
    std::fs::write(
        project.join(format!("{good}.jsonl")),
        line("u1", "fine") + "\n",
    )
    .unwrap();
    std::fs::write(
        project.join(format!("{bad}.jsonl")),
        line("u2", "broken") + "\nnot json\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = sharegen(tmp.path()).args(args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let page = tmp.path().join("page.html");
    let page = page.to_str().unwrap();
    // Twice: with the listing cache cold, then warm.
    for _ in 0..2 {
        let (code, stderr) = run(&["export", "1a1a1a1a", "-o", page]);
        assert_eq!(code, Some(0), "{stderr}");
        assert!(
            !stderr.contains(bad),
            "warned about another session: {stderr}"
        );
    }
    // The session's own bad line is still reported, once.
    std::fs::remove_dir_all(tmp.path().join("sg/cache")).ok();
    let (code, stderr) = run(&["export", "2b2b2b2b", "-o", page]);
    assert_eq!(code, Some(0), "{stderr}");
    let said = format!("{bad}.jsonl:2: skipped a line that is not valid JSON");
    assert_eq!(stderr.matches(&said).count(), 1, "{stderr}");
    // `list` warns about every file.
    std::fs::remove_dir_all(tmp.path().join("sg/cache")).ok();
    let (code, stderr) = run(&["list"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains(&said), "{stderr}");
}

/// A folder named like a transcript (or, for another user, a file that
/// cannot be read) is warned about and skipped: it does not stop `list`,
/// `export` or `share` from finding the other sessions.
#[test]
fn one_unreadable_transcript_does_not_hide_the_others() {
    let home = claude_home();
    let project = home.path().join(".claude/projects/-junk");
    let odd = project.join("22222222-2222-4222-8222-222222222222.jsonl");
    std::fs::create_dir_all(&odd).unwrap();
    let out = sharegen(home.path())
        .args(["list", "--json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("22222222-2222-4222-8222-222222222222.jsonl: skipped: a folder"),
        "{stderr}"
    );
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(rows.len() > 1, "{rows:?}");
    assert!(
        !rows
            .iter()
            .any(|r| r["id"] == "22222222-2222-4222-8222-222222222222")
    );
    let page = home.path().join("latest.html");
    let out = sharegen(home.path())
        .args(["export", "latest", "-o"])
        .arg(&page)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(page.is_file());
}

fn claude_home() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(
        &fixtures().join("projects"),
        &tmp.path().join(".claude/projects"),
    );
    tmp
}

#[test]
fn list_shows_every_non_empty_main_session_once() {
    let home = claude_home();
    let out = sharegen(home.path())
        .args(["list", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let mut want = BTreeSet::new();
    for entry in walkdir::WalkDir::new(home.path().join(".claude/projects"))
        .max_depth(2)
        .into_iter()
        .flatten()
    {
        let p = entry.path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if entry.depth() == 2
            && name.ends_with(".jsonl")
            && !name.starts_with("agent-")
            && lines(p)
                .iter()
                .any(|v| matches!(role_of(v), "user" | "assistant"))
        {
            want.insert(name.trim_end_matches(".jsonl").to_string());
        }
    }
    let got: BTreeSet<String> = rows
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, want);
    assert_eq!(rows.len(), want.len(), "a session is listed twice");
    for r in &rows {
        assert_eq!(r["agent"], "claude-code");
        for k in [
            "title", "project", "created", "updated", "messages", "path", "share_id",
        ] {
            assert!(!r[k].is_null(), "{k} missing in {r}");
        }
        assert!(chrono::DateTime::parse_from_rfc3339(r["updated"].as_str().unwrap()).is_ok());
    }
    // Newest first.
    let times: Vec<&str> = rows
        .iter()
        .map(|r| r["updated"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted);
    // The listing's message count agrees with the full parse.
    for r in &rows {
        let session = export(Path::new(r["path"].as_str().unwrap()));
        let n = session["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["role"] == "user" || m["role"] == "assistant")
            .count() as u64;
        assert_eq!(
            r["messages"].as_u64().unwrap(),
            n,
            "message count of {}",
            r["id"]
        );
        assert_eq!(r["title"], session["title"], "title of {}", r["id"]);
    }
    // Subagents are folded in, not listed.
    let ef = rows
        .iter()
        .find(|r| r["id"] == "ef958aa1-0e93-49f0-bb71-150f63befcd1")
        .unwrap();
    assert_eq!(ef["subagents"], 6);
}

#[test]
fn selection_by_prefix_latest_env_and_errors() {
    let home = claude_home();
    // Unique prefix.
    let out = sharegen(home.path())
        .args(["export", "ef958", "--format", "json", "-o", "-"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["session"]["id"], "ef958aa1-0e93-49f0-bb71-150f63befcd1");
    // latest = the newest in the listing.
    let out = sharegen(home.path())
        .args(["export", "latest", "--format", "json", "-o", "-"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["session"]["id"], "ef958aa1-0e93-49f0-bb71-150f63befcd1");
    // The environment variable, when no argument is given.
    let out = sharegen(home.path())
        .env("CLAUDE_SESSION_ID", "03eb5929-52b3-4b13-ada3-b93ae35806b8")
        .args(["export", "--format", "json", "-o", "-"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["session"]["id"], "03eb5929-52b3-4b13-ada3-b93ae35806b8");
    // An id from the variable that matches nothing: the variable is named.
    let out = sharegen(home.path())
        .env("CLAUDE_SESSION_ID", "bogus")
        .args(["export", "-o", "-"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("$CLAUDE_SESSION_ID is `bogus`, and no session matches it"),
        "{err}"
    );
    // The store's projects folder, given as a path, is the store.
    let out = sharegen(home.path())
        .arg("export")
        .arg(home.path().join(".claude/projects"))
        .args(["-o", "-"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("name one by its id"), "{err}");
    // Ambiguous prefix: exit 2 with the candidates.
    let out = sharegen(home.path())
        .args(["export", "a", "-o", "-"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("a7da6a22-facc-4fcd-8bab-f83c87862004") && err.contains("aa5c5ada"),
        "{err}"
    );
    // Unknown: exit 2, naming what was searched.
    let out = sharegen(home.path())
        .args(["export", "zzz", "-o", "-"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("zzz") && err.contains(".claude/projects"),
        "{err}"
    );
    // A path that does not exist: exit 2, naming the path, not the stores.
    for missing in ["no/such/session.jsonl", "gone.jsonl"] {
        let out = sharegen(home.path())
            .args(["export", missing, "-o", "-"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("{missing}: no such file or folder"))
                && !err.contains(".claude/projects"),
            "{err}"
        );
    }
    // No argument and no env: usage error.
    let out = sharegen(home.path())
        .args(["export", "--format", "json", "-o", "-"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn export_writes_share_id_file_atomically_and_ids_are_stable() {
    let home = claude_home();
    let work = tempfile::tempdir().unwrap();
    let out = sharegen(home.path())
        .current_dir(work.path())
        .args(["export", "03eb5929", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).unwrap();
    let name = printed.trim();
    assert!(name.ends_with(".json") && name.len() == 15, "{name}");
    let doc: Value =
        serde_json::from_slice(&std::fs::read(work.path().join(name)).unwrap()).unwrap();
    assert_eq!(format!("{}.json", doc["share_id"].as_str().unwrap()), name);
    // Same salt, same id; no temp files left behind.
    let leftovers: Vec<_> = std::fs::read_dir(work.path()).unwrap().flatten().collect();
    assert_eq!(leftovers.len(), 1);
    let out = sharegen(home.path())
        .args(["list", "--json"])
        .output()
        .unwrap();
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let row = rows
        .iter()
        .find(|r| r["id"] == "03eb5929-52b3-4b13-ada3-b93ae35806b8")
        .unwrap();
    assert_eq!(row["share_id"], doc["share_id"]);
    // A different salt gives a different id.
    let out = sharegen(home.path())
        .env("SHAREGEN_SALT", "other")
        .args(["list", "--json"])
        .output()
        .unwrap();
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let row2 = rows.iter().find(|r| r["id"] == row["id"]).unwrap();
    assert_ne!(row2["share_id"], row["share_id"]);
}

#[test]
fn sharegen_never_writes_into_the_store() {
    let home = claude_home();
    let snapshot = |root: &Path| -> BTreeMap<PathBuf, (u64, Vec<u8>)> {
        walkdir::WalkDir::new(root)
            .into_iter()
            .flatten()
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                let m = e.metadata().unwrap();
                (
                    e.path().to_path_buf(),
                    (m.len(), std::fs::read(e.path()).unwrap()),
                )
            })
            .collect()
    };
    let store = home.path().join(".claude");
    let before = snapshot(&store);
    sharegen(home.path())
        .args(["list", "--json"])
        .assert()
        .success();
    sharegen(home.path())
        .args(["export", "latest", "-o", "-"])
        .assert()
        .success();
    assert_eq!(before, snapshot(&store));
}

#[test]
fn json_export_reads_back_into_the_model() {
    // The documented schema is the model: every fixture's export
    // deserializes into `ExportDocument` and serializes back identically.
    for file in main_transcripts().iter().take(20) {
        let text = export_to(file, "json");
        let doc: sharegen::model::ExportDocument =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert_eq!(doc.schema_version, sharegen::model::SCHEMA_VERSION);
        let again = serde_json::to_value(&doc).unwrap();
        let orig: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(again, orig, "{}", file.display());
    }
}
