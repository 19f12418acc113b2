//! Claude Code: `$CLAUDE_CONFIG_DIR` or `~/.claude`, sessions at
//! `projects/<dir>/<uuid>.jsonl`, subagents beside them (`agent-*.jsonl`)
//! or under `<uuid>/subagents/` (at any depth, workflows included).

mod fold;
mod harness;
mod list;
mod live;
mod parse;

pub use harness::{is_real_prompt, split_user_text};

use super::{LiveLoad, PathMatch, SessionRef, Source};
use crate::diag::Diag;
use crate::error::Result;
use crate::model::{Agent, Session, SessionSummary};
use std::path::{Path, PathBuf};

pub struct ClaudeCode {
    root: PathBuf,
    cache_dir: Option<PathBuf>,
}

impl ClaudeCode {
    pub fn new(root: PathBuf) -> ClaudeCode {
        ClaudeCode {
            root,
            cache_dir: None,
        }
    }

    /// Keeps the listing cache in `dir`.
    pub fn with_cache(mut self, dir: Option<PathBuf>) -> ClaudeCode {
        self.cache_dir = dir;
        self
    }

    pub fn projects_dir(&self) -> PathBuf {
        self.root.join("projects")
    }
}

impl Source for ClaudeCode {
    fn agent(&self) -> Agent {
        Agent::ClaudeCode
    }

    fn location(&self) -> String {
        self.projects_dir().display().to_string()
    }

    fn exists(&self) -> bool {
        self.projects_dir().is_dir()
    }

    fn discover(&self, diag: &Diag) -> Result<Vec<SessionSummary>> {
        let dir = self.projects_dir();
        if !dir.is_dir() {
            return Ok(Vec::new());
        }
        let mut project_dirs = Vec::new();
        for entry in std::fs::read_dir(&dir).map_err(|e| crate::error::Error::io(&dir, e))? {
            let entry = entry.map_err(|e| crate::error::Error::io(&dir, e))?;
            match entry.file_type() {
                Ok(t) if t.is_dir() => project_dirs.push(entry.path()),
                // A linked project folder is read when it stays inside the
                // store; one that leads out is said, not silently dropped.
                Ok(t) if t.is_symlink() && entry.path().is_dir() => {
                    if crate::fsutil::link_leaves(&dir, &entry.path()) {
                        diag.warn(
                            &entry.path(),
                            None,
                            "link-out",
                            "a symbolic link out of the store: not followed (export or share its sessions by path)",
                        );
                    } else {
                        project_dirs.push(entry.path());
                    }
                }
                _ => {}
            }
        }
        project_dirs.sort();
        list::scan_dirs(&dir, &project_dirs, self.cache_dir.as_deref(), diag)
    }

    fn load(&self, r: &SessionRef, diag: &Diag) -> Result<Session> {
        load_file(&r.path, diag)
    }

    fn load_live(&self, r: &SessionRef, diag: &Diag, since: Option<u64>) -> Result<LiveLoad> {
        if !super::jsonl::tails_enabled() {
            return Ok(LiveLoad::whole(load_file(&r.path, diag)?));
        }
        live::load(&r.path, diag, since)
    }
}

/// Forgets the parser states (`watch`) of the transcripts `keep` rejects.
pub fn retain_tails(keep: &dyn Fn(&Path) -> bool) {
    parse::retain_tails(keep);
    live::retain(keep);
}

/// How the last incremental read of `path` read it (tests, benchmarks).
pub fn last_tail_read(path: &Path) -> Option<super::jsonl::TailRead> {
    live::last_read(path).or_else(|| parse::last_tail_read(path))
}

/// Loads the session in one main transcript file, with its subagents.
pub fn load_file(path: &Path, diag: &Diag) -> Result<Session> {
    parse::load_session(path, diag)
}

/// Parses a transcript held in memory as [`load_file`] parses a file
/// (sidechains become subagents; no other file is read). For the fuzz
/// targets in `fuzz/`; not a stable API.
#[doc(hidden)]
pub fn parse_bytes(bytes: &[u8], diag: &Diag) -> Result<Session> {
    parse::session_from_bytes("fuzz", bytes, diag)
}

/// Recognises a Claude Code session file, project folder, per-session
/// folder or store root given as a path.
pub fn refs_for_path(path: &Path, diag: &Diag) -> Result<Option<PathMatch>> {
    let source = |root: &Path| -> Box<dyn Source> { Box::new(ClaudeCode::new(root.to_path_buf())) };
    if path.is_file() {
        if path.extension().is_some_and(|e| e == "jsonl") {
            return Ok(Some((source(path), vec![list::head_summary(path)])));
        }
        return Ok(None);
    }
    if !path.is_dir() {
        return Ok(None);
    }
    // A store root, or its `projects` folder.
    let root = if path.join("projects").is_dir() {
        Some(path.to_path_buf())
    } else if path.file_name().is_some_and(|n| n == "projects")
        && path
            .parent()
            .is_some_and(|p| p.file_name().is_some_and(|n| n == ".claude"))
    {
        path.parent().map(Path::to_path_buf)
    } else {
        None
    };
    if let Some(root) = root {
        let cc = ClaudeCode::new(root);
        let found = cc.discover(diag)?;
        return Ok(Some((Box::new(cc), found)));
    }
    // A per-session folder `<uuid>/` beside `<uuid>.jsonl`.
    if let (Some(parent), Some(name)) = (path.parent(), path.file_name()) {
        let mut file = name.to_os_string();
        file.push(".jsonl");
        let sibling = parent.join(file);
        if sibling.is_file() {
            return refs_for_path(&sibling, diag);
        }
    }
    // A project folder holding transcripts.
    let has_jsonl = std::fs::read_dir(path)
        .map_err(|e| crate::error::Error::io(path, e))?
        .filter_map(|e| e.ok())
        .any(|e| e.path().extension().is_some_and(|x| x == "jsonl"));
    if has_jsonl {
        let found = list::scan_dirs(path, &[path.to_path_buf()], None, diag)?;
        return Ok(Some((source(path), found)));
    }
    Ok(None)
}
