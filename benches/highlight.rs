//! Syntax-highlighting benchmark (`sharegen::render::highlight`).
//!
//! 1. First-use load of the embedded syntax set: this binary re-executes
//!    itself (a fresh process each time, so the `OnceLock` is empty) and
//!    times `syntax_set()` (deserializing `assets/syntaxes.bin`), then the
//!    first Rust highlight (syntect decodes a syntax's contexts lazily, on
//!    its first use).
//! 2. Throughput in MB/s for ~1 MB of Rust and of Python, as ~32 KB files
//!    (`highlight_uncached`, so nothing is cached), on one thread and on two
//!    threads (`std::thread::scope`, the files split between them); plus
//!    the cached path (`highlight` on files already in the cache) and the
//!    size of the HTML relative to the source.
//!
//! Prints a table and writes `target/bench-results/highlight.json` (the
//! `metrics` layout of the other benches).
//!
//! Environment:
//! - `SHAREGEN_BENCH_RESULTS`: where results go (default
//!   `$CARGO_TARGET_DIR/bench-results`, else `target/bench-results`).
//! - `SHAREGEN_BENCH_RUNS`: timed runs per measurement (default 5; the
//!   best is reported for throughput, min and median for load).
//! - `SHAREGEN_BENCH_HL_MB`: corpus size per language in MB (default 1).

#[path = "common/mod.rs"]
mod common;
use common::{env_or, median_of, min_of, write_results};
use std::process::Command;
use std::time::Instant;

use serde_json::{Value, json};
use sharegen::render::highlight::{
    MAX_HIGHLIGHT_BYTES, highlight, highlight_uncached, syntax_for, syntax_set,
};

/// Set in the child: measure first-use load and print one JSON line.
const CHILD: &str = "SHAREGEN_BENCH_HL_CHILD";
const MB: f64 = 1_000_000.0;
const FILE_BYTES: usize = 32 * 1024;

fn main() {
    if std::env::var_os(CHILD).is_some() {
        child();
        return;
    }
    // `cargo bench` passes `--bench`; ignore arguments.
    let runs: usize = env_or("SHAREGEN_BENCH_RUNS", "5")
        .parse()
        .unwrap_or(5)
        .max(1);
    let corpus_mb: f64 = env_or("SHAREGEN_BENCH_HL_MB", "1").parse().unwrap_or(1.0);
    let corpus_bytes = (corpus_mb * MB) as usize;

    // 1. Load time, in fresh processes.
    let mut load_ms = Vec::new();
    let mut first_rust_ms = Vec::new();
    let exe = std::env::current_exe().expect("current exe");
    for _ in 0..runs {
        let out = Command::new(&exe)
            .env(CHILD, "1")
            .output()
            .expect("run child");
        assert!(out.status.success(), "child failed: {out:?}");
        let v: Value = serde_json::from_slice(&out.stdout).expect("child json");
        load_ms.push(v["load_ms"].as_f64().unwrap());
        first_rust_ms.push(v["first_rust_ms"].as_f64().unwrap());
    }
    let syntaxes = syntax_set().syntaxes().len();
    println!("highlight bench: {syntaxes} syntaxes, {runs} runs");
    println!(
        "  first use: load syntax set {:.2} ms (median {:.2}), first Rust highlight +{:.2} ms (median {:.2})",
        min_of(&load_ms),
        median_of(&load_ms),
        min_of(&first_rust_ms),
        median_of(&first_rust_ms)
    );

    // 2. Throughput.
    let mut metrics = serde_json::Map::new();
    let mut details = serde_json::Map::new();
    metric(
        &mut metrics,
        "highlight.load_min_ms",
        min_of(&load_ms),
        "ms",
        true,
    );
    metric(
        &mut metrics,
        "highlight.load_median_ms",
        median_of(&load_ms),
        "ms",
        false,
    );
    metric(
        &mut metrics,
        "highlight.first_rust_min_ms",
        min_of(&first_rust_ms),
        "ms",
        false,
    );
    details.insert("load_ms".into(), json!(load_ms));
    details.insert("first_rust_ms".into(), json!(first_rust_ms));
    details.insert("syntaxes".into(), json!(syntaxes));
    details.insert("file_bytes".into(), json!(FILE_BYTES));

    println!(
        "  {:<8} {:>9} {:>7} {:>11} {:>11} {:>9} {:>11} {:>10}",
        "lang", "bytes", "files", "1 thr MB/s", "2 thr MB/s", "speedup", "cached MB/s", "html/src"
    );
    for (lang, hint, template) in [("rust", "rs", RUST), ("python", "py", PYTHON)] {
        let files = corpus(template, corpus_bytes);
        let total: usize = files.iter().map(String::len).sum();
        assert!(syntax_for(hint).is_some(), "no syntax for {hint}");
        // Warm up (loads the syntax's contexts, compiles its regexes) and
        // check that everything is really highlighted.
        let mut html_bytes = 0usize;
        for f in &files {
            let h = highlight_uncached(f, Some(hint));
            assert!(!h.plain, "{lang} came out plain");
            html_bytes += h.lines.iter().map(|l| l.len() + 1).sum::<usize>();
        }
        let one = best_secs(runs, || {
            for f in &files {
                std::hint::black_box(highlight_uncached(f, Some(hint)));
            }
        });
        let two = best_secs(runs, || {
            let (a, b) = files.split_at(files.len() / 2);
            std::thread::scope(|s| {
                for half in [a, b] {
                    s.spawn(move || {
                        for f in half {
                            std::hint::black_box(highlight_uncached(f, Some(hint)));
                        }
                    });
                }
            });
        });
        // Cached: fill once, then time hits (hashing + lookup + Arc clone).
        for f in &files {
            highlight(f, Some(hint));
        }
        let cached = best_secs(runs, || {
            for f in &files {
                std::hint::black_box(highlight(f, Some(hint)));
            }
        });
        let mbps = |secs: f64| total as f64 / MB / secs;
        let ratio = html_bytes as f64 / total as f64;
        println!(
            "  {:<8} {:>9} {:>7} {:>11.2} {:>11.2} {:>8.2}x {:>11.0} {:>10.2}",
            lang,
            total,
            files.len(),
            mbps(one),
            mbps(two),
            one / two,
            mbps(cached),
            ratio
        );
        metric(
            &mut metrics,
            &format!("highlight.{lang}_1thread_mb_s"),
            mbps(one),
            "MB/s",
            true,
        );
        metric(
            &mut metrics,
            &format!("highlight.{lang}_2threads_mb_s"),
            mbps(two),
            "MB/s",
            false,
        );
        metric(
            &mut metrics,
            &format!("highlight.{lang}_cached_mb_s"),
            mbps(cached),
            "MB/s",
            false,
        );
        details.insert(
            lang.into(),
            json!({
                "bytes": total,
                "files": files.len(),
                "secs_1thread": one,
                "secs_2threads": two,
                "secs_cached": cached,
                "html_bytes": html_bytes,
                "html_to_source": ratio,
            }),
        );
    }

    let result = json!({
        "bench": "highlight",
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "runs": runs,
        "details": details,
        "metrics": metrics,
    });
    let path = write_results("highlight", &result);
    println!("  results: {}", path.display());
}

/// In a fresh process: time the lazy load and the first Rust highlight.
fn child() {
    let t = Instant::now();
    let ss = syntax_set();
    let load = t.elapsed().as_secs_f64() * 1000.0;
    assert!(!ss.syntaxes().is_empty());
    let t = Instant::now();
    let h = highlight_uncached("fn main() { println!(\"hi\"); }\n", Some("rs"));
    let first = t.elapsed().as_secs_f64() * 1000.0;
    assert!(!h.plain);
    println!("{}", json!({ "load_ms": load, "first_rust_ms": first }));
}

/// ~`bytes` of source as files of ~`FILE_BYTES`, from a template whose
/// `{n}` is replaced by a counter so that no two copies are equal.
fn corpus(template: &str, bytes: usize) -> Vec<String> {
    let mut files = Vec::new();
    let mut total = 0usize;
    let mut n = 0usize;
    while total < bytes {
        let mut f = String::with_capacity(FILE_BYTES + template.len());
        while f.len() < FILE_BYTES && total + f.len() < bytes {
            f.push_str(&template.replace("{n}", &n.to_string()));
            n += 1;
        }
        assert!(f.len() <= MAX_HIGHLIGHT_BYTES);
        total += f.len();
        files.push(f);
    }
    files
}

fn best_secs(runs: usize, mut f: impl FnMut()) -> f64 {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn metric(
    m: &mut serde_json::Map<String, Value>,
    name: &str,
    value: f64,
    unit: &str,
    regress: bool,
) {
    let better = if unit == "MB/s" { "higher" } else { "lower" };
    m.insert(
        name.into(),
        json!({ "value": value, "unit": unit, "target": null, "regress": regress, "better": better }),
    );
}

/// Typical Rust: items, generics, lifetimes, closures, macros, strings,
/// comments, attributes.
const RUST: &str = r##"
/// A cache of parsed records, keyed by id (copy {n}).
#[derive(Debug, Clone, Default)]
pub struct RecordCache{n}<'a> {
    entries: std::collections::HashMap<&'a str, Vec<u64>>,
    hits: usize,
    misses: usize,
}

impl<'a> RecordCache{n}<'a> {
    pub fn new() -> Self {
        Self { entries: Default::default(), hits: 0, misses: 0 }
    }

    /// Looks up `key`, parsing `raw` on a miss.
    pub fn get_or_parse(&mut self, key: &'a str, raw: &str) -> Result<&[u64], String> {
        if self.entries.contains_key(key) {
            self.hits += 1;
        } else {
            self.misses += 1;
            let parsed = raw
                .split(',')
                .map(|s| s.trim().parse::<u64>().map_err(|e| format!("bad number {s:?}: {e}")))
                .collect::<Result<Vec<_>, _>>()?;
            self.entries.insert(key, parsed);
        }
        Ok(self.entries.get(key).map(Vec::as_slice).unwrap_or(&[]))
    }

    pub fn ratio(&self) -> f64 {
        match self.hits + self.misses {
            0 => 0.0,
            total => self.hits as f64 / total as f64,
        }
    }
}

#[cfg(test)]
mod tests_{n} {
    use super::*;

    #[test]
    fn parses_and_counts() {
        let mut c = RecordCache{n}::new();
        assert_eq!(c.get_or_parse("a", "1, 2, 3").unwrap(), &[1, 2, 3]);
        let _ = c.get_or_parse("a", "ignored");
        assert!((c.ratio() - 0.5).abs() < f64::EPSILON, "ratio was {}", c.ratio());
        let err = c.get_or_parse("b", "x").unwrap_err(); // not a number
        println!("error: {err}");
    }
}
"##;

/// Typical Python: classes, decorators, f-strings, docstrings, comments,
/// comprehensions, type hints.
const PYTHON: &str = r#"

class RecordCache{n}:
    """A cache of parsed records, keyed by id (copy {n}).

    Misses parse the raw text; hits are counted.
    """

    def __init__(self) -> None:
        self.entries: dict[str, list[int]] = {}
        self.hits = 0
        self.misses = 0

    def get_or_parse(self, key: str, raw: str) -> list[int]:
        if key in self.entries:
            self.hits += 1
        else:
            self.misses += 1
            try:
                parsed = [int(s.strip()) for s in raw.split(",") if s.strip()]
            except ValueError as e:
                raise ValueError(f"bad number in {raw!r}: {e}") from e
            self.entries[key] = parsed
        return self.entries.get(key, [])

    @property
    def ratio(self) -> float:
        total = self.hits + self.misses
        return 0.0 if total == 0 else self.hits / total  # hit ratio


@pytest.mark.parametrize("raw, expected", [("1, 2, 3", [1, 2, 3]), ("", [])])
def test_parses_{n}(raw: str, expected: list[int]) -> None:
    cache = RecordCache{n}()
    assert cache.get_or_parse("a", raw) == expected
    assert abs(cache.ratio - 0.0) < 1e-9, f"ratio was {cache.ratio}"
    print(f'done: {len(cache.entries)} entries', file=sys.stderr)
"#;
