//! File-writing helpers: every file sharegen writes is written atomically
//! (a temporary file in the same folder, fsync, rename over the target).

use crate::error::{Error, IoContext, Result};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

/// Bytes gathered before they go to the file (and to the hasher): a few
/// of these are in flight at once.
const CHUNK: usize = 1 << 18;

/// A file being written: bytes go to a temporary file beside the target,
/// hashed on the way; [`AtomicFile::commit`] renames it into place.
/// Dropped without a commit, the temporary file is removed.
///
/// A big file (a page of a large session: tens of MB) is hashed on another
/// thread while it is written, and the kernel is asked to start writing
/// each chunk out at once, so that the final `fsync` has little left to
/// wait for.
pub struct AtomicFile {
    path: PathBuf,
    tmp: tempfile::NamedTempFile,
    buf: Vec<u8>,
    /// How much of `buf` is already in the file (a write that failed part
    /// way is taken up where it stopped).
    done: usize,
    hasher: Hashing,
    size: u64,
}

/// SHA-256 of the bytes written: on this thread until the first full
/// chunk, then on a helper thread.
enum Hashing {
    Here(Sha256),
    Away {
        send: mpsc::SyncSender<Vec<u8>>,
        /// Chunks hashed, back for reuse.
        back: mpsc::Receiver<Vec<u8>>,
        done: std::thread::JoinHandle<Sha256>,
    },
}

impl Hashing {
    /// Hashes `chunk` (in order); may hand back an empty buffer to reuse.
    fn take(&mut self, chunk: Vec<u8>) -> Vec<u8> {
        if let Hashing::Here(h) = self {
            if chunk.len() < CHUNK {
                h.update(&chunk);
                let mut chunk = chunk;
                chunk.clear();
                return chunk;
            }
            let h = std::mem::take(h);
            let (send, rx) = mpsc::sync_channel::<Vec<u8>>(2);
            let (tx_back, back) = mpsc::channel();
            let done = std::thread::spawn(move || {
                let mut h = h;
                for mut c in rx {
                    h.update(&c);
                    c.clear();
                    let _ = tx_back.send(c);
                }
                h
            });
            *self = Hashing::Away { send, back, done };
        }
        match self {
            Hashing::Away { send, back, .. } => {
                let reuse = back
                    .try_recv()
                    .unwrap_or_else(|_| Vec::with_capacity(CHUNK));
                // The helper only stops when the sender is dropped.
                let _ = send.send(chunk);
                reuse
            }
            Hashing::Here(_) => Vec::with_capacity(CHUNK),
        }
    }

    fn finish(self) -> std::io::Result<Sha256> {
        match self {
            Hashing::Here(h) => Ok(h),
            Hashing::Away { send, done, .. } => {
                drop(send);
                done.join()
                    .map_err(|_| std::io::Error::other("the hashing thread failed"))
            }
        }
    }
}

/// What a committed file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub sha256: String,
    pub size: u64,
    /// False when the target already held exactly these bytes.
    pub changed: bool,
}

/// `std::fs::create_dir_all`, with the error naming the file in the way
/// when part of the path is a file (the OS says only "File exists" or "Not
/// a directory", about the folder asked for).
pub fn create_dir_all(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| {
        // Without a trailing separator: `file/` does not exist.
        let dir: PathBuf = dir.components().collect();
        match dir.ancestors().find(|a| a.exists() && !a.is_dir()) {
            Some(file) => {
                let what = if file == dir {
                    "is a file, not a folder".to_string()
                } else {
                    format!("is a file, not a folder (making {})", dir.display())
                };
                Error::io(
                    file,
                    std::io::Error::new(std::io::ErrorKind::NotADirectory, what),
                )
            }
            None => Error::io(dir, e),
        }
    })
}

impl AtomicFile {
    /// Starts writing `path`; `mode` sets Unix permissions (default 0644).
    pub fn create(path: &Path, mode: Option<u32>) -> Result<AtomicFile> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        create_dir_all(dir)?;
        let tmp = tempfile::Builder::new()
            .prefix(".sharegen-")
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(|e| {
                // Named for the file asked for; tempfile's message names its
                // own temporary file.
                let msg = e.to_string();
                let cause = msg.split(" at path ").next().unwrap_or(&msg);
                Error::io(
                    path,
                    std::io::Error::new(
                        e.kind(),
                        format!("cannot create a file in {}: {cause}", dir.display()),
                    ),
                )
            })?;
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
            tmp,
            buf: Vec::with_capacity(CHUNK.min(1 << 16)),
            done: 0,
            hasher: Hashing::Here(Sha256::new()),
            size: 0,
        })
    }

    /// Writes out what is gathered and hands it to the hasher.
    fn emit(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        while self.done < self.buf.len() {
            match self.tmp.as_file_mut().write(&self.buf[self.done..]) {
                Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                Ok(k) => self.done += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.done = 0;
        let n = self.buf.len() as u64;
        if n >= CHUNK as u64 {
            start_writeback(self.tmp.as_file(), self.size - n, n);
        }
        let chunk = std::mem::take(&mut self.buf);
        self.buf = self.hasher.take(chunk);
        Ok(())
    }

    fn finish(mut self) -> Result<(tempfile::NamedTempFile, PathBuf, String, u64)> {
        let path = std::mem::take(&mut self.path);
        self.emit().at(&path)?;
        let sha = hex(&self.hasher.finish().at(&path)?.finalize());
        Ok((self.tmp, path, sha, self.size))
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

    /// Like [`AtomicFile::commit`], and hands back the file, open.
    pub fn commit_keep(self) -> Result<(Written, std::fs::File)> {
        let (tmp, path, sha256, size) = self.finish()?;
        tmp.as_file().sync_all().at(&path)?;
        let file = tmp.persist(&path).map_err(|e| Error::io(&path, e.error))?;
        let w = Written {
            sha256,
            size,
            changed: true,
        };
        Ok((w, file))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // A full chunk goes out before more is taken: an error then
        // leaves `buf` unwritten and unaccepted.
        if self.buf.len() >= CHUNK {
            self.emit()?;
        }
        let n = buf.len().min(CHUNK - self.buf.len());
        self.buf.extend_from_slice(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.emit()
    }
}

/// Asks the kernel to start writing `len` bytes of `file` at `offset` out
/// to disk now, without waiting (Linux; a hint elsewhere ignored).
fn start_writeback(file: &std::fs::File, offset: u64, len: u64) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: a valid open descriptor; the call only schedules I/O.
        unsafe {
            libc::sync_file_range(
                file.as_raw_fd(),
                offset as libc::off64_t,
                len as libc::off64_t,
                libc::SYNC_FILE_RANGE_WRITE,
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (file, offset, len);
}

/// Lower-case hex of `b`.
pub(crate) fn hex(b: &[u8]) -> String {
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
    fn a_file_in_the_way_of_a_folder_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("page.html");
        std::fs::write(&file, "x").unwrap();
        for (dir, said) in [
            (
                file.join("sub/deeper"),
                format!("is a file, not a folder (making {}", file.display()),
            ),
            (file.clone(), "is a file, not a folder".to_string()),
            // `-o page.html/` asks for a folder of that name.
            (
                PathBuf::from(format!("{}/", file.display())),
                "is a file, not a folder".to_string(),
            ),
        ] {
            let e = create_dir_all(&dir).unwrap_err().to_string();
            assert!(e.starts_with(&format!("{}: ", file.display())), "{e}");
            assert!(e.contains(&said), "{e}");
            assert!(!e.contains("File exists"), "{e}");
        }
        create_dir_all(&tmp.path().join("a/b")).unwrap();
        assert!(tmp.path().join("a/b").is_dir());
    }

    /// A folder where no file can be made: the error names the file asked
    /// for, not the temporary file.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_file_that_cannot_be_made_is_named() {
        let e = AtomicFile::create(Path::new("/proc/sharegen-test.html"), None)
            .err()
            .expect("/proc takes no new files")
            .to_string();
        assert!(
            e.starts_with("/proc/sharegen-test.html: cannot create a file in /proc: "),
            "{e}"
        );
        assert!(!e.contains(".sharegen-"), "{e}");
    }

    /// Big files are hashed on another thread, in chunks: the bytes and
    /// the hash must still be exactly what was written, whatever the sizes
    /// of the writes, with and without flushes between.
    #[test]
    fn written_bytes_and_hashes_match_for_any_size() {
        let tmp = tempfile::tempdir().unwrap();
        let mut seed = 11u64;
        for (k, total) in [0, 1, 4096, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK + 12345]
            .into_iter()
            .enumerate()
        {
            let data: Vec<u8> = (0..total).map(|i| (i * 31 % 251) as u8).collect();
            let path = tmp.path().join(format!("f{k}"));
            let mut f = AtomicFile::create(&path, None).unwrap();
            let mut at = 0;
            while at < data.len() {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                let n = ((seed >> 33) as usize % (CHUNK / 3) + 1).min(data.len() - at);
                f.write_all(&data[at..at + n]).unwrap();
                if seed.is_multiple_of(7) {
                    f.flush().unwrap();
                }
                at += n;
            }
            let w = f.commit().unwrap();
            assert_eq!(w.size, total as u64);
            assert_eq!(w.sha256, sha256_hex(&data), "size {total}");
            assert!(std::fs::read(&path).unwrap() == data, "size {total}");
        }
    }

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
