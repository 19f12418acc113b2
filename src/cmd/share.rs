//! `share`, `unshare`, `shares`, `allow`, `disallow`.

use super::{Ctx, emit};
use crate::cli::ShareArgs;
use crate::error::Error;
use crate::home::share_id;
use crate::protect::Protection;
use crate::select;
use crate::share::{Share, ShareStore, parse_expiry};
use chrono::Utc;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

pub fn store(ctx: &Ctx) -> ShareStore {
    ShareStore::new(&ctx.home.config_dir)
}

/// The share's URL; for a key-in-URL share, with its key (`#k=…`).
fn url_or_path(ctx: &Ctx, id: &str, protection: Option<&Protection>) -> String {
    let frag = protection
        .and_then(Protection::fragment)
        .unwrap_or_default();
    match ctx.config.share_url(id) {
        Some(url) => format!("{url}{frag}"),
        None => format!("s/{id}/{frag} (set site.base_url for the public URL)"),
    }
}

/// Asks `question` on the terminal; false off a TTY.
fn confirm(question: &str) -> bool {
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return false;
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line).is_err() {
        return false;
    }
    matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

fn normalize_dir(dir: &Path) -> String {
    let abs = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let s = abs.to_string_lossy().into_owned();
    if s.len() > 1 {
        s.trim_end_matches('/').to_string()
    } else {
        s
    }
}

pub fn share(ctx: &Ctx, args: ShareArgs) -> anyhow::Result<()> {
    // A share ID (as `shares` lists them) names its session, to change the
    // share's options; a session id or path is looked up as usual.
    let shared = args
        .session
        .as_deref()
        .filter(|q| crate::ids::is_share_id(q))
        .and_then(|q| store(ctx).read().ok()?.find(q).cloned());
    let query = match &shared {
        Some(sh) if sh.path.exists() => Some(sh.path.display().to_string()),
        Some(sh) => Some(sh.session_id.clone()),
        None => args.session.clone(),
    };
    let found = select::resolve(query.as_deref(), &ctx.stores, &ctx.diag)?;
    let s = &found.summary;
    let salt = ctx.salt()?;
    let id = share_id(&salt, s.agent, &s.id);
    let now = Utc::now();
    // A title is one line of text: no line breaks or escape sequences.
    // An empty one (spaces only) would hide the session's own.
    let title = args
        .title
        .as_deref()
        .map(|t| {
            super::list::one_line(&crate::render::ansi::strip_ansi(t))
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|t| !t.is_empty());
    // `never` clears an expiry.
    let expires = match args.expires.as_deref() {
        Some("never") | None => None,
        Some(e) => Some(parse_expiry(e, now)?),
    };
    let store = store(ctx);
    let project = s.project.clone();
    // The seatbelt: the first share from a project folder is confirmed.
    if let Some(dir) = &project {
        let allowed = store.read()?.is_allowed(dir);
        if !allowed {
            let ok = args.yes || confirm(&format!("Allow sharing sessions from {dir}?"));
            if !ok {
                return Err(Error::Refused(format!(
                    "sessions from {dir} have not been allowed for sharing; run `sharegen allow {}{}` \
                     (or pass --yes) and share again",
                    if dir.starts_with('-') { "-- " } else { "" },
                    shell_quote(dir)
                ))
                .into());
            }
            store.update(|l| {
                if !l.is_allowed(dir) {
                    l.allowed_dirs.push(dir.clone());
                }
                Ok(())
            })?;
        }
    }
    // Asked (and stretched) only once the share is allowed.
    let protection = super::protect::from_args(&args.protect)?;
    let (created, protection, expired) = store.update(|l| {
        if let Some(existing) = l.shares.iter_mut().find(|x| x.share_id == id) {
            // Sharing again keeps the ID and changes only what was given:
            // the protection too, unless replaced or removed.
            if args.expires.is_some() {
                existing.expires = expires;
            }
            if args.title.is_some() {
                existing.title = title.clone();
            }
            if args.no_password {
                existing.protection = None;
            } else if protection.is_some() {
                existing.protection = protection.clone();
            }
            existing.path = s.path.clone();
            let expired = existing.expires.filter(|_| existing.is_expired(now));
            return Ok((false, existing.protection.clone(), expired));
        }
        l.shares.push(Share {
            share_id: id.clone(),
            agent: s.agent,
            session_id: s.id.clone(),
            path: s.path.clone(),
            project: project.clone(),
            title: title.clone(),
            shared_at: now,
            expires,
            last_rendered: None,
            last_published: None,
            protection: protection.clone(),
        });
        Ok((true, protection.clone(), None))
    })?;
    if let Some(t) = expired
        && ctx.diag.verbosity() > crate::diag::Verbosity::Quiet
    {
        eprintln!(
            "{} share {id} expired on {} UTC: `--expires 7d` (or `--expires never`) shares it again",
            crate::term::warning(),
            t.format("%Y-%m-%d %H:%M")
        );
    }
    let verb = if created { "shared" } else { "already shared" };
    if ctx.diag.verbosity() > crate::diag::Verbosity::Quiet {
        let how = match &protection {
            Some(Protection::Password { .. }) => ", encrypted with a password",
            Some(Protection::KeyInUrl { .. }) => ", encrypted with the key in its link",
            None if args.no_password => ", without a password",
            None => "",
        };
        eprintln!("{verb}: {} session {}{how}", s.agent, s.id);
    }
    emit(format!("{id}\t{}\n", url_or_path(ctx, &id, protection.as_ref())).as_bytes())
}

fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-~".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

pub fn unshare(ctx: &Ctx, target: &str) -> anyhow::Result<()> {
    let store = store(ctx);
    let list = store.read()?;
    // A share made from a file is found by the file's path, even once the
    // file is gone.
    let by_path = std::path::absolute(target).ok().and_then(|abs| {
        list.shares
            .iter()
            .find(|s| s.path == abs)
            .map(|s| s.share_id.clone())
    });
    let id = if list.find(target).is_some() {
        target.to_string()
    } else if let Some(id) = by_path {
        id
    } else {
        let found = select::resolve(Some(target), &ctx.stores, &ctx.diag).map_err(|e| match e {
            // Neither a share ID nor a session: say that the list was
            // searched too.
            Error::UnknownSession { query, searched } => Error::UnknownSession {
                query,
                searched: format!("the share list {}, {searched}", store.path().display()),
            },
            other => other,
        })?;
        let salt = ctx.salt()?;
        let id = share_id(&salt, found.summary.agent, &found.summary.id);
        if list.find(&id).is_none() {
            return Err(Error::Usage(format!(
                "{} session {} is not shared (`sharegen shares` lists what is)",
                found.summary.agent, found.summary.id
            ))
            .into());
        }
        id
    };
    let removed = store.update(|l| {
        let gone: Vec<Share> = l
            .shares
            .iter()
            .filter(|s| s.share_id == id)
            .cloned()
            .collect();
        l.shares.retain(|s| s.share_id != id);
        Ok(gone.into_iter().next())
    })?;
    let Some(removed) = removed else {
        return Err(Error::UnknownSession {
            query: target.to_string(),
            searched: format!("the share list {}", store.path().display()),
        }
        .into());
    };
    emit(format!("unshared {id}\n").as_bytes())?;
    if ctx.diag.verbosity() > crate::diag::Verbosity::Quiet {
        eprintln!(
            "the page disappears from the site at the next `sharegen build`, watch cycle or publish"
        );
        let squashing = ctx
            .config
            .publish
            .git
            .as_ref()
            .is_some_and(|g| g.history.as_deref() == Some("squash"));
        if removed.last_published.is_some() && !squashing {
            eprintln!(
                "{} on a git branch published with history kept, the page stays in the \
                 branch's history until `sharegen publish --history squash`",
                crate::term::warning()
            );
        }
    }
    Ok(())
}

#[derive(serde::Serialize)]
struct Row {
    /// Without its key material: only the kind of protection is listed.
    #[serde(flatten)]
    share: Share,
    #[serde(skip_serializing_if = "Option::is_none")]
    protected: Option<&'static str>,
    expired: bool,
    url: Option<String>,
    /// The session's own title (from the listing), which a share without a
    /// `--title` of its own is shown under.
    #[serde(skip_serializing_if = "Option::is_none")]
    session_title: Option<String>,
}

/// The titles of the shared sessions, from the stores' listing (cached by
/// size and mtime). Sessions no longer in a store have none; what the
/// listing would warn about is for `list` to say.
fn session_titles(
    ctx: &Ctx,
    shares: &[Share],
) -> std::collections::HashMap<(crate::model::Agent, String), String> {
    if shares.is_empty() {
        return Default::default();
    }
    let quiet = crate::diag::Diag::silent();
    select::list_all(&ctx.stores, &quiet)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(_, s)| Some(((s.agent, s.id), s.title?)))
        .collect()
}

pub fn list(ctx: &Ctx, json: bool) -> anyhow::Result<()> {
    let list = store(ctx).read()?;
    let now = Utc::now();
    let mut titles = session_titles(ctx, &list.shares);
    let rows: Vec<Row> = list
        .shares
        .iter()
        .map(|s| Row {
            session_title: titles.remove(&(s.agent, s.session_id.clone())),
            share: Share {
                protection: None,
                ..s.clone()
            },
            protected: s.protection.as_ref().map(Protection::kind),
            expired: s.is_expired(now),
            url: ctx.config.share_url(&s.share_id).map(|u| {
                let frag = s.protection.as_ref().and_then(Protection::fragment);
                format!("{u}{}", frag.unwrap_or_default())
            }),
        })
        .collect();
    if json {
        let mut b = serde_json::to_vec_pretty(&rows)?;
        b.push(b'\n');
        return emit(&b);
    }
    if rows.is_empty() {
        // A note, not a row: stdout stays empty.
        if ctx.diag.verbosity() > crate::diag::Verbosity::Quiet {
            eprintln!("no shares yet: `sharegen share <SESSION>` adds one");
        }
        return Ok(());
    }
    emit(shares_table(&rows, super::list::terminal_width()).as_bytes())
}

/// The `shares` table. On a terminal `width` columns wide it fits: when
/// there is no room, the rendered and published times go, the shared and
/// expiry times keep their dates only, the title is cut, and a URL that
/// does not fit goes on a line of its own (whole, to be copied). Off a
/// terminal every column is whole.
fn shares_table(rows: &[Row], width: Option<usize>) -> String {
    // SHARE ID, AGENT, SESSION, SHARED, EXPIRES and separators; then
    // RENDERED and PUBLISHED.
    let base = 10 + 2 + 11 + 2 + 12 + 2 + 16 + 2 + 16 + 2;
    let times = 16 + 2 + 16 + 2;
    let all_times = width.is_none_or(|w| w >= base + times + 24);
    let (date_w, date_fmt, base) = if all_times {
        (16, "%Y-%m-%d %H:%M", base)
    } else {
        (10, "%Y-%m-%d", base - 12)
    };
    let fmt = |t: &Option<chrono::DateTime<Utc>>| {
        t.map(|t| t.format(date_fmt).to_string())
            .unwrap_or_else(|| "-".into())
    };
    let mut out = format!(
        "SHARE ID    AGENT        SESSION       {:<date_w$}  {:<date_w$}  ",
        "SHARED", "EXPIRES"
    );
    if all_times {
        out.push_str("RENDERED          PUBLISHED         ");
    }
    out.push_str("TITLE / URL\n");
    let used = base + if all_times { times } else { 0 };
    for r in rows {
        let s = &r.share;
        let exp = if r.expired {
            "expired".to_string()
        } else {
            fmt(&s.expires)
        };
        let mut line = format!(
            "{:<10}  {:<11}  {:<12}  {:<date_w$}  {:<date_w$}  ",
            s.share_id,
            s.agent.as_str(),
            s.session_id.chars().take(12).collect::<String>(),
            s.shared_at.format(date_fmt).to_string(),
            exp,
        );
        if all_times {
            line.push_str(&format!(
                "{:<16}  {:<16}  ",
                fmt(&s.last_rendered),
                fmt(&s.last_published)
            ));
        }
        let title = format!(
            "{}{}",
            r.protected.map(|k| format!("[{k}] ")).unwrap_or_default(),
            s.title
                .as_deref()
                .or(r.session_title.as_deref())
                .unwrap_or_default()
        );
        let url = r.url.as_deref().unwrap_or("");
        match width {
            None => {
                line.push_str(&super::list::one_line(&title));
                if !url.is_empty() {
                    line.push(' ');
                    line.push_str(url);
                }
            }
            Some(w) => {
                let room = w.saturating_sub(used).max(12);
                let together = super::list::cells(&title) + 1 + super::list::cells(url);
                if url.is_empty() || together <= room {
                    line.push_str(&super::list::clip_to(&title, room, false));
                    if !url.is_empty() {
                        line.push(' ');
                        line.push_str(url);
                    }
                } else {
                    line.push_str(&super::list::clip_to(&title, room, false));
                    line = line.trim_end().to_string();
                    line.push_str("\n    ");
                    line.push_str(url);
                }
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

pub fn allow(ctx: &Ctx, dir: &Path) -> anyhow::Result<()> {
    let d = normalize_dir(dir);
    store(ctx).update(|l| {
        if !l.allowed_dirs.contains(&d) {
            l.allowed_dirs.push(d.clone());
        }
        Ok(())
    })?;
    emit(format!("allowed {d}\n").as_bytes())
}

pub fn disallow(ctx: &Ctx, dir: &Path) -> anyhow::Result<()> {
    let d = normalize_dir(dir);
    let removed = store(ctx).update(|l| {
        let before = l.allowed_dirs.len();
        l.allowed_dirs.retain(|x| x != &d);
        Ok(before != l.allowed_dirs.len())
    })?;
    if !removed {
        return Err(Error::Usage(format!("{d} was not allowed")).into());
    }
    emit(format!("disallowed {d} (existing shares stay until unshared)\n").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(title: &str, url: Option<&str>) -> Row {
        let mut share = Share::for_test("11111111-2222-4333-8444-555555555555", "/x.jsonl".into());
        share.title = Some(title.into());
        Row {
            share,
            protected: None,
            expired: false,
            url: url.map(str::to_string),
            session_title: None,
        }
    }

    #[test]
    fn the_shares_table_fits_a_terminal_and_keeps_urls_whole() {
        let title = "A long title about refactoring the parser of the site builder";
        let url = "https://me.github.io/shares/s/abcdefghij/";
        let wide = "日本語のとても長いタイトル🚀".repeat(3);
        let rows = [row(title, Some(url)), row(&wide, Some(url))];
        for width in [80, 100, 120] {
            let t = shares_table(&rows, Some(width));
            for line in t.lines() {
                assert!(line.chars().count() <= width, "{width}: {line:?}\n{t}");
            }
            assert!(t.lines().any(|l| l.trim() == url), "{width}:\n{t}");
            assert!(
                t.lines().all(|l| super::super::list::cells(l) <= width),
                "{width}:\n{t}"
            );
            assert!(!t.contains("RENDERED"), "{width}:\n{t}");
        }
        // Wide enough: every column, and the URL on the row.
        let t = shares_table(&rows, Some(250));
        assert!(
            t.contains("RENDERED") && t.contains(&format!("{title} {url}")),
            "{t}"
        );
        // Off a terminal: everything whole, one line per share.
        let t = shares_table(&rows, None);
        assert_eq!(t.lines().count(), rows.len() + 1, "{t}");
        assert!(
            t.contains("PUBLISHED") && t.contains(&format!("{title} {url}")),
            "{t}"
        );
    }
}
