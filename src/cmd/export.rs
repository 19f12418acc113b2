use super::{Ctx, emit};
use crate::cli::{ExportArgs, Format};
use crate::error::Error;
use crate::fsutil::write_atomic;
use crate::home::share_id;
use crate::model::{ExportDocument, SCHEMA_VERSION};
use crate::select;
use anyhow::Context;
use std::path::{Path, PathBuf};

fn infer_format(args: &ExportArgs) -> Result<Format, Error> {
    if let Some(f) = args.format {
        return Ok(f);
    }
    let ext = args
        .output
        .as_deref()
        .filter(|p| *p != Path::new("-") && !p.is_dir())
        .and_then(|p| p.extension())
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match ext.as_deref() {
        None | Some("json") => Ok(Format::Json),
        Some(other) => Err(Error::Usage(format!(
            "cannot export to a .{other} file: the supported format is json (--format json)"
        ))),
    }
}

pub fn run(ctx: &Ctx, args: ExportArgs) -> anyhow::Result<()> {
    let format = infer_format(&args)?;
    let found = select::resolve(args.session.as_deref(), &ctx.stores, &ctx.diag)?;
    let r = found.session_ref();
    let session = found
        .source
        .load(&r, &ctx.diag)
        .with_context(|| format!("loading {} session {}", r.agent, r.id))?;
    let salt = ctx.home.salt()?;
    let sid = share_id(&salt, session.agent, &session.id);
    let bytes = match format {
        Format::Json => {
            let doc = ExportDocument {
                schema_version: SCHEMA_VERSION,
                generator: format!("sharegen {}", env!("CARGO_PKG_VERSION")),
                share_id: sid.clone(),
                session,
            };
            let mut b = serde_json::to_vec_pretty(&doc)?;
            b.push(b'\n');
            b
        }
    };
    let target: PathBuf = match args.output.as_deref() {
        Some(p) if p == Path::new("-") => return emit(&bytes),
        Some(p) if p.is_dir() => p.join(format!("{sid}.json")),
        Some(p) => p.to_path_buf(),
        None => PathBuf::from(format!("{sid}.json")),
    };
    write_atomic(&target, &bytes, None)?;
    emit(format!("{}\n", target.display()).as_bytes())
}
