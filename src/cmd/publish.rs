//! `sharegen publish` (and the publishing half of `watch --publish`).

use super::build::{build_site, site_options};
use super::{Ctx, emit};
use crate::cli::{History, PublishArgs};
use crate::diag::Verbosity;
use crate::error::Error;
use crate::publish::bucket::BucketTarget;
use crate::publish::git::GitTarget;
use crate::publish::{LocalSite, PublishOptions, PublishReport, ShareUrl, bucket, git};
use crate::site::SiteOptions;
use chrono::Utc;
use std::io::IsTerminal;

/// A place to publish to.
#[derive(Debug, Clone)]
pub enum Target {
    Git(GitTarget),
    Bucket(BucketTarget),
}

/// The targets: from the flags, else every one configured in config.toml
/// (none if there is none).
pub fn targets(ctx: &Ctx, args: &PublishArgs) -> crate::Result<Vec<Target>> {
    let gc = ctx.config.publish.git.clone().unwrap_or_default();
    let bc = ctx.config.publish.bucket.clone().unwrap_or_default();
    let git_target = |url: String| -> crate::Result<Target> {
        let history = match args.history {
            Some(h) => h,
            None => match gc.history.as_deref() {
                None | Some("keep") => History::Keep,
                Some("squash") => History::Squash,
                Some(other) => {
                    // Say where the value came from.
                    let from = match std::env::var("SHAREGEN_PUBLISH_GIT_HISTORY") {
                        Ok(v) if !v.is_empty() => "$SHAREGEN_PUBLISH_GIT_HISTORY".to_string(),
                        _ => ctx.home.config_path().display().to_string(),
                    };
                    return Err(Error::Usage(format!(
                        "{from}: publish.git.history must be `keep` or `squash`, not `{other}`"
                    )));
                }
            },
        };
        Ok(Target::Git(
            GitTarget {
                url,
                branch: args
                    .branch
                    .clone()
                    .or_else(|| gc.branch.clone())
                    .unwrap_or_else(|| "gh-pages".into()),
                prefix: args.prefix.clone().or_else(|| gc.prefix.clone()),
                history,
                message: args.message.clone().or_else(|| gc.message.clone()),
                git_cli: args.git_cli || gc.git_cli.unwrap_or(false),
            }
            .checked()?,
        ))
    };
    let bucket_target = |url: String| -> crate::Result<Target> {
        let t = BucketTarget {
            url,
            prefix: args.prefix.clone(),
            endpoint: args.endpoint.clone().or_else(|| bc.endpoint.clone()),
            region: args.region.clone().or_else(|| bc.region.clone()),
        };
        crate::publish::bucket::check_form(&t)?;
        Ok(Target::Bucket(t))
    };
    if let Some(url) = &args.git {
        return Ok(vec![git_target(url.clone())?]);
    }
    if let Some(url) = &args.bucket {
        return Ok(vec![bucket_target(url.clone())?]);
    }
    let mut v = Vec::new();
    if let Some(url) = gc.url.clone() {
        v.push(git_target(url)?);
    }
    if let Some(url) = bc.url.clone() {
        v.push(bucket_target(url)?);
    }
    Ok(v)
}

/// Publishes the site already built in `site_opts.out` to one target.
pub fn publish_to(
    ctx: &Ctx,
    target: &Target,
    site_opts: &SiteOptions,
    dry_run: bool,
    progress: bool,
) -> crate::Result<PublishReport> {
    let mut site = LocalSite::open(&site_opts.out)?;
    // The index lists other publishers' shares on the target too.
    let index = if site_opts.index_page {
        let renderer = crate::render::Renderer::new(&ctx.config, ctx.salt()?, None, None)?;
        Some(crate::publish::IndexPage(std::sync::Arc::new(
            move |rows| renderer.render_index(rows).map(String::into_bytes),
        )))
    } else {
        None
    };
    let opts = PublishOptions {
        dry_run,
        publisher: ctx.home.publisher_id()?,
        progress,
        index,
    };
    let mut report = match target {
        Target::Git(t) => git::publish(&mut site, t, &ctx.home.cache_dir, &opts, &ctx.diag)?,
        Target::Bucket(t) => bucket::publish(&mut site, t, &opts, &ctx.diag)?,
    };
    let base = match target {
        Target::Git(t) => None.or_else(|| git::github_pages_url(&t.url, t.prefix.as_deref())),
        Target::Bucket(_) => None,
    };
    report.urls = report
        .changed_shares
        .iter()
        .filter_map(|id| {
            let url = ctx.config.share_url(id).or_else(|| {
                base.as_ref()
                    .map(|b| format!("{}/s/{id}/", b.trim_end_matches('/')))
            })?;
            Some(ShareUrl {
                share_id: id.clone(),
                url,
            })
        })
        .collect();
    if !dry_run {
        let published: Vec<String> = site
            .manifest
            .files
            .values()
            .filter_map(|e| e.share_id.clone())
            .collect();
        let now = Utc::now();
        super::share::store(ctx).update(|l| {
            for s in l.shares.iter_mut() {
                if published.contains(&s.share_id) {
                    s.last_published = Some(now);
                }
            }
            Ok(())
        })?;
    }
    Ok(report)
}

/// One line per target for people; URLs of changed shares on stdout, each
/// once (`printed`: those printed for earlier targets of the run, which
/// share a `site.base_url`).
pub fn print_human(
    ctx: &Ctx,
    report: &PublishReport,
    printed: &mut std::collections::HashSet<String>,
) -> anyhow::Result<()> {
    let loud = ctx.diag.verbosity() > Verbosity::Quiet;
    for w in &report.warnings {
        eprintln!("{} {w}", crate::term::warning());
    }
    if loud {
        let what = if report.dry_run {
            "would upload"
        } else {
            "uploaded"
        };
        if report.up_to_date {
            eprintln!("{}: up to date", report.target);
        } else {
            eprintln!(
                "{}: {what} {}, {} {}, {} unchanged{}",
                report.target,
                report.uploaded.len(),
                if report.dry_run {
                    "would delete"
                } else {
                    "deleted"
                },
                report.deleted.len(),
                report.unchanged,
                report
                    .commit
                    .as_ref()
                    .map(|c| format!(" (commit {})", &c[..c.len().min(12)]))
                    .unwrap_or_default()
            );
        }
        if report.dry_run || ctx.diag.verbosity() == Verbosity::Verbose {
            for p in &report.uploaded {
                eprintln!("  + {p}");
            }
            for p in &report.deleted {
                eprintln!("  - {p}");
            }
        }
    }
    let mut out = String::new();
    for u in &report.urls {
        if printed.insert(u.url.clone()) {
            out.push_str(&u.url);
            out.push('\n');
        }
    }
    emit(out.as_bytes())
}

pub fn run(ctx: &Ctx, args: PublishArgs) -> anyhow::Result<()> {
    let targets = targets(ctx, &args)?;
    if targets.is_empty() {
        return Err(Error::Usage(format!(
            "no publish target: pass --git URL or --bucket URL, or set [publish.git] url or \
             [publish.bucket] url in {}",
            ctx.home.config_path().display()
        ))
        .into());
    }
    let opts = site_options(ctx, args.out.clone(), args.no_redact)?;
    let build = build_site(ctx, &opts)?;
    // The previous pages of failing shares are kept and published; the run
    // fails at the end (each share's problem was warned about).
    let progress = !args.json && std::io::stderr().is_terminal();
    let mut reports = Vec::new();
    let mut printed = std::collections::HashSet::new();
    let mut first_err = None;
    for t in &targets {
        match publish_to(ctx, t, &opts, args.dry_run, progress) {
            Ok(r) => {
                if !args.json {
                    print_human(ctx, &r, &mut printed)?;
                }
                reports.push(r);
            }
            Err(e) => {
                if targets.len() > 1 {
                    eprintln!("{} {e}", crate::term::error());
                }
                first_err.get_or_insert(e);
            }
        }
    }
    if args.json {
        let mut b = serde_json::to_vec_pretty(&reports)?;
        b.push(b'\n');
        emit(&b)?;
    }
    match first_err {
        Some(e) => Err(e.into()),
        // As `build`: the shares that could not be rendered fail the run
        // (their previous pages were published).
        None if !build.failed.is_empty() => Err(anyhow::anyhow!(
            "{} share(s) could not be rendered (their previous pages were published)",
            build.failed.len()
        )),
        None => Ok(()),
    }
}
