//! A readable Markdown transcript, for gists and pull-request comments.
//! Tool calls sit in `<details>` blocks; harness text that would only be
//! noise (system reminders, injected context) is left out.
//!
//! Session text is untrusted, and a Markdown file may be shown by a
//! renderer that lets raw HTML through. So message text keeps its Markdown
//! but loses its raw HTML (shown as text), its images (links instead, as on
//! the page) and its links other than `http:`, `https:` and `mailto:`
//! ([`neutralize`]); shorter fields (titles, names, paths) are escaped
//! ([`inline`], [`code_span`]). The only HTML in the file is this module's
//! own `<details>`, `<summary>` and `<code>`.

use super::ansi::strip_ansi;
use super::html::{agent_label, human};
use super::markdown::{escape, options, safe_href};
use super::tools::{ToolKind, key_arg, path_arg};
use crate::home::tilde;
use crate::model::*;
use std::fmt::Write;

/// Passes over message text before [`neutralize`] gives up on keeping its
/// Markdown (only crafted input needs more than two).
const NEUTRALIZE_PASSES: usize = 8;

/// Message text as Markdown without raw HTML (every `<` of it becomes
/// `&lt;`), without images (each becomes a link to its URL, as on the
/// page) and without links to anything but `http:`, `https:`, `mailto:`
/// and `#` (their `[` is escaped, so they read as text).
///
/// Escaping changes how the rest parses, so the text is parsed again until
/// nothing is left to neutralize; past [`NEUTRALIZE_PASSES`], every `\`,
/// `<`, `[` and `!` is escaped. A fence the text leaves open is closed, so
/// that it cannot swallow what follows it in the transcript.
pub fn neutralize(text: &str) -> String {
    use pulldown_cmark::{Event, LinkType, Parser, Tag};
    let mut s = text.to_string();
    for _ in 0..NEUTRALIZE_PASSES {
        // (byte offset, replacement for the one ASCII byte there)
        let mut edits: Vec<(usize, &str)> = Vec::new();
        let parser = Parser::new_ext(&s, options());
        for (_, def) in parser.reference_definitions().iter() {
            if !safe_href(&def.dest)
                && let Some(i) = s[def.span.clone()].find('[')
            {
                edits.push((def.span.start + i, "\\["));
            }
        }
        for (ev, range) in parser.into_offset_iter() {
            match ev {
                Event::Html(_) | Event::InlineHtml(_) => {
                    for (i, _) in s[range.clone()].match_indices('<') {
                        edits.push((range.start + i, "&lt;"));
                    }
                }
                Event::Start(Tag::Image { .. }) if s[range.clone()].starts_with('!') => {
                    edits.push((range.start, "\\!"));
                }
                Event::Start(Tag::Link {
                    link_type,
                    dest_url,
                    ..
                }) => {
                    let ok = match link_type {
                        LinkType::Email => true,
                        _ => safe_href(&dest_url),
                    };
                    if !ok {
                        let at = &s[range.clone()];
                        if let Some(i) = at.find(['[', '<']) {
                            let rep = if at.as_bytes()[i] == b'<' {
                                "&lt;"
                            } else {
                                "\\["
                            };
                            edits.push((range.start + i, rep));
                        }
                    }
                }
                _ => {}
            }
        }
        if edits.is_empty() {
            return close_fence(s);
        }
        s = apply_edits(&s, edits);
    }
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '<' => out.push_str("&lt;"),
            '[' => out.push_str("\\["),
            '!' => out.push_str("\\!"),
            c => out.push(c),
        }
    }
    close_fence(out)
}

/// Replaces single ASCII bytes at the given offsets.
fn apply_edits(s: &str, mut edits: Vec<(usize, &str)>) -> String {
    edits.sort_by_key(|e| e.0);
    edits.dedup_by_key(|e| e.0);
    let mut out = String::with_capacity(s.len() + edits.len() * 4);
    let mut last = 0;
    for (at, rep) in edits {
        out.push_str(&s[last..at]);
        out.push_str(rep);
        last = at + 1;
    }
    out.push_str(&s[last..]);
    out
}

/// Closes a fenced code block `s` leaves open at its end. Only a fence at
/// the top level can run past the text: one inside a list item, block
/// quote or footnote ends with it when the next unindented line comes (a
/// fence appended for it would open a new one instead).
fn close_fence(mut s: String) -> String {
    use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};
    let mut open: Option<std::ops::Range<usize>> = None;
    let mut depth = 0usize;
    for (ev, range) in Parser::new_ext(&s, options()).into_offset_iter() {
        match ev {
            Event::Start(
                Tag::List(_) | Tag::Item | Tag::BlockQuote(_) | Tag::FootnoteDefinition(_),
            ) => depth += 1,
            Event::End(
                TagEnd::List(_) | TagEnd::Item | TagEnd::BlockQuote(_) | TagEnd::FootnoteDefinition,
            ) => depth = depth.saturating_sub(1),
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(_))) if depth == 0 => {
                open = Some(range)
            }
            _ => {}
        }
    }
    let Some(range) = open.filter(|r| r.end >= s.trim_end().len()) else {
        return s;
    };
    let block = &s[range];
    let first = block.lines().next().unwrap_or("").trim_start();
    let ch = first.chars().next().unwrap_or('`');
    let fence: String = first.chars().take_while(|c| *c == ch).collect();
    let closed = block.lines().count() > 1
        && block.lines().last().is_some_and(|l| {
            let l = l.trim();
            l.len() >= fence.len() && l.chars().all(|c| c == ch)
        });
    if !closed {
        if !s.ends_with('\n') {
            s.push('\n');
        }
        s.push_str(&fence);
        s.push('\n');
    }
    s
}

/// A short field (title, name, label) as inline Markdown text: one line,
/// HTML and Markdown syntax escaped.
pub fn inline(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '!' | '#' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A code span holding `s` (on one line) whatever backticks it contains.
pub fn code_span(s: &str) -> String {
    let s = s.replace(['\n', '\r'], " ");
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let ticks = "`".repeat(longest + 1);
    if s.starts_with('`') || s.ends_with('`') || s.starts_with(' ') && s.ends_with(' ') {
        format!("{ticks} {s} {ticks}")
    } else {
        format!("{ticks}{s}{ticks}")
    }
}

/// Text for inside this module's own `<summary>` lines: escaped, one line.
fn summary_text(s: &str) -> String {
    escape(&s.replace(['\n', '\r'], " "))
}

/// A link destination that stays one destination: `<…>` around it, with
/// the characters that could end it percent-encoded.
fn destination(u: &str) -> String {
    let mut out = String::from("<");
    for c in u.chars() {
        match c {
            '<' => out.push_str("%3C"),
            '>' => out.push_str("%3E"),
            '\n' => out.push_str("%0A"),
            '\r' => out.push_str("%0D"),
            '\\' => out.push_str("%5C"),
            c => out.push(c),
        }
    }
    out.push('>');
    out
}

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
    let mut out = Vec::new();
    render_to(session, &mut out).expect("writing to a vector does not fail");
    String::from_utf8(out).expect("the transcript is UTF-8")
}

/// [`render`], written to `w` a message at a time: the transcript is never
/// held whole in memory.
pub fn render_to(session: &Session, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut out = String::new();
    let title = session.title.clone().unwrap_or_else(|| session.id.clone());
    let _ = writeln!(out, "# {}\n", inline(&title));
    let mut meta = vec![agent_label(session.agent).to_string()];
    if !session.models.is_empty() {
        meta.push(inline(&session.models.join(", ")));
    }
    if let Some(p) = &session.project {
        meta.push(code_span(&tilde(p)));
    }
    if let Some(b) = &session.git_branch {
        meta.push(format!("branch {}", code_span(b)));
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
    w.write_all(out.as_bytes())?;
    messages(w, session, 2)?;
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
        writeln!(w, "## Subagent: {}\n", inline(label))?;
        messages(w, &a.session, 3)?;
    }
    Ok(())
}

fn messages(w: &mut dyn std::io::Write, s: &Session, level: usize) -> std::io::Result<()> {
    let hashes = "#".repeat(level.min(6));
    let all = &s.messages;
    let mut i = 0;
    while i < all.len() {
        if !all[i].rewound {
            if let Some(text) = message(&all[i], s, &hashes) {
                w.write_all(text.as_bytes())?;
            }
            i += 1;
            continue;
        }
        // A branch the user rewound, folded away.
        let end = i + all[i..].iter().take_while(|m| m.rewound).count();
        let shown: Vec<String> = all[i..end]
            .iter()
            .filter_map(|m| message(m, s, &hashes))
            .collect();
        if !shown.is_empty() {
            let n = shown.len();
            let (s_, them) = if n == 1 { ("", "it") } else { ("s", "them") };
            writeln!(
                w,
                "<details>\n<summary>Rewound · {n} message{s_} · the user went back to before {them} and went on differently</summary>\n"
            )?;
            for text in shown {
                w.write_all(text.as_bytes())?;
            }
            w.write_all(b"</details>\n\n")?;
        }
        i = end;
    }
    Ok(())
}

/// One message with its heading, or `None` when it shows nothing.
fn message(m: &Message, s: &Session, hashes: &str) -> Option<String> {
    let body = message_body(m, s);
    if body.trim().is_empty() {
        return None;
    }
    let role = match m.role {
        Role::User => "User",
        Role::Assistant => "Assistant",
        Role::System => "System",
    };
    let mut out = String::new();
    let _ = write!(out, "{hashes} {role}");
    if let Some(model) = &m.model {
        let _ = write!(out, " · {}", inline(model));
    }
    if let Some(t) = m.time {
        let _ = write!(out, " · {}", t.format("%Y-%m-%d %H:%M:%S"));
    }
    let _ = writeln!(out, "\n\n{}", body.trim_end());
    out.push('\n');
    Some(out)
}

fn message_body(m: &Message, s: &Session) -> String {
    let mut out = String::new();
    for p in &m.parts {
        match p {
            Part::Text { text } => {
                out.push_str(neutralize(text).trim_end());
                out.push_str("\n\n");
            }
            Part::Reasoning { text, state } => match state {
                ReasoningState::Recorded => {
                    let _ = write!(
                        out,
                        "<details><summary>Thinking</summary>\n\n{}\n\n</details>\n\n",
                        neutralize(text.trim()).trim_end()
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
                    Some(u) if safe_href(u) => {
                        let _ = write!(out, "[{}]({})\n\n", inline(&name), destination(u));
                    }
                    _ => {
                        let _ = write!(out, "*Attached: {}*\n\n", inline(&name));
                    }
                }
            }
            Part::Diff(d) => {
                let hunks = super::diff::hunks_for(d);
                let _ = write!(
                    out,
                    "<details><summary>Changed {}</summary>\n\n",
                    summary_text(&d.path)
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
                        neutralize(sm.trim()).trim_end()
                    );
                }
            }
            Part::Notice { kind, text } => match kind {
                NoticeKind::SystemReminder | NoticeKind::Injected => {}
                NoticeKind::Command => {
                    let _ = write!(out, "{}\n\n", code_span(text));
                }
                NoticeKind::Interrupted => out.push_str("*Interrupted by the user.*\n\n"),
                NoticeKind::Teammate => {
                    let (head, body) = text.split_once("\n\n").unwrap_or((text.as_str(), ""));
                    let _ = write!(
                        out,
                        "**From {}:**\n\n{}\n\n",
                        neutralize(head.trim()).trim_end(),
                        neutralize(body.trim()).trim_end()
                    );
                }
                _ => {
                    let label = match kind {
                        NoticeKind::CommandOutput => "Command output",
                        NoticeKind::Shell => "Shell",
                        NoticeKind::Hook => "Hook",
                        NoticeKind::TaskNotification => "Task notification",
                        NoticeKind::Error => "Error",
                        NoticeKind::Warning => "Warning",
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
                    summary_text(kind)
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
    let mut summary = summary_text(&c.name);
    if !arg.is_empty() {
        let _ = write!(summary, ": <code>{}</code>", summary_text(&arg));
    }
    match c.status {
        ToolStatus::Error if super::tools::rejected(c) => summary.push_str(" (rejected)"),
        ToolStatus::Error => summary.push_str(" (error)"),
        ToolStatus::Pending | ToolStatus::Running => summary.push_str(" (no result)"),
        ToolStatus::Completed => {}
    }
    let _ = write!(out, "<details><summary>{summary}</summary>\n\n");
    let output = c.output.as_deref().map(strip_ansi).unwrap_or_default();
    match kind {
        ToolKind::Shell => {
            if let Some(cmd) = super::tools::shell_command(&c.input) {
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
        // A file written whole shows its content (Claude Code records an
        // empty patch for a created file).
        ToolKind::Write if c.input.get("content").and_then(|v| v.as_str()).is_some() => {
            let content = c.input["content"].as_str().unwrap_or("");
            out.push_str(&fence(content, &lang_of(path_arg(&c.input))));
        }
        ToolKind::Edit | ToolKind::Patch | ToolKind::Write if !c.extras.diffs.is_empty() => {
            for d in &c.extras.diffs {
                let _ = writeln!(out, "{}\n", code_span(&d.path));
                out.push_str(&fence(&hunks_text(&super::diff::hunks_for(d)), "diff"));
            }
            // Why the edit failed, which says what became of the diff.
            if c.status == ToolStatus::Error && !output.is_empty() {
                out.push_str(&fence(&output, ""));
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
                    let doing = match t.status.as_str() {
                        "in_progress" => " *(in progress)*",
                        "cancelled" => " *(cancelled)*",
                        _ => "",
                    };
                    let _ = writeln!(out, "- [{mark}] {}{doing}", inline(&t.content));
                }
                out.push('\n');
            } else if !output.is_empty() {
                out.push_str(&fence(&output, ""));
            }
        }
        ToolKind::WebFetch => {
            if let Some(p) = c.input.get("prompt").and_then(|v| v.as_str()) {
                // One line: `inline` joins the prompt's lines.
                let _ = write!(out, "> {}\n\n", inline(p.trim()));
            }
            if !output.is_empty() {
                out.push_str(&fence(&output, ""));
            }
        }
        ToolKind::Task => {
            // The prompt, unless the subagent nested below opens with it.
            let prompt = c
                .input
                .get("prompt")
                .and_then(|v| v.as_str())
                .map(str::trim);
            let below = s
                .subagents
                .iter()
                .find(|a| a.tool_call_id.as_deref() == Some(c.id.as_str()))
                .is_some_and(|a| super::tools::opens_with_prompt(c, &a.session));
            if let Some(p) = prompt.filter(|p| !p.is_empty() && !below) {
                let _ = write!(out, "**Prompt**\n\n{}\n\n", neutralize(p).trim_end());
            }
            if !output.is_empty() {
                out.push_str(&fence(&output, ""));
            }
        }
        _ => {
            if !c.input.is_null() && kind == ToolKind::Other {
                fields(out, &c.input);
            }
            if !output.is_empty() {
                out.push_str(&fence(&output, ""));
            }
        }
    }
    for sub in s
        .subagents
        .iter()
        .filter(|a| a.tool_call_id.as_deref() == Some(c.id.as_str()))
    {
        let label = [sub.agent_type.as_deref(), sub.description.as_deref()]
            .into_iter()
            .flatten()
            .filter(|s| !s.trim().is_empty())
            .collect::<Vec<_>>()
            .join(" — ");
        let _ = write!(out, "**Subagent** {}\n\n", inline(&label));
        let mut inner = Vec::new();
        messages(&mut inner, &sub.session, 4).expect("writing to a vector does not fail");
        out.push_str(&String::from_utf8_lossy(&inner));
    }
    out.push_str("</details>\n\n");
}

/// The input of a tool without a view of its own: JSON, with each
/// multi-line string taken out and shown as text under its key (in JSON it
/// is one long line of `\n`s: a plan, a message).
fn fields(out: &mut String, v: &serde_json::Value) {
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
    let Some(obj) = v.as_object() else {
        out.push_str(&fence(&pretty(v), "json"));
        return;
    };
    let long: Vec<(&String, &str)> = obj
        .iter()
        .filter_map(|(k, v)| v.as_str().filter(|s| s.contains('\n')).map(|s| (k, s)))
        .collect();
    let rest: serde_json::Map<String, serde_json::Value> = obj
        .iter()
        .filter(|(k, _)| !long.iter().any(|(l, _)| l == k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !rest.is_empty() || long.is_empty() {
        out.push_str(&fence(&pretty(&serde_json::Value::Object(rest)), "json"));
    }
    for (k, text) in long {
        let _ = writeln!(out, "{}\n", code_span(k));
        out.push_str(&fence(text, ""));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulldown_cmark::{Event, Parser, Tag};

    /// Raw HTML and link targets a renderer would see in `md`.
    fn html_and_links(md: &str) -> (Vec<String>, Vec<String>) {
        let mut html = Vec::new();
        let mut links = Vec::new();
        for ev in Parser::new_ext(md, options()) {
            match ev {
                Event::Html(h) | Event::InlineHtml(h) => html.push(h.to_string()),
                Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                    links.push(dest_url.to_string())
                }
                _ => {}
            }
        }
        (html, links)
    }

    #[test]
    fn raw_html_becomes_text_and_code_is_kept() {
        let src = "<img src=x onerror=alert(1)> and <b>b</b>\n\n<div>\nblock\n</div>\n\n`<i>code</i>`\n\n```html\n<script>x</script>\n```\n";
        let out = neutralize(src);
        let (html, _) = html_and_links(&out);
        assert!(html.is_empty(), "{html:?} in {out}");
        assert!(out.contains("&lt;img src=x onerror=alert(1)>"), "{out}");
        assert!(out.contains("`<i>code</i>`"), "{out}");
        assert!(out.contains("```html\n<script>x</script>\n```"), "{out}");
    }

    #[test]
    fn only_safe_links_stay_and_images_become_links() {
        let src = "[a](javascript:alert(1)) [b](https://example.com) <javascript:x> \
                   <https://ok.example> ![i](https://example.com/p.png) [r][x] [x]\n\n\
                   [x]: javascript:alert(2)\n";
        let out = neutralize(src);
        let (html, links) = html_and_links(&out);
        assert!(html.is_empty(), "{html:?}");
        assert_eq!(
            links,
            [
                "https://example.com",
                "https://ok.example",
                "https://example.com/p.png"
            ],
            "{out}"
        );
        let images = Parser::new_ext(&out, options())
            .filter(|e| matches!(e, Event::Start(Tag::Image { .. })))
            .count();
        assert_eq!(images, 0, "{out}");
    }

    #[test]
    fn escaping_that_exposes_new_markup_is_caught() {
        // Escaping the tag's `<` turns the backtick in its attribute into
        // a code span opener, which frees the second tag from its span.
        let src = "<a title=\"`\">`<img src=x onerror=alert(1)>`";
        let out = neutralize(src);
        let (html, _) = html_and_links(&out);
        assert!(html.is_empty(), "{html:?} in {out}");
    }

    #[test]
    fn an_open_fence_is_closed() {
        for (src, fence) in [
            ("```\nopen", "```"),
            ("~~~~ sh\nx\n", "~~~~"),
            ("````", "````"),
        ] {
            let out = neutralize(src);
            let doc = format!("{out}\n</details>\n\n<b>after</b>\n");
            // What follows the text is not code any more.
            let (html, _) = html_and_links(&doc);
            assert!(html.iter().any(|h| h.contains("<b>")), "{src:?} → {out:?}");
            assert!(out.trim_end().ends_with(fence), "{src:?} → {out:?}");
        }
        assert_eq!(neutralize("```\nclosed\n```\n"), "```\nclosed\n```\n");
    }

    #[test]
    fn short_fields_are_escaped() {
        let t = inline("a <b>[x](javascript:y)</b> *z*\nnext");
        let (html, links) = html_and_links(&t);
        assert!(html.is_empty() && links.is_empty(), "{t}");
        assert!(!t.contains('\n'));
        for s in ["plain", "has `tick`", "`edge`", "a\n\n<img src=x>"] {
            let c = code_span(s);
            let evs: Vec<Event> = Parser::new_ext(&c, options()).collect();
            assert!(
                evs.iter().any(|e| matches!(e, Event::Code(_))),
                "{s:?} → {c}"
            );
            assert!(
                !evs.iter()
                    .any(|e| matches!(e, Event::Html(_) | Event::InlineHtml(_))),
                "{s:?} → {c}"
            );
        }
    }
}
