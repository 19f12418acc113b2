//! A listing cache for file-per-session stores: what a scan found in each
//! file, keyed by path and reused while the file's size and mtime are
//! unchanged. It lives in sharegen's cache folder and can be deleted at any
//! time.

use crate::diag::Diag;
use crate::fsutil::write_atomic;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

#[derive(Serialize, Deserialize)]
struct File<T> {
    version: u32,
    entries: BTreeMap<PathBuf, Entry<T>>,
}

#[derive(Serialize, Deserialize, Clone, PartialEq)]
struct Entry<T> {
    size: u64,
    mtime_ns: u128,
    value: T,
}

/// Size and modification time of a file, or `None` when it cannot be read.
pub fn stamp(path: &Path) -> Option<(u64, u128)> {
    let m = std::fs::metadata(path).ok()?;
    let mt = m
        .modified()
        .ok()?
        .duration_since(UNIX_EPOCH)
        .ok()?
        .as_nanos();
    Some((m.len(), mt))
}

/// One cache file. Entries not looked up during a run are dropped when it
/// is saved, so the file only holds what the last listing saw.
pub struct ListCache<T> {
    file: Option<PathBuf>,
    version: u32,
    old: BTreeMap<PathBuf, Entry<T>>,
    new: BTreeMap<PathBuf, Entry<T>>,
}

impl<T: Serialize + DeserializeOwned + Clone + PartialEq> ListCache<T> {
    /// Opens `name` in `dir`; without a folder nothing is cached.
    pub fn open(dir: Option<&Path>, name: &str, version: u32) -> ListCache<T> {
        let file = dir.map(|d| d.join(name));
        let old = file
            .as_deref()
            .and_then(|f| std::fs::read(f).ok())
            .and_then(|b| serde_json::from_slice::<File<T>>(&b).ok())
            .filter(|f| f.version == version)
            .map(|f| f.entries)
            .unwrap_or_default();
        ListCache {
            file,
            version,
            old,
            new: BTreeMap::new(),
        }
    }

    /// The cached value for `path` when the file is unchanged, else what
    /// `scan` returns (then cached). `None` when the file cannot be read.
    pub fn get_or_scan(&mut self, path: &Path, scan: impl FnOnce() -> T) -> Option<T> {
        let (size, mtime_ns) = stamp(path)?;
        let entry = match self.old.get(path) {
            Some(e) if e.size == size && e.mtime_ns == mtime_ns => e.clone(),
            _ => Entry {
                size,
                mtime_ns,
                value: scan(),
            },
        };
        let value = entry.value.clone();
        self.new.insert(path.to_path_buf(), entry);
        Some(value)
    }

    /// The cached value for `path` if the file is unchanged since it was
    /// cached, without scanning or recording anything.
    pub fn peek(&self, path: &Path) -> Option<&T> {
        let (size, mtime_ns) = stamp(path)?;
        self.old
            .get(path)
            .filter(|e| e.size == size && e.mtime_ns == mtime_ns)
            .map(|e| &e.value)
    }

    /// Writes the cache when it changed.
    pub fn save(self, diag: &Diag) {
        let Some(file) = self.file else { return };
        if self.new == self.old {
            return;
        }
        let f = File {
            version: self.version,
            entries: self.new,
        };
        if let Ok(bytes) = serde_json::to_vec(&f)
            && let Err(e) = write_atomic(&file, &bytes, Some(0o600))
        {
            diag.info(format!("could not write the list cache: {e}"));
        }
    }
}
