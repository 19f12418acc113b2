//! `watch`'s incremental loads of Claude Code transcripts
//! (`Source::load_live`): every real transcript in the fixtures is grown
//! in random steps, cut anywhere (mid-line too), and after each step the
//! session put together from the previous load and the changed messages
//! is exactly what a fresh read of the file gives. Most steps must load
//! only the changed messages, or the test would pass with a source that
//! always loads everything.

mod common;

use common::live::{self, Stats};
use sharegen::diag::Diag;
use sharegen::model::Session;
use sharegen::sources::claude_code::ClaudeCode;
use sharegen::sources::{SessionRef, jsonl};
use std::path::{Path, PathBuf};

const FIXTURES: &str = "tests/fixtures/claude-code";

fn transcripts() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = walkdir::WalkDir::new(FIXTURES)
        .into_iter()
        .filter_map(|e| e.ok())
        .map(|e| e.into_path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "jsonl")
                && !p.components().any(|c| c.as_os_str() == "subagents")
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("agent-"))
        })
        .collect();
    v.sort();
    v
}

/// What a fresh read of `path` gives (no kept parser state): its folder
/// (the transcript and its subagents' files) is copied and read there.
fn fresh(path: &Path) -> Session {
    let dir = tempfile::tempdir().unwrap();
    common::copy_tree(path.parent().unwrap(), dir.path());
    let copy = dir.path().join(path.file_name().unwrap());
    sharegen::sources::claude_code::load_file(&copy, &Diag::silent()).unwrap()
}

/// Writes `bytes` as transcript `name` under a fresh folder in random cuts
/// (`steps` of them, mid-line too), with the subagent files of `subs` (a
/// folder) and the `siblings` (older `agent-*.jsonl` beside transcripts)
/// appearing at random steps. After each cut, loads it incrementally and
/// checks the put-together session against a fresh read.
fn grow(
    name: &str,
    bytes: &[u8],
    subs: Option<&Path>,
    siblings: &[PathBuf],
    steps: usize,
    rng: &mut common::Lcg,
) -> Stats {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, b"").unwrap();
    // Subagent files: all there from the start (empty), each written in
    // full at a random step.
    let mut agents: Vec<(PathBuf, Vec<u8>, usize)> = Vec::new();
    if let Some(subs) = subs {
        let to = path.with_extension("").join("subagents");
        common::copy_tree(subs, &to);
        for e in std::fs::read_dir(&to).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "jsonl") {
                let b = std::fs::read(&p).unwrap();
                std::fs::write(&p, b"").unwrap();
                let at = (rng.next() as usize) % steps.max(1);
                agents.push((p, b, at));
            }
        }
    }
    for sib in siblings {
        let p = dir.path().join(sib.file_name().unwrap());
        std::fs::write(&p, b"").unwrap();
        let at = (rng.next() as usize) % steps.max(1);
        agents.push((p, std::fs::read(sib).unwrap(), at));
    }
    let source = ClaudeCode::new(dir.path().to_path_buf());
    let r = SessionRef {
        agent: sharegen::model::Agent::ClaudeCode,
        id: path.file_stem().unwrap().to_string_lossy().into_owned(),
        path: path.clone(),
    };
    let cuts = live::cuts(bytes.len(), steps, rng);
    let last = cuts.len() - 1;
    let mut written = 0;
    let mut held = None;
    let mut stats = Stats::default();
    for (step, cut) in cuts.into_iter().enumerate() {
        live::append(&path, &bytes[written..cut]);
        written = cut;
        for (p, b, at) in &agents {
            if *at == step || (step == last && *at > last) {
                std::fs::write(p, b).unwrap();
            }
        }
        let at = format!("cut at byte {cut} of {}", bytes.len());
        live::check_load(name, &at, &source, &r, &mut held, &mut stats, fresh(&path));
    }
    stats
}

#[test]
fn incremental_loads_put_together_equal_fresh_reads() {
    jsonl::enable_tails(true);
    let mut rng = common::Lcg(7);
    let mut all = Stats::default();
    let mut mostly_whole = Vec::new();
    for fixture in transcripts() {
        let bytes = std::fs::read(&fixture).unwrap();
        let subs = fixture.with_extension("").join("subagents");
        let name = fixture.file_name().unwrap().to_string_lossy();
        let siblings: Vec<PathBuf> = std::fs::read_dir(fixture.parent().unwrap())
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("agent-"))
                    && p.extension().is_some_and(|x| x == "jsonl")
            })
            .collect();
        let subs = subs.is_dir().then_some(subs.as_path());
        let st = grow(&name, &bytes, subs, &siblings, 30, &mut rng);
        if st.steps > 4 && st.partial * 2 < st.steps {
            mostly_whole.push(fixture.display().to_string());
        }
        all.add(&st);
    }
    let Stats {
        steps,
        partial,
        whole,
    } = all;
    eprintln!(
        "{steps} steps: {partial} loaded only what changed, {whole} whole after the first; \
         mostly whole: {mostly_whole:?}"
    );
    assert!(
        partial * 10 >= steps * 8,
        "too few incremental loads: {partial} of {steps} (whole: {whole}); {mostly_whole:?}"
    );
}

/// A transcript with what real ones seldom show in a few lines: a call
/// linked to its subagent by prompt only (the subagent's file appears
/// later), a message written in two records whose usage grows, a result
/// written before its call, a compaction and its summary, parallel calls,
/// a record written before its parent, a record that goes before others
/// (which the incremental path cannot fold: it reads the file again), and
/// a new root.
fn edge_transcript(session: &str) -> (String, String) {
    let mut lines = Vec::new();
    let mut rec = |v: serde_json::Value| lines.push(v.to_string());
    let t = |s: u32| format!("2026-05-01T10:00:{s:02}Z");
    let env = |uuid: &str, parent: Option<&str>, s: u32| {
        serde_json::json!({
            "uuid": uuid, "parentUuid": parent, "timestamp": t(s),
            "sessionId": session, "cwd": "/p", "isSidechain": false,
        })
    };
    let with = |mut base: serde_json::Value, extra: serde_json::Value| {
        for (k, v) in extra.as_object().unwrap() {
            base[k] = v.clone();
        }
        base
    };
    let user = |text: &str| serde_json::json!({"type": "user", "message": {"role": "user", "content": text}});
    let result = |call: &str, text: &str| {
        serde_json::json!({"type": "user", "message": {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": call, "content": text}]}})
    };
    let assistant = |msg: &str, req: &str, content: serde_json::Value, input: u64| {
        serde_json::json!({"type": "assistant", "requestId": req, "message": {
            "id": msg, "role": "assistant", "model": "claude-x", "content": content,
            "usage": {"input_tokens": input, "output_tokens": 5}}})
    };
    rec(with(env("u1", None, 1), user("hello")));
    rec(with(
        env("a1", Some("u1"), 2),
        assistant(
            "m1",
            "q1",
            serde_json::json!([{"type": "tool_use", "id": "call1", "name": "Task",
            "input": {"prompt": "do the thing", "description": "thing", "subagent_type": "general"}}]),
            10,
        ),
    ));
    rec(with(env("r1", Some("a1"), 3), result("call1", "done")));
    rec(with(
        env("a2", Some("r1"), 4),
        assistant(
            "m2",
            "q2",
            serde_json::json!([{"type": "text", "text": "first half"}]),
            10,
        ),
    ));
    rec(with(
        env("a3", Some("a2"), 5),
        assistant(
            "m2",
            "q2",
            serde_json::json!([{"type": "text", "text": "second half"}]),
            30,
        ),
    ));
    // Same request, another message id: its usage goes to m2.
    rec(with(
        env("a4", Some("a3"), 5),
        assistant(
            "m2b",
            "q2",
            serde_json::json!([{"type": "text", "text": "third part"}]),
            50,
        ),
    ));
    rec(with(
        env("r9", Some("a4"), 6),
        result("call9", "early result"),
    ));
    rec(with(
        env("a8", Some("r9"), 6),
        assistant(
            "m8",
            "q8",
            serde_json::json!([{"type": "text", "text": "between"}]),
            10,
        ),
    ));
    rec(with(
        env("a9", Some("a8"), 7),
        assistant(
            "m9",
            "q9",
            serde_json::json!([{"type": "tool_use", "id": "call9", "name": "Bash",
            "input": {"command": "ls"}}]),
            10,
        ),
    ));
    rec(with(
        env("c1", Some("a9"), 8),
        serde_json::json!({"type": "system", "subtype": "compact_boundary", "content": "Conversation compacted",
            "compactMetadata": {"trigger": "auto", "preTokens": 1000}}),
    ));
    rec(with(
        with(
            env("s1", Some("c1"), 9),
            user("summary of the earlier talk"),
        ),
        serde_json::json!({"isCompactSummary": true}),
    ));
    rec(with(
        env("p1", Some("s1"), 10),
        assistant(
            "m10",
            "q10",
            serde_json::json!([{"type": "tool_use", "id": "callA", "name": "Read",
            "input": {"file_path": "/p/a"}}]),
            10,
        ),
    ));
    rec(with(
        env("p2", Some("p1"), 11),
        assistant(
            "m10",
            "q10",
            serde_json::json!([{"type": "tool_use", "id": "callB", "name": "Read",
            "input": {"file_path": "/p/b"}}]),
            12,
        ),
    ));
    rec(with(env("pa", Some("p1"), 12), result("callA", "a")));
    rec(with(env("pb", Some("p2"), 13), result("callB", "b")));
    rec(with(
        env("a12", Some("pb"), 14),
        assistant(
            "m12",
            "q12",
            serde_json::json!([{"type": "text", "text": "both read"}]),
            10,
        ),
    ));
    // A child written before its parent.
    rec(with(
        env("x2", Some("x1"), 16),
        serde_json::json!({"type": "attachment", "attachment": {"type": "todo"}}),
    ));
    rec(with(
        env("x1", Some("a12"), 15),
        serde_json::json!({"type": "attachment", "attachment": {"type": "todo"}}),
    ));
    rec(with(
        env("a13", Some("x2"), 17),
        assistant(
            "m13",
            "q13",
            serde_json::json!([{"type": "text", "text": "after the attachments"}]),
            10,
        ),
    ));
    rec(with(env("u2", Some("a13"), 18), user("go on")));
    // Written late, but older than the attachments after a12: it goes
    // before them, and before a13.
    rec(with(
        env("late", Some("a12"), 14),
        assistant(
            "mlate",
            "qlate",
            serde_json::json!([{"type": "text", "text": "late"}]),
            10,
        ),
    ));
    // A new root, after the others.
    rec(with(env("u3", None, 20), user("hello again, differently")));
    rec(with(
        env("a20", Some("u3"), 21),
        assistant(
            "m20",
            "q20",
            serde_json::json!([{"type": "text", "text": "a new branch"}]),
            10,
        ),
    ));
    let mut main = lines.join("\n");
    main.push('\n');
    // The subagent, in an older layout: a file beside the transcript,
    // linked by its prompt.
    let agent = [
        serde_json::json!({"uuid": "g1", "parentUuid": null, "timestamp": t(2), "sessionId": session,
            "isSidechain": true, "agentId": "abc", "type": "user",
            "message": {"role": "user", "content": "do the thing"}}),
        serde_json::json!({"uuid": "g2", "parentUuid": "g1", "timestamp": t(3), "sessionId": session,
            "isSidechain": true, "agentId": "abc", "type": "assistant",
            "message": {"id": "gm", "role": "assistant", "content": [{"type": "text", "text": "did it"}]}}),
    ]
    .iter()
    .map(|v| v.to_string() + "\n")
    .collect();
    (main, agent)
}

#[test]
fn incremental_loads_handle_the_edge_cases() {
    jsonl::enable_tails(true);
    let session = "11111111-2222-4333-8444-555555555555";
    let (main, agent) = edge_transcript(session);
    let src = tempfile::tempdir().unwrap();
    let agent_file = src.path().join("agent-abc.jsonl");
    std::fs::write(&agent_file, agent).unwrap();
    let name = format!("{session}.jsonl");
    // The first fresh read links the call and has everything.
    let whole_dir = tempfile::tempdir().unwrap();
    std::fs::write(whole_dir.path().join(&name), &main).unwrap();
    std::fs::copy(&agent_file, whole_dir.path().join("agent-abc.jsonl")).unwrap();
    let s = fresh(&whole_dir.path().join(&name));
    let call1 = s
        .messages
        .iter()
        .flat_map(|m| &m.parts)
        .find_map(|p| match p {
            sharegen::model::Part::ToolCall(c) if c.id == "call1" => Some(c),
            _ => None,
        })
        .unwrap();
    assert_eq!(call1.extras.child_session.as_deref(), Some("abc"));
    let mut all = Stats::default();
    for seed in 1..=12 {
        let st = grow(
            &name,
            main.as_bytes(),
            None,
            std::slice::from_ref(&agent_file),
            40,
            &mut common::Lcg(seed),
        );
        all.add(&st);
    }
    // Only the late record is read again.
    assert!(
        all.partial * 10 >= all.steps * 7,
        "{} of {} partial, {} whole",
        all.partial,
        all.steps,
        all.whole
    );
}
