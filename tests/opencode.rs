//! The OpenCode source against real records: the `opencode export` files
//! and the JSON store in `tests/fixtures/opencode`, and SQLite databases
//! built here from those records in the 1.2 (`session`/`message`/`part`)
//! and 2.x (`session_v2`/`session_message`) layouts.
//!
//! Expected counts and token totals are computed from the fixture JSON in
//! this file, independently of the reader.

mod common;

use rusqlite::{Connection, params};
use serde_json::{Map, Value, json};
use sharegen::diag::Diag;
use sharegen::model::{
    Agent, NoticeKind, Part, ReasoningState, Role, Session, SessionSummary, ToolStatus, Usage,
};
use sharegen::sources::opencode::{self, OpenCode};
use sharegen::sources::{SessionRef, Source};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const QUIET: &str = "ses_39c0a3da8ffeFQWvKTGUJWivpv";
const NIMBLE: &str = "ses_39b4c1891ffezxPVc5OPmcqF33";
const JOLLY: &str = "ses_39b5d713cffeRgAoxPIwS3Plus";
const WITTY: &str = "ses_3ce42bdb9ffeEIUUu08AuKTJms";
/// The child of quiet-meadow's completed `task` call.
const TASK_CHILD: &str = "ses_39c0477d8ffefxjYEkrcCD049r";
const TASK_CALL: &str = "call_qcdVuMp7LJYjvpsajMlOZkGk";
/// quiet-meadow's aborted `task` call and its child, which no store has.
const ABORTED_CALL: &str = "call_PxvMNWQ5SHqDuGnHP5OUZDdk";
const ABORTED_CHILD: &str = "ses_39c084d95ffeOW25eMdWi0xO6j";
/// A child of nimble-pixel that no `task` call names.
const LOOSE_CHILD: &str = "ses_39b4c0000ffeLooseChildKid1";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/opencode")
}

fn export_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(fixtures().join("export"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn sorted_dir(p: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = match std::fs::read_dir(p) {
        Ok(rd) => rd.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}

/// The three export documents.
fn exports() -> Vec<Value> {
    export_files().iter().map(|p| read_json(p)).collect()
}

/// The storage-v1 session in the export shape, read straight from the
/// files.
fn storage_doc() -> Value {
    let root = fixtures().join("storage-v1");
    let info = read_json(
        &root
            .join("session/c4153c5335dc81f0e622888f1f387c4b84dc54d5")
            .join(format!("{WITTY}.json")),
    );
    let mut messages: Vec<Value> = sorted_dir(&root.join("message").join(WITTY))
        .iter()
        .map(|m| {
            let info = read_json(m);
            let mid = info["id"].as_str().unwrap().to_string();
            let parts: Vec<Value> = sorted_dir(&root.join("part").join(&mid))
                .iter()
                .map(|p| read_json(p))
                .collect();
            json!({"info": info, "parts": parts})
        })
        .collect();
    messages.sort_by_key(|m| m["info"]["time"]["created"].as_i64());
    json!({"info": info, "messages": messages})
}

/// A copy of `doc` as another session: new session id, parent, and
/// message and part ids suffixed so they stay unique and ordered.
fn rekey(doc: &Value, sid: &str, parent: &str, title: &str, suffix: &str) -> Value {
    let mut d = doc.clone();
    d["info"]["id"] = json!(sid);
    d["info"]["parentID"] = json!(parent);
    d["info"]["title"] = json!(title);
    for m in d["messages"].as_array_mut().unwrap() {
        let mid = format!("{}{suffix}", m["info"]["id"].as_str().unwrap());
        m["info"]["id"] = json!(mid);
        m["info"]["sessionID"] = json!(sid);
        for p in m["parts"].as_array_mut().unwrap() {
            p["id"] = json!(format!("{}{suffix}", p["id"].as_str().unwrap()));
            p["messageID"] = json!(mid);
            p["sessionID"] = json!(sid);
        }
    }
    d
}

fn doc_id(doc: &Value) -> &str {
    doc["info"]["id"].as_str().unwrap()
}

/// Every session the test databases hold: the exports, the JSON-store
/// session, quiet-meadow's task child and nimble-pixel's loose child.
fn all_docs() -> Vec<Value> {
    let storage = storage_doc();
    let mut v = exports();
    v.push(rekey(
        &storage,
        TASK_CHILD,
        QUIET,
        "Commit pending changes (@gitter subagent)",
        "T",
    ));
    v.push(rekey(&storage, LOOSE_CHILD, NIMBLE, "Loose child", "L"));
    v.push(storage);
    v
}

fn doc<'a>(docs: &'a [Value], id: &str) -> &'a Value {
    docs.iter().find(|d| doc_id(d) == id).unwrap()
}

// ---------------------------------------------------------------------------
// Expected values, from the fixture JSON.

#[derive(Debug, Default, PartialEq)]
struct Counts {
    prompts: usize,
    user_texts: usize,
    assistant_texts: usize,
    injected: usize,
    reasoning: usize,
    tool_calls: usize,
    tools: BTreeMap<String, usize>,
}

fn nonblank(p: &Value) -> bool {
    p["text"].as_str().is_some_and(|t| !t.trim().is_empty())
}

fn expected(doc: &Value) -> Counts {
    let mut c = Counts::default();
    for m in doc["messages"].as_array().unwrap() {
        let user = m["info"]["role"] == "user";
        let mut prompt = false;
        for p in m["parts"].as_array().unwrap() {
            let synthetic = p["synthetic"] == json!(true);
            match p["type"].as_str().unwrap() {
                "text" if nonblank(p) && synthetic => c.injected += 1,
                "text" if nonblank(p) && user => {
                    c.user_texts += 1;
                    prompt = true;
                }
                "text" if nonblank(p) => c.assistant_texts += 1,
                "reasoning" => c.reasoning += 1,
                "tool" => {
                    c.tool_calls += 1;
                    *c.tools
                        .entry(p["tool"].as_str().unwrap().to_string())
                        .or_default() += 1;
                }
                _ => {}
            }
        }
        c.prompts += usize::from(prompt);
    }
    c
}

fn expected_usage(doc: &Value) -> Usage {
    let mut u = Usage::default();
    for m in doc["messages"].as_array().unwrap() {
        let info = &m["info"];
        if info["role"] != "assistant" {
            continue;
        }
        let t = &info["tokens"];
        let n = |v: &Value| v.as_u64().unwrap_or(0);
        u.input += n(&t["input"]);
        u.output += n(&t["output"]);
        u.reasoning += n(&t["reasoning"]);
        u.cache_read += n(&t["cache"]["read"]);
        u.cache_write += n(&t["cache"]["write"]);
        if let Some(c) = info["cost"].as_f64() {
            *u.cost.get_or_insert(0.0) += c;
        }
    }
    u
}

fn observed(s: &Session) -> Counts {
    let mut c = Counts::default();
    for m in &s.messages {
        let mut prompt = false;
        for p in &m.parts {
            match p {
                Part::Text { .. } if m.role == Role::User => {
                    c.user_texts += 1;
                    prompt = true;
                }
                Part::Text { .. } => c.assistant_texts += 1,
                Part::Notice {
                    kind: NoticeKind::Injected,
                    ..
                } => c.injected += 1,
                Part::Reasoning { .. } => c.reasoning += 1,
                Part::ToolCall(call) => {
                    c.tool_calls += 1;
                    *c.tools.entry(call.name.clone()).or_default() += 1;
                }
                _ => {}
            }
        }
        c.prompts += usize::from(prompt);
    }
    c
}

fn assert_matches_doc(s: &Session, doc: &Value) {
    assert_eq!(observed(s), expected(doc), "counts of {}", s.id);
    assert_eq!(s.totals, expected_usage(doc), "token totals of {}", s.id);
    assert_eq!(s.title.as_deref(), doc["info"]["title"].as_str());
    assert_eq!(s.project.as_deref(), doc["info"]["directory"].as_str());
    assert_eq!(s.agent_version.as_deref(), doc["info"]["version"].as_str());
    assert_eq!(
        s.created.map(|t| t.timestamp_millis()),
        doc["info"]["time"]["created"].as_i64()
    );
}

// ---------------------------------------------------------------------------
// Building databases.

const V1_TABLES: &str = "
CREATE TABLE project (
  id TEXT PRIMARY KEY, worktree TEXT NOT NULL, vcs TEXT, name TEXT, icon_url TEXT, icon_color TEXT,
  time_created INTEGER NOT NULL, time_updated INTEGER NOT NULL, time_initialized INTEGER,
  sandboxes TEXT NOT NULL, commands TEXT);
CREATE TABLE session (
  id TEXT PRIMARY KEY, project_id TEXT NOT NULL REFERENCES project(id) ON DELETE CASCADE,
  parent_id TEXT, slug TEXT NOT NULL, directory TEXT NOT NULL, title TEXT NOT NULL,
  version TEXT NOT NULL, share_url TEXT, summary_additions INTEGER, summary_deletions INTEGER,
  summary_files INTEGER, summary_diffs TEXT, revert TEXT, permission TEXT,
  time_created INTEGER NOT NULL, time_updated INTEGER NOT NULL, time_compacting INTEGER,
  time_archived INTEGER);
CREATE TABLE message (
  id TEXT PRIMARY KEY, session_id TEXT NOT NULL REFERENCES session(id) ON DELETE CASCADE,
  time_created INTEGER NOT NULL, time_updated INTEGER NOT NULL, data TEXT NOT NULL);
CREATE TABLE part (
  id TEXT PRIMARY KEY, message_id TEXT NOT NULL REFERENCES message(id) ON DELETE CASCADE,
  session_id TEXT NOT NULL, time_created INTEGER NOT NULL, time_updated INTEGER NOT NULL,
  data TEXT NOT NULL);
CREATE INDEX message_session_time_created_id_idx ON message (session_id, time_created, id);
CREATE INDEX part_message_id_id_idx ON part (message_id, id);
";

const V2_TABLES: &str = "
CREATE TABLE session_v2 (
  id TEXT PRIMARY KEY, project_id TEXT NOT NULL, workspace_id TEXT, parent_id TEXT,
  fork_session_id TEXT, slug TEXT NOT NULL, directory TEXT NOT NULL, title TEXT NOT NULL,
  version TEXT NOT NULL, share_url TEXT, summary_additions INTEGER, summary_deletions INTEGER,
  summary_files INTEGER, summary_diffs TEXT, revert TEXT, permission TEXT, model TEXT,
  cost REAL, tokens_input INTEGER, tokens_output INTEGER, tokens_reasoning INTEGER,
  tokens_cache_read INTEGER, tokens_cache_write INTEGER,
  time_created INTEGER NOT NULL, time_updated INTEGER NOT NULL, time_compacting INTEGER,
  time_archived INTEGER);
CREATE TABLE session_message (
  id TEXT PRIMARY KEY, session_id TEXT NOT NULL, type TEXT NOT NULL, seq INTEGER NOT NULL,
  time_created INTEGER NOT NULL, time_updated INTEGER NOT NULL, data TEXT NOT NULL);
";

/// A writer connection the way OpenCode opens one (WAL), with automatic
/// checkpoints off so every committed page stays in the `-wal` file.
fn writer(path: &Path) -> Connection {
    let c = Connection::open(path).unwrap();
    let mode: String = c
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    c.execute_batch(
        "PRAGMA wal_autocheckpoint=0; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
    )
    .unwrap();
    c
}

fn without(v: &Value, keys: &[&str]) -> String {
    let mut m: Map<String, Value> = v.as_object().unwrap().clone();
    for k in keys {
        m.remove(*k);
    }
    Value::Object(m).to_string()
}

fn insert_v1(c: &Connection, doc: &Value) {
    let info = &doc["info"];
    let sid = doc_id(doc);
    c.execute(
        "INSERT OR IGNORE INTO project (id, worktree, vcs, time_created, time_updated, sandboxes)
         VALUES (?1, ?2, 'git', ?3, ?3, '[]')",
        params![
            info["projectID"].as_str(),
            info["directory"].as_str(),
            info["time"]["created"].as_i64()
        ],
    )
    .unwrap();
    c.execute(
        "INSERT INTO session (id, project_id, parent_id, slug, directory, title, version,
           summary_additions, summary_deletions, summary_files, time_created, time_updated)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            sid,
            info["projectID"].as_str(),
            info["parentID"].as_str(),
            info["slug"].as_str().unwrap_or("slug"),
            info["directory"].as_str(),
            info["title"].as_str(),
            info["version"].as_str(),
            info["summary"]["additions"].as_i64(),
            info["summary"]["deletions"].as_i64(),
            info["summary"]["files"].as_i64(),
            info["time"]["created"].as_i64(),
            info["time"]["updated"].as_i64(),
        ],
    )
    .unwrap();
    insert_messages(c, sid, doc["messages"].as_array().unwrap());
}

/// Message and part rows of session `sid`.
fn insert_messages(c: &Connection, sid: &str, messages: &[Value]) {
    for m in messages {
        let mi = &m["info"];
        let mid = mi["id"].as_str().unwrap();
        let created = mi["time"]["created"].as_i64().unwrap();
        let updated = mi["time"]["completed"].as_i64().unwrap_or(created);
        c.execute(
            "INSERT INTO message (id, session_id, time_created, time_updated, data) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![mid, sid, created, updated, without(mi, &["id", "sessionID"])],
        )
        .unwrap();
        for p in m["parts"].as_array().unwrap() {
            c.execute(
                "INSERT INTO part (id, message_id, session_id, time_created, time_updated, data)
                 VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
                params![
                    p["id"].as_str(),
                    mid,
                    sid,
                    created,
                    without(p, &["id", "sessionID", "messageID"])
                ],
            )
            .unwrap();
        }
    }
}

/// 2.x tool names and inputs (`shell`, `patch`, `path`).
fn v2_tool(p: &Value) -> Value {
    let name = match p["tool"].as_str().unwrap() {
        "bash" => "shell",
        "apply_patch" => "patch",
        other => other,
    };
    let st = &p["state"];
    let mut input = st["input"].clone();
    if matches!(name, "read" | "write" | "edit")
        && let Some(obj) = input.as_object_mut()
        && let Some(fp) = obj.remove("filePath")
    {
        obj.insert("path".into(), fp);
    }
    let status = st["status"].as_str().unwrap();
    let mut state = json!({"status": status, "input": input, "structured": st["metadata"]});
    match status {
        "completed" => {
            state["content"] = json!([{"type": "text", "text": st["output"]}]);
            state["result"] = st["output"].clone();
        }
        "error" => {
            state["content"] = json!([]);
            state["error"] = st["error"].clone();
        }
        _ => {}
    }
    json!({
        "type": "tool", "id": p["callID"], "name": name, "state": state,
        "time": {"created": st["time"]["start"], "ran": st["time"]["start"], "completed": st["time"]["end"]},
    })
}

/// One MessageV2 record (with parts) as 2.x `session_message` rows:
/// (id, type, data).
fn to_v2(m: &Value) -> Vec<(String, String, Value)> {
    let info = &m["info"];
    let mid = info["id"].as_str().unwrap().to_string();
    let created = &info["time"]["created"];
    let parts = m["parts"].as_array().unwrap();
    if info["role"] == "user" {
        let texts: Vec<&str> = parts
            .iter()
            .filter(|p| p["type"] == "text" && p["synthetic"] != json!(true))
            .filter_map(|p| p["text"].as_str())
            .collect();
        let files: Vec<Value> = parts
            .iter()
            .filter(|p| p["type"] == "file")
            .map(|p| json!({"mime": p["mime"], "name": p["filename"], "uri": p["url"]}))
            .collect();
        let agents: Vec<Value> = parts
            .iter()
            .filter(|p| p["type"] == "agent")
            .map(|p| json!({"name": p["name"]}))
            .collect();
        let mut rows = vec![(
            mid,
            "user".to_string(),
            json!({"text": texts.join("\n"), "files": files, "agents": agents, "references": [], "time": {"created": created}}),
        )];
        for p in parts.iter().filter(|p| p["synthetic"] == json!(true)) {
            rows.push((
                p["id"].as_str().unwrap().to_string(),
                "synthetic".to_string(),
                json!({"text": p["text"], "time": {"created": created}}),
            ));
        }
        return rows;
    }
    let content: Vec<Value> = parts
        .iter()
        .filter_map(|p| match p["type"].as_str().unwrap() {
            "text" => Some(json!({"type": "text", "id": p["id"], "text": p["text"]})),
            "reasoning" => Some(json!({
                "type": "reasoning", "id": p["id"], "text": p["text"], "providerMetadata": p["metadata"],
            })),
            "tool" => Some(v2_tool(p)),
            _ => None,
        })
        .collect();
    let data = json!({
        "agent": info["agent"],
        "model": {"id": info["modelID"], "providerID": info["providerID"]},
        "content": content,
        "finish": info["finish"],
        "cost": info["cost"],
        "tokens": info["tokens"],
        "error": info["error"],
        "time": info["time"],
    });
    vec![(mid, "assistant".to_string(), data)]
}

/// Inserts a session in the 2.x tables, leaving out its first `skip`
/// messages (history that was not imported into 2.x).
fn insert_v2(c: &Connection, doc: &Value, skip: usize) {
    let info = &doc["info"];
    let sid = doc_id(doc);
    c.execute(
        "INSERT INTO session_v2 (id, project_id, parent_id, slug, directory, title, version,
           time_created, time_updated)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            sid,
            info["projectID"].as_str(),
            info["parentID"].as_str(),
            info["slug"].as_str().unwrap_or("slug"),
            info["directory"].as_str(),
            info["title"].as_str(),
            info["version"].as_str(),
            info["time"]["created"].as_i64(),
            info["time"]["updated"].as_i64(),
        ],
    )
    .unwrap();
    insert_v2_messages(c, sid, &doc["messages"].as_array().unwrap()[skip..]);
}

/// `session_message` rows of session `sid`, numbered from 1.
fn insert_v2_messages(c: &Connection, sid: &str, messages: &[Value]) {
    let mut seq = 0i64;
    for m in messages {
        let created = m["info"]["time"]["created"].as_i64().unwrap();
        for (id, kind, data) in to_v2(m) {
            seq += 1;
            c.execute(
                "INSERT INTO session_message (id, session_id, type, seq, time_created, time_updated, data)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)",
                params![id, sid, kind, seq, created, data.to_string()],
            )
            .unwrap();
        }
    }
}

/// A 1.2 database of `docs` at `path`; the returned writer keeps the data
/// in the `-wal` file.
fn build_v1_db(path: &Path, docs: &[Value]) -> Connection {
    let c = writer(path);
    c.execute_batch(V1_TABLES).unwrap();
    for d in docs {
        insert_v1(&c, d);
    }
    c
}

/// A database of an install that ran 1.x and then 2.x: every session in
/// the 1.x tables, and in the 2.x tables (jolly-eagle without its first two
/// messages).
fn build_v2_db(path: &Path, docs: &[Value]) -> Connection {
    let c = build_v1_db(path, docs);
    c.execute_batch(V2_TABLES).unwrap();
    for d in docs {
        let skip = if doc_id(d) == JOLLY { 2 } else { 0 };
        insert_v2(&c, d, skip);
    }
    c
}

fn sref(s: &SessionSummary) -> SessionRef {
    SessionRef {
        agent: s.agent,
        id: s.id.clone(),
        path: s.path.clone(),
    }
}

fn summary<'a>(list: &'a [SessionSummary], id: &str) -> &'a SessionSummary {
    list.iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| panic!("{id} not listed"))
}

fn load(src: &dyn Source, list: &[SessionSummary], id: &str) -> Session {
    src.load(&sref(summary(list, id)), &Diag::silent()).unwrap()
}

fn message_count(doc: &Value) -> u64 {
    doc["messages"].as_array().unwrap().len() as u64
}

/// What every database test checks: listing, counts, totals, subagents.
fn check_database_store(src: &dyn Source, db: &Path, docs: &[Value]) {
    let diag = Diag::silent();
    let list = src.discover(&diag).unwrap();
    let mut ids: Vec<&str> = list.iter().map(|s| s.id.as_str()).collect();
    ids.sort();
    assert_eq!(
        ids,
        [NIMBLE, JOLLY, QUIET, WITTY],
        "children are not listed"
    );
    for s in &list {
        assert_eq!(s.agent, Agent::Opencode);
        assert_eq!(s.path, db);
        assert_eq!(s.messages, message_count(doc(docs, &s.id)), "{}", s.id);
    }
    assert_eq!(summary(&list, QUIET).subagents, 1);
    assert_eq!(summary(&list, NIMBLE).subagents, 1);
    assert_eq!(summary(&list, JOLLY).subagents, 0);
    assert_eq!(
        summary(&list, QUIET).title.as_deref(),
        Some("AGENTS.md creation for codebase guidelines and tests")
    );

    for id in [QUIET, NIMBLE, JOLLY, WITTY] {
        let s = load(src, &list, id);
        assert_matches_doc(&s, doc(docs, id));
        assert_eq!(s.source_paths, [db.to_path_buf()]);
    }

    // quiet-meadow: the completed task call is linked to its child; the
    // aborted one names a child no store has.
    let quiet = load(src, &list, QUIET);
    assert_eq!(quiet.subagents.len(), 1);
    let sub = &quiet.subagents[0];
    assert_eq!(sub.tool_call_id.as_deref(), Some(TASK_CALL));
    assert_eq!(sub.agent_type.as_deref(), Some("gitter"));
    assert_eq!(sub.description.as_deref(), Some("Commit pending changes"));
    assert_eq!(sub.session.id, TASK_CHILD);
    assert_matches_doc(&sub.session, doc(docs, TASK_CHILD));
    assert_eq!(
        quiet.grand_totals().input,
        quiet.totals.input + sub.session.totals.input
    );
    let aborted = tool_call(&quiet, ABORTED_CALL);
    assert_eq!(aborted.extras.child_session.as_deref(), Some(ABORTED_CHILD));
    assert_eq!(aborted.status, ToolStatus::Error);

    // nimble-pixel: a child no task call names is attached without one.
    let nimble = load(src, &list, NIMBLE);
    assert_eq!(nimble.subagents.len(), 1);
    assert_eq!(nimble.subagents[0].tool_call_id, None);
    assert_eq!(nimble.subagents[0].session.id, LOOSE_CHILD);
    assert_eq!(
        nimble.subagents[0].description.as_deref(),
        Some("Loose child")
    );

    // jolly-eagle's task child is in no store: no subagent.
    let jolly = load(src, &list, JOLLY);
    assert!(jolly.subagents.is_empty());
    assert_eq!(
        tool_call(&jolly, "call_JV2AfZQdyiUa2gcwxGFvJ1FF")
            .extras
            .child_session
            .as_deref(),
        Some("ses_39b5d3ed8ffea9fQ9vQMuZnTtO")
    );
}

fn tool_call<'a>(s: &'a Session, id: &str) -> &'a sharegen::model::ToolCall {
    s.messages
        .iter()
        .flat_map(|m| &m.parts)
        .find_map(|p| match p {
            Part::ToolCall(c) if c.id == id => Some(c),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no tool call {id}"))
}

// ---------------------------------------------------------------------------

/// A temporary OpenCode data directory, and where its database goes.
fn data_dir() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("opencode");
    std::fs::create_dir(&data).unwrap();
    let db = data.join("opencode.db");
    (tmp, data, db)
}

#[test]
fn sqlite_1_2_database_lists_and_loads_every_session() {
    let (_tmp, data, db) = data_dir();
    let docs = all_docs();
    let _writer = build_v1_db(&db, &docs);

    let src = OpenCode::new(data.clone(), None);
    assert!(src.exists());
    check_database_store(&src, &db, &docs);

    // The database copy converts exactly like the export of the same session.
    let list = src.discover(&Diag::silent()).unwrap();
    for file in export_files() {
        let (esrc, elist) = opencode::refs_for_path(&file, &Diag::silent())
            .unwrap()
            .unwrap();
        let from_export = esrc.load(&sref(&elist[0]), &Diag::silent()).unwrap();
        let from_db = load(&src, &list, &elist[0].id);
        assert_eq!(
            serde_json::to_value(&from_export.messages).unwrap(),
            serde_json::to_value(&from_db.messages).unwrap(),
            "{}",
            file.display()
        );
    }
}

#[test]
fn sqlite_2x_rows_win_and_no_record_counts_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("opencode-beta.db");
    let docs = all_docs();
    let _writer = build_v2_db(&db, &docs);

    let (src, _) = opencode::refs_for_path(&db, &Diag::silent())
        .unwrap()
        .expect("an OpenCode database");
    check_database_store(src.as_ref(), &db, &docs);

    // 2.x vocabulary was read: tools were recorded as `shell`/`patch` with
    // `path`, and come out canonical.
    let list = src.discover(&Diag::silent()).unwrap();
    let quiet = load(src.as_ref(), &list, QUIET);
    let read = quiet
        .messages
        .iter()
        .flat_map(|m| &m.parts)
        .find_map(|p| match p {
            Part::ToolCall(c) if c.name == "read" => Some(c),
            _ => None,
        })
        .unwrap();
    assert!(read.input.get("filePath").is_some());
    assert!(read.input.get("path").is_none());
    assert!(read.extras.file.is_some());
    // 2.x messages have no step parts; each assistant gets its stats.
    let assistants = quiet
        .messages
        .iter()
        .filter(|m| m.role == Role::Assistant)
        .count();
    let stats = quiet
        .messages
        .iter()
        .flat_map(|m| &m.parts)
        .filter(|p| matches!(p, Part::StepStats { .. }))
        .count();
    assert_eq!(stats, assistants);

    // jolly-eagle's first two messages exist only in the 1.x tables.
    let jolly = load(src.as_ref(), &list, JOLLY);
    let ids: Vec<&str> = jolly
        .messages
        .iter()
        .filter_map(|m| m.id.as_deref())
        .collect();
    let want: Vec<&str> = doc(&docs, JOLLY)["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["info"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, want, "1.x-only history first, then 2.x rows, in order");
}

#[test]
fn reading_never_writes_the_database_or_its_wal() {
    let (_tmp, data, db) = data_dir();
    let wal = data.join("opencode.db-wal");
    let docs = all_docs();
    let writer = build_v2_db(&db, &docs);
    let before = (std::fs::read(&db).unwrap(), std::fs::read(&wal).unwrap());
    // Nothing was checkpointed: the records are only in the WAL.
    let needle = QUIET.as_bytes();
    let has = |hay: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    assert!(!has(&before.0), "no record in the main file yet");
    assert!(has(&before.1), "the records are in the WAL");

    let diag = Diag::silent();
    let src = OpenCode::new(data.clone(), None);
    let list = src.discover(&diag).unwrap();
    assert_eq!(list.len(), 4);
    for s in &list {
        let session = src.load(&sref(s), &diag).unwrap();
        assert!(!session.messages.is_empty());
    }
    let (src2, list2) = opencode::refs_for_path(&db, &diag).unwrap().unwrap();
    for s in &list2 {
        src2.load(&sref(s), &diag).unwrap();
    }

    let after = (std::fs::read(&db).unwrap(), std::fs::read(&wal).unwrap());
    assert!(before.0 == after.0, "database file changed");
    assert!(before.1 == after.1, "WAL file changed");
    drop(writer);
}

/// A data directory holding `storage-v1` as its JSON store.
fn data_dir_with_storage(root: &Path) -> PathBuf {
    let data = root.join("opencode");
    copy_dir(&fixtures().join("storage-v1"), &data.join("storage"));
    data
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

/// Writes a session in the JSON-store layout.
fn write_store_session(store: &Path, doc: &Value) {
    let sid = doc_id(doc);
    let project = doc["info"]["projectID"].as_str().unwrap();
    let put = |p: PathBuf, v: &Value| {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, serde_json::to_vec_pretty(v).unwrap()).unwrap();
    };
    put(
        store
            .join("session")
            .join(project)
            .join(format!("{sid}.json")),
        &doc["info"],
    );
    for m in doc["messages"].as_array().unwrap() {
        let mid = m["info"]["id"].as_str().unwrap();
        put(
            store.join("message").join(sid).join(format!("{mid}.json")),
            &m["info"],
        );
        for p in m["parts"].as_array().unwrap() {
            let pid = p["id"].as_str().unwrap();
            put(store.join("part").join(mid).join(format!("{pid}.json")), p);
        }
    }
}

#[test]
fn json_store_reads_storage_v1() {
    let tmp = tempfile::tempdir().unwrap();
    let data = data_dir_with_storage(tmp.path());
    let store = data.join("storage");
    let expect = storage_doc();

    for path in [&data, &store] {
        let diag = Diag::silent();
        let (src, list) = opencode::refs_for_path(path, &diag).unwrap().unwrap();
        assert_eq!(list.len(), 1);
        let s = &list[0];
        assert_eq!((s.id.as_str(), s.messages, s.subagents), (WITTY, 5, 0));
        assert_eq!(s.path, store);
        assert_eq!(s.title.as_deref(), Some("Hello from OpenCode"));
        let session = src.load(&sref(s), &diag).unwrap();
        assert_matches_doc(&session, &expect);
        assert_eq!(
            session.first_prompt(),
            Some("Respond with exactly: 'Hello from OpenCode'. Nothing else.")
        );
        assert_eq!(session.models, ["claude-haiku-4-5"]);
        assert_eq!(session.totals.input, 2 + 2 + 5);
        assert_eq!(session.totals.cache_read, 13540 + 13547 + 13578);
        let bash = tool_call(&session, "toolu_017THj1iZNELroZgmFbqC6Ma");
        assert_eq!(bash.name, "bash");
        assert_eq!(bash.status, ToolStatus::Completed);
        assert_eq!(bash.extras.exit_code, Some(0));
        assert_eq!(bash.duration_ms, Some(21));
        assert_eq!(
            bash.title.as_deref(),
            Some("List files in current directory")
        );
        assert!(
            bash.output
                .as_deref()
                .unwrap()
                .contains("capture-native.ts")
        );
        // session_diff is `[]`: no diff message.
        assert!(session.messages.iter().all(|m| m.role != Role::System));
        assert!(diag.warnings().is_empty(), "{:?}", diag.warnings());
    }

    // A session file inside the store names that session only.
    let file = store
        .join("session/c4153c5335dc81f0e622888f1f387c4b84dc54d5")
        .join(format!("{WITTY}.json"));
    let (_, list) = opencode::refs_for_path(&file, &Diag::silent())
        .unwrap()
        .unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].id, WITTY);
}

#[test]
fn stores_unite_by_id_and_the_database_copy_wins() {
    let tmp = tempfile::tempdir().unwrap();
    let data = data_dir_with_storage(tmp.path());
    let store = data.join("storage");
    let db = data.join("opencode.db");
    // The database holds the exports and the JSON-store session (as an
    // import would), under a different title to tell the copies apart.
    let mut witty = storage_doc();
    witty["info"]["title"] = json!("Hello (database copy)");
    let mut docs = exports();
    docs.push(witty.clone());
    let _writer = build_v1_db(&db, &docs);
    // A session only the JSON store has, with a session_diff.
    let only_json = rekey(
        &storage_doc(),
        "ses_3ce40000ffeJsonOnlySession",
        "",
        "Only in JSON",
        "J",
    );
    let mut only_json = only_json;
    only_json["info"]
        .as_object_mut()
        .unwrap()
        .remove("parentID");
    write_store_session(&store, &only_json);
    let diff = json!([{"file": "README.md", "before": "a\n", "after": "b\n", "additions": 1, "deletions": 1, "status": "modified"}]);
    std::fs::write(
        store.join("session_diff/ses_3ce40000ffeJsonOnlySession.json"),
        diff.to_string(),
    )
    .unwrap();
    // session_diff of a database session comes from the same storage dir.
    std::fs::write(
        store.join(format!("session_diff/{NIMBLE}.json")),
        diff.to_string(),
    )
    .unwrap();

    let diag = Diag::silent();
    let src = OpenCode::new(data.clone(), None);
    let list = src.discover(&diag).unwrap();
    assert_eq!(list.len(), 5);
    let w = summary(&list, WITTY);
    assert_eq!(w.path, db);
    assert_eq!(w.title.as_deref(), Some("Hello (database copy)"));
    assert_eq!(w.messages, 5);
    let j = summary(&list, "ses_3ce40000ffeJsonOnlySession");
    assert_eq!(j.path, store);

    let ws = src.load(&sref(w), &diag).unwrap();
    assert_eq!(ws.totals, expected_usage(&witty), "counted once");
    assert_eq!(ws.messages.len(), 5);
    assert_eq!(ws.source_paths[0], db);

    let js = src.load(&sref(j), &diag).unwrap();
    assert_matches_doc(&js, &only_json);
    let last = js.messages.last().unwrap();
    assert_eq!(last.role, Role::System);
    match &last.parts[..] {
        [Part::Diff(d)] => {
            assert_eq!(d.path, "README.md");
            assert_eq!(d.status.as_deref(), Some("modified"));
            assert_eq!((d.additions, d.deletions), (Some(1), Some(1)));
            assert_eq!(d.after.as_deref(), Some("b\n"));
        }
        other => panic!("expected one diff, got {other:?}"),
    }

    let ns = src.load(&sref(summary(&list, NIMBLE)), &diag).unwrap();
    assert!(matches!(
        &ns.messages.last().unwrap().parts[..],
        [Part::Diff(_)]
    ));
    assert!(
        ns.source_paths
            .contains(&store.join(format!("session_diff/{NIMBLE}.json")))
    );
}

/// Writes a session in the legacy per-project layout
/// (`session/info`, `session/message/<sid>`, `session/part/<sid>/<mid>`).
fn write_legacy_session(store: &Path, doc: &Value) {
    let sid = doc_id(doc);
    let put = |p: PathBuf, v: &Value| {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, serde_json::to_vec_pretty(v).unwrap()).unwrap();
    };
    let s = store.join("session");
    put(s.join("info").join(format!("{sid}.json")), &doc["info"]);
    for m in doc["messages"].as_array().unwrap() {
        let mid = m["info"]["id"].as_str().unwrap();
        put(
            s.join("message").join(sid).join(format!("{mid}.json")),
            &m["info"],
        );
        for p in m["parts"].as_array().unwrap() {
            let pid = p["id"].as_str().unwrap();
            put(
                s.join("part")
                    .join(sid)
                    .join(mid)
                    .join(format!("{pid}.json")),
                p,
            );
        }
    }
}

#[test]
fn legacy_project_stores_fill_in_what_is_missing_elsewhere() {
    let tmp = tempfile::tempdir().unwrap();
    let data = data_dir_with_storage(tmp.path());
    let legacy = data.join("project/home-nathan-sandbox-agent/storage");
    // The same session as the JSON store (which wins), and one only here,
    // whose last message is in the pre-2025-07 shape with inline parts.
    write_legacy_session(&legacy, &storage_doc());
    let mut old = rekey(
        &storage_doc(),
        "ses_3ce4ffffffeLegacyOnlyOne1",
        "",
        "Legacy",
        "G",
    );
    old["info"].as_object_mut().unwrap().remove("parentID");
    write_legacy_session(&legacy, &old);
    let v1 = json!({
        "id": "msg_c31bd6000001LegacyV1Shape1", "role": "assistant",
        "parts": [
            {"type": "text", "text": "Done."},
            {"type": "tool-invocation", "toolInvocation": {
                "state": "result", "toolCallId": "toolu_v1", "toolName": "bash",
                "args": {"command": "true"}, "result": ""}}
        ],
        "metadata": {
            "sessionID": "ses_3ce4ffffffeLegacyOnlyOne1",
            "time": {"created": 1770361099000_i64, "completed": 1770361099500_i64},
            "assistant": {"modelID": "claude-haiku-4-5", "providerID": "anthropic", "cost": 0,
                          "tokens": {"input": 3, "output": 4, "reasoning": 0, "cache": {"read": 0, "write": 0}}},
            "tool": {"toolu_v1": {"title": "true", "time": {"start": 1770361099100_i64, "end": 1770361099200_i64}, "exit": 0}}
        }
    });
    std::fs::write(
        legacy.join(
            "session/message/ses_3ce4ffffffeLegacyOnlyOne1/msg_c31bd6000001LegacyV1Shape1.json",
        ),
        v1.to_string(),
    )
    .unwrap();

    let diag = Diag::silent();
    let src = OpenCode::new(data.clone(), None);
    let list = src.discover(&diag).unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(summary(&list, WITTY).path, data.join("storage"));
    let l = summary(&list, "ses_3ce4ffffffeLegacyOnlyOne1");
    assert_eq!((l.path.as_path(), l.messages), (legacy.as_path(), 6));
    let s = src.load(&sref(l), &diag).unwrap();
    let mut want = expected_usage(&old);
    want.input += 3;
    want.output += 4;
    assert_eq!(s.totals, want);
    let call = tool_call(&s, "toolu_v1");
    assert_eq!(
        (call.name.as_str(), call.status),
        ("bash", ToolStatus::Completed)
    );
    assert_eq!(
        (call.extras.exit_code, call.duration_ms),
        (Some(0), Some(100))
    );
    let last = s.messages.last().unwrap();
    assert_eq!(last.role, Role::Assistant);
    assert_eq!(last.parts[0], Part::text("Done."));
    assert!(diag.warnings().is_empty(), "{:?}", diag.warnings());
}

#[test]
fn opencode_db_replaces_the_database_glob() {
    let (tmp, data, db) = data_dir();
    let docs = exports();
    let _a = build_v1_db(&db, &docs[..1]);
    let elsewhere = tmp.path().join("elsewhere.db");
    let _b = build_v1_db(&elsewhere, &docs[1..]);
    let diag = Diag::silent();

    let glob = OpenCode::new(data.clone(), None).discover(&diag).unwrap();
    assert_eq!(glob.len(), 1);
    let env = OpenCode::new(data.clone(), Some(elsewhere.clone()))
        .discover(&diag)
        .unwrap();
    assert_eq!(env.len(), 2);
    assert!(env.iter().all(|s| s.path == elsewhere));
    let memory = OpenCode::new(data.clone(), Some(data.join(":memory:")));
    assert!(!memory.exists());
    assert!(memory.discover(&diag).unwrap().is_empty());
}

#[test]
fn export_files_load_with_task_children_unlinked() {
    for (file, doc) in export_files().iter().zip(exports()) {
        let diag = Diag::silent();
        let (src, list) = opencode::refs_for_path(file, &diag).unwrap().unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].path, *file);
        assert_eq!(list[0].messages, message_count(&doc));
        let s = src.load(&sref(&list[0]), &diag).unwrap();
        assert_matches_doc(&s, &doc);
        assert!(s.subagents.is_empty(), "exports hold no child sessions");
        for m in &s.messages {
            for p in &m.parts {
                if let Part::ToolCall(c) = p
                    && c.name == "task"
                {
                    assert!(
                        c.extras
                            .child_session
                            .as_deref()
                            .unwrap()
                            .starts_with("ses_")
                    );
                }
            }
        }
        assert_eq!(s.models, ["gpt-5.3-codex"]);
        assert!(diag.warnings().is_empty(), "{:?}", diag.warnings());
    }
}

#[test]
fn export_records_map_into_the_model() {
    let file = export_files()
        .into_iter()
        .find(|p| p.to_string_lossy().contains("quiet-meadow"))
        .unwrap();
    let diag = Diag::silent();
    let (src, list) = opencode::refs_for_path(&file, &diag).unwrap().unwrap();
    let s = src.load(&sref(&list[0]), &diag).unwrap();
    let parts: Vec<&Part> = s.messages.iter().flat_map(|m| &m.parts).collect();

    // The aborted assistant message: an Interrupted notice; its task call
    // errored with "Tool execution aborted".
    let interrupted = parts
        .iter()
        .filter(|p| {
            matches!(
                p,
                Part::Notice {
                    kind: NoticeKind::Interrupted,
                    ..
                }
            )
        })
        .count();
    assert_eq!(interrupted, 1);
    let aborted = tool_call(&s, ABORTED_CALL);
    assert_eq!(aborted.output.as_deref(), Some("Tool execution aborted"));
    assert_eq!(aborted.extras.interrupted, Some(true));

    // apply_patch: per-file diffs with before/after.
    let patch = tool_call(&s, "call_mr7eSwuVWuGq4eudvLsPGgfR");
    assert_eq!(patch.name, "apply_patch");
    assert_eq!(patch.extras.diffs.len(), 1);
    let d = &patch.extras.diffs[0];
    assert_eq!(d.path, "AGENTS.md");
    assert_eq!(d.status.as_deref(), Some("modified"));
    assert_eq!((d.additions, d.deletions), (Some(167), Some(17)));
    assert!(
        d.before
            .as_deref()
            .unwrap()
            .starts_with("# Dark Factory - Agents MD")
    );
    assert!(d.patch.as_deref().unwrap().starts_with("Index: "));

    // todowrite: todos.
    let todo = tool_call(&s, "call_ujchYwmQg2t1FYRXDz90zoyz");
    let todos = todo.extras.todos.as_ref().unwrap();
    assert_eq!(todos.len(), 4);
    assert_eq!(todos[0].status, "in_progress");
    assert_eq!(todos[0].priority.as_deref(), Some("high"));

    // read: the file content without line numbers.
    let read = tool_call(&s, "call_d28yAxVfqVf5YUAWOggFtb3T");
    let f = read.extras.file.as_ref().unwrap();
    assert_eq!(f.path, "/Users/alex/repos/vfp/dark-factory/README.md");
    assert!(
        f.content
            .starts_with("# Dark Factory - Autonomous Agentic Development At Scale\n")
    );
    assert_eq!((f.start_line, f.total_lines), (Some(1), Some(57)));
    assert_eq!(f.content.split('\n').count(), 57);

    // glob errors: status and message.
    let glob = tool_call(&s, "call_0DbziJuVC0iPEk9HgEHbNTm8");
    assert_eq!(glob.status, ToolStatus::Error);
    assert!(
        glob.output
            .as_deref()
            .unwrap()
            .contains("No such file or directory")
    );

    // User side: the @dir file chip, agent mentions, synthetic text hidden
    // as injected notices.
    assert!(parts.iter().any(|p| matches!(p, Part::File(f)
        if f.mime.as_deref() == Some("application/x-directory")
        && f.url.as_deref() == Some("file:///Users/alex/repos/vfp/dark-factory/.opencode/skills/"))));
    assert!(
        parts.iter().any(
            |p| matches!(p, Part::Notice { kind: NoticeKind::Other, text } if text == "@gitter")
        )
    );
    // Patch parts list the files they changed.
    assert!(parts.iter().any(|p| matches!(p, Part::Notice { text, .. }
        if text.starts_with("Files changed:\n/Users/alex/repos/vfp/dark-factory/AGENTS.md"))));
    // Step stats carry per-step usage and the finish reason.
    assert!(
        parts
            .iter()
            .any(|p| matches!(p, Part::StepStats { usage, finish }
        if usage.input == 14810 && finish.as_deref() == Some("tool-calls")))
    );
    // Reasoning with text is recorded, never the encrypted blob.
    assert!(parts.iter().all(|p| match p {
        Part::Reasoning { text, state } =>
            *state == ReasoningState::Recorded && !text.contains("gAAAA"),
        _ => true,
    }));

    // Encrypted-only reasoning (nimble-pixel, jolly-eagle) is redacted.
    let mut redacted = 0;
    for file in export_files() {
        let (src, list) = opencode::refs_for_path(&file, &diag).unwrap().unwrap();
        let s = src.load(&sref(&list[0]), &diag).unwrap();
        redacted += s
            .messages
            .iter()
            .flat_map(|m| &m.parts)
            .filter(|p| matches!(p, Part::Reasoning { state: ReasoningState::Redacted, text } if text.is_empty()))
            .count();
    }
    assert_eq!(redacted, 4);
}

// ---------------------------------------------------------------------------
// Bad input.

/// Lists and loads whatever `path` is; errors are fine, panics are not.
fn exercise(path: &Path) {
    let diag = Diag::silent();
    if let Ok(Some((src, list))) = opencode::refs_for_path(path, &diag) {
        for s in &list {
            let _ = src.load(&sref(s), &diag);
        }
    }
}

fn exercise_store(data: &Path) -> Vec<SessionSummary> {
    let diag = Diag::silent();
    let src = OpenCode::new(data.to_path_buf(), None);
    let list = src.discover(&diag).unwrap();
    for s in &list {
        let _ = src.load(&sref(s), &diag);
    }
    list
}

fn cuts(len: usize) -> Vec<usize> {
    let mut v = vec![
        0,
        1,
        len / 7,
        len / 3,
        len / 2,
        len * 2 / 3,
        len.saturating_sub(2),
        len.saturating_sub(1),
    ];
    v.sort();
    v.dedup();
    v.retain(|&c| c < len);
    v
}

#[test]
fn truncated_export_files_never_panic() {
    let tmp = tempfile::tempdir().unwrap();
    for file in export_files() {
        let bytes = std::fs::read(&file).unwrap();
        for cut in cuts(bytes.len()) {
            let p = tmp.path().join(format!("cut-{cut}.json"));
            std::fs::write(&p, &bytes[..cut]).unwrap();
            let r = opencode::refs_for_path(&p, &Diag::silent());
            if bytes[cut..].iter().any(|b| !b.is_ascii_whitespace()) {
                let e = r.err().expect("a cut export is an error");
                assert!(e.to_string().contains(&p.display().to_string()));
            }
            exercise(&p);
        }
    }
}

#[test]
fn truncated_store_files_are_skipped_with_a_warning() {
    let root = fixtures().join("storage-v1");
    let files: Vec<PathBuf> = walk(&root)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    assert_eq!(files.len(), 18);
    for file in files {
        let rel = file.strip_prefix(&root).unwrap();
        let len = std::fs::metadata(&file).unwrap().len() as usize;
        for cut in cuts(len) {
            let tmp = tempfile::tempdir().unwrap();
            let data = data_dir_with_storage(tmp.path());
            let target = data.join("storage").join(rel);
            let bytes = std::fs::read(&target).unwrap();
            std::fs::write(&target, &bytes[..cut]).unwrap();

            let diag = Diag::silent();
            let src = OpenCode::new(data.clone(), None);
            let list = src.discover(&diag).unwrap();
            let session_file = rel.starts_with("session");
            assert_eq!(list.len(), usize::from(!session_file), "{}", rel.display());
            for s in &list {
                let loaded = src.load(&sref(s), &diag).unwrap();
                assert!(!loaded.messages.is_empty());
            }
            let warned = diag
                .warnings()
                .iter()
                .any(|w| w.path == target && (w.kind == "truncated" || w.kind == "malformed"));
            assert!(
                warned,
                "{} cut at {cut}: {:?}",
                rel.display(),
                diag.warnings()
            );
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in sorted_dir(dir) {
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Deterministic pseudo-random bytes (xorshift64*).
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

#[test]
fn random_bytes_never_panic() {
    let tmp = tempfile::tempdir().unwrap();
    for seed in 0..24u64 {
        let bytes = noise(seed, 64 + (seed as usize) * 97);
        // As a database file given directly: an error naming the path.
        let db = tmp.path().join(format!("r{seed}.db"));
        std::fs::write(&db, &bytes).unwrap();
        let err = opencode::refs_for_path(&db, &Diag::silent())
            .err()
            .expect("an error");
        assert!(err.to_string().contains(&db.display().to_string()));
        // With a SQLite header but garbage after it.
        let mut fake = b"SQLite format 3\0".to_vec();
        fake.extend(&bytes);
        let fake_db = tmp.path().join(format!("h{seed}.db"));
        std::fs::write(&fake_db, &fake).unwrap();
        if let Err(e) = opencode::refs_for_path(&fake_db, &Diag::silent()) {
            assert!(e.to_string().contains(&fake_db.display().to_string()));
        }
        // As an export file.
        let json = tmp.path().join(format!("r{seed}.json"));
        std::fs::write(&json, &bytes).unwrap();
        exercise(&json);
        // As opencode.db in a data directory: skipped with a warning.
        let data = tmp.path().join(format!("data{seed}"));
        copy_dir(&fixtures().join("storage-v1"), &data.join("storage"));
        std::fs::write(data.join("opencode.db"), &bytes).unwrap();
        let diag = Diag::silent();
        let list = OpenCode::new(data.clone(), None).discover(&diag).unwrap();
        assert_eq!(list.len(), 1, "the JSON store is still read");
        assert!(
            diag.warnings()
                .iter()
                .any(|w| w.path == data.join("opencode.db"))
        );
        // As every record file of a JSON store.
        let store = data.join("storage");
        for (i, f) in walk(&store).iter().enumerate() {
            std::fs::write(f, noise(seed * 100 + i as u64, 40 + i * 13)).unwrap();
        }
        exercise_store(&data);
        exercise(&store);
    }
}

#[test]
fn malformed_database_rows_never_panic() {
    let (_tmp, data, db) = data_dir();
    let docs = exports();
    let c = build_v2_db(&db, &docs);
    // Cut and mistyped JSON, wrong column types, rows for sessions that do
    // not exist, and sessions with no messages.
    let quiet_msg = c
        .query_row(
            "SELECT id FROM message WHERE session_id = ?1 ORDER BY id LIMIT 1",
            params![QUIET],
            |r| r.get::<_, String>(0),
        )
        .unwrap();
    c.execute_batch(&format!(
        "UPDATE message SET data = substr(data, 1, 40) WHERE id = '{quiet_msg}';
         UPDATE part SET data = '[1,2' WHERE rowid % 5 = 0;
         UPDATE part SET data = '42' WHERE rowid % 7 = 0;
         UPDATE part SET data = '{{\"type\": 7, \"state\": \"x\", \"tokens\": [1]}}' WHERE rowid % 11 = 0;
         UPDATE session_message SET data = '{{\"content\": 5, \"tokens\": {{\"input\": \"many\"}}, \"time\": []}}' WHERE seq % 3 = 0;
         UPDATE session_message SET type = 'hologram' WHERE seq % 13 = 0;
         INSERT INTO session_message VALUES ('m_orphan', 'ses_nowhere', 'user', 1, 1, 1, '{{}}');
         INSERT INTO session (id, project_id, slug, directory, title, version, time_created, time_updated)
           VALUES ('ses_empty', '51ce91990cdb80fb62489f7028ffc023d69077fd', 's', '/', 'Empty', '1.2.14', 'yesterday', X'00');
         INSERT INTO message VALUES ('msg_blob', 'ses_empty', 'x', 'y', X'FFFE00');
         INSERT INTO session (id, project_id, parent_id, slug, directory, title, version, time_created, time_updated)
           VALUES ('ses_cycle_a', '51ce91990cdb80fb62489f7028ffc023d69077fd', 'ses_cycle_b', 'a', '/', 'A', '1', 1, 1),
                  ('ses_cycle_b', '51ce91990cdb80fb62489f7028ffc023d69077fd', 'ses_cycle_a', 'b', '/', 'B', '1', 2, 2);"
    ))
    .unwrap();

    let diag = Diag::silent();
    let src = OpenCode::new(data.clone(), None);
    let list = src.discover(&diag).unwrap();
    // The three exports, the empty session, and both sessions of a parent
    // cycle (neither can fold into the other).
    assert_eq!(list.len(), 6);
    for s in &list {
        let _ = src.load(&sref(s), &diag).unwrap();
    }
    let a = src
        .load(&sref(summary(&list, "ses_cycle_a")), &diag)
        .unwrap();
    assert_eq!(a.subagents.len(), 1);
    assert!(a.subagents[0].session.subagents.is_empty());
    assert!(!diag.warnings().is_empty());
    drop(c);
}

/// A part row is parsed only when its message is converted: one whose data
/// is not a JSON object is then skipped with a warning, and the rest of
/// its message stays.
#[test]
fn part_rows_that_are_not_objects_are_skipped_with_a_warning() {
    let (_tmp, data, db) = data_dir();
    let c = build_v1_db(&db, &exports());
    let src = OpenCode::new(data.clone(), None);
    let list = src.discover(&Diag::silent()).unwrap();
    let before = observed(&load(&src, &list, QUIET));
    let pick = |kind: &str| {
        c.query_row(
            "SELECT id FROM part WHERE session_id = ?1 AND json_extract(data, '$.type') = ?2
               AND trim(coalesce(json_extract(data, '$.text'), 'x')) != '' ORDER BY id LIMIT 1",
            params![QUIET, kind],
            |r| r.get::<_, String>(0),
        )
        .unwrap()
    };
    let (tool, text) = (pick("tool"), pick("text"));
    c.execute("UPDATE part SET data = '[1,2' WHERE id = ?1", params![tool])
        .unwrap();
    c.execute("UPDATE part SET data = '42' WHERE id = ?1", params![text])
        .unwrap();

    let diag = Diag::silent();
    let s = src.load(&sref(summary(&list, QUIET)), &diag).unwrap();
    let after = observed(&s);
    let texts = |c: &Counts| c.user_texts + c.assistant_texts + c.injected;
    assert_eq!(after.tool_calls, before.tool_calls - 1);
    assert_eq!(texts(&after), texts(&before) - 1);
    assert_eq!(after.reasoning, before.reasoning);
    let kinds: Vec<String> = diag.warnings().into_iter().map(|w| w.kind).collect();
    assert!(kinds.iter().any(|k| k == "bad-part-row"), "{kinds:?}");
}

/// Export files are recognised and listed from their top level alone:
/// other JSON is not claimed, invalid JSON is an error naming the file,
/// and lone surrogates do not stop an export from being one.
#[test]
fn export_files_are_told_apart_by_their_top_level() {
    let tmp = tempfile::tempdir().unwrap();
    let diag = Diag::silent();
    let claimed = |name: &str, text: &str| {
        let p = tmp.path().join(name);
        std::fs::write(&p, text).unwrap();
        opencode::refs_for_path(&p, &diag).map(|r| r.map(|(_, list)| list))
    };
    for (name, text) in [
        ("array.json", "[1, 2]"),
        ("string.json", r#""info""#),
        ("messages-object.json", r#"{"info": {}, "messages": {}}"#),
        ("info-array.json", r#"{"info": [], "messages": []}"#),
        ("no-info.json", r#"{"messages": []}"#),
    ] {
        assert!(claimed(name, text).unwrap().is_none(), "{name}");
    }
    let e = claimed("broken.json", r#"{"info": {}, "messages": [}"#).unwrap_err();
    assert!(e.to_string().contains("broken.json"), "{e}");

    let mut doc = exports().remove(0);
    let n = doc["messages"].as_array().unwrap().len() as u64;
    doc["info"]["title"] = json!("TITLE");
    let text = doc.to_string().replacen("TITLE", "half \\ud83d a pair", 1);
    let list = claimed("surrogate.json", &text)
        .unwrap()
        .expect("an export");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].messages, n);
    assert_eq!(list[0].title.as_deref(), Some("half \u{fffd} a pair"));
}

#[test]
fn paths_that_are_not_opencode_are_not_claimed() {
    let tmp = tempfile::tempdir().unwrap();
    let diag = Diag::silent();
    let other_json = tmp.path().join("package.json");
    std::fs::write(&other_json, r#"{"name": "x", "version": "1"}"#).unwrap();
    assert!(
        opencode::refs_for_path(&other_json, &diag)
            .unwrap()
            .is_none()
    );
    let other_db = tmp.path().join("app.sqlite");
    Connection::open(&other_db)
        .unwrap()
        .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    assert!(opencode::refs_for_path(&other_db, &diag).unwrap().is_none());
    let empty_dir = tmp.path().join("empty");
    std::fs::create_dir(&empty_dir).unwrap();
    assert!(
        opencode::refs_for_path(&empty_dir, &diag)
            .unwrap()
            .is_none()
    );
    assert!(
        opencode::refs_for_path(&tmp.path().join("missing"), &diag)
            .unwrap()
            .is_none()
    );
    let notes = tmp.path().join("notes.txt");
    std::fs::write(&notes, "hello").unwrap();
    assert!(opencode::refs_for_path(&notes, &diag).unwrap().is_none());

    let src = OpenCode::new(tmp.path().join("nothing-here"), None);
    assert!(!src.exists());
    assert!(src.discover(&diag).unwrap().is_empty());
    let missing = SessionRef {
        agent: Agent::Opencode,
        id: "ses_missing".into(),
        path: tmp.path().join("nothing-here/opencode.db"),
    };
    assert!(src.load(&missing, &diag).is_err());
}

// ---------------------------------------------------------------------------
// `watch`.

/// `messages` with the text of the last part cut to `cut` characters (a
/// part being streamed).
fn streamed(messages: &[Value], cut: Option<usize>) -> Vec<Value> {
    let mut messages = messages.to_vec();
    if let (Some(cut), Some(last)) = (cut, messages.last_mut())
        && let Some(p) = last["parts"].as_array_mut().unwrap().last_mut()
        && let Some(t) = p["text"].as_str()
    {
        p["text"] = json!(t.chars().take(cut).collect::<String>());
    }
    messages
}

/// Rewrites session `sid`'s rows to `messages` (in the 1.2 or the 2.x
/// tables), as one transaction: rows that stay the same keep their
/// time_updated, as OpenCode leaves them.
fn rewrite_rows(c: &Connection, sid: &str, messages: &[Value], v2: bool) {
    c.execute_batch("BEGIN").unwrap();
    if v2 {
        c.execute("DELETE FROM session_message WHERE session_id = ?1", [sid])
            .unwrap();
        insert_v2_messages(c, sid, messages);
    } else {
        c.execute("DELETE FROM part WHERE session_id = ?1", [sid])
            .unwrap();
        c.execute("DELETE FROM message WHERE session_id = ?1", [sid])
            .unwrap();
        insert_messages(c, sid, messages);
    }
    c.execute_batch("COMMIT").unwrap();
}

/// Grows quiet-meadow in a database (1.2 tables, or 2.x ones only) the
/// way OpenCode writes it, checking `watch`'s load after each step.
fn grow_database_session(v2: bool) {
    sharegen::sources::jsonl::enable_tails(true);
    let (_tmp, _data, db) = data_dir();
    let docs = all_docs();
    let full: Vec<Value> = doc(&docs, QUIET)["messages"].as_array().unwrap().clone();
    let c = if v2 {
        let c = writer(&db);
        c.execute_batch(V1_TABLES).unwrap();
        c.execute_batch(V2_TABLES).unwrap();
        for d in &docs {
            insert_v2(&c, d, 0);
        }
        c
    } else {
        build_v1_db(&db, &docs)
    };
    let name = if v2 {
        "quiet-meadow (2.x)"
    } else {
        "quiet-meadow"
    };
    let (source, found) = opencode::refs_for_path(&db, &Diag::silent())
        .unwrap()
        .unwrap();
    let r = sref(summary(&found, QUIET));
    let mut held = None;
    let mut stats = common::live::Stats::default();
    let mut step = |messages: &[Value], at: &str, most: Option<usize>| {
        rewrite_rows(&c, QUIET, messages, v2);
        let want = source.load(&r, &Diag::silent()).unwrap();
        assert!(
            want.subagents.iter().any(|s| s.session.id == TASK_CHILD),
            "{name}: {at}: the task child is not linked"
        );
        common::live::check_load(name, at, source.as_ref(), &r, &mut held, &mut stats, want);
        if let Some(most) = most {
            // The rows of the last `most` messages (a 2.x user message is a
            // row, and one more per synthetic text).
            let rows: usize = messages[messages.len() - most..]
                .iter()
                .map(|m| if v2 { to_v2(m).len() } else { 1 })
                .sum();
            let read = opencode::live_rows_read(&db, QUIET).unwrap();
            assert!(read <= rows, "{name}: {at}: read {read} rows, not {rows}");
        }
    };
    for n in 1..=full.len() {
        step(
            &streamed(&full[..n], Some(10)),
            &format!("message {n}, streaming"),
            Some(1),
        );
        step(&full[..n], &format!("message {n}"), Some(1));
    }
    if !v2 {
        // A compaction marker, then the summary that fills it.
        let mut grown = full.clone();
        grown.push(json!({
            "info": {"id": "msg_zzzz00001", "sessionID": QUIET, "role": "user",
                     "time": {"created": 1_900_000_000_000_i64}},
            "parts": [{"id": "prt_zzzz00001", "type": "compaction", "auto": true}]
        }));
        step(&grown, "compaction marker", Some(1));
        grown.push(json!({
            "info": {"id": "msg_zzzz00002", "sessionID": QUIET, "role": "assistant",
                     "summary": true, "modelID": "m", "providerID": "p",
                     "time": {"created": 1_900_000_000_100_i64, "completed": 1_900_000_000_200_i64},
                     "tokens": {"input": 5, "output": 3, "reasoning": 0, "cache": {"read": 0, "write": 0}}},
            "parts": [{"id": "prt_zzzz00002", "type": "text", "text": "We did X."}]
        }));
        step(&grown, "compaction summary", Some(1));
        step(&grown[..grown.len() - 1], "summary reverted", Some(0));
    }
    // Reverts: three messages, then more than the last eight, which every
    // load stamps.
    step(&full[..full.len() - 3], "three messages reverted", Some(0));
    step(&full, "grown back", Some(3));
    step(
        &full[..full.len() - 12],
        "twelve messages reverted",
        Some(0),
    );
    step(&full, "grown back again", Some(12));
    // A part of an old message rewritten: seen when every row is stamped
    // (at most every 30 s; at once here).
    let mut old = full.clone();
    let p = old[1]["parts"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|p| p["text"].is_string())
        .expect("a text part in the second message");
    p["text"] = json!("rewritten");
    opencode::live_recheck_next(&db, QUIET);
    step(&old, "an old part rewritten", None);
    assert!(
        stats.partial * 10 >= stats.steps * 9,
        "{name}: too few partial loads: {stats:?}"
    );
}

/// `watch`'s loads of a session in a 1.2 database read and hand on only the
/// messages from the first changed one on: while the session grows a
/// message at a time (the last part streamed in halves), gets a compaction
/// and its summary, is reverted, and has an old part rewritten, each load
/// put together with the previous ones is what a fresh load gives
/// (subagent included), and a load after one new message reads one row.
#[test]
fn watch_reads_only_the_changed_messages_of_a_database_session() {
    grow_database_session(false);
}

/// The same for a session in the 2.x `session_message` table.
#[test]
fn watch_reads_only_the_changed_rows_of_a_2x_database_session() {
    grow_database_session(true);
}
