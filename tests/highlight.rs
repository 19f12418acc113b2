//! Behaviour of `sharegen::render::highlight`: real grammars, per-line
//! balanced spans, plain fallbacks, the cache, escaping, and the generated
//! CSS covering the classes the highlighter emits.

use std::collections::BTreeSet;
use std::sync::Arc;

use sharegen::render::highlight::{
    CLASS_PREFIX, MAX_HIGHLIGHT_BYTES, MAX_LINE_BYTES, highlight, highlight_block,
    highlight_uncached, syntax_for, syntax_set,
};

/// A piece of a line's text with the classes of every span around it.
#[derive(Debug)]
struct Segment {
    classes: BTreeSet<String>,
    text: String,
}

/// Parses one output line, asserting it is made only of escaped text and
/// our own balanced `<span class="hl-…">` tags.
fn segments(line: &str) -> Vec<Segment> {
    assert!(!line.contains('\n') && !line.contains('\r'), "{line:?}");
    let mut stack: Vec<Vec<String>> = Vec::new();
    let mut out = Vec::new();
    let mut rest = line;
    loop {
        let next = rest.find('<').unwrap_or(rest.len());
        if next > 0 {
            let text = &rest[..next];
            // Text nodes: markup characters escaped (quotes need not be).
            assert!(!text.contains('>'), "raw text in {line:?}");
            out.push(Segment {
                classes: stack.iter().flatten().cloned().collect(),
                text: unescape(text),
            });
        }
        rest = &rest[next..];
        if rest.is_empty() {
            break;
        }
        if let Some(r) = rest.strip_prefix("</span>") {
            assert!(stack.pop().is_some(), "unbalanced close in {line:?}");
            rest = r;
        } else {
            let r = rest
                .strip_prefix("<span class=\"")
                .unwrap_or_else(|| panic!("foreign tag in {line:?}"));
            let end = r.find("\">").expect("tag ends");
            let classes: Vec<String> = r[..end].split(' ').map(str::to_owned).collect();
            assert!(
                classes.iter().all(|c| c.starts_with(CLASS_PREFIX)),
                "{classes:?}"
            );
            stack.push(classes);
            rest = &r[end + 2..];
        }
    }
    assert!(stack.is_empty(), "unclosed spans in {line:?}");
    out
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The source text back from the output lines.
fn text_of(lines: &[String]) -> String {
    lines
        .iter()
        .map(|l| segments(l).into_iter().map(|s| s.text).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Classes around the first segment that contains `needle` in `line`.
fn classes_at(line: &str, needle: &str) -> BTreeSet<String> {
    segments(line)
        .into_iter()
        .find(|s| s.text.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in {line:?}"))
        .classes
}

const RUST: &str = r#"use std::collections::HashMap;

/* A block comment
   spanning lines */
fn main() {
    let greeting = "hello
world";
    let mut map: HashMap<&str, u32> = HashMap::new();
    map.insert("a", 1); // line comment
    println!("{greeting} {}", map.len());
}
"#;

const PYTHON: &str = r#"import os

class Greeter:
    def greet(self, name: str) -> str:
        text = """multi
line string"""
        return f"hello {name}" + text  # comment
"#;

const SHELL: &str = "#!/bin/sh\nfor f in *.rs; do\n  echo \"$f\" | grep -v test > out.txt\ndone\n";
const TOML: &str = "[package]\nname = \"sharegen\"\nversion = \"0.1.0\" # comment\n\n[dependencies]\nsyntect = { version = \"5.3\" }\n";
const TYPESCRIPT: &str = "interface User { name: string; age?: number }\nexport const f = (u: User): string => `hi ${u.name}\nagain`;\n";

fn all_classes(lines: &[String]) -> BTreeSet<String> {
    lines
        .iter()
        .flat_map(|l| segments(l))
        .flat_map(|s| s.classes)
        .collect()
}

#[test]
fn languages_get_spans() {
    for (hint, code, language) in [
        ("rs", RUST, "Rust"),
        ("python", PYTHON, "Python"),
        ("sh", SHELL, "Bourne Again Shell (bash)"),
        ("Cargo.toml", TOML, "TOML"),
        ("ts", TYPESCRIPT, "TypeScript"),
        ("src/app.tsx", TYPESCRIPT, "TypeScriptReact"),
    ] {
        let h = highlight(code, Some(hint));
        assert!(!h.plain, "{hint}");
        assert!(!h.too_large);
        assert_eq!(h.language.as_deref(), Some(language), "{hint}");
        assert_eq!(h.lines.len(), code.lines().count(), "{hint}");
        let classes = all_classes(&h.lines);
        assert!(
            classes.contains("hl-string") || classes.contains("hl-keyword"),
            "{hint}: {classes:?}"
        );
        // The text survives exactly.
        assert_eq!(text_of(&h.lines), code.trim_end_matches('\n'), "{hint}");
    }
}

#[test]
fn keywords_strings_comments() {
    let h = highlight(RUST, Some("rust"));
    let line = |n: usize| h.lines[n].as_str();
    assert!(classes_at(line(0), "use").contains("hl-keyword"));
    assert!(classes_at(line(4), "fn").contains("hl-storage"));
    assert!(classes_at(line(5), "hello").contains("hl-string"));
    assert!(classes_at(line(8), "line comment").contains("hl-comment"));

    let h = highlight(PYTHON, Some("py"));
    assert!(classes_at(&h.lines[0], "import").contains("hl-keyword"));
    assert!(classes_at(&h.lines[6], "comment").contains("hl-comment"));

    let h = highlight(TOML, Some("toml"));
    assert!(classes_at(&h.lines[1], "sharegen").contains("hl-string"));
    assert!(classes_at(&h.lines[2], "comment").contains("hl-comment"));
}

#[test]
fn spans_balanced_per_line_and_reopened_on_continuation() {
    let h = highlight(RUST, Some("rs"));
    for line in &h.lines {
        let opens = line.matches("<span").count();
        let closes = line.matches("</span>").count();
        assert_eq!(opens, closes, "{line:?}");
        segments(line);
    }
    // Block comment: line 3 opens it, line 4 continues it.
    assert!(classes_at(&h.lines[2], "A block comment").contains("hl-comment"));
    let cont = classes_at(&h.lines[3], "spanning lines");
    assert!(cont.contains("hl-comment"), "{cont:?}");
    assert!(h.lines[3].starts_with("<span"), "{:?}", h.lines[3]);
    // Multi-line string: "world" on the next line is still a string.
    assert!(classes_at(&h.lines[6], "world").contains("hl-string"));
    // …and the code after it is not.
    let after = classes_at(&h.lines[7], "HashMap");
    assert!(!after.contains("hl-string"), "{after:?}");

    // Python triple-quoted string and a TypeScript template literal.
    let h = highlight(PYTHON, Some("py"));
    assert!(classes_at(&h.lines[5], "line string").contains("hl-string"));
    let h = highlight(TYPESCRIPT, Some("ts"));
    assert!(classes_at(&h.lines[2], "again").contains("hl-string"));
}

#[test]
fn line_shapes() {
    assert!(highlight("", Some("rs")).lines.is_empty());
    assert!(highlight("", None).lines.is_empty());
    let no_nl = highlight("fn a() {}\nfn b() {}", Some("rs"));
    assert_eq!(no_nl.lines.len(), 2);
    let with_nl = highlight("fn a() {}\nfn b() {}\n", Some("rs"));
    assert_eq!(no_nl.lines, with_nl.lines);
    let crlf = highlight("fn a() {}\r\nfn b() {}\r\n", Some("rs"));
    assert_eq!(crlf.lines, with_nl.lines);
    assert!(crlf.lines.iter().all(|l| !l.contains('\r')));
    let blank = highlight("a\n\n\nb\n", Some("py"));
    assert_eq!(blank.lines.len(), 4);
    assert_eq!(blank.lines[1], "");
    assert_eq!(
        highlight_block("x = 1\ny = 2\n", Some("py")),
        highlight("x = 1\ny = 2\n", Some("py")).lines.join("\n")
    );
}

#[test]
fn unknown_hint_is_plain() {
    let code = "fn main() { let x = a < b && c > d; }\n'quoted' \"too\"";
    for hint in [Some("no-such-language"), Some("text"), None] {
        let h = highlight(code, hint);
        assert!(h.plain, "{hint:?}");
        assert!(!h.too_large);
        assert_eq!(h.language, None);
        assert_eq!(
            h.lines,
            [
                "fn main() { let x = a &lt; b &amp;&amp; c &gt; d; }",
                "'quoted' \"too\""
            ]
        );
    }
    assert!(syntax_for("no-such-language").is_none());
}

#[test]
fn first_line_detection() {
    let h = highlight("#!/usr/bin/env python3\nprint('hi')\n", None);
    assert_eq!(h.language.as_deref(), Some("Python"));
    assert!(!h.plain);
    // An unknown hint still lets the shebang speak…
    let h = highlight("#!/bin/bash\necho hi\n", Some("weird"));
    assert_eq!(h.language.as_deref(), Some("Bourne Again Shell (bash)"));
    // …an explicit "text" does not.
    assert!(highlight("#!/bin/bash\necho hi\n", Some("text")).plain);
}

#[test]
fn syntax_for_hints() {
    let name = |h: &str| syntax_for(h).map(|s| s.name.as_str());
    assert_eq!(name("src/main.rs"), Some("Rust"));
    assert_eq!(name("rs"), Some("Rust"));
    assert_eq!(name("rust"), Some("Rust"));
    assert_eq!(name("py"), Some("Python"));
    assert_eq!(name("sh"), Some("Bourne Again Shell (bash)"));
    assert_eq!(name("bash"), Some("Bourne Again Shell (bash)"));
    assert_eq!(name("shell"), Some("Bourne Again Shell (bash)"));
    assert_eq!(name("tsx"), Some("TypeScriptReact"));
    assert_eq!(name("ts"), Some("TypeScript"));
    assert_eq!(name("toml"), Some("TOML"));
    assert_eq!(name("Dockerfile"), Some("Dockerfile"));
    assert_eq!(name("/repo/docker/Dockerfile"), Some("Dockerfile"));
    assert_eq!(name("json"), Some("JSON"));
    assert_eq!(name("YAML"), Some("YAML"));
    assert_eq!(name("Makefile"), Some("Makefile"));
    assert_eq!(name("C:\\work\\x.PY"), Some("Python"));
    assert_eq!(
        name("#!/usr/bin/env bash"),
        Some("Bourne Again Shell (bash)")
    );
    assert_eq!(name("diff"), Some("Diff"));
    assert_eq!(name("txt"), None);
    assert_eq!(name(""), None);
}

#[test]
fn too_large_is_plain() {
    let line = "let x = \"<b>\";\n";
    let code = line.repeat(MAX_HIGHLIGHT_BYTES / line.len() + 1);
    assert!(code.len() > MAX_HIGHLIGHT_BYTES);
    let h = highlight(&code, Some("rs"));
    assert!(h.plain && h.too_large);
    assert_eq!(h.language.as_deref(), Some("Rust"));
    assert_eq!(h.lines.len(), code.lines().count());
    assert_eq!(h.lines[0], "let x = \"&lt;b&gt;\";");
    // Just under the limit is highlighted.
    let small = line.repeat(MAX_HIGHLIGHT_BYTES / line.len());
    let h = highlight_uncached(&small, Some("rs"));
    assert!(!h.plain && !h.too_large);
    // One huge line: plain, but not "too large".
    let long = format!("let x = \"{}\";", "a".repeat(MAX_LINE_BYTES + 1));
    let h = highlight(&long, Some("rs"));
    assert!(h.plain && !h.too_large);
}

#[test]
fn cache_returns_same_arc() {
    let code = "fn cached() -> u8 { 42 }\n";
    let a = highlight(code, Some("rs"));
    let b = highlight(code, Some("rs"));
    assert!(Arc::ptr_eq(&a, &b));
    let c = highlight(code, Some("rust"));
    assert!(!Arc::ptr_eq(&a, &c));
    assert_eq!(a.lines, c.lines);
    let d = highlight(code, None);
    assert!(!Arc::ptr_eq(&a, &d));
    assert!(d.plain);
    assert_eq!(*a, highlight_uncached(code, Some("rs")));
}

#[test]
fn threads_share_results() {
    let code = "def f(x):\n    return x * 2  # twice\n";
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(|| highlight(code, Some("py"))))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for r in &results {
        assert!(Arc::ptr_eq(r, &results[0]));
    }
}

const XSS: &str = "</script><img src=x onerror=alert(1)>";

fn assert_escaped(lines: &[String], what: &str) {
    for line in lines {
        // `segments` rejects any tag but our spans and any raw `>`/`"`.
        segments(line);
        assert!(
            !line.contains("<img") && !line.contains("</script"),
            "{what}: {line:?}"
        );
    }
    assert!(text_of(lines).contains(XSS), "{what}: text lost");
}

#[test]
fn escapes_script_in_every_language() {
    let snippets = [
        XSS.to_string(),
        format!("// {XSS}\n/* {XSS} */"),
        format!("# {XSS}\nx = \"{XSS}\""),
        format!("'{XSS}' \"{XSS}\" `{XSS}`"),
        format!("<div>{XSS}</div>\n<!-- {XSS} -->"),
    ];
    let ss = syntax_set();
    let mut tried = 0;
    for syntax in ss.syntaxes() {
        let hint = syntax
            .file_extensions
            .first()
            .cloned()
            .unwrap_or_else(|| syntax.name.clone());
        for code in &snippets {
            let h = highlight_uncached(code, Some(&hint));
            assert_escaped(&h.lines, &syntax.name);
        }
        tried += 1;
    }
    assert!(tried > 150, "only {tried} syntaxes");
    for hint in [None, Some("text"), Some("nope")] {
        let h = highlight(XSS, hint);
        assert!(h.plain);
        assert_eq!(
            h.lines,
            ["&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"]
        );
    }
    let big = format!("{XSS}\n").repeat(MAX_HIGHLIGHT_BYTES / XSS.len() + 1);
    let h = highlight(&big, Some("html"));
    assert!(h.too_large);
    assert_escaped(&h.lines[..3], "too large");
}

#[test]
fn odd_inputs_never_panic() {
    let inputs = [
        "\r",
        "\r\r\n\n\r",
        "\0\0\0",
        "\u{feff}fn x() {}",
        "\"unterminated",
        "/* unterminated",
        "r#\"raw",
        "é😀\u{200b}\u{202e}",
        "{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{",
        "\t\t\tx",
    ];
    for code in inputs {
        for hint in ["rs", "py", "sh", "html", "md", "json", "yaml", "c"] {
            let h = highlight_uncached(code, Some(hint));
            for line in &h.lines {
                segments(line);
            }
        }
    }
}

/// The CSS selectors for a class name (`.hl-comment`) in a generated file.
fn css(name: &str) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/themes/").to_string() + name;
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn css_covers_emitted_classes() {
    let light = css("highlight-light.css");
    let dark = css("highlight-dark.css");
    assert!(light.starts_with("/*") && dark.starts_with("/*"));
    assert!(!light.contains("style="));
    // Every rule is scoped.
    for (file, text, forced, default) in [
        (
            "light",
            &light,
            "[data-theme=\"light\"] ",
            ":root:not([data-theme=\"dark\"]) ",
        ),
        (
            "dark",
            &dark,
            "[data-theme=\"dark\"] ",
            ":root:not([data-theme=\"light\"]) ",
        ),
    ] {
        assert!(text.contains(&format!("{forced}.hl-code {{")), "{file}");
        for line in text.lines() {
            let l = line.trim();
            if l.starts_with(".hl-") || l.starts_with("hl-") {
                panic!("{file}: unscoped selector {line:?}");
            }
            if l.contains(".hl-") && !l.starts_with('*') {
                assert!(
                    l.starts_with(forced) || l.starts_with(default),
                    "{file}: {line:?}"
                );
            }
        }
    }
    // The OS's dark preference applies on screens; print is light.
    assert!(dark.contains("@media screen and (prefers-color-scheme: dark) {"));
    assert!(light.contains("@media print, not all and (prefers-color-scheme: dark) {"));

    // Classes the highlighter emits for real code have rules in both files.
    let mut emitted = BTreeSet::new();
    for (hint, code) in [
        ("rs", RUST),
        ("py", PYTHON),
        ("sh", SHELL),
        ("toml", TOML),
        ("ts", TYPESCRIPT),
    ] {
        emitted.extend(all_classes(&highlight(code, Some(hint)).lines));
    }
    for class in ["hl-comment", "hl-string", "hl-keyword", "hl-storage"] {
        assert!(emitted.contains(class), "{class} not emitted: {emitted:?}");
        for (file, text) in [("light", &light), ("dark", &dark)] {
            assert!(
                text.contains(&format!(" .{class} {{")) || text.contains(&format!(" .{class},")),
                "{file} has no rule for .{class}"
            );
        }
    }
    // Every emitted class is mentioned by at least one of the two files
    // (the highlighter only emits atoms the themes style).
    for class in &emitted {
        let sel = format!(".{class}");
        let mentioned = |t: &str| {
            t.match_indices(&sel).any(|(i, _)| {
                let after = t[i + sel.len()..].chars().next();
                matches!(after, Some(' ' | '.' | ',' | '{' | ':'))
            })
        };
        assert!(mentioned(&light) || mentioned(&dark), "no rule for {sel}");
    }
}
