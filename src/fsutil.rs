//! File-writing helpers: every file sharegen writes is written atomically.

use crate::error::{IoContext, Result};
use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` atomically: a temporary file in the same
/// directory, fsync, then rename over the target. `mode` sets Unix
/// permissions on the new file.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: Option<u32>) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).at(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".sharegen-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .at(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // New files are private (0600) by default in tempfile; outputs
        // meant to be served are world-readable unless a mode is given.
        let mode = mode.unwrap_or(0o644);
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode))
            .at(tmp.path())?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    tmp.write_all(bytes).at(path)?;
    tmp.as_file().sync_all().at(path)?;
    tmp.persist(path)
        .map_err(|e| crate::error::Error::io(path, e.error))?;
    Ok(())
}
