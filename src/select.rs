//! Choosing a session: a full id, a unique id prefix, a path, `latest`, or
//! nothing (then `$CLAUDE_SESSION_ID` or `$OPENCODE_SESSION_ID`).

use crate::diag::Diag;
use crate::error::{Error, Result};
use crate::model::SessionSummary;
use crate::sources::{self, SessionRef, Source, Stores};
use std::path::Path;

/// A session found in a store, with the source that loads it.
pub struct Found {
    pub source: Box<dyn Source>,
    pub summary: SessionSummary,
}

impl Found {
    pub fn session_ref(&self) -> SessionRef {
        SessionRef {
            agent: self.summary.agent,
            id: self.summary.id.clone(),
            path: self.summary.path.clone(),
        }
    }
}

/// Every main session of every store, newest first.
pub fn list_all(stores: &Stores, diag: &Diag) -> Result<Vec<(usize, SessionSummary)>> {
    let mut all = Vec::new();
    for (i, s) in stores.sources().iter().enumerate() {
        if !s.exists() {
            diag.info(format!("{}: {} (not found)", s.agent(), s.location()));
            continue;
        }
        // Listing reads files that the session's load may read again: its
        // warnings are passed on without their counts.
        let scan = diag.scan();
        let found = s.discover(&scan);
        scan.forward_firsts_to(diag);
        let found = found?;
        diag.info(format!(
            "{}: {} ({} sessions)",
            s.agent(),
            s.location(),
            found.len()
        ));
        all.extend(found.into_iter().map(|f| (i, f)));
    }
    sort_newest_first(&mut all);
    Ok(all)
}

fn sort_newest_first(v: &mut [(usize, SessionSummary)]) {
    v.sort_by(|a, b| {
        b.1.updated
            .cmp(&a.1.updated)
            .then_with(|| a.1.agent.cmp(&b.1.agent))
            .then_with(|| a.1.id.cmp(&b.1.id))
    });
}

fn describe(s: &SessionSummary) -> String {
    format!(
        "  {} {}  {}  {}",
        s.agent,
        s.id,
        s.updated
            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default(),
        s.title.as_deref().unwrap_or("")
    )
}

/// Resolves `query` to one session.
pub fn resolve(query: Option<&str>, stores: &Stores, diag: &Diag) -> Result<Found> {
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        return resolve_query(q.to_string(), stores, diag);
    }
    let (var, query) = ["CLAUDE_SESSION_ID", "OPENCODE_SESSION_ID"]
        .iter()
        .find_map(|k| {
            std::env::var(k)
                .ok()
                .filter(|v| !v.is_empty())
                .map(|v| (k, v))
        })
        .ok_or_else(|| {
            Error::Usage(
                "no session given: pass an id, an id prefix, a path or `latest` \
                 (or set CLAUDE_SESSION_ID / OPENCODE_SESSION_ID)"
                    .into(),
            )
        })?;
    // Say where the id came from: the user did not type it.
    resolve_query(query, stores, diag).map_err(|e| match e {
        Error::UnknownSession { query, searched } => Error::Usage(format!(
            "${var} is `{query}`, and no session matches it (searched: {searched})"
        )),
        e => e,
    })
}

fn resolve_query(query: String, stores: &Stores, diag: &Diag) -> Result<Found> {
    let path = Path::new(&query);
    if path.exists() {
        return resolve_path(&query, path, diag);
    }
    if names_a_file(&query) {
        // Not an id: saying which stores were searched would mislead.
        return Err(Error::Usage(format!(
            "{query}: no such file or folder (a session is an id, an id prefix, a path or `latest`)"
        )));
    }
    // The listing's warnings about other sessions' files are noise here,
    // unless no session is found: then they may say why.
    let scan = diag.scan();
    let found = list_all(stores, &scan).and_then(|all| pick(query, all, stores));
    match &found {
        Ok(f) => {
            let file = f.summary.path.clone();
            let dir = file.with_extension("");
            scan.forward_firsts_about(diag, |p| p == file || p.starts_with(&dir));
        }
        Err(_) => scan.forward_firsts_to(diag),
    }
    found
}

/// The one session of `all` that `query` (an id, an id prefix or
/// `latest`) names.
fn pick(query: String, all: Vec<(usize, SessionSummary)>, stores: &Stores) -> Result<Found> {
    let sources = stores.sources();
    let searched = || {
        sources
            .iter()
            .map(|s| {
                let state = if s.exists() { "" } else { " (not found)" };
                format!("{} at {}{state}", s.agent(), s.location())
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let pick = |i: usize, summary: SessionSummary| -> Found {
        let source = stores
            .sources()
            .into_iter()
            .nth(i)
            .expect("source index is valid");
        Found { source, summary }
    };
    if query == "latest" {
        return match all.into_iter().next() {
            Some((i, s)) => Ok(pick(i, s)),
            None => Err(Error::UnknownSession {
                query,
                searched: searched(),
            }),
        };
    }
    let exact: Vec<_> = all.iter().filter(|(_, s)| s.id == query).cloned().collect();
    let matches = if exact.is_empty() {
        all.into_iter()
            .filter(|(_, s)| s.id.starts_with(&query))
            .collect::<Vec<_>>()
    } else {
        exact
    };
    match matches.len() {
        0 => Err(Error::UnknownSession {
            query,
            searched: searched(),
        }),
        1 => {
            let (i, s) = matches.into_iter().next().expect("one match");
            Ok(pick(i, s))
        }
        _ => Err(Error::AmbiguousSession {
            query,
            candidates: matches.iter().map(|(_, s)| describe(s)).collect(),
        }),
    }
}

/// Whether `query` can only be meant as a path: it has a path separator or
/// a session file's extension, which no session id has.
fn names_a_file(query: &str) -> bool {
    let lower = query.to_ascii_lowercase();
    query.contains(std::path::is_separator)
        || [".jsonl", ".json", ".zst", ".db"]
            .iter()
            .any(|ext| lower.ends_with(ext))
}

fn resolve_path(query: &str, path: &Path, diag: &Diag) -> Result<Found> {
    // Absolute, so that a share made from one folder is found from any
    // other (`build`, `watch` from a service, `publish`).
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let Some((source, mut found)) = sources::refs_for_path(&abs, diag)? else {
        return Err(Error::UnknownSession {
            query: query.to_string(),
            searched: format!(
                "{} is not a Claude Code transcript, project folder or store, \
                 an OpenCode database, data folder, storage folder or export, \
                 a Codex rollout or store, a Gemini CLI chat file or store, \
                 nor an Antigravity CLI transcript",
                path.display()
            ),
        });
    };
    match found.len() {
        0 => Err(Error::UnknownSession {
            query: query.to_string(),
            searched: format!("{} holds no session", path.display()),
        }),
        1 => Ok(Found {
            source,
            summary: found.pop().expect("one session"),
        }),
        _ => {
            let mut v: Vec<(usize, SessionSummary)> = found.into_iter().map(|s| (0, s)).collect();
            sort_newest_first(&mut v);
            Err(Error::AmbiguousSession {
                query: query.to_string(),
                candidates: v.iter().map(|(_, s)| describe(s)).collect(),
            })
        }
    }
}

/// `--agent`, `--project` and `--since`, as given to `list` and `export --all`.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub agent: Option<crate::model::Agent>,
    pub project: Option<String>,
    pub since: Option<chrono::DateTime<chrono::Utc>>,
}

impl Filter {
    pub fn new(agent: Option<&str>, project: Option<&str>, since: Option<&str>) -> Result<Filter> {
        let agent = match agent {
            Some(a) => Some(crate::model::Agent::parse(a).ok_or_else(|| {
                let known: Vec<&str> = crate::model::Agent::ALL
                    .iter()
                    .map(|a| a.as_str())
                    .collect();
                Error::Usage(format!("unknown agent `{a}` (known: {})", known.join(", ")))
            })?),
            None => None,
        };
        let since = match since {
            Some(s) => {
                Some(crate::timeutil::parse_since(s, chrono::Utc::now()).map_err(Error::Usage)?)
            }
            None => None,
        };
        Ok(Filter {
            agent,
            project: project.map(str::to_string),
            since,
        })
    }

    pub fn matches(&self, s: &SessionSummary) -> bool {
        self.agent.is_none_or(|a| s.agent == a)
            && self
                .project
                .as_deref()
                .is_none_or(|p| s.project.as_deref().is_some_and(|sp| sp.contains(p)))
            && self.since.is_none_or(|t| s.updated.is_some_and(|u| u >= t))
    }
}
