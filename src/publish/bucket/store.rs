//! Bucket URLs, the `object_store` client for each scheme, and error
//! messages that name the target and never a secret.

use super::BucketTarget;
use super::profile::{AwsProfile, aws_profile};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{BackoffConfig, ClientOptions, ObjectStore, RetryConfig};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The storage service behind a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    S3,
    Gcs,
    Azure,
    File,
}

/// A parsed bucket URL: `s3://BUCKET/PREFIX`, `gs://BUCKET/PREFIX`,
/// `az://CONTAINER/PREFIX`, `file:///DIR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketUrl {
    pub kind: Kind,
    /// The bucket or container; for `file://`, the folder.
    pub bucket: String,
    /// The key prefix inside the bucket, without leading or trailing `/`
    /// (empty: the bucket's root). Always empty for `file://`.
    pub prefix: String,
}

pub use crate::publish::clean_prefix;

/// Joins key prefixes; empty parts vanish.
pub fn join_prefix(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_string(),
        (_, true) => a.to_string(),
        _ => format!("{a}/{b}"),
    }
}

impl BucketUrl {
    pub fn parse(url: &str) -> Result<BucketUrl, String> {
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(format!(
                "`{url}` is not a bucket URL: use s3://BUCKET/PREFIX, gs://BUCKET/PREFIX, \
                 az://CONTAINER/PREFIX or file:///DIR"
            ));
        };
        let kind = match scheme.to_ascii_lowercase().as_str() {
            "s3" | "s3a" => Kind::S3,
            "gs" | "gcs" => Kind::Gcs,
            "az" | "azure" => Kind::Azure,
            "file" => Kind::File,
            other => {
                return Err(format!(
                    "unknown bucket scheme `{other}://`: use s3://, gs://, az:// or file://"
                ));
            }
        };
        if kind == Kind::File {
            let dir = rest.strip_prefix("localhost").unwrap_or(rest);
            // A file URL's path is percent-encoded: `sub%20dir` is "sub dir".
            let dir = percent_encoding::percent_decode_str(dir)
                .decode_utf8()
                .map_err(|_| format!("`{url}`: the path is not UTF-8 once decoded"))?;
            if !dir.starts_with('/') {
                return Err(format!(
                    "`{url}`: a file URL needs an absolute path, as in file:///srv/site"
                ));
            }
            if dir.split('/').any(|c| c == "..") {
                return Err(format!("`{url}`: no `..` in the path"));
            }
            return Ok(BucketUrl {
                kind,
                bucket: dir.to_string(),
                prefix: String::new(),
            });
        }
        let (bucket, path) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() || bucket.contains(['@', '?', '#', ' ']) {
            return Err(format!(
                "`{url}`: expected {scheme}://BUCKET/PREFIX with a plain bucket name"
            ));
        }
        Ok(BucketUrl {
            kind,
            bucket: bucket.to_string(),
            prefix: clean_prefix(path).map_err(|e| format!("`{url}`: {e}"))?,
        })
    }
}

/// What the publisher talks to.
#[derive(Debug)]
pub struct Remote {
    pub store: Arc<dyn ObjectStore>,
    pub kind: Kind,
    /// The key prefix every site path goes under (empty: the root).
    pub prefix: String,
    /// The target as shown to people: URL plus prefix, no credentials.
    pub shown: String,
    /// The bucket or folder name, for messages.
    pub bucket: String,
    /// The endpoint in use, for messages (`None`: the provider's own).
    pub endpoint: Option<String>,
    /// Whether the store keeps Content-Type and Cache-Control
    /// (`LocalFileSystem` refuses attributes).
    pub attributes: bool,
    /// Whether `PutMode::Update` is known not to work, so the manifest is
    /// written under a lock object instead (see `super::write_manifest`).
    pub lock_writes: bool,
    /// Secret values to scrub from any message.
    secrets: Vec<String>,
}

impl Remote {
    /// The object key of a site path.
    pub fn key(&self, rel: &str) -> Result<ObjectPath, String> {
        ObjectPath::parse(join_prefix(&self.prefix, rel))
            .map_err(|e| format!("`{rel}` is not a valid object key: {e}"))
    }

    /// A message fit to print: secrets replaced, URLs without query
    /// strings or user info.
    pub fn scrub(&self, text: &str) -> String {
        scrub(text, &self.secrets)
    }

    /// A remote over any store (for unit tests).
    #[cfg(test)]
    pub fn for_tests(store: Arc<dyn ObjectStore>, prefix: &str) -> Remote {
        Remote {
            store,
            kind: Kind::S3,
            prefix: prefix.to_string(),
            shown: format!("memory://{prefix}"),
            bucket: "memory".into(),
            endpoint: None,
            attributes: true,
            lock_writes: false,
            secrets: Vec::new(),
        }
    }

    /// Explains a failed request in one line.
    pub fn explain(&self, op: &str, key: &str, err: &object_store::Error) -> String {
        explain(self, op, key, err)
    }
}

/// Timeouts and retries: a dead endpoint or an unreachable metadata
/// service fails in seconds, not minutes (object_store's defaults retry
/// ten times over up to three minutes).
fn client_options(allow_http: bool) -> ClientOptions {
    ClientOptions::new()
        .with_allow_http(allow_http)
        .with_connect_timeout(Duration::from_secs(3))
        .with_timeout(Duration::from_secs(300))
}

fn retry_config() -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            base: 2.0,
        },
        max_retries: 2,
        retry_timeout: Duration::from_secs(20),
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn truthy(name: &str) -> bool {
    env(name)
        .is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
}

/// Opens the target. `dry_run`: change nothing, not even by creating the
/// folder of a `file://` target.
pub fn open(target: &BucketTarget, dry_run: bool) -> Result<Remote, String> {
    let url = BucketUrl::parse(&target.url)?;
    let extra = clean_prefix(target.prefix.as_deref().unwrap_or(""))
        .map_err(|e| format!("--prefix: {e}"))?;
    let prefix = join_prefix(&url.prefix, &extra);
    let shown = {
        let base = super::super::redact_url(&target.url);
        let base = base.trim_end_matches('/');
        if extra.is_empty() {
            base.to_string()
        } else {
            format!("{base}/{extra}")
        }
    };
    let mut secrets = Vec::new();
    let endpoint = target.endpoint.clone().filter(|e| !e.trim().is_empty());
    if endpoint.is_some() && matches!(url.kind, Kind::File) {
        return Err("--endpoint does not apply to file:// targets".into());
    }
    let (store, endpoint, attributes): (Arc<dyn ObjectStore>, Option<String>, bool) = match url.kind
    {
        Kind::S3 => {
            let (s3, endpoint) = s3(&url, target, endpoint, &mut secrets)?;
            (Arc::new(s3), endpoint, true)
        }
        Kind::Gcs => {
            let mut b = GoogleCloudStorageBuilder::from_env()
                .with_bucket_name(&url.bucket)
                .with_retry(retry_config());
            if let Some(k) = b.get_config_value(&GoogleConfigKey::ServiceAccountKey) {
                secrets.push(k);
            }
            if let Some(e) = &endpoint {
                b = b.with_base_url(e.trim_end_matches('/'));
            }
            b = b.with_client_options(client_options(
                endpoint
                    .as_deref()
                    .is_some_and(|e| e.starts_with("http://")),
            ));
            let store = b.build().map_err(|e| scrub(&e.to_string(), &secrets))?;
            (Arc::new(store), endpoint, true)
        }
        Kind::Azure => {
            let mut b = MicrosoftAzureBuilder::from_env()
                .with_container_name(&url.bucket)
                .with_retry(retry_config());
            for k in [
                AzureConfigKey::AccessKey,
                AzureConfigKey::SasKey,
                AzureConfigKey::Token,
                AzureConfigKey::ClientSecret,
            ] {
                if let Some(v) = b.get_config_value(&k) {
                    secrets.push(v);
                }
            }
            if b.get_config_value(&AzureConfigKey::AccountName).is_none()
                && b.get_config_value(&AzureConfigKey::UseEmulator).as_deref() != Some("true")
            {
                return Err(
                    "az:// needs the storage account: set AZURE_STORAGE_ACCOUNT_NAME \
                            (and AZURE_STORAGE_ACCOUNT_KEY or AZURE_STORAGE_SAS_KEY)"
                        .into(),
                );
            }
            if let Some(e) = &endpoint {
                b = b.with_endpoint(e.trim_end_matches('/').to_string());
            }
            let http = endpoint
                .as_deref()
                .is_some_and(|e| e.starts_with("http://"));
            b = b
                .with_allow_http(http)
                .with_client_options(client_options(http));
            let store = b.build().map_err(|e| scrub(&e.to_string(), &secrets))?;
            (Arc::new(store), endpoint, true)
        }
        Kind::File if dry_run && !std::path::Path::new(&url.bucket).exists() => {
            // A folder that does not exist yet holds nothing: plan against
            // an empty store instead of creating it.
            (Arc::new(object_store::memory::InMemory::new()), None, false)
        }
        Kind::File => {
            let dir = PathBuf::from(&url.bucket);
            std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let fs = LocalFileSystem::new_with_prefix(&dir)
                .map_err(|e| e.to_string())?
                .with_automatic_cleanup(true);
            (Arc::new(fs), None, false)
        }
    };
    secrets.retain(|s| s.len() >= 4);
    Ok(Remote {
        store,
        kind: url.kind,
        prefix,
        shown,
        bucket: url.bucket,
        endpoint,
        attributes,
        // LocalFileSystem has no `PutMode::Update`; other stores that lack
        // it are found out on the first manifest write.
        lock_writes: url.kind == Kind::File,
        secrets,
    })
}

/// The S3 client: `AWS_*` variables first, then the shared config files'
/// profile, then flags (`--endpoint`, `--region`) over both.
fn s3(
    url: &BucketUrl,
    target: &BucketTarget,
    endpoint: Option<String>,
    secrets: &mut Vec<String>,
) -> Result<(object_store::aws::AmazonS3, Option<String>), String> {
    let mut b = AmazonS3Builder::from_env()
        .with_bucket_name(&url.bucket)
        .with_retry(retry_config());
    let has_env_keys = b
        .get_config_value(&AmazonS3ConfigKey::AccessKeyId)
        .is_some();
    let home = dirs::home_dir();
    let profile: Option<AwsProfile> = match aws_profile(&env, home.as_deref()) {
        Ok(p) => p,
        // With keys in the environment a broken profile does not matter.
        Err(_) if has_env_keys => None,
        Err(e) => return Err(e),
    };
    if !has_env_keys
        && let Some(p) = &profile
        && let (Some(k), Some(s)) = (&p.access_key_id, &p.secret_access_key)
    {
        b = b.with_access_key_id(k).with_secret_access_key(s);
        if let Some(t) = &p.session_token {
            b = b.with_token(t);
        }
    }
    let endpoint = endpoint
        .or_else(|| b.get_config_value(&AmazonS3ConfigKey::Endpoint))
        .or_else(|| profile.as_ref().and_then(|p| p.endpoint_url.clone()))
        .map(|e| e.trim_end_matches('/').to_string());
    if let Some(e) = &endpoint {
        if !(e.starts_with("http://") || e.starts_with("https://")) {
            return Err(format!(
                "endpoint `{}` must start with http:// or https://",
                super::super::redact_url(e)
            ));
        }
        b = b.with_endpoint(e);
    }
    let region = target
        .region
        .clone()
        .or_else(|| env("AWS_REGION"))
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .or_else(|| profile.as_ref().and_then(|p| p.region.clone()));
    if let Some(r) = region {
        b = b.with_region(r);
    }
    let http = endpoint
        .as_deref()
        .is_some_and(|e| e.starts_with("http://"));
    b = b.with_client_options(client_options(http));
    for k in [AmazonS3ConfigKey::SecretAccessKey, AmazonS3ConfigKey::Token] {
        if let Some(v) = b.get_config_value(&k) {
            secrets.push(v);
        }
    }
    let has_keys = b
        .get_config_value(&AmazonS3ConfigKey::AccessKeyId)
        .is_some();
    let has_secret = b
        .get_config_value(&AmazonS3ConfigKey::SecretAccessKey)
        .is_some();
    match (has_keys, has_secret) {
        (true, false) => {
            return Err(
                "an access key is set (AWS_ACCESS_KEY_ID) but no secret: set \
                        AWS_SECRET_ACCESS_KEY too"
                    .into(),
            );
        }
        (false, true) => {
            return Err(
                "a secret key is set (AWS_SECRET_ACCESS_KEY) but no access key: set \
                        AWS_ACCESS_KEY_ID too"
                    .into(),
            );
        }
        _ => {}
    }
    let has_other_source = [
        AmazonS3ConfigKey::WebIdentityTokenFile,
        AmazonS3ConfigKey::ContainerCredentialsRelativeUri,
        AmazonS3ConfigKey::ContainerCredentialsFullUri,
    ]
    .iter()
    .any(|k| b.get_config_value(k).is_some());
    if !has_keys && !has_other_source {
        // Only the EC2 instance metadata service is left. It exists on
        // AWS only: never ask it on behalf of another endpoint, or when
        // the standard switch turns it off.
        if endpoint.is_some() || truthy("AWS_EC2_METADATA_DISABLED") {
            return Err(no_credentials_message(endpoint.as_deref()));
        }
    }
    let s3 = b.build().map_err(|e| scrub(&e.to_string(), secrets))?;
    Ok((s3, endpoint))
}

fn no_credentials_message(endpoint: Option<&str>) -> String {
    let why = match endpoint {
        Some(_) => "",
        None => " (and AWS_EC2_METADATA_DISABLED rules out instance credentials)",
    };
    format!(
        "no credentials{why}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE \
         with a profile in ~/.aws/credentials"
    )
}

/// Which variables hold the credentials, per provider, for hints.
fn credential_hint(kind: Kind) -> &'static str {
    match kind {
        Kind::S3 => "check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or the AWS_PROFILE profile)",
        Kind::Gcs => {
            "check GOOGLE_APPLICATION_CREDENTIALS / GOOGLE_SERVICE_ACCOUNT (or `gcloud auth \
             application-default login`)"
        }
        Kind::Azure => {
            "check AZURE_STORAGE_ACCOUNT_NAME / AZURE_STORAGE_ACCOUNT_KEY (or \
             AZURE_STORAGE_SAS_KEY)"
        }
        Kind::File => "check the folder's permissions",
    }
}

/// The text between `<tag>` and `</tag>` in an S3/GCS/Azure XML error body.
fn xml_field<'a>(text: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = text.find(&open)? + open.len();
    let len = text[start..].find(&format!("</{tag}>"))?;
    Some(text[start..start + len].trim()).filter(|s| !s.is_empty())
}

/// The messages of an error and its sources, outermost first.
fn chain(err: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out = vec![err.to_string()];
    let mut cur = err.source();
    while let Some(e) = cur {
        out.push(e.to_string());
        cur = e.source();
    }
    out
}

/// Whether a `NotFound` is about the bucket rather than the object.
pub fn is_missing_bucket(err: &object_store::Error) -> bool {
    let text = chain(err).join(": ");
    text.contains("NoSuchBucket") || text.contains("ContainerNotFound")
}

fn explain(remote: &Remote, op: &str, key: &str, err: &object_store::Error) -> String {
    use object_store::Error as E;
    let causes = chain(err);
    let text = causes.join(": ");
    let code = xml_field(&text, "Code");
    let server_msg = xml_field(&text, "Message").map(|m| remote.scrub(m));
    let hint = credential_hint(remote.kind);
    let what = match (code, &server_msg) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c.to_string(),
        (None, _) => String::new(),
    };
    // The cloud instance metadata services: AWS (IMDS, or
    // AWS_METADATA_ENDPOINT), GCE, Azure managed identity.
    if text.contains("/latest/api/token")
        || text.contains("/latest/meta-data/")
        || text.contains("169.254.169.254")
        || text.contains("metadata.google.internal")
    {
        return format!(
            "no credentials found ({}), and the cloud instance metadata service did not answer",
            hint.trim_start_matches("check ")
        );
    }
    match err {
        E::PermissionDenied { .. } | E::Unauthenticated { .. } => {
            let specific = match code {
                Some("InvalidAccessKeyId") => Some(
                    "the server does not know this access key: check AWS_ACCESS_KEY_ID (or the \
                     AWS_PROFILE profile)",
                ),
                Some("SignatureDoesNotMatch") => Some(
                    "the secret key does not match the access key: check AWS_SECRET_ACCESS_KEY \
                     (or the AWS_PROFILE profile)",
                ),
                Some("ExpiredToken") | Some("InvalidToken") | Some("TokenRefreshRequired") => {
                    Some("the session token is expired or invalid: refresh AWS_SESSION_TOKEN")
                }
                _ => None,
            };
            let code = code.map(|c| format!(" ({c})")).unwrap_or_default();
            match specific {
                Some(s) => format!("access denied{code}: {s}"),
                None => format!(
                    "access denied{code} to {op} {key}: {hint}, and that they may list, read, \
                     write and delete objects in {}",
                    remote.bucket
                ),
            }
        }
        E::NotFound { .. } if code == Some("NoSuchBucket") || text.contains("NoSuchBucket") => {
            format!(
                "bucket `{}` does not exist{}: create it first, or check the URL{}",
                remote.bucket,
                remote
                    .endpoint
                    .as_deref()
                    .map(|e| format!(" at {}", super::super::redact_url(e)))
                    .unwrap_or_default(),
                if remote.kind == Kind::S3 {
                    ", --endpoint and --region"
                } else {
                    " and --endpoint"
                }
            )
        }
        _ if !what.is_empty() => format!("{op} {key} failed: {what}"),
        _ => {
            let lower = text.to_ascii_lowercase();
            if lower.contains("error sending request")
                || lower.contains("connection refused")
                || lower.contains("dns error")
                || lower.contains("timed out")
                || lower.contains("tcp connect")
            {
                let at = remote
                    .endpoint
                    .as_deref()
                    .map(super::super::redact_url)
                    .unwrap_or_else(|| remote.shown.clone());
                let cause = causes.last().map_or("", |c| c.as_str());
                return format!(
                    "cannot reach {at} ({op} {key}): {}",
                    shorten(&remote.scrub(cause))
                );
            }
            format!("{op} {key} failed: {}", shorten(&remote.scrub(&text)))
        }
    }
}

fn shorten(s: &str) -> String {
    const MAX: usize = 400;
    if s.len() <= MAX {
        return s.to_string();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Replaces every secret with `***`, and drops the query string and user
/// info of every URL (SAS tokens and presigned parameters live there).
pub fn scrub(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for s in secrets {
        if !s.is_empty() {
            out = out.replace(s.as_str(), "***");
        }
    }
    let mut result = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(i) = rest.find("://") {
        // Back up to the start of the scheme.
        let start = rest[..i]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.'))
            .map_or(0, |j| j + 1);
        result.push_str(&rest[..start]);
        let end = rest[i..]
            .find(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == '<' || c == '>')
            .map_or(rest.len(), |j| i + j);
        let url = &rest[start..end];
        let url = url.split(['?', '#']).next().unwrap_or(url);
        result.push_str(&super::super::redact_url(url));
        rest = &rest[end..];
    }
    result.push_str(rest);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bucket_urls() {
        let u = BucketUrl::parse("s3://b/a/b/").unwrap();
        assert_eq!(
            (u.kind, u.bucket.as_str(), u.prefix.as_str()),
            (Kind::S3, "b", "a/b")
        );
        let u = BucketUrl::parse("gs://b").unwrap();
        assert_eq!((u.kind, u.prefix.as_str()), (Kind::Gcs, ""));
        assert_eq!(BucketUrl::parse("az://c/x").unwrap().kind, Kind::Azure);
        let u = BucketUrl::parse("file:///srv/site").unwrap();
        assert_eq!((u.kind, u.bucket.as_str()), (Kind::File, "/srv/site"));
        let u = BucketUrl::parse("file:///srv/my%20site").unwrap();
        assert_eq!(u.bucket, "/srv/my site");
        for bad in [
            "file:///a/%2E%2E/b",
            "bucket",
            "ftp://x/y",
            "s3:///x",
            "s3://b/../x",
            "s3://b/a//b",
            "file://rel/dir",
            "file:///a/../b",
            "s3://user:pw@b/x",
        ] {
            assert!(BucketUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn prefixes_join() {
        assert_eq!(join_prefix("", "x"), "x");
        assert_eq!(join_prefix("a", ""), "a");
        assert_eq!(join_prefix("a", "b/c"), "a/b/c");
        assert_eq!(clean_prefix("/a/b/").unwrap(), "a/b");
        assert!(clean_prefix("a/./b").is_err());
    }

    #[test]
    fn scrub_removes_secrets_queries_and_user_info() {
        let s = scrub(
            "GET https://acct.blob.core.windows.net/c/k?sig=SECRETSIG&se=1 failed: key \
             wJalrXUtnFEMI was wrong, see http://u:p@host/x",
            &["wJalrXUtnFEMI".into()],
        );
        assert!(!s.contains("SECRETSIG") && !s.contains("wJalrXUtnFEMI") && !s.contains("u:p"));
        assert!(
            s.contains("https://acct.blob.core.windows.net/c/k failed"),
            "{s}"
        );
        assert!(s.contains("http://host/x"), "{s}");
    }

    #[test]
    fn xml_fields() {
        let body = "<Error><Code>SignatureDoesNotMatch</Code><Message>nope</Message></Error>";
        assert_eq!(xml_field(body, "Code"), Some("SignatureDoesNotMatch"));
        assert_eq!(xml_field(body, "Message"), Some("nope"));
        assert_eq!(xml_field(body, "Other"), None);
    }
}
