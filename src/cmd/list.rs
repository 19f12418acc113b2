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
            created: s.created.map(|t| t.to_rfc3339()),
            updated: s.updated.map(|t| t.to_rfc3339()),
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
    emit(table(&rows, std::io::stdout().is_terminal()).as_bytes())
}

fn clip(s: &str, max: usize) -> String {
    let s = s.replace(['\n', '\r', '\t'], " ");
    if s.chars().count() <= max {
        return s;
    }
    let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    t
}

fn table(rows: &[Row], tty: bool) -> String {
    let title_w = if tty { 48 } else { 200 };
    let proj_w = if tty { 32 } else { 200 };
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            [
                r.agent.to_string(),
                r.id.chars().take(12).collect(),
                clip(r.title.unwrap_or(""), title_w),
                clip(&r.project.map(tilde).unwrap_or_default(), proj_w),
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
    let mut w = head.map(|h| h.chars().count());
    for c in &cells {
        for (i, v) in c.iter().enumerate() {
            w[i] = w[i].max(v.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |c: &[String]| {
        let mut l = String::new();
        for (i, v) in c.iter().enumerate() {
            if i == 5 {
                l.push_str(&format!("{:>width$}", v, width = w[i]));
            } else {
                l.push_str(&format!("{:<width$}  ", v, width = w[i]));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&head.map(String::from));
    for c in &cells {
        line(c);
    }
    if rows.is_empty() {
        out = "no sessions found (run with -v to see which stores were searched)\n".into();
    }
    out
}
