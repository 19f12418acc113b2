//! Hostile sessions: every payload of the corpus in every field of a
//! Claude Code transcript (with subagents) and of an OpenCode JSON store
//! (with a child session).
//!
//! Each field's value is `⟦field:n⟧`, a blank line, then payload `n`; the
//! tag says where a shown payload came from (see `Placed`). URL fields,
//! where a tag would spoil the scheme, get raw payloads instead.

use super::payloads::Payload;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// One payload placed in one field.
#[derive(Debug, Clone)]
pub struct Placed {
    pub field: String,
    pub n: usize,
    pub value: String,
}

/// A generated session: where it is, and what was placed where.
pub struct Generated {
    /// What to pass to `sharegen export`.
    pub path: PathBuf,
    pub title: String,
    pub placed: Vec<Placed>,
}

pub fn tag(field: &str, n: usize) -> String {
    format!("⟦{field}:{n}⟧")
}

struct Placer {
    placed: Vec<Placed>,
}

impl Placer {
    fn v(&mut self, field: &str, p: &Payload) -> String {
        let value = format!("{}\n\n{}", tag(field, p.n), p.text);
        self.placed.push(Placed {
            field: field.to_string(),
            n: p.n,
            value: value.clone(),
        });
        value
    }

    /// Every payload in one field, joined by `sep` (for session-wide
    /// fields: title, working directory, branch).
    fn all(&mut self, field: &str, ps: &[Payload], sep: &str) -> String {
        ps.iter()
            .map(|p| self.v(field, p))
            .collect::<Vec<_>>()
            .join(sep)
    }
}

/// URLs a file or image part may carry: none may become a link or load.
pub const HOSTILE_URLS: &[&str] = &[
    "javascript:document.title='PWNED-url';fetch('http://127.0.0.1:1/pwned/url')",
    "JaVaScRiPt:document.title='PWNED-url'",
    " javascript:document.title='PWNED-url'",
    "java\tscript:document.title='PWNED-url'",
    "\u{1}javascript:document.title='PWNED-url'",
    "vbscript:msgbox(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+",
    "data:image/png;base64,iVBORw0KGgo=\" onerror=\"document.title='PWNED-url'",
    "https://example.com/x.png\" onerror=\"document.title='PWNED-url'",
    "//example.com/x.png",
];

fn ts(k: usize) -> String {
    let t = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap()
        + chrono::Duration::seconds(k as i64);
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn write_jsonl(path: &Path, lines: &[Value]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut s = String::new();
    for l in lines {
        s.push_str(&serde_json::to_string(l).unwrap());
        s.push('\n');
    }
    std::fs::write(path, s).unwrap();
}

fn write_json(path: &Path, v: &Value) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_vec_pretty(v).unwrap()).unwrap();
}

/// Patch lines for a value: every line of it, as `sign` lines.
fn patch_lines(sign: char, value: &str) -> Vec<String> {
    value.split('\n').map(|l| format!("{sign}{l}")).collect()
}

/// The parent chain of a transcript: uuids, parents and timestamps.
struct Chain {
    k: usize,
    prev: Option<String>,
    envelope: Value,
}

impl Chain {
    fn push(&mut self, lines: &mut Vec<Value>, mut v: Value) {
        self.k += 1;
        let uuid = format!("00000000-0000-4000-8000-{:012}", self.k);
        v["uuid"] = json!(uuid);
        v["parentUuid"] = json!(self.prev);
        v["timestamp"] = json!(ts(self.k));
        // The whole envelope once (the reader keeps the first cwd and
        // the last branch); later lines carry only the session id.
        let envelope = if self.k == 1 {
            self.envelope.clone()
        } else {
            json!({"sessionId": self.envelope["sessionId"], "isSidechain": false})
        };
        for (key, val) in envelope.as_object().unwrap() {
            v[key] = val.clone();
        }
        self.prev = Some(uuid);
        lines.push(v);
    }
}

pub const CLAUDE_SESSION: &str = "5e551011-0000-4000-8000-0000000000cc";

/// A Claude Code project folder holding one hostile transcript and its
/// subagents.
pub fn claude(dir: &Path, ps: &[Payload]) -> Generated {
    let mut pl = Placer { placed: Vec::new() };
    let sid = CLAUDE_SESSION;
    let project = dir.join("projects").join("-hostile");
    let file = project.join(format!("{sid}.jsonl"));
    let title = pl.all("title", ps, " ");
    let cwd = pl.all("cwd", ps, " ");
    let branch = pl.all("branch", ps, " ");
    let mut lines = vec![json!({"type": "custom-title", "customTitle": title, "sessionId": sid})];
    let mut chain = Chain {
        k: 0,
        prev: None,
        envelope: json!({"sessionId": sid, "cwd": cwd, "gitBranch": branch, "version": "2.0.0", "isSidechain": false}),
    };
    for p in ps {
        let n = p.n;
        let aid = format!("a{n:04}");
        chain.push(
            &mut lines,
            json!({"type": "user", "message": {"role": "user", "content": pl.v("prompt", p)}}),
        );
        let tool = |name: &str, input: Value| -> Value {
            json!({"type": "tool_use", "id": format!("toolu_{n}_{}", name.to_ascii_lowercase()), "name": name, "input": input})
        };
        let mut content = vec![
            json!({"type": "thinking", "thinking": pl.v("thinking", p), "signature": "x"}),
            json!({"type": "text", "text": pl.v("text", p)}),
            tool(
                "Bash",
                json!({"command": pl.v("bash-command", p), "description": pl.v("bash-description", p)}),
            ),
            tool("Read", json!({"file_path": pl.v("read-path", p)})),
            tool(
                "Edit",
                json!({"file_path": pl.v("edit-path", p), "old_string": pl.v("edit-old", p), "new_string": pl.v("edit-new", p)}),
            ),
            tool(
                "Write",
                json!({"file_path": pl.v("write-path", p), "content": pl.v("write-content", p)}),
            ),
            tool(
                "WebFetch",
                json!({"url": pl.v("fetch-url", p), "prompt": pl.v("fetch-prompt", p)}),
            ),
            tool(
                "Grep",
                json!({"pattern": pl.v("grep-pattern", p), "path": pl.v("grep-path", p)}),
            ),
            tool(
                "TodoWrite",
                json!({"todos": [{"content": pl.v("todo", p), "status": "in_progress", "activeForm": "x"}]}),
            ),
            tool(
                "Task",
                json!({"description": pl.v("task-description", p), "prompt": pl.v("task-prompt", p), "subagent_type": pl.v("task-type", p)}),
            ),
        ];
        let other_name = pl.v("tool-name", p);
        content.push(json!({"type": "tool_use", "id": format!("toolu_{n}_other"), "name": other_name,
            "input": {"arg": pl.v("tool-input", p), "nested": {"list": [pl.v("tool-input-nested", p)]}}}));
        chain.push(
            &mut lines,
            json!({"type": "assistant", "requestId": format!("req_{n}"), "message": {
                "id": format!("msg_{n}"), "role": "assistant", "model": pl.v("model", p),
                "content": content,
                "usage": {"input_tokens": 10, "output_tokens": 5}}}),
        );
        let result = |chain: &mut Chain,
                      lines: &mut Vec<Value>,
                      id: &str,
                      content: Value,
                      extra: Value| {
            let mut v = json!({"type": "user", "message": {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": format!("toolu_{n}_{id}"), "content": content,
                 "is_error": id == "bash" && n % 2 == 1}]}});
            if !extra.is_null() {
                v["toolUseResult"] = extra;
            }
            chain.push(lines, v);
        };
        result(
            &mut chain,
            &mut lines,
            "bash",
            json!(pl.v("bash-output", p)),
            json!({"stdout": pl.v("bash-stdout", p), "stderr": pl.v("bash-stderr", p), "interrupted": false}),
        );
        result(
            &mut chain,
            &mut lines,
            "read",
            json!(pl.v("read-output", p)),
            json!({"type": "text", "file": {"filePath": pl.v("read-file-path", p), "content": pl.v("read-file-content", p), "numLines": 3, "startLine": 1, "totalLines": 3}}),
        );
        let old = pl.v("patch-old", p);
        let new = pl.v("patch-new", p);
        let mut hunk = patch_lines('-', &old);
        hunk.extend(patch_lines('+', &new));
        result(
            &mut chain,
            &mut lines,
            "edit",
            json!(pl.v("edit-output", p)),
            json!({"filePath": pl.v("patch-path", p), "oldString": "a", "newString": "b",
                "structuredPatch": [{"oldStart": 1, "oldLines": 1, "newStart": 1, "newLines": 1, "lines": hunk}]}),
        );
        result(
            &mut chain,
            &mut lines,
            "write",
            json!(pl.v("write-output", p)),
            json!({"type": "create", "filePath": pl.v("write-result-path", p), "content": pl.v("write-result-content", p), "structuredPatch": []}),
        );
        result(
            &mut chain,
            &mut lines,
            "webfetch",
            json!(pl.v("fetch-output", p)),
            Value::Null,
        );
        result(
            &mut chain,
            &mut lines,
            "grep",
            json!([{"type": "text", "text": pl.v("grep-output", p)}]),
            Value::Null,
        );
        result(
            &mut chain,
            &mut lines,
            "todowrite",
            json!(pl.v("todo-output", p)),
            json!({"oldTodos": [], "newTodos": [{"content": pl.v("new-todo", p), "status": "completed", "activeForm": "x"}]}),
        );
        result(
            &mut chain,
            &mut lines,
            "task",
            json!([{"type": "text", "text": pl.v("task-output", p)}, {"type": "text", "text": format!("agentId: {aid}")}]),
            json!({"agentId": aid, "status": "completed", "content": [{"type": "text", "text": "done"}]}),
        );
        result(
            &mut chain,
            &mut lines,
            "other",
            json!([{"type": "text", "text": pl.v("other-output", p)},
                   {"type": "image", "source": {"type": "base64", "media_type": "image/svg+xml", "data": "PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+"}},
                   {"type": "weird", "text": pl.v("other-unknown-block", p)}]),
            Value::Null,
        );
        chain.push(
            &mut lines,
            json!({"type": "system", "subtype": "informational", "level": "info", "content": pl.v("system", p)}),
        );
        chain.push(
            &mut lines,
            json!({"type": "user", "isMeta": true, "message": {"role": "user", "content": pl.v("meta", p)}}),
        );
        // The subagent the Task call started.
        let sub = project
            .join(sid)
            .join("subagents")
            .join(format!("agent-{aid}.jsonl"));
        let sub_lines = vec![
            json!({"type": "user", "uuid": format!("{aid}-1"), "parentUuid": null, "timestamp": ts(chain.k), "sessionId": sid,
                "agentId": aid, "isSidechain": true, "cwd": "/x",
                "message": {"role": "user", "content": pl.v("subagent-prompt", p)}}),
            json!({"type": "assistant", "uuid": format!("{aid}-2"), "parentUuid": format!("{aid}-1"), "timestamp": ts(chain.k),
                "sessionId": sid, "agentId": aid, "isSidechain": true,
                "message": {"id": format!("sub_{n}"), "role": "assistant", "model": pl.v("subagent-model", p),
                    "content": [{"type": "text", "text": pl.v("subagent-text", p)}]}}),
        ];
        write_jsonl(&sub, &sub_lines);
        write_json(
            &sub.with_extension("meta.json"),
            &json!({"agentType": pl.v("subagent-type", p), "description": pl.v("subagent-description", p)}),
        );
    }
    // Attachments, once: hostile images, documents and URLs.
    let mut blocks = vec![
        json!({"type": "text", "text": "attachments"}),
        json!({"type": "image", "source": {"type": "base64", "media_type": "image/svg+xml", "data": "PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+"}}),
        json!({"type": "image", "source": {"type": "base64", "media_type": "image/png\" onerror=\"document.title='PWNED-mime'", "data": "iVBORw0KGgo="}}),
        json!({"type": "document", "title": pl.v("document-title", &ps[20]), "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="}}),
    ];
    for u in HOSTILE_URLS {
        blocks.push(json!({"type": "image", "source": {"type": "url", "url": u}}));
    }
    chain.push(
        &mut lines,
        json!({"type": "user", "message": {"role": "user", "content": blocks}}),
    );
    write_jsonl(&file, &lines);
    Generated {
        path: file,
        title,
        placed: pl.placed,
    }
}

pub const OC_MAIN: &str = "ses_xssmain0000000000000000";
pub const OC_CHILD: &str = "ses_xsschild000000000000000";

/// An OpenCode JSON store (the v1.1 layout) holding one hostile session
/// and a child session its `task` call started.
pub fn opencode(dir: &Path, ps: &[Payload]) -> Generated {
    let mut pl = Placer { placed: Vec::new() };
    let store = dir.join("storage");
    let project = "0123456789abcdef0123456789abcdef01234567";
    let title = pl.all("oc-title", ps, " ");
    let directory = pl.all("oc-directory", ps, " ");
    let t0: i64 = 1_767_225_600_000;
    write_json(
        &store
            .join("session")
            .join(project)
            .join(format!("{OC_MAIN}.json")),
        &json!({"id": OC_MAIN, "slug": "x", "version": "1.1.49", "projectID": project, "directory": directory,
            "title": title, "time": {"created": t0, "updated": t0 + 1_000_000}}),
    );
    let mut diffs = Vec::new();
    for p in ps {
        let n = p.n;
        let t = t0 + (n as i64) * 1000;
        let user = format!("msg_{n:04}a");
        let asst = format!("msg_{n:04}b");
        write_json(
            &store
                .join("message")
                .join(OC_MAIN)
                .join(format!("{user}.json")),
            &json!({"id": user, "sessionID": OC_MAIN, "role": "user", "time": {"created": t},
                "summary": {"title": pl.v("oc-summary-title", p), "diffs": []}, "agent": "build",
                "model": {"providerID": "anthropic", "modelID": "m"}}),
        );
        let mut info = json!({"id": asst, "sessionID": OC_MAIN, "role": "assistant",
            "time": {"created": t + 1, "completed": t + 900}, "parentID": user,
            "modelID": pl.v("oc-model", p), "providerID": "anthropic", "mode": "build", "agent": "build",
            "path": {"cwd": "/x", "root": "/"}, "cost": 0.001, "finish": "stop",
            "tokens": {"input": 2, "output": 7, "reasoning": 0, "cache": {"read": 1, "write": 0}}});
        if n % 2 == 1 {
            info["error"] = json!({"name": "APIError", "data": {"message": pl.v("oc-error", p)}});
        }
        write_json(
            &store
                .join("message")
                .join(OC_MAIN)
                .join(format!("{asst}.json")),
            &info,
        );
        let part = |k: usize, mid: &str, v: Value| {
            let pid = format!("prt_{n:04}{k:02}");
            let mut v = v;
            v["id"] = json!(pid);
            v["sessionID"] = json!(OC_MAIN);
            v["messageID"] = json!(mid);
            write_json(
                &store.join("part").join(mid).join(format!("{pid}.json")),
                &v,
            );
        };
        part(
            0,
            &user,
            json!({"type": "text", "text": pl.v("oc-prompt", p)}),
        );
        part(
            1,
            &user,
            json!({"type": "file", "mime": "text/plain", "filename": pl.v("oc-filename", p), "url": "file:///tmp/x.txt"}),
        );
        part(
            2,
            &user,
            json!({"type": "agent", "name": pl.v("oc-agent", p)}),
        );
        part(
            3,
            &user,
            json!({"type": "subtask", "agent": "general", "description": pl.v("oc-subtask-description", p), "prompt": pl.v("oc-subtask-prompt", p)}),
        );
        let time = json!({"start": t + 10, "end": t + 20});
        let tool = |tool: &str, state: Value| json!({"type": "tool", "callID": format!("call_{n}_{tool}"), "tool": tool, "state": state});
        let parts = vec![
            json!({"type": "step-start", "snapshot": "abc"}),
            json!({"type": "reasoning", "text": pl.v("oc-reasoning", p), "time": {"start": t, "end": t + 1}}),
            json!({"type": "text", "text": pl.v("oc-text", p)}),
            json!({"type": "text", "synthetic": true, "text": pl.v("oc-synthetic", p)}),
            tool(
                "bash",
                json!({"status": "completed", "input": {"command": pl.v("oc-bash-command", p), "description": pl.v("oc-bash-description", p)},
                "output": pl.v("oc-bash-output", p), "title": pl.v("oc-bash-title", p),
                "metadata": {"output": pl.v("oc-bash-metadata", p), "exit": 1, "description": "d"}, "time": time}),
            ),
            tool(
                "read",
                json!({"status": "completed", "input": {"filePath": pl.v("oc-read-path", p)},
                "output": pl.v("oc-read-output", p), "title": "t", "metadata": {}, "time": time}),
            ),
            tool(
                "edit",
                json!({"status": "completed", "input": {"filePath": pl.v("oc-edit-path", p), "oldString": pl.v("oc-edit-old", p), "newString": pl.v("oc-edit-new", p)},
                "output": pl.v("oc-edit-output", p), "title": "t",
                "metadata": {"filediff": {"file": pl.v("oc-filediff-path", p), "before": pl.v("oc-filediff-before", p), "after": pl.v("oc-filediff-after", p), "additions": 1, "deletions": 1}},
                "time": time}),
            ),
            tool(
                "write",
                json!({"status": "completed", "input": {"filePath": pl.v("oc-write-path", p), "content": pl.v("oc-write-content", p)},
                "output": "", "title": "t", "metadata": {}, "time": time}),
            ),
            tool(
                "webfetch",
                json!({"status": "completed", "input": {"url": pl.v("oc-fetch-url", p), "format": "markdown"},
                "output": pl.v("oc-fetch-output", p), "title": "t", "metadata": {}, "time": time}),
            ),
            tool(
                "todowrite",
                json!({"status": "completed", "input": {"todos": []}, "output": "", "title": "t",
                "metadata": {"todos": [{"content": pl.v("oc-todo", p), "status": "pending", "priority": "high", "id": "1"}]}, "time": time}),
            ),
            tool(
                &pl.v("oc-tool-name", p),
                json!({"status": "completed", "input": {"x": pl.v("oc-tool-input", p)},
                "output": pl.v("oc-tool-output", p), "title": pl.v("oc-tool-title", p),
                "metadata": {"m": pl.v("oc-tool-metadata", p)}, "time": time}),
            ),
            tool(
                "grep",
                json!({"status": "error", "input": {"pattern": pl.v("oc-grep-pattern", p)},
                "error": pl.v("oc-tool-error", p), "time": time}),
            ),
            json!({"type": "patch", "hash": "abc", "files": [pl.v("oc-patch-file", p)]}),
            json!({"type": "retry", "attempt": 1, "error": {"name": "APIError", "data": {"message": pl.v("oc-retry", p)}}}),
            json!({"type": "step-finish", "reason": pl.v("oc-finish", p), "cost": 0.001,
                "tokens": {"input": 1, "output": 1, "reasoning": 0, "cache": {"read": 0, "write": 0}}}),
        ];
        for (k, v) in parts.into_iter().enumerate() {
            part(k, &asst, v);
        }
        diffs.push(json!({"file": pl.v("oc-session-diff-path", p), "before": pl.v("oc-session-diff-before", p),
            "after": pl.v("oc-session-diff-after", p), "additions": 1, "deletions": 1}));
    }
    // Hostile attachments, and the task call that started the child.
    let last = ps.len();
    let amsg = format!("msg_{last:04}b");
    let t = t0 + (last as i64) * 1000;
    write_json(
        &store
            .join("message")
            .join(OC_MAIN)
            .join(format!("{amsg}.json")),
        &json!({"id": amsg, "sessionID": OC_MAIN, "role": "assistant", "time": {"created": t, "completed": t + 5},
            "modelID": "m", "providerID": "p", "mode": "build", "agent": "build", "path": {"cwd": "/", "root": "/"},
            "cost": 0, "tokens": {"input": 0, "output": 0, "reasoning": 0, "cache": {"read": 0, "write": 0}}}),
    );
    let mut k = 0;
    let mut apart = |v: Value| {
        let pid = format!("prt_{last:04}{k:02}");
        k += 1;
        let mut v = v;
        v["id"] = json!(pid);
        v["sessionID"] = json!(OC_MAIN);
        v["messageID"] = json!(amsg);
        write_json(
            &store.join("part").join(&amsg).join(format!("{pid}.json")),
            &v,
        );
    };
    for u in HOSTILE_URLS {
        apart(json!({"type": "file", "mime": "image/png", "filename": "f", "url": u}));
        apart(json!({"type": "file", "mime": "text/html", "filename": "g", "url": u}));
    }
    apart(
        json!({"type": "file", "mime": "image/svg+xml", "filename": "s", "url": "data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+"}),
    );
    let p0 = &ps[0];
    apart(
        json!({"type": "tool", "callID": "call_task", "tool": "task", "state": {
        "status": "completed",
        "input": {"description": pl.v("oc-task-description", p0), "prompt": pl.v("oc-task-prompt", p0), "subagent_type": pl.v("oc-task-type", p0)},
        "output": pl.v("oc-task-output", p0), "title": "t",
        "metadata": {"sessionId": OC_CHILD}, "time": {"start": t, "end": t + 1}}}),
    );
    write_json(
        &store.join("session_diff").join(format!("{OC_MAIN}.json")),
        &Value::Array(diffs),
    );
    // The child session.
    write_json(
        &store
            .join("session")
            .join(project)
            .join(format!("{OC_CHILD}.json")),
        &json!({"id": OC_CHILD, "parentID": OC_MAIN, "projectID": project, "directory": "/x", "version": "1.1.49",
            "title": pl.all("oc-child-title", &ps[..5], " "), "time": {"created": t, "updated": t + 10}}),
    );
    for p in ps {
        let n = p.n;
        let mid = format!("msg_{n:04}c");
        let ct = t + 10 + n as i64;
        let role = if n % 2 == 0 { "user" } else { "assistant" };
        let mut info = json!({"id": mid, "sessionID": OC_CHILD, "role": role, "time": {"created": ct, "completed": ct + 1}});
        if role == "assistant" {
            info["modelID"] = json!("m");
            info["providerID"] = json!("p");
        }
        write_json(
            &store
                .join("message")
                .join(OC_CHILD)
                .join(format!("{mid}.json")),
            &info,
        );
        let pid = format!("prt_{n:04}c0");
        write_json(
            &store.join("part").join(&mid).join(format!("{pid}.json")),
            &json!({"id": pid, "sessionID": OC_CHILD, "messageID": mid, "type": "text", "text": pl.v("oc-child-text", p)}),
        );
    }
    Generated {
        path: store,
        title,
        placed: pl.placed,
    }
}
