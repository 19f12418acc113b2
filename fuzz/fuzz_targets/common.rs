//! Checks shared by the fuzz targets: besides not panicking, what a
//! parsed session and rendered output must satisfy.
#![allow(dead_code)]

use pulldown_cmark::{Event, LinkType, Options, Parser, Tag};
use sharegen::model::Session;
use sharegen::render::markdown::safe_href;

/// Elements the page renderer writes for message bodies.
const BODY_TAGS: &[&str] = &[
    "a",
    "article",
    "blockquote",
    "br",
    "button",
    "code",
    "del",
    "details",
    "div",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "img",
    "input",
    "ins",
    "li",
    "ol",
    "p",
    "pre",
    "section",
    "span",
    "strong",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "time",
    "tr",
    "ul",
];

/// Every tag in `html` is one the renderer writes (text never holds a raw
/// `<`), every `href` is safe and every `src` an embedded raster image.
pub fn check_body_html(html: &str) {
    check_html(html, BODY_TAGS);
}

/// Like [`check_body_html`], for a whole page (one script, one style).
pub fn check_page_html(html: &str) {
    const PAGE: &[&str] = &[
        "html", "head", "meta", "title", "style", "body", "script", "footer", "nav", "main", "dl",
        "dt", "dd", "label", "!doctype",
    ];
    let all: Vec<&str> = BODY_TAGS.iter().chain(PAGE).copied().collect();
    assert_eq!(html.matches("<script").count(), 1, "scripts");
    assert_eq!(html.matches("<style").count(), 1, "styles");
    // The page's own stylesheet and script hold `<` and `>`: leave them out.
    let mut markup = String::with_capacity(html.len());
    let mut rest = html;
    for (open, close) in [("<style>", "</style>"), ("<script>", "</script>")] {
        let a = rest.find(open).expect("the page has it") + open.len();
        let b = a + rest[a..].find(close).expect("and closes it");
        markup.push_str(&rest[..a]);
        rest = &rest[b..];
    }
    markup.push_str(rest);
    check_html(&markup, &all);
}

fn check_html(html: &str, allowed: &[&str]) {
    let mut i = 0;
    while let Some(off) = html[i..].find('<') {
        let at = i + off;
        let rest = &html[at + 1..];
        let closing = rest.starts_with('/');
        let rest = rest.strip_prefix('/').unwrap_or(rest);
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '!')
            .collect::<String>()
            .to_ascii_lowercase();
        assert!(
            allowed.contains(&name.as_str()),
            "unexpected <{name} at {at}: {:?}",
            &html[at..html.len().min(at + 80)]
        );
        let mut j = at + 1 + usize::from(closing) + name.len();
        if name != "!doctype" {
            j = check_attributes(html, j, &name);
        }
        i = j.max(at + 1);
    }
}

/// Reads the attributes of a tag from `j` to its `>` (the renderer quotes
/// every value with `"`); checks them and returns where the tag ends.
fn check_attributes(html: &str, mut j: usize, tag: &str) -> usize {
    let b = html.as_bytes();
    loop {
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        if j >= b.len() || b[j] == b'>' {
            return j + 1;
        }
        if b[j] == b'/' {
            j += 1;
            continue;
        }
        let start = j;
        while j < b.len() && !b[j].is_ascii_whitespace() && !b"=>/\"'".contains(&b[j]) {
            j += 1;
        }
        let name = html[start..j].to_ascii_lowercase();
        assert!(
            !name.is_empty(),
            "malformed <{tag}> at {start}: {:?}",
            &html[start..html.len().min(start + 40)]
        );
        assert!(
            !name.starts_with("on"),
            "handler attribute {name} on <{tag}>"
        );
        let mut value = None;
        if j < b.len() && b[j] == b'=' {
            assert_eq!(b.get(j + 1), Some(&b'"'), "unquoted {name} on <{tag}>");
            let vs = j + 2;
            let ve = vs + html[vs..].find('"').expect("closed attribute value");
            value = Some(&html[vs..ve]);
            j = ve + 1;
        }
        match (name.as_str(), value) {
            ("href", Some(v)) => assert!(safe_href(&unescape(v)), "unsafe href={v:?}"),
            ("src", Some(v)) => assert!(v.starts_with("data:image/"), "unsafe src={v:?}"),
            ("style", _) => panic!("style attribute on <{tag}>"),
            _ => {}
        }
    }
}

fn unescape(v: &str) -> String {
    v.replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

fn md_options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_GFM
}

/// Markdown holds no HTML but the export's own `<details>`, `<summary>`
/// and `<code>`, and no link but safe ones.
pub fn check_markdown(md: &str) {
    for ev in Parser::new_ext(md, md_options()) {
        match ev {
            Event::Html(h) | Event::InlineHtml(h) => {
                let mut rest = h.to_string();
                for own in [
                    "<details>",
                    "</details>",
                    "<summary>",
                    "</summary>",
                    "<code>",
                    "</code>",
                ] {
                    rest = rest.replace(own, "");
                }
                assert!(!rest.contains('<'), "raw HTML in markdown: {h:?}");
            }
            Event::Start(Tag::Link {
                dest_url,
                link_type,
                ..
            }) => {
                assert!(
                    link_type == LinkType::Email || safe_href(&dest_url),
                    "unsafe link {dest_url:?}"
                );
            }
            Event::Start(Tag::Image { dest_url, .. }) => {
                panic!("image in markdown: {dest_url:?}");
            }
            _ => {}
        }
    }
}

/// A parsed session: its JSON export reads back to the same JSON, and its
/// Markdown transcript passes [`check_markdown`].
pub fn check_session(s: &Session) {
    let json = serde_json::to_string(s).expect("a session serializes");
    let back: Session = serde_json::from_str(&json).expect("the JSON export reads back");
    let again = serde_json::to_string(&back).unwrap();
    assert_eq!(json, again, "the JSON export does not round-trip");
    check_markdown(&sharegen::render::md::render(s));
}

// --- the targets' bodies (also replayed by tests/fuzz_regressions.rs) ------

/// `claude_jsonl`: a Claude Code transcript → the model → JSON, Markdown.
pub fn claude_jsonl(data: &[u8]) {
    let diag = sharegen::diag::Diag::silent();
    if let Ok(session) = sharegen::sources::claude_code::parse_bytes(data, &diag) {
        check_session(&session);
    }
}

/// `opencode_store`: JSON store records (0x1E-separated) → the model.
pub fn opencode_store(data: &[u8]) {
    let diag = sharegen::diag::Diag::silent();
    let session = sharegen::sources::opencode::fuzz::store_records(data, &diag);
    check_session(&session);
}

/// `opencode_export`: an `opencode export` file → the model.
pub fn opencode_export(data: &[u8]) {
    let diag = sharegen::diag::Diag::silent();
    if let Some(session) = sharegen::sources::opencode::fuzz::export_bytes(data, &diag) {
        check_session(&session);
    }
}

/// `jsonl_reader`: the loose JSONL reader (lines, invalid UTF-8, lone
/// surrogates, a last line still being written).
pub fn jsonl_reader(data: &[u8]) {
    use sharegen::sources::jsonl;
    let diag = sharegen::diag::Diag::silent();
    let path = std::path::Path::new("(fuzz).jsonl");
    let mut lines = 0u64;
    let consumed = jsonl::read_lines_from(path, data, &diag, &mut |n, text, complete| {
        assert!(n > lines, "line numbers go up");
        lines = n;
        assert!(!text.is_empty());
        let _ = jsonl::parse_line::<serde_json::Value>(path, n, text, complete, &diag);
        // Replacing lone surrogates is idempotent and keeps valid JSON valid.
        let once = jsonl::replace_lone_surrogates(text);
        assert_eq!(jsonl::replace_lone_surrogates(&once), once);
        if serde_json::from_str::<serde_json::Value>(text).is_ok() {
            assert!(serde_json::from_str::<serde_json::Value>(&once).is_ok());
        }
    })
    .expect("reading from memory cannot fail");
    assert!(consumed as usize <= data.len());
}

/// `markdown_highlight`: message Markdown → page HTML, code fences
/// highlighted (the language hint comes from the input).
pub fn markdown_highlight(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    check_body_html(&sharegen::render::markdown::to_html(&text));
}

/// `markdown_export`: message text → the Markdown export's text.
pub fn markdown_export(data: &[u8]) {
    use sharegen::render::md;
    let text = String::from_utf8_lossy(data);
    let out = md::neutralize(&text);
    check_markdown(&out);
    assert_eq!(md::neutralize(&out), out, "neutralize is not idempotent");
    // Followed by the transcript's own markup, the text still holds.
    check_markdown(&format!("{out}\n\n</details>\n\n"));
    for short in [md::inline(&text), md::code_span(&text)] {
        assert!(!short.contains('\n'));
        check_markdown(&short);
    }
}

/// `render_page`: a Claude Code transcript → the whole HTML page.
pub fn render_page(data: &[u8]) {
    use sharegen::render::html::{PageOptions, render_page};
    use sharegen::render::templates::Templates;
    static T: std::sync::OnceLock<Templates> = std::sync::OnceLock::new();
    let templates = T.get_or_init(|| Templates::new(None).expect("built-in templates"));
    let diag = sharegen::diag::Diag::silent();
    if let Ok(session) = sharegen::sources::claude_code::parse_bytes(data, &diag) {
        let html = render_page(&session, &PageOptions::default(), templates).expect("renders");
        check_page_html(&html);
    }
}

/// A target's body.
pub type Target = fn(&[u8]);

/// Every target by name.
pub const TARGETS: &[(&str, Target)] = &[
    ("claude_jsonl", claude_jsonl),
    ("opencode_store", opencode_store),
    ("opencode_export", opencode_export),
    ("jsonl_reader", jsonl_reader),
    ("markdown_highlight", markdown_highlight),
    ("markdown_export", markdown_export),
    ("render_page", render_page),
    ("agent_file", agent_file),
];

/// `agent_file`: a Codex rollout, a Gemini CLI chat (`.json` or `.jsonl`)
/// or an Antigravity transcript, chosen by the first byte, written where
/// the agent keeps it and opened as a path (recognition, listing, loading
/// with subagents), then checked like every other reader's output.
pub fn agent_file(data: &[u8]) {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    let rel = match which % 4 {
        0 => {
            ".codex/sessions/2026/01/01/rollout-2026-01-01T00-00-00-0199aa00-0000-7000-8000-000000000001.jsonl"
        }
        1 => ".gemini/tmp/project/chats/session-2026-01-01T00-00-0199aa00.json",
        2 => ".gemini/tmp/project/chats/session-2026-01-01T00-00-0199aa00.jsonl",
        _ => {
            ".gemini/antigravity-cli/brain/7d3f0c52-5a1e-4b7e-9c11-2f9e8a6b4d10/.system_generated/logs/transcript_full.jsonl"
        }
    };
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let path = tmp.path().join(rel);
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("folders");
    std::fs::write(&path, body).expect("the file");
    let diag = sharegen::diag::Diag::silent();
    if let Ok(Some((source, found))) = sharegen::sources::refs_for_path(&path, &diag) {
        for s in found {
            let r = sharegen::sources::SessionRef {
                agent: s.agent,
                id: s.id.clone(),
                path: s.path.clone(),
            };
            if let Ok(session) = source.load(&r, &diag) {
                check_session(&session);
            }
        }
    }
}
