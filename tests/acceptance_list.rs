//! Issue acceptance: with HOME laid out like a real machine (Claude Code's
//! `projects/` and OpenCode's JSON store), `list --json` lists every
//! non-empty main session of both agents, with subagents folded in.

mod common;

use assert_cmd::Command;
use common::copy_tree;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

fn is_conversation(p: &Path) -> bool {
    let bytes = std::fs::read(p).unwrap();
    String::from_utf8_lossy(&bytes).lines().any(|l| {
        serde_json::from_str::<Value>(l)
            .map(|v| matches!(v["type"].as_str(), Some("user" | "assistant")))
            .unwrap_or(false)
    })
}

#[test]
fn list_json_covers_both_agents() {
    let fx = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let home = tempfile::tempdir().unwrap();
    copy_tree(
        &fx.join("claude-code/projects"),
        &home.path().join(".claude/projects"),
    );
    copy_tree(
        &fx.join("opencode/storage-v1"),
        &home.path().join(".local/share/opencode/storage"),
    );

    let mut want = BTreeSet::new();
    for e in walkdir::WalkDir::new(home.path().join(".claude/projects"))
        .min_depth(2)
        .max_depth(2)
        .into_iter()
        .flatten()
    {
        let name = e.file_name().to_string_lossy().to_string();
        if name.ends_with(".jsonl") && !name.starts_with("agent-") && is_conversation(e.path()) {
            want.insert((
                "claude-code".to_string(),
                name.trim_end_matches(".jsonl").to_string(),
            ));
        }
    }
    for e in walkdir::WalkDir::new(home.path().join(".local/share/opencode/storage/session"))
        .min_depth(2)
        .into_iter()
        .flatten()
    {
        let v: Value = serde_json::from_slice(&std::fs::read(e.path()).unwrap()).unwrap();
        if v["parentID"].is_null() {
            want.insert((
                "opencode".to_string(),
                v["id"].as_str().unwrap().to_string(),
            ));
        }
    }

    let out = Command::cargo_bin("sharegen")
        .unwrap()
        .env("HOME", home.path())
        .env("SHAREGEN_HOME", home.path().join("sg"))
        .env_remove("CLAUDE_CONFIG_DIR")
        .env_remove("XDG_DATA_HOME")
        .env_remove("OPENCODE_DB")
        .args(["list", "--json", "-v"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("claude-code: ") && stderr.contains("opencode: "),
        "-v names the stores: {stderr}"
    );
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let got: BTreeSet<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["agent"].as_str().unwrap().to_string(),
                r["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(got, want);
    assert_eq!(rows.len(), want.len());
    assert!(want.iter().any(|(a, _)| a == "opencode"));
    let with_subagents = rows
        .iter()
        .filter(|r| r["subagents"].as_u64().unwrap() > 0)
        .count();
    assert!(
        with_subagents >= 3,
        "subagents are folded into their parents"
    );
}
