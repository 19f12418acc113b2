//! `watch`'s incremental loads of Codex rollouts (`Source::load_live`):
//! every rollout in the fixtures, and a generated one, is grown in random
//! steps, cut anywhere (mid-line too), and after each step the session put
//! together from the previous load and the changed messages is exactly
//! what a fresh read of the store gives. Enough steps must load only the
//! changed messages, or the test would pass with a source that always
//! loads everything.

mod common;

use common::live::{self, Stats};
use sharegen::diag::Diag;
use sharegen::model::Session;
use sharegen::sources::codex::Codex;
use sharegen::sources::{SessionRef, Source, jsonl};
use std::path::{Path, PathBuf};

const DAY: &str = "sessions/2025/11/12";

fn rollouts() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = walkdir::WalkDir::new("tests/fixtures/codex")
        .into_iter()
        .filter_map(|e| e.ok())
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    v.sort();
    v
}

/// What a fresh read of rollout `name` in store `root` gives.
fn fresh(root: &Path, name: &str) -> Session {
    let dir = tempfile::tempdir().unwrap();
    common::copy_tree(root, dir.path());
    let path = dir.path().join(DAY).join(name);
    let r = SessionRef {
        agent: sharegen::model::Agent::Codex,
        id: String::new(),
        path,
    };
    Codex::new(dir.path().to_path_buf())
        .load(&r, &Diag::silent())
        .unwrap()
}

/// Writes `bytes` as rollout `name` of a fresh store in random cuts, with
/// `others` (other rollouts of its folder) there from the start; checks
/// each incremental load against a fresh read.
fn grow(
    name: &str,
    bytes: &[u8],
    others: &[PathBuf],
    steps: usize,
    rng: &mut common::Lcg,
) -> Stats {
    let root = tempfile::tempdir().unwrap();
    let day = root.path().join(DAY);
    std::fs::create_dir_all(&day).unwrap();
    for o in others {
        std::fs::copy(o, day.join(o.file_name().unwrap())).unwrap();
    }
    let path = day.join(name);
    std::fs::write(&path, b"").unwrap();
    let source = Codex::new(root.path().to_path_buf());
    let r = SessionRef {
        agent: sharegen::model::Agent::Codex,
        id: String::new(),
        path: path.clone(),
    };
    let mut held = None;
    let mut stats = Stats::default();
    let mut written = 0;
    for cut in live::cuts(bytes.len(), steps, rng) {
        live::append(&path, &bytes[written..cut]);
        written = cut;
        let at = format!("cut at byte {cut} of {}", bytes.len());
        let want = fresh(root.path(), name);
        live::check_load(name, &at, &source, &r, &mut held, &mut stats, want);
    }
    stats
}

/// A rollout with long turns: prompts (response item first, event
/// second, and the other way round), reasoning, calls whose output comes
/// later, an exec event standing in for a call, token counts, a
/// compaction and a title.
fn generated(turns: usize) -> String {
    let mut out = String::new();
    let mut line = |s: u32, kind: &str, payload: serde_json::Value| {
        let ts = format!("2025-11-12T09:{:02}:{:02}.000Z", (s / 60) % 60, s % 60);
        out.push_str(
            &serde_json::json!({"timestamp": ts, "type": kind, "payload": payload}).to_string(),
        );
        out.push('\n');
    };
    line(
        0,
        "session_meta",
        serde_json::json!({"id": "0199a8f3-6c1e-7d40-b2a5-3e9f1c7d2c01", "timestamp": "2025-11-12T09:00:00.000Z",
            "cwd": "/home/dev/gen", "originator": "codex_cli_rs", "cli_version": "0.58.0"}),
    );
    let mut t = 1u32;
    for turn in 1..=turns {
        let tid = format!("turn-{turn}");
        line(
            t,
            "turn_context",
            serde_json::json!({"turn_id": tid, "cwd": "/home/dev/gen", "model": "gpt-5.1-codex"}),
        );
        line(
            t,
            "event_msg",
            serde_json::json!({"type": "task_started", "turn_id": tid}),
        );
        let prompt = format!("Prompt {turn}: fix the thing");
        let item = serde_json::json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": prompt}]});
        let event = serde_json::json!({"type": "user_message", "message": prompt, "images": []});
        if turn % 2 == 0 {
            line(t, "event_msg", event);
            line(t, "response_item", item);
        } else {
            line(t, "response_item", item);
            line(t, "event_msg", event);
        }
        t += 1;
        let reasoning = format!("Thinking about step {turn}");
        line(
            t,
            "response_item",
            serde_json::json!({"type": "reasoning", "summary": [{"type": "summary_text", "text": reasoning}], "content": null}),
        );
        line(
            t,
            "event_msg",
            serde_json::json!({"type": "agent_reasoning", "text": reasoning}),
        );
        let call = format!("call_{turn}");
        line(
            t,
            "response_item",
            serde_json::json!({"type": "function_call", "name": "shell",
            "arguments": serde_json::json!({"command": ["bash", "-lc", format!("ls dir{turn}")]}).to_string(), "call_id": call}),
        );
        t += 1;
        // The exec event before the output item.
        line(
            t,
            "event_msg",
            serde_json::json!({"type": "exec_command_end", "call_id": call, "exit_code": turn % 3, "aggregated_output": format!("file{turn}\n")}),
        );
        line(
            t,
            "response_item",
            serde_json::json!({"type": "function_call_output", "call_id": call,
            "output": serde_json::json!({"output": format!("file{turn}\n"), "metadata": {"exit_code": turn % 3, "duration_seconds": 0.5}}).to_string()}),
        );
        // An exec event with no call item stands in for one.
        line(
            t,
            "event_msg",
            serde_json::json!({"type": "exec_command_end", "call_id": format!("lone_{turn}"), "command": ["bash", "-lc", "true"], "exit_code": 0, "aggregated_output": ""}),
        );
        t += 1;
        line(
            t,
            "event_msg",
            serde_json::json!({"type": "token_count", "info": {"total_token_usage": {"input_tokens": 100 * turn, "cached_input_tokens": 0, "output_tokens": 10 * turn, "reasoning_output_tokens": 0, "total_tokens": 110 * turn}, "last_token_usage": {"input_tokens": 100, "cached_input_tokens": 0, "output_tokens": 10, "reasoning_output_tokens": 0, "total_tokens": 110}}}),
        );
        let msg = format!("Done with {turn}");
        line(
            t,
            "response_item",
            serde_json::json!({"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": msg}]}),
        );
        line(
            t,
            "event_msg",
            serde_json::json!({"type": "agent_message", "message": msg}),
        );
        if turn == turns / 2 {
            line(
                t,
                "compacted",
                serde_json::json!({"message": "summary of the first half"}),
            );
        }
        line(
            t,
            "event_msg",
            serde_json::json!({"type": "task_complete", "turn_id": tid, "last_agent_message": msg}),
        );
        t += 1;
    }
    out
}

#[test]
fn incremental_loads_put_together_equal_fresh_reads() {
    jsonl::enable_tails(true);
    let mut rng = common::Lcg(11);
    let mut all = Stats::default();
    for fixture in rollouts() {
        let bytes = std::fs::read(&fixture).unwrap();
        let name = fixture.file_name().unwrap().to_string_lossy().into_owned();
        let others: Vec<PathBuf> = std::fs::read_dir(fixture.parent().unwrap())
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                *p != fixture
                    && p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("rollout-"))
            })
            .collect();
        let st = grow(&name, &bytes, &others, 25, &mut rng);
        all.add(&st);
    }
    let rollout = generated(40);
    let name = "rollout-2025-11-12T09-00-00-0199a8f3-6c1e-7d40-b2a5-3e9f1c7d2c01.jsonl";
    let mut g = Stats::default();
    for seed in 1..=6 {
        let st = grow(name, rollout.as_bytes(), &[], 60, &mut common::Lcg(seed));
        g.add(&st);
    }
    eprintln!("fixtures: {all:?}; generated: {g:?}");
    // An event text written before its twin is folded at once when the
    // twin comes in the same read; a read that falls between them folds
    // the rollout again.
    assert!(
        g.partial * 10 >= g.steps * 8,
        "too few incremental loads of the generated rollout: {g:?}"
    );
}
