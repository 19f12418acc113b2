//! Publishing to a bucket with `object_store`: S3 and S3-compatible
//! services (R2, MinIO, … through `--endpoint`), Google Cloud Storage,
//! Azure Blob Storage, and local folders (`file://`).
//!
//! A publish syncs by manifest (see [`super`]):
//!
//! 1. Read `<prefix>/sharegen-manifest.json` and its version (ETag or
//!    generation). None: a first publish.
//! 2. [`plan`](super::plan) against it; nothing to do → no writes at all.
//! 3. Upload the changed files, a few at once, group by group: assets, then
//!    pages (`s/…`), then the site-wide files (index, 404, …), each with
//!    its Content-Type and Cache-Control.
//! 4. Write the manifest with a conditional put: `PutMode::Create` when
//!    there was none, else `PutMode::Update` with the version read in 1.
//!    If someone else wrote it meanwhile, read it again, plan again
//!    (their shares are kept; anything they changed that we need is
//!    uploaded again), and retry, a bounded number of times with jittered
//!    backoff.
//! 5. Last, delete the keys the plan says this publisher wrote and no
//!    longer has. Keys no manifest of ours lists are never touched.
//!
//! Readers never see a page whose assets are missing, and a publish that
//! stops half-way leaves the previous manifest in charge.

mod profile;
mod store;

use super::{
    LocalSite, Plan, PublishOptions, PublishReport, cache_control, content_type, manifest_bytes,
    merge_index, plan, upload_rank,
};
use crate::diag::Diag;
use crate::error::{Error, Result};
use crate::fsutil::sha256_hex;
use crate::site::{MANIFEST, MANIFEST_VERSION, Manifest, ManifestEntry};
use futures::stream::{self, StreamExt};
use indicatif::{ProgressBar, ProgressStyle};
use object_store::path::Path as ObjectPath;
use object_store::{
    Attribute, Attributes, ObjectStoreExt, PutMode, PutMultipartOptions, PutOptions, PutPayload,
    UpdateVersion, WriteMultipart,
};
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};
use store::Remote;
pub use store::{BucketUrl, Kind};

/// A bucket to publish to.
#[derive(Debug, Clone)]
pub struct BucketTarget {
    /// `s3://bucket/prefix`, `gs://…`, `az://…`, `file:///dir`.
    pub url: String,
    /// A folder under the URL's prefix (`--prefix`).
    pub prefix: Option<String>,
    /// An S3-compatible endpoint; `http://` allows plain HTTP.
    pub endpoint: Option<String>,
    pub region: Option<String>,
}

/// Uploads in flight at once.
const CONCURRENCY: usize = 8;
/// Tries at the conditional manifest write before giving up.
const MAX_ATTEMPTS: u32 = 5;
/// Files above this size go up in parts (S3 refuses single PUTs over 5 GB,
/// and parts keep each request short).
const MULTIPART_THRESHOLD: usize = 64 << 20;
const PART_SIZE: usize = 16 << 20;
/// How long to wait for another publisher's manifest lock, and when a lock
/// counts as abandoned (see [`write_locked`]).
const LOCK_WAIT: Duration = Duration::from_secs(60);
const LOCK_STALE: Duration = Duration::from_secs(10 * 60);

/// Syncs `site` into the bucket.
pub fn publish(
    site: &mut LocalSite,
    target: &BucketTarget,
    opts: &PublishOptions,
    diag: &Diag,
) -> Result<PublishReport> {
    let shown = super::redact_url(&target.url);
    let mut remote = store::open(target, opts.dry_run).map_err(|m| Error::publish(&shown, m))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::publish(&remote.shown, format!("cannot start the runtime: {e}")))?;
    let result = rt.block_on(sync(&mut remote, site, opts, diag));
    result.map_err(|m| Error::publish(&remote.shown, m))
}

/// Checks what can be checked without connecting: the URL's form and the
/// prefix (usage errors).
pub fn check_form(target: &BucketTarget) -> Result<()> {
    store::BucketUrl::parse(&target.url).map_err(Error::Usage)?;
    if let Some(p) = &target.prefix {
        crate::publish::clean_prefix(p).map_err(Error::Usage)?;
    }
    Ok(())
}

/// Checks that the bucket is reachable with the configured credentials
/// (one list call), writing nothing (`sharegen doctor`).
pub fn check(target: &BucketTarget) -> Result<String> {
    let shown = super::redact_url(&target.url);
    let remote = store::open(target, true).map_err(|m| Error::publish(&shown, m))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::publish(&remote.shown, format!("cannot start the runtime: {e}")))?;
    rt.block_on(async {
        use futures::StreamExt;
        let prefix = (!remote.prefix.is_empty())
            .then(|| object_store::path::Path::from(remote.prefix.as_str()));
        let mut list = remote.store.list(prefix.as_ref());
        match list.next().await {
            None => Ok("reachable; nothing published there yet".to_string()),
            Some(Ok(_)) => Ok("reachable; objects found under the prefix".to_string()),
            Some(Err(e @ object_store::Error::NotFound { .. }))
                if !store::is_missing_bucket(&e) =>
            {
                Ok("reachable; nothing published there yet".to_string())
            }
            Some(Err(e)) => Err(remote.explain("list", &remote.prefix, &e)),
        }
    })
    .map_err(|m| Error::publish(&remote.shown, m))
}

/// The remote manifest as read, and the version to make the write
/// conditional on.
#[derive(Debug, Clone, Default)]
struct Seen {
    manifest: Option<Manifest>,
    version: Option<UpdateVersion>,
}

async fn read_manifest(remote: &Remote) -> std::result::Result<Seen, String> {
    let key = remote.key(MANIFEST)?;
    let got = match remote.store.get(&key).await {
        Ok(g) => g,
        Err(e @ object_store::Error::NotFound { .. }) if !store::is_missing_bucket(&e) => {
            return Ok(Seen::default());
        }
        Err(e) => return Err(remote.explain("read", key.as_ref(), &e)),
    };
    let version = UpdateVersion {
        e_tag: got.meta.e_tag.clone(),
        version: got.meta.version.clone(),
    };
    let bytes = got
        .bytes()
        .await
        .map_err(|e| remote.explain("read", key.as_ref(), &e))?;
    let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| {
        format!(
            "{key} is not a sharegen manifest ({e}): nothing was changed; move it away to \
             publish here"
        )
    })?;
    if manifest.version > MANIFEST_VERSION {
        return Err(format!(
            "{key} has format version {}, newer than this sharegen's {MANIFEST_VERSION}: upgrade \
             sharegen",
            manifest.version
        ));
    }
    Ok(Seen {
        manifest: Some(manifest),
        version: Some(version),
    })
}

/// What happened to a conditional manifest write.
enum Written {
    Done,
    /// Someone else changed the manifest since we read it.
    Conflict,
}

/// Writes the manifest if the remote one is still the one in `seen`.
async fn write_manifest(
    remote: &mut Remote,
    manifest: &Manifest,
    seen: &Seen,
    opts: &PublishOptions,
    warnings: &mut Vec<String>,
) -> std::result::Result<Written, String> {
    let key = remote.key(MANIFEST)?;
    let bytes = manifest_bytes(manifest);
    if !remote.lock_writes {
        let mode = match &seen.version {
            None => Some(PutMode::Create),
            Some(v) if v.e_tag.is_some() || v.version.is_some() => Some(PutMode::Update(v.clone())),
            // Read without any version token: nothing to be conditional on.
            Some(_) => None,
        };
        if let Some(mode) = mode {
            let put = PutOptions {
                mode,
                attributes: attributes(remote, MANIFEST),
                ..PutOptions::default()
            };
            match remote
                .store
                .put_opts(&key, PutPayload::from(bytes.clone()), put)
                .await
            {
                Ok(_) => return Ok(Written::Done),
                Err(
                    object_store::Error::Precondition { .. }
                    | object_store::Error::AlreadyExists { .. },
                ) => return Ok(Written::Conflict),
                Err(
                    object_store::Error::NotImplemented { .. }
                    | object_store::Error::NotSupported { .. },
                ) => {}
                Err(e) => return Err(remote.explain("write", key.as_ref(), &e)),
            }
        }
        remote.lock_writes = true;
    }
    write_locked(remote, &key, bytes, seen, opts, warnings).await
}

/// The fallback for stores without conditional updates
/// (`LocalFileSystem` has no `PutMode::Update`, and a store may return no
/// ETag): take a lock object `sharegen-manifest.json.lock` with
/// `PutMode::Create` (atomic on every store), read the manifest again and
/// compare it with the one the plan was made from, write it only if it
/// is the same, then drop the lock. Publishers that all go through the
/// lock never overwrite each other. A lock older than ten minutes is taken
/// as abandoned (a killed publish) and removed, with a warning.
async fn write_locked(
    remote: &Remote,
    key: &ObjectPath,
    bytes: Vec<u8>,
    seen: &Seen,
    opts: &PublishOptions,
    warnings: &mut Vec<String>,
) -> std::result::Result<Written, String> {
    let lock = remote.key(&format!("{MANIFEST}.lock"))?;
    let body = serde_json::json!({
        "publisher": opts.publisher,
        "pid": std::process::id(),
        "since": chrono::Utc::now().to_rfc3339(),
    })
    .to_string();
    let deadline = Instant::now() + LOCK_WAIT;
    let mut waits = 0u32;
    loop {
        let put = PutOptions::from(PutMode::Create);
        match remote
            .store
            .put_opts(&lock, PutPayload::from(body.clone().into_bytes()), put)
            .await
        {
            Ok(_) => break,
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
            ) => {
                match remote.store.head(&lock).await {
                    Ok(meta) => {
                        let age = chrono::Utc::now() - meta.last_modified;
                        if age.to_std().is_ok_and(|a| a > LOCK_STALE) {
                            warnings.push(format!(
                                "removed an abandoned lock {lock} (from {})",
                                meta.last_modified.to_rfc3339()
                            ));
                            let _ = remote.store.delete(&lock).await;
                            continue;
                        }
                    }
                    Err(object_store::Error::NotFound { .. }) => continue,
                    Err(e) => return Err(remote.explain("read", lock.as_ref(), &e)),
                }
                if Instant::now() > deadline {
                    return Err(format!(
                        "{lock} is held by another publisher; if none is running, delete it"
                    ));
                }
                waits += 1;
                tokio::time::sleep(backoff(waits.min(4))).await;
            }
            Err(e) => return Err(remote.explain("write", lock.as_ref(), &e)),
        }
    }
    let result = async {
        let now = read_manifest(remote).await?;
        if now.manifest != seen.manifest {
            return Ok(Written::Conflict);
        }
        let put = PutOptions {
            mode: PutMode::Overwrite,
            attributes: attributes(remote, MANIFEST),
            ..PutOptions::default()
        };
        remote
            .store
            .put_opts(key, PutPayload::from(bytes), put)
            .await
            .map_err(|e| remote.explain("write", key.as_ref(), &e))?;
        Ok(Written::Done)
    }
    .await;
    if let Err(e) = remote.store.delete(&lock).await
        && !matches!(e, object_store::Error::NotFound { .. })
    {
        warnings.push(format!(
            "could not remove the lock {lock}: {}; delete it by hand",
            remote.explain("delete", lock.as_ref(), &e)
        ));
    }
    result
}

/// Content-Type and Cache-Control, where the store keeps them.
fn attributes(remote: &Remote, rel: &str) -> Attributes {
    let mut a = Attributes::new();
    if remote.attributes {
        a.insert(Attribute::ContentType, content_type(rel).into());
        a.insert(Attribute::CacheControl, cache_control(rel).into());
    }
    a
}

/// Jittered exponential backoff: 100 ms × 2^(n-1), capped at 2 s, plus up
/// to as much again at random.
fn backoff(n: u32) -> Duration {
    let base = (100u64 << n.saturating_sub(1).min(5)).min(2_000);
    let jitter = getrandom::u64().unwrap_or(0) % (base + 1);
    Duration::from_millis(base + jitter)
}

/// Reads a site file and checks it still is what the manifest says.
async fn read_site_file(
    site: &LocalSite,
    rel: &str,
    entry: &ManifestEntry,
) -> std::result::Result<Vec<u8>, String> {
    let path = site.file(rel);
    let (bytes, sha) = tokio::task::spawn_blocking(move || {
        std::fs::read(&path)
            .map(|b| {
                let sha = sha256_hex(&b);
                (b, sha)
            })
            .map_err(|e| format!("{}: {e}", path.display()))
    })
    .await
    .map_err(|e| format!("reading {rel}: {e}"))??;
    if sha != entry.sha256 {
        return Err(format!(
            "{rel} changed since the site was built (another build running?): publish again"
        ));
    }
    Ok(bytes)
}

/// Uploads one site file: in one PUT, or in parts of `part` bytes when it
/// is larger than `big`.
async fn upload_one(
    remote: &Remote,
    site: &LocalSite,
    rel: &str,
    big: usize,
    part: usize,
) -> std::result::Result<(), String> {
    let entry = site
        .manifest
        .files
        .get(rel)
        .ok_or_else(|| format!("{rel} is not in the local manifest"))?;
    let bytes = read_site_file(site, rel, entry).await?;
    let key = remote.key(rel)?;
    let fail = |e: object_store::Error| remote.explain("upload", key.as_ref(), &e);
    if bytes.len() > big {
        let opts = PutMultipartOptions {
            attributes: attributes(remote, rel),
            ..PutMultipartOptions::default()
        };
        let upload = remote
            .store
            .put_multipart_opts(&key, opts)
            .await
            .map_err(fail)?;
        let mut w = WriteMultipart::new_with_chunk_size(upload, part);
        for chunk in bytes.chunks(part) {
            w.wait_for_capacity(2).await.map_err(fail)?;
            w.write(chunk);
        }
        w.finish().await.map_err(fail)?;
    } else {
        let opts = PutOptions {
            attributes: attributes(remote, rel),
            ..PutOptions::default()
        };
        remote
            .store
            .put_opts(&key, PutPayload::from(bytes), opts)
            .await
            .map_err(fail)?;
    }
    Ok(())
}

/// Uploads `rels` (in upload order) group by group: all assets before any
/// page, all pages before the site-wide files; within a group up to
/// [`CONCURRENCY`] at once. Stops at the first failure.
async fn upload_all(
    remote: &Remote,
    site: &LocalSite,
    rels: &[String],
    bar: &ProgressBar,
) -> std::result::Result<(), String> {
    let mut i = 0;
    while i < rels.len() {
        let rank = upload_rank(&rels[i]);
        let end = rels[i..]
            .iter()
            .position(|r| upload_rank(r) != rank)
            .map_or(rels.len(), |n| i + n);
        let mut results = stream::iter(&rels[i..end])
            .map(|rel| async move {
                let r = upload_one(remote, site, rel, MULTIPART_THRESHOLD, PART_SIZE).await;
                bar.inc(1);
                r
            })
            .buffer_unordered(CONCURRENCY);
        while let Some(r) = results.next().await {
            r?;
        }
        i = end;
    }
    Ok(())
}

/// Deletes the keys of `rels`; returns the ones that are gone (deleted, or
/// already missing) and records a warning for the others.
async fn delete_all(remote: &Remote, rels: &[String], warnings: &mut Vec<String>) -> Vec<String> {
    if rels.is_empty() {
        return Vec::new();
    }
    let mut by_key: HashMap<String, String> = HashMap::new();
    let mut keys = Vec::new();
    for rel in rels {
        match remote.key(rel) {
            Ok(k) => {
                by_key.insert(k.to_string(), rel.clone());
                keys.push(Ok(k));
            }
            Err(e) => warnings.push(e),
        }
    }
    let mut gone = BTreeSet::new();
    let mut first_error = None;
    let mut results = remote.store.delete_stream(stream::iter(keys).boxed());
    while let Some(r) = results.next().await {
        match r {
            Ok(k) => {
                if let Some(rel) = by_key.get(k.as_ref()) {
                    gone.insert(rel.clone());
                }
            }
            Err(object_store::Error::NotFound { path, .. }) => {
                let rel = by_key
                    .iter()
                    .find(|(k, _)| path.ends_with(k.as_str()))
                    .map(|(_, rel)| rel.clone());
                if let Some(rel) = rel {
                    gone.insert(rel);
                }
            }
            Err(e) => {
                first_error.get_or_insert_with(|| remote.explain("delete", "objects", &e));
            }
        }
    }
    let left: Vec<&String> = rels.iter().filter(|r| !gone.contains(*r)).collect();
    if !left.is_empty() {
        let some: Vec<&str> = left.iter().take(5).map(|s| s.as_str()).collect();
        warnings.push(format!(
            "could not delete {} old object(s) ({}{}){}: the manifest no longer lists them, so \
             delete them by hand",
            left.len(),
            some.join(", "),
            if left.len() > some.len() { ", …" } else { "" },
            first_error.map(|e| format!(": {e}")).unwrap_or_default(),
        ));
    }
    rels.iter().filter(|r| gone.contains(*r)).cloned().collect()
}

fn progress_bar(show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) =
        ProgressStyle::with_template("uploading {bar:30} {pos}/{len} files {elapsed_precise}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

async fn sync(
    remote: &mut Remote,
    site: &mut LocalSite,
    opts: &PublishOptions,
    diag: &Diag,
) -> std::result::Result<PublishReport, String> {
    let mut seen = read_manifest(remote).await?;
    diag.info(format!(
        "{}: remote manifest {}",
        remote.shown,
        match &seen.manifest {
            Some(m) => format!("lists {} files", m.files.len()),
            None => "missing: first publish".into(),
        }
    ));
    let merge = |site: &mut LocalSite, m: Option<&Manifest>| match &opts.index {
        Some(ix) => merge_index(site, m, &opts.publisher, ix)
            .map_err(|e| format!("merging the index page: {e}")),
        None => Ok(()),
    };
    merge(site, seen.manifest.as_ref())?;
    let mut p: Plan = plan(seen.manifest.as_ref(), &site.manifest, &opts.publisher);
    if opts.dry_run || p.is_noop(seen.manifest.as_ref()) {
        let mut report = PublishReport::from_plan(remote.shown.clone(), &p, opts.dry_run);
        report.up_to_date = p.is_noop(seen.manifest.as_ref());
        report.attempts = 1;
        return Ok(report);
    }
    let bar = progress_bar(opts.progress);
    let mut warnings = Vec::new();
    // Files uploaded so far: local sha256, and the remote manifest's entry
    // for that file when we decided to upload it.
    let mut done: HashMap<String, (String, Option<ManifestEntry>)> = HashMap::new();
    let mut uploaded: Vec<String> = Vec::new();
    let mut uploaded_set: BTreeSet<String> = BTreeSet::new();
    let mut attempts = 1;
    loop {
        let remote_entry = |rel: &str| {
            seen.manifest
                .as_ref()
                .and_then(|m| m.files.get(rel))
                .cloned()
        };
        // After a lost race, upload again only what the other writer's
        // manifest says it changed.
        let todo: Vec<String> = p
            .upload
            .iter()
            .filter(|rel| {
                let sha = &site.manifest.files[rel.as_str()].sha256;
                done.get(rel.as_str())
                    .is_none_or(|(s, e)| s != sha || *e != remote_entry(rel))
            })
            .cloned()
            .collect();
        bar.inc_length(todo.len() as u64);
        upload_all(remote, site, &todo, &bar).await?;
        for rel in todo {
            let sha = site.manifest.files[&rel].sha256.clone();
            done.insert(rel.clone(), (sha, remote_entry(&rel)));
            if uploaded_set.insert(rel.clone()) {
                uploaded.push(rel);
            }
        }
        match write_manifest(remote, &p.manifest, &seen, opts, &mut warnings).await? {
            Written::Done => break,
            Written::Conflict if attempts >= MAX_ATTEMPTS => {
                bar.finish_and_clear();
                return Err(format!(
                    "the remote manifest changed under us {attempts} times (other publishers \
                     are writing): the uploaded files are in place but not listed yet; publish \
                     again"
                ));
            }
            Written::Conflict => {
                attempts += 1;
                diag.info(format!(
                    "{}: the remote manifest changed since it was read; merging (try {attempts})",
                    remote.shown
                ));
                tokio::time::sleep(backoff(attempts - 1)).await;
                seen = read_manifest(remote).await?;
                merge(site, seen.manifest.as_ref())?;
                p = plan(seen.manifest.as_ref(), &site.manifest, &opts.publisher);
                if p.is_noop(seen.manifest.as_ref()) {
                    break;
                }
            }
        }
    }
    bar.finish_and_clear();
    let deleted = delete_all(remote, &p.delete, &mut warnings).await;
    let mut report = PublishReport::from_plan(remote.shown.clone(), &p, false);
    report.unchanged = site
        .manifest
        .files
        .keys()
        .filter(|rel| !uploaded_set.contains(*rel))
        .count();
    report.uploaded = uploaded;
    report.deleted = deleted;
    report.attempts = attempts;
    report.warnings = warnings;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;
    use std::sync::Arc;

    fn site_with(files: &[(&str, Vec<u8>)]) -> (tempfile::TempDir, LocalSite) {
        let tmp = tempfile::tempdir().unwrap();
        let mut manifest = Manifest {
            version: MANIFEST_VERSION,
            generator: "test".into(),
            files: Default::default(),
        };
        for (rel, bytes) in files {
            let p = tmp.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, bytes).unwrap();
            manifest.files.insert(
                rel.to_string(),
                ManifestEntry {
                    sha256: sha256_hex(bytes),
                    size: bytes.len() as u64,
                    share_id: None,
                    publisher: None,
                    row: None,
                },
            );
        }
        let site = LocalSite {
            root: tmp.path().to_path_buf(),
            manifest,
        };
        (tmp, site)
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn large_files_go_up_in_parts_with_their_headers() {
        let big: Vec<u8> = (0..300_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let (_tmp, site) = site_with(&[("s/x/index.html", big.clone())]);
        let mem = Arc::new(InMemory::new());
        let remote = Remote::for_tests(mem.clone(), "pre");
        rt().block_on(async {
            // 1.2 MB in parts of 256 KB.
            upload_one(&remote, &site, "s/x/index.html", 100_000, 256 << 10)
                .await
                .unwrap();
            let got = mem
                .get(&ObjectPath::from("pre/s/x/index.html"))
                .await
                .unwrap();
            assert_eq!(
                got.attributes
                    .get(&Attribute::ContentType)
                    .map(|v| v.as_ref()),
                Some("text/html; charset=utf-8")
            );
            assert_eq!(
                got.attributes
                    .get(&Attribute::CacheControl)
                    .map(|v| v.as_ref()),
                Some("no-cache")
            );
            assert_eq!(got.bytes().await.unwrap().as_ref(), big.as_slice());
        });
    }

    #[test]
    fn a_file_changed_since_the_build_is_not_uploaded() {
        let (tmp, site) = site_with(&[("index.html", b"one".to_vec())]);
        std::fs::write(tmp.path().join("index.html"), b"two").unwrap();
        let mem = Arc::new(InMemory::new());
        let remote = Remote::for_tests(mem.clone(), "");
        rt().block_on(async {
            let err = upload_one(&remote, &site, "index.html", 1 << 20, 1 << 20)
                .await
                .unwrap_err();
            assert!(err.contains("changed since the site was built"), "{err}");
            assert!(mem.head(&ObjectPath::from("index.html")).await.is_err());
        });
    }

    #[test]
    fn a_lost_race_is_merged_and_retried() {
        // Two publishers sync into one in-memory store; the second reads
        // the manifest, then the first writes, then the second writes.
        let (_ta, mut site_a) = site_with(&[("s/a/index.html", b"a".to_vec())]);
        let (_tb, mut site_b) = site_with(&[("s/b/index.html", b"b".to_vec())]);
        let mem = Arc::new(InMemory::new());
        let opts = |p: &str| PublishOptions {
            dry_run: false,
            publisher: p.into(),
            progress: false,
            index: None,
        };
        rt().block_on(async {
            let mut remote = Remote::for_tests(mem.clone(), "site");
            let seen_b = read_manifest(&remote).await.unwrap();
            sync(&mut remote, &mut site_a, &opts("A"), &Diag::silent())
                .await
                .unwrap();
            let p = plan(seen_b.manifest.as_ref(), &site_b.manifest, "B");
            let mut w = Vec::new();
            let stale = write_manifest(&mut remote, &p.manifest, &seen_b, &opts("B"), &mut w)
                .await
                .unwrap();
            assert!(
                matches!(stale, Written::Conflict),
                "the stale write is refused"
            );
            let report = sync(&mut remote, &mut site_b, &opts("B"), &Diag::silent())
                .await
                .unwrap();
            assert_eq!(report.uploaded, vec!["s/b/index.html"]);
            let m = read_manifest(&remote).await.unwrap().manifest.unwrap();
            let keys: Vec<&str> = m.files.keys().map(String::as_str).collect();
            assert_eq!(keys, vec!["s/a/index.html", "s/b/index.html"]);
        });
    }
}
