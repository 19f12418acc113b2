//! Real exported pages in headless Chromium (driven by the Node harness in
//! tests/browser/check.mjs), opened from file:// and over http://127.0.0.1:
//!
//! - no request leaves the page (every request is recorded; only the page's
//!   own URL and `data:` are allowed, everything else is aborted);
//! - no console error, no uncaught exception, no CSP violation;
//! - session markup never becomes elements or runs;
//! - search finds a word hidden in a collapsed tool call and opens it;
//! - the theme toggle flips light/dark, changes the colours, survives a
//!   reload; expand/collapse, filters and j/k work;
//! - line numbers beside diffs and file views sit on their code lines;
//! - a tool call's status badges and duration show however long its
//!   argument, at 1280 and 390 px;
//! - no message is left an empty box by any combination of filters;
//! - the page reads with JavaScript off, and scrolls no wider than 390 px.
//!
//! A control page that breaks every rule proves the detectors work.
//! Screenshots (light and dark, 1280 and 390 px) go to
//! target/browser-screenshots/ for a person to look at, with the harness's
//! full report (result.json); text colours under 3:1 are listed, not failed.
//!
//! Needs /usr/bin/chromium, node and tests/browser/node_modules, which
//! `scripts/test` installs. Missing ones fail the test, unless
//! SHAREGEN_SKIP_BROWSER=1 says to skip it. SHAREGEN_BROWSER_TEMPLATES=DIR
//! exports with `--templates DIR`, to see the test catch a broken page.

mod common;
use common::browser::CHROMIUM;

use assert_cmd::Command;
use common::{say, target_dir};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The harness bounds itself to this; the test kills it a minute later.
const HARNESS_TIMEOUT: Duration = Duration::from_secs(240);

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A page to export and check.
struct Page {
    name: &'static str,
    fixture: &'static str,
    /// `"auto"`: the harness picks a word found only in a collapsed tool
    /// call body; otherwise that word.
    search: &'static str,
    /// Text the page must show, with and without JavaScript.
    expect_text: &'static [&'static str],
    /// Whether the word found must sit inside two or more closed
    /// `<details>` (a subagent's tool call inside a tool call).
    nested_search: bool,
    /// Whether the page must have system notices (to test their filter).
    has_notices: bool,
}

const PAGES: &[Page] = &[
    Page {
        name: "claude-subagents",
        fixture: "tests/fixtures/claude-code/projects/-experiments-worktrees/ef958aa1-0e93-49f0-bb71-150f63befcd1.jsonl",
        search: "auto",
        expect_text: &["OK, we're going to make a little experiment here."],
        nested_search: true,
        has_notices: true,
    },
    Page {
        name: "claude-injection",
        fixture: "tests/fixtures/claude-code/focused/scriptorium/injection.jsonl",
        search: "auto",
        expect_text: &[
            "<script>alert('folio')</script>",
            "Raw markup: <script>alert('text')</script>",
        ],
        nested_search: false,
        has_notices: false,
    },
    Page {
        name: "opencode",
        fixture: "tests/fixtures/opencode/export/session__quiet-meadow__ses_39c0a3da8ffeFQWvKTGUJWivpv.json",
        search: "auto",
        expect_text: &["Please analyze this codebase and create an AGENTS.md file"],
        nested_search: false,
        has_notices: true,
    },
    // A branch the user rewound: one collapsed block the search opens.
    Page {
        name: "claude-rewound",
        fixture: "tests/fixtures/claude-code/projects/-experiments-ideas/03eb5929-52b3-4b13-ada3-b93ae35806b8.jsonl",
        search: "Clear separation of concerns",
        expect_text: &["I actually don't like much this idea"],
        nested_search: false,
        has_notices: true,
    },
    // Markup in every field a session controls, a remote image, a
    // javascript: link, ANSI output, an embedded PNG and long lines.
    Page {
        name: "hostile",
        fixture: "tests/browser/fixtures/hostile.jsonl",
        search: "zanzibarquokka",
        expect_text: &[
            "Render these as text, please:",
            "<img src=x onerror=\"window.__pwned='img'\">",
            "A second prompt, so that j and k have somewhere to go.",
        ],
        nested_search: false,
        has_notices: false,
    },
];

fn export(home: &Path, fixture: &Path, out: &Path) {
    let mut cmd = Command::cargo_bin("sharegen").unwrap();
    cmd.args(["export", "--format", "html", "-q"]);
    // To check that this test catches a broken page: a folder of
    // templates/themes overriding the built-in ones.
    if let Some(dir) = std::env::var_os("SHAREGEN_BROWSER_TEMPLATES") {
        cmd.arg("--templates").arg(dir);
    }
    let o = cmd
        .env("HOME", home)
        .env("SHAREGEN_HOME", home.join("sg"))
        .env("SHAREGEN_SALT", "test")
        .env_remove("CLAUDE_CONFIG_DIR")
        .env_remove("XDG_DATA_HOME")
        .env_remove("OPENCODE_DB")
        .env_remove("CLAUDE_SESSION_ID")
        .env_remove("OPENCODE_SESSION_ID")
        .arg("-o")
        .arg(out)
        .arg(fixture)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "sharegen export {} failed: {}",
        fixture.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.is_file(), "{} was not written", out.display());
}

/// Collects failures so one run reports all of them.
#[derive(Default)]
struct Failures(Vec<String>);

impl Failures {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.0.push(what());
        }
    }

    fn push(&mut self, at: &str, what: &str, v: &Value) {
        self.0.push(format!("{at}: {what}: {v}"));
    }
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn n(v: &Value) -> i64 {
    v.as_i64().unwrap_or(-1)
}

/// "rgb(r, g, b)" or "rgba(r, g, b, a)" → (r, g, b).
fn rgb(css: &str) -> Option<(f64, f64, f64)> {
    let inner = css.split_once('(')?.1.trim_end_matches(')');
    let mut it = inner.split(',').map(|x| x.trim().parse::<f64>());
    Some((it.next()?.ok()?, it.next()?.ok()?, it.next()?.ok()?))
}

/// WCAG contrast ratio of two CSS colours.
fn contrast(a: &str, b: &str) -> Option<f64> {
    let lum = |(r, g, b): (f64, f64, f64)| {
        let c = |v: f64| {
            let v = v / 255.0;
            if v <= 0.03928 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * c(r) + 0.7152 * c(g) + 0.0722 * c(b)
    };
    let (la, lb) = (lum(rgb(a)?), lum(rgb(b)?));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    Some((hi + 0.05) / (lo + 0.05))
}

/// Everything a page run (or its JavaScript-off twin) recorded about
/// requests, console, errors and CSP.
fn check_quiet(f: &mut Failures, at: &str, rec: &Value, page_url: &str) {
    let own = page_url.split('#').next().unwrap_or(page_url);
    for r in rec["requests"].as_array().into_iter().flatten() {
        let url = s(&r["url"]);
        let ok = url.split('#').next() == Some(own) || url.starts_with("data:");
        f.check(ok, || format!("{at}: request to {url} ({})", s(&r["type"])));
    }
    f.check(
        rec["requests"].as_array().is_some_and(|a| !a.is_empty()),
        || format!("{at}: no request recorded at all (the recorder is broken)"),
    );
    for m in rec["console"].as_array().into_iter().flatten() {
        let text = s(&m["text"]);
        f.check(
            s(&m["type"]) != "error" && !text.contains("Content Security Policy"),
            || format!("{at}: console {}: {text}", s(&m["type"])),
        );
    }
    for e in rec["page_errors"].as_array().into_iter().flatten() {
        f.push(at, "uncaught exception", e);
    }
    for v in rec["csp_violations"].as_array().into_iter().flatten() {
        f.push(at, "CSP violation", v);
    }
}

/// Text under this contrast ratio (fully opaque; the faded permalinks are
/// meant to be faint) is reported, not failed: see the summary.
const CONTRAST_WARN: f64 = 3.0;

fn check_run(f: &mut Failures, warn: &mut Vec<String>, page: &Page, run: &Value) {
    let at = format!("{} ({})", page.name, s(&run["mode"]));
    let at = at.as_str();
    let url = s(&run["url"]);
    for (k, v) in run.as_object().into_iter().flatten() {
        if let Some(e) = v.get("error") {
            f.0.push(format!("{at}: the {k} checks could not run: {}", s(e)));
        }
    }
    check_quiet(f, at, run, url);

    let load = &run["load"];
    f.check(n(&load["articles"]) > 0, || {
        format!("{at}: no messages on the page: {load}")
    });

    // Injection: the page's own script and style only, no handlers, no
    // javascript: URLs, nothing embedded, nothing remote.
    let inj = &run["injection"];
    f.check(inj["pwned"].is_null(), || {
        format!("{at}: window.__pwned = {}", inj["pwned"])
    });
    f.check(n(&inj["scripts"]) == 1, || {
        format!("{at}: {} <script> elements, expected 1", inj["scripts"])
    });
    f.check(n(&inj["styles"]) == 1, || {
        format!("{at}: {} <style> elements, expected 1", inj["styles"])
    });
    for key in [
        "on_attributes",
        "javascript_urls",
        "remote_resources",
        "resource_hints",
    ] {
        f.check(inj[key].as_array().is_some_and(|a| a.is_empty()), || {
            format!("{at}: {key}: {}", inj[key])
        });
    }
    f.check(
        n(&inj["img_onerror"]) == 0 && n(&inj["embedded_elements"]) == 0,
        || format!("{at}: injected elements: {inj}"),
    );
    f.check(s(&inj["csp_meta"]).contains("default-src 'none'"), || {
        format!("{at}: no strict CSP: {}", inj["csp_meta"])
    });
    for img in inj["images"].as_array().into_iter().flatten() {
        f.check(img["complete"] == true && n(&img["width"]) > 0, || {
            format!("{at}: an embedded image did not decode: {img}")
        });
    }

    // Search.
    let q = &run["search"];
    let expected = n(&q["expected"]);
    f.check(!q["word"].is_null() && expected > 0, || {
        format!("{at}: no word found only inside a collapsed tool call: {q}")
    });
    if expected > 0 {
        let word = s(&q["word"]);
        let counted = s(&q["qn"])
            .split(|c: char| !c.is_ascii_digit())
            .any(|d| d == expected.to_string());
        f.check(counted, || {
            format!(
                "{at}: searching {word:?}: #qn says {:?}, expected it to count {expected}",
                s(&q["qn"])
            )
        });
        f.check(n(&q["marks"]) == expected, || {
            format!(
                "{at}: searching {word:?}: {} mark.hit, expected {expected}",
                q["marks"]
            )
        });
        f.check(n(&q["closed_details_around"]) >= 1, || {
            format!("{at}: {word:?} was not inside a closed <details>: {q}")
        });
        f.check(
            n(&q["marks_still_in_closed_details"]) == 0
                && n(&q["probed_details_still_closed"]) == 0,
            || format!("{at}: search for {word:?} left enclosing <details> closed: {q}"),
        );
        f.check(q["current_in_viewport"] == true, || {
            format!("{at}: the current match was not scrolled into view: {q}")
        });
        let fq = &q["filtered"];
        f.check(
            n(&fq["marks"]) == expected && n(&fq["hidden"]) == 0,
            || format!("{at}: with tools and thinking filtered out, search for {word:?} counted matches it does not show: {q}"),
        );
        f.check(n(&q["after_escape"]["still_open"]) == 0, || {
            format!("{at}: clearing the search left the blocks it opened open: {q}")
        });
        f.check(n(&q["after_escape"]["marks"]) == 0, || {
            format!("{at}: Escape did not clear the marks: {q}")
        });
        if page.nested_search {
            f.check(n(&q["closed_depth"]) >= 2, || {
                format!("{at}: expected a match nested in two closed <details>: {q}")
            });
        }
    }

    // Theme.
    let pr = &run["print"];
    f.check(
        pr["text_luminance"].as_f64().is_some_and(|l| l < 0.5)
            && n(&pr["closed"]) == 0
            && n(&pr["hidden_bodies"]) == 0,
        || format!("{at}: printing a dark page: not dark text with every block open: {pr}"),
    );
    f.check(pr["after"]["theme"] == "dark", || {
        format!("{at}: after printing, the page's own theme is not back: {pr}")
    });

    let t = &run["theme"];
    let eff = |k: &str| s(&t[k]["effective"]).to_string();
    let theme = |k: &str| t[k]["theme"].clone();
    let (light_bg, dark_bg) = (eff("initial"), eff("dark"));
    f.check(theme("initial").is_null(), || {
        format!("{at}: data-theme set before any click: {t}")
    });
    f.check(theme("dark") == "dark" && theme("light") == "light", || {
        format!("{at}: #theme does not flip data-theme light/dark: {t}")
    });
    f.check(!light_bg.is_empty() && light_bg != dark_bg, || {
        format!("{at}: the background does not change with the theme: {t}")
    });
    f.check(s(&t["dark"]["fg"]) != s(&t["initial"]["fg"]), || {
        format!("{at}: the text colour does not change with the theme: {t}")
    });
    f.check(eff("light") == light_bg, || {
        format!("{at}: toggling back does not restore the light background: {t}")
    });
    f.check(
        t["stored_before_reload"] == "dark"
            && theme("reloaded") == "dark"
            && eff("reloaded") == dark_bg,
        || format!("{at}: the theme choice does not survive a reload: {t}"),
    );
    f.check(
        theme("os_dark").is_null() && eff("os_dark") == dark_bg,
        || format!("{at}: a dark OS preference does not give the dark theme: {t}"),
    );
    f.check(
        theme("os_dark_toggled") == "light" && eff("os_dark_toggled") == light_bg,
        || format!("{at}: on a dark OS the toggle does not go to light: {t}"),
    );
    for k in ["initial", "dark"] {
        let c = contrast(s(&t[k]["fg"]), s(&t[k]["effective"]));
        f.check(c.is_some_and(|c| c >= 4.5), || {
            format!(
                "{at}: text contrast {c:?} below 4.5 in the {k} theme: {}",
                t[k]
            )
        });
    }

    // Expand / collapse.
    let e = &run["expand"];
    let total = n(&e["before"]["total"]);
    f.check(total > 0 && n(&e["before"]["open"]) < total, || {
        format!("{at}: nothing to expand: {e}")
    });
    f.check(n(&e["after_first_click"]["open"]) == total, || {
        format!("{at}: #expand did not open every main details: {e}")
    });
    f.check(n(&e["after_second_click"]["open"]) == 0, || {
        format!("{at}: a second #expand click did not close them: {e}")
    });
    let sc = &e["summary_click"];
    f.check(sc["opened"] == true && sc["body_visible"] == true, || {
        format!("{at}: clicking a tool call's summary did not open it: {sc}")
    });

    // Line numbers beside code (diffs and file views), everything
    // expanded: as many rows as the code, each on its line.
    let g = &run["gutters"];
    f.check(
        g["row_count_mismatch"]
            .as_array()
            .is_some_and(|a| a.is_empty()),
        || format!("{at}: a gutter has more or fewer rows than its code: {g}"),
    );
    f.check(
        g["misaligned"].as_array().is_some_and(|a| a.is_empty()),
        || format!("{at}: line numbers drift off their code lines: {g}"),
    );

    // Tool-call summaries: the badges, exit code and duration show whole,
    // at 1280 and 390 px, also with very long arguments.
    for width in ["w1280", "w390"] {
        for how in ["collapsed", "stretched"] {
            let r = &run["summaries"][width][how];
            f.check(
                n(&r["summaries"]) > 0 && r["cut"].as_array().is_some_and(|a| a.is_empty()),
                || format!("{at}: tool-call summary badges cut off ({width}, {how}): {r}"),
            );
        }
    }

    // Filters.
    let fl = &run["filters"];
    let shown = |k: &str| (n(&fl[k]["total"]), n(&fl[k]["displayed"]));
    let (tools, tools_shown) = shown("tools_before");
    f.check(tools > 0 && tools_shown == tools, || {
        format!("{at}: tool calls not all shown by default: {fl}")
    });
    f.check(
        shown("tools_unchecked").1 == 0 && shown("subagents_unchecked").1 == 0,
        || format!("{at}: unchecking #f-tools leaves tool calls shown: {fl}"),
    );
    f.check(shown("tools_rechecked").1 == tools, || {
        format!("{at}: checking #f-tools again does not show them: {fl}")
    });
    let (notices, notices_shown) = shown("notices_before");
    f.check(!page.has_notices || notices > 0, || {
        format!("{at}: expected system notices on this page: {fl}")
    });
    f.check(notices_shown == 0, || {
        format!("{at}: system notices shown by default: {fl}")
    });
    let (kept, kept_shown) = shown("kept_before");
    f.check(kept_shown == kept, || {
        format!("{at}: errors, warnings or interruptions hidden by default: {fl}")
    });
    f.check(shown("notices_checked").1 == notices, || {
        format!("{at}: checking #f-notices does not show every .notice: {fl}")
    });
    f.check(shown("notices_unchecked").1 == 0, || {
        format!("{at}: unchecking #f-notices does not hide them again: {fl}")
    });
    f.check(shown("reasoning_unchecked").1 == 0, || {
        format!("{at}: unchecking #f-reasoning leaves thinking shown: {fl}")
    });
    // A message whose every part is filtered out goes too, whatever the
    // combination of filters.
    for (state, ids) in fl["empty_messages"].as_object().into_iter().flatten() {
        f.check(ids.as_array().is_some_and(|a| a.is_empty()), || {
            format!("{at}: messages shown empty with filters {state}: {ids}")
        });
    }
    f.check(
        fl["empty_messages"]
            .as_object()
            .is_some_and(|o| o.len() == 6),
        || format!("{at}: the filter states were not all checked: {fl}"),
    );
    let articles = &fl["shown_articles"];
    f.check(
        n(&articles["default"]) == n(&load["visible_top_articles"])
            && n(&articles["all_hidden"]) <= n(&articles["all_hidden_but_notices"]),
        || format!("{at}: messages shown by the filters do not add up: {articles} vs {load}"),
    );

    // j / k.
    let k = &run["keys"];
    let prompts: Vec<&str> = k["prompts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(s)
        .collect();
    let steps: Vec<&Value> = k["steps"].as_array().into_iter().flatten().collect();
    f.check(!prompts.is_empty() && steps.len() == 3, || {
        format!("{at}: no prompts or no key steps: {k}")
    });
    if !prompts.is_empty() && steps.len() == 3 {
        let hash = |i: usize| s(&steps[i]["hash"]).trim_start_matches('#').to_string();
        f.check(steps.iter().all(|st| st["is_prompt"] == true), || {
            format!("{at}: j/k moved to something that is not a prompt: {k}")
        });
        f.check(hash(0) == prompts[0], || {
            format!("{at}: j did not go to the first prompt: {k}")
        });
        if prompts.len() >= 2 {
            f.check(hash(1) == prompts[1] && hash(2) == prompts[0], || {
                format!("{at}: j, j, k did not visit prompts 1, 2, 1: {k}")
            });
        }
    }
    f.check(k["slash_focuses"] == "q", || {
        format!("{at}: / does not focus the search box: {k}")
    });

    // JavaScript off.
    let nj = &run["nojs"];
    check_quiet(f, &format!("{at}, JavaScript off"), nj, url);
    f.check(
        n(&nj["top_articles"]) == n(&load["top_articles"])
            && n(&nj["visible_top_articles"]) == n(&load["visible_top_articles"])
            && n(&nj["visible_top_articles"]) > 0,
        || format!("{at}: with JavaScript off the messages differ: {nj} vs {load}"),
    );
    f.check(nj["first_prompt_found"] == true, || {
        format!("{at}: with JavaScript off the first prompt is not shown: {nj}")
    });
    f.check(nj["pwned"].is_null(), || {
        format!("{at}: window.__pwned with JavaScript off: {nj}")
    });
    f.check(
        nj["empty_messages"]
            .as_array()
            .is_some_and(|a| a.is_empty()),
        || format!("{at}: with JavaScript off messages show empty: {nj}"),
    );
    for x in nj["expect"].as_array().into_iter().flatten() {
        f.check(x["found"] == true, || {
            format!(
                "{at}: with JavaScript off the page does not show {}",
                x["text"]
            )
        });
    }

    // Screenshots and layout (http runs).
    if s(&run["mode"]) == "http" {
        let shots = run["screenshots"].as_array().cloned().unwrap_or_default();
        f.check(shots.len() == 4, || {
            format!("{at}: expected 4 screenshot sets: {}", run["screenshots"])
        });
        // 360 px, the narrowest the page is made for, collapsed and expanded.
        let narrow = &run["narrow"];
        for (key, how) in [("layout", ""), ("layout_expanded", ", expanded")] {
            let l = &narrow[key];
            f.check(
                l["client_width"] == 360 && n(&l["scroll_width"]) <= n(&l["client_width"]),
                || format!("{at}: the page scrolls sideways at 360 px{how}: {narrow}"),
            );
        }
        for sh in &shots {
            for low in sh["contrast"]["low"].as_array().into_iter().flatten() {
                let ratio = low["ratio"].as_f64().unwrap_or(99.0);
                if ratio < CONTRAST_WARN && low["opacity"].as_f64() == Some(1.0) {
                    let w = format!(
                        "{} {} theme: contrast {ratio}:1 for {} ({:?})",
                        page.name,
                        s(&sh["theme"]),
                        s(&low["what"]),
                        s(&low["text"])
                    );
                    if !warn.contains(&w) {
                        warn.push(w);
                    }
                }
            }
            for (key, how) in [("layout", ""), ("layout_expanded", ", expanded")] {
                let l = &sh[key];
                f.check(
                    n(&l["client_width"]) > 0 && n(&l["scroll_width"]) <= n(&l["client_width"]),
                    || {
                        format!(
                            "{at}: the page scrolls sideways at {} px ({}{how}): {l}",
                            sh["width"],
                            s(&sh["theme"])
                        )
                    },
                );
            }
            for key in ["top", "expanded"] {
                if let Some(p) = sh[key].as_str() {
                    let ok = std::fs::read(p)
                        .map(|b| b.len() > 1000 && b.starts_with(b"\x89PNG"))
                        .unwrap_or(false);
                    f.check(ok, || format!("{at}: screenshot {p} missing or empty"));
                }
            }
        }
    }
}

#[test]
fn pages_in_headless_chromium() {
    if common::browser::skip_or_require("the browser test") {
        return;
    }

    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    std::fs::create_dir_all(&site).unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let t0 = Instant::now();
    for p in PAGES {
        export(
            &home,
            &manifest().join(p.fixture),
            &site.join(format!("{}.html", p.name)),
        );
    }
    let export_time = t0.elapsed();

    let shots = target_dir().join("browser-screenshots");
    if shots.is_dir() {
        for e in std::fs::read_dir(&shots).unwrap().flatten() {
            if e.path().extension().is_some_and(|x| x == "png") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    std::fs::create_dir_all(&shots).unwrap();
    let spec = json!({
        "chromium": CHROMIUM,
        "site_dir": site,
        "screenshot_dir": shots,
        "timeout_ms": HARNESS_TIMEOUT.as_millis() as u64,
        "modes": ["file", "http"],
        "result_path": tmp.path().join("result.json"),
        "pages": PAGES.iter().map(|p| json!({
            "name": p.name,
            "file": format!("{}.html", p.name),
            "search": p.search,
            "expect_text": p.expect_text,
            "screenshots": true,
        })).collect::<Vec<_>>(),
    });
    let spec_path = tmp.path().join("spec.json");
    std::fs::write(&spec_path, serde_json::to_vec_pretty(&spec).unwrap()).unwrap();
    let harness_tmp = tmp.path().join("tmp");
    std::fs::create_dir_all(&harness_tmp).unwrap();

    let t1 = Instant::now();
    let (stdout, stderr, status) =
        common::browser::run_harness("check.mjs", &spec_path, &harness_tmp, HARNESS_TIMEOUT);
    let browser_time = t1.elapsed();
    // The file the harness writes before anything else; stdout otherwise.
    let text = std::fs::read_to_string(tmp.path().join("result.json")).unwrap_or(stdout.clone());
    let result: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "the harness printed no JSON ({e}; exit {status:?})\n--- stdout\n{}\n--- stderr\n{}",
            stdout.chars().take(4000).collect::<String>(),
            stderr.chars().take(4000).collect::<String>()
        )
    });
    let report = shots.join("result.json");
    std::fs::write(&report, serde_json::to_vec_pretty(&result).unwrap()).unwrap();

    let mut f = Failures::default();
    f.check(result["fatal"].is_null() && status == Some(0), || {
        format!(
            "the harness failed (exit {status:?}): {}\n{}",
            result["fatal"],
            stderr.chars().take(4000).collect::<String>()
        )
    });

    // The detectors themselves: a control page that breaks every rule
    // must be caught by every check.
    let st = &result["selftest"];
    f.check(
        n(&st["csp_violations"]) > 0
            && n(&st["csp_console"]) > 0
            && n(&st["console_errors"]) > 0
            && n(&st["page_errors"]) > 0
            && st["foreign_requests"]
                .as_array()
                .is_some_and(|a| a.iter().any(|u| s(u).contains("sharegen-selftest.invalid"))),
        || format!("the harness's detectors missed the control page's faults: {st}"),
    );

    // Whatever reached our server: the pages (and the control page) only.
    for r in result["server_requests"].as_array().into_iter().flatten() {
        let path = s(&r["url"]);
        let ok =
            path == "/__selftest.html" || PAGES.iter().any(|p| path == format!("/{}.html", p.name));
        f.check(ok && s(&r["method"]) == "GET", || {
            format!("the server was asked for {} {path}", s(&r["method"]))
        });
    }

    let runs: Vec<&Value> = result["runs"].as_array().into_iter().flatten().collect();
    let mut warn = Vec::new();
    for mode in ["file", "http"] {
        for p in PAGES {
            match runs
                .iter()
                .find(|r| r["page"] == p.name && r["mode"] == mode)
            {
                Some(run) => check_run(&mut f, &mut warn, p, run),
                None => f.0.push(format!("{} ({mode}): not checked", p.name)),
            }
        }
    }

    // The checks above must have had something to check: diffs and file
    // views with line numbers, summaries with badges, a message that the
    // filters hide whole.
    let total = |f: &dyn Fn(&Value) -> i64| runs.iter().map(|r| f(r).max(0)).sum::<i64>();
    let gutters = [
        total(&|r| n(&r["gutters"]["diffs"])),
        total(&|r| n(&r["gutters"]["numbered"])),
        total(&|r| n(&r["gutters"]["rows_compared"])),
    ];
    f.check(gutters.iter().all(|&x| x > 0), || {
        format!("no diffs or numbered file views to check line numbers on: {gutters:?}")
    });
    let trailing = total(&|r| n(&r["summaries"]["w1280"]["stretched"]["trailing"]));
    f.check(trailing > 0, || {
        "no tool-call summary with a badge or a duration to check".to_string()
    });
    let hidden_whole = total(&|r| {
        let a = &r["filters"]["shown_articles"];
        n(&a["default"]) - n(&a["all_hidden"])
    });
    f.check(hidden_whole > 0, || {
        "no message hidden whole by the filters: the empty-message check saw none".to_string()
    });

    let shot_paths: Vec<&str> = result["screenshots"]
        .as_array()
        .into_iter()
        .flatten()
        .map(s)
        .collect();
    let rel = |p: &str| {
        Path::new(p)
            .strip_prefix(manifest())
            .map(|r| r.display().to_string())
            .unwrap_or_else(|_| p.to_string())
    };
    let mut msg = format!(
        "browser test: {} runs in {:.1} s (exports {:.1} s), {}, {} screenshots:\n",
        runs.len(),
        browser_time.as_secs_f64(),
        export_time.as_secs_f64(),
        s(&result["browser_version"]),
        shot_paths.len()
    );
    for p in &shot_paths {
        msg.push_str(&format!("  {}\n", rel(p)));
    }
    msg.push_str(&format!(
        "  details: {}\n",
        rel(&report.display().to_string())
    ));
    if !warn.is_empty() {
        msg.push_str(&format!(
            "browser test: {} low-contrast text colour(s) (under {CONTRAST_WARN}:1; reported, not failed):\n",
            warn.len()
        ));
        for w in &warn {
            msg.push_str(&format!("  {w}\n"));
        }
    }
    say(&msg);

    // The same fault is often seen on every load: say it once, counted.
    let mut seen: Vec<(String, usize)> = Vec::new();
    for m in f.0 {
        match seen.iter_mut().find(|(s, _)| *s == m) {
            Some((_, c)) => *c += 1,
            None => seen.push((m, 1)),
        }
    }
    let lines: Vec<String> = seen
        .iter()
        .map(|(m, c)| {
            if *c > 1 {
                format!("{m} (×{c})")
            } else {
                m.clone()
            }
        })
        .collect();
    assert!(
        lines.is_empty(),
        "{} browser check(s) failed:\n- {}",
        lines.len(),
        lines.join("\n- ")
    );
}
