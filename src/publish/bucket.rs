//! Publishing to a bucket with object_store.

use super::{LocalSite, PublishOptions, PublishReport};
use crate::diag::Diag;
use crate::error::{Error, Result};

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

/// Syncs `site` into the bucket.
pub fn publish(
    _site: &LocalSite,
    target: &BucketTarget,
    _opts: &PublishOptions,
    _diag: &Diag,
) -> Result<PublishReport> {
    Err(Error::publish(
        super::redact_url(&target.url),
        "bucket publishing is not built yet (issue 6)",
    ))
}

/// Checks that the bucket is reachable with the configured credentials
/// (one list call), writing nothing.
pub fn check(target: &BucketTarget) -> Result<String> {
    Err(Error::publish(
        super::redact_url(&target.url),
        "bucket publishing is not built yet (issue 6)",
    ))
}
