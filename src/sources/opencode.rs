//! OpenCode: `$XDG_DATA_HOME/opencode` or `~/.local/share/opencode` on
//! every OS.
//!
//! Stores, by generation (G0 – G3, oldest first, as the module docs below
//! name them):
//!
//! - `opencode*.db` (or `$OPENCODE_DB`): SQLite, 1.2+ tables and 2.x
//!   tables ([`db`]), opened read-only;
//! - `storage/`: the JSON file store of v0.6 – v1.1, and the legacy
//!   per-project `project/<slug>/storage/` ([`storage`]);
//! - `opencode export` files given as a path ([`export`]).
//!
//! Sessions are united by id across every database and JSON store. When
//! one id is in several, a database copy wins over the JSON store, the JSON
//! store over the legacy layout; among databases the most recently updated
//! copy wins. Each session is read from one place only, so nothing is
//! counted twice.
//!
//! Child sessions (`parentID` set) are subagents: they are folded into
//! their parent and are not listed on their own, unless their parent is
//! missing from every store. A `task` call names its child in
//! `metadata.sessionId`; children no call names are attached without a
//! tool call id.
//!
//! `SessionSummary::path` (and so `SessionRef::path`) is the database
//! file, the JSON store directory or the export file the session is read
//! from; [`OpenCode::load`](Source::load) dispatches on it.

mod convert;
mod db;
mod export;
mod live;
mod storage;
mod tools;
mod value;

use super::{LiveLoad, SessionRef, Source};
use crate::diag::Diag;
use crate::error::{Error, Result};
use crate::model::{Agent, Session, SessionSummary, Subagent};
use convert::Built;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use storage::Layout;
use value::{text_at, time_field, time_ms};

/// What [`refs_for_path`] finds: a source and the sessions at the path.
type Found = Option<super::PathMatch>;

/// How deep subagents of subagents are followed.
const MAX_DEPTH: usize = 16;

const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";

/// A listed session: its summary and parent.
#[derive(Debug, Clone)]
struct Listed {
    summary: SessionSummary,
    parent: Option<String>,
}

impl Listed {
    /// A listing row from a Session.Info record.
    fn new(id: &str, info: &Value, messages: u64, path: &Path) -> Listed {
        Listed {
            summary: SessionSummary {
                agent: Agent::Opencode,
                id: id.to_string(),
                title: text_at(info, "title").map(str::to_string),
                project: text_at(info, "directory").map(str::to_string),
                created: time_field(info, "created").and_then(time_ms),
                updated: time_field(info, "updated").and_then(time_ms),
                messages,
                path: path.to_path_buf(),
                subagents: 0,
            },
            parent: text_at(info, "parentID")
                .filter(|p| *p != id)
                .map(str::to_string),
        }
    }
}

/// One place sessions are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Backend {
    Db(PathBuf),
    Json(PathBuf, Layout),
    Export(PathBuf),
}

impl Backend {
    /// The backend a session path points at: a JSON store directory, an
    /// SQLite file, or an export file.
    fn for_path(path: &Path) -> Result<Backend> {
        if path.is_dir() {
            return Layout::of(path)
                .map(|l| Backend::Json(path.to_path_buf(), l))
                .ok_or_else(|| Error::parse(path, "not an OpenCode JSON store"));
        }
        if is_sqlite(path)? {
            Ok(Backend::Db(path.to_path_buf()))
        } else {
            Ok(Backend::Export(path.to_path_buf()))
        }
    }

    fn path(&self) -> &Path {
        match self {
            Backend::Db(p) | Backend::Json(p, _) | Backend::Export(p) => p,
        }
    }

    /// Preference when a session id is in several backends.
    fn rank(&self) -> u8 {
        match self {
            Backend::Db(_) => 3,
            Backend::Json(_, Layout::Current) => 2,
            Backend::Json(_, Layout::Legacy) => 1,
            Backend::Export(_) => 0,
        }
    }

    /// The sessions; `counts`: with their message counts (a database
    /// counts every session's rows for them).
    fn list(&self, counts: bool, diag: &Diag) -> Result<Vec<Listed>> {
        match self {
            Backend::Db(p) => db::Db::open(p)?.list(counts),
            Backend::Json(p, _) => storage::list(p, diag),
            Backend::Export(p) => export::list(p),
        }
    }
}

/// Whether the file starts with the SQLite header.
fn is_sqlite(path: &Path) -> Result<bool> {
    let mut head = [0u8; 16];
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(path, e)),
        }
    }
    Ok(n == head.len() && head == SQLITE_MAGIC)
}

/// Every session of a source, united by id.
struct Catalog {
    entries: HashMap<String, (Listed, Backend)>,
    children: HashMap<String, Vec<String>>,
}

impl Catalog {
    fn build(backends: &[Backend], strict: bool, counts: bool, diag: &Diag) -> Result<Catalog> {
        let mut lists = Vec::with_capacity(backends.len());
        for b in backends {
            match b.list(counts, diag) {
                Ok(l) => lists.push((b, l)),
                Err(e) if !strict => {
                    diag.warn(
                        b.path(),
                        None,
                        "unreadable-store",
                        format!("skipped: {}", e.cause_at(b.path())),
                    );
                }
                Err(e) => return Err(e),
            }
        }
        Ok(Catalog::of(lists))
    }

    /// The catalog of each backend's listing.
    fn of<'a>(lists: impl IntoIterator<Item = (&'a Backend, Vec<Listed>)>) -> Catalog {
        let mut entries: HashMap<String, (Listed, Backend)> = HashMap::new();
        for (b, listed) in lists {
            for l in listed {
                let better = match entries.get(&l.summary.id) {
                    None => true,
                    Some((old, ob)) => {
                        b.rank() > ob.rank()
                            || (b.rank() == ob.rank() && l.summary.updated > old.summary.updated)
                    }
                };
                if better {
                    entries.insert(l.summary.id.clone(), (l, b.clone()));
                }
            }
        }
        let mut children: HashMap<String, Vec<String>> = HashMap::new();
        for (id, (l, _)) in &entries {
            if let Some(p) = l.parent.as_ref().filter(|p| entries.contains_key(*p)) {
                children.entry(p.clone()).or_default().push(id.clone());
            }
        }
        for kids in children.values_mut() {
            kids.sort_by(|a, b| {
                let key = |id: &String| (entries[id].0.summary.created, id.clone());
                key(a).cmp(&key(b))
            });
        }
        Catalog { entries, children }
    }

    /// Whether a session folds into a parent: its parent is known and the
    /// session is not on a cycle of parents (broken data; every session
    /// on such a cycle stays listed).
    fn is_child(&self, l: &Listed) -> bool {
        let id = l.summary.id.as_str();
        let mut seen: HashSet<&str> = HashSet::new();
        let mut next = l.parent.as_deref();
        let mut first = true;
        while let Some(p) = next {
            let Some((parent, _)) = self.entries.get(p) else {
                return !first;
            };
            if p == id {
                return false;
            }
            if !seen.insert(p) {
                return true;
            }
            first = false;
            next = parent.parent.as_deref();
        }
        !first
    }

    /// Number of sessions below `id`, at any depth.
    fn descendants(&self, id: &str) -> u64 {
        let mut seen: HashSet<&str> = HashSet::from([id]);
        let mut stack = vec![id];
        let mut n = 0;
        while let Some(cur) = stack.pop() {
            for kid in self.children.get(cur).into_iter().flatten() {
                if seen.insert(kid) {
                    n += 1;
                    stack.push(kid);
                }
            }
        }
        n
    }

    fn top_level(&self) -> Vec<SessionSummary> {
        let mut out: Vec<SessionSummary> = self
            .entries
            .values()
            .filter(|(l, _)| !self.is_child(l))
            .map(|(l, _)| {
                let mut s = l.summary.clone();
                s.subagents = self.descendants(&s.id);
                s
            })
            .collect();
        out.sort_by(|a, b| b.updated.cmp(&a.updated).then_with(|| a.id.cmp(&b.id)));
        out
    }
}

/// The OpenCode store.
pub struct OpenCode {
    data_dir: PathBuf,
    /// `$OPENCODE_DB`, resolved; replaces the `opencode*.db` glob.
    db: Option<PathBuf>,
    /// Set when opened on one database, JSON store or export file.
    fixed: Option<Fixed>,
}

/// A source opened on one path the user gave.
struct Fixed {
    backend: Backend,
    /// Where `session_diff/` is for sessions read from the database.
    diff_store: Option<PathBuf>,
}

impl OpenCode {
    /// The store in `data_dir`. `db` (`$OPENCODE_DB`, resolved) replaces
    /// the `opencode*.db` files of the data directory; `:memory:` means no
    /// database.
    pub fn new(data_dir: PathBuf, db: Option<PathBuf>) -> OpenCode {
        OpenCode {
            data_dir,
            db,
            fixed: None,
        }
    }

    fn fixed(backend: Backend) -> OpenCode {
        let diff_store = match &backend {
            Backend::Db(p) => p
                .parent()
                .map(|d| d.join("storage"))
                .filter(|d| Layout::of(d) == Some(Layout::Current)),
            Backend::Json(p, Layout::Current) => Some(p.clone()),
            _ => None,
        };
        OpenCode {
            data_dir: backend.path().to_path_buf(),
            db: None,
            fixed: Some(Fixed {
                backend,
                diff_store,
            }),
        }
    }

    fn databases(&self) -> Vec<PathBuf> {
        if let Some(db) = &self.db {
            let memory = db.file_name().is_some_and(|n| n == ":memory:");
            return if !memory && db.is_file() {
                vec![db.clone()]
            } else {
                Vec::new()
            };
        }
        let Ok(rd) = std::fs::read_dir(&self.data_dir) else {
            return Vec::new();
        };
        let mut dbs: Vec<PathBuf> = rd
            .filter_map(|e| e.ok())
            .filter(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                name.starts_with("opencode") && name.ends_with(".db")
            })
            .map(|e| e.path())
            .filter(|p| p.is_file() && !crate::fsutil::link_leaves(&self.data_dir, p))
            .collect();
        dbs.sort();
        dbs
    }

    fn backends(&self) -> Vec<Backend> {
        if let Some(f) = &self.fixed {
            return vec![f.backend.clone()];
        }
        let mut v: Vec<Backend> = self.databases().into_iter().map(Backend::Db).collect();
        // Stores are folders of the data directory, not links out of it.
        let within = |p: &Path| crate::fsutil::resolves_within(&self.data_dir, p);
        let store = self.data_dir.join("storage");
        if let Some(layout) = Layout::of(&store).filter(|_| within(&store)) {
            v.push(Backend::Json(store, layout));
        }
        let Ok(rd) = std::fs::read_dir(self.data_dir.join("project")) else {
            return v;
        };
        let mut legacy: Vec<PathBuf> = rd
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("storage"))
            .filter(|p| Layout::of(p) == Some(Layout::Legacy) && within(p))
            .collect();
        legacy.sort();
        v.extend(legacy.into_iter().map(|p| Backend::Json(p, Layout::Legacy)));
        v
    }

    fn diff_store(&self) -> Option<PathBuf> {
        match &self.fixed {
            Some(f) => f.diff_store.clone(),
            None => Some(self.data_dir.join("storage")).filter(|d| d.is_dir()),
        }
    }

    /// Every session of the store; `counts`: with message counts (for
    /// listings; linking subagents needs none).
    fn catalog(&self, counts: bool, diag: &Diag) -> Result<Catalog> {
        Catalog::build(&self.backends(), self.fixed.is_some(), counts, diag)
    }

    /// Reads and converts one session from `backend`.
    fn read_built(&self, backend: &Backend, id: &str, diag: &Diag) -> Result<Option<Built>> {
        let raw = match backend {
            Backend::Db(p) => db::Db::open(p)?.read(id, diag)?,
            Backend::Json(p, _) => storage::read(p, id, diag)?,
            // Converted as it is read (see export::read_built).
            Backend::Export(p) => return export::read_built(p, id, diag),
        };
        let Some(mut raw) = raw else {
            return Ok(None);
        };
        if matches!(backend, Backend::Db(_))
            && let Some(store) = self.diff_store()
            && let Some((file, diffs)) = storage::session_diff(&store, id, diag)
        {
            raw.diffs = Some(diffs);
            raw.source_paths.push(file);
        }
        Ok(Some(convert::build(raw, diag)))
    }

    /// Attaches the subagents of a converted session: first the children
    /// its `task` calls name, then other sessions whose parent it is.
    fn link(
        &self,
        built: Built,
        catalog: &Catalog,
        visited: &mut HashSet<String>,
        depth: usize,
        diag: &Diag,
    ) -> Session {
        let Built {
            mut session, tasks, ..
        } = built;
        if depth >= MAX_DEPTH {
            return session;
        }
        for t in tasks {
            if visited.contains(&t.child) {
                continue;
            }
            if let Some((child, agent)) = self.load_child(&t.child, catalog, visited, depth, diag) {
                session.subagents.push(Subagent {
                    tool_call_id: Some(t.call_id),
                    agent_type: t.agent_type.or(agent),
                    description: t.description,
                    session: Box::new(child),
                });
            }
        }
        let kids = catalog
            .children
            .get(&session.id)
            .cloned()
            .unwrap_or_default();
        for kid in kids {
            if visited.contains(&kid) {
                continue;
            }
            if let Some((child, agent)) = self.load_child(&kid, catalog, visited, depth, diag) {
                session.subagents.push(Subagent {
                    tool_call_id: None,
                    agent_type: agent,
                    description: child.title.clone(),
                    session: Box::new(child),
                });
            }
        }
        session
    }

    fn load_child(
        &self,
        id: &str,
        catalog: &Catalog,
        visited: &mut HashSet<String>,
        depth: usize,
        diag: &Diag,
    ) -> Option<(Session, Option<String>)> {
        let (_, backend) = catalog.entries.get(id)?;
        visited.insert(id.to_string());
        match self.read_built(backend, id, diag) {
            Ok(Some(built)) => {
                let agent = built.agent.clone();
                Some((self.link(built, catalog, visited, depth + 1, diag), agent))
            }
            Ok(None) => None,
            Err(e) => {
                diag.warn(
                    backend.path(),
                    None,
                    "subagent",
                    format!("skipped subagent session {id}: {e}"),
                );
                None
            }
        }
    }
}

impl Source for OpenCode {
    fn agent(&self) -> Agent {
        Agent::Opencode
    }

    fn location(&self) -> String {
        match (&self.fixed, &self.db) {
            (Some(f), _) => f.backend.path().display().to_string(),
            (None, Some(db)) => format!("{} ({})", self.data_dir.display(), db.display()),
            (None, None) => self.data_dir.display().to_string(),
        }
    }

    fn exists(&self) -> bool {
        !self.backends().is_empty()
    }

    fn discover(&self, diag: &Diag) -> Result<Vec<SessionSummary>> {
        Ok(self.catalog(true, diag)?.top_level())
    }

    fn load(&self, r: &SessionRef, diag: &Diag) -> Result<Session> {
        let backend = Backend::for_path(&r.path)?;
        let built =
            self.read_built(&backend, &r.id, diag)?
                .ok_or_else(|| Error::UnknownSession {
                    query: r.id.clone(),
                    searched: r.path.display().to_string(),
                })?;
        // An export file holds one session: nothing else in it to link,
        // and listing it again would read the whole file once more.
        let catalog = match (&self.fixed, &backend) {
            (
                Some(Fixed {
                    backend: Backend::Export(_),
                    ..
                }),
                Backend::Export(_),
            ) => Catalog::of([]),
            _ => self.catalog(false, diag)?,
        };
        let mut visited = HashSet::from([r.id.clone()]);
        Ok(self.link(built, &catalog, &mut visited, 0, diag))
    }

    /// A session in a 1.2+ database is read incrementally (see [`live`]);
    /// its subagents are read whole.
    fn load_live(&self, r: &SessionRef, diag: &Diag, since: Option<u64>) -> Result<LiveLoad> {
        let db = match Backend::for_path(&r.path)? {
            Backend::Db(p) if super::jsonl::tails_enabled() => p,
            _ => return Ok(LiveLoad::whole(self.load(r, diag)?)),
        };
        let diffs = || {
            let store = self.diff_store()?;
            storage::session_diff(&store, &r.id, diag)
        };
        let Some(live::Live { load, agent, tasks }) = live::load(&db, &r.id, diffs, diag, since)?
        else {
            return Ok(LiveLoad::whole(self.load(r, diag)?));
        };
        let catalog = self.catalog(false, diag)?;
        let mut visited = HashSet::from([r.id.clone()]);
        let built = Built {
            session: load.session,
            agent,
            tasks,
        };
        let session = self.link(built, &catalog, &mut visited, 0, diag);
        Ok(LiveLoad { session, ..load })
    }
}

/// Forgets `watch`'s states (see [`live`]) of the databases `keep`
/// rejects, and of sessions not loaded for an hour.
pub(crate) fn retain_live(keep: &dyn Fn(&Path) -> bool) {
    live::retain(keep);
}

/// How many message rows `watch`'s last load of session `id` from the
/// database at `path` read (tests).
#[doc(hidden)]
pub fn live_rows_read(path: &Path, id: &str) -> Option<usize> {
    live::rows_read(path, id)
}

/// Makes `watch`'s next load of session `id` from the database at `path`
/// stamp every row, not only the last ones (tests).
#[doc(hidden)]
pub fn live_recheck_next(path: &Path, id: &str) {
    live::recheck_next(path, id);
}

/// Whether the OpenCode database at `path` holds session `id`, told from
/// its session row without listing the database (`watch` checks this at
/// every rebuild): its source when it does, `Some(None)` when it does not,
/// `None` when `path` is no OpenCode database.
pub fn quick_source(path: &Path, id: &str) -> Option<Option<Box<dyn Source>>> {
    if !path.is_file() || !is_sqlite(path).ok()? {
        return None;
    }
    let db = db::Db::open(path).ok()?;
    if !db.is_opencode() {
        return None;
    }
    let found = db.info(id).ok()?.is_some();
    drop(db);
    Some(
        found
            .then(|| Box::new(OpenCode::fixed(Backend::Db(path.to_path_buf()))) as Box<dyn Source>),
    )
}

/// Whether `dir` is an OpenCode data directory.
fn is_data_dir(dir: &Path) -> bool {
    let probe = OpenCode::new(dir.to_path_buf(), None);
    !probe.backends().is_empty()
}

/// Recognises an OpenCode data directory, JSON store (or a session file in
/// one), SQLite database or `opencode export` file given as a path.
/// Returns `None` when the path is none of these.
pub fn refs_for_path(path: &Path, diag: &Diag) -> Result<Found> {
    let found = |oc: OpenCode| -> Result<Found> {
        let list = oc.discover(diag)?;
        Ok(Some((Box::new(oc), list)))
    };
    if path.is_dir() {
        if is_data_dir(path) {
            return found(OpenCode::new(path.to_path_buf(), None));
        }
        return match Layout::of(path) {
            Some(layout) => found(OpenCode::fixed(Backend::Json(path.to_path_buf(), layout))),
            None => Ok(None),
        };
    }
    if !path.is_file() {
        return Ok(None);
    }
    if is_sqlite(path)? {
        let db = db::Db::open(path)?;
        if !db.is_opencode() {
            return Ok(None);
        }
        drop(db);
        return found(OpenCode::fixed(Backend::Db(path.to_path_buf())));
    }
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match ext.as_deref() {
        Some("db") => Err(Error::parse(path, "not an SQLite database")),
        Some("json") => {
            if let Some(one) = store_session_file(path, diag)? {
                return Ok(Some(one));
            }
            // Recognised and listed from one reading of the file.
            let Some(listed) = export::listed(path)? else {
                return Ok(None);
            };
            let backend = Backend::Export(path.to_path_buf());
            let found = Catalog::of([(&backend, listed)]).top_level();
            Ok(Some((Box::new(OpenCode::fixed(backend)), found)))
        }
        _ => Ok(None),
    }
}

/// A session file inside a JSON store (`<store>/session/<project>/<id>.json`
/// or, legacy, `<store>/session/info/<id>.json`): the store, listing only
/// that session.
fn store_session_file(path: &Path, diag: &Diag) -> Result<Found> {
    let Some(id) = path.file_stem().map(|s| s.to_string_lossy().into_owned()) else {
        return Ok(None);
    };
    let Some(session_dir) = path.parent().and_then(Path::parent) else {
        return Ok(None);
    };
    if session_dir.file_name().is_none_or(|n| n != "session") {
        return Ok(None);
    }
    let Some(store) = session_dir.parent() else {
        return Ok(None);
    };
    let Some(layout) = Layout::of(store) else {
        return Ok(None);
    };
    let oc = OpenCode::fixed(Backend::Json(store.to_path_buf(), layout));
    let catalog = oc.catalog(true, diag)?;
    let Some((listed, _)) = catalog.entries.get(&id) else {
        return Ok(None);
    };
    let mut summary = listed.summary.clone();
    summary.subagents = catalog.descendants(&id);
    Ok(Some((Box::new(oc), vec![summary])))
}

/// The readers from bytes instead of files, for the fuzz targets in
/// `fuzz/`. Not a stable API.
#[doc(hidden)]
pub mod fuzz {
    use super::{Diag, Path, Session, Value, convert, export, storage, value};

    /// An `opencode export` file's bytes → its session, when they are one,
    /// read as a file given as a path is.
    pub fn export_bytes(bytes: &[u8], diag: &Diag) -> Option<Session> {
        let path = Path::new("(fuzz)/export.json");
        let text = String::from_utf8_lossy(bytes);
        let built = export::built_from_text(path, &text, None, diag).ok()??;
        Some(built.session)
    }

    /// JSON store records → the session they make. `bytes` holds records
    /// separated by 0x1E (which JSON text cannot hold): the session file,
    /// then message files, each followed by its part files. A record with
    /// a `role` starts a message; others are parts of the last message.
    pub fn store_records(bytes: &[u8], diag: &Diag) -> Session {
        let origin = Path::new("(fuzz)/storage");
        let mut chunks = bytes.split(|b| *b == 0x1e);
        let object = |chunk: &[u8]| match value::parse_record(origin, chunk, diag) {
            Some(Value::Object(m)) => Some(m),
            _ => None,
        };
        let info = chunks.next().and_then(object).unwrap_or_default();
        let mut records: Vec<storage::MessageRecords> = Vec::new();
        for (i, chunk) in chunks.enumerate() {
            let Some(record) = object(chunk) else {
                continue;
            };
            if record.contains_key("role") || storage::is_v1_message(&record) {
                records.push((format!("msg_{i:05}"), record, Vec::new()));
            } else if let Some(last) = records.last_mut() {
                last.2.push((format!("prt_{i:05}"), record));
            }
        }
        let raw = storage::assemble("ses_fuzz", info, records, origin);
        convert::build(raw, diag).session
    }
}
