//! A readable Markdown transcript, for gists and pull-request comments.
//! Tool calls sit in `<details>` blocks; harness text that would only be
//! noise (system reminders, injected context) is left out.

use super::ansi::strip_ansi;
use super::html::{agent_label, human};
use super::markdown::escape;
use super::tools::{ToolKind, key_arg, path_arg};
use crate::home::tilde;
use crate::model::*;
use std::fmt::Write;

/// A fence long enough for `body`.
fn fence(body: &str, lang: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in body.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let ticks = "`".repeat(longest.max(2) + 1);
    let body = body.strip_suffix('\n').unwrap_or(body);
    format!("{ticks}{lang}\n{body}\n{ticks}\n")
}

fn lang_of(path: Option<&str>) -> String {
    path.and_then(|p| p.rsplit_once('.').map(|(_, e)| e))
        .filter(|e| e.chars().all(|c| c.is_ascii_alphanumeric()) && e.len() <= 10)
        .unwrap_or("")
        .to_string()
}

/// Renders the session as Markdown.
pub fn render(session: &Session) -> String {
    let mut out = String::new();
    let title = session.title.clone().unwrap_or_else(|| session.id.clone());
    let _ = writeln!(out, "# {}\n", title.replace('\n', " "));
    let mut meta = vec![agent_label(session.agent).to_string()];
    if !session.models.is_empty() {
        meta.push(session.models.join(", "));
    }
    if let Some(p) = &session.project {
        meta.push(format!("`{}`", tilde(p)));
    }
    if let Some(b) = &session.git_branch {
        meta.push(format!("branch `{b}`"));
    }
    if let Some(c) = session.created {
        meta.push(c.format("%Y-%m-%d %H:%M UTC").to_string());
    }
    let t = session.grand_totals();
    if !t.is_empty() {
        meta.push(format!(
            "{} tokens in, {} out",
            human(t.input + t.cache_read + t.cache_write),
            human(t.output)
        ));
    }
    if let Some(c) = t.cost.filter(|c| *c > 0.0) {
        meta.push(format!("${c:.2}"));
    }
    let _ = writeln!(out, "> {}\n", meta.join(" · "));
    messages(&mut out, session, 2);
    for a in session
        .subagents
        .iter()
        .filter(|a| a.tool_call_id.is_none())
    {
        let label = a
            .agent_type
            .as_deref()
            .or(a.description.as_deref())
            .unwrap_or(&a.session.id);
        let _ = writeln!(out, "## Subagent: {}\n", label.replace('\n', " "));
        messages(&mut out, &a.session, 3);
    }
    out
}

fn messages(out: &mut String, s: &Session, level: usize) {
    let hashes = "#".repeat(level.min(6));
    for m in &s.messages {
        let body = message_body(m, s);
        if body.trim().is_empty() {
            continue;
        }
        let role = match m.role {
            Role::User => "User",
            Role::Assistant => "Assistant",
            Role::System => "System",
        };
        let mut head = format!("{hashes} {role}");
        if let Some(model) = &m.model {
            let _ = write!(head, " · {model}");
        }
        if let Some(t) = m.time {
            let _ = write!(head, " · {}", t.format("%Y-%m-%d %H:%M:%S"));
        }
        let _ = writeln!(out, "{head}\n\n{}", body.trim_end());
        out.push('\n');
    }
}

fn message_body(m: &Message, s: &Session) -> String {
    let mut out = String::new();
    for p in &m.parts {
        match p {
            Part::Text { text } => {
                out.push_str(text.trim_end());
                out.push_str("\n\n");
            }
            Part::Reasoning { text, state } => match state {
                ReasoningState::Recorded => {
                    let _ = write!(
                        out,
                        "<details><summary>Thinking</summary>\n\n{}\n\n</details>\n\n",
                        text.trim()
                    );
                }
                ReasoningState::Empty => out.push_str("*Thinking (not recorded)*\n\n"),
                ReasoningState::Redacted => {
                    out.push_str("*Thinking (redacted by the provider)*\n\n")
                }
            },
            Part::ToolCall(c) => tool(&mut out, c, s),
            Part::File(f) => {
                let name = f
                    .name
                    .clone()
                    .or_else(|| f.mime.clone())
                    .unwrap_or_else(|| "file".into());
                match &f.url {
                    Some(u) if super::markdown::safe_href(u) => {
                        let _ = write!(out, "[{}]({u})\n\n", name.replace(['[', ']'], ""));
                    }
                    _ => {
                        let _ = write!(out, "*Attached: {name}*\n\n");
                    }
                }
            }
            Part::Diff(d) => {
                let hunks = super::diff::hunks_for(d);
                let _ = write!(
                    out,
                    "<details><summary>Changed {}</summary>\n\n",
                    escape(&d.path)
                );
                out.push_str(&fence(&hunks_text(&hunks), "diff"));
                out.push_str("\n</details>\n\n");
            }
            Part::Compaction { summary, .. } => {
                out.push_str("---\n\n*Context compacted.*\n\n");
                if let Some(sm) = summary {
                    let _ = write!(
                        out,
                        "<details><summary>Summary</summary>\n\n{}\n\n</details>\n\n",
                        sm.trim()
                    );
                }
            }
            Part::Notice { kind, text } => match kind {
                NoticeKind::SystemReminder | NoticeKind::Injected => {}
                NoticeKind::Command => {
                    let _ = write!(out, "`{}`\n\n", text.replace('`', "'"));
                }
                NoticeKind::Interrupted => out.push_str("*Interrupted by the user.*\n\n"),
                _ => {
                    let label = match kind {
                        NoticeKind::CommandOutput => "Command output",
                        NoticeKind::Shell => "Shell",
                        NoticeKind::Hook => "Hook",
                        NoticeKind::TaskNotification => "Task notification",
                        NoticeKind::Error => "Error",
                        _ => "Notice",
                    };
                    let _ = write!(out, "<details><summary>{label}</summary>\n\n");
                    out.push_str(&fence(&strip_ansi(text), ""));
                    out.push_str("\n</details>\n\n");
                }
            },
            Part::StepStats { .. } => {}
            Part::Unknown { kind, raw } => {
                let _ = write!(
                    out,
                    "<details><summary>Unrecognised record: {}</summary>\n\n",
                    escape(kind)
                );
                out.push_str(&fence(
                    &serde_json::to_string_pretty(raw).unwrap_or_default(),
                    "json",
                ));
                out.push_str("\n</details>\n\n");
            }
        }
    }
    out
}

fn hunks_text(hunks: &[Hunk]) -> String {
    let mut s = String::new();
    for h in hunks {
        if h.old_start == 0 && h.new_start == 0 {
            // Position not recorded.
            s.push_str("@@\n");
        } else {
            let _ = writeln!(
                s,
                "@@ -{},{} +{},{} @@",
                h.old_start, h.old_lines, h.new_start, h.new_lines
            );
        }
        for l in &h.lines {
            s.push_str(l);
            s.push('\n');
        }
    }
    s
}

fn tool(out: &mut String, c: &ToolCall, s: &Session) {
    let kind = ToolKind::of(&c.name);
    let arg = key_arg(c);
    let mut summary = escape(&c.name);
    if !arg.is_empty() {
        let _ = write!(summary, ": <code>{}</code>", escape(&arg));
    }
    match c.status {
        ToolStatus::Error => summary.push_str(" (error)"),
        ToolStatus::Pending | ToolStatus::Running => summary.push_str(" (no result)"),
        ToolStatus::Completed => {}
    }
    let _ = write!(out, "<details><summary>{summary}</summary>\n\n");
    let output = c.output.as_deref().map(strip_ansi).unwrap_or_default();
    match kind {
        ToolKind::Shell => {
            if let Some(cmd) = c.input.get("command").or_else(|| c.input.get("cmd")) {
                let cmd = match cmd {
                    serde_json::Value::Array(a) => a
                        .iter()
                        .filter_map(|v| v.as_str())
                        .collect::<Vec<_>>()
                        .join(" "),
                    other => other.as_str().unwrap_or("").to_string(),
                };
                out.push_str(&fence(&format!("$ {cmd}"), "sh"));
            }
            // A shell call that ran `apply_patch` (Codex).
            for d in &c.extras.diffs {
                let _ = writeln!(out, "`{}`\n", d.path);
                out.push_str(&fence(&hunks_text(&super::diff::hunks_for(d)), "diff"));
            }
            if !output.is_empty() {
                out.push_str(&fence(&output, ""));
            }
        }
        ToolKind::Edit | ToolKind::Patch | ToolKind::Write if !c.extras.diffs.is_empty() => {
            for d in &c.extras.diffs {
                let _ = writeln!(out, "`{}`\n", d.path);
                out.push_str(&fence(&hunks_text(&super::diff::hunks_for(d)), "diff"));
            }
        }
        ToolKind::Write => {
            if let Some(content) = c.input.get("content").and_then(|v| v.as_str()) {
                out.push_str(&fence(content, &lang_of(path_arg(&c.input))));
            }
        }
        ToolKind::Read => match &c.extras.file {
            Some(f) => out.push_str(&fence(&f.content, &lang_of(Some(&f.path)))),
            None if !output.is_empty() => out.push_str(&fence(&output, "")),
            None => {}
        },
        ToolKind::Todo => {
            if let Some(todos) = &c.extras.todos {
                for t in todos {
                    let mark = if t.status == "completed" { "x" } else { " " };
                    let _ = writeln!(out, "- [{mark}] {}", t.content.replace('\n', " "));
                }
                out.push('\n');
            } else if !output.is_empty() {
                out.push_str(&fence(&output, ""));
            }
        }
        _ => {
            if !c.input.is_null() && kind == ToolKind::Other {
                out.push_str(&fence(
                    &serde_json::to_string_pretty(&c.input).unwrap_or_default(),
                    "json",
                ));
            }
            if !output.is_empty() {
                out.push_str(&fence(&output, ""));
            }
        }
    }
    if let Some(sub) = s
        .subagents
        .iter()
        .find(|a| a.tool_call_id.as_deref() == Some(c.id.as_str()))
    {
        let _ = write!(
            out,
            "**Subagent** {}\n\n",
            sub.agent_type.as_deref().unwrap_or("")
        );
        let mut inner = String::new();
        messages(&mut inner, &sub.session, 4);
        out.push_str(&inner);
    }
    out.push_str("</details>\n\n");
}
