//! The JSON file stores: one file per record.
//!
//! G1 (`<data>/storage/`, v0.6 – v1.1):
//! `session/<projectID>/<sid>.json`, `message/<sid>/<mid>.json`,
//! `part/<mid>/<pid>.json`, `session_diff/<sid>.json`.
//!
//! G0 (`<data>/project/<slug>/storage/`, before v0.6):
//! `session/info/<sid>.json`, `session/message/<sid>/<mid>.json`,
//! `session/part/<sid>/<mid>/<pid>.json`. Messages written before
//! 2025-07-07 use the v1 shape with inline parts; they are converted the
//! way OpenCode's `MessageV2.fromV1` does (keeping reasoning).
//!
//! File names are authoritative for ids. A file that does not parse is
//! reported through [`Diag`] and skipped.

use super::Listed;
use super::convert::{RawMessage, RawPart, RawSession};
use super::value::{read_record, str_at, time_field};
use crate::diag::Diag;
use crate::error::{Error, Result};
use crate::fsutil::{link_leaves, resolves_within};
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};

/// Which file layout a storage directory uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Layout {
    /// G1 `<data>/storage`.
    Current,
    /// G0 `<data>/project/<slug>/storage`.
    Legacy,
}

impl Layout {
    /// The layout of `dir`, when it is a JSON store.
    pub(super) fn of(dir: &Path) -> Option<Layout> {
        if dir.join("session").join("info").is_dir() {
            Some(Layout::Legacy)
        } else if dir.join("session").is_dir() || dir.join("message").is_dir() {
            Some(Layout::Current)
        } else {
            None
        }
    }

    fn session_files(self, dir: &Path) -> Vec<PathBuf> {
        match self {
            Layout::Current => sorted_entries(&dir.join("session"), true)
                .into_iter()
                .flat_map(|project| json_files(&project))
                .collect(),
            Layout::Legacy => json_files(&dir.join("session").join("info")),
        }
    }

    fn session_file(self, dir: &Path, id: &str) -> Option<PathBuf> {
        let name = format!("{id}.json");
        let ok = |p: &PathBuf| p.is_file() && !link_leaves(dir, p);
        match self {
            Layout::Current => sorted_entries(&dir.join("session"), true)
                .into_iter()
                .map(|project| project.join(&name))
                .find(ok),
            Layout::Legacy => Some(dir.join("session").join("info").join(name)).filter(ok),
        }
    }

    fn message_dir(self, dir: &Path, sid: &str) -> PathBuf {
        match self {
            Layout::Current => dir.join("message").join(sid),
            Layout::Legacy => dir.join("session").join("message").join(sid),
        }
    }

    fn part_dir(self, dir: &Path, sid: &str, mid: &str) -> PathBuf {
        match self {
            Layout::Current => dir.join("part").join(mid),
            Layout::Legacy => dir.join("session").join("part").join(sid).join(mid),
        }
    }

    fn diff_file(self, dir: &Path, sid: &str) -> Option<PathBuf> {
        match self {
            Layout::Current => Some(dir.join("session_diff").join(format!("{sid}.json"))),
            Layout::Legacy => None,
        }
    }
}

/// Entries of `dir` (directories when `dirs`, else files), sorted by name.
/// A missing or unreadable directory has none.
fn sorted_entries(dir: &Path, dirs: bool) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_type()
                .is_ok_and(|t| if dirs { t.is_dir() } else { t.is_file() })
        })
        .map(|e| e.path())
        .collect();
    v.sort();
    v
}

/// The JSON files of `folder`, a folder of the store `dir`: none when it
/// is missing or a link leading out of the store.
fn json_files_in(dir: &Path, folder: &Path) -> Vec<PathBuf> {
    if folder.is_dir() && resolves_within(dir, folder) {
        json_files(folder)
    } else {
        Vec::new()
    }
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    sorted_entries(dir, false)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect()
}

fn stem(p: &Path) -> Option<String> {
    p.file_stem()
        .and_then(|s| s.to_str())
        .map(str::to_string)
        .filter(|s| !s.is_empty())
}

/// Whether `id` can name a file (no separators or parent references).
pub(super) fn is_plain_id(id: &str) -> bool {
    !id.is_empty() && id != "." && id != ".." && !id.contains(['/', '\\', '\0'])
}

/// Reads a record file that must hold a JSON object.
fn read_object(path: &Path, diag: &Diag) -> Option<Map<String, Value>> {
    match read_record(path, diag)? {
        Value::Object(m) => Some(m),
        _ => {
            diag.warn(path, None, "malformed", "expected a JSON object; skipped");
            None
        }
    }
}

/// Lists the sessions of a JSON store, reading only session files and
/// counting message files.
pub(super) fn list(dir: &Path, diag: &Diag) -> Result<Vec<Listed>> {
    let layout = Layout::of(dir).ok_or_else(|| Error::parse(dir, "not an OpenCode JSON store"))?;
    let mut out = Vec::new();
    for file in layout.session_files(dir) {
        let Some(id) = stem(&file) else { continue };
        let Some(info) = read_object(&file, diag) else {
            continue;
        };
        let info = Value::Object(info);
        let messages = json_files_in(dir, &layout.message_dir(dir, &id)).len() as u64;
        out.push(Listed::new(&id, &info, messages, dir));
    }
    Ok(out)
}

/// Reads one session from a JSON store. `None` when the store has no
/// session file for `id`.
pub(super) fn read(dir: &Path, id: &str, diag: &Diag) -> Result<Option<RawSession>> {
    let layout = Layout::of(dir).ok_or_else(|| Error::parse(dir, "not an OpenCode JSON store"))?;
    if !is_plain_id(id) {
        return Ok(None);
    }
    let Some(file) = layout.session_file(dir, id) else {
        return Ok(None);
    };
    // A cut-off session file still leaves the messages readable.
    let info = read_object(&file, diag).unwrap_or_default();

    let message_dir = layout.message_dir(dir, id);
    let mut records = Vec::new();
    for mfile in json_files_in(dir, &message_dir) {
        let Some(mid) = stem(&mfile) else { continue };
        let Some(record) = read_object(&mfile, diag) else {
            continue;
        };
        let parts = if is_v1_message(&record) {
            Vec::new()
        } else {
            part_records(dir, &layout.part_dir(dir, id, &mid), diag)
        };
        records.push((mid, record, parts));
    }

    let diff_file = layout
        .diff_file(dir, id)
        .filter(|p| p.is_file() && !link_leaves(dir, p));
    let diffs = diff_file.as_deref().and_then(|p| read_record(p, diag));
    let mut source_paths = vec![file];
    if message_dir.is_dir() && resolves_within(dir, &message_dir) {
        source_paths.push(message_dir);
    }
    source_paths.extend(diff_file);
    let mut raw = assemble(id, info, records, dir);
    raw.diffs = diffs;
    raw.source_paths = source_paths;
    Ok(Some(raw))
}

/// A message record and its part records, each with the id its file name
/// gives it.
pub(super) type MessageRecords = (
    String,
    Map<String, Value>,
    Vec<(String, Map<String, Value>)>,
);

/// A session from the records of a JSON store, as read from its files:
/// ids from file names win over ids inside, v1 messages are converted,
/// messages are put in (created, id) order.
pub(super) fn assemble(
    id: &str,
    mut info: Map<String, Value>,
    records: Vec<MessageRecords>,
    origin: &Path,
) -> RawSession {
    info.insert("id".into(), Value::String(id.to_string()));
    let mut messages: Vec<(Option<i64>, String, RawMessage)> = Vec::new();
    for (mid, mut record, part_records) in records {
        let (info, parts) = if is_v1_message(&record) {
            from_v1(&record, &mid, id)
        } else {
            record.insert("id".into(), Value::String(mid.clone()));
            record.insert("sessionID".into(), Value::String(id.to_string()));
            let parts = part_records
                .into_iter()
                .map(|(pid, mut part)| {
                    part.insert("id".into(), Value::String(pid));
                    part.insert("sessionID".into(), Value::String(id.to_string()));
                    part.insert("messageID".into(), Value::String(mid.clone()));
                    Value::Object(part)
                })
                .collect();
            (Value::Object(record), parts)
        };
        messages.push((
            time_field(&info, "created"),
            mid,
            RawMessage::Classic {
                info,
                parts: parts.into_iter().map(RawPart::Tree).collect(),
            },
        ));
    }
    messages.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    RawSession {
        id: id.to_string(),
        info: Value::Object(info),
        messages: messages.into_iter().map(|(_, _, m)| m).collect(),
        diffs: None,
        origin: origin.to_path_buf(),
        source_paths: Vec::new(),
    }
}

/// `session_diff/<sid>.json` of a store, for sessions read from a database.
pub(super) fn session_diff(dir: &Path, id: &str, diag: &Diag) -> Option<(PathBuf, Value)> {
    if !is_plain_id(id) {
        return None;
    }
    let file = Layout::Current.diff_file(dir, id)?;
    if !file.is_file() || link_leaves(dir, &file) {
        return None;
    }
    let v = read_record(&file, diag)?;
    Some((file, v))
}

/// The part records in `part_dir`, with the ids their file names give.
fn part_records(dir: &Path, part_dir: &Path, diag: &Diag) -> Vec<(String, Map<String, Value>)> {
    json_files_in(dir, part_dir)
        .into_iter()
        .filter_map(|pfile| Some((stem(&pfile)?, read_object(&pfile, diag)?)))
        .collect()
}

/// A message in the v1 shape: `{id, role, parts, metadata}`.
pub(super) fn is_v1_message(m: &Map<String, Value>) -> bool {
    m.get("metadata").is_some_and(Value::is_object)
        && m.get("parts").is_some_and(Value::is_array)
        && !m.contains_key("time")
}

/// Converts a v1 message to MessageV2 info and parts.
fn from_v1(m: &Map<String, Value>, mid: &str, sid: &str) -> (Value, Vec<Value>) {
    let null = Value::Null;
    let meta = m.get("metadata").unwrap_or(&null);
    let role = m.get("role").and_then(Value::as_str).unwrap_or("");
    let time = meta.get("time").cloned().unwrap_or(Value::Null);
    let info = if role == "assistant" {
        let a = meta.get("assistant").unwrap_or(&null);
        json!({
            "id": mid, "sessionID": sid, "role": "assistant", "time": time,
            "cost": a.get("cost"), "path": a.get("path"), "summary": a.get("summary"),
            "tokens": a.get("tokens"), "modelID": a.get("modelID"),
            "providerID": a.get("providerID"), "error": meta.get("error"),
        })
    } else {
        json!({
            "id": mid, "sessionID": sid, "role": role,
            "time": {"created": time.get("created")},
        })
    };
    let tool_meta = meta.get("tool").unwrap_or(&null);
    let parts = match m.get("parts") {
        Some(Value::Array(p)) => p.as_slice(),
        _ => &[],
    };
    let converted = parts
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let base = json!({"id": format!("prt_v1_{i:05}"), "sessionID": sid, "messageID": mid});
            let mut part = v1_part(p, tool_meta)?;
            if let (Value::Object(part), Value::Object(base)) = (&mut part, base) {
                part.extend(base);
            }
            Some(part)
        })
        .collect();
    (info, converted)
}

fn v1_part(p: &Value, tool_meta: &Value) -> Option<Value> {
    match str_at(p, "type")? {
        "text" => Some(json!({"type": "text", "text": p.get("text")})),
        "reasoning" => Some(json!({"type": "reasoning", "text": p.get("text")})),
        "step-start" => Some(json!({"type": "step-start"})),
        "file" => Some(json!({
            "type": "file", "mime": p.get("mediaType"), "filename": p.get("filename"), "url": p.get("url"),
        })),
        "tool-invocation" => {
            let inv = p.get("toolInvocation")?;
            let call = str_at(inv, "toolCallId").unwrap_or("");
            let mut meta = match tool_meta.get(call) {
                Some(Value::Object(m)) => m.clone(),
                _ => Map::new(),
            };
            let title = meta.remove("title");
            let time = meta.remove("time");
            let state = match str_at(inv, "state") {
                Some("result") => json!({
                    "status": "completed", "input": inv.get("args"), "output": inv.get("result"),
                    "title": title, "time": time, "metadata": meta,
                }),
                Some("call") => json!({
                    "status": "running", "input": inv.get("args"),
                    "time": {"start": time.as_ref().and_then(|t| t.get("start"))},
                }),
                _ => json!({"status": "pending", "input": {}}),
            };
            Some(json!({
                "type": "tool", "callID": call, "tool": inv.get("toolName"), "state": state,
            }))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_messages_convert_to_message_v2() {
        let m: Map<String, Value> = serde_json::from_value(json!({
            "id": "msg_1", "role": "assistant",
            "parts": [
                {"type": "text", "text": "hi"},
                {"type": "tool-invocation", "toolInvocation": {
                    "state": "result", "toolCallId": "t1", "toolName": "bash",
                    "args": {"command": "ls"}, "result": "a"}}
            ],
            "metadata": {"sessionID": "ses_1", "time": {"created": 5, "completed": 9},
                         "assistant": {"modelID": "m", "tokens": {"input": 1, "output": 2}},
                         "tool": {"t1": {"title": "ls", "time": {"start": 6, "end": 7}, "exit": 0}}}
        }))
        .unwrap();
        assert!(is_v1_message(&m));
        let (info, parts) = from_v1(&m, "msg_1", "ses_1");
        assert_eq!(info["modelID"], "m");
        assert_eq!(info["time"]["created"], 5);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1]["state"]["status"], "completed");
        assert_eq!(parts[1]["state"]["metadata"]["exit"], 0);
        assert_eq!(parts[1]["state"]["title"], "ls");
    }

    #[test]
    fn ids_must_be_plain() {
        assert!(is_plain_id("ses_3ce42bdb9ffeEIUUu08AuKTJms"));
        assert!(!is_plain_id("../etc"));
        assert!(!is_plain_id(""));
    }
}
