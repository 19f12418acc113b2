//! `watch`'s load of a Codex rollout: the records appended since the last
//! rebuild are folded into the session kept from it (see [`Builder`]), and
//! only the messages that changed are handed on.
//!
//! A rollout is folded in file order, so appended records are folded at
//! once unless they would change what was already folded: an event text
//! whose response-item twin is not in the file yet (the batch fold drops
//! such an event once the twin comes; a twin appended together with it
//! counts), a response item whose event twin was shown, or a compaction
//! item after its event was shown. Then the rollout is read and folded
//! again.

use super::build::{Builder, dedupe_counting};
use super::parse::{self, Ev, Key, Rec};
use crate::diag::Diag;
use crate::error::Result;
use crate::model::Session;
use crate::sources::{LiveLoad, Unchanged, jsonl, next_generation};
use foldhash::{HashMap, HashSet};
use std::path::Path;
use std::sync::LazyLock;

/// The kept state of each rollout `watch` follows.
static LIVE: LazyLock<jsonl::Tails<LiveFile>> = LazyLock::new(jsonl::Tails::default);

#[derive(Default)]
struct LiveFile {
    /// Records read and not folded yet.
    pending: Vec<Rec>,
    folded: Option<Box<Folded>>,
}

/// A rollout folded so far.
struct Folded {
    b: Builder,
    /// Response-item texts not matched by an event twin yet, by key.
    available: HashMap<Key, usize>,
    /// Keys of the event texts that were shown (no twin before them).
    kept_events: HashSet<Key>,
    /// Whether a compaction event was shown (no compaction item yet).
    event_compacted: bool,
    /// The number of the last load served (0: none).
    served: u64,
    /// Where the open turn's usage went in that load.
    open_turn: Option<usize>,
}

impl Folded {
    fn new(recs: Vec<Rec>) -> Folded {
        let event_compacted = !recs
            .iter()
            .any(|r| matches!(r.ev, Ev::Compacted { event: false, .. }))
            && recs
                .iter()
                .any(|r| matches!(r.ev, Ev::Compacted { event: true, .. }));
        let (recs, available, kept_events) = dedupe_counting(recs);
        let mut b = Builder::new(&recs);
        for r in recs {
            b.apply(r);
        }
        Folded {
            b,
            available,
            kept_events,
            event_compacted,
            served: 0,
            open_turn: None,
        }
    }

    /// Folds `new`, the records appended since, if that gives what
    /// folding the whole file again gives; false otherwise. The batch fold
    /// drops an event text when its twin is anywhere in the file, so the
    /// twins among `new` count before any of its events is looked at (an
    /// event written just before its twin is dropped).
    fn place(&mut self, new: &[Rec]) -> bool {
        for k in new.iter().flat_map(|r| &r.provides) {
            if self.kept_events.contains(k) {
                // An event shown earlier would be dropped now.
                return false;
            }
            *self.available.entry(*k).or_default() += 1;
        }
        for r in new {
            if let Some(k) = &r.twin {
                match self.available.get_mut(k) {
                    // Dropped, as its twin is in the file.
                    Some(n) if *n > 0 => *n -= 1,
                    _ => return false,
                }
                continue;
            }
            match r.ev {
                Ev::Compacted { event: false, .. } if self.event_compacted => return false,
                Ev::Compacted { event: false, .. } => self.b.set_compacted(),
                Ev::Compacted { event: true, .. } if !self.b.compacted() => {
                    self.event_compacted = true;
                }
                _ => {}
            }
            self.b.apply(r.clone());
        }
        true
    }

    /// The session as folded so far: whole, or only what changed since
    /// the load numbered `since` when that is the last one served.
    fn serve(&mut self, path: &Path, id: &str, since: Option<u64>) -> LiveLoad {
        let mut cut = self.b.take_changed();
        let open = self.b.open_turn_target();
        for at in [self.open_turn, open].into_iter().flatten() {
            cut = cut.min(at);
        }
        let delta = self.served != 0 && since == Some(self.served);
        let from = if delta { cut.min(self.b.len()) } else { 0 };
        let (mut session, _) = self.b.shell(path, id);
        session.messages = self.b.messages_from(from);
        let generation = next_generation();
        let unchanged = delta.then_some(Unchanged {
            base: self.served,
            prefix: from,
        });
        self.served = generation;
        self.open_turn = open;
        LiveLoad {
            session,
            unchanged,
            generation: Some(generation),
        }
    }
}

/// Loads the rollout at `path` (no subagents); `since` is the number of
/// the load the caller holds.
pub(super) fn load(path: &Path, diag: &Diag, since: Option<u64>) -> Result<LiveLoad> {
    let id = super::file_id(path);
    // A reread starts from no state, which always folds.
    let load = LIVE.load(
        path,
        diag,
        2,
        LiveFile::default,
        &mut |st, n, text, complete| {
            parse::add_full_line(path, &mut st.pending, n, text, complete, diag)
        },
        &mut |st| {
            let new = std::mem::take(&mut st.pending);
            let f = match st.folded.take() {
                Some(mut f) => {
                    if !f.place(&new) {
                        // Fold the file again from the start.
                        return None;
                    }
                    f
                }
                None => Box::new(Folded::new(new)),
            };
            Some(st.folded.insert(f).serve(path, &id, since))
        },
    )?;
    match load {
        Some(l) => Ok(l),
        None => Ok(LiveLoad::whole(whole(path, &id, diag)?)),
    }
}

/// The rollout read whole, its kept state left alone.
fn whole(path: &Path, id: &str, diag: &Diag) -> Result<Session> {
    let recs = parse::read_fresh(path, false, diag)?;
    Ok(super::build::build(recs, path, id).session)
}

/// Forgets the rollouts `keep` rejects.
pub(super) fn retain(keep: &dyn Fn(&Path) -> bool) {
    LIVE.retain(keep);
}
