//! The integration examples in examples/ (Claude Code and OpenCode `/share`
//! commands, the SessionEnd hook, the GitHub Actions workflow, the service
//! units), each run for real: their shell lines are extracted from the
//! files and run with bash against a copy of examples/sessions as HOME and
//! a local bare git repository as the publish target. Also the command
//! line's own surface: examples in every `--help`, completions, man,
//! `config show`/`init`, misspelled keys and `doctor`.

mod common;

use assert_cmd::Command as AssertCommand;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CLAUDE_SESSION: &str = "ef958aa1-0e93-49f0-bb71-150f63befcd1";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A HOME copied from examples/sessions, a sharegen home, and a bare repo.
struct Env {
    tmp: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let tmp = tempfile::tempdir().unwrap();
        common::copy_tree(&root().join("examples/sessions"), &tmp.path().join("home"));
        let ok = Command::new("git")
            .args(["init", "--bare", "-q"])
            .arg(tmp.path().join("remote.git"))
            .status()
            .unwrap()
            .success();
        assert!(ok);
        Env { tmp }
    }
    fn home(&self) -> PathBuf {
        self.tmp.path().join("home")
    }
    fn remote(&self) -> PathBuf {
        self.tmp.path().join("remote.git")
    }
    /// A folder on PATH holding `sharegen` (this build).
    fn bin_dir(&self) -> PathBuf {
        let dir = self.tmp.path().join("bin");
        std::fs::create_dir_all(&dir).unwrap();
        let link = dir.join("sharegen");
        if !link.exists() {
            std::os::unix::fs::symlink(assert_cmd::cargo::cargo_bin("sharegen"), &link).unwrap();
        }
        dir
    }
    /// bash with the environment an agent or CI job would give the lines.
    fn bash(&self, script: &str) -> Command {
        let mut c = Command::new("bash");
        c.arg("-euo")
            .arg("pipefail")
            .arg("-c")
            .arg(script)
            .current_dir(self.tmp.path())
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    self.bin_dir().display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .env("HOME", self.home())
            .env("SHAREGEN_HOME", self.tmp.path().join("sg"))
            .env("SHAREGEN_SALT", "integration-salt")
            .env("SHAREGEN_PUBLISH_GIT_URL", self.remote())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env_remove("CLAUDE_CONFIG_DIR")
            .env_remove("XDG_DATA_HOME")
            .env_remove("OPENCODE_DB")
            .env_remove("CODEX_HOME")
            .env_remove("GEMINI_CLI_HOME")
            .env_remove("CLAUDE_SESSION_ID")
            .env_remove("OPENCODE_SESSION_ID")
            .env_remove("SHAREGEN_SITE_BASE_URL")
            .env_remove("GITHUB_TOKEN")
            .env_remove("GH_TOKEN");
        c
    }
    fn branch_files(&self) -> Vec<String> {
        let out = Command::new("git")
            .arg("--git-dir")
            .arg(self.remote())
            .args(["ls-tree", "-r", "--name-only", "gh-pages"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(String::from)
            .collect()
    }
    fn share_id(&self, session: &str) -> String {
        let out = self
            .bash(&format!(
                "sharegen list --json | grep -A12 '\"id\": \"{session}\"'"
            ))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        text.lines()
            .find_map(|l| l.trim().strip_prefix("\"share_id\": \""))
            .map(|s| s.trim_end_matches([',', '"']).to_string())
            .unwrap_or_else(|| panic!("no share id for {session}: {text}"))
    }
}

fn run(c: &mut Command) -> (String, String) {
    let out = c.output().unwrap();
    let (o, e) = (
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    );
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{o}\nstderr:\n{e}",
        out.status
    );
    (o, e)
}

/// The command inside `` !`…` `` of a slash-command file.
fn bang_command(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    let start = text.find("!`").expect("a !`command` line") + 2;
    let end = start + text[start..].find('`').unwrap();
    text[start..end].to_string()
}

#[test]
fn claude_code_share_command_shares_and_publishes() {
    let env = Env::new();
    let cmd = bang_command(&root().join("examples/claude-code/.claude/commands/share.md"));
    assert!(cmd.contains("$CLAUDE_SESSION_ID"), "{cmd}");
    let (out, _) = run(env.bash(&cmd).env("CLAUDE_SESSION_ID", CLAUDE_SESSION));
    let id = env.share_id(CLAUDE_SESSION);
    assert!(out.contains(&id), "{out}");
    assert!(
        env.branch_files().contains(&format!("s/{id}/index.html")),
        "{:?}",
        env.branch_files()
    );
}

#[test]
fn session_end_hook_republishes_only_shared_sessions() {
    let env = Env::new();
    let hook = root().join("examples/claude-code/.claude/hooks/sharegen-session-end.sh");
    // The settings file points SessionEnd at the script.
    let settings: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("examples/claude-code/.claude/settings.json"))
            .unwrap(),
    )
    .unwrap();
    let command = settings["hooks"]["SessionEnd"][0]["hooks"][0]["command"]
        .as_str()
        .unwrap();
    assert!(
        command.ends_with("/.claude/hooks/sharegen-session-end.sh"),
        "{command}"
    );
    let input = format!(
        r#"{{"session_id": "{CLAUDE_SESSION}", "transcript_path": "/x.jsonl", "hook_event_name": "SessionEnd", "reason": "exit"}}"#
    );
    let feed = |env: &Env| {
        let mut c = env.bash(&format!("'{}'", hook.display()));
        c.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    // Not shared: nothing is published.
    feed(&env);
    assert!(env.branch_files().is_empty());
    // Shared: the hook publishes it.
    run(&mut env.bash(&format!("sharegen share {CLAUDE_SESSION} --yes")));
    feed(&env);
    let id = env.share_id(CLAUDE_SESSION);
    assert!(env.branch_files().contains(&format!("s/{id}/index.html")));
}

#[test]
fn opencode_share_command_shares_and_publishes() {
    let env = Env::new();
    let cmd = bang_command(&root().join("examples/opencode/.opencode/command/share.md"));
    assert!(cmd.contains("$OPENCODE_SESSION_ID"), "{cmd}");
    let (list, _) = run(&mut env.bash("sharegen list --agent opencode --json"));
    let sessions: Value = serde_json::from_str(&list).unwrap();
    let sid = sessions[0]["id"].as_str().unwrap().to_string();
    let id = sessions[0]["share_id"].as_str().unwrap().to_string();
    run(env.bash(&cmd).env("OPENCODE_SESSION_ID", &sid));
    assert!(env.branch_files().contains(&format!("s/{id}/index.html")));
}

/// The `run:` blocks of a workflow, in order, with their step names.
fn run_blocks(yml: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let lines: Vec<&str> = yml.lines().collect();
    let mut name = String::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        let t = l.trim_start();
        if let Some(n) = t.strip_prefix("- name:") {
            name = n.trim().to_string();
        }
        if let Some(rest) = t.strip_prefix("run:") {
            let indent = l.len() - t.len();
            if rest.trim() == "|" {
                let mut body = String::new();
                i += 1;
                while i < lines.len()
                    && (lines[i].trim().is_empty()
                        || lines[i].len() - lines[i].trim_start().len() > indent)
                {
                    body.push_str(lines[i].trim_start());
                    body.push('\n');
                    i += 1;
                }
                out.push((name.clone(), body));
                continue;
            }
            out.push((name.clone(), rest.trim().to_string()));
        }
        i += 1;
    }
    out
}

#[test]
fn github_actions_workflow_archives_json_and_publishes_pages() {
    let env = Env::new();
    let yml = std::fs::read_to_string(root().join("examples/github-actions/archive-sessions.yml"))
        .unwrap();
    // The job configures sharegen through these variables only.
    for var in [
        "SHAREGEN_PUBLISH_GIT_URL",
        "SHAREGEN_GIT_TOKEN",
        "SHAREGEN_HOME",
    ] {
        assert!(yml.contains(&format!("{var}:")), "{var}");
    }
    let blocks = run_blocks(&yml);
    let names: Vec<&str> = blocks.iter().map(|(n, _)| n.as_str()).collect();
    assert!(names.contains(&"Install sharegen"), "{names:?}");
    for (name, body) in &blocks {
        // Installing is the one step that needs the network; the agent
        // step is the user's.
        if name == "Install sharegen" || name == "Run the agent" {
            continue;
        }
        run(&mut env.bash(body));
    }
    let jsons: Vec<_> = std::fs::read_dir(env.tmp.path().join("sessions"))
        .unwrap()
        .flatten()
        .collect();
    let (list, _) = run(&mut env.bash("sharegen list --json"));
    let sessions: Vec<Value> = serde_json::from_str(&list).unwrap();
    assert_eq!(jsons.len(), sessions.len());
    for j in &jsons {
        let v: Value = serde_json::from_slice(&std::fs::read(j.path()).unwrap()).unwrap();
        assert_eq!(v["schema_version"], 1);
    }
    let files = env.branch_files();
    for s in &sessions {
        let id = s["share_id"].as_str().unwrap();
        assert!(
            files.contains(&format!("s/{id}/index.html")),
            "{id} not published: {files:?}"
        );
    }
}

#[test]
fn service_units_run_watch_publish() {
    let env = Env::new();
    let unit =
        std::fs::read_to_string(root().join("examples/service/sharegen-watch.service")).unwrap();
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .unwrap();
    let args: Vec<&str> = exec.split_whitespace().skip(1).collect();
    assert_eq!(args, ["watch", "--publish"]);
    // launchd runs the same command.
    let plist =
        std::fs::read_to_string(root().join("examples/service/com.sharegen.watch.plist")).unwrap();
    let array = &plist[plist.find("<array>").unwrap()..plist.find("</array>").unwrap()];
    let strings: Vec<&str> = array
        .split("<string>")
        .skip(1)
        .map(|s| s.split("</string>").next().unwrap())
        .collect();
    assert!(strings[0].ends_with("/sharegen"));
    assert_eq!(&strings[1..], args.as_slice());

    run(&mut env.bash(&format!("sharegen share {CLAUDE_SESSION} --yes")));
    let id = env.share_id(CLAUDE_SESSION);
    let mut child = env
        .bash(&format!("exec sharegen {}", args.join(" ")))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !env.branch_files().contains(&format!("s/{id}/index.html")) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "watch --publish published nothing"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn sg(home: &Path) -> AssertCommand {
    common::sharegen(home)
}

#[test]
fn every_help_has_examples() {
    let tmp = tempfile::tempdir().unwrap();
    let out = sg(tmp.path()).arg("--help").output().unwrap();
    let top = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(top.contains("Exit codes:"), "{top}");
    let mut commands: Vec<Vec<String>> = Vec::new();
    let mut in_cmds = false;
    for l in top.lines() {
        if l.starts_with("Commands:") {
            in_cmds = true;
            continue;
        }
        if in_cmds {
            if l.trim().is_empty() {
                break;
            }
            let name = l.split_whitespace().next().unwrap();
            if name != "help" {
                commands.push(vec![name.to_string()]);
            }
        }
    }
    assert!(commands.len() >= 15, "{commands:?}");
    for nested in [
        ["templates", "eject"],
        ["templates", "themes"],
        ["config", "init"],
        ["config", "show"],
    ] {
        commands.push(nested.iter().map(|s| s.to_string()).collect());
    }
    for c in &commands {
        let out = sg(tmp.path()).args(c).arg("--help").output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("Examples:\n  sharegen "),
            "`sharegen {} --help` has no examples",
            c.join(" ")
        );
    }
}

#[test]
fn completions_for_five_shells_and_a_man_page() {
    let tmp = tempfile::tempdir().unwrap();
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef sharegen"),
        ("fish", "complete -c sharegen"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[sharegen]"),
    ] {
        let out = sg(tmp.path())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(marker), "{shell}");
        assert!(
            text.contains("publish") && text.contains("redact-check"),
            "{shell}"
        );
    }
    let bash = sg(tmp.path())
        .args(["completions", "bash"])
        .output()
        .unwrap();
    let script = tmp.path().join("c.bash");
    std::fs::write(&script, &bash.stdout).unwrap();
    assert!(
        Command::new("bash")
            .arg("-n")
            .arg(&script)
            .status()
            .unwrap()
            .success()
    );
    let man = sg(tmp.path()).arg("man").output().unwrap();
    let text = String::from_utf8_lossy(&man.stdout);
    assert!(text.contains(".TH sharegen 1") && text.contains("publish"));
    let dir = tmp.path().join("man1");
    let out = sg(tmp.path())
        .args(["man", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(dir.join("sharegen.1").is_file() && dir.join("sharegen-publish.1").is_file());
    // Commands under commands get pages of their own, named for how they
    // are typed.
    for (page, typed) in [
        ("sharegen-config-init.1", "sharegen config init"),
        ("sharegen-config-show.1", "sharegen config show"),
        ("sharegen-templates-eject.1", "sharegen templates eject"),
        ("sharegen-redact-check.1", "sharegen redact\\-check"),
    ] {
        let text =
            std::fs::read_to_string(dir.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.contains(&format!("\\fB{typed}\\fR")), "{page}: {text}");
    }
    // Every page a page refers to is there.
    for e in std::fs::read_dir(&dir).unwrap() {
        let text = std::fs::read_to_string(e.unwrap().path())
            .unwrap()
            .replace('\\', "");
        for (at, _) in text.match_indices("(1)") {
            let name = text[..at]
                .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .next()
                .unwrap();
            if name.starts_with("sharegen") {
                assert!(
                    dir.join(format!("{name}.1")).is_file(),
                    "{name}(1) has no page"
                );
            }
        }
    }
}

#[test]
fn config_init_show_env_precedence_and_misspelled_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let out = sg(tmp.path()).args(["config", "init"]).output().unwrap();
    assert!(out.status.success());
    let path = tmp.path().join("sg/config.toml");
    let template = std::fs::read_to_string(&path).unwrap();
    assert!(template.contains("# base_url") && template.contains("[publish.git]"));
    // Twice refuses (exit 3) without --force.
    let out = sg(tmp.path()).args(["config", "init"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));

    std::fs::write(
        &path,
        "[site]\nbase_url = \"https://file.example\"\nname = \"From file\"\nbse_url = \"typo\"\n",
    )
    .unwrap();
    let out = sg(tmp.path())
        .args(["config", "show", "--json"])
        .env("SHAREGEN_SITE_BASE_URL", "https://env.example")
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown key `site.bse_url`"), "{err}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let key = |k: &str| {
        v["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == k)
            .unwrap()
            .clone()
    };
    assert_eq!(key("site.base_url")["value"], "https://env.example");
    assert_eq!(
        key("site.base_url")["source"]["env"],
        "SHAREGEN_SITE_BASE_URL"
    );
    assert_eq!(key("site.name")["value"], "From file");
    assert_eq!(key("site.name")["source"], "file");
    assert_eq!(key("render.theme")["value"], "default");
    assert_eq!(key("render.theme")["source"], "default");
    // Every key is documented with its variable in docs/config.md.
    let docs = std::fs::read_to_string(root().join("docs/config.md")).unwrap();
    for r in v["keys"].as_array().unwrap() {
        let k = r["key"].as_str().unwrap();
        assert!(
            docs.contains(&format!("| `{k}` |")),
            "{k} missing from docs/config.md"
        );
        if let Some(env) = r["env"].as_str() {
            assert!(docs.contains(env), "{env} missing from docs/config.md");
        }
    }
}

#[test]
fn doctor_reports_the_stores_of_a_fixture_home() {
    let env = Env::new();
    let (out, _) = run(&mut env.bash("sharegen doctor --json"));
    let v: Value = serde_json::from_str(&out).unwrap();
    let checks = v["checks"].as_array().unwrap();
    let find = |area: &str| {
        checks
            .iter()
            .find(|c| c["area"] == area)
            .unwrap_or_else(|| panic!("no {area} in {checks:?}"))
            .clone()
    };
    let cc = find("store claude-code");
    assert_eq!(cc["status"], "ok");
    assert!(
        cc["detail"].as_str().unwrap().contains("3 session(s)"),
        "{cc}"
    );
    let oc = find("store opencode");
    assert_eq!(oc["status"], "ok");
    assert!(
        oc["detail"].as_str().unwrap().contains("JSON file store"),
        "{oc}"
    );
    // The git target from SHAREGEN_PUBLISH_GIT_URL is reached (ls-remote).
    let remote = checks
        .iter()
        .find(|c| c["area"].as_str().unwrap().starts_with("publish git"))
        .unwrap();
    assert_eq!(remote["status"], "ok", "{remote}");
    assert!(
        remote["detail"]
            .as_str()
            .unwrap()
            .contains("no gh-pages branch yet")
    );
    let retention = find("claude-code retention");
    assert_eq!(retention["status"], "warning");
    // Nothing was written: no salt, no share list, no config.
    assert!(!env.tmp.path().join("sg/salt").exists());
    assert!(!env.tmp.path().join("sg/config.toml").exists());
    // An unreachable target is a problem: exit 1.
    let out = env
        .bash("sharegen doctor")
        .env("SHAREGEN_PUBLISH_GIT_URL", "/nonexistent/repo.git")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    // The retention warning is not a problem, but the summary counts it.
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("1 problem(s) found, 1 warning(s) to look at")
    );
    // A target that cannot be used is a problem, not "no target".
    let out = env
        .bash("sharegen doctor --json")
        .env("SHAREGEN_PUBLISH_GIT_HISTORY", "sometimes")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let publish = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["area"] == "publish")
        .unwrap()
        .clone();
    assert_eq!(publish["status"], "error", "{publish}");
    assert!(
        publish["detail"].as_str().unwrap().contains("`sometimes`"),
        "{publish}"
    );
}

#[test]
fn open_writes_a_page_and_hands_it_to_the_browser() {
    let env = Env::new();
    // A stand-in for xdg-open that records what it was asked to open.
    let bin = env.bin_dir();
    let log = env.tmp.path().join("opened.txt");
    std::fs::write(
        bin.join("xdg-open"),
        format!("#!/bin/sh\necho \"$1\" >> '{}'\n", log.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(bin.join("xdg-open"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let (out, _) = run(env
        .bash(&format!("sharegen open {CLAUDE_SESSION}"))
        .env("BROWSER", bin.join("xdg-open")));
    let page = PathBuf::from(out.trim());
    assert!(page.is_file(), "{out}");
    assert!(std::fs::read_to_string(&page).unwrap().contains("<main"));
    // The shell creates the log before echo writes its line, and the browser
    // is started without waiting for it: poll until a whole line is there.
    let read_log = || std::fs::read_to_string(&log).unwrap_or_default();
    let start = Instant::now();
    while !read_log().ends_with('\n') && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(read_log().trim(), page.display().to_string());
}

#[test]
fn export_json_describes_what_was_written() {
    let env = Env::new();
    let out_dir = env.tmp.path().join("pages");
    std::fs::create_dir_all(&out_dir).unwrap();
    let (out, _) = run(&mut env.bash(&format!(
        "sharegen export {CLAUDE_SESSION} -o '{}' --json",
        out_dir.display()
    )));
    let v: Value = serde_json::from_str(&out).unwrap();
    let path = PathBuf::from(v["path"].as_str().unwrap());
    assert!(path.is_file());
    assert_eq!(v["session"], CLAUDE_SESSION);
    assert_eq!(v["format"], "html");
    assert_eq!(
        path.file_name().unwrap().to_string_lossy(),
        format!("{}.html", v["share_id"].as_str().unwrap())
    );
    let (out, _) = run(&mut env.bash(&format!(
        "sharegen export --all -o '{}' --json",
        out_dir.join("all").display()
    )));
    let v: Value = serde_json::from_str(&out).unwrap();
    let rows = v["exported"].as_array().unwrap();
    assert!(rows.len() >= 5, "{v}");
    assert!(rows.iter().all(|r| r["changed"] == true));
    // With -o - the page is on stdout; --json cannot describe it.
    let out = env
        .bash(&format!("sharegen export {CLAUDE_SESSION} -o - --json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
