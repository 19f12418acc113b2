//! Folding rollout records into a session.
//!
//! - Text recorded twice (`response_item` and its `event_msg` twin) is kept
//!   once: an event's text is dropped when a response item of the same
//!   stream holds the same text; events without a twin stay (old or odd
//!   files have only events).
//! - Consecutive assistant items (reasoning, text, tool calls) form one
//!   assistant message; a user prompt or a harness notice ends it.
//! - Results join their calls by `call_id`; `*_end` events add exit codes,
//!   durations and diffs, and stand in for calls that were not recorded.
//! - Tokens: each `token_count` whose cumulative total moved adds its
//!   `last_token_usage` to the turn; the turn's sum goes on its last
//!   assistant message; the session total is the last cumulative total.

use super::parse::{CallEventKind, CallResult, Ev, Key, Meta, Pieces, Rec, str_of};
use super::patch;
use crate::model::*;
use chrono::{DateTime, Utc};
use foldhash::{HashMap, HashMapExt, HashSet};
use serde_json::Value;
use std::collections::VecDeque;
use std::path::Path;

/// A session and what its header said.
pub(super) struct Built {
    pub session: Session,
    pub meta: Meta,
}

/// Which event texts to drop: those whose response-item twin is in the
/// file.
#[derive(Default)]
struct Twins {
    /// The twins not matched yet, by key.
    available: HashMap<Key, usize>,
    /// The keys of the event texts that were kept.
    kept_events: HashSet<Key>,
}

impl Twins {
    /// The twins among `recs`.
    fn of<'a>(recs: impl IntoIterator<Item = &'a Rec>) -> Twins {
        let mut t = Twins::default();
        for k in recs.into_iter().flat_map(|r| &r.provides) {
            *t.available.entry(*k).or_default() += 1;
        }
        t
    }

    /// Whether `r`, the next record in order, stays.
    fn keep(&mut self, r: &Rec) -> bool {
        let Some(k) = r.twin.as_deref() else {
            return true;
        };
        match self.available.get_mut(k) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => {
                self.kept_events.insert(*k);
                true
            }
        }
    }
}

/// Drops event texts whose response-item twin is in the file, and says
/// what is left for records appended later: the twins not matched yet, by
/// key, and the keys of the event texts that were kept (a twin arriving
/// for one of them would drop it).
pub(super) fn dedupe_counting(recs: Vec<Rec>) -> (Vec<Rec>, HashMap<Key, usize>, HashSet<Key>) {
    let mut t = Twins::of(&recs);
    let recs = recs.into_iter().filter(|r| t.keep(r)).collect();
    (recs, t.available, t.kept_events)
}

#[derive(Default)]
struct Fold {
    messages: Vec<Message>,
    /// The assistant message items are appended to.
    open: Option<usize>,
    /// call_id → (message, part).
    calls: HashMap<String, (usize, usize)>,
    call_time: HashMap<String, DateTime<Utc>>,
    /// Calls whose output item was applied.
    answered: HashSet<String>,
    /// Calls created from an event, replaced by the real call if it shows up.
    synthesized: HashSet<String>,
    /// Web searches without results, oldest first.
    open_searches: VecDeque<String>,
    model: Option<String>,
    turn_usage: Usage,
    turn_assistant: Option<usize>,
    last_assistant: Option<usize>,
    last_total: Option<Usage>,
    /// Per-request usage of files without cumulative totals.
    summed: Usage,
    /// Lowest message changed since [`Builder::take_changed`].
    changed: usize,
}

impl Fold {
    fn touch(&mut self, i: usize) {
        self.changed = self.changed.min(i);
    }

    fn push(&mut self, role: Role, time: Option<DateTime<Utc>>, parts: Vec<Part>) -> usize {
        let mut m = Message::new(role);
        m.time = time;
        m.parts = parts;
        self.messages.push(m);
        self.touch(self.messages.len() - 1);
        self.messages.len() - 1
    }

    fn assistant(&mut self, time: Option<DateTime<Utc>>) -> usize {
        let i = match self.open {
            Some(i) => i,
            None => {
                let i = self.push(Role::Assistant, time, Vec::new());
                self.messages[i].model = self.model.clone();
                self.open = Some(i);
                i
            }
        };
        self.turn_assistant = Some(i);
        self.last_assistant = Some(i);
        i
    }

    fn call_mut(&mut self, id: &str) -> Option<&mut ToolCall> {
        let &(m, p) = self.calls.get(id)?;
        self.touch(m);
        match self.messages.get_mut(m)?.parts.get_mut(p)? {
            Part::ToolCall(c) => Some(c),
            _ => None,
        }
    }

    fn add_call(&mut self, time: Option<DateTime<Utc>>, call: ToolCall) {
        let id = call.id.clone();
        if !id.is_empty() && self.synthesized.remove(&id) {
            // The real call after an event that stood in for it.
            if let Some(c) = self.call_mut(&id) {
                c.name = call.name;
                c.input = call.input;
                c.title = call.title.or(c.title.take());
                if c.extras.diffs.is_empty() {
                    c.extras.diffs = call.extras.diffs;
                }
                return;
            }
        }
        let i = self.assistant(time);
        if call.name == "web_search" && call.output.is_none() {
            self.open_searches.push_back(id.clone());
        }
        if !id.is_empty() && !self.calls.contains_key(&id) {
            self.calls
                .insert(id.clone(), (i, self.messages[i].parts.len()));
            if let Some(t) = time {
                self.call_time.insert(id, t);
            }
        }
        self.messages[i].parts.push(Part::ToolCall(Box::new(call)));
        self.touch(i);
    }

    fn flush_turn(&mut self) {
        let u = std::mem::take(&mut self.turn_usage);
        let target = self.turn_assistant.take().or(self.last_assistant);
        if !u.is_empty() {
            self.touch(target.unwrap_or(self.messages.len()));
        }
        flush_into(&mut self.messages, 0, u, target);
    }
}

/// Puts a turn's usage `u` on message `target` (one of `messages`, which
/// are the messages from `offset` on), or, with no assistant message yet,
/// on a message of its own.
fn flush_into(messages: &mut Vec<Message>, offset: usize, u: Usage, target: Option<usize>) {
    if u.is_empty() {
        return;
    }
    match target {
        Some(i) => {
            if let Some(m) = i.checked_sub(offset).and_then(|i| messages.get_mut(i)) {
                m.usage.get_or_insert_with(Usage::default).add(&u);
            }
        }
        // No assistant message yet (and so none open): the figures
        // stand on their own.
        None => {
            let mut m = Message::new(Role::System);
            m.parts = vec![Part::StepStats {
                usage: u,
                finish: None,
            }];
            messages.push(m);
        }
    }
}

fn placeholder(id: String, name: &str) -> ToolCall {
    ToolCall {
        id,
        name: name.to_string(),
        input: Value::Null,
        output: None,
        status: ToolStatus::Pending,
        title: None,
        duration_ms: None,
        extras: ToolExtras::default(),
    }
}

fn apply_result(c: &mut ToolCall, r: CallResult) {
    // Codex's answer to a patch it could not apply (nothing was changed):
    // a plain string, with no exit code, to an `apply_patch` call (its own
    // tool, or run through the shell).
    let runs_patch = c.name == "apply_patch"
        || match c.input.get("command") {
            Some(Value::Array(a)) => a.first().and_then(Value::as_str) == Some("apply_patch"),
            Some(Value::String(s)) => s.trim_start().starts_with("apply_patch"),
            _ => false,
        };
    let refused = runs_patch
        && r.exit_code.is_none()
        && r.output.starts_with("apply_patch verification failed");
    c.output = Some(r.output);
    c.status = if r.error || refused {
        ToolStatus::Error
    } else {
        ToolStatus::Completed
    };
    if r.exit_code.is_some() {
        c.extras.exit_code = r.exit_code;
    }
    if r.duration_ms.is_some() {
        c.duration_ms = r.duration_ms;
    }
    c.extras.attachments.extend(r.attachments);
}

/// `{secs, nanos}` (Rust `Duration`) or milliseconds.
fn duration_ms(d: &Value) -> Option<u64> {
    d.get("duration")
        .and_then(|x| {
            let s = x.get("secs")?.as_u64()?;
            let n = x.get("nanos").and_then(Value::as_u64).unwrap_or(0);
            Some(s * 1000 + n / 1_000_000)
        })
        .or_else(|| d.get("duration_ms").and_then(Value::as_u64))
}

fn text_of(v: Option<&Value>) -> Option<String> {
    let v = v?;
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Array(items) => {
            let t: Vec<String> = items
                .iter()
                .map(|i| match i.get("text").and_then(Value::as_str) {
                    Some(s) => s.to_string(),
                    None => i.to_string(),
                })
                .collect();
            (!t.is_empty()).then(|| t.join("\n"))
        }
        _ => None,
    }
}

/// A call standing in for one that only an event recorded.
fn call_from_event(id: String, kind: CallEventKind, data: Option<&Value>) -> ToolCall {
    let d = data.unwrap_or(&Value::Null);
    match kind {
        CallEventKind::Exec => {
            let mut c = placeholder(id, "shell");
            if let Some(cmd) = d.get("command") {
                c.input = serde_json::json!({"command": cmd, "workdir": d.get("cwd")});
            }
            c
        }
        CallEventKind::Patch => placeholder(id, "apply_patch"),
        CallEventKind::Mcp => {
            let inv = d.get("invocation").unwrap_or(&Value::Null);
            let name = match (str_of(inv, "server"), str_of(inv, "tool")) {
                (Some(s), Some(t)) => format!("{s}__{t}"),
                (None, Some(t)) => t,
                _ => "mcp".to_string(),
            };
            let mut c = placeholder(id, &name);
            c.input = inv.get("arguments").cloned().unwrap_or(Value::Null);
            c
        }
        CallEventKind::WebSearch => {
            let mut c = placeholder(id, "web_search");
            if let Some(q) = d.get("query") {
                c.input = serde_json::json!({ "query": q });
            }
            c
        }
    }
}

/// Drops from an `*_end` event's payload what [`call_from_event`] and
/// [`apply_event`] never read, so that a rollout's records do not hold it
/// until the session is built. An exec event repeats its output up to four
/// times (`aggregated_output`, `formatted_output`, `stdout`, `stderr`);
/// only the one [`apply_event`] would pick stays. Keep the two in step.
pub(super) fn keep_read_fields(kind: CallEventKind, d: &mut Value) {
    let Some(o) = d.as_object_mut() else {
        return;
    };
    let has = |k: &str| {
        o.get(k)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
    };
    let (read, output): (&[&str], &[&str]) = match kind {
        CallEventKind::Exec => (
            &[
                "type",
                "command",
                "cwd",
                "exit_code",
                "duration",
                "duration_ms",
            ],
            if has("aggregated_output") {
                &["aggregated_output"]
            } else if has("formatted_output") {
                &["formatted_output"]
            } else {
                &["stdout", "stderr"]
            },
        ),
        CallEventKind::Patch => (&["type", "changes", "success"], &["stdout", "stderr"]),
        CallEventKind::Mcp => (
            &["type", "invocation", "duration", "duration_ms"],
            &["result"],
        ),
        CallEventKind::WebSearch => (&["type", "query"], &["results"]),
    };
    o.retain(|k, _| read.contains(&k.as_str()) || output.contains(&k.as_str()));
}

/// Adds what an `*_end` event knows to its call.
fn apply_event(c: &mut ToolCall, kind: CallEventKind, d: &Value, answered: bool) {
    let begin = d.get("type").and_then(Value::as_str) == Some("patch_apply_begin");
    match kind {
        CallEventKind::Exec => {
            if let Some(code) = d.get("exit_code").and_then(Value::as_i64) {
                c.extras.exit_code = Some(code);
            }
            if let Some(ms) = duration_ms(d) {
                c.duration_ms = Some(ms);
            }
            if !answered {
                c.output = str_of(d, "aggregated_output")
                    .or_else(|| str_of(d, "formatted_output"))
                    .or_else(|| {
                        let s = [str_of(d, "stdout"), str_of(d, "stderr")]
                            .into_iter()
                            .flatten()
                            .collect::<Vec<_>>()
                            .join("\n");
                        (!s.is_empty()).then_some(s)
                    })
                    .or(c.output.take());
            }
        }
        CallEventKind::Patch => {
            if let Some(ch) = d.get("changes") {
                let diffs = patch::changes(ch);
                if !diffs.is_empty() {
                    c.extras.diffs = diffs;
                }
            }
            if begin {
                return;
            }
            if d.get("success").and_then(Value::as_bool) == Some(false) {
                c.status = ToolStatus::Error;
            }
            if !answered && c.output.is_none() {
                let s = [str_of(d, "stdout"), str_of(d, "stderr")]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join("\n");
                if !s.is_empty() {
                    c.output = Some(s);
                }
            }
        }
        CallEventKind::Mcp => {
            if let Some(ms) = duration_ms(d) {
                c.duration_ms = Some(ms);
            }
            let result = d.get("result").unwrap_or(&Value::Null);
            if let Some(err) = result.get("Err") {
                c.status = ToolStatus::Error;
                if !answered {
                    c.output = Some(err.as_str().map_or_else(|| err.to_string(), str::to_string));
                }
            } else if let Some(ok) = result.get("Ok") {
                if ok.get("isError").and_then(Value::as_bool) == Some(true) {
                    c.status = ToolStatus::Error;
                }
                if !answered {
                    c.output = text_of(ok.get("content"))
                        .or_else(|| ok.get("structuredContent").map(Value::to_string))
                        .or(c.output.take());
                }
            }
        }
        CallEventKind::WebSearch => {
            if !answered && c.output.is_none() {
                let mut s = str_of(d, "query").unwrap_or_default();
                if let Some(Value::Array(results)) = d.get("results") {
                    for r in results {
                        s.push_str(&format!(
                            "\n- {} {}",
                            str_of(r, "title").unwrap_or_default(),
                            str_of(r, "url").unwrap_or_default()
                        ));
                    }
                }
                if !s.trim().is_empty() {
                    c.output = Some(s.trim().to_string());
                }
            }
        }
    }
    if !begin && matches!(c.status, ToolStatus::Pending | ToolStatus::Running) {
        c.status = ToolStatus::Completed;
    }
}

/// Builds the session. `fallback_id` names it when the header does not.
/// Each piece's records are let go as they are folded.
pub(super) fn build(pieces: Pieces, path: &Path, fallback_id: &str) -> Built {
    let mut twins = Twins::of(pieces.iter().flatten());
    let mut b = Builder::new(pieces.iter().flatten());
    for r in pieces.into_iter().flatten() {
        if twins.keep(&r) {
            b.apply(r);
        }
    }
    b.finish(path, fallback_id)
}

/// A session being folded from its (de-duplicated) records, one at a time.
pub(super) struct Builder {
    f: Fold,
    meta: Option<Meta>,
    first_cwd: Option<String>,
    models: Vec<String>,
    title: Option<String>,
    first_time: Option<DateTime<Utc>>,
    last_time: Option<DateTime<Utc>>,
    output_time: HashMap<String, DateTime<Utc>>,
    /// Whether a compaction item is in the file: its event twin is then
    /// not shown.
    has_compacted: bool,
}

impl Builder {
    /// A builder for `recs` (it looks for compaction items first).
    pub(super) fn new<'a>(recs: impl IntoIterator<Item = &'a Rec>) -> Builder {
        Builder {
            f: Fold::default(),
            meta: None,
            first_cwd: None,
            models: Vec::new(),
            title: None,
            first_time: None,
            last_time: None,
            output_time: HashMap::new(),
            has_compacted: recs
                .into_iter()
                .any(|r| matches!(r.ev, Ev::Compacted { event: false, .. })),
        }
    }

    /// Folds the next record.
    pub(super) fn apply(&mut self, r: Rec) {
        let time = r.time;
        if let Some(t) = time {
            self.first_time = Some(self.first_time.map_or(t, |x| x.min(t)));
            self.last_time = Some(self.last_time.map_or(t, |x| x.max(t)));
        }
        match r.ev {
            Ev::Meta(m) => {
                if self.meta.is_none() {
                    self.meta = Some(*m);
                }
            }
            Ev::Model(m) => {
                if !self.models.contains(&m) {
                    self.models.push(m.clone());
                }
                self.f.model = Some(m);
            }
            Ev::Cwd(c) => {
                self.first_cwd.get_or_insert(c);
            }
            Ev::Title(t) => self.title = Some(t),
            Ev::User(parts) => {
                let prompt = parts
                    .iter()
                    .any(|p| matches!(p, Part::Text { .. } | Part::File(_)));
                if prompt {
                    self.f.flush_turn();
                }
                let role = if prompt { Role::User } else { Role::System };
                self.f.push(role, time, parts);
                self.f.open = None;
            }
            Ev::System(parts) => {
                self.f.push(Role::System, time, parts);
                self.f.open = None;
            }
            Ev::Assistant(parts) => {
                for p in parts {
                    match p {
                        Part::ToolCall(c) => self.f.add_call(time, *c),
                        other => {
                            let i = self.f.assistant(time);
                            self.f.messages[i].parts.push(other);
                            self.f.touch(i);
                        }
                    }
                }
            }
            Ev::Output { call_id, result } => {
                let result = result.map(|r| *r);
                if !self.f.calls.contains_key(&call_id) {
                    let mut c = placeholder(call_id.clone(), "unknown");
                    c.title = Some("result whose call was not recorded".into());
                    self.f.add_call(time, c);
                }
                if self.f.answered.insert(call_id.clone()) {
                    if let Some(t) = time {
                        self.output_time.insert(call_id.clone(), t);
                    }
                    if let (Some(r), Some(c)) = (result, self.f.call_mut(&call_id)) {
                        apply_result(c, r);
                    }
                }
            }
            Ev::CallEvent {
                call_id,
                kind,
                data,
            } => {
                let target = match (&call_id, kind) {
                    (Some(id), _) if self.f.calls.contains_key(id) => Some(id.clone()),
                    (_, CallEventKind::WebSearch) => self.f.open_searches.pop_front(),
                    _ => None,
                };
                let target = match target {
                    Some(t) => t,
                    None => {
                        let id = call_id.unwrap_or_default();
                        let c = call_from_event(id.clone(), kind, data.as_ref());
                        self.f.add_call(time, c);
                        if !id.is_empty() {
                            self.f.synthesized.insert(id.clone());
                        }
                        id
                    }
                };
                if kind == CallEventKind::WebSearch {
                    self.f.open_searches.retain(|s| *s != target);
                }
                let answered = self.f.answered.contains(&target);
                if let (Some(d), Some(c)) = (data, self.f.call_mut(&target)) {
                    apply_event(c, kind, &d, answered);
                }
            }
            Ev::Tokens { last, total } => {
                let (last, total) = (last.map(|u| *u), total.map(|u| *u));
                let per = match total {
                    Some(t) => {
                        if self.f.last_total.as_ref() == Some(&t) {
                            return;
                        }
                        let per = last.or_else(|| {
                            let prev = self.f.last_total.clone().unwrap_or_default();
                            Some(Usage {
                                input: t.input.saturating_sub(prev.input),
                                output: t.output.saturating_sub(prev.output),
                                cache_read: t.cache_read.saturating_sub(prev.cache_read),
                                cache_write: t.cache_write.saturating_sub(prev.cache_write),
                                reasoning: t.reasoning.saturating_sub(prev.reasoning),
                                cost: None,
                            })
                        });
                        self.f.last_total = Some(t);
                        per
                    }
                    None => {
                        if let Some(l) = &last {
                            self.f.summed.add(l);
                        }
                        last
                    }
                };
                if let Some(u) = per {
                    self.f.turn_usage.add(&u);
                }
            }
            Ev::TurnStart | Ev::TurnEnd => self.f.flush_turn(),
            Ev::Tick => {}
            Ev::Compacted { summary, event } => {
                if event && self.has_compacted {
                    return;
                }
                self.f.push(
                    Role::System,
                    time,
                    vec![Part::Compaction {
                        summary,
                        trigger: None,
                        pre_tokens: None,
                    }],
                );
                self.f.open = None;
            }
        }
    }

    /// The number of messages folded.
    pub(super) fn len(&self) -> usize {
        self.f.messages.len()
    }

    /// Whether compaction items hide compaction events.
    pub(super) fn compacted(&self) -> bool {
        self.has_compacted
    }

    /// A compaction item came: compaction events are hidden from now on.
    pub(super) fn set_compacted(&mut self) {
        self.has_compacted = true;
    }

    /// The lowest message changed since the last call.
    pub(super) fn take_changed(&mut self) -> usize {
        std::mem::replace(&mut self.f.changed, usize::MAX)
    }

    /// Where the usage of the turn still open would go (see
    /// [`Fold::flush_turn`]): a message, or the end.
    pub(super) fn open_turn_target(&self) -> Option<usize> {
        (!self.f.turn_usage.is_empty()).then(|| {
            self.f
                .turn_assistant
                .or(self.f.last_assistant)
                .unwrap_or(self.f.messages.len())
        })
    }

    /// The session without its messages, and its header.
    pub(super) fn shell(&self, path: &Path, fallback_id: &str) -> (Session, Meta) {
        let meta = self.meta.clone().unwrap_or_default();
        let mut session = Session::new(
            Agent::Codex,
            meta.id.clone().unwrap_or_else(|| fallback_id.to_string()),
        );
        session.project = meta.cwd.clone().or(self.first_cwd.clone());
        session.git_branch = meta.branch.clone();
        session.agent_version = meta.version.clone();
        session.created = meta.time.or(self.first_time);
        session.updated = self.last_time.or(session.created);
        session.models = self.models.clone();
        session.totals = self
            .f
            .last_total
            .clone()
            .unwrap_or_else(|| self.f.summed.clone());
        session.source_paths.push(path.to_path_buf());
        session.title = self
            .title
            .clone()
            .or_else(|| first_prompt(&self.f.messages).map(crate::sources::title_from_prompt));
        (session, meta)
    }

    /// Copies of the messages from `from` on, as the session shows them
    /// now: with the open turn's usage and the calls' final statuses.
    pub(super) fn messages_from(&self, from: usize) -> Vec<Message> {
        let from = from.min(self.f.messages.len());
        let mut v = self.f.messages[from..].to_vec();
        let target = self.f.turn_assistant.or(self.f.last_assistant);
        flush_into(&mut v, from, self.f.turn_usage.clone(), target);
        finish_calls(&mut v, &self.f.call_time, &self.output_time);
        v
    }

    /// The session (consumes the builder).
    fn finish(mut self, path: &Path, fallback_id: &str) -> Built {
        self.f.flush_turn();
        let (mut session, meta) = self.shell(path, fallback_id);
        let mut messages = std::mem::take(&mut self.f.messages);
        finish_calls(&mut messages, &self.f.call_time, &self.output_time);
        session.messages = messages;
        Built { session, meta }
    }
}

/// Final statuses and durations of the calls in `messages`.
fn finish_calls(
    messages: &mut [Message],
    call_time: &HashMap<String, DateTime<Utc>>,
    output_time: &HashMap<String, DateTime<Utc>>,
) {
    for m in messages {
        for p in &mut m.parts {
            let Part::ToolCall(c) = p else { continue };
            if c.extras.exit_code.is_some_and(|code| code != 0) {
                c.status = ToolStatus::Error;
            }
            if c.duration_ms.is_none()
                && let (Some(s), Some(e)) = (call_time.get(&c.id), output_time.get(&c.id))
            {
                let ms = (*e - *s).num_milliseconds();
                if ms >= 0 {
                    c.duration_ms = Some(ms as u64);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A made-up exec event: `fields` over a command, exit code and
    /// duration, and fields no one reads.
    fn exec(fields: Value) -> (CallEventKind, Value) {
        let mut p = serde_json::json!({
            "type": "exec_command_end", "call_id": "c", "turn_id": "t",
            "command": ["bash", "-lc", "ls"], "cwd": "/w", "parsed_cmd": [{"type": "list"}],
            "exit_code": 2, "duration": {"secs": 1, "nanos": 5_000_000}
        });
        p.as_object_mut()
            .unwrap()
            .extend(fields.as_object().unwrap().clone());
        (CallEventKind::Exec, p)
    }

    /// Every output field of an exec event.
    fn all_outputs() -> Value {
        serde_json::json!({
            "stdout": "out", "stderr": "err",
            "aggregated_output": "out\nerr", "formatted_output": "Exit code 2\nout\nerr"
        })
    }

    /// The payloads of the `*_end` events in the Codex fixtures, plus made-up
    /// ones that repeat an exec output in every field.
    fn event_payloads() -> Vec<(CallEventKind, Value)> {
        let mut out = Vec::new();
        for f in crate::sources::fixture_files("codex", "jsonl") {
            for line in std::fs::read_to_string(&f).unwrap().lines() {
                let Ok(v) = serde_json::from_str::<Value>(line) else {
                    continue;
                };
                let p = &v["payload"];
                let kind = match p["type"].as_str() {
                    Some("exec_command_end") => CallEventKind::Exec,
                    Some("patch_apply_end" | "patch_apply_begin") => CallEventKind::Patch,
                    Some("mcp_tool_call_end") => CallEventKind::Mcp,
                    Some("web_search_end") => CallEventKind::WebSearch,
                    _ => continue,
                };
                out.push((kind, p.clone()));
            }
        }
        out.push(exec(all_outputs()));
        out.push(exec(serde_json::json!({
            "stdout": "out", "stderr": "err", "aggregated_output": "",
            "formatted_output": "Exit code 2\nout\nerr", "duration": null, "duration_ms": 7
        })));
        out.push(exec(serde_json::json!({
            "stdout": "out", "stderr": "warn", "aggregated_output": null, "formatted_output": "",
            "duration": "odd", "duration_ms": 9
        })));
        out.push(exec(serde_json::json!({ "duration_ms": 12 })));
        let mcp = |result: Value| {
            let p = serde_json::json!({
                "type": "mcp_tool_call_end", "call_id": "m",
                "invocation": {"server": "docs", "tool": "search", "arguments": {"q": "x"}},
                "duration": {"secs": 0, "nanos": 40_000_000}, "result": result
            });
            (CallEventKind::Mcp, p)
        };
        out.push(mcp(
            serde_json::json!({"Ok": {"content": [{"type": "text", "text": "hit"}]}}),
        ));
        out.push(mcp(
            serde_json::json!({"Ok": {"isError": true, "structuredContent": {"n": 1}}}),
        ));
        out.push(mcp(serde_json::json!({"Err": "timed out"})));
        out.push((
            CallEventKind::Patch,
            serde_json::json!({
                "type": "patch_apply_end", "call_id": "p", "success": false,
                "stdout": "", "stderr": "patch rejected", "changes": {}
            }),
        ));
        out
    }

    /// What the builder makes of an event, as a call it stands in for and
    /// as facts added to a call that was already there.
    fn applied(kind: CallEventKind, d: &Value) -> String {
        let mut made = Vec::new();
        for answered in [false, true] {
            let mut c = call_from_event("c".into(), kind, Some(d));
            apply_event(&mut c, kind, d, answered);
            made.push(c);
            let mut c = placeholder("c".into(), "shell");
            c.output = Some("already".into());
            apply_event(&mut c, kind, d, answered);
            made.push(c);
        }
        format!("{made:?}")
    }

    #[test]
    fn events_keep_what_the_builder_reads() {
        let payloads = event_payloads();
        let kinds: HashSet<String> = payloads.iter().map(|(k, _)| format!("{k:?}")).collect();
        assert_eq!(kinds.len(), 4, "{kinds:?}");
        for (kind, full) in payloads {
            let mut slim = full.clone();
            keep_read_fields(kind, &mut slim);
            assert_eq!(applied(kind, &slim), applied(kind, &full), "{full}");
        }
        // An exec event keeps one copy of its output, and none of the
        // fields no one reads.
        let (kind, mut p) = exec(all_outputs());
        keep_read_fields(kind, &mut p);
        let kept: Vec<&String> = p.as_object().unwrap().keys().collect();
        assert_eq!(
            kept,
            [
                "aggregated_output",
                "command",
                "cwd",
                "duration",
                "exit_code",
                "type"
            ],
            "{p}"
        );
    }
}
