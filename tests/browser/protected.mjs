// Opens sharegen's password-protected and key-in-URL pages in headless
// Chromium and reports what it saw as one JSON document on standard
// output. Driven by tests/protected.rs, which decides what passes; this
// script only observes (and fails only when it cannot run at all).
//
//   node tests/browser/protected.mjs SPEC.json
//
// SPEC: {
//   "chromium": "/usr/bin/chromium",
//   "site_dir": "/tmp/…/pages",           pages to open, served as they are
//   "timeout_ms": 240000,                 the whole run
//   "modes": ["file", "http"],
//   "result_path": "…/result.json",       also written there (optional)
//   "screenshot_dir": "…",                optional
//   "pages": [{ "name": "…", "file": "x.html",
//               "kind": "password" | "key" | "control",
//               "password": "…", "wrong_password": "…",   (password, control)
//               "fragment": "#k=…", "wrong_fragment": "#k=…",   (key)
//               "expect_text": ["…"] }]
// }
//
// A "control" page is a password page whose shell no longer allows the
// inner page's script: once decrypted, that script must be blocked and
// reported, which proves both that the shell's policy stays in force after
// the document is replaced and that this harness sees violations there.
//
// Same ground rules as check.mjs: a fresh profile, every wait bounded, the
// browser and server closed on every path out, and nothing leaves the
// machine (our server on 127.0.0.1 only, every other request aborted, no
// name resolves).

import { chromium } from "playwright-core";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { LAUNCH_ARGS, closeAll, newRecord, observedContext, sleep, startServer, reporter } from "./lib.mjs";

const started = Date.now();
const spec = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const out = { browser_version: null, duration_ms: 0, fatal: null, server_requests: [], runs: [] };
// PBKDF2 at 600,000 iterations takes a moment, more on a busy machine.
const DECRYPT_MS = 60_000;

let browser = null;
let server = null;
// The whole run is bounded: on expiry report what was seen and leave.
const { emit, stop: stopWatchdog } = reporter(spec, out, started, 240_000, () => [browser, server], 1);

// lib.mjs listens for CSP violations on the document, and this on the
// window; document.open() erases both. Chromium also logs every violation
// to the console ("… violates the following Content Security Policy
// directive …"), which Playwright records whatever the page does: that is
// what counts violations after the page is replaced (see cspConsole).
const WINDOW_VIOLATIONS = `
  window.addEventListener("securitypolicyviolation", function (e) {
    try {
      window.__sgViolation(JSON.stringify({
        directive: e.violatedDirective, effective: e.effectiveDirective,
        blocked: e.blockedURI, sample: e.sample, source: e.sourceFile, line: e.lineNumber, on: "window"
      }));
    } catch (_) {}
  }, true);
`;

// --- in-page helpers --------------------------------------------------------

function facts(expect) {
  const text = document.body ? document.body.innerText : "";
  const visible = (needle) => {
    // An element whose own text holds the needle, and is rendered.
    const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n; (n = w.nextNode()); ) {
      if (n.nodeValue.includes(needle) && n.parentElement && n.parentElement.checkVisibility()) return true;
    }
    return false;
  };
  const msg = document.getElementById("sg-msg");
  const form = document.getElementById("sg-unlock");
  return {
    title: document.title,
    articles: document.querySelectorAll("article.msg").length,
    expect: expect.map((t) => ({ text: t, in_text: text.includes(t), visible: visible(t) })),
    shell: !!document.getElementById("sg-sealed"),
    form_visible: !!form && !form.hidden && form.checkVisibility(),
    label: document.getElementById("sg-label")?.textContent ?? null,
    message: msg ? msg.textContent : null,
    message_class: msg ? msg.className : null,
    meta_leaks: Array.from(document.querySelectorAll('meta[name="description"], meta[property^="og:"], meta[name^="twitter:"], link[rel="canonical"]')).map((m) => m.outerHTML),
    scripts: document.querySelectorAll("script").length,
    csp_meta: Array.from(document.querySelectorAll('meta[http-equiv="Content-Security-Policy"]')).map((m) => m.getAttribute("content")),
    // Added by the page's own script (page.js): proof it ran.
    anchors: document.querySelectorAll("a.anchor").length,
    pwned: typeof window.__sgProbe === "undefined" ? null : String(window.__sgProbe),
  };
}

// --- one page ---------------------------------------------------------------

async function group(run, name, f) {
  try {
    run[name] = await f();
  } catch (e) {
    run[name] = { error: String(e?.stack ?? e) };
  }
}

async function submit(page, value) {
  await page.locator("#sg-pw").fill(value);
  await page.locator("#sg-open").click();
}

// Waits until the shell says something went wrong, or the conversation
// appears; returns which.
async function outcome(page) {
  const h = await page.waitForFunction(() => {
    if (document.querySelector("article.msg")) return "opened";
    const m = document.getElementById("sg-msg");
    return m && m.className === "err" ? "error" : false;
  }, null, { timeout: DECRYPT_MS, polling: 100 });
  return h.jsonValue();
}

// Console messages that report a CSP violation.
function cspConsole(messages) {
  return messages.filter((m) => /Content Security Policy/.test(m.text));
}

// After decryption: a script added by hand must still be blocked (the
// policies are in force) and be reported.
async function probe(page, run) {
  const events = run.csp_violations.length;
  const logged = cspConsole(run.console).length;
  await page.evaluate(() => {
    const s = document.createElement("script");
    s.textContent = "window.__sgProbe = 'ran';";
    document.body.appendChild(s);
  });
  await sleep(300);
  return {
    ran: await page.evaluate(() => window.__sgProbe === "ran"),
    events: run.csp_violations.length - events,
    logged: cspConsole(run.console).slice(logged).map((m) => m.text),
  };
}

async function theme(page) {
  const before = await page.evaluate(() => document.documentElement.getAttribute("data-theme"));
  await page.locator("#theme").click();
  const after = await page.evaluate(() => document.documentElement.getAttribute("data-theme"));
  return { before, after };
}

async function checkPage(p, mode, baseUrl) {
  const url = mode === "file" ? "file://" + path.join(spec.site_dir, p.file) : `${baseUrl}/${encodeURIComponent(p.file)}`;
  const run = { page: p.name, kind: p.kind, mode, url, ...newRecord() };
  out.runs.push(run);
  const allowed = (u) => u.split("#")[0] === url || /^data:/i.test(u);
  const ctx = await observedContext(browser, { viewport: { width: 1100, height: 800 }, colorScheme: "light" }, run, allowed);
  await ctx.addInitScript(WINDOW_VIOLATIONS);
  const expect = p.expect_text ?? [];
  try {
    const page = await ctx.newPage();
    if (p.kind === "password" || p.kind === "control") {
      await group(run, "locked", async () => {
        await page.goto(url, { waitUntil: "load" });
        await page.locator("#sg-unlock").waitFor({ state: "visible" });
        return await page.evaluate(facts, expect);
      });
      await group(run, "wrong", async () => {
        await submit(page, p.wrong_password);
        const how = await outcome(page);
        return { outcome: how, ...(await page.evaluate(facts, expect)) };
      });
      await group(run, "empty", async () => {
        await submit(page, "");
        return await page.evaluate(facts, expect);
      });
      await group(run, "right", async () => {
        await submit(page, p.password);
        const how = await outcome(page);
        // Give the page's own script a moment (and any violation time to land).
        await sleep(500);
        return { outcome: how, ...(await page.evaluate(facts, expect)) };
      });
      run.violations_before_probe = run.csp_violations.slice();
      run.console_before_probe = run.console.slice();
      run.csp_console_before_probe = cspConsole(run.console);
      if (p.kind === "password") {
        await group(run, "theme", () => theme(page));
        await group(run, "probe", () => probe(page, run));
        if (spec.screenshot_dir && mode === "http") {
          fs.mkdirSync(spec.screenshot_dir, { recursive: true });
          await page.screenshot({ path: path.join(spec.screenshot_dir, `${p.name}-opened.png`) });
        }
      }
    } else {
      await group(run, "with_key", async () => {
        await page.goto(url + p.fragment, { waitUntil: "load" });
        const how = await outcome(page);
        await sleep(500);
        return { outcome: how, ...(await page.evaluate(facts, expect)) };
      });
      await group(run, "without_key", async () => {
        const other = await ctx.newPage();
        await other.goto(url, { waitUntil: "load" });
        await other.locator("#sg-unlock").waitFor({ state: "visible" });
        const locked = await other.evaluate(facts, expect);
        // The whole link pasted into the field opens it.
        await submit(other, url + p.fragment);
        const how = await outcome(other);
        await sleep(300);
        const opened = await other.evaluate(facts, expect);
        await other.close();
        return { locked, outcome: how, opened };
      });
      await group(run, "wrong_key", async () => {
        const other = await ctx.newPage();
        await other.goto(url + p.wrong_fragment, { waitUntil: "load" });
        const how = await outcome(other);
        const r = { outcome: how, ...(await other.evaluate(facts, expect)) };
        await other.close();
        return r;
      });
      run.violations_before_probe = run.csp_violations.slice();
      run.console_before_probe = run.console.slice();
      run.csp_console_before_probe = cspConsole(run.console);
      await group(run, "probe", () => probe(page, run));
    }
  } finally {
    await ctx.close().catch(() => {});
  }
}

async function main() {
  browser = await chromium.launch({
    executablePath: spec.chromium,
    args: LAUNCH_ARGS,
    headless: true,
    timeout: 60_000,
    env: { ...process.env, TMPDIR: os.tmpdir() },
  });
  out.browser_version = browser.version();
  server = await startServer(spec.site_dir, (r) => out.server_requests.push(r), { headers: { "cache-control": "no-store" } });
  const baseUrl = `http://127.0.0.1:${server.address().port}`;
  for (const mode of spec.modes ?? ["file", "http"]) {
    for (const p of spec.pages) await checkPage(p, mode, baseUrl);
  }
}

try {
  await main();
} catch (e) {
  out.fatal = String(e?.stack ?? e);
} finally {
  stopWatchdog();
  await closeAll(browser, server);
  emit();
}
