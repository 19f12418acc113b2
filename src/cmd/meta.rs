//! `config`, `doctor`, `open`, `completions` and `man`.

use super::{Ctx, emit};
use crate::cli::{Cli, ConfigCommand, Format, PublishArgs};
use crate::config::{Config, KEYS, Source};
use crate::error::{Error, IoContext};
use crate::fsutil::AtomicFile;
use crate::model::Agent;
use crate::render::Renderer;
use crate::select;
use anyhow::Context;
use clap::CommandFactory;
use serde_json::{Value, json};
use std::path::Path;

pub fn config(ctx: &Ctx, cmd: ConfigCommand) -> anyhow::Result<()> {
    let path = ctx.home.config_path();
    match cmd {
        ConfigCommand::Init { force } => {
            if path.exists() && !force {
                return Err(Error::Refused(format!(
                    "{} exists; pass --force to overwrite it",
                    path.display()
                ))
                .into());
            }
            let mut f = AtomicFile::create(&path, Some(0o600))?;
            std::io::Write::write_all(&mut f, Config::template().as_bytes()).at(&path)?;
            f.commit()?;
            emit(format!("{}\n", path.display()).as_bytes())
        }
        ConfigCommand::Show { json } => {
            let loaded = Config::load_with_sources(&path, &ctx.diag)?;
            let rows: Vec<Value> = KEYS
                .iter()
                .map(|k| {
                    let source = loaded
                        .sources
                        .get(k.name)
                        .cloned()
                        .unwrap_or(Source::Default);
                    let value = if k.name == "salt" {
                        let set = source != Source::Default || ctx.home.salt_path().exists();
                        json!(if set {
                            "(set, hidden)"
                        } else {
                            "(not created yet)"
                        })
                    } else {
                        effective(&loaded.table, k.name).unwrap_or_else(|| default_value(k.default))
                    };
                    json!({"key": k.name, "value": value, "source": source, "env": k.env})
                })
                .collect();
            if json {
                let mut b = serde_json::to_vec_pretty(&json!({
                    "file": path,
                    "file_exists": path.exists(),
                    "keys": rows,
                }))?;
                b.push(b'\n');
                return emit(&b);
            }
            let mut out = format!(
                "# {} ({})\n# precedence: flags > SHAREGEN_* > file > defaults\n",
                path.display(),
                if path.exists() {
                    "exists"
                } else {
                    "not created"
                }
            );
            for r in &rows {
                let v = match &r["value"] {
                    Value::String(s) if s.starts_with('(') => s.clone(),
                    v => v.to_string(),
                };
                let src = match &r["source"] {
                    Value::String(s) => s.clone(),
                    Value::Object(m) => m
                        .get("env")
                        .and_then(Value::as_str)
                        .map_or("env".into(), |e| format!("env {e}")),
                    _ => String::new(),
                };
                out.push_str(&format!(
                    "{:<28} = {:<40} # {src}\n",
                    r["key"].as_str().unwrap_or(""),
                    v
                ));
            }
            emit(out.as_bytes())
        }
    }
}

/// A key's documented default as JSON: TOML literals parsed, descriptions
/// such as `(unset)` kept as text.
fn default_value(d: &str) -> Value {
    if d.starts_with('(') {
        return json!(d);
    }
    toml::from_str::<toml::Table>(&format!("v = {d}"))
        .ok()
        .and_then(|t| serde_json::to_value(&t["v"]).ok())
        .unwrap_or_else(|| json!(d))
}

fn effective(table: &toml::Table, dotted: &str) -> Option<Value> {
    let mut parts = dotted.split('.');
    let mut cur = table.get(parts.next()?)?;
    for p in parts {
        cur = cur.as_table()?.get(p)?;
    }
    serde_json::to_value(cur).ok()
}

/// One line of the doctor's report.
#[derive(serde::Serialize)]
struct Check {
    area: String,
    status: &'static str,
    detail: String,
}

fn store_format(agent: Agent, location: &str) -> String {
    let path = Path::new(location.split(" (").next().unwrap_or(location));
    match agent {
        Agent::ClaudeCode => {
            let mut new_layout = 0;
            let mut old_layout = 0;
            for e in walkdir::WalkDir::new(path)
                .max_depth(3)
                .into_iter()
                .flatten()
            {
                let name = e.file_name().to_string_lossy();
                if e.file_type().is_dir() && name == "subagents" {
                    new_layout += 1;
                } else if name.starts_with("agent-") && e.depth() == 2 {
                    old_layout += 1;
                }
            }
            let mut s = "JSONL transcripts".to_string();
            if new_layout > 0 {
                s.push_str("; subagents in <session>/subagents/ (2.x layout)");
            }
            if old_layout > 0 {
                s.push_str("; subagents as agent-*.jsonl beside transcripts (1.x layout)");
            }
            s
        }
        Agent::Opencode => {
            let mut parts = Vec::new();
            let db = path.join("opencode.db");
            if db.is_file() {
                let v2 = rusqlite::Connection::open_with_flags(
                    &db,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
                )
                .ok()
                .and_then(|c| {
                    c.query_row(
                        "SELECT count(*) FROM sqlite_master WHERE name = 'session_v2'",
                        [],
                        |r| r.get::<_, i64>(0),
                    )
                    .ok()
                })
                .unwrap_or(0)
                    > 0;
                parts.push(if v2 {
                    "SQLite database (2.x session_v2 tables)"
                } else {
                    "SQLite database (1.2 tables)"
                });
            }
            if path.join("storage").is_dir() {
                parts.push("JSON file store (storage/)");
            }
            if path.is_file() {
                parts.push("export file");
            }
            parts.join("; ")
        }
        Agent::Codex => {
            let mut plain = 0;
            let mut zst = 0;
            for e in walkdir::WalkDir::new(path).into_iter().flatten() {
                let n = e.file_name().to_string_lossy();
                if n.starts_with("rollout-") {
                    if n.ends_with(".jsonl.zst") {
                        zst += 1;
                    } else if n.ends_with(".jsonl") {
                        plain += 1;
                    }
                }
            }
            format!("rollouts: {plain} .jsonl, {zst} .jsonl.zst")
        }
        Agent::Gemini => {
            let mut json = 0;
            let mut jsonl = 0;
            for e in walkdir::WalkDir::new(path).into_iter().flatten() {
                let n = e.file_name().to_string_lossy();
                if e.path().parent().is_some_and(|p| p.ends_with("chats")) {
                    if n.ends_with(".jsonl") {
                        jsonl += 1;
                    } else if n.ends_with(".json") {
                        json += 1;
                    }
                }
            }
            format!("chats: {json} .json (rewritten whole), {jsonl} .jsonl (append log)")
        }
        Agent::Antigravity => "brain/<id> transcripts".to_string(),
    }
}

/// What would make commands fail although config.toml parses: patterns
/// that do not compile, an unknown theme or templates folder, a base URL
/// that is not one.
fn config_problems(loaded: &crate::config::Loaded, path: &std::path::Path) -> crate::Result<()> {
    let cfg = &loaded.config;
    // A bad value from a `SHAREGEN_*` variable is blamed on the variable.
    let blame = |keys: &[&str], message: String| {
        let var = keys.iter().find_map(|k| match loaded.sources.get(*k) {
            Some(crate::config::Source::Env(var)) => Some(var),
            _ => None,
        });
        match var {
            Some(var) => crate::Error::Usage(format!("${var}: {message}")),
            None => crate::Error::parse(path, message),
        }
    };
    crate::redact::Redactor::new(&cfg.redact, b"doctor", path)?;
    crate::render::Renderer::new(cfg, Vec::new(), None, None).map_err(|e| {
        // A theme that is not there, or the templates folder.
        let message = e.to_string();
        let key = if message.contains("unknown theme") {
            "render.theme"
        } else {
            "render.templates"
        };
        blame(&[key], message)
    })?;
    if let Some(u) = &cfg.site.base_url
        && !(u.starts_with("https://") || u.starts_with("http://"))
    {
        return Err(blame(
            &["site.base_url"],
            format!("site.base_url `{u}` is not an http(s) URL"),
        ));
    }
    Ok(())
}

pub fn doctor(ctx: &Ctx, json: bool) -> anyhow::Result<()> {
    let mut checks: Vec<Check> = Vec::new();
    let mut add = |area: &str, status: &'static str, detail: String| {
        checks.push(Check {
            area: area.to_string(),
            status,
            detail,
        })
    };
    // The listing caches are neither read nor written: doctor writes
    // nothing.
    let stores = crate::sources::Stores {
        cache_dir: None,
        ..ctx.stores.clone()
    };
    // Every session found, to tell a share whose file moved from one gone.
    let mut listed: std::collections::HashSet<(crate::model::Agent, String)> = Default::default();
    for src in stores.sources() {
        let area = format!("store {}", src.agent());
        if !src.exists() {
            add(&area, "missing", format!("not found at {}", src.location()));
            continue;
        }
        match src.discover(&ctx.diag) {
            Ok(list) => {
                add(
                    &area,
                    "ok",
                    format!(
                        "{} session(s) at {}; {}",
                        list.len(),
                        src.location(),
                        store_format(src.agent(), &src.location())
                    ),
                );
                listed.extend(list.into_iter().map(|s| (s.agent, s.id)));
            }
            Err(e) => add(&area, "error", format!("{}: {e}", src.location())),
        }
    }
    let path = ctx.home.config_path();
    match Config::load_with_sources(&path, &crate::diag::Diag::silent())
        .and_then(|l| config_problems(&l, &path).map(|()| l))
    {
        Ok(_) if path.exists() => add("config", "ok", format!("{} is valid", path.display())),
        Ok(_) => add(
            "config",
            "ok",
            format!(
                "{} not created; defaults apply (sharegen config init)",
                path.display()
            ),
        ),
        Err(e) => add("config", "error", e.to_string()),
    }
    let salt_env = std::env::var_os("SHAREGEN_SALT").is_some_and(|v| !v.is_empty());
    if salt_env || ctx.config.salt.as_deref().is_some_and(|s| !s.is_empty()) {
        add(
            "salt",
            "ok",
            "set from the environment or config.toml".into(),
        );
    } else if ctx.home.salt_path().is_file() {
        add("salt", "ok", format!("{}", ctx.home.salt_path().display()));
    } else {
        add(
            "salt",
            "note",
            format!(
                "{} does not exist yet; the first share creates it",
                ctx.home.salt_path().display()
            ),
        );
    }
    let store = super::share::store(ctx);
    match store.read() {
        Ok(l) => {
            add(
                "shares",
                "ok",
                format!("{} share(s) in {}", l.shares.len(), store.path().display()),
            );
            // A share whose session is gone fails every build.
            let now = chrono::Utc::now();
            for s in l.shares.iter().filter(|s| !s.is_expired(now)) {
                if s.path.exists() {
                    continue;
                }
                if !listed.contains(&(s.agent, s.session_id.clone())) {
                    add(
                        &format!("share {}", s.share_id),
                        "error",
                        format!(
                            "its {} session {} is gone ({} does not exist): \
                             `sharegen unshare {}` removes the share",
                            s.agent,
                            s.session_id,
                            s.path.display(),
                            s.share_id
                        ),
                    );
                }
            }
        }
        Err(e) => add("shares", "error", e.to_string()),
    }
    match super::publish::targets(ctx, &PublishArgs::default()) {
        Ok(targets) if targets.is_empty() => add(
            "publish",
            "note",
            "no target configured ([publish.git] or [publish.bucket] in config.toml)".into(),
        ),
        Ok(targets) => {
            for t in targets {
                match t {
                    super::publish::Target::Git(g) => {
                        let area = format!("publish git {}", crate::publish::redact_url(&g.url));
                        match crate::publish::git::check(&g) {
                            Ok(d) => add(&area, "ok", d),
                            Err(e) => add(&area, "error", e.to_string()),
                        }
                    }
                    super::publish::Target::Bucket(b) => {
                        let area = format!("publish bucket {}", crate::publish::redact_url(&b.url));
                        match crate::publish::bucket::check(&b) {
                            Ok(d) => add(&area, "ok", d),
                            Err(e) => add(&area, "error", e.to_string()),
                        }
                    }
                }
            }
        }
        Err(e) => add("publish", "error", e.to_string()),
    }
    // Claude Code deletes transcripts after cleanupPeriodDays (30 by default).
    if let Some(root) = &ctx.stores.claude_root
        && root.join("projects").is_dir()
    {
        let settings = root.join("settings.json");
        let days = std::fs::read(&settings)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .and_then(|v| v["cleanupPeriodDays"].as_i64());
        match days {
            Some(d) if d > 30 => add(
                "claude-code retention",
                "ok",
                format!("cleanupPeriodDays = {d}"),
            ),
            other => add(
                "claude-code retention",
                "warning",
                format!(
                    "Claude Code deletes transcripts after {} days; raise \"cleanupPeriodDays\" in {}, \
                     or share/archive what matters (sharegen export --all)",
                    other.unwrap_or(30),
                    settings.display()
                ),
            ),
        }
    }
    let failed = checks.iter().filter(|c| c.status == "error").count();
    if json {
        let mut b = serde_json::to_vec_pretty(&json!({"checks": checks, "problems": failed}))?;
        b.push(b'\n');
        emit(&b)?;
    } else {
        let mut out = String::new();
        for c in &checks {
            out.push_str(&format!("{:<8} {:<28} {}\n", c.status, c.area, c.detail));
        }
        let warned = checks.iter().filter(|c| c.status == "warning").count();
        let mut summary = if failed == 0 {
            "no problems found".to_string()
        } else {
            format!("{failed} problem(s) found")
        };
        if warned > 0 {
            // A warning is not a failure (exit code 0), but it is worth a look.
            summary.push_str(&format!(", {warned} warning(s) to look at"));
        }
        out.push_str(&format!("{summary}\n"));
        emit(out.as_bytes())?;
    }
    if failed > 0 {
        anyhow::bail!("doctor found {failed} problem(s)");
    }
    Ok(())
}

pub fn open(ctx: &Ctx, session: Option<&str>, theme: Option<&str>) -> anyhow::Result<()> {
    let found = select::resolve(session, &ctx.stores, &ctx.diag)?;
    let r = found.session_ref();
    let mut s = found
        .source
        .load(&r, &ctx.diag)
        .with_context(|| format!("loading {} session {}", r.agent, r.id))?;
    crate::sources::check_readable(&s, &ctx.diag)?;
    if let Some(red) = ctx.redactor(false)? {
        red.apply(&mut s);
    }
    let renderer = Renderer::new(&ctx.config, ctx.salt()?, theme, None)?;
    let path = ctx
        .home
        .cache_dir
        .join("open")
        .join(format!("{}.html", renderer.share_id(&s)));
    let mut f = AtomicFile::create(&path, Some(0o600))?;
    renderer.render_spending_to(s, Format::Html, &mut f)?;
    f.commit()?;
    emit(format!("{}\n", path.display()).as_bytes())?;
    opener::open(&path).with_context(|| format!("opening {} in a browser", path.display()))?;
    Ok(())
}

pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<()> {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "sharegen", &mut buf);
    emit(&buf)
}

pub fn man(out: Option<&Path>) -> anyhow::Result<()> {
    let mut cmd = Cli::command();
    // Built, so that the `help` commands the pages list get pages too.
    cmd.build();
    match out {
        None => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut buf)?;
            emit(&buf)
        }
        Some(dir) => {
            crate::fsutil::create_dir_all(dir)?;
            let mut written = String::new();
            let mut write = |name: String, c: clap::Command| -> anyhow::Result<()> {
                let path = dir.join(format!("{name}.1"));
                let mut buf = Vec::new();
                clap_mangen::Man::new(c).render(&mut buf)?;
                crate::fsutil::write_atomic(&path, &buf, None)?;
                written.push_str(&format!("{}\n", path.display()));
                Ok(())
            };
            // A page per command at any depth (`sharegen-config-init.1`),
            // whose synopsis shows it as typed (`sharegen config init`).
            let mut todo: Vec<(String, String, clap::Command)> = cmd
                .get_subcommands()
                .map(|c| {
                    let n = c.get_name();
                    (format!("sharegen-{n}"), format!("sharegen {n}"), c.clone())
                })
                .collect();
            while let Some((name, typed, sub)) = todo.pop() {
                // `help` lists the commands beside it again: one page.
                let subs = sub.get_subcommands().filter(|_| sub.get_name() != "help");
                todo.extend(subs.map(|c| {
                    let n = c.get_name();
                    (format!("{name}-{n}"), format!("{typed} {n}"), c.clone())
                }));
                let leaked: &'static str = Box::leak(name.clone().into_boxed_str());
                let sub = if sub.get_name() == "help" {
                    // Without the copies of the other commands clap gives it.
                    clap::Command::new(leaked)
                        .about(sub.get_about().cloned().unwrap_or_default())
                        .arg(
                            clap::Arg::new("COMMAND")
                                .num_args(0..)
                                .help("The command (and subcommand) whose help to print"),
                        )
                } else {
                    sub.name(leaked)
                };
                write(name, sub.bin_name(typed))?;
            }
            write("sharegen".into(), cmd)?;
            emit(written.as_bytes())
        }
    }
}
