//! Tool calls: canonical names, inputs and the structured extras OpenCode
//! keeps in a tool's `metadata` (1.x) or `structured` (2.x) result.
//!
//! Canonical tool names. OpenCode renamed some tools between versions; the
//! model keeps one lowercase name per built-in tool so every generation
//! reads the same:
//!
//! | canonical | recorded as |
//! |---|---|
//! | `bash` | `bash` (≤ 1.x), `shell` (2.x) |
//! | `apply_patch` | `apply_patch` (1.x), `patch` (early builds and 2.x) |
//! | `list` | `list`, `ls` |
//! | `read`, `write`, `edit`, `multiedit`, `grep`, `glob`, `webfetch`, `websearch`, `codesearch`, `task`, `todowrite`, `todoread`, `question`, `skill`, `batch`, `lsp`, `plan_enter`, `plan_exit`, `invalid` | the same name |
//!
//! Built-in names are matched case-insensitively. Any other name (MCP tools
//! `<server>_<tool>`, plugin tools) is kept as recorded.
//!
//! Inputs: the file tools (`read`, `write`, `edit`, `multiedit`) take
//! `filePath` in 1.x and `path` in 2.x; the model always carries
//! `filePath`. A 2.x pending input recorded as partial JSON text is parsed
//! when it is complete JSON and kept as a string otherwise.

use super::value::{
    as_i64, as_u64, display, duration, into_display, parse_json, str_at, text_at, time_field,
};
use crate::model::{FileContent, FileDiff, FilePart, Todo, ToolCall, ToolExtras, ToolStatus};
use serde_json::{Map, Value};

const BUILTIN: &[&str] = &[
    "bash",
    "read",
    "write",
    "edit",
    "multiedit",
    "apply_patch",
    "grep",
    "glob",
    "list",
    "webfetch",
    "websearch",
    "codesearch",
    "task",
    "todowrite",
    "todoread",
    "question",
    "skill",
    "batch",
    "lsp",
    "plan_enter",
    "plan_exit",
    "invalid",
];

/// The canonical name of a tool (see the module documentation).
pub(super) fn canonical_name(name: &str) -> String {
    let lower = name.trim().to_ascii_lowercase();
    match lower.as_str() {
        "shell" => "bash".to_string(),
        "patch" => "apply_patch".to_string(),
        "ls" => "list".to_string(),
        n if BUILTIN.contains(&n) => lower,
        _ => name.to_string(),
    }
}

fn is_file_tool(name: &str) -> bool {
    matches!(name, "read" | "write" | "edit" | "multiedit")
}

/// The input in the canonical form for the tool `name` (already canonical).
fn normalize_input(name: &str, input: Option<&Value>) -> Value {
    let mut input = match input {
        None => Value::Object(Map::new()),
        Some(Value::String(s)) => parse_json(s).unwrap_or_else(|_| Value::String(s.clone())),
        Some(v) => v.clone(),
    };
    if is_file_tool(name) {
        rename_path(&mut input);
        if let Some(Value::Array(edits)) = input.get_mut("edits") {
            edits.iter_mut().for_each(rename_path);
        }
    }
    input
}

fn rename_path(v: &mut Value) {
    if let Value::Object(map) = v
        && !map.contains_key("filePath")
        && map.get("path").is_some_and(Value::is_string)
        && let Some(p) = map.remove("path")
    {
        map.insert("filePath".to_string(), p);
    }
}

fn status_of(state: &Value) -> ToolStatus {
    match str_at(state, "status") {
        Some("running") => ToolStatus::Running,
        Some("completed") => ToolStatus::Completed,
        Some("error") => ToolStatus::Error,
        _ => ToolStatus::Pending,
    }
}

/// Error text of a tool error, which is a string in 1.x and may be an
/// object in 2.x.
fn error_text(v: Option<&Value>) -> Option<String> {
    let v = v?;
    match v {
        Value::Object(_) => text_at(v, "message")
            .or_else(|| v.get("data").and_then(|d| text_at(d, "message")))
            .map(str::to_string)
            .or_else(|| display(v)),
        other => display(other),
    }
}

fn is_abort_error(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    t.contains("aborted") || t.contains("interrupted")
}

/// A tool part of a 1.x message (`{type:"tool", callID, tool, state}`).
/// `ended` is whether its message has ended (completed, failed or
/// aborted): a call still pending or running then was interrupted.
/// The output is taken out of `part`, not copied.
pub(super) fn from_part(part: &mut Value, ended: bool) -> ToolCall {
    let null = Value::Null;
    let status = status_of(part.get("state").unwrap_or(&null));
    let output = match status {
        ToolStatus::Completed => part
            .get_mut("state")
            .and_then(|s| s.get_mut("output"))
            .map(Value::take)
            .and_then(into_display),
        ToolStatus::Error => error_text(part.get("state").and_then(|s| s.get("error"))),
        _ => None,
    };
    let part = &*part;
    let state = part.get("state").unwrap_or(&null);
    let name = canonical_name(str_at(part, "tool").unwrap_or(""));
    let mut input = normalize_input(&name, state.get("input"));
    if status == ToolStatus::Pending
        && input.as_object().is_some_and(Map::is_empty)
        && let Some(raw) = text_at(state, "raw")
    {
        input = parse_json(raw).unwrap_or_else(|_| Value::String(raw.to_string()));
    }
    let meta = state.get("metadata").unwrap_or(&null);
    let mut attachments = Vec::new();
    if let Some(Value::Array(items)) = state.get("attachments") {
        attachments.extend(items.iter().filter_map(file_part));
    }
    let id = str_at(part, "callID")
        .or_else(|| str_at(part, "id"))
        .unwrap_or("")
        .to_string();
    let duration_ms = duration(time_field(state, "start"), time_field(state, "end"));
    let title = text_at(state, "title").map(str::to_string);
    let extras = extras(
        &name,
        &input,
        meta,
        output.as_deref(),
        status,
        ended,
        attachments,
    );
    ToolCall {
        id,
        name,
        input,
        output,
        status,
        title,
        duration_ms,
        extras,
    }
}

/// A tool item of a 2.x assistant message
/// (`{type:"tool", id, name, state, time}`); `ended` as for [`from_part`].
pub(super) fn from_v2_item(item: &Value, ended: bool) -> ToolCall {
    let null = Value::Null;
    let state = item.get("state").unwrap_or(&null);
    let name = canonical_name(
        str_at(item, "name")
            .or_else(|| str_at(item, "tool"))
            .unwrap_or(""),
    );
    let status = status_of(state);
    let input = normalize_input(&name, state.get("input"));
    let mut texts = Vec::new();
    let mut attachments = Vec::new();
    if let Some(Value::Array(content)) = state.get("content") {
        for c in content {
            match str_at(c, "type") {
                Some("text") => texts.extend(str_at(c, "text").map(str::to_string)),
                Some("file") => attachments.extend(file_part(c)),
                _ => {}
            }
        }
    }
    if let Some(Value::Array(items)) = state.get("attachments") {
        attachments.extend(items.iter().filter_map(file_part));
    }
    let content_text = (!texts.is_empty()).then(|| texts.join("\n"));
    let output = match status {
        ToolStatus::Completed => content_text.or_else(|| state.get("result").and_then(display)),
        ToolStatus::Error => error_text(state.get("error")).or(content_text),
        _ => None,
    };
    let meta = match state.get("structured") {
        Some(s) if s.is_object() => s,
        _ => state.get("metadata").unwrap_or(&null),
    };
    let id = str_at(item, "id")
        .or_else(|| str_at(item, "callID"))
        .unwrap_or("")
        .to_string();
    let time = item.get("time").unwrap_or(&null);
    let start = time
        .get("ran")
        .or_else(|| time.get("created"))
        .and_then(as_i64);
    let duration_ms = duration(start, time.get("completed").and_then(as_i64));
    let title = text_at(state, "title").map(str::to_string);
    let extras = extras(
        &name,
        &input,
        meta,
        output.as_deref(),
        status,
        ended,
        attachments,
    );
    ToolCall {
        id,
        name,
        input,
        output,
        status,
        title,
        duration_ms,
        extras,
    }
}

/// A `FilePart`-like object (`{mime, filename, url}`; 2.x may use `uri` and
/// `name`). `data:` URLs become inline base64 data.
pub(super) fn file_part(v: &Value) -> Option<FilePart> {
    if !v.is_object() {
        return None;
    }
    let mime = str_at(v, "mime")
        .or_else(|| str_at(v, "mediaType"))
        .map(str::to_string);
    let name = str_at(v, "filename")
        .or_else(|| str_at(v, "name"))
        .map(str::to_string);
    let url = str_at(v, "url").or_else(|| str_at(v, "uri"));
    let (data, url) = match url {
        Some(u) if u.starts_with("data:") => match u.split_once(";base64,") {
            Some((_, b64)) => (Some(b64.to_string()), None),
            None => (None, Some(u.to_string())),
        },
        Some(u) => (None, Some(u.to_string())),
        None => (str_at(v, "data").map(str::to_string), None),
    };
    if mime.is_none() && name.is_none() && url.is_none() && data.is_none() {
        return None;
    }
    Some(FilePart {
        mime,
        name,
        data,
        url,
    })
}

fn extras(
    name: &str,
    input: &Value,
    meta: &Value,
    output: Option<&str>,
    status: ToolStatus,
    ended: bool,
    attachments: Vec<FilePart>,
) -> ToolExtras {
    let file_path = str_at(input, "filePath");
    let mut x = ToolExtras {
        diffs: diffs(meta, file_path),
        attachments,
        ..ToolExtras::default()
    };
    match name {
        "read" if status == ToolStatus::Completed => {
            x.file = file_path
                .zip(output)
                .and_then(|(p, out)| read_content(p, out));
        }
        "write" => {
            x.file = file_path
                .zip(str_at(input, "content"))
                .map(|(p, c)| FileContent {
                    path: p.to_string(),
                    content: c.to_string(),
                    start_line: None,
                    total_lines: None,
                });
        }
        "todowrite" | "todoread" => {
            x.todos = todos(meta.get("todos")).or_else(|| todos(input.get("todos")));
        }
        "task" => {
            x.child_session = text_at(meta, "sessionId")
                .or_else(|| text_at(meta, "sessionID"))
                .map(str::to_string)
                .or_else(|| output.and_then(task_id_in_output));
        }
        _ => {}
    }
    x.exit_code = meta.get("exit").and_then(as_i64);
    let interrupted = match status {
        ToolStatus::Pending | ToolStatus::Running => ended,
        ToolStatus::Error => output.is_some_and(is_abort_error),
        ToolStatus::Completed => false,
    };
    if interrupted {
        x.interrupted = Some(true);
    }
    x
}

/// Diffs from a tool's metadata: `files` (apply_patch, one per file),
/// `filediff` (edit/write; 2.x has a patch instead of before/after) or a
/// bare unified `diff`.
fn diffs(meta: &Value, file_path: Option<&str>) -> Vec<FileDiff> {
    if let Some(Value::Array(files)) = meta.get("files") {
        let out: Vec<FileDiff> = files.iter().filter_map(patch_file).collect();
        if !out.is_empty() {
            return out;
        }
    }
    let unified = text_at(meta, "diff");
    match meta.get("filediff") {
        Some(Value::Array(items)) => {
            let out: Vec<FileDiff> = items
                .iter()
                .filter_map(|d| file_diff(d, file_path))
                .collect();
            if !out.is_empty() {
                return out;
            }
        }
        Some(d) => {
            if let Some(mut fd) = file_diff(d, file_path) {
                if fd.patch.is_none() {
                    fd.patch = unified.map(str::to_string);
                }
                return vec![fd];
            }
        }
        None => {}
    }
    match unified {
        Some(patch) => vec![FileDiff {
            path: file_path
                .map(str::to_string)
                .or_else(|| index_path(patch))
                .unwrap_or_default(),
            patch: Some(patch.to_string()),
            ..FileDiff::default()
        }],
        None => Vec::new(),
    }
}

/// One entry of `metadata.files` of apply_patch.
fn patch_file(f: &Value) -> Option<FileDiff> {
    let path = str_at(f, "movePath")
        .or_else(|| str_at(f, "relativePath"))
        .or_else(|| str_at(f, "filePath"))
        .or_else(|| str_at(f, "file"))?;
    let status = str_at(f, "type").map(|t| {
        match t {
            "add" => "added",
            "update" => "modified",
            "delete" => "deleted",
            "move" => "moved",
            other => other,
        }
        .to_string()
    });
    Some(FileDiff {
        path: path.to_string(),
        status,
        before: str_at(f, "before").map(str::to_string),
        after: str_at(f, "after").map(str::to_string),
        patch: text_at(f, "diff")
            .or_else(|| text_at(f, "patch"))
            .map(str::to_string),
        hunks: Vec::new(),
        additions: f.get("additions").and_then(as_u64),
        deletions: f.get("deletions").and_then(as_u64),
    })
}

/// A `FileDiff` record (`{file, before, after, additions, deletions,
/// status?}` or 2.x `{file, patch, additions, deletions}`), also used for
/// `session_diff` and session summaries.
pub(super) fn file_diff(d: &Value, fallback_path: Option<&str>) -> Option<FileDiff> {
    if !d.is_object() {
        return None;
    }
    let path = str_at(d, "file")
        .or_else(|| str_at(d, "path"))
        .or(fallback_path)?;
    Some(FileDiff {
        path: path.to_string(),
        status: str_at(d, "status").map(str::to_string),
        before: str_at(d, "before").map(str::to_string),
        after: str_at(d, "after").map(str::to_string),
        patch: text_at(d, "patch").map(str::to_string),
        hunks: Vec::new(),
        additions: d.get("additions").and_then(as_u64),
        deletions: d.get("deletions").and_then(as_u64),
    })
}

/// The path of the first `Index: <path>` header of a unified diff.
fn index_path(patch: &str) -> Option<String> {
    patch
        .lines()
        .find_map(|l| l.strip_prefix("Index: "))
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
}

fn todos(v: Option<&Value>) -> Option<Vec<Todo>> {
    let Value::Array(items) = v? else {
        return None;
    };
    Some(
        items
            .iter()
            .filter_map(|t| {
                Some(Todo {
                    content: str_at(t, "content")?.to_string(),
                    status: str_at(t, "status").unwrap_or("pending").to_string(),
                    priority: str_at(t, "priority").map(str::to_string),
                })
            })
            .collect(),
    )
}

/// The child session id from a task output starting `task_id: ses_…`.
fn task_id_in_output(output: &str) -> Option<String> {
    let rest = output.trim_start().strip_prefix("task_id:")?.trim_start();
    let id: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    id.starts_with("ses_").then_some(id)
}

/// The file content in a read tool's output. 1.2 writes
/// `<content>1: line…\n\n(End of file - total N lines)\n</content>`;
/// older builds `<file>\n00001| line…\n</file>`. Directory listings and
/// outputs without numbered lines yield nothing.
fn read_content(path: &str, output: &str) -> Option<FileContent> {
    if output.contains("<type>directory</type>") {
        return None;
    }
    let body = between(output, "<content>", "</content>")
        .or_else(|| between(output, "<file>", "</file>"))?;
    let mut lines = Vec::new();
    let mut start = None;
    let mut total = None;
    for line in body.lines() {
        if let Some((n, text)) = numbered_line(line) {
            start.get_or_insert(n);
            lines.push(text);
        } else if let Some(t) = line
            .split_once("total ")
            .and_then(|(_, r)| r.split_whitespace().next())
            .and_then(|n| n.parse::<u64>().ok())
        {
            total = Some(t);
        }
    }
    if lines.is_empty() && total.is_none() {
        return None;
    }
    Some(FileContent {
        path: path.to_string(),
        content: lines.join("\n"),
        start_line: start,
        total_lines: total,
    })
}

fn between<'a>(s: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let from = s.find(open)? + open.len();
    let to = s[from..].rfind(close).map_or(s.len(), |i| from + i);
    Some(&s[from..to])
}

/// `12: text` (1.2) or `00012| text` (older).
fn numbered_line(line: &str) -> Option<(u64, &str)> {
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let n = line[..digits].parse().ok()?;
    let rest = &line[digits..];
    let rest = rest.strip_prefix(':').or_else(|| rest.strip_prefix('|'))?;
    Some((n, rest.strip_prefix(' ').unwrap_or(rest)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_are_canonical() {
        assert_eq!(canonical_name("shell"), "bash");
        assert_eq!(canonical_name("Bash"), "bash");
        assert_eq!(canonical_name("patch"), "apply_patch");
        assert_eq!(canonical_name("apply_patch"), "apply_patch");
        assert_eq!(
            canonical_name("context7_resolve-library-id"),
            "context7_resolve-library-id"
        );
        assert_eq!(canonical_name("github_createIssue"), "github_createIssue");
    }

    #[test]
    fn file_tool_inputs_use_file_path() {
        let v2 = normalize_input("read", Some(&json!({"path": "src/a.rs"})));
        assert_eq!(v2, json!({"filePath": "src/a.rs"}));
        let grep = normalize_input("grep", Some(&json!({"path": "src"})));
        assert_eq!(grep, json!({"path": "src"}));
        let partial = normalize_input("bash", Some(&json!("{\"command\":\"ls")));
        assert_eq!(partial, json!("{\"command\":\"ls"));
    }

    #[test]
    fn read_output_becomes_file_content() {
        let out = "<path>/a/TODO.md</path>\n<type>file</type>\n<content>1: # Repo\n2: \n3: - x\n\n(End of file - total 3 lines)\n</content>";
        let f = read_content("/a/TODO.md", out).unwrap();
        assert_eq!(f.content, "# Repo\n\n- x");
        assert_eq!((f.start_line, f.total_lines), (Some(1), Some(3)));
        let old = "<file>\n00010| fn main() {}\n00011| \n</file>";
        let f = read_content("m.rs", old).unwrap();
        assert_eq!(
            (f.content.as_str(), f.start_line),
            ("fn main() {}\n", Some(10))
        );
        let dir = "<path>/a</path>\n<type>directory</type>\n<entries>\nx/\n</entries>";
        assert!(read_content("/a", dir).is_none());
    }

    #[test]
    fn v2_tools_map_to_the_same_model() {
        let item = json!({
            "type": "tool", "id": "call_1", "name": "shell",
            "state": {"status": "completed", "input": {"command": "ls"},
                      "content": [{"type": "text", "text": "a\nb"}],
                      "structured": {"exit": 0}},
            "time": {"created": 100, "ran": 110, "completed": 150}
        });
        let c = from_v2_item(&item, false);
        assert_eq!(c.name, "bash");
        assert_eq!(c.output.as_deref(), Some("a\nb"));
        assert_eq!(c.extras.exit_code, Some(0));
        assert_eq!(c.duration_ms, Some(40));
    }

    #[test]
    fn task_output_names_the_child() {
        assert_eq!(
            task_id_in_output("task_id: ses_39c0 (for resuming)").as_deref(),
            Some("ses_39c0")
        );
        assert_eq!(task_id_in_output("done"), None);
    }
}
