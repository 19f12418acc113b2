//! Unified diffs as HTML tables: the agent's own hunks when recorded,
//! otherwise computed with `similar`.

use super::markdown::escape_into;
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

/// A diff table: old and new line numbers, sign, text.
pub fn table(hunks: &[Hunk]) -> String {
    let mut out = String::from("<table class=\"diff\"><tbody>");
    for (i, h) in hunks.iter().enumerate() {
        if i > 0 || h.old_start > 1 {
            out.push_str(&format!(
                "<tr class=\"hunk\"><td colspan=\"4\">@@ -{},{} +{},{} @@</td></tr>",
                h.old_start, h.old_lines, h.new_start, h.new_lines
            ));
        }
        let mut old = h.old_start;
        let mut new = h.new_start;
        for l in &h.lines {
            let (sign, text) = l.split_at(l.chars().next().map_or(0, char::len_utf8));
            let (class, o, n) = match sign {
                "+" => {
                    new += 1;
                    ("add", String::new(), (new - 1).to_string())
                }
                "-" => {
                    old += 1;
                    ("del", (old - 1).to_string(), String::new())
                }
                _ => {
                    old += 1;
                    new += 1;
                    ("ctx", (old - 1).to_string(), (new - 1).to_string())
                }
            };
            out.push_str("<tr class=\"");
            out.push_str(class);
            out.push_str("\"><td class=\"ln\">");
            out.push_str(&o);
            out.push_str("</td><td class=\"ln\">");
            out.push_str(&n);
            out.push_str("</td><td class=\"sign\">");
            escape_into(&mut out, if sign == " " { "" } else { sign });
            out.push_str("</td><td class=\"dl\">");
            escape_into(&mut out, text);
            out.push_str("</td></tr>");
        }
    }
    out.push_str("</tbody></table>");
    out
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
        assert!(t.contains("<tr class=\"del\"><td class=\"ln\">2</td><td class=\"ln\"></td>"));
        assert!(t.contains("<tr class=\"add\"><td class=\"ln\"></td><td class=\"ln\">2</td>"));
    }

    #[test]
    fn patch_parsing() {
        let p = "--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n-old\n+new\n ctx\n";
        let h = parse_patch(p);
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].lines, vec!["-old", "+new", " ctx"]);
    }
}
