//! Inputs the fuzz targets (fuzz/, docs/fuzzing.md) found, and hand-made
//! edge cases, replayed through exactly what the targets run: the readers
//! and renderers, and the targets' checks (fuzz/fuzz_targets/common.rs).
//!
//! tests/fixtures/fuzz/<target>/<input> is one input of one target. A
//! crash turns into a file here, named after what it found, before it is
//! fixed.

#[path = "../fuzz/fuzz_targets/common.rs"]
mod fuzz;

use std::path::Path;

#[test]
fn every_committed_fuzz_input_passes_its_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz");
    let mut failed = Vec::new();
    let mut ran = 0;
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let target = fuzz::TARGETS
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("{}: no fuzz target is called {name}", dir.display()))
            .1;
        let mut inputs: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        inputs.sort();
        assert!(!inputs.is_empty(), "{}: no input", dir.display());
        for input in inputs {
            let data = std::fs::read(&input).unwrap();
            ran += 1;
            if let Err(e) = std::panic::catch_unwind(|| target(&data)) {
                let why = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failed.push(format!(
                    "{name}/{}: {why}",
                    input.file_name().unwrap().to_string_lossy()
                ));
            }
        }
    }
    assert!(ran > 0);
    assert!(
        failed.is_empty(),
        "{} input(s) failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
}
