// sharegen page script: theme toggle, search, filters, copy buttons, j/k.
// The page is complete without it.
(function () {
  "use strict";
  var doc = document, root = doc.documentElement, store = null;
  try { store = window.localStorage; } catch (e) { store = null; }

  // Theme: follows the OS until toggled; the choice is remembered.
  var saved = store && store.getItem("sharegen-theme");
  if (saved === "light" || saved === "dark") root.setAttribute("data-theme", saved);
  function currentTheme() {
    var t = root.getAttribute("data-theme");
    if (t) return t;
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }
  var themeBtn = doc.getElementById("theme");
  if (themeBtn) themeBtn.addEventListener("click", function () {
    var next = currentTheme() === "dark" ? "light" : "dark";
    root.setAttribute("data-theme", next);
    if (store) store.setItem("sharegen-theme", next);
  });

  // Printing: every block open, in the light colours (dark text on white
  // paper); put back as it was afterwards.
  var printing = null;
  window.addEventListener("beforeprint", function () {
    var closed = Array.prototype.filter.call(doc.querySelectorAll("details"), function (d) { return !d.open; });
    printing = { closed: closed, theme: root.getAttribute("data-theme") };
    closed.forEach(function (d) { d.open = true; });
    root.setAttribute("data-theme", "light");
  });
  window.addEventListener("afterprint", function () {
    if (!printing) return;
    printing.closed.forEach(function (d) { d.open = false; });
    if (printing.theme) root.setAttribute("data-theme", printing.theme); else root.removeAttribute("data-theme");
    printing = null;
  });

  // Filters hide kinds of blocks through classes on <body>.
  function filter(id, cls) {
    var box = doc.getElementById(id);
    if (!box) return;
    var apply = function () { doc.body.classList.toggle(cls, box.checked === (id === "f-notices")); };
    box.addEventListener("change", apply);
    apply();
  }
  filter("f-tools", "hide-tools");
  filter("f-reasoning", "hide-reasoning");
  filter("f-notices", "show-notices");

  // Expand or collapse every block.
  var expandBtn = doc.getElementById("expand"), expanded = false;
  if (expandBtn) expandBtn.addEventListener("click", function () {
    expanded = !expanded;
    doc.querySelectorAll("main details").forEach(function (d) { d.open = expanded; });
    expandBtn.textContent = expanded ? "Collapse all" : "Expand all";
  });

  // A permalink and a copy button on every message, tool call and
  // subagent (again after a live update). The ids are in the markup; the
  // links are added here to keep big pages small.
  function decorate(root) {
    root.querySelectorAll("article.msg[id] > header.mh, details.tool[id], details.subagent[id]").forEach(function (el) {
      var host = el.tagName === "HEADER" ? el.parentNode : el;
      var id = host.id, at = el.tagName === "HEADER" ? el : el.querySelector(":scope > summary");
      if (!id || !at || host.querySelector(":scope > a.anchor, :scope > header > a.anchor")) return;
      var a = doc.createElement("a");
      a.className = "anchor";
      a.href = "#" + id;
      a.title = "Permalink";
      a.textContent = "#";
      var b = doc.createElement("button");
      b.type = "button";
      b.className = "copy-link";
      b.title = "Copy link";
      b.textContent = "copy";
      b.setAttribute("data-anchor", id);
      if (el.tagName === "HEADER") {
        el.appendChild(a);
        el.appendChild(b);
      } else {
        at.insertAdjacentElement("afterend", a);
        a.insertAdjacentElement("afterend", b);
      }
    });
  }
  decorate(doc);
  doc.addEventListener("sharegen:updated", function (ev) { decorate(ev.target); });

  // Copy buttons on code blocks and permalinks.
  function copy(text, btn) {
    var done = function () { var t = btn.textContent; btn.textContent = "Copied"; setTimeout(function () { btn.textContent = t; }, 1200); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () {});
    } else {
      var ta = doc.createElement("textarea");
      ta.value = text; doc.body.appendChild(ta); ta.select();
      try { doc.execCommand("copy"); done(); } catch (e) { /* nothing to do */ }
      doc.body.removeChild(ta);
    }
  }
  doc.addEventListener("click", function (ev) {
    var b = ev.target.closest ? ev.target.closest("button.copy, button.copy-link") : null;
    if (!b) return;
    ev.preventDefault();
    if (b.classList.contains("copy")) {
      var code = b.parentNode.querySelector("code");
      if (code) copy(code.textContent, b);
    } else {
      var href = location.href.split("#")[0] + "#" + b.getAttribute("data-anchor");
      copy(href, b);
    }
  });

  // Open the blocks around the target of a link.
  function reveal(el) {
    for (var p = el; p; p = p.parentElement) if (p.tagName === "DETAILS") p.open = true;
  }
  function revealHash() {
    if (!location.hash) return;
    var id;
    // A malformed escape in a shared link must not stop the script.
    try { id = decodeURIComponent(location.hash.slice(1)); } catch (e) { return; }
    var el = doc.getElementById(id);
    if (el) { reveal(el); el.scrollIntoView(); }
  }
  window.addEventListener("hashchange", revealHash);
  revealHash();

  // Search: marks matches, opens the collapsed blocks they are in.
  var q = doc.getElementById("q"), qn = doc.getElementById("qn"), marks = [], at = -1, timer = null;
  // The blocks a search opened, closed again when it is cleared or
  // replaced (those the reader opened stay open).
  var openedBySearch = [];
  function clearMarks() {
    openedBySearch.forEach(function (d) { d.open = false; });
    openedBySearch = [];
    marks.forEach(function (m) {
      var p = m.parentNode;
      if (!p) return;
      p.replaceChild(doc.createTextNode(m.textContent), m);
      p.normalize();
    });
    marks = []; at = -1;
  }
  function search(term) {
    clearMarks();
    doc.querySelectorAll(".hit-article, .hit-part").forEach(function (a) { a.classList.remove("hit-article", "hit-part"); });
    if (!term || term.length < 2) { qn.textContent = ""; return; }
    var needle = term.toLowerCase();
    var walker = doc.createTreeWalker(doc.getElementById("main"), NodeFilter.SHOW_TEXT, null);
    var nodes = [], n;
    while ((n = walker.nextNode())) if (n.nodeValue.toLowerCase().indexOf(needle) >= 0) nodes.push(n);
    nodes.forEach(function (node) {
      var text = node.nodeValue, lower = text.toLowerCase(), i = 0, j, frag = doc.createDocumentFragment();
      while ((j = lower.indexOf(needle, i)) >= 0) {
        if (j > i) frag.appendChild(doc.createTextNode(text.slice(i, j)));
        var m = doc.createElement("mark");
        m.className = "hit";
        m.textContent = text.slice(j, j + needle.length);
        frag.appendChild(m); marks.push(m);
        i = j + needle.length;
        if (marks.length >= 5000) break;
      }
      if (i < text.length) frag.appendChild(doc.createTextNode(text.slice(i)));
      node.parentNode.replaceChild(frag, node);
    });
    // A match inside what the filters hide is shown: its block, and the
    // blocks and messages around it.
    marks.forEach(function (m) {
      for (var d = m.parentElement; d; d = d.parentElement) {
        if (d.tagName === "DETAILS" && !d.open) { d.open = true; openedBySearch.push(d); }
      }
      for (var p = m.parentElement; p; p = p.parentElement) {
        if (p.matches(".tool, .subagent, .reasoning, .notice, .step, .unknown")) p.classList.add("hit-part");
        if (p.tagName === "ARTICLE") p.classList.add("hit-article");
      }
    });
    qn.textContent = marks.length ? marks.length + (marks.length >= 5000 ? "+" : "") + " found" : "no match";
    if (marks.length) next(1);
  }
  function next(step) {
    if (!marks.length) return;
    if (at >= 0) marks[at].classList.remove("current");
    at = (at + step + marks.length) % marks.length;
    marks[at].classList.add("current");
    marks[at].scrollIntoView({ block: "center" });
  }
  if (q) {
    q.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(function () { search(q.value); }, 200); });
    q.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter") { ev.preventDefault(); next(ev.shiftKey ? -1 : 1); }
      if (ev.key === "Escape") { q.value = ""; search(""); q.blur(); }
    });
  }

  // j / k: next and previous prompt; / focuses search.
  var prompts = Array.prototype.slice.call(doc.querySelectorAll("main > article.msg.user"));
  doc.addEventListener("keydown", function (ev) {
    var t = ev.target.tagName;
    if (t === "INPUT" || t === "TEXTAREA" || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.key === "/") { ev.preventDefault(); if (q) q.focus(); return; }
    if (ev.key !== "j" && ev.key !== "k") return;
    if (!prompts.length) return;
    var y = window.scrollY + 10, target = null;
    if (ev.key === "j") {
      target = prompts.find(function (p) { return p.getBoundingClientRect().top + window.scrollY > y; });
    } else {
      for (var i = prompts.length - 1; i >= 0; i--) if (prompts[i].getBoundingClientRect().top + window.scrollY < y - 20) { target = prompts[i]; break; }
    }
    if (target) { target.scrollIntoView(); history.replaceState(null, "", "#" + target.id); }
  });
})();

// Live pages (written while `sharegen watch` runs): over http(s), poll
// version.json and update the conversation in place. Nothing happens from
// file:// or on pages of finished sessions.
(function () {
  "use strict";
  var body = document.body, version = body.getAttribute("data-live");
  if (!version || !/^https?:$/.test(location.protocol)) return;
  var badge = document.getElementById("live");
  var idleLimit = 15 * 60 * 1000, every = 3000, lastChange = Date.now();
  var updated = Date.parse(body.getAttribute("data-updated") || "") || Date.now();
  if (badge) badge.hidden = false;
  function stop() { if (badge) badge.hidden = true; }
  function openIds() {
    return Array.prototype.map.call(document.querySelectorAll("main details[open][id]"), function (d) { return d.id; });
  }
  function apply(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.getElementById("main"), main = document.getElementById("main");
    if (!fresh || !main) return;
    var atBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
    var y = window.scrollY, open = openIds();
    main.innerHTML = fresh.innerHTML;
    main.dispatchEvent(new CustomEvent("sharegen:updated", { bubbles: true }));
    var toc = document.querySelector("nav.toc"), freshToc = doc.querySelector("nav.toc");
    if (toc && freshToc) toc.innerHTML = freshToc.innerHTML;
    var meta = document.querySelector("dl.meta"), freshMeta = doc.querySelector("dl.meta");
    if (meta && freshMeta) meta.innerHTML = freshMeta.innerHTML;
    open.forEach(function (id) { var d = document.getElementById(id); if (d) d.open = true; });
    window.scrollTo(0, atBottom ? document.body.scrollHeight : y);
  }
  function poll() {
    fetch("version.json", { cache: "no-store" }).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.json();
    }).then(function (v) {
      if (v.updated) updated = Date.parse(v.updated) || updated;
      if (v.version && v.version !== version) {
        version = v.version;
        lastChange = Date.now();
        return fetch("./", { cache: "no-store" }).then(function (r) { return r.text(); }).then(apply);
      }
    }).catch(function () { /* try again later */ }).then(function () {
      var quiet = Date.now() - Math.max(lastChange, updated);
      if (quiet > idleLimit) { stop(); return; }
      setTimeout(poll, every);
    });
  }
  setTimeout(poll, every);
})();
