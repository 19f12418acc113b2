//! Local S3 servers for the bucket publisher's tests and bench, started
//! and stopped by the harness on 127.0.0.1: moto's server mode (always;
//! the tests fail without it unless `SHAREGEN_SKIP_S3=1`) and s3s-fs
//! (when installed; it checks request signatures). Also: an
//! `object_store` client to look at what was published, a minimal HTTP
//! client for moto's own API, and a proxy that can hold one manifest
//! write back (to stage a race).
#![allow(dead_code)]

use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{Attribute, ObjectMeta, ObjectStore, ObjectStoreExt};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

pub const ACCESS_KEY: &str = "AKIASHAREGENTEST";
pub const SECRET_KEY: &str = "sharegen-test-secret-key-0123456789";
pub const REGION: &str = "us-east-1";

/// Whether S3 tests may be skipped when their server is missing.
pub fn skip_allowed() -> bool {
    std::env::var("SHAREGEN_SKIP_S3").is_ok_and(|v| v == "1")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Moto,
    S3sFs,
}

/// A running S3 server; stopped when dropped.
pub struct Server {
    child: Child,
    pub kind: Kind,
    pub port: u16,
    /// s3s-fs: its data folder (a bucket is a sub-folder). moto: where its
    /// request recording and log go.
    pub dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until something answers HTTP on the port.
fn wait_ready(child: &mut Child, port: u16, what: &str, log: &Path) {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "{what} exited ({status}) before answering: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        if http("GET", port, "/", &[], b"").is_ok() {
            return;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("{what} did not answer on 127.0.0.1:{port} within 60 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Whether moto's server mode can run here (`python3 -c 'import moto, flask'`).
pub fn moto_installed() -> bool {
    Command::new("python3")
        .args(["-c", "import moto, flask, flask_cors"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Starts moto (`python3 -m moto.server`). Without moto: `None` with a
/// note when `SHAREGEN_SKIP_S3=1`, else a panic that says how to install it.
pub fn moto() -> Option<Server> {
    moto_with(&[])
}

pub fn moto_with(env: &[(&str, &str)]) -> Option<Server> {
    if !moto_installed() {
        if skip_allowed() {
            eprintln!("note: moto is not installed; skipping (SHAREGEN_SKIP_S3=1)");
            return None;
        }
        panic!(
            "moto's server mode is not installed: run scripts/test, or `pip install \
             \"moto[server]\"` (SHAREGEN_SKIP_S3=1 skips the S3 tests)"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let log = dir.path().join("moto.log");
    let mut cmd = Command::new("python3");
    cmd.args([
        "-m",
        "moto.server",
        "-H",
        "127.0.0.1",
        "-p",
        &port.to_string(),
    ])
    .env("MOTO_RECORDER_FILEPATH", dir.path().join("recording"))
    .current_dir(dir.path())
    .stdin(Stdio::null())
    .stdout(std::fs::File::create(&log).unwrap())
    .stderr(std::fs::File::create(dir.path().join("moto.err")).unwrap());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("python3 -m moto.server");
    wait_ready(&mut child, port, "moto", &dir.path().join("moto.err"));
    Some(Server {
        child,
        kind: Kind::Moto,
        port,
        dir,
    })
}

/// Starts s3s-fs with [`ACCESS_KEY`]/[`SECRET_KEY`], or `None` (with a
/// note) when it is not installed.
pub fn s3s_fs() -> Option<Server> {
    let found = Command::new("s3s-fs")
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        eprintln!(
            "note: s3s-fs is not installed; skipping its part (cargo install s3s-fs --version \
             0.14.1 --features binary --locked)"
        );
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    let port = free_port();
    let log = dir.path().join("s3s.log");
    let mut child = Command::new("s3s-fs")
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
        .arg(dir.path().join("data"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("s3s-fs");
    wait_ready(&mut child, port, "s3s-fs", &log);
    Some(Server {
        child,
        kind: Kind::S3sFs,
        port,
        dir,
    })
}

impl Server {
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn create_bucket(&self, name: &str) {
        match self.kind {
            // moto checks no signatures unless told to.
            Kind::Moto => {
                let (status, body) = http("PUT", self.port, &format!("/{name}"), &[], b"").unwrap();
                assert_eq!(status, 200, "create bucket {name}: {body}");
            }
            Kind::S3sFs => {
                std::fs::create_dir_all(self.dir.path().join("data").join(name)).unwrap()
            }
        }
    }

    /// An object_store client for a bucket of this server.
    pub fn store(&self, bucket: &str) -> AmazonS3 {
        AmazonS3Builder::new()
            .with_endpoint(self.endpoint())
            .with_allow_http(true)
            .with_bucket_name(bucket)
            .with_region(REGION)
            .with_access_key_id(ACCESS_KEY)
            .with_secret_access_key(SECRET_KEY)
            .build()
            .unwrap()
    }

    /// moto: turns request signature and access key checks on (unknown
    /// keys then get `InvalidAccessKeyId`).
    pub fn require_auth(&self) {
        assert_eq!(self.kind, Kind::Moto);
        let (status, body) = http("POST", self.port, "/moto-api/reset-auth", &[], b"0").unwrap();
        assert_eq!(status, 200, "{body}");
    }

    /// moto: records every request from now on (forgetting earlier ones).
    pub fn start_recording(&self) {
        assert_eq!(self.kind, Kind::Moto);
        for p in [
            "/moto-api/recorder/reset-recording",
            "/moto-api/recorder/start-recording",
        ] {
            let (status, body) = http("POST", self.port, p, &[], b"").unwrap();
            assert_eq!(status, 200, "{p}: {body}");
        }
    }

    /// moto: the requests recorded since [`Self::start_recording`], as
    /// (method, path without the query, query).
    pub fn recorded(&self) -> Vec<Request> {
        assert_eq!(self.kind, Kind::Moto);
        let (status, body) = http(
            "GET",
            self.port,
            "/moto-api/recorder/download-recording",
            &[],
            b"",
        )
        .unwrap();
        assert_eq!(status, 200, "{body}");
        let _ = http(
            "POST",
            self.port,
            "/moto-api/recorder/stop-recording",
            &[],
            b"",
        );
        // moto appends one JSON object per request from several threads;
        // two can end up on one line, so read a stream of values.
        serde_json::Deserializer::from_str(&body)
            .into_iter::<serde_json::Value>()
            .map(|v| {
                let v = v.unwrap_or_else(|e| panic!("moto's recording: {e}"));
                let url = v["url"].as_str().unwrap();
                let path_q = url.splitn(4, '/').nth(3).map_or("", |s| s);
                let (path, query) = path_q.split_once('?').unwrap_or((path_q, ""));
                let headers = v["headers"]
                    .as_object()
                    .map(|h| {
                        h.iter()
                            .map(|(k, v)| {
                                (k.to_ascii_lowercase(), v.as_str().unwrap_or("").to_string())
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                Request {
                    method: v["method"].as_str().unwrap().to_string(),
                    path: format!("/{}", percent_decode(path)),
                    query: query.to_string(),
                    headers,
                }
            })
            .collect()
    }
}

/// One recorded request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: String,
    /// Header names in lowercase.
    pub headers: BTreeMap<String, String>,
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Runs a future to its end on a fresh runtime.
pub fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// Every object under `prefix`: key → metadata.
pub fn list(store: &AmazonS3, prefix: &str) -> BTreeMap<String, ObjectMeta> {
    use futures::StreamExt;
    block(async {
        let p = ObjectPath::from(prefix);
        let mut out = BTreeMap::new();
        let mut s = store.list(Some(&p));
        while let Some(m) = s.next().await {
            let m = m.unwrap();
            out.insert(m.location.to_string(), m);
        }
        out
    })
}

/// An object's bytes, Content-Type and Cache-Control.
pub struct Object {
    pub bytes: Vec<u8>,
    pub content_type: Option<String>,
    pub cache_control: Option<String>,
}

pub fn get(store: &AmazonS3, key: &str) -> Option<Object> {
    block(async {
        match store.get(&ObjectPath::from(key)).await {
            Ok(r) => {
                let attr = |a: Attribute| r.attributes.get(&a).map(|v| v.to_string());
                let content_type = attr(Attribute::ContentType);
                let cache_control = attr(Attribute::CacheControl);
                Some(Object {
                    bytes: r.bytes().await.unwrap().to_vec(),
                    content_type,
                    cache_control,
                })
            }
            Err(object_store::Error::NotFound { .. }) => None,
            Err(e) => panic!("GET {key}: {e}"),
        }
    })
}

pub fn put(store: &AmazonS3, key: &str, body: &[u8]) {
    block(async {
        store
            .put(&ObjectPath::from(key), body.to_vec().into())
            .await
            .unwrap();
    });
}

/// A plain HTTP/1.1 request to 127.0.0.1:port (one per connection);
/// returns the status and the body as text.
pub fn http(
    method: &str,
    port: u16,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Content-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())?;
    s.write_all(body)?;
    let mut r = BufReader::new(s);
    let (status, head) = read_head(&mut r)?;
    let body = read_body(
        &mut r,
        &head,
        method == "HEAD" || status == 204 || status == 304,
    )?;
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// Reads an HTTP message head; returns the status (responses) or 0
/// (requests), and the raw head including the final blank line.
fn read_head(r: &mut impl BufRead) -> std::io::Result<(u16, Vec<u8>)> {
    let mut head = Vec::new();
    loop {
        let mut line = Vec::new();
        let n = r.read_until(b'\n', &mut line)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        head.extend_from_slice(&line);
        if line == b"\r\n" || line == b"\n" {
            break;
        }
    }
    let first = String::from_utf8_lossy(&head);
    let status = first
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .filter(|_| first.starts_with("HTTP/"))
        .unwrap_or(0);
    Ok((status, head))
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Reads a message body framed by Content-Length or chunked encoding;
/// neither: to the end of the stream.
fn read_body(r: &mut impl BufRead, head: &[u8], none: bool) -> std::io::Result<Vec<u8>> {
    let head = String::from_utf8_lossy(head);
    let mut body = Vec::new();
    if none {
        return Ok(body);
    }
    if let Some(n) = header(&head, "content-length") {
        let n: usize = n.parse().unwrap_or(0);
        body.resize(n, 0);
        r.read_exact(&mut body)?;
    } else if header(&head, "transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        loop {
            let mut line = String::new();
            r.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            let mut chunk = vec![0; size + 2];
            r.read_exact(&mut chunk)?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else if head.starts_with("HTTP/") {
        r.read_to_end(&mut body)?;
    }
    Ok(body)
}

/// Re-encodes a body read with [`read_body`] with a Content-Length,
/// replacing chunked framing.
fn reframe(head: &[u8], body: &[u8]) -> Vec<u8> {
    let head = String::from_utf8_lossy(head);
    let mut out = String::new();
    let mut lines = head.split("\r\n");
    out.push_str(lines.next().unwrap_or(""));
    out.push_str("\r\n");
    let chunked = header(&head, "transfer-encoding").is_some_and(|v| v.contains("chunked"));
    for l in lines {
        if l.is_empty() {
            continue;
        }
        let name = l
            .split(':')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if chunked && (name == "transfer-encoding" || name == "content-length") {
            continue;
        }
        out.push_str(l);
        out.push_str("\r\n");
    }
    if chunked {
        out.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

#[derive(Default)]
struct Hold {
    armed: bool,
    held: bool,
    released: bool,
}

/// A TCP proxy in front of a server that, once armed, holds the next
/// `PUT …/sharegen-manifest.json` back until [`PauseProxy::release`]:
/// whatever runs meanwhile changes the bucket between that publisher's
/// read and its write. Request bytes go through unchanged (signatures
/// stay valid); one upstream connection per request.
pub struct PauseProxy {
    pub port: u16,
    hold: Arc<(Mutex<Hold>, Condvar)>,
    stop: Arc<AtomicBool>,
}

impl PauseProxy {
    pub fn start(upstream: u16) -> PauseProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hold = Arc::new((Mutex::new(Hold::default()), Condvar::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, st) = (hold.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let h = h.clone();
                std::thread::spawn(move || {
                    let _ = serve(conn, upstream, &h);
                });
            }
        });
        PauseProxy { port, hold, stop }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Holds the next manifest write back.
    pub fn arm(&self) {
        let (m, _) = &*self.hold;
        *m.lock().unwrap() = Hold {
            armed: true,
            ..Hold::default()
        };
    }

    /// Waits until a manifest write is being held.
    pub fn wait_held(&self, timeout: Duration) -> bool {
        let (m, cv) = &*self.hold;
        let g = m.lock().unwrap();
        let (g, _) = cv.wait_timeout_while(g, timeout, |h| !h.held).unwrap();
        g.held
    }

    /// Lets the held write through.
    pub fn release(&self) {
        let (m, cv) = &*self.hold;
        m.lock().unwrap().released = true;
        cv.notify_all();
    }
}

impl Drop for PauseProxy {
    fn drop(&mut self) {
        self.release();
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(client: TcpStream, upstream: u16, hold: &(Mutex<Hold>, Condvar)) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut client = client;
    loop {
        let (_, head) = match read_head(&mut reader) {
            Ok(x) => x,
            Err(_) => return Ok(()),
        };
        let body = read_body(&mut reader, &head, false)?;
        let text = String::from_utf8_lossy(&head).into_owned();
        let mut words = text.split_whitespace();
        let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
        let path = target.split('?').next().unwrap_or("");
        if method == "PUT" && path.ends_with("sharegen-manifest.json") {
            let (m, cv) = hold;
            let mut g = m.lock().unwrap();
            if g.armed {
                g.armed = false;
                g.held = true;
                cv.notify_all();
                let (g2, _) = cv
                    .wait_timeout_while(g, Duration::from_secs(120), |h| !h.released)
                    .unwrap();
                drop(g2);
            }
        }
        let mut up = TcpStream::connect(("127.0.0.1", upstream))?;
        up.write_all(&reframe(&head, &body))?;
        let mut up_reader = BufReader::new(up.try_clone()?);
        let (status, rhead) = read_head(&mut up_reader)?;
        let rbody = read_body(
            &mut up_reader,
            &rhead,
            method == "HEAD" || status == 204 || status == 304,
        )?;
        let _ = up.shutdown(Shutdown::Both);
        client.write_all(&reframe(&rhead, &rbody))?;
        let rtext = String::from_utf8_lossy(&rhead).to_ascii_lowercase();
        if rtext.contains("\r\nconnection: close") {
            let _ = client.shutdown(Shutdown::Both);
            return Ok(());
        }
    }
}

/// The environment a `sharegen publish` against a local server needs:
/// fixed keys, nothing inherited from the machine's AWS setup.
pub fn aws_env(cmd: &mut assert_cmd::Command, access: &str, secret: &str) {
    for v in [
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT",
        "AWS_DEFAULT_REGION",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ] {
        cmd.env_remove(v);
    }
    cmd.env("AWS_ACCESS_KEY_ID", access)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_REGION", REGION)
        .env("AWS_EC2_METADATA_DISABLED", "true");
}

/// `sha256` of bytes, as lowercase hex.
pub fn sha256(b: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

pub fn tree_files(root: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().to_path_buf())
        .collect()
}
