//! Ids that become parts of paths: share ids (`s/<share_id>/…` of the
//! site) and session ids (a Claude Code session's `<id>/subagents/`, an
//! OpenCode store's `message/<id>/`). Anything read from `shares.json`,
//! a store or the command line is checked here before it is joined to a
//! path, so that `../../x` never walks out of the site or the store.

/// Longest session id accepted (stores use 36 to 40 characters).
pub const MAX_SESSION_ID: usize = 200;

/// Whether `s` is a share id: 10 characters of lowercase base32
/// (`a`–`z`, `2`–`7`), as [`crate::home::share_id`] makes them.
pub fn is_share_id(s: &str) -> bool {
    s.len() == 10
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
}

/// Whether `s` can be a session id and name one file or folder: not
/// empty, at most [`MAX_SESSION_ID`] bytes, not `.` or `..`, and without
/// path separators, drive colons, NUL or other control characters.
pub fn is_session_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_SESSION_ID
        && s != "."
        && s != ".."
        && !s
            .chars()
            .any(|c| matches!(c, '/' | '\\' | ':') || c.is_control())
}

/// Why `s` is not a share id, for messages.
pub fn share_id_problem(s: &str) -> Option<String> {
    (!is_share_id(s)).then(|| {
        format!(
            "`{}` is not a share id (10 characters from a-z and 2-7)",
            s.escape_debug()
        )
    })
}

/// Why `s` is not a session id, for messages.
pub fn session_id_problem(s: &str) -> Option<String> {
    (!is_session_id(s)).then(|| {
        format!(
            "`{}` is not a session id (1 to {MAX_SESSION_ID} characters, no `/`, `\\`, `:`, control characters, `.` or `..`)",
            s.chars().take(80).collect::<String>().escape_debug()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_ids() {
        let made =
            crate::home::share_id(b"salt-salt-salt-salt", crate::model::Agent::Opencode, "x");
        assert!(is_share_id(&made), "{made}");
        for bad in [
            "",
            "../../x",
            "abcdefghi",
            "abcdefghijk",
            "ABCDEFGHIJ",
            "abcdefgh18",
            "abcde/ghij",
            "abcdefghi.",
            "abcdéfghi",
        ] {
            assert!(!is_share_id(bad), "{bad}");
            assert!(share_id_problem(bad).is_some());
        }
    }

    #[test]
    fn session_ids() {
        for good in [
            "5e551011-0000-4000-8000-0000000000cc",
            "ses_3ce42bdb9ffeEIUUu08AuKTJms",
            "agent-a36efb2a1231c41e2",
            "sidechain-u1",
            "my session",
            "...x",
        ] {
            assert!(is_session_id(good), "{good}");
        }
        let long = "x".repeat(MAX_SESSION_ID + 1);
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "a/b",
            "a\\b",
            "C:x",
            "a\0b",
            "a\nb",
            long.as_str(),
        ] {
            assert!(!is_session_id(bad), "{bad:?}");
            assert!(session_id_problem(bad).is_some());
        }
    }
}
