//! Loose JSONL reading shared by the line-based sources.
//!
//! Lines are read one at a time. Invalid UTF-8 becomes U+FFFD, JSON-escaped
//! lone surrogates become `\ufffd`, and a last line without a newline that
//! does not parse is treated as still being written. Every problem is
//! reported through [`Diag`] with path:line, once per kind per file.

use crate::diag::Diag;
use crate::error::{IoContext, Result};
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Reads `path` line by line and calls `f(line_number, text, complete)` for
/// each non-blank line. `complete` is false for a last line with no trailing
/// newline. Returns the number of bytes consumed up to the end of the last
/// complete line.
pub fn read_lines(path: &Path, diag: &Diag, mut f: impl FnMut(u64, &str, bool)) -> Result<u64> {
    let file = std::fs::File::open(path).at(path)?;
    read_lines_from(path, file, diag, &mut f)
}

/// Like [`read_lines`], over any reader (`path` is only used in messages).
pub fn read_lines_from(
    path: &Path,
    reader: impl Read,
    diag: &Diag,
    f: &mut dyn FnMut(u64, &str, bool),
) -> Result<u64> {
    read_lines_after(path, reader, 0, diag, f).map(|(consumed, _)| consumed)
}

/// About how many bytes a piece of [`par_read_lines_from`] holds: a piece
/// ends at the last newline among the bytes read for it, and a line longer
/// than this makes its piece longer.
pub const PIECE_BYTES: usize = 1 << 20;

/// Like [`read_lines_from`], with the lines handled on all cores.
///
/// The input is cut into pieces of whole lines, about `piece_bytes` each
/// (use [`PIECE_BYTES`]). Each thread of the pool takes the next piece when
/// it is free: it reads the piece (one thread at a time) and hands its
/// lines to `f`, so reading and parsing overlap and about one piece per
/// thread is in memory at a time. Each piece's lines go to `f` with a state
/// of its own, made by `init`, and a [`Diag`] of its own; the states come
/// back in the order of the pieces. Line numbers, texts and `complete`
/// flags are those [`read_lines_from`] gives, and warnings reach `diag` in
/// file order, so the line reported for each kind is the first one.
pub fn par_read_lines_from<S: Send>(
    path: &Path,
    reader: impl Read + Send,
    diag: &Diag,
    piece_bytes: usize,
    init: &(dyn Fn() -> S + Sync),
    f: &(dyn Fn(&mut S, u64, &str, bool, &Diag) + Sync),
) -> Result<Vec<S>> {
    use rayon::iter::{ParallelBridge, ParallelIterator};
    let spare = Mutex::new(Spare::default());
    let pieces = Pieces {
        path,
        reader,
        piece_bytes: piece_bytes.max(1),
        carry: Vec::new(),
        spare: &spare,
        lines_before: 0,
        next: 0,
        done: false,
    };
    let mut done: Vec<(usize, Result<(S, Diag)>)> = pieces
        .par_bridge()
        .map(|(i, piece)| {
            let one = piece.and_then(|(bytes, before)| {
                let (mut state, d) = (init(), Diag::silent());
                let read =
                    read_lines_after(path, &bytes[..], before, &d, &mut |n, text, complete| {
                        f(&mut state, n, text, complete, &d)
                    });
                give_back(&spare, bytes, piece_bytes);
                read?;
                Ok((state, d))
            });
            (i, one)
        })
        .collect();
    done.sort_unstable_by_key(|(i, _)| *i);
    let mut states = Vec::with_capacity(done.len());
    for (_, one) in done {
        let (state, d) = one?;
        d.forward_to(diag);
        states.push(state);
    }
    Ok(states)
}

/// The pieces of [`par_read_lines_from`], read in order: each is its index
/// and its bytes with the number of lines before it, or the read error
/// that ends them.
struct Pieces<'a, R> {
    path: &'a Path,
    reader: R,
    piece_bytes: usize,
    /// Bytes read past the last newline of the previous piece.
    carry: Vec<u8>,
    /// Buffers of pieces already parsed, to read the next ones into. A
    /// fresh buffer of a megabyte is 256 fresh pages, a page fault each (a
    /// third of a 100 MB export's page faults); a reused one is not.
    spare: &'a Mutex<Spare>,
    lines_before: u64,
    next: usize,
    done: bool,
}

type Piece = Result<(Vec<u8>, u64)>;

impl<R: Read> Iterator for Pieces<'_, R> {
    type Item = (usize, Piece);

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            let mut piece = take_spare(self.spare);
            piece.reserve(self.carry.len() + self.piece_bytes);
            piece.extend_from_slice(&self.carry);
            self.carry.clear();
            // Read on until the piece is big enough and holds a newline
            // past what was searched before; cut after the last one.
            let mut searched = 0;
            let cut = loop {
                if piece.len() >= self.piece_bytes
                    && let Some(i) = last_newline(&piece[searched..])
                {
                    break searched + i + 1;
                }
                searched = piece.len();
                let want = self.piece_bytes.max(piece.len()) as u64;
                match self.reader.by_ref().take(want).read_to_end(&mut piece) {
                    Ok(0) => {
                        self.done = true;
                        close_spare(self.spare);
                        break piece.len();
                    }
                    Ok(_) => {}
                    Err(e) => {
                        self.done = true;
                        close_spare(self.spare);
                        return Some((self.next, Err(crate::error::Error::io(self.path, e))));
                    }
                }
            };
            self.carry.extend_from_slice(&piece[cut..]);
            piece.truncate(cut);
            if piece.is_empty() {
                give_back(self.spare, piece, self.piece_bytes);
                continue;
            }
            let lines = memchr::memchr_iter(b'\n', &piece).count() as u64;
            let item = (self.next, Ok((piece, self.lines_before)));
            self.lines_before += lines;
            self.next += 1;
            return Some(item);
        }
        None
    }
}

/// The buffers of pieces already parsed (see [`Pieces::spare`]).
#[derive(Default)]
struct Spare {
    buffers: Vec<Vec<u8>>,
    /// Set once the last piece is read: buffers given back are freed then.
    closed: bool,
}

/// An empty buffer for the next piece: one given back, else a new one.
fn take_spare(spare: &Mutex<Spare>) -> Vec<u8> {
    let mut v = spare
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .buffers
        .pop()
        .unwrap_or_default();
    v.clear();
    v
}

/// Keeps a piece's buffer for a later piece. It is freed instead when no
/// piece is left to read, or when a very long line grew it far past
/// `piece_bytes`.
fn give_back(spare: &Mutex<Spare>, bytes: Vec<u8>, piece_bytes: usize) {
    let mut spare = spare.lock().unwrap_or_else(|e| e.into_inner());
    if !spare.closed && bytes.capacity() <= 4 * piece_bytes.max(1 << 16) {
        spare.buffers.push(bytes);
    }
}

/// No piece is left to read: frees the buffers kept.
fn close_spare(spare: &Mutex<Spare>) {
    let mut spare = spare.lock().unwrap_or_else(|e| e.into_inner());
    spare.closed = true;
    spare.buffers = Vec::new();
}

/// Where the last newline in `bytes` is.
fn last_newline(bytes: &[u8]) -> Option<usize> {
    memchr::memrchr(b'\n', bytes)
}

/// Like [`read_lines_from`], for a reader that starts after `lines_before`
/// lines (line numbers go on from there). Returns the bytes and the number
/// of lines consumed up to the end of the last complete line.
fn read_lines_after(
    path: &Path,
    reader: impl Read,
    lines_before: u64,
    diag: &Diag,
    f: &mut dyn FnMut(u64, &str, bool),
) -> Result<(u64, u64)> {
    let mut r = BufReader::with_capacity(1 << 16, reader);
    let mut buf = Vec::with_capacity(1 << 16);
    let mut lineno = lines_before;
    let mut consumed = 0u64;
    let mut complete_lines = 0u64;
    loop {
        buf.clear();
        let n = r.read_until(b'\n', &mut buf).at(path)?;
        if n == 0 {
            break;
        }
        lineno += 1;
        let complete = buf.last() == Some(&b'\n');
        if complete {
            consumed += n as u64;
            complete_lines += 1;
        }
        let bytes = trim_ascii_ws(&buf);
        if bytes.is_empty() {
            continue;
        }
        let text = match std::str::from_utf8(bytes) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => {
                diag.warn(
                    path,
                    Some(lineno),
                    "invalid-utf8",
                    "invalid UTF-8 replaced with U+FFFD",
                );
                String::from_utf8_lossy(bytes)
            }
        };
        f(lineno, &text, complete);
    }
    Ok((consumed, complete_lines))
}

/// Whether line-based sources keep their parser state per file and read
/// only what was appended since (see [`Tails`]). Off by default: a one-shot
/// command reads each file once. `watch` turns it on.
static TAILS_ENABLED: AtomicBool = AtomicBool::new(false);

/// Turns incremental reading on or off for this process.
pub fn enable_tails(on: bool) {
    TAILS_ENABLED.store(on, Ordering::Relaxed);
}

/// Whether incremental reading is on.
pub fn tails_enabled() -> bool {
    TAILS_ENABLED.load(Ordering::Relaxed)
}

/// How [`Tails::read`] read a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TailRead {
    /// From the start (first read, or the file was truncated or replaced).
    Full { bytes: u64 },
    /// Only the bytes after what was read before.
    Appended { bytes: u64 },
}

/// Bytes compared at both ends of what was read before, to tell an
/// appended file from one rewritten in place.
const CHECK_BYTES: u64 = 64;

/// Incremental reading of append-only JSONL files: per file, the parser
/// state `S` after the last complete line read, and where that line ended.
///
/// The next read of the same file (same device and inode, not shorter,
/// same bytes at the start and just before the old end) starts at that
/// offset and feeds only the new lines to the parser. A last line without
/// its newline is parsed into a copy of the state and read again next
/// time: it is still being written. A truncated or replaced file is read
/// again from the start.
pub struct Tails<S> {
    files: Mutex<HashMap<PathBuf, Tail<S>>>,
    last: Mutex<HashMap<PathBuf, TailRead>>,
}

struct Tail<S> {
    file_id: (u64, u64),
    offset: u64,
    lines: u64,
    head: Vec<u8>,
    end: Vec<u8>,
    state: S,
}

impl<S> Default for Tails<S> {
    fn default() -> Self {
        Tails {
            files: Mutex::new(HashMap::new()),
            last: Mutex::new(HashMap::new()),
        }
    }
}

#[cfg(unix)]
fn file_id(m: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (m.dev(), m.ino())
}

#[cfg(not(unix))]
fn file_id(_: &std::fs::Metadata) -> (u64, u64) {
    (0, 0)
}

/// Up to `len` bytes of `file` at `at` (fewer at its end).
fn bytes_at(file: &mut std::fs::File, at: u64, len: u64) -> std::io::Result<Vec<u8>> {
    file.seek(SeekFrom::Start(at))?;
    let mut v = Vec::with_capacity(len as usize);
    file.by_ref().take(len).read_to_end(&mut v)?;
    Ok(v)
}

impl<S: Clone> Tails<S> {
    /// Reads `path` into a parser state: `init` makes an empty one, `line`
    /// feeds it one line (number, text, complete). Returns the state after
    /// the whole file as it is now.
    pub fn read(
        &self,
        path: &Path,
        diag: &Diag,
        init: impl Fn() -> S,
        line: &mut dyn FnMut(&mut S, u64, &str, bool),
    ) -> Result<S> {
        let (mut out, partial) = self.with(path, diag, init, line, |s, _, partial| {
            (s.clone(), partial.map(|(n, t)| (n, t.to_string())))
        })?;
        if let Some((n, text)) = partial {
            line(&mut out, n, &text, false);
        }
        Ok(out)
    }
}

impl<S> Tails<S> {
    /// Reads what was appended to `path` into its kept parser state (see
    /// [`Tails::read`]) and hands that state to `f`, with how the file was
    /// read and its last line when that is still being written (number,
    /// text; not fed to the state).
    pub fn with<R>(
        &self,
        path: &Path,
        diag: &Diag,
        init: impl Fn() -> S,
        line: &mut dyn FnMut(&mut S, u64, &str, bool),
        f: impl FnOnce(&mut S, TailRead, Option<(u64, &str)>) -> R,
    ) -> Result<R> {
        let mut file = std::fs::File::open(path).at(path)?;
        let meta = file.metadata().at(path)?;
        let id = file_id(&meta);
        let prev = self
            .files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(path);
        let mut reuse = |t: &Tail<S>| -> std::io::Result<bool> {
            if t.file_id != id || meta.len() < t.offset {
                return Ok(false);
            }
            let head = bytes_at(&mut file, 0, CHECK_BYTES.min(t.offset))?;
            let from = t.offset - t.end.len() as u64;
            Ok(head == t.head && bytes_at(&mut file, from, t.end.len() as u64)? == t.end)
        };
        let prev = match prev {
            Some(t) if reuse(&t).at(path)? => Some(t),
            _ => None,
        };
        let appended = prev.is_some();
        let (offset, lines, mut state) = match prev {
            Some(t) => (t.offset, t.lines, t.state),
            None => (0, 0, init()),
        };
        file.seek(SeekFrom::Start(offset)).at(path)?;
        let mut pending: Option<(u64, String)> = None;
        let (consumed, new_lines) =
            read_lines_after(path, &mut file, lines, diag, &mut |n, text, complete| {
                if complete {
                    line(&mut state, n, text, true);
                } else {
                    pending = Some((n, text.to_string()));
                }
            })?;
        let end_offset = offset + consumed;
        let head = bytes_at(&mut file, 0, CHECK_BYTES.min(end_offset)).at(path)?;
        let end_len = CHECK_BYTES.min(end_offset);
        let end = bytes_at(&mut file, end_offset - end_len, end_len).at(path)?;
        let read_bytes = consumed + pending.as_ref().map_or(0, |(_, t)| t.len() as u64);
        let how = if appended {
            TailRead::Appended { bytes: read_bytes }
        } else {
            TailRead::Full { bytes: read_bytes }
        };
        let out = f(
            &mut state,
            how,
            pending.as_ref().map(|(n, t)| (*n, t.as_str())),
        );
        self.files.lock().unwrap_or_else(|e| e.into_inner()).insert(
            path.to_path_buf(),
            Tail {
                file_id: id,
                offset: end_offset,
                lines: lines + new_lines,
                head,
                end,
                state,
            },
        );
        self.last
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(path.to_path_buf(), how);
        Ok(out)
    }

    /// Forgets the state of `path`: the next read is a full one.
    pub fn forget(&self, path: &Path) {
        self.files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(path);
    }

    /// `watch`'s incremental load: reads what was appended to `path` (see
    /// [`Tails::with`]) and lets `step` make the result from the kept
    /// state. `step` may ask for the file to be read from the start (at
    /// most `reads` reads in all). `None` when the file is to be read whole
    /// by the caller this once: its last line, still being written,
    /// already reads as an object (a fresh read shows it), or the reads
    /// ran out.
    pub fn load<R>(
        &self,
        path: &Path,
        diag: &Diag,
        reads: usize,
        init: impl Fn() -> S,
        line: &mut dyn FnMut(&mut S, u64, &str, bool),
        step: &mut dyn FnMut(&mut S) -> Option<R>,
    ) -> Result<Option<R>> {
        for _ in 0..reads {
            let out = self.with(path, diag, &init, line, |st, _, partial| match partial {
                Some((n, text))
                    if parse_object(path, n, text, false, &Diag::silent()).is_some() =>
                {
                    Err(())
                }
                _ => Ok(step(st)),
            })?;
            match out {
                Ok(Some(r)) => return Ok(Some(r)),
                Ok(None) => self.forget(path),
                Err(()) => return Ok(None),
            }
        }
        Ok(None)
    }

    /// How the last [`Tails::read`] of `path` read it.
    pub fn last_read(&self, path: &Path) -> Option<TailRead> {
        self.last
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(path)
            .copied()
    }

    /// Forgets every file whose path `keep` rejects.
    pub fn retain(&self, keep: impl Fn(&Path) -> bool) {
        self.files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|p, _| keep(p));
    }
}

fn trim_ascii_ws(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &b[start..end.max(start)]
}

/// Parses one line into `T`, repairing lone surrogates. Reports failures
/// and returns `None` for lines that cannot be read.
pub fn parse_line<T: serde::de::DeserializeOwned>(
    path: &Path,
    lineno: u64,
    text: &str,
    complete: bool,
    diag: &Diag,
) -> Option<T> {
    match serde_json::from_str::<T>(text) {
        Ok(v) => Some(v),
        Err(e) => {
            if text.contains("\\u") {
                let fixed = replace_lone_surrogates(text);
                if let Cow::Owned(fixed) = fixed
                    && let Ok(v) = serde_json::from_str::<T>(&fixed)
                {
                    diag.warn(
                        path,
                        Some(lineno),
                        "lone-surrogate",
                        "lone UTF-16 surrogate replaced with U+FFFD",
                    );
                    return Some(v);
                }
            }
            report_bad_line(path, lineno, complete, &e, diag);
            None
        }
    }
}

/// Parses one line that must hold a JSON object; reports and skips (None)
/// anything else.
pub fn parse_object(
    path: &Path,
    lineno: u64,
    text: &str,
    complete: bool,
    diag: &Diag,
) -> Option<serde_json::Map<String, serde_json::Value>> {
    match parse_line::<serde_json::Value>(path, lineno, text, complete, diag)? {
        serde_json::Value::Object(o) => Some(o),
        _ => {
            diag.warn(
                path,
                Some(lineno),
                "not-object",
                "skipped a line that is not a JSON object",
            );
            None
        }
    }
}

/// Reports a line that could not be parsed.
pub fn report_bad_line(
    path: &Path,
    lineno: u64,
    complete: bool,
    e: &serde_json::Error,
    diag: &Diag,
) {
    if !complete && e.is_eof() {
        diag.warn(
            path,
            Some(lineno),
            "truncated",
            "last line is incomplete (still being written?); skipped",
        );
    } else {
        diag.warn(
            path,
            Some(lineno),
            "malformed",
            format!("skipped a line that is not valid JSON: {e}"),
        );
    }
}

/// Parses JSON text, mending lone UTF-16 surrogates (which serde_json
/// rejects) when it does not parse as it is; the mended text, which what is
/// parsed may borrow from, is kept in `mended`.
pub fn parse_lenient<'a, T: serde::Deserialize<'a>>(
    text: &'a str,
    mended: &'a mut Option<String>,
) -> std::result::Result<T, serde_json::Error> {
    serde_json::from_str::<T>(text).or_else(|e| match replace_lone_surrogates(text) {
        Cow::Owned(fixed) => serde_json::from_str(mended.insert(fixed)),
        Cow::Borrowed(_) => Err(e),
    })
}

/// The text of a file's bytes, invalid UTF-8 replaced (without a copy when
/// there is none).
pub fn text_of(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Replaces JSON `\uXXXX` escapes of unpaired UTF-16 surrogates with
/// `\ufffd`. Returns the input unchanged when there is none.
pub fn replace_lone_surrogates(s: &str) -> Cow<'_, str> {
    let b = s.as_bytes();
    let mut out: Option<String> = None;
    let mut last = 0usize;
    let mut i = 0usize;
    let hex = |at: usize| -> Option<u32> {
        let h = b.get(at..at + 4)?;
        u32::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()
    };
    while i < b.len() {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        if b.get(i + 1) != Some(&b'u') {
            i += 2;
            continue;
        }
        let Some(cp) = hex(i + 2) else {
            i += 2;
            continue;
        };
        if (0xD800..0xDC00).contains(&cp) {
            // A high surrogate must be followed by an escaped low one.
            let pair = b.get(i + 6) == Some(&b'\\')
                && b.get(i + 7) == Some(&b'u')
                && hex(i + 8).is_some_and(|lo| (0xDC00..0xE000).contains(&lo));
            if pair {
                i += 12;
                continue;
            }
        } else if !(0xDC00..0xE000).contains(&cp) {
            i += 6;
            continue;
        }
        let o = out.get_or_insert_with(|| String::with_capacity(s.len()));
        o.push_str(&s[last..i]);
        o.push_str("\\ufffd");
        i += 6;
        last = i;
    }
    match out {
        None => Cow::Borrowed(s),
        Some(mut o) => {
            o.push_str(&s[last..]);
            Cow::Owned(o)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A parser state for the tail tests: the lines seen, with numbers.
    type Seen = Vec<(u64, String, bool)>;

    fn read_seen(tails: &Tails<Seen>, path: &Path) -> Seen {
        tails
            .read(path, &Diag::silent(), Vec::new, &mut |s, n, t, c| {
                s.push((n, t.to_string(), c))
            })
            .unwrap()
    }

    fn full(path: &Path) -> Seen {
        read_seen(&Tails::default(), path)
    }

    fn append(path: &Path, text: &str) {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }

    /// Pieces of any size give the lines, numbers, `complete` flags and
    /// warnings of one sequential read: blank lines, CRLF, invalid UTF-8
    /// (twice: the first is the one reported), a line longer than a
    /// piece, and a last line without its newline.
    #[test]
    fn pieces_give_what_one_read_gives() {
        let mut input = b"{\"a\":1}\n\n  \r\n{\"b\":\"x\xffy\"}\r\n".to_vec();
        input.extend(format!("{{\"long\":\"{}\"}}\n", "z".repeat(300)).as_bytes());
        input.extend(b"{\"c\":\"\xfe\"}\n\n{\"d\":4}\n{\"e\":");
        let path = Path::new("t.jsonl");
        let one = Diag::silent();
        let mut want: Seen = Vec::new();
        read_lines_from(path, &input[..], &one, &mut |n, t, c| {
            want.push((n, t.to_string(), c))
        })
        .unwrap();
        assert_eq!(want.len(), 6);
        assert_eq!(want.last().unwrap(), &(9, "{\"e\":".to_string(), false));
        assert_eq!(one.warnings().len(), 1);
        assert_eq!(one.warnings()[0].line, Some(4));
        for piece in (1..=40).chain([299, 300, 301, 302, 303, PIECE_BYTES]) {
            let d = Diag::silent();
            let states =
                par_read_lines_from(path, &input[..], &d, piece, &Vec::new, &|s, n, t, c, d| {
                    if t.contains('\u{fffd}') {
                        // What a parser would report of the line.
                        d.warn(path, Some(n), "odd", "a replaced byte");
                    }
                    s.push((n, t.to_string(), c))
                })
                .unwrap();
            if piece < 10 {
                assert!(
                    states.len() > 4,
                    "{piece}-byte pieces: {} states",
                    states.len()
                );
            }
            let got: Seen = states.into_iter().flatten().collect();
            assert_eq!(got, want, "{piece}-byte pieces");
            assert_eq!(
                d.kinds_and_lines(),
                [
                    ("invalid-utf8".to_string(), Some(4)),
                    ("odd".to_string(), Some(4))
                ],
                "{piece}-byte pieces"
            );
        }
    }

    #[test]
    fn tails_read_only_appended_bytes_and_wait_for_partial_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.jsonl");
        std::fs::write(&p, "{\"a\":1}\n\n{\"b\":2}\n").unwrap();
        let tails = Tails::default();
        assert_eq!(read_seen(&tails, &p), full(&p));
        assert_eq!(tails.last_read(&p), Some(TailRead::Full { bytes: 17 }));

        // A line still being written: parsed into the answer, not kept.
        append(&p, "{\"c\":");
        let seen = read_seen(&tails, &p);
        assert_eq!(seen, full(&p));
        assert_eq!(seen.last().unwrap(), &(4, "{\"c\":".to_string(), false));
        assert_eq!(tails.last_read(&p), Some(TailRead::Appended { bytes: 5 }));

        // Its end arrives: read from where the complete lines ended.
        append(&p, "3}\n{\"d\":4}\n");
        let seen = read_seen(&tails, &p);
        assert_eq!(seen, full(&p));
        assert_eq!(seen.len(), 4);
        assert_eq!(seen[2], (4, "{\"c\":3}".to_string(), true));
        assert_eq!(seen[3], (5, "{\"d\":4}".to_string(), true));
        assert_eq!(tails.last_read(&p), Some(TailRead::Appended { bytes: 16 }));

        // Nothing new: nothing read.
        assert_eq!(read_seen(&tails, &p), full(&p));
        assert_eq!(tails.last_read(&p), Some(TailRead::Appended { bytes: 0 }));
    }

    #[test]
    fn tails_reread_truncated_rewritten_and_replaced_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.jsonl");
        std::fs::write(&p, "{\"a\":1}\n{\"b\":2}\n").unwrap();
        let tails = Tails::default();
        read_seen(&tails, &p);

        // Truncated.
        std::fs::write(&p, "{\"a\":1}\n").unwrap();
        assert_eq!(read_seen(&tails, &p), full(&p));
        assert_eq!(tails.last_read(&p), Some(TailRead::Full { bytes: 8 }));

        // Rewritten in place, longer, with other bytes before the old end.
        std::fs::write(&p, "{\"x\":9}\n{\"y\":8}\n").unwrap();
        assert_eq!(read_seen(&tails, &p), full(&p));
        assert!(matches!(tails.last_read(&p), Some(TailRead::Full { .. })));

        // Replaced by another file (a new inode) holding the same start.
        let other = dir.path().join("other.jsonl");
        std::fs::write(&other, "{\"x\":9}\n{\"y\":8}\n{\"z\":7}\n").unwrap();
        std::fs::rename(&other, &p).unwrap();
        let seen = read_seen(&tails, &p);
        assert_eq!(seen, full(&p));
        assert_eq!(seen.len(), 3);
        assert!(matches!(tails.last_read(&p), Some(TailRead::Full { .. })));
    }

    #[test]
    fn lone_surrogates_are_replaced_and_pairs_kept() {
        assert_eq!(replace_lone_surrogates(r#""a\udcb2b""#), r#""a\ufffdb""#);
        assert_eq!(
            replace_lone_surrogates(r#""\ud83d\ude00""#),
            r#""\ud83d\ude00""#
        );
        assert_eq!(replace_lone_surrogates(r#""\ud83dx""#), r#""\ufffdx""#);
        assert_eq!(replace_lone_surrogates(r#""\\udcb2""#), r#""\\udcb2""#);
        let v: serde_json::Value =
            serde_json::from_str(&replace_lone_surrogates(r#"{"t":"x\udcb2y"}"#)).unwrap();
        assert_eq!(v["t"], "x\u{fffd}y");
    }
}
