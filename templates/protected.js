// sharegen protected page: opens the sealed page with WebCrypto only
// (PBKDF2-SHA256 → AES-256-GCM, or a key from the URL fragment) and
// replaces this document with it. No library, no request: the key never
// leaves the browser.
(function () {
  "use strict";
  var doc = document;
  var form = doc.getElementById("sg-unlock"), input = doc.getElementById("sg-pw"),
      button = doc.getElementById("sg-open"), msg = doc.getElementById("sg-msg");
  var AAD = "sharegen protected page v1";

  // The theme the conversation page remembers.
  try {
    var saved = window.localStorage.getItem("sharegen-theme");
    if (saved === "light" || saved === "dark") doc.documentElement.setAttribute("data-theme", saved);
  } catch (e) { /* no storage: follow the OS */ }

  function say(text, cls) {
    msg.textContent = text;
    msg.className = cls || "";
  }
  function showForm() {
    form.hidden = false;
    input.focus();
  }
  function busy(on) {
    input.disabled = on;
    button.disabled = on;
    if (on) say("Decrypting…", "busy");
  }

  // base64url (or base64) → bytes; throws on anything else.
  function bytes(s) {
    if (typeof s !== "string" || !/^[A-Za-z0-9_\-+/]*=*$/.test(s)) throw new Error("not base64");
    s = s.replace(/=+$/, "").replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  var sealed = null;
  try {
    sealed = JSON.parse(doc.getElementById("sg-sealed").textContent);
    if (sealed.v !== 1 || sealed.alg !== "AES-256-GCM") sealed = null;
  } catch (e) {
    sealed = null;
  }
  var subtle = window.crypto && window.crypto.subtle;
  if (!sealed) {
    say("This page is damaged: its encrypted content cannot be read.", "err");
    return;
  }
  // A password page says how its key is derived; otherwise the key is in the link.
  var byPassword = !!sealed.kdf;
  if (!subtle) {
    say("This browser cannot decrypt the page here: open it over https, from localhost, or as a local file.", "err");
    return;
  }

  function keyFromPassword(password) {
    var kdf = sealed.kdf;
    return subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, ["deriveKey"])
      .then(function (base) {
        return subtle.deriveKey(
          { name: "PBKDF2", hash: "SHA-256", salt: bytes(kdf.salt), iterations: kdf.iterations },
          base, { name: "AES-GCM", length: 256 }, false, ["decrypt"]);
      });
  }
  // The key from `…#k=KEY`, a bare KEY, or a whole link pasted in.
  function keyText(s) {
    var m = /(?:^|[#&])k=([A-Za-z0-9_-]+)/.exec(s);
    return m ? m[1] : s.trim();
  }
  function keyFromText(s) {
    var raw;
    try { raw = bytes(keyText(s)); } catch (e) { return Promise.reject(new Error("badkey")); }
    if (raw.length !== 32) return Promise.reject(new Error("badkey"));
    return subtle.importKey("raw", raw, { name: "AES-GCM" }, false, ["decrypt"]);
  }

  // The page replaces this document only once it has finished loading
  // (written any earlier, its <head> would not be parsed as one).
  var loaded = new Promise(function (resolve) {
    if (doc.readyState === "complete") resolve();
    else window.addEventListener("load", function () { resolve(); }, { once: true });
  });

  // Decrypts and becomes the page. The shell's Content-Security-Policy
  // stays in force and allows the page's own inline script and style.
  function open(key) {
    return subtle.decrypt(
      { name: "AES-GCM", iv: bytes(sealed.iv), additionalData: new TextEncoder().encode(AAD), tagLength: 128 },
      key, bytes(sealed.ct))
      .then(function (plain) {
        var html = new TextDecoder().decode(plain);
        return loaded.then(function () {
          doc.open();
          doc.write(html);
          doc.close();
        });
      });
  }

  function attempt(key, failure) {
    busy(true);
    return key.then(open).catch(function () {
      busy(false);
      say(failure, "err");
      showForm();
      input.select();
    });
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var value = input.value;
    if (!value) {
      say(byPassword ? "Enter the password." : "Enter the key.", "err");
      input.focus();
      return;
    }
    if (byPassword) attempt(keyFromPassword(value), "Wrong password. Try again.");
    else attempt(keyFromText(value), "Wrong key. Check the link and try again.");
  });

  if (!byPassword && /(?:^|[#&])k=/.test(location.hash)) {
    // The key came with the link: no prompt.
    attempt(keyFromText(location.hash), "The key in this link is wrong or damaged. Paste the full link or the key.");
  } else {
    showForm();
  }
})();
