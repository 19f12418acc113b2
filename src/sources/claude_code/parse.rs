//! Parsing a Claude Code transcript into the model.
//!
//! Lines become compact records first (so the raw JSON of a line is dropped
//! as soon as it is read), then records are ordered by the `parentUuid`
//! graph and folded into messages.

use super::fold::Fold;
use super::harness::split_user_text;
use crate::diag::Diag;
use crate::error::Result;
use crate::fsutil::{link_leaves, resolves_within};
use crate::model::*;
use crate::sources::jsonl;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Line types that are bookkeeping: read, then deliberately not shown.
const SKIPPED_TYPES: &[&str] = &[
    "file-history-snapshot",
    "queue-operation",
    "last-prompt",
    "permission-mode",
    "pr-link",
    "agent-setting",
    "file-history-delta",
    "relocated",
    "worktree-state",
    "atis-latch",
    "cost-state",
    "teleported-from",
    "agent-name",
    "agent-color",
    "mode",
];

/// A tool result waiting for its call.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ToolResult {
    pub output: String,
    pub is_error: bool,
    pub extras: ToolExtras,
    pub time: Option<DateTime<Utc>>,
    /// Whether the structured result (`toolUseResult`) names a subagent
    /// (`agentId`). The structured result itself is not kept: what the
    /// page shows of it is in `extras`, and a transcript's results held as
    /// JSON trees until the session is built took more memory than the
    /// session itself.
    pub names_agent: bool,
    /// Whether the structured result says the command's exit code is not
    /// known to be 0 although the call did not fail: it was interpreted
    /// (`returnCodeInterpretation`, grep finding nothing) or still runs in
    /// the background (`backgroundTaskId`).
    pub exit_unknown: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Body {
    User {
        parts: Vec<Part>,
        results: Vec<(String, ToolResult)>,
        meta: bool,
        compact_summary: bool,
    },
    Assistant {
        msg_id: Option<String>,
        request_id: Option<String>,
        model: Option<String>,
        usage: Option<Usage>,
        parts: Vec<Part>,
    },
    /// A system-side message (compaction, command output, hook notices,
    /// unknown records).
    System(Vec<Part>),
    /// A chain member that shows nothing (progress, most attachments).
    Chain,
}

#[derive(Debug, Clone)]
pub(super) struct Rec {
    pub uuid: Option<String>,
    pub parent: Option<String>,
    pub time: Option<DateTime<Utc>>,
    pub sidechain: bool,
    pub body: Body,
    /// On a branch the user rewound (set by [`order`]).
    pub rewound: bool,
}

impl Rec {
    /// Whether this is a prompt the user typed (not a tool result, meta
    /// text or a compaction summary). Commands (`/clear`) and shell lines
    /// (`!ls`) are not: a real transcript has a `/clear` and a later `!`
    /// line after one record, which is no rewind.
    pub fn is_prompt(&self) -> bool {
        match &self.body {
            Body::User {
                parts,
                results,
                meta,
                compact_summary,
            } => {
                !meta
                    && !compact_summary
                    && results.is_empty()
                    && parts
                        .iter()
                        .any(|p| matches!(p, Part::Text { .. } | Part::File(_)))
            }
            _ => false,
        }
    }
}

/// What a file says about its session besides messages.
#[derive(Debug, Clone, Default)]
pub(super) struct FileMeta {
    pub session_id: Option<String>,
    pub agent_id: Option<String>,
    pub cwd: Option<String>,
    pub branch: Option<String>,
    pub version: Option<String>,
    pub custom_title: Option<String>,
    pub ai_title: Option<String>,
    /// Legacy summaries: leafUuid → text.
    pub summaries: Vec<(Option<String>, String)>,
    pub first_time: Option<DateTime<Utc>>,
    pub last_time: Option<DateTime<Utc>>,
}

impl FileMeta {
    /// These facts followed by those of `later` lines, as if one read had
    /// seen both: the first session id, agent id and folder, the last
    /// branch, version and titles, the earliest and latest times, all
    /// summaries.
    fn then(&mut self, later: FileMeta) {
        let FileMeta {
            session_id,
            agent_id,
            cwd,
            branch,
            version,
            custom_title,
            ai_title,
            summaries,
            first_time,
            last_time,
        } = later;
        self.session_id = self.session_id.take().or(session_id);
        self.agent_id = self.agent_id.take().or(agent_id);
        self.cwd = self.cwd.take().or(cwd);
        self.branch = branch.or(self.branch.take());
        self.version = version.or(self.version.take());
        self.custom_title = custom_title.or(self.custom_title.take());
        self.ai_title = ai_title.or(self.ai_title.take());
        self.summaries.extend(summaries);
        self.first_time = self.first_time.into_iter().chain(first_time).min();
        self.last_time = self.last_time.into_iter().chain(last_time).max();
    }
}

#[derive(Default)]
pub(super) struct ParsedFile {
    pub recs: Vec<Rec>,
    pub meta: FileMeta,
}

impl Clone for ParsedFile {
    /// The records are copied on every core: `watch` copies a whole
    /// transcript's records out of its tail cache on each rebuild.
    fn clone(&self) -> Self {
        use rayon::prelude::*;
        ParsedFile {
            recs: self.recs.par_iter().cloned().collect(),
            meta: self.meta.clone(),
        }
    }
}

pub(super) fn parse_time(v: &Value) -> Option<DateTime<Utc>> {
    let s = v.as_str()?;
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

fn str_of(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn u64_of(v: &Value, key: &str) -> u64 {
    v.get(key).and_then(Value::as_u64).unwrap_or(0)
}

/// Parser states of the transcripts read so far, for `watch` (see
/// [`jsonl::Tails`]): a rebuild parses only the lines appended since.
static TAILS: std::sync::LazyLock<jsonl::Tails<ParsedFile>> =
    std::sync::LazyLock::new(jsonl::Tails::default);

pub(super) fn parse_file(path: &Path, diag: &Diag) -> Result<ParsedFile> {
    if jsonl::tails_enabled() {
        return TAILS.read(
            path,
            diag,
            ParsedFile::default,
            &mut |st, n, text, complete| add_line(path, st, n, text, complete, diag),
        );
    }
    let file = std::fs::File::open(path).map_err(|e| crate::error::Error::io(path, e))?;
    parse_reader(path, file, diag)
}

/// Forgets the parser states of the transcripts `keep` rejects.
pub fn retain_tails(keep: &dyn Fn(&Path) -> bool) {
    TAILS.retain(keep);
}

/// How the last incremental read of `path` read it (tests, benchmarks).
pub fn last_tail_read(path: &Path) -> Option<jsonl::TailRead> {
    TAILS.last_read(path)
}

/// Like [`parse_file`], over any reader (`path` is for messages).
pub(super) fn parse_reader(
    path: &Path,
    reader: impl std::io::Read + Send,
    diag: &Diag,
) -> Result<ParsedFile> {
    parse_pieces(path, reader, diag, jsonl::PIECE_BYTES)
}

/// [`parse_reader`], with pieces of `piece_bytes` (tests use small ones).
fn parse_pieces(
    path: &Path,
    reader: impl std::io::Read + Send,
    diag: &Diag,
    piece_bytes: usize,
) -> Result<ParsedFile> {
    // Lines become records on every core (a record depends on its line
    // alone), and the pieces' file facts merge in order.
    let pieces = jsonl::par_read_lines_from(
        path,
        reader,
        diag,
        piece_bytes,
        &ParsedFile::default,
        &|parsed, lineno, text, complete, diag| {
            add_line(path, parsed, lineno, text, complete, diag)
        },
    )?;
    let mut parsed = ParsedFile::default();
    parsed
        .recs
        .reserve(pieces.iter().map(|p| p.recs.len()).sum());
    for piece in pieces {
        parsed.recs.extend(piece.recs);
        parsed.meta.then(piece.meta);
    }
    Ok(parsed)
}

/// Folds one line of a transcript into what was parsed before it.
pub(super) fn add_line(
    path: &Path,
    parsed: &mut ParsedFile,
    lineno: u64,
    text: &str,
    complete: bool,
    diag: &Diag,
) {
    let Some(v) = jsonl::parse_object(path, lineno, text, complete, diag).map(Value::Object) else {
        return;
    };
    if let Some(rec) = line_to_rec(path, lineno, v, &mut parsed.meta, diag) {
        parsed.recs.push(rec);
    }
}

fn note_envelope(v: &Value, meta: &mut FileMeta, time: Option<DateTime<Utc>>) {
    if meta.session_id.is_none() {
        meta.session_id = str_of(v, "sessionId");
    }
    if meta.agent_id.is_none() {
        meta.agent_id = str_of(v, "agentId");
    }
    if meta.cwd.is_none() {
        meta.cwd = str_of(v, "cwd");
    }
    if let Some(b) = str_of(v, "gitBranch") {
        meta.branch = Some(b);
    }
    if let Some(ver) = str_of(v, "version") {
        meta.version = Some(ver);
    }
    if let Some(t) = time {
        if meta.first_time.is_none_or(|f| t < f) {
            meta.first_time = Some(t);
        }
        if meta.last_time.is_none_or(|l| t > l) {
            meta.last_time = Some(t);
        }
    }
}

fn line_to_rec(
    path: &Path,
    lineno: u64,
    mut v: Value,
    meta: &mut FileMeta,
    diag: &Diag,
) -> Option<Rec> {
    let kind = v
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let time = v.get("timestamp").and_then(parse_time);
    match kind.as_str() {
        "summary" => {
            if let Some(s) = str_of(&v, "summary") {
                meta.summaries.push((str_of(&v, "leafUuid"), s));
            }
            return None;
        }
        "custom-title" => {
            meta.custom_title = str_of(&v, "customTitle").or(meta.custom_title.take());
            return None;
        }
        "ai-title" => {
            meta.ai_title = str_of(&v, "aiTitle").or(meta.ai_title.take());
            return None;
        }
        k if SKIPPED_TYPES.contains(&k) => return None,
        _ => {}
    }
    note_envelope(&v, meta, time);
    let uuid = str_of(&v, "uuid");
    let parent = str_of(&v, "parentUuid").or_else(|| str_of(&v, "logicalParentUuid"));
    let sidechain = v
        .get("isSidechain")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    // Some writers use `type: message` with the role inside.
    let kind = if kind == "message" {
        v.pointer("/message/role")
            .and_then(Value::as_str)
            .unwrap_or("message")
            .to_string()
    } else {
        kind
    };
    let body = match kind.as_str() {
        "user" => user_body(path, lineno, &mut v, diag),
        "assistant" => assistant_body(path, lineno, &mut v, diag),
        "system" => Body::System(system_parts(&v)),
        "progress" => Body::Chain,
        "attachment" => attachment_body(&v),
        _ => {
            let label = if kind.is_empty() {
                "(no type)"
            } else {
                kind.as_str()
            };
            diag.warn(
                path,
                Some(lineno),
                &format!("unknown-line:{kind}"),
                format!("unknown line type `{label}` kept as an unknown part"),
            );
            Body::System(vec![Part::Unknown {
                kind: format!("line:{label}"),
                raw: v,
            }])
        }
    };
    Some(Rec {
        uuid,
        parent,
        time,
        sidechain,
        body,
        rewound: false,
    })
}

fn user_body(path: &Path, lineno: u64, v: &mut Value, diag: &Diag) -> Body {
    let meta = v.get("isMeta").and_then(Value::as_bool).unwrap_or(false);
    let compact_summary = v
        .get("isCompactSummary")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut tool_use_result = v.get_mut("toolUseResult").map(Value::take);
    let time = v.get("timestamp").and_then(parse_time);
    let content = v
        .get_mut("message")
        .and_then(|m| m.get_mut("content"))
        .map(Value::take)
        .unwrap_or(Value::Null);
    let mut parts = Vec::new();
    let mut results = Vec::new();
    let push_text = |parts: &mut Vec<Part>, text: &str| {
        if meta {
            if !text.trim().is_empty() {
                parts.push(Part::notice(NoticeKind::Injected, text));
            }
        } else if compact_summary {
            parts.push(Part::Compaction {
                summary: Some(text.to_string()),
                trigger: None,
                pre_tokens: None,
            });
        } else {
            parts.extend(split_user_text(text));
        }
    };
    match content {
        Value::String(s) => push_text(&mut parts, &s),
        Value::Array(blocks) => {
            for block in blocks {
                let btype = block.get("type").and_then(Value::as_str).unwrap_or("");
                match btype {
                    "text" => push_text(
                        &mut parts,
                        block.get("text").and_then(Value::as_str).unwrap_or(""),
                    ),
                    "image" | "document" => parts.push(Part::File(file_from_block(&block))),
                    "tool_result" => {
                        let id = str_of(&block, "tool_use_id").unwrap_or_default();
                        let r = tool_result(block, tool_use_result.take(), time);
                        results.push((id, r));
                    }
                    _ => {
                        diag.warn(
                            path,
                            Some(lineno),
                            &format!("unknown-block:{btype}"),
                            format!("unknown user content block `{btype}` kept as an unknown part"),
                        );
                        parts.push(Part::Unknown {
                            kind: format!("block:{btype}"),
                            raw: block,
                        });
                    }
                }
            }
        }
        Value::Null => {}
        other => parts.push(Part::Unknown {
            kind: "user-content".into(),
            raw: other,
        }),
    }
    Body::User {
        parts,
        results,
        meta,
        compact_summary,
    }
}

fn file_from_block(block: &Value) -> FilePart {
    let source = block.get("source").unwrap_or(&Value::Null);
    let kind = source.get("type").and_then(Value::as_str).unwrap_or("");
    FilePart {
        mime: str_of(source, "media_type"),
        name: str_of(block, "title"),
        data: if kind == "base64" {
            str_of(source, "data")
        } else {
            None
        },
        url: if kind == "url" {
            str_of(source, "url")
        } else {
            None
        },
    }
}

fn tool_result(
    mut block: Value,
    structured: Option<Value>,
    time: Option<DateTime<Utc>>,
) -> ToolResult {
    let is_error = block
        .get("is_error")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut extras = ToolExtras::default();
    let mut output = String::new();
    match block.get_mut("content").map(Value::take) {
        Some(Value::String(s)) => output = s,
        Some(Value::Array(items)) => {
            for item in items {
                match item.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        if !output.is_empty() {
                            output.push('\n');
                        }
                        output.push_str(item.get("text").and_then(Value::as_str).unwrap_or(""));
                    }
                    Some("image") | Some("document") => {
                        extras.attachments.push(file_from_block(&item))
                    }
                    Some("tool_reference") => {
                        if !output.is_empty() {
                            output.push('\n');
                        }
                        output.push_str(&format!(
                            "(tool reference: {})",
                            item.get("tool_name").and_then(Value::as_str).unwrap_or("?")
                        ));
                    }
                    _ => {
                        if !output.is_empty() {
                            output.push('\n');
                        }
                        output.push_str(&item.to_string());
                    }
                }
            }
        }
        Some(Value::Null) | None => {}
        Some(other) => output = other.to_string(),
    }
    if let Some(id) = agent_id_in_text(&output) {
        extras.child_session = Some(id);
    }
    // `<tool_use_error>…</tool_use_error>` is Claude Code's wrapper of an
    // error it reports to the model; the call's status says it already.
    if is_error
        && let Some(inner) = output
            .trim()
            .strip_prefix("<tool_use_error>")
            .and_then(|s| s.strip_suffix("</tool_use_error>"))
    {
        output = inner.trim().to_string();
    }
    let structured = structured.filter(|s| s.is_object());
    if let Some(s) = &structured {
        apply_structured(s, &mut extras);
    }
    ToolResult {
        output,
        is_error,
        extras,
        time,
        names_agent: structured
            .as_ref()
            .is_some_and(|s| s.get("agentId").is_some()),
        exit_unknown: structured.is_some_and(|s| {
            ["returnCodeInterpretation", "backgroundTaskId"]
                .iter()
                .any(|k| s.get(*k).is_some_and(|v| !v.is_null() && v != ""))
        }),
    }
}

/// Finds `agentId: <id>` in a Task/Agent result text.
pub(super) fn agent_id_in_text(text: &str) -> Option<String> {
    let i = text.find("agentId: ")?;
    let id: String = text[i + 9..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    (!id.is_empty()).then_some(id)
}

fn hunks_of(v: &Value) -> Vec<Hunk> {
    let Some(arr) = v.as_array() else {
        return Vec::new();
    };
    arr.iter()
        .filter_map(|h| {
            Some(Hunk {
                old_start: h.get("oldStart")?.as_u64()?,
                old_lines: u64_of(h, "oldLines"),
                new_start: h.get("newStart")?.as_u64()?,
                new_lines: u64_of(h, "newLines"),
                lines: h
                    .get("lines")?
                    .as_array()?
                    .iter()
                    .filter_map(|l| l.as_str().map(str::to_string))
                    .collect(),
            })
        })
        .collect()
}

fn todos_of(v: &Value) -> Option<Vec<Todo>> {
    let arr = v.as_array()?;
    Some(
        arr.iter()
            .map(|t| Todo {
                content: str_of(t, "content").unwrap_or_default(),
                status: str_of(t, "status").unwrap_or_else(|| "pending".into()),
                priority: str_of(t, "priority"),
            })
            .collect(),
    )
}

/// Copies what `toolUseResult` knows into the extras.
fn apply_structured(s: &Value, extras: &mut ToolExtras) {
    if let Some(patch) = s.get("structuredPatch") {
        let hunks = hunks_of(patch);
        let path = str_of(s, "filePath").unwrap_or_default();
        let (adds, dels) = hunks
            .iter()
            .flat_map(|h| &h.lines)
            .fold((0, 0), |(a, d), l| match l.as_bytes().first() {
                Some(b'+') => (a + 1, d),
                Some(b'-') => (a, d + 1),
                _ => (a, d),
            });
        let status = match s.get("type").and_then(Value::as_str) {
            Some("create") => Some("added".to_string()),
            Some("update") => Some("modified".to_string()),
            _ => None,
        };
        extras.diffs.push(FileDiff {
            path: path.clone(),
            status,
            hunks,
            additions: Some(adds),
            deletions: Some(dels),
            ..FileDiff::default()
        });
        if let Some(content) = str_of(s, "content") {
            extras.file = Some(FileContent {
                path,
                content,
                start_line: None,
                total_lines: None,
            });
        }
    }
    if let Some(file) = s.get("file").filter(|f| f.is_object())
        && let (Some(path), Some(content)) = (
            str_of(file, "filePath"),
            file.get("content").and_then(Value::as_str),
        )
    {
        extras.file = Some(FileContent {
            path,
            content: content.to_string(),
            start_line: file.get("startLine").and_then(Value::as_u64),
            total_lines: file.get("totalLines").and_then(Value::as_u64),
        });
    }
    if s.get("stdout").is_some() || s.get("stderr").is_some() {
        extras.stdout = s.get("stdout").and_then(Value::as_str).map(str::to_string);
        extras.stderr = s.get("stderr").and_then(Value::as_str).map(str::to_string);
        extras.interrupted = s.get("interrupted").and_then(Value::as_bool);
    }
    if let Some(code) = s.get("exitCode").and_then(Value::as_i64) {
        extras.exit_code = Some(code);
    }
    if let Some(t) = s.get("newTodos").and_then(todos_of) {
        extras.todos = Some(t);
    }
    if let Some(id) = str_of(s, "agentId") {
        extras.child_session = Some(id);
    }
    // A workflow's run: its subagents' files are in
    // `subagents/workflows/<runId>/`.
    if extras.child_session.is_none()
        && let Some(run) = str_of(s, "runId")
    {
        extras.child_session = Some(run);
    }
}

fn assistant_body(path: &Path, lineno: u64, v: &mut Value, diag: &Diag) -> Body {
    let request_id = str_of(v, "requestId");
    let mut msg = v.get_mut("message").map(Value::take).unwrap_or(Value::Null);
    let msg_id = str_of(&msg, "id");
    let model = str_of(&msg, "model").filter(|m| m != "<synthetic>");
    let usage = msg.get("usage").filter(|u| u.is_object()).map(|u| Usage {
        input: u64_of(u, "input_tokens"),
        output: u64_of(u, "output_tokens"),
        cache_read: u64_of(u, "cache_read_input_tokens"),
        cache_write: u64_of(u, "cache_creation_input_tokens"),
        reasoning: 0,
        cost: None,
    });
    let mut parts = Vec::new();
    match msg.get_mut("content").map(Value::take) {
        Some(Value::Array(blocks)) => {
            for block in blocks {
                if let Some(p) = assistant_block(path, lineno, block, diag) {
                    parts.push(p);
                }
            }
        }
        Some(Value::String(s)) if !s.is_empty() => parts.push(Part::text(s)),
        _ => {}
    }
    // "API Error: 529 …" is Claude Code's record of a failed request, not
    // the model's words.
    if v.get("isApiErrorMessage").and_then(Value::as_bool) == Some(true) {
        for p in &mut parts {
            if let Part::Text { text } = p {
                *p = Part::notice(NoticeKind::Error, std::mem::take(text));
            }
        }
    }
    Body::Assistant {
        msg_id,
        request_id,
        model,
        usage,
        parts,
    }
}

fn assistant_block(path: &Path, lineno: u64, mut block: Value, diag: &Diag) -> Option<Part> {
    let btype = block
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    Some(match btype.as_str() {
        "text" => {
            let t = block.get("text").and_then(Value::as_str).unwrap_or("");
            if t.is_empty() {
                return None;
            }
            Part::text(t)
        }
        "thinking" => {
            let t = block.get("thinking").and_then(Value::as_str).unwrap_or("");
            Part::Reasoning {
                text: t.to_string(),
                state: if t.trim().is_empty() {
                    ReasoningState::Empty
                } else {
                    ReasoningState::Recorded
                },
            }
        }
        "redacted_thinking" => Part::Reasoning {
            text: String::new(),
            state: ReasoningState::Redacted,
        },
        "tool_use" => Part::ToolCall(Box::new(ToolCall {
            id: str_of(&block, "id").unwrap_or_default(),
            name: str_of(&block, "name").unwrap_or_else(|| "unknown".into()),
            input: block
                .get_mut("input")
                .map(Value::take)
                .unwrap_or(Value::Null),
            output: None,
            status: ToolStatus::Pending,
            title: None,
            duration_ms: None,
            extras: ToolExtras::default(),
        })),
        "image" | "document" => Part::File(file_from_block(&block)),
        _ => {
            diag.warn(
                path,
                Some(lineno),
                &format!("unknown-block:{btype}"),
                format!("assistant content block `{btype}` kept as an unknown part"),
            );
            Part::Unknown {
                kind: format!("block:{btype}"),
                raw: block,
            }
        }
    })
}

fn system_parts(v: &Value) -> Vec<Part> {
    let subtype = v.get("subtype").and_then(Value::as_str).unwrap_or("");
    let content = v
        .get("content")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_string();
    match subtype {
        "compact_boundary" => {
            let m = v.get("compactMetadata");
            vec![Part::Compaction {
                summary: None,
                trigger: m.and_then(|m| str_of(m, "trigger")),
                pre_tokens: m.and_then(|m| m.get("preTokens")).and_then(Value::as_u64),
            }]
        }
        "turn_duration" => Vec::new(),
        "local_command" => {
            let parts: Vec<Part> = split_user_text(&content)
                .into_iter()
                .map(|p| match p {
                    Part::Text { text } => Part::notice(NoticeKind::CommandOutput, text),
                    other => other,
                })
                .collect();
            parts
        }
        "stop_hook_summary" => {
            let mut text = String::new();
            if let Some(errs) = v.get("hookErrors").and_then(Value::as_array) {
                for e in errs {
                    text.push_str(
                        e.as_str()
                            .map_or_else(|| e.to_string(), str::to_string)
                            .as_str(),
                    );
                    text.push('\n');
                }
            }
            if let Some(r) = str_of(v, "stopReason") {
                text.push_str(&r);
            }
            if text.trim().is_empty() {
                Vec::new()
            } else {
                vec![Part::notice(NoticeKind::Hook, text.trim())]
            }
        }
        _ if content.is_empty() => Vec::new(),
        "away_summary" => vec![Part::notice(NoticeKind::Other, content)],
        _ => {
            let kind = match v.get("level").and_then(Value::as_str) {
                Some("error") => NoticeKind::Error,
                Some("warning") => NoticeKind::Warning,
                _ if content.starts_with("Running ") || content.contains("hook") => {
                    NoticeKind::Hook
                }
                _ => NoticeKind::Other,
            };
            vec![Part::notice(kind, content)]
        }
    }
}

/// What an attachment the harness gave the model as context says, for a
/// reader: plan mode turned on (its first, full reminder) or off, a file
/// the user edited between turns, an instructions file, the task list.
/// `None` when it repeats itself or holds nothing.
fn context_attachment(a: &Value) -> Option<(NoticeKind, String)> {
    let text = |k: &str| str_of(a, k).filter(|s| !s.trim().is_empty());
    match a.get("type").and_then(Value::as_str)? {
        "plan_mode" => (str_of(a, "reminderType").as_deref() != Some("sparse")).then(|| {
            let mut t = "Plan mode on: the agent plans and changes no files".to_string();
            if let Some(p) = text("planFilePath") {
                t.push_str(&format!(" (plan file: {p})"));
            }
            (NoticeKind::SystemReminder, t)
        }),
        "plan_mode_exit" => Some((NoticeKind::SystemReminder, "Plan mode off".to_string())),
        "edited_text_file" => {
            let file = text("filename")?;
            let mut t = format!("{file} changed outside the agent (by the user or a tool)");
            if let Some(snippet) = text("snippet") {
                t.push_str(":\n");
                t.push_str(&snippet);
            }
            Some((NoticeKind::Injected, t))
        }
        "nested_memory" => {
            let path = text("displayPath").or_else(|| text("path"))?;
            let body = a
                .get("content")
                .and_then(|c| c.get("content").or(Some(c)))
                .and_then(Value::as_str)
                .unwrap_or("");
            let mut t = format!("Instructions from {path}");
            if !body.trim().is_empty() {
                t.push_str(":\n\n");
                t.push_str(body.trim());
            }
            Some((NoticeKind::Injected, t))
        }
        "task_reminder" => {
            let items = a.get("content")?.as_array()?;
            if items.is_empty() {
                return None;
            }
            let mut t = "Task list:".to_string();
            for i in items {
                let mark = match str_of(i, "status").as_deref() {
                    Some("completed") => "✓",
                    Some("in_progress") => "◐",
                    _ => "☐",
                };
                let subject = str_of(i, "subject")
                    .or_else(|| str_of(i, "content"))
                    .unwrap_or_default();
                t.push_str(&format!("\n{mark} {subject}"));
                if let Some(o) =
                    str_of(i, "owner").filter(|o| !o.is_empty() && !subject.contains(o.as_str()))
                {
                    t.push_str(&format!(" ({o})"));
                }
            }
            Some((NoticeKind::SystemReminder, t))
        }
        _ => None,
    }
}

/// What a hook attachment says, as a reader would want it: which hook,
/// what happened, its message and the command it ran. `None` when it has
/// nothing to say.
fn hook_text(a: &Value) -> Option<String> {
    let str_of = |x: &Value| -> Option<String> {
        match x {
            Value::String(s) => Some(s.clone()),
            Value::Array(items) => {
                let lines: Vec<String> = items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                    .collect();
                Some(lines.join("\n"))
            }
            Value::Null => None,
            other => Some(other.to_string()),
        }
    };
    let field = |v: &Value, k: &str| {
        v.get(k)
            .and_then(str_of)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let kind = a.get("type").and_then(Value::as_str).unwrap_or("");
    // A blocking error is a string, or an object holding the message and
    // the command.
    let nested = a.get("blockingError").filter(|b| b.is_object());
    let message = match kind {
        // A hook that ran fine matters only for what it put in the
        // model's context: the output of session-start and prompt-submit
        // hooks (other hooks' output only shows in Claude Code's
        // transcript view).
        "hook_success" => match field(a, "hookEvent").as_deref() {
            Some("SessionStart" | "UserPromptSubmit") => Some(field(a, "content")?),
            _ => return None,
        },
        "hook_cancelled" => a
            .get("timedOut")
            .and_then(Value::as_bool)
            .filter(|t| *t)
            .map(|_| match a.get("timeoutMs").and_then(Value::as_u64) {
                Some(ms) if ms >= 1000 => format!("timed out after {} s", ms / 1000),
                Some(ms) => format!("timed out after {ms} ms"),
                None => "timed out".to_string(),
            }),
        _ => match nested {
            Some(b) => field(b, "blockingError").or_else(|| field(b, "message")),
            None => field(a, "blockingError"),
        }
        .or_else(|| field(a, "stderr"))
        .or_else(|| field(a, "content"))
        .or_else(|| field(a, "message"))
        .or_else(|| field(a, "stdout")),
    };
    let what = match kind {
        "hook_blocking_error" => "blocked",
        "hook_non_blocking_error" => "failed",
        "hook_additional_context" | "hook_success" => "added context",
        "hook_cancelled" => "was cancelled",
        _ => "said",
    };
    let message = match (message, nested) {
        (Some(m), _) => m,
        // An object with fields sharegen does not know: shown whole.
        (None, Some(b)) => b.to_string(),
        (None, None) => return None,
    };
    let name = field(a, "hookName").or_else(|| field(a, "hookEvent"));
    let mut out = match name {
        Some(n) => format!("{n} hook {what}"),
        None => format!("Hook {what}"),
    };
    if let Some(code) = a.get("exitCode").and_then(Value::as_i64)
        && code != 0
    {
        out.push_str(&format!(" (exit {code})"));
    }
    out.push_str(": ");
    out.push_str(&message);
    if let Some(cmd) = nested
        .and_then(|b| field(b, "command"))
        .or_else(|| field(a, "command"))
    {
        out.push_str("\n$ ");
        out.push_str(&cmd);
    }
    Some(out)
}

fn attachment_body(v: &Value) -> Body {
    let Some(a) = v.get("attachment") else {
        return Body::Chain;
    };
    match a.get("type").and_then(Value::as_str).unwrap_or("") {
        "queued_command" => {
            let prompt = a.get("prompt").map_or(String::new(), |p| match p {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            if prompt.trim().is_empty() {
                return Body::Chain;
            }
            Body::User {
                parts: split_user_text(&prompt),
                results: Vec::new(),
                meta: false,
                compact_summary: false,
            }
        }
        "plan_mode" | "plan_mode_exit" | "edited_text_file" | "nested_memory" | "task_reminder" => {
            match context_attachment(a) {
                Some((kind, text)) => Body::System(vec![Part::notice(kind, text)]),
                None => Body::Chain,
            }
        }
        "hook_blocking_error"
        | "hook_non_blocking_error"
        | "hook_system_message"
        | "hook_additional_context"
        | "hook_success"
        | "hook_cancelled" => match hook_text(a) {
            Some(text) => Body::System(vec![Part::notice(NoticeKind::Hook, text)]),
            None => Body::Chain,
        },
        _ => Body::Chain,
    }
}

/// Orders records by the parent graph: a depth-first walk from the roots,
/// children in timestamp order (file order breaks ties). A uuid written
/// again with the same content keeps its first copy; a copy with other
/// content is kept beside it. Orphans become roots; cycles are broken;
/// every record appears exactly once. Branches the user rewound are marked
/// (see [`mark_rewound`]).
pub(super) fn order(recs: Vec<Rec>) -> Vec<Rec> {
    order_checked(recs).0
}

/// [`order`], and whether some records were only reachable through a
/// cycle.
pub(super) fn order_checked(mut recs: Vec<Rec>) -> (Vec<Rec>, bool) {
    let n = recs.len();
    let mut dup = vec![false; n];
    {
        let mut first: HashMap<&str, usize> = HashMap::with_capacity(n);
        let mut differs = Vec::new();
        for (i, r) in recs.iter().enumerate() {
            if let Some(u) = r.uuid.as_deref() {
                match first.get(u) {
                    Some(&f) if recs[f].body == r.body => dup[i] = true,
                    Some(_) => differs.push(i),
                    None => {
                        first.insert(u, i);
                    }
                }
            }
        }
        // A different copy stays, as a leaf beside the first.
        for i in differs {
            recs[i].uuid = None;
        }
    }
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(n);
    for (i, r) in recs.iter().enumerate() {
        if let Some(u) = r.uuid.as_deref()
            && !dup[i]
        {
            index.entry(u).or_insert(i);
        }
    }
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut roots = Vec::new();
    for (i, r) in recs.iter().enumerate() {
        if dup[i] {
            continue;
        }
        match r.parent.as_deref().and_then(|p| index.get(p)) {
            Some(&p) if p != i => children[p].push(i),
            _ => roots.push(i),
        }
    }
    let key = |i: &usize| (recs[*i].time, *i);
    for c in &mut children {
        c.sort_by_key(key);
    }
    roots.sort_by_key(key);
    let mut seen = vec![false; n];
    let mut out_idx = Vec::with_capacity(n);
    let mut stack: Vec<usize> = Vec::new();
    let visit =
        |start: usize, stack: &mut Vec<usize>, seen: &mut Vec<bool>, out: &mut Vec<usize>| {
            stack.push(start);
            while let Some(i) = stack.pop() {
                if seen[i] {
                    continue;
                }
                seen[i] = true;
                out.push(i);
                for &c in children[i].iter().rev() {
                    if !seen[c] {
                        stack.push(c);
                    }
                }
            }
        };
    for &r in &roots {
        visit(r, &mut stack, &mut seen, &mut out_idx);
    }
    // Records only reachable through a cycle, in file order.
    let mut cyclic = false;
    for i in 0..n {
        if !seen[i] && !dup[i] {
            cyclic = true;
            visit(i, &mut stack, &mut seen, &mut out_idx);
        }
    }
    mark_rewound(&mut recs, &children, &out_idx);
    let mut slots: Vec<Option<Rec>> = recs.into_iter().map(Some).collect();
    let ordered = out_idx
        .into_iter()
        .filter_map(|i| slots[i].take())
        .collect();
    (ordered, cyclic)
}

/// Marks the branches the user rewound. A record with two or more prompts
/// among its children, written at different times, is where the user went
/// back (Claude Code's rewind, or an edited prompt): the prompt whose
/// branch holds the newest prompt or answer is the one the conversation
/// went on from, and the others' branches are rewound. Prompts written at
/// the same time are copies (a compaction's replay), not a rewind; other
/// forks (parallel tool results, progress side branches) are left as they
/// are, and so are records that show nothing or come late (progress, hook
/// output, a late tool result): they do not choose the branch. `order` is
/// a walk in which parents come before their children.
fn mark_rewound(recs: &mut [Rec], children: &[Vec<usize>], order: &[usize]) {
    let prompt: Vec<bool> = recs
        .iter()
        .map(|r| r.uuid.is_some() && r.is_prompt())
        .collect();
    let time: Vec<Option<DateTime<Utc>>> = recs.iter().map(|r| r.time).collect();
    let forks = |i: usize| {
        let times: Vec<_> = children[i]
            .iter()
            .filter(|&&c| prompt[c])
            .map(|&c| time[c])
            .collect();
        times.len() >= 2
            && times
                .iter()
                .all(|t| times.iter().filter(|u| *u == t).count() == 1)
    };
    if !(0..recs.len()).any(forks) {
        return;
    }
    // The newest prompt or answer in each record's subtree (children come
    // after their parent in `order`).
    let mut newest: Vec<Option<DateTime<Utc>>> = recs
        .iter()
        .zip(&prompt)
        .map(|(r, &p)| {
            (p || matches!(r.body, Body::Assistant { .. }))
                .then_some(r.time)
                .flatten()
        })
        .collect();
    for &i in order.iter().rev() {
        for &c in &children[i] {
            newest[i] = newest[i].max(newest[c]);
        }
    }
    for &i in order {
        if recs[i].rewound {
            for &c in &children[i] {
                recs[c].rewound = true;
            }
        } else if forks(i) {
            let prompts: Vec<usize> = children[i].iter().copied().filter(|&c| prompt[c]).collect();
            let kept = prompts.iter().copied().max_by_key(|&c| (newest[c], c));
            for c in prompts {
                if Some(c) != kept {
                    recs[c].rewound = true;
                }
            }
        }
    }
}

/// Everything needed to build one session from ordered records.
pub(super) struct Built {
    pub session: Session,
}

/// The session of a transcript (or of one of its chains) around messages
/// folded by `fold`; `uuids` are the records' ids (legacy summaries name
/// their last record).
pub(super) fn session_around(
    id: String,
    meta: &FileMeta,
    path: &Path,
    fold: &Fold,
    uuids: &dyn Fn(&str) -> bool,
) -> Session {
    let mut session = Session::new(Agent::ClaudeCode, id);
    session.project = meta.cwd.clone();
    session.git_branch = meta.branch.clone();
    session.agent_version = meta.version.clone();
    session.source_paths.push(path.to_path_buf());
    session.models = fold.models().to_vec();
    session.totals = fold.totals();
    session.created = meta.first_time;
    session.updated = meta.last_time;
    let summary_title = meta
        .summaries
        .iter()
        .rev()
        .find(|(leaf, _)| leaf.as_deref().is_some_and(uuids))
        .map(|(_, s)| s.clone());
    session.title = meta
        .custom_title
        .clone()
        .or_else(|| meta.ai_title.clone())
        .or(summary_title)
        .or_else(|| first_prompt(fold.messages()).map(title_from_prompt));
    session
}

/// Folds ordered records into messages.
pub(super) fn build(id: String, recs: Vec<Rec>, meta: &FileMeta, path: &Path) -> Built {
    let uuids: HashSet<String> = recs.iter().filter_map(|r| r.uuid.clone()).collect();
    let mut fold = Fold::default();
    for rec in order(recs) {
        fold.apply(rec);
    }
    let mut session = session_around(id, meta, path, &fold, &|u| uuids.contains(u));
    session.messages = fold.into_messages();
    Built { session }
}

pub use crate::sources::title_from_prompt;

pub(super) fn finish_call(call: &mut ToolCall, r: ToolResult, started: Option<DateTime<Utc>>) {
    call.status = if r.is_error {
        ToolStatus::Error
    } else {
        ToolStatus::Completed
    };
    if let (Some(s), Some(e)) = (started, r.time) {
        let ms = (e - s).num_milliseconds();
        if ms >= 0 {
            call.duration_ms = Some(ms as u64);
        }
    }
    let mut extras = r.extras;
    let is_shell = matches!(call.name.as_str(), "Bash" | "BashOutput");
    if is_shell && extras.exit_code.is_none() {
        if r.is_error {
            extras.exit_code = r
                .output
                .strip_prefix("Exit code ")
                .and_then(|s| s.split_whitespace().next())
                .and_then(|n| n.parse().ok());
        } else if call.name == "Bash" && extras.interrupted != Some(true) && !r.exit_unknown {
            // Claude Code records no exit code: a call that did not fail
            // exited 0, unless its result says otherwise.
            extras.exit_code = Some(0);
        }
    }
    if extras.todos.is_none() && call.name == "TodoWrite" {
        extras.todos = call.input.get("todos").and_then(todos_of);
    }
    if !matches!(call.name.as_str(), "Task" | "Agent" | "Workflow") {
        // `agentId:` in other tools' output is just text.
        if !r.names_agent {
            extras.child_session = None;
        }
    }
    call.output = Some(r.output);
    call.extras = extras;
}

/// Splits records of a main file into its own and the in-file sidechains.
pub(super) fn split_sidechains(recs: Vec<Rec>) -> (Vec<Rec>, Vec<Rec>) {
    if recs.iter().all(|r| r.sidechain) {
        return (recs, Vec::new());
    }
    recs.into_iter().partition(|r| !r.sidechain)
}

/// Groups in-file sidechain records into one chain per root.
pub(super) fn sidechain_groups(recs: Vec<Rec>) -> Vec<Vec<Rec>> {
    let ordered = order(recs);
    let mut groups: Vec<Vec<Rec>> = Vec::new();
    // uuid → group, and a parent that is not in the file → group, so that
    // lines hanging off the same missing parent stay together.
    let mut group_of: HashMap<String, usize> = HashMap::new();
    for r in ordered {
        let g = match r.parent.as_deref() {
            Some(p) => match group_of.get(p) {
                Some(&g) => g,
                None => {
                    groups.push(Vec::new());
                    group_of.insert(p.to_string(), groups.len() - 1);
                    groups.len() - 1
                }
            },
            None => {
                groups.push(Vec::new());
                groups.len() - 1
            }
        };
        if let Some(u) = &r.uuid {
            group_of.insert(u.clone(), g);
        }
        groups[g].push(r);
    }
    groups.retain(|g| !g.is_empty());
    groups
}

/// Loads a main transcript with all its subagents.
pub(super) fn load_session(path: &Path, diag: &Diag) -> Result<Session> {
    let id = file_id(path);
    let parsed = parse_file(path, diag)?;
    let (mut main, mut agents) = main_and_sidechains(&id, parsed, path);
    agents.extend(load_agent_files(path, &id, diag));
    link_subagents(&mut main, agents);
    Ok(main)
}

/// The subagents of transcript `path` (session `id`) kept in their own
/// files.
pub(super) fn load_agent_files(path: &Path, id: &str, diag: &Diag) -> Vec<SubagentOf> {
    let mut agents = Vec::new();
    // Each workflow run's labels for its agents, by agent id.
    let mut runs: HashMap<String, HashMap<String, String>> = HashMap::new();
    for file in subagent_files(path, id) {
        match parse_file(&file, diag) {
            Ok(p) => {
                let aid = agent_file_id(&file);
                let (agent_type, mut description) = read_agent_meta(&file, diag);
                if description.is_none()
                    && let Some(run) = workflow_run_of(&file)
                {
                    description = runs
                        .entry(run.to_string())
                        .or_insert_with(|| workflow_labels(&file, run, diag))
                        .remove(&aid);
                }
                let s = build(aid, p.recs, &p.meta, &file).session;
                if is_warmup(&s) {
                    diag.info(format!(
                        "{}: Claude Code's warm-up request, not part of the conversation: left out",
                        file.display()
                    ));
                    continue;
                }
                agents.push((s, agent_type, description));
            }
            Err(e) => diag.warn(
                &file,
                None,
                "unreadable",
                format!("subagent skipped: {}", e.cause_at(&file)),
            ),
        }
    }
    agents
}

/// Whether a subagent file is only Claude Code's warm-up request (2.0.x
/// sends "Warmup" to prime its cache when it starts): a prompt of that one
/// word and at most its answer, no tool call.
fn is_warmup(s: &Session) -> bool {
    let first_is_warmup = s.messages.first().is_some_and(|m| {
        m.role == Role::User
            && matches!(m.parts.as_slice(), [Part::Text { text }] if text.trim() == "Warmup")
    });
    first_is_warmup
        && s.messages.len() <= 2
        && s.messages
            .iter()
            .flat_map(|m| &m.parts)
            .all(|p| !matches!(p, Part::ToolCall(_)))
}

/// [`is_warmup`] for a subagent file, read only if it is small.
pub(super) fn is_warmup_file(path: &Path) -> bool {
    if std::fs::metadata(path).map_or(true, |m| m.len() > 64 * 1024) {
        return false;
    }
    let Ok(bytes) = std::fs::read(path) else {
        return false;
    };
    parse_reader(path, &bytes[..], &Diag::silent())
        .is_ok_and(|p| is_warmup(&build("warmup".into(), p.recs, &p.meta, path).session))
}

/// A transcript held in memory, with the subagents its sidechains hold
/// (no subagent files are read).
pub(super) fn session_from_bytes(id: &str, bytes: &[u8], diag: &Diag) -> Result<Session> {
    let path = Path::new("(memory).jsonl");
    let parsed = parse_reader(path, bytes, diag)?;
    let (mut main, agents) = main_and_sidechains(id, parsed, path);
    link_subagents(&mut main, agents);
    Ok(main)
}

/// A subagent session with its agent type and description.
pub(super) type SubagentOf = (Session, Option<String>, Option<String>);

/// The main session of a parsed transcript and its sidechain subagents.
pub(super) fn main_and_sidechains(
    id: &str,
    parsed: ParsedFile,
    path: &Path,
) -> (Session, Vec<SubagentOf>) {
    let (own, side) = split_sidechains(parsed.recs);
    let mut main = build(id.to_string(), own, &parsed.meta, path).session;

    let mut agents: Vec<SubagentOf> = Vec::new();
    for (i, group) in sidechain_groups(side).into_iter().enumerate() {
        let sid = group
            .first()
            .and_then(|r| r.uuid.clone())
            .map(|u| format!("sidechain-{u}"))
            .unwrap_or_else(|| format!("sidechain-{i}"));
        // Some writers hang a sidechain off the spawning call's id.
        if let Some(call_id) = group.first().and_then(|r| r.parent.clone()) {
            set_child_link(&mut main, &call_id, &sid);
        }
        let s = build(sid, group, &parsed.meta, path).session;
        agents.push((s, None, None));
    }
    (main, agents)
}

/// Marks the Task/Agent call `call_id` as the spawner of `child`.
fn set_child_link(s: &mut Session, call_id: &str, child: &str) {
    for m in &mut s.messages {
        for p in &mut m.parts {
            if let Part::ToolCall(c) = p
                && c.id == call_id
                && c.extras.child_session.is_none()
            {
                c.extras.child_session = Some(child.to_string());
            }
        }
    }
}

/// The session id of a transcript: its file stem.
pub(super) fn file_id(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn agent_file_id(path: &Path) -> String {
    let stem = file_id(path);
    stem.strip_prefix("agent-")
        .map(str::to_string)
        .unwrap_or(stem)
}

/// The workflow run a subagent file belongs to: `<runId>` for
/// `…/subagents/workflows/<runId>/agent-<id>.jsonl`.
pub(super) fn workflow_run_of(path: &Path) -> Option<&str> {
    let run = path.parent()?;
    let workflows = run.parent()?;
    let subagents = workflows.parent()?;
    (workflows.file_name()? == "workflows" && subagents.file_name()? == "subagents")
        .then(|| run.file_name()?.to_str())
        .flatten()
}

/// What the record of workflow run `run` (`<session>/workflows/<run>.json`,
/// beside `subagents/`) calls each of its agents, by agent id:
/// "Map · review:loader" (phase and label).
fn workflow_labels(agent_file: &Path, run: &str, diag: &Diag) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let Some(session_dir) = agent_file.ancestors().nth(4) else {
        return out;
    };
    let record = session_dir.join("workflows").join(format!("{run}.json"));
    // Neither the file nor the folder may lead out of the session's.
    if !resolves_within(session_dir, &record) {
        return out;
    }
    let Ok(text) = std::fs::read_to_string(&record) else {
        return out;
    };
    let v: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            diag.warn(&record, None, "malformed", format!("invalid JSON: {e}"));
            return out;
        }
    };
    let name = str_of(&v, "workflowName");
    for step in v
        .get("workflowProgress")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(agent) = str_of(step, "agentId") else {
            continue;
        };
        let label: Vec<String> = [
            name.clone(),
            str_of(step, "phaseTitle"),
            str_of(step, "label"),
        ]
        .into_iter()
        .flatten()
        .filter(|s| !s.trim().is_empty())
        .collect();
        if !label.is_empty() {
            out.insert(agent, label.join(" · "));
        }
    }
    out
}

fn read_agent_meta(path: &Path, diag: &Diag) -> (Option<String>, Option<String>) {
    let meta_path = path.with_extension("meta.json");
    if let Some(dir) = path.parent()
        && link_leaves(dir, &meta_path)
    {
        return (None, None);
    }
    let Ok(text) = std::fs::read_to_string(&meta_path) else {
        return (None, None);
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(v) => (str_of(&v, "agentType"), str_of(&v, "description")),
        Err(e) => {
            diag.warn(&meta_path, None, "malformed", format!("invalid JSON: {e}"));
            (None, None)
        }
    }
}

/// Subagent transcripts of the session `id` whose file is `path`: the
/// `<id>/subagents/` tree (any depth), and sibling `agent-*.jsonl` files
/// whose lines name `id` as their session.
pub(super) fn subagent_files(path: &Path, id: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Some(dir) = path.parent() else {
        return files;
    };
    if let Some(sub) = subagents_dir(dir, id) {
        for e in walkdir::WalkDir::new(&sub)
            .sort_by_file_name()
            .into_iter()
            .filter_map(|e| e.ok())
        {
            let p = e.path();
            if e.file_type().is_file() && is_agent_file(p) {
                files.push(p.to_path_buf());
            }
        }
    }
    if let Ok(rd) = std::fs::read_dir(dir) {
        let mut sib: Vec<PathBuf> = rd
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| is_agent_file(p) && !link_leaves(dir, p) && p.is_file())
            .collect();
        sib.sort();
        for p in sib {
            if p == path {
                continue;
            }
            if agent_parent_session(&p).as_deref() == Some(id) {
                files.push(p);
            }
        }
    }
    files
}

/// `<dir>/<id>/subagents`, when it is a folder inside `dir` (a link
/// leading elsewhere, or an id such as `..`, is not followed). The walk
/// below it does not follow links either.
pub(super) fn subagents_dir(dir: &Path, id: &str) -> Option<PathBuf> {
    if !crate::ids::is_session_id(id) {
        return None;
    }
    let sub = dir.join(id).join("subagents");
    (sub.is_dir() && resolves_within(dir, &sub)).then_some(sub)
}

pub(super) fn is_agent_file(p: &Path) -> bool {
    p.extension().is_some_and(|e| e == "jsonl")
        && p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("agent-"))
}

/// What the first lines of a transcript say about it.
#[derive(Debug, Default)]
pub(super) struct Head {
    pub session_id: Option<String>,
    pub cwd: Option<String>,
    pub first_time: Option<DateTime<Utc>>,
}

/// Reads at most `max_lines` lines from the start of a transcript, until it
/// knows the session id and the working directory.
pub(super) fn read_head(path: &Path, max_lines: usize) -> Head {
    use std::io::BufRead;
    #[derive(serde::Deserialize)]
    struct Line {
        #[serde(rename = "sessionId")]
        session_id: Option<String>,
        cwd: Option<String>,
        timestamp: Option<String>,
    }
    let mut head = Head::default();
    let Ok(f) = std::fs::File::open(path) else {
        return head;
    };
    for line in std::io::BufReader::new(f).split(b'\n').take(max_lines) {
        let Ok(line) = line else { break };
        let Ok(l) = serde_json::from_slice::<Line>(&line) else {
            continue;
        };
        head.session_id = head.session_id.or(l.session_id.filter(|s| !s.is_empty()));
        head.cwd = head.cwd.or(l.cwd.filter(|s| !s.is_empty()));
        if head.first_time.is_none() {
            head.first_time = l
                .timestamp
                .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
                .map(|t| t.with_timezone(&Utc));
        }
        if head.session_id.is_some() && head.cwd.is_some() {
            break;
        }
    }
    head
}

/// The parent session id named by the first lines of an old-style
/// `agent-*.jsonl` file.
pub(super) fn agent_parent_session(path: &Path) -> Option<String> {
    read_head(path, 20).session_id
}

/// The prompt a subagent was given: its first user text, or the body of
/// the teammate message that started it.
fn first_user_text(s: &Session) -> Option<String> {
    s.messages
        .iter()
        .filter(|m| m.role != Role::Assistant)
        .flat_map(|m| &m.parts)
        .find_map(|p| match p {
            Part::Text { text } => Some(text.trim().to_string()),
            Part::Notice {
                kind: NoticeKind::Other,
                text,
            } => Some(text.trim().to_string()),
            // Its first line names the sender; the prompt is the rest.
            Part::Notice {
                kind: NoticeKind::Teammate,
                text,
            } => Some(
                text.split_once("\n\n")
                    .map_or("", |(_, body)| body)
                    .trim()
                    .to_string(),
            ),
            _ => None,
        })
}

/// Subagents not linked yet, by id.
type Pool = HashMap<String, SubagentOf>;

/// A Task/Agent call that spawned a subagent: where the call is (message,
/// part), and the subagent's id.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Link {
    pub msg: usize,
    pub part: usize,
    pub agent: String,
    call_id: String,
    call_type: Option<String>,
    call_desc: Option<String>,
}

/// Attaches subagent sessions to the tool calls that spawned them, at any
/// depth. Links by agent id first, then by prompt text; what cannot be
/// linked hangs off the main session.
pub(super) fn link_subagents(main: &mut Session, agents: Vec<SubagentOf>) {
    let links = link_subagents_of(&main.messages, &mut main.subagents, agents);
    set_links(&mut main.messages, 0, &links);
}

/// [`link_subagents`] for a session whose messages are `messages`: pushes
/// the subagents onto `subagents` and returns the links to set on the
/// messages' calls (see [`set_links`]).
pub(super) fn link_subagents_of(
    messages: &[Message],
    subagents: &mut Vec<Subagent>,
    agents: Vec<SubagentOf>,
) -> Vec<Link> {
    let mut pool: Pool = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    for a in agents {
        let id = a.0.id.clone();
        // Ids are unique per layout; should two files still collide,
        // keep both under distinct ids rather than drop one.
        let mut id = id;
        let mut n = 1;
        while pool.contains_key(&id) {
            n += 1;
            id = format!("{}~{n}", a.0.id);
        }
        let mut a = a;
        a.0.id = id.clone();
        order.push(id.clone());
        pool.insert(id, a);
    }
    // Prompt matching for calls that did not record an agent id.
    let mut by_prompt: HashMap<String, String> = HashMap::new();
    for id in &order {
        if let Some(p) = first_user_text(&pool[id].0) {
            by_prompt.entry(p).or_insert_with(|| id.clone());
        }
    }
    let mut linked: HashSet<String> = HashSet::new();
    let links = plan_links(messages, &pool, &by_prompt, &mut linked);
    attach(subagents, &links, &mut pool, &by_prompt, &mut linked);
    // A workflow's agents go under the call that started the run.
    let mut run_calls: HashMap<&str, &str> = HashMap::new();
    for p in messages.iter().flat_map(|m| &m.parts) {
        if let Part::ToolCall(c) = p
            && c.name == "Workflow"
            && let Some(run) = c.extras.child_session.as_deref()
        {
            run_calls.entry(run).or_insert(c.id.as_str());
        }
    }
    for id in order {
        if let Some((mut s, agent_type, description)) = pool.remove(&id) {
            link_calls(&mut s, &mut pool, &by_prompt, &mut linked);
            let run_call = s
                .source_paths
                .first()
                .and_then(|p| workflow_run_of(p))
                .and_then(|run| run_calls.get(run))
                .map(|c| c.to_string());
            subagents.push(Subagent {
                tool_call_id: run_call,
                agent_type,
                description,
                session: Box::new(s),
            });
        }
    }
    links
}

/// Sets the links that concern `messages`, the messages from `from` on.
pub(super) fn set_links(messages: &mut [Message], from: usize, links: &[Link]) {
    for l in links {
        if let Some(Part::ToolCall(call)) = l
            .msg
            .checked_sub(from)
            .and_then(|i| messages.get_mut(i))
            .and_then(|m| m.parts.get_mut(l.part))
        {
            call.extras.child_session = Some(l.agent.clone());
        }
    }
}

/// Which Task/Agent calls of `messages` spawned which subagent of `pool`.
fn plan_links(
    messages: &[Message],
    pool: &Pool,
    by_prompt: &HashMap<String, String>,
    linked: &mut HashSet<String>,
) -> Vec<Link> {
    let mut found = Vec::new();
    for (msg, m) in messages.iter().enumerate() {
        for (part, p) in m.parts.iter().enumerate() {
            let Part::ToolCall(call) = p else { continue };
            if !matches!(call.name.as_str(), "Task" | "Agent") {
                continue;
            }
            let target = call
                .extras
                .child_session
                .clone()
                .filter(|id| pool.contains_key(id))
                .or_else(|| {
                    let prompt = call.input.get("prompt")?.as_str()?.trim();
                    by_prompt
                        .get(prompt)
                        .filter(|id| pool.contains_key(*id) && !linked.contains(*id))
                        .cloned()
                });
            if let Some(t) = target {
                linked.insert(t.clone());
                let input_str = |k: &str| {
                    call.input
                        .get(k)
                        .and_then(Value::as_str)
                        .map(str::to_string)
                };
                found.push(Link {
                    msg,
                    part,
                    agent: t,
                    call_id: call.id.clone(),
                    call_type: input_str("subagent_type"),
                    call_desc: input_str("description"),
                });
            }
        }
    }
    found
}

/// Moves the subagents `links` name from `pool` onto `subagents`, linking
/// their own calls first.
fn attach(
    subagents: &mut Vec<Subagent>,
    links: &[Link],
    pool: &mut Pool,
    by_prompt: &HashMap<String, String>,
    linked: &mut HashSet<String>,
) {
    for l in links {
        if let Some((mut child, agent_type, description)) = pool.remove(&l.agent) {
            link_calls(&mut child, pool, by_prompt, linked);
            subagents.push(Subagent {
                tool_call_id: Some(l.call_id.clone()),
                agent_type: agent_type.or_else(|| l.call_type.clone()),
                description: description.or_else(|| l.call_desc.clone()),
                session: Box::new(child),
            });
        }
    }
}

fn link_calls(
    s: &mut Session,
    pool: &mut Pool,
    by_prompt: &HashMap<String, String>,
    linked: &mut HashSet<String>,
) {
    let links = plan_links(&s.messages, pool, by_prompt, linked);
    set_links(&mut s.messages, 0, &links);
    attach(&mut s.subagents, &links, pool, by_prompt, linked);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session_json(parsed: ParsedFile, path: &Path) -> Value {
        let (s, agents) = main_and_sidechains("t", parsed, path);
        serde_json::json!({
            "main": serde_json::to_value(&s).unwrap(),
            "agents": agents.iter().map(|a| serde_json::to_value(&a.0).unwrap()).collect::<Vec<_>>(),
        })
    }

    #[test]
    fn an_api_error_record_is_an_error_notice() {
        let bytes = concat!(
            r#"{"type":"user","uuid":"u1","parentUuid":null,"timestamp":"2026-01-01T10:00:00Z","message":{"role":"user","content":"hi"}}"#,
            "\n",
            r#"{"type":"assistant","uuid":"a1","parentUuid":"u1","isApiErrorMessage":true,"timestamp":"2026-01-01T10:00:01Z","message":{"id":"m1","role":"assistant","model":"<synthetic>","content":[{"type":"text","text":"API Error: 529 overloaded"}]}}"#,
            "\n",
        );
        let s = session_from_bytes("t", bytes.as_bytes(), &Diag::silent()).unwrap();
        let parts: Vec<&Part> = s.messages.iter().flat_map(|m| &m.parts).collect();
        assert!(
            parts.contains(&&Part::notice(
                NoticeKind::Error,
                "API Error: 529 overloaded"
            )),
            "{parts:?}"
        );
        assert!(!parts.contains(&&Part::text("API Error: 529 overloaded")));
    }

    /// Reads `bytes` one line after the other, as before lines were parsed
    /// in pieces.
    fn parse_sequentially(path: &Path, bytes: &[u8], diag: &Diag) -> ParsedFile {
        let mut parsed = ParsedFile::default();
        jsonl::read_lines_from(path, bytes, diag, &mut |n, text, complete| {
            add_line(path, &mut parsed, n, text, complete, diag)
        })
        .unwrap();
        parsed
    }

    /// Parsed in pieces of any size, every real transcript, and one whose
    /// file facts change along the way, give the records, file facts,
    /// session and warnings of a sequential read.
    #[test]
    fn pieces_parse_as_one_read_does() {
        let mut files: Vec<(PathBuf, Vec<u8>)> =
            crate::sources::fixture_files("claude-code/projects", "jsonl")
                .into_iter()
                .map(|p| {
                    let bytes = std::fs::read(&p).unwrap();
                    (p, bytes)
                })
                .collect();
        assert!(files.len() > 20, "{} transcripts", files.len());
        let line = |t: &str, extra: &str| {
            format!(
                "{{\"type\":\"user\",\"uuid\":\"u{t}\",\"timestamp\":\"2026-01-0{t}T00:00:00Z\",\
                 \"message\":{{\"role\":\"user\",\"content\":\"prompt {t}\"}}{extra}}}\n"
            )
        };
        let facts = [
            line(
                "3",
                ",\"sessionId\":\"first\",\"cwd\":\"/a\",\"gitBranch\":\"one\",\"version\":\"1\"",
            ),
            "{\"type\":\"custom-title\",\"customTitle\":\"Old title\"}\n".into(),
            "{\"type\":\"summary\",\"summary\":\"S1\",\"leafUuid\":\"u3\"}\n".into(),
            "not json\n".into(),
            line(
                "1",
                ",\"sessionId\":\"second\",\"cwd\":\"/b\",\"gitBranch\":\"two\"",
            ),
            "{\"type\":\"custom-title\",\"customTitle\":\"New title\"}\n".into(),
            "{\"type\":\"ai-title\",\"aiTitle\":\"AI title\"}\n".into(),
            "{\"type\":\"custom-title\"}\n".into(),
            line("5", ",\"version\":\"2\""),
            "{\"type\":\"summary\",\"summary\":\"S2\"}\n".into(),
            "[1]\n".into(),
            line("2", ""),
        ]
        .concat();
        files.push((PathBuf::from("facts.jsonl"), facts.into_bytes()));
        for (path, bytes) in &files {
            let one = Diag::silent();
            let want = parse_sequentially(path, bytes, &one);
            for piece in [1, 700, 4096, jsonl::PIECE_BYTES] {
                let d = Diag::silent();
                let got = parse_pieces(path, &bytes[..], &d, piece).unwrap();
                let at = format!("{} in {piece}-byte pieces", path.display());
                assert_eq!(
                    format!("{:?}", got.meta),
                    format!("{:?}", want.meta),
                    "{at}"
                );
                assert_eq!(
                    format!("{:?}", got.recs),
                    format!("{:?}", want.recs),
                    "{at}"
                );
                assert_eq!(d.warnings(), one.warnings(), "{at}");
                assert_eq!(
                    session_json(got, path),
                    session_json(want.clone(), path),
                    "{at}"
                );
            }
        }
        // The facts that changed along the way: first ids and folder, last
        // branch, version and titles, earliest and latest times.
        let (path, bytes) = files.last().unwrap();
        let d = Diag::silent();
        let m = parse_pieces(path, &bytes[..], &d, 1).unwrap().meta;
        assert_eq!(m.session_id.as_deref(), Some("first"));
        assert_eq!(m.cwd.as_deref(), Some("/a"));
        assert_eq!(m.branch.as_deref(), Some("two"));
        assert_eq!(m.version.as_deref(), Some("2"));
        assert_eq!(m.custom_title.as_deref(), Some("New title"));
        assert_eq!(m.ai_title.as_deref(), Some("AI title"));
        assert_eq!(m.summaries.len(), 2);
        assert_eq!(
            m.first_time.unwrap().to_rfc3339(),
            "2026-01-01T00:00:00+00:00"
        );
        assert_eq!(
            m.last_time.unwrap().to_rfc3339(),
            "2026-01-05T00:00:00+00:00"
        );
        assert_eq!(
            d.kinds_and_lines(),
            [
                ("malformed".into(), Some(4)),
                ("not-object".into(), Some(11))
            ]
        );
    }

    /// A real transcript written a few hundred bytes at a time (cutting
    /// lines anywhere): after each write, the incremental read gives the
    /// session a fresh parse gives, and it reads only the new bytes.
    #[test]
    fn incremental_reads_match_full_parses_while_a_file_grows() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(
            "tests/fixtures/claude-code/projects/-experiments-ideas/03eb5929-52b3-4b13-ada3-b93ae35806b8.jsonl",
        );
        let bytes = std::fs::read(&src).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.jsonl");
        std::fs::write(&p, b"").unwrap();
        let tails: jsonl::Tails<ParsedFile> = jsonl::Tails::default();
        let diag = Diag::silent();
        let mut written = 0usize;
        let mut step = 0usize;
        let mut reads = 0usize;
        while written < bytes.len() {
            // Uneven steps, so cuts land inside lines and on newlines.
            step = (step * 7 + 1301) % 3001 + 97;
            let end = (written + step).min(bytes.len());
            {
                use std::io::Write;
                let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
                f.write_all(&bytes[written..end]).unwrap();
            }
            let before = written;
            written = end;
            let inc = tails
                .read(&p, &diag, ParsedFile::default, &mut |st, n, t, c| {
                    add_line(&p, st, n, t, c, &diag)
                })
                .unwrap();
            let full = parse_reader(&p, std::fs::File::open(&p).unwrap(), &diag).unwrap();
            assert_eq!(inc.recs.len(), full.recs.len(), "after {written} bytes");
            assert_eq!(
                session_json(inc, &p),
                session_json(full, &p),
                "after {written} bytes"
            );
            match tails.last_read(&p).unwrap() {
                jsonl::TailRead::Appended { bytes: n } => {
                    // The new bytes, plus at most the partial line before them.
                    let partial = bytes[..before]
                        .iter()
                        .rev()
                        .take_while(|&&b| b != b'\n')
                        .count();
                    assert!(n as usize <= end - before + partial, "read {n} bytes");
                }
                jsonl::TailRead::Full { .. } => assert_eq!(reads, 0, "a full reread"),
            }
            reads += 1;
        }
        assert!(reads > 10);
    }

    /// An `agentId:` in a tool's output names a subagent only for Task and
    /// Agent calls, or when the tool's structured result names one.
    #[test]
    fn only_results_that_name_a_subagent_link_one() {
        let lines = [
            r#"{"type":"assistant","uuid":"a1","timestamp":"2026-01-01T00:00:00Z","message":{"id":"m","role":"assistant","content":[
                {"type":"tool_use","id":"bash1","name":"Bash","input":{"command":"cat notes"}},
                {"type":"tool_use","id":"send1","name":"SendMessage","input":{"to":"helper"}},
                {"type":"tool_use","id":"task1","name":"Task","input":{"prompt":"look"}}]}}"#,
            r#"{"type":"user","uuid":"u1","parentUuid":"a1","timestamp":"2026-01-01T00:00:01Z","message":{"role":"user","content":[
                {"type":"tool_result","tool_use_id":"bash1","content":"agentId: aaaa1111"}]},
                "toolUseResult":{"stdout":"agentId: aaaa1111","stderr":""}}"#,
            r#"{"type":"user","uuid":"u2","parentUuid":"u1","timestamp":"2026-01-01T00:00:02Z","message":{"role":"user","content":[
                {"type":"tool_result","tool_use_id":"send1","content":"sent"}]},
                "toolUseResult":{"agentId":"bbbb2222","status":"sent"}}"#,
            r#"{"type":"user","uuid":"u3","parentUuid":"u2","timestamp":"2026-01-01T00:00:03Z","message":{"role":"user","content":[
                {"type":"tool_result","tool_use_id":"task1","content":"done\nagentId: cccc3333"}]}}"#,
        ];
        let bytes: String = lines.iter().map(|l| l.replace('\n', " ") + "\n").collect();
        let s = session_from_bytes("t", bytes.as_bytes(), &Diag::silent()).unwrap();
        let children: Vec<(String, Option<String>)> = s
            .messages
            .iter()
            .flat_map(|m| &m.parts)
            .filter_map(|p| match p {
                Part::ToolCall(c) => Some((c.id.clone(), c.extras.child_session.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(
            children,
            [
                ("bash1".to_string(), None),
                ("send1".to_string(), Some("bbbb2222".to_string())),
                ("task1".to_string(), Some("cccc3333".to_string())),
            ]
        );
    }
}
