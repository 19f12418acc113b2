//! Warnings about bad input: path:line, once per kind per file.

use std::collections::HashSet;
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
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    seen: HashSet<(PathBuf, String)>,
    warnings: Vec<Warning>,
    suppressed: u64,
}

impl Diag {
    /// Diagnostics that print to stderr.
    pub fn new(verbosity: Verbosity) -> Diag {
        Diag {
            verbosity,
            echo: true,
            inner: Mutex::default(),
        }
    }

    /// Diagnostics that only collect (for tests and library use).
    pub fn silent() -> Diag {
        Diag {
            verbosity: Verbosity::Quiet,
            echo: false,
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
        if !inner.seen.insert((path.to_path_buf(), kind.to_string())) {
            inner.suppressed += 1;
            return;
        }
        let w = Warning {
            path: path.to_path_buf(),
            line,
            kind: kind.to_string(),
            message: message.into(),
        };
        if self.echo && self.verbosity >= Verbosity::Normal {
            eprintln!("{} {w}", crate::term::warning());
        }
        inner.warnings.push(w);
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
        let inner = self.inner.into_inner().unwrap_or_else(|e| e.into_inner());
        for w in inner.warnings {
            to.warn(&w.path, w.line, &w.kind, w.message);
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
