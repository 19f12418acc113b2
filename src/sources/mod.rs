//! Agent stores. One module per agent, behind the [`Source`] trait.

pub mod antigravity;
pub mod claude_code;
pub mod codex;
pub mod gemini;
pub mod jsonl;
pub mod list_cache;
pub mod opencode;

use crate::diag::Diag;
use crate::error::Result;
use crate::model::{Agent, Message, Session, SessionSummary};
use std::path::{Path, PathBuf};

/// Points at one session in a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRef {
    pub agent: Agent,
    pub id: String,
    /// The file, database or export the session is read from.
    pub path: PathBuf,
}

/// One agent's store.
pub trait Source: Send + Sync {
    fn agent(&self) -> Agent;

    /// Where the store lives, for messages.
    fn location(&self) -> String;

    /// Whether the store exists on disk.
    fn exists(&self) -> bool;

    /// Lists the main sessions (subagents are folded into their parents),
    /// reading only what a listing needs.
    fn discover(&self, diag: &Diag) -> Result<Vec<SessionSummary>>;

    /// Loads one session, with its subagents.
    fn load(&self, r: &SessionRef, diag: &Diag) -> Result<Session>;

    /// Loads one session for `watch`, which holds what the load numbered
    /// `since` returned: a source that can tell which messages are the
    /// same as then returns only the others (see [`LiveLoad`]).
    fn load_live(&self, r: &SessionRef, diag: &Diag, since: Option<u64>) -> Result<LiveLoad> {
        let _ = since;
        Ok(LiveLoad::whole(self.load(r, diag)?))
    }
}

/// A session loaded for `watch` ([`Source::load_live`]).
#[derive(Debug)]
pub struct LiveLoad {
    /// The session; with `unchanged`, only the messages after the
    /// unchanged ones.
    pub session: Session,
    pub unchanged: Option<Unchanged>,
    /// This load's number, for the next load's `since` (none: the next
    /// load returns the whole session).
    pub generation: Option<u64>,
}

/// The first `prefix` messages of a session are those of the load
/// numbered `base`, and are left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unchanged {
    pub base: u64,
    pub prefix: usize,
}

impl LiveLoad {
    /// A whole session, with no number.
    pub fn whole(session: Session) -> LiveLoad {
        LiveLoad {
            session,
            unchanged: None,
            generation: None,
        }
    }
}

/// A new load number, unique in this process.
pub fn next_generation() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// What a source that keeps a folded session for `watch` (every message,
/// shown or not, at a fixed place) has served of it: the number of the
/// last load served and the first message that changed since.
#[derive(Debug, Default, Clone)]
pub(crate) struct Served {
    /// The number of the last load served (0: none).
    number: u64,
    /// The first kept message that changed since then.
    changed: usize,
}

impl Served {
    /// Notes that the kept messages from `i` on may have changed.
    pub fn touch(&mut self, i: usize) {
        self.changed = self.changed.min(i);
    }

    /// The first kept message that may have changed since the last load
    /// served (0 before any).
    pub fn changed(&self) -> usize {
        self.changed
    }

    /// The load of `shell` with the kept `messages` (in order; None: not
    /// shown): only those from the first changed one on when the caller
    /// holds the last load served (`since`), else all of them.
    pub fn serve<'a>(
        &mut self,
        mut shell: Session,
        messages: impl Iterator<Item = Option<&'a Message>>,
        since: Option<u64>,
    ) -> LiveLoad {
        let delta = self.number != 0 && since == Some(self.number);
        let from = if delta { self.changed } else { 0 };
        let (mut prefix, mut len) = (0, 0);
        for (i, m) in messages.enumerate() {
            len = i + 1;
            match m {
                Some(_) if i < from => prefix += 1,
                Some(m) => shell.messages.push(m.clone()),
                None => {}
            }
        }
        let generation = next_generation();
        let unchanged = delta.then_some(Unchanged {
            base: self.number,
            prefix,
        });
        self.number = generation;
        self.changed = len;
        LiveLoad {
            session: shell,
            unchanged,
            generation: Some(generation),
        }
    }
}

/// Where the agents' stores are.
#[derive(Debug, Clone, Default)]
pub struct Stores {
    /// Claude Code root (`$CLAUDE_CONFIG_DIR` or `~/.claude`).
    pub claude_root: Option<PathBuf>,
    /// OpenCode data directory (`$XDG_DATA_HOME/opencode` or
    /// `~/.local/share/opencode`).
    pub opencode_data: Option<PathBuf>,
    /// `$OPENCODE_DB`, when set.
    pub opencode_db: Option<PathBuf>,
    /// Codex home (`$CODEX_HOME` or `~/.codex`).
    pub codex_root: Option<PathBuf>,
    /// Gemini CLI's folder (`$GEMINI_CLI_HOME/.gemini` or `~/.gemini`);
    /// Antigravity CLI keeps its transcripts in `antigravity-cli/` inside.
    pub gemini_root: Option<PathBuf>,
    /// Where listing caches live (sharegen's cache dir).
    pub cache_dir: Option<PathBuf>,
}

impl Stores {
    /// Resolves the store locations from the environment.
    pub fn from_env() -> Stores {
        let env = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let home = dirs::home_dir();
        let claude_root =
            env("CLAUDE_CONFIG_DIR").or_else(|| home.as_ref().map(|h| h.join(".claude")));
        let opencode_data = env("XDG_DATA_HOME")
            .map(|d| d.join("opencode"))
            .or_else(|| home.as_ref().map(|h| h.join(".local/share/opencode")));
        let opencode_db = env("OPENCODE_DB").map(|p| match &opencode_data {
            Some(data) if p.is_relative() => data.join(p),
            _ => p,
        });
        let codex_root = env("CODEX_HOME").or_else(|| home.as_ref().map(|h| h.join(".codex")));
        let gemini_root = env("GEMINI_CLI_HOME")
            .or_else(|| home.clone())
            .map(|h| h.join(".gemini"));
        Stores {
            claude_root,
            opencode_data,
            opencode_db,
            codex_root,
            gemini_root,
            cache_dir: None,
        }
    }

    /// The sources for these stores, in a fixed order.
    pub fn sources(&self) -> Vec<Box<dyn Source>> {
        let mut v: Vec<Box<dyn Source>> = Vec::new();
        if let Some(r) = &self.claude_root {
            v.push(Box::new(
                claude_code::ClaudeCode::new(r.clone()).with_cache(self.cache_dir.clone()),
            ));
        }
        if let Some(d) = &self.opencode_data {
            v.push(Box::new(opencode::OpenCode::new(
                d.clone(),
                self.opencode_db.clone(),
            )));
        }
        if let Some(r) = &self.codex_root {
            v.push(Box::new(
                codex::Codex::new(r.clone()).with_cache(self.cache_dir.clone()),
            ));
        }
        if let Some(r) = &self.gemini_root {
            v.push(Box::new(
                gemini::Gemini::new(r.clone()).with_cache(self.cache_dir.clone()),
            ));
            v.push(Box::new(
                antigravity::Antigravity::new(r.join("antigravity-cli"))
                    .with_cache(self.cache_dir.clone()),
            ));
        }
        v
    }
}

/// A source and the sessions found at a path the user gave.
pub type PathMatch = (Box<dyn Source>, Vec<SessionSummary>);

/// The session of a file given as a path, read whole to list it (Gemini
/// CLI and Antigravity CLI files): held by the source made for that file
/// for the load that follows, so that an export reads the file once.
#[derive(Default)]
pub(crate) struct Held(std::sync::Mutex<Option<(PathBuf, Session)>>);

impl Held {
    pub fn new(path: &Path, session: Session) -> Held {
        Held(std::sync::Mutex::new(Some((path.to_path_buf(), session))))
    }

    /// The session held for `path`, once. Whatever is held goes: it is
    /// never served to a later load, which must read the file as it is then.
    pub fn take(&self, path: &Path) -> Option<Session> {
        let held = self.0.lock().unwrap_or_else(|e| e.into_inner()).take();
        held.filter(|(p, _)| p == path).map(|(_, s)| s)
    }

    /// Drops what is held.
    pub fn clear(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take();
    }
}

/// Loads a session given as a path, without a store: a Claude Code
/// `.jsonl` file, an OpenCode database, data directory, JSON store or
/// `opencode export` file, a Codex rollout, a Gemini CLI chat file, an
/// Antigravity CLI transcript, or any of these agents' folders. Returns `None` when the path is not a session
/// sharegen recognises.
pub fn refs_for_path(path: &Path, diag: &Diag) -> Result<Option<PathMatch>> {
    // Codex before Claude Code: both write `.jsonl`, and Claude Code takes
    // any `.jsonl` it is given.
    if let Some(found) = codex::refs_for_path(path, diag)? {
        return Ok(Some(found));
    }
    // Gemini before OpenCode: both read `.json` files given as paths.
    if let Some(found) = gemini::refs_for_path(path, diag)? {
        return Ok(Some(found));
    }
    if let Some(found) = antigravity::refs_for_path(path, diag)? {
        return Ok(Some(found));
    }
    if let Some(found) = claude_code::refs_for_path(path, diag)? {
        return Ok(Some(found));
    }
    if let Some(found) = opencode::refs_for_path(path, diag)? {
        return Ok(Some(found));
    }
    Ok(None)
}

/// The source that reads the session `id` found at `path` (see
/// [`refs_for_path`]); Gemini CLI and Antigravity CLI files, and OpenCode
/// databases, are recognised without being read whole.
pub fn source_for_session(path: &Path, id: &str, diag: &Diag) -> Result<Option<Box<dyn Source>>> {
    for quick in [
        gemini::quick_source,
        antigravity::quick_source,
        opencode::quick_source,
    ] {
        if let Some(found) = quick(path, id) {
            return Ok(found);
        }
    }
    Ok(refs_for_path(path, diag)?
        .filter(|(_, found)| found.iter().any(|s| s.id == id))
        .map(|(source, _)| source))
}

/// The warning kinds that say a line (or file) of a session could not be
/// read at all.
const UNREADABLE: [&str; 3] = ["malformed", "truncated", "not-object"];

/// Fails a loaded session that has nothing in it because none of what its
/// files hold could be read (a file that is not a transcript, or one cut off
/// in its first line): an empty page, written with exit code 0, would hide
/// that. A session whose files hold nothing at all is an empty session, not
/// an error.
pub fn check_readable(session: &Session, diag: &Diag) -> Result<()> {
    if !session.messages.is_empty() || !session.subagents.is_empty() {
        return Ok(());
    }
    for path in &session.source_paths {
        let bad: u64 = UNREADABLE.iter().map(|k| diag.count(path, k)).sum();
        if bad == 0 {
            continue;
        }
        let first = diag
            .warnings()
            .into_iter()
            .filter(|w| &w.path == path && UNREADABLE.contains(&w.kind.as_str()))
            .filter_map(|w| w.line)
            .min();
        let s = if bad == 1 { "" } else { "s" };
        return Err(crate::Error::parse(
            path,
            match first {
                Some(l) => format!(
                    "no message could be read: {bad} line{s} could not be parsed, the first at line {l}"
                ),
                None => format!("no message could be read: {bad} part{s} could not be parsed"),
            },
        ));
    }
    Ok(())
}

/// Forgets the incremental parser states (see [`jsonl::Tails`]) of the
/// files `keep` rejects.
pub fn retain_tails(keep: impl Fn(&Path) -> bool) {
    claude_code::retain_tails(&keep);
    codex::retain_tails(&keep);
    gemini::retain_tails(&keep);
    antigravity::retain_tails(&keep);
    opencode::retain_live(&keep);
}

/// The first line of a prompt, shortened to a title, as its text reads:
/// without Markdown's marks (`**quire**` is "quire"), terminal escapes or
/// control characters.
pub fn title_from_prompt(p: &str) -> String {
    let line = p.trim().lines().next().unwrap_or("").trim();
    let text = crate::render::markdown::plain_text(line);
    // What Markdown reads as no text at all (`---`, `#`) keeps the line.
    let text = if text.is_empty() { line } else { &text };
    // A prompt may hold terminal escapes (pasted coloured output).
    let text: String = crate::render::ansi::strip_ansi(text)
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    let mut t: String = text.chars().take(100).collect();
    if text.chars().count() > 100 {
        t.push('…');
    }
    t
}

/// Attaches `child` to `parent` as a subagent, linked to the first tool
/// call of `parent` that names the child's id in its input or output (and
/// is not linked yet).
pub fn attach_by_mention(
    parent: &mut Session,
    child: Session,
    agent_type: Option<String>,
    description: Option<String>,
) {
    let mut link = None;
    'find: for m in &mut parent.messages {
        for p in &mut m.parts {
            if let crate::model::Part::ToolCall(c) = p
                && c.extras.child_session.is_none()
                && (c.output.as_deref().is_some_and(|o| o.contains(&child.id))
                    || c.input.to_string().contains(&child.id))
            {
                c.extras.child_session = Some(child.id.clone());
                link = Some(c.id.clone());
                break 'find;
            }
        }
    }
    parent.subagents.push(crate::model::Subagent {
        tool_call_id: link,
        agent_type,
        description,
        session: Box::new(child),
    });
}

/// The files under `tests/fixtures/<dir>` whose names end in `.<ext>`, at
/// any depth, in a fixed order (tests).
#[cfg(test)]
pub(crate) fn fixture_files(dir: &str, ext: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir);
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(&root)
        .into_iter()
        .filter_map(|e| e.ok())
        .map(|e| e.path().to_path_buf())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_read_as_text() {
        for (prompt, title) in [
            (
                "Explain the **quire** layout, please.\nMore",
                "Explain the quire layout, please.",
            ),
            (
                "# Fix `parse()` in [the reader](http://x)",
                "Fix parse() in the reader",
            ),
            ("Why is <div> escaped?", "Why is <div> escaped?"),
            ("---", "---"),
            ("2 * 3 = 6", "2 * 3 = 6"),
            (
                "Title \u{1b}[31mRED\u{1b}[0m\u{1b}]0;PWNED\u{7}",
                "Title RED",
            ),
        ] {
            assert_eq!(title_from_prompt(prompt), title, "{prompt}");
        }
        let long = "word ".repeat(40);
        let t = title_from_prompt(&long);
        assert_eq!(t.chars().count(), 101);
        assert!(t.ends_with('…'));
    }

    #[test]
    fn a_held_session_is_served_once_and_only_for_its_file() {
        let session = |id: &str| Session::new(Agent::Gemini, id);
        let held = Held::new(Path::new("a.jsonl"), session("a"));
        assert_eq!(
            held.take(Path::new("a.jsonl")).map(|s| s.id),
            Some("a".into())
        );
        assert!(held.take(Path::new("a.jsonl")).is_none());
        let held = Held::new(Path::new("a.jsonl"), session("a"));
        assert!(held.take(Path::new("b.jsonl")).is_none());
        assert!(
            held.take(Path::new("a.jsonl")).is_none(),
            "kept after another load"
        );
        let held = Held::new(Path::new("a.jsonl"), session("a"));
        held.clear();
        assert!(held.take(Path::new("a.jsonl")).is_none());
    }
}
