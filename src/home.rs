//! sharegen's own files: `$SHAREGEN_HOME`, else the platform's config and
//! cache directories. Also the salt and share IDs.

use crate::error::{Error, IoContext, Result};
use crate::fsutil::write_atomic;
use crate::model::Agent;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Where sharegen keeps its files.
#[derive(Debug, Clone)]
pub struct Home {
    /// Config, salt, and (later) the share list.
    pub config_dir: PathBuf,
    /// Caches that can be deleted at any time.
    pub cache_dir: PathBuf,
}

impl Home {
    /// Resolves from `$SHAREGEN_HOME`, else the platform directories.
    pub fn from_env() -> Result<Home> {
        if let Some(h) = std::env::var_os("SHAREGEN_HOME").filter(|v| !v.is_empty()) {
            let h = PathBuf::from(h);
            return Ok(Home {
                cache_dir: h.join("cache"),
                config_dir: h,
            });
        }
        let config = dirs::config_dir().ok_or_else(|| {
            Error::Usage("cannot find a config directory; set SHAREGEN_HOME".into())
        })?;
        let cache = dirs::cache_dir().unwrap_or_else(|| config.clone());
        Ok(Home {
            config_dir: config.join("sharegen"),
            cache_dir: cache.join("sharegen"),
        })
    }

    /// A home rooted at one directory.
    pub fn at(dir: impl Into<PathBuf>) -> Home {
        let dir = dir.into();
        Home {
            cache_dir: dir.join("cache"),
            config_dir: dir,
        }
    }

    pub fn salt_path(&self) -> PathBuf {
        self.config_dir.join("salt")
    }

    pub fn config_path(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }

    /// The salt for share IDs: `$SHAREGEN_SALT`, else `configured`
    /// (`salt` in `config.toml`), else the `salt` file (32 random bytes,
    /// created once).
    pub fn salt(&self, configured: Option<&str>) -> Result<Vec<u8>> {
        match std::env::var_os("SHAREGEN_SALT") {
            Some(s) if !s.is_empty() => return Ok(s.to_string_lossy().into_owned().into_bytes()),
            // Set but empty, as an unset CI secret expands: share IDs would
            // silently come from elsewhere (a new salt file on a fresh runner).
            Some(_) => {
                static SAID: std::sync::Once = std::sync::Once::new();
                SAID.call_once(|| {
                    eprintln!(
                        "{} SHAREGEN_SALT is set but empty: share IDs come from config.toml's salt or {}",
                        crate::term::warning(),
                        self.salt_path().display()
                    )
                });
            }
            None => {}
        }
        if let Some(s) = configured.filter(|s| !s.is_empty()) {
            return Ok(s.as_bytes().to_vec());
        }
        let path = self.salt_path();
        match std::fs::read(&path) {
            Ok(bytes) if bytes.len() >= 16 => return Ok(bytes),
            Ok(_) => {
                return Err(Error::parse(
                    &path,
                    "salt file is shorter than 16 bytes; delete it to create a new one (share IDs will change)",
                ));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&path, e)),
        }
        let mut salt = vec![0u8; 32];
        getrandom::fill(&mut salt)
            .map_err(|e| Error::io(&path, std::io::Error::other(e.to_string())))?;
        create_once(&path, &salt)
    }

    /// Who publishes from this home: `$SHAREGEN_PUBLISHER_ID`, else the
    /// `publisher-id` file (random, created once). Published manifests
    /// record it per file, so a publisher only ever deletes files it wrote
    /// and two publishers sharing a target keep each other's shares.
    pub fn publisher_id(&self) -> Result<String> {
        if let Ok(s) = std::env::var("SHAREGEN_PUBLISHER_ID")
            && !s.trim().is_empty()
        {
            return Ok(s.trim().to_string());
        }
        let path = self.config_dir.join("publisher-id");
        match std::fs::read_to_string(&path) {
            Ok(s) if !s.trim().is_empty() => return Ok(s.trim().to_string()),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&path, e)),
        }
        let mut raw = [0u8; 10];
        getrandom::fill(&mut raw)
            .map_err(|e| Error::io(&path, std::io::Error::other(e.to_string())))?;
        let id = data_encoding::BASE32_NOPAD
            .encode(&raw)
            .to_ascii_lowercase();
        let b = create_once(&path, format!("{id}\n").as_bytes())?;
        Ok(String::from_utf8_lossy(&b).trim().to_string())
    }
}

/// Writes `bytes` to `path` unless it exists (another process may have
/// created it meanwhile: the first one wins), then returns its contents.
fn create_once(path: &Path, bytes: &[u8]) -> Result<Vec<u8>> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).at(dir)?;
    let tmp = dir.join(format!(".create-{}.tmp", std::process::id()));
    write_atomic(&tmp, bytes, Some(0o600))?;
    match std::fs::hard_link(&tmp, path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(Error::io(path, e));
        }
    }
    let _ = std::fs::remove_file(&tmp);
    std::fs::read(path).at(path)
}

/// The share ID: 10 characters of lowercase base32 of
/// sha256(salt ‖ agent ‖ ":" ‖ session id).
pub fn share_id(salt: &[u8], agent: Agent, session_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(agent.as_str().as_bytes());
    h.update(b":");
    h.update(session_id.as_bytes());
    let digest = h.finalize();
    let mut s = data_encoding::BASE32_NOPAD.encode(&digest);
    s.truncate(10);
    s.make_ascii_lowercase();
    s
}

/// The user's home directory, for display as `~`.
pub fn user_home() -> Option<PathBuf> {
    dirs::home_dir()
}

/// Shows `path` with the home directory as `~`.
pub fn tilde(path: &str) -> String {
    if let Some(home) = user_home() {
        let home = home.to_string_lossy();
        let home = home.trim_end_matches('/');
        if !home.is_empty() {
            if path == home {
                return "~".into();
            }
            if let Some(rest) = path.strip_prefix(home)
                && rest.starts_with('/')
            {
                return format!("~{rest}");
            }
        }
    }
    path.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_id_is_ten_lowercase_base32_chars_and_salted() {
        let a = share_id(b"salt-one-salt-one", Agent::ClaudeCode, "abc");
        let b = share_id(b"salt-two-salt-two", Agent::ClaudeCode, "abc");
        let c = share_id(b"salt-one-salt-one", Agent::Opencode, "abc");
        assert_eq!(a.len(), 10);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_lowercase() || ('2'..='7').contains(&c))
        );
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_eq!(a, share_id(b"salt-one-salt-one", Agent::ClaudeCode, "abc"));
    }

    #[test]
    fn share_id_matches_manual_computation() {
        let mut h = Sha256::new();
        h.update(b"S");
        h.update(b"opencode:ses_1");
        let d = h.finalize();
        let want = data_encoding::BASE32_NOPAD.encode(&d)[..10].to_ascii_lowercase();
        assert_eq!(share_id(b"S", Agent::Opencode, "ses_1"), want);
    }
}
