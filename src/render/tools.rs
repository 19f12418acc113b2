//! One view per kind of tool: shell, read, edit/patch, write, search,
//! todo, web, task (subagent), and pretty JSON for the rest.

use super::markdown::escape_into;
use super::{ansi, diff, highlight};
use crate::model::{FileDiff, Part, Role, Session, ToolCall, ToolStatus};
use serde_json::Value;

/// Lines shown before "show all".
pub const CLIP_LINES: usize = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolKind {
    Shell,
    Read,
    Edit,
    Write,
    Patch,
    Search,
    Todo,
    WebFetch,
    WebSearch,
    Task,
    Other,
}

impl ToolKind {
    pub fn of(name: &str) -> ToolKind {
        let n = name.to_ascii_lowercase();
        match n.as_str() {
            "bash" | "shell" | "bashoutput" | "local_shell" | "exec_command" | "shell_command"
            | "run_shell_command" | "killshell" | "monitor" => ToolKind::Shell,
            "read" | "view" | "read_file" | "notebookread" => ToolKind::Read,
            "edit" | "multiedit" | "str_replace_editor" | "notebookedit" | "replace" => {
                ToolKind::Edit
            }
            "write" | "write_file" | "create" => ToolKind::Write,
            "apply_patch" | "patch" => ToolKind::Patch,
            "grep"
            | "glob"
            | "ls"
            | "list"
            | "codesearch"
            | "search_file_content"
            | "list_directory" => ToolKind::Search,
            "todowrite" | "todoread" | "todo_write" | "update_plan" => ToolKind::Todo,
            "webfetch" | "web_fetch" | "fetch" => ToolKind::WebFetch,
            "websearch" | "web_search" | "google_web_search" => ToolKind::WebSearch,
            "task" | "agent" => ToolKind::Task,
            _ => ToolKind::Other,
        }
    }

    pub fn class(self) -> &'static str {
        match self {
            ToolKind::Shell => "shell",
            ToolKind::Read => "read",
            ToolKind::Edit => "edit",
            ToolKind::Write => "write",
            ToolKind::Patch => "patch",
            ToolKind::Search => "search",
            ToolKind::Todo => "todo",
            ToolKind::WebFetch => "webfetch",
            ToolKind::WebSearch => "websearch",
            ToolKind::Task => "task",
            ToolKind::Other => "other",
        }
    }
}

fn arg<'a>(input: &'a Value, keys: &[&str]) -> Option<&'a str> {
    keys.iter()
        .find_map(|k| input.get(*k).and_then(Value::as_str))
}

/// The file a tool works on, when it names one.
pub fn path_arg(input: &Value) -> Option<&str> {
    arg(
        input,
        &[
            "file_path",
            "filePath",
            "path",
            "notebook_path",
            "absolute_path",
        ],
    )
}

/// The one-line summary: the tool's key argument.
pub fn key_arg(call: &ToolCall) -> String {
    let input = &call.input;
    let kind = ToolKind::of(&call.name);
    let found = match kind {
        ToolKind::Shell => shell_command(input)
            .or_else(|| arg(input, &["bash_id", "shell_id", "description"]).map(str::to_string)),
        ToolKind::Read | ToolKind::Edit | ToolKind::Write => path_arg(input).map(str::to_string),
        ToolKind::Search => {
            let pat = arg(input, &["pattern", "query"]);
            let path = arg(input, &["path", "include", "glob"]);
            match (pat, path) {
                (Some(p), Some(d)) => Some(format!("{p}  in {d}")),
                (Some(p), None) => Some(p.to_string()),
                (None, Some(d)) => Some(d.to_string()),
                (None, None) => None,
            }
        }
        ToolKind::WebFetch => arg(input, &["url"]).map(str::to_string),
        ToolKind::WebSearch => arg(input, &["query"]).map(str::to_string),
        ToolKind::Task => arg(input, &["description", "subagent_type"]).map(str::to_string),
        ToolKind::Patch => call
            .extras
            .diffs
            .iter()
            .map(|d| d.path.as_str())
            .collect::<Vec<_>>()
            .join(", ")
            .into(),
        ToolKind::Todo => call
            .extras
            .todos
            .as_ref()
            .map(|t| format!("{} items", t.len())),
        ToolKind::Other => arg(
            input,
            &[
                "description",
                "command",
                "path",
                "url",
                "query",
                "pattern",
                "prompt",
                "summary",
                "subject",
                "title",
            ],
        )
        .map(str::to_string)
        .or_else(|| scalar_summary(input)),
    };
    let s = found
        .filter(|s| !s.trim().is_empty())
        .or_else(|| call.title.clone())
        .unwrap_or_default();
    let first = s.lines().next().unwrap_or("");
    let mut out: String = first.chars().take(160).collect();
    if first.chars().count() > 160 || s.lines().nth(1).is_some() {
        out.push('…');
    }
    out
}

/// Lines of HTML, clipped with a "show all" block holding the rest.
pub fn clipped_pre(
    lines: &[String],
    class: &str,
    numbers_from: Option<u64>,
    code_class: Option<&str>,
) -> String {
    let mut out = String::new();
    // Line numbers sit in a gutter beside the code: one short text node
    // instead of markup on every line, and they are not copied with it.
    let render = |out: &mut String, chunk: &[String], start: Option<u64>| {
        if let Some(s) = start {
            out.push_str("<div class=\"numbered\"><pre class=\"gutter\" aria-hidden=\"true\">");
            for i in 0..chunk.len() as u64 {
                out.push_str(&(s + i).to_string());
                out.push('\n');
            }
            out.push_str("</pre>");
        }
        out.push_str("<pre class=\"");
        out.push_str(class);
        out.push_str("\">");
        out.push_str(&highlight::code_open(code_class));
        for l in chunk {
            // Numbered lines keep one row each (see diff::no_raw_cr).
            if start.is_some() {
                out.push_str(&super::diff::no_raw_cr(l));
            } else {
                out.push_str(l);
            }
            out.push('\n');
        }
        out.push_str("</code></pre>");
        if start.is_some() {
            out.push_str("</div>");
        }
    };
    if lines.len() <= CLIP_LINES + 5 {
        render(&mut out, lines, numbers_from);
        return out;
    }
    render(&mut out, &lines[..CLIP_LINES], numbers_from);
    out.push_str(&format!(
        "<details class=\"more\"><summary>Show all {} lines</summary>",
        lines.len()
    ));
    render(
        &mut out,
        &lines[CLIP_LINES..],
        numbers_from.map(|s| s + CLIP_LINES as u64),
    );
    out.push_str("</details>");
    out
}

pub fn plain_lines(text: &str) -> Vec<String> {
    text.lines().map(super::markdown::escape_text).collect()
}

fn output_block(text: &str) -> String {
    if ansi::has_ansi(text) {
        let html = ansi::ansi_to_html(text);
        let lines: Vec<String> = html.split('\n').map(str::to_string).collect();
        clipped_pre(&lines, "out term", None, None)
    } else {
        clipped_pre(&plain_lines(text), "out", None, None)
    }
}

fn code_view(path_or_lang: Option<&str>, content: &str, start: Option<u64>) -> String {
    // Only what shows before "show all" is highlighted; the rest, folded
    // away, is escaped text. Highlighting is the expensive part of a page.
    let cut = content
        .match_indices('\n')
        .nth(CLIP_LINES + 4)
        .map(|(i, _)| i + 1)
        .filter(|&i| i < content.len());
    let (head, tail) = match cut {
        Some(_) => {
            let i = content
                .match_indices('\n')
                .nth(CLIP_LINES - 1)
                .map_or(content.len(), |(i, _)| i + 1);
            (&content[..i], Some(&content[i..]))
        }
        None => (content, None),
    };
    let h = highlight::highlight(head, path_or_lang);
    let mut out = String::new();
    if h.too_large {
        out.push_str("<p class=\"note\">Too large to highlight; shown as plain text.</p>");
    }
    match tail {
        None => out.push_str(&clipped_pre(&h.lines, "src", start, h.root.as_deref())),
        Some(rest) => {
            let mut lines = h.lines.clone();
            lines.extend(rest.lines().map(super::markdown::escape_text));
            out.push_str(&clipped_pre(&lines, "src", start, h.root.as_deref()));
        }
    }
    out
}

/// A subagent's result, and the lines Claude Code appends to it about the
/// run (`agentId: …`, `worktreePath: …`, `<usage>…</usage>`), if any.
fn split_agent_trailer(output: &str) -> (&str, &str) {
    let Some(at) = output
        .rfind("\nagentId: ")
        .map(|i| i + 1)
        .or_else(|| output.starts_with("agentId: ").then_some(0))
    else {
        return (output, "");
    };
    let trailer = &output[at..];
    let harness = |l: &str| {
        let l = l.trim();
        l.is_empty()
            || [
                "agentId: ",
                "worktreePath: ",
                "worktreeBranch: ",
                "<usage>",
                "total_tokens: ",
                "tool_uses: ",
                "duration_ms: ",
            ]
            .iter()
            .any(|p| l.starts_with(p))
    };
    if trailer.lines().all(harness) {
        (output[..at].trim_end(), trailer.trim())
    } else {
        (output, "")
    }
}

/// One line for a subagent's run lines: "Run · 33,854 tokens · 17 tool
/// uses · 7m 27s" (what is recorded of it).
fn run_summary(trailer: &str) -> String {
    let num = |key: &str| -> Option<u64> {
        let at = trailer.find(key)? + key.len();
        trailer[at..]
            .trim_start()
            .split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()
    };
    let group = |n: u64| {
        let s = n.to_string();
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    };
    let mut parts = vec!["Run".to_string()];
    if let Some(t) = num("total_tokens:") {
        parts.push(format!("{} tokens", group(t)));
    }
    if let Some(t) = num("tool_uses:") {
        parts.push(format!("{t} tool use{}", if t == 1 { "" } else { "s" }));
    }
    if let Some(ms) = num("duration_ms:") {
        parts.push(super::html::duration(ms / 1000));
    }
    parts.join(" · ")
}

/// A one-line summary of an input no key names: its first few plain
/// fields, `key: value`.
fn scalar_summary(input: &Value) -> Option<String> {
    let parts: Vec<String> = input
        .as_object()?
        .iter()
        .filter_map(|(k, v)| match v {
            Value::String(s) if !s.trim().is_empty() => {
                Some(format!("{k}: {}", s.trim().lines().next().unwrap_or("")))
            }
            Value::Number(n) => Some(format!("{k}: {n}")),
            Value::Bool(b) => Some(format!("{k}: {b}")),
            _ => None,
        })
        .take(4)
        .collect();
    (!parts.is_empty()).then(|| parts.join(" · "))
}

/// The input or output of a tool without a view of its own: JSON, with
/// each multi-line string taken out and shown as text under its key (in
/// JSON it is one long line of `\n`s).
fn fields_view(v: &Value) -> String {
    let Some(obj) = v.as_object() else {
        return json_view(v);
    };
    let long: Vec<(&String, &str)> = obj
        .iter()
        .filter_map(|(k, v)| v.as_str().filter(|s| s.contains('\n')).map(|s| (k, s)))
        .collect();
    if long.is_empty() {
        return json_view(v);
    }
    let rest: serde_json::Map<String, Value> = obj
        .iter()
        .filter(|(k, _)| !long.iter().any(|(l, _)| l == k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut out = String::new();
    if !rest.is_empty() {
        out.push_str(&json_view(&Value::Object(rest)));
    }
    for (k, s) in long {
        out.push_str("<div class=\"label\">");
        escape_into(&mut out, k);
        out.push_str("</div>");
        out.push_str(&output_block(s));
    }
    out
}

fn json_view(v: &Value) -> String {
    let s = serde_json::to_string_pretty(v).unwrap_or_default();
    code_view(Some("json"), &s, None)
}

fn label(out: &mut String, text: &str) {
    out.push_str("<div class=\"label\">");
    escape_into(out, text);
    out.push_str("</div>");
}

/// Diffs of an edit-like call: recorded diffs, else computed from its input.
fn edit_diffs(call: &ToolCall) -> Vec<FileDiff> {
    if !call.extras.diffs.is_empty() {
        return call.extras.diffs.clone();
    }
    let input = &call.input;
    let path = path_arg(input).unwrap_or("").to_string();
    let pair = |v: &Value| -> Option<(String, String)> {
        let old = arg(v, &["old_string", "oldString", "old_str"])?;
        let new = arg(v, &["new_string", "newString", "new_str"])?;
        Some((old.to_string(), new.to_string()))
    };
    // The strings replaced are pieces of the file, whose place in it is
    // not recorded: their hunks carry no line numbers (counting from 1
    // would pass for the file's own).
    let snippet = |path: String, o: String, n: String| {
        let mut hunks = diff::compute_hunks(&o, &n);
        for h in &mut hunks {
            h.old_start = 0;
            h.new_start = 0;
        }
        FileDiff {
            path,
            before: Some(o),
            after: Some(n),
            hunks,
            ..FileDiff::default()
        }
    };
    let mut out = Vec::new();
    if let Some((o, n)) = pair(input) {
        out.push(snippet(path.clone(), o, n));
    }
    if let Some(edits) = input.get("edits").and_then(Value::as_array) {
        for e in edits {
            if let Some((o, n)) = pair(e) {
                let p = arg(e, &["file_path", "filePath"]).unwrap_or(&path);
                out.push(snippet(p.to_string(), o, n));
            }
        }
    }
    out
}

fn diff_view(diffs: &[FileDiff]) -> String {
    let mut out = String::new();
    for d in diffs {
        let hunks = diff::hunks_for(d);
        let (add, del) = diff::stats(&hunks);
        out.push_str("<div class=\"file-diff\"><div class=\"label\">");
        escape_into(&mut out, &d.path);
        if let Some(s) = &d.status {
            out.push_str(" <span class=\"fstatus\">");
            escape_into(&mut out, s);
            out.push_str("</span>");
        }
        out.push_str(&format!(
            " <span class=\"add\">+{add}</span> <span class=\"del\">−{del}</span></div>"
        ));
        if hunks.is_empty() {
            out.push_str("<p class=\"note\">No changes recorded.</p>");
        } else {
            out.push_str(&diff::table(&hunks));
        }
        out.push_str("</div>");
    }
    out
}

fn todo_view(call: &ToolCall) -> Option<String> {
    let todos = call.extras.todos.clone().or_else(|| {
        let arr = call.input.get("todos")?.as_array()?;
        Some(
            arr.iter()
                .map(|t| crate::model::Todo {
                    content: arg(t, &["content", "step"]).unwrap_or("").to_string(),
                    status: arg(t, &["status"]).unwrap_or("pending").to_string(),
                    priority: arg(t, &["priority"]).map(str::to_string),
                })
                .collect(),
        )
    })?;
    let mut out = String::from("<ul class=\"todos\">");
    for t in todos {
        let (mark, class) = match t.status.as_str() {
            "completed" => ("☑", "done"),
            "in_progress" => ("◐", "doing"),
            "cancelled" => ("☒", "cancelled"),
            _ => ("☐", "todo"),
        };
        out.push_str(&format!(
            "<li class=\"{class}\"><span class=\"mark\">{mark}</span> "
        ));
        escape_into(&mut out, &t.content);
        out.push_str("</li>");
    }
    out.push_str("</ul>");
    Some(out)
}

/// Whether the user turned the call down before it ran (Claude Code
/// records that as the call's error).
pub fn rejected(call: &ToolCall) -> bool {
    call.status == ToolStatus::Error
        && call.output.as_deref().is_some_and(|o| {
            o.trim_start()
                .starts_with("The user doesn't want to proceed with this tool use")
        })
}

/// The body of a tool call, without the nested subagent (the caller adds it).
pub fn body(call: &ToolCall) -> String {
    body_opts(call, true)
}

/// [`body`]; `prompt`: whether a subagent call shows its prompt (not when
/// the nested subagent below opens with it).
pub fn body_opts(call: &ToolCall, prompt: bool) -> String {
    let kind = ToolKind::of(&call.name);
    let mut out = String::new();
    if rejected(call) {
        // Its diff or command below is what was proposed, not what ran.
        out.push_str(
            "<p class=\"note interrupted\">Rejected by the user: this call did not run.</p>",
        );
    } else if call.status == ToolStatus::Error
        && (matches!(kind, ToolKind::Edit | ToolKind::Patch | ToolKind::Write)
            || !call.extras.diffs.is_empty())
    {
        // A diff reads as done: say that it may not be.
        out.push_str(
            "<p class=\"note interrupted\">This edit failed (see its output): the changes shown may not have been made.</p>",
        );
    }
    let output = call.output.as_deref().unwrap_or("");
    match kind {
        ToolKind::Shell => {
            let cmd = key_arg_full(call);
            if !call.extras.diffs.is_empty() {
                // A shell call that ran `apply_patch` (Codex): the files it
                // changed instead of the patch text.
                out.push_str(&diff_view(&call.extras.diffs));
            } else if !cmd.is_empty() {
                out.push_str("<pre class=\"cmd\">");
                out.push_str(&highlight::highlight_code(&cmd, Some("sh")));
                out.push_str("</pre>");
            }
            if let Some(d) = arg(&call.input, &["description"]) {
                out.push_str("<p class=\"note\">");
                escape_into(&mut out, d);
                out.push_str("</p>");
            }
            let shown = match (&call.extras.stdout, &call.extras.stderr) {
                (Some(o), Some(e)) if !e.is_empty() && !output.contains(e.as_str()) => {
                    format!("{o}\n{e}")
                }
                _ => output.to_string(),
            };
            if !shown.is_empty() {
                out.push_str(&output_block(&shown));
            }
        }
        ToolKind::Read => match &call.extras.file {
            Some(f) => {
                out.push_str(&code_view(
                    Some(&f.path),
                    &f.content,
                    Some(f.start_line.unwrap_or(1)),
                ));
                // What the harness appended to the output the model saw.
                for r in between(output, "<system-reminder>", "</system-reminder>") {
                    out.push_str("<div class=\"notice n-system_reminder\"><span class=\"nlabel\">System reminder</span> ");
                    escape_into(&mut out, r.trim());
                    out.push_str("</div>");
                }
            }
            None if !output.is_empty() => out.push_str(&output_block(output)),
            None => {}
        },
        ToolKind::Edit | ToolKind::Patch => {
            let diffs = edit_diffs(call);
            if diffs.is_empty() {
                if let Some(p) = arg(&call.input, &["patchText", "patch", "input"]) {
                    out.push_str(&code_view(Some("diff"), p, None));
                }
            } else {
                out.push_str(&diff_view(&diffs));
            }
            if call.status == ToolStatus::Error || diffs.is_empty() {
                if !output.is_empty() {
                    out.push_str(&output_block(output));
                }
            } else {
                collapsed_output(&mut out, output);
            }
        }
        ToolKind::Write => {
            let content = arg(&call.input, &["content"]);
            let path = path_arg(&call.input);
            match content {
                Some(c) => out.push_str(&code_view(path, c, Some(1))),
                None if !call.extras.diffs.is_empty() => {
                    out.push_str(&diff_view(&call.extras.diffs))
                }
                None => {}
            }
            if call.status == ToolStatus::Error {
                out.push_str(&output_block(output));
            } else {
                collapsed_output(&mut out, output);
            }
        }
        ToolKind::Todo => match todo_view(call) {
            Some(t) => {
                out.push_str(&t);
                collapsed_output(&mut out, output);
            }
            None => out.push_str(&output_block(output)),
        },
        ToolKind::Search | ToolKind::WebFetch | ToolKind::WebSearch => {
            if let Some(url) = arg(&call.input, &["url"]) {
                out.push_str("<div class=\"label\">");
                if super::markdown::safe_href(url) {
                    out.push_str("<a href=\"");
                    escape_into(&mut out, url);
                    out.push_str("\" rel=\"noopener noreferrer nofollow\">");
                    escape_into(&mut out, url);
                    out.push_str("</a>");
                } else {
                    escape_into(&mut out, url);
                }
                out.push_str("</div>");
                if let Some(p) = arg(&call.input, &["prompt"]) {
                    out.push_str("<p class=\"note\">");
                    escape_into(&mut out, p);
                    out.push_str("</p>");
                }
            }
            if !output.is_empty() {
                out.push_str(&output_block(output));
            }
        }
        ToolKind::Task => {
            if let Some(p) = arg(&call.input, &["prompt"]).filter(|_| prompt) {
                label(&mut out, "Prompt");
                out.push_str("<div class=\"md\">");
                out.push_str(&super::markdown::to_html(p));
                out.push_str("</div>");
            }
            if !output.is_empty() {
                let (answer, trailer) = split_agent_trailer(output);
                label(&mut out, "Result");
                out.push_str("<div class=\"md\">");
                out.push_str(&super::markdown::to_html(answer));
                out.push_str("</div>");
                if !trailer.is_empty() {
                    // The harness's lines about the run (agent id, worktree,
                    // usage) are not the agent's answer.
                    out.push_str("<details class=\"more\"><summary>");
                    escape_into(&mut out, &run_summary(trailer));
                    out.push_str("</summary>");
                    out.push_str(&output_block(trailer));
                    out.push_str("</details>");
                }
            }
        }
        ToolKind::Other => {
            if !call.input.is_null() {
                label(&mut out, "Input");
                out.push_str(&fields_view(&call.input));
            }
            let shown = if output.is_empty() {
                [call.extras.stdout.as_deref(), call.extras.stderr.as_deref()]
                    .into_iter()
                    .flatten()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join("\n")
            } else {
                output.to_string()
            };
            if !shown.is_empty() {
                label(&mut out, "Output");
                match serde_json::from_str::<Value>(&shown) {
                    Ok(v) if v.is_object() || v.is_array() => out.push_str(&fields_view(&v)),
                    _ => out.push_str(&output_block(&shown)),
                }
            }
        }
    }
    for a in &call.extras.attachments {
        out.push_str(&super::html::file_part(a));
    }
    match call.status {
        ToolStatus::Pending | ToolStatus::Running => {
            out.push_str("<p class=\"note interrupted\">No result was recorded (interrupted or still running).</p>")
        }
        _ => {}
    }
    out
}

/// The texts between each `open` and the next `close`.
fn between<'a>(s: &'a str, open: &str, close: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find(open) {
        let after = &rest[i + open.len()..];
        match after.find(close) {
            Some(j) => {
                out.push(&after[..j]);
                rest = &after[j + close.len()..];
            }
            None => {
                out.push(after);
                break;
            }
        }
    }
    out
}

/// The raw output of a call whose view already shows its effect, folded.
fn collapsed_output(out: &mut String, output: &str) {
    if !output.is_empty() {
        out.push_str("<details class=\"more\"><summary>Tool output</summary>");
        out.push_str(&output_block(output));
        out.push_str("</details>");
    }
}

/// Whether the subagent `session`, spawned by `call`, opens with the
/// call's prompt (which then need not show twice).
pub fn opens_with_prompt(call: &ToolCall, session: &Session) -> bool {
    let Some(prompt) = call.input.get("prompt").and_then(Value::as_str) else {
        return false;
    };
    session.messages.first().is_some_and(|m| {
        m.role == Role::User
            && m.parts
                .iter()
                .any(|p| matches!(p, Part::Text { text } if text.trim() == prompt.trim()))
    })
}

/// The full command of a shell call.
fn key_arg_full(call: &ToolCall) -> String {
    shell_command(&call.input).unwrap_or_default()
}

/// The command a shell call ran, as one would type it: a string as it is;
/// an argument list (Codex) quoted for a POSIX shell, except that
/// `["bash", "-lc", SCRIPT]` shows as the script.
pub fn shell_command(input: &Value) -> Option<String> {
    match input.get("command").or_else(|| input.get("cmd"))? {
        Value::Array(parts) => {
            let parts: Vec<&str> = parts.iter().filter_map(Value::as_str).collect();
            if parts.len() == 3
                && parts[0].ends_with("sh")
                && parts[1].starts_with('-')
                && parts[1].contains('c')
            {
                return Some(parts[2].to_string());
            }
            // Quoting fails only on a NUL byte, which no shell can pass.
            Some(shlex::try_join(parts.iter().copied()).unwrap_or_else(|_| parts.join(" ")))
        }
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A call of `name` with `input`, pending, with nothing else recorded.
    fn call_of(name: &str, input: Value) -> ToolCall {
        ToolCall {
            id: "t".into(),
            name: name.into(),
            input,
            output: None,
            status: ToolStatus::Pending,
            title: None,
            duration_ms: None,
            extras: Default::default(),
        }
    }

    #[test]
    fn a_call_with_no_arguments_is_summed_up_by_its_title() {
        let call = ToolCall {
            title: Some("Fixing typo".into()),
            ..call_of("apply_patch", Value::Null)
        };
        assert_eq!(key_arg(&call), "Fixing typo");
    }

    #[test]
    fn an_argument_list_reads_as_a_shell_command() {
        let cmd = |v: Value| shell_command(&serde_json::json!({ "command": v }));
        assert_eq!(
            cmd(serde_json::json!(["bash", "-lc", "grep -r 'a b' ."])).as_deref(),
            Some("grep -r 'a b' .")
        );
        assert_eq!(
            cmd(serde_json::json!(["grep", "-r", "a b", "."])).as_deref(),
            Some("grep -r 'a b' .")
        );
        let quoted = cmd(serde_json::json!(["echo", "it's $HOME"])).unwrap();
        assert_eq!(
            shlex::split(&quoted).unwrap(),
            ["echo", "it's $HOME"],
            "{quoted}"
        );
        assert_eq!(cmd(serde_json::json!("ls -la")).as_deref(), Some("ls -la"));
        assert_eq!(cmd(serde_json::json!(null)), None);
    }

    #[test]
    fn a_subagents_run_lines_are_not_its_answer() {
        let out = "Done: 3 files.\n\nagentId: ab1e (use SendMessage with to: 'ab1e' to continue this agent)\nworktreePath: /w/a\n<usage>total_tokens: 33854\ntool_uses: 17\nduration_ms: 447008</usage>";
        let (answer, trailer) = split_agent_trailer(out);
        assert_eq!(answer, "Done: 3 files.");
        assert!(trailer.starts_with("agentId: ab1e") && trailer.ends_with("</usage>"));
        // Prose that mentions an agent id is left alone.
        let out = "Found it.\nagentId: x\nand then more words";
        assert_eq!(split_agent_trailer(out), (out, ""));
        assert_eq!(split_agent_trailer("plain"), ("plain", ""));
        assert_eq!(
            run_summary(
                "agentId: ab1e\n<usage>total_tokens: 33854\ntool_uses: 17\nduration_ms: 447008</usage>"
            ),
            "Run · 33,854 tokens · 17 tool uses · 7m 27s"
        );
        assert_eq!(run_summary("agentId: ab1e"), "Run");
    }

    /// An edit whose place in the file was not recorded gets no line
    /// numbers: counting from 1 would pass for the file's own.
    #[test]
    fn an_unplaced_edit_has_no_line_numbers() {
        let call = ToolCall {
            output: Some("ok".into()),
            status: ToolStatus::Completed,
            ..call_of(
                "Edit",
                serde_json::json!({"file_path": "/x.md", "old_string": "a\nb\nc", "new_string": "a\nB\nc"}),
            )
        };
        let html = body(&call);
        let gutter = "<pre class=\"gutter\" aria-hidden=\"true\">";
        assert!(html.contains(gutter), "{html}");
        for g in html.split(gutter).skip(1) {
            let rows = &g[..g.find("</pre>").unwrap()];
            assert!(
                !rows.chars().any(|c| c.is_ascii_digit()),
                "{rows:?} in {html}"
            );
        }
        assert!(
            html.contains("<del>b</del>") && html.contains("<ins>B</ins>"),
            "{html}"
        );
    }

    #[test]
    fn a_rejected_call_says_it_did_not_run() {
        let call = ToolCall {
            output: Some(
                "The user doesn't want to proceed with this tool use. The tool use was rejected."
                    .into(),
            ),
            status: ToolStatus::Error,
            ..call_of(
                "Edit",
                serde_json::json!({"file_path": "/x.rs", "old_string": "a", "new_string": "b"}),
            )
        };
        assert!(rejected(&call));
        assert!(body(&call).starts_with("<p class=\"note interrupted\">Rejected by the user"));
        let failed = ToolCall {
            output: Some("String not found in file".into()),
            ..call
        };
        assert!(!rejected(&failed));
        assert!(!body(&failed).contains("Rejected"));
    }

    #[test]
    fn tools_without_a_view_get_a_summary_and_readable_text() {
        let input = serde_json::json!({"taskId": "1", "status": "in_progress", "owner": "alice"});
        assert_eq!(
            scalar_summary(&input).unwrap(),
            "owner: alice · status: in_progress · taskId: 1"
        );
        let input = serde_json::json!({"to": "bob", "message": "line one\nline two"});
        let html = fields_view(&input);
        assert!(html.contains(">bob<"), "{html}");
        assert!(
            html.contains("<div class=\"label\">message</div>"),
            "{html}"
        );
        assert!(html.contains("line one\nline two"), "{html}");
        assert!(!html.contains("\\n"), "{html}");
    }

    #[test]
    fn numbered_lines_keep_carriage_returns_off_the_rows() {
        let lines = vec!["a\rb".to_string(), "c".to_string()];
        let html = clipped_pre(&lines, "src", Some(1), None);
        assert!(!html.contains('\r'), "{html:?}");
        assert!(html.contains("<code>a&#13;b\nc\n</code>"), "{html}");
        assert!(html.contains("aria-hidden=\"true\">1\n2\n</pre>"), "{html}");
    }
}
