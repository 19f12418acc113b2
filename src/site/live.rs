//! What `watch` keeps of each share between rebuilds, so that a message
//! appended to a big session costs about what that message costs, not what
//! the session costs.
//!
//! Per share: a 128-bit hash (XXH3) of each message and subagent as
//! loaded (before redaction), the rendered (redacted) session, and the HTML
//! of each of its messages. A source that can tell which messages are
//! unchanged since the load the cache holds (see
//! [`crate::sources::Source::load_live`]) hands on only the others; for
//! the rest, the newly loaded session is hashed and compared. Either way,
//! the leading messages that are unchanged (same content, same subagents
//! behind their tool calls) keep their redacted form and their HTML; only
//! the rest is redacted and rendered. The cost is memory, about twice the
//! session's size, so a share is kept only while it is active: a record in
//! the session, or a rebuild of it, in the last [`ACTIVE_FOR`]. A session
//! that stays quiet that long is dropped at the next rebuild, and costs one
//! full rebuild if it comes back to life.

use super::page::PageFile;
use crate::model::{Message, Part, Session, Subagent};
use crate::redact::Redactor;
use crate::render::html::Fragments;
use crate::sources::{LiveLoad, Unchanged};
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::path::PathBuf;
use std::sync::Mutex;

/// How recently a session must have changed (or been rebuilt) to be kept.
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
    /// Per subagent, the message that holds its tool call.
    sub_msgs: Vec<Option<usize>>,
    /// Whether it was redacted before rendering.
    redacted: bool,
}

impl Loaded {
    fn of(s: &Session, redacted: bool) -> Loaded {
        Loaded::after(None, s, redacted)
    }

    /// What `s` looks like when its messages are those after the first
    /// `prefix` of `old` (`(old, prefix)`), or all of them.
    fn after(old: Option<(&Loaded, usize)>, s: &Session, redacted: bool) -> Loaded {
        let (head, prefix) = match old {
            Some((o, n)) => (&o.messages[..n.min(o.messages.len())], n),
            None => (&[][..], 0),
        };
        let mut messages = head.to_vec();
        messages.par_extend(s.messages.par_iter().map(hash_of));
        let subagents: Vec<(u128, Option<String>)> = s
            .subagents
            .iter()
            .map(|a| (hash_of(a), a.tool_call_id.clone()))
            .collect();
        // The first message holding each subagent's call: among the
        // unchanged ones (as found last time), then among those given.
        let wanted: HashSet<&str> = subagents.iter().filter_map(|(_, c)| c.as_deref()).collect();
        let mut at: HashMap<&str, usize> = HashMap::new();
        if let Some((o, n)) = old {
            for ((_, call), m) in o.subagents.iter().zip(&o.sub_msgs) {
                if let (Some(c), Some(m)) = (call.as_deref(), m)
                    && *m < n
                    && wanted.contains(c)
                {
                    at.insert(c, *m);
                }
            }
        }
        for (i, m) in s.messages.iter().enumerate() {
            for p in &m.parts {
                if let Part::ToolCall(c) = p
                    && let Some(&k) = wanted.get(c.id.as_str())
                {
                    at.entry(k).or_insert(prefix + i);
                }
            }
        }
        let sub_msgs = subagents
            .iter()
            .map(|(_, c)| c.as_deref().and_then(|c| at.get(c).copied()))
            .collect();
        Loaded {
            messages,
            subagents,
            sub_msgs,
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
    /// The number of the load it was made from (see [`LiveLoad`]).
    generation: Option<u64>,
    /// When it was rendered.
    rendered: chrono::DateTime<chrono::Utc>,
    /// Its page on disk, when staged (see [`super::page`]).
    page: Option<PageFile>,
}

/// A share ready to render.
pub struct Prepared {
    /// The session to render (redacted).
    pub session: Session,
    /// Messages of `session` whose HTML `frags` holds.
    pub reuse: usize,
    pub frags: Fragments,
    /// The page as the last rebuild wrote it (see [`super::page`]), whose
    /// first `reuse` messages are these.
    pub page: Option<PageFile>,
    loaded: Loaded,
    kept: Vec<usize>,
    generation: Option<u64>,
}

impl LiveCache {
    /// The number of the load (see [`LiveLoad`]) share `id` was last made
    /// from with the same settings, to load only what changed since.
    pub fn generation(&self, id: &str, key: &str, redacted: bool) -> Option<u64> {
        self.shares
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .filter(|k| k.key == key && k.loaded.redacted == redacted)
            .and_then(|k| k.generation)
    }

    /// [`LiveCache::prepare`] for a session loaded by
    /// [`crate::sources::Source::load_live`]. `None` when `load` holds only
    /// the messages after some that this cache does not hold (it was not
    /// loaded with [`LiveCache::generation`]'s number).
    pub fn prepare_live(
        &self,
        id: &str,
        key: &str,
        load: LiveLoad,
        redactor: Option<&Redactor>,
    ) -> Option<Prepared> {
        let prev = self
            .shares
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id)
            .filter(|k| k.key == key && k.loaded.redacted == redactor.is_some());
        let mut p = match (prev, load.unchanged) {
            (Some(prev), Some(u)) if prev.generation == Some(u.base) => {
                incremental(prev, load.session, Some(u), redactor)?
            }
            (_, Some(_)) => return None,
            (Some(prev), None) => incremental(prev, load.session, None, redactor)?,
            (None, None) => fresh(load.session, redactor),
        };
        p.generation = load.generation;
        Some(p)
    }

    /// Redacts `raw` (when `redactor` is set), reusing what the last
    /// rebuild of share `id` made with the same settings (`key`).
    pub fn prepare(
        &self,
        id: &str,
        key: &str,
        raw: Session,
        redactor: Option<&Redactor>,
    ) -> Prepared {
        self.prepare_live(id, key, LiveLoad::whole(raw), redactor)
            .expect("a whole session always prepares")
    }

    /// Keeps what a rebuild of share `id` rendered; `watched` are the
    /// files it was read from.
    pub fn store(
        &self,
        id: &str,
        key: &str,
        p: Prepared,
        watched: Vec<PathBuf>,
        now: chrono::DateTime<chrono::Utc>,
    ) {
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
                    generation: p.generation,
                    rendered: now,
                    page: p.page,
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

    /// Forgets the shares `keep` rejects, and those quiet at `now`: no
    /// record in the session, and no rebuild, for [`ACTIVE_FOR`].
    pub fn retain(&self, keep: impl Fn(&str) -> bool, now: chrono::DateTime<chrono::Utc>) {
        self.shares
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|id, k| {
                keep(id) && (is_active(&k.session, now) || now - k.rendered < ACTIVE_FOR)
            });
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

/// Frees `v` on another thread: a big session (or the blocks of a big
/// page) takes tens of ms to free, and the page is waiting.
pub(super) fn drop_later<T: Send + 'static>(v: T) {
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
        page: None,
        loaded,
        kept,
        generation: None,
    }
}

/// The number of leading messages of `new` whose HTML can be taken from
/// the last rebuild: of the `same` unchanged ones, those before the first
/// tool call whose subagent changed.
fn reusable_prefix(old: &Loaded, new: &Loaded, same: usize) -> usize {
    changed_subagents(old, new)
        .into_iter()
        .flat_map(|i| [old.sub_msgs.get(i), new.sub_msgs.get(i)])
        .flatten()
        .flatten()
        .fold(same, |k, &m| k.min(m))
}

/// Indexes of subagents that differ between `old` and `new` (added,
/// removed or changed), by position.
fn changed_subagents(old: &Loaded, new: &Loaded) -> Vec<usize> {
    (0..old.subagents.len().max(new.subagents.len()))
        .filter(|&i| old.subagents.get(i) != new.subagents.get(i))
        .collect()
}

/// The next state of a kept share: `raw` is the session loaded now, whole,
/// or (with `unchanged`) only its messages after those of the load `prev`
/// was made from.
fn incremental(
    prev: Kept,
    mut raw: Session,
    unchanged: Option<Unchanged>,
    redactor: Option<&Redactor>,
) -> Option<Prepared> {
    let Kept {
        loaded: old,
        session: prev_session,
        kept: prev_kept,
        frags,
        page,
        ..
    } = prev;
    let prefix = unchanged.map_or(0, |u| u.prefix);
    if prev_session.messages.len() != prev_kept.last().copied().unwrap_or(0)
        || frags.len() != prev_session.messages.len()
        || prev_session.subagents.len() != old.subagents.len()
        || prefix > old.messages.len()
    {
        // Not what the last rebuild left (it cannot happen): start over,
        // from a whole session.
        drop_later(prev_session);
        return unchanged.is_none().then(|| fresh(raw, redactor));
    }
    let loaded = Loaded::after(
        unchanged.map(|u| (&old, u.prefix)),
        &raw,
        redactor.is_some(),
    );
    // Unchanged messages keep their redacted form; of those, the ones
    // whose subagents did not change keep their HTML too.
    let same = loaded
        .messages
        .iter()
        .zip(&old.messages)
        .take_while(|(a, b)| a == b)
        .count();
    let k = reusable_prefix(&old, &loaded, same);
    let changed_subs: HashSet<usize> = changed_subagents(&old, &loaded).into_iter().collect();
    let mut reuse = prev_kept.get(k).copied().unwrap_or(0).min(frags.len());
    // A rewound message's HTML depends on the messages after it (the
    // block it opens counts the run; the last one closes it): the run that
    // reaches the first changed message is rendered again, whole.
    while reuse > 0 && prev_session.messages[reuse - 1].rewound {
        reuse -= 1;
    }
    let mut kept = prev_kept;
    let keep_redacted = kept[same];
    kept.truncate(same + 1);
    extend_kept(&mut kept, &raw.messages[same - prefix..], redactor);
    // Redact the session's own fields, the changed messages and the
    // changed subagents; take the rest as redacted before.
    let new_messages = raw.messages.split_off(same - prefix);
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
    if let Some(r) = redactor {
        r.apply(&mut part);
    }
    let mut old_session = prev_session;
    let mut messages = std::mem::take(&mut old_session.messages);
    drop_later(messages.split_off(keep_redacted));
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
    Some(Prepared {
        session: part,
        reuse,
        frags,
        page,
        loaded,
        kept,
        generation: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Agent;

    #[test]
    fn shares_are_kept_while_recorded_or_rebuilt_within_the_hour() {
        let now = chrono::Utc::now();
        let mut s = Session::new(Agent::ClaudeCode, "s");
        s.created = Some(now - chrono::TimeDelta::days(3));
        let cache = LiveCache::default();
        // Rebuilt just now: kept, though its last record is old.
        let p = cache.prepare("fresh", "k", s.clone(), None);
        cache.store("fresh", "k", p, Vec::new(), now);
        // Rebuilt two hours ago, nothing recorded since: dropped.
        let p = cache.prepare("quiet", "k", s.clone(), None);
        cache.store(
            "quiet",
            "k",
            p,
            Vec::new(),
            now - chrono::TimeDelta::hours(2),
        );
        // Rebuilt long ago but recorded to a minute ago: kept.
        let mut live = s.clone();
        live.updated = Some(now - chrono::TimeDelta::minutes(1));
        let p = cache.prepare("live", "k", live, None);
        cache.store(
            "live",
            "k",
            p,
            Vec::new(),
            now - chrono::TimeDelta::hours(2),
        );
        cache.retain(|_| true, now);
        let mut kept: Vec<String> = cache.shares.lock().unwrap().keys().cloned().collect();
        kept.sort();
        assert_eq!(kept, ["fresh", "live"]);
        // Unshared: dropped whatever its age.
        cache.retain(|id| id != "live", now);
        assert_eq!(cache.shares.lock().unwrap().len(), 1);
    }

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
