//! Checking `watch`'s incremental loads (`Source::load_live`) while a
//! session file grows: the load put together with the previous one must
//! be what a fresh read gives.

use super::Lcg;
use sharegen::diag::Diag;
use sharegen::model::Session;
use sharegen::sources::{SessionRef, Source};
use std::io::Write;
use std::path::Path;

/// Counts over the steps of a growth.
#[derive(Default, Debug)]
pub struct Stats {
    pub steps: usize,
    /// Loads that handed on only the changed messages.
    pub partial: usize,
    /// Whole loads after the first.
    pub whole: usize,
}

impl Stats {
    pub fn add(&mut self, o: &Stats) {
        self.steps += o.steps;
        self.partial += o.partial;
        self.whole += o.whole;
    }
}

/// Up to `steps` random places to cut `len` bytes at, ending with `len`.
pub fn cuts(len: usize, steps: usize, rng: &mut Lcg) -> Vec<usize> {
    let n = steps.min(len).max(1);
    let mut cuts: Vec<usize> = (0..n - 1)
        .map(|_| (rng.next() as usize) % len.max(1))
        .collect();
    cuts.push(len);
    cuts.sort();
    cuts
}

/// Appends `bytes` to `path`.
pub fn append(path: &Path, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(bytes).unwrap();
}

/// The session as JSON without its file paths (a fresh read happens in a
/// copy of the store).
pub fn without_paths(mut s: Session) -> serde_json::Value {
    fn strip(s: &mut Session) {
        s.source_paths.clear();
        for a in &mut s.subagents {
            strip(&mut a.session);
        }
    }
    strip(&mut s);
    serde_json::to_value(&s).unwrap()
}

/// One incremental load of `r` by `source`, put together with `held` (the
/// last load and its number), checked against `want`; `held` becomes this
/// load.
pub fn check_load(
    name: &str,
    at: &str,
    source: &dyn Source,
    r: &SessionRef,
    held: &mut Option<(u64, Session)>,
    stats: &mut Stats,
    want: Session,
) {
    let since = held.as_ref().map(|(g, _)| *g);
    let load = source.load_live(r, &Diag::silent(), since).unwrap();
    let mut s = load.session;
    match load.unchanged {
        Some(u) => {
            let (g, prev) = held.take().unwrap();
            assert_eq!(u.base, g, "{name}: a delta on another load");
            let mut msgs = prev.messages[..u.prefix].to_vec();
            msgs.append(&mut s.messages);
            s.messages = msgs;
            stats.partial += 1;
        }
        None if held.is_some() => stats.whole += 1,
        None => {}
    }
    stats.steps += 1;
    assert!(
        without_paths(s.clone()) == without_paths(want),
        "{name}: {at}: the incremental load differs from a fresh read"
    );
    *held = load.generation.map(|g| (g, s));
}
