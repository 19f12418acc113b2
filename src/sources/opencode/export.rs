//! `opencode export` files: `{info, messages: [{info, parts}]}`, one
//! session, no child sessions and no `session_diff`. 2.x builds may export
//! native 2.x messages (`{id, type, …}`), which are read as such.

use super::Listed;
use super::convert::{self, Built, RawMessage, RawPart, RawSession};
use super::value::{str_at, time_field};
use crate::diag::Diag;
use crate::error::{Error, IoContext, Result};
use crate::sources::jsonl;
use serde::Deserialize;
use serde_json::Value;
use serde_json::error::Category;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

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
    let mut mended = None;
    let found = top_level(&text, &mut mended).map_err(|e| not_json(path, e))?;
    Ok(found.map(|(info, messages)| (info, messages.len() as u64)))
}

fn not_json(path: &Path, e: serde_json::Error) -> Error {
    Error::parse(path, format!("not valid JSON: {e}"))
}

/// The top level of an export, in one pass.
#[derive(Deserialize)]
struct Top<'a> {
    info: Option<Value>,
    #[serde(borrow)]
    messages: Option<Vec<&'a RawValue>>,
}

/// An export's `info` and its messages as they are in `text` (mended into
/// `mended` if it holds lone surrogates); `Ok(None)`: JSON, but not an
/// export.
fn top_level<'a>(
    text: &'a str,
    mended: &'a mut Option<String>,
) -> std::result::Result<Option<(Value, Vec<&'a RawValue>)>, serde_json::Error> {
    let export = |top: Top<'a>| match top {
        Top {
            info: Some(info),
            messages: Some(messages),
        } if info.is_object() => Some((info, messages)),
        _ => None,
    };
    let text: &'a str = match serde_json::from_str::<Top>(text) {
        Ok(top) => return Ok(export(top)),
        Err(e) => match jsonl::replace_lone_surrogates(text) {
            Cow::Owned(fixed) => mended.insert(fixed),
            Cow::Borrowed(_) if e.classify() == Category::Data => text,
            Cow::Borrowed(_) => return Err(e),
        },
    };
    if let Ok(top) = serde_json::from_str::<Top>(text) {
        return Ok(export(top));
    }
    // Not an object, `messages` not an array, a field twice: read the top
    // level's values first.
    let top: HashMap<String, &RawValue> = match serde_json::from_str(text) {
        Ok(top) => top,
        Err(e) if e.classify() == Category::Data => return Ok(None),
        Err(e) => return Err(e),
    };
    let at = |k: &str, open: char| top.get(k).filter(|v| v.get().starts_with(open));
    let (Some(info), Some(messages)) = (at("info", '{'), at("messages", '[')) else {
        return Ok(None);
    };
    Ok(Some((
        jsonl::parse_lenient(info.get(), &mut None)?,
        serde_json::from_str(messages.get())?,
    )))
}

/// The session id of an export whose `info` is `info`.
fn id_of(info: &Value, path: &Path) -> String {
    str_at(info, "id")
        .map(str::to_string)
        .or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_default()
}

pub(super) fn list(path: &Path) -> Result<Vec<Listed>> {
    listed(path)?.ok_or_else(|| not_export(path))
}

/// The session of the file at `path` if it is an export; `Ok(None)`:
/// JSON, but not an export.
pub(super) fn listed(path: &Path) -> Result<Option<Vec<Listed>>> {
    Ok(head(path)?
        .map(|(info, messages)| vec![Listed::new(&id_of(&info, path), &info, messages, path)]))
}

/// A message with its sort key: (created, id).
type Keyed = (Option<i64>, String, RawMessage);

/// The export's `info`, with `id`.
fn session_info(mut info: Value, id: &str) -> Value {
    if let Value::Object(m) = &mut info {
        m.insert("id".into(), Value::String(id.to_string()));
    }
    info
}

/// The session `id` of the export at `path` without its messages.
fn without_messages(id: &str, info: Value, path: &Path) -> RawSession {
    RawSession {
        id: id.to_string(),
        info,
        messages: Vec::new(),
        diffs: None,
        origin: path.to_path_buf(),
        source_paths: vec![path.to_path_buf()],
    }
}

/// Whether `messages` are put in (created, id) order: MessageV2 records
/// are; 2.x messages carry no reliable time on every kind, so the file
/// order of a session holding any is kept.
fn put_in_time_order<'a>(mut messages: impl Iterator<Item = &'a Keyed>) -> bool {
    messages.all(|m| matches!(m.2, RawMessage::Classic { .. }))
}

/// One item of `messages`: a MessageV2 record with its parts, or a 2.x
/// message; `None`, with a warning, for anything else.
fn raw_message(mut item: Value, path: &Path, diag: &Diag) -> Option<Keyed> {
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
            Some((key.0, key.1, RawMessage::Classic { info: minfo, parts }))
        }
        _ => match str_at(&item, "type").map(str::to_string) {
            Some(kind) => {
                let mid = str_at(&item, "id").unwrap_or("").to_string();
                let time = time_field(&item, "created");
                Some((
                    time,
                    mid.clone(),
                    RawMessage::Event {
                        id: mid,
                        kind,
                        data: item,
                    },
                ))
            }
            None => {
                diag.warn(
                    path,
                    None,
                    "malformed",
                    "skipped export messages that are neither MessageV2 nor 2.x messages",
                );
                None
            }
        },
    }
}

/// What tells a message's kind and place (see [`raw_message`]).
#[derive(Deserialize)]
struct ItemHead {
    info: Option<Value>,
    #[serde(rename = "type")]
    kind: Option<Value>,
    id: Option<Value>,
    time: Option<Value>,
}

impl ItemHead {
    fn into_value(self) -> Value {
        let fields = [
            ("info", self.info),
            ("type", self.kind),
            ("id", self.id),
            ("time", self.time),
        ];
        Value::Object(
            fields
                .into_iter()
                .filter_map(|(k, v)| Some((k.to_string(), v?)))
                .collect(),
        )
    }
}

/// Reads and converts the export at `path` if its session is `id`.
///
/// The file is read whole once to find its messages and their order. Its
/// text is then dropped, and each message is read again from the file,
/// parsed and converted in turn, so the text is never held beside the
/// session being built (the peak is about the larger of the two, not their
/// sum). A file that changes in between is read again the plain way.
pub(super) fn read_built(path: &Path, id: &str, diag: &Diag) -> Result<Option<Built>> {
    read_built_with(path, id, diag, &|| {})
}

/// [`read_built`], calling `between` after the first reading (tests change
/// the file there).
fn read_built_with(
    path: &Path,
    id: &str,
    diag: &Diag,
    between: &dyn Fn(),
) -> Result<Option<Built>> {
    let mut file = std::fs::File::open(path).at(path)?;
    let stamp = |f: &std::fs::File| f.metadata().map(|m| (m.len(), m.modified().ok()));
    let before = stamp(&file).at(path)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).at(path)?;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        // Invalid UTF-8 replaced: places in the text are not the file's.
        Err(e) => return built_from_text(path, &jsonl::text_of(e.into_bytes()), Some(id), diag),
    };
    // Warnings wait until the file is known not to have changed.
    let d = Diag::silent();
    let (head, spans) = {
        let mut mended = None;
        let Some(plan) = plan(path, &text, &mut mended, Some(id), &d)? else {
            return Ok(None);
        };
        let base = text.as_ptr() as usize;
        let span = |raw: &RawValue| {
            let at = (raw.get().as_ptr() as usize).checked_sub(base)?;
            (at + raw.get().len() <= text.len()).then_some((at as u64, raw.get().len()))
        };
        let Some(spans) = plan
            .items
            .iter()
            .map(|raw| span(raw))
            .collect::<Option<Vec<_>>>()
        else {
            // Lone surrogates mended: the messages are slices of the
            // mended text, not of the file.
            let built = plan.convert(path, &d);
            d.forward_to(diag);
            return Ok(Some(built));
        };
        (plan.head, spans)
    };
    drop(text);
    between();
    let mut failed = None;
    let mut buf = Vec::new();
    let messages = spans.into_iter().map(|(at, len)| {
        buf.clear();
        let read = file
            .seek(SeekFrom::Start(at))
            .and_then(|_| (&mut file).take(len as u64).read_to_end(&mut buf));
        match read {
            Ok(n) if n == len => message(std::str::from_utf8(&buf).unwrap_or(""), path, &d),
            Ok(_) => None,
            Err(e) => {
                failed.get_or_insert(e);
                None
            }
        }
    });
    let built = convert::build_from(head, messages, &d);
    if let Some(e) = failed {
        return Err(Error::io(path, e));
    }
    if stamp(&file).ok() != Some(before) {
        // Changed while it was read: what was read again may not be the
        // messages found at first.
        let text = jsonl::text_of(std::fs::read(path).at(path)?);
        return built_from_text(path, &text, Some(id), diag);
    }
    d.forward_to(diag);
    Ok(Some(built))
}

/// [`read_built`] of the export text `text` of `path`; any session with
/// no `id`.
pub(super) fn built_from_text(
    path: &Path,
    text: &str,
    id: Option<&str>,
    diag: &Diag,
) -> Result<Option<Built>> {
    let mut mended = None;
    Ok(plan(path, text, &mut mended, id, diag)?.map(|plan| plan.convert(path, diag)))
}

/// An export's session without its messages, and its messages as they
/// are in the text, in the order they convert in.
struct Plan<'a> {
    head: RawSession,
    items: Vec<&'a RawValue>,
}

impl Plan<'_> {
    fn convert(self, path: &Path, diag: &Diag) -> Built {
        let messages = self
            .items
            .into_iter()
            .map(|raw| message(raw.get(), path, diag));
        convert::build_from(self.head, messages, diag)
    }
}

/// Parses the JSON text of one message of `path`; `None`, with a warning,
/// when it does not parse.
fn message(text: &str, path: &Path, diag: &Diag) -> Option<RawMessage> {
    parse_item(text, path, diag)
        .and_then(|item| raw_message(item, path, &Diag::silent()).map(|k| k.2))
}

fn parse_item(text: &str, path: &Path, diag: &Diag) -> Option<Value> {
    match jsonl::parse_lenient::<Value>(text, &mut None) {
        Ok(v) => Some(v),
        Err(e) => {
            diag.warn(
                path,
                None,
                "malformed",
                format!("skipped an export message: {e}"),
            );
            None
        }
    }
}

/// The [`Plan`] of the export text `text` of `path` (mended into `mended`
/// if it holds lone surrogates), if its session is `id` (any with `None`).
fn plan<'a>(
    path: &Path,
    text: &'a str,
    mended: &'a mut Option<String>,
    id: Option<&str>,
    diag: &Diag,
) -> Result<Option<Plan<'a>>> {
    let Some((info, items)) = top_level(text, mended).map_err(|e| not_json(path, e))? else {
        return Err(not_export(path));
    };
    let found = id_of(&info, path);
    if id.is_some_and(|id| id != found) {
        return Ok(None);
    }
    // The order needs each message's kind and key, which its fields other
    // than `parts` (and a 2.x message's data) tell: this pass reads only
    // those.
    let mut keys: Vec<(usize, Keyed)> = Vec::with_capacity(items.len());
    for (i, raw) in items.iter().enumerate() {
        let item = match raw.get().starts_with('{') {
            true => match jsonl::parse_lenient::<ItemHead>(raw.get(), &mut None) {
                Ok(h) => h.into_value(),
                // Duplicate fields, say: read it whole.
                Err(_) => match parse_item(raw.get(), path, diag) {
                    Some(mut v) => {
                        v["parts"] = Value::Null;
                        v
                    }
                    None => continue,
                },
            },
            false => Value::Null,
        };
        if let Some(k) = raw_message(item, path, diag) {
            keys.push((i, k));
        }
    }
    if put_in_time_order(keys.iter().map(|(_, k)| k)) {
        keys.sort_by(|(_, a), (_, b)| (a.0, &a.1).cmp(&(b.0, &b.1)));
    }
    Ok(Some(Plan {
        head: without_messages(&found, session_info(info, &found), path),
        items: keys.into_iter().map(|(i, _)| items[i]).collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::opencode::value::parse_json;

    // How an export was read before it was converted a message at a time:
    // parsed whole, then converted. The reference for read_built.

    /// Whether a parsed JSON document is an export.
    fn is_export(v: &Value) -> bool {
        v.get("info").is_some_and(Value::is_object)
            && v.get("messages").is_some_and(Value::is_array)
    }

    /// Parses the bytes of an export file (`path` is for messages).
    fn parse_bytes(path: &Path, bytes: &[u8]) -> Result<Value> {
        let v = parse_json(&String::from_utf8_lossy(bytes))
            .map_err(|e| Error::parse(path, format!("not valid JSON: {e}")))?;
        if !is_export(&v) {
            return Err(not_export(path));
        }
        Ok(v)
    }

    /// The session id of an export: `info.id`, else the file name.
    fn session_id(doc: &Value, path: &Path) -> String {
        id_of(doc.get("info").unwrap_or(&Value::Null), path)
    }

    /// The session of a parsed export whose id is `id`.
    fn session(mut doc: Value, path: &Path, id: &str, diag: &Diag) -> RawSession {
        let info = session_info(doc["info"].take(), id);
        let items = match doc["messages"].take() {
            Value::Array(items) => items,
            _ => Vec::new(),
        };
        let mut messages: Vec<Keyed> = items
            .into_iter()
            .filter_map(|item| raw_message(item, path, diag))
            .collect();
        if put_in_time_order(messages.iter()) {
            messages.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        }
        RawSession {
            messages: messages.into_iter().map(|(_, _, m)| m).collect(),
            ..without_messages(id, info, path)
        }
    }

    /// The session [`read_built`] makes, and the one made from the file
    /// parsed whole ([`parse_bytes`], [`session`]), as JSON, with the warnings.
    fn both(path: &Path) -> ((String, Vec<String>), (String, Vec<String>)) {
        let run = |f: &dyn Fn(&Diag) -> Built| {
            let d = Diag::silent();
            let b = f(&d);
            let json = serde_json::to_string_pretty(&b.session).unwrap();
            (json, d.warnings().into_iter().map(|w| w.kind).collect())
        };
        let parse = || parse_bytes(path, &std::fs::read(path).unwrap()).unwrap();
        let id = session_id(&parse(), path);
        let lazy = run(&|d| read_built(path, &id, d).unwrap().unwrap());
        let whole = run(&|d| convert::build(session(parse(), path, &id, d), d));
        (lazy, whole)
    }

    #[test]
    fn exports_convert_a_message_at_a_time_as_when_parsed_whole() {
        let mut files = crate::sources::fixture_files("opencode/export", "json");
        assert!(files.len() >= 3, "{files:?}");
        let tmp = tempfile::tempdir().unwrap();
        // The first export reversed, with a message of duplicate fields, a
        // lone surrogate, items that are no message, and the same messages
        // again as 2.x messages (kept in file order).
        let mut doc: Value = serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap();
        let mut items = doc["messages"].as_array().unwrap().clone();
        items.reverse();
        let mut text = {
            let mut d = doc.clone();
            d["messages"] = Value::Array(items.clone());
            d.to_string()
        };
        let dup = r#"{"info":{"id":"msg_dup","role":"user","time":{"created":1}},"info":{"id":"msg_dup2","role":"user","time":{"created":2}},"parts":[{"id":"prt_1","type":"text","text":"half \ud83d a pair"}]},7,{"what":1},"#;
        text = text.replacen("\"messages\":[", &format!("\"messages\":[{dup}"), 1);
        let reversed = tmp.path().join("reversed.json");
        std::fs::write(&reversed, &text).unwrap();
        files.push(reversed);
        let v2: Vec<Value> = items
            .iter()
            .map(|m| {
                serde_json::json!({"type": m["info"]["role"], "id": m["info"]["id"],
                            "time": m["info"]["time"], "text": "x"})
            })
            .collect();
        doc["messages"] = Value::Array(v2);
        let native = tmp.path().join("native.json");
        std::fs::write(&native, doc.to_string()).unwrap();
        files.push(native);
        for f in &files {
            let (lazy, whole) = both(f);
            assert_eq!(lazy.0, whole.0, "{}", f.display());
            assert_eq!(lazy.1, whole.1, "{}", f.display());
        }
        let (lazy, _) = both(&files[files.len() - 2]);
        assert!(lazy.0.contains("half \u{fffd} a pair"));
        assert!(lazy.1.iter().any(|k| k == "malformed"), "{:?}", lazy.1);
    }
    /// A file rewritten after its first reading is read again whole: the
    /// session is the new file's, not messages read from places that held
    /// other bytes.
    #[test]
    fn a_file_changed_between_its_readings_is_read_again() {
        let files = crate::sources::fixture_files("opencode/export", "json");
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("export.json");
        let original = std::fs::read_to_string(&files[0]).unwrap();
        std::fs::write(&path, &original).unwrap();
        let mut doc: Value = serde_json::from_str(&original).unwrap();
        let id = session_id(&doc, &path);
        let mut items = doc["messages"].as_array().unwrap().clone();
        items.reverse();
        items.truncate(items.len() - 1);
        doc["messages"] = Value::Array(items);
        let changed = doc.to_string();
        assert_ne!(changed.len(), original.len());

        let d = Diag::silent();
        let write = || std::fs::write(&path, &changed).unwrap();
        let got = read_built_with(&path, &id, &d, &write).unwrap().unwrap();
        let got = serde_json::to_string_pretty(&got.session).unwrap();
        let (lazy, whole) = both(&path);
        assert_eq!(got, whole.0);
        assert_eq!(lazy.0, whole.0);
        // Only the second reading's warnings are reported.
        let kinds: Vec<String> = d.warnings().into_iter().map(|w| w.kind).collect();
        assert_eq!(kinds, whole.1);
        std::fs::write(&path, &original).unwrap();
        assert_ne!(both(&path).0.0, got, "the change is seen");
    }
}
