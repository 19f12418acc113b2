//! Redaction on by default: a corpus of generated secrets of every kind,
//! placed in every field of a Claude Code session (title, prompts,
//! answers, reasoning, tool inputs and outputs, file contents, diffs), must
//! not survive in the HTML, Markdown or JSON export, in the built site, or
//! in a git branch it is published to; look-alikes (git SHAs, UUIDs,
//! hashes, integrity strings, base64 images) come through unchanged.

mod common;

use common::*;
use serde_json::{Value, json};
use std::path::Path;

/// A tiny deterministic generator, so the corpus is the same every run.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn from(&mut self, alphabet: &str, n: usize) -> String {
        let a: Vec<char> = alphabet.chars().collect();
        (0..n)
            .map(|_| a[(self.next() % a.len() as u64) as usize])
            .collect()
    }
    fn alnum(&mut self, n: usize) -> String {
        // Always mixed: a digit, an upper and a lower case letter.
        let mut s = self.from(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            n - 3,
        );
        s.push_str("7Qz");
        s
    }
}

const UPPER_DIGITS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const HEX: &str = "0123456789abcdef";

/// (kind, text to embed, the secret part that must disappear).
fn corpus() -> Vec<(&'static str, String, String)> {
    let mut g = Gen(0x5eed_1234_abcd_ef01);
    let mut v = Vec::new();
    let mut add = |kind: &'static str, text: String, secret: String| v.push((kind, text, secret));
    let k = format!("AKIA{}", g.from(UPPER_DIGITS, 16));
    add("aws-access-key-id", format!("AWS key {k}"), k);
    let k = g.from(B64, 37) + "x9Q";
    add(
        "aws-secret-access-key",
        format!("aws_secret_access_key = {k}"),
        k,
    );
    let k = format!("AIza{}", g.alnum(35));
    add("google-api-key", format!("maps key {k}"), k);
    let k = format!("{}==", g.from(B64, 83) + "a1Z");
    add(
        "azure-storage-key",
        format!(
            "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={k};EndpointSuffix=core.windows.net"
        ),
        k,
    );
    for p in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"] {
        let k = format!("{p}{}", g.alnum(36));
        add("github-token", format!("GitHub token {k}"), k);
    }
    let k = format!("github_pat_{}_{}", g.alnum(22), g.alnum(59));
    add("github-token", format!("fine-grained {k}"), k);
    let k = format!("glpat-{}", g.alnum(20));
    add("gitlab-token", format!("gitlab {k}"), k);
    let k = format!("sk-{}", g.alnum(48));
    add("openai-key", format!("openai {k}"), k);
    let k = format!("sk-proj-{}", g.alnum(120));
    add("openai-key", format!("project key {k}"), k);
    let k = format!("sk-ant-api03-{}", g.alnum(93));
    add("anthropic-key", format!("anthropic {k}"), k);
    let k = format!("hf_{}", g.alnum(34));
    add("huggingface-token", format!("hugging face {k}"), k);
    let k = format!(
        "xoxb-{}-{}-{}",
        g.from("0123456789", 12),
        g.from("0123456789", 13),
        g.alnum(24)
    );
    add("slack-token", format!("slack {k}"), k);
    let k = format!("sk_live_{}", g.alnum(24));
    add("stripe-key", format!("stripe {k}"), k);
    let k = format!("SK{}", g.from(HEX, 32));
    add("twilio-key", format!("twilio {k}"), k);
    let k = format!("SG.{}.{}", g.alnum(22), g.alnum(43));
    add("sendgrid-key", format!("sendgrid {k}"), k);
    let k = format!("npm_{}", g.alnum(36));
    add(
        "npm-token",
        format!("//registry.npmjs.org/:_authToken={k}"),
        k,
    );
    let k = format!("pypi-AgEIcHlwaS5vcmc{}", g.alnum(60));
    add("pypi-token", format!("password = {k}"), k);
    let k = format!(
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ{}.{}",
        g.alnum(20),
        g.alnum(43)
    );
    add("jwt", format!("session={k}"), k);
    let k = g.alnum(32);
    add(
        "bearer-token",
        format!("curl -H 'Authorization: Bearer {k}' https://api.example.com"),
        k,
    );
    let k = "YWRtaW46aHVudGVyMjEyMzQ1Ng==".to_string();
    add("basic-auth", format!("Authorization: Basic {k}"), k);
    let k = g.alnum(16);
    add(
        "url-password",
        format!("DATABASE_URL=postgres://admin:{k}@db.example.com:5432/app"),
        k,
    );
    let k = g.from("abcdefghijkmnpqrstuvwxyz23456789", 14);
    add("secret-assignment", format!("MY_SERVICE_SECRET={k}"), k);
    let k = g.from("abcdefghijkmnpqrstuvwxyz23456789", 12);
    add(
        "secret-assignment",
        format!("export DB_PASSWORD=\"{k}\""),
        k,
    );
    let k = g.alnum(24);
    add("secret-assignment", format!("{{\"api_key\": \"{k}\"}}"), k);
    let body = (0..6)
        .map(|_| g.from(B64, 64))
        .collect::<Vec<_>>()
        .join("\n");
    let k = body.lines().nth(2).unwrap().to_string();
    add(
        "private-key",
        format!("-----BEGIN OPENSSH PRIVATE KEY-----\n{body}\n-----END OPENSSH PRIVATE KEY-----"),
        k,
    );
    let k = g.alnum(40);
    add("high-entropy", format!("client_nonce = \"{k}\""), k);
    v
}

/// Values that look random but must stay.
fn look_alikes() -> Vec<String> {
    vec![
        "9fceb02d0ae598e95dc970b74767f19372d61af8".into(),
        "123e4567-e89b-12d3-a456-426614174000".into(),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".into(),
        "sha512-Q2x0YW5kZXI9dHJ1ZQ6lK9m1cPoZ8yQ4nX3vB7wR2sT5uV8aA1bC2dE3fG4hI5jK6Lmo==".into(),
    ]
}

/// A PNG of one pixel, as base64.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

/// Writes a Claude Code session holding the corpus in every field.
fn write_session(home: &Path) -> (String, Vec<(&'static str, String, String)>) {
    let corpus = corpus();
    let all: String = corpus
        .iter()
        .map(|(_, t, _)| t.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let looks = look_alikes().join("\n");
    let id = "5ec7e75e-0000-4000-8000-00000000c0de";
    let dir = home.join(".claude/projects/-work-secretive");
    std::fs::create_dir_all(&dir).unwrap();
    let mut lines: Vec<Value> = Vec::new();
    let base = |uuid: &str, parent: Option<&str>, kind: &str| {
        json!({
            "type": kind, "uuid": uuid, "parentUuid": parent, "sessionId": id,
            "cwd": "/work/secretive", "timestamp": "2026-11-20T10:00:00Z", "version": "2.0.0",
        })
    };
    let mut push = |mut v: Value, extra: Value| {
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        lines.push(v);
    };
    push(
        base("t0", None, "custom-title"),
        json!({"customTitle": format!("Title with {}", corpus[0].1)}),
    );
    push(
        base("u1", None, "user"),
        json!({"message": {"role": "user", "content": [
            {"type": "text", "text": format!("Here are my keys:\n{all}\nand hashes:\n{looks}")},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}
        ]}}),
    );
    push(
        base("a1", Some("u1"), "assistant"),
        json!({"message": {"id": "msg_1", "role": "assistant", "model": "claude-x",
            "content": [
                {"type": "thinking", "thinking": format!("Thinking about {all}"), "signature": "sig"},
                {"type": "text", "text": format!("I will not repeat them: {all}")},
                {"type": "tool_use", "id": "toolu_1", "name": "Bash",
                 "input": {"command": format!("echo '{all}'"), "description": "print secrets"}}
            ],
            "usage": {"input_tokens": 1, "output_tokens": 1}}}),
    );
    push(
        base("u2", Some("a1"), "user"),
        json!({"message": {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": format!("{all}\n{looks}")}
        ]}, "toolUseResult": {"stdout": all.clone(), "stderr": "", "interrupted": false}}),
    );
    push(
        base("a2", Some("u2"), "assistant"),
        json!({"message": {"id": "msg_2", "role": "assistant", "model": "claude-x",
            "content": [
                {"type": "tool_use", "id": "toolu_2", "name": "Read",
                 "input": {"file_path": "/work/secretive/.env"}},
            ],
            "usage": {"input_tokens": 1, "output_tokens": 1}}}),
    );
    push(
        base("u3", Some("a2"), "user"),
        json!({"message": {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_2", "content": all.clone()}
        ]}, "toolUseResult": {"type": "text", "file": {"filePath": "/work/secretive/.env",
            "content": all.clone(), "numLines": 40, "startLine": 1, "totalLines": 40}}}),
    );
    push(
        base("a3", Some("u3"), "assistant"),
        json!({"message": {"id": "msg_3", "role": "assistant", "model": "claude-x",
            "content": [
                {"type": "tool_use", "id": "toolu_3", "name": "Edit",
                 "input": {"file_path": "/work/secretive/config.py",
                           "old_string": format!("KEYS = '''{all}'''"),
                           "new_string": "KEYS = os.environ['KEYS']"}},
            ],
            "usage": {"input_tokens": 1, "output_tokens": 1}}}),
    );
    push(
        base("u4", Some("a3"), "user"),
        json!({"message": {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_3", "content": "ok"}
        ]}, "toolUseResult": {"filePath": "/work/secretive/config.py",
            "oldString": format!("KEYS = '''{all}'''"), "newString": "KEYS = os.environ['KEYS']",
            "structuredPatch": [{"oldStart": 1, "oldLines": 1, "newStart": 1, "newLines": 1,
                "lines": [format!("-KEYS = '''{}'''", corpus[5].1), "+KEYS = os.environ['KEYS']"]}]}}),
    );
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(dir.join(format!("{id}.jsonl")), text).unwrap();
    (id.to_string(), corpus)
}

fn assert_clean(what: &str, text: &str, corpus: &[(&str, String, String)]) {
    for (kind, _, secret) in corpus {
        assert!(
            !text.contains(secret.as_str()),
            "{what}: a {kind} survived: {secret}"
        );
    }
}

#[test]
fn no_secret_survives_any_output_and_look_alikes_stay() {
    let home = tempfile::tempdir().unwrap();
    let (id, corpus) = write_session(home.path());
    let out = home.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    for fmt in ["html", "md", "json"] {
        let file = out.join(format!("page.{fmt}"));
        let o = sharegen(home.path())
            .args(["export", &id, "-o"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let text = std::fs::read_to_string(&file).unwrap();
        assert_clean(fmt, &text, &corpus);
        // Redaction is visible, and every kind was named.
        for (kind, _, _) in &corpus {
            assert!(
                text.contains(&format!("[REDACTED:{kind}:")),
                "{fmt}: no [REDACTED:{kind}:…]"
            );
        }
        for l in look_alikes() {
            assert!(text.contains(&l), "{fmt}: look-alike {l} was changed");
        }
        if fmt == "html" {
            assert!(text.contains(PNG), "the image's base64 data was changed");
            assert!(text.contains("Title with AWS key [REDACTED:aws-access-key-id:"));
        }
    }
    // The JSON export is still a valid export document.
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("page.json")).unwrap()).unwrap();
    assert_eq!(doc["schema_version"], 1);

    // --no-redact writes them as they are, with a warning.
    let o = sharegen(home.path())
        .args(["export", &id, "--format", "md", "-o", "-", "--no-redact"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stderr).contains("redaction is off"));
    assert!(String::from_utf8_lossy(&o.stdout).contains(&corpus[1].2));

    // The site and a git branch it is published to.
    let o = sharegen(home.path())
        .args(["share", &id, "--yes"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let remote = home.path().join("remote.git");
    assert!(
        std::process::Command::new("git")
            .args(["init", "--bare", "-q"])
            .arg(&remote)
            .status()
            .unwrap()
            .success()
    );
    let o = sharegen(home.path())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args(["publish", "--git"])
        .arg(&remote)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for e in walkdir::WalkDir::new(home.path().join("sg/site"))
        .into_iter()
        .flatten()
    {
        if e.file_type().is_file() {
            let text = String::from_utf8_lossy(&std::fs::read(e.path()).unwrap()).to_string();
            assert_clean(&e.path().display().to_string(), &text, &corpus);
        }
    }
    let files = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(&remote)
        .args(["ls-tree", "-r", "--name-only", "gh-pages"])
        .output()
        .unwrap();
    let files = String::from_utf8(files.stdout).unwrap();
    assert!(files.contains("/index.html"));
    for f in files.lines() {
        let blob = std::process::Command::new("git")
            .arg("--git-dir")
            .arg(&remote)
            .args(["cat-file", "blob", &format!("gh-pages:{f}")])
            .output()
            .unwrap();
        assert_clean(f, &String::from_utf8_lossy(&blob.stdout), &corpus);
    }
}

#[test]
fn redact_check_reports_kinds_and_places_without_the_secrets() {
    let home = tempfile::tempdir().unwrap();
    let (id, corpus) = write_session(home.path());
    let o = sharegen(home.path())
        .args(["redact-check", &id, "--json"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    assert_clean("redact-check", &text, &corpus);
    let v: Value = serde_json::from_str(&text).unwrap();
    for (kind, _, _) in &corpus {
        assert!(
            v["counts"][kind].as_u64().unwrap_or(0) > 0,
            "{kind} not counted"
        );
    }
    let locations: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["location"].as_str().unwrap())
        .collect();
    for place in [
        "title",
        "text",
        "reasoning",
        "tool Bash input",
        "output",
        "file content",
        "diff",
    ] {
        assert!(
            locations.iter().any(|l| l.contains(place)),
            "nothing found in {place}: {locations:?}"
        );
    }
    // The page was not written anywhere.
    assert!(!home.path().join("sg/site").exists());
}

/// Every string field of the model is visited: a secret put into each
/// string of a real export document (except enums, ids and timestamps)
/// does not survive a redaction pass.
#[test]
fn every_string_field_of_the_model_is_redacted() {
    use sharegen::model::ExportDocument;
    let home = tempfile::tempdir().unwrap();
    copy_tree(
        &fixtures().join("projects"),
        &home.path().join(".claude/projects"),
    );
    let secret = "ghp_Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0Lm9Nb8";
    let skip = [
        "agent",
        "id",
        "role",
        "status",
        "state",
        "kind",
        "type",
        "time",
        "created",
        "updated",
        "tool_call_id",
        "child_session",
        "model",
        "models",
        "agent_version",
        "share_id",
        "generator",
        "mime",
    ];
    fn plant(v: &mut Value, key: Option<&str>, skip: &[&str], secret: &str, n: &mut usize) {
        match v {
            Value::String(s) if key.is_none_or(|k| !skip.contains(&k)) => {
                s.push_str(&format!(" {secret} "));
                *n += 1;
            }
            Value::Array(a) => {
                for x in a {
                    plant(x, key, skip, secret, n);
                }
            }
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    if k == "data" {
                        continue;
                    }
                    plant(x, Some(k), skip, secret, n);
                }
            }
            _ => {}
        }
    }
    for session in [
        "03eb5929-52b3-4b13-ada3-b93ae35806b8",
        "ef958aa1-0e93-49f0-bb71-150f63befcd1",
    ] {
        let o = sharegen(home.path())
            .args([
                "export",
                session,
                "--format",
                "json",
                "-o",
                "-",
                "--no-redact",
            ])
            .output()
            .unwrap();
        assert!(o.status.success());
        let mut v: Value = serde_json::from_slice(&o.stdout).unwrap();
        let mut planted = 0;
        plant(&mut v["session"], None, &skip, secret, &mut planted);
        assert!(planted > 20, "{planted}");
        let mut doc: ExportDocument = serde_json::from_value(v).unwrap();
        let cfg = sharegen::config::RedactConfig::default();
        let r = sharegen::redact::Redactor::new(&cfg, b"salt", Path::new("c")).unwrap();
        let report = r.apply(&mut doc.session);
        let after = serde_json::to_string(&doc).unwrap();
        let left = after.matches(secret).count();
        if left > 0 {
            let ctx: Vec<&str> = after
                .match_indices(secret)
                .map(|(i, _)| &after[i.saturating_sub(120)..i])
                .collect();
            panic!("{left} of {planted} planted secrets survived, after: {ctx:#?}");
        }
        assert!(report.findings.len() >= planted - report.stripped);
    }
}
