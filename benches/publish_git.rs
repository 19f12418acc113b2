//! Git publish benchmark: one changed share into a branch that already
//! holds 10,000 shares, through the library's git publisher
//! (`sharegen::publish::git::publish`) into a bare repository on local disk
//! (so the network is excluded; the fetch and push still run, over the
//! local transport).
//!
//! 1. A synthetic built site: N shares, each `s/<id>/index.html` (~16 KB)
//!    and `s/<id>/session.json` (~4 KB), plus the site-wide files and
//!    `sharegen-manifest.json` with the real sha256 of every file.
//! 2. The first publish (timed once, for information).
//! 3. Several times: one share's page, its JSON, the index and the
//!    manifest change; publish (timed). Checks that exactly those paths
//!    changed between the two commits, and counts the objects the remote
//!    gained (loose plus packed), which must be only the changed objects.
//! 4. An unchanged publish (timed): no commit.
//!
//! Prints a table and writes `target/bench-results/publish_git.json`.
//! Exits 1 when a check fails.
//!
//! Environment: `SHAREGEN_BENCH_PUBLISH_SHARES` (default 10000),
//! `SHAREGEN_BENCH_PUBLISH_RUNS` (default 5), `SHAREGEN_BENCH_RESULTS`,
//! `SHAREGEN_BENCH_KEEP` (keep the folders; prints where).

mod common;

use common::{env_or, median_of, metric, min_of, write_results};
use serde_json::json;
use sha2::{Digest, Sha256};
use sharegen::cli::History;
use sharegen::diag::Diag;
use sharegen::publish::git::{GitTarget, publish};
use sharegen::publish::{LocalSite, PublishOptions};
use sharegen::site::{MANIFEST, Manifest, ManifestEntry};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

fn hex(b: &[u8]) -> String {
    let d = Sha256::digest(b);
    d.iter().map(|x| format!("{x:02x}")).collect()
}

fn write(root: &Path, m: &mut Manifest, rel: &str, bytes: &[u8], share: Option<&str>) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, bytes).unwrap();
    m.files.insert(
        rel.to_string(),
        ManifestEntry {
            sha256: hex(bytes),
            size: bytes.len() as u64,
            share_id: share.map(String::from),
            publisher: None,
            row: None,
        },
    );
}

fn page(id: &str, version: usize) -> Vec<u8> {
    let mut s = format!("<!doctype html><title>{id} v{version}</title><main>");
    let mut i = 0;
    while s.len() < 16_000 {
        s.push_str(&format!(
            "<p>message {i} of share {id}, version {version}</p>\n"
        ));
        i += 1;
    }
    s.push_str("</main>");
    s.into_bytes()
}

fn session_json(id: &str, version: usize) -> Vec<u8> {
    let mut s = format!("{{\"share_id\":\"{id}\",\"version\":{version},\"messages\":[");
    let mut i = 0;
    while s.len() < 4_000 {
        s.push_str(&format!("{{\"role\":\"user\",\"text\":\"prompt {i}\"}},"));
        i += 1;
    }
    s.push_str("{}]}");
    s.into_bytes()
}

fn id_of(i: usize) -> String {
    format!("{:010}", i * 7919 % 9_999_999_967)
        .chars()
        .map(|c| (b'a' + (c as u8 - b'0')) as char)
        .collect()
}

fn index(ids: &[String], version: usize) -> Vec<u8> {
    let mut s = format!("<!doctype html><title>index v{version}</title><ul>");
    for id in ids {
        s.push_str(&format!("<li><a href=\"s/{id}/\">{id}</a></li>"));
    }
    s.push_str("</ul>");
    s.into_bytes()
}

fn save_manifest(root: &Path, m: &Manifest) {
    let mut b = serde_json::to_vec_pretty(m).unwrap();
    b.push(b'\n');
    std::fs::write(root.join(MANIFEST), b).unwrap();
}

fn objects(repo: &Path) -> u64 {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(repo)
        .args(["count-objects", "-v"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(": ")?;
            matches!(k, "count" | "in-pack").then(|| v.trim().parse::<u64>().ok())?
        })
        .sum()
}

fn changed_paths(repo: &Path, a: &str, b: &str) -> Vec<String> {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(repo)
        .args(["diff", "--name-only", a, b])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect()
}

fn main() {
    let n: usize = env_or("SHAREGEN_BENCH_PUBLISH_SHARES", "10000")
        .parse()
        .unwrap();
    let runs: usize = env_or("SHAREGEN_BENCH_PUBLISH_RUNS", "5").parse().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    let remote = tmp.path().join("remote.git");
    let cache = tmp.path().join("cache");
    let out = Command::new("git")
        .args(["init", "--bare", "-q"])
        .arg(&remote)
        .output()
        .unwrap();
    assert!(out.status.success());

    let ids: Vec<String> = (0..n).map(id_of).collect();
    let mut m = Manifest {
        version: 1,
        generator: "bench".into(),
        files: BTreeMap::new(),
    };
    let t = Instant::now();
    for id in &ids {
        write(
            &site,
            &mut m,
            &format!("s/{id}/index.html"),
            &page(id, 0),
            Some(id),
        );
        write(
            &site,
            &mut m,
            &format!("s/{id}/session.json"),
            &session_json(id, 0),
            Some(id),
        );
    }
    write(&site, &mut m, "index.html", &index(&ids, 0), None);
    write(
        &site,
        &mut m,
        "404.html",
        b"<!doctype html><p>not here</p>",
        None,
    );
    write(&site, &mut m, ".nojekyll", b"", None);
    write(
        &site,
        &mut m,
        "robots.txt",
        b"User-agent: *\nDisallow: /\n",
        None,
    );
    save_manifest(&site, &m);
    let generate_s = t.elapsed().as_secs_f64();

    let target = GitTarget {
        url: remote.display().to_string(),
        branch: "gh-pages".into(),
        prefix: None,
        history: History::Keep,
        message: None,
        git_cli: false,
    };
    let opts = PublishOptions {
        dry_run: false,
        publisher: "bench".into(),
        progress: false,
        index: None,
    };
    let diag = Diag::silent();
    let t = Instant::now();
    let first = publish(
        &mut LocalSite::open(&site).unwrap(),
        &target,
        &cache,
        &opts,
        &diag,
    )
    .unwrap();
    let first_s = t.elapsed().as_secs_f64();
    assert_eq!(first.uploaded.len(), 2 * n + 4);
    let mut last = first.commit.clone().unwrap();

    let mut times = Vec::new();
    let mut added = Vec::new();
    let mut failures = Vec::new();
    for r in 0..runs {
        let id = &ids[(r * 977) % n];
        write(
            &site,
            &mut m,
            &format!("s/{id}/index.html"),
            &page(id, r + 1),
            Some(id),
        );
        write(
            &site,
            &mut m,
            &format!("s/{id}/session.json"),
            &session_json(id, r + 1),
            Some(id),
        );
        write(&site, &mut m, "index.html", &index(&ids, r + 1), None);
        save_manifest(&site, &m);
        let before = objects(&remote);
        let t = Instant::now();
        let report = publish(
            &mut LocalSite::open(&site).unwrap(),
            &target,
            &cache,
            &opts,
            &diag,
        )
        .unwrap();
        times.push(t.elapsed().as_secs_f64());
        added.push((objects(&remote) - before) as f64);
        let commit = report.commit.clone().unwrap();
        let mut changed = changed_paths(&remote, &last, &commit);
        changed.sort();
        let mut want = vec![
            "index.html".to_string(),
            format!("s/{id}/index.html"),
            format!("s/{id}/session.json"),
            MANIFEST.to_string(),
        ];
        want.sort();
        if changed != want {
            failures.push(format!("run {r}: changed {changed:?}, expected {want:?}"));
        }
        last = commit;
    }
    let t = Instant::now();
    let noop = publish(
        &mut LocalSite::open(&site).unwrap(),
        &target,
        &cache,
        &opts,
        &diag,
    )
    .unwrap();
    let noop_s = t.elapsed().as_secs_f64();
    if !noop.up_to_date || noop.commit.is_some() {
        failures.push("an unchanged publish committed".into());
    }
    // Changed: 3 blobs + the manifest, trees s/<id>, s, root, and a commit.
    let max_added = added.iter().copied().fold(0.0, f64::max);
    if max_added > 10.0 {
        failures.push(format!("a one-share publish pushed {max_added} objects"));
    }

    let mut metrics = serde_json::Map::new();
    metric(
        &mut metrics,
        "publish_git.one_change_median_s",
        median_of(&times),
        "s",
        Some(1.0),
        true,
    );
    metric(
        &mut metrics,
        "publish_git.one_change_min_s",
        min_of(&times),
        "s",
        None,
        false,
    );
    metric(
        &mut metrics,
        "publish_git.unchanged_s",
        noop_s,
        "s",
        Some(1.0),
        true,
    );
    metric(
        &mut metrics,
        "publish_git.first_publish_s",
        first_s,
        "s",
        None,
        false,
    );
    metric(
        &mut metrics,
        "publish_git.objects_pushed_max",
        max_added,
        "objects",
        Some(10.5),
        false,
    );
    println!(
        "git publish, {n} shares ({runs} one-share publishes; site generated in {generate_s:.2} s)"
    );
    println!("  first publish (all {} files): {first_s:.3} s", 2 * n + 4);
    println!(
        "  one changed share: median {:.3} s, min {:.3} s, objects pushed {:?}",
        median_of(&times),
        min_of(&times),
        added
    );
    println!("  unchanged: {noop_s:.3} s");
    let path = write_results(
        "publish_git",
        &json!({ "shares": n, "runs": runs, "times_s": times, "objects_added": added,
                 "failures": failures, "metrics": metrics }),
    );
    println!("results: {}", path.display());
    if std::env::var_os("SHAREGEN_BENCH_KEEP").is_some() {
        let kept = tmp.keep();
        println!("kept: {}", kept.display());
    }
    if !failures.is_empty() {
        for f in &failures {
            eprintln!("FAIL: {f}");
        }
        std::process::exit(1);
    }
}
