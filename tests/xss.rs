//! The XSS corpus (issue 7): well over 100 payloads (script tags, event
//! handlers, `javascript:`/`data:`/`vbscript:` URLs in Markdown and in
//! HTML, SVG/MathML mutation vectors, attribute, `</script>` and `<!--`
//! breakouts, CSS injection, template syntax, unicode tricks, NUL bytes,
//! very long attributes) placed in every field of a Claude Code session
//! (with subagents) and of an OpenCode JSON store (with a child session),
//! then exported.
//!
//! Every payload that could run would set `document.title` to
//! `PWNED-<n>` and call `http://127.0.0.1:<port>/pwned/<n>`, where this test
//! listens. The checks:
//!
//! - HTML, parsed as a browser would (html5ever): only sharegen's own
//!   elements and attributes, no `on*` attribute, one script (the page's),
//!   no `javascript:`/`data:` link, no remote resource, an unchanged head,
//!   and every payload shown as text in every field that shows text;
//! - in headless Chromium (tests/browser/xss.mjs), from file:// and
//!   http://127.0.0.1, with the page's CSP enforced and with it bypassed
//!   (escaping alone must hold): after loading, switching every filter on,
//!   expanding everything, searching and following hostile fragments, the
//!   title is the session's, no payload ran, no request left the page, no
//!   CSP violation, no page error, and the DOM facts above still hold;
//! - Markdown: rendered by a permissive renderer (raw HTML on), it holds
//!   only the markup sharegen writes itself and only safe links;
//! - JSON: valid, and every placed value reads back unchanged.
//!
//! A control page that really injects proves the detectors work.
//! SHAREGEN_SKIP_BROWSER=1 skips only the Chromium part; otherwise a
//! missing Chromium, node or tests/browser/node_modules fails the test.

mod common;
use common::browser::CHROMIUM;
#[path = "xss_corpus/payloads.rs"]
mod payloads;
#[path = "xss_corpus/sessions.rs"]
mod sessions;

use common::{say, sharegen, target_dir};
use payloads::{Payload, marker};
use serde_json::{Value, json};
use sessions::{Generated, Placed, tag};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

const HARNESS_TIMEOUT: Duration = Duration::from_secs(600);

// --- the beacon: a listener that records every request -------------------------

struct Beacon {
    port: u16,
    hits: Arc<Mutex<Vec<String>>>,
}

impl Beacon {
    fn start() -> Beacon {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(Mutex::new(Vec::new()));
        let h = hits.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { continue };
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let mut buf = [0u8; 2048];
                let n = s.read(&mut buf).unwrap_or(0);
                let first = String::from_utf8_lossy(&buf[..n])
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string();
                h.lock().unwrap().push(first);
                let _ = s.write_all(
                    b"HTTP/1.1 204 No Content\r\nAccess-Control-Allow-Origin: *\r\nConnection: close\r\n\r\n",
                );
            }
        });
        Beacon { port, hits }
    }

    fn hits(&self) -> Vec<String> {
        self.hits.lock().unwrap().clone()
    }
}

// --- the corpus, generated and exported once ------------------------------------

struct Export {
    name: &'static str,
    generated: Generated,
    /// The page, exported with `--no-redact` (payloads as written).
    html: PathBuf,
    /// The same page with redaction on (the default).
    redacted: PathBuf,
    md: String,
    json: String,
}

struct Corpus {
    _tmp: tempfile::TempDir,
    site: PathBuf,
    beacon: Beacon,
    payloads: Vec<Payload>,
    exports: Vec<Export>,
}

fn export(home: &Path, input: &Path, format: &str, redact: bool, out: &str) -> String {
    let mut cmd = sharegen(home);
    cmd.args(["export", "-q", "--format", format]);
    if !redact {
        cmd.arg("--no-redact");
    }
    let o = cmd.args(["-o", out]).arg(input).output().unwrap();
    assert!(
        o.status.success(),
        "export {} as {format} failed: {}",
        input.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn corpus() -> &'static Corpus {
    static C: OnceLock<Corpus> = OnceLock::new();
    C.get_or_init(|| {
        let beacon = Beacon::start();
        let payloads = payloads::payloads(beacon.port);
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home");
        let site = tmp.path().join("site");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&site).unwrap();
        let t = Instant::now();
        let gens = [
            (
                "claude",
                sessions::claude(&tmp.path().join("cc"), &payloads),
            ),
            (
                "opencode",
                sessions::opencode(&tmp.path().join("oc"), &payloads),
            ),
        ];
        // Eight exports, in parallel: a debug build highlights slowly.
        let exports = std::thread::scope(|scope| {
            let handles: Vec<_> = gens
                .into_iter()
                .map(|(name, g)| {
                    let (home, site) = (&home, &site);
                    scope.spawn(move || {
                        let html = site.join(format!("{name}.html"));
                        let redacted = site.join(format!("{name}-redacted.html"));
                        let (md, json) = std::thread::scope(|s| {
                            let a = s.spawn(|| {
                                export(home, &g.path, "html", false, html.to_str().unwrap())
                            });
                            let b = s.spawn(|| {
                                export(home, &g.path, "html", true, redacted.to_str().unwrap())
                            });
                            let md = export(home, &g.path, "md", false, "-");
                            let json = export(home, &g.path, "json", false, "-");
                            a.join().unwrap();
                            b.join().unwrap();
                            (md, json)
                        });
                        Export {
                            name,
                            generated: g,
                            html,
                            redacted,
                            md,
                            json,
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .collect::<Vec<_>>()
        });
        say(&format!(
            "xss corpus: {} payloads, generated and exported in {:.1} s\n",
            payloads.len(),
            t.elapsed().as_secs_f64()
        ));
        Corpus {
            _tmp: tmp,
            site,
            beacon,
            payloads,
            exports,
        }
    })
}

// --- what a page may contain ------------------------------------------------------

/// Elements sharegen's pages are made of (templates, renderer, Markdown,
/// and what page.js adds: search marks, permalinks).
const ELEMENTS: &[&str] = &[
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "script",
    "a",
    "header",
    "footer",
    "nav",
    "main",
    "section",
    "article",
    "div",
    "span",
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "dl",
    "dt",
    "dd",
    "ol",
    "ul",
    "li",
    "label",
    "input",
    "button",
    "time",
    "details",
    "summary",
    "pre",
    "code",
    "del",
    "ins",
    "strong",
    "em",
    "blockquote",
    "hr",
    "br",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "img",
    "sup",
    "mark",
];

/// (element, attribute) pairs sharegen writes; `*` is any element.
const ATTRIBUTES: &[(&str, &str)] = &[
    ("*", "class"),
    ("*", "id"),
    ("html", "lang"),
    ("html", "data-theme"),
    ("meta", "charset"),
    ("meta", "http-equiv"),
    ("meta", "content"),
    ("meta", "name"),
    ("meta", "property"),
    ("a", "href"),
    ("a", "rel"),
    ("a", "title"),
    ("input", "id"),
    ("input", "type"),
    ("input", "placeholder"),
    ("input", "aria-label"),
    ("input", "autocomplete"),
    ("input", "checked"),
    ("input", "disabled"),
    ("button", "type"),
    ("button", "aria-label"),
    ("button", "title"),
    ("button", "data-anchor"),
    ("div", "role"),
    ("div", "aria-label"),
    ("nav", "aria-label"),
    ("span", "aria-live"),
    ("span", "hidden"),
    ("pre", "aria-hidden"),
    ("code", "data-lang"),
    ("time", "datetime"),
    ("details", "open"),
    ("img", "alt"),
    ("img", "src"),
    ("ol", "start"),
];

/// What the document's head must be, element by element.
const HEAD: &[&str] = &[
    "meta[charset]",
    "meta[http-equiv=Content-Security-Policy]",
    "meta[name=viewport]",
    "title",
    "meta[name=description]",
    "meta[name=robots]",
    "meta[name=generator]",
    "meta[name=referrer]",
    "meta[property=og:type]",
    "meta[property=og:title]",
    "meta[property=og:description]",
    "meta[property=og:site_name]",
    "meta[name=twitter:card]",
    "meta[name=twitter:title]",
    "meta[name=twitter:description]",
    "style",
];

fn attr_allowed(tag: &str, attr: &str) -> bool {
    ATTRIBUTES
        .iter()
        .any(|(t, a)| (*t == "*" || *t == tag) && *a == attr)
}

/// Whether a URL attribute's value is one sharegen may write.
fn url_allowed(tag: &str, attr: &str, value: &str) -> bool {
    match (tag, attr) {
        ("a", "href") => {
            let v = value.to_ascii_lowercase();
            v.starts_with('#')
                || v.starts_with("https://")
                || v.starts_with("http://")
                || v.starts_with("mailto:")
        }
        ("img", "src") => {
            let raster = ["png", "jpeg", "jpg", "gif", "webp", "bmp", "avif"];
            raster
                .iter()
                .any(|r| value.starts_with(&format!("data:image/{r};base64,")))
                && value["data:image/".len()..]
                    .split_once(";base64,")
                    .is_some_and(|(_, b)| {
                        b.bytes()
                            .all(|c| c.is_ascii_alphanumeric() || b"+/=".contains(&c))
                    })
        }
        _ => false,
    }
}

/// The head element keys of a parsed page, as [`HEAD`] writes them.
fn head_key(tag: &str, attrs: &[(String, String)]) -> String {
    let get = |k: &str| attrs.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str());
    match tag {
        "meta" => {
            if get("charset").is_some() {
                "meta[charset]".into()
            } else if let Some(h) = get("http-equiv") {
                format!("meta[http-equiv={h}]")
            } else if let Some(n) = get("name") {
                format!("meta[name={n}]")
            } else if let Some(p) = get("property") {
                format!("meta[property={p}]")
            } else {
                "meta".into()
            }
        }
        other => other.to_string(),
    }
}

/// Everything wrong with a document's markup, as seen by a parser that
/// builds the same tree a browser does.
fn markup_faults(html: &str) -> (Vec<String>, String) {
    let doc = scraper::Html::parse_document(html);
    let mut faults = BTreeSet::new();
    let mut scripts = 0;
    let mut styles = 0;
    for node in doc.tree.nodes() {
        let Some(el) = node.value().as_element() else {
            continue;
        };
        let ns = &*el.name.ns;
        let tag = el.name();
        if ns != "http://www.w3.org/1999/xhtml" {
            faults.insert(format!("foreign element <{tag}> ({ns})"));
            continue;
        }
        if !ELEMENTS.contains(&tag) {
            faults.insert(format!("element <{tag}>"));
        }
        if tag == "script" {
            scripts += 1;
        }
        if tag == "style" {
            styles += 1;
        }
        for (name, value) in el.attrs() {
            if name.to_ascii_lowercase().starts_with("on") {
                faults.insert(format!("handler {tag}[{name}]"));
            } else if !attr_allowed(tag, name) {
                faults.insert(format!("attribute {tag}[{name}]"));
            }
            if matches!(name, "href" | "src") && !url_allowed(tag, name, value) {
                faults.insert(format!(
                    "{tag}[{name}={}]",
                    value.chars().take(80).collect::<String>()
                ));
            }
        }
    }
    if scripts != 1 {
        faults.insert(format!("{scripts} <script> elements (the page has one)"));
    }
    if styles != 1 {
        faults.insert(format!("{styles} <style> elements (the page has one)"));
    }
    let head_sel = scraper::Selector::parse("head > *").unwrap();
    let head: Vec<String> = doc
        .select(&head_sel)
        .map(|e| {
            let attrs: Vec<(String, String)> = e
                .value()
                .attrs()
                .map(|(a, v)| (a.to_string(), v.to_string()))
                .collect();
            head_key(e.value().name(), &attrs)
        })
        .collect();
    if head != HEAD {
        faults.insert(format!("head is {head:?}"));
    }
    let body_sel = scraper::Selector::parse("body").unwrap();
    let text = doc
        .select(&body_sel)
        .next()
        .map(|b| b.text().collect::<String>())
        .unwrap_or_default();
    (faults.into_iter().collect(), text)
}

// --- payloads shown as text ----------------------------------------------------------

/// Fields whose text a page shows in full (everything expanded, every
/// filter on). The others show in part (the one-line summary of a tool
/// call) or give way to what the tool recorded (an edit's structured
/// patch instead of its input, stdout and stderr instead of the combined
/// output, the file a read returned instead of the path asked for).
const HTML_SHOWN: &[&str] = &[
    "title",
    "cwd",
    "branch",
    "prompt",
    "thinking",
    "text",
    "model",
    "bash-command",
    "bash-description",
    "bash-stdout",
    "bash-stderr",
    "read-file-content",
    "edit-path",
    "edit-output",
    "patch-old",
    "patch-new",
    "patch-path",
    "write-content",
    "write-output",
    "fetch-url",
    "fetch-prompt",
    "fetch-output",
    "grep-output",
    "new-todo",
    "task-prompt",
    "task-output",
    "tool-name",
    "tool-input",
    "tool-input-nested",
    "other-output",
    "other-unknown-block",
    "system",
    "meta",
    "subagent-prompt",
    "subagent-model",
    "subagent-text",
    "subagent-type",
    "subagent-description",
    "document-title",
    "oc-title",
    "oc-directory",
    "oc-model",
    "oc-error",
    "oc-prompt",
    "oc-agent",
    "oc-subtask-description",
    "oc-subtask-prompt",
    "oc-reasoning",
    "oc-text",
    "oc-synthetic",
    "oc-bash-command",
    "oc-bash-output",
    "oc-read-output",
    "oc-edit-path",
    "oc-edit-output",
    "oc-filediff-before",
    "oc-filediff-after",
    "oc-write-content",
    "oc-fetch-url",
    "oc-fetch-output",
    "oc-todo",
    "oc-tool-name",
    "oc-tool-input",
    "oc-tool-output",
    "oc-tool-error",
    "oc-patch-file",
    "oc-retry",
    "oc-finish",
    "oc-task-prompt",
    "oc-task-output",
    "oc-session-diff-path",
    "oc-session-diff-before",
    "oc-session-diff-after",
    "oc-child-text",
];

/// The placements of `fields` whose payload `text` does not show: the
/// field's tag must be there, followed by the payload's snippet.
fn not_shown(text: &str, placed: &[Placed], payloads: &[Payload], fields: &[&str]) -> Vec<String> {
    let mut missing = Vec::new();
    for p in placed.iter().filter(|p| fields.contains(&p.field.as_str())) {
        let t = tag(&p.field, p.n);
        let payload = &payloads[p.n];
        let window = payload.text.len() * 2 + 200;
        let found = text.match_indices(&t).any(|(i, _)| {
            let from = i + t.len();
            let mut to = (from + window).min(text.len());
            while !text.is_char_boundary(to) {
                to -= 1;
            }
            text[from..to].contains(&payload.snippet)
        });
        if !found {
            let why = if text.contains(&t) {
                "its payload is not shown as text"
            } else {
                "not shown at all"
            };
            missing.push(format!(
                "{t} {why} (snippet {:?})",
                payload.snippet.chars().take(60).collect::<String>()
            ));
        }
    }
    missing
}

fn summarize(mut v: Vec<String>, max: usize) -> String {
    let n = v.len();
    v.truncate(max);
    let mut s = v.join("\n  ");
    if n > max {
        s.push_str(&format!("\n  … and {} more", n - max));
    }
    s
}

// --- the tests ------------------------------------------------------------------------

#[test]
fn the_corpus_has_over_a_hundred_distinct_payloads_in_every_field() {
    let c = corpus();
    assert!(c.payloads.len() >= 100, "{} payloads", c.payloads.len());
    let distinct: BTreeSet<&str> = c.payloads.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(distinct.len(), c.payloads.len(), "payloads repeat");
    for e in &c.exports {
        let mut per_field: BTreeMap<&str, usize> = BTreeMap::new();
        for p in &e.generated.placed {
            *per_field.entry(&p.field).or_default() += 1;
        }
        // Every field but the few placed once holds every payload.
        let full = per_field
            .values()
            .filter(|&&k| k == c.payloads.len())
            .count();
        assert!(
            full >= 25,
            "{}: only {full} fields hold every payload: {per_field:?}",
            e.name
        );
    }
}

/// The page's markup, as a browser parses it: nothing a payload wrote.
#[test]
fn pages_hold_only_sharegens_markup_and_show_every_payload_as_text() {
    let c = corpus();
    let mut faults = Vec::new();
    for e in &c.exports {
        for (label, path) in [("", &e.html), (" (redacted)", &e.redacted)] {
            let html = std::fs::read_to_string(path).unwrap();
            let (bad, text) = markup_faults(&html);
            for b in bad {
                faults.push(format!("{}{label}: {b}", e.name));
            }
            if label.is_empty() {
                let missing = not_shown(&text, &e.generated.placed, &c.payloads, HTML_SHOWN);
                if !missing.is_empty() {
                    faults.push(format!(
                        "{}: {} placements not shown:\n  {}",
                        e.name,
                        missing.len(),
                        summarize(missing, 40)
                    ));
                }
                // The title: the session's, escaped, once in <title>.
                let doc = scraper::Html::parse_document(&html);
                let title_sel = scraper::Selector::parse("title").unwrap();
                let titles: Vec<String> =
                    doc.select(&title_sel).map(|t| t.text().collect()).collect();
                if titles != [e.generated.title.replace('\0', "\u{fffd}")] {
                    faults.push(format!(
                        "{}: <title> is not the session's title ({} title elements)",
                        e.name,
                        titles.len()
                    ));
                }
            }
        }
    }
    assert!(
        faults.is_empty(),
        "{} fault(s):\n{}",
        faults.len(),
        faults.join("\n")
    );
}

/// Fields the Markdown transcript shows (it leaves out harness notices,
/// step stats and session diffs, and shows some fields only in summaries).
const MD_SHOWN: &[&str] = &[
    "title",
    "prompt",
    "thinking",
    "text",
    "model",
    "bash-command",
    "bash-output",
    "read-file-content",
    "patch-old",
    "patch-new",
    "write-content",
    "fetch-output",
    "grep-output",
    "new-todo",
    "task-output",
    "tool-name",
    "tool-input",
    "tool-input-nested",
    "other-output",
    "subagent-prompt",
    "subagent-text",
    "oc-title",
    "oc-prompt",
    "oc-reasoning",
    "oc-text",
    "oc-bash-command",
    "oc-bash-output",
    "oc-read-output",
    "oc-write-content",
    "oc-fetch-output",
    "oc-todo",
    "oc-tool-name",
    "oc-tool-input",
    "oc-tool-output",
    "oc-child-text",
];

/// Markdown pasted into a renderer that lets raw HTML through (GitHub
/// sanitizes on its own; many renderers do not) holds only the markup
/// sharegen writes: `<details>`, `<summary>`, `<code>`, and Markdown's own.
#[test]
fn markdown_escapes_raw_html_and_keeps_only_safe_links() {
    use pulldown_cmark::{Event, Options, Parser, Tag};
    let c = corpus();
    let md_elements: &[&str] = &[
        "html",
        "head",
        "body",
        "p",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "pre",
        "code",
        "ul",
        "ol",
        "li",
        "em",
        "strong",
        "del",
        "a",
        "hr",
        "br",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "input",
        "details",
        "summary",
        "sup",
        "div",
        "span",
    ];
    let md_attrs: &[(&str, &str)] = &[
        ("a", "href"),
        ("a", "title"),
        ("code", "class"),
        ("input", "type"),
        ("input", "checked"),
        ("input", "disabled"),
        ("th", "style"),
        ("td", "style"),
        ("ol", "start"),
        ("sup", "class"),
        ("div", "class"),
        ("div", "id"),
        ("span", "class"),
    ];
    let mut faults = Vec::new();
    for e in &c.exports {
        let opts = Options::ENABLE_TABLES
            | Options::ENABLE_STRIKETHROUGH
            | Options::ENABLE_TASKLISTS
            | Options::ENABLE_FOOTNOTES
            | Options::ENABLE_GFM;
        // Links and images as a Markdown renderer sees them.
        for ev in Parser::new_ext(&e.md, opts) {
            if let Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) = ev
                && !url_allowed("a", "href", &dest_url)
            {
                faults.push(format!(
                    "{}: markdown link to {}",
                    e.name,
                    dest_url.chars().take(60).collect::<String>()
                ));
            }
        }
        let mut html = String::new();
        pulldown_cmark::html::push_html(&mut html, Parser::new_ext(&e.md, opts));
        let doc = scraper::Html::parse_document(&html);
        let mut bad = BTreeSet::new();
        for node in doc.tree.nodes() {
            let Some(el) = node.value().as_element() else {
                continue;
            };
            let tag = el.name();
            if &*el.name.ns != "http://www.w3.org/1999/xhtml" || !md_elements.contains(&tag) {
                bad.insert(format!("element <{tag}>"));
            }
            for (name, value) in el.attrs() {
                if !md_attrs.contains(&(tag, name)) {
                    bad.insert(format!("attribute {tag}[{name}]"));
                }
                if name == "href" && !url_allowed("a", "href", value) {
                    bad.insert(format!(
                        "a[href={}]",
                        value.chars().take(60).collect::<String>()
                    ));
                }
            }
        }
        faults.extend(bad.into_iter().map(|b| format!("{}: {b}", e.name)));
        let text: String = doc.root_element().text().collect();
        let missing = not_shown(&text, &e.generated.placed, &c.payloads, MD_SHOWN);
        if !missing.is_empty() {
            faults.push(format!(
                "{}: {} placements not shown in the rendered Markdown:\n  {}",
                e.name,
                missing.len(),
                summarize(missing, 40)
            ));
        }
    }
    assert!(
        faults.is_empty(),
        "{} fault(s):\n{}",
        faults.len(),
        faults.join("\n")
    );
}

fn strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(m) => m.iter().for_each(|(k, x)| {
            out.push(k);
            strings(x, out)
        }),
        _ => {}
    }
}

/// OpenCode fields the model has no place for (a bash call's metadata
/// copy of its output, a tool's free-form metadata, a user message's
/// summary title).
const JSON_NOT_MODELED: &[&str] = &["oc-bash-metadata", "oc-tool-metadata", "oc-summary-title"];

/// How a placed value reads in the JSON export: as written, except hunk
/// lines (one string per line, with its sign) and unknown blocks inside a
/// tool result (kept as their JSON text).
fn json_forms(p: &Placed) -> Vec<String> {
    match p.field.as_str() {
        "patch-old" => p.value.split('\n').map(|l| format!("-{l}")).collect(),
        "patch-new" => p.value.split('\n').map(|l| format!("+{l}")).collect(),
        "other-unknown-block" => {
            let j = serde_json::to_string(&p.value).unwrap();
            vec![j[1..j.len() - 1].to_string()]
        }
        _ => vec![p.value.clone()],
    }
}

/// The JSON export is valid and carries every payload as it was written.
#[test]
fn json_is_valid_and_round_trips_every_payload() {
    let c = corpus();
    let mut faults = Vec::new();
    for e in &c.exports {
        let v: Value = serde_json::from_str(&e.json)
            .unwrap_or_else(|err| panic!("{}: the JSON export does not parse: {err}", e.name));
        let mut all = Vec::new();
        strings(&v, &mut all);
        let joined = all.join("\u{10ffff}");
        let mut missing: Vec<String> = e
            .generated
            .placed
            .iter()
            .filter(|p| !JSON_NOT_MODELED.contains(&p.field.as_str()))
            .filter(|p| !json_forms(p).iter().all(|f| joined.contains(f.as_str())))
            .map(|p| tag(&p.field, p.n))
            .collect();
        // The Claude Code reader splits harness tags (<system-reminder>,
        // <command-name>) out of prompts; those values arrive in pieces.
        missing.retain(|t| !harness_split(&c.payloads, t));
        if !missing.is_empty() {
            let fields: BTreeSet<&str> = missing
                .iter()
                .map(|t| t.trim_start_matches('⟦').split(':').next().unwrap_or(""))
                .collect();
            faults.push(format!(
                "{}: fields missing from the JSON: {fields:?}",
                e.name
            ));
            faults.push(format!(
                "{}: {} placed values not in the JSON:\n  {}",
                e.name,
                missing.len(),
                summarize(missing, 40)
            ));
        }
        // And it reads back into the model unchanged.
        let doc: sharegen::model::ExportDocument =
            serde_json::from_str(&e.json).expect("the JSON export reads back");
        let again = serde_json::to_value(&doc).unwrap();
        if again != v {
            faults.push(format!("{}: the JSON does not round-trip", e.name));
        }
    }
    assert!(faults.is_empty(), "{}", faults.join("\n"));
}

/// Whether the placement tagged `t` holds a payload the Claude Code
/// reader splits at harness tags.
fn harness_split(payloads: &[Payload], t: &str) -> bool {
    let n: usize = t
        .trim_end_matches('⟧')
        .rsplit(':')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(usize::MAX);
    payloads
        .get(n)
        .is_some_and(|p| p.text.contains("<system-reminder>") || p.text.contains("<command-name>"))
}

// --- in Chromium -----------------------------------------------------------------------

/// A page that injects for real: the detectors must see it.
fn control_page(port: u16) -> String {
    let a = format!(
        "document.title='{}';fetch('{}')",
        marker(9999),
        payloads::beacon(port, 9999)
    );
    format!(
        "<!doctype html><html><head><title>control</title></head><body>\
         <img src=x onerror=\"{a}\"><a href=\"javascript:void 0\">x</a>\
         <iframe src=\"about:blank\"></iframe></body></html>"
    )
}

/// A title as `document.title` gives it: NUL read as U+FFFD, ASCII
/// whitespace stripped and collapsed; Chromium also shows other C0
/// controls and DEL as spaces (or drops them), so [`title_key`] turns
/// them into spaces on both sides before comparing.
fn collapse(s: &str) -> String {
    title_key(&s.replace('\0', "\u{fffd}"))
}

fn title_key(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_control() { ' ' } else { c })
        .collect::<String>()
        .split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn pages_in_headless_chromium_run_no_payload_and_load_nothing() {
    if common::browser::skip_or_require("the XSS browser test") {
        return;
    }
    let c = corpus();
    std::fs::write(c.site.join("control.html"), control_page(c.beacon.port)).unwrap();
    let mut pages = Vec::new();
    let mut titles = BTreeMap::new();
    for e in &c.exports {
        pages.push(json!({"name": e.name, "file": e.html.file_name().unwrap().to_str().unwrap(), "text": true,
            "modes": ["file", "http"], "csp": ["enforced", "bypassed"]}));
        // Redaction rewrites text before rendering; once, CSP off, is enough.
        pages.push(json!({"name": format!("{}-redacted", e.name), "file": e.redacted.file_name().unwrap().to_str().unwrap(), "text": false,
            "modes": ["http"], "csp": ["bypassed"]}));
        titles.insert(e.name.to_string(), collapse(&e.generated.title));
        // Redaction rewrites the title too: the page's own <title> it is.
        let red = std::fs::read_to_string(&e.redacted).unwrap();
        let doc = scraper::Html::parse_document(&red);
        let title: String = doc
            .select(&scraper::Selector::parse("title").unwrap())
            .next()
            .map(|t| t.text().collect())
            .unwrap_or_default();
        assert!(title.starts_with(&tag(
            if e.name == "claude" {
                "title"
            } else {
                "oc-title"
            },
            0
        )));
        titles.insert(format!("{}-redacted", e.name), collapse(&title));
    }
    let tmp = tempfile::tempdir().unwrap();
    let spec = json!({
        "chromium": CHROMIUM,
        "site_dir": c.site,
        "beacon": format!("http://127.0.0.1:{}", c.beacon.port),
        "timeout_ms": HARNESS_TIMEOUT.as_millis() as u64,
        "search": "onerror",
        "pages": pages,
        "control": "control.html",
        "result_path": tmp.path().join("result.json"),
    });
    let spec_path = tmp.path().join("spec.json");
    std::fs::write(&spec_path, serde_json::to_vec_pretty(&spec).unwrap()).unwrap();
    let htmp = tmp.path().join("tmp");
    std::fs::create_dir_all(&htmp).unwrap();
    let t = Instant::now();
    let (stdout, stderr, status) =
        common::browser::run_harness("xss.mjs", &spec_path, &htmp, HARNESS_TIMEOUT);
    let text = std::fs::read_to_string(tmp.path().join("result.json")).unwrap_or(stdout.clone());
    let result: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "the harness printed no JSON ({e}; exit {status:?})\n--- stderr\n{}",
            stderr.chars().take(4000).collect::<String>()
        )
    });
    let report = target_dir().join("xss-result.json");
    let _ = std::fs::write(&report, text.as_bytes());

    let mut f: Vec<String> = Vec::new();
    if !result["fatal"].is_null() || status != Some(0) {
        f.push(format!(
            "the harness failed (exit {status:?}): {}\n{}",
            result["fatal"],
            stderr.chars().take(4000).collect::<String>()
        ));
    }
    // The detectors: the control page ran, called the beacon, and left a
    // handler and a javascript: link in the DOM.
    let ctl = &result["control"];
    let ctl_ok = ctl["final"]["title"] == marker(9999)
        && ctl["requests"].as_array().is_some_and(|r| {
            r.iter()
                .any(|q| q["url"].as_str().unwrap_or("").contains("/pwned/9999"))
        })
        && ctl["final"]["on_attributes"]
            .as_array()
            .is_some_and(|a| !a.is_empty());
    if !ctl_ok {
        f.push(format!("the detectors missed the control page: {ctl}"));
    }
    let hits = c.beacon.hits();
    if !hits.iter().any(|h| h.contains("/pwned/9999")) {
        f.push(format!(
            "the beacon did not hear the control page (heard {hits:?})"
        ));
    }
    for h in hits.iter().filter(|h| !h.contains("/pwned/9999")) {
        f.push(format!("a payload called the beacon: {h}"));
    }
    for r in result["server_requests"].as_array().into_iter().flatten() {
        let p = r["url"].as_str().unwrap_or("");
        let ok = p == "/control.html"
            || c.exports.iter().any(|e| {
                p == format!("/{}.html", e.name) || p == format!("/{}-redacted.html", e.name)
            });
        if !ok {
            f.push(format!("the server was asked for {p}"));
        }
    }
    let runs = result["runs"].as_array().cloned().unwrap_or_default();
    let expected_runs: usize = pages
        .iter()
        .map(|p| p["modes"].as_array().unwrap().len() * p["csp"].as_array().unwrap().len())
        .sum();
    if runs.len() != expected_runs {
        f.push(format!("{} runs, expected {expected_runs}", runs.len()));
    }
    for run in &runs {
        let at = format!(
            "{} ({}, CSP {})",
            run["page"].as_str().unwrap_or("?"),
            run["mode"].as_str().unwrap_or("?"),
            run["csp"].as_str().unwrap_or("?")
        );
        let page_url = run["url"].as_str().unwrap_or("");
        let name = run["page"].as_str().unwrap_or("");
        for (k, v) in run["steps"].as_object().into_iter().flatten() {
            if v.get("error").is_some() {
                f.push(format!("{at}: step {k} failed: {}", v["error"]));
            }
        }
        for req in run["requests"].as_array().into_iter().flatten() {
            let u = req["url"].as_str().unwrap_or("");
            if u.split('#').next() != Some(page_url) && !u.starts_with("data:") {
                f.push(format!(
                    "{at}: request to {}",
                    u.chars().take(120).collect::<String>()
                ));
            }
        }
        for k in ["page_errors", "csp_violations"] {
            for x in run[k].as_array().into_iter().flatten() {
                f.push(format!(
                    "{at}: {k}: {}",
                    x.to_string().chars().take(300).collect::<String>()
                ));
            }
        }
        for m in run["console"].as_array().into_iter().flatten() {
            if m["type"] == "error" || m["type"] == "warning" {
                f.push(format!(
                    "{at}: console {}: {}",
                    m["type"],
                    m["text"]
                        .as_str()
                        .unwrap_or("")
                        .chars()
                        .take(200)
                        .collect::<String>()
                ));
            }
        }
        match run["search"]["qn"].as_str() {
            Some(q) if q.contains("found") => {}
            other => f.push(format!("{at}: the search found nothing ({other:?})")),
        }
        for when in ["loaded", "final"] {
            let fx = &run[when];
            let want = titles.get(name).cloned().unwrap_or_default();
            let got = title_key(fx["title"].as_str().unwrap_or(""));
            let got = got.as_str();
            if got != want {
                let same = got
                    .chars()
                    .zip(want.chars())
                    .take_while(|(a, b)| a == b)
                    .count();
                let around = |s: &str| {
                    s.chars()
                        .skip(same.saturating_sub(20))
                        .take(60)
                        .collect::<String>()
                };
                f.push(format!(
                    "{at}: {when}: document.title is not the session's title: from character {same}, {:?} instead of {:?}",
                    around(got),
                    around(&want)
                ));
            }
            for a in fx["on_attributes"].as_array().into_iter().flatten() {
                f.push(format!("{at}: {when}: handler attribute {a}"));
            }
            for (tag, _) in fx["tags"].as_object().into_iter().flatten() {
                if !ELEMENTS.contains(&tag.as_str()) {
                    f.push(format!("{at}: {when}: element <{tag}>"));
                }
            }
            for (key, _) in fx["attrs"].as_object().into_iter().flatten() {
                let (tag, attr) = key
                    .trim_end_matches(']')
                    .split_once('[')
                    .unwrap_or((key, ""));
                if !attr_allowed(tag, attr) {
                    f.push(format!("{at}: {when}: attribute {key}"));
                }
            }
            for u in fx["urls"].as_array().into_iter().flatten() {
                let (tag, attr, value) = (
                    u["tag"].as_str().unwrap_or(""),
                    u["attr"].as_str().unwrap_or(""),
                    u["value"].as_str().unwrap_or(""),
                );
                if !url_allowed(tag, attr, value) {
                    f.push(format!(
                        "{at}: {when}: {tag}[{attr}={}]",
                        value.chars().take(80).collect::<String>()
                    ));
                }
            }
            let scripts = fx["scripts"].as_array().map_or(0, Vec::len);
            if scripts != 1 {
                f.push(format!("{at}: {when}: {scripts} scripts"));
            }
            let head: Vec<String> = fx["head"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|h| {
                    let attrs: Vec<(String, String)> = h
                        .as_object()
                        .unwrap()
                        .iter()
                        .filter(|(k, _)| *k != "tag")
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                        .collect();
                    head_key(h["tag"].as_str().unwrap_or(""), &attrs)
                })
                .collect();
            if head != HEAD {
                f.push(format!("{at}: {when}: head is {head:?}"));
            }
        }
        if let Some(text) = run["final"]["text"].as_str()
            && let Some(e) = c.exports.iter().find(|e| e.name == name)
        {
            let missing = not_shown(text, &e.generated.placed, &c.payloads, HTML_SHOWN);
            if !missing.is_empty() {
                f.push(format!(
                    "{at}: {} placements not visible:\n  {}",
                    missing.len(),
                    summarize(missing, 20)
                ));
            }
        }
    }
    say(&format!(
        "xss browser test: {} runs in {:.1} s ({}); report: {}\n",
        runs.len(),
        t.elapsed().as_secs_f64(),
        result["browser_version"].as_str().unwrap_or("?"),
        report.display()
    ));
    let mut seen: Vec<(String, usize)> = Vec::new();
    for m in f {
        match seen.iter_mut().find(|(s, _)| *s == m) {
            Some((_, k)) => *k += 1,
            None => seen.push((m, 1)),
        }
    }
    let lines: Vec<String> = seen
        .into_iter()
        .map(|(m, k)| if k > 1 { format!("{m} (×{k})") } else { m })
        .collect();
    assert!(
        lines.is_empty(),
        "{} browser check(s) failed:\n- {}",
        lines.len(),
        summarize(lines, 80).replace("\n  ", "\n- ")
    );
}

/// The renderer splices the messages into the page at a marker: a
/// session that spells a marker (the old one, or the current one) in its
/// title and first prompt must not move them.
#[test]
fn a_session_spelling_the_messages_marker_does_not_move_the_messages() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("marker.jsonl");
    let spell = "\u{1}sharegen-messages\u{1} <!--sharegen:messages-->";
    let lines = [
        json!({"type": "custom-title", "customTitle": format!("Title {spell}")}),
        json!({"type": "user", "uuid": "u1", "timestamp": "2026-01-01T00:00:00Z", "sessionId": "marker",
            "message": {"role": "user", "content": format!("first prompt {spell} quokka")}}),
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&file, text).unwrap();
    let html = common::export_to(&file, "html");
    let doc = scraper::Html::parse_document(&html);
    let sel = |s: &str| scraper::Selector::parse(s).unwrap();
    let title: String = doc.select(&sel("title")).next().unwrap().text().collect();
    assert!(
        title.starts_with("Title ") && !title.contains("quokka"),
        "{title}"
    );
    let main: String = doc
        .select(&sel("main article.msg"))
        .flat_map(|a| a.text())
        .collect();
    assert!(
        main.contains("first prompt") && main.contains("quokka"),
        "{main}"
    );
    assert_eq!(doc.select(&sel("article.msg")).count(), 1);
}
