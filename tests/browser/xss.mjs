// Loads the pages of the XSS corpus (tests/xss.rs) in headless Chromium and
// reports what it saw as one JSON document on standard output. The Rust
// test decides what passes; this script only observes (and fails only when
// it cannot run at all).
//
//   node tests/browser/xss.mjs SPEC.json
//
// SPEC: {
//   "chromium": "/usr/bin/chromium",
//   "site_dir": "/tmp/…/site",        the exported pages
//   "beacon": "http://127.0.0.1:PORT", where payloads would call home
//   "timeout_ms": 400000,
//   "search": "onerror",
//   "pages": [{ "name": "…", "file": "x.html", "text": true,
//               "modes": ["file", "http"],
//               "csp": ["enforced", "bypassed"] }],  bypassed: Chromium
//                      ignores the page's CSP, so escaping alone must hold
//   "control": "control.html"         a page that injects on purpose
// }
//
// Each page is loaded, left to run, then every filter is switched on,
// every block expanded, a search run and cleared, and two hostile
// fragments navigated to. Facts about the DOM are taken after loading and
// after all that. Every request is recorded; only the page itself, data:
// URIs and the beacon (so that the test's own listener sees any call) are
// let through.

import { chromium } from "playwright-core";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { LAUNCH_ARGS, closeAll, newRecord, observedContext, sleep, startServer, reporter } from "./lib.mjs";

const started = Date.now();
const spec = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const out = { browser_version: null, duration_ms: 0, fatal: null, base_url: null, server_requests: [], control: null, runs: [] };

let browser = null;
let server = null;
// The whole run is bounded: on expiry report what was seen and leave.
const { emit, stop: stopWatchdog } = reporter(spec, out, started, 400_000, () => [browser, server]);

// --- in the page ---------------------------------------------------------------

// Everything about the document a payload could have changed.
function facts(withText) {
  const els = Array.from(document.querySelectorAll("*"));
  const tags = {};
  const attrs = {};
  const onAttrs = [];
  const urls = [];
  const URL_ATTRS = ["href", "src", "srcset", "action", "formaction", "data", "poster", "background", "xlink:href", "srcdoc", "ping", "cite", "manifest"];
  for (const el of els) {
    const ns = el.namespaceURI === "http://www.w3.org/1999/xhtml" ? "" : el.namespaceURI === "http://www.w3.org/2000/svg" ? "svg:" : el.namespaceURI === "http://www.w3.org/1998/Math/MathML" ? "math:" : "?:";
    const tag = ns + el.localName;
    tags[tag] = (tags[tag] ?? 0) + 1;
    for (const a of el.attributes) {
      const key = `${tag}[${a.name}]`;
      attrs[key] = (attrs[key] ?? 0) + 1;
      if (/^on/i.test(a.name)) onAttrs.push(key);
      if (URL_ATTRS.includes(a.name.toLowerCase())) urls.push({ tag, attr: a.name, value: a.value.slice(0, 200) });
    }
  }
  const head = Array.from(document.head?.children ?? []).map((e) => {
    const o = { tag: e.localName };
    for (const a of e.attributes) if (a.name !== "content" || e.getAttribute("http-equiv")) o[a.name] = a.value.slice(0, 300);
    return o;
  });
  const scripts = Array.from(document.scripts).map((s) => ({ parent: s.parentElement?.localName ?? null, src: s.getAttribute("src"), length: s.textContent.length }));
  return {
    title: document.title,
    url: location.href,
    tags,
    attrs,
    on_attributes: onAttrs,
    urls,
    head,
    scripts,
    styles: document.querySelectorAll("style").length,
    body_children: Array.from(document.body?.children ?? []).map((e) => e.localName + (e.id ? "#" + e.id : "") + (e.className && typeof e.className === "string" ? "." + e.className.split(/\s+/).join(".") : "")),
    marks: document.querySelectorAll("mark.hit").length,
    qn: document.getElementById("qn")?.textContent ?? null,
    details: document.querySelectorAll("details").length,
    details_open: document.querySelectorAll("details[open]").length,
    text: withText ? document.body.innerText : null,
  };
}

// --- the checks -------------------------------------------------------------------

async function checkPage(p, mode, csp, baseUrl) {
  const url = mode === "file" ? "file://" + path.join(spec.site_dir, p.file) : `${baseUrl}/${encodeURIComponent(p.file)}`;
  const run = { page: p.name, mode, csp, url, steps: {}, ...newRecord() };
  out.runs.push(run);
  const beacon = spec.beacon;
  const allowed = (u) => u.split("#")[0] === url || /^data:/i.test(u) || u.startsWith(beacon + "/");
  const ctx = await observedContext(browser, { bypassCSP: csp === "bypassed", viewport: { width: 1280, height: 900 } }, run, allowed);
  const step = async (name, fn) => {
    try {
      run.steps[name] = (await fn()) ?? true;
    } catch (e) {
      run.steps[name] = { error: String(e?.stack ?? e).split("\n").slice(0, 4).join("\n") };
    }
  };
  try {
    const page = await ctx.newPage();
    page.on("dialog", (d) => {
      run.page_errors.push(`dialog opened: ${d.type()} ${d.message()}`);
      d.dismiss().catch(() => {});
    });
    await step("load", async () => {
      await page.goto(url, { waitUntil: "load" });
      await sleep(800);
    });
    run.loaded = await page.evaluate(facts, false).catch((e) => ({ error: String(e) }));
    await step("interact", async () => {
      for (const id of ["f-notices", "f-tools", "f-reasoning"]) {
        const box = page.locator("#" + id);
        if (await box.count()) await box.check();
      }
      if (await page.locator("#expand").count()) await page.locator("#expand").click();
      await sleep(300);
      // Focus and hover whatever is there, in case a handler waits for it.
      await page.evaluate(() => {
        for (const el of document.querySelectorAll("input, select, textarea, button, a, summary")) {
          try { el.focus(); } catch (_) {}
        }
      });
      await page.mouse.move(200, 300);
      await page.mouse.move(600, 500);
      if (await page.locator("#q").count()) {
        await page.locator("#q").fill(spec.search);
        await page.waitForFunction(() => /found|no match/.test(document.getElementById("qn")?.textContent ?? ""), null, { timeout: 30_000 });
        run.search = await page.evaluate(() => ({ qn: document.getElementById("qn").textContent, marks: document.querySelectorAll("mark.hit").length }));
        await page.locator("#q").press("Escape");
      }
      await sleep(300);
    });
    await step("fragments", async () => {
      for (const frag of ["#%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E", "#%E0%A4%A", "#m-1\"><img src=x onerror=alert(1)>"]) {
        await page.evaluate((f) => { location.hash = f; }, frag);
        await sleep(150);
      }
    });
    await sleep(500);
    run.final = await page.evaluate(facts, !!p.text).catch((e) => ({ error: String(e) }));
  } finally {
    await ctx.close().catch(() => {});
  }
}

// The detectors at work: a page that injects for real (no CSP, raw
// markup) must set the title, call the beacon and leave handlers and
// scripts in the DOM.
async function control(baseUrl) {
  const url = `${baseUrl}/${spec.control}`;
  const rec = { ...newRecord(), steps: {} };
  const allowed = (u) => u.split("#")[0] === url || /^data:/i.test(u) || u.startsWith(spec.beacon + "/");
  const ctx = await observedContext(browser, { viewport: { width: 800, height: 600 } }, rec, allowed);
  try {
    const page = await ctx.newPage();
    await page.goto(url, { waitUntil: "load" });
    await sleep(800);
    rec.final = await page.evaluate(facts, true);
  } finally {
    await ctx.close().catch(() => {});
  }
  return rec;
}

async function main() {
  browser = await chromium.launch({ executablePath: spec.chromium, args: LAUNCH_ARGS, headless: true, timeout: 60_000, env: { ...process.env, TMPDIR: os.tmpdir() } });
  out.browser_version = browser.version();
  server = await startServer(spec.site_dir, (r) => out.server_requests.push(r), { headers: { "cache-control": "no-store" } });
  const baseUrl = `http://127.0.0.1:${server.address().port}`;
  out.base_url = baseUrl;
  out.control = await control(baseUrl).catch((e) => ({ error: String(e?.stack ?? e) }));
  for (const p of spec.pages) {
    for (const mode of p.modes) {
      for (const csp of p.csp) await checkPage(p, mode, csp, baseUrl);
    }
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
