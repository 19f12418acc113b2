//! Publishing the built site (see [`crate::site`]) to a git branch
//! ([`git`]) or a bucket ([`bucket`]).
//!
//! Both publishers sync by manifest. The remote holds a
//! `sharegen-manifest.json` that lists, for every file sharegen wrote there,
//! its sha256, size, share id and the publisher that wrote it. A publish
//! uploads only the local files whose sha256 differs from the remote entry,
//! and deletes only remote entries that *this* publisher wrote and that its
//! local site no longer has (an unshared or expired share). Files no
//! manifest lists (a CNAME, other folders) are never touched, and shares
//! of other publishers on the same target survive: their entries are merged
//! into the new manifest. The index page is merged too: each share's page
//! entry carries its row of the index, and before planning, a publisher
//! renders its local `index.html` again from its own rows and the rows of
//! the other publishers' shares that stay ([`merge_index`]).

pub mod bucket;
pub mod git;

use crate::error::{Error, Result};
use crate::site::{IndexRow, MANIFEST, Manifest, ManifestEntry};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The local site a publisher pushes: its folder and its manifest.
#[derive(Debug, Clone)]
pub struct LocalSite {
    pub root: PathBuf,
    pub manifest: Manifest,
}

impl LocalSite {
    /// Reads the site built into `root`.
    pub fn open(root: &Path) -> Result<LocalSite> {
        let path = root.join(MANIFEST);
        let manifest = Manifest::read(&path)?.ok_or_else(|| {
            Error::parse(
                &path,
                "no manifest: build the site first (`sharegen build`)",
            )
        })?;
        Ok(LocalSite {
            root: root.to_path_buf(),
            manifest,
        })
    }

    /// The absolute path of a manifest path.
    pub fn file(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }
}

/// Options every publisher takes.
#[derive(Debug, Clone)]
pub struct PublishOptions {
    /// Plan only: fetch/read the remote, print what would change, write
    /// nothing.
    pub dry_run: bool,
    /// This publisher's id (see [`crate::home::Home::publisher_id`]).
    pub publisher: String,
    /// Show a progress bar (on a TTY, not with `--json`).
    pub progress: bool,
    /// Renders the index page from rows, to list other publishers' shares
    /// too (None: the local index is published as built).
    pub index: Option<IndexPage>,
}

/// A function rendering the site's index page from its rows.
pub type RenderIndex = dyn Fn(&[IndexRow]) -> Result<Vec<u8>> + Send + Sync;

/// Renders the site's index page from its rows.
#[derive(Clone)]
pub struct IndexPage(pub std::sync::Arc<RenderIndex>);

impl std::fmt::Debug for IndexPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IndexPage")
    }
}

/// Rewrites the local site's `index.html` (file and manifest entry) to
/// list the shares the target will hold after this publish: the local
/// ones, and those of other publishers that [`plan`] keeps. Does nothing
/// when the local site has no index page.
pub fn merge_index(
    site: &mut LocalSite,
    remote: Option<&Manifest>,
    publisher: &str,
    render: &IndexPage,
) -> Result<()> {
    const INDEX: &str = "index.html";
    if !site.manifest.files.contains_key(INDEX) {
        return Ok(());
    }
    let local = &site.manifest.files;
    let mut rows: Vec<IndexRow> = local.values().filter_map(|e| e.row.clone()).collect();
    let ours: BTreeSet<&str> = rows.iter().map(|r| r.href.as_str()).collect();
    let others: Vec<IndexRow> = remote
        .iter()
        .flat_map(|m| &m.files)
        .filter(|(rel, e)| !local.contains_key(*rel) && e.publisher.as_deref() != Some(publisher))
        .filter_map(|(_, e)| e.row.clone())
        .filter(|r| !ours.contains(r.href.as_str()))
        .collect();
    rows.extend(others);
    crate::site::sort_rows(&mut rows);
    let bytes = (render.0)(&rows)?;
    let path = site.file(INDEX);
    crate::site::write_if_changed(&path, &bytes)?;
    let e = site.manifest.files.get_mut(INDEX).expect("checked above");
    e.sha256 = crate::fsutil::sha256_hex(&bytes);
    e.size = bytes.len() as u64;
    Ok(())
}

/// What a publish changes on the remote, computed from the remote
/// manifest, the local one, and who wrote what.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Local paths to upload, in upload order (assets, pages, site-wide
    /// files); the manifest itself is not listed.
    pub upload: Vec<String>,
    /// Remote paths to delete (listed by the remote manifest as written by
    /// this publisher, and gone locally).
    pub delete: Vec<String>,
    /// Local files already on the remote with the same sha256.
    pub unchanged: usize,
    /// The manifest to write: the remote's entries of other publishers,
    /// plus ours.
    pub manifest: Manifest,
    /// Share ids with a new or changed file.
    pub changed_shares: Vec<String>,
    /// Share ids whose files are all deleted.
    pub removed_shares: Vec<String>,
}

impl Plan {
    /// Nothing to upload or delete, and the manifest is unchanged.
    pub fn is_noop(&self, remote: Option<&Manifest>) -> bool {
        self.upload.is_empty() && self.delete.is_empty() && remote == Some(&self.manifest)
    }
}

/// Upload order: assets first, then pages, then the site-wide files
/// (index, 404, …). The manifest goes last, separately.
pub fn upload_rank(rel: &str) -> u8 {
    let page = rel.starts_with("s/");
    let asset = rel.starts_with("assets/") || rel.starts_with("static/");
    match (asset, page) {
        (true, _) => 0,
        (_, true) => 1,
        _ => 2,
    }
}

/// Plans a publish of `local` onto a remote whose manifest is `remote`.
pub fn plan(remote: Option<&Manifest>, local: &Manifest, publisher: &str) -> Plan {
    let empty = BTreeMap::new();
    let remote_files = remote.map_or(&empty, |m| &m.files);
    let mut files: BTreeMap<String, ManifestEntry> = BTreeMap::new();
    let mut delete = Vec::new();
    // Keep other publishers' entries; drop ours that are gone locally.
    for (rel, e) in remote_files {
        if local.files.contains_key(rel) {
            continue;
        }
        if e.publisher.as_deref() == Some(publisher) && safe_rel(rel) {
            delete.push(rel.clone());
        } else {
            files.insert(rel.clone(), e.clone());
        }
    }
    let mut upload = Vec::new();
    let mut unchanged = 0;
    let mut changed_shares = BTreeSet::new();
    for (rel, e) in &local.files {
        if !safe_rel(rel) {
            continue;
        }
        let same = remote_files.get(rel).is_some_and(|r| r.sha256 == e.sha256);
        if same {
            unchanged += 1;
        } else {
            upload.push(rel.clone());
            if let Some(id) = &e.share_id {
                changed_shares.insert(id.clone());
            }
        }
        let mut e = e.clone();
        e.publisher = match remote_files.get(rel) {
            // A site-wide file (index, 404, robots.txt) already there as
            // is keeps its writer: alternating publishers do not rewrite
            // the manifest for it.
            Some(r) if same && e.share_id.is_none() => r.publisher.clone(),
            _ => Some(publisher.to_string()),
        };
        files.insert(rel.clone(), e);
    }
    upload.sort_by(|a, b| upload_rank(a).cmp(&upload_rank(b)).then(a.cmp(b)));
    let mut removed_shares: BTreeSet<String> = BTreeSet::new();
    for rel in &delete {
        if let Some(id) = &remote_files[rel].share_id
            && !files.values().any(|e| e.share_id.as_ref() == Some(id))
        {
            removed_shares.insert(id.clone());
        }
    }
    Plan {
        upload,
        delete,
        unchanged,
        manifest: Manifest {
            version: local.version,
            generator: local.generator.clone(),
            files,
        },
        changed_shares: changed_shares.into_iter().collect(),
        removed_shares: removed_shares.into_iter().collect(),
    }
}

/// The manifest as published: pretty JSON with a final newline.
pub fn manifest_bytes(m: &Manifest) -> Vec<u8> {
    let mut b = serde_json::to_vec_pretty(m).expect("the manifest serializes");
    b.push(b'\n');
    b
}

/// A manifest path sharegen could have written (no escape from the site).
pub fn safe_rel(rel: &str) -> bool {
    !rel.is_empty()
        && !rel.starts_with('/')
        && !rel.contains('\\')
        && !rel
            .split('/')
            .any(|c| c == ".." || c == "." || c.is_empty())
}

/// The Content-Type of a site file.
pub fn content_type(rel: &str) -> &'static str {
    let ext = rel.rsplit_once('.').map_or("", |(_, e)| e);
    match ext {
        "html" => "text/html; charset=utf-8",
        "json" => "application/json",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "txt" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "xml" => "application/xml",
        _ if rel.ends_with(".nojekyll") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The Cache-Control of a site file: pages, indexes, `version.json` and
/// the manifest change in place, so caches revalidate; content-hashed
/// assets never change.
pub fn cache_control(rel: &str) -> &'static str {
    if upload_rank(rel) == 0 {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    }
}

/// One share's public URL.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ShareUrl {
    pub share_id: String,
    pub url: String,
}

/// What a publish did (or, with `--dry-run`, would do).
#[derive(Debug, Clone, Default, Serialize)]
pub struct PublishReport {
    /// The target, without credentials.
    pub target: String,
    pub dry_run: bool,
    /// Nothing changed: no commit, no upload.
    pub up_to_date: bool,
    pub uploaded: Vec<String>,
    pub deleted: Vec<String>,
    pub unchanged: usize,
    pub changed_shares: Vec<String>,
    pub removed_shares: Vec<String>,
    /// Public URLs of new or changed shares (when known).
    pub urls: Vec<ShareUrl>,
    /// The commit pushed (git).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// How many tries it took (rejections retried).
    pub attempts: u32,
    /// Warnings worth showing (large files, history kept, …).
    pub warnings: Vec<String>,
}

impl PublishReport {
    /// Fills the report's counts from a plan.
    pub fn from_plan(target: String, plan: &Plan, dry_run: bool) -> PublishReport {
        PublishReport {
            target,
            dry_run,
            up_to_date: false,
            uploaded: plan.upload.clone(),
            deleted: plan.delete.clone(),
            unchanged: plan.unchanged,
            changed_shares: plan.changed_shares.clone(),
            removed_shares: plan.removed_shares.clone(),
            ..PublishReport::default()
        }
    }
}

/// Removes `user:password@` from a URL, for messages.
pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        let (auth, tail) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        if let Some((_, host)) = auth.rsplit_once('@') {
            return format!("{scheme}://{host}{tail}");
        }
    }
    url.to_string()
}

/// Checks and normalizes a prefix (a folder in a bucket or branch):
/// `a/b`, no empty, `.` or `..` parts.
pub fn clean_prefix(p: &str) -> Result<String, String> {
    let t = p.trim_matches('/');
    if t.is_empty() {
        return Ok(String::new());
    }
    if t.split('/')
        .any(|c| c.is_empty() || c == "." || c == ".." || c.contains('\\'))
        || t.chars().any(|c| c.is_control())
    {
        return Err(format!(
            "`{p}` is not a usable prefix (no empty, `.` or `..` parts)"
        ));
    }
    Ok(t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(sha: &str, share: Option<&str>, publisher: Option<&str>) -> ManifestEntry {
        ManifestEntry {
            sha256: sha.into(),
            size: 1,
            share_id: share.map(Into::into),
            publisher: publisher.map(Into::into),
            row: None,
        }
    }

    fn manifest(files: &[(&str, ManifestEntry)]) -> Manifest {
        Manifest {
            version: 1,
            generator: "t".into(),
            files: files
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        }
    }

    #[test]
    fn first_publish_uploads_everything_in_order() {
        let local = manifest(&[
            ("index.html", entry("a", None, None)),
            ("s/x/index.html", entry("b", Some("x"), None)),
        ]);
        let p = plan(None, &local, "me");
        assert_eq!(p.upload, vec!["s/x/index.html", "index.html"]);
        assert!(p.delete.is_empty());
        assert_eq!(p.changed_shares, vec!["x"]);
        assert!(
            p.manifest
                .files
                .values()
                .all(|e| e.publisher.as_deref() == Some("me"))
        );
    }

    #[test]
    fn deletes_only_our_own_entries_and_keeps_others() {
        let remote = manifest(&[
            ("s/mine/index.html", entry("1", Some("mine"), Some("me"))),
            (
                "s/theirs/index.html",
                entry("2", Some("theirs"), Some("you")),
            ),
            ("index.html", entry("3", None, Some("me"))),
        ]);
        let local = manifest(&[("index.html", entry("3", None, None))]);
        let p = plan(Some(&remote), &local, "me");
        assert_eq!(p.delete, vec!["s/mine/index.html"]);
        assert_eq!(p.removed_shares, vec!["mine"]);
        assert!(p.upload.is_empty());
        assert_eq!(p.unchanged, 1);
        assert!(p.manifest.files.contains_key("s/theirs/index.html"));
        assert!(!p.manifest.files.contains_key("s/mine/index.html"));
    }

    #[test]
    fn unchanged_site_is_a_noop() {
        let remote = manifest(&[("index.html", entry("3", None, Some("me")))]);
        let local = manifest(&[("index.html", entry("3", None, None))]);
        let p = plan(Some(&remote), &local, "me");
        assert!(p.is_noop(Some(&remote)));
    }

    #[test]
    fn unsafe_paths_are_never_planned() {
        let remote = manifest(&[("../escape", entry("1", Some("x"), Some("me")))]);
        let local = manifest(&[("a/../b", entry("1", None, None))]);
        let p = plan(Some(&remote), &local, "me");
        assert!(p.delete.is_empty() && p.upload.is_empty());
    }

    #[test]
    fn urls_lose_their_credentials() {
        assert_eq!(
            redact_url("https://x-access-token:ghp_secret@github.com/o/r.git"),
            "https://github.com/o/r.git"
        );
        assert_eq!(redact_url("s3://bucket/prefix"), "s3://bucket/prefix");
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type("s/x/index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("s/x/session.json"), "application/json");
        assert_eq!(content_type("robots.txt"), "text/plain; charset=utf-8");
        assert_eq!(cache_control("s/x/index.html"), "no-cache");
    }
}
