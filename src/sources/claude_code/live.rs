//! `watch`'s load of a main Claude Code transcript: the records appended
//! since the last rebuild are folded into the messages kept from it (see
//! [`Fold`]), and only the messages that changed are handed on.
//!
//! Records are folded in the order [`parse::order`] gives: a depth-first
//! walk of the `parentUuid` tree, children by timestamp. A new record
//! usually lands at the end of that walk, and is folded there. When it
//! lands before the end, it is still folded at once if everything after it
//! in the walk is inert (see [`Fold::apply`]): that is what parallel tool
//! calls leave, a result branch that ends while the conversation goes on
//! from its sibling. Anything else (a branch off an earlier point, a
//! prompt beside another one, which is a rewind, a uuid written again, a
//! record that earlier ones name as their parent, a sidechain) makes the
//! transcript be read and folded again from the start. Transcripts with sidechains or parent cycles are built from all
//! their records on each load, as `export` does.

use super::fold::Fold;
use super::parse::{self, Link, ParsedFile, Rec};
use crate::diag::Diag;
use crate::error::Result;
use crate::sources::{LiveLoad, Unchanged, jsonl, next_generation};
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};

/// The kept state of each main transcript `watch` follows.
static LIVE: LazyLock<jsonl::Tails<LiveFile>> = LazyLock::new(jsonl::Tails::default);

/// Transcripts built from all their records on each load.
static BATCH: LazyLock<Mutex<HashSet<PathBuf>>> = LazyLock::new(Mutex::default);

fn batch_paths() -> std::sync::MutexGuard<'static, HashSet<PathBuf>> {
    BATCH.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Default)]
struct LiveFile {
    /// The file's metadata, and the records read but not folded yet (all
    /// of them for a transcript built in batch).
    parsed: ParsedFile,
    folded: Option<Box<Folded>>,
    batch: bool,
}

/// A transcript folded so far.
struct Folded {
    fold: Fold,
    /// Parents named by records but not seen.
    dangling: HashSet<String>,
    walk: Walk,
    /// The number of the last load served (0: none).
    served: u64,
    /// The subagent links of the last load served.
    links: Vec<Link>,
}

/// The records in walk order. Records are folded in the order they come,
/// which is not always walk order: what is folded must still be what
/// folding in walk order gives. It is when the records that are not inert
/// (see [`Fold::apply`]) are in the same order in both, and no two records
/// that changed places hold a result for the same call.
#[derive(Default)]
struct Walk {
    nodes: Vec<Node>,
    /// Where each record id is in `nodes`.
    at: HashMap<String, usize>,
}

struct Node {
    uuid: Option<String>,
    /// The parent named, when it is a record of the walk (or was named
    /// before it was seen).
    parent: Option<String>,
    depth: u32,
    time: Option<DateTime<Utc>>,
    inert: bool,
    /// The ids of the tool results it holds.
    results: Vec<String>,
    /// A prompt the user typed, and whether it is on a rewound branch
    /// (see [`parse::order`]).
    prompt: bool,
    rewound: bool,
}

impl Node {
    fn of(r: &Rec, depth: u32) -> Node {
        Node {
            uuid: r.uuid.clone(),
            parent: r
                .parent
                .clone()
                .filter(|p| r.uuid.as_deref() != Some(p.as_str())),
            depth,
            time: r.time,
            inert: false,
            results: result_ids(r),
            prompt: r.is_prompt(),
            rewound: r.rewound,
        }
    }
}

impl Walk {
    /// Where `r` lands in the walk, and its depth.
    fn landing(&self, r: &Rec) -> (usize, u32) {
        let n = self.nodes.len();
        let parent = r
            .parent
            .as_deref()
            .filter(|p| r.uuid.as_deref() != Some(*p));
        match parent.and_then(|p| self.at.get(p)) {
            Some(&ip) => {
                let pd = self.nodes[ip].depth;
                let mut j = ip + 1;
                while j < n && self.nodes[j].depth > pd {
                    // Children by time; a tie goes after (file order).
                    if self.nodes[j].depth == pd + 1 && self.nodes[j].time > r.time {
                        break;
                    }
                    j += 1;
                }
                (j, pd + 1)
            }
            None => {
                let j = (0..n)
                    .find(|&j| self.nodes[j].depth == 0 && self.nodes[j].time > r.time)
                    .unwrap_or(n);
                (j, 0)
            }
        }
    }

    /// Whether `r` would change which branches are rewound (see
    /// [`parse::order`]): it is a prompt beside another prompt, or lands
    /// on a rewound branch.
    fn rewinds(&self, r: &Rec) -> bool {
        let parent = r
            .parent
            .as_deref()
            .filter(|p| r.uuid.as_deref() != Some(*p))
            .and_then(|p| self.at.get(p).copied());
        let Some(ip) = parent else {
            return false;
        };
        if self.nodes[ip].rewound {
            return true;
        }
        if !r.is_prompt() {
            return false;
        }
        let d = self.nodes[ip].depth + 1;
        (ip + 1..self.subtree_end(ip)).any(|j| {
            self.nodes[j].depth == d && self.nodes[j].prompt && self.nodes[j].uuid.is_some()
        })
    }

    /// The end of the subtree that starts at `i`.
    fn subtree_end(&self, i: usize) -> usize {
        let d = self.nodes[i].depth;
        (i + 1..self.nodes.len())
            .find(|&j| self.nodes[j].depth <= d)
            .unwrap_or(self.nodes.len())
    }

    /// The walk with `node` (to be folded after everything folded so far)
    /// put at `x`, and the subtrees at `adopted` (roots that name it as
    /// their parent, all after `x`) moved under it; `None` when folding it
    /// now would not give what folding in walk order gives.
    fn with(&self, x: usize, node: Node, adopted: &[(usize, usize)]) -> Option<Vec<Node>> {
        let moved = |k: usize| adopted.iter().any(|&(a, b)| (a..b).contains(&k));
        let old: Vec<usize> = (x..self.nodes.len()).collect();
        let mut new: Vec<usize> = adopted.iter().flat_map(|&(a, b)| a..b).collect();
        new.extend(old.iter().copied().filter(|&k| !moved(k)));
        // The records that are not inert keep their order; this one is
        // folded last.
        let not_inert = |v: &[usize]| -> Vec<usize> {
            v.iter()
                .copied()
                .filter(|&k| !self.nodes[k].inert)
                .collect()
        };
        let before = not_inert(&old);
        if !node.inert && !before.is_empty() || not_inert(&new) != before {
            return None;
        }
        // A call's first result wins: no result of this record may be
        // held by one after it, and none may be held twice among those
        // that moved.
        let held = |k: &usize| self.nodes[*k].results.iter();
        if old
            .iter()
            .flat_map(held)
            .any(|id| node.results.contains(id))
        {
            return None;
        }
        if !adopted.is_empty() {
            let mut seen = HashSet::new();
            if !old.iter().flat_map(held).all(|id| seen.insert(id)) {
                return None;
            }
        }
        let shift = node.depth + 1;
        let mut out = Vec::with_capacity(new.len() + 1);
        out.push(node);
        for k in new {
            let n = &self.nodes[k];
            out.push(Node {
                uuid: n.uuid.clone(),
                parent: n.parent.clone(),
                depth: n.depth + if moved(k) { shift } else { 0 },
                time: n.time,
                inert: n.inert,
                results: n.results.clone(),
                prompt: n.prompt,
                rewound: n.rewound,
            });
        }
        Some(out)
    }

    /// Replaces the walk from `x` on with `region`.
    fn replace_from(&mut self, x: usize, region: Vec<Node>) {
        self.nodes.truncate(x);
        for (k, n) in region.into_iter().enumerate() {
            if let Some(u) = &n.uuid {
                self.at.insert(u.clone(), x + k);
            }
            self.nodes.push(n);
        }
    }
}

/// The ids of the tool results `r` holds.
fn result_ids(r: &Rec) -> Vec<String> {
    match &r.body {
        parse::Body::User { results, .. } => results.iter().map(|(id, _)| id.clone()).collect(),
        _ => Vec::new(),
    }
}

/// Loads the transcript at `path` with its subagents; `since` is the
/// number of the load the caller holds.
pub(super) fn load(path: &Path, diag: &Diag, since: Option<u64>) -> Result<LiveLoad> {
    let id = parse::file_id(path);
    // A reread starts folding afresh, which either folds or switches to
    // batch; a cycle found then needs one more read, in batch.
    let load = LIVE.load(
        path,
        diag,
        3,
        || LiveFile {
            batch: batch_paths().contains(path),
            ..LiveFile::default()
        },
        &mut |st, n, text, complete| parse::add_line(path, &mut st.parsed, n, text, complete, diag),
        &mut |st| step(st, &id, path, diag, since),
    )?;
    match load {
        Some(l) => Ok(l),
        None => Ok(LiveLoad::whole(whole(path, &id, diag)?)),
    }
}

/// The transcript read whole, its parser state left alone.
fn whole(path: &Path, id: &str, diag: &Diag) -> Result<crate::model::Session> {
    let file = std::fs::File::open(path).map_err(|e| crate::error::Error::io(path, e))?;
    let parsed = parse::parse_reader(path, file, diag)?;
    Ok(batch_session(parsed, id, path, diag))
}

/// What `export` makes of a transcript's records.
fn batch_session(parsed: ParsedFile, id: &str, path: &Path, diag: &Diag) -> crate::model::Session {
    let (mut main, mut agents) = parse::main_and_sidechains(id, parsed, path);
    agents.extend(parse::load_agent_files(path, id, diag));
    parse::link_subagents(&mut main, agents);
    main
}

/// The load from the kept state; `None` to fold the file again from the
/// start.
fn step(
    st: &mut LiveFile,
    id: &str,
    path: &Path,
    diag: &Diag,
    since: Option<u64>,
) -> Option<LiveLoad> {
    if st.batch {
        let s = batch_session(st.parsed.clone(), id, path, diag);
        return Some(LiveLoad::whole(s));
    }
    let recs = std::mem::take(&mut st.parsed.recs);
    let folded = match st.folded.take() {
        Some(mut f) => {
            for r in recs {
                if !f.place(r) {
                    return None;
                }
            }
            f
        }
        None => {
            if recs.iter().any(|r| r.sidechain) {
                batch_paths().insert(path.to_path_buf());
                st.batch = true;
                st.parsed.recs = recs;
                return step(st, id, path, diag, since);
            }
            match Folded::new(recs) {
                Some(f) => Box::new(f),
                None => {
                    batch_paths().insert(path.to_path_buf());
                    return None;
                }
            }
        }
    };
    let f = st.folded.insert(folded);
    Some(f.serve(&st.parsed, id, path, diag, since))
}

impl Folded {
    /// Folds a whole transcript's records (no sidechains); `None` when
    /// their parents form a cycle.
    fn new(recs: Vec<Rec>) -> Option<Folded> {
        let dangling: HashSet<String> = {
            let uuids: HashSet<&str> = recs.iter().filter_map(|r| r.uuid.as_deref()).collect();
            recs.iter()
                .filter_map(|r| r.parent.as_deref())
                .filter(|p| !uuids.contains(p))
                .map(str::to_string)
                .collect()
        };
        let (ordered, cyclic) = parse::order_checked(recs);
        if cyclic {
            return None;
        }
        let mut walk = Walk::default();
        let mut fold = Fold::default();
        for r in ordered {
            // In walk order: every parent is already there.
            let depth = r
                .parent
                .as_deref()
                .filter(|p| r.uuid.as_deref() != Some(*p))
                .and_then(|p| walk.at.get(p))
                .map_or(0, |&ip| walk.nodes[ip].depth + 1);
            let mut node = Node::of(&r, depth);
            if let Some(u) = &node.uuid {
                walk.at.insert(u.clone(), walk.nodes.len());
            }
            node.inert = fold.apply(r);
            walk.nodes.push(node);
        }
        Some(Folded {
            fold,
            dangling,
            walk,
            served: 0,
            links: Vec::new(),
        })
    }

    /// Folds `r`, the next record of the file, if folding it now gives
    /// what folding the records in walk order gives; false otherwise.
    fn place(&mut self, r: Rec) -> bool {
        // Every record id seen is in the walk (a copy of a record is not).
        if r.sidechain
            || r.uuid
                .as_ref()
                .is_some_and(|u| self.walk.at.contains_key(u))
        {
            return false;
        }
        if self.walk.rewinds(&r) {
            return false;
        }
        let (x, depth) = self.walk.landing(&r);
        // Records that named it as their parent before it came.
        let mut adopted = Vec::new();
        if let Some(u) = r.uuid.as_deref()
            && self.dangling.contains(u)
        {
            let mut i = 0;
            while i < self.walk.nodes.len() {
                let end = self.walk.subtree_end(i);
                let n = &self.walk.nodes[i];
                if n.depth == 0 && n.parent.as_deref() == Some(u) {
                    if i < x || n.prompt {
                        return false;
                    }
                    adopted.push((i, end));
                }
                i = end;
            }
        }
        let mut node = Node::of(&r, depth);
        node.inert = self.fold.inert(&r.body);
        let Some(region) = self.walk.with(x, node, &adopted) else {
            return false;
        };
        if let Some(u) = &r.uuid {
            self.dangling.remove(u);
        }
        if let Some(p) = r.parent.as_deref()
            && r.uuid.as_deref() != Some(p)
            && !self.walk.at.contains_key(p)
        {
            self.dangling.insert(p.to_string());
        }
        self.fold.apply(r);
        self.walk.replace_from(x, region);
        true
    }

    /// The session as folded so far: whole, or only what changed since
    /// the load numbered `since` when that is the last one served.
    fn serve(
        &mut self,
        parsed: &ParsedFile,
        id: &str,
        path: &Path,
        diag: &Diag,
        since: Option<u64>,
    ) -> LiveLoad {
        let mut cut = self.fold.take_changed();
        let at = &self.walk.at;
        let mut session =
            parse::session_around(id.to_string(), &parsed.meta, path, &self.fold, &|u| {
                at.contains_key(u)
            });
        let agents = parse::load_agent_files(path, id, diag);
        let links = parse::link_subagents_of(self.fold.messages(), &mut session.subagents, agents);
        if let Some(at) = first_difference(&self.links, &links) {
            cut = cut.min(at);
        }
        let delta = self.served != 0 && since == Some(self.served);
        let from = if delta { cut } else { 0 };
        session.messages = self
            .fold
            .messages_from(from, |own| parse::set_links(own, from, &links));
        let generation = next_generation();
        let unchanged = delta.then(|| Unchanged {
            base: self.served,
            prefix: self.fold.positions_before(from),
        });
        self.served = generation;
        self.links = links;
        LiveLoad {
            session,
            unchanged,
            generation: Some(generation),
        }
    }
}

/// The first message whose links differ between `old` and `new`.
fn first_difference(old: &[Link], new: &[Link]) -> Option<usize> {
    for (a, b) in old.iter().zip(new) {
        if a != b {
            return Some(a.msg.min(b.msg));
        }
    }
    match old.len().cmp(&new.len()) {
        std::cmp::Ordering::Less => Some(new[old.len()].msg),
        std::cmp::Ordering::Greater => Some(old[new.len()].msg),
        std::cmp::Ordering::Equal => None,
    }
}

/// Forgets the transcripts `keep` rejects.
pub(super) fn retain(keep: &dyn Fn(&Path) -> bool) {
    LIVE.retain(keep);
    batch_paths().retain(|p| keep(p));
}

/// How the last load read `path`.
pub(super) fn last_read(path: &Path) -> Option<jsonl::TailRead> {
    LIVE.last_read(path)
}
