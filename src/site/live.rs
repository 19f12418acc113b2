//! What `watch` keeps of each share between rebuilds, so that a message
//! appended to a big session costs about what that message costs, not what
//! the session costs.
//!
//! Per share: a 128-bit hash (XXH3) of each message and subagent as
//! loaded (before redaction), the rendered (redacted) session, and the HTML
//! of each of its messages. A rebuild hashes the newly loaded session and
//! compares: the leading messages that are unchanged (same content, same
//! subagents behind their tool calls) keep their redacted form and their
//! HTML; only the rest is redacted and rendered. The cost is memory, about
//! twice the session's size, so only sessions that are active (a record in
//! the last [`ACTIVE_FOR`]) are kept: a finished session costs nothing once
//! rendered, and one that comes back to life costs one full rebuild.

use crate::model::{Message, Part, Session, Subagent};
use crate::redact::Redactor;
use crate::render::html::Fragments;
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::path::PathBuf;
use std::sync::Mutex;

/// How recently a session must have changed to be kept.
pub const ACTIVE_FOR: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// Whether `s` counts as active at `now` (no time recorded: active).
pub fn is_active(s: &Session, now: chrono::DateTime<chrono::Utc>) -> bool {
    s.updated.or(s.created).is_none_or(|t| now - t < ACTIVE_FOR)
}

/// The kept shares, by share id.
#[derive(Default)]
pub struct LiveCache {
    shares: Mutex<HashMap<String, Kept>>,
}

impl std::fmt::Debug for LiveCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.shares.lock().map_or(0, |s| s.len());
        write!(f, "LiveCache({n} shares)")
    }
}

/// What a loaded session looked like, as hashes.
struct Loaded {
    /// Per message.
    messages: Vec<u128>,
    /// Per subagent, with the tool call that spawned it.
    subagents: Vec<(u128, Option<String>)>,
    /// Whether it was redacted before rendering.
    redacted: bool,
}

impl Loaded {
    fn of(s: &Session, redacted: bool) -> Loaded {
        Loaded {
            messages: s.messages.par_iter().map(hash_of).collect(),
            subagents: s
                .subagents
                .iter()
                .map(|a| (hash_of(a), a.tool_call_id.clone()))
                .collect(),
            redacted,
        }
    }
}

fn hash_of<T: Hash>(t: &T) -> u128 {
    let mut h = xxhash_rust::xxh3::Xxh3Default::new();
    t.hash(&mut h);
    h.digest128()
}

/// One share as its last rebuild left it.
struct Kept {
    /// The render settings it was made with.
    key: String,
    loaded: Loaded,
    /// What was rendered.
    session: Session,
    /// `kept[i]`: how many of the loaded session's first `i` messages the
    /// rendered session holds (redaction drops messages that held only
    /// injected text).
    kept: Vec<usize>,
    frags: Fragments,
    watched: Vec<PathBuf>,
}

/// A share ready to render.
pub struct Prepared {
    /// The session to render (redacted).
    pub session: Session,
    /// Messages of `session` whose HTML `frags` holds.
    pub reuse: usize,
    pub frags: Fragments,
    loaded: Loaded,
    kept: Vec<usize>,
}

impl LiveCache {
    /// Redacts `raw` (when `redactor` is set), reusing what the last
    /// rebuild of share `id` made with the same settings (`key`).
    pub fn prepare(
        &self,
        id: &str,
        key: &str,
        raw: Session,
        redactor: Option<&Redactor>,
    ) -> Prepared {
        let prev = self
            .shares
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id)
            .filter(|k| k.key == key && k.loaded.redacted == redactor.is_some());
        match prev {
            Some(prev) => incremental(prev, raw, redactor),
            None => fresh(raw, redactor),
        }
    }

    /// Keeps what a rebuild of share `id` rendered; `watched` are the
    /// files it was read from.
    pub fn store(&self, id: &str, key: &str, p: Prepared, watched: Vec<PathBuf>) {
        self.shares
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                id.to_string(),
                Kept {
                    key: key.to_string(),
                    loaded: p.loaded,
                    session: p.session,
                    kept: p.kept,
                    frags: p.frags,
                    watched,
                },
            );
    }

    /// The files the kept shares were read from.
    pub fn watched(&self) -> HashSet<PathBuf> {
        self.shares
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .flat_map(|k| k.watched.iter().cloned())
            .collect()
    }

    /// Forgets the shares `keep` rejects, and those no longer active at
    /// `now`.
    pub fn retain(&self, keep: impl Fn(&str) -> bool, now: chrono::DateTime<chrono::Utc>) {
        self.shares
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|id, k| keep(id) && is_active(&k.session, now));
    }
}

/// `kept` (see [`Kept::kept`]) for `messages`, after what it holds.
fn extend_kept(kept: &mut Vec<usize>, messages: &[Message], redactor: Option<&Redactor>) {
    let mut n = kept.last().copied().unwrap_or(0);
    if kept.is_empty() {
        kept.push(0);
    }
    for m in messages {
        if redactor.is_none_or(|r| r.keeps(m)) {
            n += 1;
        }
        kept.push(n);
    }
}

/// Frees `v` on another thread: a big session takes tens of ms to free,
/// and the page is waiting.
fn drop_later<T: Send + 'static>(v: T) {
    std::thread::spawn(move || drop(v));
}

fn fresh(mut raw: Session, redactor: Option<&Redactor>) -> Prepared {
    let loaded = Loaded::of(&raw, redactor.is_some());
    let mut kept = Vec::with_capacity(raw.messages.len() + 1);
    extend_kept(&mut kept, &raw.messages, redactor);
    if let Some(r) = redactor {
        r.apply(&mut raw);
    }
    Prepared {
        session: raw,
        reuse: 0,
        frags: Fragments::default(),
        loaded,
        kept,
    }
}

/// The number of leading messages of `new` whose HTML and redacted form
/// can be taken from the last rebuild: unchanged messages, none of whose
/// tool calls spawned a subagent that changed.
fn reusable_prefix(old: &Loaded, new: &Loaded, messages: &[Message]) -> usize {
    let k = new
        .messages
        .iter()
        .zip(&old.messages)
        .take_while(|(a, b)| a == b)
        .count();
    let changed: HashSet<&str> = changed_subagents(old, new)
        .into_iter()
        .flat_map(|i| [old.subagents.get(i), new.subagents.get(i)])
        .flatten()
        .filter_map(|(_, call)| call.as_deref())
        .collect();
    messages[..k]
        .iter()
        .position(|m| {
            m.parts
                .iter()
                .any(|p| matches!(p, Part::ToolCall(c) if changed.contains(c.id.as_str())))
        })
        .unwrap_or(k)
}

/// Indexes of subagents that differ between `old` and `new` (added,
/// removed or changed), by position.
fn changed_subagents(old: &Loaded, new: &Loaded) -> Vec<usize> {
    (0..old.subagents.len().max(new.subagents.len()))
        .filter(|&i| old.subagents.get(i) != new.subagents.get(i))
        .collect()
}

fn incremental(prev: Kept, mut raw: Session, redactor: Option<&Redactor>) -> Prepared {
    let Kept {
        loaded: old,
        session: prev_session,
        kept: prev_kept,
        frags,
        ..
    } = prev;
    let loaded = Loaded::of(&raw, redactor.is_some());
    let k = reusable_prefix(&old, &loaded, &raw.messages);
    let changed_subs: HashSet<usize> = changed_subagents(&old, &loaded).into_iter().collect();
    let reuse = prev_kept.get(k).copied().unwrap_or(0).min(frags.len());
    if prev_session.messages.len() != prev_kept.last().copied().unwrap_or(0)
        || frags.len() != prev_session.messages.len()
        || prev_session.subagents.len() != old.subagents.len()
    {
        // Not what the last rebuild left (it cannot happen): start over.
        drop_later(prev_session);
        return fresh(raw, redactor);
    }
    let mut kept = prev_kept;
    kept.truncate(k + 1);
    extend_kept(&mut kept, &raw.messages[k..], redactor);
    let Some(r) = redactor else {
        // Nothing redacted: the loaded session is rendered as it is.
        drop_later(prev_session);
        return Prepared {
            session: raw,
            reuse,
            frags,
            loaded,
            kept,
        };
    };
    // Redact the session's own fields, the messages after the reusable
    // ones and the changed subagents; take the rest as redacted before.
    let new_messages = raw.messages.split_off(k);
    let mut subs: Vec<Option<Subagent>> = std::mem::take(&mut raw.subagents)
        .into_iter()
        .map(Some)
        .collect();
    let mut part = raw.shell();
    part.messages = new_messages;
    part.subagents = subs
        .iter_mut()
        .enumerate()
        .filter(|(i, _)| changed_subs.contains(i))
        .filter_map(|(_, s)| s.take())
        .collect();
    drop_later((raw, subs));
    r.apply(&mut part);
    let mut old_session = prev_session;
    let mut messages = std::mem::take(&mut old_session.messages);
    drop_later(messages.split_off(reuse.min(messages.len())));
    messages.append(&mut part.messages);
    let mut old_subs: Vec<Option<Subagent>> = std::mem::take(&mut old_session.subagents)
        .into_iter()
        .map(Some)
        .collect();
    let mut new_subs = std::mem::take(&mut part.subagents).into_iter();
    let subagents: Vec<Subagent> = (0..loaded.subagents.len())
        .filter_map(|i| {
            if changed_subs.contains(&i) {
                new_subs.next()
            } else {
                old_subs.get_mut(i).and_then(Option::take)
            }
        })
        .collect();
    drop_later((old_session, old_subs));
    part.messages = messages;
    part.subagents = subagents;
    // `keeps` is the redactor's own rule for dropping messages.
    debug_assert_eq!(part.messages.len(), kept.last().copied().unwrap_or(0));
    debug_assert_eq!(part.subagents.len(), loaded.subagents.len());
    Prepared {
        session: part,
        reuse,
        frags,
        loaded,
        kept,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Agent;

    #[test]
    fn only_recently_changed_sessions_are_active() {
        let now = chrono::Utc::now();
        let mut s = Session::new(Agent::ClaudeCode, "s");
        assert!(is_active(&s, now), "no time recorded");
        s.created = Some(now - chrono::TimeDelta::days(3));
        assert!(!is_active(&s, now));
        s.updated = Some(now - chrono::TimeDelta::minutes(5));
        assert!(is_active(&s, now));
        s.updated = Some(now - ACTIVE_FOR);
        assert!(!is_active(&s, now));
    }
}
