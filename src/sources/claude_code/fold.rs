//! Folding ordered records into messages, one record at a time.
//!
//! [`Fold`] is the only place records become messages: `export` and
//! `build` feed it a whole transcript in order; `watch` keeps it between
//! rebuilds and feeds it the records appended since (see [`super::live`]),
//! and it says which messages changed.

use super::parse::{Body, Rec, ToolResult, finish_call};
use crate::model::*;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

fn usage_max(into: &mut Usage, u: &Usage) -> bool {
    let before = into.clone();
    into.input = into.input.max(u.input);
    into.output = into.output.max(u.output);
    into.cache_read = into.cache_read.max(u.cache_read);
    into.cache_write = into.cache_write.max(u.cache_write);
    *into != before
}

/// Messages folded from records so far, with what later records need: the
/// calls waiting for results, results waiting for calls, usage per request.
#[derive(Debug, Clone, Default)]
pub(super) struct Fold {
    messages: Vec<Message>,
    models: Vec<String>,
    by_msg_id: HashMap<String, usize>,
    usage_by_req: HashMap<String, Usage>,
    req_order: Vec<String>,
    /// The first message made for each request (it carries the usage).
    req_first: HashMap<String, usize>,
    /// The first call with each id: (message, part).
    calls: HashMap<String, (usize, usize)>,
    call_time: HashMap<String, DateTime<Utc>>,
    /// Call ids whose result was taken (the first result wins).
    answered: HashSet<String>,
    /// Results whose call has not been seen, by call id, with the number
    /// of messages before them: shown there if no call ever comes.
    waiting: HashMap<String, (usize, u64, ToolResult)>,
    /// Results seen, to keep waiting ones in the order they came.
    results_seen: u64,
    /// Lowest message position changed since [`Fold::take_changed`] (0 at
    /// first: everything is new).
    changed: usize,
}

impl Fold {
    fn touch(&mut self, i: usize) {
        self.changed = self.changed.min(i);
    }

    /// The lowest message position (see [`Fold::positions_before`])
    /// changed since the last call, and resets it.
    pub fn take_changed(&mut self) -> usize {
        std::mem::replace(&mut self.changed, usize::MAX)
    }

    /// Whether folding a record with `body` now would be inert (see
    /// [`Fold::apply`]) whatever comes after: it shows nothing, and its
    /// results go to calls already folded that have no result yet.
    pub fn inert(&self, body: &Body) -> bool {
        match body {
            Body::Chain => true,
            Body::System(parts) => parts.is_empty(),
            Body::User { parts, results, .. } => {
                parts.is_empty()
                    && results.iter().all(|(id, _)| {
                        self.calls.contains_key(id)
                            && !self.answered.contains(id)
                            && !self.waiting.contains_key(id)
                    })
            }
            Body::Assistant { .. } => false,
        }
    }

    /// Folds the next record (in [`super::parse::order`]'s order). Returns
    /// whether it was inert: it made or changed no message except by
    /// pairing results with their calls, and left no result waiting (so
    /// that folding it before or after another record is the same).
    pub fn apply(&mut self, rec: Rec) -> bool {
        match rec.body {
            Body::Assistant {
                msg_id,
                request_id,
                model,
                usage,
                parts,
            } => {
                if let Some(m) = model.as_deref() {
                    note_model(&mut self.models, m);
                }
                if let Some(t) = rec.time {
                    for p in &parts {
                        if let Part::ToolCall(c) = p {
                            self.call_time.entry(c.id.clone()).or_insert(t);
                        }
                    }
                }
                let key = request_id.clone().or_else(|| msg_id.clone());
                if let (Some(k), Some(u)) = (&key, &usage) {
                    match self.usage_by_req.get_mut(k) {
                        Some(have) => {
                            if usage_max(have, u)
                                && let Some(&i) = self.req_first.get(k)
                            {
                                self.messages[i].usage = Some(have.clone());
                                self.touch(i);
                            }
                        }
                        None => {
                            self.usage_by_req.insert(k.clone(), u.clone());
                            self.req_order.push(k.clone());
                            if let Some(&i) = self.req_first.get(k) {
                                self.messages[i].usage = Some(u.clone());
                                self.touch(i);
                            }
                        }
                    }
                }
                let existing = msg_id
                    .as_ref()
                    .and_then(|id| self.by_msg_id.get(id))
                    .copied();
                let i = match existing {
                    Some(i) => {
                        let before = self.messages[i].parts.len();
                        let m = &mut self.messages[i];
                        for p in parts {
                            // A call counts once per id: it may have taken
                            // its result already.
                            let have = match &p {
                                Part::ToolCall(c) => m
                                    .parts
                                    .iter()
                                    .any(|q| matches!(q, Part::ToolCall(d) if d.id == c.id)),
                                _ => m.parts.contains(&p),
                            };
                            if !have {
                                m.parts.push(p);
                            }
                        }
                        let model_set = m.model.is_none() && model.is_some();
                        if model_set {
                            m.model = model;
                        }
                        let grew = m.parts.len() != before;
                        if model_set || grew {
                            self.touch(i);
                        }
                        if grew {
                            self.note_calls(i, before);
                        }
                        return false;
                    }
                    None => {
                        let mut m = Message::new(Role::Assistant);
                        m.id = msg_id.clone().or(rec.uuid);
                        m.time = rec.time;
                        m.rewound = rec.rewound;
                        m.model = model;
                        m.parts = parts;
                        let i = self.messages.len();
                        if let Some(id) = msg_id {
                            self.by_msg_id.insert(id, i);
                        }
                        if let Some(k) = key
                            && !self.req_first.contains_key(&k)
                        {
                            m.usage = self.usage_by_req.get(&k).cloned();
                            self.req_first.insert(k, i);
                        }
                        self.messages.push(m);
                        i
                    }
                };
                self.touch(i);
                self.note_calls(i, 0);
                false
            }
            Body::User {
                parts,
                results,
                meta: is_meta,
                compact_summary,
            } => {
                let ids: Vec<String> = if parts.is_empty() {
                    results.iter().map(|(id, _)| id.clone()).collect()
                } else {
                    Vec::new()
                };
                for (id, r) in results {
                    self.take_result(id, r);
                }
                if parts.is_empty() {
                    return ids.iter().all(|id| !self.waiting.contains_key(id));
                }
                if compact_summary {
                    // Attach the summary to the boundary just before it.
                    let summary = parts.iter().find_map(|p| match p {
                        Part::Compaction { summary, .. } => summary.clone(),
                        _ => None,
                    });
                    let slot =
                        self.messages
                            .iter_mut()
                            .enumerate()
                            .rev()
                            .take(3)
                            .find_map(|(i, m)| {
                                m.parts.iter_mut().find_map(|p| match p {
                                    Part::Compaction {
                                        summary: s @ None, ..
                                    } => Some((i, s)),
                                    _ => None,
                                })
                            });
                    if let Some((i, slot)) = slot {
                        *slot = summary;
                        self.touch(i);
                        return false;
                    }
                }
                let real = !is_meta
                    && parts
                        .iter()
                        .any(|p| matches!(p, Part::Text { .. } | Part::File(_)));
                let mut m = Message::new(if real { Role::User } else { Role::System });
                m.id = rec.uuid;
                m.time = rec.time;
                m.rewound = rec.rewound;
                m.parts = parts;
                self.push(m);
                false
            }
            Body::System(parts) => {
                if parts.is_empty() {
                    return true;
                }
                let mut m = Message::new(Role::System);
                m.id = rec.uuid;
                m.time = rec.time;
                m.rewound = rec.rewound;
                m.parts = parts;
                self.push(m);
                false
            }
            Body::Chain => true,
        }
    }

    fn push(&mut self, m: Message) {
        let i = self.messages.len();
        self.messages.push(m);
        self.touch(i);
    }

    /// Registers the calls of message `i` from part `from` on, pairing
    /// them with results that came first.
    fn note_calls(&mut self, i: usize, from: usize) {
        for j in from..self.messages[i].parts.len() {
            let Part::ToolCall(c) = &self.messages[i].parts[j] else {
                continue;
            };
            if self.calls.contains_key(&c.id) {
                continue;
            }
            let id = c.id.clone();
            self.calls.insert(id.clone(), (i, j));
            if let Some((pos, _, r)) = self.waiting.remove(&id) {
                // The result was shown on its own at `pos` until now.
                self.touch(pos);
                self.answer(id, r);
            }
        }
    }

    /// A tool result: onto its call, or waiting for it.
    fn take_result(&mut self, id: String, r: ToolResult) {
        if self.answered.contains(&id) || self.waiting.contains_key(&id) {
            return;
        }
        if self.calls.contains_key(&id) {
            self.answer(id, r);
        } else {
            let pos = self.messages.len();
            self.touch(pos);
            self.results_seen += 1;
            self.waiting.insert(id, (pos, self.results_seen, r));
        }
    }

    fn answer(&mut self, id: String, r: ToolResult) {
        let Some(&(i, j)) = self.calls.get(&id) else {
            return;
        };
        let started = self.call_time.get(&id).copied();
        if let Part::ToolCall(call) = &mut self.messages[i].parts[j] {
            finish_call(call, r, started);
        }
        self.touch(i);
        self.answered.insert(id);
    }

    /// The messages folded so far (results still waiting for their call
    /// not included).
    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    pub fn models(&self) -> &[String] {
        &self.models
    }

    /// Usage over the session's requests, each counted once.
    pub fn totals(&self) -> Usage {
        let mut t = Usage::default();
        for k in &self.req_order {
            if let Some(u) = self.usage_by_req.get(k) {
                t.add(u);
            }
        }
        t
    }

    /// Results whose call never came, as the messages shown for them, with
    /// the number of folded messages before each, in order.
    fn orphans(&self) -> Vec<(usize, Message)> {
        let mut v: Vec<(usize, u64, &String, &ToolResult)> = self
            .waiting
            .iter()
            .map(|(id, (pos, seq, r))| (*pos, *seq, id, r))
            .collect();
        v.sort_by_key(|o| (o.0, o.1));
        v.into_iter()
            .map(|(pos, _, id, r)| (pos, orphan(id.clone(), r.clone())))
            .collect()
    }

    /// Shown messages before folded message `pos`: the folded ones and
    /// the orphan results placed before it.
    pub fn positions_before(&self, pos: usize) -> usize {
        let pos = pos.min(self.messages.len());
        pos + self.waiting.values().filter(|(p, _, _)| *p < pos).count()
    }

    /// The shown messages from folded message `from` on (with the orphan
    /// results at or after it), copied; `edit` sees the folded ones first
    /// (the first is message `from`).
    pub fn messages_from(&self, from: usize, edit: impl FnOnce(&mut [Message])) -> Vec<Message> {
        let from = from.min(self.messages.len());
        let orphans: Vec<(usize, Message)> = self
            .orphans()
            .into_iter()
            .filter(|(p, _)| *p >= from)
            .collect();
        let mut own = self.messages[from..].to_vec();
        edit(&mut own);
        let n = own.len();
        merge(own.into_iter(), from, orphans, n)
    }

    /// All shown messages.
    pub fn into_messages(self) -> Vec<Message> {
        let orphans = self.orphans();
        let n = self.messages.len();
        merge(self.messages.into_iter(), 0, orphans, n)
    }
}

/// Messages `from..` (as `msgs`, `n` of them) with `orphans` placed before
/// the message at their position.
fn merge(
    msgs: impl Iterator<Item = Message>,
    from: usize,
    orphans: Vec<(usize, Message)>,
    n: usize,
) -> Vec<Message> {
    let mut out = Vec::with_capacity(n + orphans.len());
    let mut orphans = orphans.into_iter().peekable();
    for (k, m) in msgs.enumerate() {
        while let Some((_, o)) = orphans.next_if(|(p, _)| *p <= from + k) {
            out.push(o);
        }
        out.push(m);
    }
    out.extend(orphans.map(|(_, o)| o));
    out
}

/// The message shown for a result whose call is not in the file (a
/// trimmed or resumed transcript): a call with an unknown name and input.
fn orphan(id: String, r: ToolResult) -> Message {
    let mut m = Message::new(Role::System);
    m.time = r.time;
    let mut call = ToolCall {
        id,
        name: "unknown".into(),
        input: Value::Null,
        output: None,
        status: ToolStatus::Pending,
        title: Some("result whose call was not recorded".into()),
        duration_ms: None,
        extras: ToolExtras::default(),
    };
    finish_call(&mut call, r, None);
    m.parts.push(Part::ToolCall(Box::new(call)));
    m
}
