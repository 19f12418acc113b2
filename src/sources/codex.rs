//! Codex CLI: `$CODEX_HOME` or `~/.codex`, rollouts at
//! `sessions/YYYY/MM/DD/rollout-<time>-<uuid>.jsonl` and
//! `archived_sessions/…`, older archives zstd-compressed as `.jsonl.zst`.
//!
//! A rollout is one session (the working directory is inside it, not in
//! the path). Subagent threads write their own rollout, naming their
//! parent in `session_meta.source.subagent.thread_spawn.parent_thread_id`;
//! they are folded into the parent. Human titles come from
//! `session_index.jsonl` (newest entry wins), else from
//! `thread_name_updated` events, else from the first prompt.
//!
//! Listing reads each rollout lightly (see [`parse`]) and caches what it
//! found by size and mtime; a rollout that grows is scanned again.

mod build;
mod live;
mod parse;
mod patch;

use super::list_cache::ListCache;
use super::{LiveLoad, PathMatch, SessionRef, Source};
use crate::diag::Diag;
use crate::error::Result;
use crate::model::{Agent, Session, SessionSummary};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::io::BufRead;
use std::path::{Path, PathBuf};

const CACHE_FILE: &str = "codex-list.json";
// 2: titles without Markdown marks.
const CACHE_VERSION: u32 = 2;
/// How deep subagents of subagents are followed.
const MAX_DEPTH: usize = 8;

pub struct Codex {
    root: PathBuf,
    cache_dir: Option<PathBuf>,
}

/// What a listing keeps of one rollout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Scan {
    summary: Option<SessionSummary>,
    /// The parent thread of a subagent rollout.
    parent: Option<String>,
}

impl Codex {
    pub fn new(root: PathBuf) -> Codex {
        Codex {
            root,
            cache_dir: None,
        }
    }

    /// Keeps the listing cache in `dir`.
    pub fn with_cache(mut self, dir: Option<PathBuf>) -> Codex {
        self.cache_dir = dir;
        self
    }

    fn session_dirs(&self) -> Vec<PathBuf> {
        ["sessions", "archived_sessions"]
            .iter()
            .map(|d| self.root.join(d))
            .filter(|d| d.is_dir())
            .collect()
    }

    /// The rollouts that may be subagents of session `s` (read from
    /// `path`), by the session they name as their parent.
    fn rollouts_by_parent(&self, s: &Session, path: &Path) -> HashMap<String, Vec<PathBuf>> {
        let cache: ListCache<Scan> =
            ListCache::open(self.cache_dir.as_deref(), CACHE_FILE, CACHE_VERSION);
        let parent_of = |f: &Path| -> Option<String> {
            match cache.peek(f) {
                Some(scan) => scan.parent.clone(),
                None => head_meta(f).and_then(|m| m.parent),
            }
        };
        let mut by_parent: HashMap<String, Vec<PathBuf>> = HashMap::new();
        for f in self.subagent_candidates(s, path) {
            if f == path {
                continue;
            }
            if let Some(p) = parent_of(&f) {
                by_parent.entry(p).or_default().push(f);
            }
        }
        by_parent
    }

    /// Rollouts that may belong to subagents of `s` (read from `path`):
    /// those in the date folders the session spans (a day either side, as
    /// folders are named in local time), and the session's own folder.
    /// Reading every rollout's header on each load would make `watch` slow
    /// on large stores.
    fn subagent_candidates(&self, s: &Session, path: &Path) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = path.parent().map(Path::to_path_buf).into_iter().collect();
        if let (Some(from), Some(to)) = (s.created, s.updated.or(s.created)) {
            let (from, to) = (from.date_naive().pred_opt(), to.date_naive().succ_opt());
            if let (Some(mut d), Some(to)) = (from, to) {
                let mut n = 0;
                while d <= to && n < 400 {
                    for base in self.session_dirs() {
                        dirs.push(base.join(d.format("%Y/%m/%d").to_string()));
                    }
                    d = match d.succ_opt() {
                        Some(x) => x,
                        None => break,
                    };
                    n += 1;
                }
            }
        }
        // Archives may also sit flat in `archived_sessions/`.
        dirs.push(self.root.join("archived_sessions"));
        dirs.sort();
        dirs.dedup();
        let mut files: Vec<PathBuf> = dirs
            .iter()
            .filter(|d| d.is_dir())
            .flat_map(|d| rollout_files(d, 1))
            .collect();
        files.sort();
        files.dedup();
        files
    }

    fn files(&self) -> Vec<PathBuf> {
        let mut v = Vec::new();
        for d in self.session_dirs() {
            v.extend(rollout_files(&d, 5));
        }
        v
    }
}

/// Whether a file name is a rollout (`.jsonl` or `.jsonl.zst`).
fn is_rollout_name(name: &str) -> bool {
    name.starts_with("rollout-") && (name.ends_with(".jsonl") || name.ends_with(".jsonl.zst"))
}

/// Rollouts under `dir`, sorted; where both `x.jsonl` and `x.jsonl.zst`
/// exist (a resumed archive), only the `.jsonl`.
fn rollout_files(dir: &Path, depth: usize) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .max_depth(depth)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .filter(|e| e.file_name().to_str().is_some_and(is_rollout_name))
        .map(|e| e.into_path())
        .collect();
    files.sort();
    let plain: HashSet<PathBuf> = files
        .iter()
        .filter(|p| !parse::is_zst(p))
        .cloned()
        .collect();
    files.retain(|p| !parse::is_zst(p) || !plain.contains(&p.with_extension("")));
    files
}

/// The id a rollout's name gives: the UUID at the end of
/// `rollout-<time>-<uuid>`, else the name without its extensions.
fn file_id(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name
        .strip_suffix(".jsonl.zst")
        .or_else(|| name.strip_suffix(".jsonl"))
        .unwrap_or(&name);
    // A UUID is 36 characters: 8-4-4-4-12.
    if stem.len() > 36 {
        let tail = &stem[stem.len() - 36..];
        let shape = tail.split('-').map(str::len).eq([8, 4, 4, 4, 12]);
        if shape && tail.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            return tail.to_string();
        }
    }
    stem.strip_prefix("rollout-").unwrap_or(stem).to_string()
}

/// The session header, from the first lines only.
fn head_meta(path: &Path) -> Option<parse::Meta> {
    let reader = parse::open(path).ok()?;
    let r = std::io::BufReader::new(reader);
    for line in r.split(b'\n').take(5) {
        let line = line.ok()?;
        let Ok(v) = serde_json::from_slice::<Value>(&line) else {
            continue;
        };
        if v.get("type").and_then(Value::as_str) == Some("session_meta") {
            return Some(parse::meta(v.get("payload").unwrap_or(&Value::Null)));
        }
    }
    None
}

/// Whether a `.jsonl` file is a Codex rollout: its first record has the
/// rollout envelope.
fn sniff(path: &Path) -> bool {
    let Ok(reader) = parse::open(path) else {
        return false;
    };
    let r = std::io::BufReader::new(reader);
    for line in r.split(b'\n').take(3) {
        let Ok(line) = line else { return false };
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let Ok(v) = serde_json::from_slice::<Value>(&line) else {
            return false;
        };
        let kind = v.get("type").and_then(Value::as_str).unwrap_or("");
        return v.get("payload").is_some()
            && matches!(
                kind,
                "session_meta" | "response_item" | "event_msg" | "turn_context" | "compacted"
            );
    }
    false
}

/// Scans one rollout for the listing.
fn scan_file(path: &Path, diag: &Diag) -> Scan {
    let recs = match parse::read(path, true, diag) {
        Ok(r) => r,
        Err(e) => {
            diag.skipped(path, &e);
            return Scan {
                summary: None,
                parent: None,
            };
        }
    };
    if recs.iter().all(Vec::is_empty) {
        return Scan {
            summary: None,
            parent: None,
        };
    }
    let b = build::build(recs, path, &file_id(path));
    Scan {
        summary: Some(SessionSummary::of(&b.session, path, 0)),
        parent: b.meta.parent,
    }
}

/// Human titles from `session_index.jsonl`: id → newest name.
fn session_index(root: &Path, diag: &Diag) -> HashMap<String, String> {
    let path = root.join("session_index.jsonl");
    let mut best: HashMap<String, (String, String)> = HashMap::new();
    if !path.is_file() {
        return HashMap::new();
    }
    let _ = super::jsonl::read_lines(&path, diag, |lineno, text, complete| {
        let Some(v) = super::jsonl::parse_line::<Value>(&path, lineno, text, complete, diag) else {
            return;
        };
        let (Some(id), Some(name)) = (parse::str_of(&v, "id"), parse::str_of(&v, "thread_name"))
        else {
            return;
        };
        let at = parse::str_of(&v, "updated_at").unwrap_or_default();
        match best.get(&id) {
            Some((prev, _)) if *prev > at => {}
            _ => {
                best.insert(id, (at, name));
            }
        }
    });
    best.into_iter().map(|(id, (_, n))| (id, n)).collect()
}

/// Folds subagent rollouts into their parents (when the parent is listed).
fn fold(scans: Vec<Scan>) -> Vec<SessionSummary> {
    let ids: HashSet<String> = scans
        .iter()
        .filter_map(|s| s.summary.as_ref().map(|x| x.id.clone()))
        .collect();
    let mut children: HashMap<String, u64> = HashMap::new();
    let mut out = Vec::new();
    for s in scans {
        let Some(summary) = s.summary else { continue };
        match s.parent.filter(|p| ids.contains(p) && *p != summary.id) {
            Some(p) => *children.entry(p).or_default() += 1,
            None => out.push(summary),
        }
    }
    for s in &mut out {
        s.subagents = children.get(&s.id).copied().unwrap_or(0);
    }
    out
}

impl Source for Codex {
    fn agent(&self) -> Agent {
        Agent::Codex
    }

    fn location(&self) -> String {
        self.root.join("sessions").display().to_string()
    }

    fn exists(&self) -> bool {
        !self.session_dirs().is_empty()
    }

    fn discover(&self, diag: &Diag) -> Result<Vec<SessionSummary>> {
        let mut cache: ListCache<Scan> =
            ListCache::open(self.cache_dir.as_deref(), CACHE_FILE, CACHE_VERSION);
        let files = self.files();
        // Rollouts not in the cache are scanned in parallel.
        let mut fresh: HashMap<PathBuf, Scan> = files
            .par_iter()
            .filter(|f| cache.peek(f).is_none())
            .map(|f| (f.clone(), scan_file(f, diag)))
            .collect();
        let scans: Vec<Scan> = files
            .iter()
            .filter_map(|f| {
                cache.get_or_scan(f, || fresh.remove(f).unwrap_or_else(|| scan_file(f, diag)))
            })
            .collect();
        cache.save(diag);
        let titles = session_index(&self.root, diag);
        let mut out = fold(scans);
        for s in &mut out {
            if let Some(t) = titles.get(&s.id) {
                s.title = Some(t.clone());
            }
        }
        Ok(out)
    }

    fn load(&self, r: &SessionRef, diag: &Diag) -> Result<Session> {
        let mut s = load_file(&r.path, diag)?;
        if let Some(t) = session_index(&self.root, diag).remove(&s.id) {
            s.title = Some(t);
        }
        let by_parent = self.rollouts_by_parent(&s, &r.path);
        attach_subagents(&mut s, &by_parent, diag, 0);
        Ok(s)
    }

    fn load_live(&self, r: &SessionRef, diag: &Diag, since: Option<u64>) -> Result<LiveLoad> {
        if !super::jsonl::tails_enabled() || parse::is_zst(&r.path) {
            return Ok(LiveLoad::whole(self.load(r, diag)?));
        }
        let mut load = live::load(&r.path, diag, since)?;
        let s = &mut load.session;
        if let Some(t) = session_index(&self.root, diag).remove(&s.id) {
            s.title = Some(t);
        }
        // Subagents are linked by mentions anywhere in the session: a
        // session that has some is loaded whole.
        if self.rollouts_by_parent(s, &r.path).contains_key(&s.id) {
            return Ok(LiveLoad::whole(self.load(r, diag)?));
        }
        Ok(load)
    }
}

/// Forgets the parser states (`watch`) of the rollouts `keep` rejects.
pub(crate) fn retain_tails(keep: &dyn Fn(&Path) -> bool) {
    parse::retain_tails(keep);
    live::retain(keep);
}

/// Loads one rollout (no subagents).
pub fn load_file(path: &Path, diag: &Diag) -> Result<Session> {
    let recs = parse::read(path, false, diag)?;
    Ok(build::build(recs, path, &file_id(path)).session)
}

/// Attaches the rollouts whose parent is `s`, linking each to the call
/// that names its id (the spawn call's result or arguments).
fn attach_subagents(
    s: &mut Session,
    by_parent: &HashMap<String, Vec<PathBuf>>,
    diag: &Diag,
    depth: usize,
) {
    let Some(files) = by_parent.get(&s.id) else {
        return;
    };
    if depth >= MAX_DEPTH {
        return;
    }
    for f in files {
        let recs = match parse::read(f, false, diag) {
            Ok(r) => r,
            Err(e) => {
                diag.warn(
                    f,
                    None,
                    "unreadable",
                    format!("subagent skipped: {}", e.cause_at(f)),
                );
                continue;
            }
        };
        let b = build::build(recs, f, &file_id(f));
        let mut child = b.session;
        if child.id == s.id {
            continue;
        }
        attach_subagents(&mut child, by_parent, diag, depth + 1);
        super::attach_by_mention(
            s,
            child,
            b.meta.agent_role.clone(),
            b.meta.agent_nickname.clone(),
        );
    }
}

/// Recognises a rollout file (`.jsonl` or `.jsonl.zst`), a Codex home
/// (holding `sessions/`), or a folder of rollouts given as a path.
pub fn refs_for_path(path: &Path, diag: &Diag) -> Result<Option<PathMatch>> {
    let source = |root: &Path| -> Box<dyn Source> { Box::new(Codex::new(root.to_path_buf())) };
    if path.is_file() {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let ours = name.ends_with(".jsonl.zst") || (name.ends_with(".jsonl") && sniff(path));
        if !ours {
            return Ok(None);
        }
        let meta = head_meta(path).unwrap_or_default();
        let summary = SessionSummary {
            agent: Agent::Codex,
            id: meta.id.clone().unwrap_or_else(|| file_id(path)),
            title: None,
            project: meta.cwd.clone(),
            created: meta.time,
            updated: None,
            messages: 0,
            path: path.to_path_buf(),
            subagents: 0,
        };
        // The store this rollout lives in, for titles and subagents.
        let root = path
            .ancestors()
            .find(|a| {
                a.file_name()
                    .is_some_and(|n| n == "sessions" || n == "archived_sessions")
            })
            .and_then(Path::parent)
            .unwrap_or_else(|| path.parent().unwrap_or(Path::new(".")));
        return Ok(Some((source(root), vec![summary])));
    }
    if !path.is_dir() {
        return Ok(None);
    }
    let store = Codex::new(path.to_path_buf());
    if store.exists() {
        let found = store.discover(diag)?;
        return Ok(Some((Box::new(store), found)));
    }
    let files = rollout_files(path, 4);
    if files.is_empty() {
        return Ok(None);
    }
    let scans = files.iter().map(|f| scan_file(f, diag)).collect();
    Ok(Some((source(path), fold(scans))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_file_names() {
        assert_eq!(
            file_id(Path::new(
                "rollout-2025-10-29T00-59-38-019a2d7a-41c4-78b1-b7cc-a45d62a89cd5.jsonl"
            )),
            "019a2d7a-41c4-78b1-b7cc-a45d62a89cd5"
        );
        assert_eq!(
            file_id(Path::new(
                "rollout-2025-10-29T00-59-38-019a2d7a-41c4-78b1-b7cc-a45d62a89cd5.jsonl.zst"
            )),
            "019a2d7a-41c4-78b1-b7cc-a45d62a89cd5"
        );
        assert_eq!(file_id(Path::new("rollout-x.jsonl")), "x");
        assert_eq!(file_id(Path::new("other.jsonl")), "other");
    }

    #[test]
    fn archives_yield_to_their_expanded_copy() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        for n in [
            "rollout-a.jsonl",
            "rollout-a.jsonl.zst",
            "rollout-b.jsonl.zst",
            "notes.jsonl",
        ] {
            std::fs::write(d.join(n), b"").unwrap();
        }
        let names: Vec<String> = rollout_files(d, 1)
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["rollout-a.jsonl", "rollout-b.jsonl.zst"]);
    }
}
