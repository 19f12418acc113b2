//! Class-based syntax highlighting for code blocks and file contents.
//!
//! The approach is sharkdp/bat's: the syntax set (two-face's extended set,
//! i.e. bat's syntaxes) is built ahead of time by `tools/build_assets.rs`
//! into an *uncompressed* syntect dump, `assets/syntaxes.bin`, embedded here
//! with `include_bytes!` and deserialized lazily on first use. One
//! [`SyntaxSet`] is shared by every thread and never cloned.
//!
//! Output is HTML with `<span class="hl-…">` spans and no inline styles (the
//! page's CSP forbids style attributes); the colours live in the generated
//! `themes/highlight-light.css` and `themes/highlight-dark.css`. Each
//! highlighted line is self-contained: spans still open at the end of a line
//! are closed there and reopened at the start of the next one, so a caller
//! can wrap, number or fold lines individually.
//!
//! Only classes that some rule of the generated CSS can use in the document
//! are emitted (see `ClassMap` below): the page looks the same as with syntect's
//! full class lists, with a quarter to a third of the markup.
//!
//! Results are cached by content hash (SHA-256 of hint and code) in a
//! bounded global cache, so the same file shown several times in a session
//! is highlighted once.

use std::collections::{HashMap, HashSet, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use sha2::{Digest, Sha256};
use syntect::parsing::{ParseState, Scope, ScopeStack, ScopeStackOp, SyntaxReference, SyntaxSet};

/// Prefix of every class the highlighter emits (`hl-keyword`, `hl-string`,
/// …); the CSS generator uses the same one.
pub const CLASS_PREFIX: &str = "hl-";

/// Inputs longer than this (in bytes) are not highlighted: they come out as
/// escaped plain text with [`Highlighted::too_large`] set.
pub const MAX_HIGHLIGHT_BYTES: usize = 256 * 1024;

/// Inputs with a line longer than this (in bytes) are not highlighted
/// either: such lines are machine output (minified JS, JSON on one line,
/// base64 blobs) that colours do not help, and cost as much to highlight as
/// a whole source file. They come out plain, with [`Highlighted::plain`] set
/// and `too_large` not set.
pub const MAX_LINE_BYTES: usize = 32 * 1024;

/// The embedded dump (see `tools/build_assets.rs`).
static SYNTAX_DUMP: &[u8] = include_bytes!("../../assets/syntaxes.bin");

static SYNTAX_SET: OnceLock<SyntaxSet> = OnceLock::new();

/// The shared syntax set, deserialized from the embedded dump on first use.
///
/// If the dump cannot be read (it is generated and committed; a broken one is
/// a build mistake), the set is empty and everything renders as plain text.
pub fn syntax_set() -> &'static SyntaxSet {
    SYNTAX_SET.get_or_init(|| {
        syntect::dumps::from_uncompressed_data(SYNTAX_DUMP).unwrap_or_else(|_| SyntaxSet::new())
    })
}

/// Starts deserializing the syntax set on another thread, for a command
/// that will highlight after reading a session: reading is mostly one
/// thread's work, so this takes the set off the render's path.
pub fn warm_up() {
    if SYNTAX_SET.get().is_none() {
        std::thread::spawn(|| {
            syntax_set();
        });
    }
}

/// Fence tokens / names that mean "no highlighting": never guessed from the
/// first line either.
const PLAIN_TOKENS: &[&str] = &[
    "text",
    "txt",
    "plain",
    "plaintext",
    "plain text",
    "none",
    "nohighlight",
    "output",
    "log",
    "stdout",
    "stderr",
];

/// Common markdown fence tokens the grammars do not list, mapped to one they
/// do (an extension or a syntax name).
const ALIASES: &[(&str, &str)] = &[
    ("shell", "sh"),
    ("console", "sh"),
    ("shellsession", "sh"),
    ("shell-session", "sh"),
    ("terminal", "sh"),
    ("zsh", "sh"),
    ("ksh", "sh"),
    ("py3", "py"),
    ("python3", "py"),
    ("golang", "go"),
    ("c++", "cpp"),
    ("objective-c", "m"),
    ("objc", "m"),
    ("docker", "Dockerfile"),
    ("containerfile", "Dockerfile"),
    ("jsonc", "json"),
    ("json5", "json"),
    ("jsonl", "json"),
    ("ndjson", "json"),
    ("patch", "diff"),
    ("udiff", "diff"),
    ("node", "js"),
    ("javascript", "js"),
    ("typescript", "ts"),
    ("ps1", "ps1"),
    ("powershell", "ps1"),
    ("pwsh", "ps1"),
    ("make", "Makefile"),
    ("makefile", "Makefile"),
    ("cmake", "CMakeLists.txt"),
    ("vue", "vue"),
    ("proto", "proto"),
    ("protobuf", "proto"),
    ("tf", "tf"),
    ("hcl", "tf"),
    ("terraform", "tf"),
];

/// Suffixes that hide a file's real type (`config.toml.bak`, `foo.rs~`).
const IGNORED_SUFFIXES: &[&str] = &[
    "~",
    ".bak",
    ".old",
    ".orig",
    ".in",
    ".dist",
    ".tmpl",
    ".template",
    ".sample",
    ".example",
    ".swp",
    ".tpl",
    ".new",
    ".back",
];

/// What a hint says about the language.
enum Resolved {
    Syntax(&'static SyntaxReference),
    /// The hint explicitly asks for plain text (`text`, `output`, …).
    Plain,
    /// The hint says nothing we understand.
    Unknown,
}

/// Finds a syntax from a file path or name (`src/main.rs`, `Dockerfile`), an
/// extension (`rs`), a markdown fence token or info string (`rust`, `py`,
/// `sh`, `tsx`, `rust,ignore`, `{.python}`, `language-go`), or a first line
/// (a `#!` shebang, `<?xml`, an editor mode line). `None` means plain text.
///
/// Cheap: a few linear scans of the syntax list, no allocation beyond
/// lower-casing the hint (the set itself is loaded on first use).
pub fn syntax_for(hint: &str) -> Option<&'static SyntaxReference> {
    match resolve(hint) {
        Resolved::Syntax(s) => Some(s),
        Resolved::Plain | Resolved::Unknown => None,
    }
}

fn resolve(hint: &str) -> Resolved {
    let hint = hint.trim().trim_start_matches('\u{feff}');
    if hint.is_empty() {
        return Resolved::Unknown;
    }
    let ss = syntax_set();
    if hint.starts_with("#!") || hint.starts_with("<?") || hint.contains("-*-") {
        return match ss.find_syntax_by_first_line(hint) {
            Some(s) => usable(s),
            None => Resolved::Unknown,
        };
    }
    // A whole path or name first (paths may contain spaces), then the first
    // word of a fence info string (`rust ignore`, `python title="x.py"`).
    let first_word = hint
        .split(|c: char| c.is_whitespace() || c == ',')
        .next()
        .unwrap_or(hint);
    for candidate in [hint, first_word] {
        if let Some(r) = resolve_token(ss, candidate) {
            return r;
        }
    }
    Resolved::Unknown
}

fn usable(s: &'static SyntaxReference) -> Resolved {
    if s.name == "Plain Text" {
        Resolved::Plain
    } else {
        Resolved::Syntax(s)
    }
}

fn resolve_token(ss: &'static SyntaxSet, token: &str) -> Option<Resolved> {
    let token = token
        .trim_matches(|c: char| c == '{' || c == '}' || c == '`' || c == '"' || c == '\'')
        .trim();
    let token = token.strip_prefix("language-").unwrap_or(token);
    // `{.python}` style; but keep dotfiles like `.bashrc` as they are.
    let token = match token.strip_prefix('.') {
        Some(rest) if ss.find_syntax_by_extension(token).is_none() => rest,
        _ => token,
    };
    if token.is_empty() {
        return None;
    }
    // A path: only the file name matters.
    let name = token.rsplit(['/', '\\']).next().unwrap_or(token);
    if name.is_empty() {
        return None;
    }
    let lower = name.to_ascii_lowercase();
    if PLAIN_TOKENS.contains(&lower.as_str()) {
        return Some(Resolved::Plain);
    }
    if let Some(&(_, target)) = ALIASES.iter().find(|(a, _)| *a == lower)
        && let Some(s) = ss.find_syntax_by_token(target)
    {
        return Some(usable(s));
    }
    let mut name = name;
    loop {
        // Exact file name or extension (`Dockerfile`, `rs`), or a syntax name.
        if let Some(s) = ss.find_syntax_by_token(name) {
            return Some(usable(s));
        }
        // The part after the last dot (`main.rs` → `rs`).
        if let Some((_, ext)) = name.rsplit_once('.')
            && !ext.is_empty()
            && let Some(s) = ss.find_syntax_by_extension(ext)
        {
            return Some(usable(s));
        }
        // `config.toml.bak` → `config.toml`.
        let lower = name.to_ascii_lowercase();
        match IGNORED_SUFFIXES
            .iter()
            .find(|suf| lower.len() > suf.len() && lower.ends_with(*suf))
        {
            Some(suf) => name = &name[..name.len() - suf.len()],
            None => return None,
        }
    }
}

/// A highlighted (or plain) text, one entry per source line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Highlighted {
    /// Each element is one source line's inner HTML: escaped text, with
    /// `<span class="hl-…">` spans balanced within the line; no line
    /// terminator. `"a\nb"` and `"a\nb\n"` both give two lines; `""` none.
    /// Lines end at `\n` or `\r\n`; any other `\r` is dropped (an HTML
    /// parser would turn it into a line break).
    pub lines: Vec<String>,
    /// The syntax's name (`"Rust"`, `"Python"`) when one was recognised,
    /// even if the text was not highlighted (too large).
    pub language: Option<String>,
    /// True when the lines are plain escaped text: unknown language, over
    /// [`MAX_HIGHLIGHT_BYTES`] or [`MAX_LINE_BYTES`], or a grammar error.
    pub plain: bool,
    /// True when the text was over [`MAX_HIGHLIGHT_BYTES`].
    pub too_large: bool,
    /// The classes of the syntax's root scope (`hl-source hl-rust`). They
    /// are not repeated on every line: put them on the enclosing `<code>`
    /// (theme rules that depend on the root need that ancestor).
    pub root: Option<String>,
}

impl Highlighted {
    /// The lines joined with `"\n"`.
    pub fn joined(&self) -> String {
        self.lines.join("\n")
    }

    fn approx_bytes(&self) -> usize {
        self.lines
            .iter()
            .map(|l| l.len() + std::mem::size_of::<String>())
            .sum::<usize>()
            + std::mem::size_of::<Self>()
            + 64
    }
}

/// Highlights `code` as the language `hint` names (see [`syntax_for`]); with
/// no hint, or one that names no language, the first line is tried (a
/// shebang). Never panics: anything the highlighter cannot handle comes out
/// as escaped plain text. Results are cached (see the module docs): the same
/// input gives the same `Arc` while it stays in the cache.
pub fn highlight(code: &str, hint: Option<&str>) -> Arc<Highlighted> {
    // Asked before the cache is, so that what a page highlights does not
    // depend on what other pages or threads put in the cache.
    if !Budget::take_current(code.len()) {
        // Over the page's budget: plain text, not cached (another page
        // may still have budget for it).
        return Arc::new(plain(code, None, false));
    }
    let key = cache_key(code, hint);
    if let Some(hit) = cache().get(&key) {
        return hit;
    }
    let fresh = Arc::new(highlight_uncached(code, hint));
    cache().insert(key, fresh)
}

/// A limit on how many bytes one page highlights, so that a huge session
/// renders in bounded time: highlighting runs at a few MB/s, everything
/// else at hundreds. What is over the budget is shown as plain text.
///
/// Every block asks for its size, in the page's order, and is highlighted
/// when its size and the sizes of all the blocks asked for before it fit
/// the budget; a block found in the cache asks too. So which blocks are
/// highlighted depends only on the page, never on which thread got there
/// first: the same session gives the same page. Work rendered in parallel
/// under one budget goes through [`Budget::in_order`], which keeps that
/// order. Set a budget for the work of one page with [`Budget::scope`].
#[derive(Debug, Clone)]
pub struct Budget(Arc<BudgetState>);

#[derive(Debug)]
struct BudgetState {
    left: AtomicI64,
    /// While parts are rendered ahead of knowing their place: the budget
    /// that all of them share, so that the highlighting done ahead stays
    /// within what the page has left.
    ahead: Option<Arc<AtomicI64>>,
    /// Each request of a part, in order: its size, and whether it was granted.
    asked: Option<Mutex<Vec<(usize, bool)>>>,
}

thread_local! {
    static CURRENT: std::cell::RefCell<Option<Budget>> = const { std::cell::RefCell::new(None) };
}

impl Budget {
    pub fn new(bytes: usize) -> Budget {
        Budget::with(bytes as i64, None, false)
    }

    fn with(left: i64, ahead: Option<Arc<AtomicI64>>, log: bool) -> Budget {
        Budget(Arc::new(BudgetState {
            left: AtomicI64::new(left),
            ahead,
            asked: log.then(|| Mutex::new(Vec::new())),
        }))
    }

    /// Runs `f` with this budget in force on the current thread.
    pub fn scope<R>(&self, f: impl FnOnce() -> R) -> R {
        let prev = CURRENT.with(|c| c.replace(Some(self.clone())));
        let r = f();
        CURRENT.with(|c| *c.borrow_mut() = prev);
        r
    }

    /// The budget in force on this thread, if any.
    pub fn current() -> Option<Budget> {
        CURRENT.with(|c| c.borrow().clone())
    }

    /// Whether some block was over the budget.
    pub fn exhausted(&self) -> bool {
        self.0.left.load(Ordering::Relaxed) < 0
    }

    /// Takes `n` bytes from the current budget; true when there was room
    /// (or no budget is set).
    fn take_current(n: usize) -> bool {
        CURRENT.with(|c| match &*c.borrow() {
            None => true,
            Some(b) => b.take(n),
        })
    }

    fn take(&self, n: usize) -> bool {
        let s = &self.0;
        let mut granted = s.left.fetch_sub(n as i64, Ordering::Relaxed) >= n as i64;
        if granted && let Some(ahead) = &s.ahead {
            granted = ahead.fetch_sub(n as i64, Ordering::Relaxed) >= n as i64;
        }
        if let Some(asked) = &s.asked {
            locked(asked).push((n, granted));
        }
        granted
    }

    /// Takes `n` bytes from this budget without highlighting anything.
    pub fn spend(&self, n: i64) {
        self.0.left.fetch_sub(n, Ordering::Relaxed);
    }

    /// Renders parts `0..count` in parallel (on rayon's threads) under this
    /// budget, as if they were rendered one after the other in that order,
    /// and returns each one's output with the bytes it asked for (what
    /// reusing the output later must [`spend`](Budget::spend)).
    ///
    /// Each part first renders with the budget left when the call starts,
    /// all of them sharing it (a part cannot know yet what the parts before
    /// it will ask for). Then the requests are laid out in order: a part
    /// whose grants differ from what that order gives renders again, with
    /// exactly the budget left before it. Only parts around where the
    /// budget runs out render twice, and the highlighting done ahead is
    /// bounded by what was left.
    pub fn in_order<R: Send>(
        &self,
        count: usize,
        render: &(dyn Fn(usize) -> R + Sync),
    ) -> Vec<(R, i64)> {
        use rayon::prelude::*;
        let left = self.0.left.load(Ordering::Relaxed);
        let ahead = self
            .0
            .ahead
            .clone()
            .unwrap_or_else(|| Arc::new(AtomicI64::new(left.max(0))));
        let part = |k: usize, left: i64, ahead: Option<Arc<AtomicI64>>| {
            let b = Budget::with(left, ahead, true);
            let out = b.scope(|| render(k));
            let asked = b.0.asked.as_ref().map(|a| std::mem::take(&mut *locked(a)));
            (out, asked.unwrap_or_default())
        };
        // Threads take the parts in order, so that the budget shared ahead
        // goes to the first parts rather than to wherever a split began.
        let next = AtomicUsize::new(0);
        let done: Vec<Mutex<Option<Part<R>>>> = (0..count).map(|_| Mutex::new(None)).collect();
        (0..rayon::current_num_threads().min(count))
            .into_par_iter()
            .for_each(|_| {
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    if k >= count {
                        break;
                    }
                    let one = part(k, left, Some(ahead.clone()));
                    *locked(&done[k]) = Some(one);
                }
            });
        let mut parts: Vec<Part<R>> = done
            .into_iter()
            .map(|m| {
                m.into_inner()
                    .unwrap_or_else(|e| e.into_inner())
                    .expect("every part is rendered")
            })
            .collect();
        // Where each part starts in the page's order, and which ones were
        // granted other than that order grants.
        let mut before = 0i64;
        let mut again = Vec::new();
        for (k, (_, asked)) in parts.iter().enumerate() {
            let own = left - before;
            if !grants_agree(asked, own) {
                again.push((k, own));
            }
            before += asked_bytes(asked);
        }
        let redone: Vec<(usize, Part<R>)> = again
            .into_par_iter()
            .map(|(k, own)| (k, part(k, own, None)))
            .collect();
        for (k, one) in redone {
            debug_assert_eq!(asked_bytes(&one.1), asked_bytes(&parts[k].1));
            parts[k] = one;
        }
        self.spend(before);
        if let Some(asked) = &self.0.asked {
            let mut log = locked(asked);
            for (_, a) in &parts {
                log.extend_from_slice(a);
            }
        }
        parts
            .into_iter()
            .map(|(out, asked)| (out, asked_bytes(&asked)))
            .collect()
    }
}

/// A lock that a panic elsewhere does not poison for good.
fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A part rendered under [`Budget::in_order`], with its requests.
type Part<R> = (R, Vec<(usize, bool)>);

/// The bytes a part asked for.
fn asked_bytes(asked: &[(usize, bool)]) -> i64 {
    asked.iter().map(|&(n, _)| n as i64).sum()
}

/// Whether a part's requests were granted as a budget of `left` bytes,
/// taken in order, grants them.
fn grants_agree(asked: &[(usize, bool)], left: i64) -> bool {
    let mut taken = 0i64;
    asked.iter().all(|&(n, granted)| {
        taken += n as i64;
        granted == (taken <= left)
    })
}

/// Joined form for code blocks: [`highlight`]'s lines joined with `"\n"`
/// (inside a `<code>` that carries [`Highlighted::root`]; see
/// [`highlight_code`]).
pub fn highlight_block(code: &str, hint: Option<&str>) -> String {
    highlight(code, hint).joined()
}

/// A complete `<code>` element: the root scope's classes on it, the
/// highlighted lines inside.
pub fn highlight_code(code: &str, hint: Option<&str>) -> String {
    let h = highlight(code, hint);
    let mut out = String::with_capacity(code.len() + 64);
    out.push_str(&code_open(h.root.as_deref()));
    out.push_str(&h.joined());
    out.push_str("</code>");
    out
}

/// `<code>` with the given root classes.
pub fn code_open(root: Option<&str>) -> String {
    match root {
        Some(r) => format!("<code class=\"{r}\">"),
        None => "<code>".to_string(),
    }
}

/// [`highlight`] without the cache (for benchmarks and one-off uses).
pub fn highlight_uncached(code: &str, hint: Option<&str>) -> Highlighted {
    let resolved = match hint.map(resolve) {
        Some(Resolved::Plain) => Resolved::Plain,
        Some(Resolved::Syntax(s)) => Resolved::Syntax(s),
        None | Some(Resolved::Unknown) => first_line(code)
            .and_then(|l| syntax_set().find_syntax_by_first_line(l))
            .map_or(Resolved::Unknown, usable),
    };
    let syntax = match resolved {
        Resolved::Syntax(s) => s,
        Resolved::Plain | Resolved::Unknown => return plain(code, None, false),
    };
    let language = Some(syntax.name.clone());
    if code.len() > MAX_HIGHLIGHT_BYTES {
        return plain(code, language, true);
    }
    if split_lines(code).any(|l| l.len() > MAX_LINE_BYTES) {
        return plain(code, language, false);
    }
    match catch_unwind(AssertUnwindSafe(|| highlight_lines(code, syntax))) {
        Ok(Some((lines, root))) => Highlighted {
            lines,
            language,
            plain: false,
            too_large: false,
            root,
        },
        Ok(None) | Err(_) => plain(code, language, false),
    }
}

/// The first line, for shebang / mode-line detection (at most its first
/// 1 KB: the first-line regexes of ~200 grammars run over it).
fn first_line(code: &str) -> Option<&str> {
    let line = split_lines(code).next()?;
    let mut end = line.len().min(1024);
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    let line = &line[..end];
    (!line.trim().is_empty()).then_some(line)
}

/// Lines without their terminator (`\n` or `\r\n`), like [`str::lines`].
fn split_lines(code: &str) -> impl Iterator<Item = &str> {
    code.split_inclusive('\n').map(strip_eol)
}

fn strip_eol(line: &str) -> &str {
    let line = line.strip_suffix('\n').unwrap_or(line);
    line.strip_suffix('\r').unwrap_or(line)
}

fn plain(code: &str, language: Option<String>, too_large: bool) -> Highlighted {
    Highlighted {
        lines: split_lines(code)
            .map(|l| {
                let mut s = String::with_capacity(l.len() + 8);
                escape_into(&mut s, l);
                s
            })
            .collect(),
        language,
        plain: true,
        too_large,
        root: None,
    }
}

/// The highlighted lines, or `None` on any grammar error.
///
/// Two passes: parse every line first, so that the classes can be chosen
/// knowing every scope the document uses (see [`ClassMap`]), then write.
fn highlight_lines(code: &str, syntax: &SyntaxReference) -> Option<(Vec<String>, Option<String>)> {
    let ss = syntax_set();
    let mut state = ParseState::new(syntax);
    let mut buf = String::new();
    let mut parsed = Vec::new();
    let mut used = HashSet::new();
    for content in split_lines(code) {
        // The grammars are built for lines that end in "\n".
        buf.clear();
        buf.push_str(content);
        buf.push('\n');
        let ops = state.parse_line(&buf, ss).ok()?;
        for (_, op) in &ops {
            if let ScopeStackOp::Push(scope) = op {
                used.insert(*scope);
            }
        }
        parsed.push((content, ops));
    }

    let classes = ClassMap::new(&used);
    let mut stack = ScopeStack::new();
    let mut spans = Spans::new(&classes, syntax.scope);
    let root = Some(classes.get(syntax.scope).to_string()).filter(|c| !c.is_empty());
    let mut lines = Vec::with_capacity(parsed.len());
    for (content, ops) in parsed {
        let mut out = String::with_capacity(content.len() * 3 + 32);
        let mut pos = 0usize;
        for (at, op) in &ops {
            let at = (*at).min(content.len());
            if at > pos {
                spans.sync(&mut out, stack.as_slice());
                escape_into(&mut out, content.get(pos..at)?);
                pos = at;
            }
            stack.apply(op).ok()?;
        }
        if pos < content.len() {
            spans.sync(&mut out, stack.as_slice());
            escape_into(&mut out, content.get(pos..)?);
        }
        spans.close_all(&mut out);
        lines.push(out);
    }
    Some((lines, root))
}

/// The class attribute of each scope a document uses.
///
/// Only classes that some theme rule can use are kept: a rule (a CSS
/// selector such as `.hl-source.hl-js .hl-meta.hl-function`, i.e. a list of
/// compounds) can match in this document only if each of its compounds is
/// contained in the atoms of some scope the document uses. A scope keeps the
/// atoms of the compounds of such rules that it fully contains and drops the
/// others; with none left it gets no span. Every rule that could match the
/// full markup matches this one on the same elements, so the page looks the
/// same, with a quarter to a third of the markup (for Rust or Python).
struct ClassMap(HashMap<Scope, String>);

impl ClassMap {
    fn new(used: &HashSet<Scope>) -> ClassMap {
        let scopes: Vec<(Scope, Rc<ScopeRules>)> =
            used.iter().map(|&s| (s, ScopeRules::of(s))).collect();
        // The compounds of the rules that can match here: rules each of
        // whose compounds some scope here contains.
        let live = css_rules().map(|rules| {
            let mut satisfied = vec![false; rules.compounds.len()];
            for (_, r) in &scopes {
                for &(c, _) in &r.contains {
                    satisfied[c] = true;
                }
            }
            let mut live = vec![false; rules.compounds.len()];
            for sel in &rules.selectors {
                if sel.iter().all(|&c| satisfied[c]) {
                    for &c in sel {
                        live[c] = true;
                    }
                }
            }
            live
        });
        let mut map = HashMap::with_capacity(scopes.len());
        for (scope, r) in &scopes {
            // The atoms of the live compounds the scope contains (all of
            // them without rules).
            let keep = match &live {
                None => u32::MAX,
                Some(live) => r
                    .contains
                    .iter()
                    .filter(|(c, _)| live[*c])
                    .fold(0, |keep, (_, atoms)| keep | atoms),
            };
            let mut classes = String::new();
            for (k, atom) in r.atoms().enumerate() {
                if k >= 32 || keep & (1 << k) == 0 {
                    continue;
                }
                if !classes.is_empty() {
                    classes.push(' ');
                }
                classes.push_str(CLASS_PREFIX);
                escape_into(&mut classes, atom);
            }
            map.insert(*scope, classes);
        }
        ClassMap(map)
    }

    fn get(&self, scope: Scope) -> &str {
        self.0.get(&scope).map_or("", String::as_str)
    }
}

/// The spans open in the line being written, kept in step with the scope
/// stack lazily: only right before text is written. So a scope popped and
/// pushed again with no text in between keeps its span (as does a scope
/// replaced by one with the same classes), no span is empty, and scopes with
/// no class (see [`ClassMap`]) get no span.
struct Spans<'a> {
    classes: &'a ClassMap,
    /// The syntax's root scope: carried by the enclosing element instead.
    root: Scope,
    /// The classes of the open `<span>`s, outermost first.
    open: Vec<&'a str>,
    /// Scratch: the classes the stack wants open.
    want: Vec<&'a str>,
}

impl<'a> Spans<'a> {
    fn new(classes: &'a ClassMap, root: Scope) -> Self {
        Spans {
            classes,
            root,
            open: Vec::new(),
            want: Vec::new(),
        }
    }

    fn sync(&mut self, out: &mut String, stack: &[Scope]) {
        self.want.clear();
        let skip = usize::from(stack.first() == Some(&self.root));
        self.want.extend(
            stack[skip..]
                .iter()
                .map(|&s| self.classes.get(s))
                .filter(|c| !c.is_empty()),
        );
        let keep = self
            .open
            .iter()
            .zip(&self.want)
            .take_while(|(a, b)| a == b)
            .count();
        for _ in keep..self.open.len() {
            out.push_str("</span>");
        }
        self.open.truncate(keep);
        for &class in &self.want[keep..] {
            out.push_str("<span class=\"");
            out.push_str(class);
            out.push_str("\">");
            self.open.push(class);
        }
    }

    fn close_all(&mut self, out: &mut String) {
        for _ in 0..self.open.len() {
            out.push_str("</span>");
        }
        self.open.clear();
    }
}

/// The theme CSS's rules as scope selectors, from
/// `assets/highlight-classes.txt` (written by `tools/build_assets.rs`).
struct CssRules {
    /// Distinct compounds, as atom lists (`keyword control`).
    compounds: Vec<Vec<&'static str>>,
    /// Each selector: indices into `compounds`, outermost first.
    selectors: Vec<Vec<usize>>,
}

/// What the theme rules need of one scope, worked out once per scope and
/// thread: its atoms (`keyword`, `control`, …; syntect packs at most eight
/// into a scope), and the rule compounds (indices into
/// [`CssRules::compounds`]) whose atoms it all has, each with the atoms it
/// covers as bits. A document's [`ClassMap`] is then a few lookups per
/// scope instead of a comparison of every compound with every scope, and
/// scope names are not built again (syntect builds them under a global
/// lock).
struct ScopeRules {
    /// The scope's name: its atoms joined by dots.
    name: Box<str>,
    contains: Box<[(usize, u32)]>,
}

impl ScopeRules {
    fn atoms(&self) -> impl Iterator<Item = &str> {
        self.name.split('.').filter(|a| !a.is_empty())
    }

    fn of(scope: Scope) -> Rc<ScopeRules> {
        thread_local! {
            static KNOWN: std::cell::RefCell<HashMap<Scope, Rc<ScopeRules>>> =
                std::cell::RefCell::new(HashMap::new());
        }
        KNOWN.with(|known| {
            Rc::clone(known.borrow_mut().entry(scope).or_insert_with(|| {
                let name = scope.build_string();
                let atoms: Vec<&str> = name.split('.').filter(|a| !a.is_empty()).collect();
                let contains = css_rules()
                    .map(|rules| {
                        rules
                            .compounds
                            .iter()
                            .enumerate()
                            .filter(|(_, c)| c.iter().all(|x| atoms.contains(x)))
                            .map(|(i, c)| {
                                let bits = atoms.iter().enumerate().fold(0u32, |bits, (k, a)| {
                                    if k < 32 && c.contains(a) {
                                        bits | (1 << k)
                                    } else {
                                        bits
                                    }
                                });
                                (i, bits)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                Rc::new(ScopeRules {
                    name: name.into_boxed_str(),
                    contains,
                })
            }))
        })
    }
}

/// `None` when the list is empty: every atom of every scope is emitted.
fn css_rules() -> Option<&'static CssRules> {
    static LIST: &str = include_str!("../../assets/highlight-classes.txt");
    static RULES: OnceLock<CssRules> = OnceLock::new();
    let rules = RULES.get_or_init(|| {
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut compounds = Vec::new();
        let mut selectors = Vec::new();
        for line in LIST.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let sel = line
                .split_whitespace()
                .map(|c| {
                    *index.entry(c).or_insert_with(|| {
                        compounds.push(c.split('.').filter(|a| !a.is_empty()).collect());
                        compounds.len() - 1
                    })
                })
                .collect();
            selectors.push(sel);
        }
        CssRules {
            compounds,
            selectors,
        }
    });
    (!rules.selectors.is_empty()).then_some(rules)
}

/// Escapes text for an HTML text node: `&`, `<` and `>` (quotes need no
/// escaping outside attributes, and code is full of them), and drops `\r`:
/// within a line a bare one would become a line break once an HTML parser
/// normalizes it. Never use it for attribute values.
pub(crate) fn escape_into(out: &mut String, s: &str) {
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'\r' => "",
            _ => continue,
        };
        out.push_str(&s[last..i]);
        out.push_str(rep);
        last = i + 1;
    }
    out.push_str(&s[last..]);
}

// ---------------------------------------------------------------- cache

/// At most this many results are kept…
const CACHE_MAX_ENTRIES: usize = 4096;
/// …taking at most about this many bytes of HTML (oldest dropped first).
const CACHE_MAX_BYTES: usize = 16 * 1024 * 1024;

type Key = [u8; 32];

fn cache_key(code: &str, hint: Option<&str>) -> Key {
    let mut h = Sha256::new();
    match hint {
        Some(hint) => {
            h.update([1u8]);
            h.update((hint.len() as u64).to_le_bytes());
            h.update(hint.as_bytes());
        }
        None => h.update([0u8]),
    }
    h.update(code.as_bytes());
    h.finalize().into()
}

#[derive(Default)]
struct CacheInner {
    map: HashMap<Key, (Arc<Highlighted>, usize)>,
    order: VecDeque<Key>,
    bytes: usize,
}

struct Cache(Mutex<CacheInner>);

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(|| Cache(Mutex::new(CacheInner::default())))
}

impl Cache {
    fn lock(&self) -> std::sync::MutexGuard<'_, CacheInner> {
        locked(&self.0)
    }

    fn get(&self, key: &Key) -> Option<Arc<Highlighted>> {
        self.lock().map.get(key).map(|(v, _)| Arc::clone(v))
    }

    /// Stores `value` unless another thread got there first; returns the
    /// stored one either way.
    fn insert(&self, key: Key, value: Arc<Highlighted>) -> Arc<Highlighted> {
        let size = value.approx_bytes();
        if size > CACHE_MAX_BYTES / 4 {
            return value;
        }
        let mut c = self.lock();
        if let Some((existing, _)) = c.map.get(&key) {
            return Arc::clone(existing);
        }
        while c.map.len() >= CACHE_MAX_ENTRIES || c.bytes + size > CACHE_MAX_BYTES {
            let Some(old) = c.order.pop_front() else {
                break;
            };
            if let Some((_, old_size)) = c.map.remove(&old) {
                c.bytes -= old_size;
            }
        }
        c.map.insert(key, (Arc::clone(&value), size));
        c.order.push_back(key);
        c.bytes += size;
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What part `k` of [`budget_cases`]' page asks for, and the grants it
    /// got; part 3 has parts of its own, rendered in order in the middle.
    fn ask(k: usize) -> Vec<bool> {
        const PARTS: [&[usize]; 7] = [&[8, 5], &[2], &[1, 1], &[4], &[30], &[0, 1], &[3]];
        const NESTED: [&[usize]; 2] = [&[2, 2], &[1]];
        let mut got: Vec<bool> = PARTS[k].iter().map(|&n| Budget::take_current(n)).collect();
        if k == 3 {
            let inner = Budget::current()
                .expect("a budget")
                .in_order(NESTED.len(), &|j| {
                    NESTED[j]
                        .iter()
                        .map(|&n| Budget::take_current(n))
                        .collect::<Vec<bool>>()
                });
            got.extend(inner.into_iter().flat_map(|(g, _)| g));
            got.push(Budget::take_current(3));
        }
        got
    }

    #[test]
    fn budget_grants_in_the_pages_order_whatever_the_threads() {
        // The page's requests in order: 8 5 | 2 | 1 1 | 4 (2 2) (1) 3 | 30 | 0 1 | 3.
        let order = [8, 5, 2, 1, 1, 4, 2, 2, 1, 3, 30, 0, 1, 3];
        let asked = [13, 2, 2, 12, 30, 1, 3];
        for budget in [0, 1, 5, 8, 10, 13, 14, 18, 25, 40, 100] {
            let mut taken = 0;
            let want: Vec<bool> = order
                .iter()
                .map(|n| {
                    taken += n;
                    taken <= budget
                })
                .collect();
            for threads in [1, 2, 4] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                for _ in 0..20 {
                    let b = Budget::new(budget);
                    let parts = pool.install(|| b.scope(|| b.in_order(asked.len(), &ask)));
                    let got: Vec<bool> = parts.iter().flat_map(|(g, _)| g.clone()).collect();
                    assert_eq!(got, want, "budget {budget}, {threads} threads");
                    let bytes: Vec<i64> = parts.iter().map(|(_, n)| *n).collect();
                    assert_eq!(bytes, asked.map(|n| n as i64));
                    assert_eq!(b.exhausted(), taken > budget);
                }
            }
        }
    }

    #[test]
    fn escapes_text_node_characters() {
        let mut s = String::new();
        escape_into(&mut s, "a&b<c>d\"e'f\rg");
        assert_eq!(s, "a&amp;b&lt;c&gt;d\"e'fg");
    }

    #[test]
    fn lines_like_str_lines() {
        let v: Vec<&str> = split_lines("a\r\nb\n\nc").collect();
        assert_eq!(v, ["a", "b", "", "c"]);
        assert_eq!(split_lines("").count(), 0);
        assert_eq!(split_lines("x\n").count(), 1);
    }

    #[test]
    fn resolves_hints() {
        for (hint, name) in [
            ("rs", "Rust"),
            ("rust", "Rust"),
            ("src/main.rs", "Rust"),
            ("py", "Python"),
            ("python3", "Python"),
            ("tsx", "TypeScriptReact"),
            ("Cargo.toml", "TOML"),
            ("config.toml.bak", "TOML"),
            ("rust,ignore", "Rust"),
            ("{.python}", "Python"),
            ("language-rust", "Rust"),
            ("#!/usr/bin/env python3", "Python"),
        ] {
            assert_eq!(
                syntax_for(hint).map(|s| s.name.as_str()),
                Some(name),
                "hint {hint:?}"
            );
        }
        assert!(syntax_for("text").is_none());
        assert!(syntax_for("").is_none());
        assert!(syntax_for("no-such-language-xyz").is_none());
    }

    #[test]
    fn explicit_plain_is_not_guessed() {
        let h = highlight_uncached("#!/bin/sh\necho hi\n", Some("text"));
        assert!(h.plain);
        let h = highlight_uncached("#!/bin/sh\necho hi\n", None);
        assert!(!h.plain);
    }
}
