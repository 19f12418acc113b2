use super::{Ctx, emit};
use crate::cli::ListArgs;
use crate::home::{share_id, tilde};
use crate::model::Agent;
use crate::select;
use serde::Serialize;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Serialize)]
struct Row<'a> {
    agent: Agent,
    id: &'a str,
    title: Option<&'a str>,
    project: Option<&'a str>,
    created: Option<String>,
    updated: Option<String>,
    messages: u64,
    subagents: u64,
    path: &'a PathBuf,
    share_id: String,
}

pub fn run(ctx: &Ctx, args: ListArgs) -> anyhow::Result<()> {
    let filter = select::Filter::new(
        args.agent.as_deref(),
        args.project.as_deref(),
        args.since.as_deref(),
    )?;
    let mut all = select::list_all(&ctx.stores, &ctx.diag)?;
    all.retain(|(_, s)| filter.matches(s));
    if let Some(n) = args.limit {
        all.truncate(n);
    }
    let salt = ctx.salt()?;
    let rows: Vec<Row> = all
        .iter()
        .map(|(_, s)| Row {
            agent: s.agent,
            id: &s.id,
            title: s.title.as_deref(),
            project: s.project.as_deref(),
            created: s
                .created
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
            updated: s
                .updated
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
            messages: s.messages,
            subagents: s.subagents,
            path: &s.path,
            share_id: share_id(&salt, s.agent, &s.id),
        })
        .collect();
    if args.json {
        let mut out = serde_json::to_vec_pretty(&rows)?;
        out.push(b'\n');
        return emit(&out);
    }
    if rows.is_empty() {
        // A note for the reader, not a row: stdout stays empty.
        if ctx.diag.verbosity() > crate::diag::Verbosity::Quiet && args.limit != Some(0) {
            let filtered = args.agent.is_some() || args.project.is_some() || args.since.is_some();
            eprintln!(
                "{}",
                if filtered {
                    "no sessions match the filters"
                } else {
                    "no sessions found (run with -v to see which stores were searched)"
                }
            );
        }
        return Ok(());
    }
    // On a terminal the table fits its width; otherwise (a pipe, a file)
    // titles and projects are kept whole up to 200 characters.
    emit(table(&rows, terminal_width()).as_bytes())
}

/// The width of the terminal standard output is, or `None` off a terminal.
pub(super) fn terminal_width() -> Option<usize> {
    std::io::stdout().is_terminal().then(|| {
        terminal_size::terminal_size()
            .map(|(w, _)| usize::from(w.0))
            .unwrap_or(120)
    })
}

/// `s` on one line for a terminal: control characters (line breaks, tabs,
/// escape sequences a session may hold) become spaces.
pub(super) fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// How many terminal cells `s` takes (a CJK character or an emoji, two).
pub(super) fn cells(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

/// `s` padded with spaces to `w` cells.
pub(super) fn pad(s: &str, w: usize) -> String {
    format!("{s}{}", " ".repeat(w.saturating_sub(cells(s))))
}

/// `s` on one line, cut to `max` terminal cells with an ellipsis where it
/// was cut: at its end, or (`keep_end`) at its start.
pub(super) fn clip_to(s: &str, max: usize, keep_end: bool) -> String {
    let s = one_line(s);
    if cells(&s) <= max {
        return s;
    }
    let room = max.saturating_sub(1);
    let width = |c: char| unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
    let mut kept = Vec::new();
    let mut used = 0;
    let chars: Box<dyn Iterator<Item = char>> = if keep_end {
        Box::new(s.chars().rev())
    } else {
        Box::new(s.chars())
    };
    for c in chars {
        if used + width(c) > room {
            break;
        }
        used += width(c);
        kept.push(c);
    }
    if keep_end {
        std::iter::once('…').chain(kept.into_iter().rev()).collect()
    } else {
        kept.into_iter().chain(std::iter::once('…')).collect()
    }
}

/// The widths of the title and project columns for a terminal `width`
/// columns wide, given the widest title and project and the width the
/// other columns take (separators included): the project gets up to 40%
/// of what is left, the title the rest; neither goes below a useful
/// minimum (the line wraps instead, on a very narrow terminal).
fn fit(width: usize, others: usize, title: usize, project: usize) -> (usize, usize) {
    let room = width.saturating_sub(others + 2);
    if title + project <= room {
        return (title, project);
    }
    let project_w = project
        .min((room * 2 / 5).max(room.saturating_sub(title)))
        .max(8);
    let title_w = room.saturating_sub(project_w).max(12);
    (title_w.min(title), project_w.min(project))
}

fn table(rows: &[Row], width: Option<usize>) -> String {
    let (title_w, proj_w) = match width {
        Some(width) => {
            let widest = |f: &dyn Fn(&Row) -> usize| rows.iter().map(f).max().unwrap_or(0);
            let title = widest(&|r| cells(&one_line(r.title.unwrap_or("")))).clamp(5, 200);
            let project =
                widest(&|r| cells(&r.project.map(tilde).unwrap_or_default())).clamp(7, 200);
            let agent = widest(&|r| r.agent.as_str().len()).max(5);
            let msgs = widest(&|r| r.messages.to_string().len()).max(4);
            // AGENT, ID (12), UPDATED (16), MSGS and five separators.
            fit(width, agent + 12 + 16 + msgs + 2 * 4, title, project)
        }
        None => (200, 200),
    };
    let rows_cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            [
                r.agent.to_string(),
                r.id.chars().take(12).collect(),
                clip_to(r.title.unwrap_or(""), title_w, false),
                // A project folder's last components name it.
                clip_to(&r.project.map(tilde).unwrap_or_default(), proj_w, true),
                r.updated
                    .as_deref()
                    .and_then(|u| chrono::DateTime::parse_from_rfc3339(u).ok())
                    .map(|t| {
                        t.with_timezone(&chrono::Local)
                            .format("%Y-%m-%d %H:%M")
                            .to_string()
                    })
                    .unwrap_or_default(),
                r.messages.to_string(),
            ]
        })
        .collect();
    let head = ["AGENT", "ID", "TITLE", "PROJECT", "UPDATED", "MSGS"];
    let mut w = head.map(cells);
    for c in &rows_cells {
        for (i, v) in c.iter().enumerate() {
            w[i] = w[i].max(cells(v));
        }
    }
    let mut out = String::new();
    let mut line = |c: &[String]| {
        let mut l = String::new();
        for (i, v) in c.iter().enumerate() {
            if i == 5 {
                l.push_str(&format!("{:>width$}", v, width = w[i]));
            } else {
                l.push_str(&pad(v, w[i]));
                l.push_str("  ");
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&head.map(String::from));
    for c in &rows_cells {
        line(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_characters_take_two_cells() {
        let t = clip_to("日本語のタイトル 🚀 rocket", 10, false);
        assert!(cells(&t) <= 10, "{t}");
        assert_eq!(t, "日本語の…");
        let t = clip_to("/home/dev/café/🚀 proj", 10, true);
        assert!(cells(&t) <= 10, "{t}");
        assert_eq!(pad("日本", 6), "日本  ");
    }

    #[test]
    fn cells_hold_no_control_characters() {
        let t = clip_to("a\u{1b}[31mb\u{7}\nc\td", 40, false);
        assert!(!t.chars().any(char::is_control), "{t:?}");
        assert_eq!(t, "a [31mb  c d");
    }

    #[test]
    fn a_terminal_table_fits_the_terminal() {
        let path = PathBuf::from("/x.jsonl");
        let long = "Refactor the timeline filtering so that we hide the group instead of every item of it, and fix the colours".to_string();
        let row = |title: &'static str, project: &'static str| Row {
            agent: Agent::ClaudeCode,
            id: "0d3a8e6f-290f-4105-a327-a2496e5e2a83",
            title: Some(title),
            project: Some(project),
            created: None,
            updated: Some("2026-01-02T03:04:05Z".into()),
            messages: 1234,
            subagents: 0,
            path: &path,
            share_id: String::new(),
        };
        let title: &'static str = Box::leak(long.into_boxed_str());
        let rows = [
            row(title, "/Users/someone/workspace/a-project-with-a-long-name"),
            row("short", "/w"),
        ];
        for width in [80, 100, 120, 160] {
            let t = table(&rows, Some(width));
            for l in t.lines() {
                assert!(l.chars().count() <= width, "{width}: {l:?}\n{t}");
            }
            assert!(t.contains('…'), "{width}: something had to be cut\n{t}");
        }
        // Wide enough: nothing is cut.
        let t = table(&rows, Some(300));
        assert!(
            t.contains(title) && t.contains("a-project-with-a-long-name"),
            "{t}"
        );
        assert!(!t.contains('…'), "{t}");
        // Off a terminal, whole up to 200 characters.
        assert!(table(&rows, None).contains(title));
        // A project is cut at its start: its last folders name it.
        let t = table(&rows, Some(100));
        assert!(
            t.contains("-long-name  ") && !t.contains("/Users/some"),
            "{t}"
        );
    }
}
