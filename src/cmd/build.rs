//! `sharegen build`.

use super::{Ctx, emit};
use crate::cli::BuildArgs;
use crate::render::Renderer;
use crate::site::{self, BuildReport, SiteOptions};
use chrono::Utc;
use std::path::PathBuf;

pub fn site_options(
    ctx: &Ctx,
    out: Option<PathBuf>,
    no_redact: bool,
) -> crate::Result<SiteOptions> {
    let out = out
        .or_else(|| ctx.config.site.out.clone())
        .unwrap_or_else(|| ctx.home.config_dir.join("site"));
    Ok(SiteOptions {
        live: crate::site::built_live(&out),
        out,
        session_json: ctx.config.site.session_json,
        index_page: ctx.config.site.index_page,
        index_by_robots: ctx.config.site.index,
        redactor: ctx.redactor(no_redact)?.map(std::sync::Arc::new),
        live_cache: None,
        stage_min: crate::site::page::stage_min(),
    })
}

/// Builds the site and records render times in the share list.
pub fn build_site(ctx: &Ctx, opts: &SiteOptions) -> anyhow::Result<BuildReport> {
    let store = super::share::store(ctx);
    let list = store.read()?;
    let renderer = Renderer::new(&ctx.config, ctx.salt()?, None, None)?;
    let now = Utc::now();
    let report = site::build(&list, &ctx.stores, &renderer, opts, &ctx.diag, now)?;
    if !report.rendered.is_empty() {
        store.update(|l| {
            for s in l.shares.iter_mut() {
                if report.rendered.contains(&s.share_id) {
                    s.last_rendered = Some(now);
                }
            }
            Ok(())
        })?;
    }
    Ok(report)
}

pub fn run(ctx: &Ctx, args: BuildArgs) -> anyhow::Result<()> {
    let opts = site_options(ctx, args.out, args.no_redact)?;
    let report = build_site(ctx, &opts)?;
    if args.json {
        let mut b = serde_json::to_vec_pretty(&serde_json::json!({
            "out": opts.out,
            "rendered": report.rendered,
            "unchanged": report.unchanged,
            "removed": report.removed,
            "failed": report.failed,
            "written": report.written_files,
            "deleted": report.deleted_files,
        }))?;
        b.push(b'\n');
        emit(&b)?;
    } else {
        emit(format!("{}\n", opts.out.display()).as_bytes())?;
        if ctx.diag.verbosity() > crate::diag::Verbosity::Quiet {
            eprintln!(
                "{} rendered, {} unchanged, {} removed, {} failed",
                report.rendered.len(),
                report.unchanged.len(),
                report.removed.len(),
                report.failed.len()
            );
        }
    }
    if !report.failed.is_empty() {
        anyhow::bail!(
            "{} share(s) could not be rendered (their previous pages were kept)",
            report.failed.len()
        );
    }
    Ok(())
}
