//! Writing the page of a share that `watch` follows.
//!
//! Every rebuild replaces the page atomically (a new file, synced, renamed
//! over the old one). For a big session that means writing and syncing
//! the whole page each time, about 1 ms per MB on this kind of disk, most
//! of it waiting for the disk; a 100 MB page alone would miss the
//! rebuild's budget. So a big page is *staged*: right after it is written,
//! a copy of it is made and synced on another thread, while `watch` is
//! idle. The next rebuild writes into that copy only what changed — the
//! head of the page (title, counts, table of contents), the messages from
//! the first changed one on, and the end of the page — syncs those few
//! bytes and renames the copy into place.
//!
//! For the messages to stay at the same offsets, the head of a staged page
//! is padded with spaces (inside `<main>`, before the first message) to a
//! reserved size with room to grow; a head that outgrows it gets a whole
//! new page with more room. The copy is an unnamed file (`O_TMPFILE`), so
//! nothing is left behind if `watch` stops or dies; it costs the page's
//! size in disk space while the share is kept. Elsewhere than on Linux,
//! and for small pages, every rebuild writes the whole page.
//!
//! The old page is held open until it is replaced and closed on another
//! thread then: freeing the blocks of a 100 MB file takes the file system
//! about 25 ms, which the rename would otherwise wait for.

use super::live::drop_later;
use crate::error::{Error, Result};
use crate::fsutil::{AtomicFile, Written, hex};
use crate::render::html::{Fragments, Shell};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::Write;
use std::path::Path;

/// Pages at least this big are staged.
pub const STAGE_MIN_BYTES: u64 = 4 << 20;

/// The size from which pages are staged: [`STAGE_MIN_BYTES`], or
/// `SHAREGEN_STAGE_MIN_BYTES` when set (tests stage small pages).
pub fn stage_min() -> u64 {
    std::env::var("SHAREGEN_STAGE_MIN_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(STAGE_MIN_BYTES)
}

/// Room left in a staged page's head for it to grow: the table of
/// contents gains a line per prompt.
fn head_room(head: usize) -> u64 {
    (16 << 10) + head as u64 / 4
}

/// A staged page as the last rebuild wrote it.
pub struct PageFile {
    /// The page, held open so that replacing it does not free it (see
    /// the module notes); only its drop matters.
    #[allow(dead_code)]
    current: File,
    /// Bytes reserved for the head, padding included: where the first
    /// message starts.
    head: u64,
    /// Where each message starts, then where the last one ends.
    offsets: Vec<u64>,
    /// The copy of the page being made (and synced) for the next rebuild.
    copy: Option<std::thread::JoinHandle<std::io::Result<File>>>,
}

impl std::fmt::Debug for PageFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PageFile({} messages)",
            self.offsets.len().saturating_sub(1)
        )
    }
}

/// How a page was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageWrite {
    /// Small: written whole, not staged.
    Plain,
    /// Written whole, and staged for the next rebuild.
    Whole,
    /// Only what changed, into the staged copy.
    Staged,
}

/// Writes the page `shell.head`, the HTML of each message in `frags`,
/// `shell.tail` to `path`. `prev` is what the last write of this page
/// left, whose first `reuse` messages are the same as now; with a staged
/// copy ready, only the rest is written. Returns what was written, how,
/// and what to hand to the next write.
pub fn write(
    path: &Path,
    shell: &Shell,
    frags: &Fragments,
    reuse: usize,
    prev: Option<PageFile>,
    stage_min: u64,
) -> Result<(Written, PageWrite, Option<PageFile>)> {
    let size = shell.head.len() + frags.iter().map(str::len).sum::<usize>() + shell.tail.len();
    let prev = match prev {
        Some(p) if (size as u64) >= stage_min => match staged(path, shell, frags, reuse, p) {
            Ok(done) => return Ok(done),
            Err(p) => Some(p),
        },
        p => p,
    };
    let stage = cfg!(target_os = "linux") && size as u64 >= stage_min;
    let head = if stage {
        shell.head.len() as u64 + head_room(shell.head.len())
    } else {
        shell.head.len() as u64
    };
    let mut f = AtomicFile::create(path, None)?;
    let io = |e: std::io::Error| Error::io(path, e);
    f.write_all(&padded(&shell.head, head)).map_err(io)?;
    let mut offsets = Vec::with_capacity(frags.len() + 1);
    let mut at = head;
    offsets.push(at);
    for h in frags.iter() {
        f.write_all(h.as_bytes()).map_err(io)?;
        at += h.len() as u64;
        offsets.push(at);
    }
    f.write_all(shell.tail.as_bytes()).map_err(io)?;
    let (written, current) = f.commit_keep()?;
    // The old page is replaced now: free it off the rebuild's path.
    drop_later(prev);
    if !stage {
        return Ok((written, PageWrite::Plain, None));
    }
    let page = PageFile {
        copy: Some(copy_later(path, &current, written.size)),
        current,
        head,
        offsets,
    };
    Ok((written, PageWrite::Whole, Some(page)))
}

/// `head` padded with spaces to `size` bytes. The spaces go before
/// `<main`, between the table of contents and the conversation, where
/// they change nothing on the page.
fn padded(head: &str, size: u64) -> Vec<u8> {
    let at = head.rfind("<main").unwrap_or(head.len());
    let mut v = Vec::with_capacity(size.max(head.len() as u64) as usize);
    v.extend_from_slice(&head.as_bytes()[..at]);
    v.resize(at + (size as usize).saturating_sub(head.len()), b' ');
    v.extend_from_slice(&head.as_bytes()[at..]);
    v
}

/// The staged write: `Err(prev)` when it cannot be done (no copy ready,
/// the head outgrew its room, or an I/O error: then a whole page is
/// written, which reports the error if it persists).
#[allow(clippy::result_large_err)]
fn staged(
    path: &Path,
    shell: &Shell,
    frags: &Fragments,
    reuse: usize,
    mut prev: PageFile,
) -> std::result::Result<(Written, PageWrite, Option<PageFile>), PageFile> {
    let fits = shell.head.len() as u64 <= prev.head && reuse < prev.offsets.len();
    let ready = prev.copy.as_ref().is_some_and(|c| c.is_finished());
    if !fits || !ready {
        return Err(prev);
    }
    let copy = match prev.copy.take().map(std::thread::JoinHandle::join) {
        Some(Ok(Ok(f))) => f,
        _ => return Err(prev),
    };
    match write_into(path, &copy, shell, frags, reuse, &prev) {
        Ok((written, offsets)) => {
            let page = PageFile {
                copy: Some(copy_later(path, &copy, written.size)),
                current: copy,
                head: prev.head,
                offsets,
            };
            drop_later(prev);
            Ok((written, PageWrite::Staged, Some(page)))
        }
        Err(_) => Err(prev),
    }
}

/// Writes the changed parts into `copy` (a copy of `prev`'s page), syncs
/// it and links it in place of `path`.
#[cfg(unix)]
fn write_into(
    path: &Path,
    copy: &File,
    shell: &Shell,
    frags: &Fragments,
    reuse: usize,
    prev: &PageFile,
) -> std::io::Result<(Written, Vec<u64>)> {
    use std::io::{Seek, SeekFrom};
    use std::os::unix::fs::FileExt;
    copy.write_all_at(&padded(&shell.head, prev.head), 0)?;
    let start = prev.offsets[reuse];
    copy.set_len(start)?;
    let mut offsets = prev.offsets[..=reuse].to_vec();
    let mut at = start;
    let mut f = copy;
    f.seek(SeekFrom::Start(start))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
    for h in frags.iter().skip(reuse) {
        w.write_all(h.as_bytes())?;
        at += h.len() as u64;
        offsets.push(at);
    }
    w.write_all(shell.tail.as_bytes())?;
    w.flush()?;
    drop(w);
    let size = at + shell.tail.len() as u64;
    copy.sync_data()?;
    link_over(copy, path)?;
    let sha256 = sha256_of(copy, size)?;
    let written = Written {
        sha256,
        size,
        changed: true,
    };
    Ok((written, offsets))
}

#[cfg(not(unix))]
fn write_into(
    _: &Path,
    _: &File,
    _: &Shell,
    _: &Fragments,
    _: usize,
    _: &PageFile,
) -> std::io::Result<(Written, Vec<u64>)> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// The sha256 of the first `size` bytes of `f`.
#[cfg(unix)]
fn sha256_of(f: &File, size: u64) -> std::io::Result<String> {
    use std::os::unix::fs::FileExt;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut at = 0;
    while at < size {
        let want = (size - at).min(buf.len() as u64) as usize;
        let n = f.read_at(&mut buf[..want], at)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        h.update(&buf[..n]);
        at += n as u64;
    }
    Ok(hex(&h.finalize()))
}

/// Gives the unnamed file `f` the name `path`, replacing what is there:
/// linked under a temporary name beside it, then renamed.
#[cfg(target_os = "linux")]
fn link_over(f: &File, path: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::fd::AsRawFd;
    use std::os::unix::ffi::OsStrExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    let from = CString::new(format!("/proc/self/fd/{}", f.as_raw_fd()))?;
    for n in 0u32.. {
        let tmp = dir.join(format!(
            ".sharegen-{}-{}-{n}.tmp",
            std::process::id(),
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
        ));
        let to = CString::new(tmp.as_os_str().as_bytes())?;
        // SAFETY: two valid C strings; linkat only reads them.
        let rc = unsafe {
            libc::linkat(
                libc::AT_FDCWD,
                from.as_ptr(),
                libc::AT_FDCWD,
                to.as_ptr(),
                libc::AT_SYMLINK_FOLLOW,
            )
        };
        if rc != 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::AlreadyExists && n < 16 {
                continue;
            }
            return Err(e);
        }
        return std::fs::rename(&tmp, path).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        });
    }
    unreachable!("the loop returns")
}

#[cfg(not(target_os = "linux"))]
fn link_over(_: &File, _: &Path) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// Starts copying the first `size` bytes of `page` (now at `path`) into a
/// new unnamed file in its folder, synced.
fn copy_later(
    path: &Path,
    page: &File,
    size: u64,
) -> std::thread::JoinHandle<std::io::Result<File>> {
    let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let src = page.try_clone();
    std::thread::spawn(move || {
        let src = src?;
        let dst = unnamed_file(&dir)?;
        copy_range(&src, &dst, size)?;
        dst.sync_data()?;
        Ok(dst)
    })
}

/// A new file in `dir` with no name (`O_TMPFILE`), mode 0644.
#[cfg(target_os = "linux")]
fn unnamed_file(dir: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_TMPFILE)
        .open(dir)?;
    f.set_permissions(std::fs::Permissions::from_mode(0o644))?;
    Ok(f)
}

#[cfg(not(target_os = "linux"))]
fn unnamed_file(_: &Path) -> std::io::Result<File> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// Copies the first `size` bytes of `src` to the start of `dst`, in the
/// kernel where it can.
#[cfg(target_os = "linux")]
fn copy_range(src: &File, dst: &File, size: u64) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let mut off_in: libc::loff_t = 0;
    let mut off_out: libc::loff_t = 0;
    while (off_in as u64) < size {
        let len = (size - off_in as u64).min(1 << 30) as usize;
        // SAFETY: valid descriptors and offsets owned by this frame.
        let n = unsafe {
            libc::copy_file_range(
                src.as_raw_fd(),
                &mut off_in,
                dst.as_raw_fd(),
                &mut off_out,
                len,
                0,
            )
        };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn copy_range(_: &File, _: &File, _: u64) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell(head: &str, tail: &str) -> Shell {
        Shell {
            head: format!("<body><nav>{head}</nav>\n<main id=\"main\">\n"),
            tail: format!("</main>{tail}</body>"),
        }
    }

    fn frags(v: &[&str]) -> Fragments {
        Fragments::of(v.iter().map(|s| s.repeat(1000)).collect())
    }

    /// The page as a whole write without padding makes it.
    fn plain(s: &Shell, f: &Fragments) -> String {
        let mut p = s.head.clone();
        p.extend(f.iter());
        p + &s.tail
    }

    fn without_padding(page: &str) -> String {
        let at = page.find("<main").unwrap();
        format!("{}{}", page[..at].trim_end_matches(' '), &page[at..])
    }

    fn wait_ready(p: &PageFile) {
        let start = std::time::Instant::now();
        while !p.copy.as_ref().unwrap().is_finished() {
            assert!(start.elapsed().as_secs() < 30, "the copy never finished");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    fn check(path: &Path, w: &Written, want: &str) {
        let on_disk = std::fs::read_to_string(path).unwrap();
        assert_eq!(without_padding(&on_disk), want);
        assert_eq!(w.size, on_disk.len() as u64);
        assert_eq!(w.sha256, crate::fsutil::sha256_hex(on_disk.as_bytes()));
        // Nothing is left beside the page (the copy has no name).
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [path.file_name().unwrap()]);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn staged_pages_rewrite_only_what_changed_and_read_as_whole_ones() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.html");

        // Small: written whole, no padding, not staged.
        let (s, f) = (shell("one", "t1"), frags(&["a", "b", "c"]));
        let (w, how, page) = write(&path, &s, &f, 0, None, u64::MAX).unwrap();
        assert_eq!((how, page.is_none()), (PageWrite::Plain, true));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), plain(&s, &f));
        check(&path, &w, &plain(&s, &f));

        // Big enough: written whole with room in its head, and staged.
        let (w, how, page) = write(&path, &s, &f, 0, None, 0).unwrap();
        assert_eq!(how, PageWrite::Whole);
        check(&path, &w, &plain(&s, &f));
        let page = page.unwrap();
        wait_ready(&page);

        // The next write changes the head, the last message and the tail,
        // and adds a message: only those are written, into the copy.
        let (s, f) = (shell("one, two", "t2"), frags(&["a", "b", "C", "d"]));
        let (w, how, page) = write(&path, &s, &f, 2, Some(page), 0).unwrap();
        assert_eq!(how, PageWrite::Staged);
        check(&path, &w, &plain(&s, &f));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
        let page = page.unwrap();
        wait_ready(&page);

        // Messages dropped from the end, none reused.
        let (s, f) = (shell("one", "t3"), frags(&["x"]));
        let (w, how, page) = write(&path, &s, &f, 0, Some(page), 0).unwrap();
        assert_eq!(how, PageWrite::Staged);
        check(&path, &w, &plain(&s, &f));
        let page = page.unwrap();
        wait_ready(&page);

        // A head that outgrows its room gets a whole new page.
        let long = "p".repeat(64 << 10);
        let (s, f) = (shell(&long, "t4"), frags(&["x", "y"]));
        let (w, how, page) = write(&path, &s, &f, 1, Some(page), 0).unwrap();
        assert_eq!(how, PageWrite::Whole);
        check(&path, &w, &plain(&s, &f));
        let page = page.unwrap();
        wait_ready(&page);
        let (s, f) = (shell(&long, "t5"), frags(&["x", "y", "z"]));
        let (w, how, _) = write(&path, &s, &f, 2, Some(page), 0).unwrap();
        assert_eq!(how, PageWrite::Staged);
        check(&path, &w, &plain(&s, &f));
    }
}
