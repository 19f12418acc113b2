//! `opencode export` files: `{info, messages: [{info, parts}]}`, one
//! session, no child sessions and no `session_diff`. 2.x builds may export
//! native 2.x messages (`{id, type, …}`), which are read as such.

use super::Listed;
use super::convert::{RawMessage, RawPart, RawSession};
use super::value::{parse_json, str_at, time_field};
use crate::diag::Diag;
use crate::error::{Error, IoContext, Result};
use crate::sources::jsonl;
use serde::de::IgnoredAny;
use serde_json::Value;
use serde_json::error::Category;
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::path::Path;

/// Whether a parsed JSON document is an export.
pub(super) fn is_export(v: &Value) -> bool {
    v.get("info").is_some_and(Value::is_object) && v.get("messages").is_some_and(Value::is_array)
}

/// Reads and parses an export file.
pub(super) fn parse(path: &Path) -> Result<Value> {
    let bytes = std::fs::read(path).at(path)?;
    parse_bytes(path, &bytes)
}

/// Parses the bytes of an export file (`path` is for messages).
pub(super) fn parse_bytes(path: &Path, bytes: &[u8]) -> Result<Value> {
    let v = parse_json(&String::from_utf8_lossy(bytes))
        .map_err(|e| Error::parse(path, format!("not valid JSON: {e}")))?;
    if !is_export(&v) {
        return Err(not_export(path));
    }
    Ok(v)
}

fn not_export(path: &Path) -> Error {
    Error::parse(
        path,
        "not an `opencode export` file (expected an object with `info` and `messages`)",
    )
}

/// An export file's `info` and number of messages, read without a JSON
/// tree of its messages (listing and recognising a file need no more).
/// `Ok(None)`: JSON, but not an export.
pub(super) fn head(path: &Path) -> Result<Option<(Value, u64)>> {
    let text = jsonl::text_of(std::fs::read(path).at(path)?);
    let bad = |e: serde_json::Error| Error::parse(path, format!("not valid JSON: {e}"));
    let mut mended = None;
    let top: HashMap<String, &RawValue> = match jsonl::parse_lenient(&text, &mut mended) {
        Ok(top) => top,
        // Valid JSON, but not an object.
        Err(e) if e.classify() == Category::Data => return Ok(None),
        Err(e) => return Err(bad(e)),
    };
    let at = |k: &str, open: char| top.get(k).filter(|v| v.get().starts_with(open));
    let (Some(info), Some(messages)) = (at("info", '{'), at("messages", '[')) else {
        return Ok(None);
    };
    let info: Value = jsonl::parse_lenient(info.get(), &mut None).map_err(bad)?;
    let messages: Vec<IgnoredAny> = jsonl::parse_lenient(messages.get(), &mut None).map_err(bad)?;
    Ok(Some((info, messages.len() as u64)))
}

/// The session id of an export: `info.id`, else the file name.
pub(super) fn session_id(doc: &Value, path: &Path) -> String {
    id_of(doc.get("info").unwrap_or(&Value::Null), path)
}

/// The session id of an export whose `info` is `info`.
fn id_of(info: &Value, path: &Path) -> String {
    str_at(info, "id")
        .map(str::to_string)
        .or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_default()
}

pub(super) fn list(path: &Path) -> Result<Vec<Listed>> {
    let Some((info, messages)) = head(path)? else {
        return Err(not_export(path));
    };
    Ok(vec![Listed::new(
        &id_of(&info, path),
        &info,
        messages,
        path,
    )])
}

pub(super) fn read(path: &Path, id: &str, diag: &Diag) -> Result<Option<RawSession>> {
    let doc = parse(path)?;
    if session_id(&doc, path) != id {
        return Ok(None);
    }
    Ok(Some(session(doc, path, id, diag)))
}

/// The session of a parsed export whose id is `id`.
pub(super) fn session(mut doc: Value, path: &Path, id: &str, diag: &Diag) -> RawSession {
    let mut info = doc["info"].take();
    if let Value::Object(m) = &mut info {
        m.insert("id".into(), Value::String(id.to_string()));
    }
    let items = match doc["messages"].take() {
        Value::Array(items) => items,
        _ => Vec::new(),
    };
    let mut messages: Vec<(Option<i64>, String, RawMessage)> = Vec::new();
    for mut item in items {
        let minfo = item.get_mut("info").map(Value::take);
        match minfo {
            Some(minfo) if str_at(&minfo, "role").is_some() => {
                let mut parts: Vec<Value> = match item.get_mut("parts").map(Value::take) {
                    Some(Value::Array(p)) => p.into_iter().filter(Value::is_object).collect(),
                    _ => Vec::new(),
                };
                parts.sort_by_key(|p| str_at(p, "id").unwrap_or("").to_string());
                let key = (
                    time_field(&minfo, "created"),
                    str_at(&minfo, "id").unwrap_or("").to_string(),
                );
                let parts = parts.into_iter().map(RawPart::Tree).collect();
                messages.push((key.0, key.1, RawMessage::Classic { info: minfo, parts }));
            }
            _ => match str_at(&item, "type").map(str::to_string) {
                Some(kind) => {
                    let mid = str_at(&item, "id").unwrap_or("").to_string();
                    let time = time_field(&item, "created");
                    messages.push((
                        time,
                        mid.clone(),
                        RawMessage::Event {
                            id: mid,
                            kind,
                            data: item,
                        },
                    ));
                }
                None => diag.warn(
                    path,
                    None,
                    "malformed",
                    "skipped export messages that are neither MessageV2 nor 2.x messages",
                ),
            },
        }
    }
    // MessageV2 records are put in (created, id) order; 2.x messages carry
    // no reliable time on every kind, so their file order is kept.
    if messages
        .iter()
        .all(|m| matches!(m.2, RawMessage::Classic { .. }))
    {
        messages.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    }
    RawSession {
        id: id.to_string(),
        info,
        messages: messages.into_iter().map(|(_, _, m)| m).collect(),
        diffs: None,
        origin: path.to_path_buf(),
        source_paths: vec![path.to_path_buf()],
    }
}
