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
        templates.assets(&theme)?;
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

    fn page_options(&self, session: &Session, live_version: Option<&str>) -> PageOptions {
        let sid = self.share_id(session);
        PageOptions {
            url: self.config.share_url(&sid),
            share_id: sid,
            theme: self.theme.clone(),
            robots: self.robots.clone(),
            site_name: self.site_name.clone(),
            live_version: live_version.map(str::to_string),
        }
    }

    /// Writes the session in `format` to `w`, streaming: the page is never
    /// held whole in memory. `live_version` makes an HTML page follow the
    /// session while `watch` runs (it polls `version.json`).
    pub fn render_to(
        &self,
        session: &Session,
        format: Format,
        live_version: Option<&str>,
        w: &mut dyn std::io::Write,
    ) -> crate::Result<()> {
        let io = |e: std::io::Error| Error::io("(output)", e);
        match format {
            Format::Json => {
                let doc = ExportDocumentRef {
                    schema_version: SCHEMA_VERSION,
                    generator: format!("sharegen {}", env!("CARGO_PKG_VERSION")),
                    share_id: self.share_id(session),
                    session,
                };
                serde_json::to_writer_pretty(&mut *w, &doc).map_err(|e| io(e.into()))?;
                w.write_all(b"\n").map_err(io)
            }
            Format::Md => md::render_to(session, w).map_err(io),
            Format::Html => {
                let opts = self.page_options(session, live_version);
                html::render_page_to(session, &opts, &self.templates, w)
            }
        }
    }

    /// [`Renderer::render_to`] for a session the caller is done with: a
    /// page drops each message once its HTML is written (see
    /// [`html::render_page_spending`]), so a big session is not held whole
    /// beside what rendering it takes.
    pub fn render_spending_to(
        &self,
        session: Session,
        format: Format,
        w: &mut dyn std::io::Write,
    ) -> crate::Result<()> {
        match format {
            Format::Html => {
                let opts = self.page_options(&session, None);
                html::render_page_spending(session, &opts, &self.templates, w)
            }
            Format::Json | Format::Md => self.render_to(&session, format, None, w),
        }
    }

    /// The live HTML page of `session`, reusing the HTML of its first
    /// `reuse` messages from `frags` (see [`html::render_page_reusing`]).
    pub fn render_page_reusing(
        &self,
        session: &Session,
        live_version: Option<&str>,
        frags: &mut html::Fragments,
        reuse: usize,
        w: &mut dyn std::io::Write,
    ) -> crate::Result<()> {
        let opts = self.page_options(session, live_version);
        html::render_page_reusing(session, &opts, &self.templates, w, frags, reuse)
    }

    /// The page [`Renderer::render_page_reusing`] writes, in parts (see
    /// [`html::render_page_shell`]).
    pub fn render_page_shell(
        &self,
        session: &Session,
        live_version: Option<&str>,
        frags: &mut html::Fragments,
        reuse: usize,
    ) -> crate::Result<html::Shell> {
        let opts = self.page_options(session, live_version);
        html::render_page_shell(session, &opts, &self.templates, frags, reuse)
    }

    /// The HTML page sealed under `protection`, inside the neutral shell
    /// that decrypts it in the browser (see [`crate::protect`]). Never
    /// live: the shell cannot follow the session.
    pub fn render_protected_to(
        &self,
        session: &Session,
        protection: &crate::protect::Protection,
        w: &mut dyn std::io::Write,
    ) -> crate::Result<()> {
        let mut page = Vec::new();
        self.render_to(session, Format::Html, None, &mut page)?;
        let shell = crate::protect::seal_page(
            &self.templates,
            &self.theme,
            &self.robots,
            &page,
            protection,
        )?;
        w.write_all(shell.as_bytes())
            .map_err(|e| Error::io("(output)", e))
    }

    /// [`Renderer::render_to`] into memory.
    pub fn render(&self, session: &Session, format: Format) -> crate::Result<Vec<u8>> {
        let mut out = Vec::new();
        self.render_to(session, format, None, &mut out)?;
        Ok(out)
    }

    /// A digest of the templates and themes in use.
    pub fn fingerprint(&self) -> String {
        self.templates.fingerprint()
    }

    fn simple_page(&self, name: &str, extra: minijinja::Value) -> crate::Result<String> {
        let assets = self.templates.assets(&self.theme)?;
        let csp = format!(
            "default-src 'none'; style-src 'sha256-{}'; img-src data:; base-uri 'none'; form-action 'none'",
            assets.css_hash
        );
        let ctx = minijinja::context! {
            csp => csp,
            css => minijinja::Value::from_safe_string(assets.css.clone()),
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
