//! File-writing helpers: every file sharegen writes is written atomically
//! (a temporary file in the same folder, fsync, rename over the target).

use crate::error::{Error, IoContext, Result};
use sha2::{Digest, Sha256};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// A file being written: bytes go to a temporary file beside the target,
/// hashed on the way; [`AtomicFile::commit`] renames it into place.
/// Dropped without a commit, the temporary file is removed.
pub struct AtomicFile {
    path: PathBuf,
    out: BufWriter<tempfile::NamedTempFile>,
    hasher: Sha256,
    size: u64,
}

/// What a committed file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub sha256: String,
    pub size: u64,
    /// False when the target already held exactly these bytes.
    pub changed: bool,
}

impl AtomicFile {
    /// Starts writing `path`; `mode` sets Unix permissions (default 0644).
    pub fn create(path: &Path, mode: Option<u32>) -> Result<AtomicFile> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        std::fs::create_dir_all(dir).at(dir)?;
        let tmp = tempfile::Builder::new()
            .prefix(".sharegen-")
            .suffix(".tmp")
            .tempfile_in(dir)
            .at(dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // tempfile creates private (0600) files; outputs meant to be
            // served are world-readable unless a mode is given.
            let mode = mode.unwrap_or(0o644);
            std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode))
                .at(tmp.path())?;
        }
        #[cfg(not(unix))]
        let _ = mode;
        Ok(AtomicFile {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(1 << 16, tmp),
            hasher: Sha256::new(),
            size: 0,
        })
    }

    fn finish(self) -> Result<(tempfile::NamedTempFile, PathBuf, String, u64)> {
        let path = self.path;
        let tmp = self
            .out
            .into_inner()
            .map_err(|e| Error::io(&path, e.into_error()))?;
        let sha = hex(&self.hasher.finalize());
        Ok((tmp, path, sha, self.size))
    }

    /// Syncs and renames the file into place.
    pub fn commit(self) -> Result<Written> {
        self.commit_inner(false)
    }

    /// Like [`AtomicFile::commit`], but leaves the target alone when it
    /// already holds the same bytes (same size and sha256).
    pub fn commit_if_changed(self) -> Result<Written> {
        self.commit_inner(true)
    }

    fn commit_inner(self, only_if_changed: bool) -> Result<Written> {
        let (tmp, path, sha256, size) = self.finish()?;
        let same = only_if_changed
            && std::fs::metadata(&path).is_ok_and(|m| m.len() == size)
            && file_sha256(&path).ok().as_deref() == Some(&sha256);
        if !same {
            tmp.as_file().sync_all().at(&path)?;
            tmp.persist(&path).map_err(|e| Error::io(&path, e.error))?;
        }
        Ok(Written {
            sha256,
            size,
            changed: !same,
        })
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The sha256 of a file, read in chunks.
pub fn file_sha256(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).at(path)?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).at(path)?;
    Ok(hex(&h.finalize()))
}

/// The sha256 of bytes, as hex.
pub fn sha256_hex(b: &[u8]) -> String {
    hex(&Sha256::digest(b))
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: Option<u32>) -> Result<()> {
    let mut f = AtomicFile::create(path, mode)?;
    f.write_all(bytes).at(path)?;
    f.commit()?;
    Ok(())
}

/// `root` joined with `rel`, a relative path sharegen writes under an
/// output folder (`s/<share_id>/index.html`, `<share_id>.html`). Refused
/// unless every component of `rel` is a plain name (no `..`, `.`, root or
/// empty component) and nothing on the way below `root`, the file
/// included, is a symbolic link: what is written there stays inside
/// `root`.
pub fn output_path(root: &Path, rel: &str) -> Result<PathBuf> {
    use std::path::Component;
    let refuse = |why: String| {
        Error::Refused(format!(
            "refusing to write {}: {why}; sharegen writes only inside {}",
            root.join(rel).display(),
            root.display()
        ))
    };
    let plain = !rel.is_empty()
        && !rel.contains('\0')
        && rel
            .split(['/', '\\'])
            .all(|c| !c.is_empty() && c != "." && c != "..")
        && Path::new(rel)
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
    if !plain {
        return Err(refuse(format!(
            "`{}` is not a plain relative path",
            rel.escape_debug()
        )));
    }
    let mut p = root.to_path_buf();
    for c in Path::new(rel).components() {
        p.push(c);
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(refuse(format!("{} is a symbolic link", p.display())));
            }
            Ok(_) => {}
            // Missing: created as a real folder or file from here on.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
            Err(e) => return Err(Error::io(&p, e)),
        }
    }
    Ok(root.join(rel))
}

/// Whether `path`, with every symbolic link resolved, is `root` or inside
/// it (`root` resolved too). False when either does not exist. Readers of
/// agent stores use it before following what may be a link.
pub fn resolves_within(root: &Path, path: &Path) -> bool {
    match (root.canonicalize(), path.canonicalize()) {
        (Ok(r), Ok(p)) => p.starts_with(r),
        _ => false,
    }
}

/// Whether `path` is a symbolic link that leads outside `root` (or
/// nowhere). Plain files and folders, and links that stay inside, are not.
pub fn link_leaves(root: &Path, path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
        && !resolves_within(root, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_paths_stay_inside() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("out");
        std::fs::create_dir_all(root.join("s")).unwrap();
        assert_eq!(
            output_path(&root, "s/abcdefghij/index.html").unwrap(),
            root.join("s/abcdefghij/index.html")
        );
        for bad in [
            "",
            "../x",
            "s/../../x",
            "/etc/passwd",
            "s//x",
            "./x",
            "s/./x",
            "a\0b",
        ] {
            let e = output_path(&root, bad).unwrap_err();
            assert!(matches!(e, Error::Refused(_)), "{bad:?}: {e}");
        }
        #[cfg(unix)]
        {
            let outside = tmp.path().join("elsewhere");
            std::fs::create_dir_all(&outside).unwrap();
            std::os::unix::fs::symlink(&outside, root.join("s/linked")).unwrap();
            let e = output_path(&root, "s/linked/index.html").unwrap_err();
            assert!(e.to_string().contains("symbolic link"), "{e}");
            std::os::unix::fs::symlink(outside.join("f"), root.join("f.html")).unwrap();
            assert!(output_path(&root, "f.html").is_err());
        }
    }

    #[cfg(unix)]
    #[test]
    fn links_leaving_a_root_are_told_apart() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("store");
        std::fs::create_dir_all(root.join("a")).unwrap();
        std::fs::write(root.join("a/f"), b"x").unwrap();
        std::fs::write(tmp.path().join("secret"), b"x").unwrap();
        std::os::unix::fs::symlink(root.join("a/f"), root.join("inside")).unwrap();
        std::os::unix::fs::symlink(tmp.path().join("secret"), root.join("outside")).unwrap();
        std::os::unix::fs::symlink(root.join("missing"), root.join("dangling")).unwrap();
        assert!(!link_leaves(&root, &root.join("a/f")));
        assert!(!link_leaves(&root, &root.join("inside")));
        assert!(link_leaves(&root, &root.join("outside")));
        assert!(link_leaves(&root, &root.join("dangling")));
        assert!(resolves_within(&root, &root.join("inside")));
        assert!(!resolves_within(&root, &root.join("outside")));
    }
}
