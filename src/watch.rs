//! `sharegen watch`: re-render shared sessions as they change.
//!
//! The folders holding each share's sources (session files, subagent
//! folders, a database and its `-wal` file) and the share list are watched
//! with notify. Events are coalesced until the debounce interval passes
//! without a new one; then an incremental site build re-renders only the
//! shares whose sources changed (see [`crate::site`]). Between events the
//! loop blocks: no polling, no CPU.

use crate::diag::Diag;
use crate::error::{Error, Result};
use notify::{RecursiveMode, Watcher};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant};

/// What wakes the loop.
pub enum Msg {
    Fs(notify::Result<notify::Event>),
    Stop,
}

/// A channel for the loop; keep the sender to stop it (Ctrl-C, tests).
pub fn channel_pair() -> (Sender<Msg>, Receiver<Msg>) {
    channel()
}

/// What the watch loop needs from its caller.
pub trait Driver {
    /// Rebuilds the site; returns the folders to watch afterwards.
    fn rebuild(&mut self) -> Result<Vec<PathBuf>>;
}

/// Events that matter: changes under watched folders.
fn relevant(ev: &notify::Event) -> bool {
    use notify::EventKind::*;
    matches!(ev.kind, Create(_) | Modify(_) | Remove(_) | Any)
        && !ev.paths.iter().all(|p| {
            // sharegen's own temporary files and the lock.
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(".sharegen-") || n == "shares.lock")
        })
}

/// The folder to watch for a path: itself when it is a folder, else its
/// parent (so a file deleted and recreated is still seen). Missing paths
/// climb to the nearest existing ancestor, so a store that appears later
/// is noticed.
pub fn watch_target(p: &Path) -> Option<PathBuf> {
    let mut cur = if p.is_dir() { Some(p) } else { p.parent() };
    while let Some(c) = cur {
        if c.is_dir() {
            return Some(c.to_path_buf());
        }
        cur = c.parent();
    }
    None
}

/// Runs until a [`Msg::Stop`] arrives on `rx`. Each batch of events
/// (quiet for `debounce`) triggers one rebuild. Returns the number of
/// rebuilds, the first one included.
pub fn run(
    driver: &mut dyn Driver,
    extra_dirs: &[PathBuf],
    debounce: Duration,
    (tx, rx): (Sender<Msg>, Receiver<Msg>),
    diag: &Diag,
) -> Result<u64> {
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        let _ = tx.send(Msg::Fs(res));
    })
    .map_err(|e| Error::Usage(format!("cannot watch files: {e}")))?;
    let mut watched: BTreeSet<PathBuf> = BTreeSet::new();
    let mut rebuilds = 0u64;
    let mut refresh = |dirs: Vec<PathBuf>, watcher: &mut notify::RecommendedWatcher| {
        let want: BTreeSet<PathBuf> = dirs
            .iter()
            .chain(extra_dirs)
            .filter_map(|p| watch_target(p))
            .collect();
        for gone in watched.difference(&want) {
            let _ = watcher.unwatch(gone);
        }
        for new in want.difference(&watched) {
            if let Err(e) = watcher.watch(new, RecursiveMode::NonRecursive) {
                diag.warn(new, None, "watch", format!("cannot watch: {e}"));
            }
        }
        watched = want;
    };
    let dirs = driver.rebuild()?;
    rebuilds += 1;
    refresh(dirs, &mut watcher);
    // A change made while the first build ran, before the folders were
    // watched, would otherwise wait for the next event: one more
    // (incremental, usually empty) build picks it up.
    let dirs = driver.rebuild()?;
    rebuilds += 1;
    refresh(dirs, &mut watcher);
    diag.info("watching for changes");
    loop {
        match wait_for_batch(&rx, debounce, diag) {
            Batch::Stop => break,
            Batch::Changed => {}
        }
        match driver.rebuild() {
            Ok(dirs) => refresh(dirs, &mut watcher),
            // Said every time, not once per process as a warning about a
            // file is: the next change may fail again, or differently.
            Err(e) => {
                if diag.verbosity() > crate::diag::Verbosity::Quiet {
                    eprintln!("{} watch: rebuild failed: {e}", crate::term::warning());
                }
            }
        }
        rebuilds += 1;
    }
    Ok(rebuilds)
}

enum Batch {
    Changed,
    Stop,
}

/// Blocks (without a timer) until a relevant event arrives, then until
/// `debounce` passes without another.
fn wait_for_batch(rx: &Receiver<Msg>, debounce: Duration, diag: &Diag) -> Batch {
    let first = loop {
        match rx.recv() {
            Ok(Msg::Fs(Ok(ev))) if relevant(&ev) => break ev,
            Ok(Msg::Fs(Ok(_))) => continue,
            Ok(Msg::Fs(Err(e))) => {
                diag.info(format!("watch error: {e}"));
                continue;
            }
            Ok(Msg::Stop) | Err(_) => return Batch::Stop,
        }
    };
    diag.info(format!("change: {:?}", first.paths));
    let mut deadline = Instant::now() + debounce;
    loop {
        let now = Instant::now();
        if now >= deadline {
            return Batch::Changed;
        }
        match rx.recv_timeout(deadline - now) {
            Ok(Msg::Fs(Ok(ev))) if relevant(&ev) => deadline = Instant::now() + debounce,
            Ok(Msg::Fs(_)) => {}
            Ok(Msg::Stop) => return Batch::Stop,
            Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {
                return Batch::Changed;
            }
        }
    }
}
