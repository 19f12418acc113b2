//! Templates (minijinja) and stylesheets, embedded in the binary. Any file
//! can be overridden from a folder laid out like the output of
//! `sharegen templates eject DIR` (`templates/…`, `themes/…`).

use crate::error::{Error, IoContext, Result};
use crate::fsutil::write_atomic;
use std::borrow::Cow;
use std::path::{Path, PathBuf};

/// Every embedded file, by its path in the repository.
pub const EMBEDDED: &[(&str, &str)] = &[
    (
        "templates/page.html",
        include_str!("../../templates/page.html"),
    ),
    ("templates/page.js", include_str!("../../templates/page.js")),
    (
        "templates/index.html",
        include_str!("../../templates/index.html"),
    ),
    (
        "templates/404.html",
        include_str!("../../templates/404.html"),
    ),
    (
        "templates/protected.html",
        include_str!("../../templates/protected.html"),
    ),
    (
        "templates/protected.js",
        include_str!("../../templates/protected.js"),
    ),
    (
        "templates/protected.css",
        include_str!("../../templates/protected.css"),
    ),
    (
        "themes/default.css",
        include_str!("../../themes/default.css"),
    ),
    (
        "themes/highlight-light.css",
        include_str!("../../themes/highlight-light.css"),
    ),
    (
        "themes/highlight-dark.css",
        include_str!("../../themes/highlight-dark.css"),
    ),
    ("themes/ansi.css", include_str!("../../themes/ansi.css")),
];

/// The templates and themes in use.
pub struct Templates {
    env: minijinja::Environment<'static>,
    dir: Option<PathBuf>,
    /// Stylesheet and script per theme, with their CSP hashes, built once.
    assets: std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<Assets>>>,
}

/// The inline stylesheet and script of a page, and the base64 sha256
/// hashes its Content-Security-Policy pins them with.
#[derive(Debug)]
pub struct Assets {
    pub css: String,
    pub js: String,
    pub css_hash: String,
    pub js_hash: String,
}

/// The base64 sha256 of `s`, as a CSP hash source wants it.
pub fn b64sha(s: &str) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(s.as_bytes()))
}

fn embedded(rel: &str) -> Option<&'static str> {
    EMBEDDED.iter().find(|(p, _)| *p == rel).map(|(_, s)| *s)
}

impl Templates {
    /// Embedded defaults, overridden by files in `dir` when given.
    pub fn new(dir: Option<PathBuf>) -> Result<Templates> {
        let mut env = minijinja::Environment::new();
        // Auto-escape every template, whatever its name.
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        let mut t = Templates {
            env,
            dir,
            assets: Default::default(),
        };
        for name in ["page.html", "index.html", "404.html", "protected.html"] {
            let rel = format!("templates/{name}");
            let text = t.read(&rel)?.into_owned();
            t.env
                .add_template_owned(name, text)
                .map_err(|e| Error::parse(t.source_of(&rel), e.to_string()))?;
        }
        Ok(t)
    }

    fn source_of(&self, rel: &str) -> PathBuf {
        match &self.dir {
            Some(d) if d.join(rel).is_file() => d.join(rel),
            _ => PathBuf::from(format!("(built-in) {rel}")),
        }
    }

    /// A file's text: the override when present, else the embedded copy.
    pub fn read(&self, rel: &str) -> Result<Cow<'static, str>> {
        if let Some(d) = &self.dir {
            let p = d.join(rel);
            if p.is_file() {
                return Ok(Cow::Owned(std::fs::read_to_string(&p).at(&p)?));
            }
        }
        embedded(rel)
            .map(Cow::Borrowed)
            .ok_or_else(|| Error::Usage(format!("no such template or theme file: {rel}")))
    }

    /// The names of the available themes.
    pub fn themes(&self) -> Vec<String> {
        let mut v: Vec<String> = EMBEDDED
            .iter()
            .filter_map(|(p, _)| {
                p.strip_prefix("themes/")?
                    .strip_suffix(".css")
                    .map(str::to_string)
            })
            .filter(|n| !n.starts_with("highlight-") && n != "ansi")
            .collect();
        if let Some(d) = &self.dir
            && let Ok(rd) = std::fs::read_dir(d.join("themes"))
        {
            for e in rd.flatten() {
                let n = e.file_name().to_string_lossy().to_string();
                if let Some(n) = n.strip_suffix(".css")
                    && !n.starts_with("highlight-")
                    && n != "ansi"
                    && !v.iter().any(|x| x == n)
                {
                    v.push(n.to_string());
                }
            }
        }
        v.sort();
        v
    }

    /// The page's stylesheet: the theme, then highlighting and terminal colours.
    pub fn css(&self, theme: &str) -> Result<String> {
        if theme.contains(['/', '\\']) || theme.starts_with('.') {
            return Err(Error::Usage(format!("invalid theme name `{theme}`")));
        }
        let base = self.read(&format!("themes/{theme}.css")).map_err(|_| {
            Error::Usage(format!(
                "unknown theme `{theme}` (available: {})",
                self.themes().join(", ")
            ))
        })?;
        let mut css = base.into_owned();
        for f in [
            "themes/highlight-light.css",
            "themes/highlight-dark.css",
            "themes/ansi.css",
        ] {
            css.push('\n');
            css.push_str(&self.read(f)?);
        }
        Ok(css)
    }

    /// A digest of every template and theme file in use, so that a site
    /// rebuild notices edited templates.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for (rel, _) in EMBEDDED {
            if let Ok(t) = self.read(rel) {
                h.update(rel.as_bytes());
                h.update(t.as_bytes());
            }
        }
        if let Some(d) = &self.dir
            && let Ok(rd) = std::fs::read_dir(d.join("themes"))
        {
            let mut extra: Vec<_> = rd.flatten().map(|e| e.path()).collect();
            extra.sort();
            for p in extra {
                if let Ok(b) = std::fs::read(&p) {
                    h.update(p.to_string_lossy().as_bytes());
                    h.update(&b);
                }
            }
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The stylesheet and script for `theme`, built and hashed once.
    pub fn assets(&self, theme: &str) -> Result<std::sync::Arc<Assets>> {
        let mut cache = self.assets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(a) = cache.get(theme) {
            return Ok(a.clone());
        }
        let css = self.css(theme)?;
        let js = self.js()?;
        let a = std::sync::Arc::new(Assets {
            css_hash: b64sha(&css),
            js_hash: b64sha(&js),
            css,
            js,
        });
        cache.insert(theme.to_string(), a.clone());
        Ok(a)
    }

    pub fn js(&self) -> Result<String> {
        Ok(self.read("templates/page.js")?.into_owned())
    }

    pub fn render(&self, name: &str, ctx: minijinja::Value) -> Result<String> {
        let t = self.env.get_template(name).map_err(|e| {
            Error::parse(self.source_of(&format!("templates/{name}")), e.to_string())
        })?;
        t.render(ctx)
            .map_err(|e| Error::parse(self.source_of(&format!("templates/{name}")), e.to_string()))
    }
}

/// Writes the embedded templates and themes into `dir`, refusing to
/// overwrite files that exist unless `force`.
pub fn eject(dir: &Path, force: bool) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (rel, _) in EMBEDDED {
        let p = dir.join(rel);
        if p.exists() && !force {
            return Err(Error::Refused(format!(
                "{} exists; pass --force to overwrite",
                p.display()
            )));
        }
    }
    for (rel, text) in EMBEDDED {
        let p = dir.join(rel);
        write_atomic(&p, text.as_bytes(), None)?;
        written.push(p);
    }
    Ok(written)
}
