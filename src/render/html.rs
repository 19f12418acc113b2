//! The self-contained HTML page: inline CSS and JS under a strict CSP,
//! images as `data:` URIs, no request anywhere.
//!
//! Message bodies are built here (markdown, highlighted code, diffs,
//! terminal output: all escaped by construction) and handed to the
//! minijinja templates, which auto-escape everything else.

use super::highlight::Budget;
use super::markdown::{self, escape, escape_into};
use super::templates::Templates;
use super::tools::{self, ToolKind};
use crate::home::tilde;
use crate::model::*;
use base64::Engine;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::HashMap;

/// Largest image embedded as a `data:` URI.
pub const IMAGE_CAP_BYTES: usize = 2 * 1024 * 1024;

/// What the page needs besides the session.
#[derive(Debug, Clone)]
pub struct PageOptions {
    pub share_id: String,
    pub theme: String,
    /// `noindex` unless configured otherwise.
    pub robots: String,
    pub site_name: String,
    /// The public URL of the page, when known.
    pub url: Option<String>,
    /// Set while `watch` follows the session: the page polls
    /// `version.json` (over http(s) only) and updates itself.
    pub live_version: Option<String>,
}

impl Default for PageOptions {
    fn default() -> Self {
        PageOptions {
            share_id: String::new(),
            theme: "default".into(),
            robots: "noindex, nofollow".into(),
            site_name: "sharegen".into(),
            url: None,
            live_version: None,
        }
    }
}

/// Renders one session as a complete HTML page.
pub fn render_page(
    session: &Session,
    opts: &PageOptions,
    templates: &Templates,
) -> crate::Result<String> {
    let mut out = Vec::new();
    render_page_to(session, opts, templates, &mut out)?;
    Ok(String::from_utf8(out).expect("pages are UTF-8"))
}

/// Where the messages go in the rendered template. It holds a `<`, which
/// no value from a session can put in the rendered shell (the templates
/// escape every value), so the first occurrence is always the template's
/// `{{ messages }}`, never a title or prompt that spells the marker.
const MESSAGES_MARK: &str = "<!--sharegen:messages-->";

/// Messages rendered and written per batch: the page is streamed to `w`,
/// never held whole in memory…
const BATCH: usize = 256;
/// …and a batch ends early once its messages hold this many bytes of text
/// and data ([`message_weight`]), so a batch's HTML stays around a
/// megabyte whatever the messages hold.
const BATCH_BYTES: usize = 512 * 1024;

/// The rendered messages of a page, kept by `watch` between rebuilds of a
/// share (see [`render_page_reusing`]).
#[derive(Debug, Default)]
pub struct Fragments {
    /// Per top-level message: its HTML, and what it took from the page's
    /// highlighting budget.
    html: Vec<(String, i64)>,
    /// Per top-level message: its bytes of text (see [`highlight_budget`]),
    /// so that a rebuild sizes the budget without reading every message
    /// again.
    text: Vec<usize>,
}

impl Fragments {
    /// Number of messages held.
    pub fn len(&self) -> usize {
        self.html.len()
    }

    /// The HTML of each message, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.html.iter().map(|(h, _)| h.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.html.is_empty()
    }

    /// Fragments holding `html` (tests).
    #[cfg(test)]
    pub(crate) fn of(html: Vec<String>) -> Fragments {
        Fragments {
            html: html.into_iter().map(|h| (h, 0)).collect(),
            text: Vec::new(),
        }
    }
}

/// Renders one session as a complete HTML page into `w`.
pub fn render_page_to(
    session: &Session,
    opts: &PageOptions,
    templates: &Templates,
    w: &mut dyn std::io::Write,
) -> crate::Result<()> {
    let budget = Budget::new(highlight_budget(session));
    let (head, tail) = shell_parts(session, opts, templates, &budget)?;
    write_around(&head, &tail, w, |w| {
        budget.scope(|| write_messages(session, "", 0, w))
    })
}

/// [`render_page_to`] for a session the caller is done with: each message
/// is dropped once its HTML is written, so the memory a big session holds
/// goes to rendering the rest of it instead of adding to it.
pub fn render_page_spending(
    mut session: Session,
    opts: &PageOptions,
    templates: &Templates,
    w: &mut dyn std::io::Write,
) -> crate::Result<()> {
    let budget = Budget::new(highlight_budget(&session));
    let (head, tail) = shell_parts(&session, opts, templates, &budget)?;
    let mut messages = std::mem::take(&mut session.messages);
    write_around(&head, &tail, w, |w| {
        budget.scope(|| {
            let each = &mut |h: String, _| w.write_all(h.as_bytes());
            render_batches(
                Msgs::Spend(&mut messages),
                &session.subagents,
                "",
                0,
                0,
                each,
            )
        })
    })
}

/// Writes `head`, what `body` writes, then `tail`.
fn write_around(
    head: &str,
    tail: &str,
    w: &mut dyn std::io::Write,
    body: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> crate::Result<()> {
    let io = |e: std::io::Error| crate::Error::io("(page output)", e);
    w.write_all(head.as_bytes()).map_err(io)?;
    body(&mut *w).map_err(io)?;
    w.write_all(tail.as_bytes()).map_err(io)
}

/// Like [`render_page_to`], reusing the HTML of the first `reuse` messages
/// from `frags` (the caller knows they are the same messages, at the same
/// places, with the same subagents) and leaving every message's HTML in
/// `frags` for the next call. The page is the one [`render_page_to`]
/// writes, except that a page past its highlighting budget may highlight
/// other code blocks.
pub fn render_page_reusing(
    session: &Session,
    opts: &PageOptions,
    templates: &Templates,
    w: &mut dyn std::io::Write,
    frags: &mut Fragments,
    reuse: usize,
) -> crate::Result<()> {
    let shell = render_page_shell(session, opts, templates, frags, reuse)?;
    let io = |e: std::io::Error| crate::Error::io("(page output)", e);
    w.write_all(shell.head.as_bytes()).map_err(io)?;
    for h in frags.iter() {
        w.write_all(h.as_bytes()).map_err(io)?;
    }
    w.write_all(shell.tail.as_bytes()).map_err(io)
}

/// A page around its messages: the page is `head`, the HTML of each
/// message, then `tail`.
#[derive(Debug)]
pub struct Shell {
    pub head: String,
    pub tail: String,
}

/// The page [`render_page_reusing`] writes, in parts: leaves the HTML of
/// every message in `frags` (reusing the first `reuse`) and returns what
/// goes around it.
pub fn render_page_shell(
    session: &Session,
    opts: &PageOptions,
    templates: &Templates,
    frags: &mut Fragments,
    reuse: usize,
) -> crate::Result<Shell> {
    let reuse = reuse.min(frags.html.len()).min(session.messages.len());
    frags.text.truncate(reuse);
    let rest: Vec<usize> = session.messages[frags.text.len()..]
        .iter()
        .map(message_text_bytes)
        .collect();
    frags.text.extend(rest);
    let text = frags.text.iter().sum::<usize>()
        + session
            .subagents
            .iter()
            .map(|a| text_bytes(&a.session))
            .sum::<usize>();
    let budget = Budget::new(budget_for(text));
    let (head, tail) = shell_parts(session, opts, templates, &budget)?;
    budget.scope(|| fill_fragments(session, frags, reuse));
    Ok(Shell { head, tail })
}

/// The rendered page template, split where the messages go.
fn shell_parts(
    session: &Session,
    opts: &PageOptions,
    templates: &Templates,
    budget: &Budget,
) -> crate::Result<(String, String)> {
    let others = budget.scope(|| render_unlinked_subagents(session));
    let toc = toc(session);
    let assets = templates.assets(&opts.theme)?;
    // A live page may fetch its own version.json and page, nothing else.
    let connect = if opts.live_version.is_some() {
        "; connect-src 'self'"
    } else {
        ""
    };
    let csp = format!(
        "default-src 'none'; style-src 'sha256-{}'; script-src 'sha256-{}'; img-src data:{connect}; base-uri 'none'; form-action 'none'",
        assets.css_hash, assets.js_hash
    );
    let grand = session.grand_totals();
    let description = session
        .first_prompt()
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .map(|p| p.chars().take(200).collect::<String>())
        .unwrap_or_else(|| {
            format!(
                "A {} session shared with sharegen",
                agent_label(session.agent)
            )
        });
    let ctx = minijinja::context! {
        title => session.title.clone().unwrap_or_else(|| session.id.clone()),
        description => description,
        generator => format!("sharegen {}", env!("CARGO_PKG_VERSION")),
        robots => opts.robots,
        site_name => opts.site_name,
        url => opts.url,
        share_id => opts.share_id,
        live_version => opts.live_version,
        session_updated => session.updated.map(|t| t.to_rfc3339()),
        csp => csp,
        css => minijinja::Value::from_safe_string(assets.css.clone()),
        js => minijinja::Value::from_safe_string(assets.js.clone()),
        meta => header(session, &grand),
        toc => toc,
        messages => minijinja::Value::from_safe_string(MESSAGES_MARK.to_string()),
        other_subagents => minijinja::Value::from_safe_string(others),
    };
    let shell = templates.render("page.html", ctx)?;
    let (head, tail) = shell.split_once(MESSAGES_MARK).unwrap_or((&shell, ""));
    Ok((head.to_string(), tail.to_string()))
}

/// Renders messages batch by batch (each batch in parallel, on rayon's
/// threads, with the page's highlighting budget) and writes them in order.
/// `prefix` makes anchors unique inside nested subagents.
fn write_messages(
    s: &Session,
    prefix: &str,
    depth: usize,
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let each = &mut |h: String, _| w.write_all(h.as_bytes());
    render_batches(
        Msgs::Read(&s.messages),
        &s.subagents,
        prefix,
        depth,
        0,
        each,
    )
}

/// Leaves the HTML of every top-level message of `s` in `frags`, keeping
/// the first `reuse` it holds (their highlighting counts against the
/// budget as when they were rendered).
fn fill_fragments(s: &Session, frags: &mut Fragments, reuse: usize) {
    frags.html.truncate(reuse.min(s.messages.len()));
    if let Some(b) = Budget::current() {
        for (_, spent) in &frags.html {
            b.spend(*spent);
        }
    }
    let start = frags.html.len();
    render_batches(
        Msgs::Read(&s.messages),
        &s.subagents,
        "",
        0,
        start,
        &mut |h, spent| {
            frags.html.push((h, spent));
            Ok(())
        },
    )
    .expect("keeping HTML in memory cannot fail");
}

/// The messages [`render_batches`] renders: read, or spent (each one's
/// parts are dropped once its HTML is handed on).
enum Msgs<'a> {
    Read(&'a [Message]),
    Spend(&'a mut [Message]),
}

impl Msgs<'_> {
    fn all(&self) -> &[Message] {
        match self {
            Msgs::Read(m) => m,
            Msgs::Spend(m) => m,
        }
    }
}

/// Renders `messages` (whose subagents are `subagents`) from `start` on,
/// batch by batch (each batch in parallel, on rayon's threads, with the
/// page's highlighting budget), and hands each one's HTML, with what it
/// spent of the budget, to `each` in order.
fn render_batches(
    mut messages: Msgs,
    subagents: &[Subagent],
    prefix: &str,
    depth: usize,
    start: usize,
    each: &mut dyn FnMut(String, i64) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let first_tool = tool_offsets(messages.all());
    let by_call = subagents_by_call(subagents);
    let ctx = Ctx {
        prefix,
        depth,
        subagents: &by_call,
    };
    let budget = Budget::current();
    let mut base = start;
    while base < messages.all().len() {
        let all = messages.all();
        let end = batch_end(all, base, BATCH_BYTES);
        let one = |k: usize| {
            let i = base + k;
            let html = render_message(&ctx, &all[i], i + 1, first_tool[i]);
            rewound_around(&ctx, all, i, html)
        };
        let html: Vec<(String, i64)> = match &budget {
            Some(b) => b.in_order(end - base, &one),
            None => (0..end - base)
                .into_par_iter()
                .map(|k| (one(k), 0))
                .collect(),
        };
        if let Msgs::Spend(m) = &mut messages {
            m[base..end].iter_mut().for_each(|m| m.parts = Vec::new());
        }
        for (h, spent) in html {
            each(h, spent)?;
        }
        base = end;
    }
    Ok(())
}

/// Where the batch of messages starting at `base` ends: after [`BATCH`]
/// messages, or after the message that brings it to `bytes` of weight
/// (one message at least).
fn batch_end(messages: &[Message], base: usize, bytes: usize) -> usize {
    let (mut end, mut weight) = (base, 0);
    while end < messages.len() && end - base < BATCH && (end == base || weight < bytes) {
        weight += message_weight(&messages[end]);
        end += 1;
    }
    end
}

/// About how many bytes a message's HTML takes: its text
/// ([`message_text_bytes`]) plus inline file data and diffs.
fn message_weight(m: &Message) -> usize {
    let data: usize = m
        .parts
        .iter()
        .map(|p| match p {
            Part::File(f) => f.data.as_ref().map_or(0, String::len),
            Part::Diff(d) => diff_bytes(d),
            Part::ToolCall(c) => c.extras.diffs.iter().map(diff_bytes).sum(),
            _ => 0,
        })
        .sum();
    message_text_bytes(m) + data
}

fn diff_bytes(d: &FileDiff) -> usize {
    [&d.before, &d.after, &d.patch]
        .iter()
        .map(|t| t.as_ref().map_or(0, String::len))
        .sum()
}

/// The number of tool calls before each message (tool anchors count on
/// across messages).
fn tool_offsets(messages: &[Message]) -> Vec<usize> {
    let mut first_tool = Vec::with_capacity(messages.len());
    let mut n = 0usize;
    for m in messages {
        first_tool.push(n);
        n += m
            .parts
            .iter()
            .filter(|p| matches!(p, Part::ToolCall(_)))
            .count();
    }
    first_tool
}

/// The subagents each call spawned (a workflow's run spawns several), in
/// order.
fn subagents_by_call(subagents: &[Subagent]) -> HashMap<&str, Vec<&Subagent>> {
    let mut by: HashMap<&str, Vec<&Subagent>> = HashMap::new();
    for a in subagents {
        if let Some(id) = a.tool_call_id.as_deref() {
            by.entry(id).or_default().push(a);
        }
    }
    by
}

/// How many bytes of code one page highlights: 1/24 of the session's
/// text, at least 48 KB and at most 256 KB. Highlighting adds about 2.5
/// bytes of markup per byte it colours, and a text-heavy page is about
/// 1.38× its text without it: 1/24 keeps such a page under 1.5× its text
/// (the floor lets small sessions have some colour, the cap bounds the
/// time of huge ones). A bigger session never gets a smaller budget. Past
/// it, code is shown as plain text (see [`Budget`]).
pub fn highlight_budget(s: &Session) -> usize {
    budget_for(text_bytes(s))
}

/// The highlighting budget of a page with `text` bytes of text.
fn budget_for(text: usize) -> usize {
    (text / 24).clamp(48 * 1024, 256 * 1024)
}

/// The bytes of text of a session, subagents included.
fn text_bytes(s: &Session) -> usize {
    s.messages.iter().map(message_text_bytes).sum::<usize>()
        + s.subagents
            .iter()
            .map(|a| text_bytes(&a.session))
            .sum::<usize>()
}

/// The bytes of text of one message (prose, reasoning, notices, tool
/// output and file contents).
fn message_text_bytes(m: &Message) -> usize {
    m.parts
        .iter()
        .map(|p| match p {
            Part::Text { text } | Part::Reasoning { text, .. } | Part::Notice { text, .. } => {
                text.len()
            }
            Part::ToolCall(c) => {
                c.output.as_ref().map_or(0, String::len)
                    + c.extras.file.as_ref().map_or(0, |f| f.content.len())
            }
            _ => 0,
        })
        .sum()
}

#[derive(Serialize)]
struct Header {
    agent: String,
    session_id: String,
    models: Vec<String>,
    project: Option<String>,
    branch: Option<String>,
    created: Option<String>,
    created_iso: Option<String>,
    updated: Option<String>,
    updated_iso: Option<String>,
    duration: Option<String>,
    messages: usize,
    prompts: usize,
    tool_calls: usize,
    subagents: usize,
    agent_version: Option<String>,
    tokens: Option<Vec<(String, String)>>,
    cost: Option<String>,
}

fn count_subagents(s: &Session) -> usize {
    s.subagents
        .iter()
        .map(|a| 1 + count_subagents(&a.session))
        .sum()
}

fn header(s: &Session, totals: &Usage) -> Header {
    let fmt = |t: &chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
    let tokens = (!totals.is_empty()).then(|| {
        let mut v = vec![
            ("input".to_string(), human(totals.input)),
            ("output".to_string(), human(totals.output)),
        ];
        if totals.cache_read > 0 {
            v.push(("cache read".into(), human(totals.cache_read)));
        }
        if totals.cache_write > 0 {
            v.push(("cache write".into(), human(totals.cache_write)));
        }
        if totals.reasoning > 0 {
            v.push(("reasoning".into(), human(totals.reasoning)));
        }
        v
    });
    Header {
        agent: agent_label(s.agent).into(),
        session_id: s.id.clone(),
        models: s.models.clone(),
        project: s.project.as_deref().map(tilde),
        branch: s.git_branch.clone(),
        created: s.created.as_ref().map(fmt),
        created_iso: s.created.map(|t| t.to_rfc3339()),
        updated: s.updated.as_ref().map(fmt),
        updated_iso: s.updated.map(|t| t.to_rfc3339()),
        duration: match (s.created, s.updated) {
            (Some(a), Some(b)) if b > a => Some(duration((b - a).num_seconds() as u64)),
            _ => None,
        },
        messages: s.messages.iter().filter(|m| m.role != Role::System).count(),
        prompts: prompts(s).len(),
        tool_calls: s.tool_call_count(),
        subagents: count_subagents(s),
        agent_version: s.agent_version.clone(),
        tokens,
        cost: totals.cost.filter(|c| *c > 0.0).map(|c| format!("${c:.2}")),
    }
}

pub fn agent_label(a: Agent) -> &'static str {
    match a {
        Agent::ClaudeCode => "Claude Code",
        Agent::Opencode => "OpenCode",
        Agent::Codex => "Codex CLI",
        Agent::Gemini => "Gemini CLI",
        Agent::Antigravity => "Antigravity CLI",
    }
}

/// 1234567 → "1.2M".
pub fn human(n: u64) -> String {
    match n {
        0..1_000 => n.to_string(),
        1_000..1_000_000 => format!("{:.1}k", n as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1}M", n as f64 / 1e6),
        _ => format!("{:.1}B", n as f64 / 1e9),
    }
}

/// Seconds → "1h 02m", "3m 05s", "12s".
pub fn duration(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    if h > 0 {
        format!("{h}h {m:02}m")
    } else if m > 0 {
        format!("{m}m {s:02}s")
    } else {
        format!("{s}s")
    }
}

/// Indices of the messages that hold a prompt the user typed.
fn prompts(s: &Session) -> Vec<usize> {
    s.messages
        .iter()
        .enumerate()
        .filter(|(_, m)| {
            m.role == Role::User && m.parts.iter().any(|p| matches!(p, Part::Text { .. }))
        })
        .map(|(i, _)| i)
        .collect()
}

#[derive(Serialize)]
struct TocEntry {
    anchor: String,
    text: String,
    time: Option<String>,
    rewound: bool,
}

fn toc(s: &Session) -> Vec<TocEntry> {
    prompts(s)
        .into_iter()
        .map(|i| {
            let m = &s.messages[i];
            let text = m
                .parts
                .iter()
                .find_map(|p| match p {
                    Part::Text { text } => Some(text.as_str()),
                    _ => None,
                })
                .unwrap_or("");
            // Enough of the prompt for 90 characters of text.
            let mut cut = text.len().min(2048);
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            let one = markdown::plain_text(&text[..cut]);
            let mut short: String = one.chars().take(90).collect();
            if one.chars().count() > 90 {
                short.push('…');
            }
            TocEntry {
                anchor: format!("m-{}", i + 1),
                text: short,
                time: m.time.map(|t| t.format("%H:%M").to_string()),
                rewound: m.rewound,
            }
        })
        .collect()
}

/// Renders a session's messages. `prefix` makes anchors unique inside
/// nested subagents; `depth` limits nesting.
pub fn render_messages(s: &Session, prefix: &str, depth: usize) -> String {
    let mut out = Vec::new();
    write_messages(s, prefix, depth, &mut out).expect("writing to memory cannot fail");
    String::from_utf8(out).expect("pages are UTF-8")
}

/// Subagents no tool call points at, rendered at the end.
fn render_unlinked_subagents(s: &Session) -> String {
    let mut out = String::new();
    for (k, a) in s.subagents.iter().enumerate() {
        if a.tool_call_id.is_none() {
            out.push_str(&subagent_block(a, &format!("u{}-", k + 1), 1));
        }
    }
    out
}

struct Ctx<'a> {
    prefix: &'a str,
    depth: usize,
    subagents: &'a HashMap<&'a str, Vec<&'a Subagent>>,
}

/// Whether a notice is a background agent's report (`<result>`,
/// `<summary>`), which shows like a message.
fn is_task_report(kind: NoticeKind, text: &str) -> bool {
    kind == NoticeKind::TaskNotification
        && (text.contains("<result>") || text.contains("<summary>"))
}

/// A task notification's summary (or status), result, and the rest of its
/// text with those two elements taken out.
fn task_report(text: &str) -> (String, String, String) {
    fn take(text: &mut String, tag: &str) -> Option<String> {
        let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
        let a = text.find(&open)?;
        let b = a + text[a..].find(&close)?;
        let inner = text[a + open.len()..b].trim().to_string();
        text.replace_range(a..b + close.len(), "");
        Some(inner)
    }
    let mut rest = text.to_string();
    let summary = take(&mut rest, "summary");
    let result = take(&mut rest, "result").unwrap_or_default();
    let summary = summary
        .or_else(|| {
            let a = rest.find("<status>")? + "<status>".len();
            let b = a + rest[a..].find("</status>")?;
            Some(format!("Task {}", rest[a..b].trim()))
        })
        .unwrap_or_else(|| "Task".into());
    (summary, result, rest)
}

/// Notices shown while the others are hidden (class `keep`): what went
/// wrong, the user stopping the agent, the shell commands the user ran
/// (`!` in Claude Code) with their output, and the commands the user typed
/// (`/review this pr`: often the request the work answers).
fn shown_notice(kind: NoticeKind) -> bool {
    matches!(
        kind,
        NoticeKind::Error
            | NoticeKind::Warning
            | NoticeKind::Interrupted
            | NoticeKind::Shell
            | NoticeKind::Command
    )
}

fn role_label(m: &Message) -> &'static str {
    let teammate = |p: &Part| {
        matches!(
            p,
            Part::Notice {
                kind: NoticeKind::Teammate,
                ..
            }
        )
    };
    // Messages from the team arrive as the harness's: named for who sent them.
    if m.role != Role::Assistant
        && m.parts.iter().any(teammate)
        && !m.parts.iter().any(|p| matches!(p, Part::Text { .. }))
    {
        return "Teammate";
    }
    match m.role {
        Role::User => "User",
        Role::Assistant => "Assistant",
        Role::System => {
            if m.parts.iter().all(|p| matches!(p, Part::Compaction { .. })) {
                "Compaction"
            } else {
                "System"
            }
        }
    }
}

/// Whether every part of `m` is a notice hidden with the harness's (shown
/// by the System filter). A teammate's message is not harness text, and
/// errors, warnings and interruptions show too (see `part`).
fn only_notices(m: &Message) -> bool {
    m.parts.iter().all(|p| {
        matches!(p, Part::Notice { kind, text } if *kind != NoticeKind::Teammate && !shown_notice(*kind) && !is_task_report(*kind, text))
            || matches!(p, Part::StepStats { .. } | Part::Unknown { .. })
    })
}

/// `html`, the message at `i` of `all`, inside the collapsed block of the
/// rewound branch it is on: opened before the branch's first message,
/// closed after its last.
fn rewound_around(ctx: &Ctx, all: &[Message], i: usize, html: String) -> String {
    if !all[i].rewound {
        return html;
    }
    let starts = i == 0 || !all[i - 1].rewound;
    let ends = i + 1 == all.len() || !all[i + 1].rewound;
    let mut out = String::with_capacity(html.len() + 256);
    if starts {
        let run = &all[i..];
        let len = run.iter().take_while(|m| m.rewound).count();
        let shown = run[..len].iter().filter(|m| !only_notices(m)).count();
        out.push_str(&format!(
            "<details class=\"rewound\" id=\"{}rw-{}\"><summary><span class=\"rw\">Rewound</span> · {shown} message{} · the user went back to before {} and went on differently</summary>",
            ctx.prefix,
            i + 1,
            if shown == 1 { "" } else { "s" },
            if shown == 1 { "it" } else { "them" },
        ));
    }
    out.push_str(&html);
    if ends {
        out.push_str("</details>");
    }
    out
}

fn render_message(ctx: &Ctx, m: &Message, index: usize, first_tool: usize) -> String {
    let anchor = format!("{}m-{index}", ctx.prefix);
    let role = match m.role {
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::System => "system",
    };
    let only_notices = only_notices(m);
    let mut out = String::with_capacity(512);
    out.push_str("<article class=\"msg ");
    out.push_str(role);
    if only_notices {
        out.push_str(" notice-only");
    }
    out.push_str("\" id=\"");
    out.push_str(&anchor);
    out.push_str("\"><header class=\"mh\"><span class=\"role\">");
    out.push_str(role_label(m));
    out.push_str("</span>");
    if let Some(model) = &m.model {
        out.push_str("<span class=\"model\">");
        escape_into(&mut out, model);
        out.push_str("</span>");
    }
    if let Some(t) = m.time {
        out.push_str(&format!("<time>{}</time>", t.format("%Y-%m-%d %H:%M:%S")));
    }
    out.push_str("</header><div class=\"parts\">");
    let mut tool_n = first_tool;
    for p in &m.parts {
        if let Part::ToolCall(c) = p {
            tool_n += 1;
            out.push_str(&tool_call(ctx, c, &format!("{}t-{tool_n}", ctx.prefix)));
        } else {
            out.push_str(&part(p, m.role == Role::User));
        }
    }
    out.push_str("</div></article>");
    out
}

/// One part of a message; `typed`: written by a person, whose line breaks
/// are kept (Markdown would join the lines of a paragraph).
fn part(p: &Part, typed: bool) -> String {
    let mut out = String::new();
    match p {
        Part::Text { text } => {
            out.push_str("<div class=\"md\">");
            if typed {
                out.push_str(&markdown::to_html_keeping_lines(text));
            } else {
                out.push_str(&markdown::to_html(text));
            }
            out.push_str("</div>");
        }
        Part::Reasoning { text, state } => {
            match state {
                ReasoningState::Recorded => {
                    out.push_str("<details class=\"reasoning\"><summary>Thinking</summary><div class=\"md\">");
                    out.push_str(&markdown::to_html(text));
                    out.push_str("</div></details>");
                }
                ReasoningState::Empty => {
                    out.push_str("<div class=\"reasoning marker\">Thinking (not recorded)</div>");
                }
                ReasoningState::Redacted => {
                    out.push_str(
                        "<div class=\"reasoning marker\">Thinking (redacted by the provider)</div>",
                    );
                }
            }
        }
        Part::ToolCall(_) => {}
        Part::File(f) => out.push_str(&file_part(f)),
        Part::Diff(d) => {
            let hunks = super::diff::hunks_for(d);
            let (a, r) = super::diff::stats(&hunks);
            out.push_str("<details class=\"tool k-patch\"><summary><span class=\"tname\">Changed</span> <code class=\"targ\">");
            escape_into(&mut out, &d.path);
            out.push_str(&format!(
                "</code> <span class=\"add\">+{}</span> <span class=\"del\">−{}</span></summary><div class=\"tbody\">",
                d.additions.unwrap_or(a),
                d.deletions.unwrap_or(r)
            ));
            out.push_str(&super::diff::table(&hunks));
            out.push_str("</div></details>");
        }
        Part::Compaction {
            summary,
            trigger,
            pre_tokens,
        } => {
            out.push_str("<div class=\"compaction\"><details><summary>Context compacted");
            let mut bits = Vec::new();
            if let Some(t) = trigger {
                bits.push(escape(t));
            }
            if let Some(n) = pre_tokens {
                bits.push(format!("{} tokens before", human(*n)));
            }
            if !bits.is_empty() {
                out.push_str(&format!(" ({})", bits.join(", ")));
            }
            out.push_str("</summary>");
            match summary {
                Some(s) => {
                    out.push_str("<div class=\"md\">");
                    out.push_str(&markdown::to_html(s));
                    out.push_str("</div>");
                }
                None => out.push_str("<p class=\"note\">No summary was recorded.</p>"),
            }
            out.push_str("</details></div>");
        }
        Part::Notice {
            kind: NoticeKind::Teammate,
            text,
        } => {
            // Another agent's words: shown, in Markdown, under its sender.
            let (head, body) = text.split_once("\n\n").unwrap_or((text.as_str(), ""));
            out.push_str(
                "<div class=\"teammate\"><p class=\"from\"><span class=\"nlabel\">From</span> ",
            );
            escape_into(&mut out, head);
            out.push_str("</p><div class=\"md\">");
            out.push_str(&markdown::to_html(body));
            out.push_str("</div></div>");
        }
        Part::Notice {
            kind: NoticeKind::TaskNotification,
            text,
        } if is_task_report(NoticeKind::TaskNotification, text) => {
            // A background agent's report: its summary, its result in
            // Markdown, and the rest (id, status, usage) as it came.
            let (summary, result, rest) = task_report(text);
            out.push_str("<div class=\"notice n-task_notification keep\"><details open><summary><span class=\"nlabel\">Task notification</span> ");
            escape_into(&mut out, &summary);
            out.push_str("</summary>");
            if !result.is_empty() {
                out.push_str("<div class=\"md\">");
                out.push_str(&markdown::to_html(&result));
                out.push_str("</div>");
            }
            if !rest.trim().is_empty() {
                out.push_str(&tools::clipped_pre(
                    &tools::plain_lines(rest.trim()),
                    "out",
                    None,
                    None,
                ));
            }
            out.push_str("</details></div>");
        }
        Part::Notice { kind, text } => {
            let k = serde_json::to_value(kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let label = match kind {
                NoticeKind::SystemReminder => "System reminder",
                NoticeKind::Command => "Command",
                NoticeKind::CommandOutput => "Command output",
                NoticeKind::Shell => "Shell",
                NoticeKind::Hook => "Hook",
                NoticeKind::Injected => "Injected context",
                NoticeKind::Interrupted => "Interrupted",
                NoticeKind::TaskNotification => "Task notification",
                NoticeKind::Teammate => "Teammate",
                NoticeKind::Error => "Error",
                NoticeKind::Warning => "Warning",
                NoticeKind::Other => "Notice",
            };
            let short = text.len() < 160 && !text.contains('\n');
            // What went wrong, and the user stopping the agent, are part of
            // the story: they show even while the harness's notices hide.
            let keep = if shown_notice(*kind) { " keep" } else { "" };
            out.push_str(&format!("<div class=\"notice n-{k}{keep}\">"));
            if short {
                out.push_str(&format!("<span class=\"nlabel\">{label}</span> "));
                out.push_str(&super::ansi::ansi_to_html(text));
            } else {
                out.push_str(&format!(
                    "<details><summary><span class=\"nlabel\">{label}</span> "
                ));
                let first: String = text
                    .lines()
                    .next()
                    .unwrap_or("")
                    .chars()
                    .take(100)
                    .collect();
                escape_into(&mut out, &super::ansi::strip_ansi(&first));
                out.push_str("</summary>");
                let lines: Vec<String> = super::ansi::ansi_to_html(text)
                    .split('\n')
                    .map(str::to_string)
                    .collect();
                out.push_str(&tools::clipped_pre(&lines, "out", None, None));
                out.push_str("</details>");
            }
            out.push_str("</div>");
        }
        Part::StepStats { usage, finish } => {
            out.push_str("<div class=\"step\">");
            out.push_str(&format!(
                "step: {} in, {} out",
                human(usage.input + usage.cache_read),
                human(usage.output)
            ));
            if let Some(c) = usage.cost.filter(|c| *c > 0.0) {
                out.push_str(&format!(", ${c:.4}"));
            }
            if let Some(f) = finish {
                out.push_str(", ");
                escape_into(&mut out, f);
            }
            out.push_str("</div>");
        }
        Part::Unknown { kind, raw } => {
            out.push_str("<details class=\"unknown\"><summary>Unrecognised record: <code>");
            escape_into(&mut out, kind);
            out.push_str("</code></summary>");
            let s = serde_json::to_string_pretty(raw).unwrap_or_default();
            out.push_str("<pre class=\"src\">");
            out.push_str(&super::highlight::highlight_code(&s, Some("json")));
            out.push_str("</pre></details>");
        }
    }
    out
}

/// An attached file or image. Images under the cap are embedded; remote
/// images and larger ones become links or a note.
pub fn file_part(f: &FilePart) -> String {
    let mut out = String::from("<div class=\"file\">");
    let mime = f.mime.as_deref().unwrap_or("");
    let name = f.name.clone().unwrap_or_else(|| {
        if mime.is_empty() {
            "file".into()
        } else {
            mime.to_string()
        }
    });
    match (&f.data, &f.url) {
        (Some(data), _) if mime.starts_with("image/") && is_raster(mime) => {
            let approx = data.len() / 4 * 3;
            if approx > IMAGE_CAP_BYTES {
                out.push_str(&format!(
                    "<p class=\"note\">Image ({}, {}) too large to embed.</p>",
                    escape(mime),
                    human_bytes(approx)
                ));
            } else if is_base64(data.trim()) {
                out.reserve(data.len() + name.len() + mime.len() + 64);
                out.push_str("<img alt=\"");
                escape_into(&mut out, &name);
                out.push_str("\" src=\"data:");
                escape_into(&mut out, mime);
                out.push_str(";base64,");
                escape_into(&mut out, data.trim());
                out.push_str("\">");
            } else {
                out.push_str("<p class=\"note\">Image data could not be decoded.</p>");
            }
        }
        (Some(data), _) => {
            out.push_str("<p class=\"note\">Attached ");
            escape_into(&mut out, &name);
            out.push_str(&format!(" ({})</p>", human_bytes(data.len() / 4 * 3)));
        }
        (None, Some(url)) if url.starts_with("data:") => {
            // An inline data URL: embed raster images under the cap.
            let is_img = url.starts_with("data:image/")
                && is_raster(
                    url.trim_start_matches("data:")
                        .split(';')
                        .next()
                        .unwrap_or(""),
                );
            // Only real base64 after the comma: nothing else of the URL
            // reaches the `src` attribute.
            let b64 = url.split_once(";base64,").map(|(_, b)| b.trim());
            if is_img && url.len() / 4 * 3 <= IMAGE_CAP_BYTES && b64.is_some_and(is_base64) {
                out.reserve(url.len() + name.len() + 64);
                out.push_str("<img alt=\"");
                escape_into(&mut out, &name);
                out.push_str("\" src=\"");
                escape_into(&mut out, url);
                out.push_str("\">");
            } else {
                out.push_str("<p class=\"note\">Attached ");
                escape_into(&mut out, &name);
                out.push_str("</p>");
            }
        }
        (None, Some(url)) => {
            out.push_str("<span class=\"label\">Attachment:</span> ");
            if markdown::safe_href(url) {
                out.push_str("<a href=\"");
                escape_into(&mut out, url);
                out.push_str("\" rel=\"noopener noreferrer nofollow\">");
                escape_into(&mut out, &name);
                out.push_str("</a>");
            } else {
                escape_into(&mut out, url);
            }
        }
        (None, None) => {
            out.push_str("<p class=\"note\">Attachment ");
            escape_into(&mut out, &name);
            out.push_str(" (content not recorded)</p>");
        }
    }
    out.push_str("</div>");
    out
}

/// Whether `s` is standard, padded base64, as `STANDARD.decode(s)` would
/// accept it, checked a few KB at a time instead of decoding a megabytes-long
/// image into memory.
fn is_base64(s: &str) -> bool {
    use base64::engine::general_purpose::STANDARD;
    const CHUNK: usize = 4096; // a multiple of 4
    let mut buf = [0u8; CHUNK / 4 * 3];
    let mut chunks = s.as_bytes().chunks(CHUNK).peekable();
    while let Some(chunk) = chunks.next() {
        let last = chunks.peek().is_none();
        // Padding ends the data: none before the last chunk.
        if !last && chunk.contains(&b'=') {
            return false;
        }
        if STANDARD.decode_slice(chunk, &mut buf).is_err() {
            return false;
        }
    }
    true
}

fn is_raster(mime: &str) -> bool {
    matches!(
        mime,
        "image/png"
            | "image/jpeg"
            | "image/jpg"
            | "image/gif"
            | "image/webp"
            | "image/bmp"
            | "image/avif"
    )
}

fn human_bytes(n: usize) -> String {
    match n {
        0..1024 => format!("{n} B"),
        1024..1_048_576 => format!("{:.1} KB", n as f64 / 1024.0),
        _ => format!("{:.1} MB", n as f64 / 1_048_576.0),
    }
}

fn tool_call(ctx: &Ctx, c: &ToolCall, anchor: &str) -> String {
    let kind = ToolKind::of(&c.name);
    let status = match c.status {
        ToolStatus::Completed => "completed",
        ToolStatus::Error => "error",
        ToolStatus::Pending => "pending",
        ToolStatus::Running => "running",
    };
    let mut out = String::with_capacity(1024);
    out.push_str(&format!(
        "<details class=\"tool k-{} s-{status}\" id=\"{anchor}\"><summary><span class=\"tname\">",
        kind.class()
    ));
    escape_into(&mut out, &c.name);
    out.push_str("</span> <code class=\"targ\">");
    escape_into(&mut out, &tools::key_arg(c));
    out.push_str("</code>");
    match c.status {
        // Turned down, not failed: what it would have done did not happen.
        ToolStatus::Error if tools::rejected(c) => {
            out.push_str(" <span class=\"badge warn\">rejected</span>")
        }
        ToolStatus::Error => out.push_str(" <span class=\"badge err\">error</span>"),
        ToolStatus::Pending | ToolStatus::Running => {
            out.push_str(" <span class=\"badge warn\">no result</span>")
        }
        ToolStatus::Completed => {}
    }
    if let Some(code) = c.extras.exit_code {
        let class = if code == 0 { "ok" } else { "err" };
        out.push_str(&format!(
            " <span class=\"badge {class}\">exit {code}</span>"
        ));
    }
    if c.extras.interrupted == Some(true) {
        out.push_str(" <span class=\"badge warn\">interrupted</span>");
    }
    if let Some(ms) = c.duration_ms.filter(|ms| *ms >= 1000) {
        out.push_str(&format!(
            " <span class=\"dur\">{}</span>",
            duration(ms / 1000)
        ));
    }
    out.push_str("</summary>");
    out.push_str("<div class=\"tbody\">");
    let subs = ctx
        .subagents
        .get(c.id.as_str())
        .map_or(&[][..], Vec::as_slice);
    let prompt_below = subs
        .first()
        .is_some_and(|s| tools::opens_with_prompt(c, &s.session));
    out.push_str(&tools::body_opts(c, !prompt_below));
    for (k, sub) in subs.iter().enumerate() {
        // The first keeps the anchor a call with one subagent has.
        let prefix = if k == 0 {
            format!("{anchor}-")
        } else {
            format!("{anchor}-{}-", k + 1)
        };
        out.push_str(&subagent_block(sub, &prefix, ctx.depth + 1));
    }
    out.push_str("</div></details>");
    out
}

fn subagent_block(a: &Subagent, prefix: &str, depth: usize) -> String {
    let s = &a.session;
    let mut out = String::new();
    let id = format!("{prefix}sub");
    out.push_str(&format!(
        "<details class=\"subagent\" id=\"{id}\"><summary><span class=\"tname\">Subagent</span> "
    ));
    let label = [a.agent_type.as_deref(), a.description.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" — ");
    escape_into(&mut out, if label.is_empty() { &s.id } else { &label });
    // Every message the block shows, notices included.
    let msgs = s.messages.len();
    let plural = if msgs == 1 { "" } else { "s" };
    out.push_str(&format!(
        " <span class=\"dur\">{msgs} message{plural}</span></summary>"
    ));
    if depth > 8 {
        out.push_str("<p class=\"note\">Nested too deeply to show.</p>");
    } else {
        out.push_str("<div class=\"nested\">");
        out.push_str(&render_messages(s, prefix, depth));
        for (k, child) in s.subagents.iter().enumerate() {
            if child.tool_call_id.is_none() {
                out.push_str(&subagent_block(
                    child,
                    &format!("{prefix}u{}-", k + 1),
                    depth + 1,
                ));
            }
        }
        out.push_str("</div>");
    }
    out.push_str("</details>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text_bytes: usize, image_bytes: usize) -> Message {
        let mut m = Message::new(Role::Assistant);
        m.parts.push(Part::text("x".repeat(text_bytes)));
        if image_bytes > 0 {
            m.parts.push(Part::File(FilePart {
                mime: Some("image/png".into()),
                name: None,
                data: Some("A".repeat(image_bytes)),
                url: None,
            }));
        }
        m
    }

    #[test]
    fn base64_is_checked_as_decoding_would() {
        use base64::engine::general_purpose::STANDARD;
        let long = STANDARD.encode((0..10_000u32).map(|i| (i * 7) as u8).collect::<Vec<u8>>());
        let mut cases = vec![
            String::new(),
            "QQ==".into(),
            "QUI=".into(),
            "QUJD".into(),
            "QQ".into(),
            "QR==".into(),
            "Q===".into(),
            "QQ==QUJD".into(),
            "QU JD".into(),
            long.clone(),
            format!("{long}="),
            format!("{}{}", &long[..4092], &long[4096..]),
            // A first chunk that ends in valid padding, then more data.
            STANDARD.encode([7u8; 3070]) + "QUJD",
        ];
        // Padding or a bad byte just before and after a chunk boundary.
        for at in [4094, 4095, 4096, 4097, 8191] {
            for b in ['=', '*', 'é'] {
                let mut c = long.clone();
                c.replace_range(at..at + 1, &b.to_string());
                cases.push(c);
            }
        }
        for c in cases {
            assert_eq!(
                is_base64(&c),
                STANDARD.decode(&c).is_ok(),
                "{:?}",
                &c[..c.len().min(20)]
            );
        }
    }

    #[test]
    fn counts_of_one_are_singular_and_count_every_message_shown() {
        let mut s = Session::new(Agent::ClaudeCode, "plural");
        let mut m = Message::new(Role::User);
        m.parts.push(Part::text("hello"));
        s.messages.push(m);
        let mut child = Session::new(Agent::ClaudeCode, "child");
        let mut notice = Message::new(Role::System);
        notice.parts.push(Part::text("a notice"));
        child.messages.push(notice);
        s.subagents.push(Subagent {
            tool_call_id: None,
            agent_type: None,
            description: None,
            session: Box::new(child),
        });
        let page = page_of(&s);
        assert!(page.contains("(1 prompt)"), "{page}");
        assert!(page.contains(">1 message</span>"), "{page}");
    }

    /// The page of `s` with the built-in templates and default options.
    fn page_of(s: &Session) -> String {
        let templates = Templates::new(None).unwrap();
        render_page(s, &PageOptions::default(), &templates).unwrap()
    }

    /// A subagent's prompt shows once: the nested conversation opens with
    /// it, so the call does not repeat it.
    #[test]
    fn a_subagents_prompt_is_not_shown_twice() {
        let mut s = Session::new(Agent::ClaudeCode, "task");
        let mut m = Message::new(Role::Assistant);
        m.parts.push(Part::ToolCall(Box::new(crate::model::ToolCall {
            id: "call-1".into(),
            name: "Task".into(),
            input: serde_json::json!({"description": "look", "prompt": "Find the zanzibar file."}),
            output: Some("Found it.".into()),
            status: crate::model::ToolStatus::Completed,
            title: None,
            duration_ms: None,
            extras: Default::default(),
        })));
        s.messages.push(m);
        let mut child = Session::new(Agent::ClaudeCode, "child");
        let mut first = Message::new(Role::User);
        first.parts.push(Part::text("Find the zanzibar file."));
        child.messages.push(first);
        s.subagents.push(Subagent {
            tool_call_id: Some("call-1".into()),
            agent_type: None,
            description: None,
            session: Box::new(child),
        });
        let page = page_of(&s);
        assert_eq!(page.matches("Find the zanzibar file.").count(), 1, "{page}");
    }

    #[test]
    fn a_teammates_message_shows_under_its_sender() {
        let mut s = Session::new(Agent::ClaudeCode, "team");
        let mut m = Message::new(Role::System);
        m.parts.push(Part::notice(
            NoticeKind::Teammate,
            "alice — tests done\n\nCoverage is **96%**.",
        ));
        s.messages.push(m);
        let page = page_of(&s);
        assert!(
            page.contains("<span class=\"role\">Teammate</span>"),
            "{page}"
        );
        assert!(page.contains("alice — tests done"), "{page}");
        assert!(page.contains("<strong>96%</strong>"), "{page}");
        // Not harness text: the message is not hidden with the notices.
        assert!(page.contains("<article class=\"msg system\" "), "{page}");
    }

    /// A session with more text never gets a smaller highlighting budget:
    /// one with 2.1 MB of text used to get 48 KB where one with 2 MB got
    /// 256 KB.
    #[test]
    fn the_budget_never_shrinks_as_the_text_grows() {
        let mb = 1024 * 1024;
        assert_eq!(budget_for(0), 48 * 1024);
        assert_eq!(budget_for(mb), 48 * 1024);
        assert_eq!(budget_for(2 * mb + mb / 10), (2 * mb + mb / 10) / 24);
        assert_eq!(budget_for(6 * mb), 256 * 1024);
        assert_eq!(budget_for(1024 * mb), 256 * 1024);
        let mut last = 0;
        for step in 0..4096 {
            let b = budget_for(step * 64 * 1024);
            assert!(b >= last, "budget fell to {b} at {step} x 64 KB of text");
            last = b;
        }
    }

    /// Past the highlighting budget, the blocks highlighted are the first
    /// ones in the page, and the page is the same on any number of threads.
    #[test]
    fn the_budget_goes_to_the_first_blocks_on_any_number_of_threads() {
        let mut s = Session::new(Agent::ClaudeCode, "budget");
        let mut sizes = Vec::new();
        // More messages than a batch holds, each with its own Python block.
        for i in 0..300 {
            let body = format!("v{i} = {i}\n{}", "total = total + v * 2\n".repeat(i % 9));
            sizes.push(body.len() - 1);
            let mut m = Message::new(Role::Assistant);
            m.parts
                .push(Part::text(format!("Step {i}:\n\n```python\n{body}```\n")));
            s.messages.push(m);
        }
        let budget = 20_000;
        let mut taken = 0;
        let fits = sizes
            .iter()
            .take_while(|n| {
                taken += *n;
                taken <= budget
            })
            .count();
        assert!(fits > 10 && fits < 250, "{fits}");
        let mut pages = Vec::new();
        for threads in [1, 2, 4, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let b = Budget::new(budget);
            pages.push(pool.install(|| b.scope(|| render_messages(&s, "", 0))));
        }
        let highlighted: Vec<bool> = pages[0]
            .match_indices("<pre><code")
            .map(|(at, _)| pages[0][at..].starts_with("<pre><code class=\"hl-"))
            .collect();
        assert_eq!(highlighted.len(), 300);
        let want: Vec<bool> = (0..300).map(|i| i < fits).collect();
        assert_eq!(highlighted, want);
        for (k, p) in pages.iter().enumerate().skip(1) {
            assert!(p == &pages[0], "page {k} differs");
        }
    }

    #[test]
    fn batches_end_at_their_count_or_their_bytes() {
        let small: Vec<Message> = (0..600).map(|_| message(10, 0)).collect();
        assert_eq!(batch_end(&small, 0, BATCH_BYTES), BATCH);
        assert_eq!(batch_end(&small, 512, BATCH_BYTES), 600);
        // An image counts with its data; a batch holds one message at least.
        let big = vec![
            message(10, 300),
            message(10, 0),
            message(10, 0),
            message(500, 0),
        ];
        assert_eq!(batch_end(&big, 0, 300), 1);
        assert_eq!(batch_end(&big, 0, 315), 2);
        assert_eq!(batch_end(&big, 1, 15), 3);
        assert_eq!(batch_end(&big, 3, 1), 4);
    }
}
