//! `sharegen publish --bucket` against real S3-compatible servers on
//! 127.0.0.1 (moto always, s3s-fs when installed) and a `file://` folder.
//! What the bucket holds is checked on the server (listing, object bytes
//! and headers, moto's request recording), not only in our JSON report.

mod common;
#[path = "common/s3.rs"]
mod s3;

use common::*;
use s3::{ACCESS_KEY, SECRET_KEY, Server};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const IDEAS: &str = "03eb5929-52b3-4b13-ada3-b93ae35806b8";
const WORKTREES: &str = "ef958aa1-0e93-49f0-bb71-150f63befcd1";
const SAMPLE: &str = "71c9afe9-d9cc-4583-86b3-e62ba682b83a";
const MANIFEST: &str = "sharegen-manifest.json";

fn home() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(
        &fixtures().join("projects"),
        &tmp.path().join(".claude/projects"),
    );
    tmp
}

/// The local site's manifest (after a build or publish): path → sha256.
fn local_files(home: &Path) -> BTreeMap<String, String> {
    let m: Value =
        serde_json::from_slice(&std::fs::read(home.join("sg/site").join(MANIFEST)).unwrap())
            .unwrap();
    m["files"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v["sha256"].as_str().unwrap().to_string()))
        .collect()
}

/// `sharegen publish --bucket URL [--endpoint E] --json ARGS…` with the
/// given keys.
fn publish_cmd(
    home: &Path,
    url: &str,
    endpoint: Option<&str>,
    keys: (&str, &str),
    args: &[&str],
) -> assert_cmd::Command {
    let mut c = sharegen(home);
    s3::aws_env(&mut c, keys.0, keys.1);
    c.args(["publish", "--bucket", url, "--json"]);
    if let Some(e) = endpoint {
        c.args(["--endpoint", e]);
    }
    c.args(args);
    c
}

fn publish(home: &Path, url: &str, endpoint: Option<&str>, args: &[&str]) -> Value {
    let out = publish_cmd(home, url, endpoint, (ACCESS_KEY, SECRET_KEY), args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "publish to {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v[0].clone()
}

/// A publish that must fail: its stderr, and how long it took.
fn publish_err(
    home: &Path,
    url: &str,
    endpoint: Option<&str>,
    keys: (&str, &str),
) -> (String, Duration) {
    let start = Instant::now();
    let out = publish_cmd(home, url, endpoint, keys, &[])
        .output()
        .unwrap();
    let took = start.elapsed();
    assert!(!out.status.success(), "publish to {url} succeeded");
    (String::from_utf8_lossy(&out.stderr).into_owned(), took)
}

/// Starts a prepared command in the background, output piped.
fn spawn(c: &assert_cmd::Command) -> std::process::Child {
    let mut std = std::process::Command::new(c.get_program());
    std.args(c.get_args());
    for (k, v) in c.get_envs() {
        match v {
            Some(v) => std.env(k, v),
            None => std.env_remove(k),
        };
    }
    std.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

fn set(v: &[String]) -> BTreeSet<String> {
    v.iter().cloned().collect()
}

fn keys_under(prefix: &str, rels: impl IntoIterator<Item = impl AsRef<str>>) -> BTreeSet<String> {
    rels.into_iter()
        .map(|r| format!("{prefix}/{}", r.as_ref()))
        .collect()
}

/// The manifest in the bucket.
fn remote_manifest(store: &object_store::aws::AmazonS3, prefix: &str) -> Value {
    let o = s3::get(store, &format!("{prefix}/{MANIFEST}")).expect("a remote manifest");
    serde_json::from_slice(&o.bytes).unwrap()
}

/// Every file the remote manifest lists is in the bucket with that
/// sha256, Content-Type and Cache-Control. Returns the manifest.
fn check_consistent(store: &object_store::aws::AmazonS3, prefix: &str, headers: bool) -> Value {
    let m = remote_manifest(store, prefix);
    for (rel, e) in m["files"].as_object().unwrap() {
        let key = format!("{prefix}/{rel}");
        let o = s3::get(store, &key).unwrap_or_else(|| panic!("{key} is listed but missing"));
        assert_eq!(s3::sha256(&o.bytes), e["sha256"].as_str().unwrap(), "{key}");
        assert_eq!(o.bytes.len() as u64, e["size"].as_u64().unwrap(), "{key}");
        if headers {
            assert_eq!(o.content_type.as_deref(), Some(expected_type(rel)), "{key}");
            assert_eq!(o.cache_control.as_deref(), Some("no-cache"), "{key}");
        }
    }
    let o = s3::get(store, &format!("{prefix}/{MANIFEST}")).unwrap();
    if headers {
        assert_eq!(o.content_type.as_deref(), Some("application/json"));
        assert_eq!(o.cache_control.as_deref(), Some("no-cache"));
    }
    m
}

/// What a browser must be told for each file the site has.
fn expected_type(rel: &str) -> &'static str {
    if rel.ends_with(".html") {
        "text/html; charset=utf-8"
    } else if rel.ends_with(".json") {
        "application/json"
    } else if rel.ends_with(".txt") || rel.ends_with(".nojekyll") {
        "text/plain; charset=utf-8"
    } else {
        panic!("a site file of an unexpected kind: {rel}")
    }
}

fn shares_in(m: &Value) -> BTreeSet<String> {
    m["files"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(|e| e["share_id"].as_str().map(String::from))
        .collect()
}

/// PUTs of object keys (`/bucket/key` → `key`) in a recording.
fn puts(rec: &[s3::Request], bucket: &str) -> Vec<String> {
    rec.iter()
        .filter(|r| r.method == "PUT")
        .map(|r| {
            r.path
                .strip_prefix(&format!("/{bucket}/"))
                .unwrap()
                .to_string()
        })
        .collect()
}

fn is_site_wide(key: &str) -> bool {
    !key.contains("/s/") && !key.ends_with(MANIFEST)
}

#[test]
fn moto_first_publish_changes_unshare_and_foreign_keys() {
    let Some(server) = s3::moto() else { return };
    let home = home();
    let h = home.path();
    let a = share(h, IDEAS);
    let b = share(h, WORKTREES);
    server.create_bucket("site");
    let store = server.store("site");
    // Keys sharegen did not write: beside the site, inside a share's
    // folder, and outside the prefix.
    let foreign = [
        "pub/CNAME".to_string(),
        format!("pub/s/{a}/notes.txt"),
        "elsewhere/readme.txt".to_string(),
    ];
    for k in &foreign {
        s3::put(&store, k, b"not sharegen's");
    }
    let url = "s3://site/pub";
    let endpoint = server.endpoint();
    let ep = Some(endpoint.as_str());

    // 1. First publish: everything goes up, pages before site-wide files,
    //    the manifest last, created with If-None-Match.
    server.start_recording();
    let r = publish(h, url, ep, &[]);
    let rec = server.recorded();
    let local = local_files(h);
    assert_eq!(
        set(&strings(&r["uploaded"])),
        local.keys().cloned().collect()
    );
    assert_eq!(
        set(&strings(&r["changed_shares"])),
        BTreeSet::from([a.clone(), b.clone()])
    );
    let put_keys = puts(&rec, "site");
    let mut expected = keys_under("pub", local.keys());
    expected.insert(format!("pub/{MANIFEST}"));
    assert_eq!(put_keys.iter().cloned().collect::<BTreeSet<_>>(), expected);
    assert_eq!(
        put_keys.len(),
        expected.len(),
        "each file once: {put_keys:?}"
    );
    assert_eq!(put_keys.last().unwrap(), &format!("pub/{MANIFEST}"));
    let last_page = put_keys.iter().rposition(|k| k.contains("/s/")).unwrap();
    let first_wide = put_keys.iter().position(|k| is_site_wide(k)).unwrap();
    assert!(
        last_page < first_wide,
        "pages before site-wide files: {put_keys:?}"
    );
    let manifest_put = rec
        .iter()
        .find(|q| q.method == "PUT" && q.path.ends_with(MANIFEST))
        .unwrap();
    assert_eq!(
        manifest_put
            .headers
            .get("if-none-match")
            .map(String::as_str),
        Some("*")
    );
    assert!(
        !rec.iter()
            .any(|q| q.method == "DELETE" || q.method == "POST")
    );
    let m = check_consistent(&store, "pub", true);
    assert!(
        m["files"]
            .as_object()
            .unwrap()
            .values()
            .all(|e| e["publisher"].is_string())
    );
    let listed = s3::list(&store, "");
    for k in &foreign {
        assert!(listed.contains_key(k), "{k}");
    }
    assert_eq!(listed.len(), expected.len() + foreign.len());

    // 2. Nothing changed: one read, no write.
    server.start_recording();
    let r = publish(h, url, ep, &[]);
    assert_eq!(r["up_to_date"], true);
    let rec = server.recorded();
    assert_eq!(rec.len(), 1, "{rec:?}");
    assert_eq!(rec[0].method, "GET");
    assert_eq!(rec[0].path, format!("/site/pub/{MANIFEST}"));

    // 3. One share changes: its page (and its JSON), the index and the
    //    manifest go up, nothing else; one manifest read, no listing.
    let before = local_files(h);
    let old_etag = s3::list(&store, "pub")[&format!("pub/{MANIFEST}")]
        .e_tag
        .clone()
        .unwrap();
    append_prompt(
        h,
        IDEAS,
        "bucket-test-1",
        "one more question for the bucket",
    );
    server.start_recording();
    let r = publish(h, url, ep, &[]);
    let rec = server.recorded();
    let after = local_files(h);
    let changed: BTreeSet<String> = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .collect();
    let page = format!("s/{a}/index.html");
    assert!(
        changed.contains(&page) && changed.contains("index.html"),
        "{changed:?}"
    );
    let allowed = BTreeSet::from([
        page.clone(),
        format!("s/{a}/session.json"),
        "index.html".into(),
    ]);
    assert!(changed.is_subset(&allowed), "{changed:?}");
    assert_eq!(set(&strings(&r["uploaded"])), changed);
    assert_eq!(strings(&r["changed_shares"]), vec![a.clone()]);
    let mut expected = keys_under("pub", &changed);
    expected.insert(format!("pub/{MANIFEST}"));
    let put_keys = puts(&rec, "site");
    assert_eq!(put_keys.len(), expected.len(), "{put_keys:?}");
    assert_eq!(put_keys.into_iter().collect::<BTreeSet<_>>(), expected);
    let gets: Vec<&s3::Request> = rec.iter().filter(|q| q.method != "PUT").collect();
    assert_eq!(
        gets.len(),
        1,
        "one manifest read and nothing else: {gets:?}"
    );
    let manifest_put = rec
        .iter()
        .find(|q| q.method == "PUT" && q.path.ends_with(MANIFEST))
        .unwrap();
    assert_eq!(
        manifest_put
            .headers
            .get("if-match")
            .map(|s| s.trim_matches('"')),
        Some(old_etag.trim_matches('"')),
        "the manifest write is conditional on the version read"
    );
    check_consistent(&store, "pub", true);

    // 4. Unshare: the next publish deletes that share's objects, and only
    //    those (the foreign file in its folder stays).
    run_ok(h, &["unshare", &a]);
    let r = publish(h, url, ep, &[]);
    assert_eq!(
        set(&strings(&r["deleted"])),
        BTreeSet::from([page.clone(), format!("s/{a}/session.json")])
    );
    assert_eq!(strings(&r["removed_shares"]), vec![a.clone()]);
    let listed = s3::list(&store, "");
    assert!(!listed.contains_key(&format!("pub/{page}")));
    assert!(!listed.contains_key(&format!("pub/s/{a}/session.json")));
    assert!(listed.contains_key(&format!("pub/s/{b}/index.html")));
    for k in &foreign {
        assert!(listed.contains_key(k), "{k} survives");
        assert_eq!(s3::get(&store, k).unwrap().bytes, b"not sharegen's");
    }
    let m = check_consistent(&store, "pub", true);
    assert_eq!(shares_in(&m), BTreeSet::from([b.clone()]));
    assert!(!m["files"].as_object().unwrap().contains_key("CNAME"));
    let r = publish(h, url, ep, &[]);
    assert_eq!(r["up_to_date"], true);
}

#[test]
fn moto_dry_run_writes_nothing() {
    let Some(server) = s3::moto() else { return };
    let home = home();
    let h = home.path();
    let a = share(h, IDEAS);
    server.create_bucket("dry");
    let store = server.store("dry");
    let endpoint = server.endpoint();
    let ep = Some(endpoint.as_str());
    let r = publish(h, "s3://dry", ep, &["--dry-run"]);
    assert_eq!(r["dry_run"], true);
    assert_eq!(
        set(&strings(&r["uploaded"])),
        local_files(h).keys().cloned().collect()
    );
    assert!(s3::list(&store, "").is_empty(), "a dry run uploads nothing");
    // The bucket root (no prefix) works too.
    publish(h, "s3://dry", ep, &[]);
    let before = s3::list(&store, "");
    assert!(before.contains_key(MANIFEST) && before.contains_key(&format!("s/{a}/index.html")));
    append_prompt(h, IDEAS, "bucket-dry-1", "a change nobody publishes");
    run_ok(h, &["unshare", &a]);
    server.start_recording();
    let r = publish(h, "s3://dry", ep, &["--dry-run"]);
    let rec = server.recorded();
    assert!(rec.iter().all(|q| q.method == "GET"), "{rec:?}");
    assert!(strings(&r["deleted"]).contains(&format!("s/{a}/index.html")));
    let after = s3::list(&store, "");
    assert_eq!(
        before
            .iter()
            .map(|(k, m)| (k, &m.e_tag))
            .collect::<Vec<_>>(),
        after.iter().map(|(k, m)| (k, &m.e_tag)).collect::<Vec<_>>()
    );
}

/// Publisher A reads the manifest, uploads, and is held right before its
/// manifest write; meanwhile publisher B (another home, another share)
/// publishes to the same place. A's conditional write must fail, and A
/// must re-read, merge and write again: both shares survive. Done once
/// on an empty bucket (If-None-Match race) and once on an existing
/// manifest (If-Match race).
fn concurrent_writers(server: &Server, bucket: &str) {
    server.create_bucket(bucket);
    let store = server.store(bucket);
    let proxy = s3::PauseProxy::start(server.port);
    let direct = server.endpoint();
    let url = format!("s3://{bucket}/shared");
    let (home_a, home_b) = (home(), home());
    let (ha, hb) = (home_a.path(), home_b.path());
    let a = share(ha, IDEAS);
    let b = share(hb, WORKTREES);

    for round in 0..2 {
        if round == 1 {
            append_prompt(ha, IDEAS, "race-1", "A changes while B publishes");
        }
        proxy.arm();
        let child = spawn(&publish_cmd(
            ha,
            &url,
            Some(&proxy.endpoint()),
            (ACCESS_KEY, SECRET_KEY),
            &[],
        ));
        assert!(
            proxy.wait_held(Duration::from_secs(60)),
            "publisher A never wrote its manifest"
        );
        if round == 1 {
            let c = share(hb, SAMPLE);
            assert_ne!(c, b);
        }
        let rb = publish(hb, &url, Some(&direct), &[]);
        assert_eq!(rb["attempts"], 1);
        proxy.release();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "publisher A: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ra: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            ra[0]["attempts"], 2,
            "A lost the race once, then merged: {ra}"
        );
        let m = check_consistent(&store, "shared", server.kind == s3::Kind::Moto);
        let shares = shares_in(&m);
        assert!(
            shares.contains(&a) && shares.contains(&b),
            "round {round}: {shares:?}"
        );
        // Each share's pages are listed as written by its own publisher,
        // and A's entries match A's local site.
        let files = m["files"].as_object().unwrap();
        let pub_a = files[&format!("s/{a}/index.html")]["publisher"].clone();
        let pub_b = files[&format!("s/{b}/index.html")]["publisher"].clone();
        assert_ne!(pub_a, pub_b);
        for (rel, sha) in local_files(ha) {
            if rel.starts_with("s/") {
                assert_eq!(files[&rel]["sha256"], sha.as_str(), "{rel}");
            }
        }
        if round == 1 {
            assert_eq!(shares.len(), 3, "{shares:?}");
        }
    }
    // Each publisher still deletes only its own share.
    run_ok(ha, &["unshare", &a]);
    publish(ha, &url, Some(&direct), &[]);
    let m = check_consistent(&store, "shared", server.kind == s3::Kind::Moto);
    let shares = shares_in(&m);
    assert!(!shares.contains(&a) && shares.contains(&b), "{shares:?}");
    assert!(s3::get(&store, &format!("shared/s/{b}/index.html")).is_some());
    assert!(s3::get(&store, &format!("shared/s/{a}/index.html")).is_none());
}

#[test]
fn moto_concurrent_writer_is_detected_and_merged() {
    let Some(server) = s3::moto() else { return };
    concurrent_writers(&server, "race");
}

#[test]
fn moto_bad_credentials_fail_fast_and_clearly() {
    let Some(server) = s3::moto() else { return };
    server.create_bucket("locked");
    server.require_auth();
    let home = home();
    let h = home.path();
    share(h, IDEAS);
    let endpoint = server.endpoint();
    let secret = "do-not-print-this-secret-0123";
    let (err, took) = publish_err(h, "s3://locked/x", Some(&endpoint), ("AKIAUNKNOWN", secret));
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert!(err.contains("publishing to s3://locked/x"), "{err}");
    assert!(
        err.contains("access denied") && err.contains("InvalidAccessKeyId"),
        "{err}"
    );
    assert!(err.contains("AWS_ACCESS_KEY_ID"), "{err}");
    assert!(!err.contains(secret), "{err}");
}

#[test]
fn moto_missing_bucket_credentials_and_endpoint_errors() {
    let Some(server) = s3::moto() else { return };
    let home = home();
    let h = home.path();
    share(h, IDEAS);
    let endpoint = server.endpoint();
    let (err, _) = publish_err(
        h,
        "s3://nobucket/p",
        Some(&endpoint),
        (ACCESS_KEY, SECRET_KEY),
    );
    assert!(err.contains("bucket `nobucket` does not exist"), "{err}");
    // No keys at all, with an endpoint: an immediate, clear error (and no
    // detour through a cloud metadata service).
    let mut c = publish_cmd(h, "s3://nobucket/p", Some(&endpoint), ("", ""), &[]);
    c.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY");
    let start = Instant::now();
    let out = c.output().unwrap();
    assert!(!out.status.success());
    assert!(start.elapsed() < Duration::from_secs(10));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no credentials") && err.contains("AWS_ACCESS_KEY_ID"),
        "{err}"
    );
    // Nobody listening: a quick failure that names the endpoint.
    let dead = format!("http://127.0.0.1:{}", {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    });
    let (err, took) = publish_err(h, "s3://b/p", Some(&dead), (ACCESS_KEY, SECRET_KEY));
    assert!(err.contains(&format!("cannot reach {dead}")), "{err}");
    assert!(took < Duration::from_secs(15), "took {took:?}");
    // A profile from ~/.aws works like the variables.
    std::fs::create_dir_all(h.join(".aws")).unwrap();
    std::fs::write(
        h.join(".aws/credentials"),
        format!("[sharegen-test]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"),
    )
    .unwrap();
    server.create_bucket("viaprofile");
    let mut c = publish_cmd(h, "s3://viaprofile/p", Some(&endpoint), ("", ""), &[]);
    c.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("AWS_PROFILE", "sharegen-test");
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(s3::get(&server.store("viaprofile"), &format!("p/{MANIFEST}")).is_some());
}

#[test]
fn s3s_fs_checks_signatures_and_conditional_writes() {
    let Some(server) = s3::s3s_fs() else { return };
    let home = home();
    let h = home.path();
    let a = share(h, IDEAS);
    share(h, WORKTREES);
    server.create_bucket("sigs");
    let store = server.store("sigs");
    let endpoint = server.endpoint();
    let ep = Some(endpoint.as_str());
    // A wrong secret: refused by the signature check, clearly.
    let secret = "wrong-secret-never-printed";
    let (err, took) = publish_err(h, "s3://sigs/site", ep, (ACCESS_KEY, secret));
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert!(
        err.contains("SignatureDoesNotMatch") && err.contains("AWS_SECRET_ACCESS_KEY"),
        "{err}"
    );
    assert!(!err.contains(secret), "{err}");
    // The right one: the same flow as on moto.
    let r = publish(h, "s3://sigs/site", ep, &[]);
    assert_eq!(
        set(&strings(&r["uploaded"])),
        local_files(h).keys().cloned().collect()
    );
    check_consistent(&store, "site", true);
    s3::put(&store, "site/CNAME", b"mine");
    let before = local_files(h);
    append_prompt(h, IDEAS, "s3s-1", "a change for s3s-fs");
    let r = publish(h, "s3://sigs/site", ep, &[]);
    let after = local_files(h);
    let changed: BTreeSet<String> = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .collect();
    assert_eq!(set(&strings(&r["uploaded"])), changed);
    assert_eq!(r["attempts"], 1);
    check_consistent(&store, "site", true);
    run_ok(h, &["unshare", &a]);
    publish(h, "s3://sigs/site", ep, &[]);
    let m = check_consistent(&store, "site", true);
    assert!(!shares_in(&m).contains(&a));
    assert!(s3::get(&store, &format!("site/s/{a}/index.html")).is_none());
    assert_eq!(s3::get(&store, "site/CNAME").unwrap().bytes, b"mine");
    // And a race, with signed requests through the proxy.
    concurrent_writers(&server, "sigrace");
}

fn file_url(dir: &Path) -> String {
    format!("file://{}", dir.display())
}

/// `file://` target: the folder holds the site byte for byte.
fn assert_folder_matches(out: &Path, home: &Path) {
    let local = local_files(home);
    for (rel, sha) in &local {
        let bytes = std::fs::read(out.join(rel)).unwrap_or_else(|_| panic!("{rel}"));
        assert_eq!(&s3::sha256(&bytes), sha, "{rel}");
    }
    let m: Value = serde_json::from_slice(&std::fs::read(out.join(MANIFEST)).unwrap()).unwrap();
    let listed: BTreeSet<String> = m["files"].as_object().unwrap().keys().cloned().collect();
    assert!(local.keys().all(|k| listed.contains(k)));
}

#[test]
fn file_target_syncs_a_folder() {
    let home = home();
    let h = home.path();
    let a = share(h, IDEAS);
    let b = share(h, WORKTREES);
    let dest = tempfile::tempdir().unwrap();
    let out: PathBuf = dest.path().join("www");
    let url = file_url(&out);
    std::fs::create_dir_all(out.join(format!("s/{a}"))).unwrap();
    std::fs::write(out.join("CNAME"), "shares.example.org\n").unwrap();
    std::fs::write(out.join(format!("s/{a}/keep.txt")), "mine").unwrap();

    // A dry run into a folder that does not exist yet creates nothing.
    let fresh = dest.path().join("not-yet");
    let r = publish(h, &file_url(&fresh), None, &["--dry-run"]);
    assert_eq!(r["dry_run"], true);
    assert_eq!(
        set(&strings(&r["uploaded"])),
        local_files(h).keys().cloned().collect()
    );
    assert!(!fresh.exists());

    let r = publish(h, &url, None, &[]);
    assert_eq!(
        set(&strings(&r["uploaded"])),
        local_files(h).keys().cloned().collect()
    );
    assert_folder_matches(&out, h);
    assert!(!out.join(format!("{MANIFEST}.lock")).exists());
    assert_eq!(publish(h, &url, None, &[])["up_to_date"], true);

    // A lock left behind by a killed publish long ago is taken over.
    append_prompt(h, IDEAS, "file-1", "a change for the folder");
    let lock = out.join(format!("{MANIFEST}.lock"));
    std::fs::write(&lock, "{}").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&lock)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - Duration::from_secs(3600))
        .unwrap();
    let r = publish(h, &url, None, &[]);
    assert!(
        strings(&r["warnings"])
            .iter()
            .any(|w| w.contains("abandoned lock")),
        "{r}"
    );
    assert!(strings(&r["uploaded"]).contains(&format!("s/{a}/index.html")));
    assert!(!lock.exists());
    assert_folder_matches(&out, h);

    run_ok(h, &["unshare", &a]);
    let r = publish(h, &url, None, &["--prefix", ""]);
    assert!(strings(&r["deleted"]).contains(&format!("s/{a}/index.html")));
    assert!(!out.join(format!("s/{a}/index.html")).exists());
    assert!(!out.join(format!("s/{a}/session.json")).exists());
    assert_eq!(
        std::fs::read_to_string(out.join(format!("s/{a}/keep.txt"))).unwrap(),
        "mine"
    );
    assert!(out.join("CNAME").exists());
    assert!(out.join(format!("s/{b}/index.html")).exists());
    assert_folder_matches(&out, h);
}

/// Two publishers racing into one folder many times: the lock keeps both
/// of their shares every time.
#[test]
fn file_target_concurrent_publishers_keep_each_others_shares() {
    let dest = tempfile::tempdir().unwrap();
    let out = dest.path().join("www");
    let url = file_url(&out);
    let (home_a, home_b) = (home(), home());
    let a = share(home_a.path(), IDEAS);
    let b = share(home_b.path(), WORKTREES);
    for i in 0..3 {
        append_prompt(home_a.path(), IDEAS, &format!("fa-{i}"), "a");
        append_prompt(home_b.path(), WORKTREES, &format!("fb-{i}"), "b");
        let (ca, cb) = (
            spawn(&publish_cmd(home_a.path(), &url, None, ("", ""), &[])),
            spawn(&publish_cmd(home_b.path(), &url, None, ("", ""), &[])),
        );
        for c in [ca, cb] {
            let o = c.wait_with_output().unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
        let m: Value = serde_json::from_slice(&std::fs::read(out.join(MANIFEST)).unwrap()).unwrap();
        let shares = shares_in(&m);
        assert!(shares.contains(&a) && shares.contains(&b), "{shares:?}");
        // The index lists both publishers' shares, whoever wrote last.
        let index = std::fs::read_to_string(out.join("index.html"))
            .unwrap()
            .replace("&#x2f;", "/");
        for id in [&a, &b] {
            assert!(index.contains(&format!("href=\"s/{id}/\"")), "{index}");
        }
        for (rel, e) in m["files"].as_object().unwrap() {
            if rel.starts_with("s/") {
                let bytes = std::fs::read(out.join(rel)).unwrap();
                assert_eq!(s3::sha256(&bytes), e["sha256"].as_str().unwrap(), "{rel}");
            }
        }
    }
}

#[test]
fn moto_index_lists_every_publishers_shares() {
    let Some(server) = s3::moto() else { return };
    server.create_bucket("team");
    let store = server.store("team");
    let endpoint = server.endpoint();
    let ep = Some(endpoint.as_str());
    let (home_a, home_b) = (home(), home());
    let a = share(home_a.path(), IDEAS);
    let b = share(home_b.path(), WORKTREES);
    let url = "s3://team/archive";
    publish(home_a.path(), url, ep, &[]);
    publish(home_b.path(), url, ep, &[]);
    let index = || {
        String::from_utf8(s3::get(&store, "archive/index.html").unwrap().bytes)
            .unwrap()
            .replace("&#x2f;", "/")
    };
    for id in [&a, &b] {
        assert!(
            index().contains(&format!("href=\"s/{id}/\"")),
            "{}",
            index()
        );
    }
    // An unshare removes the row; the other publisher's next publish
    // neither brings it back nor rewrites anything.
    let out = sharegen(home_a.path())
        .args(["unshare", &a])
        .output()
        .unwrap();
    assert!(out.status.success());
    publish(home_a.path(), url, ep, &[]);
    assert!(!index().contains(&format!("s/{a}/")), "{}", index());
    let r = publish(home_b.path(), url, ep, &[]);
    assert_eq!(r["up_to_date"], true, "{r}");
    assert!(!index().contains(&format!("s/{a}/")), "{}", index());
    assert!(index().contains(&format!("href=\"s/{b}/\"")), "{}", index());
}

/// On AWS proper (no endpoint) without keys, the instance metadata
/// service is the last resort; where it does not answer, the error comes
/// within seconds and says what to set. (The metadata endpoint is moved to
/// a closed local port, so nothing leaves the machine.)
#[test]
fn no_keys_and_no_instance_metadata_fail_within_seconds() {
    let home = home();
    let h = home.path();
    share(h, IDEAS);
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut c = publish_cmd(h, "s3://some-bucket/p", None, ("", ""), &[]);
    c.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_EC2_METADATA_DISABLED")
        .env("AWS_METADATA_ENDPOINT", format!("http://127.0.0.1:{dead}"));
    let start = Instant::now();
    let out = c.output().unwrap();
    let took = start.elapsed();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(took < Duration::from_secs(10), "took {took:?}: {err}");
    assert!(
        err.contains("no credentials found") && err.contains("AWS_ACCESS_KEY_ID"),
        "{err}"
    );
    // AWS_EC2_METADATA_DISABLED=true skips the lookup altogether.
    let mut c = publish_cmd(h, "s3://some-bucket/p", None, ("", ""), &[]);
    c.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("AWS_METADATA_ENDPOINT", format!("http://127.0.0.1:{dead}"));
    let out = c.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("AWS_EC2_METADATA_DISABLED"), "{err}");
}

#[test]
fn bad_targets_are_refused_before_any_request() {
    let home = home();
    let h = home.path();
    share(h, IDEAS);
    for (url, needle) in [
        ("ftp://x/y", "unknown bucket scheme"),
        ("file://relative/dir", "absolute path"),
        ("s3://b/../up", "not a usable prefix"),
    ] {
        let (err, _) = publish_err(h, url, None, (ACCESS_KEY, SECRET_KEY));
        assert!(err.contains(needle), "{url}: {err}");
    }
}
