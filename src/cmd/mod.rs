//! Command implementations. Each returns `anyhow::Result`; `main` maps
//! errors to exit codes through [`crate::Error::exit_code`].

pub mod build;
pub mod export;
mod list;
mod meta;
pub mod protect;
pub mod publish;
mod redact_check;
pub mod share;
pub mod watch;

use crate::cli::{Cli, Command, TemplatesCommand};
use crate::config::Config;
use crate::diag::{Diag, Verbosity};
use crate::home::Home;
use crate::redact::Redactor;
use crate::sources::Stores;
use std::io::Write;

/// What every command needs.
pub struct Ctx {
    pub diag: Diag,
    pub home: Home,
    pub stores: Stores,
    pub config: Config,
}

impl Ctx {
    pub fn from_env(verbosity: Verbosity) -> anyhow::Result<Ctx> {
        let home = Home::from_env()?;
        let mut stores = Stores::from_env();
        stores.cache_dir = Some(home.cache_dir.clone());
        let diag = Diag::new(verbosity);
        let config = Config::load(&home.config_path(), &diag)?;
        Ok(Ctx {
            diag,
            home,
            stores,
            config,
        })
    }
}

impl Ctx {
    /// The salt for share IDs (see [`Home::salt`]).
    pub fn salt(&self) -> crate::Result<Vec<u8>> {
        self.home.salt(self.config.salt.as_deref())
    }

    /// The redactor every output goes through, unless `--no-redact` or
    /// `redact.enabled = false` (which print a warning).
    pub fn redactor(&self, no_redact: bool) -> crate::Result<Option<Redactor>> {
        if no_redact || !self.config.redact.enabled {
            eprintln!(
                "{} redaction is off{}: tokens, keys and passwords in the session are \
                 written as they are",
                crate::term::warning(),
                if no_redact {
                    " (--no-redact)"
                } else {
                    " (redact.enabled = false)"
                }
            );
            return Ok(None);
        }
        Redactor::new(&self.config.redact, &self.salt()?, &self.home.config_path()).map(Some)
    }
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    let verbosity = if cli.quiet {
        Verbosity::Quiet
    } else if cli.verbose > 0 {
        Verbosity::Verbose
    } else {
        Verbosity::Normal
    };
    crate::term::init(cli.color);
    match cli.command {
        Command::Completions { shell } => return meta::completions(shell),
        Command::Man { out } => return meta::man(out.as_deref()),
        _ => {}
    }
    let ctx = Ctx::from_env(verbosity)?;
    // `watch` runs until stopped, re-reading files as they change: a count
    // at its end would add up its cycles.
    let summarize = !matches!(cli.command, Command::Watch(_));
    let result = match cli.command {
        Command::List(args) => list::run(&ctx, args),
        Command::Export(args) => export::run(&ctx, args),
        Command::Share(args) => share::share(&ctx, args),
        Command::Build(args) => build::run(&ctx, args),
        Command::Watch(args) => watch::run(&ctx, args),
        Command::Publish(args) => publish::run(&ctx, args),
        Command::Unshare { target } => share::unshare(&ctx, &target),
        Command::Shares { json } => share::list(&ctx, json),
        Command::Allow { dir } => share::allow(&ctx, &dir),
        Command::Disallow { dir } => share::disallow(&ctx, &dir),
        Command::Config(c) => meta::config(&ctx, c),
        Command::Doctor { json } => meta::doctor(&ctx, json),
        Command::Open { session, theme } => meta::open(&ctx, session.as_deref(), theme.as_deref()),
        Command::Completions { .. } | Command::Man { .. } => Ok(()),
        Command::RedactCheck { session, json } => redact_check::run(&ctx, session.as_deref(), json),
        Command::Templates(TemplatesCommand::Eject { dir, force }) => {
            let written = crate::render::templates::eject(&dir, force)?;
            let list: String = written
                .iter()
                .map(|p| format!("{}\n", p.display()))
                .collect();
            emit(list.as_bytes())
        }
        Command::Templates(TemplatesCommand::Themes { templates }) => {
            // The folder the pages would use: the flag, else config.toml's.
            let dir = templates.or_else(|| ctx.config.render.templates.clone());
            let t = crate::render::templates::Templates::new(dir)?;
            emit(format!("{}\n", t.themes().join("\n")).as_bytes())
        }
    };
    if summarize {
        ctx.diag.print_summary();
    }
    result
}

/// Writes to stdout; a closed pipe (`sharegen list | head`) is not an error.
pub fn emit(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(anyhow::Error::new(e).context("writing to standard output")),
    }
}
