//! `config.toml` in sharegen's home. Unknown keys are reported, not fatal.

use crate::diag::Diag;
use crate::error::{Error, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Salt for share IDs (see `SHAREGEN_SALT`).
    pub salt: Option<String>,
    pub site: SiteConfig,
    pub render: RenderConfig,
    pub publish: PublishConfig,
    pub redact: RedactConfig,
}

/// `[redact]`: what is removed from sessions before anything is rendered
/// or published. On by default.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct RedactConfig {
    /// Redact secrets at all (`--no-redact` turns it off for one run).
    pub enabled: bool,
    /// The home folder becomes `~`.
    pub home: bool,
    /// The login name becomes `<user>`.
    pub user: bool,
    /// The host name becomes `<host>`.
    pub host: bool,
    /// Email addresses are redacted.
    pub email: bool,
    /// High-entropy values in assignments (`key = "…"`) are redacted.
    pub entropy: bool,
    /// Text the harness injected (system reminders, instructions) is dropped.
    pub strip_injected: bool,
    /// Extra rules: `[[redact.rules]] name = "…" regex = "…"` (the first
    /// capture group, if any, is the secret).
    pub rules: Vec<RedactRule>,
    /// Patterns of values never to redact.
    pub allow: Vec<String>,
}

impl Default for RedactConfig {
    fn default() -> Self {
        RedactConfig {
            enabled: true,
            home: true,
            user: true,
            host: true,
            email: true,
            entropy: true,
            strip_injected: true,
            rules: Vec::new(),
            allow: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RedactRule {
    pub name: String,
    pub regex: String,
}

/// `[publish.git]` and `[publish.bucket]`: where `sharegen publish` (and
/// `watch --publish`) push the site. Flags override each key.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct PublishConfig {
    pub git: Option<GitPublishConfig>,
    pub bucket: Option<BucketPublishConfig>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct GitPublishConfig {
    /// The remote: `https://github.com/me/shares.git`, `git@host:me/shares.git`, a path.
    pub url: Option<String>,
    /// The branch (default `gh-pages`).
    pub branch: Option<String>,
    /// A folder inside the branch (default: its root).
    pub prefix: Option<String>,
    /// `keep` (one commit per publish) or `squash` (one commit in all).
    pub history: Option<String>,
    /// The commit message.
    pub message: Option<String>,
    /// Run the system `git` for fetch and push.
    pub git_cli: Option<bool>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct BucketPublishConfig {
    /// `s3://bucket/prefix`, `gs://…`, `az://…` or `file:///path`.
    pub url: Option<String>,
    /// An S3-compatible endpoint (R2, MinIO, …).
    pub endpoint: Option<String>,
    /// The region.
    pub region: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SiteConfig {
    /// Public URL of the published site, e.g. `https://me.github.io/shares`.
    pub base_url: Option<String>,
    /// Site name for link previews.
    pub name: String,
    /// Let search engines index pages (default: no).
    pub index: bool,
    /// Where `build` writes the site (default: `site/` in sharegen's home).
    pub out: Option<PathBuf>,
    /// Write `s/<id>/session.json` beside each page.
    pub session_json: bool,
    /// Write an `index.html` listing the shares (off for unlisted links).
    pub index_page: bool,
}

impl Default for SiteConfig {
    fn default() -> Self {
        SiteConfig {
            base_url: None,
            name: "sharegen".into(),
            index: false,
            out: None,
            session_json: true,
            index_page: true,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct RenderConfig {
    pub theme: String,
    /// A folder overriding templates and themes.
    pub templates: Option<PathBuf>,
}

impl Default for RenderConfig {
    fn default() -> Self {
        RenderConfig {
            theme: "default".into(),
            templates: None,
        }
    }
}

impl Config {
    /// Reads `path`; a missing file gives the defaults.
    pub fn load(path: &Path, diag: &Diag) -> Result<Config> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(e) => return Err(Error::io(path, e)),
        };
        let de = toml::Deserializer::parse(&text).map_err(|e| Error::parse(path, e.to_string()))?;
        let mut unknown = Vec::new();
        let cfg: Config = serde_ignored::deserialize(de, |p| unknown.push(p.to_string()))
            .map_err(|e| Error::parse(path, e.to_string()))?;
        for key in unknown {
            diag.warn(
                path,
                None,
                &format!("unknown-key:{key}"),
                format!("unknown key `{key}` ignored"),
            );
        }
        Ok(cfg)
    }

    /// The public URL of a share, when the site's URL is configured.
    pub fn share_url(&self, share_id: &str) -> Option<String> {
        let base = std::env::var("SHAREGEN_SITE_BASE_URL")
            .ok()
            .filter(|v| !v.is_empty())
            .or_else(|| self.site.base_url.clone())?;
        Some(format!("{}/s/{share_id}/", base.trim_end_matches('/')))
    }
}
