//! Warnings about bad input: path:line, once per kind per file, and at the
//! end of a command how many more of each kind were not shown.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// How chatty diagnostics are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// A warning about input sharegen could only partly read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub path: PathBuf,
    pub line: Option<u64>,
    pub kind: String,
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}: {}", self.path.display(), l, self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

/// Collects warnings, printing each (path, kind) pair once to stderr.
#[derive(Debug)]
pub struct Diag {
    verbosity: Verbosity,
    echo: bool,
    /// Warnings are kept, not printed, until passed on (see [`Diag::scan`]).
    defer: bool,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// The first warning of each (file, kind), in the order recorded.
    warnings: Vec<Warning>,
    /// One per (file, kind) recorded.
    tallies: HashMap<(PathBuf, String), Tally>,
}

/// The warnings of one kind in one file after the first.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    more: u64,
    /// The last line counted (0: none): a file read again (listed, then
    /// loaded) warns again about lines up to it, which are not counted
    /// twice.
    last_line: u64,
}

impl Diag {
    /// Diagnostics that print to stderr.
    pub fn new(verbosity: Verbosity) -> Diag {
        Diag {
            verbosity,
            echo: true,
            defer: false,
            inner: Mutex::default(),
        }
    }

    /// Diagnostics that only collect (for tests and library use).
    pub fn silent() -> Diag {
        Diag {
            verbosity: Verbosity::Quiet,
            echo: false,
            defer: false,
            inner: Mutex::default(),
        }
    }

    /// For a pass over files that are then read again, such as listing the
    /// stores to find the session to load: says its info lines as this one
    /// would, and keeps its warnings for [`Diag::forward_firsts_to`], so that
    /// what the second reading warns about again is not counted twice.
    pub fn scan(&self) -> Diag {
        Diag {
            verbosity: self.verbosity,
            echo: self.echo,
            defer: true,
            inner: Mutex::default(),
        }
    }

    pub fn verbosity(&self) -> Verbosity {
        self.verbosity
    }

    /// Records a warning unless one of the same kind was already recorded
    /// for this file.
    pub fn warn(&self, path: &Path, line: Option<u64>, kind: &str, message: impl Into<String>) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let key = (path.to_path_buf(), kind.to_string());
        if let Some(t) = inner.tallies.get_mut(&key) {
            match line {
                // A line read before, by an earlier reading of the file.
                Some(l) if l <= t.last_line => {}
                Some(l) => {
                    t.more += 1;
                    t.last_line = l;
                }
                None => t.more += 1,
            }
            return;
        }
        let last_line = line.unwrap_or(0);
        inner.tallies.insert(key, Tally { more: 0, last_line });
        let w = Warning {
            path: path.to_path_buf(),
            line,
            kind: kind.to_string(),
            message: message.into(),
        };
        if self.echo && !self.defer && self.verbosity >= Verbosity::Normal {
            eprintln!("{} {w}", crate::term::warning());
        }
        inner.warnings.push(w);
    }

    /// Warns that the file `path` was skipped because of `e` (kind
    /// `unreadable`): one file that cannot be read does not stop a listing.
    pub fn skipped(&self, path: &Path, e: &crate::Error) {
        self.warn(
            path,
            None,
            "unreadable",
            format!("skipped: {}", e.cause_at(path)),
        );
    }

    /// Prints an informational line when verbose.
    pub fn info(&self, message: impl AsRef<str>) {
        if self.echo && self.verbosity >= Verbosity::Verbose {
            eprintln!("{}", message.as_ref());
        }
    }

    /// Hands what this one recorded to `to`, in order, as if it had been
    /// recorded there (a file read in parallel pieces records each piece's
    /// warnings silently, then forwards them piece by piece, so the line
    /// reported for each kind is the first, as in a sequential read).
    pub fn forward_to(self, to: &Diag) {
        self.forward(to, true, |_| true);
    }

    /// Passes on only the first warning of each kind and file, not how
    /// many more there were (see [`Diag::scan`]).
    pub fn forward_firsts_to(self, to: &Diag) {
        self.forward(to, false, |_| true);
    }

    /// Like [`Diag::forward_firsts_to`], for the warnings about the files
    /// `about` accepts only: finding one session by listing all of them
    /// should not warn about the others.
    pub fn forward_firsts_about(self, to: &Diag, about: impl Fn(&Path) -> bool) {
        self.forward(to, false, about);
    }

    fn forward(self, to: &Diag, with_counts: bool, about: impl Fn(&Path) -> bool) {
        let inner = self.inner.into_inner().unwrap_or_else(|e| e.into_inner());
        for w in inner.warnings {
            if about(&w.path) {
                to.warn(&w.path, w.line, &w.kind, w.message);
            }
        }
        if !with_counts {
            return;
        }
        let mut to = to.inner.lock().unwrap_or_else(|e| e.into_inner());
        for (key, piece) in inner.tallies {
            let t = to.tallies.entry(key).or_default();
            // Lines after the last one counted (a piece's repeats are all
            // after its first, which `warn` has just counted or not).
            if piece.last_line == 0 || piece.last_line > t.last_line {
                t.more += piece.more;
                t.last_line = t.last_line.max(piece.last_line);
            }
        }
    }

    /// How many warnings of `kind` were recorded for `path`, the one shown
    /// included.
    pub fn count(&self, path: &Path, kind: &str) -> u64 {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let key = (path.to_path_buf(), kind.to_string());
        inner.tallies.get(&key).map_or(0, |t| 1 + t.more)
    }

    /// For each warning shown that recurred in its file, one line saying how
    /// many more there were: each kind is shown once per file, so without
    /// this a file with a thousand bad lines would look like one with one.
    pub fn summary(&self) -> Vec<String> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner
            .warnings
            .iter()
            .filter_map(|w| {
                let n = inner.tallies.get(&(w.path.clone(), w.kind.clone()))?.more;
                if n == 0 {
                    return None;
                }
                let s = if n == 1 { "" } else { "s" };
                let more = match w.line {
                    Some(l) => format!("{n} more line{s} had the same problem as line {l}"),
                    None => format!("the same warning {n} more time{s}"),
                };
                Some(format!("{}: {more}", w.path.display()))
            })
            .collect()
    }

    /// Prints [`Diag::summary`] to stderr (not when quiet).
    pub fn print_summary(&self) {
        if !self.echo || self.verbosity < Verbosity::Normal {
            return;
        }
        for line in self.summary() {
            eprintln!("{} {line}", crate::term::warning());
        }
    }

    /// The kind and line of each warning recorded (tests).
    #[cfg(test)]
    pub(crate) fn kinds_and_lines(&self) -> Vec<(String, Option<u64>)> {
        self.warnings()
            .into_iter()
            .map(|w| (w.kind, w.line))
            .collect()
    }

    pub fn warnings(&self) -> Vec<Warning> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .warnings
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_are_counted_per_file_and_kind_and_summed_when_forwarded() {
        let (a, b) = (Path::new("a.jsonl"), Path::new("b.jsonl"));
        let to = Diag::silent();
        to.warn(a, Some(2), "malformed", "bad");
        to.warn(a, Some(5), "malformed", "bad");
        to.warn(a, Some(7), "unknown", "odd");
        to.warn(b, None, "malformed", "bad");
        // A piece read on its own records its own first and repeats.
        let piece = Diag::silent();
        piece.warn(a, Some(9), "malformed", "bad");
        piece.warn(a, Some(11), "malformed", "bad");
        piece.warn(b, None, "malformed", "bad");
        piece.forward_to(&to);
        assert_eq!(to.count(a, "malformed"), 4);
        assert_eq!(to.count(a, "unknown"), 1);
        assert_eq!(to.count(b, "malformed"), 2);
        assert_eq!(to.count(b, "unknown"), 0);
        assert_eq!(
            to.summary(),
            [
                "a.jsonl: 3 more lines had the same problem as line 2",
                "b.jsonl: the same warning 1 more time",
            ]
        );
        // The first of each kind is the one kept (and shown).
        assert_eq!(to.kinds_and_lines().len(), 3);
    }

    #[test]
    fn a_file_read_again_is_not_counted_twice() {
        let a = Path::new("a.jsonl");
        let to = Diag::silent();
        // Listed first: only the first warning is passed on.
        let scan = to.scan();
        for l in [2, 3, 4] {
            scan.warn(a, Some(l), "malformed", "bad");
        }
        scan.forward_firsts_to(&to);
        assert_eq!(to.count(a, "malformed"), 1);
        assert!(to.summary().is_empty());
        // Then loaded whole, in two pieces.
        let (p1, p2) = (Diag::silent(), Diag::silent());
        for l in [2, 3] {
            p1.warn(a, Some(l), "malformed", "bad");
        }
        p2.warn(a, Some(4), "malformed", "bad");
        p1.forward_to(&to);
        p2.forward_to(&to);
        assert_eq!(to.count(a, "malformed"), 3);
        // Loaded whole once more: nothing new.
        for l in [2, 3, 4] {
            to.warn(a, Some(l), "malformed", "bad");
        }
        assert_eq!(to.count(a, "malformed"), 3);
        assert_eq!(to.kinds_and_lines(), [("malformed".to_string(), Some(2))]);
    }
}
