//! Command-line arguments.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

pub const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  error (I/O, unreadable input, …)
  2  usage error, or an unknown or ambiguous session
  3  refused for safety";

#[derive(Parser, Debug)]
#[command(
    name = "sharegen",
    version,
    about = "Share AI coding-agent sessions as self-contained, self-hosted pages",
    after_help = EXIT_CODES,
)]
pub struct Cli {
    /// Say more (which stores were found, …).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Print only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// When to use colours: auto (a terminal without NO_COLOR), always, never.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = crate::term::ColorChoice::Auto)]
    pub color: crate::term::ColorChoice,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List sessions found in the agents' local stores, newest first.
    #[command(after_help = concat!(
        "Examples:\n",
        "  sharegen list\n",
        "  sharegen list --agent claude-code --since 7d\n",
        "  sharegen list --project myrepo --limit 5 --json\n\n",
        "Exit codes: 0 success, 1 error, 2 usage error"
    ))]
    List(ListArgs),
    /// Export a session as one self-contained HTML page, Markdown or JSON.
    #[command(after_help = concat!(
        "SESSION is a full id, a unique id prefix, a path to a session file, folder,\n",
        "database or export, or `latest`. Without it, $CLAUDE_SESSION_ID or\n",
        "$OPENCODE_SESSION_ID is used. The format follows the extension of -o\n",
        "(.html, .md, .json) unless --format is given; the default is HTML, written\n",
        "to ./<share_id>.html.\n\n",
        "Examples:\n",
        "  sharegen export latest --open\n",
        "  sharegen export 3f2a -o review.md\n",
        "  sharegen export 3f2a --format json -o -\n",
        "  sharegen export latest -o pages/ --json\n",
        "  sharegen export 3f2a --password-env PAGE_PASSWORD -o review.html\n",
        "  sharegen export --all --agent claude-code --since 30d -o archive/\n\n",
        "Exit codes: 0 success, 1 error, 2 usage error or unknown/ambiguous session"
    ))]
    Export(ExportArgs),
    /// Share a session: add it to the allowlist and print its ID and URL.
    #[command(after_help = concat!(
        "Sharing is explicit: only shared sessions are built and published. The first\n",
        "time a session from a project folder is shared, sharegen asks (on a TTY) or\n",
        "refuses with exit code 3 (off a TTY) until `sharegen allow <dir>` or --yes.\n\n",
        "Examples:\n",
        "  sharegen share latest\n",
        "  sharegen share 3f2a --expires 7d --title \"Fixing the flaky test\"\n",
        "  sharegen share \"$CLAUDE_SESSION_ID\" --yes\n",
        "  sharegen share 3f2a --password            (asks for it; --password-env VAR off a terminal)\n",
        "  sharegen share 3f2a --key-in-url          (prints the link with its key)\n",
        "  sharegen share 3f2a --no-password\n\n",
        "A protected share is published encrypted (AES-256-GCM; the password goes\n",
        "through PBKDF2-SHA256 at 600,000 iterations). Sharing it again keeps the\n",
        "protection; --no-password removes it.\n\n",
        "Exit codes: 0 success, 1 error, 2 usage error or unknown/ambiguous session, 3 refused"
    ))]
    Share(ShareArgs),
    /// Remove a share; the next build, watch cycle or publish removes its page.
    #[command(after_help = concat!(
        "Examples:\n",
        "  sharegen unshare 3f2a\n",
        "  sharegen unshare k7xq2m4p9a\n\n",
        "Exit codes: 0 success, 1 error, 2 unknown share or session"
    ))]
    Unshare {
        /// A session (id, prefix, path, latest) or a share ID.
        target: String,
    },
    /// List the shares.
    #[command(after_help = concat!(
        "Examples:\n",
        "  sharegen shares\n",
        "  sharegen shares --json | jq -r '.[].url'\n\n",
        "Exit codes: 0 success, 1 error"
    ))]
    Shares {
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Allow sharing sessions from a project folder (and folders below it).
    #[command(
        after_help = "Examples:\n  sharegen allow ~/src/myrepo\n\nExit codes: 0 success, 1 error"
    )]
    Allow { dir: PathBuf },
    /// Stop allowing a project folder.
    #[command(
        after_help = "Examples:\n  sharegen disallow ~/src/myrepo\n\nExit codes: 0 success, 1 error, 2 not allowed"
    )]
    Disallow { dir: PathBuf },
    /// Render every shared, unexpired session into a static site.
    #[command(after_help = concat!(
        "Writes s/<share_id>/index.html and session.json, index.html, 404.html,\n",
        ".nojekyll, robots.txt and sharegen-manifest.json. Only what changed is\n",
        "rewritten; unshared and expired shares are removed.\n\n",
        "Examples:\n",
        "  sharegen build\n",
        "  sharegen build --out public/ --json\n\n",
        "Exit codes: 0 success, 1 error (some shares could not be rendered)"
    ))]
    Build(BuildArgs),
    /// Keep the site up to date while shared sessions change.
    #[command(after_help = concat!(
        "Watches the shared sessions' files (and OpenCode's database and -wal file)\n",
        "and the share list; after each burst of changes (quiet for --debounce ms) it\n",
        "re-renders the shares whose sources changed. Pages written by watch follow\n",
        "their session when served over http(s). With --publish, each rebuild that\n",
        "changed files is published to the targets in config.toml. Ctrl-C stops cleanly.\n\n",
        "Examples:\n",
        "  sharegen watch\n",
        "  sharegen watch --publish\n",
        "  sharegen watch --out public/ --debounce 500\n\n",
        "Exit codes: 0 stopped cleanly, 1 error, 2 usage error (such as --publish with no target)"
    ))]
    Watch(WatchArgs),
    /// Build the site and publish it to a git branch or a bucket.
    #[command(after_help = concat!(
        "Builds the site (as `build` does), then syncs it by manifest: only changed\n",
        "files are uploaded, and only files this publisher wrote before and that are\n",
        "gone now (unshared or expired shares) are deleted. Other files on the target\n",
        "(a CNAME, other folders, other publishers' shares) are left alone.\n\n",
        "Targets come from the flags, else from [publish.git] / [publish.bucket] in\n",
        "config.toml (both, when both are set).\n\n",
        "Git authentication, in order: the SSH agent, keys in ~/.ssh, a token from\n",
        "SHAREGEN_GIT_TOKEN, GITHUB_TOKEN or GH_TOKEN (HTTPS), git credential helpers.\n",
        "Bucket credentials come from each provider's standard environment variables\n",
        "(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, GOOGLE_SERVICE_ACCOUNT, AZURE_STORAGE_*).\n\n",
        "Examples:\n",
        "  sharegen publish --git git@github.com:me/shares.git\n",
        "  sharegen publish --git https://github.com/me/site.git --prefix shares --dry-run\n",
        "  sharegen publish --history squash\n",
        "  sharegen publish --bucket s3://my-bucket/shares --region eu-west-1\n",
        "  sharegen publish --bucket s3://shares --endpoint https://ACCOUNT.r2.cloudflarestorage.com --json\n\n",
        "Exit codes: 0 success, 1 error (refused push, bad credentials, …), 2 usage error"
    ))]
    Publish(PublishArgs),
    /// Show what redaction would remove from a session, without writing a page.
    #[command(after_help = concat!(
        "Lists each secret found (kind, where, fingerprint) and the harness-injected\n",
        "parts that would be stripped. The secrets themselves are never printed.\n",
        "Rules, allow-list patterns and scrubbing are set in [redact] in config.toml.\n\n",
        "Examples:\n",
        "  sharegen redact-check latest\n",
        "  sharegen redact-check 3f2a --json\n\n",
        "Exit codes: 0 success, 1 error, 2 usage error or unknown/ambiguous session"
    ))]
    RedactCheck {
        /// The session: id, id prefix, path, or `latest`.
        session: Option<String>,
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Show or create the configuration file.
    #[command(subcommand, after_help = concat!(
        "config.toml lives in sharegen's home ($SHAREGEN_HOME, else the platform's\n",
        "config folder). Precedence: flags, then SHAREGEN_* variables, then the file,\n",
        "then the defaults. Every key is documented in docs/config.md.\n\n",
        "Examples:\n",
        "  sharegen config init\n",
        "  sharegen config show\n",
        "  sharegen config show --json\n\n",
        "Exit codes: 0 success, 1 error (unreadable or invalid file), 3 refused (file exists)"
    ))]
    Config(ConfigCommand),
    /// Check the agents' stores, the configuration, the share list and the publish targets.
    #[command(after_help = concat!(
        "Writes nothing. Publish targets are checked without pushing (git: ls-remote;\n",
        "bucket: one list call).\n\n",
        "Examples:\n",
        "  sharegen doctor\n",
        "  sharegen doctor --json\n\n",
        "Exit codes: 0 no problem found, 1 a problem was found"
    ))]
    Doctor {
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Export a session to a temporary page and open it in the default browser.
    #[command(after_help = concat!(
        "The page is written to sharegen's cache folder (open/<share_id>.html), with\n",
        "redaction applied, and opened with the system's default browser.\n\n",
        "Examples:\n",
        "  sharegen open latest\n",
        "  sharegen open 3f2a\n\n",
        "Exit codes: 0 success, 1 error, 2 usage error or unknown/ambiguous session"
    ))]
    Open {
        /// The session: id, id prefix, path, or `latest`.
        session: Option<String>,
        /// The page theme.
        #[arg(long, value_name = "NAME")]
        theme: Option<String>,
    },
    /// Print a shell completion script.
    #[command(after_help = concat!(
        "Examples:\n",
        "  sharegen completions bash > ~/.local/share/bash-completion/completions/sharegen\n",
        "  sharegen completions zsh > ~/.zfunc/_sharegen\n",
        "  sharegen completions fish > ~/.config/fish/completions/sharegen.fish\n\n",
        "Exit codes: 0 success, 2 usage error"
    ))]
    Completions {
        /// bash, zsh, fish, powershell or elvish.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write one per command into a folder.
    #[command(after_help = concat!(
        "Examples:\n",
        "  sharegen man | man -l -\n",
        "  sharegen man --out ~/.local/share/man/man1\n\n",
        "Exit codes: 0 success, 1 error"
    ))]
    Man {
        /// Write sharegen.1 and sharegen-<command>.1 into DIR.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Manage the page templates and themes.
    #[command(subcommand, after_help = concat!(
        "Examples:\n",
        "  sharegen templates eject my-theme/\n",
        "  sharegen export latest --templates my-theme/\n\n",
        "Exit codes: 0 success, 1 error, 2 usage error, 3 refused (files exist)"
    ))]
    Templates(TemplatesCommand),
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Only this agent (claude-code, opencode, codex, gemini, antigravity).
    #[arg(long, value_name = "NAME")]
    pub agent: Option<String>,
    /// Only sessions whose project directory contains SUBSTR.
    #[arg(long, value_name = "SUBSTR")]
    pub project: Option<String>,
    /// Only sessions updated since then: 30m, 12h, 7d, 2w, or a date.
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// At most N sessions.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Print JSON for scripts.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct BuildArgs {
    /// The site folder (default: site.out in config.toml, else `site/` in sharegen's home).
    #[arg(short = 'o', long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Do not redact secrets (prints a warning; see `[redact]` in config.toml).
    #[arg(long)]
    pub no_redact: bool,
    /// Print what was done as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct WatchArgs {
    /// The site folder (as for `build`).
    #[arg(short = 'o', long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Quiet time before a burst of changes is rendered, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub debounce: u64,
    /// Do not redact secrets (prints a warning; see `[redact]` in config.toml).
    #[arg(long)]
    pub no_redact: bool,
    /// Publish after each rebuild that changed something, to the targets
    /// configured in config.toml ([publish.git], [publish.bucket]).
    #[arg(long)]
    pub publish: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum History {
    /// One commit per publish.
    #[default]
    Keep,
    /// Replace the branch with one commit, so unshared pages leave its history.
    Squash,
}

#[derive(Args, Debug, Default, Clone)]
pub struct PublishArgs {
    /// The site folder (as for `build`).
    #[arg(short = 'o', long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Publish to this git remote (URL or path).
    #[arg(long, value_name = "URL", conflicts_with = "bucket")]
    pub git: Option<String>,
    /// The branch to publish to (default gh-pages).
    #[arg(long, value_name = "NAME")]
    pub branch: Option<String>,
    /// A folder inside the branch or bucket prefix to publish into.
    #[arg(long, value_name = "PATH")]
    pub prefix: Option<String>,
    /// keep: one commit per publish; squash: the branch becomes one commit.
    #[arg(long, value_enum)]
    pub history: Option<History>,
    /// The commit message.
    #[arg(long, value_name = "MSG")]
    pub message: Option<String>,
    /// Use the system `git` for fetch and push (ssh config, OS credential managers).
    #[arg(long)]
    pub git_cli: bool,
    /// Publish to this bucket: s3://BUCKET/PREFIX, gs://…, az://…, file:///DIR.
    #[arg(long, value_name = "URL")]
    pub bucket: Option<String>,
    /// An S3-compatible endpoint (R2, MinIO, a local server).
    #[arg(long, value_name = "URL", requires = "bucket")]
    pub endpoint: Option<String>,
    /// The bucket's region.
    #[arg(long, value_name = "R", requires = "bucket")]
    pub region: Option<String>,
    /// Show what would be uploaded and deleted; change nothing remote.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// Do not redact secrets (prints a warning; see `[redact]` in config.toml).
    #[arg(long)]
    pub no_redact: bool,
}

#[derive(Args, Debug)]
pub struct ShareArgs {
    /// The session: id, id prefix, path, or `latest`.
    pub session: Option<String>,
    /// Remove the share after this long (12h, 7d) or on this date; `never`
    /// removes an expiry set before.
    #[arg(long, value_name = "WHEN")]
    pub expires: Option<String>,
    /// A title for the page instead of the session's own.
    #[arg(long, value_name = "T")]
    pub title: Option<String>,
    /// Do not ask before sharing from a new project folder (allows it).
    #[arg(long, short = 'y')]
    pub yes: bool,
    #[command(flatten)]
    pub protect: ProtectArgs,
    /// Remove the password or key: the page is published in clear again.
    #[arg(long, conflicts_with_all = ["password", "password_env", "key_in_url"])]
    pub no_password: bool,
}

/// Encrypting a page (`share`, `export`): see docs/protected-shares.md.
#[derive(Args, Debug, Default, Clone)]
pub struct ProtectArgs {
    /// Encrypt the page with a password, asked on the terminal.
    #[arg(long, conflicts_with_all = ["password_env", "key_in_url"])]
    pub password: bool,
    /// Encrypt the page with the password in this environment variable.
    #[arg(long, value_name = "VAR", conflicts_with = "key_in_url")]
    pub password_env: Option<String>,
    /// Encrypt the page with a random key carried in the link (#k=…),
    /// which browsers never send to the host.
    #[arg(long)]
    pub key_in_url: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Html,
    Md,
    Json,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Md => "md",
            Format::Json => "json",
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Write a commented config.toml with every key and its default.
    #[command(
        after_help = "Examples:\n  sharegen config init\n  sharegen config init --force\n\nExit codes: 0 success, 1 error, 3 refused (the file exists)"
    )]
    Init {
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Print the effective configuration and where each value came from.
    #[command(
        after_help = "Examples:\n  sharegen config show\n  SHAREGEN_SITE_BASE_URL=https://x.example sharegen config show --json\n\nExit codes: 0 success, 1 error"
    )]
    Show {
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum TemplatesCommand {
    /// Write the built-in templates and themes into DIR, to edit them.
    #[command(
        after_help = "Examples:\n  sharegen templates eject my-theme/\n  sharegen templates eject my-theme/ --force\n\nExit codes: 0 success, 1 error, 3 refused (files exist)"
    )]
    Eject {
        dir: PathBuf,
        /// Overwrite files that exist.
        #[arg(long)]
        force: bool,
    },
    /// List the available themes.
    #[command(
        after_help = "Examples:\n  sharegen templates themes\n  sharegen templates themes --templates my-theme/\n\nExit codes: 0 success, 1 error"
    )]
    Themes {
        /// A folder of overrides to include.
        #[arg(long, value_name = "DIR")]
        templates: Option<PathBuf>,
    },
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The session: id, id prefix, path, or `latest`.
    #[arg(conflicts_with = "all")]
    pub session: Option<String>,
    /// Print what was written as JSON (not with `-o -`).
    #[arg(long)]
    pub json: bool,
    /// Output file, directory (an existing one, or a path ending in `/`),
    /// or `-` for standard output. Missing parent directories are created.
    #[arg(short, long, value_name = "FILE|DIR|-")]
    pub output: Option<PathBuf>,
    /// Output format (inferred from the extension of -o when not given).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// The page theme (see `sharegen templates themes`).
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
    /// A folder whose templates and themes override the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Open the page in the default browser afterwards.
    #[arg(long)]
    pub open: bool,
    /// Do not redact secrets (prints a warning; see `[redact]` in config.toml).
    #[arg(long)]
    pub no_redact: bool,
    /// Export every session (filtered by --agent, --project, --since) into -o DIR.
    #[arg(long, requires = "output", conflicts_with = "key_in_url")]
    pub all: bool,
    /// With --all: only this agent.
    #[arg(long, value_name = "NAME", requires = "all")]
    pub agent: Option<String>,
    /// With --all: only sessions whose project contains SUBSTR.
    #[arg(long, value_name = "SUBSTR", requires = "all")]
    pub project: Option<String>,
    /// With --all: only sessions updated since then (7d, 2026-01-31, …).
    #[arg(long, value_name = "WHEN", requires = "all")]
    pub since: Option<String>,
    #[command(flatten)]
    pub protect: ProtectArgs,
}
