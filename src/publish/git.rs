//! Publishing to a git branch with libgit2.

use super::{LocalSite, PublishOptions, PublishReport};
use crate::cli::History;
use crate::diag::Diag;
use crate::error::{Error, Result};
use std::path::Path;

/// A git branch to publish to.
#[derive(Debug, Clone)]
pub struct GitTarget {
    pub url: String,
    pub branch: String,
    pub prefix: Option<String>,
    pub history: History,
    pub message: Option<String>,
    pub git_cli: bool,
}

/// `https://OWNER.github.io/REPO/` for a GitHub remote.
pub fn github_pages_url(_url: &str, _prefix: Option<&str>) -> Option<String> {
    None
}

/// Commits `site` onto the branch and pushes it.
pub fn publish(
    _site: &LocalSite,
    target: &GitTarget,
    _cache: &Path,
    _opts: &PublishOptions,
    _diag: &Diag,
) -> Result<PublishReport> {
    Err(Error::publish(
        super::redact_url(&target.url),
        "git publishing is not built yet (issue 5)",
    ))
}
