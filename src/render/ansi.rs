//! ANSI escape sequences in tool output → escaped HTML with class-based
//! spans (no inline styles: the page's CSP forbids style attributes).
//!
//! The escape-sequence state machine is `anstyle-parse` (the VTE parser
//! behind clap/anstream); this module only maps SGR ("select graphic
//! rendition", `ESC [ … m`) to classes and decides what text to keep:
//!
//! - SGR: bold (`ansi-bold`), dim (`ansi-dim`), italic (`ansi-italic`),
//!   underline (`ansi-underline`), strike-through (`ansi-strike`), conceal
//!   (`ansi-conceal`), the 8 colours and their bright variants as foreground
//!   (`ansi-fg-red`, `ansi-fg-bright-red`, …) and background (`ansi-bg-…`),
//!   resets (`0`, `22`, `23`, `24`, `27`, `28`, `29`, `39`, `49`). 256-colour
//!   (`38;5;n`, `38:5:n`) and truecolor (`38;2;r;g;b`, `38:2::r:g:b`) colours
//!   map to the nearest of the 16 colours (xterm's default palette, weighted
//!   RGB distance). Reverse video swaps foreground and background; a side
//!   with the terminal's default colour becomes `ansi-fg-reverse` /
//!   `ansi-bg-reverse`. Blink, fonts, overline and underline colours are
//!   ignored.
//! - Every other control sequence (cursor movement, erase, modes), OSC
//!   strings (window titles, OSC 8 hyperlinks: the link text is kept, the
//!   URL dropped), DCS/APC/PM/SOS strings and C0/C1 control characters
//!   other than tab, newline, carriage return and backspace are dropped
//!   (the 8-bit CSI U+009B is dropped as a character, not read as an
//!   escape: text is UTF-8, where 7-bit `ESC [` is what programs send).
//!   The parser is reset at every newline, so a truncated or unterminated
//!   sequence swallows at most the rest of its own line.
//! - Carriage return, for `\r` progress output: a `\r` discards what came
//!   before it on the same line **only when more text follows it on that
//!   line**. So `10%\r50%\r100%\n` keeps `100%`, `\r\n` is a plain line end,
//!   and a trailing `\r` (at a line end or the end of the input) changes
//!   nothing. Styles set in discarded text still apply to what follows.
//! - Backspace removes the previous character of the line (so overstrike
//!   `_\bx` shows `x`).
//!
//! Output lines end in `\n` exactly where the input had a newline. Spans
//! never cross a line and never nest: each run of identically styled text
//! is one `<span class="…">…</span>` (unstyled text is bare), so the output
//! is always balanced. Colours for the classes: `themes/ansi.css`.

use anstyle_parse::{DefaultCharAccumulator, Params, Parser, Perform};

type VteParser = Parser<DefaultCharAccumulator>;

/// Converts text with ANSI escapes to escaped HTML with `ansi-*` classes
/// (see the module docs for what is kept and dropped).
pub fn ansi_to_html(s: &str) -> String {
    if !has_ansi(s) {
        let mut out = String::with_capacity(s.len() + s.len() / 8);
        escape_into(&mut out, s);
        return out;
    }
    convert(s, true)
}

/// The visible text of `s`: escapes dropped, `\r` and backspace applied as
/// in [`ansi_to_html`], no HTML escaping. For search and markdown.
pub fn strip_ansi(s: &str) -> String {
    if !has_ansi(s) {
        return s.replace("\r\n", "\n");
    }
    convert(s, false)
}

/// True when `s` holds anything [`ansi_to_html`] / [`strip_ansi`] interpret:
/// ESC, a C1 control character (U+0080–U+009F), or any other control
/// character except tab, newline and the `\r` of a `\r\n`. When false,
/// [`ansi_to_html`] is plain HTML escaping (with `\r\n` → `\n`).
pub fn has_ansi(s: &str) -> bool {
    let bytes = s.as_bytes();
    bytes.iter().enumerate().any(|(i, &b)| match b {
        b'\t' | b'\n' => false,
        b'\r' => bytes.get(i + 1) != Some(&b'\n'),
        0x00..=0x1f | 0x7f => true,
        // U+0080..=U+009F (C1 controls) are C2 80..=C2 9F in UTF-8.
        0xc2 => matches!(bytes.get(i + 1), Some(0x80..=0x9f)),
        _ => false,
    })
}

use super::highlight::escape_into;

fn convert(s: &str, html: bool) -> String {
    let mut term = Term {
        html,
        out: String::with_capacity(s.len() + s.len() / 4),
        ..Term::default()
    };
    let mut parser = VteParser::default();
    for &b in s.as_bytes() {
        if b == b'\n' {
            // A fresh parser per line: an unterminated sequence cannot eat
            // the following lines.
            parser = VteParser::default();
            term.newline();
        } else {
            parser.advance(&mut term, b);
        }
    }
    term.flush_line();
    term.out
}

/// One of the 16 colours: 0–7 normal, 8–15 bright.
type Color = u8;

const FG_CLASSES: [&str; 16] = [
    "ansi-fg-black",
    "ansi-fg-red",
    "ansi-fg-green",
    "ansi-fg-yellow",
    "ansi-fg-blue",
    "ansi-fg-magenta",
    "ansi-fg-cyan",
    "ansi-fg-white",
    "ansi-fg-bright-black",
    "ansi-fg-bright-red",
    "ansi-fg-bright-green",
    "ansi-fg-bright-yellow",
    "ansi-fg-bright-blue",
    "ansi-fg-bright-magenta",
    "ansi-fg-bright-cyan",
    "ansi-fg-bright-white",
];

const BG_CLASSES: [&str; 16] = [
    "ansi-bg-black",
    "ansi-bg-red",
    "ansi-bg-green",
    "ansi-bg-yellow",
    "ansi-bg-blue",
    "ansi-bg-magenta",
    "ansi-bg-cyan",
    "ansi-bg-white",
    "ansi-bg-bright-black",
    "ansi-bg-bright-red",
    "ansi-bg-bright-green",
    "ansi-bg-bright-yellow",
    "ansi-bg-bright-blue",
    "ansi-bg-bright-magenta",
    "ansi-bg-bright-cyan",
    "ansi-bg-bright-white",
];

/// xterm's default palette, the reference for nearest-colour mapping.
const PALETTE: [(u8, u8, u8); 16] = [
    (0, 0, 0),
    (205, 0, 0),
    (0, 205, 0),
    (205, 205, 0),
    (0, 0, 238),
    (205, 0, 205),
    (0, 205, 205),
    (229, 229, 229),
    (127, 127, 127),
    (255, 0, 0),
    (0, 255, 0),
    (255, 255, 0),
    (92, 92, 255),
    (255, 0, 255),
    (0, 255, 255),
    (255, 255, 255),
];

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Style {
    fg: Option<Color>,
    bg: Option<Color>,
    bold: bool,
    dim: bool,
    italic: bool,
    underline: bool,
    strike: bool,
    conceal: bool,
    reverse: bool,
}

impl Style {
    fn is_plain(&self) -> bool {
        *self == Style::default()
    }

    fn classes(&self, out: &mut String) {
        let (fg, bg) = if self.reverse {
            (self.bg, self.fg)
        } else {
            (self.fg, self.bg)
        };
        let fg = match fg {
            Some(c) => Some(FG_CLASSES[usize::from(c & 15)]),
            None => self.reverse.then_some("ansi-fg-reverse"),
        };
        let bg = match bg {
            Some(c) => Some(BG_CLASSES[usize::from(c & 15)]),
            None => self.reverse.then_some("ansi-bg-reverse"),
        };
        let flags = [
            (self.bold, "ansi-bold"),
            (self.dim, "ansi-dim"),
            (self.italic, "ansi-italic"),
            (self.underline, "ansi-underline"),
            (self.strike, "ansi-strike"),
            (self.conceal, "ansi-conceal"),
        ];
        let names = flags
            .iter()
            .filter(|(on, _)| *on)
            .map(|&(_, c)| c)
            .chain(fg)
            .chain(bg);
        for (i, name) in names.enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(name);
        }
    }
}

/// The 16-colour index nearest to an RGB colour (weighted "redmean" distance).
fn nearest(r: u8, g: u8, b: u8) -> Color {
    let mut best = (0u8, i64::MAX);
    for (i, &(pr, pg, pb)) in PALETTE.iter().enumerate() {
        let rmean = (i64::from(r) + i64::from(pr)) / 2;
        let dr = i64::from(r) - i64::from(pr);
        let dg = i64::from(g) - i64::from(pg);
        let db = i64::from(b) - i64::from(pb);
        let d = (((512 + rmean) * dr * dr) >> 8) + 4 * dg * dg + (((767 - rmean) * db * db) >> 8);
        if d < best.1 {
            best = (i as u8, d);
        }
    }
    best.0
}

/// A 256-colour palette index → the nearest of the 16.
fn from_256(n: u16) -> Option<Color> {
    const LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];
    match n {
        0..=15 => Some(n as u8),
        16..=231 => {
            let n = n - 16;
            let (r, g, b) = (n / 36, (n / 6) % 6, n % 6);
            Some(nearest(
                LEVELS[usize::from(r)],
                LEVELS[usize::from(g)],
                LEVELS[usize::from(b)],
            ))
        }
        232..=255 => {
            let v = (8 + (n - 232) * 10) as u8;
            Some(nearest(v, v, v))
        }
        _ => None,
    }
}

fn from_rgb(r: u16, g: u16, b: u16) -> Option<Color> {
    let c = |v: u16| u8::try_from(v).ok();
    Some(nearest(c(r)?, c(g)?, c(b)?))
}

/// The converter's screen model: the current line as styled runs.
#[derive(Default)]
struct Term {
    html: bool,
    out: String,
    style: Style,
    line: Vec<(Style, String)>,
    /// A `\r` was seen; the line is cleared if text follows on this line.
    pending_cr: bool,
}

impl Term {
    fn push_char(&mut self, c: char) {
        if self.pending_cr {
            self.line.clear();
            self.pending_cr = false;
        }
        match self.line.last_mut() {
            Some((style, text)) if *style == self.style => text.push(c),
            _ => self.line.push((self.style, c.to_string())),
        }
    }

    fn backspace(&mut self) {
        if self.pending_cr {
            return; // at column 0 already
        }
        if let Some((_, text)) = self.line.last_mut() {
            text.pop();
            if text.is_empty() {
                self.line.pop();
            }
        }
    }

    fn newline(&mut self) {
        self.flush_line();
        self.out.push('\n');
    }

    fn flush_line(&mut self) {
        self.pending_cr = false;
        for (style, text) in self.line.drain(..) {
            if text.is_empty() {
                continue;
            }
            if !self.html {
                self.out.push_str(&text);
            } else if style.is_plain() {
                escape_into(&mut self.out, &text);
            } else {
                self.out.push_str("<span class=\"");
                style.classes(&mut self.out);
                self.out.push_str("\">");
                escape_into(&mut self.out, &text);
                self.out.push_str("</span>");
            }
        }
    }

    fn sgr(&mut self, params: &Params) {
        let ps: Vec<&[u16]> = params.iter().collect();
        if ps.is_empty() {
            self.style = Style::default();
            return;
        }
        let st = &mut self.style;
        let mut i = 0;
        while i < ps.len() {
            let p = ps[i];
            let code = p.first().copied().unwrap_or(0);
            i += 1;
            match code {
                0 => *st = Style::default(),
                1 => st.bold = true,
                2 => st.dim = true,
                3 => st.italic = true,
                4 => st.underline = p.get(1).is_none_or(|&v| v != 0),
                7 => st.reverse = true,
                8 => st.conceal = true,
                9 => st.strike = true,
                21 => st.underline = true,
                22 => {
                    st.bold = false;
                    st.dim = false;
                }
                23 => st.italic = false,
                24 => st.underline = false,
                27 => st.reverse = false,
                28 => st.conceal = false,
                29 => st.strike = false,
                30..=37 => st.fg = Some((code - 30) as u8),
                39 => st.fg = None,
                40..=47 => st.bg = Some((code - 40) as u8),
                49 => st.bg = None,
                90..=97 => st.fg = Some((code - 90 + 8) as u8),
                100..=107 => st.bg = Some((code - 100 + 8) as u8),
                38 | 48 | 58 => {
                    let color = if p.len() > 1 {
                        // Colon form: 38:5:n, 38:2:r:g:b or 38:2:cs:r:g:b.
                        match p[1..] {
                            [5, n, ..] => from_256(n),
                            [2, _, r, g, b, ..] => from_rgb(r, g, b),
                            [2, r, g, b] => from_rgb(r, g, b),
                            _ => None,
                        }
                    } else {
                        // Semicolon form: 38;5;n or 38;2;r;g;b.
                        let arg = |k: usize| ps.get(i + k).and_then(|q| q.first()).copied();
                        match arg(0) {
                            Some(5) => {
                                let c = arg(1).and_then(from_256);
                                i += 2;
                                c
                            }
                            Some(2) => {
                                let c = match (arg(1), arg(2), arg(3)) {
                                    (Some(r), Some(g), Some(b)) => from_rgb(r, g, b),
                                    _ => None,
                                };
                                i += 4;
                                c
                            }
                            // Unknown colour kind: the rest is unreadable.
                            _ => return,
                        }
                    };
                    match (code, color) {
                        (38, Some(c)) => st.fg = Some(c),
                        (48, Some(c)) => st.bg = Some(c),
                        _ => {} // 58 (underline colour) or a bad colour
                    }
                }
                _ => {} // blink, fonts, overline, …: ignored
            }
        }
    }
}

impl Perform for Term {
    fn print(&mut self, c: char) {
        // The UTF-8 path can hand over C1 controls (U+0080..=U+009F).
        if !c.is_control() {
            self.push_char(c);
        }
    }

    fn execute(&mut self, byte: u8) {
        match byte {
            b'\t' => self.push_char('\t'),
            b'\r' => self.pending_cr = true,
            0x08 => self.backspace(),
            b'\n' => self.newline(), // not reached: newlines are handled in `convert`
            _ => {}
        }
    }

    fn csi_dispatch(&mut self, params: &Params, intermediates: &[u8], ignore: bool, action: u8) {
        if action == b'm' && intermediates.is_empty() && !ignore {
            self.sgr(params);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn plain_text_is_escaped() {
        assert_eq!(
            ansi_to_html("a < b & c > 'd' \"e\""),
            "a &lt; b &amp; c &gt; 'd' \"e\""
        );
        assert_eq!(ansi_to_html("x\r\ny\n"), "x\ny\n");
        assert!(!has_ansi("plain\ttext\r\nmore\n"));
    }

    #[test]
    fn colours() {
        assert_eq!(
            ansi_to_html("\x1b[31mred\x1b[0m plain \x1b[42mgreen bg\x1b[49m"),
            "<span class=\"ansi-fg-red\">red</span> plain <span class=\"ansi-bg-green\">green bg</span>"
        );
        assert_eq!(
            ansi_to_html("\x1b[91mx\x1b[39m\x1b[107my"),
            "<span class=\"ansi-fg-bright-red\">x</span><span class=\"ansi-bg-bright-white\">y</span>"
        );
    }

    #[test]
    fn bold_and_reset() {
        assert_eq!(
            ansi_to_html("\x1b[1;34mbold blue\x1b[m after"),
            "<span class=\"ansi-bold ansi-fg-blue\">bold blue</span> after"
        );
        assert_eq!(
            ansi_to_html("\x1b[1mA\x1b[22mB\x1b[3;4;9;2mC\x1b[23;24;29;22mD"),
            "<span class=\"ansi-bold\">A</span>B<span class=\"ansi-dim ansi-italic ansi-underline ansi-strike\">C</span>D"
        );
        // Empty parameters count as 0 (reset).
        assert_eq!(ansi_to_html("\x1b[1m\x1b[;mX"), "X");
        assert_eq!(strip_ansi("\x1b[1;31merror\x1b[0m: x"), "error: x");
    }

    #[test]
    fn colour_256() {
        let fg = |n: u16| ansi_to_html(&format!("\x1b[38;5;{n}mx"));
        assert_eq!(fg(1), "<span class=\"ansi-fg-red\">x</span>");
        assert_eq!(fg(9), "<span class=\"ansi-fg-bright-red\">x</span>");
        assert_eq!(fg(196), "<span class=\"ansi-fg-bright-red\">x</span>"); // 255,0,0
        assert_eq!(fg(46), "<span class=\"ansi-fg-bright-green\">x</span>"); // 0,255,0
        assert_eq!(fg(21), "<span class=\"ansi-fg-blue\">x</span>"); // 0,0,255
        assert_eq!(fg(226), "<span class=\"ansi-fg-bright-yellow\">x</span>"); // 255,255,0
        assert_eq!(fg(16), "<span class=\"ansi-fg-black\">x</span>");
        assert_eq!(fg(231), "<span class=\"ansi-fg-bright-white\">x</span>");
        assert_eq!(fg(232), "<span class=\"ansi-fg-black\">x</span>"); // gray 8
        assert_eq!(fg(244), "<span class=\"ansi-fg-bright-black\">x</span>"); // gray 128
        assert_eq!(fg(252), "<span class=\"ansi-fg-white\">x</span>"); // gray 208
        assert_eq!(fg(300), "x"); // out of range: ignored
        // Colon form, and background.
        assert_eq!(
            ansi_to_html("\x1b[48:5:2mx"),
            "<span class=\"ansi-bg-green\">x</span>"
        );
    }

    #[test]
    fn truecolor() {
        let fg = |r: u16, g: u16, b: u16| ansi_to_html(&format!("\x1b[38;2;{r};{g};{b}mx"));
        assert_eq!(fg(255, 0, 0), "<span class=\"ansi-fg-bright-red\">x</span>");
        assert_eq!(fg(128, 0, 0), "<span class=\"ansi-fg-red\">x</span>");
        assert_eq!(fg(0, 128, 0), "<span class=\"ansi-fg-green\">x</span>");
        assert_eq!(fg(10, 10, 10), "<span class=\"ansi-fg-black\">x</span>");
        assert_eq!(
            fg(250, 250, 250),
            "<span class=\"ansi-fg-bright-white\">x</span>"
        );
        assert_eq!(fg(0, 200, 200), "<span class=\"ansi-fg-cyan\">x</span>");
        assert_eq!(fg(999, 0, 0), "x");
        // Colon forms, with and without the colour-space id; then more SGR.
        assert_eq!(
            ansi_to_html("\x1b[38:2::255:0:255;1mx"),
            "<span class=\"ansi-bold ansi-fg-bright-magenta\">x</span>"
        );
        assert_eq!(
            ansi_to_html("\x1b[48:2:0:0:238mx"),
            "<span class=\"ansi-bg-blue\">x</span>"
        );
        // Semicolon form followed by more parameters.
        assert_eq!(
            ansi_to_html("\x1b[48;2;0;0;0;4mx"),
            "<span class=\"ansi-underline ansi-bg-black\">x</span>"
        );
    }

    #[test]
    fn reverse_video() {
        assert_eq!(
            ansi_to_html("\x1b[7mx\x1b[27m"),
            "<span class=\"ansi-fg-reverse ansi-bg-reverse\">x</span>"
        );
        assert_eq!(
            ansi_to_html("\x1b[31;7mx"),
            "<span class=\"ansi-fg-reverse ansi-bg-red\">x</span>"
        );
    }

    #[test]
    fn osc8_hyperlink_keeps_text() {
        let s = "see \x1b]8;;https://example.com/?a=<b>\x1b\\the docs\x1b]8;;\x1b\\ now";
        assert_eq!(ansi_to_html(s), "see the docs now");
        let bel = "\x1b]8;;https://x.test\x07link\x1b]8;;\x07";
        assert_eq!(strip_ansi(bel), "link");
        // Window title (OSC 0) dropped.
        assert_eq!(strip_ansi("\x1b]0;my title\x07ok"), "ok");
    }

    #[test]
    fn non_sgr_dropped() {
        assert_eq!(
            strip_ansi("\x1b[2J\x1b[H\x1b[1Aup\x1b[K\x1b[?25lx\x1b[?25h"),
            "upx"
        );
        assert_eq!(strip_ansi("\x1b(Bx\x1b=\x1b>"), "x");
        assert_eq!(strip_ansi("a\x07b\x00c\u{9b}d"), "abcd");
        // A private-marker `m` is not SGR.
        assert_eq!(ansi_to_html("\x1b[>4;2mx"), "x");
    }

    #[test]
    fn carriage_return_progress() {
        assert_eq!(strip_ansi("10%\r50%\r100%\ndone\n"), "100%\ndone\n");
        assert_eq!(strip_ansi("a\r\nb\r\n"), "a\nb\n");
        assert_eq!(strip_ansi("keep\r"), "keep");
        assert_eq!(strip_ansi("keep\r\x1b[K\n"), "keep\n");
        assert_eq!(
            ansi_to_html("\x1b[32m10%\r\x1b[1m100%\x1b[0m\n"),
            "<span class=\"ansi-bold ansi-fg-green\">100%</span>\n"
        );
        assert_eq!(strip_ansi("ab\x08c"), "ac");
        assert_eq!(strip_ansi("\x08\x08x"), "x");
    }

    #[test]
    fn escaping_inside_spans() {
        assert_eq!(
            ansi_to_html("\x1b[31m</script><img src=x onerror=alert(1)>\x1b[0m"),
            "<span class=\"ansi-fg-red\">&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;</span>"
        );
    }

    #[test]
    fn truncated_sequences() {
        for s in [
            "\x1b",
            "\x1b[",
            "\x1b[38;5",
            "\x1b[38;2;1;2m",
            "\x1b[38;5mx",
            "x\x1b]8;;http://a",
            "\x1bP1;2",
            "\x1b[999999999999m",
        ] {
            let _ = ansi_to_html(s);
            let _ = strip_ansi(s);
        }
        // An unterminated OSC only eats its own line.
        assert_eq!(strip_ansi("a\x1b]0;title\nnext line\n"), "a\nnext line\n");
        // A truncated CSI at a line end does not eat the next line.
        assert_eq!(strip_ansi("a\x1b[31\nb"), "a\nb");
    }

    #[test]
    fn css_has_every_class() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/themes/ansi.css");
        let css = std::fs::read_to_string(path).expect("themes/ansi.css");
        let flags = [
            "ansi-bold",
            "ansi-dim",
            "ansi-italic",
            "ansi-underline",
            "ansi-strike",
            "ansi-conceal",
            "ansi-fg-reverse",
            "ansi-bg-reverse",
        ];
        for class in FG_CLASSES.iter().chain(&BG_CLASSES).chain(&flags) {
            assert!(
                css.contains(&format!(".{class} {{")),
                "no rule for .{class}"
            );
        }
        for scope in [
            "[data-theme=\"light\"] {",
            "[data-theme=\"dark\"] {",
            "@media screen and (prefers-color-scheme: dark) {",
            "@media print, not all and (prefers-color-scheme: dark) {",
            ":root:not([data-theme=\"light\"]) {",
        ] {
            assert!(css.contains(scope), "{scope}");
        }
        assert!(!css.contains("style="));
    }

    /// Removes our own tags; what is left must be free of markup.
    fn untag(html: &str) -> String {
        let mut s = String::new();
        let mut rest = html;
        while let Some(i) = rest.find('<') {
            s.push_str(&rest[..i]);
            rest = &rest[i..];
            if let Some(r) = rest.strip_prefix("</span>") {
                rest = r;
            } else {
                let r = rest.strip_prefix("<span class=\"").expect("only our spans");
                let end = r.find("\">").expect("closed tag");
                assert!(
                    r[..end].split(' ').all(|c| c.starts_with("ansi-")
                        && c.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')),
                    "odd class in {html:?}"
                );
                rest = &r[end + 2..];
            }
        }
        s.push_str(rest);
        s
    }

    fn unescape(s: &str) -> String {
        s.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&")
    }

    fn check(s: &str) {
        let html = ansi_to_html(s);
        assert!(!html.contains("style"), "{html:?}");
        let opens = html.matches("<span").count();
        assert_eq!(opens, html.matches("</span>").count());
        for line in html.split('\n') {
            // Balanced and non-nested within each line.
            let mut depth = 0i32;
            for (i, _) in line.match_indices('<') {
                if line[i..].starts_with("</span>") {
                    depth -= 1;
                } else {
                    depth += 1;
                }
                assert!((0..=1).contains(&depth), "{line:?}");
            }
            assert_eq!(depth, 0, "{line:?}");
        }
        let text = untag(&html);
        // Text nodes: quotes need no escaping; markup characters do.
        assert!(!text.contains(['<', '>']), "{text:?}");
        assert_eq!(unescape(&text), strip_ansi(s));
        assert_eq!(html.matches('\n').count(), s.matches('\n').count());
        let _ = has_ansi(s);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_strings_never_panic(s in any::<String>()) {
            check(&s);
        }

        #[test]
        fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..256)) {
            check(&String::from_utf8_lossy(&b));
        }

        #[test]
        fn escape_heavy_strings(s in "(\x1b|\\[|\\]|;|:|[0-9]{1,3}|m|\x07|\\\\|\r|\n|\x08|<|&|a|é|\u{9b})*") {
            check(&s);
        }
    }
}
