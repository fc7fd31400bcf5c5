/*
 * LeadVault widget: a lead form, a cookie banner, a privacy portal and a preferences page.
 * No dependencies, no cookies, nothing loaded from anywhere but the LeadVault API.
 *
 * Embed:  <div data-leadvault="lead-form"></div>
 *         <script src="https://<api>/v1/widget.js" data-key="lv.<widget key>" defer></script>
 * Mounts: data-leadvault="lead-form" | "privacy-portal" | "grievance" | "preferences" | "confirm" | "cookie-settings".
 * The business's brand (GET /v1/brand) colours the controls; on LeadVault's own pages it also names the
 * business in the heading and shows its logo in the data-leadvault="brand" header (the one image loaded
 * from elsewhere: the business's own https address, without a referrer).
 * The cookie banner shows by itself (data-cookie-banner="off" to leave it out). Pages learn the
 * visitor's choices from LeadVault.consent.allowed("performance") and the "leadvault:consent" event.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var API = script.src.replace(/\/v1\/widget\.js(?:[?#].*)?$/, "");
  var fragment = new URLSearchParams(window.location.hash.slice(1));
  // A key in the fragment is honoured only on LeadVault's own pages: on a tenant's site a link
  // could otherwise swap in another tenant's key and send the visitor's data there.
  var ownPage = new URL(API, window.location.href).origin === window.location.origin;
  var KEY = script.getAttribute("data-key") || (ownPage && fragment.get("key")) || "";
  var TENANT = KEY.split(".")[1] || "none";
  var STORE = "leadvault.consent." + TENANT;
  var REQUEST_STORE = "leadvault.request." + TENANT;
  var COOKIE_CATEGORIES = [
    ["performance", "Performance", "Counting visits and measuring how the site performs."],
    ["functional", "Functional", "Remembering choices such as language or region."],
    ["advertising", "Advertising", "Showing and measuring ads, on this site and others."]
  ];
  var ALWAYS_ON = [
    ["essential", "Essential", "Needed for the site to work, such as remembering these choices."],
    ["security", "Security", "Protecting you and the site from fraud and abuse."]
  ];
  var LEAD_PURPOSES = [
    ["contact", "Contact me about this enquiry"],
    ["marketing_email", "Send me offers by e-mail"],
    ["marketing_sms", "Send me offers by text message"],
    ["marketing_calls", "Call me with offers"]
  ];
  var MARKETING = LEAD_PURPOSES.slice(1);
  var PURPOSE_LABELS = {};
  LEAD_PURPOSES.forEach(function (purpose) { PURPOSE_LABELS[purpose[0]] = purpose[1]; });
  var STATUS_TEXT = {
    pending_verification: "Waiting for the code we sent you.",
    verified: "Verified. Your request is queued.",
    in_progress: "We are working on your request.",
    completed: "Done.",
    rejected: "We could not carry out your request.",
    expired: "This request expired before it was verified."
  };
  // Why a request was refused, as the API gives it (rejection_reason), in the person's words.
  var REJECTION_TEXT = {
    legal_hold: "Some of your data is under a legal hold (for example, for a dispute or an investigation) " +
      "that the law requires us to keep. We will erase it when the hold ends. Nothing else needs doing on your part.",
    verification_locked: "The code was entered wrongly too many times, so we stopped this request to protect " +
      "your data. Start a new request to get a new code."
  };
  // What a receipt counts, in people's words ([one, many]); other kinds are counted as other history entries.
  var RECEIPT_WORDS = {
    leads: ["record of your contact details", "records of your contact details"],
    submissions: ["form you sent us", "forms you sent us"],
    consents: ["choice about how we may contact you", "choices about how we may contact you"],
    consents_without_lead: ["choice about how we may contact you", "choices about how we may contact you"],
    calls: ["call", "calls"],
    call_events: ["call", "calls"],
    stage_changes: ["note on how your enquiry went", "notes on how your enquiry went"],
    notices: ["notice we sent you", "notices we sent you"],
    timeline_events: ["entry in the history of your enquiry", "entries in the history of your enquiry"]
  };
  // Bookkeeping that links the records above: named together in one line, never as internal terms.
  var RECEIPT_TECHNICAL = ["identity_claims", "idempotency_records"];
  // A hosted page opened without the business's key (a bare or shortened link) cannot know whose page it is.
  var NO_KEY_TEXT = "This page works only when opened from the website of the business that holds your data. " +
    "Go back to that website and use its link to your privacy rights (usually next to its contact form, or " +
    "in its privacy policy), or write to the business directly.";
  var counter = 0;

  /* ---------- small helpers ---------- */

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === false || value === null || value === undefined) return;
      if (name === "text") node.textContent = value;
      else if (name.slice(0, 2) === "on") node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : value);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function uid(prefix) { counter += 1; return "lv-" + prefix.replace(/[^A-Za-z0-9_-]/g, "-") + "-" + counter; }

  function randomId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function humanise(name) {
    var text = name.replace(/_/g, " ");
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  function readJson(storage, name) {
    try { return JSON.parse(storage.getItem(name) || "null"); } catch (e) { return null; }
  }

  function writeJson(storage, name, value) {
    try { storage.setItem(name, JSON.stringify(value)); } catch (e) { /* private mode: keep going */ }
  }

  /* keyless: a route that takes no API key (a token from a message proves the person instead). */
  async function api(method, path, body, extraHeaders, keyless) {
    var headers = Object.assign({ "Content-Type": "application/json" }, extraHeaders || {});
    if (KEY && !keyless) headers.Authorization = "Bearer " + KEY;
    try {
      var response = await fetch(API + path, {
        method: method, headers: headers, credentials: "omit", referrerPolicy: "no-referrer",
        body: body === undefined ? undefined : JSON.stringify(body)
      });
      var data = null;
      try { data = await response.json(); } catch (e) { data = null; }
      return { status: response.status, body: data, retryAfter: response.headers.get("Retry-After") };
    } catch (e) {
      return { status: 0, body: null, retryAfter: null };
    }
  }

  function errorOf(answer) {
    var error = answer.body && answer.body.error;
    if (answer.status === 429 && (!error || error.code === "rate_limited")) {
      return { code: "rate_limited", message: tooManyRequests(answer.retryAfter) };
    }
    if (!error) return { code: "network", message: "We could not reach the server. Please try again." };
    if (error.code === "consent_required") {
      return Object.assign({}, error, { message: "Please tick \u201c" + PURPOSE_LABELS.contact +
        "\u201d: we need your consent before we may answer you." });
    }
    if (error.code === "unauthorized" && !KEY && ownPage) return Object.assign({}, error, { message: NO_KEY_TEXT });
    return Object.assign({}, error, { message: plainWords(error.message) });
  }

  /* API messages name things in `code`: people read the purpose's label (or plain words) instead. */
  function plainWords(text) {
    return String(text || "").replace(/`([^`]*)`/g, function (whole, name) {
      return PURPOSE_LABELS[name] ? "\u201c" + PURPOSE_LABELS[name] + "\u201d" : humanise(name).toLowerCase();
    });
  }

  /* Retry-After is seconds (or an HTTP date); when it is missing or unreadable (CORS), say no time. */
  function tooManyRequests(retryAfter) {
    var text = "Too many requests from here just now; please try again";
    var seconds = Number(retryAfter);
    if (retryAfter && !isFinite(seconds)) seconds = (Date.parse(retryAfter) - Date.now()) / 1000;
    if (!retryAfter || !isFinite(seconds) || seconds < 0) return text + " later.";
    var minutes = Math.max(1, Math.ceil(seconds / 60));
    return text + " in " + minutes + (minutes === 1 ? " minute." : " minutes.");
  }

  /* Clear the fragment from the address bar: a token or link there must not linger in history. */
  function clearFragment() {
    if (!window.location.hash) return;
    try { window.history.replaceState(null, "", window.location.pathname + window.location.search); } catch (e) { /* keep going */ }
  }

  function saveJson(data, name) {
    var blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
    var link = el("a", { href: URL.createObjectURL(blob), download: name });
    document.body.appendChild(link);
    link.click();
    link.remove();
  }

  /* ---------- styles (a constructed sheet: no inline styles, so strict CSPs hold) ---------- */

  var CSS = [
    // The accent (the business's colour, from its brand) and the colours that stay readable with it.
    ".lv-page,.lv-form,.lv-banner,.lv-notice,.lv-brand{--lv-accent:#0b57d0;--lv-on-accent:#fff;--lv-accent-text:#0b57d0;--lv-accent-line:#0b57d0}",
    ".lv-page{font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1b1b1b;background:#fff;margin:0}",
    ".lv-page main{max-width:40rem;margin:0 auto;padding:1.5rem}",
    ".lv-form,.lv-banner,.lv-notice{font:inherit;color:#1b1b1b}",
    ".lv-form{display:grid;gap:1rem;max-width:32rem}",
    ".lv-field{display:grid;gap:.25rem}",
    ".lv-field label,.lv-legend{font-weight:600}",
    ".lv-form input[type=text],.lv-form input[type=tel],.lv-form input[type=email],.lv-form input[type=number],",
    ".lv-form input[type=date],.lv-form textarea{font:inherit;padding:.5rem .6rem;border:1px solid #5f6368;border-radius:4px;color:#1b1b1b;background:#fff}",
    ".lv-form fieldset{border:1px solid #5f6368;border-radius:4px;padding:.75rem 1rem;margin:0;display:grid;gap:.4rem}",
    ".lv-check{display:flex;gap:.5rem;align-items:flex-start}",
    ".lv-check input{margin-top:.3rem;width:1.1rem;height:1.1rem}",
    ".lv-hint{font-size:.9rem;color:#3c4043;margin:0}",
    ".lv-error{color:#a50e0e;font-weight:600;margin:0}",
    ".lv-form [aria-invalid=true]{border-color:#a50e0e;outline:2px solid #a50e0e}",
    ".lv-button{font:inherit;font-weight:600;padding:.55rem 1.1rem;border-radius:4px;border:2px solid var(--lv-accent);cursor:pointer;background:var(--lv-accent);color:var(--lv-on-accent)}",
    ".lv-button.lv-secondary{background:#fff;color:var(--lv-accent-text);border-color:var(--lv-accent-line)}",
    ".lv-button:disabled{opacity:.6;cursor:progress}",
    ".lv-form a,.lv-banner a,.lv-page a{color:var(--lv-accent-text)}",
    ".lv-form :focus-visible,.lv-banner :focus-visible,.lv-notice :focus-visible,.lv-page a:focus-visible{outline:3px solid var(--lv-accent-line);outline-offset:2px}",
    ".lv-result:focus{outline:none}",
    ".lv-status{margin:0;font-weight:600}",
    ".lv-done{color:#0d652d}",
    // Success: a boxed message that takes the focus, not a small green line.
    ".lv-status.lv-success{color:#0d3d1f;background:#e6f4ea;border:2px solid #0d652d;border-left-width:.5rem;border-radius:4px;padding:.75rem 1rem;font-size:1.05rem}",
    ".lv-success:focus{outline:3px solid #0d652d;outline-offset:2px}",
    ".lv-banner,.lv-notice{position:fixed;left:1rem;right:1rem;bottom:1rem;max-width:44rem;margin:0 auto;background:#fff;",
    "border:2px solid #1b1b1b;border-radius:8px;padding:1rem 1.25rem;box-shadow:0 4px 18px rgba(0,0,0,.25);z-index:2147483000}",
    ".lv-banner{max-height:calc(100vh - 2rem);overflow:auto}",
    ".lv-banner h2{font-size:1.1rem;margin:0 0 .35rem}",
    ".lv-banner p{margin:0}",
    ".lv-banner ul{list-style:none;padding:0;margin:.75rem 0 0;display:grid;gap:.35rem}",
    ".lv-actions{display:flex;flex-wrap:wrap;gap:.5rem;margin-top:.75rem}",
    // Reject and accept side by side, alike in every way: neither is the easier choice.
    ".lv-banner .lv-choice{flex:1 1 0;min-width:7rem}",
    "@media (max-width:40rem){.lv-banner,.lv-notice{left:.5rem;right:.5rem;bottom:.5rem;padding:.75rem .9rem;font-size:.95rem}",
    ".lv-banner h2{font-size:1rem;margin-bottom:.25rem}.lv-banner .lv-actions{margin-top:.6rem}.lv-banner .lv-button{padding:.5rem .75rem}}",
    ".lv-receipt{margin:.25rem 0 0;padding-left:1.25rem}",
    ".lv-notice-box{border:2px solid #1b1b1b;border-radius:6px;padding:.75rem 1rem}.lv-notice-box p{margin:0 0 .5rem}.lv-notice-box p:last-child{margin:0}",
    ".lv-brand{display:flex;align-items:center;max-width:40rem;margin:0 auto;padding:1rem 1.5rem 0}",
    ".lv-brand img{max-height:3rem;max-width:12rem;height:auto;width:auto}",
    ".lv-page main h1{border-bottom:4px solid var(--lv-accent-line);padding-bottom:.35rem}",
    "[hidden]{display:none!important}"
  ].join("\n");

  function installStyles() { addStyles(CSS); }

  function addStyles(css) {
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      document.adoptedStyleSheets = document.adoptedStyleSheets.concat([sheet]);
    } catch (e) {
      document.head.appendChild(el("style", { text: css }));
    }
  }

  /* ---------- the business's identity: name, accent colour, logo (GET /v1/brand) ---------- */

  var brandLoaded = null;

  /* The brand once per page; null without a key or when it cannot be read (the pages then stay plain). */
  function brand() {
    if (!brandLoaded) {
      brandLoaded = KEY ? api("GET", "/v1/brand").then(function (answer) {
        var body = answer.status === 200 ? answer.body : null;
        return body && typeof body.display_name === "string" && body.display_name.trim() ? body : null;
      }) : Promise.resolve(null);
    }
    return brandLoaded;
  }

  function channel(value) {
    value /= 255;
    return value <= 0.03928 ? value / 12.92 : Math.pow((value + 0.055) / 1.055, 2.4);
  }

  function luminance(hex) {
    var n = parseInt(hex.slice(1), 16);
    return 0.2126 * channel(n >> 16 & 255) + 0.7152 * channel(n >> 8 & 255) + 0.0722 * channel(n & 255);
  }

  /* WCAG contrast ratio of two #rrggbb colours. */
  function contrast(a, b) {
    var la = luminance(a);
    var lb = luminance(b);
    return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
  }

  /* The accent on primary controls, with whichever text colour reads on it (black or white always reaches
     4.5:1 against one of them); on white, the accent colours text and lines only where it is readable. */
  function accentCss(accent) {
    if (!/^#[0-9a-fA-F]{6}$/.test(String(accent || ""))) return "";
    var onAccent = contrast(accent, "#ffffff") >= 4.5 ? "#ffffff" : "#000000";
    var text = contrast(accent, "#ffffff") >= 4.5 ? accent : "#1b1b1b";
    var line = contrast(accent, "#ffffff") >= 3 ? accent : "#1b1b1b";
    return ".lv-page,.lv-form,.lv-banner,.lv-notice,.lv-brand{--lv-accent:" + accent + ";--lv-on-accent:" + onAccent +
      ";--lv-accent-text:" + text + ";--lv-accent-line:" + line + "}";
  }

  function applyBrand(found) {
    if (!found) return;
    var css = accentCss(found.accent_colour);
    if (css) addStyles(css);
    if (!document.body.classList.contains("lv-page")) return;
    // LeadVault's own pages: the business's name in the main heading and the title, its logo on top.
    var name = found.display_name.trim();
    var heading = document.querySelector("main h1");
    if (heading && !heading.hasAttribute("data-lv-branded")) {
      var title = heading.textContent.trim();
      heading.textContent = name + ": " + title.charAt(0).toLowerCase() + title.slice(1);
      heading.setAttribute("data-lv-branded", "");
      document.title = heading.textContent;
    }
    var header = document.querySelector("[data-leadvault=brand]");
    if (header && /^https:\/\//i.test(String(found.logo_url || ""))) {
      var logo = el("img", { src: found.logo_url, alt: name, referrerpolicy: "no-referrer", decoding: "async",
        onerror: function () { header.hidden = true; logo.remove(); } });
      header.replaceChildren(logo);
      header.hidden = false;
    }
  }

  /* ---------- fields and errors ---------- */

  function field(label, input, hint) {
    var errorId = input.id + "-error";
    var hintNode = hint ? el("p", { "class": "lv-hint", id: input.id + "-hint", text: hint }) : null;
    input.setAttribute("aria-describedby", (hintNode ? hintNode.id + " " : "") + errorId);
    var error = el("p", { "class": "lv-error", id: errorId, hidden: true });
    return el("div", { "class": "lv-field" }, [el("label", { "for": input.id, text: label }), hintNode, input, error]);
  }

  function checkbox(name, label, checked) {
    var id = uid(name);
    var input = el("input", { type: "checkbox", id: id, name: name, checked: !!checked });
    return el("div", { "class": "lv-check" }, [input, el("label", { "for": id, text: label })]);
  }

  function showError(form, target, message) {
    var node = document.getElementById(target.id + "-error");
    if (!node) return false;
    node.textContent = message;
    node.hidden = false;
    if (target.matches("input")) target.setAttribute("aria-invalid", "true");
    return true;
  }

  function clearErrors(form) {
    form.querySelectorAll(".lv-error").forEach(function (node) { node.hidden = true; node.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (node) { node.removeAttribute("aria-invalid"); });
  }

  /* Put each problem the API reported next to its field; the rest go to the form's own message. */
  function reportErrors(form, error, targets, fallback) {
    clearErrors(form);
    var placed = [];
    var unplaced = [];
    (error.details || []).forEach(function (detail) {
      var names = String(detail.field || "").split("|");
      var shown = false;
      names.forEach(function (name) {
        var target = targets(name);
        if (target && showError(form, target, sentence(detail.problem))) { shown = true; placed.push(target); }
      });
      if (!shown) unplaced.push(sentence(detail.problem));
    });
    if (!placed.length) {
      var target = fallback(error.code);
      if (target && showError(form, target, error.message)) placed.push(target);
      else unplaced.unshift(error.message);
    }
    var general = form.querySelector(".lv-form-error");
    if (unplaced.length) { general.textContent = unplaced.join(" "); general.hidden = false; }
    var first = placed[0];
    if (first) (first.matches("input") ? first : first.querySelector("input") || first).focus();
    else general.focus();
  }

  function safeUrl(url) { return /^https?:\/\//i.test(String(url)) ? url : "#"; }

  function sentence(text) {
    text = plainWords(text || "This value is not accepted");
    return text.charAt(0).toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? "" : ".");
  }

  /* ---------- the lead form ---------- */

  async function mountLeadForm(root) {
    var loaded = await Promise.all([api("GET", "/v1/fields"), api("GET", "/v1/policies/current"), brand()]);
    var declared = loaded[0].status === 200 ? loaded[0].body.items : [];
    var policy = loaded[1].status === 200 ? loaded[1].body : null;
    var who = loaded[2] ? loaded[2].display_name.trim() : "we";
    var inputs = {};

    function input(name, type, autocomplete) {
      inputs[name] = el("input", { type: type, id: uid(name), name: name, autocomplete: autocomplete || "off" });
      return inputs[name];
    }

    var extra = declared.map(function (spec) {
      var type = { number: "number", date: "date", "boolean": "checkbox" }[spec.type] || "text";
      var node = input("fields." + spec.name, type);
      var label = spec.label || humanise(spec.name);
      if (type === "checkbox") {
        var wrap = el("div", { "class": "lv-check" }, [node, el("label", { "for": node.id, text: label })]);
        node.setAttribute("aria-describedby", node.id + "-error");
        return el("div", { "class": "lv-field" }, [wrap, el("p", { "class": "lv-error", id: node.id + "-error", hidden: true })]);
      }
      if (type === "number") node.setAttribute("step", "any");
      return field(label, node);
    });
    var consentBox = el("fieldset", { id: uid("consent"), "class": "lv-consents" }, [
      el("legend", { "class": "lv-legend", text: "How may " + who + " contact you?" })
    ].concat(LEAD_PURPOSES.map(function (purpose) { return checkbox("consent." + purpose[0], purpose[1], false); })));
    consentBox.setAttribute("aria-describedby", consentBox.id + "-error");
    consentBox.appendChild(el("p", { "class": "lv-hint" }, policy ? [
      document.createTextNode("You can change your mind at any time. Read our "),
      el("a", { href: safeUrl(policy.url), target: "_blank", rel: "noopener noreferrer", text: "privacy policy" }),
      document.createTextNode(" (version " + policy.version + ").")
    ] : [document.createTextNode("You can change your mind at any time.")]));
    consentBox.appendChild(el("p", { "class": "lv-hint" }, [el("a", {
      href: API + "/v1/pages/privacy#key=" + encodeURIComponent(KEY), target: "_blank", rel: "noopener noreferrer",
      text: "Get a copy of your data, or have it erased"
    })]));
    consentBox.appendChild(el("p", { "class": "lv-error", id: consentBox.id + "-error", hidden: true }));

    var button = el("button", { type: "submit", "class": "lv-button", text: "Send" });
    var status = el("p", { "class": "lv-status", role: "status", tabindex: "-1" });
    var form = el("form", { "class": "lv-form", novalidate: true, "aria-label": "Contact form" }, [
      field("Name", input("name", "text", "name")),
      field("Phone", input("phone", "tel", "tel"), "A phone number or an e-mail address is enough."),
      field("E-mail", input("email", "email", "email"))
    ].concat(extra).concat([
      consentBox,
      el("p", { "class": "lv-error lv-form-error", role: "alert", tabindex: "-1", hidden: true }),
      button, status
    ]));
    var idempotencyKey = randomId();

    function target(name) {
      if (name === "consent" || name.indexOf("consent.") === 0) return consentBox;
      return inputs[name] || null;
    }

    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      status.textContent = "";
      status.className = "lv-status";
      var body = { source: "widget", fields: {} };
      ["name", "phone", "email"].forEach(function (name) {
        var value = inputs[name].value.trim();
        if (value) body[name] = value;
      });
      declared.forEach(function (spec) {
        var node = inputs["fields." + spec.name];
        if (spec.type === "boolean") { if (node.checked) body.fields[spec.name] = true; return; }
        if (node.value.trim() === "") return;
        body.fields[spec.name] = spec.type === "number" ? Number(node.value) : node.value.trim();
      });
      var purposes = LEAD_PURPOSES.filter(function (p) { return form.elements["consent." + p[0]].checked; })
        .map(function (p) { return p[0]; });
      if (purposes.length) body.consent = { purposes: purposes, policy_version: policy ? policy.version : "none" };
      button.disabled = true;
      status.textContent = "Sending…";
      var answer = await api("POST", "/v1/leads", body, { "Idempotency-Key": idempotencyKey });
      button.disabled = false;
      if (answer.status === 200 || answer.status === 201) {
        clearErrors(form);
        form.reset();
        idempotencyKey = randomId();
        var said = ["Thank you, we received your details."];
        if (((answer.body && answer.body.pending_purposes) || []).length) {
          said.push("We sent you a link to confirm that you want offers; nothing is sent until you confirm.");
        }
        if (((answer.body && answer.body.pending_identifiers) || []).length) {
          said.push("We sent a link to the contact details we already had, to confirm the new ones.");
        }
        status.textContent = said.join(" ");
        status.className = "lv-status lv-success";
        status.focus();
        return;
      }
      status.textContent = "";
      reportErrors(form, errorOf(answer), target, function (code) {
        return code === "consent_required" ? consentBox : null;
      });
    });
    root.replaceChildren(form);
  }

  /* ---------- cookie choices ---------- */

  var choiceListeners = [];

  function storedChoice() { return readJson(window.localStorage, STORE); }

  function allowed(category) {
    if (category === "essential" || category === "security") return true;
    var choice = storedChoice();
    return !!(choice && choice.grants && choice.grants[category] === true);
  }

  function announce(grants) {
    var detail = Object.assign({ essential: true, security: true }, grants);
    choiceListeners.forEach(function (listener) { listener(detail); });
    document.dispatchEvent(new CustomEvent("leadvault:consent", { detail: detail }));
  }

  async function saveChoice(grants, policyVersion) {
    var previous = storedChoice();
    var visitor = (previous && previous.visitor_id) || "v-" + randomId();
    var choice = { visitor_id: visitor, grants: grants, policy_version: policyVersion, at: new Date().toISOString(), synced: false };
    writeJson(window.localStorage, STORE, choice);
    announce(grants);
    var answer = await api("POST", "/v1/consents", { visitor_id: visitor, grants: grants, policy_version: policyVersion, source: "cookie_banner" });
    if (answer.status === 201) { choice.synced = true; writeJson(window.localStorage, STORE, choice); }
    return answer;
  }

  /* A choice kept on this device but not recorded yet: it is sent again on the next visit. */
  function showNotice(message) {
    var old = document.querySelector(".lv-notice");
    if (old) old.remove();
    var notice = el("div", { "class": "lv-notice", role: "alert" }, [
      el("p", { text: "Your cookie choices apply on this device, but we could not record them: " + message }),
      el("div", { "class": "lv-actions" }, [el("button", { type: "button", "class": "lv-button lv-secondary", text: "Close",
        onclick: function () { notice.remove(); } })])
    ]);
    document.body.appendChild(notice);
  }

  async function currentPolicy() {
    var answer = await api("GET", "/v1/policies/current");
    return answer.status === 200 ? answer.body : null;
  }

  async function openBanner(returnFocus) {
    var existing = document.querySelector(".lv-banner");
    if (existing) { existing.querySelector("button").focus(); return; }
    var loaded = await Promise.all([currentPolicy(), brand()]);
    var policy = loaded[0];
    var who = loaded[1] ? loaded[1].display_name.trim() : "We";
    var version = policy ? policy.version : "none";
    var choice = storedChoice();
    var headingId = uid("cookies");
    var list = el("ul", { id: uid("cookie-list"), hidden: true }, ALWAYS_ON.map(function (item) {
      var id = uid(item[0]);
      return el("li", { "class": "lv-check" }, [
        el("input", { type: "checkbox", id: id, checked: true, disabled: true }),
        el("label", { "for": id, text: item[1] + " (always on): " + item[2] })
      ]);
    }).concat(COOKIE_CATEGORIES.map(function (item) {
      var id = uid(item[0]);
      var on = !!(choice && choice.grants && choice.grants[item[0]] === true);
      return el("li", { "class": "lv-check" }, [
        el("input", { type: "checkbox", id: id, name: item[0], checked: on }),
        el("label", { "for": id, text: item[1] + ": " + item[2] })
      ]);
    })));

    async function close(grants) {
      banner.remove();
      var saving = saveChoice(grants, version);
      if (returnFocus) returnFocus.focus();
      var answer = await saving;
      if (answer.status === 429) showNotice(errorOf(answer).message);
    }

    function all(value) {
      var grants = {};
      COOKIE_CATEGORIES.forEach(function (item) { grants[item[0]] = value; });
      return grants;
    }

    // Compact first: one sentence and the two equal choices; the categories open on request.
    var save = el("button", { type: "button", "class": "lv-button lv-secondary", text: "Save choices", onclick: function () {
      var grants = {};
      COOKIE_CATEGORIES.forEach(function (item) { grants[item[0]] = list.querySelector("input[name=" + item[0] + "]").checked; });
      close(grants);
    } });
    var saveRow = el("div", { "class": "lv-actions", hidden: true }, [save]);
    var choose = el("button", { type: "button", "class": "lv-button lv-secondary", text: "Choose", "aria-expanded": "false",
      "aria-controls": list.id, onclick: function () {
        var opening = list.hidden;
        list.hidden = !opening;
        saveRow.hidden = !opening;
        choose.setAttribute("aria-expanded", String(opening));
      } });
    var banner = el("section", { "class": "lv-banner", role: "region", "aria-labelledby": headingId }, [
      el("h2", { id: headingId, text: "Cookie choices" }),
      el("p", {}, [document.createTextNode((who === "We" ? "We use" : who + " uses") + " only essential and security " +
        "storage unless you allow more. "), policy ? el("a", { href: safeUrl(policy.url), target: "_blank",
        rel: "noopener noreferrer", text: "Privacy policy" }) : null]),
      el("div", { "class": "lv-actions" }, [
        el("button", { type: "button", "class": "lv-button lv-choice", text: "Reject all", onclick: function () { close(all(false)); } }),
        el("button", { type: "button", "class": "lv-button lv-choice", text: "Accept all", onclick: function () { close(all(true)); } }),
        choose
      ]),
      list,
      saveRow
    ]);
    banner.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && storedChoice()) { banner.remove(); if (returnFocus) returnFocus.focus(); }
    });
    // First in the document so keyboard users meet it first; it still sits at the bottom of the screen.
    document.body.insertBefore(banner, document.body.firstChild);
  }

  async function startBanner() {
    var choice = storedChoice();
    if (choice) {
      announce(choice.grants || {});
      var policy = await currentPolicy();
      if (!policy || choice.policy_version === policy.version) {
        if (!choice.synced) saveChoice(choice.grants, choice.policy_version);
        return;
      }
    }
    openBanner(null);
  }

  function mountCookieSettings(root) {
    var button = el("button", { type: "button", "class": "lv-button lv-secondary", text: "Cookie settings" });
    button.addEventListener("click", function () { openBanner(button); });
    root.replaceChildren(button);
  }

  /* ---------- the privacy portal ---------- */

  function mountPortal(root) {
    // The link in the message that an access request is done: #request=<id>&download=<token>, no key.
    var downloadRequest = ownPage && fragment.get("request");
    var downloadToken = ownPage && fragment.get("download");
    if (downloadRequest && downloadToken) {
      fragment.delete("request");
      fragment.delete("download");
      clearFragment();
      showDownload(root, downloadRequest, downloadToken);
      return;
    }
    if (!KEY) { root.replaceChildren(noKey()); return; }
    var saved = readJson(window.sessionStorage, REQUEST_STORE);
    if (saved && saved.request_id) { showRequest(root, saved); return; }
    var typeName = uid("type");
    var email = el("input", { type: "email", id: uid("email"), name: "email", autocomplete: "email" });
    var phone = el("input", { type: "tel", id: uid("phone"), name: "phone", autocomplete: "tel" });
    var types = el("fieldset", { id: uid("types") }, [
      el("legend", { "class": "lv-legend", text: "What would you like to do?" }),
      radio(typeName, "access", "Get a copy of my data", true),
      radio(typeName, "erasure", "Erase my data", false),
      el("p", { "class": "lv-error", id: "", hidden: true })
    ]);
    types.lastChild.id = types.id + "-error";
    types.setAttribute("aria-describedby", types.lastChild.id);
    var button = el("button", { type: "submit", "class": "lv-button", text: "Send me a code" });
    var form = el("form", { "class": "lv-form", novalidate: true, "aria-label": "Privacy request" }, [
      types,
      field("E-mail address", email, "Give the e-mail address or the phone number you gave us."),
      field("Phone number", phone),
      el("p", { "class": "lv-error lv-form-error", role: "alert", tabindex: "-1", hidden: true }),
      button
    ]);
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      var body = { type: form.elements[typeName].value };
      if (email.value.trim()) body.email = email.value.trim();
      if (phone.value.trim()) body.phone = phone.value.trim();
      button.disabled = true;
      var answer = await api("POST", "/v1/privacy-requests", body);
      button.disabled = false;
      if (answer.status === 202) {
        var request = { request_id: answer.body.request_id, type: body.type, due_at: answer.body.due_at };
        writeJson(window.sessionStorage, REQUEST_STORE, request);
        showRequest(root, request);
        return;
      }
      reportErrors(form, errorOf(answer), function (name) {
        return name === "email" ? email : name === "phone" ? phone : name === "type" ? types : null;
      }, function () { return null; });
    });
    root.replaceChildren(form);
  }

  /* Opened without the business's key: say where the working link is, rather than "a key is required". */
  function noKey() {
    return el("div", { "class": "lv-notice-box", role: "note" }, [
      el("p", { "class": "lv-status", text: "We cannot tell which business this page is for." }),
      el("p", { text: NO_KEY_TEXT })
    ]);
  }

  function radio(name, value, label, checked) {
    var id = uid(value);
    return el("div", { "class": "lv-check" }, [
      el("input", { type: "radio", id: id, name: name, value: value, checked: checked }),
      el("label", { "for": id, text: label })
    ]);
  }

  /* A receipt in people's words: one line per kind of record, zero counts and bookkeeping left out. */
  function receiptLines(receipt) {
    var counts = {};
    var order = [];
    var technical = 0;
    Object.keys(receipt).forEach(function (kind) {
      var count = Number(receipt[kind]) || 0;
      if (count <= 0) return;
      if (RECEIPT_TECHNICAL.indexOf(kind) >= 0) { technical += count; return; }
      var words = RECEIPT_WORDS[kind] || ["other entry in the history of your enquiry", "other entries in the history of your enquiry"];
      var key = words[1];
      if (!(key in counts)) { counts[key] = { words: words, count: 0 }; order.push(key); }
      counts[key].count += count;
    });
    var lines = order.map(function (key) {
      var found = counts[key];
      return found.count + " " + (found.count === 1 ? found.words[0] : found.words[1]);
    });
    return { lines: lines, technical: technical };
  }

  function showRequest(root, request) {
    var heading = el("h2", { tabindex: "-1", text: request.type === "erasure" ? "Your erasure request" : "Your access request" });
    var status = el("p", { "class": "lv-status", role: "status" });
    var due = el("p", { "class": "lv-hint", text: "We answer by " + new Date(request.due_at).toUTCString() + " at the latest." });
    var code = el("input", { type: "text", id: uid("code"), name: "code", inputmode: "numeric", autocomplete: "one-time-code", maxlength: "6" });
    var verifyButton = el("button", { type: "submit", "class": "lv-button", text: "Confirm" });
    var verify = el("form", { "class": "lv-form", novalidate: true, "aria-label": "Confirm with the code" }, [
      field("The 6-digit code we sent you", code, "It works for 10 minutes."),
      el("p", { "class": "lv-error lv-form-error", role: "alert", tabindex: "-1", hidden: true }),
      verifyButton
    ]);
    var result = el("div", {});
    var restart = el("button", { type: "button", "class": "lv-button lv-secondary", text: "Start a new request" });
    restart.addEventListener("click", function () {
      window.clearTimeout(timer);
      window.sessionStorage.removeItem(REQUEST_STORE);
      mountPortal(root);
    });
    var timer = null;
    var delay = 2000;

    async function refresh() {
      var answer = await api("GET", "/v1/privacy-requests/" + encodeURIComponent(request.request_id));
      if (answer.status !== 200) {
        status.textContent = errorOf(answer).message;
        var transient = answer.status === 0 || answer.status === 429 || answer.status >= 500;
        if (transient) { delay = Math.min(delay * 2, 30000); timer = window.setTimeout(refresh, delay); }
        return;
      }
      delay = 2000;
      var state = answer.body;
      status.textContent = STATUS_TEXT[state.status] || state.status;
      verify.hidden = state.status !== "pending_verification";
      if (state.status === "completed") showResult(state);
      if (state.status === "rejected") {
        result.replaceChildren(el("p", { text: REJECTION_TEXT[state.rejection_reason] ||
          "We could not verify that the request is yours. Start a new request to try again." }));
      }
      if (["completed", "rejected", "expired"].indexOf(state.status) < 0 && state.status !== "pending_verification") {
        timer = window.setTimeout(refresh, delay);
      }
    }

    function showResult(state) {
      var told = receiptLines(state.receipt || {});
      var erasure = request.type === "erasure";
      var parts = told.lines.length ? [
        el("p", { text: erasure ? "We erased what we held about you:" : "We found:" }),
        el("ul", { "class": "lv-receipt" }, told.lines.map(function (line) { return el("li", { text: line }); }))
      ] : [el("p", { text: erasure ? "We held no data about you, so there was nothing to erase." :
        "We hold no data about you." })];
      if (erasure && told.technical) {
        parts.push(el("p", { text: "We also deleted the technical records that linked these together." }));
      }
      if (request.type === "access") {
        parts.push(el("p", { "class": "lv-done", text: "Your data is ready. We sent a download link to the e-mail address or " +
          "phone number you gave; it works once, for 7 days." }));
      }
      result.replaceChildren.apply(result, parts);
    }

    verify.addEventListener("submit", async function (event) {
      event.preventDefault();
      verifyButton.disabled = true;
      var answer = await api("POST", "/v1/privacy-requests/" + encodeURIComponent(request.request_id) + "/verify",
        { code: code.value.trim() });
      verifyButton.disabled = false;
      if (answer.status === 200) { clearErrors(verify); code.value = ""; window.clearTimeout(timer); refresh(); return; }
      var error = errorOf(answer);
      reportErrors(verify, error, function (name) { return name === "code" ? code : null; }, function (errorCode) {
        return ["invalid_code", "code_expired", "verification_locked", "validation_error"].indexOf(errorCode) >= 0 ? code : null;
      });
    });
    root.replaceChildren(heading, due, status, verify, result, el("div", { "class": "lv-actions" }, [restart]));
    heading.focus();
    refresh();
  }

  /* The download link: the token, not a widget key, proves the person; it works once. */
  function showDownload(root, requestId, token) {
    var heading = el("h2", { tabindex: "-1", text: "Your data" });
    var button = el("button", { type: "button", "class": "lv-button", text: "Download my data" });
    var result = el("p", { "class": "lv-status lv-result", role: "status", tabindex: "-1" });
    button.addEventListener("click", async function () {
      button.disabled = true;
      result.className = "lv-status lv-result";
      result.textContent = "Preparing your file…";
      var answer = await api("POST", "/v1/privacy-requests/" + encodeURIComponent(requestId) + "/download",
        { token: token }, null, true);
      if (answer.status === 200) {
        var name = "my-data-" + requestId + ".json";
        saveJson(answer.body, name);
        result.textContent = "Downloaded: your browser saved the file " + name + ". This link now no longer works; keep the file somewhere safe.";
        result.className = "lv-status lv-result lv-done";
        return;
      }
      if (answer.status === 401) {
        result.textContent = "This link was already used or has expired; file a new access request.";
      } else {
        result.textContent = errorOf(answer).message;
        button.disabled = false;  // nothing was used up: the person may try again
      }
      result.className = "lv-status lv-result lv-error";
      result.focus();
    });
    var parts = [heading, el("p", { text: "Download a copy of the personal data we hold about you, as a JSON file. " +
      "The link in our message works once." }), el("div", { "class": "lv-actions" }, [button]), result];
    if (KEY) {
      var restart = el("button", { type: "button", "class": "lv-button lv-secondary", text: "Start a new request" });
      restart.addEventListener("click", function () { window.sessionStorage.removeItem(REQUEST_STORE); mountPortal(root); });
      parts.push(el("div", { "class": "lv-actions" }, [restart]));
    }
    root.replaceChildren.apply(root, parts);
    heading.focus();
  }

  /* ---------- a complaint to the grievance officer ---------- */

  async function mountGrievance(root) {
    if (!KEY) {
      // Without the business's key there is no officer to name; the portal above already says where to go.
      var section = root.closest("section");
      (section || root).hidden = true;
      return;
    }
    var answer = await api("GET", "/v1/grievance-officer");
    if (answer.status !== 200 || !answer.body.officer) {
      root.replaceChildren(el("p", { text: answer.status === 200
        ? "This business has not named a grievance officer yet; please write to it directly."
        : errorOf(answer).message }));
      return;
    }
    var officer = answer.body.officer;
    var who = el("p", { text: "Your complaint goes to " + officer.name + ", the grievance officer (" + officer.contact +
      "), who answers within " + answer.body.due_days + " days." });
    var text = el("textarea", { id: uid("complaint"), name: "text", rows: "6", minlength: "10", maxlength: "4000" });
    var email = el("input", { type: "email", id: uid("grievance-email"), name: "email", autocomplete: "email" });
    var phone = el("input", { type: "tel", id: uid("grievance-phone"), name: "phone", autocomplete: "tel" });
    var button = el("button", { type: "submit", "class": "lv-button", text: "Send me a code" });
    var form = el("form", { "class": "lv-form", novalidate: true, "aria-label": "Complaint" }, [
      field("Your complaint", text, "10 to 4000 characters."),
      field("E-mail address", email, "We send the answer here, or to the phone number."),
      field("Phone number", phone),
      el("p", { "class": "lv-error lv-form-error", role: "alert", tabindex: "-1", hidden: true }),
      button
    ]);
    function target(name) { return name === "text" ? text : name === "email" ? email : name === "phone" ? phone : null; }
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      var body = { text: text.value.trim() };
      if (email.value.trim()) body.email = email.value.trim();
      if (phone.value.trim()) body.phone = phone.value.trim();
      button.disabled = true;
      var filed = await api("POST", "/v1/grievances", body);
      button.disabled = false;
      if (filed.status === 202) { verifyGrievance(root, who, filed.body); return; }
      reportErrors(form, errorOf(filed), target, function () { return null; });
    });
    root.replaceChildren(who, form);
  }

  function verifyGrievance(root, who, filed) {
    var heading = el("h3", { tabindex: "-1", text: "Confirm your complaint" });
    var code = el("input", { type: "text", id: uid("grievance-code"), name: "code", inputmode: "numeric", autocomplete: "one-time-code", maxlength: "6" });
    var button = el("button", { type: "submit", "class": "lv-button", text: "Confirm" });
    var status = el("p", { "class": "lv-status lv-result", role: "status", tabindex: "-1" });
    var form = el("form", { "class": "lv-form", novalidate: true, "aria-label": "Confirm the complaint with the code" }, [
      field("The 6-digit code we sent you", code, "It works for 10 minutes."),
      el("p", { "class": "lv-error lv-form-error", role: "alert", tabindex: "-1", hidden: true }),
      button
    ]);
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      button.disabled = true;
      var answer = await api("POST", "/v1/grievances/" + encodeURIComponent(filed.grievance_id) + "/verify", { code: code.value.trim() });
      button.disabled = false;
      if (answer.status === 200) {
        form.hidden = true;
        status.className = "lv-status lv-result lv-done";
        status.textContent = "Sent. We will answer by " + new Date(filed.due_at).toUTCString() + " at the latest.";
        status.focus();
        return;
      }
      reportErrors(form, errorOf(answer), function (name) { return name === "code" ? code : null; }, function (errorCode) {
        return ["invalid_code", "code_expired", "verification_locked", "validation_error"].indexOf(errorCode) >= 0 ? code : null;
      });
    });
    root.replaceChildren(who, heading, form, status);
    heading.focus();
  }

  /* ---------- the preferences page ---------- */

  async function mountPreferences(root) {
    // The token rides in the fragment, which never reaches a server, and goes to the API in a body: never in a URL.
    var token = fragment.get("token") || "";
    var answer = await api("POST", "/v1/preferences/read", { token: token });
    if (answer.status !== 200) {
      root.replaceChildren(el("p", { "class": "lv-error", role: "alert", text: answer.status === 401
        ? "This link is not valid or has expired. Use the link in a newer message from us."
        : errorOf(answer).message }));
      return;
    }
    var boxes = MARKETING.map(function (purpose) { return checkbox(purpose[0], purpose[1], answer.body.grants[purpose[0]] === true); });
    var status = el("p", { "class": "lv-status", role: "status", tabindex: "-1" });
    var button = el("button", { type: "submit", "class": "lv-button", text: "Save my choices" });
    var form = el("form", { "class": "lv-form", novalidate: true, "aria-label": "Marketing choices" }, [
      el("fieldset", {}, [el("legend", { "class": "lv-legend", text: "You may send me offers" })].concat(boxes)),
      el("p", { "class": "lv-error lv-form-error", role: "alert", tabindex: "-1", hidden: true }),
      button, status
    ]);
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      var grants = {};
      MARKETING.forEach(function (purpose) { grants[purpose[0]] = form.elements[purpose[0]].checked; });
      button.disabled = true;
      status.className = "lv-status";
      status.textContent = "Saving…";
      var saved = await api("POST", "/v1/preferences", { token: token, grants: grants });
      button.disabled = false;
      if (saved.status === 200) {
        status.textContent = "Saved. Thank you.";
        status.className = "lv-status lv-success";
        status.focus();
        return;
      }
      status.textContent = "";
      status.className = "lv-status";
      reportErrors(form, errorOf(saved), function () { return null; }, function () { return null; });
    });
    root.replaceChildren(form);
  }

  /* ---------- the confirmation page (double opt-in, new contact details) ---------- */

  var CONFIRMED_PURPOSES = { marketing_email: "offers by e-mail", marketing_sms: "offers by text message",
    marketing_calls: "calls with offers" };
  var CONFIRMED_IDENTIFIERS = { email: "e-mail address", phone: "phone number" };

  function listed(items) {
    return items.length < 2 ? items.join("") : items.slice(0, -1).join(", ") + " and " + items[items.length - 1];
  }

  function confirmedText(confirmed) {
    var purposes = (confirmed.purposes || []).map(function (p) { return CONFIRMED_PURPOSES[p] || humanise(p).toLowerCase(); });
    var identifiers = (confirmed.identifiers || []).map(function (i) { return CONFIRMED_IDENTIFIERS[i] || humanise(i).toLowerCase(); });
    var said = [];
    if (purposes.length) said.push("you will now receive " + listed(purposes) + ".");
    if (identifiers.length) said.push((said.length ? "Your" : "your") + " new " + listed(identifiers) +
      (identifiers.length > 1 ? " are" : " is") + " confirmed.");
    return "Thank you: " + (said.length ? said.join(" ") : "this is confirmed.");
  }

  async function mountConfirm(root) {
    // The token rides in the fragment (never in a URL a server logs); read it once, then drop it.
    var token = ownPage ? fragment.get("token") || "" : "";
    fragment.delete("token");
    clearFragment();
    var result = el("p", { "class": "lv-status lv-result", role: "status", "aria-live": "polite", tabindex: "-1" });
    var hint = el("p", { "class": "lv-hint", hidden: true });
    root.replaceChildren(result, hint);
    if (!token) {
      result.textContent = "This link is not complete. Open the link from our message again, the whole of it.";
      result.className = "lv-status lv-result lv-error";
      result.focus();
      return;
    }
    // A click confirms, not the page load: mail scanners that open links must not say yes for the person.
    result.textContent = "Please confirm with the button below. If you did not ask for this, close this page: " +
      "nothing changes.";
    var button = el("button", { type: "button", "class": "lv-button", text: "Yes, confirm" });
    root.replaceChildren(result, button, hint);
    await new Promise(function (resolve) { button.addEventListener("click", resolve, { once: true }); });
    button.remove();
    result.textContent = "Confirming…";
    var answer = await api("POST", "/v1/confirmations", { token: token }, null, true);
    var error = errorOf(answer);
    if (answer.status === 200) {
      var confirmed = (answer.body && answer.body.confirmed) || {};
      result.textContent = confirmedText(confirmed);
      result.className = "lv-status lv-result lv-done";
      if ((confirmed.purposes || []).length) {
        hint.textContent = "You can change your mind at any time with the link at the end of any message we send you.";
        hint.hidden = false;
      }
    } else if (answer.status === 401) {
      result.textContent = "This link is no longer valid: it was already used, or it has expired. Nothing was changed.";
      result.className = "lv-status lv-result lv-error";
    } else if (answer.status === 409 && error.code === "identifier_taken") {
      result.textContent = "We could not add this e-mail address or phone number: it now belongs to someone else's " +
        "details with us. Nothing was changed.";
      result.className = "lv-status lv-result lv-error";
    } else {
      result.textContent = error.message;
      result.className = "lv-status lv-result lv-error";
    }
    result.focus();
  }

  /* ---------- start ---------- */

  window.LeadVault = {
    consent: {
      allowed: allowed,
      open: function () { return openBanner(document.activeElement); },
      onChange: function (listener) { choiceListeners.push(listener); }
    }
  };

  function start() {
    installStyles();
    brand().then(applyBrand);
    var mounts = { "lead-form": mountLeadForm, "privacy-portal": mountPortal, grievance: mountGrievance, preferences: mountPreferences,
      confirm: mountConfirm, "cookie-settings": mountCookieSettings };
    document.querySelectorAll("[data-leadvault]").forEach(function (root) {
      var mount = mounts[root.getAttribute("data-leadvault")];
      if (mount) mount(root);
    });
    if (script.getAttribute("data-cookie-banner") !== "off" && KEY) startBanner();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
