// Opens sharegen's exported pages in headless Chromium and reports what it
// saw as one JSON document on standard output. Driven by tests/browser.rs,
// which decides what passes; this script only observes (and fails only when
// it cannot run at all).
//
//   node tests/browser/check.mjs SPEC.json
//
// SPEC: {
//   "chromium": "/usr/bin/chromium",
//   "site_dir": "/tmp/…/site",            pages to open, served as they are
//   "screenshot_dir": "…/target/browser-screenshots",
//   "timeout_ms": 240000,                 the whole run
//   "modes": ["file", "http"],
//   "result_path": "…/result.json",       also written there (optional)
//   "pages": [{ "name": "…", "file": "x.html", "search": "auto" | "word" | null,
//               "expect_text": ["…"], "screenshots": true }]
// }
//
// Chromium runs on a fresh temporary profile (Playwright's, under $TMPDIR).
// Every wait is bounded; the browser and the server are closed on every
// path out. Nothing leaves the machine: the only server is ours on
// 127.0.0.1, every other request is aborted, and the host resolver maps
// every name to nothing.

import { chromium } from "playwright-core";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ACTION_MS, LAUNCH_ARGS, closeAll, newRecord, observedContext as observed, sleep, startServer as serve, reporter } from "./lib.mjs";

const started = Date.now();
const spec = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const out = {
  browser_version: null,
  duration_ms: 0,
  fatal: null,
  selftest: null,
  server_requests: [],
  runs: [],
  screenshots: [],
};

let browser = null;
let server = null;
// The whole run is bounded: on expiry report what was seen and leave.
const { emit, stop: stopWatchdog } = reporter(spec, out, started, 240_000, () => [browser, server], 1);

// --- a tiny static server on 127.0.0.1 (lib.mjs) ----------------------------

function startServer(dir) {
  return serve(dir, (r) => out.server_requests.push(r), { headers: { "cache-control": "no-store" } });
}

// --- observing a context (lib.mjs) ------------------------------------------

// A context whose every request, console message, page error and CSP
// violation lands in `rec`. Requests other than `allowed(url)` are aborted.
function observedContext(opts, rec, allowed) {
  return observed(browser, opts, rec, allowed);
}

// --- in-page helpers (run inside the page) --------------------------------

// Facts about script injection: none of the session's markup may become
// elements or run.
function injectionFacts() {
  const all = Array.from(document.querySelectorAll("*"));
  const onAttrs = [];
  for (const el of all) {
    for (const a of el.attributes) {
      if (/^on/i.test(a.name)) onAttrs.push(`${el.tagName.toLowerCase()}[${a.name}]`);
    }
  }
  const jsUrls = Array.from(document.querySelectorAll("[href],[src],[action],[formaction],[data]"))
    .map((el) => el.getAttribute("href") ?? el.getAttribute("src") ?? el.getAttribute("action") ?? el.getAttribute("formaction") ?? el.getAttribute("data"))
    .filter((v) => /^\s*(javascript|vbscript|data:text)/i.test(v ?? ""));
  const remote = Array.from(document.querySelectorAll("img[src],iframe,object,embed,video,audio,source,link[href],input[src]"))
    .map((el) => el.getAttribute("src") ?? el.getAttribute("href") ?? el.getAttribute("data") ?? el.tagName)
    .filter((v) => !/^data:/i.test(v ?? ""));
  return {
    pwned: typeof window.__pwned === "undefined" ? null : String(window.__pwned),
    scripts: document.querySelectorAll("script").length,
    styles: document.querySelectorAll("style").length,
    on_attributes: onAttrs,
    img_onerror: document.querySelectorAll("img[onerror]").length,
    javascript_urls: jsUrls,
    embedded_elements: document.querySelectorAll("body iframe, body object, body embed, body frame, body form, body base, body meta, body link, body svg script").length,
    remote_resources: remote,
    resource_hints: Array.from(document.querySelectorAll("link[rel~=preconnect], link[rel~=dns-prefetch], link[rel~=prefetch], link[rel~=preload], link[rel~=modulepreload], link[rel~=prerender], link[rel~=stylesheet], link[rel~=icon], link[rel~=manifest]")).map((l) => l.outerHTML),
    csp_meta: document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute("content") ?? null,
    images: Array.from(document.images).map((i) => ({ complete: i.complete, width: i.naturalWidth, src: i.src.slice(0, 30) })),
  };
}

// Picks a word that occurs only in the body of a collapsed tool call or
// rewound branch (never in a summary or anywhere visible), preferring one
// nested in two or more closed <details>. Returns null when the page has
// none.
function pickHiddenWord(preferred) {
  const main = document.getElementById("main");
  const inClosedBody = (n) => {
    let closed = 0, tool = false;
    for (let p = n.parentElement; p && p !== main; p = p.parentElement) {
      if (p.tagName === "SUMMARY" && p.parentElement?.tagName === "DETAILS" && !p.parentElement.open) return { hidden: false };
      if (p.tagName === "DETAILS" && !p.open) {
        closed++;
        if (p.classList.contains("tool") || p.classList.contains("rewound")) tool = true;
      }
    }
    return { hidden: closed > 0 && tool, closed };
  };
  const w = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  const hidden = [], visible = [];
  for (let n; (n = w.nextNode()); ) {
    const h = inClosedBody(n);
    if (h.hidden) hidden.push({ text: n.nodeValue, lower: n.nodeValue.toLowerCase(), closed: h.closed });
    else visible.push(n.nodeValue.toLowerCase());
  }
  const visibleText = visible.join("\u0000");
  const whole = main.textContent.toLowerCase();
  const count = (hay, needle) => { let c = 0, i = 0; while ((i = hay.indexOf(needle, i)) >= 0) { c++; i += needle.length; } return c; };
  const judge = (word) => {
    const needle = word.toLowerCase();
    if (visibleText.includes(needle)) return null;
    let inNodes = 0, depth = 99;
    for (const h of hidden) {
      const c = count(h.lower, needle);
      if (c) { inNodes += c; depth = Math.min(depth, h.closed); }
    }
    // Every occurrence must sit inside one text node, as the search sees it.
    if (!inNodes || inNodes !== count(whole, needle)) return null;
    return { word, expected: inNodes, closed_depth: depth };
  };
  if (preferred) return judge(preferred) ?? { word: preferred, expected: null, rejected: true };
  let first = null, seen = new Set(), tried = 0;
  for (const h of hidden) {
    for (const m of h.text.matchAll(/[A-Za-z][A-Za-z_]{5,}/g)) {
      const word = m[0];
      const key = word.toLowerCase();
      if (seen.has(key)) continue;
      seen.add(key);
      if (++tried > 3000) return first;
      const j = judge(word);
      if (!j) continue;
      if (j.closed_depth >= 2) return j;
      first ??= j;
    }
  }
  return first;
}

function detailsState() {
  const all = Array.from(document.querySelectorAll("main details"));
  return { total: all.length, open: all.filter((d) => d.open).length };
}

function bg() {
  const cs = (el) => getComputedStyle(el).backgroundColor;
  const b = cs(document.body), h = cs(document.documentElement);
  const transparent = (c) => c === "transparent" || /rgba\(.*,\s*0\)$/.test(c);
  return { theme: document.documentElement.getAttribute("data-theme"), body: b, html: h, effective: transparent(b) ? h : b, fg: getComputedStyle(document.body).color };
}

// Contrast of every visible piece of text against the background it sits
// on (alpha and opacity blended). Run with everything expanded.
// Whether the page scrolls sideways, and which elements (outside a box
// that scrolls or clips) reach past the viewport's right edge.
function layoutReport() {
  const vw = document.documentElement.clientWidth;
  const wide = [];
  for (const el of document.querySelectorAll("body *")) {
    const r = el.getBoundingClientRect();
    if (r.width && r.right > vw + 1 && el.checkVisibility()) {
      let inner = false;
      for (let p = el.parentElement; p; p = p.parentElement) {
        const o = getComputedStyle(p).overflowX;
        if (o === "auto" || o === "scroll" || o === "hidden") { inner = true; break; }
      }
      if (!inner) wide.push(`${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : ""} right=${Math.round(r.right)}`);
    }
  }
  // A word too long for its line overflows its element's box, not the box.
  const texts = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = texts.nextNode(); n; n = texts.nextNode()) {
    const range = document.createRange();
    range.selectNodeContents(n);
    const r = range.getBoundingClientRect();
    if (!r.width || r.right <= vw + 1 || !n.parentElement?.checkVisibility()) continue;
    let inner = false;
    for (let p = n.parentElement; p; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === "auto" || o === "scroll" || o === "hidden") { inner = true; break; }
    }
    if (!inner) wide.push(`text in ${n.parentElement.tagName.toLowerCase()}.${String(n.parentElement.className).trim().split(/\s+/).join(".")} right=${Math.round(r.right)}: ${JSON.stringify(n.textContent.slice(0, 40))}`);
  }
  return { client_width: vw, scroll_width: document.documentElement.scrollWidth, scroll_height: document.documentElement.scrollHeight, overflowing: wide.slice(0, 10) };
}

function contrastReport() {
  const parse = (c) => {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const [r, g, b, a = 1] = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number);
    return { r, g, b, a };
  };
  const over = (top, base) => ({ r: top.r * top.a + base.r * (1 - top.a), g: top.g * top.a + base.g * (1 - top.a), b: top.b * top.a + base.b * (1 - top.a), a: 1 });
  const lum = ({ r, g, b }) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const bgOf = (el) => {
    const layers = [];
    for (let p = el; p; p = p.parentElement) {
      const c = parse(getComputedStyle(p).backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    let base = { r: 255, g: 255, b: 255, a: 1 };
    for (let i = layers.length - 1; i >= 0; i--) base = over(layers[i], base);
    return base;
  };
  const seen = new Map();
  const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let count = 0;
  for (let n; (n = w.nextNode()) && count < 20000; ) {
    if (!n.nodeValue.trim()) continue;
    const el = n.parentElement;
    if (!el || !el.checkVisibility({ opacityProperty: false, visibilityProperty: true })) continue;
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height) continue;
    count++;
    const cs = getComputedStyle(el);
    let opacity = 1;
    for (let p = el; p; p = p.parentElement) opacity *= Number(getComputedStyle(p).opacity);
    const bg = bgOf(el);
    const fg0 = parse(cs.color);
    if (!fg0) continue;
    const fg = over({ ...fg0, a: fg0.a * opacity }, bg);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = Math.round(((hi + 0.05) / (lo + 0.05)) * 100) / 100;
    const key = `${el.tagName.toLowerCase()}.${[...el.classList].join(".")} ${cs.color} on ${Math.round(bg.r)},${Math.round(bg.g)},${Math.round(bg.b)}`;
    if (!seen.has(key)) seen.set(key, { ratio, what: key, text: n.nodeValue.trim().slice(0, 40), opacity: Math.round(opacity * 100) / 100 });
  }
  // Distinct (element, colours) pairs under 4.5:1, worst first.
  return { texts: count, low: [...seen.values()].filter((x) => x.ratio < 4.5).sort((a, b) => a.ratio - b.ratio).slice(0, 60) };
}

// Line-numbered code (diffs and file views), run with everything expanded:
// every gutter must have as many rows as its code (a newline lost after
// `<pre>` moves every number up a row), and each number must sit on its
// code line (a different font size or line height makes them drift). Rows
// are compared by the vertical centre of their first printable ASCII
// character, on both sides.
function gutterReport() {
  const centres = (pre, limit) => {
    const out = [];
    let row = 0;
    const w = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT);
    for (let n = w.nextNode(); n && row < limit; n = w.nextNode()) {
      const t = n.nodeValue;
      for (let i = 0; i < t.length && row < limit; i++) {
        const c = t.charCodeAt(i);
        if (c === 10) { row++; continue; }
        if (out[row] !== undefined || c <= 32 || c > 126) continue;
        const r = document.createRange();
        r.setStart(n, i);
        r.setEnd(n, i + 1);
        const b = r.getBoundingClientRect();
        if (b.height) out[row] = (b.top + b.bottom) / 2;
      }
    }
    return out;
  };
  const name = (el) => `${el.className} in ${el.closest("[id]")?.id ?? "?"}`;
  const blocks = Array.from(document.querySelectorAll("main .diff, main .numbered")).filter((b) => b.checkVisibility());
  const report = { blocks: blocks.length, diffs: 0, numbered: 0, gutters: 0, rows_compared: 0, row_count_mismatch: [], misaligned: [] };
  for (const b of blocks.slice(0, 400)) {
    report[b.classList.contains("diff") ? "diffs" : "numbered"]++;
    const code = b.querySelector(":scope > pre:not(.gutter)");
    if (!code) { report.row_count_mismatch.push(`${name(b)}: no code`); continue; }
    const codeRows = code.textContent.split("\n").length;
    const limit = 3000;
    const codeAt = centres(code, limit);
    for (const g of b.querySelectorAll(":scope > pre.gutter")) {
      report.gutters++;
      const rows = g.textContent.split("\n").length;
      if (rows !== codeRows) report.row_count_mismatch.push(`${name(b)}: gutter ${rows} rows, code ${codeRows}`);
      const at = centres(g, limit);
      let worst = null;
      for (let i = 0; i < at.length; i++) {
        if (at[i] === undefined || codeAt[i] === undefined) continue;
        report.rows_compared++;
        const d = Math.abs(at[i] - codeAt[i]);
        if (d > 1 && (!worst || d > worst.off)) worst = { row: i, off: Math.round(d * 100) / 100 };
      }
      if (worst) report.misaligned.push(`${name(b)}: row ${worst.row} of the gutter is ${worst.off}px off its code line`);
    }
  }
  report.row_count_mismatch = report.row_count_mismatch.slice(0, 10);
  report.misaligned = report.misaligned.slice(0, 10);
  return report;
}

// Tool-call summaries: whatever follows the name and the key argument (a
// status badge, the exit code, the duration, counts) must show whole inside
// the summary, however long the argument. `stretch` makes every argument
// very long first (the page is reloaded afterwards).
function summaryReport(stretch) {
  const sums = Array.from(document.querySelectorAll("main details.tool > summary, main details.subagent > summary")).filter((s) => s.checkVisibility());
  if (stretch) {
    for (const s of sums) {
      const long = "/a/very/long/path/that/never/ends".repeat(12);
      const t = s.querySelector(":scope > .targ") ?? Array.from(s.childNodes).find((n) => n.nodeType === 3 && n.nodeValue.trim());
      if (t) t.textContent = long + t.textContent;
    }
  }
  const report = { summaries: sums.length, trailing: 0, cut: [] };
  for (const s of sums) {
    const sr = s.getBoundingClientRect();
    const cs = getComputedStyle(s);
    const right = sr.right - parseFloat(cs.paddingRight) - parseFloat(cs.borderRightWidth) + 0.5;
    const left = sr.left + parseFloat(cs.paddingLeft) - 0.5;
    for (const el of s.querySelectorAll(":scope > :not(.tname, .targ)")) {
      report.trailing++;
      const r = el.getBoundingClientRect();
      if (!r.width || r.left < left || r.right > right || r.top < sr.top - 0.5 || r.bottom > sr.bottom + 0.5) {
        report.cut.push(`${el.className} ${JSON.stringify(el.textContent)} in ${s.parentElement.id || s.parentElement.className}: [${Math.round(r.left)}, ${Math.round(r.right)}] outside [${Math.round(left)}, ${Math.round(right)}]`);
      }
    }
  }
  report.cut = report.cut.slice(0, 10);
  return report;
}

// Messages shown with none of their parts shown: what the filters leave
// of a message made only of hidden kinds of part.
function emptyMessages() {
  return Array.from(document.querySelectorAll("main article.msg")).filter((a) => {
    const parts = a.querySelector(":scope > .parts");
    return a.checkVisibility() && parts && parts.children.length > 0
      && !Array.from(parts.children).some((p) => p.checkVisibility());
  }).map((a) => a.id);
}

// --- the checks --------------------------------------------------------------

async function group(run, name, fn) {
  const t = Date.now();
  try {
    run[name] = await fn();
  } catch (e) {
    run[name] = { error: String(e?.stack ?? e).split("\n").slice(0, 4).join("\n") };
  }
  run.timings[name] = Date.now() - t;
}

async function fresh(page, url) {
  await page.goto(url, { waitUntil: "load" });
}

async function checkPage(pageSpec, mode, baseUrl) {
  const url = mode === "file"
    ? "file://" + path.join(spec.site_dir, pageSpec.file)
    : `${baseUrl}/${encodeURIComponent(pageSpec.file)}`;
  const run = { page: pageSpec.name, mode, url, timings: {}, ...newRecord() };
  out.runs.push(run);
  const pageUrl = url;
  const allowed = (u) => u.split("#")[0] === pageUrl || /^data:/i.test(u);
  const ctx = await observedContext({ viewport: { width: 1280, height: 900 }, colorScheme: "light" }, run, allowed);
  try {
    const page = await ctx.newPage();

    await group(run, "load", async () => {
      const t = Date.now();
      await fresh(page, url);
      return {
        ms: Date.now() - t,
        title: await page.title(),
        articles: await page.locator("main article.msg").count(),
        top_articles: await page.locator("main > article.msg").count(),
        visible_top_articles: await page.evaluate(() => Array.from(document.querySelectorAll("main > article.msg")).filter((a) => a.checkVisibility()).length),
        prompts: await page.locator("main > article.msg.user").count(),
        first_prompt_line: await page.evaluate(() => {
          const p = document.querySelector("main > article.msg.user .parts");
          return p ? p.innerText.split("\n").map((l) => l.trim()).find((l) => l) ?? "" : "";
        }),
      };
    });

    await group(run, "injection", () => page.evaluate(injectionFacts));

    await group(run, "search", async () => {
      await fresh(page, url);
      const pick = await page.evaluate(pickHiddenWord, pageSpec.search === "auto" ? null : pageSpec.search);
      if (!pick || pick.rejected) return { word: pick?.word ?? null, candidate: pick };
      const before = await page.evaluate(detailsState);
      const closedAround = await page.evaluate((needle) => {
        // The closed <details> around the word's text nodes, before searching.
        const ids = new Set();
        const w = document.createTreeWalker(document.getElementById("main"), NodeFilter.SHOW_TEXT);
        let k = 0;
        for (let n; (n = w.nextNode()); ) {
          if (!n.nodeValue.toLowerCase().includes(needle)) continue;
          for (let p = n.parentElement; p; p = p.parentElement) {
            if (p.tagName === "DETAILS" && !p.open) { if (!p.dataset.sgProbe) p.dataset.sgProbe = String(++k); ids.add(p.dataset.sgProbe); }
          }
        }
        return ids.size;
      }, pick.word.toLowerCase());
      await page.locator("#q").click();
      await page.locator("#q").pressSequentially(pick.word, { delay: 15 });
      await page.waitForFunction((w) => {
        const marks = Array.from(document.querySelectorAll("mark.hit"));
        return /found|no match/.test(document.getElementById("qn").textContent) && marks.every((m) => m.textContent.toLowerCase() === w);
      }, pick.word.toLowerCase(), { timeout: ACTION_MS });
      const after = await page.evaluate(() => {
        const marks = Array.from(document.querySelectorAll("mark.hit"));
        const closedAncestors = marks.filter((m) => { for (let p = m.parentElement; p; p = p.parentElement) if (p.tagName === "DETAILS" && !p.open) return true; return false; }).length;
        const cur = document.querySelector("mark.hit.current");
        const r = cur?.getBoundingClientRect();
        return {
          qn: document.getElementById("qn").textContent,
          marks: marks.length,
          marks_text: Array.from(new Set(marks.map((m) => m.textContent.toLowerCase()))),
          marks_still_in_closed_details: closedAncestors,
          probed_details_still_closed: document.querySelectorAll("details[data-sg-probe]:not([open])").length,
          current_in_viewport: !!r && r.bottom > 0 && r.top < innerHeight && r.width > 0,
          current_visible: !!cur && cur.checkVisibility?.() !== false,
        };
      });
      // Escape clears the search.
      await page.locator("#q").press("Escape");
      const cleared = await page.evaluate(() => ({
        marks: document.querySelectorAll("mark.hit").length,
        qn: document.getElementById("qn").textContent,
        // The blocks the search opened are closed again.
        still_open: document.querySelectorAll("details[data-sg-probe][open]").length,
      }));
      // With every filter set to hide, the matches still show: a search
      // must not count what it cannot show.
      await fresh(page, url);
      await page.locator("#f-tools").uncheck();
      await page.locator("#f-reasoning").uncheck();
      await page.locator("#q").click();
      await page.locator("#q").pressSequentially(pick.word, { delay: 15 });
      await page.waitForFunction(() => /found|no match/.test(document.getElementById("qn").textContent), null, { timeout: ACTION_MS });
      const filtered = await page.evaluate(() => {
        const marks = Array.from(document.querySelectorAll("mark.hit"));
        return { marks: marks.length, hidden: marks.filter((m) => !m.checkVisibility()).length };
      });
      return { word: pick.word, expected: pick.expected, closed_depth: pick.closed_depth, closed_details_around: closedAround, details_before: before, ...after, after_escape: cleared, filtered };
    });

    // Printing, with the OS dark and the page toggled dark: dark text on
    // white, every block's content shown (with the script, and without it
    // where the browser supports ::details-content).
    await group(run, "print", async () => {
      await page.emulateMedia({ colorScheme: "dark" });
      await fresh(page, url);
      await page.evaluate(() => document.documentElement.setAttribute("data-theme", "dark"));
      await page.evaluate(() => window.dispatchEvent(new Event("beforeprint")));
      await page.emulateMedia({ media: "print", colorScheme: "dark" });
      const facts = await page.evaluate(() => {
        const lum = (c) => { const m = c.match(/\d+(\.\d+)?/g).map(Number); return (0.2126 * m[0] + 0.7152 * m[1] + 0.0722 * m[2]) / 255; };
        // Permalinks and copy buttons are left off paper on purpose.
        const bodies = Array.from(document.querySelectorAll("main details > :not(summary, .anchor, .copy-link, .copy)"));
        return {
          text_luminance: lum(getComputedStyle(document.body).color),
          closed: document.querySelectorAll("main details:not([open])").length,
          // In a block that shows (the filters still hide some blocks).
          hidden_bodies: bodies.filter((e) => e.parentElement.checkVisibility() && !e.checkVisibility()).length,
          bodies: bodies.length,
        };
      });
      await page.evaluate(() => window.dispatchEvent(new Event("afterprint")));
      const after = await page.evaluate(() => ({ theme: document.documentElement.getAttribute("data-theme"), open: document.querySelectorAll("main details[open]").length }));
      await page.emulateMedia({ media: "screen", colorScheme: "light" });
      return { ...facts, after };
    });

    await group(run, "theme", async () => {
      await page.emulateMedia({ colorScheme: "light" });
      await fresh(page, url);
      const initial = await page.evaluate(bg);
      await page.locator("#theme").click();
      const dark = await page.evaluate(bg);
      await page.locator("#theme").click();
      const light = await page.evaluate(bg);
      await page.locator("#theme").click();
      const stored = await page.evaluate(() => localStorage.getItem("sharegen-theme"));
      // Chromium commits localStorage to the browser process in batches; a
      // reload right away may start a renderer that has not seen the write
      // yet (seen for file:// pages on a fresh machine).
      await page.waitForTimeout(1500);
      await page.reload({ waitUntil: "load" });
      const reloaded = await page.evaluate(bg);
      // Following the OS when nothing is stored.
      await page.evaluate(() => localStorage.clear());
      await page.emulateMedia({ colorScheme: "dark" });
      await page.reload({ waitUntil: "load" });
      const osDark = await page.evaluate(bg);
      await page.locator("#theme").click();
      const osDarkToggled = await page.evaluate(bg);
      await page.evaluate(() => localStorage.clear());
      await page.emulateMedia({ colorScheme: "light" });
      return { initial, dark, light, stored_before_reload: stored, reloaded, os_dark: osDark, os_dark_toggled: osDarkToggled };
    });

    await group(run, "expand", async () => {
      await fresh(page, url);
      const before = await page.evaluate(detailsState);
      await page.locator("#expand").click();
      const first = await page.evaluate(detailsState);
      const label1 = await page.locator("#expand").innerText();
      await page.locator("#expand").click();
      const second = await page.evaluate(detailsState);
      const label2 = await page.locator("#expand").innerText();
      // Clicking a tool call's summary opens it (the first one that shows).
      const idx = await page.evaluate(() => Array.from(document.querySelectorAll("main details.tool")).findIndex((d) => d.checkVisibility() && !d.open));
      let summary = null;
      if (idx >= 0) {
        const tool = page.locator("main details.tool").nth(idx);
        await tool.locator(":scope > summary").click();
        const openedByClick = await tool.evaluate((d) => d.open);
        const bodyVisible = await tool.locator(":scope > .tbody").isVisible();
        await tool.locator(":scope > summary").click();
        const closedByClick = await tool.evaluate((d) => !d.open);
        summary = { index: idx, id: await tool.getAttribute("id"), opened: openedByClick, body_visible: bodyVisible, closed_again: closedByClick };
      }
      return { before, after_first_click: first, label_after_first: label1, after_second_click: second, label_after_second: label2, summary_click: summary };
    });

    await group(run, "gutters", async () => {
      await fresh(page, url);
      await page.locator("#expand").click();
      return page.evaluate(gutterReport);
    });

    await group(run, "summaries", async () => {
      const res = {};
      for (const [width, height] of [[1280, 900], [390, 844]]) {
        await page.setViewportSize({ width, height });
        await fresh(page, url);
        const collapsed = await page.evaluate(summaryReport, false);
        const stretched = await page.evaluate(summaryReport, true);
        res[`w${width}`] = { collapsed, stretched };
      }
      await page.setViewportSize({ width: 1280, height: 900 });
      return res;
    });

    await group(run, "filters", async () => {
      await fresh(page, url);
      const shown = (sel) => page.evaluate((s) => {
        const els = Array.from(document.querySelectorAll(s));
        return { total: els.length, displayed: els.filter((e) => getComputedStyle(e).display !== "none").length };
      }, sel);
      const empty = {};
      const toolsBefore = await shown(".tool");
      empty.default = await page.evaluate(emptyMessages);
      await page.locator("#f-tools").uncheck();
      const toolsUnchecked = await shown(".tool");
      const subagentsUnchecked = await shown(".subagent");
      empty.tools_off = await page.evaluate(emptyMessages);
      await page.locator("#f-notices").check();
      empty.tools_off_notices_on = await page.evaluate(emptyMessages);
      await page.locator("#f-notices").uncheck();
      await page.locator("#f-tools").check();
      const toolsRechecked = await shown(".tool");
      // Errors, warnings and interruptions (.keep) show whatever the filter.
      const noticesBefore = await shown(".notice:not(.keep)");
      const keptBefore = await shown(".notice.keep");
      await page.locator("#f-notices").check();
      const noticesChecked = await shown(".notice:not(.keep)");
      await page.locator("#f-notices").uncheck();
      const noticesUnchecked = await shown(".notice:not(.keep)");
      const reasoningBefore = await shown(".reasoning");
      await page.locator("#f-reasoning").uncheck();
      const reasoningUnchecked = await shown(".reasoning");
      empty.reasoning_off = await page.evaluate(emptyMessages);
      await page.locator("#f-tools").uncheck();
      empty.tools_and_reasoning_off = await page.evaluate(emptyMessages);
      await page.locator("#f-notices").check();
      empty.tools_and_reasoning_off_notices_on = await page.evaluate(emptyMessages);
      // Messages the filters hide: how many articles each state shows.
      const articles = () => page.evaluate(() => Array.from(document.querySelectorAll("main > article.msg")).filter((a) => a.checkVisibility()).length);
      const shownArticles = { all_hidden_but_notices: await articles() };
      await page.locator("#f-notices").uncheck();
      shownArticles.all_hidden = await articles();
      await page.locator("#f-tools").check();
      await page.locator("#f-reasoning").check();
      shownArticles.default = await articles();
      return {
        empty_messages: empty, shown_articles: shownArticles,
        tools_before: toolsBefore, tools_unchecked: toolsUnchecked, subagents_unchecked: subagentsUnchecked, tools_rechecked: toolsRechecked,
        notices_before: noticesBefore, notices_checked: noticesChecked, notices_unchecked: noticesUnchecked,
        kept_before: keptBefore,
        reasoning_before: reasoningBefore, reasoning_unchecked: reasoningUnchecked,
      };
    });

    await group(run, "keys", async () => {
      await fresh(page, url);
      const prompts = await page.evaluate(() => Array.from(document.querySelectorAll("main > article.msg.user")).map((a) => a.id));
      const state = () => page.evaluate(() => {
        const id = decodeURIComponent(location.hash.slice(1));
        const el = id ? document.getElementById(id) : null;
        return { hash: location.hash, is_prompt: !!el && el.matches("main > article.msg.user"), top: el ? Math.round(el.getBoundingClientRect().top) : null, scroll_y: Math.round(scrollY) };
      });
      await page.evaluate(() => document.activeElement?.blur()); // keys go to the page, not a field
      const steps = [];
      for (const key of ["j", "j", "k"]) {
        await page.keyboard.press(key);
        await sleep(50);
        steps.push({ key, ...(await state()) });
      }
      await page.keyboard.press("/");
      const slashFocus = await page.evaluate(() => document.activeElement?.id ?? null);
      return { prompts, steps, slash_focuses: slashFocus };
    });

    if (pageSpec.screenshots && mode === "http") {
      await group(run, "screenshots", async () => {
        const shots = [];
        for (const [width, height] of [[1280, 900], [390, 844]]) {
          await page.setViewportSize({ width, height });
          for (const theme of ["light", "dark"]) {
            await page.evaluate((t) => localStorage.setItem("sharegen-theme", t), theme);
            await fresh(page, url);
            const layout = await page.evaluate(layoutReport);
            const base = `${pageSpec.name}-${width}-${theme}`;
            const top = path.join(spec.screenshot_dir, `${base}.png`);
            const h = Math.min(layout.scroll_height, width < 800 ? 3200 : 2400);
            await page.screenshot({ path: top, fullPage: true, clip: { x: 0, y: 0, width, height: h }, timeout: 30_000 });
            // Everything expanded, around the first tool call with a body.
            await page.locator("#expand").click();
            const layout_expanded = await page.evaluate(layoutReport);
            const contrast = width === 1280 ? await page.evaluate(contrastReport) : null;
            const target = page.locator("main details.tool").first();
            let expanded = null;
            if (await target.count()) {
              await target.evaluate((el) => el.scrollIntoView({ block: "start" }));
              expanded = path.join(spec.screenshot_dir, `${base}-expanded.png`);
              await page.screenshot({ path: expanded, timeout: 30_000 });
            }
            shots.push({ width, theme, layout, layout_expanded, contrast, top, expanded });
            out.screenshots.push(top);
            if (expanded) out.screenshots.push(expanded);
          }
        }
        await page.evaluate(() => localStorage.clear());
        await page.setViewportSize({ width: 1280, height: 900 });
        return shots;
      });
      // The narrowest width the page is made for: no screenshots, only
      // whether it scrolls sideways, collapsed and expanded.
      await group(run, "narrow", async () => {
        await page.setViewportSize({ width: 360, height: 740 });
        await fresh(page, url);
        const layout = await page.evaluate(layoutReport);
        await page.locator("#expand").click();
        const layout_expanded = await page.evaluate(layoutReport);
        await page.setViewportSize({ width: 1280, height: 900 });
        return { width: 360, layout, layout_expanded };
      });
    }
  } finally {
    await ctx.close().catch(() => {});
  }

  // The same page with JavaScript off: everything readable.
  await group(run, "nojs", async () => {
    const rec = newRecord();
    const nctx = await observedContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 900 } }, rec, allowed);
    try {
      const p = await nctx.newPage();
      await p.goto(url, { waitUntil: "load" });
      const text = await p.locator("main").innerText();
      const expect = (pageSpec.expect_text ?? []).map((t) => ({ text: t, found: text.includes(t) }));
      const firstPrompt = (run.load?.first_prompt_line ?? "").slice(0, 80);
      const facts = await p.evaluate(() => ({
        articles: document.querySelectorAll("main article.msg").length,
        top_articles: document.querySelectorAll("main > article.msg").length,
        visible_top_articles: Array.from(document.querySelectorAll("main > article.msg")).filter((a) => a.checkVisibility()).length,
        details_open: document.querySelectorAll("main details[open]").length,
        pwned: typeof window.__pwned === "undefined" ? null : String(window.__pwned),
      }));
      return {
        ...facts,
        empty_messages: await p.evaluate(emptyMessages),
        text_length: text.length,
        expect,
        first_prompt_line: firstPrompt,
        first_prompt_found: firstPrompt ? text.includes(firstPrompt) : null,
        ...rec,
      };
    } finally {
      await nctx.close().catch(() => {});
    }
  });
}

// Proves the detectors work: a control page that violates its CSP, throws,
// logs an error and asks for a foreign URL must trip every one of them.
async function selftest(dir, baseUrl) {
  const file = path.join(dir, "__selftest.html");
  fs.writeFileSync(file, `<!doctype html><html><head>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'sha256-${await sha256b64(SELFTEST_JS)}'; img-src data: http:">
</head><body><p>selftest</p><script>inline_blocked = 1;</script><script>${SELFTEST_JS}</script>
<img src="http://sharegen-selftest.invalid/x.png"></body></html>`);
  const rec = newRecord();
  const url = `${baseUrl}/__selftest.html`;
  const ctx = await observedContext({}, rec, (u) => u === url || /^data:/i.test(u));
  try {
    const p = await ctx.newPage();
    await p.goto(url, { waitUntil: "load" });
    await sleep(300);
    return {
      csp_violations: rec.csp_violations.length,
      csp_console: rec.console.filter((m) => /Content Security Policy/i.test(m.text)).length,
      console_errors: rec.console.filter((m) => m.type === "error").length,
      page_errors: rec.page_errors.length,
      foreign_requests: rec.requests.filter((r) => r.url !== url).map((r) => r.url),
    };
  } finally {
    await ctx.close().catch(() => {});
    fs.rmSync(file, { force: true });
  }
}
const SELFTEST_JS = `console.error("selftest console error"); setTimeout(function () { throw new Error("selftest uncaught"); }, 0);`;
async function sha256b64(s) {
  const { createHash } = await import("node:crypto");
  return createHash("sha256").update(s).digest("base64");
}

async function main() {
  fs.mkdirSync(spec.screenshot_dir, { recursive: true });
  browser = await chromium.launch({
    executablePath: spec.chromium,
    args: LAUNCH_ARGS,
    headless: true,
    timeout: 60_000,
    env: { ...process.env, TMPDIR: os.tmpdir() },
  });
  out.browser_version = browser.version();
  server = await startServer(spec.site_dir);
  const baseUrl = `http://127.0.0.1:${server.address().port}`;
  out.base_url = baseUrl;
  out.selftest = await selftest(spec.site_dir, baseUrl).catch((e) => ({ error: String(e) }));
  for (const mode of spec.modes ?? ["file", "http"]) {
    for (const p of spec.pages) {
      await checkPage(p, mode, baseUrl);
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
