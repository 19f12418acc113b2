//! Codex `apply_patch`: the patch envelope the model writes, and the
//! `changes` map of `patch_apply_begin`/`patch_apply_end` events, both as
//! per-file diffs.
//!
//! The envelope (`codex-rs/apply-patch`):
//!
//! ```text
//! *** Begin Patch
//! *** Add File: path        then "+line" lines
//! *** Delete File: path
//! *** Update File: path
//! *** Move to: new/path     (optional, right after Update File)
//! @@ optional context       then " ", "-", "+" lines; "*** End of File"
//! *** End Patch
//! ```
//!
//! Update hunks are located by their context lines, not by line numbers,
//! so their positions are recorded as unknown (0/0, see
//! [`crate::model::Hunk`]). The events carry real unified diffs, which
//! win when a session has both.

use crate::model::{FileDiff, Hunk};
use serde_json::Value;

const BEGIN: &str = "*** Begin Patch";

/// Whether `text` holds a patch envelope.
pub fn has_envelope(text: &str) -> bool {
    text.contains(BEGIN)
}

/// The files of the first patch envelope in `text` (which may be wrapped
/// in a heredoc or other shell text). Empty when there is none.
pub fn parse_envelope(text: &str) -> Vec<FileDiff> {
    let Some(start) = text.find(BEGIN) else {
        return Vec::new();
    };
    let mut files: Vec<FileDiff> = Vec::new();
    // Whether the current file takes hunk lines, and is an added file.
    let mut open = false;
    let mut adding = false;
    for line in text[start + BEGIN.len()..].lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim_end() == "*** End Patch" {
            break;
        }
        if let Some(p) = line.strip_prefix("*** Add File: ") {
            files.push(new_file(p, "added"));
            files.last_mut().expect("just pushed").hunks.push(Hunk {
                old_start: 0,
                old_lines: 0,
                new_start: 1,
                new_lines: 0,
                lines: Vec::new(),
            });
            (open, adding) = (true, true);
            continue;
        }
        if let Some(p) = line.strip_prefix("*** Delete File: ") {
            files.push(new_file(p, "deleted"));
            (open, adding) = (false, false);
            continue;
        }
        if let Some(p) = line.strip_prefix("*** Update File: ") {
            files.push(new_file(p, "modified"));
            (open, adding) = (true, false);
            continue;
        }
        let Some(f) = files.last_mut().filter(|_| open) else {
            continue;
        };
        if let Some(p) = line.strip_prefix("*** Move to: ") {
            f.path = p.trim().to_string();
            f.status = Some("moved".into());
            continue;
        }
        if line.starts_with("*** ") {
            // "*** End of File" and markers this reader does not know.
            continue;
        }
        if adding {
            if let Some(h) = f.hunks.last_mut()
                && line.starts_with('+')
            {
                h.lines.push(line.to_string());
                h.new_lines += 1;
            }
            continue;
        }
        if line.starts_with("@@") {
            f.hunks.push(unknown_hunk());
            continue;
        }
        let l = if line.is_empty() {
            " ".to_string()
        } else if line.starts_with([' ', '+', '-']) {
            line.to_string()
        } else {
            continue;
        };
        if f.hunks.is_empty() {
            // A hunk may start without an "@@" line.
            f.hunks.push(unknown_hunk());
        }
        let h = f.hunks.last_mut().expect("a hunk");
        match l.as_bytes()[0] {
            b'+' => h.new_lines += 1,
            b'-' => h.old_lines += 1,
            _ => {
                h.old_lines += 1;
                h.new_lines += 1;
            }
        }
        h.lines.push(l);
    }
    for f in &mut files {
        f.hunks.retain(|h| !h.lines.is_empty());
        count(f);
    }
    files
}

fn new_file(path: &str, status: &str) -> FileDiff {
    FileDiff {
        path: path.trim().to_string(),
        status: Some(status.to_string()),
        ..FileDiff::default()
    }
}

fn unknown_hunk() -> Hunk {
    Hunk {
        old_start: 0,
        old_lines: 0,
        new_start: 0,
        new_lines: 0,
        lines: Vec::new(),
    }
}

fn count(f: &mut FileDiff) {
    let (a, d) = f
        .hunks
        .iter()
        .flat_map(|h| &h.lines)
        .fold((0, 0), |(a, d), l| match l.as_bytes().first() {
            Some(b'+') => (a + 1, d),
            Some(b'-') => (a, d + 1),
            _ => (a, d),
        });
    f.additions = Some(a);
    f.deletions = Some(d);
}

/// The `changes` map of a patch event: `{path: {type: "add", content}}`,
/// `{type: "delete", content}` or `{type: "update", unified_diff,
/// move_path}`, in path order.
pub fn changes(v: &Value) -> Vec<FileDiff> {
    let Some(map) = v.as_object() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (path, c) in map {
        let kind = c.get("type").and_then(Value::as_str).unwrap_or("");
        let text = |k: &str| c.get(k).and_then(Value::as_str).map(str::to_string);
        let mut f = FileDiff {
            path: path.clone(),
            ..FileDiff::default()
        };
        match kind {
            "add" => {
                f.status = Some("added".into());
                f.after = text("content");
                f.patch = text("unified_diff");
            }
            "delete" => {
                f.status = Some("deleted".into());
                f.before = text("content");
                f.patch = text("unified_diff");
            }
            _ => {
                f.status = Some("modified".into());
                f.patch = text("unified_diff");
                if let Some(to) = text("move_path").filter(|p| !p.is_empty()) {
                    f.path = to;
                    f.status = Some("moved".into());
                }
            }
        }
        if let Some(p) = &f.patch {
            f.hunks = crate::render::diff::parse_patch(p);
            count(&mut f);
        }
        out.push(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_files_and_hunks() {
        let p = "apply_patch <<'EOF'\n*** Begin Patch\n*** Add File: a.txt\n+one\n+two\n*** Update File: src/b.rs\n*** Move to: src/c.rs\n@@ fn main\n ctx\n-old\n+new\n@@\n-gone\n*** End of File\n*** Delete File: d.md\n*** End Patch\nEOF\n";
        let f = parse_envelope(p);
        assert_eq!(f.len(), 3);
        assert_eq!(f[0].path, "a.txt");
        assert_eq!(f[0].status.as_deref(), Some("added"));
        assert_eq!(f[0].hunks[0].lines, vec!["+one", "+two"]);
        assert_eq!((f[0].hunks[0].new_start, f[0].hunks[0].new_lines), (1, 2));
        assert_eq!(f[1].path, "src/c.rs");
        assert_eq!(f[1].status.as_deref(), Some("moved"));
        assert_eq!(f[1].hunks.len(), 2);
        assert_eq!(f[1].hunks[0].lines, vec![" ctx", "-old", "+new"]);
        assert_eq!((f[1].hunks[0].old_start, f[1].hunks[0].new_start), (0, 0));
        assert_eq!((f[1].additions, f[1].deletions), (Some(1), Some(2)));
        assert_eq!(f[2].status.as_deref(), Some("deleted"));
        assert!(f[2].hunks.is_empty());
        assert!(parse_envelope("no patch here").is_empty());
    }

    #[test]
    fn event_changes_use_unified_diffs() {
        let v: Value = serde_json::from_str(
            r#"{"/r/a.txt":{"type":"update","unified_diff":"@@ -3,2 +3,2 @@\n-x\n+y\n z\n","move_path":null},
                "/r/n.txt":{"type":"add","content":"hi\n"}}"#,
        )
        .unwrap();
        let c = changes(&v);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].hunks[0].old_start, 3);
        assert_eq!(c[0].hunks[0].lines, vec!["-x", "+y", " z"]);
        assert_eq!(c[1].after.as_deref(), Some("hi\n"));
    }
}
