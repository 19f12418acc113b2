//! The README's commands, run on the bundled example store.

use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn sharegen(sg_home: &Path) -> Command {
    let mut c = Command::cargo_bin("sharegen").unwrap();
    c.current_dir(root())
        .env("SHAREGEN_HOME", sg_home)
        .env_remove("CLAUDE_CONFIG_DIR")
        .env_remove("XDG_DATA_HOME")
        .env_remove("OPENCODE_DB")
        .env_remove("CODEX_HOME")
        .env_remove("GEMINI_CLI_HOME")
        .env_remove("SHAREGEN_SALT");
    c
}

#[test]
fn readme_export_command_works() {
    let tmp = tempfile::tempdir().unwrap();
    let out_file = tmp.path().join("demo.html");
    let out = sharegen(&tmp.path().join("sg"))
        .env("HOME", tmp.path())
        .arg("export")
        .arg("examples/sessions/.claude/projects/-experiments-worktrees/ef958aa1-0e93-49f0-bb71-150f63befcd1.jsonl")
        .arg("-o")
        .arg(&out_file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        out_file.display().to_string()
    );
    let page = std::fs::read_to_string(&out_file).unwrap();
    assert!(page.starts_with("<!doctype html>"));
    assert_eq!(page.matches("class=\"subagent\"").count(), 6);
    // The salt was created once, private, in sharegen's home.
    let salt = tmp.path().join("sg/salt");
    assert_eq!(std::fs::read(&salt).unwrap().len(), 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&salt).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}

#[test]
fn readme_list_command_sees_every_agent() {
    let tmp = tempfile::tempdir().unwrap();
    let out = sharegen(tmp.path())
        .env("HOME", root().join("examples/sessions"))
        .args(["list", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let count = |agent: &str| rows.iter().filter(|r| r["agent"] == agent).count();
    assert_eq!(count("claude-code"), 3);
    assert_eq!(count("opencode"), 1);
    assert_eq!(count("codex"), 1);
    assert_eq!(count("gemini"), 1);
    let codex = rows.iter().find(|r| r["agent"] == "codex").unwrap();
    assert_eq!(codex["title"], "Fix count_lines off-by-one");
    assert_eq!(codex["project"], "/home/dev/tally");
    let gemini = rows.iter().find(|r| r["agent"] == "gemini").unwrap();
    assert_eq!(gemini["project"], "/home/dev/weather");
    let old_layout = rows
        .iter()
        .find(|r| r["id"] == "cb2e607c-c758-415a-8b45-c49e4631906a")
        .unwrap();
    // Three agent files, two of them Claude Code's "Warmup" requests.
    assert_eq!(old_layout["subagents"], 1);
}

#[test]
fn salt_from_config_gives_documented_share_ids() {
    use sha2::{Digest, Sha256};
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("sg")).unwrap();
    std::fs::write(tmp.path().join("sg/config.toml"), "salt = \"team-salt\"\n").unwrap();
    let out = sharegen(&tmp.path().join("sg"))
        .env("HOME", root().join("examples/sessions"))
        .args(["list", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    for r in &rows {
        let mut h = Sha256::new();
        h.update(b"team-salt");
        h.update(r["agent"].as_str().unwrap().as_bytes());
        h.update(b":");
        h.update(r["id"].as_str().unwrap().as_bytes());
        let want = data_encoding::BASE32_NOPAD.encode(&h.finalize())[..10].to_ascii_lowercase();
        assert_eq!(r["share_id"], want.as_str());
    }
    // No salt file was created: the configured one is used.
    assert!(!tmp.path().join("sg/salt").exists());
}
