//! Every string of a session that can reach an output, visited mutably
//! with a description of where it is. Identifiers (session, message and
//! tool-call ids), enums, numbers and image data are not visited.
//!
//! A test in `tests/redaction.rs` puts a secret into every string field of
//! a serialized session and checks that none survives, so a field added to
//! the model without a line here fails it.

use crate::model::{FileDiff, FilePart, Message, Part, Session};
use rayon::prelude::*;
use serde_json::Value;
use std::path::PathBuf;

/// `f(text, location)` for a visited string.
type Visitor<'a> = dyn FnMut(&mut String, &dyn Fn() -> String) + 'a;

fn opt(v: &mut Option<String>, loc: &dyn Fn() -> String, f: &mut Visitor) {
    if let Some(s) = v {
        f(s, loc);
    }
}

/// The session's own strings (not its messages or subagents).
fn own_fields(s: &mut Session, at: &str, f: &mut Visitor) {
    opt(&mut s.title, &|| format!("{at}title"), f);
    opt(&mut s.project, &|| format!("{at}project"), f);
    opt(&mut s.git_branch, &|| format!("{at}git branch"), f);
    for p in &mut s.source_paths {
        let mut text = p.to_string_lossy().into_owned();
        let before = text.clone();
        f(&mut text, &|| format!("{at}source path"));
        if text != before {
            *p = PathBuf::from(text);
        }
    }
}

/// `f(accumulator, text, location)` for each visited string.
pub type ParVisitor<'a, A> = dyn Fn(&mut A, &mut String, &dyn Fn() -> String) + Sync + 'a;

/// Visits every string of `s` (its own fields, then its messages, then
/// each subagent's fields and session), with each session's messages
/// visited in parallel (rayon). Each message, and each run of other fields,
/// gets its own accumulator from `new`; they are returned in that order.
pub fn strings_mut_par<A: Send>(
    s: &mut Session,
    new: &(dyn Fn() -> A + Sync),
    f: &ParVisitor<A>,
) -> Vec<A> {
    let mut out = Vec::new();
    session_par(s, "", new, f, &mut out);
    out
}

fn session_par<A: Send>(
    s: &mut Session,
    at: &str,
    new: &(dyn Fn() -> A + Sync),
    f: &ParVisitor<A>,
    out: &mut Vec<A>,
) {
    let mut acc = new();
    own_fields(s, at, &mut |t, loc| f(&mut acc, t, loc));
    out.push(acc);
    let accs: Vec<A> = s
        .messages
        .par_iter_mut()
        .enumerate()
        .map(|(i, m)| {
            let mut acc = new();
            message(m, &format!("{at}message {}", i + 1), &mut |t, loc| {
                f(&mut acc, t, loc)
            });
            acc
        })
        .collect();
    out.extend(accs);
    for (i, sub) in s.subagents.iter_mut().enumerate() {
        let here = format!("{at}subagent {} › ", i + 1);
        let mut acc = new();
        opt(
            &mut sub.agent_type,
            &|| format!("{here}type"),
            &mut |t, loc| f(&mut acc, t, loc),
        );
        opt(
            &mut sub.description,
            &|| format!("{here}description"),
            &mut |t, loc| f(&mut acc, t, loc),
        );
        out.push(acc);
        session_par(&mut sub.session, &here, new, f, out);
    }
}

fn message(m: &mut Message, at: &str, f: &mut Visitor) {
    let role = format!("{:?}", m.role).to_lowercase();
    let at = format!("{at} ({role})");
    for p in &mut m.parts {
        match p {
            Part::Text { text } => f(text, &|| format!("{at} text")),
            Part::Reasoning { text, .. } => f(text, &|| format!("{at} reasoning")),
            Part::Notice { text, .. } => f(text, &|| format!("{at} notice")),
            Part::Compaction {
                summary, trigger, ..
            } => {
                opt(summary, &|| format!("{at} summary"), f);
                opt(trigger, &|| format!("{at} compaction trigger"), f);
            }
            Part::File(fp) => file_part(fp, &format!("{at} file"), f),
            Part::Diff(d) => diff(d, &format!("{at} diff"), f),
            Part::StepStats { finish, .. } => opt(finish, &|| format!("{at} finish reason"), f),
            Part::Unknown { raw, .. } => value(raw, &format!("{at} record"), f),
            Part::ToolCall(c) => {
                let here = format!("{at} tool {}", c.name);
                f(&mut c.name, &|| format!("{here} name"));
                value(&mut c.input, &format!("{here} input"), f);
                opt(&mut c.output, &|| format!("{here} output"), f);
                opt(&mut c.title, &|| format!("{here} title"), f);
                let x = &mut c.extras;
                for d in &mut x.diffs {
                    diff(d, &format!("{here} diff"), f);
                }
                if let Some(file) = &mut x.file {
                    f(&mut file.path, &|| format!("{here} file path"));
                    f(&mut file.content, &|| format!("{here} file content"));
                }
                for t in x.todos.iter_mut().flatten() {
                    f(&mut t.content, &|| format!("{here} todo"));
                    f(&mut t.status, &|| format!("{here} todo status"));
                    opt(&mut t.priority, &|| format!("{here} todo priority"), f);
                }
                opt(&mut x.stdout, &|| format!("{here} stdout"), f);
                opt(&mut x.stderr, &|| format!("{here} stderr"), f);
                for a in &mut x.attachments {
                    file_part(a, &format!("{here} attachment"), f);
                }
            }
        }
    }
}

fn file_part(p: &mut FilePart, at: &str, f: &mut Visitor) {
    opt(&mut p.name, &|| format!("{at} name"), f);
    opt(&mut p.url, &|| format!("{at} url"), f);
    // Base64 image data is left alone; other inline data is text.
    let image = p.mime.as_deref().is_some_and(|m| m.starts_with("image/"));
    if !image {
        opt(&mut p.data, &|| format!("{at} data"), f);
    }
}

fn diff(d: &mut FileDiff, at: &str, f: &mut Visitor) {
    f(&mut d.path, &|| format!("{at} path"));
    opt(&mut d.status, &|| format!("{at} status"), f);
    opt(&mut d.before, &|| format!("{at} before"), f);
    opt(&mut d.after, &|| format!("{at} after"), f);
    opt(&mut d.patch, &|| format!("{at} patch"), f);
    for h in &mut d.hunks {
        for l in &mut h.lines {
            f(l, &|| format!("{at} hunk"));
        }
    }
}

fn value(v: &mut Value, at: &str, f: &mut Visitor) {
    match v {
        Value::String(s) => f(s, &|| at.to_string()),
        Value::Array(items) => {
            for i in items {
                value(i, at, f);
            }
        }
        Value::Object(map) => {
            for (k, i) in map.iter_mut() {
                // Image payloads in raw records stay as they are.
                if k == "data" && looks_like_base64_image(i) {
                    continue;
                }
                value(i, &format!("{at}.{k}"), f);
            }
        }
        _ => {}
    }
}

fn looks_like_base64_image(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() > 64
            && (s.starts_with("iVBOR")
                || s.starts_with("/9j/")
                || s.starts_with("R0lGOD")
                || s.starts_with("UklGR"))
    })
}
