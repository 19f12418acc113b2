//! `watch`'s loads of a session in an OpenCode database (1.2 and 2.x).
//!
//! A load reads, in one read transaction, the session row and a stamp of
//! each message row: its time_updated and data size and, in the 1.2
//! tables, the ids, time_updated and data sizes of its parts (sizes come
//! from the record headers, so this reads no content). A 2.x session
//! (`session_message` rows) is stamped the same way, row by row; a session
//! with rows in both is read whole. Messages up to the first whose stamp
//! changed keep what the last load converted; that one and every later one
//! are read and converted again. OpenCode writes a message (or its parts)
//! while it streams it and may delete the messages after a point (a
//! revert): both change the stamps from there on. Only the messages from
//! the first changed one on are handed on (see
//! [`crate::sources::LiveLoad`]).
//!
//! Reading the stamps costs a lookup per row and part, most of a load's
//! time in a big session, so a load reads those of the last [`TAIL`]
//! messages of the last load and after; the older messages are only
//! counted (from the index), which tells when one was deleted or inserted
//! among them. Their stamps are read again at most every [`RECHECK`].
//! OpenCode rewrites old parts only to mark their output as pruned from
//! the model's context, which changes nothing sharegen shows.

use super::convert::{self, Ctx, Row, TaskLink};
use super::db::{Db, RowStamp, Rows};
use crate::diag::Diag;
use crate::error::Result;
use crate::model::Message;
use crate::sources::{LiveLoad, Served};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

/// How long a session's state is kept without a load.
const KEEP_FOR: Duration = Duration::from_secs(3600);

/// The messages at the end whose rows are stamped at every load.
const TAIL: usize = 8;

/// How often every row is stamped.
const RECHECK: Duration = Duration::from_secs(30);

/// Makes the next load of session `id` from the database at `path` stamp
/// every row (tests).
pub(super) fn recheck_next(path: &Path, id: &str) {
    if let Some(st) = states().get_mut(&(path.to_path_buf(), id.to_string())) {
        st.checked = None;
    }
}

/// What the last load of a session kept.
#[derive(Default)]
struct State {
    stamps: Vec<RowStamp>,
    /// One per stamp.
    rows: Vec<Row>,
    /// The trailing message of file changes.
    diffs: Option<Message>,
    served: Served,
    used: Option<Instant>,
    /// When every row was last stamped.
    checked: Option<Instant>,
    /// The tables the session's messages are in.
    rows_in: Option<Rows>,
    /// How many message rows the last load read.
    read: usize,
}

/// By database and session id.
static STATES: LazyLock<Mutex<HashMap<(PathBuf, String), State>>> = LazyLock::new(Default::default);

/// The kept states, also after a panic elsewhere poisoned the lock (each
/// state is taken out while a load works on it).
fn states() -> std::sync::MutexGuard<'static, HashMap<(PathBuf, String), State>> {
    STATES.lock().unwrap_or_else(|e| e.into_inner())
}

/// Forgets the states of the databases `keep` rejects, and of sessions
/// not loaded for an hour.
pub(super) fn retain(keep: &dyn Fn(&Path) -> bool) {
    let now = Instant::now();
    states().retain(|(path, _), st| {
        keep(path) && st.used.is_some_and(|t| now.duration_since(t) < KEEP_FOR)
    });
}

/// How many message rows the last load of session `id` from the database
/// at `path` read (tests).
pub(super) fn rows_read(path: &Path, id: &str) -> Option<usize> {
    states()
        .get(&(path.to_path_buf(), id.to_string()))
        .map(|st| st.read)
}

/// A session loaded for `watch`, before its subagents are linked.
pub(super) struct Live {
    pub load: LiveLoad,
    pub agent: Option<String>,
    pub tasks: Vec<TaskLink>,
}

/// Loads session `id` of the database at `path` for `watch`, which holds
/// the load numbered `since`. `diffs` reads the session's file changes
/// (`session_diff`) and the files they came from. `None` when the session
/// is not one this reads (see [`Db::live_rows`]) or not in the database.
pub(super) fn load(
    path: &Path,
    id: &str,
    diffs: impl FnOnce() -> Option<(PathBuf, serde_json::Value)>,
    diag: &Diag,
    since: Option<u64>,
) -> Result<Option<Live>> {
    let db = Db::open(path)?;
    let snapshot = db.snapshot()?;
    let Some(info) = db.info(id)? else {
        return Ok(None);
    };
    let key = (path.to_path_buf(), id.to_string());
    let mut st = states().remove(&key).unwrap_or_default();
    let now = Instant::now();
    st.used = Some(now);
    st.read = 0;
    // The rows before the last TAIL of the last load, when they are still
    // as many and a check of every row is not due.
    let all = st.checked.is_none_or(|t| now.duration_since(t) >= RECHECK);
    let tail = st.stamps.len().saturating_sub(TAIL);
    let bound = st
        .stamps
        .get(tail)
        .and_then(RowStamp::bound)
        .filter(|_| !all);
    let kept = match (st.rows_in, bound) {
        (Some(rows), Some(b)) if db.rows_before(rows, id, b)? == tail => Some((rows, b)),
        _ => None,
    };
    let (rows_in, stamps) = match kept {
        Some((rows, b)) => {
            let mut v = st.stamps[..tail].to_vec();
            v.extend(db.live_rows(rows, id, Some(b))?);
            (rows, v)
        }
        None => {
            let Some(rows) = db.live_rows_in(id)? else {
                return Ok(None);
            };
            if st.rows_in != Some(rows) {
                st = State::default();
                st.used = Some(now);
            }
            st.checked = Some(now);
            (rows, db.live_rows(rows, id, None)?)
        }
    };
    st.rows_in = Some(rows_in);
    let same = st
        .stamps
        .iter()
        .zip(&stamps)
        .take_while(|(a, b)| a == b)
        .count();
    let ctx = Ctx { path, diag };
    if same < stamps.len() || same < st.stamps.len() {
        let from = &stamps[same..];
        let bound = from.first().and_then(RowStamp::bound).filter(|_| same > 0);
        let mut read: HashMap<String, convert::RawMessage> = match from.is_empty() {
            true => HashMap::new(),
            false => db
                .read_from(rows_in, id, bound, diag)?
                .into_iter()
                .filter_map(|m| Some((m.id()?.to_string(), m)))
                .collect(),
        };
        st.read = from.len();
        let raw: Vec<Option<convert::RawMessage>> =
            from.iter().map(|s| read.remove(&s.id)).collect();
        if let Some(i) = convert::fold_rows(&mut st.rows, same, raw, &ctx) {
            st.served.touch(i);
        }
        st.served.touch(same);
    }
    drop(snapshot);
    st.stamps = stamps;
    let mut source_paths = vec![path.to_path_buf()];
    let diff_file = diffs();
    if let Some((file, _)) = &diff_file {
        source_paths.push(file.clone());
    }
    let (shell, diffs) = convert::finish(
        id,
        &info,
        &source_paths,
        &st.rows,
        diff_file.as_ref().map(|(_, v)| v),
    );
    if diffs != st.diffs {
        st.served.touch(st.rows.len());
    }
    st.diffs = diffs;
    let tasks = convert::tasks_of(&st.rows);
    let agent = convert::agent_of(&st.rows);
    let State {
        rows,
        diffs,
        served,
        ..
    } = &mut st;
    let messages = rows
        .iter()
        .map(|r| r.message.as_ref())
        .chain(std::iter::once(diffs.as_ref()));
    let load = served.serve(shell, messages, since);
    states().insert(key, st);
    Ok(Some(Live { load, agent, tasks }))
}
