//! Reading Gemini CLI chat files into a session.
//!
//! `.json` (before v0.39) holds one `ConversationRecord`, rewritten whole
//! on every change; `.jsonl` (v0.39+) is a log replayed in order: a
//! metadata line, message records upserted by id (last copy wins, first
//! position kept), `{"$set": {…}}` patches (a `messages` array replaces all
//! messages) and `{"$rewindTo": id}`, which drops that message and all
//! after it.

use crate::diag::Diag;
use crate::error::{Error, Result};
use crate::model::*;
use crate::sources::jsonl::{self, parse_lenient, text_of};
use crate::sources::{LiveLoad, Served};
use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

/// A chat file, replayed: session fields and messages in order.
#[derive(Debug, Default, Clone)]
pub(super) struct Record {
    pub fields: Map<String, Value>,
    pub messages: Vec<Value>,
}

pub(super) fn str_of(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn time_of(v: &Value, key: &str) -> Option<DateTime<Utc>> {
    let s = v.get(key)?.as_str()?;
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

fn u64_of(v: &Value, key: &str) -> u64 {
    v.get(key).and_then(Value::as_u64).unwrap_or(0)
}

pub(super) fn is_jsonl(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "jsonl")
}

/// Reads a chat file of either form and builds its session.
/// `fallback_id` names it when the file does not.
pub(super) fn load(path: &Path, fallback_id: &str, diag: &Diag) -> Result<Session> {
    if is_jsonl(path) {
        Ok(build(path, read_jsonl(path, diag)?, fallback_id, diag))
    } else {
        load_json(path, fallback_id, diag)
    }
}

/// A whole-file chat: its fields, and its messages as they are in the file
/// (each is parsed when it is converted, so the chat is never held whole
/// as a JSON tree).
struct JsonChat<'a> {
    fields: Map<String, Value>,
    messages: Vec<&'a RawValue>,
    /// `messages` is there but not an array.
    odd_messages: bool,
}

fn parse_json_chat<'a>(
    text: &'a str,
    mended: &'a mut Option<String>,
) -> std::result::Result<JsonChat<'a>, serde_json::Error> {
    let top: BTreeMap<String, &RawValue> = parse_lenient(text, mended)?;
    let mut chat = JsonChat {
        fields: Map::new(),
        messages: Vec::new(),
        odd_messages: false,
    };
    for (k, v) in top {
        if k != "messages" {
            chat.fields.insert(k, parse_lenient(v.get(), &mut None)?);
        } else if v.get().starts_with('[') {
            chat.messages = serde_json::from_str(v.get())?;
        } else {
            chat.odd_messages = true;
        }
    }
    Ok(chat)
}

/// Loads a whole-file chat. The file is rewritten in place while the CLI
/// runs, so a read that does not parse is tried once more after a short
/// pause.
fn load_json(path: &Path, fallback_id: &str, diag: &Diag) -> Result<Session> {
    let read = || std::fs::read(path).map_err(|e| Error::io(path, e));
    let text = text_of(read()?);
    let (mut mended, mut mended_again) = (None, None);
    let again;
    let chat = match parse_json_chat(&text, &mut mended) {
        Ok(c) => c,
        Err(_) => {
            std::thread::sleep(Duration::from_millis(100));
            again = text_of(read()?);
            parse_json_chat(&again, &mut mended_again)
                .map_err(|e| Error::parse(path, format!("not a Gemini CLI chat file: {e}")))?
        }
    };
    if chat.odd_messages {
        diag.warn(
            path,
            None,
            "malformed",
            "`messages` is not an array; ignored",
        );
    }
    let mut messages = Vec::with_capacity(chat.messages.len());
    for raw in chat.messages {
        match parse_lenient::<Value>(raw.get(), &mut None) {
            Ok(m) => messages.extend(build_message(path, &m, diag)),
            Err(e) => diag.warn(
                path,
                None,
                "malformed",
                format!("skipped a message that does not parse: {e}"),
            ),
        }
    }
    let rec = Record {
        fields: chat.fields,
        messages: Vec::new(),
    };
    let mut s = shell(path, &rec, messages.iter(), fallback_id);
    s.messages = messages;
    Ok(s)
}

/// A `.jsonl` chat file replayed so far: the record, and where each
/// message id is in it.
#[derive(Debug, Default, Clone)]
pub(super) struct Replay {
    rec: Record,
    index: HashMap<String, usize>,
    /// For `watch`: the message built from each record (None: none), up
    /// to the first record that changed since (`served`).
    built: Vec<Option<Message>>,
    served: Served,
}

impl Replay {
    /// The session for `watch`, which holds the load numbered `since`.
    fn serve(
        &mut self,
        path: &Path,
        fallback_id: &str,
        diag: &Diag,
        since: Option<u64>,
    ) -> LiveLoad {
        let keep = self.served.changed().min(self.built.len());
        self.built.truncate(keep);
        for m in &self.rec.messages[keep..] {
            self.built.push(build_message(path, m, diag));
        }
        self.served.touch(keep);
        let shell = shell(path, &self.rec, self.built.iter().flatten(), fallback_id);
        self.served
            .serve(shell, self.built.iter().map(Option::as_ref), since)
    }
}

/// Replay states of the `.jsonl` chats read so far, for `watch` (see
/// [`jsonl::Tails`]): a rebuild replays only the lines appended since.
static TAILS: std::sync::LazyLock<jsonl::Tails<Replay>> =
    std::sync::LazyLock::new(jsonl::Tails::default);

/// Forgets the replay states of the chats `keep` rejects.
pub(super) fn retain_tails(keep: &dyn Fn(&Path) -> bool) {
    TAILS.retain(keep);
}

/// How the last incremental read of `path` read it (tests).
pub(super) fn last_tail_read(path: &Path) -> Option<jsonl::TailRead> {
    TAILS.last_read(path)
}

/// `watch`'s load of a `.jsonl` chat (no subagents): the lines appended
/// since the last load are replayed into the kept state, and only the
/// messages from the first one they changed on are built and handed on.
/// `None` when it is to be read whole.
pub(super) fn load_live(
    path: &Path,
    fallback_id: &str,
    diag: &Diag,
    since: Option<u64>,
) -> Result<Option<LiveLoad>> {
    let mut line = |st: &mut Replay, lineno: u64, text: &str, complete: bool| {
        replay_line(path, st, lineno, text, complete, diag)
    };
    TAILS.load(path, diag, 1, Replay::default, &mut line, &mut |st| {
        Some(st.serve(path, fallback_id, diag, since))
    })
}

fn read_jsonl(path: &Path, diag: &Diag) -> Result<Record> {
    let mut line = |st: &mut Replay, lineno: u64, text: &str, complete: bool| {
        replay_line(path, st, lineno, text, complete, diag)
    };
    if jsonl::tails_enabled() {
        return Ok(TAILS.read(path, diag, Replay::default, &mut line)?.rec);
    }
    let mut st = Replay::default();
    jsonl::read_lines(path, diag, |lineno, text, complete| {
        line(&mut st, lineno, text, complete)
    })?;
    Ok(st.rec)
}

/// Replays one line of a `.jsonl` chat (metadata, a message written or
/// written again, `$set`, `$rewindTo`).
fn replay_line(path: &Path, st: &mut Replay, lineno: u64, text: &str, complete: bool, diag: &Diag) {
    let Replay {
        rec, index, served, ..
    } = st;
    let reindex = |msgs: &Vec<Value>, index: &mut HashMap<String, usize>| {
        index.clear();
        for (i, m) in msgs.iter().enumerate() {
            if let Some(id) = m.get("id").and_then(Value::as_str) {
                index.entry(id.to_string()).or_insert(i);
            }
        }
    };
    let Some(mut obj) = jsonl::parse_object(path, lineno, text, complete, diag) else {
        return;
    };
    if let Some(target) = obj.get("$rewindTo") {
        match target.as_str().and_then(|t| index.get(t)).copied() {
            Some(i) => {
                rec.messages.truncate(i);
                reindex(&rec.messages, index);
                served.touch(i);
            }
            None => diag.warn(
                path,
                Some(lineno),
                "rewind-unknown",
                "`$rewindTo` names a message that is not in the file; ignored",
            ),
        }
        return;
    }
    if let Some(set) = obj.remove("$set") {
        let Value::Object(set) = set else {
            diag.warn(path, Some(lineno), "malformed", "`$set` is not an object");
            return;
        };
        for (k, v) in set {
            if k == "messages" {
                if let Value::Array(m) = v {
                    rec.messages = m;
                    reindex(&rec.messages, index);
                    served.touch(0);
                }
            } else {
                rec.fields.insert(k, v);
            }
        }
        return;
    }
    if obj.contains_key("type") || obj.contains_key("id") && obj.contains_key("content") {
        let id = obj.get("id").and_then(Value::as_str).map(str::to_string);
        let v = Value::Object(obj);
        match id.as_ref().and_then(|id| index.get(id)).copied() {
            Some(i) => {
                rec.messages[i] = v;
                served.touch(i);
            }
            None => {
                if let Some(id) = id {
                    index.insert(id, rec.messages.len());
                }
                rec.messages.push(v);
            }
        }
        return;
    }
    if obj.contains_key("sessionId")
        || obj.contains_key("projectHash")
        || obj.contains_key("startTime")
    {
        rec.fields.extend(obj);
        return;
    }
    diag.warn(
        path,
        Some(lineno),
        "unknown-record",
        "skipped a record that is neither metadata, a message nor an update",
    );
}

/// Gemini's token counts: `input` includes `cached`; `thoughts` and `tool`
/// are counted apart from `input` and `output`. Here `input` leaves the
/// cached tokens out and `output` includes the thoughts, as for the other
/// agents.
pub(super) fn usage_of(t: &Value) -> Option<Usage> {
    if !t.is_object() {
        return None;
    }
    let cached = u64_of(t, "cached");
    let thoughts = u64_of(t, "thoughts");
    Some(Usage {
        input: u64_of(t, "input").saturating_sub(cached) + u64_of(t, "tool"),
        output: u64_of(t, "output") + thoughts,
        cache_read: cached,
        cache_write: 0,
        reasoning: thoughts,
        cost: None,
    })
}

/// Gemini parts (`[{text}, {inlineData}, …]`) or a plain string.
fn content_parts(path: &Path, content: &Value, diag: &Diag) -> Vec<Part> {
    let mut out = Vec::new();
    match content {
        Value::String(s) if !s.trim().is_empty() => out.push(Part::text(s.clone())),
        Value::Array(items) => {
            for i in items {
                if let Some(t) = i.get("text").and_then(Value::as_str) {
                    if t.trim().is_empty() {
                        continue;
                    }
                    if i.get("thought").and_then(Value::as_bool) == Some(true) {
                        out.push(Part::Reasoning {
                            text: t.to_string(),
                            state: ReasoningState::Recorded,
                        });
                    } else {
                        out.push(Part::text(t));
                    }
                } else if let Some(d) = i.get("inlineData") {
                    out.push(Part::File(FilePart {
                        mime: str_of(d, "mimeType"),
                        name: str_of(d, "displayName"),
                        data: str_of(d, "data"),
                        url: None,
                    }));
                } else if let Some(d) = i.get("fileData") {
                    out.push(Part::File(FilePart {
                        mime: str_of(d, "mimeType"),
                        name: str_of(d, "displayName"),
                        data: None,
                        url: str_of(d, "fileUri"),
                    }));
                } else if i.is_string() {
                    out.push(Part::text(i.as_str().unwrap_or_default()));
                } else {
                    diag.warn(
                        path,
                        None,
                        "unknown-part",
                        "unknown content part kept as an unknown part",
                    );
                    out.push(Part::Unknown {
                        kind: "part".into(),
                        raw: i.clone(),
                    });
                }
            }
        }
        Value::Object(_) => out.extend(content_parts(
            path,
            &Value::Array(vec![content.clone()]),
            diag,
        )),
        _ => {}
    }
    out
}

/// The text of a tool result: `functionResponse.response` (`output`,
/// `error`, or the whole object) of each part.
fn result_text(result: &Value, attachments: &mut Vec<FilePart>) -> Option<String> {
    let items = match result {
        Value::Array(a) => a.clone(),
        Value::Null => return None,
        other => vec![other.clone()],
    };
    let mut texts = Vec::new();
    for i in &items {
        if let Some(r) = i.pointer("/functionResponse/response") {
            match (r.get("output"), r.get("error")) {
                (Some(Value::String(o)), _) => texts.push(o.clone()),
                (_, Some(Value::String(e))) => texts.push(e.clone()),
                _ => texts.push(match r {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                }),
            }
        } else if let Some(t) = i.get("text").and_then(Value::as_str) {
            texts.push(t.to_string());
        } else if let Some(d) = i.get("inlineData") {
            attachments.push(FilePart {
                mime: str_of(d, "mimeType"),
                name: None,
                data: str_of(d, "data"),
                url: None,
            });
        } else if let Value::String(s) = i {
            texts.push(s.clone());
        }
    }
    (!texts.is_empty()).then(|| texts.join("\n"))
}

fn tool_call(c: &Value) -> ToolCall {
    let mut extras = ToolExtras::default();
    let status = match c.get("status").and_then(Value::as_str) {
        Some("success") => ToolStatus::Completed,
        Some("error") => ToolStatus::Error,
        Some("cancelled") => {
            extras.interrupted = Some(true);
            ToolStatus::Error
        }
        Some("executing") => ToolStatus::Running,
        _ => ToolStatus::Pending,
    };
    let mut output = c
        .get("result")
        .and_then(|r| result_text(r, &mut extras.attachments));
    match c.get("resultDisplay") {
        Some(Value::String(s)) if output.is_none() && !s.is_empty() => output = Some(s.clone()),
        // An edit's display: the file's diff.
        Some(d @ Value::Object(_)) if d.get("fileDiff").is_some() => {
            extras.diffs.push(FileDiff {
                path: str_of(d, "filePath")
                    .or_else(|| str_of(d, "fileName"))
                    .unwrap_or_default(),
                status: None,
                before: d
                    .get("originalContent")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                after: d
                    .get("newContent")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                patch: str_of(d, "fileDiff"),
                ..FileDiff::default()
            });
        }
        _ => {}
    }
    ToolCall {
        id: str_of(c, "id").unwrap_or_default(),
        name: str_of(c, "name").unwrap_or_else(|| "unknown".into()),
        input: c.get("args").cloned().unwrap_or(Value::Null),
        output,
        status,
        title: str_of(c, "description").or_else(|| str_of(c, "displayName")),
        duration_ms: None,
        extras,
    }
}

fn thought_text(t: &Value) -> Option<String> {
    let subject = str_of(t, "subject");
    let desc = str_of(t, "description");
    match (subject, desc) {
        (Some(s), Some(d)) => Some(format!("**{s}**\n\n{d}")),
        (Some(s), None) => Some(s),
        (None, Some(d)) => Some(d),
        (None, None) => t.as_str().map(str::to_string),
    }
}

/// One message record in the model.
fn message(path: &Path, m: &Value, diag: &Diag) -> Option<Message> {
    let kind = m.get("type").and_then(Value::as_str).unwrap_or("");
    let mut msg = match kind {
        "user" => {
            // What the user typed, when the CLI recorded it apart from
            // what the model was sent (expanded @file references).
            let content = m.get("content").unwrap_or(&Value::Null);
            let display = m.get("displayContent").filter(|d| !d.is_null());
            let mut msg = Message::new(Role::User);
            msg.parts = content_parts(path, display.unwrap_or(content), diag);
            if display.is_some() {
                // The typed text stands for the text sent, not for the
                // images and files attached to it.
                for p in content_parts(path, content, &Diag::silent()) {
                    if matches!(p, Part::File(_)) && !msg.parts.contains(&p) {
                        msg.parts.push(p);
                    }
                }
            }
            if msg.parts.is_empty() {
                return None;
            }
            msg
        }
        "gemini" | "model" => {
            let mut msg = Message::new(Role::Assistant);
            if let Some(Value::Array(thoughts)) = m.get("thoughts") {
                for t in thoughts {
                    if let Some(text) = thought_text(t) {
                        msg.parts.push(Part::Reasoning {
                            text,
                            state: ReasoningState::Recorded,
                        });
                    }
                }
            }
            msg.parts.extend(content_parts(
                path,
                m.get("content").unwrap_or(&Value::Null),
                diag,
            ));
            if let Some(Value::Array(calls)) = m.get("toolCalls") {
                for c in calls {
                    msg.parts.push(Part::ToolCall(Box::new(tool_call(c))));
                }
            }
            msg.model = str_of(m, "model");
            msg.usage = m.get("tokens").and_then(usage_of);
            msg
        }
        "info" | "warning" | "error" => {
            let notice = match kind {
                "info" => NoticeKind::Other,
                "warning" => NoticeKind::Warning,
                _ => NoticeKind::Error,
            };
            let text = content_parts(path, m.get("content").unwrap_or(&Value::Null), diag)
                .into_iter()
                .filter_map(|p| match p {
                    Part::Text { text } => Some(text),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join("\n");
            if text.trim().is_empty() {
                return None;
            }
            let mut msg = Message::new(Role::System);
            msg.parts.push(Part::notice(notice, text));
            msg
        }
        _ => {
            let label = if kind.is_empty() { "(no type)" } else { kind };
            diag.warn(
                path,
                None,
                &format!("unknown-message:{label}"),
                format!("unknown message type `{label}` kept as an unknown part"),
            );
            let mut msg = Message::new(Role::System);
            msg.parts.push(Part::Unknown {
                kind: format!("message:{label}"),
                raw: m.clone(),
            });
            msg
        }
    };
    msg.id = str_of(m, "id");
    msg.time = time_of(m, "timestamp");
    Some(msg)
}

/// Builds the session of a replayed chat file. `fallback_id` names it when
/// the file does not.
pub(super) fn build(path: &Path, mut rec: Record, fallback_id: &str, diag: &Diag) -> Session {
    // Each message's JSON is dropped once it is converted, so the chat's
    // JSON and the session made of it are not both held whole.
    let messages: Vec<Message> = std::mem::take(&mut rec.messages)
        .into_iter()
        .filter_map(|m| build_message(path, &m, diag))
        .collect();
    let mut s = shell(path, &rec, messages.iter(), fallback_id);
    s.messages = messages;
    s
}

/// The message a record makes, if any.
fn build_message(path: &Path, m: &Value, diag: &Diag) -> Option<Message> {
    if !m.is_object() {
        diag.warn(
            path,
            None,
            "not-object",
            "skipped a message that is not an object",
        );
        return None;
    }
    message(path, m, diag)
}

/// The session of a replayed chat file, without its messages, which are
/// `messages`.
fn shell<'a>(
    path: &Path,
    rec: &Record,
    messages: impl Iterator<Item = &'a Message> + Clone,
    fallback_id: &str,
) -> Session {
    let fields = Value::Object(rec.fields.clone());
    let mut s = Session::new(
        Agent::Gemini,
        str_of(&fields, "sessionId").unwrap_or_else(|| fallback_id.to_string()),
    );
    for msg in messages.clone() {
        if let Some(model) = &msg.model {
            s.note_model(model);
        }
        if let Some(u) = &msg.usage {
            s.totals.add(u);
        }
    }
    let times = messages.clone().filter_map(|m| m.time);
    let (first, last) = times.fold(
        (None, None),
        |(a, b): (Option<DateTime<Utc>>, Option<DateTime<Utc>>), t| {
            (
                Some(a.map_or(t, |x| x.min(t))),
                Some(b.map_or(t, |x| x.max(t))),
            )
        },
    );
    s.created = time_of(&fields, "startTime").or(first);
    s.updated = match (time_of(&fields, "lastUpdated"), last) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b).or(s.created),
    };
    s.title = str_of(&fields, "summary")
        .map(|t| crate::sources::title_from_prompt(&t))
        .or_else(|| crate::model::first_prompt(messages).map(crate::sources::title_from_prompt));
    s.source_paths.push(path.to_path_buf());
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replay(lines: &[&str]) -> Record {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("s.jsonl");
        std::fs::write(&p, lines.join("\n")).unwrap();
        read_jsonl(&p, &Diag::silent()).unwrap()
    }

    /// The session a whole-file chat makes when it is parsed whole into a
    /// JSON tree first (how `.json` chats were read before they were
    /// converted a message at a time).
    fn built_whole(path: &Path, text: &str, diag: &Diag) -> Session {
        let text = jsonl::replace_lone_surrogates(text);
        let Value::Object(mut fields) = serde_json::from_str(&text).unwrap() else {
            panic!("not an object")
        };
        let messages = match fields.remove("messages") {
            Some(Value::Array(m)) => m,
            _ => Vec::new(),
        };
        build(path, Record { fields, messages }, "fallback", diag)
    }

    #[test]
    fn whole_file_chats_build_as_when_parsed_whole() {
        let mut files = crate::sources::fixture_files("gemini", "json");
        assert!(files.len() >= 5, "{files:?}");
        let tmp = tempfile::tempdir().unwrap();
        // One more chat: every fixture's messages in one, with a lone
        // surrogate, a message that is not an object and escaped keys.
        let mut all = Vec::new();
        for f in &files {
            let v: Value = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
            all.extend(v["messages"].as_array().unwrap().iter().cloned());
        }
        let odd = tmp.path().join("odd.json");
        let mut text = serde_json::json!({
            "sessionId": "odd-1", "startTime": "2024-01-01T10:00:00Z",
            "lastUpdated": "2024-01-02T10:00:00Z", "summary": "every fixture",
            "messages": all
        })
        .to_string();
        text = text.replacen(
            "\"messages\":[",
            "\"messages\":[{\"id\":\"s1\",\"type\":\"user\",\"content\":\"half \\ud83d of a pair\"},7,",
            1,
        );
        text = text.replacen("\"summary\"", "\"summ\\u0061ry\"", 1);
        std::fs::write(&odd, &text).unwrap();
        files.push(odd);
        for f in &files {
            let text = std::fs::read_to_string(f).unwrap();
            let (a, b) = (Diag::silent(), Diag::silent());
            let got = load(f, "fallback", &a).unwrap();
            let want = built_whole(f, &text, &b);
            let json = |s: &Session| serde_json::to_string_pretty(s).unwrap();
            assert_eq!(json(&got), json(&want), "{}", f.display());
            assert_eq!(a.warnings(), b.warnings(), "{}", f.display());
        }
        let s = load(files.last().unwrap(), "fallback", &Diag::silent()).unwrap();
        assert_eq!(s.title.as_deref(), Some("every fixture"));
        assert!(
            serde_json::to_string(&s)
                .unwrap()
                .contains("half \u{fffd} of a pair")
        );
    }

    #[test]
    fn a_cut_whole_file_chat_is_an_error_naming_it() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("cut.json");
        std::fs::write(
            &p,
            r#"{"sessionId":"c","startTime":"2024-01-01T10:00:00Z","messages":[{"id":"#,
        )
        .unwrap();
        let e = load(&p, "fallback", &Diag::silent())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("cut.json") && e.contains("not a Gemini CLI chat file"),
            "{e}"
        );
        // `messages` that is not an array is skipped, with a warning.
        let p = tmp.path().join("odd.json");
        let odd = r#"{"sessionId":"o","startTime":"2024-01-01T10:00:00Z","messages":{"a":1}}"#;
        std::fs::write(&p, odd).unwrap();
        let d = Diag::silent();
        let s = load(&p, "fallback", &d).unwrap();
        assert!(s.messages.is_empty() && s.id == "o");
        let kinds: Vec<String> = d.warnings().into_iter().map(|w| w.kind).collect();
        assert_eq!(kinds, ["malformed"]);
    }

    fn ids(r: &Record) -> Vec<String> {
        r.messages
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn upserts_keep_first_position_and_last_copy() {
        let r = replay(&[
            r#"{"sessionId":"S","projectHash":"h","startTime":"2026-01-01T00:00:00Z"}"#,
            r#"{"id":"u1","type":"user","content":"hi"}"#,
            r#"{"id":"g1","type":"gemini","content":""}"#,
            r#"{"id":"u2","type":"user","content":"next"}"#,
            r#"{"id":"g1","type":"gemini","content":"done"}"#,
            r#"{"$set":{"lastUpdated":"2026-01-01T00:01:00Z","summary":"Greeting"}}"#,
        ]);
        assert_eq!(ids(&r), vec!["u1", "g1", "u2"]);
        assert_eq!(r.messages[1]["content"], "done");
        assert_eq!(r.fields["summary"], "Greeting");
        assert_eq!(r.fields["sessionId"], "S");
    }

    #[test]
    fn rewind_truncates_and_set_messages_replaces() {
        let r = replay(&[
            r#"{"sessionId":"S"}"#,
            r#"{"id":"u1","type":"user","content":"a"}"#,
            r#"{"id":"g1","type":"gemini","content":"b"}"#,
            r#"{"id":"u2","type":"user","content":"c"}"#,
            r#"{"$rewindTo":"g1"}"#,
            r#"{"id":"u3","type":"user","content":"d"}"#,
        ]);
        assert_eq!(ids(&r), vec!["u1", "u3"]);
        let r = replay(&[
            r#"{"sessionId":"S"}"#,
            r#"{"id":"u1","type":"user","content":"a"}"#,
            r#"{"$set":{"messages":[{"id":"x","type":"user","content":"x"}]}}"#,
            r#"{"id":"u1","type":"user","content":"again"}"#,
        ]);
        assert_eq!(ids(&r), vec!["x", "u1"]);
    }

    #[test]
    fn tokens_follow_the_model_conventions() {
        let u = usage_of(&serde_json::json!({"input":12069,"output":147,"cached":11502,"thoughts":10,"tool":3,"total":12229})).unwrap();
        assert_eq!(u.input, 12069 - 11502 + 3);
        assert_eq!(u.cache_read, 11502);
        assert_eq!(u.output, 157);
        assert_eq!(u.reasoning, 10);
        assert!(usage_of(&Value::Null).is_none());
    }
}
