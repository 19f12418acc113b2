//! Rendering the model: a self-contained HTML page, a Markdown transcript,
//! or JSON (the model itself, see `cmd::export`).

pub mod ansi;
pub mod diff;
pub mod highlight;
pub mod html;
pub mod markdown;
pub mod md;
pub mod templates;
pub mod tools;

use crate::cli::Format;
use crate::config::Config;
use crate::error::Error;
use crate::home::share_id;
use crate::model::{ExportDocumentRef, SCHEMA_VERSION, Session};
use html::PageOptions;
use std::path::Path;
use templates::Templates;

/// What rendering needs besides the session.
pub struct Renderer {
    pub templates: Templates,
    pub theme: String,
    pub salt: Vec<u8>,
    pub site_name: String,
    pub robots: String,
    pub config: Config,
}

impl Renderer {
    pub fn new(
        config: &Config,
        salt: Vec<u8>,
        theme: Option<&str>,
        templates: Option<&Path>,
    ) -> crate::Result<Renderer> {
        let dir = templates
            .map(Path::to_path_buf)
            .or_else(|| config.render.templates.clone());
        if let Some(d) = &dir
            && !d.is_dir()
        {
            return Err(Error::Usage(format!(
                "templates folder {} does not exist",
                d.display()
            )));
        }
        let templates = Templates::new(dir)?;
        let theme = theme.unwrap_or(&config.render.theme).to_string();
        // Fail early on an unknown theme.
        templates.css(&theme)?;
        Ok(Renderer {
            templates,
            theme,
            salt,
            site_name: config.site.name.clone(),
            robots: if config.site.index {
                "index, follow".into()
            } else {
                "noindex, nofollow".into()
            },
            config: config.clone(),
        })
    }

    pub fn share_id(&self, s: &Session) -> String {
        share_id(&self.salt, s.agent, &s.id)
    }

    /// A page that follows the session while `watch` runs.
    pub fn render_live(&self, session: &Session, version: &str) -> crate::Result<Vec<u8>> {
        let sid = self.share_id(session);
        let opts = PageOptions {
            url: self.config.share_url(&sid),
            share_id: sid,
            theme: self.theme.clone(),
            robots: self.robots.clone(),
            site_name: self.site_name.clone(),
            live_version: Some(version.to_string()),
        };
        Ok(html::render_page(session, &opts, &self.templates)?.into_bytes())
    }

    pub fn render(&self, session: &Session, format: Format) -> crate::Result<Vec<u8>> {
        let sid = self.share_id(session);
        Ok(match format {
            Format::Json => {
                let doc = ExportDocumentRef {
                    schema_version: SCHEMA_VERSION,
                    generator: format!("sharegen {}", env!("CARGO_PKG_VERSION")),
                    share_id: sid,
                    session,
                };
                let mut b = serde_json::to_vec_pretty(&doc).expect("the model serializes");
                b.push(b'\n');
                b
            }
            Format::Md => md::render(session).into_bytes(),
            Format::Html => {
                let opts = PageOptions {
                    url: self.config.share_url(&sid),
                    share_id: sid,
                    theme: self.theme.clone(),
                    robots: self.robots.clone(),
                    site_name: self.site_name.clone(),
                    live_version: None,
                };
                html::render_page(session, &opts, &self.templates)?.into_bytes()
            }
        })
    }

    /// A digest of the templates and themes in use.
    pub fn fingerprint(&self) -> String {
        self.templates.fingerprint()
    }

    fn simple_page(&self, name: &str, extra: minijinja::Value) -> crate::Result<String> {
        let css = self.templates.css(&self.theme)?;
        let csp = format!(
            "default-src 'none'; style-src 'sha256-{}'; img-src data:; base-uri 'none'; form-action 'none'",
            html::b64sha(&css)
        );
        let ctx = minijinja::context! {
            csp => csp,
            css => minijinja::Value::from_safe_string(css),
            site_name => self.site_name,
            robots => self.robots,
            generator => format!("sharegen {}", env!("CARGO_PKG_VERSION")),
            ..extra
        };
        self.templates.render(name, ctx)
    }

    /// The site's index page.
    pub fn render_index(&self, rows: &[crate::site::IndexRow]) -> crate::Result<String> {
        self.simple_page("index.html", minijinja::context! { rows => rows })
    }

    /// The site's 404 page.
    pub fn render_404(&self) -> crate::Result<String> {
        self.simple_page("404.html", minijinja::context! {})
    }
}
