//! Listing Claude Code sessions without building them: a light scan of each
//! transcript (only the fields a listing needs), cached by size and mtime.

use super::harness::split_user_text;
use super::parse::{
    agent_parent_session, file_id, is_agent_file, is_warmup_file, read_head, subagents_dir,
    title_from_prompt,
};
use crate::diag::Diag;
use crate::error::{Error, Result};
use crate::fsutil::{link_leaves, write_atomic};
use crate::model::{Agent, Part, SessionSummary};
use crate::sources::jsonl;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

const CACHE_FILE: &str = "claude-code-list.json";
// 2: titles without Markdown marks.
const CACHE_VERSION: u32 = 2;

#[derive(Deserialize)]
struct Light<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    uuid: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    cwd: Option<Cow<'a, str>>,
    #[serde(rename = "isMeta", default)]
    is_meta: Option<bool>,
    #[serde(rename = "isSidechain", default)]
    is_sidechain: Option<bool>,
    #[serde(rename = "isCompactSummary", default)]
    is_compact_summary: Option<bool>,
    #[serde(borrow, default)]
    message: Option<&'a RawValue>,
    #[serde(rename = "customTitle", borrow, default)]
    custom_title: Option<Cow<'a, str>>,
    #[serde(rename = "aiTitle", borrow, default)]
    ai_title: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    summary: Option<Cow<'a, str>>,
    #[serde(rename = "leafUuid", borrow, default)]
    leaf_uuid: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    attachment: Option<LightAttachment<'a>>,
}

#[derive(Deserialize)]
struct LightMessage<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    role: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    content: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct LightAttachment<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    prompt: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct LightBlock<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
}

/// What the user side of a line holds, for counting.
fn user_has_prompt(content: &RawValue) -> (bool, Option<String>) {
    let raw = content.get();
    if raw.starts_with('"') {
        let s: String = serde_json::from_str(raw).unwrap_or_default();
        return prompt_of(&s);
    }
    let Ok(blocks) = serde_json::from_str::<Vec<LightBlock>>(raw) else {
        return (false, None);
    };
    let mut found = (false, None);
    for b in blocks {
        match b.kind.as_deref() {
            Some("text") => {
                let (real, text) = prompt_of(b.text.as_deref().unwrap_or(""));
                if real {
                    found.0 = true;
                    if found.1.is_none() {
                        found.1 = text;
                    }
                }
            }
            Some("image") | Some("document") => found.0 = true,
            _ => {}
        }
    }
    found
}

fn prompt_of(text: &str) -> (bool, Option<String>) {
    let first = split_user_text(text).into_iter().find_map(|p| match p {
        Part::Text { text } => Some(text),
        _ => None,
    });
    (first.is_some(), first)
}

#[derive(Default)]
struct Counts {
    messages: u64,
    first_prompt: Option<String>,
    assistant_ids: HashSet<String>,
}

#[derive(Default)]
struct ScanState {
    /// uuid → hash of its message, to tell re-writes from other content.
    uuids: HashMap<String, u64>,
    main: Counts,
    side: Counts,
    cwd: Option<String>,
    custom: Option<String>,
    ai: Option<String>,
    summaries: Vec<(String, String)>,
    first: Option<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
}

impl ScanState {
    fn take(&mut self, l: Light<'_>) {
        let message: Option<LightMessage> =
            l.message.and_then(|m| serde_json::from_str(m.get()).ok());
        let mut kind = l.kind.as_deref().unwrap_or("");
        if kind == "message" {
            kind = message
                .as_ref()
                .and_then(|m| m.role.as_deref())
                .unwrap_or("message");
        }
        match kind {
            "custom-title" => {
                if let Some(t) = l.custom_title.filter(|t| !t.is_empty()) {
                    self.custom = Some(t.into_owned());
                }
                return;
            }
            "ai-title" => {
                if let Some(t) = l.ai_title.filter(|t| !t.is_empty()) {
                    self.ai = Some(t.into_owned());
                }
                return;
            }
            "summary" => {
                if let (Some(leaf), Some(s)) = (l.leaf_uuid, l.summary) {
                    self.summaries.push((leaf.into_owned(), s.into_owned()));
                }
                return;
            }
            _ => {}
        }
        if let Some(u) = &l.uuid {
            // The same uuid again: a re-write when the message is the
            // same, otherwise other content that the full parse keeps too.
            let hash = {
                use std::hash::{Hash, Hasher};
                let mut h = std::collections::hash_map::DefaultHasher::new();
                kind.hash(&mut h);
                l.message.map(|m| m.get()).hash(&mut h);
                h.finish()
            };
            match self.uuids.get(u.as_ref()) {
                Some(&prev) if prev == hash => return,
                Some(_) => {}
                None => {
                    self.uuids.insert(u.to_string(), hash);
                }
            }
        }
        if let Some(t) = l
            .timestamp
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        {
            let t = t.with_timezone(&Utc);
            self.first = Some(self.first.map_or(t, |f| f.min(t)));
            self.last = Some(self.last.map_or(t, |x| x.max(t)));
        }
        if self.cwd.is_none() && kind != "summary" {
            self.cwd = l
                .cwd
                .as_deref()
                .filter(|c| !c.is_empty())
                .map(str::to_string);
        }
        let c = if l.is_sidechain == Some(true) {
            &mut self.side
        } else {
            &mut self.main
        };
        match kind {
            "assistant" => {
                let id = message
                    .as_ref()
                    .and_then(|m| m.id.as_deref())
                    .map(str::to_string)
                    .or_else(|| l.uuid.as_deref().map(|u| format!("uuid:{u}")));
                match id {
                    Some(id) => {
                        if c.assistant_ids.insert(id) {
                            c.messages += 1;
                        }
                    }
                    None => c.messages += 1,
                }
            }
            "user" => {
                if l.is_meta == Some(true) || l.is_compact_summary == Some(true) {
                    return;
                }
                if let Some(content) = message.as_ref().and_then(|m| m.content) {
                    let (real, text) = user_has_prompt(content);
                    if real {
                        c.messages += 1;
                        if c.first_prompt.is_none() {
                            c.first_prompt = text;
                        }
                    }
                }
            }
            "attachment" => {
                if let Some(a) = &l.attachment
                    && a.kind.as_deref() == Some("queued_command")
                    && let Some(p) = a.prompt
                {
                    let s: String =
                        serde_json::from_str(p.get()).unwrap_or_else(|_| p.get().to_string());
                    let (real, text) = prompt_of(&s);
                    if real {
                        c.messages += 1;
                        if c.first_prompt.is_none() {
                            c.first_prompt = text;
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// Scans one transcript. `None` when it holds no user or assistant line
/// (empty files, stubs, summary-only files).
pub fn scan_file(path: &Path, diag: &Diag) -> Result<Option<SessionSummary>> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.len() == 0 {
        return Ok(None);
    }
    let mut st = ScanState::default();
    jsonl::read_lines(
        path,
        diag,
        |lineno, text, complete| match serde_json::from_str::<Light>(text) {
            Ok(l) => st.take(l),
            Err(e) => {
                let fixed = jsonl::replace_lone_surrogates(text);
                match serde_json::from_str::<Light>(&fixed) {
                    Ok(l) if matches!(fixed, Cow::Owned(_)) => {
                        diag.warn(
                            path,
                            Some(lineno),
                            "lone-surrogate",
                            "lone UTF-16 surrogate replaced with U+FFFD",
                        );
                        st.take(l)
                    }
                    _ => jsonl::report_bad_line(path, lineno, complete, &e, diag),
                }
            }
        },
    )?;
    let ScanState {
        uuids,
        main,
        side,
        cwd,
        custom,
        ai,
        summaries,
        first,
        last,
    } = st;
    let has_main = main.messages > 0 || !main.assistant_ids.is_empty();
    let counts = if has_main { main } else { side };
    if counts.messages == 0 {
        return Ok(None);
    }
    let summary_title = summaries
        .iter()
        .rev()
        .find(|(leaf, _)| uuids.contains_key(leaf))
        .map(|(_, s)| s.clone());
    let title = custom
        .or(ai)
        .or(summary_title)
        .or_else(|| counts.first_prompt.as_deref().map(title_from_prompt));
    Ok(Some(SessionSummary {
        agent: Agent::ClaudeCode,
        id: file_id(path),
        title,
        project: cwd,
        created: first,
        updated: last,
        messages: counts.messages,
        path: path.to_path_buf(),
        subagents: 0,
    }))
}

/// A summary of a transcript given by path, from its first lines only
/// (exporting or sharing one file needs no scan of all of it): id,
/// project and start. Title, last update and counts stay unknown.
pub fn head_summary(path: &Path) -> SessionSummary {
    let head = read_head(path, 200);
    SessionSummary {
        agent: Agent::ClaudeCode,
        id: file_id(path),
        title: None,
        project: head.cwd,
        created: head.first_time,
        updated: None,
        messages: 0,
        path: path.to_path_buf(),
        subagents: 0,
    }
}

#[derive(Serialize, Deserialize, Default)]
struct Cache {
    version: u32,
    entries: BTreeMap<PathBuf, CacheEntry>,
}

#[derive(Serialize, Deserialize, Clone, PartialEq)]
struct CacheEntry {
    size: u64,
    mtime_ns: u128,
    /// For main transcripts.
    #[serde(default)]
    summary: Option<SessionSummary>,
    /// For `agent-*.jsonl` files: the session they belong to.
    #[serde(default)]
    parent: Option<String>,
}

fn stamp(path: &Path) -> Option<(u64, u128)> {
    let m = std::fs::metadata(path).ok()?;
    let mt = m
        .modified()
        .ok()?
        .duration_since(UNIX_EPOCH)
        .ok()?
        .as_nanos();
    Some((m.len(), mt))
}

fn load_cache(dir: Option<&Path>) -> Cache {
    let Some(dir) = dir else {
        return Cache::default();
    };
    let Ok(bytes) = std::fs::read(dir.join(CACHE_FILE)) else {
        return Cache::default();
    };
    match serde_json::from_slice::<Cache>(&bytes) {
        Ok(c) if c.version == CACHE_VERSION => c,
        _ => Cache::default(),
    }
}

/// Lists the main sessions in project folders, folding subagents in.
/// Symbolic links that lead outside `root` (the store, or the folder given)
/// are not followed.
pub fn scan_dirs(
    root: &Path,
    dirs: &[PathBuf],
    cache_dir: Option<&Path>,
    diag: &Diag,
) -> Result<Vec<SessionSummary>> {
    let old = load_cache(cache_dir);
    let mut new = Cache {
        version: CACHE_VERSION,
        entries: BTreeMap::new(),
    };
    let mut out = Vec::new();
    for dir in dirs {
        let rd = match std::fs::read_dir(dir) {
            Ok(rd) => rd,
            Err(e) => {
                diag.warn(dir, None, "unreadable", format!("cannot read folder: {e}"));
                continue;
            }
        };
        let mut files: Vec<PathBuf> = rd
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
            .filter(|p| {
                let leaves = link_leaves(root, p);
                if leaves {
                    diag.warn(
                        p,
                        None,
                        "link-out",
                        "a symbolic link out of the store: not followed (export or share it by its path)",
                    );
                }
                !leaves
            })
            // A folder named `x.jsonl` is no transcript.
            .filter(|p| {
                let dir = p.is_dir();
                if dir {
                    diag.warn(p, None, "unreadable", "skipped: a folder, not a transcript");
                }
                !dir
            })
            .collect();
        files.sort();
        let mut agent_parents: HashMap<String, u64> = HashMap::new();
        let mut mains = Vec::new();
        for f in files {
            let Some((size, mtime_ns)) = stamp(&f) else {
                continue;
            };
            let cached = old
                .entries
                .get(&f)
                .filter(|e| e.size == size && e.mtime_ns == mtime_ns)
                .cloned();
            if is_agent_file(&f) {
                let entry = cached.unwrap_or_else(|| CacheEntry {
                    size,
                    mtime_ns,
                    summary: None,
                    // A warm-up request is not counted as a subagent.
                    parent: agent_parent_session(&f).filter(|_| !is_warmup_file(&f)),
                });
                if let Some(p) = &entry.parent {
                    *agent_parents.entry(p.clone()).or_default() += 1;
                }
                new.entries.insert(f, entry);
            } else {
                let entry = match cached {
                    Some(c) => c,
                    None => CacheEntry {
                        size,
                        mtime_ns,
                        summary: if size == 0 {
                            None
                        } else {
                            // One file that cannot be read does not hide
                            // the others.
                            match scan_file(&f, diag) {
                                Ok(s) => s,
                                Err(e) => {
                                    diag.skipped(&f, &e);
                                    continue;
                                }
                            }
                        },
                        parent: None,
                    },
                };
                if let Some(s) = &entry.summary {
                    mains.push(s.clone());
                }
                new.entries.insert(f, entry);
            }
        }
        for mut s in mains {
            s.subagents =
                agent_parents.get(&s.id).copied().unwrap_or(0) + count_subagent_dir(dir, &s.id);
            out.push(s);
        }
    }
    if let Some(cd) = cache_dir
        && (new.entries != old.entries || old.version != CACHE_VERSION)
    {
        // The merged cache keeps entries of folders not scanned this time.
        let mut merged = old;
        merged.version = CACHE_VERSION;
        for d in dirs {
            merged
                .entries
                .retain(|p, _| p.parent() != Some(d.as_path()));
        }
        merged.entries.extend(new.entries);
        if let Ok(bytes) = serde_json::to_vec(&merged)
            && let Err(e) = write_atomic(&cd.join(CACHE_FILE), &bytes, Some(0o600))
        {
            diag.info(format!("could not write the list cache: {e}"));
        }
    }
    Ok(out)
}

fn count_subagent_dir(dir: &Path, id: &str) -> u64 {
    let Some(sub) = subagents_dir(dir, id) else {
        return 0;
    };
    walkdir::WalkDir::new(sub)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file() && is_agent_file(e.path()))
        // Claude Code's warm-up request is not a subagent (see parse.rs).
        .filter(|e| !is_warmup_file(e.path()))
        .count() as u64
}
