// Helpers shared by the headless-Chromium harnesses (check.mjs, live.mjs,
// protected.mjs, xss.mjs): how Chromium is launched, a tiny static server
// on 127.0.0.1, the run's report and deadline, and a browser context that
// records every request, console message, page error and CSP violation and
// aborts every request it is not told to allow.

import http from "node:http";
import fs from "node:fs";
import path from "node:path";

export const ACTION_MS = 10_000;
export const NAV_MS = 30_000;

export const LAUNCH_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-default-apps",
  "--disable-extensions",
  "--no-default-browser-check",
  "--metrics-recording-only",
  // Belt and braces: no name resolves, so nothing can reach past loopback
  // even if a request slipped through.
  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
];

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".json": "application/json",
};

// Serves `dir` on 127.0.0.1 (a random port) to GET requests; everything
// else, and anything outside `dir`, is a 404. Every request is passed to
// `onRequest({ method, url })` first.
//
// options.headers: extra response headers (check.mjs: no-store);
// options.index:   serve DIR/index.html for a request for DIR/;
// options.types:   true for a real Content-Type by extension (otherwise
//                  HTML is text/html and the rest application/octet-stream).
export function startServer(dir, onRequest, options = {}) {
  return new Promise((resolve, reject) => {
    const s = http.createServer((req, res) => {
      onRequest?.({ method: req.method, url: req.url });
      let rel = decodeURIComponent(new URL(req.url, "http://x").pathname).replace(/^\/+/, "");
      if (options.index && (rel === "" || rel.endsWith("/"))) rel += "index.html";
      const file = path.join(dir, rel);
      if (req.method !== "GET" || !file.startsWith(dir + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
        res.writeHead(404, { "content-type": "text/plain" });
        res.end("not found");
        return;
      }
      const ext = path.extname(file);
      const type = options.types
        ? TYPES[ext] ?? "application/octet-stream"
        : ext === ".html" ? "text/html; charset=utf-8" : "application/octet-stream";
      // Read whole: a file renamed into place while it is being served
      // must not be sent half old, half new.
      let bytes;
      try {
        bytes = fs.readFileSync(file);
      } catch {
        res.writeHead(404, { "content-type": "text/plain" });
        res.end("not found");
        return;
      }
      res.writeHead(200, { "content-type": type, "content-length": bytes.length, ...(options.headers ?? {}) });
      res.end(bytes);
    });
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => resolve(s));
  });
}

export const INIT_SCRIPT = `
  document.addEventListener("securitypolicyviolation", function (e) {
    try {
      window.__sgViolation(JSON.stringify({
        directive: e.violatedDirective, effective: e.effectiveDirective,
        blocked: e.blockedURI, sample: e.sample, source: e.sourceFile, line: e.lineNumber
      }));
    } catch (_) {}
  }, true);
`;

export function newRecord() {
  return { requests: [], failed_requests: [], console: [], page_errors: [], csp_violations: [] };
}

// A context of `browser` whose every request, console message, page error
// and CSP violation lands in `rec`. Requests other than `allowed(url)` are
// aborted. Requests are stamped with `at` (ms since `rec.t0`, when set).
export async function observedContext(browser, opts, rec, allowed) {
  const ctx = await browser.newContext({ ...opts, serviceWorkers: "block" });
  ctx.setDefaultTimeout(ACTION_MS);
  ctx.setDefaultNavigationTimeout(NAV_MS);
  const at = () => (rec.t0 ? { at: Date.now() - rec.t0 } : {});
  ctx.on("request", (r) => rec.requests.push({ url: r.url(), type: r.resourceType(), method: r.method(), ...at() }));
  ctx.on("requestfailed", (r) => rec.failed_requests.push({ url: r.url(), error: r.failure()?.errorText ?? "" }));
  ctx.on("console", (m) => rec.console.push({ type: m.type(), text: m.text() }));
  ctx.on("weberror", (e) => rec.page_errors.push(String(e.error()?.stack ?? e.error())));
  // WebSockets are no "request" events: record them as requests too.
  ctx.on("page", (p) => p.on("websocket", (ws) => rec.requests.push({ url: ws.url(), type: "websocket", method: "GET", ...at() })));
  await ctx.route("**/*", (route) => {
    const u = route.request().url();
    return allowed(u) ? route.continue() : route.abort("blockedbyclient");
  });
  if (opts.javaScriptEnabled !== false) {
    await ctx.exposeBinding("__sgViolation", (_src, json) => rec.csp_violations.push(JSON.parse(json)));
    await ctx.addInitScript(INIT_SCRIPT);
  }
  return ctx;
}

// Closes the browser and the server, bounded by ten seconds.
export async function closeAll(browser, server) {
  const closing = [];
  if (browser) closing.push(browser.close().catch(() => {}));
  if (server) {
    closing.push(new Promise((res) => server.close(() => res())));
    server.closeAllConnections?.();
  }
  // Bounded, and the timer must not keep the process alive afterwards.
  let timer;
  await Promise.race([Promise.all(closing), new Promise((r) => { timer = setTimeout(r, 10_000); })]);
  clearTimeout(timer);
}

// The run's report and its deadline. `emit()` writes `out` once: to
// `spec.result_path` synchronously first (stdout to a pipe may not be
// flushed when the watchdog exits), then to stdout. Past `spec.timeout_ms`
// (else `defaultMs`) the watchdog records a timeout, emits, closes what
// `handles()` returns ([browser, server]) and exits with status 3.
// `stop()` cancels the watchdog.
export function reporter(spec, out, started, defaultMs, handles, indent) {
  let finished = false;
  function emit() {
    if (finished) return;
    finished = true;
    out.duration_ms = Date.now() - started;
    const json = JSON.stringify(out, null, indent) + "\n";
    if (spec.result_path) fs.writeFileSync(spec.result_path, json);
    process.stdout.write(json);
  }
  const watchdog = setTimeout(async () => {
    out.fatal = `timed out after ${spec.timeout_ms} ms`;
    emit();
    await closeAll(...handles());
    process.exit(3);
  }, spec.timeout_ms ?? defaultMs);
  return { emit, stop: () => clearTimeout(watchdog) };
}
