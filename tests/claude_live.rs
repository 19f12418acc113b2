//! `watch`'s incremental loads of Claude Code transcripts
//! (`Source::load_live`): every real transcript in the fixtures is grown
//! in random steps, cut anywhere (mid-line too), and after each step the
//! session put together from the previous load and the changed messages
//! is exactly what a fresh read of the file gives. Most steps must load
//! only the changed messages, or the test would pass with a source that
//! always loads everything.

mod common;

use sharegen::diag::Diag;
use sharegen::model::Session;
use sharegen::sources::claude_code::ClaudeCode;
use sharegen::sources::{SessionRef, Source, jsonl};
use std::io::Write;
use std::path::{Path, PathBuf};

const FIXTURES: &str = "tests/fixtures/claude-code";

fn transcripts() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = walkdir::WalkDir::new(FIXTURES)
        .into_iter()
        .filter_map(|e| e.ok())
        .map(|e| e.into_path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "jsonl")
                && !p.components().any(|c| c.as_os_str() == "subagents")
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("agent-"))
        })
        .collect();
    v.sort();
    v
}

/// What a fresh read of `path` gives (no kept parser state).
fn fresh(path: &Path) -> Session {
    let bytes = std::fs::read(path).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join(path.file_name().unwrap());
    std::fs::write(&copy, bytes).unwrap();
    let subs = path.with_extension("").join("subagents");
    if subs.is_dir() {
        copy_dir(&subs, &copy.with_extension("").join("subagents"));
    }
    let mut s = sharegen::sources::claude_code::load_file(&copy, &Diag::silent()).unwrap();
    // The copy's paths are not the grown file's.
    s.source_paths = vec![path.to_path_buf()];
    s
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            copy_dir(&p, &to.join(p.file_name().unwrap()));
        } else {
            std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
        }
    }
}

fn without_paths(mut s: Session) -> serde_json::Value {
    fn strip(s: &mut Session) {
        s.source_paths.clear();
        for a in &mut s.subagents {
            strip(&mut a.session);
        }
    }
    strip(&mut s);
    serde_json::to_value(&s).unwrap()
}

#[test]
fn incremental_loads_put_together_equal_fresh_reads() {
    jsonl::enable_tails(true);
    let diag = Diag::silent();
    let mut rng = common::Lcg(7);
    let (mut partial, mut whole, mut steps) = (0usize, 0usize, 0usize);
    let mut mostly_whole = Vec::new();
    for fixture in transcripts() {
        let bytes = std::fs::read(&fixture).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(fixture.file_name().unwrap());
        let subs = fixture.with_extension("").join("subagents");
        if subs.is_dir() {
            copy_dir(&subs, &path.with_extension("").join("subagents"));
        }
        std::fs::write(&path, b"").unwrap();
        let source = ClaudeCode::new(dir.path().to_path_buf());
        let r = SessionRef {
            agent: sharegen::model::Agent::ClaudeCode,
            id: path.file_stem().unwrap().to_string_lossy().into_owned(),
            path: path.clone(),
        };
        let n_steps = 30.min(bytes.len()).max(1);
        let mut cuts: Vec<usize> = (0..n_steps - 1)
            .map(|_| (rng.next() as usize) % bytes.len().max(1))
            .collect();
        cuts.push(bytes.len());
        cuts.sort();
        let mut written = 0;
        let mut held: Option<(u64, Session)> = None;
        let (mut file_partial, mut file_steps) = (0, 0);
        for cut in cuts {
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .unwrap();
            f.write_all(&bytes[written..cut]).unwrap();
            drop(f);
            written = cut;
            let since = held.as_ref().map(|(g, _)| *g);
            let load = source.load_live(&r, &diag, since).unwrap();
            let mut s = load.session;
            match load.unchanged {
                Some(u) => {
                    let (g, prev) = held.take().unwrap();
                    assert_eq!(u.base, g, "{}: a delta on another load", fixture.display());
                    let mut msgs = prev.messages[..u.prefix].to_vec();
                    msgs.append(&mut s.messages);
                    s.messages = msgs;
                    partial += 1;
                    file_partial += 1;
                }
                None => {
                    if held.is_some() {
                        whole += 1;
                    }
                }
            }
            steps += 1;
            file_steps += 1;
            let want = fresh(&path);
            assert!(
                without_paths(s.clone()) == without_paths(want),
                "{}: cut at byte {cut} of {}: the incremental load differs from a fresh read",
                fixture.display(),
                bytes.len()
            );
            held = load.generation.map(|g| (g, s));
        }
        if file_steps > 4 && file_partial * 2 < file_steps {
            mostly_whole.push(fixture.display().to_string());
        }
    }
    eprintln!(
        "{steps} steps: {partial} loaded only what changed, {whole} whole after the first; \
         mostly whole: {mostly_whole:?}"
    );
    assert!(
        partial * 10 >= steps * 8,
        "too few incremental loads: {partial} of {steps} (whole: {whole}); {mostly_whole:?}"
    );
}
