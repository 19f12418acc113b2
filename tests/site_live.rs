//! `watch`'s incremental rebuilds (`site::LiveCache`): while a real
//! transcript (and its subagents' files) grows a few lines at a time, the
//! page and the JSON rendered by reusing the last rebuild are byte for byte
//! what a fresh render of the same session gives, with and without
//! redaction, and later rebuilds really reuse most of the page.

use sharegen::cli::Format;
use sharegen::config::{Config, RedactConfig};
use sharegen::diag::Diag;
use sharegen::model::Session;
use sharegen::redact::Redactor;
use sharegen::render::Renderer;
use sharegen::render::html::Fragments;
use sharegen::site::LiveCache;
use sharegen::sources::Source;
use std::path::{Path, PathBuf};

const PROJECTS: &str = "tests/fixtures/claude-code/projects";

/// A transcript and its subagent files, with their lines.
struct Growing {
    files: Vec<(PathBuf, Vec<String>)>,
}

impl Growing {
    /// Copies of `main` (and the files of `<id>/subagents/`) under `dir`,
    /// empty for now.
    fn new(main: &Path, dir: &Path) -> (Growing, PathBuf) {
        let mut files = Vec::new();
        let dest = dir.join(main.file_name().unwrap());
        files.push((dest.clone(), lines(main)));
        let subs = main.with_extension("").join("subagents");
        if subs.is_dir() {
            let to = dest.with_extension("").join("subagents");
            std::fs::create_dir_all(&to).unwrap();
            for e in std::fs::read_dir(&subs).unwrap() {
                let p = e.unwrap().path();
                if p.extension().is_some_and(|x| x == "jsonl") {
                    files.push((to.join(p.file_name().unwrap()), lines(&p)));
                } else {
                    std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
                }
            }
        }
        for (p, _) in &files {
            std::fs::write(p, b"").unwrap();
        }
        (Growing { files }, dest)
    }

    /// Writes the first `frac` (0..=1) of the main file's lines, plus half
    /// of its next line (a line still being written). The subagents' files
    /// grow twice as fast: they are complete at half way, as subagents
    /// finish while their parent goes on.
    fn write(&self, frac: f64) {
        for (k, (p, ls)) in self.files.iter().enumerate() {
            let frac = if k == 0 { frac } else { (frac * 2.0).min(1.0) };
            let n = ((ls.len() as f64) * frac).ceil() as usize;
            let mut text: String = ls[..n.min(ls.len())].concat();
            if k == 0 && n < ls.len() {
                let next = &ls[n];
                text.push_str(&next[..next.floor_char_boundary(next.len() / 2)]);
            }
            std::fs::write(p, text).unwrap();
        }
    }
}

fn lines(p: &Path) -> Vec<String> {
    std::fs::read_to_string(p)
        .unwrap()
        .split_inclusive('\n')
        .map(str::to_string)
        .collect()
}

fn renderer() -> Renderer {
    Renderer::new(&Config::default(), b"live-test".to_vec(), None, None).unwrap()
}

fn render(r: &Renderer, s: &Session, format: Format) -> String {
    let mut out = Vec::new();
    r.render_to(s, format, Some("v1"), &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// Grows `fixture` in `steps` steps; after each, checks the incremental
/// page and JSON against fresh renders. Returns the messages reused at
/// each step.
fn grow(fixture: &str, redact: bool, steps: usize) -> Vec<(usize, usize)> {
    grow_file(&Path::new(PROJECTS).join(fixture), redact, steps, Some(&[]))
}

/// [`grow`] for a transcript anywhere. Loads after the first are
/// incremental except at the steps `whole` names (all steps: `None`): a
/// rewind makes the source read the transcript whole again, and the page
/// still reuses what did not change.
fn grow_file(
    file: &Path,
    redact: bool,
    steps: usize,
    whole: Option<&[usize]>,
) -> Vec<(usize, usize)> {
    let fixture = file.display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let (g, main) = Growing::new(file, dir.path());
    let r = renderer();
    let red = redact.then(|| {
        Redactor::new(&RedactConfig::default(), b"key", Path::new("config.toml")).unwrap()
    });
    let cache = LiveCache::default();
    let diag = Diag::silent();
    sharegen::sources::jsonl::enable_tails(true);
    let source = sharegen::sources::claude_code::ClaudeCode::new(dir.path().to_path_buf());
    let session_ref = sharegen::sources::SessionRef {
        agent: sharegen::model::Agent::ClaudeCode,
        id: main.file_stem().unwrap().to_string_lossy().into_owned(),
        path: main.clone(),
    };
    let mut reused = Vec::new();
    for step in 1..=steps {
        g.write(step as f64 / steps as f64);
        let mut expected = sharegen::sources::claude_code::load_file(&main, &diag).unwrap();
        if let Some(red) = &red {
            red.apply(&mut expected);
        }
        // As `watch` loads: only what changed since the load the cache
        // holds.
        let since = cache.generation("share", "key", red.is_some());
        let load = source.load_live(&session_ref, &diag, since).unwrap();
        if step > 1 && whole.is_some_and(|w| !w.contains(&step)) {
            assert!(
                load.unchanged.is_some(),
                "{fixture} step {step}: a whole load"
            );
        }
        let mut p = cache
            .prepare_live("share", "key", load, red.as_ref())
            .unwrap();
        let mut page = Vec::new();
        let frags: &mut Fragments = &mut p.frags;
        r.render_page_reusing(&p.session, Some("v1"), frags, p.reuse, &mut page)
            .unwrap();
        let page = String::from_utf8(page).unwrap();
        let want = render(&r, &expected, Format::Html);
        assert!(
            page == want,
            "{fixture} step {step}: the incremental page differs from a fresh one \
             (first difference at byte {})",
            page.bytes()
                .zip(want.bytes())
                .position(|(a, b)| a != b)
                .unwrap_or(page.len().min(want.len()))
        );
        assert_eq!(
            render(&r, &p.session, Format::Json),
            render(&r, &expected, Format::Json),
            "{fixture} step {step}: JSON"
        );
        reused.push((p.reuse, p.session.messages.len()));
        cache.store("share", "key", p, Vec::new(), chrono::Utc::now());
    }
    reused
}

fn check_reuse(reused: &[(usize, usize)]) {
    assert_eq!(reused[0].0, 0, "nothing to reuse at first");
    // Once the page has some length, most of it is reused.
    let late = &reused[reused.len() / 2..];
    assert!(
        late.iter()
            .all(|&(r, n)| r > 0 && r * 2 >= n.saturating_sub(8)),
        "too little reused: {reused:?}"
    );
}

#[test]
fn incremental_pages_match_fresh_ones_with_subagents() {
    let f = "-experiments-worktrees/ef958aa1-0e93-49f0-bb71-150f63befcd1.jsonl";
    check_reuse(&grow(f, true, 24));
    check_reuse(&grow(f, false, 12));
}

#[test]
fn incremental_pages_match_fresh_ones_with_injected_text_stripped() {
    let f =
        "-Users-dain-workspace-claude-code-log-sample/71c9afe9-d9cc-4583-86b3-e62ba682b83a.jsonl";
    check_reuse(&grow(f, true, 24));
}

/// Rewinds: the block of a rewound run depends on the messages after it
/// (its count, where it closes), so a page grown through them must still
/// be the fresh one. A real session with a rewind, and the same point
/// rewound twice (the second attempt joins the first one's block).
#[test]
fn incremental_pages_match_fresh_ones_through_rewinds() {
    let f =
        Path::new(PROJECTS).join("-experiments-ideas/03eb5929-52b3-4b13-ada3-b93ae35806b8.jsonl");
    let reused = grow_file(&f, false, 30, None);
    assert!(reused.iter().any(|&(r, _)| r > 0), "{reused:?}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir
        .path()
        .join("aaaaaaaa-0000-4000-8000-000000000001.jsonl");
    let line = |kind: &str, u: &str, p: &str, min: u32, text: &str| {
        let parent = if p.is_empty() {
            "null".to_string()
        } else {
            format!("\"{p}\"")
        };
        let message = if kind == "user" {
            format!(r#"{{"role":"user","content":"{text}"}}"#)
        } else {
            format!(
                r#"{{"id":"msg-{u}","role":"assistant","model":"m","content":[{{"type":"text","text":"{text}"}}]}}"#
            )
        };
        format!(
            r#"{{"type":"{kind}","uuid":"{u}","parentUuid":{parent},"sessionId":"aaaaaaaa-0000-4000-8000-000000000001","timestamp":"2026-01-01T10:{min:02}:00Z","message":{message}}}"#
        ) + "\n"
    };
    let text = [
        line("user", "u1", "", 0, "hello"),
        line("assistant", "a1", "u1", 1, "hi"),
        line("user", "u2", "a1", 2, "first try"),
        line("assistant", "a2", "u2", 3, "first reply"),
        line("user", "u3", "a1", 4, "second try"),
        line("assistant", "a3", "u3", 5, "second reply"),
        line("user", "u4", "a1", 6, "third try"),
        line("assistant", "a4", "u4", 7, "third reply"),
        line("user", "u5", "a4", 8, "and on"),
    ]
    .concat();
    std::fs::write(&file, text).unwrap();
    // Read whole again when the second and the third attempt come, not
    // when their answers or the next prompt do.
    let reused = grow_file(&file, false, 9, Some(&[5, 7]));
    assert!(reused.iter().any(|&(r, _)| r > 0), "{reused:?}");
}

#[test]
fn other_settings_or_another_share_render_fresh() {
    let f = Path::new(PROJECTS).join(
        "-Users-dain-workspace-claude-code-log-sample/71c9afe9-d9cc-4583-86b3-e62ba682b83a.jsonl",
    );
    let s = sharegen::sources::claude_code::load_file(&f, &Diag::silent()).unwrap();
    let cache = LiveCache::default();
    let p = cache.prepare("a", "key", s.clone(), None);
    assert_eq!(p.reuse, 0);
    let mut page = Vec::new();
    let mut p = p;
    renderer()
        .render_page_reusing(&p.session, None, &mut p.frags, 0, &mut page)
        .unwrap();
    cache.store("a", "key", p, Vec::new(), chrono::Utc::now());
    assert!(cache.prepare("a", "key", s.clone(), None).reuse > 0);
    // Taken out by that prepare; stored again, then other keys and ids.
    let mut p = cache.prepare("a", "key", s.clone(), None);
    assert_eq!(p.reuse, 0, "a prepare takes the share's entry");
    renderer()
        .render_page_reusing(&p.session, None, &mut p.frags, 0, &mut Vec::new())
        .unwrap();
    cache.store("a", "key", p, Vec::new(), chrono::Utc::now());
    assert_eq!(cache.prepare("a", "other-key", s.clone(), None).reuse, 0);
    assert_eq!(cache.prepare("b", "key", s, None).reuse, 0);
}
