// A live page (written by `sharegen watch`) in headless Chromium: served
// over http://127.0.0.1 it must show a message appended to the session
// without a reload; opened from file:// it must not poll at all. Driven by
// tests/browser_live.rs, which decides what passes; this script only
// observes and reports one JSON document (and fails only when it cannot run).
//
//   node tests/browser/live.mjs SPEC.json
//
// SPEC: {
//   "chromium": "/usr/bin/chromium",
//   "site_dir": "/tmp/…/sg/site",     served as it is, while watch rewrites it
//   "page": "s/<share_id>/",          the page, relative to site_dir
//   "word": "…",                      what the appended message will say
//   "timeout_ms": 120000,             the whole run
//   "sync_ms": 30000,                 how long to wait for the append
//   "appear_ms": 20000,               how long the page has to show it
//   "file_quiet_ms": 4000,            how long to watch the file:// page
//   "result_path": "…/result.json"    also written there (optional)
// }
//
// Talking with the test, one line each way: when the page is open,
// polling, scrolled and its state noted, this prints "ready" on standard
// output and waits for "appended" on standard input (end of input fails
// the run). The result is written to result_path, then to standard output.
//
// Every wait is bounded; the browser and the server are closed on every
// path out. Nothing leaves the machine: the only server is ours on
// 127.0.0.1 (no caching headers: the page alone must defeat caches), every
// other request is aborted, and the host resolver maps every name to nothing.

import { chromium } from "playwright-core";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { ACTION_MS, LAUNCH_ARGS, closeAll, newRecord, observedContext, sleep, startServer, reporter } from "./lib.mjs";

const started = Date.now();
const spec = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const out = {
  browser_version: null,
  duration_ms: 0,
  fatal: null,
  base_url: null,
  server_requests: [],
  http: null,
  file: null,
};

let browser = null;
let server = null;
// The whole run is bounded: on expiry report what was seen and leave.
const { emit, stop: stopWatchdog } = reporter(spec, out, started, 120_000, () => [browser, server], 1);

// --- lines from the test ------------------------------------------------------

const lines = [];
let lineWaiter = null;
let inputClosed = false;
const rl = readline.createInterface({ input: process.stdin });
rl.on("line", (l) => {
  lines.push(l.trim());
  lineWaiter?.();
});
rl.on("close", () => {
  inputClosed = true;
  lineWaiter?.();
});

async function nextLine(ms) {
  const deadline = Date.now() + ms;
  while (!lines.length) {
    if (inputClosed) throw new Error("the test closed standard input");
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`no line from the test within ${ms} ms`);
    let timer;
    await new Promise((r) => { lineWaiter = r; timer = setTimeout(r, left); });
    clearTimeout(timer);
    lineWaiter = null;
  }
  return lines.shift();
}

// --- in-page probes ------------------------------------------------------------

// Every fetch / XMLHttpRequest the page's script makes, whether or not it
// reaches the network (a file:// page's fetch fails before any request).
const SPY_SCRIPT = `
  (function () {
    var calls = window.__sgCalls = [];
    var f = window.fetch;
    if (f) window.fetch = function (input) {
      calls.push({ api: "fetch", url: String(input && input.url || input), t: Date.now() });
      return f.apply(this, arguments);
    };
    var open = XMLHttpRequest.prototype.open;
    XMLHttpRequest.prototype.open = function (m, u) {
      calls.push({ api: "xhr", url: String(u), t: Date.now() });
      return open.apply(this, arguments);
    };
  })();
`;

function scrollFacts() {
  const se = document.scrollingElement;
  const top = Array.from(document.querySelectorAll("main > article.msg[id]")).find((a) => a.getBoundingClientRect().bottom > 0);
  return {
    y: Math.round(scrollY * 10) / 10,
    scroll_height: se.scrollHeight,
    inner_height: innerHeight,
    top_article: top?.id ?? null,
    top_article_top: top ? Math.round(top.getBoundingClientRect().top * 10) / 10 : null,
  };
}

function pageFacts(word) {
  const main = document.getElementById("main");
  const text = main?.textContent ?? "";
  const withWord = Array.from(document.querySelectorAll("main article.msg")).filter((a) => a.textContent.includes(word));
  const badge = document.getElementById("live");
  return {
    marker: window.__sgLiveMarker ?? null,
    time_origin: performance.timeOrigin,
    navigation_entries: performance.getEntriesByType("navigation").length,
    data_live: document.body.getAttribute("data-live"),
    badge_exists: !!badge,
    badge_hidden_attr: badge ? badge.hidden : null,
    badge_visible: !!badge && badge.checkVisibility(),
    articles: document.querySelectorAll("main article.msg").length,
    top_articles: document.querySelectorAll("main > article.msg").length,
    word_count: word ? text.split(word).length - 1 : 0,
    word_articles: withWord.map((a) => ({ id: a.id, class: a.className, top_level: a.parentElement === main, text: a.innerText.trim().slice(0, 200) })),
    last_top_article: (() => {
      const all = document.querySelectorAll("main > article.msg");
      const a = all[all.length - 1];
      return a ? { id: a.id, class: a.className, text: a.innerText.trim().slice(0, 200) } : null;
    })(),
    fetch_calls: (window.__sgCalls ?? []).map((c) => ({ api: c.api, url: c.url })),
  };
}

// --- the checks ----------------------------------------------------------------

async function step(run, name, fn) {
  const t = Date.now();
  try {
    return await fn();
  } finally {
    run.timings[name] = Date.now() - t;
  }
}

async function until(what, ms, f) {
  const deadline = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

async function livePage(baseUrl) {
  const url = `${baseUrl}/${spec.page}`;
  const run = { url, timings: {}, t0: Date.now(), ...newRecord(), navigations: [], loads: 0, steps: [] };
  out.http = run;
  // Our server only; the checks in the test decide which of its URLs are fine.
  const allowed = (u) => u.startsWith(baseUrl + "/") || /^data:/i.test(u);
  const ctx = await observedContext(browser, { viewport: { width: 1280, height: 900 }, colorScheme: "light" }, run, allowed);
  try {
    await ctx.addInitScript(SPY_SCRIPT);
    const page = await ctx.newPage();
    page.on("framenavigated", (f) => {
      if (f === page.mainFrame()) run.navigations.push({ url: f.url(), at: Date.now() - run.t0 });
    });
    page.on("load", () => run.loads++);

    await step(run, "load", () => page.goto(url, { waitUntil: "load" }));
    run.steps.push("loaded");
    run.loaded = await page.evaluate(pageFacts, spec.word);

    await step(run, "badge", () => page.locator("#live").waitFor({ state: "visible", timeout: ACTION_MS }));
    run.steps.push("badge visible");

    // The page polls every few seconds: see it ask once before changing
    // anything.
    const versionUrl = url + "version.json";
    await step(run, "first_poll", () => until("the first poll of version.json", 15_000, () => run.requests.some((r) => r.url === versionUrl)));
    run.steps.push("polled");

    // What a reload would lose; a block opened by hand; the middle of the page.
    run.marker = await page.evaluate(() => (window.__sgLiveMarker = "kept-" + Math.random().toString(36).slice(2)));
    run.opened = await page.evaluate(() => {
      const closed = Array.from(document.querySelectorAll("main details[id]:not([open])")).filter((d) => d.checkVisibility());
      const d = closed[Math.floor(closed.length / 2)];
      if (!d) return null;
      d.open = true;
      return d.id;
    });
    await page.evaluate(() => {
      const se = document.scrollingElement;
      window.scrollTo(0, Math.round((se.scrollHeight - innerHeight) / 2));
    });
    await sleep(300);
    run.before = { ...(await page.evaluate(pageFacts, spec.word)), scroll: await page.evaluate(scrollFacts) };
    run.steps.push("ready");

    // The test appends the message now.
    process.stdout.write("ready\n");
    const reply = await step(run, "sync", () => nextLine(spec.sync_ms ?? 30_000));
    if (reply !== "appended") throw new Error(`unexpected line from the test: ${JSON.stringify(reply)}`);
    const appendedAt = Date.now();
    run.appended_at = appendedAt - run.t0;
    run.steps.push("appended");

    try {
      await page.waitForFunction((w) => (document.getElementById("main")?.textContent ?? "").includes(w), spec.word, {
        timeout: spec.appear_ms ?? 20_000,
        polling: 100,
      });
      run.appear_ms = Date.now() - appendedAt;
      run.steps.push("appeared");
    } catch (e) {
      run.appear_ms = null;
      run.appear_error = String(e?.message ?? e).split("\n")[0];
    }
    // Let the update finish (scroll, open blocks) before looking.
    await sleep(300);
    run.after = { ...(await page.evaluate(pageFacts, spec.word)), scroll: await page.evaluate(scrollFacts) };
    run.opened_still_open = run.opened ? await page.evaluate((id) => document.getElementById(id)?.open ?? null, run.opened) : null;
    // One more poll period: an unchanged version must not refetch the page.
    const settledAt = Date.now() - run.t0;
    await sleep(3_500);
    run.settled_at = settledAt;
    run.later = { ...(await page.evaluate(pageFacts, spec.word)), scroll: await page.evaluate(scrollFacts) };
    run.steps.push("done");
  } finally {
    await ctx.close().catch(() => {});
  }
}

async function filePage() {
  const url = "file://" + path.join(spec.site_dir, spec.page, "index.html");
  const run = { url, timings: {}, t0: Date.now(), ...newRecord() };
  out.file = run;
  const allowed = (u) => u.split("#")[0] === url || /^data:/i.test(u);
  const ctx = await observedContext(browser, { viewport: { width: 1280, height: 900 } }, run, allowed);
  try {
    await ctx.addInitScript(SPY_SCRIPT);
    const page = await ctx.newPage();
    await step(run, "load", () => page.goto(url, { waitUntil: "load" }));
    run.requests_at_load = run.requests.length;
    run.loaded = await page.evaluate(pageFacts, null);
    await sleep(spec.file_quiet_ms ?? 4_000);
    run.quiet_ms = spec.file_quiet_ms ?? 4_000;
    run.later = await page.evaluate(pageFacts, null);
    run.requests_after_load = run.requests.slice(run.requests_at_load);
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
  server = await startServer(spec.site_dir, (r) => out.server_requests.push({ ...r, at: Date.now() - started }), { index: true, types: true });
  const baseUrl = `http://127.0.0.1:${server.address().port}`;
  out.base_url = baseUrl;
  try {
    await livePage(baseUrl);
  } catch (e) {
    out.http = { ...(out.http ?? {}), error: String(e?.stack ?? e).split("\n").slice(0, 4).join("\n") };
  }
  try {
    await filePage();
  } catch (e) {
    out.file = { ...(out.file ?? {}), error: String(e?.stack ?? e).split("\n").slice(0, 4).join("\n") };
  }
}

try {
  await main();
} catch (e) {
  out.fatal = String(e?.stack ?? e);
} finally {
  stopWatchdog();
  rl.close();
  process.stdin.destroy();
  await closeAll(browser, server);
  emit();
}
