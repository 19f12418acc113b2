//! Terminal output: whether to colour, and the coloured prefixes.
//!
//! `--color auto` (the default) colours a stream only when it is a
//! terminal, `NO_COLOR` is unset or empty, and `TERM` is not `dumb`;
//! `always` and `never` force it.

use std::io::IsTerminal;
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

static CHOICE: OnceLock<ColorChoice> = OnceLock::new();

/// Sets the choice for the process (first call wins).
pub fn init(choice: ColorChoice) {
    let _ = CHOICE.set(choice);
}

fn env_allows() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var("TERM").map_or(true, |t| t != "dumb")
}

/// Whether `--color` (or, for `auto`, the environment) allows colour on a
/// stream that is (or is not) a terminal.
pub fn decide(choice: ColorChoice, is_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => is_terminal && env_allows(),
    }
}

pub fn stderr_color() -> bool {
    decide(
        CHOICE.get().copied().unwrap_or_default(),
        std::io::stderr().is_terminal(),
    )
}

pub fn stdout_color() -> bool {
    decide(
        CHOICE.get().copied().unwrap_or_default(),
        std::io::stdout().is_terminal(),
    )
}

fn paint(on: bool, code: &str, text: &str) -> String {
    if on {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// `warning:` for stderr.
pub fn warning() -> String {
    paint(stderr_color(), "1;33", "warning:")
}

/// `error:` for stderr.
pub fn error() -> String {
    paint(stderr_color(), "1;31", "error:")
}

/// Bold text for stdout (table headers).
pub fn bold_stdout(text: &str) -> String {
    paint(stdout_color(), "1", text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices() {
        assert!(decide(ColorChoice::Always, false));
        assert!(!decide(ColorChoice::Never, true));
        assert!(!decide(ColorChoice::Auto, false));
    }
}
