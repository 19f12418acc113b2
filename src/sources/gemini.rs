//! Gemini CLI: `~/.gemini` (the home folder moves with `$GEMINI_CLI_HOME`),
//! sessions at `tmp/<project>/chats/session-<time>-<id>.json` (before
//! v0.39) or `.jsonl` (v0.39+), subagent sessions at
//! `chats/<parent session id>/<id>.jsonl`.
//!
//! `<project>` is the sha256 of the project path (older) or a slug of its
//! name (v0.29+). The path comes from the folder's `.project_root` marker,
//! else from `projects.json` (`{"projects": {"/abs/path": "slug"}}`, hashed
//! for the older folders). When a session has both a `.json` and a
//! `.jsonl` file (a resumed legacy session), the `.jsonl` wins.

mod parse;

/// Forgets the replay states (`watch`) of the chats `keep` rejects.
pub(crate) fn retain_tails(keep: &dyn Fn(&std::path::Path) -> bool) {
    parse::retain_tails(keep);
}

/// How the last incremental read of `path` read it (tests).
pub fn last_tail_read(path: &std::path::Path) -> Option<super::jsonl::TailRead> {
    parse::last_tail_read(path)
}

use super::list_cache::ListCache;
use super::{Held, LiveLoad, PathMatch, SessionRef, Source};
use crate::diag::Diag;
use crate::error::Result;
use crate::model::{Agent, Session, SessionSummary};
use serde_json::Value;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::io::BufRead;
use std::path::{Path, PathBuf};

const CACHE_FILE: &str = "gemini-list.json";
// 2: titles without Markdown marks.
const CACHE_VERSION: u32 = 2;

pub struct Gemini {
    root: PathBuf,
    cache_dir: Option<PathBuf>,
    held: Held,
}

impl Gemini {
    /// `root` is the `.gemini` folder.
    pub fn new(root: PathBuf) -> Gemini {
        Gemini {
            root,
            cache_dir: None,
            held: Held::default(),
        }
    }

    /// Keeps the listing cache in `dir`.
    pub fn with_cache(mut self, dir: Option<PathBuf>) -> Gemini {
        self.cache_dir = dir;
        self
    }

    fn tmp(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// Project folders with a `chats/` folder.
    fn project_dirs(&self) -> Vec<PathBuf> {
        let Ok(rd) = std::fs::read_dir(self.tmp()) else {
            return Vec::new();
        };
        let mut v: Vec<PathBuf> = rd
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.join("chats").is_dir())
            .collect();
        v.sort();
        v
    }
}

/// Maps project folder names to project paths, from `projects.json`.
struct Projects {
    by_name: HashMap<String, String>,
}

impl Projects {
    fn load(root: &Path, diag: &Diag) -> Projects {
        let mut by_name = HashMap::new();
        let path = root.join("projects.json");
        if let Ok(bytes) = std::fs::read(&path) {
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(v) => {
                    if let Some(map) = v.get("projects").and_then(Value::as_object) {
                        for (project, slug) in map {
                            if let Some(slug) = slug.as_str() {
                                by_name.insert(slug.to_string(), project.clone());
                            }
                            by_name.insert(hash_of(project), project.clone());
                        }
                    }
                }
                Err(e) => diag.warn(&path, None, "malformed", format!("not JSON: {e}")),
            }
        }
        Projects { by_name }
    }

    /// The project path of a `tmp/<name>` folder.
    fn of(&self, dir: &Path) -> Option<String> {
        if let Ok(s) = std::fs::read_to_string(dir.join(".project_root")) {
            let s = s.trim();
            if !s.is_empty() {
                return Some(s.to_string());
            }
        }
        let name = dir.file_name()?.to_str()?;
        self.by_name.get(name).cloned()
    }
}

/// Gemini CLI's project hash: hex sha256 of the project root path.
fn hash_of(project: &str) -> String {
    Sha256::digest(project.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn is_chat_file(p: &Path) -> bool {
    p.extension().is_some_and(|e| e == "json" || e == "jsonl")
}

/// Chat files directly in `chats`, sorted; a `.json` with a `.jsonl` of
/// the same name yields to it.
fn chat_files(chats: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(chats) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file() && is_chat_file(p))
        .collect();
    files.sort();
    let jsonl: HashSet<PathBuf> = files
        .iter()
        .filter(|p| parse::is_jsonl(p))
        .map(|p| p.with_extension(""))
        .collect();
    files.retain(|p| parse::is_jsonl(p) || !jsonl.contains(&p.with_extension("")));
    files
}

fn file_id(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Loads one chat file (no subagents); `project` as resolved from its
/// folder.
fn load_one(path: &Path, project: Option<String>, diag: &Diag) -> Result<Session> {
    let mut s = parse::load(path, &file_id(path), diag)?;
    s.project = project;
    Ok(s)
}

/// The subagent sessions of `id`, whose chats folder is `chats`.
fn subagent_files(chats: &Path, id: &str) -> Vec<PathBuf> {
    let dir = chats.join(id);
    if !dir.is_dir() {
        return Vec::new();
    }
    chat_files(&dir)
}

/// The project of a chat file: its `tmp/<name>` folder's.
fn project_for(path: &Path, projects: &Projects) -> Option<String> {
    let chats = path
        .ancestors()
        .find(|a| a.file_name().is_some_and(|n| n == "chats"))?;
    projects.of(chats.parent()?)
}

/// Lists the sessions in the given project folders.
fn scan(
    dirs: &[PathBuf],
    projects: &Projects,
    cache_dir: Option<&Path>,
    diag: &Diag,
) -> Vec<SessionSummary> {
    let mut cache: ListCache<Option<SessionSummary>> =
        ListCache::open(cache_dir, CACHE_FILE, CACHE_VERSION);
    let mut by_id: HashMap<String, SessionSummary> = HashMap::new();
    for dir in dirs {
        let project = projects.of(dir);
        let chats = dir.join("chats");
        for f in chat_files(&chats) {
            let found = cache.get_or_scan(&f, || match load_one(&f, project.clone(), diag) {
                Ok(s) => Some(SessionSummary::of(&s, &f, 0)),
                Err(e) => {
                    diag.skipped(&f, &e);
                    None
                }
            });
            let Some(Some(mut s)) = found else { continue };
            s.project = project.clone();
            s.subagents = subagent_files(&chats, &s.id).len() as u64;
            // The same session in two files: keep the newer.
            match by_id.get(&s.id) {
                Some(prev) if prev.updated >= s.updated => {}
                _ => {
                    by_id.insert(s.id.clone(), s);
                }
            }
        }
    }
    cache.save(diag);
    let mut out: Vec<SessionSummary> = by_id.into_values().collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

impl Source for Gemini {
    fn agent(&self) -> Agent {
        Agent::Gemini
    }

    fn location(&self) -> String {
        self.tmp().display().to_string()
    }

    fn exists(&self) -> bool {
        self.tmp().is_dir()
    }

    fn discover(&self, diag: &Diag) -> Result<Vec<SessionSummary>> {
        let projects = Projects::load(&self.root, diag);
        Ok(scan(
            &self.project_dirs(),
            &projects,
            self.cache_dir.as_deref(),
            diag,
        ))
    }

    fn load(&self, r: &SessionRef, diag: &Diag) -> Result<Session> {
        let projects = Projects::load(&self.root, diag);
        let read = self.held.take(&r.path);
        load_file_with(&r.path, read, &projects, diag)
    }

    fn load_live(&self, r: &SessionRef, diag: &Diag, since: Option<u64>) -> Result<LiveLoad> {
        // `watch` reads the file as it is at each load.
        self.held.clear();
        let live = match super::jsonl::tails_enabled() && parse::is_jsonl(&r.path) {
            true => parse::load_live(&r.path, &file_id(&r.path), diag, since)?,
            false => None,
        };
        // Subagents are linked by mentions anywhere in the session: a chat
        // that has some is loaded whole.
        let chats = r.path.parent().unwrap_or(Path::new("."));
        match live {
            Some(mut load) if subagent_files(chats, &load.session.id).is_empty() => {
                load.session.project = project_for(&r.path, &Projects::load(&self.root, diag));
                Ok(load)
            }
            _ => Ok(LiveLoad::whole(self.load(r, diag)?)),
        }
    }
}

/// Loads a chat file with its subagents; `read`: the chat, already read
/// (with its project).
fn load_file_with(
    path: &Path,
    read: Option<Session>,
    projects: &Projects,
    diag: &Diag,
) -> Result<Session> {
    let project = project_for(path, projects);
    let mut s = match read {
        Some(s) => s,
        None => load_one(path, project.clone(), diag)?,
    };
    let Some(chats) = path.parent() else {
        return Ok(s);
    };
    for f in subagent_files(chats, &s.id) {
        match load_one(&f, project.clone(), diag) {
            Ok(child) => super::attach_by_mention(&mut s, child, None, None),
            Err(e) => diag.warn(
                &f,
                None,
                "unreadable",
                format!("subagent skipped: {}", e.cause_at(&f)),
            ),
        }
    }
    Ok(s)
}

/// Whether a file is a Gemini CLI chat file, from its start: a `.jsonl`
/// whose first line is the session metadata, or a `.json` record with
/// `sessionId` and `messages`.
fn sniff(path: &Path) -> bool {
    let is_meta = |v: &Value| {
        v.get("sessionId").is_some_and(Value::is_string)
            && (v.get("projectHash").is_some() || v.get("startTime").is_some())
            && v.get("type").is_none()
    };
    if parse::is_jsonl(path) {
        return first_meta(path).is_some_and(|v| is_meta(&v));
    }
    if path.extension().is_some_and(|e| e == "json") {
        let Ok(bytes) = std::fs::read(path) else {
            return false;
        };
        // A chat names its `sessionId`: other JSON files (an `opencode
        // export`, say) are told apart without being parsed.
        if memchr::memmem::find(&bytes, b"\"sessionId\"").is_none() {
            return false;
        }
        // The top level's values as they are in the file: telling a chat
        // needs no JSON tree of its messages.
        let Ok(top) = serde_json::from_slice::<HashMap<String, &RawValue>>(&bytes) else {
            return false;
        };
        let is = |k: &str, open: char| top.get(k).is_some_and(|v| v.get().starts_with(open));
        return is("sessionId", '"')
            && (top.contains_key("projectHash") || top.contains_key("startTime"))
            && !top.contains_key("type")
            && is("messages", '[');
    }
    false
}

/// The first non-blank line of a `.jsonl` chat, parsed (in a chat, its
/// metadata).
fn first_meta(path: &Path) -> Option<Value> {
    let f = std::fs::File::open(path).ok()?;
    for line in std::io::BufReader::new(f).split(b'\n').take(3) {
        let line = line.ok()?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        return serde_json::from_slice::<Value>(&line).ok();
    }
    None
}

/// Whether the `.jsonl` chat at `path` holds session `id`, told from its
/// first line, which names its session, without reading it whole (`watch`
/// checks this at every rebuild): its source when it does, `Some(None)`
/// when it holds another, `None` when `path` is no such chat.
pub fn quick_source(path: &Path, id: &str) -> Option<Option<Box<dyn Source>>> {
    if !(path.is_file() && parse::is_jsonl(path) && sniff(path)) {
        return None;
    }
    let named = first_meta(path).and_then(|m| parse::str_of(&m, "sessionId"));
    Some((named.as_deref() == Some(id)).then(|| {
        Box::new(Gemini::new(
            store_root(path).unwrap_or_else(|| path.to_path_buf()),
        )) as Box<dyn Source>
    }))
}

/// The `.gemini` folder a chat file is in.
fn store_root(path: &Path) -> Option<PathBuf> {
    path.ancestors()
        .find(|a| a.file_name().is_some_and(|n| n == "tmp"))
        .and_then(Path::parent)
        .map(Path::to_path_buf)
}

/// Recognises a chat file, a `.gemini` folder, a `tmp/<project>` folder or
/// a `chats` folder given as a path.
pub fn refs_for_path(path: &Path, diag: &Diag) -> Result<Option<PathMatch>> {
    if path.is_file() {
        if !sniff(path) {
            return Ok(None);
        }
        // The store it lives in, for the project mapping.
        let root = store_root(path);
        let projects = match &root {
            Some(r) => Projects::load(r, diag),
            None => Projects {
                by_name: HashMap::new(),
            },
        };
        let s = load_one(path, project_for(path, &projects), diag)?;
        let subs = path
            .parent()
            .map_or(0, |c| subagent_files(c, &s.id).len() as u64);
        let summary = SessionSummary::of(&s, path, subs);
        let mut source = Gemini::new(root.unwrap_or_else(|| path.to_path_buf()));
        source.held = Held::new(path, s);
        return Ok(Some((Box::new(source), vec![summary])));
    }
    if !path.is_dir() {
        return Ok(None);
    }
    let store = Gemini::new(path.to_path_buf());
    if store.exists() && !store.project_dirs().is_empty() {
        let found = store.discover(diag)?;
        return Ok(Some((Box::new(store), found)));
    }
    // `tmp/<project>` or its `chats` folder.
    let project_dir = if path.file_name().is_some_and(|n| n == "chats") {
        path.parent().map(Path::to_path_buf)
    } else if path.join("chats").is_dir() {
        Some(path.to_path_buf())
    } else {
        None
    };
    let Some(dir) = project_dir else {
        return Ok(None);
    };
    let root = dir
        .parent()
        .filter(|t| t.file_name().is_some_and(|n| n == "tmp"))
        .and_then(Path::parent)
        .map(Path::to_path_buf);
    let projects = match &root {
        Some(r) => Projects::load(r, diag),
        None => Projects {
            by_name: HashMap::new(),
        },
    };
    let has_chats = chat_files(&dir.join("chats")).iter().any(|f| sniff(f));
    if !has_chats {
        return Ok(None);
    }
    let found = scan(std::slice::from_ref(&dir), &projects, None, diag);
    let source = Gemini::new(root.unwrap_or(dir));
    Ok(Some((Box::new(source), found)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_folders_map_by_marker_slug_or_hash() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::write(
            root.join("projects.json"),
            r#"{"projects":{"/home/u/myrepo":"myrepo","/home/u/old":"old"}}"#,
        )
        .unwrap();
        let projects = Projects::load(root, &Diag::silent());
        let slug = root.join("tmp/myrepo");
        let hashed = root.join(format!("tmp/{}", hash_of("/home/u/old")));
        let marked = root.join("tmp/other");
        for d in [&slug, &hashed, &marked] {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(marked.join(".project_root"), "/srv/other\n").unwrap();
        assert_eq!(projects.of(&slug).as_deref(), Some("/home/u/myrepo"));
        assert_eq!(projects.of(&hashed).as_deref(), Some("/home/u/old"));
        assert_eq!(projects.of(&marked).as_deref(), Some("/srv/other"));
        assert_eq!(projects.of(&root.join("tmp/nope")), None);
    }
}
