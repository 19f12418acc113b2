//! Library errors. Every I/O error names its path.

use std::io;
use std::path::PathBuf;

/// Exit codes, documented in README and `--help`.
pub mod exit {
    pub const OK: i32 = 0;
    pub const ERROR: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const REFUSED: i32 = 3;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    // The cause is in the message, so it is not also the error's
    // `source()`: `{:#}` (main's error line) would print it twice.
    #[error("{}: {err}", path.display())]
    Io { path: PathBuf, err: io::Error },

    #[error("{}: {message}", path.display())]
    Parse { path: PathBuf, message: String },

    #[error("{}: database error: {err}", path.display())]
    Sqlite { path: PathBuf, err: rusqlite::Error },

    #[error("no session matches `{query}` (searched: {searched})")]
    UnknownSession { query: String, searched: String },

    #[error("`{query}` matches {} sessions; name one by its id (or a longer prefix):\n{}", candidates.len(), candidates.join("\n"))]
    AmbiguousSession {
        query: String,
        candidates: Vec<String>,
    },

    #[error("{0}")]
    Usage(String),

    /// A publish target refused or failed; `target` carries no credentials.
    #[error("publishing to {target}: {message}")]
    Publish { target: String, message: String },

    #[error("{0}")]
    Refused(String),
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, err: io::Error) -> Error {
        Error::Io {
            path: path.into(),
            err,
        }
    }

    pub fn parse(path: impl Into<PathBuf>, message: impl Into<String>) -> Error {
        Error::Parse {
            path: path.into(),
            message: message.into(),
        }
    }

    pub fn publish(target: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Publish {
            target: target.into(),
            message: message.into(),
        }
    }

    pub fn sqlite(path: impl Into<PathBuf>, err: rusqlite::Error) -> Error {
        Error::Sqlite {
            path: path.into(),
            err,
        }
    }

    /// What went wrong, for a warning about `file`: without the file's
    /// name when the error names that file.
    pub fn cause_at(&self, file: &std::path::Path) -> String {
        match self {
            Error::Io { path, err } if path == file => err.to_string(),
            Error::Parse { path, message } if path == file => message.clone(),
            Error::Sqlite { path, err } if path == file => format!("database error: {err}"),
            e => e.to_string(),
        }
    }

    /// The process exit code this error maps to.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::UnknownSession { .. } | Error::AmbiguousSession { .. } | Error::Usage(_) => {
                exit::USAGE
            }
            Error::Refused(_) => exit::REFUSED,
            _ => exit::ERROR,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Adds the path to an `io::Result`.
pub trait IoContext<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|e| Error::io(path, e))
    }
}
