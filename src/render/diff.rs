//! Unified diffs as HTML tables: the agent's own hunks when recorded,
//! otherwise computed with `similar`.

use super::markdown::escape_text_into as escape_into;
use crate::model::{FileDiff, Hunk};
use similar::{ChangeTag, TextDiff};

/// Hunks for `before` → `after`, three lines of context.
pub fn compute_hunks(before: &str, after: &str) -> Vec<Hunk> {
    let diff = TextDiff::from_lines(before, after);
    let mut hunks = Vec::new();
    for group in diff.grouped_ops(3) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let old = first.old_range().start..last.old_range().end;
        let new = first.new_range().start..last.new_range().end;
        let mut lines = Vec::new();
        for op in &group {
            for change in diff.iter_changes(op) {
                let sign = match change.tag() {
                    ChangeTag::Equal => ' ',
                    ChangeTag::Delete => '-',
                    ChangeTag::Insert => '+',
                };
                let v = change.value();
                let v = v.strip_suffix('\n').unwrap_or(v);
                let v = v.strip_suffix('\r').unwrap_or(v);
                lines.push(format!("{sign}{v}"));
            }
        }
        hunks.push(Hunk {
            old_start: old.start as u64 + 1,
            old_lines: old.len() as u64,
            new_start: new.start as u64 + 1,
            new_lines: new.len() as u64,
            lines,
        });
    }
    hunks
}

/// Parses the hunks of a unified patch (`@@ -a,b +c,d @@` headers).
pub fn parse_patch(patch: &str) -> Vec<Hunk> {
    let mut hunks: Vec<Hunk> = Vec::new();
    for line in patch.lines() {
        if let Some(rest) = line.strip_prefix("@@ ") {
            let mut nums = rest.split_whitespace();
            let range = |s: Option<&str>, sign: char| -> (u64, u64) {
                let s = s.and_then(|s| s.strip_prefix(sign)).unwrap_or("0");
                let mut it = s.split(',');
                let a = it.next().and_then(|x| x.parse().ok()).unwrap_or(0);
                let b = it.next().and_then(|x| x.parse().ok()).unwrap_or(1);
                (a, b)
            };
            let (os, ol) = range(nums.next(), '-');
            let (ns, nl) = range(nums.next(), '+');
            hunks.push(Hunk {
                old_start: os,
                old_lines: ol,
                new_start: ns,
                new_lines: nl,
                lines: Vec::new(),
            });
            continue;
        }
        if let Some(h) = hunks.last_mut()
            && (line.starts_with(' ')
                || line.starts_with('+')
                || line.starts_with('-')
                || line.is_empty())
            && !line.starts_with("+++")
            && !line.starts_with("---")
        {
            h.lines.push(if line.is_empty() {
                " ".into()
            } else {
                line.to_string()
            });
        }
    }
    hunks
}

/// The hunks to show for a file diff.
pub fn hunks_for(d: &FileDiff) -> Vec<Hunk> {
    if !d.hunks.is_empty() {
        return d.hunks.clone();
    }
    if let Some(p) = &d.patch {
        let h = parse_patch(p);
        if !h.is_empty() {
            return h;
        }
    }
    match (&d.before, &d.after) {
        (Some(b), Some(a)) => compute_hunks(b, a),
        (None, Some(a)) => compute_hunks("", a),
        (Some(b), None) => compute_hunks(b, ""),
        (None, None) => Vec::new(),
    }
}

/// Counts added and removed lines.
pub fn stats(hunks: &[Hunk]) -> (u64, u64) {
    let mut add = 0;
    let mut del = 0;
    for l in hunks.iter().flat_map(|h| &h.lines) {
        match l.as_bytes().first() {
            Some(b'+') => add += 1,
            Some(b'-') => del += 1,
            _ => {}
        }
    }
    (add, del)
}

/// Appends one line of a diff, escaped. A carriage return left in it (the
/// hunks of a file with CRLF endings) is written as a reference: a raw one
/// is a line break to an HTML parser, a row the gutters do not have.
fn line_into(out: &mut String, text: &str) {
    let mut escaped = String::with_capacity(text.len());
    escape_into(&mut escaped, text);
    out.push_str(&no_raw_cr(&escaped));
}

/// HTML text with each carriage return written as `&#13;`: a raw one is a
/// line break to an HTML parser, a row that line numbers beside the text
/// would not have.
pub(super) fn no_raw_cr(html: &str) -> std::borrow::Cow<'_, str> {
    if html.contains('\r') {
        html.replace('\r', "&#13;").into()
    } else {
        html.into()
    }
}

/// A diff: gutters of old and new line numbers beside one `<pre>` whose
/// removed and added lines are `<del>` and `<ins>` (the +/- signs come from
/// CSS, so copied code is clean).
///
/// Each gutter opens with a newline that HTML parsers drop (the one right
/// after `<pre>`): a gutter's own first row may be empty (a hunk header, a
/// line only the other side has), and that newline must not be the one
/// dropped, or every number sits a row above its line.
pub fn table(hunks: &[Hunk]) -> String {
    let mut old_g = String::new();
    let mut new_g = String::new();
    let mut body = String::new();
    for (i, h) in hunks.iter().enumerate() {
        // Hunks located by context rather than line numbers (Codex patch
        // envelopes) show no numbers.
        let numbered = !(h.old_start == 0 && h.new_start == 0);
        if !numbered {
            if i > 0 {
                body.push_str("<span class=\"hunk\">@@</span>\n");
                old_g.push('\n');
                new_g.push('\n');
            }
        } else if i > 0 || h.old_start > 1 {
            body.push_str(&format!(
                "<span class=\"hunk\">@@ -{},{} +{},{} @@</span>\n",
                h.old_start, h.old_lines, h.new_start, h.new_lines
            ));
            old_g.push('\n');
            new_g.push('\n');
        }
        let num = |n: u64| {
            if numbered {
                n.to_string()
            } else {
                String::new()
            }
        };
        let mut old = h.old_start;
        let mut new = h.new_start;
        for l in &h.lines {
            let (sign, text) = l.split_at(l.chars().next().map_or(0, char::len_utf8));
            match sign {
                "+" => {
                    new_g.push_str(&num(new));
                    new += 1;
                    body.push_str("<ins>");
                    line_into(&mut body, text);
                    body.push_str("</ins>");
                }
                "-" => {
                    old_g.push_str(&num(old));
                    old += 1;
                    body.push_str("<del>");
                    line_into(&mut body, text);
                    body.push_str("</del>");
                }
                _ => {
                    old_g.push_str(&num(old));
                    new_g.push_str(&num(new));
                    old += 1;
                    new += 1;
                    body.push_str("<span class=\"ctx\">");
                    line_into(&mut body, text);
                    body.push_str("</span>");
                }
            }
            old_g.push('\n');
            new_g.push('\n');
            body.push('\n');
        }
    }
    format!(
        "<div class=\"diff\"><pre class=\"gutter\" aria-hidden=\"true\">\n{old_g}</pre><pre class=\"gutter\" aria-hidden=\"true\">\n{new_g}</pre><pre class=\"dl\"><code>{body}</code></pre></div>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computed_hunks_round_trip() {
        let h = compute_hunks("a\nb\nc\n", "a\nB\nc\n");
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].lines, vec![" a", "-b", "+B", " c"]);
        assert_eq!(stats(&h), (1, 1));
        let t = table(&h);
        assert!(
            t.contains("<pre class=\"gutter\" aria-hidden=\"true\">\n1\n2\n\n3\n</pre>"),
            "{t}"
        );
        assert!(
            t.contains("<pre class=\"gutter\" aria-hidden=\"true\">\n1\n\n2\n3\n</pre>"),
            "{t}"
        );
        assert!(
            t.contains("<span class=\"ctx\">a</span>\n<del>b</del>\n<ins>B</ins>\n"),
            "{t}"
        );
    }

    #[test]
    fn hunks_without_positions_have_no_line_numbers() {
        let h = vec![
            Hunk {
                old_start: 0,
                old_lines: 2,
                new_start: 0,
                new_lines: 2,
                lines: vec![" a".into(), "-b".into(), "+c".into()],
            },
            Hunk {
                old_start: 0,
                old_lines: 1,
                new_start: 0,
                new_lines: 0,
                lines: vec!["-d".into()],
            },
        ];
        let t = table(&h);
        assert!(
            t.contains("<pre class=\"gutter\" aria-hidden=\"true\">\n\n\n\n\n\n</pre>"),
            "{t}"
        );
        assert!(t.contains("<span class=\"hunk\">@@</span>"), "{t}");
        assert!(!t.contains("@@ -0"), "{t}");
    }

    #[test]
    fn carriage_returns_add_no_rows() {
        let h = vec![Hunk {
            old_start: 1,
            old_lines: 1,
            new_start: 1,
            new_lines: 1,
            lines: vec!["-a\r".into(), "+b\rc\r".into()],
        }];
        let t = table(&h);
        assert!(!t.contains('\r'), "{t:?}");
        assert!(
            t.contains("<del>a&#13;</del>\n<ins>b&#13;c&#13;</ins>\n"),
            "{t}"
        );
    }

    #[test]
    fn patch_parsing() {
        let p = "--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n-old\n+new\n ctx\n";
        let h = parse_patch(p);
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].lines, vec!["-old", "+new", " ctx"]);
    }
}
