//! `config.toml` in sharegen's home. Unknown keys are reported, not fatal.

use crate::diag::Diag;
use crate::error::{Error, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
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

/// One documented key: its dotted name, its environment variable, its
/// default as TOML, and what it does. `config init`, `config show`,
/// `docs/config.md` and the env overlay all follow this table.
pub struct Key {
    pub name: &'static str,
    pub env: Option<&'static str>,
    pub default: &'static str,
    pub doc: &'static str,
}

const fn key(
    name: &'static str,
    env: Option<&'static str>,
    default: &'static str,
    doc: &'static str,
) -> Key {
    Key {
        name,
        env,
        default,
        doc,
    }
}

pub const KEYS: &[Key] = &[
    key(
        "salt",
        Some("SHAREGEN_SALT"),
        "(random, in the `salt` file)",
        "Salt for share IDs. Keep it secret: with it, a share ID can be tied to its session.",
    ),
    key(
        "site.base_url",
        Some("SHAREGEN_SITE_BASE_URL"),
        "(unset)",
        "Public URL of the published site, e.g. `https://me.github.io/shares`; share URLs are `<base_url>/s/<id>/`.",
    ),
    key(
        "site.name",
        Some("SHAREGEN_SITE_NAME"),
        "\"sharegen\"",
        "Site name, shown on the index and in link previews.",
    ),
    key(
        "site.index",
        Some("SHAREGEN_SITE_INDEX"),
        "false",
        "Let search engines index the site (robots.txt).",
    ),
    key(
        "site.out",
        Some("SHAREGEN_SITE_OUT"),
        "(`site/` in sharegen's home)",
        "Where `build`, `watch` and `publish` write the site.",
    ),
    key(
        "site.session_json",
        Some("SHAREGEN_SITE_SESSION_JSON"),
        "true",
        "Write `s/<id>/session.json` beside each page.",
    ),
    key(
        "site.index_page",
        Some("SHAREGEN_SITE_INDEX_PAGE"),
        "true",
        "Write an `index.html` listing the shares (false: unlisted links only).",
    ),
    key(
        "render.theme",
        Some("SHAREGEN_RENDER_THEME"),
        "\"default\"",
        "Page theme (`sharegen templates themes`).",
    ),
    key(
        "render.templates",
        Some("SHAREGEN_RENDER_TEMPLATES"),
        "(unset)",
        "A folder whose templates and themes override the built-in ones.",
    ),
    key(
        "publish.git.url",
        Some("SHAREGEN_PUBLISH_GIT_URL"),
        "(unset)",
        "Git remote to publish to (`https://…`, `git@host:owner/repo.git`, a path).",
    ),
    key(
        "publish.git.branch",
        Some("SHAREGEN_PUBLISH_GIT_BRANCH"),
        "\"gh-pages\"",
        "Branch to publish to.",
    ),
    key(
        "publish.git.prefix",
        Some("SHAREGEN_PUBLISH_GIT_PREFIX"),
        "\"\"",
        "Folder inside the branch.",
    ),
    key(
        "publish.git.history",
        Some("SHAREGEN_PUBLISH_GIT_HISTORY"),
        "\"keep\"",
        "`keep`: one commit per publish; `squash`: the branch is one commit, so unshared pages leave its history.",
    ),
    key(
        "publish.git.message",
        Some("SHAREGEN_PUBLISH_GIT_MESSAGE"),
        "(generated)",
        "Commit message.",
    ),
    key(
        "publish.git.git_cli",
        Some("SHAREGEN_PUBLISH_GIT_GIT_CLI"),
        "false",
        "Use the system `git` for fetch and push (ssh config, OS credential managers).",
    ),
    key(
        "publish.bucket.url",
        Some("SHAREGEN_PUBLISH_BUCKET_URL"),
        "(unset)",
        "Bucket to publish to: `s3://bucket/prefix`, `gs://…`, `az://…`, `file:///dir`.",
    ),
    key(
        "publish.bucket.endpoint",
        Some("SHAREGEN_PUBLISH_BUCKET_ENDPOINT"),
        "(unset)",
        "S3-compatible endpoint (R2, MinIO, …).",
    ),
    key(
        "publish.bucket.region",
        Some("SHAREGEN_PUBLISH_BUCKET_REGION"),
        "(unset)",
        "Bucket region.",
    ),
    key(
        "redact.enabled",
        Some("SHAREGEN_REDACT_ENABLED"),
        "true",
        "Redact secrets in every output (`--no-redact` turns it off for one run).",
    ),
    key(
        "redact.home",
        Some("SHAREGEN_REDACT_HOME"),
        "true",
        "Replace the home folder with `~`.",
    ),
    key(
        "redact.user",
        Some("SHAREGEN_REDACT_USER"),
        "true",
        "Replace the login name with `<user>`.",
    ),
    key(
        "redact.host",
        Some("SHAREGEN_REDACT_HOST"),
        "true",
        "Replace the host name with `<host>`.",
    ),
    key(
        "redact.email",
        Some("SHAREGEN_REDACT_EMAIL"),
        "true",
        "Redact email addresses.",
    ),
    key(
        "redact.entropy",
        Some("SHAREGEN_REDACT_ENTROPY"),
        "true",
        "Redact high-entropy values in assignments.",
    ),
    key(
        "redact.strip_injected",
        Some("SHAREGEN_REDACT_STRIP_INJECTED"),
        "true",
        "Drop text the agent harness injected (system reminders, instructions).",
    ),
    key(
        "redact.allow",
        None,
        "[]",
        "Regexes of values never to redact.",
    ),
    key(
        "redact.rules",
        None,
        "[]",
        "Extra rules: `[[redact.rules]]` tables with `name` and `regex` (the first capture group, if any, is the secret).",
    ),
];

/// Where an effective value came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Default,
    File,
    Env(String),
}

/// The config and where each of its keys came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub sources: BTreeMap<String, Source>,
    pub table: toml::Table,
}

fn get_path<'a>(t: &'a toml::Table, dotted: &str) -> Option<&'a toml::Value> {
    let mut parts = dotted.split('.');
    let mut cur = t.get(parts.next()?)?;
    for p in parts {
        cur = cur.as_table()?.get(p)?;
    }
    Some(cur)
}

fn set_path(t: &mut toml::Table, dotted: &str, v: toml::Value) {
    let parts: Vec<&str> = dotted.split('.').collect();
    let mut cur = t;
    for p in &parts[..parts.len() - 1] {
        let entry = cur
            .entry((*p).to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        cur = entry.as_table_mut().expect("just made a table");
    }
    cur.insert(parts[parts.len() - 1].to_string(), v);
}

/// An environment value as TOML: booleans and numbers as such, anything
/// else as a string.
fn env_value(raw: &str, default: &str) -> toml::Value {
    let t = raw.trim();
    if default == "true" || default == "false" {
        match t.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => return toml::Value::Boolean(true),
            "0" | "false" | "no" | "off" | "" => return toml::Value::Boolean(false),
            _ => {}
        }
    }
    toml::Value::String(raw.to_string())
}

impl Config {
    /// Reads `path`; a missing file gives the defaults.
    pub fn load(path: &Path, diag: &Diag) -> Result<Config> {
        Ok(Config::load_with_sources(path, diag)?.config)
    }

    /// Reads `path` (when it exists), overlays the `SHAREGEN_*` variables,
    /// and records where each key came from. Unknown keys in the file are
    /// warned about by name.
    pub fn load_with_sources(path: &Path, diag: &Diag) -> Result<Loaded> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(Error::io(path, e)),
        };
        let mut table: toml::Table =
            toml::from_str(&text).map_err(|e| Error::parse(path, e.to_string()))?;
        let mut sources = BTreeMap::new();
        for k in KEYS {
            let in_file = get_path(&table, k.name).is_some();
            let env = k
                .env
                .and_then(|var| std::env::var(var).ok().map(|v| (var, v)))
                .filter(|(_, v)| !v.is_empty());
            let source = match env {
                // The salt from the environment is read by `Home::salt`.
                Some((var, v)) => {
                    if k.name != "salt" {
                        set_path(&mut table, k.name, env_value(&v, k.default));
                    }
                    Source::Env(var.to_string())
                }
                None if in_file => Source::File,
                None => Source::Default,
            };
            sources.insert(k.name.to_string(), source);
        }
        let mut unknown = Vec::new();
        let cfg: Config = serde_ignored::deserialize(toml::Value::Table(table.clone()), |p| {
            unknown.push(p.to_string())
        })
        .map_err(|e| {
            // A bad value from a variable is not the file's fault.
            let message = e.to_string();
            let var = sources.iter().find_map(|(k, s)| match s {
                Source::Env(var) if message.trim_end().ends_with(&format!("in `{k}`")) => Some(var),
                _ => None,
            });
            match var {
                Some(var) => Error::Usage(format!("${var}: {message}")),
                None => Error::parse(path, message),
            }
        })?;
        for key in unknown {
            diag.warn(
                path,
                None,
                &format!("unknown-key:{key}"),
                format!("unknown key `{key}` ignored"),
            );
        }
        Ok(Loaded {
            config: cfg,
            sources,
            table,
        })
    }

    /// A commented `config.toml` listing every key with its default.
    pub fn template() -> String {
        let mut out = String::from(
            "# sharegen configuration. Every key is optional; the values shown are the\n\
             # defaults. Precedence: command-line flags, then SHAREGEN_* environment\n\
             # variables, then this file, then the defaults. See docs/config.md.\n",
        );
        let mut section = "";
        for k in KEYS {
            let (sec, name) = match k.name.rsplit_once('.') {
                Some((s, n)) => (s, n),
                None => ("", k.name),
            };
            if sec != section {
                out.push_str(&format!("\n[{sec}]\n"));
                section = sec;
            }
            out.push_str(&format!("# {}\n", k.doc));
            if let Some(env) = k.env {
                out.push_str(&format!("# env: {env}\n"));
            }
            let value = if k.default.starts_with('(') {
                format!("# {name} = …   {}", k.default)
            } else if name == "rules" {
                "# [[redact.rules]]\n# name = \"internal-ticket\"\n# regex = '\\bACME-[0-9]{6}\\b'"
                    .to_string()
            } else {
                format!("# {name} = {}", k.default)
            };
            out.push_str(&value);
            out.push('\n');
        }
        out
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
