//! `sharegen redact-check`: what redaction would remove, without writing.

use super::{Ctx, emit};
use crate::redact::Redactor;
use crate::select;
use anyhow::Context;

pub fn run(ctx: &Ctx, session: Option<&str>, json: bool) -> anyhow::Result<()> {
    let found = select::resolve(session, &ctx.stores, &ctx.diag)?;
    let r = found.session_ref();
    let mut s = found
        .source
        .load(&r, &ctx.diag)
        .with_context(|| format!("loading {} session {}", r.agent, r.id))?;
    crate::sources::check_readable(&s, &ctx.diag)?;
    let redactor = Redactor::new(&ctx.config.redact, &ctx.salt()?, &ctx.home.config_path())?;
    let report = redactor.apply(&mut s);
    if json {
        let mut b = serde_json::to_vec_pretty(&serde_json::json!({
            "agent": r.agent,
            "session": r.id,
            "counts": report.counts(),
            "findings": report.findings,
            "stripped_injected_parts": report.stripped,
        }))?;
        b.push(b'\n');
        return emit(&b);
    }
    let mut out = String::new();
    if report.findings.is_empty() {
        out.push_str("no secrets found\n");
    } else {
        out.push_str(&format!(
            "{} secret(s) would be redacted:\n",
            report.findings.len()
        ));
        for (kind, n) in report.counts() {
            out.push_str(&format!("  {kind:<22} {n}\n"));
        }
        out.push('\n');
        for f in &report.findings {
            out.push_str(&format!(
                "{:<22} {}  [{}]\n",
                f.kind, f.location, f.fingerprint
            ));
        }
    }
    if report.stripped > 0 {
        out.push_str(&format!(
            "{} harness-injected part(s) would be stripped (redact.strip_injected)\n",
            report.stripped
        ));
    }
    emit(out.as_bytes())
}
