//! The static site: every allowlisted, unexpired share rendered into
//! `s/<share_id>/index.html` (and `session.json`), an index, `404.html`,
//! `.nojekyll`, `robots.txt`, and `sharegen-manifest.json` mapping each path
//! to its sha256, size and share id. The publishers sync from the manifest.
//!
//! Rebuilds are incremental: a share whose sources (files, their sizes and
//! mtimes) and render settings are unchanged is not loaded again, and a
//! file whose bytes are unchanged is not rewritten.

use crate::cli::Format;
use crate::diag::Diag;
use crate::error::{Error, IoContext, Result};
use crate::fsutil::{AtomicFile, Written, output_path, sha256_hex};
use crate::model::{Agent, Session};
use crate::render::Renderer;
use crate::share::{Share, ShareList};
use crate::sources::{LiveLoad, SessionRef, Stores};
use chrono::{DateTime, Utc};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

mod live;
pub mod page;
pub use live::LiveCache;

pub const MANIFEST: &str = "sharegen-manifest.json";
const STATE: &str = ".sharegen-build.json";
pub const MANIFEST_VERSION: u32 = 1;
/// How the index lists a protected share.
pub const PROTECTED_TITLE: &str = "Protected";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub sha256: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_id: Option<String>,
    /// Who wrote the file to a publish target (see
    /// [`crate::home::Home::publisher_id`]); only in published manifests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    /// On a share's page: its row in the site's index, so that a publisher
    /// can list the shares other publishers put on the same target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<IndexRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    pub generator: String,
    /// Path relative to the site root → entry.
    pub files: BTreeMap<String, ManifestEntry>,
}

impl Manifest {
    pub fn read(path: &Path) -> Result<Option<Manifest>> {
        match std::fs::read(path) {
            Ok(b) => serde_json::from_slice(&b)
                .map(Some)
                .map_err(|e| Error::parse(path, format!("not a sharegen manifest: {e}"))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(path, e)),
        }
    }
}

/// What the last build saw of each share, to skip unchanged ones.
#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    shares: BTreeMap<String, ShareState>,
    /// Built by `watch` (live pages): `build` and `publish` keep that.
    #[serde(default)]
    live: bool,
}

/// Whether the site in `out` was last built live (by `watch`): `build` and
/// `publish` then build live pages too, rather than rewrite every page as
/// static and back at watch's next rebuild.
pub fn built_live(out: &Path) -> bool {
    std::fs::read(out.join(STATE))
        .ok()
        .and_then(|b| serde_json::from_slice::<State>(&b).ok())
        .is_some_and(|s| s.live)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ShareState {
    key: String,
    /// Files (and folders) whose size and mtime decide whether to reload.
    watched: Vec<PathBuf>,
    title: String,
    agent: Agent,
    updated: Option<DateTime<Utc>>,
    page_size: u64,
    /// An encrypted page: the index shows no title, agent or date.
    #[serde(default)]
    protected: bool,
}

/// Site settings.
#[derive(Debug, Clone)]
pub struct SiteOptions {
    pub out: PathBuf,
    pub session_json: bool,
    pub index_page: bool,
    /// Let search engines index the site.
    pub index_by_robots: bool,
    /// Pages follow their sessions (`watch`): each share also gets a
    /// `version.json` that its page polls.
    pub live: bool,
    /// Applied to every session before it is rendered (None: `--no-redact`).
    pub redactor: Option<std::sync::Arc<crate::redact::Redactor>>,
    /// What `watch` keeps between rebuilds (see [`live`]); None for a
    /// one-off build.
    pub live_cache: Option<std::sync::Arc<LiveCache>>,
    /// With `live_cache`: pages at least this big are staged (see
    /// [`page`]).
    pub stage_min: u64,
}

/// What a build did.
#[derive(Debug, Default, Serialize)]
pub struct BuildReport {
    pub rendered: Vec<String>,
    /// Of those, the shares whose page only had what changed written
    /// (`watch`; see [`page`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub staged: Vec<String>,
    pub unchanged: Vec<String>,
    pub removed: Vec<String>,
    pub failed: Vec<(String, String)>,
    pub written_files: Vec<String>,
    /// Files a previous build wrote that this one deleted.
    pub deleted_files: Vec<String>,
    /// Paths whose changes should trigger the next build (for `watch`).
    pub watch_paths: Vec<PathBuf>,
}

fn stamp(p: &Path) -> String {
    match std::fs::metadata(p) {
        Ok(m) => {
            let mt = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            format!("{}:{}:{}", p.display(), m.len(), mt)
        }
        Err(_) => format!("{}:missing", p.display()),
    }
}

/// The files and folders to watch for a loaded session: its sources, the
/// folder it lives in (new subagent files), the per-session folder, its
/// workflow runs' records, and a database's `-wal` file.
pub fn watched_paths(session: &Session, share_path: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = session.source_paths.clone();
    fn collect(s: &Session, v: &mut Vec<PathBuf>) {
        for a in &s.subagents {
            v.extend(a.session.source_paths.iter().cloned());
            collect(&a.session, v);
        }
    }
    collect(session, &mut v);
    v.push(share_path.to_path_buf());
    let mut extra = Vec::new();
    for p in &v {
        if let Some(parent) = p.parent() {
            extra.push(parent.to_path_buf());
        }
        if p.extension().is_some_and(|e| e == "jsonl") {
            let dir = p.with_extension("");
            if dir.is_dir() {
                extra.push(dir.join("subagents"));
                // Workflow runs' records, which name their agents.
                let runs = dir.join("workflows");
                if let Ok(rd) = std::fs::read_dir(&runs) {
                    extra.extend(
                        rd.flatten()
                            .map(|e| e.path())
                            .filter(|f| f.extension().is_some_and(|e| e == "json")),
                    );
                }
                extra.push(runs);
            }
        }
        if p.extension().is_some_and(|e| e == "db") {
            let mut wal = p.as_os_str().to_os_string();
            wal.push("-wal");
            extra.push(PathBuf::from(wal));
        }
    }
    v.extend(extra);
    v.sort();
    v.dedup();
    v
}

fn fingerprint(share: &Share, watched: &[PathBuf], render_key: &str) -> String {
    let mut h = Sha256::new();
    h.update(render_key.as_bytes());
    h.update(
        serde_json::to_vec(&(&share.title, &share.session_id, share.agent)).unwrap_or_default(),
    );
    if let Some(p) = &share.protection {
        h.update(p.digest().as_bytes());
    }
    for p in watched {
        h.update(stamp(p).as_bytes());
        h.update(b"\n");
    }
    hex(&h.finalize())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Loads the session a share points at.
pub fn load_share(share: &Share, stores: &Stores, diag: &Diag) -> Result<Session> {
    with_own_diag(diag, |this| {
        let mut session = with_share_source(share, stores, this, |source, r| source.load(r, this))?;
        crate::sources::check_readable(&session, this)?;
        if let Some(t) = &share.title {
            session.title = Some(t.clone());
        }
        Ok(session)
    })
}

/// Loads the session a share points at for `watch`, which holds what the
/// load numbered `since` returned (see [`crate::sources::LiveLoad`]).
pub fn load_share_live(
    share: &Share,
    stores: &Stores,
    diag: &Diag,
    since: Option<u64>,
) -> Result<LiveLoad> {
    with_own_diag(diag, |this| {
        let mut load = with_share_source(share, stores, this, |source, r| {
            source.load_live(r, this, since)
        })?;
        // A load of only what was appended may well have no messages.
        if load.unchanged.is_none() {
            crate::sources::check_readable(&load.session, this)?;
        }
        if let Some(t) = &share.title {
            load.session.title = Some(t.clone());
        }
        Ok(load)
    })
}

/// Runs one load with a `Diag` of its own, then passes its warnings on to
/// `diag`: whether this load could read its lines is told from its own
/// warnings, not from those of every earlier load of the run (`watch`
/// loads the same files again and again, `diag` remembers them all).
fn with_own_diag<T>(diag: &Diag, load: impl FnOnce(&Diag) -> Result<T>) -> Result<T> {
    let this = Diag::silent();
    let out = load(&this);
    this.forward_to(diag);
    out
}

/// Calls `load` with the source of the session a share points at.
fn with_share_source<T>(
    share: &Share,
    stores: &Stores,
    diag: &Diag,
    load: impl FnOnce(&dyn crate::sources::Source, &SessionRef) -> Result<T>,
) -> Result<T> {
    let r = SessionRef {
        agent: share.agent,
        id: share.session_id.clone(),
        path: share.path.clone(),
    };
    // The recorded path first; when it moved, look the id up again.
    let from_path = crate::sources::source_for_session(&share.path, &share.session_id, diag)
        .ok()
        .flatten();
    match from_path {
        Some(source) => load(source.as_ref(), &r),
        None => {
            let found = crate::select::resolve(Some(&share.session_id), stores, diag)?;
            let r = found.session_ref();
            load(found.source.as_ref(), &r)
        }
    }
}

/// Builds the site for `list` into `opts.out`.
pub fn build(
    list: &ShareList,
    stores: &Stores,
    renderer: &Renderer,
    opts: &SiteOptions,
    diag: &Diag,
    now: DateTime<Utc>,
) -> Result<BuildReport> {
    let out = &opts.out;
    crate::fsutil::create_dir_all(out)?;
    let old_manifest = Manifest::read(&out.join(MANIFEST))?;
    if old_manifest.is_none() {
        refuse_foreign_pages(out)?;
    }
    let state_path = out.join(STATE);
    let old_state: State = std::fs::read(&state_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let render_key = format!(
        "{}|{}|{}|{}|{}|{}",
        env!("CARGO_PKG_VERSION"),
        renderer.theme,
        renderer.fingerprint(),
        opts.session_json,
        opts.live,
        opts.redactor.as_ref().map_or("raw", |r| r.config_key())
    );
    let active: Vec<&Share> = list.shares.iter().filter(|s| !s.is_expired(now)).collect();

    // Render what changed, in parallel.
    struct Done {
        id: String,
        state: ShareState,
        files: Vec<(String, Written)>,
        rendered: bool,
        /// Its page was written into a staged copy (see [`page`]).
        staged: bool,
    }
    let results: Vec<std::result::Result<Done, (String, String)>> = active
        .par_iter()
        .map(|share| {
            let id = share.share_id.clone();
            // `id` names a folder of the site (shares.json is checked when
            // read; a list made otherwise is checked here).
            if let Some(why) = crate::ids::share_id_problem(&id) {
                return Err((id, why));
            }
            if let Some(prev) = old_state.shares.get(&id) {
                let key = fingerprint(share, &prev.watched, &render_key);
                let outputs_exist = out.join("s").join(&id).join("index.html").is_file();
                if key == prev.key && outputs_exist {
                    return Ok(Done {
                        id,
                        state: prev.clone(),
                        files: Vec::new(),
                        rendered: false,
                        staged: false,
                    });
                }
            }
            // A protected share's page is the encrypted shell, never live,
            // and its session.json is not written: nothing in clear.
            let protection = share.protection.as_ref();
            let cache = opts.live_cache.as_ref().filter(|_| protection.is_none());
            let redacted = opts.redactor.is_some();
            let load = match cache {
                Some(c) => {
                    let since = c.generation(&id, &render_key, redacted);
                    load_share_live(share, stores, diag, since)
                }
                None => load_share(share, stores, diag).map(LiveLoad::whole),
            }
            .map_err(|e| (id.clone(), e.to_string()))?;
            let watched = watched_paths(&load.session, &share.path);
            let key = fingerprint(share, &watched, &render_key);
            let fail = |e: Error| (id.clone(), e.to_string());
            // Each file is streamed to a temporary file and renamed into
            // place only when its bytes changed.
            let write = |rel: String,
                         f: &mut dyn FnMut(&mut AtomicFile) -> Result<()>|
             -> Result<(String, Written)> {
                let mut file = AtomicFile::create(&output_path(out, &rel)?, None)?;
                f(&mut file)?;
                Ok((rel, file.commit_if_changed()?))
            };
            let live = (opts.live && protection.is_none()).then_some(key.as_str());
            let want_json = opts.session_json && protection.is_none();
            let page_rel = format!("s/{id}/index.html");
            let json_rel = format!("s/{id}/session.json");
            let mut files = Vec::new();
            let mut staged = false;
            let session = match cache {
                Some(cache) => {
                    // `watch`: reuse what the last rebuild redacted and
                    // rendered; the page goes first, then the files that
                    // tell readers and publishers about it.
                    let mut p = cache
                        .prepare_live(&id, &render_key, load, opts.redactor.as_deref())
                        .ok_or_else(|| {
                            // The number it was loaded with is the cache's.
                            (
                                id.clone(),
                                "internal: a partial load without its base".into(),
                            )
                        })?;
                    let shell = renderer
                        .render_page_shell(&p.session, live, &mut p.frags, p.reuse)
                        .map_err(fail)?;
                    let (written, how, page) = page::write(
                        &output_path(out, &page_rel).map_err(fail)?,
                        &shell,
                        &p.frags,
                        p.reuse,
                        p.page.take(),
                        opts.stage_min,
                    )
                    .map_err(fail)?;
                    p.page = page;
                    staged = how == page::PageWrite::Staged;
                    files.push((page_rel, written));
                    if let Some(v) = live {
                        files.push(write_version(out, &id, v, &p.session).map_err(fail)?);
                    }
                    if want_json {
                        let json = write(json_rel, &mut |w| {
                            renderer.render_to(&p.session, Format::Json, None, w)
                        });
                        files.push(json.map_err(fail)?);
                    }
                    let session = p.session.shell();
                    cache.store(&id, &render_key, p, watched.clone(), now);
                    session
                }
                None => {
                    let mut session = load.session;
                    if let Some(r) = &opts.redactor {
                        r.apply(&mut session);
                    }
                    // The page and session.json are independent renders of
                    // one session: on a large session they take about as
                    // long each, so they run side by side.
                    let (page, json) = rayon::join(
                        || {
                            write(page_rel, &mut |w| match protection {
                                Some(p) => renderer.render_protected_to(&session, p, w),
                                None => renderer.render_to(&session, Format::Html, live, w),
                            })
                        },
                        || {
                            want_json.then(|| {
                                write(json_rel, &mut |w| {
                                    renderer.render_to(&session, Format::Json, None, w)
                                })
                            })
                        },
                    );
                    files.push(page.map_err(fail)?);
                    if let Some(v) = live {
                        files.push(write_version(out, &id, v, &session).map_err(fail)?);
                    }
                    if let Some(json) = json {
                        files.push(json.map_err(fail)?);
                    }
                    session
                }
            };
            let page_size = files[0].1.size;
            Ok(Done {
                id: id.clone(),
                // A protected share's state keeps no title or date either.
                state: ShareState {
                    key,
                    watched,
                    title: match protection {
                        Some(_) => PROTECTED_TITLE.into(),
                        None => session.title.clone().unwrap_or_else(|| session.id.clone()),
                    },
                    agent: session.agent,
                    updated: protection
                        .is_none()
                        .then_some(session.updated.or(session.created))
                        .flatten(),
                    page_size,
                    protected: protection.is_some(),
                },
                files,
                rendered: true,
                staged,
            })
        })
        .collect();

    if let Some(c) = &opts.live_cache {
        c.retain(|id| active.iter().any(|s| s.share_id == id), now);
        // Parser states only for the files of the shares kept.
        let files = c.watched();
        crate::sources::retain_tails(|p| files.contains(p));
    }

    let mut report = BuildReport::default();
    let mut manifest = Manifest {
        version: MANIFEST_VERSION,
        generator: format!("sharegen {}", env!("CARGO_PKG_VERSION")),
        files: BTreeMap::new(),
    };
    let mut new_state = State {
        live: opts.live,
        ..State::default()
    };
    let mut old_files: OldEntries = HashMap::new();
    for (rel, e) in old_manifest.iter().flat_map(|m| &m.files) {
        if let Some(id) = e.share_id.as_deref() {
            old_files.entry(id).or_default().push((rel, e));
        }
    }
    for r in results {
        match r {
            Ok(done) => {
                if done.rendered {
                    for (rel, w) in &done.files {
                        if w.changed {
                            report.written_files.push(rel.clone());
                        }
                        manifest.files.insert(
                            rel.clone(),
                            ManifestEntry {
                                sha256: w.sha256.clone(),
                                size: w.size,
                                share_id: Some(done.id.clone()),
                                publisher: None,
                                row: None,
                            },
                        );
                    }
                    report.rendered.push(done.id.clone());
                    if done.staged {
                        report.staged.push(done.id.clone());
                    }
                } else {
                    // Unchanged: keep the previous entries of this share.
                    carry_entries(&old_files, &done.id, out, &mut manifest)?;
                    report.unchanged.push(done.id.clone());
                }
                report
                    .watch_paths
                    .extend(done.state.watched.iter().cloned());
                new_state.shares.insert(done.id, done.state);
            }
            Err((id, e)) => {
                // `watch` says which shares fail, and again whenever that
                // changes (its driver); a warning would be said once per run.
                if opts.live_cache.is_none() {
                    diag.warn(
                        &list_path_hint(&id),
                        None,
                        &format!("build:{id}"),
                        format!("not rendered: {e}"),
                    );
                }
                // Keep what was there: a failing source must not unpublish.
                // But a share protected since its last build loses its
                // page instead: it must not stay online in clear.
                let now_protected = active
                    .iter()
                    .any(|s| s.share_id == id && s.protection.is_some());
                let was_protected = old_state.shares.get(&id).is_some_and(|p| p.protected);
                let keep = !now_protected || was_protected;
                if keep {
                    carry_entries(&old_files, &id, out, &mut manifest)?;
                }
                if let Some(prev) = old_state.shares.get(&id) {
                    report.watch_paths.extend(prev.watched.iter().cloned());
                    if keep {
                        new_state.shares.insert(id.clone(), prev.clone());
                    }
                }
                if let Some(share) = active.iter().find(|s| s.share_id == id) {
                    // A missing source: watch where it should appear.
                    report.watch_paths.push(share.path.clone());
                }
                report.failed.push((id, e));
            }
        }
    }

    // Site-wide files.
    let mut site_files: Vec<(String, Vec<u8>)> = vec![
        (".nojekyll".into(), Vec::new()),
        (
            "robots.txt".into(),
            robots(opts.index_by_robots).into_bytes(),
        ),
        ("404.html".into(), renderer.render_404()?.into_bytes()),
    ];
    if opts.index_page {
        let mut rows: Vec<IndexRow> = new_state
            .shares
            .iter()
            .map(|(id, st)| IndexRow {
                href: format!("s/{id}/"),
                title: st.title.clone(),
                agent: if st.protected {
                    String::new()
                } else {
                    crate::render::html::agent_label(st.agent).to_string()
                },
                date: st
                    .updated
                    .map(|t| t.format("%Y-%m-%d").to_string())
                    .unwrap_or_default(),
                size: human_size(st.page_size),
                updated: st.updated,
            })
            .collect();
        sort_rows(&mut rows);
        site_files.push((
            "index.html".into(),
            renderer.render_index(&rows)?.into_bytes(),
        ));
        for row in rows {
            if let Some(e) = manifest.files.get_mut(&format!("{}index.html", row.href)) {
                e.row = Some(row);
            }
        }
    }
    for (rel, bytes) in &site_files {
        if write_if_changed(&output_path(out, rel)?, bytes)? {
            report.written_files.push(rel.clone());
        }
        manifest.files.insert(
            rel.clone(),
            ManifestEntry {
                sha256: sha256_hex(bytes),
                size: bytes.len() as u64,
                share_id: None,
                publisher: None,
                row: None,
            },
        );
    }

    // Remove what the previous build wrote and this one did not.
    if let Some(old) = &old_manifest {
        for rel in old.files.keys() {
            // Only what sharegen could have written: never through a link.
            if !manifest.files.contains_key(rel)
                && safe_rel(rel)
                && let Ok(p) = output_path(out, rel)
            {
                match std::fs::remove_file(&p) {
                    Ok(()) => report.deleted_files.push(rel.clone()),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(Error::io(&p, e)),
                }
                if let Some(id) = old.files[rel].share_id.as_ref()
                    && !report.removed.contains(id)
                    && !manifest
                        .files
                        .values()
                        .any(|e| e.share_id.as_ref() == Some(id))
                {
                    report.removed.push(id.clone());
                }
            }
        }
        for id in &report.removed {
            // Only an empty folder goes; anything else in it was not ours.
            if crate::ids::is_share_id(id)
                && let Ok(dir) = output_path(out, &format!("s/{id}"))
            {
                let _ = std::fs::remove_dir(dir);
            }
        }
    }
    let mut mbytes = serde_json::to_vec_pretty(&manifest).expect("the manifest serializes");
    mbytes.push(b'\n');
    if write_if_changed(&out.join(MANIFEST), &mbytes)? {
        report.written_files.push(MANIFEST.into());
    }
    let sbytes = serde_json::to_vec(&new_state).expect("the build state serializes");
    write_if_changed(&state_path, &sbytes)?;
    Ok(report)
}

/// `s/<id>/version.json`, which a live page polls.
fn write_version(out: &Path, id: &str, version: &str, s: &Session) -> Result<(String, Written)> {
    let v = serde_json::json!({
        "version": version,
        "updated": s.updated.map(|t| t.to_rfc3339()),
    });
    let rel = format!("s/{id}/version.json");
    let mut file = AtomicFile::create(&output_path(out, &rel)?, None)?;
    file.write_all(v.to_string().as_bytes()).at(out)?;
    Ok((rel, file.commit_if_changed()?))
}

fn list_path_hint(id: &str) -> PathBuf {
    PathBuf::from(format!("share {id}"))
}

/// A folder with no manifest was never built by sharegen: the pages a
/// build writes at its top must not replace someone's own.
fn refuse_foreign_pages(out: &Path) -> Result<()> {
    for name in ["index.html", "404.html", "robots.txt"] {
        let p = out.join(name);
        if std::fs::symlink_metadata(&p).is_ok() {
            return Err(Error::Refused(format!(
                "{} is not sharegen's ({} has no {MANIFEST}), and a build would replace it: \
                 build into an empty folder, or move the file away",
                p.display(),
                out.display()
            )));
        }
    }
    Ok(())
}

/// A manifest path sharegen could have written (no escape from the site).
fn safe_rel(rel: &str) -> bool {
    !rel.is_empty() && !rel.starts_with('/') && !rel.split('/').any(|c| c == ".." || c.is_empty())
}

/// The previous manifest's entries, by share id.
type OldEntries<'a> = HashMap<&'a str, Vec<(&'a String, &'a ManifestEntry)>>;

fn carry_entries(old: &OldEntries, id: &str, out: &Path, manifest: &mut Manifest) -> Result<()> {
    for (rel, e) in old.get(id).into_iter().flatten() {
        if out.join(rel).is_file() {
            manifest.files.insert((*rel).clone(), (*e).clone());
        }
    }
    Ok(())
}

fn robots(index: bool) -> String {
    if index {
        "User-agent: *\nAllow: /\n".into()
    } else {
        "User-agent: *\nDisallow: /\n".into()
    }
}

fn human_size(n: u64) -> String {
    match n {
        0..1024 => format!("{n} B"),
        1024..1_048_576 => format!("{:.0} KB", n as f64 / 1024.0),
        _ => format!("{:.1} MB", n as f64 / 1_048_576.0),
    }
}

/// A row of the site's index page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexRow {
    pub href: String,
    pub title: String,
    pub agent: String,
    pub date: String,
    pub size: String,
    /// For the order: newest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<DateTime<Utc>>,
}

/// The index's order: newest first, then by link.
pub fn sort_rows(rows: &mut [IndexRow]) {
    rows.sort_by(|a, b| b.updated.cmp(&a.updated).then(a.href.cmp(&b.href)));
}

/// Writes `bytes` unless the file already holds exactly them. Returns
/// whether it wrote.
pub fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<bool> {
    let mut f = AtomicFile::create(path, None)?;
    f.write_all(bytes).at(path)?;
    Ok(f.commit_if_changed()?.changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `watch` and `publish` load a share's file again and again with one
    /// `Diag`: whether a load could read its file is told from that load's
    /// own warnings, not from an earlier load's.
    #[test]
    fn a_load_is_judged_by_its_own_warnings() {
        let tmp = tempfile::tempdir().unwrap();
        let id = "11111111-2222-4333-8444-555555555555";
        let file = tmp.path().join(format!(".claude/projects/-w/{id}.jsonl"));
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        let good = r#"{"type":"user","uuid":"u1","parentUuid":null,"sessionId":"11111111-2222-4333-8444-555555555555","timestamp":"2026-01-01T10:00:00Z","cwd":"/w","message":{"role":"user","content":"hello"}}"#;
        let share = Share::for_test(id, file.clone());
        let stores = Stores {
            claude_root: Some(tmp.path().join(".claude")),
            ..Stores::default()
        };
        let diag = Diag::silent();
        // A bad line beside a good one: read, with a warning.
        std::fs::write(&file, format!("not json\n{good}\n")).unwrap();
        assert_eq!(
            load_share(&share, &stores, &diag).unwrap().messages.len(),
            1
        );
        assert_eq!(diag.count(&file, "malformed"), 1);
        // Emptied: an empty session, although the run saw a bad line.
        std::fs::write(&file, "").unwrap();
        let s = load_share(&share, &stores, &diag).unwrap();
        assert!(s.messages.is_empty());
        let live = load_share_live(&share, &stores, &diag, None).unwrap();
        assert!(live.session.messages.is_empty());
        // Nothing readable in it: an error, for both kinds of load.
        std::fs::write(&file, "not json\n").unwrap();
        for e in [
            load_share(&share, &stores, &diag).unwrap_err(),
            load_share_live(&share, &stores, &diag, None).unwrap_err(),
        ] {
            assert!(
                e.to_string().contains("no message could be read: 1 line"),
                "{e}"
            );
        }
    }
}
