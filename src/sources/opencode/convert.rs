//! OpenCode records → the normalized model.
//!
//! Two vocabularies are read: MessageV2 (`{info, parts}`; the JSON store,
//! the 1.2+ `message`/`part` tables and `opencode export`) and the 2.x
//! event-style messages of `session_message`. Both become the same model:
//!
//! - user text → `Text`; synthetic text → `Notice{Injected}`; `@agent`
//!   mentions and subtasks → `Notice`; files → `File`.
//! - reasoning → `Reasoning` (blank text: `Redacted` when the provider
//!   metadata holds encrypted content, `Empty` otherwise).
//! - tools → `ToolCall` (see [`super::tools`]).
//! - `step-finish` → `StepStats`; `step-start` and `snapshot` are skipped;
//!   `patch` → a `Notice` listing the changed files; `retry` → an error
//!   `Notice`.
//! - a `compaction` part → `Compaction` (its message becomes a system
//!   message); the summary the following `summary: true` assistant writes
//!   fills that marker's `summary`.
//! - message errors → a `Notice` at the end of the message: `Interrupted`
//!   for `MessageAbortedError`, `Error` otherwise.
//! - the session's file changes (`session_diff`, or the session summary's
//!   `diffs`) → one trailing `System` message of `Diff` parts.
//!
//! Per-turn `summary.diffs` on user messages are not copied: the same
//! changes are on the tool calls that made them.

use super::tools::{self, file_diff, file_part};
use super::value::{
    as_i64, display, parse_json, str_at, take_text, text_at, time_field, time_ms, usage,
};
use crate::diag::Diag;
use crate::model::{
    Agent, Message, NoticeKind, Part, ReasoningState, Role, Session, ToolCall, ToolStatus,
};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One message as read from a store, before conversion.
#[derive(Debug, Clone)]
pub(super) enum RawMessage {
    /// A MessageV2 record and its parts (parts in id order).
    Classic { info: Value, parts: Vec<RawPart> },
    /// A 2.x `session_message` row: `data` with `id` and `type` from the row.
    Event {
        id: String,
        kind: String,
        data: Value,
    },
}

impl RawMessage {
    /// Its id, when it has one.
    pub fn id(&self) -> Option<&str> {
        match self {
            RawMessage::Classic { info, .. } => str_at(info, "id"),
            RawMessage::Event { id, .. } => Some(id),
        }
    }
}

/// A MessageV2 part as read from a store. A database row keeps its JSON
/// text until its message is converted: a big session's parts are then
/// not all held as JSON trees at once (a tree of small objects takes
/// about twice its text).
#[derive(Debug, Clone)]
pub(super) enum RawPart {
    Tree(Value),
    Row(Box<PartRow>),
}

/// A `part` row: its `data`, and the fields the row adds to it.
#[derive(Debug, Clone)]
pub(super) struct PartRow {
    pub data: String,
    pub id: Option<String>,
    pub session_id: String,
    pub message_id: String,
}

impl From<Value> for RawPart {
    fn from(v: Value) -> RawPart {
        RawPart::Tree(v)
    }
}

impl RawPart {
    /// The part as a JSON object; `None`, with a warning, for a row whose
    /// data is not one.
    fn into_value(self, ctx: &Ctx) -> Option<Value> {
        let row = match self {
            RawPart::Tree(v) => return Some(v),
            RawPart::Row(row) => *row,
        };
        let Ok(Value::Object(mut part)) = parse_json(&row.data) else {
            ctx.diag.warn(
                ctx.path,
                None,
                "bad-part-row",
                "skipped `part` rows whose data is not a JSON object",
            );
            return None;
        };
        if let Some(pid) = row.id {
            part.insert("id".into(), Value::String(pid));
        }
        part.insert("sessionID".into(), Value::String(row.session_id));
        part.insert("messageID".into(), Value::String(row.message_id));
        Some(Value::Object(part))
    }
}

/// One session as read from a store, before conversion.
#[derive(Debug, Clone)]
pub(super) struct RawSession {
    pub id: String,
    /// Session.Info in its JSON shape (G1 file, export `info`, or rebuilt
    /// from a row).
    pub info: Value,
    /// Messages, oldest first.
    pub messages: Vec<RawMessage>,
    /// `session_diff/<id>.json`, when found.
    pub diffs: Option<Value>,
    /// Where it was read from (for warnings and `source_paths`).
    pub origin: PathBuf,
    pub source_paths: Vec<PathBuf>,
}

/// A `task` call that names a child session.
#[derive(Debug, Clone)]
pub(super) struct TaskLink {
    pub call_id: String,
    pub child: String,
    pub agent_type: Option<String>,
    pub description: Option<String>,
}

/// A converted session and what linking its subagents needs.
pub(super) struct Built {
    pub session: Session,
    /// The agent of its first assistant message (`build`, `general`, …).
    pub agent: Option<String>,
    pub tasks: Vec<TaskLink>,
}

pub(super) struct Ctx<'a> {
    pub path: &'a Path,
    pub diag: &'a Diag,
}

impl Ctx<'_> {
    fn unknown(&self, kind: String, raw: &Value) -> Part {
        self.diag.warn(
            self.path,
            None,
            &format!("unknown-{}", kind.split(':').next().unwrap_or("record")),
            format!("kept a record sharegen does not know ({kind})"),
        );
        Part::Unknown {
            kind,
            raw: raw.clone(),
        }
    }
}

/// Converts a raw session into the model.
pub(super) fn build(mut raw: RawSession, diag: &Diag) -> Built {
    let messages = std::mem::take(&mut raw.messages);
    build_from(raw, messages.into_iter().map(Some), diag)
}

/// Converts the session `raw` (its messages left out) with `messages`,
/// which may be read as they are converted (None: a record that could not
/// be read).
pub(super) fn build_from(
    raw: RawSession,
    messages: impl IntoIterator<Item = Option<RawMessage>>,
    diag: &Diag,
) -> Built {
    let ctx = Ctx {
        path: &raw.origin,
        diag,
    };
    let mut rows = Vec::new();
    fold_rows(&mut rows, 0, messages, &ctx);
    let agent = agent_of(&rows);
    let tasks = tasks_of(&rows);
    let (mut s, diffs) = finish(
        &raw.id,
        &raw.info,
        &raw.source_paths,
        &rows,
        raw.diffs.as_ref(),
    );
    s.messages = rows.into_iter().filter_map(|r| r.message).collect();
    s.messages.extend(diffs);
    Built {
        agent,
        tasks,
        session: s,
    }
}

/// One raw message, converted and folded into the session (see
/// [`fold_rows`]).
#[derive(Debug, Clone, Default)]
pub(super) struct Row {
    /// Its message (None: nothing to show).
    pub message: Option<Message>,
    /// The agent that wrote it.
    agent: Option<String>,
    /// The compaction marker (row, part) still waiting for its summary
    /// after this row.
    open_after: Option<(usize, usize)>,
    /// The marker (row, part) whose summary this row's summary filled.
    filled: Option<(usize, usize)>,
    /// The `task` calls of its message that name a child session.
    tasks: Vec<TaskLink>,
    /// The model of its (assistant) message, when no earlier row names it:
    /// the session's models are read from the rows, without touching every
    /// message's model (in a big session they are all over the heap).
    new_model: Option<String>,
}

/// Converts raw messages (None: a record that could not be read) into
/// `rows` from row `from` on, replacing what was there. Each raw message
/// is dropped once converted, so the raw session and the converted one are
/// not both held whole. A summary fills the compaction marker before it,
/// possibly in a row before `from`: returns the first such row whose
/// message changed (a summary filled or, its summary gone, emptied again).
pub(super) fn fold_rows(
    rows: &mut Vec<Row>,
    from: usize,
    raw: impl IntoIterator<Item = Option<RawMessage>>,
    ctx: &Ctx,
) -> Option<usize> {
    let from = from.min(rows.len());
    let mut touched: Option<usize> = None;
    let mut touch = |i: usize| touched = Some(touched.map_or(i, |t| t.min(i)));
    let undone: Vec<(usize, usize)> = rows[from..]
        .iter()
        .filter_map(|r| r.filled)
        .filter(|(mi, _)| *mi < from)
        .collect();
    rows.truncate(from);
    for (mi, pi) in undone {
        if let Some(Part::Compaction { summary, .. }) =
            rows[mi].message.as_mut().and_then(|m| m.parts.get_mut(pi))
        {
            *summary = None;
            touch(mi);
        }
    }
    let mut open = from.checked_sub(1).and_then(|i| rows[i].open_after);
    let mut models: Vec<String> = rows.iter().filter_map(|r| r.new_model.clone()).collect();
    for m in raw {
        let converted = m.and_then(|m| match m {
            RawMessage::Classic { info, parts } => classic(&info, parts, ctx),
            RawMessage::Event { id, kind, data } => event(&id, &kind, &data, ctx),
        });
        let mut row = Row::default();
        if let Some(Converted {
            mut message,
            agent,
            summary,
        }) = converted
        {
            row.agent = agent;
            if let Some(text) = summary {
                let marker = open.take().filter(|(mi, pi)| {
                    matches!(
                        rows[*mi].message.as_ref().and_then(|m| m.parts.get(*pi)),
                        Some(Part::Compaction { .. })
                    )
                });
                match marker {
                    Some((mi, pi)) => {
                        if let Some(Part::Compaction { summary, .. }) =
                            rows[mi].message.as_mut().and_then(|m| m.parts.get_mut(pi))
                        {
                            *summary = Some(text);
                        }
                        row.filled = Some((mi, pi));
                        if mi < from {
                            touch(mi);
                        }
                    }
                    None => message.parts.insert(
                        0,
                        Part::Compaction {
                            summary: Some(text),
                            trigger: None,
                            pre_tokens: None,
                        },
                    ),
                }
            }
            if let Some(pi) = message
                .parts
                .iter()
                .rposition(|p| matches!(p, Part::Compaction { summary: None, .. }))
            {
                open = Some((rows.len(), pi));
            }
            row.tasks = task_links(&message);
            if let Some(model) = message
                .model
                .as_ref()
                .filter(|_| message.role == Role::Assistant)
                && !model.is_empty()
                && !models.contains(model)
            {
                models.push(model.clone());
                row.new_model = Some(model.clone());
            }
            row.message = Some(message);
        }
        row.open_after = open;
        rows.push(row);
    }
    touched
}

/// The session `id` (no messages) with what its folded `rows` tell
/// (models, totals, times), and its trailing message of file changes.
pub(super) fn finish(
    id: &str,
    info: &Value,
    source_paths: &[PathBuf],
    rows: &[Row],
    diffs: Option<&Value>,
) -> (Session, Option<Message>) {
    let messages = rows.iter().filter_map(|r| r.message.as_ref());
    let mut s = Session::new(Agent::Opencode, id.to_string());
    s.title = text_at(info, "title").map(str::to_string);
    s.project = text_at(info, "directory").map(str::to_string);
    s.created = time_field(info, "created").and_then(time_ms);
    s.updated = time_field(info, "updated").and_then(time_ms);
    s.agent_version = text_at(info, "version").map(str::to_string);
    s.source_paths = source_paths.to_vec();
    s.models = rows.iter().filter_map(|r| r.new_model.clone()).collect();
    for m in messages.clone().filter(|m| m.role == Role::Assistant) {
        if let Some(u) = &m.usage {
            s.totals.add(u);
        }
    }
    let parts = session_diffs(diffs, info);
    let diffs = (!parts.is_empty()).then(|| {
        let mut m = Message::new(Role::System);
        m.time = s
            .updated
            .or_else(|| messages.clone().rev().find_map(|m| m.time));
        m.parts = parts;
        m
    });
    // The file-change message's time is the session's or the last
    // message's, so it adds nothing here.
    if s.created.is_none() {
        s.created = messages.clone().find_map(|m| m.time);
    }
    if s.updated.is_none() {
        s.updated = messages.clone().rev().find_map(|m| m.time).or(s.created);
    }
    (s, diffs)
}

/// The `task` calls of `rows` that name a child session.
pub(super) fn tasks_of(rows: &[Row]) -> Vec<TaskLink> {
    rows.iter().flat_map(|r| r.tasks.iter().cloned()).collect()
}

/// The agent of the first assistant message that names one.
pub(super) fn agent_of(rows: &[Row]) -> Option<String> {
    rows.iter()
        .filter(|r| {
            r.message
                .as_ref()
                .is_some_and(|m| m.role == Role::Assistant)
        })
        .find_map(|r| r.agent.clone())
}

fn session_diffs(file: Option<&Value>, info: &Value) -> Vec<Part> {
    let list = match file {
        Some(Value::Array(items)) => Some(items),
        _ => match info.get("summary").and_then(|s| s.get("diffs")) {
            Some(Value::Array(items)) => Some(items),
            _ => None,
        },
    };
    list.into_iter()
        .flatten()
        .filter_map(|d| file_diff(d, None))
        .map(Part::Diff)
        .collect()
}

/// The `task` calls of a message that name a child session.
fn task_links(m: &Message) -> Vec<TaskLink> {
    m.parts
        .iter()
        .filter_map(|p| match p {
            Part::ToolCall(c) if c.name == "task" => Some(c.as_ref()),
            _ => None,
        })
        .filter_map(|c: &ToolCall| {
            Some(TaskLink {
                call_id: c.id.clone(),
                child: c.extras.child_session.clone()?,
                agent_type: text_at(&c.input, "subagent_type").map(str::to_string),
                description: text_at(&c.input, "description").map(str::to_string),
            })
        })
        .collect()
}

struct Converted {
    message: Message,
    agent: Option<String>,
    /// Text of a compaction summary this message carries.
    summary: Option<String>,
}

/// A MessageV2 record with its parts.
/// Texts and tool outputs are taken out of `parts`, not copied.
fn classic(info: &Value, parts: Vec<RawPart>, ctx: &Ctx) -> Option<Converted> {
    let role = match str_at(info, "role") {
        Some("user") => Role::User,
        Some("assistant") => Role::Assistant,
        other => {
            let mut m = Message::new(Role::System);
            m.id = str_at(info, "id").map(str::to_string);
            let kind = format!("message:{}", other.unwrap_or("?"));
            m.parts.push(ctx.unknown(kind, info));
            return Some(Converted {
                message: m,
                agent: None,
                summary: None,
            });
        }
    };
    let mut m = Message::new(role);
    m.id = str_at(info, "id").map(str::to_string);
    m.time = time_field(info, "created").and_then(time_ms);
    let error = info.get("error").filter(|e| !e.is_null());
    let ended = error.is_some() || time_field(info, "completed").is_some();
    let is_summary = role == Role::Assistant && info.get("summary") == Some(&Value::Bool(true));
    if role == Role::Assistant {
        m.model = text_at(info, "modelID")
            .or_else(|| info.get("model").and_then(|v| text_at(v, "modelID")))
            .map(str::to_string);
        m.usage = usage(info.get("tokens"), info.get("cost"));
    }
    let mut summary_texts = Vec::new();
    for mut p in parts.into_iter().filter_map(|p| p.into_value(ctx)) {
        if is_summary
            && str_at(&p, "type") == Some("text")
            && p.get("synthetic") != Some(&Value::Bool(true))
        {
            summary_texts.extend(take_text(&mut p, "text"));
            continue;
        }
        m.parts.extend(classic_part(&mut p, ended, ctx));
    }
    if let Some(e) = error {
        m.parts.push(error_notice(e));
    }
    if role == Role::User && is_machinery_only(&m.parts) {
        m.role = Role::System;
    }
    let agent = text_at(info, "agent")
        .or_else(|| text_at(info, "mode"))
        .map(str::to_string);
    Some(Converted {
        message: m,
        agent,
        summary: (!summary_texts.is_empty()).then(|| summary_texts.join("\n\n")),
    })
}

/// Whether a user message holds only harness records (a compaction
/// marker), so it is a system message rather than a prompt.
fn is_machinery_only(parts: &[Part]) -> bool {
    parts.iter().any(|p| matches!(p, Part::Compaction { .. }))
        && parts
            .iter()
            .all(|p| matches!(p, Part::Compaction { .. } | Part::Notice { .. }))
}

fn is_abort(error: &Value) -> bool {
    let name = str_at(error, "name").or_else(|| str_at(error, "type"));
    matches!(name, Some("MessageAbortedError" | "AbortedError"))
}

fn error_notice(error: &Value) -> Part {
    let message = error
        .get("data")
        .and_then(|d| text_at(d, "message"))
        .or_else(|| text_at(error, "message"))
        .map(str::to_string);
    if is_abort(error) {
        return Part::notice(
            NoticeKind::Interrupted,
            message.unwrap_or_else(|| "Interrupted".to_string()),
        );
    }
    let name = str_at(error, "name").or_else(|| str_at(error, "type"));
    let text = match (name, message) {
        (Some(n), Some(msg)) => format!("{n}: {msg}"),
        (Some(n), None) => n.to_string(),
        (None, Some(msg)) => msg,
        (None, None) => display(error).unwrap_or_default(),
    };
    Part::notice(NoticeKind::Error, text)
}

fn reasoning(text: Option<&str>, metadata: Option<&Value>) -> Part {
    match text.filter(|t| !t.trim().is_empty()) {
        Some(t) => Part::Reasoning {
            text: t.to_string(),
            state: ReasoningState::Recorded,
        },
        None => Part::Reasoning {
            text: String::new(),
            state: if metadata.is_some_and(has_encrypted) {
                ReasoningState::Redacted
            } else {
                ReasoningState::Empty
            },
        },
    }
}

/// Whether provider metadata carries encrypted or redacted reasoning
/// (`openai.reasoningEncryptedContent`, `anthropic.redactedData`,
/// OpenRouter `reasoning.encrypted` details, …).
fn has_encrypted(v: &Value) -> bool {
    fn walk(v: &Value, depth: u32) -> bool {
        if depth > 8 {
            return false;
        }
        match v {
            Value::Object(map) => map.iter().any(|(k, v)| {
                let k = k.to_ascii_lowercase();
                ((k.contains("encrypted") || k.contains("redacted"))
                    && v.as_str().is_some_and(|s| !s.is_empty()))
                    || (k == "type"
                        && v.as_str()
                            .is_some_and(|s| s.contains("encrypted") || s.contains("redacted")))
                    || walk(v, depth + 1)
            }),
            Value::Array(items) => items.iter().any(|i| walk(i, depth + 1)),
            _ => false,
        }
    }
    walk(v, 0)
}

/// One MessageV2 part (`ended`: whether its message has ended). Returns
/// nothing for parts that only mark steps.
fn classic_part(p: &mut Value, ended: bool, ctx: &Ctx) -> Option<Part> {
    let kind = str_at(p, "type").unwrap_or("");
    if kind == "text" {
        let synthetic = p.get("synthetic") == Some(&Value::Bool(true));
        let text = take_text(p, "text")?;
        return Some(if synthetic {
            Part::notice(NoticeKind::Injected, text)
        } else {
            Part::text(text)
        });
    }
    if kind == "tool" {
        return Some(Part::ToolCall(Box::new(tools::from_part(p, ended))));
    }
    let p = &*p;
    match kind {
        "reasoning" => Some(reasoning(str_at(p, "text"), p.get("metadata"))),
        "file" => file_part(p).map(Part::File),
        "step-start" | "snapshot" => None,
        "step-finish" => Some(Part::StepStats {
            usage: usage(p.get("tokens"), p.get("cost")).unwrap_or_default(),
            finish: text_at(p, "reason").map(str::to_string),
        }),
        "patch" => {
            let files: Vec<&str> = match p.get("files") {
                Some(Value::Array(f)) => f.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            (!files.is_empty()).then(|| {
                Part::notice(
                    NoticeKind::Other,
                    format!("Files changed:\n{}", files.join("\n")),
                )
            })
        }
        "agent" => text_at(p, "name").map(|n| Part::notice(NoticeKind::Other, format!("@{n}"))),
        "subtask" => Some(subtask(p)),
        "retry" => {
            let err = p.get("error");
            let msg = err
                .and_then(|e| e.get("data"))
                .and_then(|d| text_at(d, "message"))
                .or_else(|| err.and_then(|e| text_at(e, "message")))
                .map(str::to_string)
                .or_else(|| err.and_then(display));
            let attempt = p.get("attempt").and_then(as_i64);
            let text = match (attempt, msg) {
                (Some(a), Some(m)) => format!("Retry {a}: {m}"),
                (Some(a), None) => format!("Retry {a}"),
                (None, Some(m)) => format!("Retry: {m}"),
                (None, None) => "Retry".to_string(),
            };
            Some(Part::notice(NoticeKind::Error, text))
        }
        "compaction" => {
            let trigger = if p.get("overflow") == Some(&Value::Bool(true)) {
                "overflow"
            } else if p.get("auto") == Some(&Value::Bool(true)) {
                "auto"
            } else {
                "manual"
            };
            Some(Part::Compaction {
                summary: None,
                trigger: Some(trigger.to_string()),
                pre_tokens: None,
            })
        }
        other => Some(ctx.unknown(format!("part:{other}"), p)),
    }
}

fn subtask(p: &Value) -> Part {
    let agent = text_at(p, "agent").unwrap_or("subagent");
    let mut text = format!("Subtask for @{agent}");
    if let Some(d) = text_at(p, "description") {
        text.push_str(": ");
        text.push_str(d);
    }
    if let Some(prompt) = text_at(p, "prompt") {
        text.push_str("\n\n");
        text.push_str(prompt);
    }
    let kind = if text_at(p, "command").is_some() {
        NoticeKind::Command
    } else {
        NoticeKind::Other
    };
    Part::notice(kind, text)
}

/// The text of a 2.x message: `text`, or the text items of `content`.
fn event_text(data: &Value) -> Option<String> {
    if let Some(t) = text_at(data, "text") {
        return Some(t.to_string());
    }
    let Some(Value::Array(items)) = data.get("content") else {
        return None;
    };
    let texts: Vec<&str> = items.iter().filter_map(|i| text_at(i, "text")).collect();
    (!texts.is_empty()).then(|| texts.join("\n"))
}

/// One 2.x `session_message` row.
fn event(id: &str, kind: &str, data: &Value, ctx: &Ctx) -> Option<Converted> {
    let role = match kind {
        "user" | "synthetic" | "shell" => Role::User,
        "assistant" => Role::Assistant,
        "idle" => return None,
        _ => Role::System,
    };
    let mut m = Message::new(role);
    m.id = Some(id.to_string());
    m.time = time_field(data, "created").and_then(time_ms);
    let mut agent = None;
    match kind {
        "user" => {
            m.parts.extend(event_text(data).map(Part::text));
            if let Some(Value::Array(files)) = data.get("files") {
                m.parts
                    .extend(files.iter().filter_map(file_part).map(Part::File));
            }
            if let Some(Value::Array(agents)) = data.get("agents") {
                m.parts.extend(
                    agents
                        .iter()
                        .filter_map(|a| a.as_str().or_else(|| text_at(a, "name")))
                        .map(|n| Part::notice(NoticeKind::Other, format!("@{n}"))),
                );
            }
        }
        "synthetic" => {
            m.parts
                .extend(event_text(data).map(|t| Part::notice(NoticeKind::Injected, t)));
        }
        "system" => {
            m.parts
                .extend(event_text(data).map(|t| Part::notice(NoticeKind::Other, t)));
        }
        "shell" => m.parts.push(Part::ToolCall(Box::new(shell_call(id, data)))),
        "compaction" => m.parts.push(Part::Compaction {
            summary: text_at(data, "summary").map(str::to_string),
            trigger: text_at(data, "reason").map(str::to_string),
            pre_tokens: None,
        }),
        "agent-switched" | "model-switched" | "location-switched" => {
            m.parts
                .push(Part::notice(NoticeKind::Other, switch_text(kind, data)));
        }
        "assistant" => {
            let error = data.get("error").filter(|e| !e.is_null());
            let ended = error.is_some() || time_field(data, "completed").is_some();
            let model = data.get("model");
            m.model = model
                .and_then(|v| text_at(v, "id"))
                .or_else(|| model.and_then(Value::as_str))
                .or_else(|| text_at(data, "modelID"))
                .map(str::to_string);
            m.usage = usage(data.get("tokens"), data.get("cost"));
            if let Some(Value::Array(content)) = data.get("content") {
                for item in content {
                    m.parts.extend(event_item(item, ended, ctx));
                }
            }
            if let Some(e) = error {
                m.parts.push(match e {
                    Value::String(s) => Part::notice(NoticeKind::Error, s.clone()),
                    other => error_notice(other),
                });
            }
            let finish = text_at(data, "finish").map(str::to_string);
            if m.usage.is_some() || finish.is_some() {
                m.parts.push(Part::StepStats {
                    usage: m.usage.clone().unwrap_or_default(),
                    finish,
                });
            }
            agent = text_at(data, "agent").map(str::to_string);
        }
        other => m.parts.push(ctx.unknown(format!("message:{other}"), data)),
    }
    Some(Converted {
        message: m,
        agent,
        summary: None,
    })
}

/// An item of a 2.x assistant's `content` (`ended` as for
/// [`classic_part`]).
fn event_item(item: &Value, ended: bool, ctx: &Ctx) -> Option<Part> {
    match str_at(item, "type").unwrap_or("") {
        "text" => {
            let text = text_at(item, "text")?;
            Some(if item.get("synthetic") == Some(&Value::Bool(true)) {
                Part::notice(NoticeKind::Injected, text)
            } else {
                Part::text(text)
            })
        }
        "reasoning" => Some(reasoning(
            str_at(item, "text"),
            item.get("providerMetadata")
                .or_else(|| item.get("metadata")),
        )),
        "tool" => Some(Part::ToolCall(Box::new(tools::from_v2_item(item, ended)))),
        "file" => file_part(item).map(Part::File),
        other => Some(ctx.unknown(format!("part:{other}"), item)),
    }
}

/// A 2.x `shell` message: a command the user ran with `!`, kept as a
/// `bash` call in a user message.
fn shell_call(id: &str, data: &Value) -> ToolCall {
    let command = str_at(data, "command").unwrap_or("");
    let output = data.get("output").and_then(display);
    let completed = time_field(data, "completed");
    let status = if completed.is_some() || output.is_some() {
        ToolStatus::Completed
    } else {
        ToolStatus::Running
    };
    ToolCall {
        id: str_at(data, "callID").unwrap_or(id).to_string(),
        name: "bash".to_string(),
        input: serde_json::json!({ "command": command }),
        output,
        status,
        title: None,
        duration_ms: super::value::duration(time_field(data, "created"), completed),
        extras: Default::default(),
    }
}

fn switch_text(kind: &str, data: &Value) -> String {
    let what = kind.trim_end_matches("-switched");
    let value = match what {
        "agent" => data
            .get("agent")
            .and_then(|a| a.as_str().or_else(|| text_at(a, "name"))),
        "model" => data
            .get("model")
            .and_then(|m| m.as_str().or_else(|| text_at(m, "id"))),
        _ => text_at(data, "location")
            .or_else(|| text_at(data, "directory"))
            .or_else(|| text_at(data, "path")),
    };
    match value {
        Some(v) => format!("Switched {what} to {v}"),
        None => format!("Switched {what}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn raw(messages: Vec<RawMessage>) -> RawSession {
        RawSession {
            id: "ses_1".into(),
            info: json!({"id": "ses_1", "title": "t", "time": {"created": 1000, "updated": 2000}}),
            messages,
            diffs: None,
            origin: PathBuf::from("mem"),
            source_paths: Vec::new(),
        }
    }

    #[test]
    fn compaction_summary_fills_the_marker() {
        let user = RawMessage::Classic {
            info: json!({"id": "msg_1", "role": "user", "time": {"created": 1}}),
            parts: vec![json!({"id": "prt_1", "type": "compaction", "auto": true}).into()],
        };
        let summary = RawMessage::Classic {
            info: json!({"id": "msg_2", "role": "assistant", "summary": true, "modelID": "m",
                         "tokens": {"input": 5, "output": 3}, "time": {"created": 2}}),
            parts: vec![json!({"id": "prt_2", "type": "text", "text": "We did X."}).into()],
        };
        let b = build(raw(vec![user, summary]), &Diag::silent());
        let s = b.session;
        assert_eq!(s.messages[0].role, Role::System);
        assert_eq!(
            s.messages[0].parts[0],
            Part::Compaction {
                summary: Some("We did X.".into()),
                trigger: Some("auto".into()),
                pre_tokens: None
            }
        );
        assert!(s.messages[1].parts.is_empty());
        assert_eq!(s.totals.input, 5);
    }

    #[test]
    fn unfinished_tools_of_ended_messages_were_interrupted() {
        let m = RawMessage::Classic {
            info: json!({"id": "msg_1", "role": "assistant", "time": {"created": 1, "completed": 2}}),
            parts: vec![
                json!({"id": "prt_1", "type": "tool", "callID": "c1", "tool": "bash",
                               "state": {"status": "running", "input": {"command": "sleep 9"}}})
                .into(),
            ],
        };
        let s = build(raw(vec![m]), &Diag::silent()).session;
        match &s.messages[0].parts[0] {
            Part::ToolCall(c) => {
                assert_eq!(c.status, ToolStatus::Running);
                assert_eq!(c.extras.interrupted, Some(true));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reasoning_states() {
        assert!(matches!(
            reasoning(
                Some(""),
                Some(&json!({"openai": {"reasoningEncryptedContent": "gAAA"}}))
            ),
            Part::Reasoning {
                state: ReasoningState::Redacted,
                ..
            }
        ));
        assert!(matches!(
            reasoning(Some("  "), None),
            Part::Reasoning {
                state: ReasoningState::Empty,
                ..
            }
        ));
    }

    #[test]
    fn unknown_parts_are_kept_and_reported() {
        let diag = Diag::silent();
        let m = RawMessage::Classic {
            info: json!({"id": "msg_1", "role": "assistant"}),
            parts: vec![json!({"id": "prt_1", "type": "hologram", "x": 1}).into()],
        };
        let s = build(raw(vec![m]), &diag).session;
        assert!(
            matches!(&s.messages[0].parts[0], Part::Unknown { kind, .. } if kind == "part:hologram")
        );
        assert_eq!(diag.warnings().len(), 1);
    }

    #[test]
    fn v2_events_convert() {
        let diag = Diag::silent();
        let msgs = vec![
            RawMessage::Event {
                id: "m1".into(),
                kind: "user".into(),
                data: json!({"text": "hi", "files": [], "agents": [], "time": {"created": 5}}),
            },
            RawMessage::Event {
                id: "m2".into(),
                kind: "shell".into(),
                data: json!({"callID": "c1", "command": "ls", "output": "a", "time": {"created": 6, "completed": 9}}),
            },
            RawMessage::Event {
                id: "m3".into(),
                kind: "idle".into(),
                data: json!({}),
            },
            RawMessage::Event {
                id: "m4".into(),
                kind: "model-switched".into(),
                data: json!({"model": {"id": "gpt"}}),
            },
        ];
        let s = build(raw(msgs), &diag).session;
        assert_eq!(s.messages.len(), 3);
        assert_eq!(s.first_prompt(), Some("hi"));
        assert_eq!(s.tool_call_count(), 1);
        assert_eq!(
            s.messages[2].parts[0],
            Part::notice(NoticeKind::Other, "Switched model to gpt")
        );
    }
}
