//! No panic on any fixture, on truncated copies of them, or on random bytes.
//! Each input goes through both the listing scan and the full load.

mod common;

use common::Lcg;
use proptest::prelude::*;
use sharegen::diag::Diag;
use sharegen::sources::{self, SessionRef, Source};
use std::path::{Path, PathBuf};

fn fixture_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut v: Vec<PathBuf> = walkdir::WalkDir::new(root)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().to_path_buf())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl" || e == "json"))
        .collect();
    v.sort();
    v
}

/// Lists and loads whatever `path` is, the way `export PATH` would.
/// Errors are fine; panics are not.
fn exercise(path: &Path) -> usize {
    let diag = Diag::silent();
    let Ok(Some((source, found))) = sources::refs_for_path(path, &diag) else {
        return 0;
    };
    for s in &found {
        let r = SessionRef {
            agent: s.agent,
            id: s.id.clone(),
            path: s.path.clone(),
        };
        let _ = load(source.as_ref(), &r, &diag);
    }
    found.len()
}

fn load(source: &dyn Source, r: &SessionRef, diag: &Diag) -> Option<usize> {
    source.load(r, diag).ok().map(|s| s.messages.len())
}

#[test]
fn fixtures_load_without_panic() {
    let files = fixture_files();
    assert!(files.len() > 100);
    let mut loaded = 0;
    for f in &files {
        loaded += exercise(f);
    }
    assert!(loaded > 60, "only {loaded} sessions loaded");
}

#[test]
fn truncated_copies_load_without_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let mut rng = Lcg(0x5eed);
    for (i, f) in fixture_files().iter().enumerate() {
        let bytes = std::fs::read(f).unwrap();
        if bytes.is_empty() {
            continue;
        }
        let name = f.file_name().unwrap();
        for k in 0..4 {
            let cut = (rng.next() as usize) % bytes.len();
            let dir = tmp.path().join(format!("{i}-{k}"));
            std::fs::create_dir_all(&dir).unwrap();
            let copy = dir.join(name);
            std::fs::write(&copy, &bytes[..cut]).unwrap();
            exercise(&copy);
        }
    }
}

#[test]
fn random_bytes_load_without_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let mut rng = Lcg(42);
    for i in 0..200 {
        let len = (rng.next() % 4096) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let ext = ["jsonl", "json", "db"][i % 3];
        let p = tmp.path().join(format!("r{i}.{ext}"));
        std::fs::write(&p, &bytes).unwrap();
        exercise(&p);
    }
}

/// Lines that look like Claude Code records, with fields of random types.
fn arb_line() -> impl Strategy<Value = String> {
    let val = prop_oneof![
        Just("null".to_string()),
        Just("true".to_string()),
        Just("12".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        "\"[a-z<>/ \\\\u{d800}]{0,12}\"".prop_map(|s| s),
        Just(r#"[{"type":"text","text":"hi"},{"type":"tool_result","tool_use_id":"t1","content":[{"type":"image"}]}]"#.to_string()),
        Just(r#"[{"type":"tool_use","id":"t1","name":"Task","input":{"prompt":"p"}},{"type":"thinking","thinking":""}]"#.to_string()),
    ];
    let ty = prop_oneof![
        Just("user"),
        Just("assistant"),
        Just("system"),
        Just("summary"),
        Just("attachment"),
        Just("progress"),
        Just("what"),
    ];
    (ty, val.clone(), val.clone(), val.clone(), val, 0u8..4).prop_map(|(ty, a, b, c, d, parent)| {
        format!(
            r#"{{"type":"{ty}","uuid":"u{parent}","parentUuid":"u{}","timestamp":{a},"isSidechain":{b},"message":{{"id":"m{parent}","role":"x","content":{c},"usage":{d}}},"toolUseResult":{d},"subtype":{b},"content":{c},"attachment":{{"type":"queued_command","prompt":{a}}}}}"#,
            (parent + 1) % 4
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn arbitrary_records_never_panic(lines in proptest::collection::vec(arb_line(), 0..12)) {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("s.jsonl");
        std::fs::write(&p, lines.join("\n")).unwrap();
        exercise(&p);
    }
}
