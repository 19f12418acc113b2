//! Antigravity CLI (`agy`), Gemini CLI's successor: transcripts at
//! `~/.gemini/antigravity-cli/brain/<conversation id>/.system_generated/logs/`,
//! `transcript_full.jsonl` (tool arguments as JSON) preferred over
//! `transcript.jsonl` (every argument value JSON-encoded in a string).
//! `history.jsonl` beside `brain/` indexes prompts with their workspace.
//!
//! Each line is a step: `USER_INPUT` (the prompt inside `<USER_REQUEST>`,
//! settings changes and other context in sibling tags), `PLANNER_RESPONSE`
//! (thinking, text, tool calls), result steps (`RUN_COMMAND`, `VIEW_FILE`,
//! …) that answer the calls before them in order (there are no call ids),
//! `CHECKPOINT` (compaction) and system steps. Steps carry no token counts
//! and no model; the model is read from `<USER_SETTINGS_CHANGE>` text.
//!
//! The format is closed; this follows the third-party readers named in
//! the format notes and may miss fields they do not know.

use super::list_cache::ListCache;
use super::{Held, LiveLoad, PathMatch, Served, SessionRef, Source, jsonl};
use crate::diag::Diag;
use crate::error::Result;
use crate::model::*;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::io::BufRead;
use std::path::{Path, PathBuf};

const CACHE_FILE: &str = "antigravity-list.json";
// 2: titles without Markdown marks.
const CACHE_VERSION: u32 = 2;
const LOGS: &str = ".system_generated/logs";

pub struct Antigravity {
    /// The `antigravity-cli` folder.
    root: PathBuf,
    cache_dir: Option<PathBuf>,
    held: Held,
}

impl Antigravity {
    pub fn new(root: PathBuf) -> Antigravity {
        Antigravity {
            root,
            cache_dir: None,
            held: Held::default(),
        }
    }

    /// Keeps the listing cache in `dir`.
    pub fn with_cache(mut self, dir: Option<PathBuf>) -> Antigravity {
        self.cache_dir = dir;
        self
    }

    fn brain(&self) -> PathBuf {
        self.root.join("brain")
    }

    fn transcripts(&self) -> Vec<PathBuf> {
        let Ok(rd) = std::fs::read_dir(self.brain()) else {
            return Vec::new();
        };
        let mut v: Vec<PathBuf> = rd
            .filter_map(|e| e.ok())
            .filter_map(|e| transcript_in(&e.path()))
            .collect();
        v.sort();
        v
    }
}

/// The transcript of a conversation folder, the full one preferred.
fn transcript_in(conversation: &Path) -> Option<PathBuf> {
    let logs = conversation.join(LOGS);
    ["transcript_full.jsonl", "transcript.jsonl"]
        .iter()
        .map(|n| logs.join(n))
        .find(|p| p.is_file())
}

/// The conversation id of a transcript: its `brain/<id>` folder's name.
fn conversation_id(path: &Path) -> String {
    path.ancestors()
        .nth(3)
        .filter(|p| p.parent().is_some_and(|b| b.ends_with("brain")))
        .and_then(|p| p.file_name())
        .or_else(|| path.file_stem())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `history.jsonl`: conversation id → (first prompt, workspace).
fn history(root: &Path, diag: &Diag) -> HashMap<String, (Option<String>, Option<String>)> {
    let path = root.join("history.jsonl");
    let mut out: HashMap<String, (Option<String>, Option<String>)> = HashMap::new();
    if !path.is_file() {
        return out;
    }
    let _ = jsonl::read_lines(&path, diag, |lineno, text, complete| {
        let Some(v) = jsonl::parse_line::<Value>(&path, lineno, text, complete, diag) else {
            return;
        };
        let Some(id) = str_of(&v, "conversationId") else {
            return;
        };
        let e = out.entry(id).or_default();
        if e.0.is_none() {
            e.0 = str_of(&v, "display");
        }
        if e.1.is_none() {
            e.1 = str_of(&v, "workspace");
        }
    });
    out
}

fn str_of(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Splits `<TAG>…</TAG>` blocks (upper-case tags) from the text around
/// them, in order.
fn tagged_blocks(text: &str) -> Vec<(Option<String>, String)> {
    let mut out: Vec<(Option<String>, String)> = Vec::new();
    let plain = |out: &mut Vec<(Option<String>, String)>, t: &str| match out.last_mut() {
        Some((None, prev)) => prev.push_str(t),
        _ => out.push((None, t.to_string())),
    };
    let mut rest = text;
    while let Some(i) = rest.find('<') {
        let after = &rest[i + 1..];
        let tag = after.find('>').map(|end| &after[..end]).filter(|t| {
            !t.is_empty()
                && t.chars()
                    .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())
        });
        let block = tag.and_then(|tag| {
            let body_start = i + 1 + tag.len() + 1;
            let close = format!("</{tag}>");
            let j = rest[body_start..].find(&close)?;
            Some((
                tag,
                body_start,
                body_start + j,
                body_start + j + close.len(),
            ))
        });
        match block {
            Some((tag, start, end, next)) => {
                plain(&mut out, &rest[..i]);
                out.push((Some(tag.to_string()), rest[start..end].to_string()));
                rest = &rest[next..];
            }
            None => {
                plain(&mut out, &rest[..=i]);
                rest = &rest[i + 1..];
            }
        }
    }
    plain(&mut out, rest);
    out.retain(|(_, b)| !b.trim().is_empty());
    out
}

/// The model named by a settings change ("… from X to Gemini 3.5 Flash
/// (Medium).").
fn model_in(settings: &str) -> Option<String> {
    if !settings.contains("Model") {
        return None;
    }
    let i = settings.rfind(" to ")?;
    let m = settings[i + 4..].trim().trim_end_matches('.').trim();
    (!m.is_empty() && m != "None").then(|| m.to_string())
}

/// The parts of a `USER_INPUT` step, and the model it selects.
fn user_parts(content: &str) -> (Vec<Part>, Option<String>) {
    let mut parts = Vec::new();
    let mut model = None;
    for (tag, body) in tagged_blocks(content) {
        let body = body.trim();
        if body.is_empty() {
            continue;
        }
        match tag.as_deref() {
            None | Some("USER_REQUEST") => parts.push(Part::text(body)),
            Some("USER_SETTINGS_CHANGE") => {
                model = model_in(body).or(model);
                parts.push(Part::notice(NoticeKind::Other, body));
            }
            Some(_) => parts.push(Part::notice(NoticeKind::Injected, body)),
        }
    }
    (parts, model)
}

/// Tool arguments; in `transcript.jsonl` each value is JSON in a string.
fn args(v: Option<&Value>, encoded: bool) -> Value {
    let Some(v) = v else { return Value::Null };
    match (v, encoded) {
        (Value::Object(m), true) => Value::Object(
            m.iter()
                .map(|(k, x)| {
                    let x = match x {
                        Value::String(s) => serde_json::from_str(s).unwrap_or_else(|_| x.clone()),
                        other => other.clone(),
                    };
                    (k.clone(), x)
                })
                .collect(),
        ),
        _ => v.clone(),
    }
}

fn status_of(s: Option<&str>) -> ToolStatus {
    match s.map(str::to_ascii_uppercase).as_deref() {
        Some("DONE") | Some("COMPLETED") | Some("SUCCESS") => ToolStatus::Completed,
        Some("ERROR") | Some("FAILED") | Some("CANCELED") | Some("CANCELLED") => ToolStatus::Error,
        Some("RUNNING") | Some("IN_PROGRESS") | Some("PENDING") => ToolStatus::Running,
        _ => ToolStatus::Completed,
    }
}

fn time_of(v: &Value) -> Option<DateTime<Utc>> {
    let s = v.get("created_at")?.as_str()?;
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// A transcript read so far: the session as folded, and what the next
/// lines need.
#[derive(Clone)]
struct Steps {
    s: Session,
    model: Option<String>,
    /// The assistant message steps are added to.
    open: Option<usize>,
    /// Calls waiting for their result step: (message, part).
    waiting: VecDeque<(usize, usize)>,
    first: Option<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
    /// What `watch` was handed of it.
    served: Served,
}

impl Steps {
    fn new(path: &Path) -> Steps {
        let mut s = Session::new(Agent::Antigravity, conversation_id(path));
        s.source_paths.push(path.to_path_buf());
        Steps {
            s,
            model: None,
            open: None,
            waiting: VecDeque::new(),
            first: None,
            last: None,
            served: Served::default(),
        }
    }

    /// The session without its messages.
    fn shell(&self) -> Session {
        let mut s = self.s.shell();
        s.created = self.first;
        s.updated = self.last;
        s.title = crate::model::first_prompt(&self.s.messages).map(super::title_from_prompt);
        s
    }

    /// The session for `watch`, which holds the load numbered `since`.
    fn serve(&mut self, since: Option<u64>) -> LiveLoad {
        let shell = self.shell();
        let shown = self
            .s
            .messages
            .iter()
            .map(|m| (!m.parts.is_empty()).then_some(m));
        self.served.serve(shell, shown, since)
    }

    /// The session the steps so far make.
    fn session(self) -> Session {
        let mut s = self.shell();
        s.messages = self.s.messages;
        s.messages.retain(|m| !m.parts.is_empty());
        s
    }
}

/// Transcripts read so far, for `watch` (see [`jsonl::Tails`]): a rebuild
/// reads only the steps appended since.
static TAILS: std::sync::LazyLock<jsonl::Tails<Steps>> =
    std::sync::LazyLock::new(jsonl::Tails::default);

/// Forgets the states (`watch`) of the transcripts `keep` rejects.
pub(crate) fn retain_tails(keep: &dyn Fn(&Path) -> bool) {
    TAILS.retain(keep);
}

/// How the last incremental read of `path` read it (tests).
pub fn last_tail_read(path: &Path) -> Option<jsonl::TailRead> {
    TAILS.last_read(path)
}

/// Reads a transcript into a session.
pub fn load_file(path: &Path, diag: &Diag) -> Result<Session> {
    let mut line = step_reader(path, diag);
    if jsonl::tails_enabled() {
        return Ok(TAILS
            .read(path, diag, || Steps::new(path), &mut line)?
            .session());
    }
    let mut st = Steps::new(path);
    jsonl::read_lines(path, diag, |lineno, text, complete| {
        line(&mut st, lineno, text, complete)
    })?;
    Ok(st.session())
}

/// Feeds one line of the transcript at `path` to its state.
fn step_reader<'a>(path: &'a Path, diag: &'a Diag) -> impl FnMut(&mut Steps, u64, &str, bool) + 'a {
    let encoded = path.file_name().is_some_and(|n| n == "transcript.jsonl");
    move |st: &mut Steps, lineno: u64, text: &str, complete: bool| {
        add_step(path, encoded, st, lineno, text, complete, diag)
    }
}

/// `watch`'s load of a transcript: the steps appended since the last load
/// are folded into the kept state, and only the messages from the first
/// one they changed on are handed on. `None` when it is to be read whole.
fn load_live(path: &Path, diag: &Diag, since: Option<u64>) -> Result<Option<LiveLoad>> {
    let mut line = step_reader(path, diag);
    TAILS.load(path, diag, 1, || Steps::new(path), &mut line, &mut |st| {
        Some(st.serve(since))
    })
}

/// Folds one step (a line) of a transcript.
fn add_step(
    path: &Path,
    encoded: bool,
    st: &mut Steps,
    lineno: u64,
    text: &str,
    complete: bool,
    diag: &Diag,
) {
    let Steps {
        s,
        model,
        open,
        waiting,
        first,
        last,
        served,
    } = st;
    // A step changes the open message (results answer its calls) or adds
    // messages after it.
    served.touch(open.unwrap_or(s.messages.len()));
    let Some(v) = jsonl::parse_object(path, lineno, text, complete, diag).map(Value::Object) else {
        return;
    };
    let time = time_of(&v);
    if let Some(t) = time {
        *first = Some(first.map_or(t, |x| x.min(t)));
        *last = Some(last.map_or(t, |x| x.max(t)));
    }
    let kind = v.get("type").and_then(Value::as_str).unwrap_or("");
    let source = v.get("source").and_then(Value::as_str).unwrap_or("");
    let content = v.get("content").and_then(Value::as_str).unwrap_or("");
    let push = |s: &mut Session, role: Role, parts: Vec<Part>| -> usize {
        let mut m = Message::new(role);
        m.time = time;
        m.parts = parts;
        s.messages.push(m);
        s.messages.len() - 1
    };
    match kind {
        "USER_INPUT" => {
            let (parts, m) = user_parts(content);
            if let Some(m) = m {
                s.note_model(&m);
                *model = Some(m);
            }
            if parts.is_empty() {
                return;
            }
            let prompt = parts.iter().any(|p| matches!(p, Part::Text { .. }));
            push(s, if prompt { Role::User } else { Role::System }, parts);
            *open = None;
            waiting.clear();
        }
        "PLANNER_RESPONSE" => {
            let i = match *open {
                Some(i) => i,
                None => {
                    let i = push(s, Role::Assistant, Vec::new());
                    s.messages[i].model = model.clone();
                    *open = Some(i);
                    i
                }
            };
            let m = &mut s.messages[i];
            if let Some(t) = str_of(&v, "thinking") {
                m.parts.push(Part::Reasoning {
                    text: t,
                    state: ReasoningState::Recorded,
                });
            }
            if !content.trim().is_empty() {
                m.parts.push(Part::text(content));
            }
            if let Some(Value::Array(calls)) = v.get("tool_calls") {
                for (k, c) in calls.iter().enumerate() {
                    let input = args(c.get("args"), encoded);
                    let title = input
                        .get("toolSummary")
                        .and_then(Value::as_str)
                        .map(str::to_string);
                    let step = v
                        .get("step_index")
                        .and_then(Value::as_u64)
                        .unwrap_or(lineno);
                    m.parts.push(Part::ToolCall(Box::new(ToolCall {
                        id: format!("step-{step}-{k}"),
                        name: str_of(c, "name").unwrap_or_else(|| "unknown".into()),
                        input,
                        output: None,
                        status: ToolStatus::Pending,
                        title,
                        duration_ms: None,
                        extras: ToolExtras::default(),
                    })));
                    waiting.push_back((i, m.parts.len() - 1));
                }
            }
        }
        "CHECKPOINT" => {
            push(
                s,
                Role::System,
                vec![Part::Compaction {
                    summary: (!content.trim().is_empty()).then(|| content.to_string()),
                    trigger: None,
                    pre_tokens: None,
                }],
            );
            *open = None;
        }
        "CONVERSATION_HISTORY" => {}
        _ if source == "SYSTEM" || kind == "SYSTEM_MESSAGE" => {
            if !content.trim().is_empty() {
                let notice = if kind == "SYSTEM_MESSAGE" {
                    NoticeKind::Injected
                } else {
                    NoticeKind::Other
                };
                push(s, Role::System, vec![Part::notice(notice, content.trim())]);
                *open = None;
            }
        }
        "" => {
            diag.warn(
                path,
                Some(lineno),
                "unknown-step",
                "step without a type kept as an unknown part",
            );
            push(
                s,
                Role::System,
                vec![Part::Unknown {
                    kind: "step".into(),
                    raw: v.clone(),
                }],
            );
            *open = None;
        }
        // A result step: it answers the oldest call still waiting.
        _ => {
            let status = status_of(v.get("status").and_then(Value::as_str));
            let target = waiting.pop_front().filter(|(m, _)| Some(*m) == *open);
            let call = target.and_then(|(m, p)| match s.messages[m].parts.get_mut(p) {
                Some(Part::ToolCall(c)) => Some(c),
                _ => None,
            });
            match call {
                Some(c) => {
                    c.output = Some(content.to_string());
                    c.status = status;
                }
                None => {
                    // A result with no call before it: a call of its own.
                    let i = match *open {
                        Some(i) => i,
                        None => {
                            let i = push(s, Role::Assistant, Vec::new());
                            s.messages[i].model = model.clone();
                            *open = Some(i);
                            i
                        }
                    };
                    let step = v
                        .get("step_index")
                        .and_then(Value::as_u64)
                        .unwrap_or(lineno);
                    s.messages[i].parts.push(Part::ToolCall(Box::new(ToolCall {
                        id: format!("step-{step}"),
                        name: kind.to_ascii_lowercase(),
                        input: Value::Null,
                        output: Some(content.to_string()),
                        status,
                        title: None,
                        duration_ms: None,
                        extras: ToolExtras::default(),
                    })));
                }
            }
        }
    }
}

/// The history index's prompt and workspace for a loaded session.
fn apply_history(s: &mut Session, h: &HashMap<String, (Option<String>, Option<String>)>) {
    if let Some((display, workspace)) = h.get(&s.id) {
        if s.project.is_none() {
            s.project = workspace.clone();
        }
        if s.title.is_none() {
            s.title = display.as_deref().map(super::title_from_prompt);
        }
    }
}

impl Source for Antigravity {
    fn agent(&self) -> Agent {
        Agent::Antigravity
    }

    fn location(&self) -> String {
        self.brain().display().to_string()
    }

    fn exists(&self) -> bool {
        self.brain().is_dir()
    }

    fn discover(&self, diag: &Diag) -> Result<Vec<SessionSummary>> {
        let h = history(&self.root, diag);
        let mut cache: ListCache<Option<SessionSummary>> =
            ListCache::open(self.cache_dir.as_deref(), CACHE_FILE, CACHE_VERSION);
        let mut out = Vec::new();
        for f in self.transcripts() {
            let found = cache.get_or_scan(&f, || match load_file(&f, diag) {
                Ok(s) => Some(SessionSummary::of(&s, &f, 0)),
                Err(e) => {
                    diag.skipped(&f, &e);
                    None
                }
            });
            if let Some(Some(mut s)) = found {
                if let Some((display, workspace)) = h.get(&s.id) {
                    s.project = s.project.or(workspace.clone());
                    s.title = s
                        .title
                        .or_else(|| display.as_deref().map(super::title_from_prompt));
                }
                out.push(s);
            }
        }
        cache.save(diag);
        Ok(out)
    }

    fn load(&self, r: &SessionRef, diag: &Diag) -> Result<Session> {
        // Held with the history applied.
        if let Some(s) = self.held.take(&r.path) {
            return Ok(s);
        }
        let mut s = load_file(&r.path, diag)?;
        apply_history(&mut s, &history(&self.root, diag));
        Ok(s)
    }

    fn load_live(&self, r: &SessionRef, diag: &Diag, since: Option<u64>) -> Result<LiveLoad> {
        // `watch` reads the file as it is at each load.
        self.held.clear();
        let live = match jsonl::tails_enabled() {
            true => load_live(&r.path, diag, since)?,
            false => None,
        };
        let Some(mut load) = live else {
            return Ok(LiveLoad::whole(self.load(r, diag)?));
        };
        apply_history(&mut load.session, &history(&self.root, diag));
        Ok(load)
    }
}

/// Whether a file is an Antigravity transcript: its first step has a step
/// index and a source.
fn sniff(path: &Path) -> bool {
    let Ok(f) = std::fs::File::open(path) else {
        return false;
    };
    for line in std::io::BufReader::new(f).split(b'\n').take(3) {
        let Ok(line) = line else { return false };
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        return serde_json::from_slice::<Value>(&line).is_ok_and(|v| {
            v.get("step_index").is_some_and(Value::is_u64) && v.get("source").is_some()
        });
    }
    false
}

/// Whether the transcript at `path` holds session `id`, told from its
/// conversation folder without reading it (`watch` checks this at every
/// rebuild): its source when it does, `Some(None)` when it holds another,
/// `None` when `path` is no transcript.
pub fn quick_source(path: &Path, id: &str) -> Option<Option<Box<dyn Source>>> {
    if !(path.is_file() && path.extension().is_some_and(|e| e == "jsonl") && sniff(path)) {
        return None;
    }
    Some((conversation_id(path) == id).then(|| {
        Box::new(Antigravity::new(
            store_root(path).unwrap_or_else(|| path.to_path_buf()),
        )) as Box<dyn Source>
    }))
}

/// The store of a transcript at `<root>/brain/<id>/.system_generated/logs/<file>`.
fn store_root(path: &Path) -> Option<PathBuf> {
    path.ancestors()
        .nth(5)
        .filter(|r| r.join("brain").is_dir())
        .map(Path::to_path_buf)
}

/// Recognises a transcript file, a conversation folder (`brain/<id>`) or
/// the `antigravity-cli` folder given as a path.
pub fn refs_for_path(path: &Path, diag: &Diag) -> Result<Option<PathMatch>> {
    if path.is_file() {
        if !(path.extension().is_some_and(|e| e == "jsonl") && sniff(path)) {
            return Ok(None);
        }
        let root = store_root(path);
        let mut s = load_file(path, diag)?;
        if let Some(r) = &root {
            apply_history(&mut s, &history(r, diag));
        }
        let summary = SessionSummary::of(&s, path, 0);
        let mut source = Antigravity::new(root.unwrap_or_else(|| path.to_path_buf()));
        source.held = Held::new(path, s);
        return Ok(Some((Box::new(source), vec![summary])));
    }
    if !path.is_dir() {
        return Ok(None);
    }
    let store = Antigravity::new(path.to_path_buf());
    if store.exists() {
        let found = store.discover(diag)?;
        return Ok(Some((Box::new(store), found)));
    }
    if let Some(t) = transcript_in(path)
        && sniff(&t)
    {
        return refs_for_path(&t, diag);
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_input_splits_request_settings_and_context() {
        let (parts, model) = user_parts(
            "<USER_REQUEST>\nList the files.\n</USER_REQUEST>\n<USER_SETTINGS_CHANGE>\nThe user changed setting `Model Selection` from None to Gemini 3.5 Flash (Medium).\n</USER_SETTINGS_CHANGE>\n<ADDITIONAL_METADATA>x</ADDITIONAL_METADATA>",
        );
        assert_eq!(parts[0], Part::text("List the files."));
        assert!(matches!(
            &parts[1],
            Part::Notice {
                kind: NoticeKind::Other,
                ..
            }
        ));
        assert!(matches!(
            &parts[2],
            Part::Notice {
                kind: NoticeKind::Injected,
                ..
            }
        ));
        assert_eq!(model.as_deref(), Some("Gemini 3.5 Flash (Medium)"));
        let (parts, _) = user_parts("just text with a < sign and <b>html</b>");
        assert_eq!(
            parts,
            vec![Part::text("just text with a < sign and <b>html</b>")]
        );
    }

    #[test]
    fn encoded_arguments_are_decoded() {
        let v =
            serde_json::json!({"DirectoryPath": "\"/tmp/repo\"", "Depth": "2", "Raw": "not json"});
        let a = args(Some(&v), true);
        assert_eq!(a["DirectoryPath"], "/tmp/repo");
        assert_eq!(a["Depth"], 2);
        assert_eq!(a["Raw"], "not json");
        assert_eq!(args(Some(&v), false), v);
    }
}
