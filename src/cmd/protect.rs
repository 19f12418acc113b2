//! `--password`, `--password-env VAR` and `--key-in-url` (share, export).

use crate::cli::ProtectArgs;
use crate::error::{Error, Result};
use crate::protect::Protection;
use std::io::IsTerminal;
use std::path::Path;

/// Shorter passwords get a warning: the page can be attacked offline.
const SHORT_PASSWORD: usize = 10;

/// The protection the flags ask for, if any. A password is asked on the
/// terminal (twice, without echo) or read from the environment, then
/// stretched with PBKDF2; the password itself is not kept.
pub fn from_args(args: &ProtectArgs) -> Result<Option<Protection>> {
    if args.key_in_url {
        return Protection::key_in_url().map(Some);
    }
    let password = if let Some(var) = &args.password_env {
        match std::env::var(var) {
            Ok(v) if !v.is_empty() => v,
            Ok(_) => {
                return Err(Error::Usage(format!(
                    "--password-env {var}: the variable is empty"
                )));
            }
            Err(std::env::VarError::NotPresent) => {
                return Err(Error::Usage(format!(
                    "--password-env {var}: the variable is not set"
                )));
            }
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(Error::Usage(format!(
                    "--password-env {var}: the password is not valid UTF-8"
                )));
            }
        }
    } else if args.password {
        ask()?
    } else {
        return Ok(None);
    };
    if password.chars().count() < SHORT_PASSWORD {
        eprintln!(
            "warning: a password under {SHORT_PASSWORD} characters can be guessed offline by anyone \
             who has the page; prefer a long passphrase or --key-in-url"
        );
    }
    Protection::password(&password).map(Some)
}

fn ask() -> Result<String> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::Usage(
            "--password asks for the password on a terminal, and there is none: \
             pass --password-env VAR with the password in that environment variable"
                .into(),
        ));
    }
    let tty = |e: std::io::Error| Error::io("(terminal)", e);
    let first = rpassword::prompt_password("Password: ").map_err(tty)?;
    if first.is_empty() {
        return Err(Error::Usage("the password is empty".into()));
    }
    let again = rpassword::prompt_password("Repeat the password: ").map_err(tty)?;
    if again != first {
        return Err(Error::Usage(
            "the passwords differ; nothing was changed".into(),
        ));
    }
    Ok(first)
}

/// A `file://` URL for a local page, with `fragment` (`#k=…`).
pub fn file_url(path: &Path, fragment: &str) -> String {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut url = String::from("file://");
    for c in abs.to_string_lossy().chars() {
        match c {
            ' ' => url.push_str("%20"),
            '#' => url.push_str("%23"),
            '?' => url.push_str("%3F"),
            '%' => url.push_str("%25"),
            '\\' => url.push('/'),
            c => url.push(c),
        }
    }
    if !url[7..].starts_with('/') {
        // Windows: file:///C:/…
        url.insert(7, '/');
    }
    url.push_str(fragment);
    url
}
