//! Bucket publish benchmark: one change into a bucket that holds 10,000
//! shares, against moto's S3 server on 127.0.0.1.
//!
//! The target: publishing one change takes one manifest read,
//! O(changed) PUTs and one manifest write, whatever the bucket holds.
//!
//! 1. A synthetic site folder: 10,000 shares (`s/<id>/index.html` ~2 KB
//!    and `s/<id>/session.json` ~1 KB), an index listing them all, `404.html`,
//!    `robots.txt`, `.nojekyll`, and its `sharegen-manifest.json`
//!    (`LocalSite::open` needs nothing else).
//! 2. Seeding: the publisher uploads all of it once (timed, info).
//! 3. Scenarios, each once with moto's request recorder on (the request
//!    counts, checked) and then several times without it (timed):
//!    - `noop`: nothing changed;
//!    - `one_change`: one share's page and JSON and the index change;
//!    - `one_unshare`: one share disappears (index changes, two deletes),
//!      then comes back (so the next run has one to remove again).
//!
//! The publisher is called through the library
//! (`sharegen::publish::bucket::publish`), in this process.
//!
//! Prints a table and writes `target/bench-results/publish_bucket.json`.
//! Without moto (`python3 -c 'import moto'` fails) it prints a note and
//! exits 0.
//!
//! Environment:
//! - `SHAREGEN_BENCH_BUCKET_SHARES` (default 10000): shares in the bucket.
//! - `SHAREGEN_BENCH_RUNS` (default 5): timed runs per scenario.
//! - `SHAREGEN_BENCH_RESULTS`: where results go.

#[path = "common/mod.rs"]
mod common;
#[path = "../tests/common/s3.rs"]
mod s3;

use chrono::{SecondsFormat, Utc};
use common::{env_or, median_of, metric, min_of, write_results};
use serde_json::json;
use sharegen::diag::Diag;
use sharegen::publish::bucket::{self, BucketTarget};
use sharegen::publish::{LocalSite, PublishOptions, PublishReport};
use sharegen::site::{MANIFEST, MANIFEST_VERSION, Manifest, ManifestEntry};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

const BUCKET: &str = "bench";
const PREFIX: &str = "shares";

fn sha(b: &[u8]) -> String {
    s3::sha256(b)
}

fn share_id(i: usize) -> String {
    format!("b{i:07}")
}

/// The synthetic site: pages carry a revision number so a share can be
/// changed by rewriting it.
struct Site {
    root: std::path::PathBuf,
    manifest: Manifest,
    revisions: BTreeMap<usize, u32>,
    shares: usize,
    removed: Option<usize>,
}

impl Site {
    fn new(root: &Path, shares: usize) -> Site {
        let mut s = Site {
            root: root.to_path_buf(),
            manifest: Manifest {
                version: MANIFEST_VERSION,
                generator: "bench".into(),
                files: BTreeMap::new(),
            },
            revisions: BTreeMap::new(),
            shares,
            removed: None,
        };
        for i in 0..shares {
            s.write_share(i, 0);
        }
        s.write(
            "404.html",
            b"<!doctype html><title>Not found</title>".to_vec(),
            None,
        );
        s.write("robots.txt", b"User-agent: *\nDisallow: /\n".to_vec(), None);
        s.write(".nojekyll", Vec::new(), None);
        s.write_index();
        s
    }

    fn write(&mut self, rel: &str, bytes: Vec<u8>, share: Option<&str>) {
        let path = self.root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &bytes).unwrap();
        self.manifest.files.insert(
            rel.to_string(),
            ManifestEntry {
                sha256: sha(&bytes),
                size: bytes.len() as u64,
                share_id: share.map(String::from),
                publisher: None,
                row: None,
            },
        );
    }

    fn write_share(&mut self, i: usize, rev: u32) {
        let id = share_id(i);
        let filler = "lorem ipsum dolor sit amet ".repeat(64);
        let page = format!(
            "<!doctype html><html><head><meta charset=utf-8><title>Session {id}</title></head>\
             <body><h1>Session {id} (revision {rev})</h1><p>{filler}</p></body></html>\n"
        );
        let json = format!(
            "{{\"share_id\":\"{id}\",\"revision\":{rev},\"text\":\"{}\"}}\n",
            &filler[..900]
        );
        self.write(&format!("s/{id}/index.html"), page.into_bytes(), Some(&id));
        self.write(
            &format!("s/{id}/session.json"),
            json.into_bytes(),
            Some(&id),
        );
        self.revisions.insert(i, rev);
    }

    fn write_index(&mut self) {
        let mut html = String::from("<!doctype html><html><body><main><ul>\n");
        for (i, rev) in &self.revisions {
            let id = share_id(*i);
            html.push_str(&format!(
                "<li><a href=\"s/{id}/\">Session {id}</a> rev {rev}</li>\n"
            ));
        }
        html.push_str("</ul></main></body></html>\n");
        self.write("index.html", html.into_bytes(), None);
    }

    /// Changes one share (round robin): its page, its JSON and the index.
    fn change_one(&mut self, n: usize) {
        let i = (n * 7919) % self.shares;
        let rev = self.revisions.get(&i).copied().unwrap_or(0) + 1;
        self.write_share(i, rev);
        self.write_index();
        self.save();
    }

    /// Removes one share, or brings the removed one back.
    fn toggle_one(&mut self) {
        match self.removed.take() {
            Some(i) => self.write_share(i, 0),
            None => {
                let i = self.shares / 2;
                let id = share_id(i);
                std::fs::remove_dir_all(self.root.join(format!("s/{id}"))).unwrap();
                self.manifest
                    .files
                    .retain(|_, e| e.share_id.as_deref() != Some(id.as_str()));
                self.revisions.remove(&i);
                self.removed = Some(i);
            }
        }
        self.write_index();
        self.save();
    }

    fn save(&self) {
        let mut b = serde_json::to_vec_pretty(&self.manifest).unwrap();
        b.push(b'\n');
        std::fs::write(self.root.join(MANIFEST), b).unwrap();
    }
}

fn run(site_root: &Path, target: &BucketTarget) -> (f64, PublishReport) {
    let mut site = LocalSite::open(site_root).unwrap();
    let opts = PublishOptions {
        dry_run: false,
        publisher: "bench-publisher".into(),
        progress: false,
        index: None,
    };
    let start = Instant::now();
    let report = bucket::publish(&mut site, target, &opts, &Diag::silent()).unwrap();
    (start.elapsed().as_secs_f64(), report)
}

/// Request counts of one recorded publish.
#[derive(Debug, Default, Clone, serde::Serialize)]
struct Counts {
    total: usize,
    manifest_get: usize,
    manifest_put: usize,
    object_put: usize,
    delete_requests: usize,
    other: usize,
}

fn count(rec: &[s3::Request]) -> Counts {
    let mut c = Counts {
        total: rec.len(),
        ..Counts::default()
    };
    for r in rec {
        let manifest = r.path.ends_with(MANIFEST);
        match (r.method.as_str(), manifest) {
            ("GET", true) => c.manifest_get += 1,
            ("PUT", true) => c.manifest_put += 1,
            ("PUT", false) => c.object_put += 1,
            ("DELETE", _) => c.delete_requests += 1,
            ("POST", false) if r.query.contains("delete") => c.delete_requests += 1,
            _ => c.other += 1,
        }
    }
    c
}

fn main() {
    if !s3::moto_installed() {
        println!("publish_bucket: moto is not installed (pip install \"moto[server]\"); skipping");
        return;
    }
    let shares: usize = env_or("SHAREGEN_BENCH_BUCKET_SHARES", "10000")
        .parse()
        .unwrap_or(10_000)
        .max(2);
    let runs: usize = env_or("SHAREGEN_BENCH_RUNS", "5")
        .parse()
        .unwrap_or(5)
        .max(1);
    // Before any thread exists: the publisher reads its keys from here.
    for (k, v) in [
        ("AWS_ACCESS_KEY_ID", s3::ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", s3::SECRET_KEY),
        ("AWS_REGION", s3::REGION),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ] {
        // SAFETY: single-threaded so far; nothing reads the environment
        // concurrently.
        unsafe { std::env::set_var(k, v) };
    }
    for k in ["AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"] {
        // SAFETY: as above.
        unsafe { std::env::remove_var(k) };
    }
    let server = s3::moto().expect("moto");
    server.create_bucket(BUCKET);
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("site");
    let t0 = Instant::now();
    let mut site = Site::new(&root, shares);
    site.save();
    let site_secs = t0.elapsed().as_secs_f64();
    let files = site.manifest.files.len();
    let target = BucketTarget {
        url: format!("s3://{BUCKET}/{PREFIX}"),
        prefix: None,
        endpoint: Some(server.endpoint()),
        region: None,
    };
    println!("publish_bucket: {shares} shares, {files} files (site written in {site_secs:.2} s)");

    let (seed_secs, seed) = run(&root, &target);
    assert_eq!(seed.uploaded.len(), files);
    let manifest_bytes = s3::get(&server.store(BUCKET), &format!("{PREFIX}/{MANIFEST}"))
        .unwrap()
        .bytes
        .len();
    println!(
        "seed: {files} files in {seed_secs:.1} s ({:.0} files/s); manifest {:.2} MB",
        files as f64 / seed_secs,
        manifest_bytes as f64 / 1e6
    );

    let mut metrics = serde_json::Map::new();
    let mut details = serde_json::Map::new();
    let mut change_n = 0;
    type Step = fn(&mut Site, &mut usize);
    let scenarios: [(&str, Step, Counts); 3] = [
        (
            "noop",
            |_, _| {},
            Counts {
                total: 1,
                manifest_get: 1,
                ..Counts::default()
            },
        ),
        (
            "one_change",
            |s, n| {
                *n += 1;
                s.change_one(*n)
            },
            Counts {
                total: 5,
                manifest_get: 1,
                manifest_put: 1,
                object_put: 3,
                ..Counts::default()
            },
        ),
        ("one_unshare", |s, _| s.toggle_one(), Counts::default()),
    ];
    let name = format!("publish_bucket_{shares}");
    println!(
        "{:<12} {:>9} {:>9} {:>8} {:>5} {:>5} {:>5} {:>6}",
        "scenario", "min s", "median s", "requests", "GETm", "PUTm", "PUT", "DELETE"
    );
    for (scenario, step, expected) in scenarios {
        // One recorded run: the request counts.
        step(&mut site, &mut change_n);
        server.start_recording();
        let (_, report) = run(&root, &target);
        let c = count(&server.recorded());
        match scenario {
            "noop" => assert!(report.up_to_date),
            "one_change" => assert_eq!(report.uploaded.len(), 3, "{report:?}"),
            _ => {}
        }
        if scenario == "one_unshare" {
            // Remove: index PUT + 2 deletes (one bulk request); add back:
            // 2 page PUTs + index PUT. Either way one read, one write.
            assert_eq!(
                (c.manifest_get, c.manifest_put, c.other),
                (1, 1, 0),
                "{c:?}"
            );
            assert!(c.object_put <= 3 && c.delete_requests <= 1, "{c:?}");
        } else {
            assert_eq!(
                (
                    c.total,
                    c.manifest_get,
                    c.manifest_put,
                    c.object_put,
                    c.other
                ),
                (
                    expected.total,
                    expected.manifest_get,
                    expected.manifest_put,
                    expected.object_put,
                    0
                ),
                "{scenario}: {c:?}"
            );
        }
        // Timed runs without the recorder.
        let mut times = Vec::new();
        for _ in 0..runs {
            step(&mut site, &mut change_n);
            let (secs, report) = run(&root, &target);
            if scenario != "noop" {
                assert!(!report.up_to_date);
            }
            times.push(secs);
        }
        println!(
            "{:<12} {:>9.3} {:>9.3} {:>8} {:>5} {:>5} {:>5} {:>6}",
            scenario,
            min_of(&times),
            median_of(&times),
            c.total,
            c.manifest_get,
            c.manifest_put,
            c.object_put,
            c.delete_requests
        );
        metric(
            &mut metrics,
            &format!("{name}.{scenario}_min_s"),
            min_of(&times),
            "s",
            None,
            false,
        );
        metric(
            &mut metrics,
            &format!("{name}.{scenario}_median_s"),
            median_of(&times),
            "s",
            None,
            false,
        );
        metric(
            &mut metrics,
            &format!("{name}.{scenario}_requests"),
            c.total as f64,
            "requests",
            None,
            false,
        );
        details.insert(
            scenario.to_string(),
            json!({ "requests": c, "times_s": times }),
        );
    }
    metric(
        &mut metrics,
        &format!("{name}.seed_s"),
        seed_secs,
        "s",
        None,
        false,
    );
    let out = json!({
        "bench": "publish_bucket",
        "recorded": Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
        "cpus": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "metrics": metrics,
        "details": {
            "shares": shares,
            "files": files,
            "manifest_bytes": manifest_bytes,
            "server": "moto (python3 -m moto.server)",
            "runs": runs,
            "scenarios": details,
        },
    });
    let path = write_results("publish_bucket", &out);
    println!("results: {}", path.display());
}
