//! Markdown to HTML for message text: GFM tables, task lists,
//! strikethrough, and autolinked URLs. Raw HTML in the text is shown as
//! text, never interpreted; links keep only safe schemes; images become
//! links (a page never loads anything).

use super::highlight;
use pulldown_cmark::{CodeBlockKind, CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};

/// The Markdown dialect of message text (GFM).
pub(crate) fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_GFM
}

/// Whether a link target may become an `href`.
pub fn safe_href(url: &str) -> bool {
    let u = url.trim_start();
    if u.starts_with('#') {
        return true;
    }
    let lower = u.get(..8).unwrap_or(u).to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with("mailto:")
}

/// Renders Markdown text to HTML.
pub fn to_html(text: &str) -> String {
    render(text, false)
}

/// Renders Markdown text to HTML, each line break kept as one (for what
/// people type: a prompt's lines are meant as lines).
pub fn to_html_keeping_lines(text: &str) -> String {
    render(text, true)
}

fn render(text: &str, keep_lines: bool) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    let mut events: Vec<Event> = Vec::new();
    let mut code: Option<(String, String)> = None; // (lang, body)
    let mut link_depth = 0usize;
    let mut skip_link_end: Vec<bool> = Vec::new();
    for ev in Parser::new_ext(text, options()) {
        if let Some((_, body)) = &mut code {
            match ev {
                Event::Text(t) => body.push_str(&t),
                Event::End(TagEnd::CodeBlock) => {
                    if let Some((lang, body)) = code.take() {
                        events.push(Event::Html(CowStr::from(code_block(&body, &lang))));
                    }
                }
                _ => {}
            }
            continue;
        }
        match ev {
            Event::Start(Tag::CodeBlock(kind)) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(l) => {
                        l.split([' ', ',', '{']).next().unwrap_or("").to_string()
                    }
                    CodeBlockKind::Indented => String::new(),
                };
                code = Some((lang, String::new()));
            }
            // Column alignment would be a `style` attribute, which the
            // page's CSP blocks (and reports): tables keep their default.
            Event::Start(Tag::Table(aligns)) => events.push(Event::Start(Tag::Table(
                aligns
                    .iter()
                    .map(|_| pulldown_cmark::Alignment::None)
                    .collect(),
            ))),
            // Raw HTML is shown as the text it is.
            Event::Html(h) | Event::InlineHtml(h) => events.push(Event::Text(h)),
            Event::Start(Tag::Image {
                dest_url, title, ..
            }) => {
                // Never an <img>: a link (or plain text for data: URLs).
                let ok = safe_href(&dest_url);
                skip_link_end.push(!ok);
                if ok {
                    events.push(Event::Start(Tag::Link {
                        link_type: LinkType::Inline,
                        dest_url,
                        title,
                        id: CowStr::from(""),
                    }));
                }
                link_depth += 1;
            }
            Event::End(TagEnd::Image) => {
                link_depth = link_depth.saturating_sub(1);
                if skip_link_end.pop() == Some(false) {
                    events.push(Event::End(TagEnd::Link));
                }
            }
            Event::Start(Tag::Link {
                dest_url,
                title,
                link_type,
                id,
            }) => {
                let ok = safe_href(&dest_url);
                skip_link_end.push(!ok);
                if ok {
                    events.push(Event::Start(Tag::Link {
                        link_type,
                        dest_url,
                        title,
                        id,
                    }));
                }
                link_depth += 1;
            }
            Event::End(TagEnd::Link) => {
                link_depth = link_depth.saturating_sub(1);
                if skip_link_end.pop() == Some(false) {
                    events.push(Event::End(TagEnd::Link));
                }
            }
            Event::Text(t) if link_depth == 0 => autolink(t, &mut events),
            Event::SoftBreak if keep_lines => events.push(Event::HardBreak),
            other => events.push(other),
        }
    }
    if let Some((lang, body)) = code.take() {
        events.push(Event::Html(CowStr::from(code_block(&body, &lang))));
    }
    pulldown_cmark::html::push_html(&mut out, events.into_iter());
    out
}

/// The words of Markdown `text` as it reads, on one line: its text and
/// code without the marks (`**a**` is "a"), blocks joined by spaces.
pub fn plain_text(text: &str) -> String {
    let mut out = String::new();
    for ev in Parser::new_ext(text, options()) {
        match ev {
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => {
                out.push_str(&t)
            }
            // Inline elements end inside a sentence; blocks end words.
            Event::End(
                TagEnd::Emphasis
                | TagEnd::Strong
                | TagEnd::Strikethrough
                | TagEnd::Link
                | TagEnd::Image,
            ) => {}
            Event::SoftBreak | Event::HardBreak | Event::End(_) => out.push(' '),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Splits text into plain text and links for bare URLs and emails.
fn autolink<'a>(t: CowStr<'a>, events: &mut Vec<Event<'a>>) {
    if !t.contains("://") && !t.contains('@') && !t.contains("www.") {
        events.push(Event::Text(t));
        return;
    }
    let finder = linkify::LinkFinder::new();
    let s = t.to_string();
    for span in finder.spans(&s) {
        let piece = span.as_str().to_string();
        let href = match span.kind() {
            Some(linkify::LinkKind::Url) if safe_href(&piece) => Some(piece.clone()),
            Some(linkify::LinkKind::Email) => Some(format!("mailto:{piece}")),
            _ => None,
        };
        match href {
            Some(h) => {
                events.push(Event::Start(Tag::Link {
                    link_type: LinkType::Autolink,
                    dest_url: CowStr::from(h),
                    title: CowStr::from(""),
                    id: CowStr::from(""),
                }));
                events.push(Event::Text(CowStr::from(piece)));
                events.push(Event::End(TagEnd::Link));
            }
            None => events.push(Event::Text(CowStr::from(piece))),
        }
    }
}

/// A highlighted code block with a copy button.
pub fn code_block(body: &str, lang: &str) -> String {
    let hint = (!lang.is_empty()).then_some(lang);
    let h = highlight::highlight(body.strip_suffix('\n').unwrap_or(body), hint);
    let mut out = String::with_capacity(body.len() + 128);
    out.push_str("<div class=\"code\"><button class=\"copy\" type=\"button\" aria-label=\"Copy\">Copy</button><pre><code");
    if let Some(r) = &h.root {
        out.push_str(" class=\"");
        out.push_str(r);
        out.push('"');
    }
    if !lang.is_empty() {
        out.push_str(" data-lang=\"");
        escape_into(&mut out, lang);
        out.push('"');
    }
    out.push('>');
    out.push_str(&h.joined());
    out.push_str("</code></pre></div>");
    out
}

/// Escapes text for an HTML text node (not for attribute values).
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    pulldown_cmark_escape::escape_html_body_text(&mut out, s)
        .expect("writing to a String cannot fail");
    out
}

/// Appends `s` to `out`, escaped for a text node.
pub fn escape_text_into(out: &mut String, s: &str) {
    pulldown_cmark_escape::escape_html_body_text(&mut *out, s)
        .expect("writing to a String cannot fail");
}

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    escape_into(&mut out, s);
    out
}

/// Appends `s` to `out`, escaped.
pub fn escape_into(out: &mut String, s: &str) {
    // pulldown-cmark's escaper is well tested; it escapes & < > " and '.
    pulldown_cmark_escape::escape_html(&mut *out, s).expect("writing to a String cannot fail");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_reads_as_text() {
        assert_eq!(
            plain_text(
                "**markdown** formatting, `inline code`, and a [link](https://x)\n\n- one\n- two"
            ),
            "markdown formatting, inline code, and a link one two"
        );
        assert_eq!(plain_text("a < b"), "a < b");
        assert_eq!(
            plain_text("see [docs](x). **foo**bar, *a*, b"),
            "see docs. foobar, a, b"
        );
    }

    #[test]
    fn typed_line_breaks_are_kept() {
        let text = "Refactor the parser.\nKeep the API stable.\n\n- a\n- b";
        let kept = to_html_keeping_lines(text);
        assert!(
            kept.contains("Refactor the parser.<br />\nKeep the API stable."),
            "{kept}"
        );
        assert!(kept.contains("<li>a</li>"), "{kept}");
        assert!(!to_html(text).contains("<br"), "{}", to_html(text));
    }

    #[test]
    fn raw_html_is_text() {
        let h = to_html("hello <script>alert(1)</script> <b>x</b>\n\n<div onclick=x>y</div>");
        assert!(!h.contains("<script>"), "{h}");
        assert!(!h.contains("<b>"), "{h}");
        assert!(!h.contains("<div onclick"), "{h}");
        assert!(h.contains("&lt;script&gt;"), "{h}");
    }

    #[test]
    fn gfm_features() {
        let h = to_html(
            "| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n- [ ] todo\n\n~~gone~~ see https://example.com/x.",
        );
        assert!(h.contains("<table>"), "{h}");
        assert!(h.contains("type=\"checkbox\""), "{h}");
        assert!(h.contains("<del>gone</del>"), "{h}");
        assert!(
            h.contains("<a href=\"https://example.com/x\">https://example.com/x</a>."),
            "{h}"
        );
    }

    #[test]
    fn unsafe_links_and_images() {
        let h = to_html(
            "[x](javascript:alert(1)) ![pic](https://e.com/a.png) ![d](data:image/png;base64,AAAA)",
        );
        assert!(!h.contains("javascript:"), "{h}");
        assert!(!h.contains("<img"), "{h}");
        assert!(h.contains("<a href=\"https://e.com/a.png\">pic</a>"), "{h}");
        assert!(!h.contains("data:image"), "{h}");
    }

    #[test]
    fn tables_carry_no_style_attribute() {
        // The page's CSP allows no inline style: alignment is dropped.
        let h = to_html("| a | b |\n|:--|--:|\n| 1 | 2 |");
        assert!(h.contains("<table>"), "{h}");
        assert!(!h.contains("style="), "{h}");
    }

    #[test]
    fn code_blocks_are_escaped() {
        let h = to_html("```html\n</code></pre><script>x</script>\n```");
        assert!(!h.contains("<script>"), "{h}");
        assert!(h.contains("class=\"code\""), "{h}");
    }
}
