//! The normalized session model.
//!
//! Every source maps its store into these types and every renderer reads only
//! them. The JSON form (`sharegen export --format json`) is this model
//! serialized with serde: field order is declaration order, optional fields
//! that are unset are omitted, and [`SCHEMA_VERSION`] is bumped on any
//! incompatible change.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;
use std::path::PathBuf;

/// Version of the JSON schema written by `export --format json`.
pub const SCHEMA_VERSION: u32 = 1;

/// The agent that recorded a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Agent {
    ClaudeCode,
    Opencode,
    /// OpenAI Codex CLI (also its desktop app and IDE extension).
    Codex,
    /// Google Gemini CLI.
    Gemini,
    /// Google Antigravity CLI (`agy`), Gemini CLI's successor.
    Antigravity,
}

impl Agent {
    pub const ALL: [Agent; 5] = [
        Agent::ClaudeCode,
        Agent::Opencode,
        Agent::Codex,
        Agent::Gemini,
        Agent::Antigravity,
    ];

    /// The agent's name in share IDs, JSON and `--agent`. Never change one:
    /// share IDs are derived from it.
    pub fn as_str(self) -> &'static str {
        match self {
            Agent::ClaudeCode => "claude-code",
            Agent::Opencode => "opencode",
            Agent::Codex => "codex",
            Agent::Gemini => "gemini",
            Agent::Antigravity => "antigravity",
        }
    }

    pub fn parse(s: &str) -> Option<Agent> {
        match s.to_ascii_lowercase().as_str() {
            "claude-code" | "claude" | "claudecode" | "cc" => Some(Agent::ClaudeCode),
            "opencode" | "oc" => Some(Agent::Opencode),
            "codex" | "codex-cli" => Some(Agent::Codex),
            "gemini" | "gemini-cli" => Some(Agent::Gemini),
            "antigravity" | "antigravity-cli" | "agy" => Some(Agent::Antigravity),
            _ => None,
        }
    }
}

impl fmt::Display for Agent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Token counts and cost. All counts are de-duplicated by the source
/// (one API request counts once).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    pub cache_write: u64,
    /// Reasoning tokens, when the agent reports them separately.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reasoning: u64,
    /// Cost in USD, when the agent records it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

impl std::hash::Hash for Usage {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let Usage {
            input,
            output,
            cache_read,
            cache_write,
            reasoning,
            cost,
        } = self;
        (input, output, cache_read, cache_write, reasoning).hash(state);
        cost.map(f64::to_bits).hash(state);
    }
}

impl Usage {
    pub fn add(&mut self, other: &Usage) {
        self.input += other.input;
        self.output += other.output;
        self.cache_read += other.cache_read;
        self.cache_write += other.cache_write;
        self.reasoning += other.reasoning;
        if let Some(c) = other.cost {
            *self.cost.get_or_insert(0.0) += c;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.input == 0
            && self.output == 0
            && self.cache_read == 0
            && self.cache_write == 0
            && self.reasoning == 0
            && self.cost.is_none()
    }
}

/// One session, normalized.
#[derive(Debug, Clone, PartialEq, Hash, Serialize, Deserialize)]
pub struct Session {
    pub agent: Agent,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The project (working) directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_branch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<DateTime<Utc>>,
    /// Models used, in order of first use.
    #[serde(default)]
    pub models: Vec<String>,
    /// Version of the agent that wrote the session, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_version: Option<String>,
    /// Totals over this session's own messages (subagents excluded; see
    /// [`Session::grand_totals`]).
    #[serde(default)]
    pub totals: Usage,
    #[serde(default)]
    pub messages: Vec<Message>,
    #[serde(default)]
    pub subagents: Vec<Subagent>,
    /// Files the session was read from.
    #[serde(default)]
    pub source_paths: Vec<PathBuf>,
}

impl Session {
    pub fn new(agent: Agent, id: impl Into<String>) -> Session {
        Session {
            agent,
            id: id.into(),
            title: None,
            project: None,
            git_branch: None,
            created: None,
            updated: None,
            models: Vec::new(),
            agent_version: None,
            totals: Usage::default(),
            messages: Vec::new(),
            subagents: Vec::new(),
            source_paths: Vec::new(),
        }
    }

    /// A copy of the session's own fields, without its messages and
    /// subagents.
    pub fn shell(&self) -> Session {
        Session {
            agent: self.agent,
            id: self.id.clone(),
            title: self.title.clone(),
            project: self.project.clone(),
            git_branch: self.git_branch.clone(),
            created: self.created,
            updated: self.updated,
            models: self.models.clone(),
            agent_version: self.agent_version.clone(),
            totals: self.totals.clone(),
            messages: Vec::new(),
            subagents: Vec::new(),
            source_paths: self.source_paths.clone(),
        }
    }

    /// Totals including every subagent, at any depth.
    pub fn grand_totals(&self) -> Usage {
        let mut u = self.totals.clone();
        for s in &self.subagents {
            u.add(&s.session.grand_totals());
        }
        u
    }

    /// Adds a model name to `models` unless already present.
    pub fn note_model(&mut self, model: &str) {
        note_model(&mut self.models, model);
    }

    /// Number of tool calls in this session (subagents excluded).
    pub fn tool_call_count(&self) -> usize {
        self.messages
            .iter()
            .flat_map(|m| &m.parts)
            .filter(|p| matches!(p, Part::ToolCall(_)))
            .count()
    }

    /// The first user prompt that the user really typed.
    pub fn first_prompt(&self) -> Option<&str> {
        first_prompt(&self.messages)
    }
}

/// A subagent session, linked to the tool call that spawned it.
#[derive(Debug, Clone, PartialEq, Hash, Serialize, Deserialize)]
pub struct Subagent {
    /// Id of the tool call (in the parent) that spawned it, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// The subagent's type (`general-purpose`, `explore`, …), when recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub session: Box<Session>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Assistant,
    /// Messages from the harness or the agent's machinery rather than a person
    /// or the model (compaction boundaries, command output, hook notices).
    System,
}

#[derive(Debug, Clone, PartialEq, Hash, Serialize, Deserialize)]
pub struct Message {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    pub parts: Vec<Part>,
    /// On a branch the user rewound: a later prompt was written in place
    /// of the one that started it (Claude Code's rewind, or an edited
    /// prompt), so the conversation went on without it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rewound: bool,
}

/// Adds `model` to `models` (models in order of first use), unless it is
/// there or empty.
pub fn note_model(models: &mut Vec<String>, model: &str) {
    if !model.is_empty() && !models.iter().any(|m| m == model) {
        models.push(model.to_string());
    }
}

/// The first user prompt that the user really typed in `messages`.
pub fn first_prompt<'a>(messages: impl IntoIterator<Item = &'a Message>) -> Option<&'a str> {
    messages
        .into_iter()
        .filter(|m| m.role == Role::User)
        .flat_map(|m| &m.parts)
        .find_map(|p| match p {
            Part::Text { text, .. } if !text.trim().is_empty() => Some(text.as_str()),
            _ => None,
        })
}

impl Message {
    pub fn new(role: Role) -> Message {
        Message {
            id: None,
            role,
            time: None,
            model: None,
            usage: None,
            parts: Vec::new(),
            rewound: false,
        }
    }
}

/// How much of a reasoning block was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasoningState {
    /// The text is there.
    Recorded,
    /// The agent recorded a reasoning block with no text (summaries off).
    Empty,
    /// The provider returned it encrypted or redacted.
    Redacted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolStatus {
    Pending,
    Running,
    Completed,
    Error,
}

/// What kind of harness text a notice is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// `<system-reminder>` and other injected context.
    SystemReminder,
    /// A slash command the user ran (`<command-name>` …).
    Command,
    /// Output of a local command (`<local-command-stdout>`).
    CommandOutput,
    /// `!` shell mode input or output.
    Shell,
    /// Hook output or feedback.
    Hook,
    /// Content marked as injected by the agent (`isMeta`, synthetic text).
    Injected,
    /// The user interrupted the agent.
    Interrupted,
    /// A background task or subagent reported back.
    TaskNotification,
    /// A message from another agent of the team (its first line names the
    /// sender, and the summary when there is one).
    Teammate,
    /// An error the agent showed.
    Error,
    /// A warning the agent showed.
    Warning,
    /// Anything else the harness said.
    Other,
}

/// A structured diff hunk, as agents record them. `old_start` and
/// `new_start` both 0 mean the position in the file was not recorded (Codex
/// `apply_patch` envelopes locate hunks by context lines, not numbers).
#[derive(Debug, Clone, PartialEq, Hash, Serialize, Deserialize)]
pub struct Hunk {
    pub old_start: u64,
    pub old_lines: u64,
    pub new_start: u64,
    pub new_lines: u64,
    /// Lines prefixed with ' ', '-' or '+'.
    pub lines: Vec<String>,
}

/// A file, its change, or both.
#[derive(Debug, Clone, Default, PartialEq, Hash, Serialize, Deserialize)]
pub struct FileDiff {
    pub path: String,
    /// `added`, `deleted`, `modified`, `moved`, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// A unified patch, when the agent recorded one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hunks: Vec<Hunk>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additions: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletions: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Hash, Serialize, Deserialize)]
pub struct Todo {
    pub content: String,
    /// `pending`, `in_progress`, `completed`, `cancelled`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
}

/// A file the tool read or wrote.
#[derive(Debug, Clone, PartialEq, Hash, Serialize, Deserialize)]
pub struct FileContent {
    pub path: String,
    pub content: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_line: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_lines: Option<u64>,
}

/// Structured extras a tool call carries when the agent records them.
#[derive(Debug, Clone, Default, PartialEq, Hash, Serialize, Deserialize)]
pub struct ToolExtras {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diffs: Vec<FileDiff>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileContent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub todos: Option<Vec<Todo>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<bool>,
    /// Id of the child (subagent) session this call spawned; for a
    /// Claude Code `Workflow` call, the id of the run whose agents it
    /// spawned (several subagents then name this call).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_session: Option<String>,
    /// Files or images attached to the result.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<FilePart>,
}

impl ToolExtras {
    pub fn is_empty(&self) -> bool {
        *self == ToolExtras::default()
    }
}

#[derive(Debug, Clone, PartialEq, Hash, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    /// The tool's name as the agent recorded it.
    pub name: String,
    pub input: Value,
    /// The result as text (what the model saw).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    pub status: ToolStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "ToolExtras::is_empty")]
    pub extras: ToolExtras,
}

/// An attached file or image: inline bytes (base64) or a URL.
#[derive(Debug, Clone, PartialEq, Hash, Serialize, Deserialize)]
pub struct FilePart {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Base64 data, when inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Part {
    Text {
        text: String,
    },
    Reasoning {
        text: String,
        state: ReasoningState,
    },
    ToolCall(Box<ToolCall>),
    File(FilePart),
    Diff(FileDiff),
    /// The agent compacted its context here.
    Compaction {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        summary: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        trigger: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pre_tokens: Option<u64>,
    },
    /// Text the harness injected or showed; renderers may hide it.
    Notice {
        kind: NoticeKind,
        text: String,
    },
    /// Token and cost stats of one model step.
    StepStats {
        usage: Usage,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        finish: Option<String>,
    },
    /// A record sharegen does not understand, kept so nothing is dropped.
    Unknown {
        /// What it is, e.g. `line:foo-bar` or `block:server_tool_use`.
        kind: String,
        raw: Value,
    },
}

impl Part {
    pub fn text(s: impl Into<String>) -> Part {
        Part::Text { text: s.into() }
    }

    pub fn notice(kind: NoticeKind, s: impl Into<String>) -> Part {
        Part::Notice {
            kind,
            text: s.into(),
        }
    }
}

/// A row of `sharegen list`: what a listing needs, without the messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionSummary {
    pub agent: Agent,
    pub id: String,
    pub title: Option<String>,
    pub project: Option<String>,
    pub created: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    /// User and assistant messages (de-duplicated), subagents excluded.
    pub messages: u64,
    /// Where the session lives (file, or database).
    pub path: PathBuf,
    /// Number of subagent sessions folded into this one.
    #[serde(default)]
    pub subagents: u64,
}

impl SessionSummary {
    /// The listing row of a session loaded whole from `path`, with
    /// `subagents` folded into it.
    pub fn of(s: &Session, path: &std::path::Path, subagents: u64) -> SessionSummary {
        SessionSummary {
            agent: s.agent,
            id: s.id.clone(),
            title: s.title.clone(),
            project: s.project.clone(),
            created: s.created,
            updated: s.updated,
            messages: s
                .messages
                .iter()
                .filter(|m| matches!(m.role, Role::User | Role::Assistant))
                .count() as u64,
            path: path.to_path_buf(),
            subagents,
        }
    }
}

/// The JSON document written by `export --format json`.
#[derive(Debug, Serialize, Deserialize)]
pub struct ExportDocument {
    pub schema_version: u32,
    pub generator: String,
    pub share_id: String,
    pub session: Session,
}

/// The same document, borrowing the session (for writing).
#[derive(Debug, Serialize)]
pub struct ExportDocumentRef<'a> {
    pub schema_version: u32,
    pub generator: String,
    pub share_id: String,
    pub session: &'a Session,
}
