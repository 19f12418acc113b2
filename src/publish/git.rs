//! Publishing to a git branch with libgit2 (GitHub Pages or any remote).
//!
//! The user's checkout is never touched. sharegen keeps a private bare
//! cache repository per remote in its cache folder, fetches the branch into
//! `refs/remotes/sharegen/<branch>`, writes blobs for the changed files
//! only, splices them into the fetched tip's tree with a
//! [`git2::build::TreeUpdateBuilder`] (everything else on the branch — a
//! CNAME, other folders, other publishers' shares — stays as it is),
//! commits without a working tree and without moving any ref, and pushes
//! without force.
//!
//! A push can be refused in two ways: `push()` returns an error (the remote
//! has commits we never fetched), or it returns `Ok` and the server's
//! reason arrives in the `push_update_reference` callback (a hook, a
//! protected branch, a lost race). Both are checked. Retryable refusals
//! re-fetch, re-plan on the new tip and push again, a bounded number of
//! times.
//!
//! `--history squash` commits the same tree with no parent and pushes it
//! with a lease: the push goes through only if the branch is still at the
//! fetched tip (checked in `push_negotiation`).

use super::{
    LocalSite, Plan, PublishOptions, PublishReport, manifest_bytes, merge_index, plan, redact_url,
};
use crate::cli::History;
use crate::diag::Diag;
use crate::error::{Error, IoContext, Result};
use crate::site::{MANIFEST, Manifest};
use git2::build::TreeUpdateBuilder;
use git2::{
    Cred, CredentialType, ErrorClass, ErrorCode, FetchOptions, FileMode, Oid, PushOptions,
    RemoteCallbacks, Repository, Signature,
};
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::rc::Rc;
use std::time::Duration;

/// GitHub refuses files over 100 MB; it warns over 50 MB.
const HARD_LIMIT: u64 = 100 * 1024 * 1024;
const WARN_LIMIT: u64 = 50 * 1024 * 1024;
/// Tries before a rejected push is reported.
const MAX_ATTEMPTS: u32 = 5;
/// Credentials offered per network operation before giving up.
const MAX_CREDENTIAL_CALLS: u32 = 6;
const TOKEN_VARS: [&str; 3] = ["SHAREGEN_GIT_TOKEN", "GITHUB_TOKEN", "GH_TOKEN"];

/// A git branch to publish to.
#[derive(Debug, Clone)]
pub struct GitTarget {
    /// A URL (`https://`, `ssh://`, `git://`, `file://`), an scp-like
    /// `git@host:owner/repo.git`, or a path.
    pub url: String,
    pub branch: String,
    /// A folder inside the branch.
    pub prefix: Option<String>,
    pub history: History,
    pub message: Option<String>,
    /// Run the system `git` for fetch and push.
    pub git_cli: bool,
}

impl GitTarget {
    fn label(&self) -> String {
        format!("{} ({})", redact_url(&self.url), self.branch)
    }

    fn prefix(&self) -> String {
        let p = self.prefix.as_deref().unwrap_or("").trim_matches('/');
        if p.is_empty() {
            String::new()
        } else {
            format!("{p}/")
        }
    }

    fn tracking_ref(&self) -> String {
        format!("refs/remotes/sharegen/{}", self.branch)
    }

    /// Checks what is wrong whatever the remote holds: the prefix is a
    /// plain folder path (a usage error). A remote given as a path is made
    /// absolute, so that it means the same from any folder.
    pub fn checked(mut self) -> Result<GitTarget> {
        if let Some(p) = &self.prefix {
            let clean = crate::publish::clean_prefix(p).map_err(Error::Usage)?;
            self.prefix = Some(clean).filter(|p| !p.is_empty());
        }
        if let Some(path) = local_path(&self.url)
            && !self.url.starts_with("file://")
            && path.is_relative()
            && let Ok(abs) = std::path::absolute(&path)
        {
            self.url = abs.display().to_string();
        }
        Ok(self)
    }

    /// A remote given as a path must exist (checked for each publish, so
    /// that one missing target does not stop the others).
    fn check_local(&self) -> Result<()> {
        match local_path(&self.url) {
            Some(path) if !path.exists() => Err(Error::publish(
                self.label(),
                format!(
                    "{} does not exist: a remote given as a path is an existing git \
                     repository (`git init --bare {}` makes one)",
                    path.display(),
                    path.display()
                ),
            )),
            _ => Ok(()),
        }
    }

    /// Local transports can't fetch shallow.
    fn is_local(&self) -> bool {
        let u = &self.url;
        u.starts_with("file://")
            || u.starts_with('/')
            || u.starts_with('.')
            || Path::new(u).exists()
    }
}

/// What went wrong, without the "publishing to …" of an error that
/// already has it (it is wrapped with the target's label).
fn cause(e: &dyn std::fmt::Display) -> String {
    let s = e.to_string();
    match s.strip_prefix("publishing to git: ") {
        Some(rest) => rest.to_string(),
        None => s,
    }
}

/// The path a remote names when it is a path or a `file://` URL (not a
/// URL of another scheme, nor an scp-like `host:path`).
fn local_path(url: &str) -> Option<PathBuf> {
    if let Some(p) = url.strip_prefix("file://") {
        // As a file URL reads: `file://localhost/x` is `/x`, `%20` a space.
        let p = p.strip_prefix("localhost").unwrap_or(p);
        let p = percent_encoding::percent_decode_str(p).decode_utf8_lossy();
        return Some(PathBuf::from(p.as_ref()));
    }
    let scp_like = url.find(':').is_some_and(|i| !url[..i].contains('/'));
    (!url.contains("://") && !scp_like && !url.is_empty()).then(|| PathBuf::from(url))
}

/// The GitHub Pages URL of a GitHub remote: `https://OWNER.github.io/REPO/`
/// (or `https://OWNER.github.io/` for the `OWNER.github.io` repository),
/// plus the prefix.
pub fn github_pages_url(url: &str, prefix: Option<&str>) -> Option<String> {
    let url = redact_url(url);
    let rest = url
        .strip_prefix("https://github.com/")
        .or_else(|| url.strip_prefix("http://github.com/"))
        .or_else(|| url.strip_prefix("ssh://git@github.com/"))
        .or_else(|| url.strip_prefix("git@github.com:"))
        .or_else(|| url.strip_prefix("git://github.com/"))?;
    let mut parts = rest.trim_end_matches('/').splitn(2, '/');
    let owner = parts.next()?.to_ascii_lowercase();
    let repo = parts.next()?.trim_end_matches(".git").to_string();
    if owner.is_empty() || repo.is_empty() || repo.contains('/') {
        return None;
    }
    let mut base = if repo.eq_ignore_ascii_case(&format!("{owner}.github.io")) {
        format!("https://{owner}.github.io/")
    } else {
        format!("https://{owner}.github.io/{repo}/")
    };
    if let Some(p) = prefix
        .map(|p| p.trim_matches('/'))
        .filter(|p| !p.is_empty())
    {
        base.push_str(p);
        base.push('/');
    }
    Some(base)
}

/// Checks that the remote is reachable and readable with the credentials
/// sharegen would use, without fetching objects or pushing (an ls-remote).
/// Returns what it saw of the branch.
pub fn check(target: &GitTarget) -> Result<String> {
    target.check_local()?;
    let label = target.label();
    let branch_ref = format!("refs/heads/{}", target.branch);
    if target.git_cli {
        let out = Command::new("git")
            .args(["ls-remote", "--heads", &target.url, &branch_ref])
            .env("GIT_TERMINAL_PROMPT", "0")
            .output()
            .map_err(|e| Error::publish(&label, format!("running git: {e}")))?;
        if !out.status.success() {
            let err =
                String::from_utf8_lossy(&out.stderr).replace(&target.url, &redact_url(&target.url));
            return Err(Error::publish(
                &label,
                format!("git ls-remote failed: {}", err.trim()),
            ));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        return Ok(match text.split_whitespace().next() {
            Some(oid) => format!(
                "reachable; {} at {}",
                target.branch,
                &oid[..oid.len().min(12)]
            ),
            None => format!(
                "reachable; no {} branch yet (the first publish creates it)",
                target.branch
            ),
        });
    }
    let tmp = tempfile::tempdir().map_err(|e| Error::publish(&label, e.to_string()))?;
    let repo = Repository::init_bare(tmp.path())?;
    let auth = Auth::new(&target.url);
    let mut remote = repo.remote_anonymous(&target.url)?;
    let conn = remote
        .connect_auth(git2::Direction::Fetch, Some(auth.callbacks()), None)
        .map_err(|e| auth.error("connect", &e))?;
    let heads = conn.list().map_err(|e| auth.error("ls-remote", &e))?;
    Ok(match heads.iter().find(|h| h.name() == branch_ref) {
        Some(h) => format!(
            "reachable; {} at {}",
            target.branch,
            &h.oid().to_string()[..12]
        ),
        None => format!(
            "reachable; no {} branch yet (the first publish creates it)",
            target.branch
        ),
    })
}

/// Commits `site` onto the branch and pushes it.
pub fn publish(
    site: &mut LocalSite,
    target: &GitTarget,
    cache_root: &Path,
    opts: &PublishOptions,
    diag: &Diag,
) -> Result<PublishReport> {
    target.check_local()?;
    let label = target.label();
    let fail = |m: String| Error::publish(&label, m);
    // An error that already says which target it is about is not wrapped
    // again.
    let refail = |e: Error| match e {
        Error::Publish { message, .. } => fail(message),
        e => fail(e.to_string()),
    };
    let mut warnings = Vec::new();
    for (rel, e) in &site.manifest.files {
        if e.size > HARD_LIMIT {
            return Err(fail(format!(
                "{rel} is {:.1} MB; git hosts such as GitHub refuse files over 100 MB",
                e.size as f64 / 1_048_576.0
            )));
        }
        if e.size > WARN_LIMIT {
            warnings.push(format!(
                "{rel} is {:.1} MB; GitHub warns about files over 50 MB",
                e.size as f64 / 1_048_576.0
            ));
        }
    }
    let cache = Cache::open(cache_root, &target.url).map_err(refail)?;
    let repo = &cache.repo;
    let progress = Progress::new(opts.progress);
    let mut attempts = 0;
    loop {
        attempts += 1;
        progress.phase("fetching");
        let tip = fetch(repo, target).map_err(refail)?;
        let base_tree = match tip {
            Some(c) => repo.find_commit(c).and_then(|c| c.tree()),
            None => repo
                .treebuilder(None)?
                .write()
                .and_then(|t| repo.find_tree(t)),
        }
        .map_err(|e| fail(format!("reading the fetched branch: {}", cause(&e))))?;
        let prefix = target.prefix();
        let remote = read_manifest(repo, &base_tree, &prefix, diag, &label);
        if let Some(ix) = &opts.index {
            merge_index(site, remote.as_ref(), &opts.publisher, ix)
                .map_err(|e| fail(format!("merging the index page: {}", cause(&e))))?;
        }
        let plan = plan(remote.as_ref(), &site.manifest, &opts.publisher);
        let mut report = PublishReport::from_plan(label.clone(), &plan, opts.dry_run);
        report.warnings = warnings.clone();
        report.attempts = attempts;
        let single_commit = tip
            .and_then(|c| repo.find_commit(c).ok())
            .is_some_and(|c| c.parent_count() == 0);
        let squash = target.history == History::Squash;
        if plan.is_noop(remote.as_ref()) && (!squash || tip.is_none() || single_commit) {
            report.up_to_date = true;
            report.uploaded.clear();
            progress.finish();
            return Ok(report);
        }
        if opts.dry_run {
            progress.finish();
            return Ok(report);
        }
        progress.phase("writing objects");
        let tree_id = build_tree(repo, site, &base_tree, &prefix, &plan)
            .map_err(|e| fail(format!("building the commit: {}", cause(&e))))?;
        if tree_id == base_tree.id() && (!squash || single_commit) {
            report.up_to_date = true;
            report.uploaded.clear();
            report.deleted.clear();
            progress.finish();
            return Ok(report);
        }
        let tree = repo.find_tree(tree_id)?;
        let sig = signature(repo);
        let message = target
            .message
            .clone()
            .unwrap_or_else(|| default_message(&plan));
        let parent = match (squash, tip) {
            (false, Some(t)) => Some(repo.find_commit(t)?),
            _ => None,
        };
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        let commit = repo
            .commit(None, &sig, &sig, &message, &tree, &parents)
            .map_err(|e| fail(format!("committing: {}", cause(&e))))?;
        progress.phase("pushing");
        let lease = squash.then_some(tip);
        match push(repo, target, commit, lease, &progress) {
            Ok(()) => {
                repo.reference(&target.tracking_ref(), commit, true, "sharegen publish")
                    .map_err(|e| fail(format!("recording the pushed commit: {}", cause(&e))))?;
                report.commit = Some(commit.to_string());
                progress.finish();
                return Ok(report);
            }
            Err(Pushed::Retry(why)) if attempts < MAX_ATTEMPTS => {
                diag.info(format!(
                    "{label}: push rejected ({why}); fetching and retrying"
                ));
                std::thread::sleep(backoff(attempts));
            }
            Err(Pushed::Retry(why)) => {
                progress.finish();
                return Err(fail(format!(
                    "push rejected {attempts} times, last: {why}; someone else keeps pushing, try again"
                )));
            }
            Err(Pushed::Fatal(why)) => {
                progress.finish();
                return Err(fail(why));
            }
        }
    }
}

fn backoff(attempt: u32) -> Duration {
    let mut jitter = [0u8; 1];
    let _ = getrandom::fill(&mut jitter);
    Duration::from_millis(100 * u64::from(attempt) + u64::from(jitter[0]))
}

fn default_message(plan: &Plan) -> String {
    let mut m = format!(
        "sharegen: publish {} changed, {} removed share(s)\n",
        plan.changed_shares.len(),
        plan.removed_shares.len()
    );
    if !plan.changed_shares.is_empty() || !plan.removed_shares.is_empty() {
        m.push('\n');
    }
    for id in &plan.changed_shares {
        m.push_str(&format!("changed: {id}\n"));
    }
    for id in &plan.removed_shares {
        m.push_str(&format!("removed: {id}\n"));
    }
    m
}

/// The committer: `GIT_COMMITTER_NAME`/`EMAIL`, then the git config, then
/// `sharegen`.
fn signature(repo: &Repository) -> Signature<'static> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let (Some(n), Some(e)) = (
        env("GIT_COMMITTER_NAME").or_else(|| env("GIT_AUTHOR_NAME")),
        env("GIT_COMMITTER_EMAIL").or_else(|| env("GIT_AUTHOR_EMAIL")),
    ) && let Ok(s) = Signature::now(&n, &e)
    {
        return s;
    }
    repo.signature()
        .or_else(|_| Signature::now("sharegen", "sharegen@localhost"))
        .expect("a fixed signature is valid")
}

/// The remote manifest on the fetched tip, if any and readable.
fn read_manifest(
    repo: &Repository,
    tree: &git2::Tree,
    prefix: &str,
    diag: &Diag,
    label: &str,
) -> Option<Manifest> {
    let path = format!("{prefix}{MANIFEST}");
    let entry = tree.get_path(Path::new(&path)).ok()?;
    let blob = repo.find_blob(entry.id()).ok()?;
    match serde_json::from_slice(blob.content()) {
        Ok(m) => Some(m),
        Err(e) => {
            diag.warn(
                Path::new(&path),
                None,
                "remote-manifest",
                format!(
                    "{label}: the branch's {path} is not a sharegen manifest ({e}); \
                     publishing as if first, deleting nothing"
                ),
            );
            None
        }
    }
}

/// The new root tree: the base tree with the plan's uploads upserted and
/// its deletions removed, plus the new manifest.
fn build_tree(
    repo: &Repository,
    site: &LocalSite,
    base: &git2::Tree,
    prefix: &str,
    plan: &Plan,
) -> Result<Oid> {
    let mut b = TreeUpdateBuilder::new();
    for rel in &plan.upload {
        let path = site.file(rel);
        let bytes = std::fs::read(&path).at(&path)?;
        let oid = repo.blob(&bytes)?;
        let at = format!("{prefix}{rel}");
        // A file replacing a folder (or the reverse) must go first.
        if let Ok(e) = base.get_path(Path::new(&at))
            && e.kind() != Some(git2::ObjectType::Blob)
        {
            b.remove(&at);
        }
        b.upsert(&at, oid, FileMode::Blob);
    }
    for rel in &plan.delete {
        let at = format!("{prefix}{rel}");
        // Someone may have removed it by hand already.
        if base.get_path(Path::new(&at)).is_ok() {
            b.remove(&at);
        }
    }
    let m = repo.blob(&manifest_bytes(&plan.manifest))?;
    b.upsert(format!("{prefix}{MANIFEST}"), m, FileMode::Blob);
    Ok(b.create_updated(repo, base)?)
}

impl From<git2::Error> for Error {
    fn from(e: git2::Error) -> Error {
        Error::publish("git", e.message().to_string())
    }
}

/// The private bare repository for one remote, locked while in use.
struct Cache {
    repo: Repository,
    _lock: std::fs::File,
}

impl Cache {
    fn open(root: &Path, url: &str) -> Result<Cache> {
        let key = Sha256::digest(redact_url(url).as_bytes());
        let dir = root
            .join("publish-git")
            .join(data_encoding::HEXLOWER.encode(&key[..10]));
        std::fs::create_dir_all(&dir).at(&dir)?;
        let lock_path = dir.with_extension("lock");
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .at(&lock_path)?;
        // Two sharegen processes on one home publish one after the other.
        lock.lock().at(&lock_path)?;
        let repo = match Repository::open_bare(&dir) {
            Ok(r) => r,
            Err(_) => Repository::init_bare(&dir)
                .map_err(|e| Error::publish(dir.display().to_string(), e.message()))?,
        };
        Ok(Cache { repo, _lock: lock })
    }
}

/// Fetches the branch; `None` when the remote has no such branch (a first
/// publish). Any other failure is an error, never a first publish.
fn fetch(repo: &Repository, target: &GitTarget) -> Result<Option<Oid>> {
    let tracking = target.tracking_ref();
    // A branch deleted on the remote must not look present.
    if let Ok(mut r) = repo.find_reference(&tracking) {
        r.delete()?;
    }
    if target.git_cli {
        return fetch_cli(repo, target);
    }
    let auth = Auth::new(&target.url);
    let mut remote = repo.remote_anonymous(&target.url)?;
    let mut fo = FetchOptions::new();
    fo.remote_callbacks(auth.callbacks());
    fo.download_tags(git2::AutotagOption::None);
    if !target.is_local() {
        fo.depth(1);
    }
    let spec = format!("+refs/heads/{}:{tracking}", target.branch);
    remote
        .fetch(&[&spec], Some(&mut fo), None)
        .map_err(|e| auth.error("fetch", &e))?;
    match repo.refname_to_id(&tracking) {
        Ok(oid) => Ok(Some(oid)),
        Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

enum Pushed {
    Retry(String),
    Fatal(String),
}

/// Texts with which servers refuse an update that a re-fetch can fix.
fn retryable(msg: &str) -> bool {
    let m = msg.to_ascii_lowercase();
    [
        "fetch first",
        "non-fast-forward",
        "not fast-forward",
        "failed to lock",
        "cannot lock ref",
        // receive-pack lost a race: the ref moved after it was advertised.
        "failed to update ref",
        "stale info",
        "remote changed",
    ]
    .iter()
    .any(|t| m.contains(t))
}

/// Pushes `commit` to the branch. `lease`: force the update, but only if
/// the branch is still at this commit (`Some(None)`: absent).
fn push(
    repo: &Repository,
    target: &GitTarget,
    commit: Oid,
    lease: Option<Option<Oid>>,
    progress: &Progress,
) -> std::result::Result<(), Pushed> {
    if target.git_cli {
        return push_cli(repo, target, commit, lease);
    }
    let auth = Auth::new(&target.url);
    let dst = format!("refs/heads/{}", target.branch);
    let refused: Rc<RefCell<Option<String>>> = Rc::default();
    let mut cbs = auth.callbacks();
    {
        let refused = refused.clone();
        cbs.push_update_reference(move |name, status| {
            if let Some(s) = status {
                *refused.borrow_mut() = Some(format!("{name}: {s}"));
            }
            Ok(())
        });
    }
    if let Some(expected) = lease {
        let dst = dst.clone();
        cbs.push_negotiation(move |updates| {
            for u in updates {
                if u.dst_refname() == Ok(dst.as_str()) {
                    let now = u.src();
                    let want = expected.unwrap_or(Oid::ZERO_SHA1);
                    if now != want {
                        return Err(git2::Error::from_str(
                            "remote changed since it was fetched (lease)",
                        ));
                    }
                }
            }
            Ok(())
        });
    }
    let pb = progress.bar.clone();
    cbs.push_transfer_progress(move |cur, total, _bytes| {
        if let Some(pb) = &pb {
            pb.set_message(format!("pushing {cur}/{total} objects"));
        }
    });
    let mut po = PushOptions::new();
    po.remote_callbacks(cbs);
    let mut remote = repo
        .remote_anonymous(&target.url)
        .map_err(|e| Pushed::Fatal(e.message().to_string()))?;
    let spec = if lease.is_some() {
        format!("+{commit}:{dst}")
    } else {
        format!("{commit}:{dst}")
    };
    match remote.push(&[&spec], Some(&mut po)) {
        Ok(()) => {}
        Err(e) if e.code() == ErrorCode::NotFastForward => {
            return Err(Pushed::Retry("non-fast-forward".into()));
        }
        Err(e) => {
            let msg = auth.error("push", &e).to_string();
            return Err(if retryable(&msg) {
                Pushed::Retry(msg)
            } else {
                Pushed::Fatal(msg)
            });
        }
    }
    // Ok from push() is not success: the server's verdict per ref arrives
    // in the callback.
    match refused.borrow_mut().take() {
        None => Ok(()),
        Some(why) if retryable(&why) => Err(Pushed::Retry(why)),
        Some(why) => Err(Pushed::Fatal(format!("the remote refused the push: {why}"))),
    }
}

/// Offers credentials in order, each once: the SSH agent, keys in
/// `~/.ssh`, a token from the environment (HTTPS, user `x-access-token`),
/// the git credential helpers, then libgit2's default. Records what was
/// tried for the error message; secrets never appear in it.
struct Auth {
    url: String,
    state: Rc<RefCell<AuthState>>,
}

#[derive(Default)]
struct AuthState {
    calls: u32,
    agent: bool,
    keys_tried: usize,
    token: bool,
    helper: bool,
    default: bool,
    username: bool,
    tried: Vec<String>,
    secrets: Vec<String>,
}

fn ssh_keys() -> Vec<PathBuf> {
    let Some(home) = crate::home::user_home() else {
        return Vec::new();
    };
    ["id_ed25519", "id_ecdsa", "id_rsa"]
        .iter()
        .map(|n| home.join(".ssh").join(n))
        .filter(|p| p.is_file())
        .collect()
}

fn env_token() -> Option<(&'static str, String)> {
    TOKEN_VARS.iter().find_map(|k| {
        std::env::var(k)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .map(|v| (*k, v.trim().to_string()))
    })
}

impl Auth {
    fn new(url: &str) -> Auth {
        let mut state = AuthState::default();
        if let Some((_, t)) = env_token() {
            state.secrets.push(t);
        }
        Auth {
            url: url.to_string(),
            state: Rc::new(RefCell::new(state)),
        }
    }

    fn callbacks(&self) -> RemoteCallbacks<'static> {
        let mut cbs = RemoteCallbacks::new();
        let state = self.state.clone();
        cbs.credentials(move |url, user, allowed| next_credential(&state, url, user, allowed));
        cbs
    }

    /// A git error as a message: what was tried when it was about
    /// credentials, with every known secret and URL credential removed.
    fn error(&self, op: &str, e: &git2::Error) -> Error {
        let st = self.state.borrow();
        let mut msg = e.message().to_string();
        let auth_failed = e.code() == ErrorCode::Auth
            || e.class() == ErrorClass::Http && msg.contains("401")
            || msg.contains("authentication")
            || msg.contains("credentials");
        if auth_failed || st.calls > 0 && e.class() == ErrorClass::Callback {
            msg = if st.tried.is_empty() {
                format!("{op}: authentication failed ({msg}); no credentials were available")
            } else {
                format!(
                    "{op}: authentication failed; tried {}. Check the token's access to the \
                     repository, or your SSH key ({msg})",
                    st.tried.join(", ")
                )
            };
        } else {
            msg = format!("{op}: {msg}");
        }
        for s in &st.secrets {
            if !s.is_empty() {
                msg = msg.replace(s.as_str(), "***");
            }
        }
        msg = msg.replace(&self.url, &redact_url(&self.url));
        Error::publish(redact_url(&self.url), msg)
    }
}

fn next_credential(
    state: &Rc<RefCell<AuthState>>,
    url: &str,
    user: Option<&str>,
    allowed: CredentialType,
) -> std::result::Result<Cred, git2::Error> {
    let mut st = state.borrow_mut();
    st.calls += 1;
    if st.calls > MAX_CREDENTIAL_CALLS {
        return Err(git2::Error::from_str("too many authentication attempts"));
    }
    let user = user.unwrap_or("git");
    if allowed.contains(CredentialType::USERNAME) && !st.username {
        st.username = true;
        return Cred::username(user);
    }
    if allowed.contains(CredentialType::SSH_KEY) {
        if !st.agent {
            st.agent = true;
            st.tried.push("the SSH agent".into());
            if let Ok(c) = Cred::ssh_key_from_agent(user) {
                return Ok(c);
            }
        }
        let keys = ssh_keys();
        while st.keys_tried < keys.len() {
            let k = &keys[st.keys_tried];
            st.keys_tried += 1;
            st.tried.push(format!(
                "the key {}",
                crate::home::tilde(&k.to_string_lossy())
            ));
            let public = k.with_extension("pub");
            if let Ok(c) = Cred::ssh_key(user, public.is_file().then_some(&*public), k, None) {
                return Ok(c);
            }
        }
    }
    if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) {
        if !st.token {
            st.token = true;
            if let Some((var, token)) = env_token() {
                st.tried.push(format!("the token in {var}"));
                return Cred::userpass_plaintext("x-access-token", &token);
            }
        }
        if !st.helper {
            st.helper = true;
            if let Ok(cfg) = git2::Config::open_default() {
                st.tried.push("git credential helpers".into());
                if let Ok(c) = Cred::credential_helper(&cfg, url, None) {
                    return Ok(c);
                }
            }
        }
    }
    if allowed.contains(CredentialType::DEFAULT) && !st.default {
        st.default = true;
        return Cred::default();
    }
    Err(git2::Error::new(
        ErrorCode::Auth,
        ErrorClass::Callback,
        "no more credentials to try",
    ))
}

/// `git` with the cache as its repository, never prompting.
fn git_cmd(repo: &Repository) -> Command {
    let mut c = Command::new("git");
    c.arg("--git-dir").arg(repo.path());
    c.env("GIT_TERMINAL_PROMPT", "0");
    c
}

fn fetch_cli(repo: &Repository, target: &GitTarget) -> Result<Option<Oid>> {
    let label = target.label();
    let run = |args: &[&str]| -> Result<std::process::Output> {
        let out = git_cmd(repo)
            .args(args)
            .output()
            .map_err(|e| Error::publish(&label, format!("running git: {e}")))?;
        if out.status.success() {
            Ok(out)
        } else {
            Err(Error::publish(
                &label,
                format!(
                    "git {} failed: {}",
                    args[0],
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
            ))
        }
    };
    let branch_ref = format!("refs/heads/{}", target.branch);
    let listed = run(&["ls-remote", "--heads", &target.url, &branch_ref])?;
    if listed.stdout.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let spec = format!("+{branch_ref}:{}", target.tracking_ref());
    let mut args = vec!["fetch", "--no-tags", "--quiet"];
    if !target.is_local() {
        args.push("--depth=1");
    }
    args.push(&target.url);
    args.push(&spec);
    run(&args)?;
    Ok(Some(repo.refname_to_id(&target.tracking_ref())?))
}

fn push_cli(
    repo: &Repository,
    target: &GitTarget,
    commit: Oid,
    lease: Option<Option<Oid>>,
) -> std::result::Result<(), Pushed> {
    let dst = format!("refs/heads/{}", target.branch);
    let mut c = git_cmd(repo);
    c.args(["push", "--porcelain"]);
    if let Some(expected) = lease {
        c.arg(format!(
            "--force-with-lease={dst}:{}",
            expected.map(|o| o.to_string()).unwrap_or_default()
        ));
    }
    c.arg(&target.url).arg(format!("{commit}:{dst}"));
    let out = c
        .output()
        .map_err(|e| Pushed::Fatal(format!("running git: {e}")))?;
    if out.status.success() {
        return Ok(());
    }
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = text.replace(&target.url, &redact_url(&target.url));
    let why = text
        .lines()
        .find(|l| l.starts_with('!'))
        .unwrap_or(text.trim())
        .to_string();
    if retryable(&text) {
        Err(Pushed::Retry(why))
    } else {
        Err(Pushed::Fatal(format!("git push failed: {}", text.trim())))
    }
}

/// A spinner on stderr (TTY only), with the current phase.
struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    fn new(show: bool) -> Progress {
        let bar = show.then(|| {
            let pb = ProgressBar::new_spinner();
            pb.set_style(
                ProgressStyle::with_template("{spinner} {msg}").expect("a valid template"),
            );
            pb.enable_steady_tick(Duration::from_millis(120));
            pb
        });
        Progress { bar }
    }

    fn phase(&self, msg: &str) {
        if let Some(pb) = &self.bar {
            pb.set_message(msg.to_string());
        }
    }

    fn finish(&self) {
        if let Some(pb) = &self.bar {
            pb.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remote_given_as_a_path_is_found_in_every_spelling() {
        for (url, path) in [
            ("/srv/r.git", Some("/srv/r.git")),
            ("r.git", Some("r.git")),
            ("file:///srv/r.git", Some("/srv/r.git")),
            ("file://localhost/srv/r.git", Some("/srv/r.git")),
            ("file:///srv/my%20repo.git", Some("/srv/my repo.git")),
            ("git@github.com:me/r.git", None),
            ("https://github.com/me/r.git", None),
        ] {
            assert_eq!(local_path(url), path.map(PathBuf::from), "{url}");
        }
    }

    #[test]
    fn pages_urls_of_github_remotes() {
        assert_eq!(
            github_pages_url("https://github.com/Me/shares.git", None).as_deref(),
            Some("https://me.github.io/shares/")
        );
        assert_eq!(
            github_pages_url("git@github.com:me/me.github.io.git", Some("/s2/")).as_deref(),
            Some("https://me.github.io/s2/")
        );
        assert_eq!(
            github_pages_url("https://x-access-token:t@github.com/me/r", None).as_deref(),
            Some("https://me.github.io/r/")
        );
        assert_eq!(github_pages_url("https://gitlab.com/me/r.git", None), None);
    }

    #[test]
    fn files_over_100_mb_are_refused_before_any_network() {
        let mut files = std::collections::BTreeMap::new();
        files.insert(
            "s/big/index.html".to_string(),
            crate::site::ManifestEntry {
                sha256: "0".repeat(64),
                size: 101 * 1024 * 1024,
                share_id: Some("big".into()),
                publisher: None,
                row: None,
            },
        );
        let mut site = LocalSite {
            root: PathBuf::from("/nonexistent"),
            manifest: Manifest {
                version: 1,
                generator: "t".into(),
                files,
            },
        };
        let target = GitTarget {
            url: "https://127.0.0.1:1/unreachable.git".into(),
            branch: "gh-pages".into(),
            prefix: None,
            history: History::Keep,
            message: None,
            git_cli: false,
        };
        let opts = PublishOptions {
            dry_run: false,
            publisher: "me".into(),
            progress: false,
            index: None,
        };
        let cache = tempfile::tempdir().unwrap();
        let err = publish(&mut site, &target, cache.path(), &opts, &Diag::silent())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("s/big/index.html") && err.contains("100 MB"),
            "{err}"
        );
    }

    #[test]
    fn rejection_texts() {
        assert!(retryable("refs/heads/gh-pages: [rejected] (fetch first)"));
        assert!(retryable("cannot lock ref 'refs/heads/gh-pages'"));
        assert!(retryable("refs/heads/gh-pages: failed to update ref"));
        assert!(!retryable("pre-receive hook declined"));
    }
}
