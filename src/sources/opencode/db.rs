//! The SQLite store: 1.2+ `session`/`message`/`part` tables (G2) and 2.x
//! `session_v2`/`session_message` (G3), in the same file.
//!
//! The database is opened read-only through a `file:` URI with
//! `mode=ro` (never `immutable=1`), so reads go through the WAL of a
//! running OpenCode and nothing is ever written. Tables and columns are
//! detected with `PRAGMA table_info`; every column beyond v1.2.0's
//! `id`/`session_id`/`message_id`/`data` is optional.
//!
//! Which copy wins: a session's info comes from `session_v2` when it has a
//! row there, else from `session`. Its messages are the `session_message`
//! rows (by `seq`) plus the `message` rows whose ids are not among them
//! (history not imported into 2.x), merged by creation time. No record is
//! read twice.

use super::Listed;
use super::convert::{PartRow, RawMessage, RawPart, RawSession};
use super::value::parse_json;
use crate::diag::Diag;
use crate::error::{Error, Result};
use rusqlite::types::Value as Sql;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;
use xxhash_rust::xxh3::xxh3_128;

pub(super) struct Db {
    path: PathBuf,
    conn: Connection,
    /// Table name → column names, for the tables sharegen reads.
    tables: HashMap<&'static str, HashSet<String>>,
}

const TABLES: [&str; 5] = [
    "session",
    "session_v2",
    "message",
    "part",
    "session_message",
];

/// The read-only `file:` URI of `path`.
fn ro_uri(path: &Path) -> String {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let s = abs.to_string_lossy().replace('\\', "/");
    let mut uri = String::from("file:");
    if !s.starts_with('/') {
        uri.push('/');
    }
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~:".contains(&b) {
            uri.push(b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri.push_str("?mode=ro");
    uri
}

impl Db {
    /// Opens `path` read-only and reads its schema. Fails (naming the
    /// path) when it is not an SQLite database.
    pub(super) fn open(path: &Path) -> Result<Db> {
        let sql = |e| Error::sqlite(path, e);
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(ro_uri(path), flags).map_err(sql)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(sql)?;
        let mut tables = HashMap::new();
        let names: Vec<String> = {
            let mut stmt = conn
                .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
                .map_err(sql)?;
            stmt.query_map([], |r| r.get::<_, String>(0))
                .map_err(sql)?
                .collect::<rusqlite::Result<_>>()
                .map_err(sql)?
        };
        for t in TABLES {
            if !names.iter().any(|n| n == t) {
                continue;
            }
            let mut stmt = conn
                .prepare(&format!("PRAGMA table_info(\"{t}\")"))
                .map_err(sql)?;
            let cols = stmt
                .query_map([], |r| r.get::<_, String>(1))
                .map_err(sql)?
                .collect::<rusqlite::Result<HashSet<_>>>()
                .map_err(sql)?;
            drop(stmt);
            tables.insert(t, cols);
        }
        Ok(Db {
            path: path.to_path_buf(),
            conn,
            tables,
        })
    }

    /// Whether the database has OpenCode's session tables.
    pub(super) fn is_opencode(&self) -> bool {
        ["session", "session_v2"].iter().any(|t| self.has(t, "id"))
    }

    fn has(&self, table: &str, col: &str) -> bool {
        self.tables.get(table).is_some_and(|c| c.contains(col))
    }

    /// `"col"` when the table has it, else `NULL`.
    fn col(&self, table: &str, col: &str) -> String {
        if self.has(table, col) {
            format!("\"{col}\"")
        } else {
            "NULL".to_string()
        }
    }

    /// `ORDER BY` over those of `cols` the table has (empty when none).
    fn order_by(&self, table: &str, cols: &[&str]) -> String {
        let present: Vec<String> = cols
            .iter()
            .filter(|c| self.has(table, c))
            .map(|c| format!("\"{c}\""))
            .collect();
        if present.is_empty() {
            String::new()
        } else {
            format!("ORDER BY {}", present.join(", "))
        }
    }

    fn err(&self, e: rusqlite::Error) -> Error {
        Error::sqlite(&self.path, e)
    }

    /// `SELECT key, COUNT(*) … GROUP BY key` as a map.
    fn counts(&self, sql: &str) -> Result<HashMap<String, u64>> {
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, Sql>(0)?, r.get::<_, i64>(1)?)))
            .map_err(|e| self.err(e))?;
        let mut out = HashMap::new();
        for row in rows {
            let (k, n) = row.map_err(|e| self.err(e))?;
            if let Some(k) = text(&k) {
                *out.entry(k).or_insert(0) += u64::try_from(n).unwrap_or(0);
            }
        }
        Ok(out)
    }

    /// Number of user and assistant messages per session, each record
    /// once.
    fn message_counts(&self) -> Result<HashMap<String, u64>> {
        let v1 = self.has("message", "session_id");
        let v2 = self.has("session_message", "session_id");
        let mut counts = if v1 {
            self.counts("SELECT session_id, COUNT(*) FROM message GROUP BY session_id")?
        } else {
            HashMap::new()
        };
        if v2 {
            let filter = if self.has("session_message", "type") {
                "WHERE type IN ('user', 'assistant')"
            } else {
                ""
            };
            let sql = format!(
                "SELECT session_id, COUNT(*) FROM session_message {filter} GROUP BY session_id"
            );
            for (k, n) in self.counts(&sql)? {
                *counts.entry(k).or_insert(0) += n;
            }
        }
        if v1 && v2 && self.has("message", "id") && self.has("session_message", "id") {
            let shared = self.counts(
                "SELECT session_id, COUNT(*) FROM message \
                 WHERE id IN (SELECT id FROM session_message) GROUP BY session_id",
            )?;
            for (k, n) in shared {
                if let Some(c) = counts.get_mut(&k) {
                    *c = c.saturating_sub(n);
                }
            }
        }
        Ok(counts)
    }

    /// Lists the sessions: session rows and (with `counts`) message
    /// counts, no content.
    pub(super) fn list(&self, counts: bool) -> Result<Vec<Listed>> {
        let counts = match counts {
            true => self.message_counts()?,
            false => HashMap::new(),
        };
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for table in ["session_v2", "session"] {
            if !self.has(table, "id") {
                continue;
            }
            let cols = [
                "id",
                "parent_id",
                "title",
                "directory",
                "version",
                "time_created",
                "time_updated",
            ];
            let select: Vec<String> = cols.iter().map(|c| self.col(table, c)).collect();
            let sql = format!("SELECT {} FROM \"{table}\"", select.join(", "));
            let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
            let rows = stmt
                .query_map([], |r| {
                    let mut m = HashMap::new();
                    for (i, c) in cols.iter().enumerate() {
                        m.insert(c.to_string(), r.get::<_, Sql>(i)?);
                    }
                    Ok(m)
                })
                .map_err(|e| self.err(e))?;
            for row in rows {
                let row = row.map_err(|e| self.err(e))?;
                let info = info_from_row(&row);
                let Some(id) = info.get("id").and_then(Value::as_str).map(str::to_string) else {
                    continue;
                };
                if !seen.insert(id.clone()) {
                    continue;
                }
                let n = counts.get(&id).copied().unwrap_or(0);
                out.push(Listed::new(&id, &info, n, &self.path));
            }
        }
        Ok(out)
    }

    /// All columns of the row of `table` with this id.
    fn session_row(&self, table: &str, id: &str) -> Result<Option<HashMap<String, Sql>>> {
        if !self.has(table, "id") {
            return Ok(None);
        }
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT * FROM \"{table}\" WHERE id = ?1"))
            .map_err(|e| self.err(e))?;
        let names: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
        let mut rows = stmt.query(params![id]).map_err(|e| self.err(e))?;
        let Some(r) = rows.next().map_err(|e| self.err(e))? else {
            return Ok(None);
        };
        let mut m = HashMap::new();
        for (i, n) in names.into_iter().enumerate() {
            m.insert(n, r.get::<_, Sql>(i).map_err(|e| self.err(e))?);
        }
        Ok(Some(m))
    }

    /// Parses a `data` column into a JSON object, reporting bad rows.
    fn object(&self, table: &str, data: &Sql, diag: &Diag) -> Option<Map<String, Value>> {
        let parsed = text(data).and_then(|s| parse_json(&s).ok());
        match parsed {
            Some(Value::Object(m)) => Some(m),
            _ => {
                diag.warn(
                    &self.path,
                    None,
                    &format!("bad-{table}-row"),
                    format!("skipped `{table}` rows whose data is not a JSON object"),
                );
                None
            }
        }
    }

    /// 2.x rows of a session: (time_created, message).
    /// With `from` ([`Db::live_rows`] only), the rows from that one on.
    fn v2_messages(
        &self,
        id: &str,
        from: Option<Bound>,
        diag: &Diag,
    ) -> Result<Vec<(Option<i64>, RawMessage)>> {
        let t = "session_message";
        if !self.has(t, "session_id") || !self.has(t, "data") {
            return Ok(Vec::new());
        }
        let order = self.order_by(t, &["seq", "time_created", "id"]);
        let after = from.map_or(String::new(), |_| Rows::SessionMessage.bound(">="));
        let sql = format!(
            "SELECT {}, {}, data, {} FROM session_message WHERE session_id = ?1 {after} {order}",
            self.col(t, "id"),
            self.col(t, "type"),
            self.col(t, "time_created"),
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(bind(id, from), |r| {
                Ok((
                    r.get::<_, Sql>(0)?,
                    r.get::<_, Sql>(1)?,
                    r.get::<_, Sql>(2)?,
                    r.get::<_, Sql>(3)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (mid, kind, data, time) = row.map_err(|e| self.err(e))?;
            let Some(data) = self.object(t, &data, diag) else {
                continue;
            };
            let kind = text(&kind)
                .or_else(|| data.get("type").and_then(Value::as_str).map(str::to_string))
                .unwrap_or_default();
            let mid = text(&mid)
                .or_else(|| data.get("id").and_then(Value::as_str).map(str::to_string))
                .unwrap_or_default();
            out.push((
                int(&time),
                RawMessage::Event {
                    id: mid,
                    kind,
                    data: Value::Object(data),
                },
            ));
        }
        Ok(out)
    }

    /// 1.2 rows of a session not in `skip`: (time_created, message). With
    /// `from` ([`Db::live_rows`] only), the rows from that one on.
    fn v1_messages(
        &self,
        id: &str,
        skip: &HashSet<String>,
        from: Option<Bound>,
        diag: &Diag,
    ) -> Result<Vec<(Option<i64>, RawMessage)>> {
        let t = "message";
        if !self.has(t, "id") || !self.has(t, "session_id") || !self.has(t, "data") {
            return Ok(Vec::new());
        }
        let after = from.map_or(String::new(), |_| Rows::Message.bound(">="));
        let mut parts = self.parts(id, from)?;
        let sql = format!(
            "SELECT id, {}, data FROM message WHERE session_id = ?1 {after} {}",
            self.col(t, "time_created"),
            self.order_by(t, &["time_created", "id"]),
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(bind(id, from), |r| {
                Ok((
                    r.get::<_, Sql>(0)?,
                    r.get::<_, Sql>(1)?,
                    r.get::<_, Sql>(2)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (mid, time, data) = row.map_err(|e| self.err(e))?;
            let Some(mid) = text(&mid) else { continue };
            if skip.contains(&mid) {
                continue;
            }
            let Some(mut info) = self.object("message", &data, diag) else {
                continue;
            };
            info.insert("id".into(), Value::String(mid.clone()));
            info.insert("sessionID".into(), Value::String(id.to_string()));
            let parts = parts.remove(&mid).unwrap_or_default();
            out.push((
                int(&time),
                RawMessage::Classic {
                    info: Value::Object(info),
                    parts,
                },
            ));
        }
        Ok(out)
    }

    /// The parts of a session's 1.2 messages (from `from` on; all with
    /// `None`), by message id, in id order, as their rows' text.
    fn parts(&self, id: &str, from: Option<Bound>) -> Result<HashMap<String, Vec<RawPart>>> {
        let mut out: HashMap<String, Vec<RawPart>> = HashMap::new();
        if !self.has("part", "message_id") || !self.has("part", "data") {
            return Ok(out);
        }
        let after = from.map_or(String::new(), |_| Rows::Message.bound(">="));
        let sql = format!(
            "SELECT {}, message_id, data FROM part \
             WHERE message_id IN (SELECT id FROM message WHERE session_id = ?1 {after}) {}",
            self.col("part", "id"),
            self.order_by("part", &["message_id", "id"]),
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(bind(id, from), |r| {
                Ok((
                    r.get::<_, Sql>(0)?,
                    r.get::<_, Sql>(1)?,
                    r.get::<_, Sql>(2)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        for row in rows {
            let (pid, mid, data) = row.map_err(|e| self.err(e))?;
            let Some(mid) = text(&mid) else { continue };
            // Parsed when its message is converted (see RawPart), which
            // also warns about a row that is not an object (null data
            // included).
            let row = PartRow {
                data: text(&data).unwrap_or_default(),
                id: text(&pid),
                session_id: id.to_string(),
                message_id: mid.clone(),
            };
            out.entry(mid)
                .or_default()
                .push(RawPart::Row(Box::new(row)));
        }
        Ok(out)
    }

    /// Session.Info of session `id`, from its row. `None` when no session
    /// table has it.
    pub(super) fn info(&self, id: &str) -> Result<Option<Value>> {
        let row = match self.session_row("session_v2", id)? {
            Some(r) => r,
            None => match self.session_row("session", id)? {
                Some(r) => r,
                None => return Ok(None),
            },
        };
        let mut info = info_from_row(&row);
        if let Value::Object(m) = &mut info {
            m.insert("id".into(), Value::String(id.to_string()));
        }
        Ok(Some(info))
    }

    /// A read transaction: what is read while it is held is one state of
    /// the database.
    pub(super) fn snapshot(&self) -> Result<rusqlite::Transaction<'_>> {
        self.conn.unchecked_transaction().map_err(|e| self.err(e))
    }

    /// Where `watch` reads session `id` by rows ([`Db::live_rows`]) from:
    /// `None` when its messages are in both the 1.2 and the 2.x tables,
    /// or the tables lack a column this needs.
    pub(super) fn live_rows_in(&self, id: &str) -> Result<Option<Rows>> {
        let all = |t: &str, cols: &[&str]| cols.iter().all(|c| self.has(t, c));
        let v1 = all(
            "message",
            &["id", "session_id", "time_created", "time_updated", "data"],
        ) && all("part", &["id", "message_id", "time_updated", "data"]);
        let v2 = all(
            "session_message",
            &[
                "id",
                "session_id",
                "type",
                "seq",
                "time_created",
                "time_updated",
                "data",
            ],
        );
        let any = |t: &str| -> Result<bool> {
            if !self.has(t, "session_id") {
                return Ok(false);
            }
            self.conn
                .query_row(
                    &format!("SELECT 1 FROM \"{t}\" WHERE session_id = ?1 LIMIT 1"),
                    params![id],
                    |_| Ok(()),
                )
                .optional()
                .map(|r| r.is_some())
                .map_err(|e| self.err(e))
        };
        Ok(match (any("message")?, any("session_message")?) {
            (_, false) if v1 => Some(Rows::Message),
            (false, true) if v2 => Some(Rows::SessionMessage),
            _ => None,
        })
    }

    /// The message rows of session `id` in `rows` (from `from` on; all
    /// with `None`), in order, as `watch` compares them between loads,
    /// without reading their data (see [`RowStamp`]). Only for a session
    /// [`Db::live_rows_in`] accepts.
    pub(super) fn live_rows(
        &self,
        rows: Rows,
        id: &str,
        from: Option<Bound>,
    ) -> Result<Vec<RowStamp>> {
        let after = from.map_or(String::new(), |_| rows.bound(">="));
        // `octet_length` reads a value's size from the record header, not
        // the value: a big row costs no more than a small one.
        let (mut parts, sql, keys) = match rows {
            Rows::Message => (
                self.per_message(
                    &format!(
                        "SELECT message_id, id, time_updated, octet_length(data) FROM part \
                         WHERE message_id IN (SELECT id FROM message WHERE session_id = ?1 {after}) \
                         ORDER BY message_id, id"
                    ),
                    bind(id, from),
                )?,
                format!(
                    "SELECT id, time_created, time_updated, octet_length(data) FROM message \
                     WHERE session_id = ?1 {after} ORDER BY time_created, id"
                ),
                1,
            ),
            Rows::SessionMessage => (
                HashMap::new(),
                format!(
                    "SELECT id, seq, time_created, type, time_updated, octet_length(data) \
                     FROM session_message WHERE session_id = ?1 {after} \
                     ORDER BY seq, time_created, id"
                ),
                2,
            ),
        };
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let cols = stmt.column_count();
        let mut rows = stmt.query(bind(id, from)).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        let mut buf = Vec::new();
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let Some(mid) = text(&r.get::<_, Sql>(0).map_err(|e| self.err(e))?) else {
                continue;
            };
            buf.clear();
            stamp_into(&mut buf, r, 1 + keys..cols).map_err(|e| self.err(e))?;
            if let Some(p) = parts.remove(&mid) {
                buf.extend_from_slice(&p.to_le_bytes());
            }
            let key = (1..=keys)
                .map(|i| r.get::<_, Sql>(i).map(|v| int(&v)))
                .collect::<rusqlite::Result<Option<Vec<i64>>>>()
                .map_err(|e| self.err(e))?;
            out.push(RowStamp {
                key,
                stamp: xxh3_128(&buf),
                id: mid,
            });
        }
        Ok(out)
    }

    /// How many message rows session `id` has in `rows` before `before`.
    pub(super) fn rows_before(&self, rows: Rows, id: &str, before: Bound) -> Result<usize> {
        let table = match rows {
            Rows::Message => "message",
            Rows::SessionMessage => "session_message",
        };
        let n: i64 = self
            .conn
            .query_row(
                &format!(
                    "SELECT count(*) FROM {table} WHERE session_id = ?1 {}",
                    rows.bound("<")
                ),
                bind(id, Some(before)),
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    /// Runs `sql`, whose rows are a message id and then columns of one of
    /// its parts, ordered by message id: the hash of each message's part
    /// columns.
    fn per_message(
        &self,
        sql: &str,
        params: rusqlite::ParamsFromIter<Vec<Sql>>,
    ) -> Result<HashMap<String, u128>> {
        let mut out = HashMap::new();
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.err(e))?;
        let cols = stmt.column_count();
        let mut rows = stmt.query(params).map_err(|e| self.err(e))?;
        let (mut mid, mut buf): (Option<String>, Vec<u8>) = (None, Vec::new());
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let this = match r.get_ref(0).map_err(|e| self.err(e))? {
                ValueRef::Text(b) | ValueRef::Blob(b) => b,
                _ => continue,
            };
            if mid.as_deref().map(str::as_bytes) != Some(this) {
                if let Some(m) = mid.take() {
                    out.insert(m, xxh3_128(&buf));
                }
                mid = Some(String::from_utf8_lossy(this).into_owned());
                buf.clear();
            }
            stamp_into(&mut buf, r, 1..cols).map_err(|e| self.err(e))?;
        }
        if let Some(m) = mid {
            out.insert(m, xxh3_128(&buf));
        }
        Ok(out)
    }

    /// The messages of a session in `rows` (see [`Db::live_rows`]), from
    /// `from` on (all with `None`), in order.
    pub(super) fn read_from(
        &self,
        rows: Rows,
        id: &str,
        from: Option<Bound>,
        diag: &Diag,
    ) -> Result<Vec<RawMessage>> {
        let read = match rows {
            Rows::Message => self.v1_messages(id, &HashSet::new(), from, diag)?,
            Rows::SessionMessage => self.v2_messages(id, from, diag)?,
        };
        Ok(read.into_iter().map(|(_, m)| m).collect())
    }

    /// Reads one session. `None` when no session table has it.
    pub(super) fn read(&self, id: &str, diag: &Diag) -> Result<Option<RawSession>> {
        let Some(info) = self.info(id)? else {
            return Ok(None);
        };
        let v2 = self.v2_messages(id, None, diag)?;
        let v2_ids: HashSet<String> = v2
            .iter()
            .filter_map(|(_, m)| match m {
                RawMessage::Event { id, .. } => Some(id.clone()),
                RawMessage::Classic { .. } => None,
            })
            .collect();
        let v1 = self.v1_messages(id, &v2_ids, None, diag)?;
        Ok(Some(RawSession {
            id: id.to_string(),
            info,
            messages: merge_by_time(v1, v2),
            diffs: None,
            origin: self.path.clone(),
            source_paths: vec![self.path.clone()],
        }))
    }
}

/// A message row as [`Db::live_rows`] reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RowStamp {
    pub id: String,
    /// Its sort key (see [`Bound`]); `None` when a column of it is null.
    pub key: Option<Vec<i64>>,
    /// The hash of the row's time_updated and data size, and of its parts'
    /// ids, time_updated and data sizes: a write to the message or to any
    /// of its parts changes it.
    pub stamp: u128,
}

impl RowStamp {
    /// Its place in its session's order, when its sort key has no null.
    pub fn bound(&self) -> Option<Bound<'_>> {
        Some((self.key.as_deref()?, self.id.as_str()))
    }
}

/// Appends columns `cols` of `r` to `buf`.
fn stamp_into(
    buf: &mut Vec<u8>,
    r: &rusqlite::Row,
    cols: std::ops::Range<usize>,
) -> rusqlite::Result<()> {
    for i in cols {
        match r.get_ref(i)? {
            ValueRef::Null => buf.push(b'n'),
            ValueRef::Integer(n) => buf.extend_from_slice(&n.to_le_bytes()),
            ValueRef::Real(f) => buf.extend_from_slice(&f.to_le_bytes()),
            ValueRef::Text(b) | ValueRef::Blob(b) => {
                buf.extend_from_slice(&(b.len() as u64).to_le_bytes());
                buf.extend_from_slice(b);
            }
        }
    }
    buf.push(b';');
    Ok(())
}

/// A message row's place in its session's order: its sort key (1.2:
/// time_created; 2.x: seq and time_created) and id.
pub(super) type Bound<'a> = (&'a [i64], &'a str);

/// Which tables hold a session's messages, for [`Db::live_rows`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Rows {
    /// 1.2: `message` and `part`, ordered by time_created and id.
    Message,
    /// 2.x: `session_message`, ordered by seq, time_created and id.
    SessionMessage,
}

impl Rows {
    /// The condition selecting the rows from a [`Bound`] on (`>=`) or
    /// before it (`<`).
    fn bound(self, op: &str) -> String {
        match self {
            Rows::Message => format!("AND (time_created, id) {op} (?2, ?3)"),
            Rows::SessionMessage => format!("AND (seq, time_created, id) {op} (?2, ?3, ?4)"),
        }
    }
}

/// The parameters of a query by session id, with a [`Bound`].
fn bind(id: &str, bound: Option<Bound>) -> rusqlite::ParamsFromIter<Vec<Sql>> {
    let mut v = vec![Sql::Text(id.to_string())];
    if let Some((key, mid)) = bound {
        v.extend(key.iter().map(|k| Sql::Integer(*k)));
        v.push(Sql::Text(mid.to_string()));
    }
    rusqlite::params_from_iter(v)
}

/// Merges two lists, each already in order, by creation time; on a tie
/// the first list's message comes first.
fn merge_by_time(
    a: Vec<(Option<i64>, RawMessage)>,
    b: Vec<(Option<i64>, RawMessage)>,
) -> Vec<RawMessage> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let mut a = a.into_iter().peekable();
    let mut b = b.into_iter().peekable();
    loop {
        let take_a = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => x.0 <= y.0,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        let next = if take_a { a.next() } else { b.next() };
        out.extend(next.map(|(_, m)| m));
    }
    out
}

fn text(v: &Sql) -> Option<String> {
    match v {
        Sql::Text(s) => Some(s.clone()),
        Sql::Integer(i) => Some(i.to_string()),
        Sql::Real(f) => Some(f.to_string()),
        Sql::Blob(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Sql::Null => None,
    }
}

fn int(v: &Sql) -> Option<i64> {
    match v {
        Sql::Integer(i) => Some(*i),
        Sql::Real(f) if f.is_finite() => Some(*f as i64),
        Sql::Text(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn scalar(v: &Sql) -> Option<Value> {
    match v {
        Sql::Integer(i) => Some(json!(i)),
        Sql::Real(f) => serde_json::Number::from_f64(*f).map(Value::Number),
        Sql::Text(s) => Some(Value::String(s.clone())),
        Sql::Blob(b) => Some(Value::String(String::from_utf8_lossy(b).into_owned())),
        Sql::Null => None,
    }
}

/// Session.Info rebuilt from a `session`/`session_v2` row (§2.6).
fn info_from_row(row: &HashMap<String, Sql>) -> Value {
    let get = |c: &str| row.get(c).and_then(scalar);
    let json_col = |c: &str| row.get(c).and_then(text).and_then(|s| parse_json(&s).ok());
    let mut info = Map::new();
    let put = |m: &mut Map<String, Value>, k: &str, v: Option<Value>| {
        if let Some(v) = v.filter(|v| !v.is_null()) {
            m.insert(k.to_string(), v);
        }
    };
    for (key, col) in [
        ("id", "id"),
        ("slug", "slug"),
        ("projectID", "project_id"),
        ("parentID", "parent_id"),
        ("directory", "directory"),
        ("title", "title"),
        ("version", "version"),
        ("path", "path"),
        ("workspaceID", "workspace_id"),
        ("agent", "agent"),
        ("cost", "cost"),
    ] {
        put(&mut info, key, get(col));
    }
    if let Some(v) = info.get_mut("version")
        && !v.is_string()
    {
        *v = Value::String(v.to_string());
    }
    for (key, col) in [
        ("revert", "revert"),
        ("permission", "permission"),
        ("model", "model"),
        ("metadata", "metadata"),
    ] {
        put(&mut info, key, json_col(col));
    }
    let mut time = Map::new();
    for k in ["created", "updated", "compacting", "archived"] {
        put(&mut time, k, get(&format!("time_{k}")));
    }
    info.insert("time".into(), Value::Object(time));
    let mut summary = Map::new();
    for k in ["additions", "deletions", "files"] {
        put(&mut summary, k, get(&format!("summary_{k}")));
    }
    put(&mut summary, "diffs", json_col("summary_diffs"));
    if !summary.is_empty() {
        info.insert("summary".into(), Value::Object(summary));
    }
    if let Some(url) = get("share_url") {
        info.insert("share".into(), json!({ "url": url }));
    }
    let mut tokens = Map::new();
    for k in ["input", "output", "reasoning"] {
        put(&mut tokens, k, get(&format!("tokens_{k}")));
    }
    let mut cache = Map::new();
    put(&mut cache, "read", get("tokens_cache_read"));
    put(&mut cache, "write", get("tokens_cache_write"));
    if !cache.is_empty() {
        tokens.insert("cache".into(), Value::Object(cache));
    }
    if !tokens.is_empty() {
        info.insert("tokens".into(), Value::Object(tokens));
    }
    Value::Object(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_escape_special_characters() {
        let u = ro_uri(Path::new("/tmp/a b/x?y#z%.db"));
        assert_eq!(u, "file:/tmp/a%20b/x%3Fy%23z%25.db?mode=ro");
    }

    #[test]
    fn rows_rebuild_session_info() {
        let mut row = HashMap::new();
        row.insert("id".to_string(), Sql::Text("ses_1".into()));
        row.insert("parent_id".to_string(), Sql::Null);
        row.insert("time_created".to_string(), Sql::Integer(5));
        row.insert(
            "summary_diffs".to_string(),
            Sql::Text("[{\"file\":\"a\"}]".into()),
        );
        row.insert("version".to_string(), Sql::Integer(2));
        let info = info_from_row(&row);
        assert_eq!(info["id"], "ses_1");
        assert!(info.get("parentID").is_none());
        assert_eq!(info["time"]["created"], 5);
        assert_eq!(info["summary"]["diffs"][0]["file"], "a");
        assert_eq!(info["version"], "2");
    }
}
