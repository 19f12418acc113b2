//! `export` to HTML and Markdown: every fixture session renders, the page
//! is self-contained and safe, and everything the session holds is in the
//! page's text, checked against the fixture files read independently.

mod common;

use common::*;
use pulldown_cmark::{Event, Parser};
use scraper::{Html, Selector};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

fn norm(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The visible text of `<main>`, whitespace-normalised, twice: text nodes
/// joined as they are (highlighted code is split into many spans) and
/// joined with spaces (separate blocks), separated by a NUL.
fn main_text(doc: &Html) -> String {
    let main = doc
        .select(&Selector::parse("main").unwrap())
        .next()
        .expect("a <main>");
    let nodes: Vec<&str> = main.text().collect();
    format!("{}\0{}", norm(&nodes.concat()), norm(&nodes.join(" ")))
}

/// Harness markup (session-formats.md §1.11): the page shows what is
/// inside these tags as a classified notice, not the tags themselves.
const HARNESS_TAGS: &[&str] = &[
    "system-reminder",
    "command-name",
    "command-message",
    "command-args",
    "command-contents",
    "local-command-stdout",
    "local-command-stderr",
    "local-command-caveat",
    "bash-input",
    "bash-stdout",
    "bash-stderr",
    "task-notification",
    "ide_opened_file",
    "ide_selection",
    "ide_diagnostics",
    "user-memory-input",
    "teammate-message",
    "user-prompt-submit-hook",
];

fn is_harness_tag(piece: &str) -> bool {
    let Some(inner) = piece.strip_prefix('<').and_then(|p| p.strip_suffix('>')) else {
        return false;
    };
    let name = inner
        .trim_start_matches('/')
        .split([' ', '>'])
        .next()
        .unwrap_or("");
    HARNESS_TAGS.contains(&name)
}

/// Plain-text pieces of a Markdown string, as a reader sees them.
fn md_pieces(md: &str) -> Vec<String> {
    let mut md = strip_escapes(md);
    // A task notification shows as a report: its elements' tags go.
    let task = md.contains("<task-notification>");
    let task_tags: &[&str] = if task {
        &["summary", "result", "status", "task-id", "usage"]
    } else {
        &[]
    };
    for tag in HARNESS_TAGS.iter().chain(task_tags) {
        md = md
            .replace(&format!("<{tag}>"), "\n\n")
            .replace(&format!("</{tag}>"), "\n\n");
    }
    Parser::new_ext(&md, pulldown_cmark::Options::all())
        .filter_map(|e| match e {
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => {
                Some(norm(&t))
            }
            _ => None,
        })
        .filter(|t| t.chars().count() >= 3 && !is_harness_tag(t))
        .collect()
}

/// Lines of a tool result as the agent stored them, without the line-number
/// prefixes of file reads (Claude Code `   12→`, OpenCode `12: `), read
/// wrappers and error wrappers: the page shows the file itself.
fn result_lines(text: &str) -> Vec<String> {
    // JSON results are shown pretty-printed: look for their string values.
    if let Ok(v @ (Value::Object(_) | Value::Array(_))) = serde_json::from_str::<Value>(text) {
        fn leaves(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::String(s) if !s.contains(['"', '\\']) && s.chars().count() >= 3 => {
                    out.push(norm(s))
                }
                Value::Array(a) => a.iter().for_each(|x| leaves(x, out)),
                Value::Object(o) => o.values().for_each(|x| leaves(x, out)),
                _ => {}
            }
        }
        let mut out = Vec::new();
        leaves(&v, &mut out);
        out.truncate(8);
        return out;
    }
    text.lines()
        .map(|l| {
            let mut l = l.to_string();
            for tag in ["tool_use_error", "content", "file", "path", "type"]
                .iter()
                .chain(HARNESS_TAGS)
            {
                l = l
                    .replace(&format!("<{tag}>"), "")
                    .replace(&format!("</{tag}>"), "");
            }
            l
        })
        .map(|l| {
            let t = l.trim_start();
            for sep in ['→', ':', '\t'] {
                if let Some(i) = t.find(sep)
                    && i > 0
                    && t[..i].chars().all(|c| c.is_ascii_digit())
                {
                    let rest = &t[i + sep.len_utf8()..];
                    return rest.strip_prefix(' ').unwrap_or(rest).to_string();
                }
            }
            l
        })
        // A terminal shows what follows the last carriage return.
        .map(|l| {
            l.rsplit('\r')
                .find(|p| !p.trim().is_empty())
                .unwrap_or("")
                .to_string()
        })
        .map(|l| norm(&strip_escapes(&l)))
        // OpenCode's read output ends with a trailer about the file; the
        // page shows the file itself.
        .filter(|l| !l.starts_with("(End of file") && !l.starts_with("(File has more lines"))
        .filter(|l| l.chars().count() >= 3)
        .take(8)
        .collect()
}

/// Removes ANSI escape sequences (the page renders them as colours).
fn strip_escapes(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\u{1b}' {
            if it.peek() == Some(&'[') {
                it.next();
                for d in it.by_ref() {
                    if d.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

fn assert_contains(hay: &str, needle: &str, what: &str, file: &Path) {
    // Results shown as Markdown (subagent answers) read as their text.
    let as_markdown = || {
        let pieces = md_pieces(needle);
        !pieces.is_empty() && pieces.iter().all(|p| hay.contains(p.as_str()))
    };
    assert!(
        hay.contains(needle) || as_markdown(),
        "{}: {what} missing from the page: {:?}",
        file.display(),
        needle.chars().take(120).collect::<String>()
    );
}

/// Checks one transcript's content against the page text.
fn check_transcript(file: &Path, text: &str) {
    for v in lines(file) {
        let content = &v["message"]["content"];
        match role_of(&v) {
            "user" if !v["isMeta"].as_bool().unwrap_or(false) => {
                if let Value::String(s) = content {
                    for p in md_pieces(s) {
                        assert_contains(text, &p, "user text", file);
                    }
                }
                for b in content.as_array().into_iter().flatten() {
                    match b["type"].as_str() {
                        Some("text") => {
                            for p in md_pieces(b["text"].as_str().unwrap_or("")) {
                                assert_contains(text, &p, "user text", file);
                            }
                        }
                        Some("tool_result") => {
                            for l in result_lines(&result_text(&b["content"])) {
                                assert_contains(text, &l, "tool result", file);
                            }
                        }
                        _ => {}
                    }
                }
            }
            "assistant" => {
                for b in content.as_array().into_iter().flatten() {
                    if b["type"] == "text" {
                        for p in md_pieces(b["text"].as_str().unwrap_or("")) {
                            assert_contains(text, &p, "assistant text", file);
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

fn check_page_is_self_contained(file: &Path, html: &str) -> Html {
    let doc = Html::parse_document(html);
    let sel = |s: &str| Selector::parse(s).unwrap();
    // One inline style and one inline script, pinned by the CSP.
    let csp = doc
        .select(&sel("meta[http-equiv=Content-Security-Policy]"))
        .next()
        .expect("a CSP meta tag")
        .value()
        .attr("content")
        .unwrap()
        .to_string();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    assert!(csp.contains("img-src data:"), "{csp}");
    let scripts: Vec<_> = doc.select(&sel("script")).collect();
    assert_eq!(
        scripts.len(),
        1,
        "{}: only sharegen's own script",
        file.display()
    );
    let js: String = scripts[0].text().collect();
    let b64 = |s: &str| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(s.as_bytes()))
    };
    assert!(
        csp.contains(&format!("script-src 'sha256-{}'", b64(&js))),
        "script hash"
    );
    let styles: Vec<_> = doc.select(&sel("style")).collect();
    assert_eq!(styles.len(), 1);
    let css: String = styles[0].text().collect();
    assert!(
        csp.contains(&format!("style-src 'sha256-{}'", b64(&css))),
        "style hash"
    );
    // Nothing loads from anywhere.
    for el in doc.select(&sel("[src]")) {
        let src = el.value().attr("src").unwrap();
        assert!(
            src.starts_with("data:"),
            "{}: external src {src}",
            file.display()
        );
    }
    for el in doc.select(&sel("link[href]")) {
        assert_eq!(el.value().attr("rel"), Some("canonical"));
    }
    assert!(
        doc.select(&sel("[style]")).next().is_none(),
        "no inline style attributes"
    );
    for el in doc.select(&sel("*")) {
        for (name, value) in el.value().attrs() {
            assert!(
                !name.starts_with("on"),
                "{}: event handler attribute {name}",
                file.display()
            );
            if name == "href" {
                let v = value.trim().to_ascii_lowercase();
                assert!(
                    v.starts_with('#')
                        || v.starts_with("http://")
                        || v.starts_with("https://")
                        || v.starts_with("mailto:"),
                    "{}: unsafe href {value}",
                    file.display()
                );
            }
        }
    }
    doc
}

fn opencode_exports() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/opencode/export");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    v.sort();
    v
}

#[test]
fn every_claude_fixture_renders_completely() {
    let files = main_transcripts();
    assert!(files.len() > 60);
    for file in &files {
        let html = export_to(file, "html");
        let doc = check_page_is_self_contained(file, &html);
        let text = main_text(&doc);
        check_transcript(file, &text);
        for agent in agent_files(file) {
            // Claude Code's warm-up request is left out (see claude_code.rs).
            let agent_lines = lines(&agent);
            let warmup = agent_lines.len() <= 2
                && agent_lines
                    .first()
                    .is_some_and(|v| v["message"]["content"] == "Warmup");
            if !warmup {
                check_transcript(&agent, &text);
            }
        }
        let md = export_to(file, "md");
        assert!(md.starts_with("# "), "{}", file.display());
    }
}

#[test]
fn every_opencode_fixture_renders_completely() {
    for file in opencode_exports() {
        let html = export_to(&file, "html");
        let doc = check_page_is_self_contained(&file, &html);
        let text = main_text(&doc);
        let v: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        for m in v["messages"].as_array().unwrap() {
            for p in m["parts"].as_array().unwrap() {
                match p["type"].as_str() {
                    Some("text") if !p["synthetic"].as_bool().unwrap_or(false) => {
                        for piece in md_pieces(p["text"].as_str().unwrap_or("")) {
                            assert_contains(&text, &piece, "text", &file);
                        }
                    }
                    Some("tool") => {
                        let out = p["state"]["output"]
                            .as_str()
                            .or(p["state"]["error"].as_str())
                            .unwrap_or("");
                        for l in result_lines(out) {
                            assert_contains(&text, &l, "tool output", &file);
                        }
                    }
                    _ => {}
                }
            }
        }
        let md = export_to(&file, "md");
        assert!(md.starts_with("# "));
    }
}

#[test]
fn injected_html_is_shown_as_text() {
    let file = fixtures().join("focused/scriptorium/injection.jsonl");
    let html = export_to(&file, "html");
    let doc = check_page_is_self_contained(&file, &html);
    let text = main_text(&doc);
    let raw: String = std::fs::read_to_string(&file).unwrap();
    // Every markup-looking fragment of the fixture is visible as text.
    let mut shown = 0;
    for v in raw
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
    {
        let mut texts = Vec::new();
        match &v["message"]["content"] {
            Value::String(s) => texts.push(s.clone()),
            Value::Array(a) => texts.extend(
                a.iter()
                    .filter_map(|b| b["text"].as_str().map(String::from)),
            ),
            _ => {}
        }
        for t in texts {
            for tag in ["<script", "<img", "<iframe", "<style", "</div>", "onerror="] {
                if t.contains(tag) {
                    assert!(text.contains(tag), "{tag} not visible as text");
                    shown += 1;
                }
            }
        }
    }
    assert!(shown > 0, "the fixture holds markup");
}

#[test]
fn export_writes_share_id_html_by_default_and_infers_formats() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let file = fixtures().join("focused/claude-code-log/edit_tool.jsonl");
    let out = sharegen(home.path())
        .current_dir(work.path())
        .arg("export")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let name = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(name.ends_with(".html") && name.len() == 15, "{name}");
    assert!(
        std::fs::read_to_string(work.path().join(&name))
            .unwrap()
            .starts_with("<!doctype html>")
    );
    for (ext, start) in [("md", "# "), ("json", "{")] {
        let target = work.path().join(format!("x.{ext}"));
        sharegen(home.path())
            .arg("export")
            .arg(&file)
            .arg("-o")
            .arg(&target)
            .assert()
            .success();
        assert!(
            std::fs::read_to_string(&target).unwrap().starts_with(start),
            "{ext}"
        );
    }
    // The public URL is printed when the site's URL is configured.
    let out = sharegen(home.path())
        .current_dir(work.path())
        .env("SHAREGEN_SITE_BASE_URL", "https://example.org/shares/")
        .arg("export")
        .arg(&file)
        .output()
        .unwrap();
    let printed = String::from_utf8(out.stdout).unwrap();
    let id = name.trim_end_matches(".html");
    assert!(
        printed.contains(&format!("https://example.org/shares/s/{id}/")),
        "{printed}"
    );
    // An unknown extension is a usage error.
    let out = sharegen(home.path())
        .arg("export")
        .arg(&file)
        .args(["-o", "x.pdf"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn export_to_a_path_ending_in_a_separator_makes_that_folder() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let file = fixtures().join("focused/claude-code-log/edit_tool.jsonl");
    for (arg, ext) in [("new/deeper/", "html"), ("md-out/", "md")] {
        let mut cmd = sharegen(home.path());
        cmd.current_dir(work.path()).arg("export").arg(&file);
        cmd.args(["-o", arg]);
        if ext == "md" {
            cmd.args(["--format", "md"]);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{arg}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let dir = work.path().join(arg);
        let written: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(written.len(), 1, "{written:?}");
        let name = written[0]
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        assert!(name.ends_with(&format!(".{ext}")), "{name}");
        let printed = String::from_utf8(out.stdout).unwrap();
        assert!(printed.trim().ends_with(&name), "{printed}");
    }
}

#[test]
fn an_io_error_names_the_file_and_its_cause_once() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let file = fixtures().join("focused/claude-code-log/edit_tool.jsonl");
    // `export FILE -o OUT` in `work`: its exit code and stderr.
    let export_to_path = |out: &str| {
        let o = sharegen(home.path())
            .current_dir(work.path())
            .arg("export")
            .arg(&file)
            .args(["-o", out])
            .output()
            .unwrap();
        (o.status.code(), String::from_utf8(o.stderr).unwrap())
    };
    // A file where a folder of the output path should be: not the OS's
    // "File exists", but the file in the way, named once.
    std::fs::write(work.path().join("blocker"), "x").unwrap();
    let (code, err) = export_to_path("blocker/page.html");
    assert_eq!(code, Some(1));
    assert!(
        err.starts_with("error: blocker: is a file, not a folder"),
        "{err}"
    );
    assert_eq!(err.matches("is a file").count(), 1, "{err}");
    // An error the OS reports (a name longer than the file system takes):
    // the file, and the OS's cause once.
    let long = format!("{}.html", "n".repeat(300));
    let (code, err) = export_to_path(&long);
    assert_eq!(code, Some(1));
    assert!(err.contains(&long), "{err}");
    assert_eq!(err.matches("(os error").count(), 1, "{err}");
}

#[test]
fn export_all_renders_in_parallel_and_skips_unchanged() {
    let home = tempfile::tempdir().unwrap();
    copy_tree(
        &fixtures().join("projects"),
        &home.path().join(".claude/projects"),
    );
    let out_dir = home.path().join("out");
    let run = || {
        let out = sharegen(home.path())
            .args(["export", "--all", "--agent", "claude-code", "-o"])
            .arg(&out_dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (first, err1) = run();
    let n = first.lines().count();
    assert_eq!(n, 16, "{first}\n{err1}");
    assert!(err1.contains("16 written, 0 unchanged"), "{err1}");
    let (second, err2) = run();
    assert!(second.is_empty(), "{second}");
    assert!(err2.contains("0 written, 16 unchanged"), "{err2}");
}

#[test]
fn templates_can_be_ejected_and_overridden() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("tpl");
    sharegen(home.path())
        .args(["templates", "eject"])
        .arg(&dir)
        .assert()
        .success();
    assert!(dir.join("templates/page.html").is_file());
    assert!(dir.join("themes/default.css").is_file());
    // Ejecting again refuses to overwrite (exit 3).
    let out = sharegen(home.path())
        .args(["templates", "eject"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    // An override changes the page; auto-escaping stays on.
    let page = std::fs::read_to_string(dir.join("templates/page.html")).unwrap();
    std::fs::write(
        dir.join("templates/page.html"),
        page.replace(
            "<main id=\"main\">",
            "<main id=\"main\"><p class=\"custom\">{{ title }}</p>",
        ),
    )
    .unwrap();
    std::fs::write(dir.join("themes/plain.css"), "body { margin: 0 }").unwrap();
    let file = fixtures().join("focused/scriptorium/injection.jsonl");
    let out = sharegen(home.path())
        .args(["export", "--theme", "plain", "--templates"])
        .arg(&dir)
        .arg(&file)
        .args(["-o", "-"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = String::from_utf8(out.stdout).unwrap();
    assert!(html.contains("<p class=\"custom\">"));
    assert!(html.contains("body { margin: 0 }"));
    let out = sharegen(home.path())
        .args(["export", "--theme", "nope"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn page_meta_tags() {
    let file = fixtures().join("focused/claude-code-log/edit_tool.jsonl");
    let doc = Html::parse_document(&export_to(&file, "html"));
    let attr = |sel: &str, a: &str| {
        doc.select(&Selector::parse(sel).unwrap())
            .next()
            .unwrap_or_else(|| panic!("{sel}"))
            .value()
            .attr(a)
            .unwrap()
            .to_string()
    };
    assert_eq!(attr("meta[name=robots]", "content"), "noindex, nofollow");
    assert!(attr("meta[name=generator]", "content").starts_with("sharegen "));
    assert!(!attr("meta[property='og:title']", "content").is_empty());
    assert!(!attr("meta[name=description]", "content").is_empty());
    assert_eq!(attr("meta[name='twitter:card']", "content"), "summary");
    let title: String = doc
        .select(&Selector::parse("title").unwrap())
        .next()
        .unwrap()
        .text()
        .collect();
    assert!(!title.is_empty());
}

/// The `<main>` region, for snapshots.
fn main_html(html: &str) -> String {
    let doc = Html::parse_document(html);
    let main = doc
        .select(&Selector::parse("main").unwrap())
        .next()
        .unwrap();
    main.html().replace("><", ">\n<")
}

#[test]
fn snapshots_of_main() {
    for (name, rel) in [
        ("edit_tool", "focused/claude-code-log/edit_tool.jsonl"),
        (
            "todowrite",
            "focused/claude-code-log/todowrite_examples.jsonl",
        ),
        ("injection", "focused/scriptorium/injection.jsonl"),
        (
            "redacted_thinking",
            "focused/scriptorium/redacted_thinking.jsonl",
        ),
        ("with_tools", "focused/cclogviewer/valid/with_tools.jsonl"),
    ] {
        let html = export_to(&fixtures().join(rel), "html");
        insta::assert_snapshot!(name, main_html(&html));
    }
}

/// A page rendered from a session that `export` hands over
/// (`render_spending_to`, which drops each message once written) is the
/// page rendered from a borrowed one: for every Claude Code fixture, and
/// for one session made of all of them, long enough to be rendered in
/// several batches, with its subagents nested under their calls.
#[test]
fn a_spent_session_renders_the_page_a_borrowed_one_does() {
    use sharegen::cli::Format;
    use sharegen::render::Renderer;
    let diag = sharegen::diag::Diag::silent();
    let renderer = Renderer::new(
        &sharegen::config::Config::default(),
        b"salt".to_vec(),
        None,
        None,
    )
    .unwrap();
    let page_of = |s: &sharegen::model::Session| {
        let mut borrowed = Vec::new();
        renderer
            .render_to(s, Format::Html, None, &mut borrowed)
            .unwrap();
        let mut spent = Vec::new();
        renderer
            .render_spending_to(s.clone(), Format::Html, &mut spent)
            .unwrap();
        (borrowed, spent)
    };
    let mut all: Option<sharegen::model::Session> = None;
    for file in main_transcripts() {
        let (source, found) = sharegen::sources::refs_for_path(&file, &diag)
            .unwrap()
            .expect("a session");
        for summary in found {
            let r = sharegen::sources::SessionRef {
                agent: summary.agent,
                id: summary.id.clone(),
                path: summary.path.clone(),
            };
            let s = source.load(&r, &diag).unwrap();
            let (borrowed, spent) = page_of(&s);
            assert!(borrowed == spent, "{}: the pages differ", file.display());
            match &mut all {
                None => all = Some(s),
                Some(a) => {
                    a.messages.extend(s.messages);
                    a.subagents.extend(s.subagents);
                }
            }
        }
    }
    let all = all.expect("sessions");
    assert!(all.messages.len() > 1000, "{} messages", all.messages.len());
    assert!(all.subagents.iter().any(|a| a.tool_call_id.is_some()));
    let (borrowed, spent) = page_of(&all);
    let page = String::from_utf8(spent.clone()).unwrap();
    assert!(page.contains("class=\"subagent\""));
    assert!(page.contains(&format!("id=\"m-{}\"", all.messages.len())));
    assert!(
        borrowed == spent,
        "the pages of all sessions together differ"
    );
}

/// A message that shows when harness notices are hidden shows something:
/// one whose parts are all notices or step statistics (which the same
/// filter hides) is marked to be hidden with them, not left an empty box.
/// A page without prompts says so in its table of contents.
#[test]
fn no_message_is_an_empty_box_and_an_empty_toc_says_so() {
    // Errors, warnings and interruptions (`keep`) show while the other
    // notices hide.
    let hidden_alone = |class: &str| {
        let c: Vec<&str> = class.split_whitespace().collect();
        (c.contains(&"notice") && !c.contains(&"keep"))
            || c.contains(&"step")
            || c.contains(&"unknown")
    };
    let articles = Selector::parse("article.msg").unwrap();
    let parts = Selector::parse(":scope > .parts > *").unwrap();
    let mut files = codex_fixture_files();
    files.extend(main_transcripts());
    let toc_links = Selector::parse("nav.toc li a").unwrap();
    let toc_none = Selector::parse("nav.toc li.none").unwrap();
    let (mut step_only, mut no_prompts) = (0, 0);
    for file in &files {
        let html = export_to(file, "html");
        if file.ends_with("codex_053_rate_limit.jsonl") {
            // The error is what this session is about: it shows unasked.
            assert!(
                html.contains("<div class=\"notice n-error keep\">"),
                "{html}"
            );
        }
        let doc = Html::parse_document(&html);
        // The table of contents says when there is no prompt to list.
        let links = doc.select(&toc_links).count();
        let none = doc.select(&toc_none).count();
        assert_eq!((links == 0) as usize, none, "{}", file.display());
        no_prompts += none;
        for a in doc.select(&articles) {
            let class = a.value().attr("class").unwrap_or("");
            let kids: Vec<_> = a.select(&parts).collect();
            let empty_when_filtered = kids
                .iter()
                .all(|p| hidden_alone(p.value().attr("class").unwrap_or("")));
            let marked = class.split_whitespace().any(|c| c == "notice-only");
            assert_eq!(
                marked,
                empty_when_filtered,
                "{}: {} ({class})",
                file.display(),
                a.value().attr("id").unwrap_or("")
            );
            if marked && kids.iter().any(|p| p.value().attr("class") == Some("step")) {
                step_only += 1;
            }
        }
    }
    // codex_053_rate_limit.jsonl ends with a message of step statistics
    // only, and has no prompt.
    assert!(step_only > 0);
    assert!(no_prompts > 0);
}

/// Line numbers stay on their lines once the page is parsed: each gutter
/// beside a diff or a file view has as many rows as the code beside it
/// (an HTML parser drops a newline right after `<pre>`, which a gutter
/// whose first row is empty, a hunk header's, must not lose).
#[test]
fn gutters_have_one_row_per_code_line() {
    let blocks = Selector::parse("main .diff, main .numbered").unwrap();
    let gutters = Selector::parse(":scope > pre.gutter").unwrap();
    let code = Selector::parse(":scope > pre:not(.gutter)").unwrap();
    let rows = |e: scraper::ElementRef| e.text().collect::<String>().split('\n').count();
    let mut files = main_transcripts();
    files.extend(codex_fixture_files());
    let (mut checked, mut empty_first) = (0, 0);
    for file in &files {
        let doc = Html::parse_document(&export_to(file, "html"));
        for b in doc.select(&blocks) {
            let c = b.select(&code).next().expect("code beside the gutter");
            for g in b.select(&gutters) {
                let text: String = g.text().collect();
                assert_eq!(
                    rows(g),
                    rows(c),
                    "{}: gutter {text:?} beside {:?}",
                    file.display(),
                    c.text().collect::<String>()
                );
                checked += 1;
                empty_first += text.starts_with('\n') as usize;
            }
        }
    }
    // Diffs that start with a hunk header or an added line among them.
    assert!(checked > 0 && empty_first > 0, "{checked} {empty_first}");
}

/// A branch the user rewound is one collapsed block, between the message
/// it went back to and the prompt the conversation went on from; its
/// prompts are marked in the table of contents. Markdown folds it too.
#[test]
fn a_rewound_branch_is_one_collapsed_block() {
    let file =
        fixtures().join("projects/-experiments-ideas/03eb5929-52b3-4b13-ada3-b93ae35806b8.jsonl");
    let html = export_to(&file, "html");
    let doc = Html::parse_document(&html);
    let blocks: Vec<_> = doc
        .select(&Selector::parse("main > details.rewound").unwrap())
        .collect();
    assert_eq!(blocks.len(), 1, "{html}");
    let block = blocks[0];
    assert!(block.value().attr("open").is_none());
    assert!(block.value().id().is_some_and(|id| id.starts_with("rw-")));
    let summary = collapse_ws(
        &block
            .select(&Selector::parse(":scope > summary").unwrap())
            .next()
            .unwrap()
            .text()
            .collect::<String>(),
    );
    assert!(summary.starts_with("Rewound · 6 messages"), "{summary}");
    let inside: Vec<String> = block
        .select(&Selector::parse(":scope > article.msg.user").unwrap())
        .map(|a| collapse_ws(&a.text().collect::<String>()))
        .collect();
    assert_eq!(inside.len(), 3, "{inside:?}");
    assert!(inside[0].contains("I very much like this idea"));
    // The prompts that stayed are outside it, where `j`/`k` find them.
    let kept: Vec<String> = doc
        .select(&Selector::parse("main > article.msg.user").unwrap())
        .map(|a| collapse_ws(&a.text().collect::<String>()))
        .collect();
    assert!(
        kept.iter()
            .any(|t| t.contains("I actually don't like much this idea"))
    );
    assert!(
        !kept
            .iter()
            .any(|t| t.contains("I very much like this idea"))
    );
    let toc: Vec<(bool, String)> = doc
        .select(&Selector::parse("nav.toc li").unwrap())
        .map(|li| {
            (
                li.value().classes().any(|c| c == "rewound"),
                collapse_ws(&li.text().collect::<String>()),
            )
        })
        .collect();
    assert_eq!(toc.len(), 7, "{toc:?}");
    assert_eq!(
        toc.iter().map(|(r, _)| *r).collect::<Vec<_>>(),
        [false, true, true, true, false, false, false]
    );
    assert!(toc[1].1.contains("rewound I very much like"), "{toc:?}");

    let md = export_to(&file, "md");
    let open = md
        .find("<details>\n<summary>Rewound · 6 messages")
        .expect(&md);
    let kept = md.find("I actually don't like much this idea").unwrap();
    let branch = &md[open..kept];
    assert!(branch.contains("I very much like this idea"));
    assert!(branch.contains("Clear separation of concerns"));
    // The block closes right before the kept prompt's heading, and opens
    // and closes as many blocks as it holds.
    let close = branch.rfind("</details>").unwrap();
    assert!(
        branch[close..].starts_with("</details>\n\n## User ·"),
        "{}",
        &branch[close..]
    );
    assert_eq!(
        branch.matches("<details>").count(),
        branch.matches("</details>").count()
    );
}

/// What a reader needs of tools without a view of their own, in Markdown
/// too: a subagent's prompt (when its conversation does not open with it),
/// what was asked of a fetched page, a plan as text rather than a JSON
/// string; and the commands a user typed show on the page unasked.
#[test]
fn prompts_plans_and_typed_commands_are_readable() {
    let projects = fixtures().join("projects");
    let md = export_to(
        &projects.join("-src-deep-manifest/a7da6a22-facc-4fcd-8bab-f83c87862004.jsonl"),
        "md",
    );
    assert!(md.contains("**Prompt**\n\nExplore the deep-manifest codebase"));
    let md = export_to(
        &projects.join("-experiments-worktrees/ef958aa1-0e93-49f0-bb71-150f63befcd1.jsonl"),
        "md",
    );
    assert!(md.contains("\n> Extract details about Claude Code plan mode"));
    let md = export_to(
        &projects.join(
            "-Users-dain-workspace-coderabbit-review-helper/cb2e607c-c758-415a-8b45-c49e4631906a.jsonl",
        ),
        "md",
    );
    assert!(md.contains("`plan`\n\n```\n## Plan: Make Project Installable as UV Tool\n"));
    assert!(!md.contains("\"plan\": \"## Plan"));

    let html = export_to(
        &fixtures().join("focused/scriptorium/glosses.jsonl"),
        "html",
    );
    let doc = Html::parse_document(&html);
    let sel = Selector::parse("article.msg:not(.notice-only) .notice.n-command.keep").unwrap();
    let shown: Vec<String> = doc
        .select(&sel)
        .map(|n| collapse_ws(&n.text().collect::<String>()))
        .collect();
    assert!(
        shown.iter().any(|t| t == "Command /review this pr"),
        "{shown:?}"
    );
}
