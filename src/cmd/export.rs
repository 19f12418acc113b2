use super::{Ctx, emit};
use crate::cli::{ExportArgs, Format};
use crate::error::Error;
use crate::fsutil::AtomicFile;
use crate::protect::Protection;
use crate::redact::Redactor;
use crate::render::Renderer;

use crate::select::{self, Filter};
use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

fn infer_format(args: &ExportArgs) -> Result<Format, Error> {
    if let Some(f) = args.format {
        return Ok(f);
    }
    let ext = args
        .output
        .as_deref()
        .filter(|p| *p != Path::new("-") && !names_folder(p) && !args.all)
        .and_then(extension);
    match ext.as_deref() {
        None => Ok(Format::Html),
        Some(e) => format_of(e).ok_or_else(|| {
            Error::Usage(format!(
                "cannot tell the format of a .{e} file: pass --format html, md or json"
            ))
        }),
    }
}

/// A path's extension, lower-cased.
fn extension(p: &Path) -> Option<String> {
    p.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
}

/// The format a file extension names.
fn format_of(ext: &str) -> Option<Format> {
    match ext {
        "html" | "htm" => Some(Format::Html),
        "md" | "markdown" => Some(Format::Md),
        "json" => Some(Format::Json),
        _ => None,
    }
}

/// Whether `-o` names a folder to write `<share_id>.<ext>` in: an existing
/// one, or a path that ends in a separator (`out/`), created if missing.
fn names_folder(p: &Path) -> bool {
    p.is_dir()
        || p.as_os_str()
            .to_string_lossy()
            .ends_with(std::path::is_separator)
}

/// Writes the session: the page (encrypted when `protection` is given)
/// or the other formats.
fn render(
    renderer: &Renderer,
    session: crate::model::Session,
    format: Format,
    protection: Option<&Protection>,
    w: &mut dyn std::io::Write,
) -> crate::Result<()> {
    match protection {
        Some(p) => renderer.render_protected_to(&session, p, w),
        None => renderer.render_spending_to(session, format, w),
    }
}

/// What clap cannot check: `requires = "all"` is not enforced once a
/// session is given (clap-rs/clap#4520), and where the output goes.
fn check_args(args: &ExportArgs) -> Result<(), Error> {
    let usage = |m: &str| Err(Error::Usage(m.to_string()));
    if !args.all && (args.agent.is_some() || args.project.is_some() || args.since.is_some()) {
        return usage(
            "--agent, --project and --since choose sessions for --all; \
             one session is chosen by its id, prefix or path",
        );
    }
    let stdout = args.output.as_deref() == Some(Path::new("-"));
    if args.open && (args.all || stdout) {
        return usage("--open opens one page written to a file: not with --all or -o -");
    }
    if args.all
        && let Some(out) = &args.output
    {
        if stdout {
            return usage("--all writes one file per session into a folder: not to -o -");
        }
        if !names_folder(out) && extension(out).as_deref().and_then(format_of).is_some() {
            return Err(Error::Usage(format!(
                "--all writes one file per session into a folder; {} looks like a file \
                 (end it with / to make a folder of that name)",
                out.display()
            )));
        }
    }
    Ok(())
}

pub fn run(ctx: &Ctx, args: ExportArgs) -> anyhow::Result<()> {
    check_args(&args)?;
    let format = infer_format(&args)?;
    if format == Format::Html {
        crate::render::highlight::warm_up();
    }
    let renderer = Renderer::new(
        &ctx.config,
        ctx.salt()?,
        args.theme.as_deref(),
        args.templates.as_deref(),
    )?;
    let wants_protection =
        args.protect.password || args.protect.password_env.is_some() || args.protect.key_in_url;
    if wants_protection && format != Format::Html {
        return Err(Error::Usage(format!(
            "--password, --password-env and --key-in-url encrypt HTML pages; a {} export cannot be protected",
            format.extension()
        ))
        .into());
    }
    let protection = super::protect::from_args(&args.protect)?;
    let protection = protection.as_ref();
    let redactor = ctx.redactor(args.no_redact)?;
    if args.all {
        return run_all(ctx, &args, format, &renderer, protection, redactor.as_ref());
    }
    let found = select::resolve(args.session.as_deref(), &ctx.stores, &ctx.diag)?;
    let r = found.session_ref();
    // Reading is mostly one thread's work: the redaction patterns compile
    // beside it.
    let loaded = std::thread::scope(|scope| {
        if let Some(red) = &redactor {
            scope.spawn(|| red.prepare());
        }
        found.source.load(&r, &ctx.diag)
    });
    let mut session = loaded.with_context(|| format!("loading {} session {}", r.agent, r.id))?;
    crate::sources::check_readable(&session, &ctx.diag)?;
    if let Some(red) = redactor {
        red.apply(&mut session);
        // Its compiled patterns and their search caches would otherwise
        // stay allocated beside the page being rendered.
        drop(red);
    }
    let sid = renderer.share_id(&session);
    let target: PathBuf = match args.output.as_deref() {
        Some(p) if p == Path::new("-") && args.json => {
            return Err(Error::Usage(
                "--json describes the file written: it cannot go with -o -".into(),
            )
            .into());
        }
        Some(p) if p == Path::new("-") => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            if let Some(frag) = protection.and_then(Protection::fragment) {
                // Standard output holds the page: the key goes to the terminal.
                eprintln!("key: {frag}");
            }
            return match render(&renderer, session, format, protection, &mut w).and_then(|()| {
                std::io::Write::flush(&mut w).map_err(|e| Error::io("(standard output)", e))
            }) {
                Err(Error::Io { err, .. }) if err.kind() == std::io::ErrorKind::BrokenPipe => {
                    Ok(())
                }
                other => Ok(other?),
            };
        }
        Some(p) if names_folder(p) => {
            crate::fsutil::create_dir_all(p)?;
            crate::fsutil::output_path(p, &format!("{sid}.{}", format.extension()))?
        }
        Some(p) => p.to_path_buf(),
        None => PathBuf::from(format!("{sid}.{}", format.extension())),
    };
    // Streamed into a temporary file beside the target, then renamed.
    let mut file = AtomicFile::create(&target, None)?;
    render(&renderer, session, format, protection, &mut file)?;
    file.commit()?;
    let frag = protection.and_then(Protection::fragment);
    // The site's URL serves the share's own page, not this file: an
    // encrypted export (its own key or password) has none.
    let url = match protection {
        Some(_) => None,
        None => renderer.config.share_url(&sid),
    };
    let open = || {
        match &frag {
            Some(f) => opener::open(super::protect::file_url(&target, f)),
            None => opener::open(&target),
        }
        .with_context(|| format!("opening {} in a browser", target.display()))
    };
    if args.json {
        let mut b = serde_json::to_vec_pretty(&serde_json::json!({
            "path": target,
            "format": format.extension(),
            "share_id": sid,
            "agent": r.agent,
            "session": r.id,
            "url": url,
            "file_url": frag.as_deref().map(|f| super::protect::file_url(&target, f)),
        }))?;
        b.push(b'\n');
        emit(&b)?;
        if args.open {
            open()?;
        }
        return Ok(());
    }
    let mut msg = format!("{}\n", target.display());
    if let Some(f) = &frag {
        // The page opens only with its key: the link that carries it.
        msg.push_str(&format!("{}\n", super::protect::file_url(&target, f)));
    }
    if let Some(url) = url {
        msg.push_str(&format!("{url}\n"));
    }
    emit(msg.as_bytes())?;
    if args.open {
        open()?;
    }
    Ok(())
}

/// Where one session of `--all` went, and whether the file changed.
type Outcome = Result<(PathBuf, bool), String>;

fn run_all(
    ctx: &Ctx,
    args: &ExportArgs,
    format: Format,
    renderer: &Renderer,
    protection: Option<&Protection>,
    redactor: Option<&Redactor>,
) -> anyhow::Result<()> {
    let dir = args.output.clone().expect("clap requires -o with --all");
    if dir == Path::new("-") || dir.is_file() {
        return Err(
            Error::Usage("--all writes one file per session: -o must be a folder".into()).into(),
        );
    }
    crate::fsutil::create_dir_all(&dir)?;
    let filter = Filter::new(
        args.agent.as_deref(),
        args.project.as_deref(),
        args.since.as_deref(),
    )?;
    let sources = ctx.stores.sources();
    let all: Vec<_> = select::list_all(&ctx.stores, &ctx.diag)?
        .into_iter()
        .filter(|(_, s)| filter.matches(s))
        .collect();
    let bar = if std::io::stderr().is_terminal()
        && ctx.diag.verbosity() > crate::diag::Verbosity::Quiet
    {
        ProgressBar::with_draw_target(Some(all.len() as u64), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let results: Vec<(String, Outcome)> = all
        .par_iter()
        .map(|(i, summary)| {
            let r = crate::sources::SessionRef {
                agent: summary.agent,
                id: summary.id.clone(),
                path: summary.path.clone(),
            };
            let out = (|| -> anyhow::Result<(PathBuf, bool)> {
                let mut session = sources[*i].load(&r, &ctx.diag)?;
                crate::sources::check_readable(&session, &ctx.diag)?;
                if let Some(red) = redactor {
                    red.apply(&mut session);
                }
                let sid = renderer.share_id(&session);
                let path =
                    crate::fsutil::output_path(&dir, &format!("{sid}.{}", format.extension()))?;
                let mut file = AtomicFile::create(&path, None)?;
                render(renderer, session, format, protection, &mut file)?;
                Ok((path, file.commit_if_changed()?.changed))
            })();
            bar.inc(1);
            (
                format!("{} {}", r.agent, r.id),
                out.map_err(|e| format!("{e:#}")),
            )
        })
        .collect();
    bar.finish_and_clear();
    let mut written = 0;
    let mut unchanged = 0;
    let mut failed = Vec::new();
    let mut listing = String::new();
    let mut rows = Vec::new();
    for (name, r) in results {
        match r {
            Ok((path, changed)) => {
                if changed {
                    written += 1;
                    listing.push_str(&format!("{}\n", path.display()));
                } else {
                    unchanged += 1;
                }
                rows.push(serde_json::json!({"session": name, "path": path, "changed": changed}));
            }
            Err(e) => failed.push(format!("{name}: {e}")),
        }
    }
    if args.json {
        let mut b = serde_json::to_vec_pretty(&serde_json::json!({
            "format": format.extension(),
            "exported": rows,
            "failed": failed,
        }))?;
        b.push(b'\n');
        emit(&b)?;
    } else {
        emit(listing.as_bytes())?;
    }
    if ctx.diag.verbosity() > crate::diag::Verbosity::Quiet {
        eprintln!(
            "{written} written, {unchanged} unchanged, {} failed",
            failed.len()
        );
    }
    if !failed.is_empty() {
        for f in &failed {
            eprintln!("{} {f}", crate::term::error());
        }
        anyhow::bail!(
            "{} of {} sessions could not be exported",
            failed.len(),
            all.len()
        );
    }
    Ok(())
}
