//! The share allowlist: `shares.json` in sharegen's home. Nothing is
//! rendered or published unless it is listed here.
//!
//! The file has a versioned schema, is written atomically (temporary file,
//! fsync, rename) with mode 0600, and every read-modify-write holds an
//! exclusive lock on `shares.lock`, so concurrent `share`/`unshare`/`watch`
//! never lose an entry.

use crate::error::{Error, IoContext, Result};
use crate::fsutil::write_atomic;
use crate::model::Agent;
use crate::protect::Protection;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::path::{Path, PathBuf};

/// The newest share list this sharegen reads. Version 2 adds
/// [`Share::protection`]; a list is written as version 2 only while a share
/// is protected, so that a sharegen that knows nothing of protection
/// refuses the list instead of publishing those pages in clear.
pub const SHARES_VERSION: u32 = 2;
/// The version written for lists without a protected share.
pub const SHARES_VERSION_PLAIN: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Share {
    pub share_id: String,
    pub agent: Agent,
    pub session_id: String,
    /// Where the session was read from when shared.
    pub path: PathBuf,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// A title that replaces the session's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub shared_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_rendered: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_published: Option<DateTime<Utc>>,
    /// Set for a password-protected or key-in-URL share: the page is
    /// encrypted (see [`crate::protect`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protection: Option<Protection>,
}

impl Share {
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires.is_some_and(|e| e <= now)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShareList {
    pub version: u32,
    #[serde(default)]
    pub shares: Vec<Share>,
    /// Project directories whose sessions may be shared.
    #[serde(default)]
    pub allowed_dirs: Vec<String>,
}

impl Default for ShareList {
    fn default() -> Self {
        ShareList {
            version: SHARES_VERSION,
            shares: Vec::new(),
            allowed_dirs: Vec::new(),
        }
    }
}

impl ShareList {
    /// The version this list is written with (see [`SHARES_VERSION`]).
    pub fn schema_version(&self) -> u32 {
        if self.shares.iter().any(|s| s.protection.is_some()) {
            SHARES_VERSION
        } else {
            SHARES_VERSION_PLAIN
        }
    }

    pub fn find(&self, share_id: &str) -> Option<&Share> {
        self.shares.iter().find(|s| s.share_id == share_id)
    }

    /// Whether sessions from `dir` may be shared: `dir` or a folder above
    /// it was allowed.
    pub fn is_allowed(&self, dir: &str) -> bool {
        let dir = Path::new(dir);
        self.allowed_dirs.iter().any(|a| dir.starts_with(a))
    }
}

/// `shares.json` and its lock.
#[derive(Debug, Clone)]
pub struct ShareStore {
    path: PathBuf,
    lock_path: PathBuf,
}

impl ShareStore {
    pub fn new(config_dir: &Path) -> ShareStore {
        ShareStore {
            path: config_dir.join("shares.json"),
            lock_path: config_dir.join("shares.lock"),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self, exclusive: bool) -> Result<File> {
        if let Some(dir) = self.lock_path.parent() {
            std::fs::create_dir_all(dir).at(dir)?;
        }
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&self.lock_path)
            .at(&self.lock_path)?;
        if exclusive {
            f.lock().at(&self.lock_path)?;
        } else {
            f.lock_shared().at(&self.lock_path)?;
        }
        Ok(f)
    }

    fn read_unlocked(&self) -> Result<ShareList> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ShareList::default()),
            Err(e) => return Err(Error::io(&self.path, e)),
        };
        let list: ShareList = serde_json::from_slice(&bytes).map_err(|e| {
            Error::parse(
                &self.path,
                format!("not a valid share list ({e}); fix or move it aside, nothing was changed"),
            )
        })?;
        // Share ids name folders of the site and session ids are looked
        // up in stores: an entry such as `../../x` is refused, not used.
        for (k, sh) in list.shares.iter().enumerate() {
            if let Some(why) = crate::ids::share_id_problem(&sh.share_id)
                .or_else(|| crate::ids::session_id_problem(&sh.session_id))
            {
                return Err(Error::parse(
                    &self.path,
                    format!(
                        "share {} of the list: {why}; fix or remove that entry, nothing was changed",
                        k + 1
                    ),
                ));
            }
        }
        if list.version > SHARES_VERSION {
            return Err(Error::parse(
                &self.path,
                format!(
                    "share list version {} is newer than this sharegen understands ({SHARES_VERSION}); upgrade sharegen",
                    list.version
                ),
            ));
        }
        Ok(list)
    }

    /// Reads the list under a shared lock.
    pub fn read(&self) -> Result<ShareList> {
        // No list yet: nothing to lock, and no lock file to leave behind
        // (the list is replaced atomically when it is first written).
        if std::fs::symlink_metadata(&self.path).is_err() {
            return Ok(ShareList::default());
        }
        let _lock = self.lock(false)?;
        self.read_unlocked()
    }

    /// Reads, changes and writes the list under an exclusive lock. The file
    /// is written only when `f` changed something.
    pub fn update<R>(&self, f: impl FnOnce(&mut ShareList) -> Result<R>) -> Result<R> {
        let _lock = self.lock(true)?;
        let before = self.read_unlocked()?;
        let mut list = before.clone();
        let r = f(&mut list)?;
        if list != before {
            list.version = list.schema_version();
            let mut bytes = serde_json::to_vec_pretty(&list).expect("the share list serializes");
            bytes.push(b'\n');
            write_atomic(&self.path, &bytes, Some(0o600))?;
        }
        Ok(r)
    }
}

#[cfg(test)]
impl Share {
    /// A share of the Claude Code session `session_id` read from `path`,
    /// made now, with no options (tests).
    pub(crate) fn for_test(session_id: &str, path: PathBuf) -> Share {
        Share {
            share_id: crate::home::share_id(b"test-salt", Agent::ClaudeCode, session_id),
            agent: Agent::ClaudeCode,
            session_id: session_id.into(),
            path,
            project: None,
            title: None,
            shared_at: Utc::now(),
            expires: None,
            last_rendered: None,
            last_published: None,
            protection: None,
        }
    }
}

/// Parses `--expires`: a duration from now (`7d`, `12h`) or a date.
pub fn parse_expiry(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
    if let Some(d) = crate::timeutil::parse_duration(s.trim()) {
        if d <= chrono::Duration::zero() {
            return Err(Error::Usage(format!(
                "expiry `{s}` would end the share as it is made: give a duration such as 7d \
                 (`sharegen unshare` removes a share now)"
            )));
        }
        return Ok(now + d);
    }
    let t = crate::timeutil::parse_since(s, now).map_err(|_| {
        Error::Usage(format!(
            "invalid expiry `{s}`: use a duration such as 12h, 7d, 2w, or a date such as 2026-12-31"
        ))
    })?;
    // A share that expires as it is made would be removed at the next
    // build without a word; `unshare` is how to end one now.
    if t <= now {
        return Err(Error::Usage(format!(
            "expiry `{s}` ({} UTC) is in the past: give a later date, or a duration such as 7d \
             (`sharegen unshare` removes a share now)",
            t.format("%Y-%m-%d %H:%M")
        )));
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share(id: &str) -> Share {
        Share::for_test(&format!("s-{id}"), PathBuf::from("/x"))
    }

    #[test]
    fn an_expiry_in_the_past_is_refused() {
        let now = "2026-11-22T10:00:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            parse_expiry("2026-12-31", now).unwrap(),
            "2026-12-31T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            parse_expiry("7d", now).unwrap(),
            now + chrono::Duration::days(7)
        );
        for past in ["2020-01-01", "2026-11-22"] {
            let e = parse_expiry(past, now).unwrap_err().to_string();
            assert!(e.contains("is in the past"), "{past}: {e}");
            assert!(e.contains("unshare"), "{past}: {e}");
        }
        for none in ["0d", "0h", "0m"] {
            let e = parse_expiry(none, now).unwrap_err().to_string();
            assert!(
                e.contains("would end the share as it is made"),
                "{none}: {e}"
            );
        }
    }

    #[test]
    fn update_is_atomic_private_and_versioned() {
        let tmp = tempfile::tempdir().unwrap();
        let store = ShareStore::new(tmp.path());
        store
            .update(|l| {
                l.shares.push(share("a"));
                Ok(())
            })
            .unwrap();
        let text = std::fs::read_to_string(store.path()).unwrap();
        assert!(text.contains("\"version\": 1"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(store.path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(store.read().unwrap().shares.len(), 1);
    }

    #[test]
    fn concurrent_updates_lose_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let store = ShareStore::new(tmp.path());
        std::thread::scope(|s| {
            for t in 0..8 {
                let store = store.clone();
                s.spawn(move || {
                    for i in 0..25 {
                        store
                            .update(|l| {
                                l.shares.push(share(&format!("{t}-{i}")));
                                Ok(())
                            })
                            .unwrap();
                    }
                });
            }
        });
        assert_eq!(store.read().unwrap().shares.len(), 200);
    }

    #[test]
    fn a_corrupt_list_is_an_error_not_a_reset() {
        let tmp = tempfile::tempdir().unwrap();
        let store = ShareStore::new(tmp.path());
        std::fs::write(store.path(), b"{ not json").unwrap();
        let err = store.update(|_| Ok(())).unwrap_err().to_string();
        assert!(err.contains("shares.json"), "{err}");
        assert_eq!(std::fs::read(store.path()).unwrap(), b"{ not json");
    }

    #[test]
    fn a_protected_share_makes_the_list_version_2_and_old_lists_still_load() {
        let tmp = tempfile::tempdir().unwrap();
        let store = ShareStore::new(tmp.path());
        // A version 1 list, as sharegen wrote it before protection existed.
        std::fs::write(
            store.path(),
            r#"{"version":1,"shares":[{"share_id":"abcdefghij","agent":"claude-code","session_id":"s1","path":"/x.jsonl","shared_at":"2026-01-02T03:04:05Z"}],"allowed_dirs":[]}"#,
        )
        .unwrap();
        let l = store.read().unwrap();
        assert_eq!(l.shares.len(), 1);
        assert_eq!(l.shares[0].protection, None);
        store
            .update(|l| {
                l.shares[0].protection = Some(Protection::key_in_url()?);
                Ok(())
            })
            .unwrap();
        let text = std::fs::read_to_string(store.path()).unwrap();
        assert!(text.contains("\"version\": 2"), "{text}");
        assert!(text.contains("\"mode\": \"key-in-url\""), "{text}");
        assert!(store.read().unwrap().shares[0].protection.is_some());
        // Unprotected again: back to version 1, readable by older sharegens.
        store
            .update(|l| {
                l.shares[0].protection = None;
                Ok(())
            })
            .unwrap();
        let text = std::fs::read_to_string(store.path()).unwrap();
        assert!(text.contains("\"version\": 1"), "{text}");
        assert!(!text.contains("protection"), "{text}");
        // A newer list than this sharegen knows is refused, not rewritten.
        std::fs::write(store.path(), r#"{"version":3,"shares":[]}"#).unwrap();
        assert!(store.read().is_err());
    }

    #[test]
    fn allowed_dirs_cover_subfolders() {
        let mut l = ShareList::default();
        l.allowed_dirs.push("/home/me/src".into());
        assert!(l.is_allowed("/home/me/src/app"));
        assert!(l.is_allowed("/home/me/src"));
        assert!(!l.is_allowed("/home/me/srcx"));
    }
}
