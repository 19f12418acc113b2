//! Builds the syntax-highlighting assets ahead of time (the way sharkdp/bat
//! does): run with
//!
//! ```text
//! cargo run --release --example build-assets
//! ```
//!
//! and commit what it writes:
//!
//! - `assets/syntaxes.bin`: two-face's extended syntax set (bat's syntaxes:
//!   TOML, TypeScript, Dockerfile, …, built for newline-terminated lines and
//!   the oniguruma regex engine), dumped **uncompressed** with
//!   `syntect::dumps::dump_to_uncompressed_file` so that the runtime
//!   (`src/render/highlight.rs`) can `include_bytes!` it and deserialize it
//!   lazily without inflating it first (about 1 ms). syntect 5 keeps each
//!   syntax's contexts inside it as a separately compressed blob that is
//!   only inflated when that syntax is first used, so the dump stays ~1 MB.
//! - `assets/syntaxes.txt`: the syntax names and their file extensions, for
//!   people (which fence tokens / extensions are known).
//! - `assets/highlight-classes.txt`: the two themes' CSS rules as scope
//!   selectors; the highlighter emits only classes that a rule which can
//!   match in the document uses, which keeps the markup small.
//! - `themes/highlight-light.css`, `themes/highlight-dark.css`: class-based
//!   CSS (`hl-` prefix, `ClassStyle::SpacedPrefixed`) for a light and a dark
//!   theme, scoped under `[data-theme]` and `prefers-color-scheme` (see
//!   [`scoped_css`]).
//!
//! two-face is a dev-dependency, so only this generator carries it; the
//! runtime binary carries the dump.
//!
//! Options: `--out DIR` writes into DIR instead of the crate root (the
//! `assets/` and `themes/` sub-folders are created); `--check` rebuilds into
//! a temporary folder and fails when anything committed differs (the output
//! is deterministic: the dump is byte-identical to two-face's own
//! uncompressed onig/newlines dump).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use syntect::highlighting::Theme;
use syntect::html::{ClassStyle, css_for_theme_with_class_style};
use syntect::parsing::SyntaxSet;
use two_face::theme::EmbeddedThemeName;

/// Must match `sharegen::render::highlight::CLASS_PREFIX`.
const CLASS_PREFIX: &str = "hl-";
const LIGHT_THEME: EmbeddedThemeName = EmbeddedThemeName::InspiredGithub;
const DARK_THEME: EmbeddedThemeName = EmbeddedThemeName::MonokaiExtended;

/// Selector prefixes; keep in sync with themes/ansi.css.
const LIGHT_SELECTOR: &str = r#"[data-theme="light"]"#;
const DARK_SELECTOR: &str = r#"[data-theme="dark"]"#;
const LIGHT_DEFAULT_SELECTOR: &str = r#":root:not([data-theme="dark"])"#;
const DARK_DEFAULT_SELECTOR: &str = r#":root:not([data-theme="light"])"#;
/// Print is light whatever the screen: dark text on white paper.
const LIGHT_MEDIA: &str = "@media print, not all and (prefers-color-scheme: dark)";
const DARK_MEDIA: &str = "@media screen and (prefers-color-scheme: dark)";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("build-assets: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut out = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut check = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => out = PathBuf::from(args.next().ok_or("--out needs a folder")?),
            "--check" => check = true,
            "-h" | "--help" => {
                println!("usage: build-assets [--out DIR] [--check]");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if check {
        let tmp =
            std::env::temp_dir().join(format!("sharegen-build-assets-{}", std::process::id()));
        let result = build(&tmp).and_then(|()| compare(&tmp, &out));
        let _ = fs::remove_dir_all(&tmp);
        return result;
    }
    build(&out)
}

fn build(root: &Path) -> Result<(), String> {
    let assets = root.join("assets");
    let themes = root.join("themes");
    for dir in [&assets, &themes] {
        fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    }

    // Syntaxes.
    let ss: SyntaxSet = two_face::syntax::extra_newlines();
    let bin = assets.join("syntaxes.bin");
    syntect::dumps::dump_to_uncompressed_file(&ss, &bin)
        .map_err(|e| format!("writing {}: {e}", bin.display()))?;
    let bytes = fs::read(&bin).map_err(|e| format!("reading {}: {e}", bin.display()))?;
    let back: SyntaxSet = syntect::dumps::from_uncompressed_data(&bytes)
        .map_err(|e| format!("{} does not load back: {e}", bin.display()))?;
    if back.syntaxes().len() != ss.syntaxes().len() {
        return Err("syntax dump lost syntaxes on the way back".into());
    }
    let list = assets.join("syntaxes.txt");
    write(&list, &syntax_list(&ss))?;
    println!(
        "{}: {} syntaxes, {} bytes (uncompressed)",
        bin.display(),
        ss.syntaxes().len(),
        bytes.len()
    );

    // Themes.
    let theme_set = two_face::theme::extra();
    let style = ClassStyle::SpacedPrefixed {
        prefix: CLASS_PREFIX,
    };
    let mut selectors = BTreeSet::new();
    for (file, name, dark) in [
        ("highlight-light.css", LIGHT_THEME, false),
        ("highlight-dark.css", DARK_THEME, true),
    ] {
        let theme: &Theme = theme_set.get(name);
        theme_selectors(theme, &mut selectors);
        let raw = css_for_theme_with_class_style(theme, style)
            .map_err(|e| format!("CSS for {}: {e}", name.as_name()))?;
        let css = scoped_css(&raw, name.as_name(), dark);
        let path = themes.join(file);
        write(&path, &css)?;
        println!(
            "{}: theme {:?}, {} bytes",
            path.display(),
            name.as_name(),
            css.len()
        );
    }
    let classes = assets.join("highlight-classes.txt");
    let mut text = String::from(
        "# The rules of themes/highlight-*.css as scope selectors, one per line\n\
         # (`source.js meta.function` is `.hl-source.hl-js .hl-meta.hl-function`).\n\
         # The highlighter keeps only the classes that a rule which can match\n\
         # in the document uses (src/render/highlight.rs, ClassMap): same look,\n\
         # much less markup. Generated by tools/build_assets.rs.\n",
    );
    for selector in &selectors {
        text.push_str(selector);
        text.push('\n');
    }
    write(&classes, &text)?;
    println!("{}: {} selectors", classes.display(), selectors.len());
    Ok(())
}

/// Every selector of a theme's rules, as scopes (`source.js meta.function`):
/// what `css_for_theme_with_class_style` turns into
/// `.hl-source.hl-js .hl-meta.hl-function` (it drops exclusions too).
fn theme_selectors(theme: &Theme, selectors: &mut BTreeSet<String>) {
    for item in &theme.scopes {
        for selector in &item.scope.selectors {
            let scopes: Vec<String> = selector
                .extract_scopes()
                .iter()
                .map(|s| s.build_string())
                .filter(|s| !s.is_empty())
                .collect();
            if !scopes.is_empty() {
                selectors.insert(scopes.join(" "));
            }
        }
    }
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}

/// `--check`: every output must be what the committed tree has.
fn compare(fresh: &Path, committed: &Path) -> Result<(), String> {
    let mut stale = Vec::new();
    for rel in [
        "assets/syntaxes.bin",
        "assets/syntaxes.txt",
        "assets/highlight-classes.txt",
        "themes/highlight-light.css",
        "themes/highlight-dark.css",
    ] {
        let a = fs::read(fresh.join(rel)).map_err(|e| format!("{rel}: {e}"))?;
        let b = fs::read(committed.join(rel)).unwrap_or_default();
        if a != b {
            stale.push(rel);
        }
    }
    if stale.is_empty() {
        println!("assets are up to date");
        Ok(())
    } else {
        Err(format!(
            "stale: {} (run `cargo run --release --example build-assets`)",
            stale.join(", ")
        ))
    }
}

fn syntax_list(ss: &SyntaxSet) -> String {
    let mut rows: Vec<String> = ss
        .syntaxes()
        .iter()
        .filter(|s| !s.hidden)
        .map(|s| format!("{}\t{}", s.name, s.file_extensions.join(" ")))
        .collect();
    rows.sort_by_key(|r| r.to_lowercase());
    let mut text = String::from(
        "# Syntaxes in assets/syntaxes.bin (generated by tools/build_assets.rs).\n\
         # name<TAB>file extensions / file names\n",
    );
    for r in rows {
        text.push_str(&r);
        text.push('\n');
    }
    text
}

/// One CSS rule: its selectors (comma-separated list, split) and body.
struct Rule {
    selectors: Vec<String>,
    body: String,
}

/// Parses the flat CSS that syntect writes (comments, then `selectors {
/// declarations }` blocks; no at-rules, no nesting).
fn parse_rules(css: &str) -> Vec<Rule> {
    // Drop comments first.
    let mut text = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(start) = rest.find("/*") {
        text.push_str(&rest[..start]);
        rest = match rest[start + 2..].find("*/") {
            Some(end) => &rest[start + 2 + end + 2..],
            None => "",
        };
    }
    text.push_str(rest);

    let mut rules = Vec::new();
    let mut rest = text.as_str();
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let selectors = rest[..open]
            .split(',')
            .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>();
        let body = rest[open + 1..open + close]
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        if !selectors.is_empty() && !body.is_empty() {
            rules.push(Rule { selectors, body });
        }
        rest = &rest[open + close + 1..];
    }
    rules
}

fn write_rules(out: &mut String, rules: &[Rule], prefix: &str, indent: &str) {
    for rule in rules {
        let sels: Vec<String> = rule
            .selectors
            .iter()
            .map(|s| format!("{indent}{prefix} {s}"))
            .collect();
        let _ = writeln!(out, "{} {{", sels.join(",\n"));
        for decl in rule.body.lines() {
            let _ = writeln!(out, "{indent}  {decl}");
        }
        let _ = writeln!(out, "{indent}}}");
    }
}

/// Scopes syntect's theme CSS so that light and dark share the markup.
///
/// Light file: every rule prefixed with `[data-theme="light"] `, plus the same
/// rules under `@media print, not all and (prefers-color-scheme: dark) {
/// :root:not([data-theme="dark"]) … }` so that a page with no `data-theme`
/// is light by default when the OS is not dark.
///
/// Dark file: every rule prefixed with `[data-theme="dark"] `, plus the same
/// rules under `@media screen and (prefers-color-scheme: dark) {
/// :root:not([data-theme="light"]) … }` so that OS preference works with no
/// JS.
fn scoped_css(raw: &str, theme: &str, dark: bool) -> String {
    let rules = parse_rules(raw);
    let (mode, forced, default_sel, media, other) = if dark {
        (
            "dark",
            DARK_SELECTOR,
            DARK_DEFAULT_SELECTOR,
            DARK_MEDIA,
            "light",
        )
    } else {
        (
            "light",
            LIGHT_SELECTOR,
            LIGHT_DEFAULT_SELECTOR,
            LIGHT_MEDIA,
            "dark",
        )
    };
    let mut css = String::new();
    let _ = write!(
        css,
        "/*\n \
         * Syntax highlighting, {mode} palette: theme \"{theme}\".\n \
         * GENERATED by tools/build_assets.rs (`cargo run --release --example build-assets`);\n \
         * do not edit by hand.\n \
         *\n \
         * Markup: src/render/highlight.rs emits <span class=\"{CLASS_PREFIX}…\"> (no inline\n \
         * styles, CSP-safe); wrap a block in an element with class \"{CLASS_PREFIX}code\" to\n \
         * get the theme's base colour and background.\n \
         *\n \
         * Scoping (include highlight-light.css and highlight-dark.css, both):\n \
         * - {forced} on the root element forces this palette;\n \
         * - otherwise, unless data-theme=\"{other}\", the rules again under\n \
         *   `{media}` and {default_sel}\n \
         *   follow the OS colour-scheme preference, with no JS.\n \
         */\n\n"
    );
    write_rules(&mut css, &rules, forced, "");
    let _ = writeln!(css, "\n{media} {{");
    write_rules(&mut css, &rules, default_sel, "  ");
    css.push_str("}\n");
    css
}
