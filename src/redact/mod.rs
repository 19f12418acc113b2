//! Secret redaction, on by default for every output (html, md, json, the
//! site, both publishers).
//!
//! A [`Redactor`] runs over every string of a loaded session (see
//! [`visit`]): prompts, answers, reasoning, tool inputs and outputs, file
//! contents, diffs, titles and paths. Each secret becomes
//! `[REDACTED:<kind>:<fp>]`, where `<fp>` is a short fingerprint keyed by
//! the share salt, so one secret reads the same everywhere on a page and
//! different secrets read differently, without revealing anything.
//!
//! Detection is by well-known token formats (cloud keys, code-hosting and
//! AI-provider tokens, …), by context (`NAME=value` where the name says
//! secret, auth headers, passwords in URLs, PEM private key blocks) and by
//! entropy for values in assignment contexts. Git SHAs, UUIDs, hex hashes,
//! lock-file integrity strings and base64 image data are left alone.
//! Config adds rules and allow-list patterns; scrubbing the home folder,
//! login name, host name and email addresses is configurable too.

pub mod visit;

use crate::config::RedactConfig;
use crate::error::{Error, Result};
use crate::model::{NoticeKind, Part, Session};
use aho_corasick::AhoCorasick;
use regex::Regex;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

/// One detector: a pattern and the capture group holding the secret
/// (0: the whole match).
struct Rule {
    kind: String,
    re: Regex,
    group: usize,
}

/// Built-in detectors: kind, pattern, the group holding the secret, and
/// keywords. A pattern runs on a string only when one of its keywords is
/// in it (compared ignoring ASCII case), so every match of the pattern
/// must contain one. Most specific first (on overlaps the earliest, then
/// the longest, match wins).
const BUILTIN: &[(&str, &str, usize, &[&str])] = &[
    (
        "private-key",
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\z)",
        0,
        &["PRIVATE KEY"],
    ),
    (
        "aws-access-key-id",
        r"(?-u:\b)(?:AKIA|ASIA|ABIA|ACCA|AROA|AIDA)[0-9A-Z]{16}(?-u:\b)",
        0,
        &["AKIA", "ASIA", "ABIA", "ACCA", "AROA", "AIDA"],
    ),
    (
        "aws-secret-access-key",
        r#"(?i)aws_?secret(?:_?access)?_?key["']?\s*[:=]\s*["']?([A-Za-z0-9/+=]{40})(?-u:\b)"#,
        1,
        &["awssecret", "aws_secret"],
    ),
    (
        "google-api-key",
        r"(?-u:\b)AIza[0-9A-Za-z_\-]{35}",
        0,
        &["AIza"],
    ),
    (
        "azure-storage-key",
        r"(?i)AccountKey\s*=\s*([A-Za-z0-9+/]{86}==)",
        1,
        &["AccountKey"],
    ),
    (
        "github-token",
        r"(?-u:\b)gh[pousr]_[A-Za-z0-9]{36,255}(?-u:\b)",
        0,
        &["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
    ),
    (
        "github-token",
        r"(?-u:\b)github_pat_[A-Za-z0-9_]{22,255}(?-u:\b)",
        0,
        &["github_pat_"],
    ),
    (
        "gitlab-token",
        r"(?-u:\b)gl(?:pat|ptt|dt|rt|cbt|soat|ffct|imt|oas|agent)-[A-Za-z0-9_\-]{20,}",
        0,
        &[
            "glpat-", "glptt-", "gldt-", "glrt-", "glcbt-", "glsoat-", "glffct-", "glimt-",
            "gloas-", "glagent-",
        ],
    ),
    (
        "anthropic-key",
        r"(?-u:\b)sk-ant-[A-Za-z0-9_\-]{20,}",
        0,
        &["sk-ant-"],
    ),
    (
        "openai-key",
        r"(?-u:\b)sk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_\-]{20,}",
        0,
        &["sk-"],
    ),
    (
        "huggingface-token",
        r"(?-u:\b)hf_[A-Za-z0-9]{30,}(?-u:\b)",
        0,
        &["hf_"],
    ),
    (
        "slack-token",
        r"(?-u:\b)xox[abposre]-[A-Za-z0-9\-]{10,}",
        0,
        &["xox"],
    ),
    (
        "slack-webhook",
        r"https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9/_\-]+",
        0,
        &["hooks.slack.com/"],
    ),
    (
        "stripe-key",
        r"(?-u:\b)(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}(?-u:\b)",
        0,
        &["_live_", "_test_"],
    ),
    (
        "twilio-key",
        r"(?-u:\b)SK[0-9a-fA-F]{32}(?-u:\b)",
        0,
        &["SK"],
    ),
    (
        "sendgrid-key",
        r"(?-u:\b)SG\.[A-Za-z0-9_\-]{16,32}\.[A-Za-z0-9_\-]{30,64}",
        0,
        &["SG."],
    ),
    (
        "npm-token",
        r"(?-u:\b)npm_[A-Za-z0-9]{36}(?-u:\b)",
        0,
        &["npm_"],
    ),
    (
        "pypi-token",
        r"(?-u:\b)pypi-AgE[A-Za-z0-9_\-]{50,}",
        0,
        &["pypi-AgE"],
    ),
    (
        "jwt",
        r"(?-u:\b)eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",
        0,
        &["eyJ"],
    ),
    (
        "bearer-token",
        r"(?i)(?-u:\b)bearer\s+([A-Za-z0-9\-._~+/]{12,}=*)",
        1,
        &["bearer"],
    ),
    (
        "basic-auth",
        r"(?i)(?-u:\b)authorization\s*[:=]\s*[\x22']?basic\s+([A-Za-z0-9+/]{8,}=*)",
        1,
        &["authorization"],
    ),
    (
        "url-password",
        r"(?-u:\b)[A-Za-z][A-Za-z0-9+.\-]{1,20}://[^\s:/@\x22'<>]{1,64}:([^\s@/\x22'<>]{1,200})@",
        1,
        &["://"],
    ),
    (
        "secret-assignment",
        r#"(?i)(?-u:\b)(?:export\s+)?([A-Za-z0-9_.\-]*(?:secret|token|password|passwd|pwd|api_?key|apikey|access_?key|private_?key|credentials?)[A-Za-z0-9_.\-]*)["']?\s*(?::=|=|:)\s*(["']?)([^\s"'`,;{}()<>\\]{4,})"#,
        3,
        &[
            "secret",
            "token",
            "password",
            "passwd",
            "pwd",
            "api_key",
            "apikey",
            "access_key",
            "accesskey",
            "private_key",
            "privatekey",
            "credential",
        ],
    ),
];

const _: () = assert!(BUILTIN.len() <= 64, "one bit per built-in rule");

/// Values in assignment contexts, for the entropy detector.
const ASSIGNMENT: &str = r#"(?-u:\b)[A-Za-z_][A-Za-z0-9_.\-]{1,40}["']?\s*(?::=|=|:)\s*["']?([A-Za-z0-9+/_\-=.]{20,200})"#;
const EMAIL: &str =
    r"(?-u:\b)[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9.\-]{1,253}\.[A-Za-z]{2,24}(?-u:\b)";

/// Where a finding was, for `redact-check`.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub kind: String,
    pub location: String,
    pub fingerprint: String,
}

/// What a redaction pass found.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Report {
    pub findings: Vec<Finding>,
    /// Harness-injected parts removed.
    pub stripped: usize,
}

impl Report {
    /// Findings per kind.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for f in &self.findings {
            *m.entry(f.kind.clone()).or_default() += 1;
        }
        m
    }
}

/// Plain replacements: the home folder, the login and host names.
#[derive(Debug, Clone)]
struct Scrub {
    from: String,
    to: &'static str,
    word: Option<Regex>,
}

/// The detectors, compiled on first use (a build where nothing needs
/// rendering never pays for them).
struct Compiled {
    /// The built-in rules, then the custom ones.
    rules: Vec<Rule>,
    /// The built-in rules' keywords, and the rule of each.
    keywords: AhoCorasick,
    keyword_rule: Vec<usize>,
    assignment: Option<Regex>,
    email: Option<Regex>,
}

pub struct Redactor {
    compiled: std::sync::OnceLock<Compiled>,
    /// Custom rules (name, pattern), already checked to compile.
    custom: Vec<(String, String)>,
    entropy: bool,
    email: bool,
    allow: Vec<Regex>,
    key: Vec<u8>,
    scrubs: Vec<Scrub>,
    strip_injected: bool,
    /// Changes when the configuration does (site rebuilds follow it).
    key_of_config: String,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("custom_rules", &self.custom.len())
            .finish()
    }
}

fn bad_rule(config: &Path, name: &str, e: impl std::fmt::Display) -> Error {
    Error::parse(config, format!("redact rule `{name}`: {e}"))
}

impl Redactor {
    /// Builds the redactor from `[redact]`; `key` keys the fingerprints
    /// (the share salt). `config` names the file in errors.
    pub fn new(cfg: &RedactConfig, key: &[u8], config: &Path) -> Result<Redactor> {
        for r in &cfg.rules {
            Regex::new(&r.regex).map_err(|e| bad_rule(config, &r.name, e))?;
        }
        let allow = cfg
            .allow
            .iter()
            .map(|a| Regex::new(a).map_err(|e| bad_rule(config, a, e)))
            .collect::<Result<Vec<_>>>()?;
        let mut scrubs = Vec::new();
        if cfg.home
            && let Some(home) = crate::home::user_home()
        {
            let h = home.to_string_lossy().trim_end_matches('/').to_string();
            if h.len() > 1 {
                scrubs.push(Scrub {
                    from: h,
                    to: "~",
                    word: None,
                });
            }
        }
        let word = |name: String, to: &'static str| {
            let re = Regex::new(&format!(r"(?-u:\b){}(?-u:\b)", regex::escape(&name))).ok();
            Scrub {
                from: name,
                to,
                word: re,
            }
        };
        if cfg.user
            && let Some(u) = login_name().filter(|u| u.len() >= 3 && u != "root")
        {
            scrubs.push(word(u, "<user>"));
        }
        if cfg.host
            && let Some(h) = host_name().filter(|h| h.len() >= 3 && h != "localhost")
        {
            scrubs.push(word(h, "<host>"));
        }
        Ok(Redactor {
            compiled: std::sync::OnceLock::new(),
            custom: cfg
                .rules
                .iter()
                .map(|r| (r.name.clone(), r.regex.clone()))
                .collect(),
            entropy: cfg.entropy,
            email: cfg.email,
            allow,
            key: key.to_vec(),
            key_of_config: {
                // The version changes when what a configuration does
                // changes, so that sites render their pages again.
                let d = Sha256::digest(format!("2|{cfg:?}{scrubs:?}").as_bytes());
                data_encoding::HEXLOWER.encode(&d[..8])
            },
            scrubs,
            strip_injected: cfg.strip_injected,
        })
    }

    fn compiled(&self) -> &Compiled {
        self.compiled.get_or_init(|| {
            let mut rules: Vec<Rule> = BUILTIN
                .iter()
                .map(|(kind, re, group, _)| Rule {
                    kind: (*kind).to_string(),
                    re: Regex::new(re).expect("built-in redaction patterns compile"),
                    group: *group,
                })
                .collect();
            for (name, pattern) in &self.custom {
                let re = Regex::new(pattern).expect("checked in Redactor::new");
                let group = usize::from(re.captures_len() > 1);
                rules.push(Rule {
                    kind: name.clone(),
                    re,
                    group,
                });
            }
            let (words, keyword_rule): (Vec<&str>, Vec<usize>) = BUILTIN
                .iter()
                .enumerate()
                .flat_map(|(i, (_, _, _, words))| words.iter().map(move |w| (*w, i)))
                .unzip();
            let keywords = AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(words)
                .expect("redaction keywords");
            Compiled {
                rules,
                keywords,
                keyword_rule,
                assignment: self
                    .entropy
                    .then(|| Regex::new(ASSIGNMENT).expect("assignment pattern")),
                email: self
                    .email
                    .then(|| Regex::new(EMAIL).expect("email pattern")),
            }
        })
    }

    /// Compiles the patterns now (they are compiled on first use
    /// otherwise): about 6 ms, which a caller can spend on another thread
    /// while it reads the session.
    pub fn prepare(&self) {
        self.compiled();
    }

    /// A key of the settings, for caches of redacted output.
    pub fn config_key(&self) -> &str {
        &self.key_of_config
    }

    fn fingerprint(&self, secret: &str) -> String {
        let mut h = Sha256::new();
        h.update(&self.key);
        h.update([0]);
        h.update(secret.as_bytes());
        let d = h.finalize();
        format!("{:02x}{:02x}", d[0], d[1])
    }

    fn allowed(&self, secret: &str) -> bool {
        self.allow.iter().any(|a| a.is_match(secret))
    }

    /// Redacts one string; returns the new text when anything changed.
    /// Findings go to `found` with `loc()` as their location.
    pub fn redact(
        &self,
        s: &str,
        loc: &dyn Fn() -> String,
        found: &mut Vec<Finding>,
    ) -> Option<String> {
        // (start, end, kind)
        let mut spans: Vec<(usize, usize, &str)> = Vec::new();
        if s.len() >= 8 {
            let c = self.compiled();
            // The built-in rules whose keywords are in `s` (a bit each),
            // then every custom rule.
            let mut hits = 0u64;
            for m in c.keywords.find_overlapping_iter(s) {
                hits |= 1 << c.keyword_rule[m.pattern().as_usize()];
            }
            let run = (0..c.rules.len()).filter(|&i| i >= BUILTIN.len() || hits & (1 << i) != 0);
            for i in run {
                let rule = &c.rules[i];
                for c in rule.re.captures_iter(s) {
                    let Some(m) = c.get(rule.group).or_else(|| c.get(0)) else {
                        continue;
                    };
                    if !plausible(&rule.kind, &c, m.as_str(), s) {
                        continue;
                    }
                    spans.push((m.start(), m.end(), &rule.kind));
                }
            }
            if let Some(re) = &c.assignment {
                for c in re.captures_iter(s) {
                    let m = c.get(1).expect("group 1");
                    if high_entropy(m.as_str()) && !look_alike(s, m.start(), m.as_str()) {
                        spans.push((m.start(), m.end(), "high-entropy"));
                    }
                }
            }
            if let Some(re) = &c.email {
                // A URL's `user:password@host` is not an address.
                let before = spans.clone();
                for m in re.find_iter(s) {
                    let overlaps = before.iter().any(|&(a, b, _)| a < m.end() && m.start() < b);
                    if !overlaps {
                        spans.push((m.start(), m.end(), "email"));
                    }
                }
            }
        }
        let scrub = self.scrubs.iter().any(|sc| s.contains(sc.from.as_str()));
        if spans.is_empty() && !scrub {
            return None;
        }
        spans.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        let mut out = String::with_capacity(s.len());
        let mut pos = 0;
        let mut changed = false;
        for (start, end, kind) in spans {
            if start < pos {
                continue; // overlaps a span already replaced
            }
            let secret = &s[start..end];
            if self.allowed(secret) {
                continue;
            }
            let fp = self.fingerprint(secret);
            out.push_str(&s[pos..start]);
            out.push_str(&format!("[REDACTED:{kind}:{fp}]"));
            found.push(Finding {
                kind: kind.to_string(),
                location: loc(),
                fingerprint: fp,
            });
            pos = end;
            changed = true;
        }
        out.push_str(&s[pos..]);
        for sc in &self.scrubs {
            if !out.contains(sc.from.as_str()) {
                continue;
            }
            let next = match &sc.word {
                Some(re) => re.replace_all(&out, sc.to).into_owned(),
                None => replace_path(&out, &sc.from, sc.to),
            };
            if next != out {
                changed = true;
                out = next;
            }
        }
        changed.then_some(out)
    }

    /// Whether [`Redactor::apply`] keeps the message `m` of a session (it
    /// drops messages left empty once injected text is stripped).
    pub fn keeps(&self, m: &crate::model::Message) -> bool {
        !self.strip_injected || m.parts.iter().any(|p| !injected(p))
    }

    /// Redacts every string of `session` (and its subagents) in place, and
    /// strips harness-injected parts when configured. Messages are
    /// redacted in parallel; findings come in the session's order.
    pub fn apply(&self, session: &mut Session) -> Report {
        let mut report = Report::default();
        if self.strip_injected {
            report.stripped = strip_injected(session);
        }
        let found = visit::strings_mut_par(session, &Vec::new, &|found, text, loc| {
            if let Some(new) = self.redact(text, loc, found) {
                *text = new;
            }
        });
        report.findings = found.into_iter().flatten().collect();
        report
    }
}

/// `s` with each whole occurrence of the path `from` replaced by `to`: not
/// where it is only the start of a longer name (`/home/al` in
/// `/home/alice`) or the end of one (`/x/home/al`).
fn replace_path(s: &str, from: &str, to: &str) -> String {
    let name = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '.');
    let mut out = String::with_capacity(s.len());
    let mut pos = 0;
    for (i, _) in s.match_indices(from) {
        if i < pos {
            continue;
        }
        let before = s[..i].chars().next_back();
        let mut after = s[i + from.len()..].chars();
        let whole_start = !before.is_some_and(name);
        let whole_end = match after.next() {
            None => true,
            // A sentence's full stop ends the path; `.bak` does not.
            Some('.') => !after.next().is_some_and(name),
            Some(c) => !name(c),
        };
        if whole_start && whole_end {
            out.push_str(&s[pos..i]);
            out.push_str(to);
            pos = i + from.len();
        }
    }
    out.push_str(&s[pos..]);
    out
}

/// Text the harness injected (system reminders and the like).
fn injected(p: &Part) -> bool {
    matches!(
        p,
        Part::Notice {
            kind: NoticeKind::SystemReminder | NoticeKind::Injected,
            ..
        }
    )
}

/// Removes system reminders and other injected text (and messages left
/// empty by it).
fn strip_injected(s: &mut Session) -> usize {
    let mut n = 0;
    for m in &mut s.messages {
        let before = m.parts.len();
        m.parts.retain(|p| !injected(p));
        n += before - m.parts.len();
    }
    s.messages.retain(|m| !m.parts.is_empty());
    for sub in &mut s.subagents {
        n += strip_injected(&mut sub.session);
    }
    n
}

/// Filters matches of context rules that are usually code, not secrets.
fn plausible(kind: &str, c: &regex::Captures, v: &str, s: &str) -> bool {
    let digit = v.bytes().any(|b| b.is_ascii_digit());
    let symbol = v
        .bytes()
        .any(|b| !b.is_ascii_alphanumeric() && !matches!(b, b'_' | b'.' | b'-'));
    match kind {
        "secret-assignment" => {
            if placeholder(v) {
                return false;
            }
            let name = c.get(1).map_or("", |m| m.as_str());
            let quoted = c.get(2).is_some_and(|m| !m.as_str().is_empty());
            let env_style = name
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
            // `token = getToken` is code; `TOKEN=abc`, `"token": "abc"`,
            // `token = a1b2` are values.
            quoted || env_style || digit || symbol
        }
        "bearer-token" => {
            // In prose ("bearer authentication") it is a word; after an
            // Authorization header, or looking random, it is a token.
            let start = c.get(0).map_or(0, |m| m.start());
            let mut from = start.saturating_sub(40);
            while !s.is_char_boundary(from) {
                from -= 1;
            }
            let header = s[from..start]
                .to_ascii_lowercase()
                .contains("authorization");
            header || digit || v.len() >= 30
        }
        _ => true,
    }
}

/// Values that name no secret: references, placeholders, numbers.
fn placeholder(v: &str) -> bool {
    let t = v.trim_matches(|c| c == '"' || c == '\'');
    t.starts_with('$')
        || t.starts_with("{{")
        || t.starts_with('<')
        || t.starts_with('[')
        || t.starts_with("process.env")
        || t.starts_with("os.environ")
        || t.starts_with("env.")
        || t.chars()
            .all(|c| c == '*' || c == 'x' || c == 'X' || c == '.')
        || t.parse::<f64>().is_ok()
        || matches!(
            t.to_ascii_lowercase().as_str(),
            "true"
                | "false"
                | "null"
                | "none"
                | "undefined"
                | "required"
                | "optional"
                | "string"
                | "redacted"
                | "changeme"
                | "your_token"
                | "your-token"
                | "secret"
                | "password"
                | "token"
                | "str"
                | "bool"
                | "int"
                | "number"
                | "self"
                | "this"
        )
        || (t.contains('(') || t.contains(')'))
}

/// Shannon entropy in bits per character.
fn entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

fn high_entropy(v: &str) -> bool {
    let has_digit = v.bytes().any(|b| b.is_ascii_digit());
    let has_upper = v.bytes().any(|b| b.is_ascii_uppercase());
    let has_lower = v.bytes().any(|b| b.is_ascii_lowercase());
    v.len() >= 20 && has_digit && has_upper && has_lower && entropy(v) >= 4.2
}

/// Things that look random but are not secrets: hex hashes and git SHAs,
/// UUIDs, lock-file integrity strings, base64 data URIs, paths.
pub fn look_alike(s: &str, start: usize, v: &str) -> bool {
    let hex = v.bytes().all(|b| b.is_ascii_hexdigit());
    if hex {
        return true;
    }
    let before = &s[..start];
    let lower = v.to_ascii_lowercase();
    lower.starts_with("sha1-")
        || lower.starts_with("sha256-")
        || lower.starts_with("sha384-")
        || lower.starts_with("sha512-")
        || before.ends_with("base64,")
        || before.trim_end().ends_with("sha512-")
        || v.contains('/') && v.split('/').all(|seg| seg.len() < 20)
        || v.contains('.') && v.split('.').all(|seg| seg.len() < 16)
        || is_uuid(v)
}

fn is_uuid(v: &str) -> bool {
    let parts: Vec<&str> = v.split('-').collect();
    parts.len() == 5
        && [8, 4, 4, 4, 12]
            .iter()
            .zip(&parts)
            .all(|(n, p)| p.len() == *n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn login_name() -> Option<String> {
    std::env::var("USER")
        .ok()
        .or_else(|| std::env::var("LOGNAME").ok())
        .filter(|u| !u.is_empty())
}

fn host_name() -> Option<String> {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .filter(|h| !h.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_home_folder_is_replaced_only_as_a_whole_path() {
        let h = "/home/al";
        for (text, want) in [
            ("/home/al/x.rs", "~/x.rs"),
            ("cd /home/al", "cd ~"),
            ("in /home/al.", "in ~."),
            ("file:///home/al/a", "file://~/a"),
            ("\"/home/al\",", "\"~\","),
            ("/home/alice/x", "/home/alice/x"),
            ("/home/al.bak/x", "/home/al.bak/x"),
            ("/home/al-old", "/home/al-old"),
            ("/mnt/x/home/al", "/mnt/x/home/al"),
            (
                "/home/al and /home/al/b and /home/alice",
                "~ and ~/b and /home/alice",
            ),
        ] {
            assert_eq!(replace_path(text, h, "~"), want, "{text}");
        }
    }

    fn redactor() -> Redactor {
        let cfg = RedactConfig {
            home: false,
            user: false,
            host: false,
            ..RedactConfig::default()
        };
        Redactor::new(&cfg, b"k", Path::new("config.toml")).unwrap()
    }

    fn red(s: &str) -> String {
        let mut f = Vec::new();
        redactor()
            .redact(s, &String::new, &mut f)
            .unwrap_or_else(|| s.to_string())
    }

    #[test]
    fn known_formats_are_redacted_with_a_stable_fingerprint() {
        let key = format!("ghp_{}", "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8");
        let out = red(&format!("token {key} and again {key}"));
        assert!(!out.contains(&key), "{out}");
        let tags: Vec<&str> = out.matches("[REDACTED:github-token:").collect();
        assert_eq!(tags.len(), 2);
        let a = out.split("[REDACTED:").nth(1).unwrap();
        let b = out.split("[REDACTED:").nth(2).unwrap();
        assert_eq!(a[..17], b[..17]);
    }

    /// Each built-in rule finds its secret through its keywords, whatever
    /// the case of the context around it (the keywords gate the patterns).
    #[test]
    fn every_rule_runs_through_its_keywords() {
        let samples = [
            (
                "private-key",
                "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEI\n-----END EC PRIVATE KEY-----",
            ),
            ("aws-access-key-id", "id ASIAQWERTYUIOPASDFGH here"),
            (
                "aws-secret-access-key",
                "AWS_Secret_Access_Key: wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLEKEY1",
            ),
            (
                "google-api-key",
                "key=AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
            ),
            (
                "azure-storage-key",
                &format!("accountkey = {}==", "Ab1+".repeat(21) + "Cd"),
            ),
            ("github-token", "ghs_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"),
            (
                "github-token",
                "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
            ),
            ("gitlab-token", "glrt-abcdefghij0123456789"),
            ("anthropic-key", "sk-ant-api03-abcdefghij0123456789"),
            ("openai-key", "sk-svcacct-abcdefghij0123456789"),
            ("huggingface-token", "hf_abcdefghijklmnopqrstuvwxyz0123456"),
            ("slack-token", "xoxp-1234567890-abcdef"),
            (
                "slack-webhook",
                "https://hooks.slack.com/services/T000/B000/XXXXXXXX",
            ),
            ("stripe-key", "rk_test_abcdefghij0123456789"),
            ("twilio-key", "SK0123456789abcdef0123456789abcdef"),
            (
                "sendgrid-key",
                "SG.abcdefghij0123456789.abcdefghij0123456789abcdefghij0123",
            ),
            ("npm-token", "npm_abcdefghijklmnopqrstuvwxyz0123456789"),
            ("pypi-token", &format!("pypi-AgE{}", "x1".repeat(30))),
            (
                "jwt",
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghij012",
            ),
            ("bearer-token", "BEARER q8Xw2Lp9Zr4Tn6Vb"),
            ("basic-auth", "AUTHORIZATION= Basic YWRtaW46c2VjcmV0MTIz"),
            ("url-password", "mysql://root:pa55w0rd@localhost/db"),
            ("secret-assignment", "Client_Credentials: q8w7e6r5t4"),
        ];
        for (kind, _, _, _) in BUILTIN {
            assert!(
                samples.iter().any(|(k, _)| k == kind),
                "no sample for `{kind}`"
            );
        }
        let r = redactor();
        for (kind, text) in samples {
            let mut f = Vec::new();
            r.redact(text, &String::new, &mut f);
            assert!(
                f.iter().any(|f| f.kind == kind),
                "`{kind}` not found in {text:?}: {f:?}"
            );
        }
    }

    #[test]
    fn look_alikes_survive() {
        for s in [
            "commit 3f9a2b7c4d5e6f708192a3b4c5d6e7f809112233",
            "id: 123e4567-e89b-12d3-a456-426614174000",
            "sha = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "\"integrity\": \"sha512-Q2x0YW5kZXI9dHJ1ZQ6lK9m1cPoZ8yQ4nX3vB7wR2sT5uV8aA1bC2dE3fG4hI5jK6==\"",
            "max_tokens: 4096",
            "PASSWORD=$DB_PASSWORD",
            "path = src/render/highlight/syntax_sets.rs",
        ] {
            assert_eq!(red(s), s, "{s}");
        }
    }

    #[test]
    fn assignments_headers_urls_and_pem() {
        let out =
            red("export DB_PASSWORD=hunter2hunter2\nAuthorization: Bearer abcdefghijklmnop.qrstu");
        assert!(
            !out.contains("hunter2") && !out.contains("abcdefghijklmnop"),
            "{out}"
        );
        let out = red("postgres://app:s3cr3tPass@db.internal:5432/app");
        assert!(
            !out.contains("s3cr3tPass") && out.contains("db.internal"),
            "{out}"
        );
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1234\nabcd\n-----END RSA PRIVATE KEY-----";
        let out = red(&format!("key:\n{pem}\ndone"));
        assert!(!out.contains("MIIEow") && out.contains("done"), "{out}");
    }

    #[test]
    fn allow_list_and_custom_rules() {
        let cfg = RedactConfig {
            home: false,
            user: false,
            host: false,
            rules: vec![crate::config::RedactRule {
                name: "internal-id".into(),
                regex: r"\bACME-[0-9]{6}\b".into(),
            }],
            allow: vec![r"^AKIAIOSFODNN7EXAMPLE$".into()],
            ..RedactConfig::default()
        };
        let r = Redactor::new(&cfg, b"k", Path::new("c")).unwrap();
        let mut f = Vec::new();
        let out = r
            .redact("ACME-123456 AKIAIOSFODNN7EXAMPLE", &String::new, &mut f)
            .unwrap();
        assert!(out.contains("[REDACTED:internal-id:"), "{out}");
        assert!(out.contains("AKIAIOSFODNN7EXAMPLE"), "{out}");
    }
}
