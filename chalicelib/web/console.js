/*
 * LeadVault staff console: leads, privacy requests, policies, retention, field work and the audit log.
 * No dependencies, nothing loaded from anywhere but the LeadVault API (its page's CSP pins that).
 *
 * The admin key is typed into the sign-in form and kept in this tab's sessionStorage only: it goes to
 * the API in the Authorization header, never in an address. Each section is its own view, reached by
 * the fragment (#leads, #lead/<id>, #privacy, #policies, #retention, #field-work, #audit), which holds
 * no key and no personal data. Text from the API is always inserted as text, never as markup.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var API = script.src.replace(/\/v1\/console\.js(?:[?#].*)?$/, "");
  var STORE = "leadvault.console.key";
  var SVG = "http://www.w3.org/2000/svg";
  var STAGES = ["new", "contacted", "qualified", "won", "lost"];
  var SECTIONS = {
    leads: "Leads", privacy: "Privacy requests", policies: "Policies", retention: "Retention",
    "field-work": "Field work", audit: "Audit"
  };
  var CHANNELS = [["email", "E-mail"], ["sms", "Text message"], ["in_app", "In the app"]];
  var NOTICE_STATES = [["sent", "Sent"], ["failed", "Failed"], ["pending", "Pending"], ["skipped", "Skipped"]];
  // Each series has a colour and a pattern, so no chart depends on colour alone.
  var FILLS = [
    { kind: "solid", colour: "#0b57d0", name: "solid" },
    { kind: "stripes", colour: "#a50e0e", name: "striped" },
    { kind: "dots", colour: "#7a4a00", name: "dotted" },
    { kind: "cross", colour: "#3c4043", name: "cross-hatched" },
    { kind: "grid", colour: "#0d652d", name: "chequered" },
    { kind: "rstripes", colour: "#6a1b9a", name: "back-striped" }
  ];
  var DAY_MS = 86400000;

  var key = "";
  var me = null;
  var generation = 0;
  var counter = 0;

  /* ---------- small helpers ---------- */

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    setAttrs(node, attrs);
    append(node, children);
    return node;
  }

  function svg(tag, attrs, children) {
    var node = document.createElementNS(SVG, tag);
    setAttrs(node, attrs);
    append(node, children);
    return node;
  }

  function setAttrs(node, attrs) {
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === false || value === null || value === undefined) return;
      if (name === "text") node.textContent = value;
      else if (name.slice(0, 2) === "on") node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    });
  }

  function append(node, children) {
    (children || []).forEach(function (child) {
      if (child === null || child === undefined || child === false) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
  }

  function text(value) { return document.createTextNode(value === null || value === undefined ? "" : String(value)); }

  function uid(prefix) { counter += 1; return "lvc-" + prefix + "-" + counter; }

  function humanise(name) {
    var words = String(name).replace(/_/g, " ");
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  function plural(count, one, many) { return count + " " + (count === 1 ? one : many); }

  function pad(number) { return (number < 10 ? "0" : "") + number; }

  /* Times in UTC, as the API gives them, so every admin reads the same clock. */
  function when(iso) {
    if (!iso) return "—";
    var at = new Date(iso);
    if (isNaN(at)) return String(iso);
    return at.getUTCFullYear() + "-" + pad(at.getUTCMonth() + 1) + "-" + pad(at.getUTCDate()) + " " +
      pad(at.getUTCHours()) + ":" + pad(at.getUTCMinutes()) + " UTC";
  }

  function day(iso) { return iso ? String(iso).slice(0, 10) : "—"; }

  function daysLeftText(days) {
    if (days === null || days === undefined) return "—";
    if (days === 0) return "Due today";
    if (days > 0) return plural(days, "day", "days") + " left";
    return plural(-days, "day", "days") + " overdue";
  }

  function daysUntil(iso) {
    var due = Date.parse(iso);
    return isNaN(due) ? null : Math.floor((due - Date.now()) / DAY_MS);
  }

  function query(params) {
    var search = new URLSearchParams();
    Object.keys(params).forEach(function (name) {
      if (params[name] !== "" && params[name] !== null && params[name] !== undefined) search.set(name, params[name]);
    });
    var built = search.toString();
    return built ? "?" + built : "";
  }

  function storedKey() {
    try { return window.sessionStorage.getItem(STORE) || ""; } catch (e) { return ""; }
  }

  function storeKey(value) {
    try { window.sessionStorage.setItem(STORE, value); } catch (e) { /* kept in memory for this page only */ }
  }

  function forgetKey() {
    try { window.sessionStorage.removeItem(STORE); } catch (e) { /* nothing stored */ }
  }

  /* ---------- the API ---------- */

  async function api(method, path, body, raw) {
    var headers = { Authorization: "Bearer " + key };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    var response;
    try {
      response = await fetch(API + path, {
        method: method, headers: headers, credentials: "omit", referrerPolicy: "no-referrer", cache: "no-store",
        body: body === undefined ? undefined : JSON.stringify(body)
      });
    } catch (e) {
      return { status: 0, body: null, headers: null };
    }
    if (raw && response.ok) return { status: response.status, body: await response.text(), headers: response.headers };
    var data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (response.status === 401 && me) {
      signOut("Your key was refused (revoked, expired or mistyped). Sign in again.");
    }
    return { status: response.status, body: data, headers: response.headers };
  }

  function problem(answer, what) {
    var error = answer.body && answer.body.error;
    if (answer.status === 0) return "We could not reach the server. Check that it is running and try again.";
    if (answer.status === 404 && !error) return "This server does not offer " + what + " yet (404).";
    if (!error) return "The server answered " + answer.status + " for " + what + ".";
    var details = (error.details || []).map(function (d) { return d.field + ": " + d.problem; });
    return error.message + (details.length ? " (" + details.join("; ") + ")" : "");
  }

  function alertBox(message) { return el("p", { "class": "lvc-error", role: "alert", text: message }); }

  /* ---------- styles (a constructed sheet: no inline styles, so the strict CSP holds) ---------- */

  var CSS = [
    "*,*::before,*::after{box-sizing:border-box}",
    ".lvc{font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1b1b1b;background:#fff;margin:0}",
    ".lvc a{color:#0b57d0}",
    ".lvc :focus-visible{outline:3px solid #0b57d0;outline-offset:2px}",
    ".lvc h1:focus,.lvc h2:focus{outline:none}",
    ".lvc-header{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1.25rem;padding:.6rem 1rem;border-bottom:2px solid #1b1b1b}",
    ".lvc-brand{margin:0;font-weight:700;overflow-wrap:anywhere}",
    ".lvc-sub{font-weight:400;color:#3c4043}",
    ".lvc-header nav{flex:1 1 20rem}",
    "#lvc-sign-out{margin-left:auto}",
    "@media (max-width:40rem){.lvc-header nav{order:3;flex-basis:100%}}",
    ".lvc-header ul{list-style:none;display:flex;flex-wrap:wrap;gap:.1rem 1rem;margin:0;padding:0}",
    ".lvc-header nav a{display:inline-block;padding:.3rem 0}",
    ".lvc-header nav a[aria-current=page]{color:#1b1b1b;font-weight:700;text-decoration-thickness:3px}",
    ".lvc main{max-width:72rem;margin:0 auto;padding:1rem}",
    ".lvc h1{font-size:1.5rem;margin:.25rem 0 1rem}",
    ".lvc h2{font-size:1.2rem;margin:1.75rem 0 .5rem}",
    ".lvc h3{font-size:1.05rem;margin:0 0 .5rem}",
    ".lvc-field{display:grid;gap:.25rem;min-width:0}",
    ".lvc-field label{font-weight:600}",
    ".lvc input,.lvc select{font:inherit;padding:.45rem .55rem;border:1px solid #5f6368;border-radius:4px;color:#1b1b1b;background:#fff;width:100%;min-width:0}",
    ".lvc [aria-invalid=true]{border-color:#a50e0e;outline:2px solid #a50e0e}",
    "#lvc-sign-in-form{display:grid;gap:1rem;max-width:32rem}",
    ".lvc-filters{display:grid;grid-template-columns:repeat(auto-fill,minmax(10.5rem,1fr));gap:.75rem;align-items:start;margin:0 0 1rem}",
    ".lvc-filters .lvc-actions{grid-column:1/-1;margin:0}",
    ".lvc-filters .lvc-wide{grid-column:span 2}",
    "@media (max-width:30rem){.lvc-filters .lvc-wide{grid-column:1/-1}}",
    ".lvc-hint{font-size:.9rem;color:#3c4043;margin:0}",
    ".lvc-inline{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end;margin:.5rem 0 1rem}",
    ".lvc-inline .lvc-field{flex:1 1 12rem;max-width:20rem}",
    ".lvc-actions{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:.5rem 0}",
    ".lvc-button{font:inherit;font-weight:600;padding:.45rem 1rem;border-radius:4px;border:2px solid #0b57d0;cursor:pointer;background:#0b57d0;color:#fff}",
    ".lvc-button.lvc-secondary{background:#fff;color:#0b57d0}",
    ".lvc-button:disabled{opacity:.6;cursor:progress}",
    ".lvc-scroll{overflow-x:auto;max-width:100%;border:1px solid #c4c7c5;border-radius:4px;margin:.5rem 0}",
    ".lvc table{border-collapse:collapse;width:100%;font-size:.95rem}",
    ".lvc-scroll.lvc-narrow{max-width:30rem}",
    ".lvc caption{text-align:left;font-weight:600;padding:.5rem .6rem}",
    ".lvc th,.lvc td{text-align:left;padding:.4rem .6rem;border-top:1px solid #c4c7c5;vertical-align:top;white-space:nowrap}",
    ".lvc td.lvc-wrap{white-space:normal;min-width:14rem}",
    ".lvc th[scope=col]{background:#f1f3f4}",
    ".lvc-error{color:#a50e0e;font-weight:600;margin:.25rem 0}",
    ".lvc-status{font-weight:600;margin:.25rem 0}",
    ".lvc-muted{color:#3c4043}",
    ".lvc-overdue{color:#a50e0e;font-weight:700}",
    ".lvc-hold{display:inline-block;border:2px solid #a50e0e;color:#a50e0e;border-radius:4px;padding:0 .35rem;font-weight:700;font-size:.85rem}",
    ".lvc-card{border:1px solid #5f6368;border-radius:6px;padding:1rem;margin:1rem 0;min-width:0}",
    ".lvc-card>h2:first-child{margin-top:0}",
    ".lvc-grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,24rem),1fr));gap:1rem}",
    ".lvc-profile{display:grid;grid-template-columns:minmax(7rem,max-content) minmax(0,1fr);gap:.2rem 1rem;margin:0}",
    ".lvc-profile dt{font-weight:600}",
    ".lvc-profile dd{margin:0;overflow-wrap:anywhere}",
    ".lvc-chart{margin:.5rem 0;max-width:44rem}",
    ".lvc-chart svg{display:block;width:100%;height:auto}",
    ".lvc-legend{display:flex;flex-wrap:wrap;gap:.35rem 1rem;list-style:none;padding:0;margin:.25rem 0 .5rem}",
    ".lvc-legend li{display:flex;align-items:center;gap:.35rem}",
    ".lvc-legend svg{width:1.1rem;height:1.1rem;flex:none}",
    ".lvc-defs{position:absolute;width:0;height:0;overflow:hidden}",
    ".lvc code{overflow-wrap:anywhere}",
    "[hidden]{display:none!important}"
  ].join("\n");

  function installStyles() {
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      document.adoptedStyleSheets = document.adoptedStyleSheets.concat([sheet]);
    } catch (e) {
      document.head.appendChild(el("style", { text: CSS }));
    }
  }

  /* The fills' patterns, defined once for every chart and legend of the page. */
  function installPatterns() {
    var defs = svg("defs", {}, FILLS.map(function (fill, index) {
      var id = "lvc-fill-" + index;
      var light = "#ffffff";
      var shapes = {
        solid: [svg("rect", { width: 8, height: 8, fill: fill.colour })],
        stripes: [svg("rect", { width: 8, height: 8, fill: light }),
          svg("path", { d: "M-2,2 l4,-4 M0,8 l8,-8 M6,10 l4,-4", stroke: fill.colour, "stroke-width": 2.5 })],
        rstripes: [svg("rect", { width: 8, height: 8, fill: light }),
          svg("path", { d: "M-2,6 l4,4 M0,0 l8,8 M6,-2 l4,4", stroke: fill.colour, "stroke-width": 2.5 })],
        dots: [svg("rect", { width: 8, height: 8, fill: light }), svg("circle", { cx: 4, cy: 4, r: 2.2, fill: fill.colour })],
        cross: [svg("rect", { width: 8, height: 8, fill: light }),
          svg("path", { d: "M0,4 h8 M4,0 v8", stroke: fill.colour, "stroke-width": 1.6 })],
        grid: [svg("rect", { width: 8, height: 8, fill: light }), svg("rect", { width: 4, height: 4, fill: fill.colour }),
          svg("rect", { x: 4, y: 4, width: 4, height: 4, fill: fill.colour })]
      }[fill.kind];
      return svg("pattern", { id: id, width: 8, height: 8, patternUnits: "userSpaceOnUse" }, shapes);
    }));
    document.body.appendChild(svg("svg", { "class": "lvc-defs", "aria-hidden": "true", focusable: "false" }, [defs]));
  }

  /* Charts are drawn about as wide as they show (one unit a CSS pixel), so their text stays readable on a phone. */
  function chartWidth() {
    var room = (view && view.clientWidth) || 480;
    return Math.round(Math.max(300, Math.min(640, room - 36)));
  }

  function fillOf(index) { return "url(#lvc-fill-" + (index % FILLS.length) + ")"; }

  function legend(labels) {
    return el("ul", { "class": "lvc-legend", "aria-label": "Legend" }, labels.map(function (label, index) {
      var swatch = svg("svg", { viewBox: "0 0 16 16", "aria-hidden": "true", focusable: "false" }, [
        svg("rect", { x: 0.5, y: 0.5, width: 15, height: 15, fill: fillOf(index), stroke: "#1b1b1b" })]);
      return el("li", {}, [swatch, text(label + " (" + FILLS[index % FILLS.length].name + ")")]);
    }));
  }

  /* ---------- tables ---------- */

  /* columns: [label, cell(item) -> string | Node, className?]; the table scrolls within itself on phones. */
  function table(caption, columns, items, empty) {
    var captionId = uid("caption");
    var body = el("tbody", {}, items.map(function (item) {
      return el("tr", {}, columns.map(function (column, index) {
        var value = column[1](item);
        var cell = el(index === 0 ? "th" : "td", { scope: index === 0 ? "row" : null, "class": column[2] || null });
        cell.appendChild(value instanceof Node ? value : text(value === null || value === undefined ? "—" : value));
        return cell;
      }));
    }));
    if (!items.length) {
      body.appendChild(el("tr", {}, [el("td", { colspan: columns.length, text: empty || "Nothing to show." })]));
    }
    var built = el("table", {}, [
      el("caption", { id: captionId, text: caption }),
      el("thead", {}, [el("tr", {}, columns.map(function (column) { return el("th", { scope: "col", text: column[0] }); }))]),
      body
    ]);
    return { node: el("div", { "class": "lvc-scroll", role: "region", "aria-labelledby": captionId, tabindex: "0" }, [built]),
      body: body, columns: columns };
  }

  function narrow(node) { node.classList.add("lvc-narrow"); return node; }

  function addRows(shown, items) {
    items.forEach(function (item) {
      shown.body.appendChild(el("tr", {}, shown.columns.map(function (column, index) {
        var value = column[1](item);
        var cell = el(index === 0 ? "th" : "td", { scope: index === 0 ? "row" : null, "class": column[2] || null });
        cell.appendChild(value instanceof Node ? value : text(value === null || value === undefined ? "—" : value));
        return cell;
      })));
    });
  }

  function field(label, input, describedBy) {
    if (describedBy) input.setAttribute("aria-describedby", describedBy);
    return el("div", { "class": "lvc-field" }, [el("label", { "for": input.id, text: label }), input]);
  }

  function input(name, type, attrs) {
    return el("input", Object.assign({ id: uid(name), name: name, type: type || "text", autocomplete: "off" }, attrs || {}));
  }

  function select(name, options, chosen) {
    return el("select", { id: uid(name), name: name }, options.map(function (option) {
      return el("option", { value: option[0], selected: option[0] === chosen, text: option[1] });
    }));
  }

  function button(label, secondary, type) {
    return el("button", { type: type || "button", "class": "lvc-button" + (secondary ? " lvc-secondary" : ""), text: label });
  }

  /* "More" under a list: loads the next page with its cursor, and hides itself at the end. */
  function pager(label, load) {
    var more = button(label, true);
    var status = el("p", { "class": "lvc-status", role: "status" });
    var cursor = null;
    more.hidden = true;
    more.addEventListener("click", async function () {
      more.disabled = true;
      status.textContent = "Loading…";
      await load(cursor);
      more.disabled = false;
    });
    return {
      node: el("div", { "class": "lvc-actions" }, [more, status]),
      set: function (next, said) { cursor = next; more.hidden = !next; status.textContent = said || ""; }
    };
  }

  /* ---------- the shell: sign in, sign out, sections ---------- */

  var view = null;

  function section() {
    var hash = window.location.hash.replace(/^#/, "");
    if (hash.indexOf("lead/") === 0) return { name: "lead", id: decodeURIComponent(hash.slice(5)) };
    return { name: SECTIONS[hash] ? hash : "leads" };
  }

  function showSignIn(message, note) {
    document.getElementById("lvc-nav").hidden = true;
    document.getElementById("lvc-sign-out").hidden = true;
    view.replaceChildren();
    var form = document.getElementById("lvc-sign-in-form");
    var error = document.getElementById("lvc-key-error");
    var box = document.getElementById("lvc-key");
    document.getElementById("lvc-sign-in").hidden = false;
    form.reset();
    error.hidden = !message;
    error.textContent = message || "";
    document.getElementById("lvc-sign-in-note").textContent = note || "";
    if (message) box.setAttribute("aria-invalid", "true"); else box.removeAttribute("aria-invalid");
    box.focus();
  }

  function signOut(message, note) {
    key = "";
    me = null;
    generation += 1;
    forgetKey();
    showSignIn(message, note);
  }

  /* Check a key with GET /v1/me; only an admin key opens the console. */
  async function signIn(candidate) {
    key = candidate;
    me = null;
    var answer = await api("GET", "/v1/me");
    if (answer.status === 401) return "This key was not accepted: it is unknown, revoked or mistyped.";
    if (answer.status !== 200) { key = ""; return problem(answer, "a check of the key"); }
    var role = answer.body.role;
    if (role !== "admin") {
      key = "";
      var what = role === "agent" ? "an agent key, for the field app" : "a widget key, for web forms";
      return "This is " + what + ". The staff console is for admins only: sign in with an admin key.";
    }
    me = answer.body;
    storeKey(candidate);
    return null;
  }

  async function loadBrand() {
    var answer = await api("GET", "/v1/brand");
    var name = answer.status === 200 && answer.body && answer.body.display_name;
    document.getElementById("lvc-tenant").textContent = name || "LeadVault";
    document.title = (name ? name + " · " : "") + "Staff console";
  }

  function signedIn() {
    document.getElementById("lvc-sign-in").hidden = true;
    document.getElementById("lvc-nav").hidden = false;
    document.getElementById("lvc-sign-out").hidden = false;
    loadBrand();
    render();
  }

  /* A new view: its heading takes focus, so keyboard and screen reader users start at the top of it. */
  function start(title) {
    generation += 1;
    var heading = el("h1", { tabindex: "-1", text: title });
    view.replaceChildren(heading);
    heading.focus();
    return generation;
  }

  function current(mine) { return mine === generation && !!key; }

  function render() {
    if (!key) { showSignIn(); return; }
    var where = section();
    document.querySelectorAll("#lvc-nav a").forEach(function (link) {
      var on = link.getAttribute("data-section") === (where.name === "lead" ? "leads" : where.name);
      if (on) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
    });
    ({ leads: showLeads, lead: showLead, privacy: showPrivacy, policies: showPolicies, retention: showRetention,
      "field-work": showFieldWork, audit: showAudit })[where.name](where.id);
  }

  /* ---------- leads ---------- */

  var leadFilters = {};

  function leadColumns() {
    return [
      ["Name", function (lead) {
        return el("a", { href: "#lead/" + encodeURIComponent(lead.lead_id), text: lead.name || "(no name) " + lead.lead_id });
      }],
      ["Stage", function (lead) { return humanise(lead.stage); }],
      ["Phone", function (lead) { return lead.phone; }],
      ["E-mail", function (lead) { return lead.email; }],
      ["Agent", function (lead) { return lead.assigned_agent; }],
      ["Source", function (lead) { return lead.source; }],
      ["Created", function (lead) { return day(lead.created_at); }],
      ["Last activity", function (lead) { return when(lead.last_activity_at); }],
      ["Legal hold", function (lead) { return lead.legal_hold ? el("span", { "class": "lvc-hold", text: "On hold" }) : "No"; }]
    ];
  }

  function showLeads() {
    var mine = start("Leads");
    var stage = select("stage", [["", "Any stage"]].concat(STAGES.map(function (s) { return [s, humanise(s)]; })),
      leadFilters.stage || "");
    var agent = input("agent_id", "text", { value: leadFilters.agent_id || "" });
    var source = input("source", "text", { value: leadFilters.source || "" });
    var from = input("created_from", "date", { value: leadFilters.created_from || "" });
    var to = input("created_to", "date", { value: leadFilters.created_to || "" });
    var hint = el("p", { id: uid("hint"), "class": "lvc-hint", text: "An exact phone number or e-mail address, in any format." });
    var search = input("q", "search", { value: leadFilters.q || "", spellcheck: "false" });
    var apply = button("Show leads", false, "submit");
    var clear = button("Clear", true);
    var exporter = button("Export CSV", true);
    var message = el("div", { "aria-live": "polite" });
    var form = el("form", { "class": "lvc-filters", role: "search", "aria-label": "Filter leads", novalidate: true }, [
      field("Stage", stage), field("Assigned agent", agent), field("Source", source),
      field("Created from", from), field("Created until", to),
      el("div", { "class": "lvc-field lvc-wide" }, [el("label", { "for": search.id, text: "Phone or e-mail" }), search, hint]),
      el("div", { "class": "lvc-actions" }, [apply, clear, exporter])
    ]);
    search.setAttribute("aria-describedby", hint.id);
    var results = el("div");
    view.append(form, message, results);

    function filters() {
      return { stage: stage.value, agent_id: agent.value.trim(), source: source.value.trim(),
        created_from: from.value, created_to: to.value, q: search.value.trim() };
    }

    /* A phone or e-mail goes in a POST body (POST /v1/leads/search), never in an address. */
    function fetchLeads(chosen, cursor) {
      var listed = Object.assign({}, chosen);
      delete listed.q;
      if (!chosen.q) return api("GET", "/v1/leads" + query(Object.assign(listed, { cursor: cursor })));
      var body = { q: chosen.q };
      Object.keys(listed).forEach(function (name) { if (listed[name]) body[name] = listed[name]; });
      return api("POST", "/v1/leads/search", body);
    }

    async function load() {
      leadFilters = filters();
      message.replaceChildren();
      var shown = table("Leads, most recent activity first", leadColumns(), [], "No leads match.");
      var more = pager("More leads", async function (cursor) {
        var next = await fetchLeads(leadFilters, cursor);
        if (!current(mine)) return;
        if (next.status !== 200) { more.set(null); message.replaceChildren(alertBox(problem(next, "the leads list"))); return; }
        if (next.body.items.length) { addRows(shown, next.body.items); }
        more.set(next.body.next_cursor, "Showing more leads.");
      });
      var answer = await fetchLeads(leadFilters, null);
      if (!current(mine)) return;
      if (answer.status !== 200) { results.replaceChildren(); message.replaceChildren(alertBox(problem(answer, "the leads list"))); return; }
      shown = table("Leads, most recent activity first", leadColumns(), answer.body.items, "No leads match.");
      results.replaceChildren(shown.node, more.node);
      more.set(answer.body.next_cursor);
      message.replaceChildren(el("p", { "class": "lvc-status", role: "status",
        text: answer.body.next_cursor ? "Showing the first " + plural(answer.body.items.length, "lead", "leads") + "."
          : plural(answer.body.items.length, "lead", "leads") + " found." }));
    }

    form.addEventListener("submit", function (event) { event.preventDefault(); load(); });
    clear.addEventListener("click", function () {
      stage.value = ""; agent.value = ""; source.value = ""; from.value = ""; to.value = ""; search.value = "";
      load();
    });
    exporter.addEventListener("click", async function () {
      exporter.disabled = true;
      message.replaceChildren(el("p", { "class": "lvc-status", role: "status", text: "Exporting…" }));
      var chosen = filters();
      var searched = !!chosen.q;
      delete chosen.q;
      var said = await exportLeads(chosen);
      if (searched && said.getAttribute("role") === "status") {
        said.textContent += " It holds every lead the filters match: the phone or e-mail search is not part of an export.";
      }
      exporter.disabled = false;
      if (current(mine)) message.replaceChildren(said);
    });
    load();
  }

  /* The CSV export, page by page (header LeadVault-Next-Cursor), saved as a file: the key stays in a header. */
  async function exportLeads(filters) {
    var parts = [];
    var cursor = null;
    for (var page = 0; page < 200; page += 1) {
      var answer = await api("GET", "/v1/leads/export" + query(Object.assign({}, filters, { cursor: cursor })), undefined, true);
      if (answer.status !== 200) return alertBox(problem(answer, "the CSV export"));
      var body = answer.body;
      if (page > 0) body = body.slice(body.indexOf("\n") + 1); // the header row once
      parts.push(body);
      cursor = answer.headers.get("LeadVault-Next-Cursor");
      if (!cursor) break;
    }
    var name = "leads-" + new Date().toISOString().slice(0, 10) + ".csv";
    var link = el("a", { href: URL.createObjectURL(new Blob(parts, { type: "text/csv;charset=utf-8" })), download: name });
    document.body.appendChild(link);
    link.click();
    link.remove();
    return el("p", { "class": "lvc-status", role: "status", text: "Saved " + name + "." });
  }

  /* ---------- one lead ---------- */

  async function showLead(leadId) {
    var mine = start("Lead");
    var heading = view.querySelector("h1");
    view.appendChild(el("p", {}, [el("a", { href: "#leads", text: "Back to the leads" })]));
    var answer = await api("GET", "/v1/leads/" + encodeURIComponent(leadId));
    if (!current(mine)) return;
    if (answer.status !== 200) { view.appendChild(alertBox(problem(answer, "this lead"))); return; }
    var lead = answer.body;
    heading.textContent = lead.name || "Lead " + lead.lead_id;
    var profile = el("section", { "class": "lvc-card", "aria-labelledby": uid("h") });
    var controls = el("section", { "class": "lvc-card", "aria-labelledby": uid("h") });
    var timelineBox = el("section", { "aria-labelledby": uid("h") });
    var callsBox = el("section", { "aria-labelledby": uid("h") });
    var consentsBox = el("section", { "aria-labelledby": uid("h") });
    view.append(el("div", { "class": "lvc-grid" }, [profile, controls]), consentsBox, timelineBox, callsBox);

    function heading2(box, title) {
      var h = el("h2", { id: box.getAttribute("aria-labelledby"), text: title });
      box.replaceChildren(h);
      return h;
    }

    function drawProfile(shown) {
      heading2(profile, "Profile");
      var rows = [
        ["Lead id", shown.lead_id], ["Phone", shown.phone], ["E-mail", shown.email], ["Stage", humanise(shown.stage)],
        ["Assigned agent", shown.assigned_agent || "Nobody"], ["Source", shown.source],
        ["Lawful basis", humanise(shown.lawful_basis || "")], ["Created", when(shown.created_at)],
        ["Last activity", when(shown.last_activity_at)], ["Last contacted", when(shown.last_contacted_at)],
        ["Expires", shown.legal_hold ? "Not while on legal hold" : when(shown.expires_at)],
        ["Legal hold", shown.legal_hold ? "On hold" : "No"]
      ];
      Object.keys(shown.fields || {}).forEach(function (name) { rows.push([humanise(name), JSON.stringify(shown.fields[name])]); });
      Object.keys(shown.utm || {}).forEach(function (name) { rows.push(["UTM " + name, shown.utm[name]]); });
      (shown.pending_identifiers || []).forEach(function (pending) {
        rows.push(["Pending " + pending.kind, (pending.value || "hidden") + " (since " + when(pending.asserted_at) + ")"]);
      });
      var list = el("dl", { "class": "lvc-profile" });
      rows.forEach(function (row) { list.append(el("dt", { text: row[0] }), el("dd", { text: row[1] || "—" })); });
      profile.appendChild(list);
    }

    function drawControls(shown) {
      heading2(controls, "Work this lead");
      var status = el("p", { "class": "lvc-status", role: "status", tabindex: "-1" });
      var stage = select("stage", STAGES.map(function (s) { return [s, humanise(s)]; }), shown.stage);
      var stageForm = el("form", { "class": "lvc-inline", "aria-label": "Stage", novalidate: true },
        [field("Stage", stage), button("Change stage", false, "submit")]);
      var agent = input("assigned_agent", "text", { value: shown.assigned_agent || "", required: true });
      var assignForm = el("form", { "class": "lvc-inline", "aria-label": "Assignment", novalidate: true },
        [field("Assigned agent (agent id)", agent), button("Assign", false, "submit")]);
      var reason = input("reason", "text", { maxlength: 200 });
      var holdForm = el("form", { "class": "lvc-inline", "aria-label": "Legal hold", novalidate: true }, shown.legal_hold
        ? [el("p", { text: "This lead is on legal hold: it is kept past its expiry and cannot be erased." }),
          button("Release the legal hold", true, "submit")]
        : [field("Legal hold reason", reason), button("Place on legal hold", false, "submit")]);

      async function change(method, path, body, said, form) {
        var buttons = form.querySelectorAll("button");
        buttons.forEach(function (b) { b.disabled = true; });
        status.textContent = "Saving…";
        var done = await api(method, path, body);
        buttons.forEach(function (b) { b.disabled = false; });
        if (!current(mine)) return;
        if (done.status !== 200) { status.textContent = problem(done, "this change"); return; }
        lead = done.body;
        drawProfile(lead);
        drawControls(lead);
        var shownStatus = controls.querySelector("[role=status]");
        shownStatus.textContent = said;
        shownStatus.focus();
        loadTimeline();
      }

      var base = "/v1/leads/" + encodeURIComponent(shown.lead_id);
      stageForm.addEventListener("submit", function (event) {
        event.preventDefault();
        change("PATCH", base, { stage: stage.value }, "Stage changed to " + humanise(stage.value) + ".", stageForm);
      });
      assignForm.addEventListener("submit", function (event) {
        event.preventDefault();
        if (!agent.value.trim()) { status.textContent = "Type the agent id to assign the lead to."; agent.focus(); return; }
        change("PATCH", base, { assigned_agent: agent.value.trim() }, "Assigned to " + agent.value.trim() + ".", assignForm);
      });
      holdForm.addEventListener("submit", function (event) {
        event.preventDefault();
        if (shown.legal_hold) { change("PUT", base + "/legal-hold", { hold: false }, "Legal hold released.", holdForm); return; }
        if (!reason.value.trim()) { status.textContent = "Give the reason for the legal hold."; reason.focus(); return; }
        change("PUT", base + "/legal-hold", { hold: true, reason: reason.value.trim() }, "Placed on legal hold.", holdForm);
      });
      controls.append(stageForm, assignForm, holdForm, status);
    }

    async function loadConsents() {
      heading2(consentsBox, "Consents");
      var granted = Object.keys(lead.consents || {});
      consentsBox.appendChild(table("Consent now", [
        ["Purpose", function (name) { return humanise(name); }],
        ["State", function (name) { return lead.consents[name] ? "Granted" : "Withdrawn"; }]
      ], granted, "No consents recorded.").node);
      var identifier = lead.email ? { email: lead.email } : lead.phone ? { phone: lead.phone } : null;
      if (!identifier) return;
      var proof = await api("POST", "/v1/consents/lookup", identifier);
      if (!current(mine)) return;
      if (proof.status !== 200) { consentsBox.appendChild(alertBox(problem(proof, "the consent proof"))); return; }
      if (proof.body.suppressed) consentsBox.appendChild(el("p", { "class": "lvc-status", text: "This person is on the suppression list." }));
      consentsBox.appendChild(table("Consent proof (the ledger, oldest first)", [
        ["Recorded", function (entry) { return when(entry.at); }],
        ["Choices", function (entry) {
          return Object.keys(entry.grants || {}).map(function (p) { return humanise(p) + ": " + (entry.grants[p] ? "yes" : "no"); }).join(", ");
        }, "lvc-wrap"],
        ["Policy version", function (entry) { return entry.policy_version; }],
        ["Source", function (entry) { return entry.source; }],
        ["Network", function (entry) { return entry.ip_prefix; }],
        ["Pending confirmation", function (entry) { return entry.pending ? "Yes" : "No"; }],
        ["Entry", function (entry) { return entry.consent_id; }]
      ], proof.body.history, "No consent entries.").node);
    }

    var timelineTable = null;
    var callsTable = null;

    async function loadTimeline() {
      heading2(timelineBox, "Timeline");
      heading2(callsBox, "Calls");
      timelineTable = table("Events, newest first", [
        ["When", function (item) { return when(item.at); }],
        ["Event", function (item) { return eventName(item); }],
        ["Details", function (item) { return eventDetails(item); }, "lvc-wrap"],
        ["By", function (item) { return actorOf(item); }]
      ], []);
      callsTable = table("Calls, newest first (from the timeline pages shown)", [
        ["When", function (item) { return when(item.at); }],
        ["Agent", function (item) { return item.agent_id; }],
        ["Direction", function (item) { return humanise(item.direction || ""); }],
        ["Result", function (item) { return humanise(item.status || ""); }],
        ["Duration", function (item) { return duration(item.duration_s); }]
      ], [], "No calls on the pages shown.");
      var more = pager("More events", async function (cursor) { await page(cursor); });
      timelineBox.append(timelineTable.node, more.node);
      callsBox.appendChild(callsTable.node);
      var seen = 0;
      var calls = 0;
      async function page(cursor) {
        var answer = await api("GET", "/v1/leads/" + encodeURIComponent(leadId) + "/timeline" + query({ cursor: cursor }));
        if (!current(mine)) return;
        if (answer.status !== 200) { more.set(null); timelineBox.appendChild(alertBox(problem(answer, "the timeline"))); return; }
        var items = answer.body.items;
        if (!seen && items.length) timelineTable.body.replaceChildren();
        addRows(timelineTable, items);
        var found = items.filter(function (item) { return item.type === "call"; });
        if (!calls && found.length) callsTable.body.replaceChildren();
        addRows(callsTable, found);
        seen += items.length;
        calls += found.length;
        more.set(answer.body.next_cursor, seen + " events shown.");
      }
      await page(null);
    }

    drawProfile(lead);
    drawControls(lead);
    loadConsents();
    loadTimeline();
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    var minutes = Math.floor(seconds / 60);
    return (minutes ? minutes + " min " : "") + (seconds % 60) + " s";
  }

  var EVENT_NAMES = {
    submission: "Submitted", consent: "Consent recorded", stage_change: "Stage changed",
    assignment_change: "Assignment changed", call: "Call", notice: "Policy notice", identity: "Identity"
  };

  function eventName(item) { return EVENT_NAMES[item.type] || humanise(item.type); }

  function eventDetails(item) {
    if (item.type === "stage_change") return humanise(item.from || "?") + " → " + humanise(item.to || "?");
    if (item.type === "assignment_change") return (item.from || "nobody") + " → " + (item.to || "nobody");
    if (item.type === "call") {
      return humanise(item.direction || "") + ", " + (item.status || "") + ", " + duration(item.duration_s);
    }
    if (item.type === "consent") {
      var grants = Object.keys(item.grants || {}).map(function (p) { return humanise(p) + (item.grants[p] ? "" : " (withdrawn)"); });
      return grants.join(", ") + (item.policy_version ? "; policy " + item.policy_version : "") + (item.pending ? "; pending confirmation" : "");
    }
    var skip = { event_id: 1, type: 1, at: 1, actor: 1, values: 1 };
    return Object.keys(item).filter(function (name) {
      return !skip[name] && item[name] !== null && typeof item[name] !== "object";
    }).map(function (name) { return humanise(name) + ": " + item[name]; }).join("; ") || "—";
  }

  function actorOf(item) {
    var actor = item.actor;
    if (item.type === "call" && item.agent_id) return "Agent " + item.agent_id;
    if (!actor) return "—";
    if (actor.role === "agent") return "Agent " + (actor.agent_id || actor.key_id || "");
    if (actor.role === "admin") return "Admin" + (actor.key_id ? " (key " + actor.key_id + ")" : "");
    return humanise(actor.role || "operator");
  }

  /* ---------- privacy requests and grievances ---------- */

  var REQUEST_STATUSES = [["open", "Open"], ["pending_verification", "Waiting for the code"], ["verified", "Verified"],
    ["completed", "Completed"], ["rejected", "Rejected"]];

  function showPrivacy() {
    var mine = start("Privacy requests");
    var status = select("status", REQUEST_STATUSES, "open");
    var form = el("form", { "class": "lvc-inline", "aria-label": "Privacy requests to show", novalidate: true },
      [field("Requests", status), button("Show requests", false, "submit")]);
    var results = el("div");
    var grievances = el("section", { "aria-labelledby": "lvc-grievances" }, [el("h2", { id: "lvc-grievances", text: "Grievances" })]);
    view.append(form, results, grievances);

    function columns(chosen) {
      var shown = [
        ["Request", function (r) { return r.request_id; }],
        ["Type", function (r) { return humanise(r.type); }],
        ["Status", function (r) { return humanise(r.status); }],
        ["Filed", function (r) { return when(r.filed_at); }],
        ["Due", function (r) { return day(r.due_at); }]
      ];
      if (chosen !== "completed" && chosen !== "rejected") {
        shown.push(["Days left", function (r) {
          return el("span", { "class": r.days_left < 0 ? "lvc-overdue" : null, text: daysLeftText(r.days_left) });
        }]);
      }
      if (chosen === "completed" || chosen === "rejected") shown.push(["Closed", function (r) { return when(r.completed_at); }]);
      shown.push(["Receipt", function (r) {
        return r.receipt ? Object.keys(r.receipt).map(function (k) { return humanise(k) + ": " + r.receipt[k]; }).join(", ") : "—";
      }, "lvc-wrap"]);
      if (chosen === "rejected") shown.push(["Reason", function (r) { return r.rejection_reason; }, "lvc-wrap"]);
      return shown;
    }

    async function load() {
      var chosen = status.value;
      var caption = chosen === "open" ? "Open requests, most urgent first" : humanise(REQUEST_STATUSES.filter(function (s) {
        return s[0] === chosen; })[0][1]) + " requests";
      var shown = table(caption, columns(chosen), [], "No requests.");
      var more = pager("More requests", async function (cursor) {
        var next = await api("GET", "/v1/privacy-requests" + query({ status: chosen, cursor: cursor }));
        if (!current(mine)) return;
        if (next.status !== 200) { more.set(null); results.appendChild(alertBox(problem(next, "the privacy requests"))); return; }
        addRows(shown, next.body.items);
        more.set(next.body.next_cursor, "Showing more requests.");
      });
      var answer = await api("GET", "/v1/privacy-requests" + query({ status: chosen }));
      if (!current(mine)) return;
      if (answer.status !== 200) { results.replaceChildren(alertBox(problem(answer, "the privacy requests list"))); return; }
      shown = table(caption, columns(chosen), answer.body.items, "No requests.");
      results.replaceChildren(shown.node, more.node);
      more.set(answer.body.next_cursor);
    }

    async function loadGrievances() {
      var shown = table("Grievances, open first, soonest due first", [
        ["Grievance", function (g) { return g.grievance_id; }],
        ["Status", function (g) { return humanise(g.status); }],
        ["Filed", function (g) { return when(g.created_at); }],
        ["Due", function (g) { return day(g.due_at); }],
        ["Days left", function (g) {
          if (g.answered_at) return "Answered " + day(g.answered_at);
          var left = daysUntil(g.due_at);
          return el("span", { "class": g.overdue || left < 0 ? "lvc-overdue" : null, text: daysLeftText(left) });
        }]
      ], [], "No grievances.");
      var more = pager("More grievances", async function (cursor) {
        var next = await api("GET", "/v1/grievances" + query({ cursor: cursor }));
        if (!current(mine) || next.status !== 200) { more.set(null); return; }
        addRows(shown, next.body.items);
        more.set(next.body.next_cursor);
      });
      var answer = await api("GET", "/v1/grievances");
      if (!current(mine)) return;
      if (answer.status !== 200) { grievances.appendChild(alertBox(problem(answer, "the grievance queue"))); return; }
      if (answer.body.items.length) shown.body.replaceChildren();
      addRows(shown, answer.body.items);
      grievances.append(shown.node, more.node);
      more.set(answer.body.next_cursor);
    }

    form.addEventListener("submit", function (event) { event.preventDefault(); load(); });
    load();
    loadGrievances();
  }

  /* ---------- policies ---------- */

  async function showPolicies() {
    var mine = start("Policies");
    view.appendChild(el("p", { "class": "lvc-muted", text: "Each published version and how its notices are going, by channel." }));
    var list = el("div");
    var more = pager("More versions", async function (cursor) { await load(cursor); });
    view.append(list, more.node);

    async function load(cursor) {
      var answer = await api("GET", "/v1/policies" + query({ cursor: cursor }));
      if (!current(mine)) return;
      if (answer.status !== 200) { more.set(null); list.appendChild(alertBox(problem(answer, "the policy versions"))); return; }
      if (!answer.body.items.length && !cursor) list.appendChild(el("p", { text: "No policy versions published yet." }));
      answer.body.items.forEach(function (policy) { list.appendChild(policyCard(policy)); });
      more.set(answer.body.next_cursor);
    }
    await load(null);
  }

  function policyCard(policy) {
    var headingId = uid("policy");
    var card = el("section", { "class": "lvc-card", "aria-labelledby": headingId }, [
      el("h2", { id: headingId, text: "Version " + policy.version + " (" + humanise(policy.scope || "tenant") + ")" }),
      el("p", {}, [text("Effective " + when(policy.effective_at) + ". Published " + when(policy.published_at) + ". " +
        plural(policy.recipients || 0, "recipient", "recipients") + ".")]),
      policy.summary ? el("p", { "class": "lvc-muted", text: policy.summary }) : null,
      /^https?:\/\//i.test(policy.url || "") ? el("p", {}, [el("a", { href: policy.url, rel: "noopener noreferrer", target: "_blank",
        text: "Read version " + policy.version })]) : null
    ]);
    var rows = CHANNELS.map(function (channel) {
      var counts = (policy.progress || {})[channel[0]] || {};
      return { label: channel[1], counts: counts };
    });
    rows.push({ label: "All channels", counts: policy.totals || {} });
    card.appendChild(legend(NOTICE_STATES.map(function (s) { return s[1]; })));
    card.appendChild(stackedBars("Notice progress of version " + policy.version, rows));
    card.appendChild(table("Notices of version " + policy.version + " by channel", [
      ["Channel", function (row) { return row.label; }]
    ].concat(NOTICE_STATES.map(function (state) {
      return [state[1], function (row) { return String(row.counts[state[0]] || 0); }];
    })).concat([["Total", function (row) { return String(total(row.counts)); }]]), rows).node);
    card.lastChild.classList.add("lvc-narrow");
    return card;
  }

  function total(counts) {
    return NOTICE_STATES.reduce(function (sum, state) { return sum + (counts[state[0]] || 0); }, 0);
  }

  /* One 100% stacked bar per row (sent / failed / pending / skipped), each part with its count. */
  function stackedBars(title, rows) {
    var width = chartWidth();
    var labelWidth = 104;
    var barWidth = width - labelWidth - 80;
    var rowHeight = 34;
    var height = rows.length * rowHeight + 6;
    var summary = rows.map(function (row) {
      return row.label + ": " + NOTICE_STATES.map(function (s) { return (row.counts[s[0]] || 0) + " " + s[1].toLowerCase(); }).join(", ");
    }).join("; ");
    var chart = svg("svg", { viewBox: "0 0 " + width + " " + height, role: "img", "aria-label": title + ". " + summary + "." });
    rows.forEach(function (row, index) {
      var y = index * rowHeight + 4;
      var all = total(row.counts);
      chart.appendChild(svg("text", { x: 0, y: y + 19, "font-size": 13, fill: "#1b1b1b", text: row.label }));
      chart.appendChild(svg("rect", { x: labelWidth, y: y, width: barWidth, height: 26, fill: "#fff", stroke: "#5f6368" }));
      var x = labelWidth;
      NOTICE_STATES.forEach(function (state, stateIndex) {
        var count = row.counts[state[0]] || 0;
        if (!count) return;
        var part = barWidth * count / all;
        chart.appendChild(svg("rect", { x: x, y: y, width: part, height: 26, fill: fillOf(stateIndex), stroke: "#1b1b1b",
          "stroke-width": 0.75, "data-state": state[0] }, [svg("title", { text: row.label + ": " + count + " " + state[1].toLowerCase() + " of " + all })]));
        x += part;
      });
      var said = all ? Math.round(100 * (row.counts.sent || 0) / all) + "% sent" : "none";
      chart.appendChild(svg("text", { x: labelWidth + barWidth + 8, y: y + 19, "font-size": 13, fill: "#1b1b1b", text: said }));
    });
    return el("figure", { "class": "lvc-chart" }, [chart]);
  }

  /* ---------- retention ---------- */

  async function showRetention() {
    var mine = start("Retention");
    var answer = await api("GET", "/v1/reports/retention");
    if (!current(mine)) return;
    if (answer.status !== 200) { view.appendChild(alertBox(problem(answer, "the retention report"))); return; }
    var report = answer.body;
    var days = report.days || [];
    var sum = days.reduce(function (n, d) { return n + (d.expiring || 0); }, 0);
    var chartId = uid("h");
    view.append(
      el("h2", { id: chartId, text: "Leads reaching their expiry, next 30 days" }),
      el("p", { text: plural(sum, "lead", "leads") + " expire from " + day(report.from) + " in the next 30 days; a lead on legal hold does not." }),
      el("figure", { "class": "lvc-chart", "aria-labelledby": chartId }, [columnChart("Leads expiring per day from " + day(report.from),
        days.map(function (d) { return { label: d.date, parts: [d.expiring || 0] }; }), ["Leads expiring"])]),
      narrow(table("Days with leads expiring", [
        ["Date", function (d) { return d.date; }],
        ["Leads expiring", function (d) { return String(d.expiring || 0); }]
      ], days.filter(function (d) { return d.expiring; }), "No lead expires in the next 30 days.").node)
    );
    var holds = report.legal_holds || { count: 0, items: [] };
    view.append(el("h2", { text: "Legal holds (" + holds.count + ")" }), table("Leads on legal hold", [
      ["Lead", function (h) { return el("a", { href: "#lead/" + encodeURIComponent(h.lead_id), text: h.lead_id }); }],
      ["Reason", function (h) { return h.reason; }, "lvc-wrap"],
      ["Since", function (h) { return when(h.since); }]
    ], holds.items || [], "No lead is on legal hold.").node);
  }

  /* Columns per category (a day), each stacked from its parts; every column has its own <title>. */
  function columnChart(title, columns, seriesNames) {
    var width = chartWidth();
    var height = 220;
    var left = 30;
    var bottom = 30;
    var top = 16;
    var plotWidth = width - left - 4;
    var plotHeight = height - top - bottom;
    var totals = columns.map(function (c) { return c.parts.reduce(function (a, b) { return a + b; }, 0); });
    var max = Math.max(1, Math.max.apply(null, totals.concat([0])));
    var step = plotWidth / Math.max(1, columns.length);
    var chart = svg("svg", { viewBox: "0 0 " + width + " " + height, role: "img", "aria-label": title + ": " +
      columns.map(function (c, i) { return c.label + " " + totals[i]; }).join(", ") + "." });
    [0, Math.ceil(max / 2), max].filter(function (tick, i, all) { return all.indexOf(tick) === i; }).forEach(function (tick) {
      var y = top + plotHeight - plotHeight * tick / max;
      chart.appendChild(svg("line", { x1: left, x2: width - 4, y1: y, y2: y, stroke: "#c4c7c5" }));
      chart.appendChild(svg("text", { x: left - 4, y: y + 4, "font-size": 11, "text-anchor": "end", fill: "#1b1b1b", text: String(tick) }));
    });
    var every = Math.max(1, Math.ceil(columns.length / 6));
    columns.forEach(function (column, index) {
      var x = left + index * step + step * 0.15;
      var barWidth = step * 0.7;
      var y = top + plotHeight;
      var group = svg("g", {}, [svg("title", { text: column.label + ": " + column.parts.map(function (n, i) {
        return n + " " + seriesNames[i].toLowerCase(); }).join(", ") })]);
      column.parts.forEach(function (part, partIndex) {
        if (!part) return;
        var h = plotHeight * part / max;
        y -= h;
        group.appendChild(svg("rect", { x: x, y: y, width: barWidth, height: h, fill: fillOf(partIndex), stroke: "#1b1b1b", "stroke-width": 0.75 }));
      });
      if (totals[index]) {
        group.appendChild(svg("text", { x: x + barWidth / 2, y: y - 3, "font-size": 10, "text-anchor": "middle", fill: "#1b1b1b",
          text: String(totals[index]) }));
      }
      chart.appendChild(group);
      if (index % every === 0) {
        chart.appendChild(svg("text", { x: x + barWidth / 2, y: height - 10, "font-size": 11, "text-anchor": "middle", fill: "#1b1b1b",
          text: column.label.length === 10 ? column.label.slice(5) : column.label }));
      }
    });
    chart.appendChild(svg("line", { x1: left, x2: width - 4, y1: top + plotHeight, y2: top + plotHeight, stroke: "#1b1b1b" }));
    return chart;
  }

  /* ---------- field work ---------- */

  function showFieldWork() {
    var mine = start("Field work");
    var from = input("from", "date");
    var to = input("to", "date");
    var form = el("form", { "class": "lvc-inline", "aria-label": "Days to show", novalidate: true },
      [field("From", from), field("To", to), button("Show", false, "submit")]);
    var hint = el("p", { "class": "lvc-muted", text: "At most 31 days; without dates, the last 7 days." });
    var results = el("div");
    view.append(hint, form, results);

    async function load() {
      var answer = await api("GET", "/v1/reports/calls" + query({ from: from.value, to: to.value }));
      if (!current(mine)) return;
      if (answer.status !== 200) { results.replaceChildren(alertBox(problem(answer, "the calls report"))); return; }
      var report = answer.body;
      var reasons = [];
      var agents = [];
      var rows = [];
      (report.days || []).forEach(function (d) {
        (d.agents || []).forEach(function (a) {
          if (agents.indexOf(a.agent_id) < 0) agents.push(a.agent_id);
          Object.keys(a.ignored || {}).forEach(function (r) { if (a.ignored[r] && reasons.indexOf(r) < 0) reasons.push(r); });
          rows.push({ date: d.date, agent: a });
        });
      });
      reasons.sort();
      var series = ["Stored"].concat(reasons.map(function (r) { return "Ignored: " + humanise(r); }));
      var out = [el("p", { text: "From " + day(report.from) + " to " + day(report.to) + ": " + plural(agents.length, "agent", "agents") + " with calls or shifts." })];
      if (agents.length) out.push(legend(series));
      agents.forEach(function (agentId) {
        var headingId = uid("agent");
        var columns = (report.days || []).map(function (d) {
          var a = (d.agents || []).filter(function (x) { return x.agent_id === agentId; })[0] || { stored: 0, ignored: {} };
          return { label: d.date, parts: [a.stored || 0].concat(reasons.map(function (r) { return (a.ignored || {})[r] || 0; })) };
        });
        out.push(el("section", { "class": "lvc-card", "aria-labelledby": headingId }, [
          el("h2", { id: headingId, text: "Calls of agent " + agentId + " per day" }),
          el("figure", { "class": "lvc-chart" }, [columnChart("Calls of agent " + agentId + " per day, stored and ignored by reason", columns, series)])
        ]));
      });
      out.push(table("Calls and shifts per agent per day", [
        ["Date", function (r) { return r.date; }],
        ["Agent", function (r) { return r.agent.agent_id; }],
        ["Calls stored", function (r) { return String(r.agent.stored || 0); }],
        ["Calls ignored", function (r) {
          var ignored = r.agent.ignored || {};
          var names = Object.keys(ignored).filter(function (n) { return ignored[n]; });
          return names.length ? names.map(function (n) { return humanise(n) + ": " + ignored[n]; }).join(", ") : "0";
        }, "lvc-wrap"],
        ["Shifts", function (r) { return String(r.agent.shifts || 0); }],
        ["Shift time", function (r) { var m = r.agent.shift_minutes || 0; return Math.floor(m / 60) + " h " + (m % 60) + " min"; }]
      ], rows, "No calls or shifts in these days.").node);
      results.replaceChildren.apply(results, out);
    }

    form.addEventListener("submit", function (event) { event.preventDefault(); load(); });
    load();
  }

  /* ---------- audit ---------- */

  function showAudit() {
    var mine = start("Audit log");
    var actor = input("actor", "text", { spellcheck: "false" });
    var action = input("action", "text", { spellcheck: "false", placeholder: "lead.update" });
    var from = input("from", "date");
    var to = input("to", "date");
    var form = el("form", { "class": "lvc-filters", role: "search", "aria-label": "Filter the audit log", novalidate: true }, [
      field("Actor (key id)", actor), field("Action", action), field("From", from), field("To", to),
      el("div", { "class": "lvc-actions" }, [button("Show", false, "submit")])
    ]);
    var results = el("div");
    view.append(form, results);

    async function load() {
      var filters = { actor: actor.value.trim(), action: action.value.trim(), from: from.value, to: to.value };
      var columns = [
        ["When", function (a) { return when(a.at); }],
        ["Actor", function (a) { return a.actor_key_id; }],
        ["Action", function (a) { return a.action; }],
        ["Object", function (a) {
          return a.object_id && /^led_/.test(a.object_id) ? el("a", { href: "#lead/" + encodeURIComponent(a.object_id), text: a.object_id }) : a.object_id;
        }]
      ];
      var shown = table("Audit records, newest first", columns, [], "No audit records match.");
      var more = pager("More records", async function (cursor) {
        var next = await api("GET", "/v1/audit" + query(Object.assign({}, filters, { cursor: cursor })));
        if (!current(mine)) return;
        if (next.status !== 200) { more.set(null); results.appendChild(alertBox(problem(next, "the audit log"))); return; }
        addRows(shown, next.body.items);
        more.set(next.body.next_cursor, "Showing more records.");
      });
      var answer = await api("GET", "/v1/audit" + query(filters));
      if (!current(mine)) return;
      if (answer.status !== 200) { results.replaceChildren(alertBox(problem(answer, "the audit log"))); return; }
      shown = table("Audit records, newest first", columns, answer.body.items, "No audit records match.");
      results.replaceChildren(shown.node, more.node);
      more.set(answer.body.next_cursor);
    }

    form.addEventListener("submit", function (event) { event.preventDefault(); load(); });
    load();
  }

  /* ---------- start ---------- */

  async function boot() {
    installStyles();
    installPatterns();
    view = document.getElementById("lvc-view");
    // A key in the fragment (#key=...) leaves the address bar at once, before anything else runs.
    var fragment = new URLSearchParams(window.location.hash.slice(1));
    var offered = fragment.get("key");
    if (offered !== null) {
      try { window.history.replaceState(null, "", window.location.pathname + window.location.search); } catch (e) { /* keep going */ }
    }
    document.getElementById("lvc-sign-in-form").addEventListener("submit", async function (event) {
      event.preventDefault();
      var box = document.getElementById("lvc-key");
      var typed = box.value.trim();
      if (!typed) { showSignIn("Paste your admin API key."); return; }
      var refused = await signIn(typed);
      if (refused) { signOut(refused); return; }
      signedIn();
    });
    document.getElementById("lvc-sign-out").addEventListener("click", function () {
      signOut(null, "Signed out. The key is gone from this tab.");
    });
    window.addEventListener("hashchange", render);
    var candidate = offered || storedKey();
    if (!candidate) { showSignIn(); return; }
    var refused = await signIn(candidate);
    if (refused) { signOut(refused); return; }
    signedIn();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();
