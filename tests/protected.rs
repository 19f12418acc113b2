//! Password-protected and key-in-URL pages (issue 7), end to end with the
//! real binary:
//!
//! - the page decrypts with the RustCrypto crates (PBKDF2-HMAC-SHA256 at
//!   the iterations the page records, AES-256-GCM) into exactly the page
//!   an unprotected export gives, and its CSP pins every inline asset of
//!   both the shell and the page inside;
//! - neither the exported page nor the site's page, index, manifest or
//!   build state holds the title, a prompt, or any 20-character piece of
//!   them (checked against an unprotected page, where the same check must
//!   find every one);
//! - share/unshare keep, replace and remove the protection, and old share
//!   lists still load;
//! - in headless Chromium (tests/browser/protected.mjs) the right password
//!   or the key in the link shows the conversation with the page's own
//!   script running, no console error, no CSP violation and no request; a
//!   wrong one shows an error and no conversation. SHAREGEN_SKIP_BROWSER=1
//!   skips that part, as in tests/browser.rs.

mod common;
use common::browser::CHROMIUM;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Duration;

const IDEAS: &str = "03eb5929-52b3-4b13-ada3-b93ae35806b8";
const PASSWORD: &str = "correct horse battery staple";
const AAD: &[u8] = b"sharegen protected page v1";
/// A prompt of the IDEAS session, shown once the page is open.
const KNOWN_PROMPT: &str = "OK, so, to be fair, maybe also list 5 weak points, risks, or caveats.";

fn ideas() -> PathBuf {
    fixtures().join(format!("projects/-experiments-ideas/{IDEAS}.jsonl"))
}

/// A home with the Claude Code fixtures where sharegen looks for them.
fn home() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(
        &fixtures().join("projects"),
        &tmp.path().join(".claude/projects"),
    );
    tmp
}

fn run(home: &Path, args: &[&str]) -> std::process::Output {
    sharegen(home)
        .env("SG_PW", PASSWORD)
        .env_remove("SHAREGEN_SITE_BASE_URL")
        .args(args)
        .output()
        .unwrap()
}

fn run_ok(home: &Path, args: &[&str]) -> String {
    let out = run(home, args);
    assert!(
        out.status.success(),
        "sharegen {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The title and the prompts of a session: what must not leak.
struct Secrets {
    title: String,
    prompts: Vec<String>,
    session_id: String,
}

fn secrets(file: &Path) -> Secrets {
    let doc: Value = serde_json::from_str(&export_to(file, "json")).unwrap();
    let s = &doc["session"];
    let prompts: Vec<String> = s["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "user")
        .flat_map(|m| m["parts"].as_array().unwrap())
        .filter(|p| p["type"] == "text")
        .map(|p| p["text"].as_str().unwrap().to_string())
        .collect();
    assert!(prompts.len() >= 5, "{prompts:?}");
    Secrets {
        title: s["title"].as_str().unwrap().to_string(),
        prompts,
        session_id: s["id"].as_str().unwrap().to_string(),
    }
}

/// The ways a text can appear in a page: as is, escaped by the templates
/// or by the markdown renderer, with its whitespace collapsed.
fn spellings(text: &str) -> Vec<String> {
    let jinja = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2f;");
    let cmark = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut v = vec![text.to_string(), jinja, cmark, collapsed];
    v.sort();
    v.dedup();
    v
}

/// The first 20-character piece of `secret` (in any spelling) found in
/// `page`, if any.
fn leaked_piece(page: &str, secret: &str) -> Option<String> {
    const N: usize = 20;
    for s in spellings(secret) {
        let chars: Vec<char> = s.chars().collect();
        if chars.len() < N {
            if page.contains(&s) {
                return Some(s);
            }
            continue;
        }
        for w in chars.windows(N) {
            let piece: String = w.iter().collect();
            if page.contains(&piece) {
                return Some(piece);
            }
        }
    }
    None
}

/// Everything of `secrets` found in `page`, described.
fn leaks(page: &str, s: &Secrets) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(p) = leaked_piece(page, &s.title) {
        out.push(format!("title piece {p:?}"));
    }
    for (i, prompt) in s.prompts.iter().enumerate() {
        if let Some(p) = leaked_piece(page, prompt) {
            out.push(format!("prompt {} piece {p:?}", i + 1));
        }
    }
    // Snippets with spaces, which base64 cannot produce by chance.
    for snippet in [
        "clmail project",
        "balanced opinion",
        "weak points",
        "Markdown documents",
    ] {
        if page.contains(snippet) {
            out.push(format!("snippet {snippet:?}"));
        }
    }
    if page.contains(&s.session_id) {
        out.push("the session id".into());
    }
    out
}

fn assert_no_leak(what: &str, page: &str, s: &Secrets) {
    let l = leaks(page, s);
    assert!(l.is_empty(), "{what} leaks: {l:?}");
}

/// The sealed payload of a protected page, read without sharegen's code.
fn sealed(page: &str) -> Value {
    let start = "<script id=\"sg-sealed\" type=\"application/json\">";
    let json = page
        .split_once(start)
        .expect("no sealed payload")
        .1
        .split_once("</script>")
        .unwrap()
        .0;
    serde_json::from_str(json).unwrap()
}

fn b64(s: &Value) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s.as_str().unwrap()).unwrap()
}

/// PBKDF2-HMAC-SHA256 with the page's salt and iterations.
fn key_from_password(sealed: &Value, password: &str) -> [u8; 32] {
    let kdf = &sealed["kdf"];
    assert_eq!(kdf["name"], "PBKDF2-SHA256");
    let mut key = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(
        password.as_bytes(),
        &b64(&kdf["salt"]),
        kdf["iterations"].as_u64().unwrap() as u32,
        &mut key,
    );
    key
}

/// AES-256-GCM, as the browser does it.
fn decrypt(sealed: &Value, key: &[u8; 32]) -> Option<String> {
    assert_eq!(sealed["alg"], "AES-256-GCM");
    let iv = b64(&sealed["iv"]);
    assert_eq!(iv.len(), 12, "a 96-bit nonce");
    let plain = Aes256Gcm::new_from_slice(key)
        .unwrap()
        .decrypt(
            Nonce::from_slice(&iv),
            Payload {
                msg: &b64(&sealed["ct"]),
                aad: AAD,
            },
        )
        .ok()?;
    Some(String::from_utf8(plain).unwrap())
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Vec<&'a str> {
    s.split(start)
        .skip(1)
        .filter_map(|x| x.split_once(end).map(|(a, _)| a))
        .collect()
}

fn csp_of(page: &str) -> String {
    between(
        page,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"",
        "\"",
    )[0]
    .replace("&#x27;", "'")
    .replace("&#x2f;", "/")
    .replace("&quot;", "\"")
    .replace("&amp;", "&")
}

fn sha(s: &str) -> String {
    STANDARD.encode(Sha256::digest(s.as_bytes()))
}

/// The directive `name` of a CSP, its sources.
fn directive(csp: &str, name: &str) -> Vec<String> {
    csp.split(';')
        .map(str::trim)
        .find_map(|d| d.strip_prefix(&format!("{name} ")))
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

fn export(home: &Path, extra: &[&str], out: &Path) -> String {
    let mut args = vec!["export", "--format", "html", "-o", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let session = ideas();
    args.push(session.to_str().unwrap());
    run_ok(home, &args)
}

#[test]
fn password_page_decrypts_with_the_rustcrypto_crates_into_the_plain_page() {
    let tmp = tempfile::tempdir().unwrap();
    let (plain_path, locked_path) = (tmp.path().join("plain.html"), tmp.path().join("p.html"));
    export(tmp.path(), &[], &plain_path);
    export(tmp.path(), &["--password-env", "SG_PW"], &locked_path);
    let plain = std::fs::read_to_string(&plain_path).unwrap();
    let locked = std::fs::read_to_string(&locked_path).unwrap();

    let sealed = sealed(&locked);
    let kdf = &sealed["kdf"];
    assert!(kdf["iterations"].as_u64().unwrap() >= 600_000, "{kdf}");
    assert!(locked.contains("\"iterations\":600000"));
    assert_eq!(b64(&kdf["salt"]).len(), 16, "a 16-byte salt");
    let opened = decrypt(&sealed, &key_from_password(&sealed, PASSWORD)).expect("decrypts");
    assert_eq!(opened, plain, "the sealed page is the unprotected page");
    assert!(
        decrypt(
            &sealed,
            &key_from_password(&sealed, "correct horse battery stapler")
        )
        .is_none()
    );

    // A fresh salt and nonce per export.
    let again_path = tmp.path().join("p2.html");
    export(tmp.path(), &["--password-env", "SG_PW"], &again_path);
    let again = sealed_of(&again_path);
    assert_ne!(again["kdf"]["salt"], kdf["salt"]);
    assert_ne!(again["iv"], sealed["iv"]);

    // The neutral shell.
    assert!(locked.contains("<title>Protected session</title>"));
    for tag in [
        "name=\"description\"",
        "og:",
        "twitter:",
        "canonical",
        "Claude Code",
    ] {
        assert!(!locked.contains(tag), "the shell has {tag}");
    }
    // Its CSP pins the shell's inline script and style and the page's.
    let csp = csp_of(&locked);
    assert_eq!(directive(&csp, "default-src"), ["'none'"], "{csp}");
    let scripts = directive(&csp, "script-src");
    let styles = directive(&csp, "style-src");
    let shell_js = between(&locked, "<script>", "</script>");
    let page_js = between(&plain, "<script>", "</script>");
    assert_eq!((shell_js.len(), page_js.len()), (1, 1));
    assert!(shell_js[0].contains("crypto.subtle") || shell_js[0].contains("subtle.decrypt"));
    for api in [
        "fetch(",
        "XMLHttpRequest",
        "WebSocket",
        "sendBeacon",
        ".src",
    ] {
        assert!(!shell_js[0].contains(api), "the shell's script uses {api}");
    }
    for js in [shell_js[0], page_js[0]] {
        assert!(scripts.contains(&format!("'sha256-{}'", sha(js))), "{csp}");
    }
    for css in [
        between(&locked, "<style>", "</style>")[0],
        between(&plain, "<style>", "</style>")[0],
    ] {
        assert!(styles.contains(&format!("'sha256-{}'", sha(css))), "{csp}");
    }
    assert_eq!((scripts.len(), styles.len()), (2, 2), "{csp}");
    assert!(!csp.contains("unsafe"), "{csp}");
}

fn sealed_of(path: &Path) -> Value {
    sealed(&std::fs::read_to_string(path).unwrap())
}

#[test]
fn key_in_url_page_opens_with_the_key_from_its_link() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("k.html");
    let out = export(tmp.path(), &["--key-in-url"], &path);
    let link = out
        .lines()
        .find(|l| l.starts_with("file://"))
        .unwrap_or_else(|| panic!("no link printed: {out}"));
    let (file, key) = link.split_once("#k=").unwrap();
    assert_eq!(file, format!("file://{}", path.display()));
    let key: [u8; 32] = URL_SAFE_NO_PAD.decode(key).unwrap().try_into().unwrap();
    let page = std::fs::read_to_string(&path).unwrap();
    let sealed = sealed(&page);
    assert!(sealed.get("kdf").is_none(), "no password, no KDF: {sealed}");
    let opened = decrypt(&sealed, &key).expect("the key in the link opens it");
    assert!(opened.contains(KNOWN_PROMPT));
    assert!(
        !page.contains(key_b64(&key).as_str()),
        "the key is not in the page"
    );
    let mut wrong = key;
    wrong[0] ^= 1;
    assert!(decrypt(&sealed, &wrong).is_none());
}

/// An encrypted one-off export has its own key: the site's URL for the
/// session (which serves the share's page) is not printed for it.
#[test]
fn an_encrypted_export_prints_no_site_url() {
    let tmp = tempfile::tempdir().unwrap();
    let page = tmp.path().join("k.html");
    let out = sharegen(tmp.path())
        .env("SHAREGEN_SITE_BASE_URL", "https://me.example.com/shares")
        .args(["export", "--key-in-url", "-o", page.to_str().unwrap()])
        .arg(ideas())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("file://"), "{stdout}");
    assert!(!stdout.contains("https://me.example.com"), "{stdout}");
    // Not encrypted: the site's URL is printed.
    let out = sharegen(tmp.path())
        .env("SHAREGEN_SITE_BASE_URL", "https://me.example.com/shares")
        .args(["export", "-o", page.to_str().unwrap()])
        .arg(ideas())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("https://me.example.com/shares/s/"));
}

fn key_b64(key: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(key)
}

#[test]
fn protected_pages_hold_no_title_and_no_prompt() {
    let tmp = tempfile::tempdir().unwrap();
    let s = secrets(&ideas());
    let plain_path = tmp.path().join("plain.html");
    export(tmp.path(), &[], &plain_path);
    let plain = std::fs::read_to_string(&plain_path).unwrap();
    // The detector finds the title and every prompt in the plain page...
    let found = leaks(&plain, &s);
    assert!(found.iter().any(|l| l.starts_with("title")), "{found:?}");
    for i in 1..=s.prompts.len() {
        assert!(
            found.iter().any(|l| l.starts_with(&format!("prompt {i} "))),
            "prompt {i} not found in the plain page: {found:?}"
        );
    }
    // ... and none of them in the protected ones.
    for (name, extra) in [
        ("password page", &["--password-env", "SG_PW"][..]),
        ("key-in-url page", &["--key-in-url"][..]),
    ] {
        let path = tmp.path().join("locked.html");
        export(tmp.path(), extra, &path);
        assert_no_leak(name, &std::fs::read_to_string(&path).unwrap(), &s);
    }
}

fn share_id_of(out: &str) -> String {
    out.split('\t').next().unwrap().to_string()
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn shares_json(home: &Path) -> Value {
    serde_json::from_str(&read(&home.join("sg/shares.json"))).unwrap()
}

#[test]
fn the_site_publishes_protected_shares_encrypted_and_unlisted() {
    let home = home();
    let h = home.path();
    let s = secrets(&ideas());
    let site = h.join("sg/site");
    let id = share_id_of(&run_ok(
        h,
        &["share", IDEAS, "--yes", "--password-env", "SG_PW"],
    ));
    let list = shares_json(h);
    assert_eq!(list["version"], 2, "{list}");
    let p = &list["shares"][0]["protection"];
    assert_eq!(p["mode"], "password", "{list}");
    assert!(p["iterations"].as_u64().unwrap() >= 600_000);
    assert!(!read(&h.join("sg/shares.json")).contains(PASSWORD));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(h.join("sg/shares.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // `shares` names the kind of protection, never the key material.
    let rows: Value = serde_json::from_str(&run_ok(h, &["shares", "--json"])).unwrap();
    assert_eq!(rows[0]["protected"], "password");
    let rows_text = rows.to_string();
    assert!(
        !rows_text.contains(p["key"].as_str().unwrap()) && !rows_text.contains("\"salt\""),
        "{rows}"
    );

    run_ok(h, &["build"]);
    let page = read(&site.join(format!("s/{id}/index.html")));
    let sealed = sealed(&page);
    let opened = decrypt(&sealed, &key_from_password(&sealed, PASSWORD)).expect("decrypts");
    assert!(opened.contains(KNOWN_PROMPT));
    assert!(!site.join(format!("s/{id}/session.json")).exists());
    let index = read(&site.join("index.html"));
    assert!(
        index.contains(&format!(
            "<a href=\"s&#x2f;{id}&#x2f;\">Protected</a></td><td></td><td></td>"
        )),
        "{index}"
    );
    assert!(!index.contains("Claude Code"), "{index}");
    let manifest = read(&site.join("sharegen-manifest.json"));
    let m: Value = serde_json::from_str(&manifest).unwrap();
    let files: Vec<&String> = m["files"].as_object().unwrap().keys().collect();
    assert!(
        files
            .iter()
            .all(|f| !f.starts_with("s/") || *f == &format!("s/{id}/index.html")),
        "{files:?}"
    );
    for (what, text) in [
        ("the page", &page),
        ("the index", &index),
        ("the manifest", &manifest),
    ] {
        assert_no_leak(what, text, &s);
    }
    // The build state stays local, and names the session's files; but no
    // title or prompt there either.
    let state = read(&site.join(".sharegen-build.json"));
    let l: Vec<String> = leaks(&state, &s)
        .into_iter()
        .filter(|l| l != "the session id")
        .collect();
    assert!(l.is_empty(), "the build state leaks {l:?}");

    // Shared again without flags: still protected.
    let out = run_ok(h, &["share", IDEAS, "--yes"]);
    assert!(!out.contains("#k="), "{out}");
    assert_eq!(shares_json(h)["shares"][0]["protection"], *p);
    run_ok(h, &["build"]);
    assert!(read(&site.join(format!("s/{id}/index.html"))).contains("id=\"sg-sealed\""));

    // --no-password: the page is public again, with its JSON.
    run_ok(h, &["share", IDEAS, "--no-password"]);
    let list = shares_json(h);
    assert_eq!(list["version"], 1, "{list}");
    assert!(list["shares"][0].get("protection").is_none(), "{list}");
    run_ok(h, &["build"]);
    let page = read(&site.join(format!("s/{id}/index.html")));
    assert!(!page.contains("sg-sealed") && page.contains("clmail project"));
    assert!(site.join(format!("s/{id}/session.json")).is_file());
    assert!(!leaks(&read(&site.join("index.html")), &s).is_empty());

    // --key-in-url: the printed link carries the key that opens the page.
    let out = sharegen(h)
        .env("SHAREGEN_SITE_BASE_URL", "https://shares.example.test/x")
        .args(["share", IDEAS, "--key-in-url"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = String::from_utf8(out.stdout).unwrap();
    let url = out.trim_end().split('\t').nth(1).unwrap();
    let (base, key) = url.split_once("#k=").unwrap_or_else(|| panic!("{out}"));
    assert_eq!(base, format!("https://shares.example.test/x/s/{id}/"));
    let key: [u8; 32] = URL_SAFE_NO_PAD.decode(key).unwrap().try_into().unwrap();
    run_ok(h, &["build"]);
    let page = read(&site.join(format!("s/{id}/index.html")));
    assert!(
        decrypt(&sealed_of(&site.join(format!("s/{id}/index.html"))), &key)
            .unwrap()
            .contains(KNOWN_PROMPT)
    );
    assert_no_leak("the key-in-url page", &page, &s);
    assert!(!page.contains(&key_b64(&key)));
    assert!(!site.join(format!("s/{id}/session.json")).exists());
    assert_no_leak("the index", &read(&site.join("index.html")), &s);
}

#[test]
fn watch_keeps_protected_pages_encrypted_and_not_live() {
    use sharegen::protect::Protection;
    use sharegen::share::{Share, ShareList};
    use sharegen::site::{SiteOptions, build};
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("site");
    let key = Protection::key_in_url().unwrap();
    let share = |id: &str, protection: Option<Protection>| Share {
        share_id: id.into(),
        agent: sharegen::model::Agent::ClaudeCode,
        session_id: IDEAS.into(),
        path: ideas(),
        project: None,
        title: None,
        shared_at: chrono::Utc::now(),
        expires: None,
        last_rendered: None,
        last_published: None,
        protection,
    };
    let list = ShareList {
        version: 2,
        shares: vec![
            share("lockedaaaa", Some(key.clone())),
            share("openaaaaaa", None),
        ],
        allowed_dirs: Vec::new(),
    };
    let renderer = sharegen::render::Renderer::new(
        &sharegen::config::Config::default(),
        b"salt".to_vec(),
        None,
        None,
    )
    .unwrap();
    // What `watch` builds: live pages.
    let opts = SiteOptions {
        out: out.clone(),
        session_json: true,
        index_page: true,
        index_by_robots: false,
        live: true,
        redactor: None,
        live_cache: None,
        stage_min: sharegen::site::page::STAGE_MIN_BYTES,
    };
    let report = build(
        &list,
        &sharegen::sources::Stores::from_env(),
        &renderer,
        &opts,
        &sharegen::diag::Diag::silent(),
        chrono::Utc::now(),
    )
    .unwrap();
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert!(out.join("s/openaaaaaa/version.json").is_file());
    assert!(out.join("s/openaaaaaa/session.json").is_file());
    assert!(read(&out.join("s/openaaaaaa/index.html")).contains("data-live="));
    assert!(!out.join("s/lockedaaaa/version.json").exists());
    assert!(!out.join("s/lockedaaaa/session.json").exists());
    let page = read(&out.join("s/lockedaaaa/index.html"));
    let opened = decrypt(&sealed(&page), &key.key().unwrap()).unwrap();
    assert!(opened.contains(KNOWN_PROMPT) && !opened.contains("data-live="));
    assert_no_leak("the live site's page", &page, &secrets(&ideas()));
}

#[test]
fn a_share_protected_since_its_last_build_never_stays_online_in_clear() {
    let home = home();
    let h = home.path();
    let site = h.join("sg/site");
    let id = share_id_of(&run_ok(h, &["share", IDEAS, "--yes"]));
    run_ok(h, &["build"]);
    assert!(read(&site.join(format!("s/{id}/index.html"))).contains("clmail project"));
    run_ok(h, &["share", IDEAS, "--password-env", "SG_PW"]);
    // The source disappears: the new page cannot be rendered.
    let file = walkdir::WalkDir::new(h.join(".claude/projects"))
        .into_iter()
        .flatten()
        .find(|e| e.file_name().to_string_lossy() == format!("{IDEAS}.jsonl"))
        .unwrap();
    std::fs::remove_file(file.path()).unwrap();
    let out = run(h, &["build"]);
    assert!(!out.status.success(), "the share cannot be rendered");
    assert!(!site.join(format!("s/{id}/index.html")).exists());
    assert!(!site.join(format!("s/{id}/session.json")).exists());
    let manifest = read(&site.join("sharegen-manifest.json"));
    assert!(!manifest.contains(&format!("s/{id}/")), "{manifest}");
}

#[test]
fn an_old_share_list_still_loads_and_gains_protection() {
    let home = home();
    let h = home.path();
    let path = walkdir::WalkDir::new(h.join(".claude/projects"))
        .into_iter()
        .flatten()
        .find(|e| e.file_name().to_string_lossy() == format!("{IDEAS}.jsonl"))
        .unwrap()
        .path()
        .to_path_buf();
    // What sharegen wrote before protected shares existed.
    let id = share_id_of(&run_ok(h, &["share", IDEAS, "--yes"]));
    let old = json!({
        "version": 1,
        "shares": [{
            "share_id": id,
            "agent": "claude-code",
            "session_id": IDEAS,
            "path": path,
            "project": "/home/user/project",
            "shared_at": "2026-02-17T10:00:00Z",
            "last_rendered": "2026-02-17T10:05:00Z"
        }],
        "allowed_dirs": ["/home/user/project"]
    });
    std::fs::write(h.join("sg/shares.json"), old.to_string()).unwrap();
    let rows: Value = serde_json::from_str(&run_ok(h, &["shares", "--json"])).unwrap();
    assert_eq!(rows[0]["share_id"], id.as_str());
    assert!(rows[0].get("protected").is_none());
    run_ok(h, &["build"]);
    assert!(read(&h.join(format!("sg/site/s/{id}/index.html"))).contains("clmail project"));
    run_ok(h, &["share", IDEAS, "--password-env", "SG_PW"]);
    let list = shares_json(h);
    assert_eq!(list["version"], 2);
    assert_eq!(list["shares"][0]["shared_at"], "2026-02-17T10:00:00Z");
    assert_eq!(list["shares"][0]["protection"]["mode"], "password");
}

#[test]
fn password_flags_fail_clearly() {
    let home = home();
    let h = home.path();
    let usage = |args: &[&str], needle: &str| {
        let out = sharegen(h)
            .env_remove("SG_UNSET")
            .args(args)
            .write_stdin("")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    };
    // No terminal to ask on.
    usage(&["share", IDEAS, "--yes", "--password"], "--password-env");
    usage(
        &["export", IDEAS, "--password", "-o", "-"],
        "--password-env",
    );
    usage(
        &["share", IDEAS, "--yes", "--password-env", "SG_UNSET"],
        "SG_UNSET",
    );
    usage(
        &["export", IDEAS, "--key-in-url", "--format", "md", "-o", "-"],
        "encrypt HTML pages",
    );
    usage(
        &["share", IDEAS, "--password-env", "X", "--no-password"],
        "cannot be used with",
    );
    usage(
        &["share", IDEAS, "--password", "--key-in-url"],
        "cannot be used with",
    );
    // Nothing was shared on the way.
    assert!(!h.join("sg/shares.json").exists() || !read(&h.join("sg/shares.json")).contains(IDEAS));
}

// --- headless Chromium --------------------------------------------------------

const HARNESS_TIMEOUT: Duration = Duration::from_secs(240);

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn arr(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}

/// No request but the page itself, no console error, no page error and
/// (before the deliberate probe) no CSP violation.
fn check_quiet(f: &mut Vec<String>, at: &str, run: &Value) {
    let own = s(&run["url"]);
    let reqs = arr(&run["requests"]);
    if reqs.is_empty() {
        f.push(format!(
            "{at}: no request recorded at all (the recorder is broken)"
        ));
    }
    for r in reqs {
        let url = s(&r["url"]);
        if url.split('#').next() != Some(own) && !url.starts_with("data:") {
            f.push(format!("{at}: request to {url}"));
        }
    }
    for m in arr(&run["console_before_probe"]) {
        if s(&m["type"]) == "error" || s(&m["text"]).contains("Content Security Policy") {
            f.push(format!(
                "{at}: console {}: {}",
                s(&m["type"]),
                s(&m["text"])
            ));
        }
    }
    for e in arr(&run["page_errors"]) {
        f.push(format!("{at}: uncaught exception {e}"));
    }
    for v in arr(&run["violations_before_probe"]) {
        f.push(format!("{at}: CSP violation {v}"));
    }
}

fn shows(state: &Value, text: &str) -> bool {
    arr(&state["expect"])
        .iter()
        .any(|e| s(&e["text"]) == text && e["visible"] == true)
}

fn hides_all(state: &Value) -> bool {
    arr(&state["expect"]).iter().all(|e| e["in_text"] == false) && state["articles"] == 0
}

fn check_opened(f: &mut Vec<String>, at: &str, st: &Value, title: &str) {
    if let Some(e) = st.get("error") {
        f.push(format!("{at}: could not run: {}", s(e)));
        return;
    }
    let ok = st["outcome"] == "opened"
        && shows(st, KNOWN_PROMPT)
        && n(&st["articles"]) > 0
        && s(&st["title"]) == title
        && !st["shell"].as_bool().unwrap_or(true);
    if !ok {
        f.push(format!("{at}: the conversation did not appear: {st}"));
    }
    // The page's own script ran under the CSP (it adds the permalinks).
    if n(&st["anchors"]) == 0 {
        f.push(format!("{at}: the page's script did not run: {st}"));
    }
    if n(&st["scripts"]) != 1 {
        f.push(format!(
            "{at}: {} scripts in the opened page",
            st["scripts"]
        ));
    }
}

fn check_locked(f: &mut Vec<String>, at: &str, st: &Value) {
    if let Some(e) = st.get("error") {
        f.push(format!("{at}: could not run: {}", s(e)));
        return;
    }
    let ok = s(&st["title"]) == "Protected session"
        && st["shell"] == true
        && hides_all(st)
        && arr(&st["meta_leaks"]).is_empty();
    if !ok {
        f.push(format!("{at}: not a locked shell: {st}"));
    }
}

fn check_error(f: &mut Vec<String>, at: &str, st: &Value, needle: &str) {
    check_locked(f, at, st);
    let ok = st["outcome"] == "error"
        && s(&st["message"]).contains(needle)
        && st["form_visible"] == true;
    if !ok {
        f.push(format!("{at}: no error shown, or no way to retry: {st}"));
    }
}

fn check_probe(f: &mut Vec<String>, at: &str, run: &Value) {
    let p = &run["probe"];
    if p["ran"] != false || arr(&p["logged"]).is_empty() {
        f.push(format!(
            "{at}: a script added after decryption was not blocked and reported: {p}"
        ));
    }
}

fn n(v: &Value) -> i64 {
    v.as_i64().unwrap_or(-1)
}

#[test]
fn protected_pages_in_headless_chromium() {
    if common::browser::skip_or_require("the protected browser test") {
        return;
    }

    let tmp = tempfile::tempdir().unwrap();
    let pages = tmp.path().join("pages");
    std::fs::create_dir_all(&pages).unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let title = secrets(&ideas()).title;
    export(
        &home,
        &["--password-env", "SG_PW"],
        &pages.join("password.html"),
    );
    let out = export(&home, &["--key-in-url"], &pages.join("key.html"));
    let fragment = out
        .lines()
        .find_map(|l| l.split_once('#').map(|(_, f)| format!("#{f}")))
        .expect("a link with the key");
    let wrong_fragment = format!("#k={}", key_b64(&[7u8; 32]));

    // The control: the shell no longer allows the page's script.
    let locked = read(&pages.join("password.html"));
    let inner = decrypt(
        &sealed(&locked),
        &key_from_password(&sealed(&locked), PASSWORD),
    )
    .unwrap();
    let inner_js = sha(between(&inner, "<script>", "</script>")[0]);
    let pinned = format!(" &#x27;sha256-{}&#x27;", inner_js.replace('/', "&#x2f;"));
    assert_eq!(
        locked.matches(&pinned).count(),
        1,
        "{pinned} in the shell's CSP"
    );
    std::fs::write(pages.join("control.html"), locked.replacen(&pinned, "", 1)).unwrap();

    let expect = [KNOWN_PROMPT, "clmail project"];
    let spec = json!({
        "chromium": CHROMIUM,
        "site_dir": pages,
        "timeout_ms": HARNESS_TIMEOUT.as_millis() as u64,
        "modes": ["file", "http"],
        "result_path": tmp.path().join("result.json"),
        "screenshot_dir": target_dir().join("browser-screenshots/protected"),
        "pages": [
            { "name": "password", "file": "password.html", "kind": "password",
              "password": PASSWORD, "wrong_password": "correct horse battery stapler",
              "expect_text": expect },
            { "name": "key", "file": "key.html", "kind": "key",
              "fragment": fragment, "wrong_fragment": wrong_fragment, "expect_text": expect },
            { "name": "control", "file": "control.html", "kind": "control",
              "password": PASSWORD, "wrong_password": "nope", "expect_text": expect },
        ],
    });
    let spec_path = tmp.path().join("spec.json");
    std::fs::write(&spec_path, serde_json::to_vec_pretty(&spec).unwrap()).unwrap();
    let harness_tmp = tmp.path().join("tmp");
    std::fs::create_dir_all(&harness_tmp).unwrap();
    let (stdout, stderr, status) =
        common::browser::run_harness("protected.mjs", &spec_path, &harness_tmp, HARNESS_TIMEOUT);
    let text = std::fs::read_to_string(tmp.path().join("result.json")).unwrap_or(stdout.clone());
    let result: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "the harness printed no JSON ({e}; exit {status:?})\n--- stdout\n{}\n--- stderr\n{}",
            stdout.chars().take(4000).collect::<String>(),
            stderr.chars().take(4000).collect::<String>()
        )
    });
    // The harness's full report, beside its screenshots, for a person.
    let report_dir = target_dir().join("browser-screenshots/protected");
    let _ = std::fs::create_dir_all(&report_dir);
    let _ = std::fs::write(
        report_dir.join("result.json"),
        serde_json::to_vec_pretty(&result).unwrap(),
    );

    let mut f: Vec<String> = Vec::new();
    if !result["fatal"].is_null() || status != Some(0) {
        f.push(format!(
            "the harness failed (exit {status:?}): {}\n{}",
            result["fatal"],
            stderr.chars().take(4000).collect::<String>()
        ));
    }
    for r in arr(&result["server_requests"]) {
        let path = s(&r["url"]);
        if !["/password.html", "/key.html", "/control.html"].contains(&path) || r["method"] != "GET"
        {
            f.push(format!(
                "the server was asked for {} {path}",
                s(&r["method"])
            ));
        }
    }
    let runs = arr(&result["runs"]);
    for mode in ["file", "http"] {
        for name in ["password", "key", "control"] {
            let at = format!("{name} ({mode})");
            let Some(run) = runs.iter().find(|r| r["page"] == name && r["mode"] == mode) else {
                f.push(format!("{at}: not checked"));
                continue;
            };
            match name {
                "password" => {
                    check_quiet(&mut f, &at, run);
                    check_locked(&mut f, &format!("{at}, locked"), &run["locked"]);
                    if run["locked"]["form_visible"] != true
                        || s(&run["locked"]["label"]) != "Password"
                    {
                        f.push(format!("{at}: no password field: {}", run["locked"]));
                    }
                    check_error(
                        &mut f,
                        &format!("{at}, wrong password"),
                        &run["wrong"],
                        "Wrong password",
                    );
                    check_locked(&mut f, &format!("{at}, empty password"), &run["empty"]);
                    check_opened(
                        &mut f,
                        &format!("{at}, right password"),
                        &run["right"],
                        &title,
                    );
                    let t = &run["theme"];
                    if t["after"].is_null() || t["after"] == t["before"] {
                        f.push(format!(
                            "{at}: the opened page's theme toggle does nothing: {t}"
                        ));
                    }
                    check_probe(&mut f, &at, run);
                }
                "key" => {
                    check_quiet(&mut f, &at, run);
                    check_opened(
                        &mut f,
                        &format!("{at}, key in the link"),
                        &run["with_key"],
                        &title,
                    );
                    let w = &run["without_key"];
                    check_locked(&mut f, &format!("{at}, no key"), &w["locked"]);
                    if w["locked"]["form_visible"] != true {
                        f.push(format!("{at}: without a key, no field to paste it: {w}"));
                    }
                    let mut opened = w["opened"].clone();
                    opened["outcome"] = w["outcome"].clone();
                    check_opened(&mut f, &format!("{at}, pasted link"), &opened, &title);
                    check_error(
                        &mut f,
                        &format!("{at}, wrong key"),
                        &run["wrong_key"],
                        "wrong",
                    );
                    check_probe(&mut f, &at, run);
                }
                _ => {
                    // The page appears (its HTML is fine) but its script is
                    // blocked by the shell's policy, and that is reported.
                    let st = &run["right"];
                    let blocked = st["outcome"] == "opened"
                        && n(&st["anchors"]) == 0
                        && arr(&run["csp_console_before_probe"])
                            .iter()
                            .any(|m| s(&m["text"]).contains("script-src"));
                    if !blocked {
                        f.push(format!(
                            "{at}: the control page's script was not blocked and reported \
                             (the shell's CSP is not in force after decryption, or violations go unseen): \
                             {st} {}",
                            run["csp_console_before_probe"]
                        ));
                    }
                }
            }
        }
    }
    say(&format!(
        "protected browser test: {} runs in {} ms, {}\n",
        runs.len(),
        result["duration_ms"],
        s(&result["browser_version"])
    ));
    assert!(
        f.is_empty(),
        "{} browser check(s) failed:\n- {}",
        f.len(),
        f.join("\n- ")
    );
}
