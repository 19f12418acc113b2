//! Reading a Codex rollout: each line (`{timestamp, type, payload}`)
//! becomes zero or more [`Rec`]s, which [`super::build`] folds into a
//! session.
//!
//! In light mode (listing), lines whose content a listing does not need —
//! tool outputs, token counts, turn contexts, compaction histories — are
//! only peeked at (type, call id) and never fully parsed. Every other line
//! goes through the same code in both modes, so a listing counts exactly
//! the messages an export shows.

use super::patch;
use crate::diag::Diag;
use crate::error::{Error, Result};
use crate::model::*;
use crate::sources::jsonl;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::path::Path;

/// Top-level kinds the format doc lists as newer bookkeeping: read, then
/// deliberately not shown.
const SKIPPED_LINES: &[&str] = &[
    "inter_agent_communication",
    "inter_agent_communication_metadata",
    "token_usage_record",
    "world_state",
    "retained_context",
    "security_risk_score",
    "realtime_item",
];

/// `event_msg` payloads that are UI bookkeeping, deltas of text recorded
/// elsewhere, or requests the transcript answers anyway.
const SKIPPED_EVENTS: &[&str] = &[
    "agent_reasoning_section_break",
    "agent_message_delta",
    "agent_message_content_delta",
    "agent_reasoning_delta",
    "agent_reasoning_raw_content_delta",
    "reasoning_content_delta",
    "reasoning_raw_content_delta",
    "exec_command_begin",
    "exec_command_output_delta",
    "terminal_interaction",
    "mcp_tool_call_begin",
    "web_search_begin",
    "image_generation_begin",
    "image_generation_end",
    "view_image_tool_call",
    "turn_diff",
    "plan_update",
    "plan_delta",
    "background_event",
    "session_configured",
    "thread_settings_applied",
    "sub_agent_activity",
    "thread_goal_updated",
    "item_started",
    "item_completed",
    "raw_response_item",
    "get_history_entry_response",
    "mcp_list_tools_response",
    "mcp_startup_update",
    "mcp_startup_complete",
    "list_custom_prompts_response",
    "list_skills_response",
    "list_models_response",
    "shutdown_complete",
    "exec_approval_request",
    "apply_patch_approval_request",
    "elicitation_request",
    "request_user_input",
    "dynamic_tool_call_request",
    "undo_started",
    "undo_completed",
    "deprecation_notice",
    "rate_limits",
    "account/rateLimits/updated",
    "codex/event/raw_item",
    "collab_agent_spawn_begin",
    "collab_agent_spawn_end",
    "collab_agent_interaction_begin",
    "collab_agent_interaction_end",
    "collab_waiting_begin",
    "collab_waiting_end",
    "collab_close_begin",
    "collab_close_end",
];

/// Which stream a text belongs to, for pairing `response_item` text with
/// its `event_msg` twin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Stream {
    User,
    Assistant,
    Reasoning,
    RawReasoning,
}

/// A twin key: the stream and the SHA-256 of the trimmed text. Holding the
/// digest instead of the text keeps a rollout's records from carrying a
/// third copy of every message while it is read.
pub(super) type Key = (Stream, [u8; 32]);

/// The key of `texts` joined by newlines (the texts of a prompt's parts).
fn key_of<'a>(stream: Stream, texts: impl IntoIterator<Item = &'a str>) -> Key {
    let mut h = Sha256::new();
    for (i, t) in texts.into_iter().enumerate() {
        if i > 0 {
            h.update(b"\n");
        }
        h.update(t.as_bytes());
    }
    (stream, h.finalize().into())
}

/// What the session header says.
#[derive(Debug, Default, Clone)]
pub(super) struct Meta {
    pub id: Option<String>,
    pub cwd: Option<String>,
    pub time: Option<DateTime<Utc>>,
    pub version: Option<String>,
    pub branch: Option<String>,
    /// The parent of a subagent thread.
    pub parent: Option<String>,
    pub agent_role: Option<String>,
    pub agent_nickname: Option<String>,
}

/// The result of a call, from its `*_output` item.
#[derive(Debug, Default, Clone)]
pub(super) struct CallResult {
    pub output: String,
    pub error: bool,
    pub exit_code: Option<i64>,
    pub duration_ms: Option<u64>,
    pub attachments: Vec<FilePart>,
}

/// Events that carry facts about a call (`*_end` events).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CallEventKind {
    Exec,
    Patch,
    Mcp,
    WebSearch,
}

#[derive(Debug, Clone)]
pub(super) enum Ev {
    Meta(Box<Meta>),
    Model(String),
    Cwd(String),
    Title(String),
    /// A user-role message (classified: prompts are text, injected
    /// context is notices).
    User(Vec<Part>),
    /// Harness text shown on its own (developer messages, errors,
    /// interruptions, unknown records).
    System(Vec<Part>),
    /// Text, reasoning or a tool call of the assistant.
    Assistant(Vec<Part>),
    /// A call's result. It is boxed, as are the usages of `Tokens` and the
    /// twin keys: a record is as big as its biggest kind, and a rollout
    /// holds about one record per line.
    Output {
        call_id: String,
        result: Option<Box<CallResult>>,
    },
    CallEvent {
        call_id: Option<String>,
        kind: CallEventKind,
        /// The payload; `None` in light mode.
        data: Option<Value>,
    },
    Tokens {
        last: Option<Box<Usage>>,
        total: Option<Box<Usage>>,
    },
    TurnStart,
    TurnEnd,
    /// A compaction marker; `event` when from `context_compacted` (used
    /// only in files without `compacted` records).
    Compacted {
        summary: Option<String>,
        event: bool,
    },
    /// A line that shows nothing; its time still counts.
    Tick,
}

/// One reading of a line.
#[derive(Debug, Clone)]
pub(super) struct Rec {
    pub time: Option<DateTime<Utc>>,
    pub ev: Ev,
    /// Texts this `response_item` records (their `event_msg` twins drop).
    pub provides: Vec<Key>,
    /// For `event_msg` text: the key whose `response_item` twin makes it
    /// a duplicate.
    pub twin: Option<Box<Key>>,
}

impl Rec {
    fn new(time: Option<DateTime<Utc>>, ev: Ev) -> Rec {
        Rec {
            time,
            ev,
            provides: Vec::new(),
            twin: None,
        }
    }
}

pub(super) fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

pub(super) fn str_of(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn u64_of(v: &Value, key: &str) -> u64 {
    v.get(key).and_then(Value::as_u64).unwrap_or(0)
}

/// Opens a rollout, decompressing `.zst` archives on the fly.
pub(super) fn open(path: &Path) -> Result<Box<dyn std::io::Read + Send>> {
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    if is_zst(path) {
        let d = zstd::stream::read::Decoder::new(f).map_err(|e| Error::io(path, e))?;
        Ok(Box::new(d))
    } else {
        Ok(Box::new(f))
    }
}

pub(super) fn is_zst(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "zst")
}

/// Calls `f` for each line of a rollout. A read error part-way (a cut
/// `.zst` archive) is a warning: the lines read so far stay.
pub(super) fn for_each_line(
    path: &Path,
    diag: &Diag,
    f: &mut dyn FnMut(u64, &str, bool),
) -> Result<()> {
    let reader = open(path)?;
    if let Err(e) = jsonl::read_lines_from(path, reader, diag, f) {
        diag.warn(
            path,
            None,
            "read-error",
            format!("stopped reading part-way: {e}"),
        );
    }
    Ok(())
}

#[derive(Deserialize)]
struct Peek<'a> {
    #[serde(borrow, default)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    payload: Option<PeekPayload<'a>>,
}

#[derive(Deserialize)]
struct PeekPayload<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    call_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    model: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    cwd: Option<Cow<'a, str>>,
}

/// Records of the plain rollouts read so far, for `watch` (see
/// [`jsonl::Tails`]): a rebuild parses only the lines appended since.
static TAILS: std::sync::LazyLock<jsonl::Tails<Vec<Rec>>> =
    std::sync::LazyLock::new(jsonl::Tails::default);

/// Forgets the parser states of the rollouts `keep` rejects.
pub(crate) fn retain_tails(keep: &dyn Fn(&Path) -> bool) {
    TAILS.retain(keep);
}

/// A rollout's records in order, in the pieces they were read in: joining
/// them would copy every record once more.
pub(super) type Pieces = Vec<Vec<Rec>>;

/// Reads a rollout into records. `light` skips what a listing does not
/// need (see the module docs).
pub(super) fn read(path: &Path, light: bool, diag: &Diag) -> Result<Pieces> {
    if !light && !is_zst(path) && jsonl::tails_enabled() {
        let recs = TAILS.read(path, diag, Vec::new, &mut |recs, lineno, text, complete| {
            add_line(path, recs, lineno, text, complete, false, diag)
        })?;
        return Ok(vec![recs]);
    }
    read_fresh(path, light, diag)
}

/// [`read`], never through the kept parser states.
pub(super) fn read_fresh(path: &Path, light: bool, diag: &Diag) -> Result<Pieces> {
    read_pieces(path, light, diag, jsonl::PIECE_BYTES)
}

/// [`read_fresh`] with pieces of `piece_bytes` (tests use small ones).
/// A line's records depend on that line alone, so lines become records on
/// every core, a piece of the file at a time (see
/// [`jsonl::par_read_lines_from`]).
fn read_pieces(path: &Path, light: bool, diag: &Diag, piece_bytes: usize) -> Result<Pieces> {
    let pieces = jsonl::par_read_lines_from(
        path,
        open(path)?,
        diag,
        piece_bytes,
        &Vec::new,
        &|recs, lineno, text, complete, diag| {
            add_line(path, recs, lineno, text, complete, light, diag)
        },
    );
    let Ok(pieces) = pieces else {
        // A read error part-way (a cut `.zst` archive): read again one line
        // after the other, which keeps the lines before it, with a warning.
        let mut recs = Vec::new();
        for_each_line(path, diag, &mut |lineno, text, complete| {
            add_line(path, &mut recs, lineno, text, complete, light, diag)
        })?;
        return Ok(vec![recs]);
    };
    Ok(pieces)
}

/// Reads one complete or partial line into records (`watch`).
pub(super) fn add_full_line(
    path: &Path,
    recs: &mut Vec<Rec>,
    lineno: u64,
    text: &str,
    complete: bool,
    diag: &Diag,
) {
    add_line(path, recs, lineno, text, complete, false, diag);
}

/// Reads one line of a rollout into records.
fn add_line(
    path: &Path,
    recs: &mut Vec<Rec>,
    lineno: u64,
    text: &str,
    complete: bool,
    light: bool,
    diag: &Diag,
) {
    if light && let Ok(p) = serde_json::from_str::<Peek>(text) {
        let time = p.timestamp.as_deref().and_then(parse_time);
        let kind = p.kind.as_deref().unwrap_or("");
        if let Some(evs) = light_evs(kind, p.payload.as_ref()) {
            if evs.is_empty() {
                recs.push(Rec::new(time, Ev::Tick));
            }
            recs.extend(evs.into_iter().map(|ev| Rec::new(time, ev)));
            return;
        }
    }
    let Some(v) = jsonl::parse_object(path, lineno, text, complete, diag).map(Value::Object) else {
        return;
    };
    let before = recs.len();
    let time = v
        .get("timestamp")
        .and_then(Value::as_str)
        .and_then(parse_time);
    line_to_recs(path, lineno, v, diag, recs);
    if recs.len() == before && time.is_some() {
        recs.push(Rec::new(time, Ev::Tick));
    }
}

/// What light mode makes of a line from its peek alone: the dataless
/// records it stands for, or `None` to read it fully.
fn light_evs(kind: &str, p: Option<&PeekPayload>) -> Option<Vec<Ev>> {
    let pkind = p.and_then(|x| x.kind.as_deref());
    let owned = |v: Option<&Cow<str>>| v.filter(|s| !s.is_empty()).map(|s| s.to_string());
    let call_id = owned(p.and_then(|x| x.call_id.as_ref()));
    match (kind, pkind) {
        ("turn_context", _) => {
            let mut v = Vec::new();
            v.extend(owned(p.and_then(|x| x.model.as_ref())).map(Ev::Model));
            v.extend(owned(p.and_then(|x| x.cwd.as_ref())).map(Ev::Cwd));
            Some(v)
        }
        ("compacted", _) => Some(vec![Ev::Compacted {
            summary: None,
            event: false,
        }]),
        (k, _) if SKIPPED_LINES.contains(&k) => Some(Vec::new()),
        (
            "response_item",
            Some("function_call_output" | "custom_tool_call_output" | "tool_search_output"),
        ) => call_id.map(|call_id| {
            vec![Ev::Output {
                call_id,
                result: None,
            }]
        }),
        ("event_msg", Some("token_count")) => Some(Vec::new()),
        ("event_msg", Some(k)) => {
            let kind = call_event_kind(k)?;
            Some(vec![Ev::CallEvent {
                call_id,
                kind,
                data: None,
            }])
        }
        _ => None,
    }
}

fn call_event_kind(k: &str) -> Option<CallEventKind> {
    Some(match k {
        "exec_command_end" => CallEventKind::Exec,
        "patch_apply_end" | "patch_apply_begin" => CallEventKind::Patch,
        "mcp_tool_call_end" => CallEventKind::Mcp,
        "web_search_end" => CallEventKind::WebSearch,
        _ => return None,
    })
}

fn unknown(path: &Path, lineno: u64, kind: String, what: &str, raw: Value, diag: &Diag) -> Ev {
    diag.warn(
        path,
        Some(lineno),
        &format!("unknown:{kind}"),
        format!("unknown {what} `{kind}` kept as an unknown part"),
    );
    Ev::System(vec![Part::Unknown { kind, raw }])
}

fn line_to_recs(path: &Path, lineno: u64, mut v: Value, diag: &Diag, out: &mut Vec<Rec>) {
    let time = v
        .get("timestamp")
        .and_then(Value::as_str)
        .and_then(parse_time);
    let kind = v
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let payload = v.get_mut("payload").map(Value::take).unwrap_or(Value::Null);
    match kind.as_str() {
        "session_meta" => out.push(Rec::new(time, Ev::Meta(Box::new(meta(&payload))))),
        "turn_context" => {
            if let Some(m) = str_of(&payload, "model") {
                out.push(Rec::new(time, Ev::Model(m)));
            }
            if let Some(c) = str_of(&payload, "cwd") {
                out.push(Rec::new(time, Ev::Cwd(c)));
            }
        }
        "response_item" => response_item(path, lineno, time, payload, diag, out),
        "event_msg" => event_msg(path, lineno, time, payload, diag, out),
        "compacted" => out.push(Rec::new(
            time,
            Ev::Compacted {
                summary: str_of(&payload, "message").filter(|m| !m.trim().is_empty()),
                event: false,
            },
        )),
        k if SKIPPED_LINES.contains(&k) => {}
        _ => {
            if let Some(o) = v.as_object_mut()
                && !payload.is_null()
            {
                o.insert("payload".into(), payload);
            }
            let label = if kind.is_empty() {
                "(no type)".to_string()
            } else {
                kind
            };
            out.push(Rec::new(
                time,
                unknown(path, lineno, format!("line:{label}"), "line type", v, diag),
            ));
        }
    }
}

pub(super) fn meta(p: &Value) -> Meta {
    let spawn = p.pointer("/source/subagent/thread_spawn");
    Meta {
        id: str_of(p, "id").or_else(|| str_of(p, "session_id")),
        cwd: str_of(p, "cwd"),
        time: p
            .get("timestamp")
            .and_then(Value::as_str)
            .and_then(parse_time),
        version: str_of(p, "cli_version"),
        branch: p.get("git").and_then(|g| str_of(g, "branch")),
        parent: spawn
            .and_then(|s| str_of(s, "parent_thread_id"))
            .or_else(|| str_of(p, "parent_thread_id")),
        agent_role: str_of(p, "agent_role").or_else(|| spawn.and_then(|s| str_of(s, "agent_role"))),
        agent_nickname: str_of(p, "agent_nickname")
            .or_else(|| spawn.and_then(|s| str_of(s, "agent_nickname"))),
    }
}

/// Tags of injected context blocks that do not follow the `snake_case`
/// convention (see [`split_user_text`]).
const CONTEXT_TAGS: &[&str] = &[
    "environment_context",
    "user_instructions",
    "permissions instructions",
    "INSTRUCTIONS",
    "skill",
    "user_shell_command",
    "turn_aborted",
    "subagent_notification",
    "collaboration_mode",
];

/// The IDE extension's separator between its context and the prompt.
const IDE_REQUEST: &str = "## My request for Codex:";

/// Splits one user text into prompt text and harness notices: AGENTS.md
/// instructions, `<environment_context>` and other tagged context blocks,
/// user shell commands, interruptions, and the IDE's context preamble.
pub(super) fn split_user_text(text: &str) -> Vec<Part> {
    let t = text.trim();
    if t.is_empty() {
        return Vec::new();
    }
    if let Some(i) = text.find(IDE_REQUEST) {
        let mut parts = Vec::new();
        let before = text[..i].trim();
        if !before.is_empty() {
            parts.push(Part::notice(NoticeKind::Injected, before));
        }
        let after = text[i + IDE_REQUEST.len()..].trim();
        if !after.is_empty() {
            parts.push(Part::text(after));
        }
        return parts;
    }
    if t.starts_with("# AGENTS.md instructions") {
        return vec![Part::notice(NoticeKind::Injected, t)];
    }
    if let Some(kind) = context_block(t) {
        return vec![Part::notice(kind, t)];
    }
    vec![Part::text(text)]
}

/// The notice kind of a text that is one tagged context block.
fn context_block(t: &str) -> Option<NoticeKind> {
    let rest = t.strip_prefix('<')?;
    let end = rest.find('>')?;
    let tag = &rest[..end];
    if tag.is_empty()
        || !tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ' ' || c == '-')
    {
        return None;
    }
    let known = CONTEXT_TAGS.contains(&tag);
    let conventional =
        (tag.contains('_') || tag.contains(' ')) && t.ends_with(&format!("</{tag}>"));
    if !known && !conventional {
        return None;
    }
    Some(match tag {
        "user_shell_command" => NoticeKind::Shell,
        "turn_aborted" => NoticeKind::Interrupted,
        "subagent_notification" => NoticeKind::TaskNotification,
        _ => NoticeKind::Injected,
    })
}

/// A file part from an image URL (a `data:` URL becomes inline bytes).
fn image_part(url: Option<&str>, name: Option<String>) -> FilePart {
    match url {
        Some(u) if u.starts_with("data:") => {
            let (head, data) = u.split_once(',').unwrap_or((u, ""));
            let mime = head
                .strip_prefix("data:")
                .and_then(|h| h.split(';').next())
                .filter(|m| !m.is_empty())
                .map(str::to_string);
            let b64 = head.ends_with(";base64");
            FilePart {
                mime,
                name,
                data: b64.then(|| data.to_string()),
                url: None,
            }
        }
        Some(u) if !u.is_empty() => FilePart {
            mime: None,
            name,
            data: None,
            url: Some(u.to_string()),
        },
        // The rollout kept the item but not the image.
        _ => FilePart {
            mime: None,
            name: name.or_else(|| Some("image (not recorded)".into())),
            data: None,
            url: None,
        },
    }
}

/// The texts of the prompt parts, as a twin key.
fn prompt_key(stream: Stream, parts: &[Part]) -> Option<Key> {
    let texts = || {
        parts
            .iter()
            .filter_map(|p| match p {
                Part::Text { text } => Some(text.trim()),
                _ => None,
            })
            .filter(|t| !t.is_empty())
    };
    texts().next().is_some().then(|| key_of(stream, texts()))
}

fn content_items(content: Value) -> Vec<Value> {
    match content {
        Value::Array(a) => a,
        Value::String(s) => vec![serde_json::json!({"type": "input_text", "text": s})],
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

fn response_item(
    path: &Path,
    lineno: u64,
    time: Option<DateTime<Utc>>,
    mut p: Value,
    diag: &Diag,
    out: &mut Vec<Rec>,
) {
    let mut ptype = p
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    // Some writers leave out the tag of plain messages.
    if ptype.is_empty() && p.get("role").is_some() {
        ptype = "message".into();
    }
    match ptype.as_str() {
        "message" => {
            let role = p.get("role").and_then(Value::as_str).unwrap_or("");
            let role = role.to_string();
            let content = p.get_mut("content").map(Value::take).unwrap_or(Value::Null);
            match role.as_str() {
                "user" => {
                    let mut parts = Vec::new();
                    for item in content_items(content) {
                        let t = item
                            .get("type")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string();
                        match t.as_str() {
                            "input_text" | "text" | "output_text" => parts.extend(split_user_text(
                                item.get("text").and_then(Value::as_str).unwrap_or(""),
                            )),
                            "input_image" => parts.push(Part::File(image_part(
                                item.get("image_url").and_then(Value::as_str),
                                None,
                            ))),
                            "input_file" => parts.push(Part::File(FilePart {
                                mime: None,
                                name: str_of(&item, "filename"),
                                data: None,
                                url: str_of(&item, "file_url"),
                            })),
                            _ => parts.push(content_unknown(path, lineno, &t, item, diag)),
                        }
                    }
                    let key = prompt_key(Stream::User, &parts);
                    let mut r = Rec::new(time, Ev::User(parts));
                    r.provides.extend(key);
                    out.push(r);
                }
                "assistant" => {
                    let mut parts = Vec::new();
                    for item in content_items(content) {
                        let t = item
                            .get("type")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string();
                        match t.as_str() {
                            "output_text" | "text" | "input_text" => {
                                let s = item.get("text").and_then(Value::as_str).unwrap_or("");
                                if !s.is_empty() {
                                    parts.push(Part::text(s));
                                }
                            }
                            "refusal" => {
                                if let Some(s) = str_of(&item, "refusal") {
                                    parts.push(Part::text(s));
                                }
                            }
                            "input_image" | "output_image" => parts.push(Part::File(image_part(
                                item.get("image_url").and_then(Value::as_str),
                                None,
                            ))),
                            _ => parts.push(content_unknown(path, lineno, &t, item, diag)),
                        }
                    }
                    let key = prompt_key(Stream::Assistant, &parts);
                    if parts.is_empty() {
                        return;
                    }
                    let mut r = Rec::new(time, Ev::Assistant(parts));
                    r.provides.extend(key);
                    out.push(r);
                }
                // Developer and system messages: permissions, instructions.
                _ => {
                    let parts: Vec<Part> = content_items(content)
                        .into_iter()
                        .filter_map(|item| {
                            let s = item.get("text").and_then(Value::as_str)?.trim();
                            (!s.is_empty()).then(|| Part::notice(NoticeKind::Injected, s))
                        })
                        .collect();
                    if !parts.is_empty() {
                        out.push(Rec::new(time, Ev::System(parts)));
                    }
                }
            }
        }
        "reasoning" => {
            let mut provides = Vec::new();
            let mut texts = Vec::new();
            if let Some(Value::Array(items)) = p.get("summary") {
                for i in items {
                    if let Some(s) = i.get("text").and_then(Value::as_str)
                        && !s.trim().is_empty()
                    {
                        provides.push(key_of(Stream::Reasoning, [s.trim()]));
                        texts.push(s.trim().to_string());
                    }
                }
            }
            if let Some(Value::Array(items)) = p.get("content") {
                for i in items {
                    if let Some(s) = i.get("text").and_then(Value::as_str)
                        && !s.trim().is_empty()
                    {
                        provides.push(key_of(Stream::RawReasoning, [s.trim()]));
                        texts.push(s.trim().to_string());
                    }
                }
            }
            let encrypted = p
                .get("encrypted_content")
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty());
            let part = if !texts.is_empty() {
                Part::Reasoning {
                    text: texts.join("\n\n"),
                    state: ReasoningState::Recorded,
                }
            } else if encrypted {
                Part::Reasoning {
                    text: String::new(),
                    state: ReasoningState::Redacted,
                }
            } else {
                Part::Reasoning {
                    text: String::new(),
                    state: ReasoningState::Empty,
                }
            };
            let mut r = Rec::new(time, Ev::Assistant(vec![part]));
            r.provides = provides;
            out.push(r);
        }
        "function_call" | "custom_tool_call" | "local_shell_call" | "tool_search_call" => {
            out.push(Rec::new(
                time,
                Ev::Assistant(vec![Part::ToolCall(Box::new(call(&ptype, &mut p, lineno)))]),
            ));
        }
        "web_search_call" | "image_generation_call" => {
            out.push(Rec::new(
                time,
                Ev::Assistant(vec![Part::ToolCall(Box::new(hosted_call(
                    &ptype, &mut p, lineno,
                )))]),
            ));
        }
        "function_call_output" | "custom_tool_call_output" | "tool_search_output" => {
            let call_id = str_of(&p, "call_id").unwrap_or_default();
            let result = if ptype == "tool_search_output" {
                CallResult {
                    output: tool_list(p.get("tools")),
                    ..CallResult::default()
                }
            } else {
                let mut r = call_result(p.get("output").unwrap_or(&Value::Null));
                if p.get("success").and_then(Value::as_bool) == Some(false) {
                    r.error = true;
                }
                r
            };
            out.push(Rec::new(
                time,
                Ev::Output {
                    call_id,
                    result: Some(Box::new(result)),
                },
            ));
        }
        "agent_message" => {
            // A message between agents of a multi-agent thread.
            let text: Vec<String> =
                content_items(p.get_mut("content").map(Value::take).unwrap_or(Value::Null))
                    .iter()
                    .filter_map(|i| i.get("text").and_then(Value::as_str).map(str::to_string))
                    .filter(|s| !s.trim().is_empty())
                    .collect();
            if !text.is_empty() {
                let who = match (str_of(&p, "author"), str_of(&p, "recipient")) {
                    (Some(a), Some(r)) => format!("{a} → {r}: "),
                    (Some(a), None) => format!("{a}: "),
                    _ => String::new(),
                };
                out.push(Rec::new(
                    time,
                    Ev::System(vec![Part::notice(
                        NoticeKind::TaskNotification,
                        format!("{who}{}", text.join("\n\n")),
                    )]),
                ));
            }
        }
        // Encrypted context checkpoints (the `compacted` record marks the
        // compaction) and legacy undo snapshots.
        "compaction" | "compaction_summary" | "ghost_snapshot" => {}
        _ => {
            let label = if ptype.is_empty() {
                "(no type)".to_string()
            } else {
                ptype
            };
            out.push(Rec::new(
                time,
                unknown(
                    path,
                    lineno,
                    format!("response_item:{label}"),
                    "response item",
                    p,
                    diag,
                ),
            ));
        }
    }
}

fn content_unknown(path: &Path, lineno: u64, t: &str, item: Value, diag: &Diag) -> Part {
    diag.warn(
        path,
        Some(lineno),
        &format!("unknown-content:{t}"),
        format!("unknown message content `{t}` kept as an unknown part"),
    );
    Part::Unknown {
        kind: format!("content:{t}"),
        raw: item,
    }
}

/// Decodes a JSON-in-a-string argument; anything else is kept as it is.
pub(super) fn decode_json_string(v: Value) -> Value {
    match v {
        Value::String(s) => match serde_json::from_str::<Value>(&s) {
            Ok(parsed) if parsed.is_object() || parsed.is_array() => parsed,
            _ => Value::String(s),
        },
        other => other,
    }
}

/// The patch text an apply_patch-like call carries, if any.
fn patch_text(name: &str, input: &Value) -> Option<String> {
    let s = |v: &Value| v.as_str().map(str::to_string);
    if name == "apply_patch" {
        return match input {
            Value::String(t) => Some(t.clone()),
            Value::Object(_) => ["input", "patch", "patchText"]
                .iter()
                .find_map(|k| input.get(*k).and_then(s)),
            _ => None,
        };
    }
    // `shell` with `["apply_patch", patch]`, or a heredoc in `bash -lc`.
    let command = input.get("command").or_else(|| input.get("cmd"))?;
    let text = match command {
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("\n"),
        Value::String(t) => t.clone(),
        _ => return None,
    };
    (text.contains("apply_patch") && patch::has_envelope(&text)).then_some(text)
}

fn call(ptype: &str, p: &mut Value, lineno: u64) -> ToolCall {
    let id = str_of(p, "call_id")
        .or_else(|| str_of(p, "id"))
        .unwrap_or_else(|| format!("line-{lineno}"));
    let (name, input) = match ptype {
        "local_shell_call" => (
            "local_shell".to_string(),
            p.get_mut("action").map(Value::take).unwrap_or(Value::Null),
        ),
        "tool_search_call" => (
            "tool_search".to_string(),
            decode_json_string(
                p.get_mut("arguments")
                    .map(Value::take)
                    .unwrap_or(Value::Null),
            ),
        ),
        "custom_tool_call" => {
            let input = match p.get_mut("input").map(Value::take) {
                Some(Value::String(s)) => match serde_json::from_str::<Value>(&s) {
                    Ok(v) if v.is_object() => v,
                    _ => serde_json::json!({ "input": s }),
                },
                Some(other) => other,
                None => Value::Null,
            };
            (str_of(p, "name").unwrap_or_else(|| "unknown".into()), input)
        }
        _ => {
            let mut name = str_of(p, "name").unwrap_or_else(|| "unknown".into());
            if let Some(ns) = str_of(p, "namespace") {
                name = format!("{ns}.{name}");
            }
            (
                name,
                decode_json_string(
                    p.get_mut("arguments")
                        .map(Value::take)
                        .unwrap_or(Value::Null),
                ),
            )
        }
    };
    let mut extras = ToolExtras::default();
    if let Some(t) = patch_text(&name, &input) {
        extras.diffs = patch::parse_envelope(&t);
    }
    ToolCall {
        id,
        name,
        input,
        output: None,
        status: ToolStatus::Pending,
        title: str_of(p, "summary"),
        duration_ms: None,
        extras,
    }
}

/// Calls the provider ran itself: they carry their status, and no output
/// item follows.
fn hosted_call(ptype: &str, p: &mut Value, lineno: u64) -> ToolCall {
    let id = str_of(p, "call_id")
        .or_else(|| str_of(p, "id"))
        .unwrap_or_else(|| format!("line-{lineno}"));
    let status = match p.get("status").and_then(Value::as_str) {
        Some("completed") => ToolStatus::Completed,
        Some("failed") | Some("incomplete") => ToolStatus::Error,
        Some("in_progress") | Some("searching") | Some("generating") => ToolStatus::Running,
        _ => ToolStatus::Pending,
    };
    let mut extras = ToolExtras::default();
    let (name, input) = if ptype == "web_search_call" {
        (
            "web_search".to_string(),
            p.get_mut("action").map(Value::take).unwrap_or(Value::Null),
        )
    } else {
        if let Some(data) = str_of(p, "result") {
            extras.attachments.push(FilePart {
                mime: Some("image/png".into()),
                name: Some("generated image".into()),
                data: Some(data),
                url: None,
            });
        }
        (
            "image_generation".to_string(),
            serde_json::json!({ "prompt": p.get("revised_prompt").cloned().unwrap_or(Value::Null) }),
        )
    };
    ToolCall {
        id,
        name,
        input,
        output: None,
        status,
        title: None,
        duration_ms: None,
        extras,
    }
}

fn tool_list(tools: Option<&Value>) -> String {
    let mut names = Vec::new();
    fn walk(v: &Value, names: &mut Vec<String>) {
        match v {
            Value::Array(a) => a.iter().for_each(|x| walk(x, names)),
            Value::Object(o) => {
                if let Some(Value::Array(inner)) = o.get("tools") {
                    inner.iter().for_each(|x| walk(x, names));
                } else if let Some(n) = o.get("name").and_then(Value::as_str) {
                    names.push(n.to_string());
                }
            }
            _ => {}
        }
    }
    if let Some(t) = tools {
        walk(t, &mut names);
    }
    names.join("\n")
}

/// Reads an exit code from the first lines of a shell tool's text output
/// (`Exit code: 1`, `Process exited with code 1`).
fn exit_code_in(text: &str) -> Option<i64> {
    text.lines().take(8).find_map(|l| {
        let l = l.trim();
        l.strip_prefix("Exit code: ")
            .or_else(|| l.strip_prefix("Process exited with code "))
            .and_then(|n| n.trim().parse().ok())
    })
}

/// The result of a call from its output value: a string (sometimes JSON
/// `{output, metadata: {exit_code, duration_seconds}}` inside the string),
/// an array of content items, or one content item.
pub(super) fn call_result(output: &Value) -> CallResult {
    let mut r = CallResult::default();
    match output {
        Value::String(s) => {
            let structured = serde_json::from_str::<Value>(s)
                .ok()
                .filter(|v| v.get("output").is_some_and(Value::is_string));
            match structured {
                Some(v) => {
                    r.output = str_of(&v, "output").unwrap_or_default();
                    let m = v.get("metadata").unwrap_or(&Value::Null);
                    r.exit_code = m.get("exit_code").and_then(Value::as_i64);
                    r.duration_ms = m
                        .get("duration_seconds")
                        .and_then(Value::as_f64)
                        .filter(|d| *d >= 0.0)
                        .map(|d| (d * 1000.0).round() as u64);
                }
                None => {
                    r.output = s.clone();
                    r.exit_code = exit_code_in(s);
                }
            }
        }
        Value::Array(items) => {
            let mut texts = Vec::new();
            for i in items {
                content_item_into(i, &mut texts, &mut r.attachments);
            }
            r.output = texts.join("\n");
            r.exit_code = exit_code_in(&r.output);
        }
        Value::Object(o) => {
            if let Some(inner) = o.get("content").or_else(|| o.get("output")) {
                let mut inner = call_result(inner);
                if o.get("success").and_then(Value::as_bool) == Some(false) {
                    inner.error = true;
                }
                return inner;
            }
            let mut texts = Vec::new();
            content_item_into(output, &mut texts, &mut r.attachments);
            r.output = texts.join("\n");
        }
        Value::Null => {}
        other => r.output = other.to_string(),
    }
    r.error = r.exit_code.is_some_and(|c| c != 0);
    r
}

fn content_item_into(i: &Value, texts: &mut Vec<String>, files: &mut Vec<FilePart>) {
    match i.get("type").and_then(Value::as_str) {
        Some("input_text" | "output_text" | "text") => texts.push(
            i.get("text")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        ),
        Some("input_image" | "image") => {
            if let Some(d) = str_of(i, "data") {
                files.push(FilePart {
                    mime: str_of(i, "mimeType").or_else(|| str_of(i, "mime_type")),
                    name: None,
                    data: Some(d),
                    url: None,
                });
            } else {
                files.push(image_part(i.get("image_url").and_then(Value::as_str), None));
            }
        }
        _ => match i.as_str() {
            Some(s) => texts.push(s.to_string()),
            None => texts.push(i.to_string()),
        },
    }
}

/// Token usage from Codex's `TokenUsage` (`input_tokens` include cached
/// ones; here `input` does not, as in the rest of the model) or the older
/// `{prompt, completion}` form.
pub(super) fn usage_of(u: &Value) -> Option<Usage> {
    if !u.is_object() {
        return None;
    }
    let has = |k: &str| u.get(k).is_some_and(Value::is_u64);
    if has("input_tokens") || has("output_tokens") {
        let cached = u64_of(u, "cached_input_tokens");
        return Some(Usage {
            input: u64_of(u, "input_tokens").saturating_sub(cached),
            output: u64_of(u, "output_tokens"),
            cache_read: cached,
            cache_write: u64_of(u, "cache_write_input_tokens"),
            reasoning: u64_of(u, "reasoning_output_tokens"),
            cost: None,
        });
    }
    if has("prompt") || has("completion") {
        return Some(Usage {
            input: u64_of(u, "prompt"),
            output: u64_of(u, "completion"),
            ..Usage::default()
        });
    }
    None
}

fn event_msg(
    path: &Path,
    lineno: u64,
    time: Option<DateTime<Utc>>,
    p: Value,
    diag: &Diag,
    out: &mut Vec<Rec>,
) {
    let ptype = p
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let text = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let push_twin = |out: &mut Vec<Rec>, ev: Ev, key: Key| {
        let mut r = Rec::new(time, ev);
        r.twin = Some(Box::new(key));
        out.push(r);
    };
    match ptype.as_str() {
        "user_message" => {
            let message = text("message");
            let plain = matches!(p.get("kind").and_then(Value::as_str), None | Some("plain"));
            let mut parts = if plain {
                split_user_text(&message)
            } else if message.trim().is_empty() {
                Vec::new()
            } else {
                vec![Part::notice(NoticeKind::Injected, message.trim())]
            };
            if let Some(Value::Array(images)) = p.get("images") {
                for i in images {
                    parts.push(Part::File(image_part(i.as_str(), None)));
                }
            }
            if parts.is_empty() {
                return;
            }
            let key = prompt_key(Stream::User, &parts)
                .unwrap_or_else(|| key_of(Stream::User, [message.trim()]));
            push_twin(out, Ev::User(parts), key);
        }
        "agent_message" => {
            let m = text("message");
            if m.trim().is_empty() {
                return;
            }
            let key = key_of(Stream::Assistant, [m.trim()]);
            push_twin(out, Ev::Assistant(vec![Part::text(m)]), key);
        }
        "agent_reasoning" | "agent_reasoning_raw_content" => {
            let t = text("text");
            if t.trim().is_empty() {
                return;
            }
            let stream = if ptype == "agent_reasoning" {
                Stream::Reasoning
            } else {
                Stream::RawReasoning
            };
            let key = key_of(stream, [t.trim()]);
            push_twin(
                out,
                Ev::Assistant(vec![Part::Reasoning {
                    text: t.trim().to_string(),
                    state: ReasoningState::Recorded,
                }]),
                key,
            );
        }
        "token_count" => {
            let info = p.get("info").unwrap_or(&Value::Null);
            if !info.is_object() {
                return;
            }
            let total = info.get("total_token_usage").and_then(usage_of);
            let last = info.get("last_token_usage").and_then(usage_of);
            let ev = if total.is_some() || last.is_some() {
                Ev::Tokens {
                    last: last.map(Box::new),
                    total: total.map(Box::new),
                }
            } else {
                Ev::Tokens {
                    last: usage_of(info).map(Box::new),
                    total: None,
                }
            };
            out.push(Rec::new(time, ev));
        }
        "task_started" | "turn_started" => out.push(Rec::new(time, Ev::TurnStart)),
        "task_complete" | "turn_complete" => out.push(Rec::new(time, Ev::TurnEnd)),
        // The `codex exec --json` spelling, found in some older files.
        "turn.completed" => {
            if let Some(u) = p.get("usage").and_then(usage_of) {
                out.push(Rec::new(
                    time,
                    Ev::Tokens {
                        last: Some(Box::new(u)),
                        total: None,
                    },
                ));
            }
            out.push(Rec::new(time, Ev::TurnEnd));
        }
        "turn_aborted" => {
            let reason = str_of(&p, "reason").unwrap_or_else(|| "interrupted".into());
            out.push(Rec::new(
                time,
                Ev::System(vec![Part::notice(
                    NoticeKind::Interrupted,
                    format!("Turn aborted: {reason}"),
                )]),
            ));
        }
        "error" | "stream_error" | "warning" => {
            let mut msg = str_of(&p, "message")
                .or_else(|| p.get("error").and_then(|e| str_of(e, "message")))
                .or_else(|| p.get("error").and_then(Value::as_str).map(str::to_string))
                .unwrap_or_else(|| ptype.clone());
            // When a rate limit lifts: why the session stopped, and until when.
            // An RFC 3339 time, or seconds since the epoch.
            let reset = p
                .get("error")
                .and_then(|e| e.get("resetAt").or_else(|| e.get("reset_at")))
                .and_then(|t| match t {
                    Value::String(s) => DateTime::parse_from_rfc3339(s)
                        .ok()
                        .map(|d| d.with_timezone(&Utc)),
                    Value::Number(n) => n.as_i64().and_then(|s| DateTime::from_timestamp(s, 0)),
                    _ => None,
                });
            if let Some(reset) = reset {
                msg.push_str(&format!(
                    " (resets at {})",
                    reset.format("%Y-%m-%d %H:%M UTC")
                ));
            }
            out.push(Rec::new(
                time,
                Ev::System(vec![Part::notice(
                    if ptype == "warning" {
                        NoticeKind::Warning
                    } else {
                        NoticeKind::Error
                    },
                    msg,
                )]),
            ));
        }
        "context_compacted" => out.push(Rec::new(
            time,
            Ev::Compacted {
                summary: None,
                event: true,
            },
        )),
        "thread_name_updated" => {
            if let Some(t) = str_of(&p, "thread_name") {
                out.push(Rec::new(time, Ev::Title(t)));
            }
        }
        "thread_rolled_back" => {
            let n = p.get("num_turns").and_then(Value::as_u64);
            let text = match n {
                Some(n) => format!("Rolled back {n} turn(s)"),
                None => "Rolled back".to_string(),
            };
            out.push(Rec::new(
                time,
                Ev::System(vec![Part::notice(NoticeKind::Other, text)]),
            ));
        }
        "entered_review_mode" => {
            let hint = str_of(&p, "user_facing_hint").unwrap_or_default();
            out.push(Rec::new(
                time,
                Ev::System(vec![Part::notice(
                    NoticeKind::Other,
                    format!("Entered review mode {hint}").trim().to_string(),
                )]),
            ));
        }
        "exited_review_mode" => {
            let mut s = String::from("Review finished");
            if let Some(r) = p.get("review_output") {
                if let Some(e) = str_of(r, "overall_explanation") {
                    s.push_str(&format!(": {e}"));
                }
                if let Some(Value::Array(findings)) = r.get("findings") {
                    for f in findings {
                        s.push_str(&format!(
                            "\n- {}: {}",
                            str_of(f, "title").unwrap_or_default(),
                            str_of(f, "body").unwrap_or_default()
                        ));
                    }
                }
            }
            out.push(Rec::new(
                time,
                Ev::System(vec![Part::notice(NoticeKind::Other, s)]),
            ));
        }
        k if call_event_kind(k).is_some() => {
            let kind = call_event_kind(k).expect("checked");
            let call_id = str_of(&p, "call_id");
            let mut data = p;
            super::build::keep_read_fields(kind, &mut data);
            out.push(Rec::new(
                time,
                Ev::CallEvent {
                    call_id,
                    kind,
                    data: Some(data),
                },
            ));
        }
        k if SKIPPED_EVENTS.contains(&k) => {}
        _ => {
            let label = if ptype.is_empty() {
                "(no type)".to_string()
            } else {
                ptype
            };
            out.push(Rec::new(
                time,
                unknown(path, lineno, format!("event_msg:{label}"), "event", p, diag),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A rollout written a line and a half at a time: the incremental
    /// read gives the records a full read gives.
    #[test]
    fn incremental_reads_match_full_reads_while_a_rollout_grows() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(
            "tests/fixtures/codex/sharegen/rollout-2025-11-12T09-00-00-0199a8f3-6c1e-7d40-b2a5-3e9f1c7d2a10.jsonl",
        );
        let bytes = std::fs::read(&src).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("rollout.jsonl");
        let tails: jsonl::Tails<Vec<Rec>> = jsonl::Tails::default();
        let diag = Diag::silent();
        let cuts: Vec<usize> = bytes
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .flat_map(|(i, _)| [i + 1, i + 20])
            .filter(|&c| c <= bytes.len())
            .collect();
        assert!(cuts.len() > 10);
        for end in cuts {
            std::fs::write(&p, &bytes[..end]).unwrap();
            let inc = tails
                .read(&p, &diag, Vec::new, &mut |recs, n, t, c| {
                    add_line(&p, recs, n, t, c, false, &diag)
                })
                .unwrap();
            let mut full = Vec::new();
            for_each_line(&p, &diag, &mut |n, t, c| {
                add_line(&p, &mut full, n, t, c, false, &diag)
            })
            .unwrap();
            assert_eq!(format!("{inc:?}"), format!("{full:?}"), "after {end} bytes");
        }
        assert!(matches!(
            tails.last_read(&p),
            Some(jsonl::TailRead::Appended { .. })
        ));
    }

    /// Every Codex fixture, and a rollout with broken, unknown and cut
    /// lines, read in pieces of any size, fully or lightly: the records
    /// and warnings of a read one line after the other.
    #[test]
    fn pieces_read_as_one_read_does() {
        let mut files = crate::sources::fixture_files("codex", "jsonl");
        assert!(files.len() >= 10, "{} rollouts", files.len());
        let dir = tempfile::tempdir().unwrap();
        let odd = dir.path().join("odd.jsonl");
        let mut bytes = std::fs::read(&files[0]).unwrap();
        bytes.extend_from_slice(
            b"not json\n[1]\n{\"type\":\"mystery\",\"payload\":{}}\n\n\
              {\"timestamp\":\"2025-11-12T09:30:00Z\",\"type\":\"response_item\",\
              \"payload\":{\"type\":\"message\",\"role\":\"user\",\"content\":\
              [{\"type\":\"input_text\",\"text\":\"a last prompt\"}]}}\n\
              {\"timestamp\":\"2025-11-12T09:31:00Z\",\"type\":\"event_",
        );
        std::fs::write(&odd, bytes).unwrap();
        files.push(odd);
        for path in &files {
            for light in [false, true] {
                let one = Diag::silent();
                let mut want = Vec::new();
                for_each_line(path, &one, &mut |n, t, c| {
                    add_line(path, &mut want, n, t, c, light, &one)
                })
                .unwrap();
                for piece in [1, 700, 4096, jsonl::PIECE_BYTES] {
                    let d = Diag::silent();
                    let got: Vec<Rec> = read_pieces(path, light, &d, piece)
                        .unwrap()
                        .into_iter()
                        .flatten()
                        .collect();
                    let at = format!("{} in {piece}-byte pieces, light {light}", path.display());
                    assert_eq!(format!("{got:?}"), format!("{want:?}"), "{at}");
                    assert_eq!(d.warnings(), one.warnings(), "{at}");
                }
            }
        }
        let d = Diag::silent();
        let recs = read_pieces(files.last().unwrap(), false, &d, 700).unwrap();
        assert!(!d.warnings().is_empty());
        assert!(format!("{recs:?}").contains("a last prompt"));
    }

    /// A `.zst` archive cut short keeps the lines before the cut, with a
    /// warning, however it is read.
    #[test]
    fn a_cut_archive_keeps_the_lines_before_the_cut() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(
            "tests/fixtures/codex/sharegen/rollout-2025-11-12T09-00-00-0199a8f3-6c1e-7d40-b2a5-3e9f1c7d2a10.jsonl",
        );
        let plain = std::fs::read(&src).unwrap();
        // One frame per line: what was decoded before the cut is whole
        // lines.
        let packed: Vec<u8> = plain
            .split_inclusive(|b| *b == b'\n')
            .flat_map(|line| zstd::encode_all(line, 3).unwrap())
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let whole = dir.path().join("whole.jsonl");
        std::fs::write(&whole, &plain).unwrap();
        let cut = dir.path().join("cut.jsonl.zst");
        std::fs::write(&cut, &packed[..packed.len() * 2 / 3]).unwrap();
        let flat = |p: Pieces| p.into_iter().flatten().collect::<Vec<Rec>>();
        let all = flat(read_pieces(&whole, false, &Diag::silent(), 700).unwrap());
        let d = Diag::silent();
        let kept = flat(read_pieces(&cut, false, &d, 700).unwrap());
        assert!(
            !kept.is_empty() && kept.len() < all.len(),
            "{} of {}",
            kept.len(),
            all.len()
        );
        assert_eq!(format!("{:?}", &all[..kept.len()]), format!("{kept:?}"));
        assert!(
            d.warnings().iter().any(|w| w.kind == "read-error"),
            "{:?}",
            d.warnings()
        );
    }

    #[test]
    fn injected_context_is_split_from_prompts() {
        let kinds = |t: &str| -> Vec<&'static str> {
            split_user_text(t)
                .iter()
                .map(|p| match p {
                    Part::Text { .. } => "text",
                    Part::Notice {
                        kind: NoticeKind::Injected,
                        ..
                    } => "injected",
                    Part::Notice {
                        kind: NoticeKind::Shell,
                        ..
                    } => "shell",
                    _ => "other",
                })
                .collect()
        };
        assert_eq!(
            kinds("<environment_context>\n  <cwd>/x</cwd>\n</environment_context>"),
            vec!["injected"]
        );
        assert_eq!(
            kinds("# AGENTS.md instructions for /x\n\n<INSTRUCTIONS>be nice</INSTRUCTIONS>"),
            vec!["injected"]
        );
        assert_eq!(
            kinds("<user_shell_command>ls</user_shell_command>"),
            vec!["shell"]
        );
        assert_eq!(
            kinds(
                "# Context from my IDE setup:\n\n## Active file: a.rs\n\n## My request for Codex:\nfix it"
            ),
            vec!["injected", "text"]
        );
        assert_eq!(kinds("<div>hello</div>"), vec!["text"]);
        assert_eq!(kinds("Add rate limiting"), vec!["text"]);
    }

    #[test]
    fn outputs_with_metadata_and_exit_codes() {
        let r = call_result(&Value::String(
            r#"{"output":"boom\n","metadata":{"exit_code":2,"duration_seconds":1.5}}"#.into(),
        ));
        assert_eq!(r.output, "boom\n");
        assert_eq!(r.exit_code, Some(2));
        assert_eq!(r.duration_ms, Some(1500));
        assert!(r.error);
        let r = call_result(&Value::String(
            "Chunk ID: 1\nWall time: 0.1 seconds\nProcess exited with code 0\nOutput:\nok".into(),
        ));
        assert_eq!(r.exit_code, Some(0));
        assert!(!r.error);
        let r = call_result(
            &serde_json::json!([{"type":"input_text","text":"a"},{"type":"input_text","text":"b"}]),
        );
        assert_eq!(r.output, "a\nb");
        let r = call_result(&serde_json::json!({"type":"input_text","text":"x"}));
        assert_eq!(r.output, "x");
    }
}
