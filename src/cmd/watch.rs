//! `sharegen watch`.

use super::Ctx;
use super::build::{build_site, site_options};
use super::publish::{Target, print_human, publish_to, targets};
use crate::cli::{PublishArgs, WatchArgs};
use crate::site::SiteOptions;
use crate::watch::{self, Driver, Msg};
use std::path::PathBuf;
use std::time::Duration;

struct SiteDriver<'a> {
    ctx: &'a Ctx,
    opts: SiteOptions,
    /// `--publish`: where to push after a rebuild that changed files.
    targets: Vec<Target>,
    published_once: bool,
    /// The shares the last rebuild failed to render, and why.
    failing: std::collections::BTreeMap<String, String>,
}

impl SiteDriver<'_> {
    fn publish(&mut self) {
        let loud = self.ctx.diag.verbosity() > crate::diag::Verbosity::Quiet;
        let mut printed = std::collections::HashSet::new();
        for t in &self.targets {
            match publish_to(self.ctx, t, &self.opts, false, false) {
                Ok(r) => {
                    if loud && let Err(e) = print_human(self.ctx, &r, &mut printed) {
                        eprintln!("{} {e}", crate::term::error());
                    }
                }
                // Keep watching: the next change retries.
                Err(e) => eprintln!("error: {e}"),
            }
        }
        self.published_once = true;
    }
}

impl Driver for SiteDriver<'_> {
    fn rebuild(&mut self) -> crate::Result<Vec<PathBuf>> {
        let report = build_site(self.ctx, &self.opts).map_err(|e| {
            // Keep the kind (and so the exit code) of sharegen's own errors.
            e.downcast::<crate::Error>()
                .unwrap_or_else(|e| crate::Error::Usage(format!("{e:#}")))
        })?;
        let v = self.ctx.diag.verbosity() > crate::diag::Verbosity::Quiet;
        if v && (!report.rendered.is_empty() || !report.removed.is_empty()) {
            eprintln!(
                "{} rendered: {} · removed: {}{}{}",
                chrono::Local::now().format("%H:%M:%S"),
                if report.rendered.is_empty() {
                    "-".into()
                } else {
                    report.rendered.join(" ")
                },
                if report.removed.is_empty() {
                    "-".into()
                } else {
                    report.removed.join(" ")
                },
                if report.staged.is_empty() {
                    String::new()
                } else {
                    format!(" · staged: {}", report.staged.join(" "))
                },
                if report.failed.is_empty() {
                    String::new()
                } else {
                    format!(" · {} failed", report.failed.len())
                }
            );
        }
        let failing: std::collections::BTreeMap<String, String> =
            report.failed.iter().cloned().collect();
        if v {
            // Each share that starts failing, or fails for another reason;
            // one that keeps failing the same way is not repeated, and one
            // that renders again shows in the line above.
            for (id, why) in &failing {
                if self.failing.get(id) != Some(why) {
                    eprintln!(
                        "{} {} share {id} not rendered: {why}",
                        chrono::Local::now().format("%H:%M:%S"),
                        crate::term::warning(),
                    );
                }
            }
        }
        self.failing = failing;
        if !self.targets.is_empty()
            && (!self.published_once
                || !report.written_files.is_empty()
                || !report.deleted_files.is_empty())
        {
            self.publish();
        }
        Ok(report.watch_paths)
    }
}

pub fn run(ctx: &Ctx, args: WatchArgs) -> anyhow::Result<()> {
    let mut opts = site_options(ctx, args.out, args.no_redact)?;
    opts.live = true;
    opts.live_cache = Some(std::sync::Arc::new(crate::site::LiveCache::default()));
    // Transcripts are re-read often while they grow: keep each one's parser
    // state and read only what was appended.
    crate::sources::jsonl::enable_tails(true);
    let (tx, rx) = watch::channel_pair();
    let stopper = tx.clone();
    ctrlc::set_handler(move || {
        let _ = stopper.send(Msg::Stop);
    })?;
    // Before saying it watches: a missing publish target is an error.
    let targets = if args.publish {
        let t = targets(ctx, &PublishArgs::default())?;
        if t.is_empty() {
            return Err(crate::Error::Usage(format!(
                "watch --publish publishes to the targets in config.toml, and there is none: \
                 set [publish.git] url or [publish.bucket] url in {}",
                ctx.home.config_path().display()
            ))
            .into());
        }
        t
    } else {
        Vec::new()
    };
    // Before saying it watches: a site folder that cannot be made is an
    // error.
    crate::fsutil::create_dir_all(&opts.out)?;
    if ctx.diag.verbosity() > crate::diag::Verbosity::Quiet {
        eprintln!(
            "watching shared sessions; site in {} (Ctrl-C stops)",
            opts.out.display()
        );
    }
    let mut driver = SiteDriver {
        ctx,
        opts,
        targets,
        published_once: false,
        failing: Default::default(),
    };
    // The share list's folder: shares made while watching take effect.
    let extra = vec![ctx.home.config_dir.clone()];
    watch::run(
        &mut driver,
        &extra,
        Duration::from_millis(args.debounce),
        (tx, rx),
        &ctx.diag,
    )?;
    if ctx.diag.verbosity() > crate::diag::Verbosity::Quiet {
        eprintln!("stopped");
    }
    Ok(())
}
