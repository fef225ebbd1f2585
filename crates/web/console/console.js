// Passgate console: the screens' logic. Every call goes to the admin API (/admin/v1), which
// authenticates the session cookie and, on writes, the X-CSRF-Token header below. No
// framework, no build step: this file is embedded in the binary as it is.
"use strict";

(function () {
  const main = document.getElementById("main");
  if (!main) return;
  const API = "/admin/v1";
  const csrf = main.dataset.csrf || "";
  const DEBOUNCE_MS = 600;

  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const c of children) node.append(c);
    return node;
  };

  function setStatus(text, kind) {
    const box = $("status");
    if (!box) return;
    box.textContent = text;
    box.className = "status" + (kind ? " " + kind : "");
  }

  // One admin API call. Writes carry the CSRF token; 401 and 429 are explained to the person.
  async function api(method, path, opts) {
    opts = opts || {};
    const headers = Object.assign({}, opts.headers || {});
    if (method !== "GET") headers["X-CSRF-Token"] = csrf;
    let body;
    if (opts.yaml !== undefined) {
      headers["Content-Type"] = "application/yaml";
      body = opts.yaml;
    } else if (opts.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(opts.json);
    }
    const res = await fetch(API + path, { method, headers, body, credentials: "same-origin" });
    if (res.status === 401) {
      setStatus("Your session has ended (idle for too long, signed out, or the key was revoked). Reload the page to sign in again.", "error");
    } else if (res.status === 429) {
      const wait = res.headers.get("Retry-After") || "a few";
      setStatus(`Too many requests for your key: wait ${wait} seconds, then go on. Nothing was lost.`, "error");
    }
    return res;
  }

  async function problemOf(res) {
    try {
      return await res.json();
    } catch (_) {
      return { title: res.statusText, detail: "" };
    }
  }

  function debounce(fn, ms) {
    let timer = null;
    return () => {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  // ---- line diff (longest common subsequence), shared by publish, conflicts and history ----
  function lineDiff(before, after) {
    const a = before.split("\n");
    const b = after.split("\n");
    const n = a.length, m = b.length;
    const lcs = Array.from({ length: n + 1 }, () => new Int32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
      }
    }
    const out = [];
    let i = 0, j = 0;
    while (i < n && j < m) {
      if (a[i] === b[j]) { out.push([" ", a[i]]); i++; j++; }
      else if (lcs[i + 1][j] >= lcs[i][j + 1]) { out.push(["-", a[i]]); i++; }
      else { out.push(["+", b[j]]); j++; }
    }
    while (i < n) out.push(["-", a[i++]]);
    while (j < m) out.push(["+", b[j++]]);
    return out;
  }

  function renderDiff(target, rows, emptyText) {
    target.textContent = "";
    const changed = rows.some((r) => r[0] !== " ");
    if (!changed) {
      target.append(el("span", { class: "same", text: emptyText || "No changes." }));
      return false;
    }
    rows.forEach((r, k) => {
      // Show changed lines with two lines of context.
      const near = rows.slice(Math.max(0, k - 2), k + 3).some((x) => x[0] !== " ");
      if (!near) return;
      const cls = r[0] === "+" ? "add" : r[0] === "-" ? "del" : "ctx";
      const word = r[0] === "+" ? "added: " : r[0] === "-" ? "removed: " : "";
      target.append(el("span", { class: cls }, el("span", { class: "sr", text: word }), r[0] + " " + r[1]), "\n");
    });
    return true;
  }

  function renderUnifiedDiff(target, text) {
    target.textContent = "";
    for (const line of (text || "").split("\n")) {
      const cls = line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : "ctx";
      target.append(el("span", { class: cls, text: line }), "\n");
    }
  }

  // ---- YAML highlighting (one line at a time: enough for tenant documents) ----
  function escapeHtml(s) {
    return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  }

  function highlightValue(v) {
    const m = v.match(/^(\s*)(.*?)(\s+#.*)?$/);
    if (!m) return escapeHtml(v);
    let [, lead, body, comment] = m;
    let out = escapeHtml(lead);
    if (/^(["']).*\1$/.test(body)) out += `<span class="y-str">${escapeHtml(body)}</span>`;
    else if (/^-?\d+(\.\d+)?$/.test(body)) out += `<span class="y-num">${escapeHtml(body)}</span>`;
    else if (/^(true|false|null|~)$/.test(body)) out += `<span class="y-bool">${escapeHtml(body)}</span>`;
    else if (/^[|>][-+]?$/.test(body)) out += `<span class="y-punct">${escapeHtml(body)}</span>`;
    else out += escapeHtml(body);
    if (comment) out += `<span class="y-comment">${escapeHtml(comment)}</span>`;
    return out;
  }

  function highlightLine(line) {
    if (/^\s*#/.test(line)) return `<span class="y-comment">${escapeHtml(line)}</span>`;
    const m = line.match(/^(\s*)(- )?([A-Za-z0-9_.\-]+|"[^"]*"|'[^']*')(:)(\s.*|$)/);
    if (m) {
      const [, ind, dash, key, colon, rest] = m;
      return escapeHtml(ind) + (dash ? `<span class="y-punct">- </span>` : "") +
        `<span class="y-key">${escapeHtml(key)}</span><span class="y-punct">${colon}</span>` + highlightValue(rest);
    }
    const d = line.match(/^(\s*)(- )(.*)$/);
    if (d) return escapeHtml(d[1]) + `<span class="y-punct">- </span>` + highlightValue(d[3]);
    return highlightValue(line);
  }

  // ---- the editor: textarea + highlighted overlay + gutter with problem markers ----
  function makeEditor(onChange, keyHook) {
    const area = $("yaml"), pre = $("highlight"), gutter = $("gutter");
    let marks = new Map(); // line -> "error" | "warning"
    let escaped = false;

    function paint() {
      const lines = area.value.split("\n");
      pre.innerHTML = lines.map((l, i) => {
        const mark = marks.get(i + 1);
        return `<span class="line${mark ? " mark-" + mark : ""}">${highlightLine(l) || " "}</span>`;
      }).join("\n") + "\n";
      gutter.textContent = "";
      lines.forEach((_, i) => {
        const mark = marks.get(i + 1);
        gutter.append(el("div", { class: "ln" + (mark ? " mark-" + mark : ""), "data-line": String(i + 1), text: String(i + 1) }));
      });
      sync();
    }
    function sync() {
      pre.scrollTop = area.scrollTop;
      pre.scrollLeft = area.scrollLeft;
      gutter.scrollTop = area.scrollTop;
    }
    area.addEventListener("input", () => { paint(); onChange(); });
    area.addEventListener("scroll", sync);
    area.addEventListener("keydown", (e) => {
      if (keyHook && keyHook(e)) { e.preventDefault(); return; }
      if (e.key === "Escape") { escaped = true; return; }
      if (e.key === "Tab" && !e.shiftKey && !escaped) {
        e.preventDefault();
        const s = area.selectionStart, t = area.selectionEnd;
        area.setRangeText("  ", s, t, "end");
        paint(); onChange();
      }
      escaped = false;
    });
    return {
      get value() { return area.value; },
      set value(v) { area.value = v; paint(); },
      mark(problems) {
        marks = new Map();
        for (const p of problems) {
          if (p.line < 1) continue;
          if (marks.get(p.line) !== "error") marks.set(p.line, p.severity === "warning" ? "warning" : "error");
        }
        paint();
      },
      goTo(line, column) {
        const lines = area.value.split("\n");
        let pos = 0;
        for (let i = 0; i < line - 1 && i < lines.length; i++) pos += lines[i].length + 1;
        pos += Math.max(0, column - 1);
        area.focus();
        area.setSelectionRange(pos, pos);
        const lh = parseFloat(getComputedStyle(area).lineHeight) || 20;
        area.scrollTop = Math.max(0, (line - 4) * lh);
        sync();
      },
    };
  }

  // ---- key completion and key help from the tenant JSON Schema ----
  function schemaHelp(area, apply) {
    let schema = null;
    fetch("/console/assets/tenant.schema.json").then((r) => r.json()).then((j) => { schema = j; explain(); }).catch(() => {});
    const list = $("completions"), help = $("key-help");
    let options = [], active = 0, replaceFrom = 0;

    function resolve(node) {
      for (let i = 0; node && i < 10; i++) {
        if (node.$ref) { node = node.$ref.replace(/^#\//, "").split("/").reduce((n, k) => n && n[k], schema); continue; }
        const alt = node.anyOf || node.oneOf;
        if (alt) { node = alt.find((a) => a.$ref || a.properties || a.items || a.additionalProperties) || alt[0]; continue; }
        break;
      }
      return node || null;
    }
    function child(node, key) {
      node = resolve(node);
      if (!node) return null;
      if (key === "[]") return resolve(node.items);
      if (node.properties && node.properties[key]) return node.properties[key];
      if (node.additionalProperties && typeof node.additionalProperties === "object") return node.additionalProperties;
      return null;
    }
    const indentOf = (l) => l.match(/^\s*/)[0].length;
    // The keys above line `i` that hold a position indented by `limit` ("[]" for a list
    // item); `sameLevel`: a key at `limit` itself holds it (a list written flush with its key).
    function parents(lines, i, limit, sameLevel) {
      const path = [];
      for (let j = i - 1; j >= 0 && (limit > 0 || sameLevel); j--) {
        const l = lines[j];
        if (!l.trim() || /^\s*#/.test(l)) continue;
        const ind = indentOf(l);
        if (ind > limit || (ind === limit && !sameLevel)) continue;
        if (/^\s*-(\s|$)/.test(l)) {
          if (ind === limit) continue; // a sibling item
          path.unshift("[]");
          limit = ind;
          sameLevel = true;
          continue;
        }
        const key = l.match(/^\s*([A-Za-z0-9_.-]+):/);
        if (key) { path.unshift(key[1]); limit = ind; sameLevel = false; }
      }
      return path;
    }
    // Line `i`'s container path, its key (if any) and the indentation of its content.
    function containerOf(lines, i) {
      const l = lines[i];
      const item = l.match(/^(\s*)-\s+(.*)$/);
      if (item) {
        const path = parents(lines, i, item[1].length, true);
        path.push("[]");
        const k = item[2].match(/^([A-Za-z0-9_.-]+):/);
        return { path, key: k ? k[1] : null, partial: item[2], indent: item[1].length + 2 };
      }
      const k = l.match(/^\s*([A-Za-z0-9_.-]+):/);
      return { path: parents(lines, i, indentOf(l), false), key: k ? k[1] : null, partial: l.trim(), indent: indentOf(l) };
    }
    function nodeOf(path) {
      let node = schema;
      for (const k of path) { node = child(node, k); if (!node) return null; }
      return resolve(node);
    }
    function caretLine() {
      const before = area.value.slice(0, area.selectionStart);
      const lines = area.value.split("\n");
      return { lines, i: before.split("\n").length - 1, col: before.length - before.lastIndexOf("\n") - 1 };
    }
    // The documentation of line `i`'s key, if the schema has some; with `col`, only when
    // that column is on the key itself (hover).
    function describe(lines, i, col) {
      if (!schema || i < 0 || i >= lines.length) return null;
      const c = containerOf(lines, i);
      if (!c.key) return null;
      if (col !== undefined) {
        const start = lines[i].indexOf(c.key + ":");
        if (col < start || col >= start + c.key.length) return null;
      }
      const node = child(nodeOf(c.path) || {}, c.key);
      const text = node && (node.description || (resolve(node) || {}).description);
      return text ? { path: [...c.path.filter((k) => k !== "[]"), c.key].join("."), text } : null;
    }
    function explain() {
      if (!schema) return;
      const { lines, i } = caretLine();
      help.textContent = "";
      const d = describe(lines, i);
      if (d) help.append(el("strong", { text: d.path + ": " }), d.text);
    }
    // Hover documentation: the key under the mouse pointer, in a tooltip beside it.
    const tip = el("div", { id: "hover-doc", class: "hover-doc", role: "tooltip" });
    tip.hidden = true;
    document.body.append(tip);
    let cell = null;
    function measure() {
      const cs = getComputedStyle(area);
      const probe = el("span", { text: "M".repeat(20) });
      probe.style.cssText = "position:absolute;visibility:hidden;white-space:pre";
      probe.style.font = cs.font;
      document.body.append(probe);
      const width = probe.getBoundingClientRect().width / 20;
      probe.remove();
      return { width, line: parseFloat(cs.lineHeight) || parseFloat(cs.fontSize) * 1.5, top: parseFloat(cs.paddingTop), left: parseFloat(cs.paddingLeft) };
    }
    area.addEventListener("mousemove", (e) => {
      if (!schema) return;
      const m = cell || (cell = measure());
      const box = area.getBoundingClientRect();
      const i = Math.floor((e.clientY - box.top - m.top + area.scrollTop) / m.line);
      const col = Math.floor((e.clientX - box.left - m.left + area.scrollLeft) / m.width);
      const d = describe(area.value.split("\n"), i, col);
      if (!d) { tip.hidden = true; return; }
      tip.textContent = "";
      tip.append(el("strong", { text: d.path + ": " }), d.text);
      tip.style.left = Math.min(e.clientX + 12, window.innerWidth - 340) + "px";
      tip.style.top = (e.clientY + 18) + "px";
      tip.hidden = false;
    });
    area.addEventListener("mouseleave", () => { tip.hidden = true; });
    area.addEventListener("keydown", () => { tip.hidden = true; });
    function close() { list.hidden = true; options = []; area.removeAttribute("aria-activedescendant"); }
    function show() {
      list.textContent = "";
      options.forEach((o, k) => {
        const li = el("li", { role: "option", id: `completion-${k}`, "aria-selected": String(k === active), class: k === active ? "active" : "" },
          el("code", { text: o.key }), o.description ? " " + o.description.split(/\.\s|\n/)[0] : "");
        li.addEventListener("mousedown", (e) => { e.preventDefault(); active = k; accept(); });
        list.append(li);
      });
      list.hidden = options.length === 0;
      if (options.length) area.setAttribute("aria-activedescendant", `completion-${active}`);
    }
    function suggest() {
      if (!schema) return;
      const { lines, i, col } = caretLine();
      const head = lines[i].slice(0, col);
      if (!/^\s*(-\s+)?[A-Za-z0-9_]*$/.test(head)) { close(); return; }
      lines[i] = head;
      const here = containerOf(lines, i);
      const node = nodeOf(here.path);
      const props = node && node.properties ? node.properties : null;
      if (!props) { close(); return; }
      const prefix = here.partial;
      const same = here.path.join("/");
      const present = new Set();
      lines.forEach((_, j) => {
        if (j === i) return;
        const c = containerOf(lines, j);
        if (c.key && c.path.join("/") === same && c.indent === here.indent) present.add(c.key);
      });
      options = Object.keys(props).filter((k) => k.startsWith(prefix) && !present.has(k)).sort()
        .map((k) => ({ key: k, description: (props[k].description || (resolve(props[k]) || {}).description || "") }));
      active = 0;
      replaceFrom = area.selectionStart - prefix.length;
      show();
    }
    function accept() {
      const o = options[active];
      if (!o) return;
      apply(replaceFrom, area.selectionStart, o.key + ": ");
      close();
      explain();
    }
    area.addEventListener("keyup", (e) => { if (!["ArrowUp", "ArrowDown"].includes(e.key) || list.hidden) explain(); });
    area.addEventListener("click", () => { close(); explain(); });
    area.addEventListener("blur", () => setTimeout(close, 150));
    return function onKey(e) {
      if (e.key === " " && e.ctrlKey) { suggest(); return true; }
      if (list.hidden) return false;
      if (e.key === "ArrowDown") { active = (active + 1) % options.length; show(); return true; }
      if (e.key === "ArrowUp") { active = (active + options.length - 1) % options.length; show(); return true; }
      if (e.key === "Enter" || e.key === "Tab") { accept(); return true; }
      if (e.key === "Escape") { close(); return true; }
      setTimeout(() => { if (!list.hidden) suggest(); }, 0);
      return false;
    };
  }

  function supportedLocales(yaml) {
    const inline = yaml.match(/^\s*supported:\s*\[([^\]]*)\]/m);
    if (inline) return inline[1].split(",").map((s) => s.trim().replace(/^["']|["']$/g, "")).filter(Boolean);
    const block = yaml.match(/^(\s*)supported:\s*\n((?:\1\s+- .*\n?)+)/m);
    if (block) return block[2].split("\n").map((s) => s.replace(/^\s*-\s*/, "").trim()).filter(Boolean);
    const def = yaml.match(/^\s*default:\s*([A-Za-z-]+)/m);
    return def ? [def[1]] : ["en"];
  }

  // The preview frame has no origin (sandbox without allow-same-origin), so this origin's
  // stylesheets and images, served same-origin only, would not load in it: the page fetches
  // them and puts them in the document (styles inline, images as data: URLs).
  const assetCache = new Map();
  async function fetchAsset(url, asDataUrl) {
    const key = (asDataUrl ? "d:" : "t:") + url;
    if (!assetCache.has(key)) {
      assetCache.set(key, (async () => {
        const res = await fetch(url, { credentials: "omit" });
        if (!res.ok) return null;
        if (!asDataUrl) return res.text();
        const blob = await res.blob();
        return new Promise((resolve) => {
          const reader = new FileReader();
          reader.onload = () => resolve(reader.result);
          reader.onerror = () => resolve(null);
          reader.readAsDataURL(blob);
        });
      })().catch(() => null));
    }
    return assetCache.get(key);
  }
  const sameOrigin = (href) => {
    try { return new URL(href, location.href).origin === location.origin; } catch (_) { return false; }
  };
  async function selfContained(html) {
    const doc = new DOMParser().parseFromString(html, "text/html");
    for (const link of doc.querySelectorAll('link[rel~="stylesheet"][href]')) {
      const href = link.getAttribute("href");
      if (!sameOrigin(href)) continue;
      const css = await fetchAsset(new URL(href, location.href).href, false);
      if (css === null) continue;
      const style = doc.createElement("style");
      style.textContent = css;
      link.replaceWith(style);
    }
    for (const img of doc.querySelectorAll("img[src]")) {
      const src = img.getAttribute("src");
      if (!sameOrigin(src)) continue;
      const data = await fetchAsset(new URL(src, location.href).href, true);
      if (data) img.setAttribute("src", data);
    }
    for (const script of doc.querySelectorAll("script")) script.remove();
    return "<!doctype html>\n" + doc.documentElement.outerHTML;
  }

  // ---- editor screen ----
  async function editorScreen() {
    const tenant = main.dataset.tenant;
    const base = `/tenants/${encodeURIComponent(tenant)}`;
    let active = "";       // the active version's text
    let etag = null;       // its ETag, sent as If-Match
    let completionKeys = null;
    const editor = makeEditor(() => { changed(); showDiff(); }, (e) => completionKeys && completionKeys(e));
    completionKeys = schemaHelp($("yaml"), (from, to, text) => {
      const area = $("yaml");
      area.setRangeText(text, from, to, "end");
      area.dispatchEvent(new Event("input"));
    });

    const problemsList = $("problems"), summary = $("problems-summary");
    function showProblems(problems) {
      problemsList.textContent = "";
      const errors = problems.filter((p) => p.severity !== "warning").length;
      const warnings = problems.length - errors;
      summary.textContent = errors === 0
        ? `No errors${warnings ? ` (${warnings} warning(s) to read)` : ""}: this YAML can be published.`
        : `${errors} error(s), ${warnings} warning(s): fix the errors to publish.`;
      for (const p of problems) {
        const where = p.line > 0 ? `Line ${p.line}, column ${p.column}` : "Document";
        const btn = el("button", { type: "button", class: "problem " + (p.severity || "error"), "data-line": String(p.line), "data-column": String(p.column) },
          el("strong", { text: `${p.severity === "warning" ? "Warning" : "Error"}: ` }),
          `${where}: ${p.message}`, p.path ? el("code", { text: " " + p.path }) : "");
        btn.addEventListener("click", () => editor.goTo(p.line, p.column));
        problemsList.append(el("li", {}, btn));
      }
      editor.mark(problems);
    }

    // Whether the draft validated; false also when the check could not run (429, 401).
    async function validate() {
      const res = await api("POST", `${base}/config/validate`, { yaml: editor.value });
      if (res.ok) {
        const report = await res.json();
        showProblems(report.problems || []);
        return report.valid;
      }
      if (res.status === 422 || res.status === 400) {
        const p = await problemOf(res);
        showProblems(p.errors && p.errors.length ? p.errors : [{ line: 0, column: 0, message: p.detail || p.title, severity: "error", path: "" }]);
      }
      return false;
    }

    // Preview
    const frame = $("preview"), pageSel = $("preview-page"), localeSel = $("preview-locale"), note = $("preview-note");
    function fillLocales() {
      const locales = supportedLocales(editor.value);
      const current = localeSel.value;
      if ([...localeSel.options].map((o) => o.value).join() === locales.join()) return;
      localeSel.textContent = "";
      for (const l of locales) localeSel.append(el("option", { value: l, text: l }));
      if (locales.includes(current)) localeSel.value = current;
    }
    async function preview() {
      fillLocales();
      const [kind, name] = pageSel.value.split(":");
      const body = { yaml: editor.value, locale: localeSel.value || undefined };
      body[kind] = name;
      const res = await api("POST", `${base}/preview`, { json: body });
      if (res.ok) {
        frame.srcdoc = await selfContained(await res.text());
        const subject = res.headers.get("X-Preview-Subject");
        note.textContent = subject ? `Subject: ${subject}` : "";
      } else if (res.status !== 429 && res.status !== 401) {
        note.textContent = "The preview shows the last version that could be rendered: fix the problems listed beside the YAML.";
      }
    }
    pageSel.addEventListener("change", preview);
    localeSel.addEventListener("change", preview);
    for (const r of document.querySelectorAll("input[name=width]")) {
      r.addEventListener("change", () => { frame.className = r.value === "desktop" && r.checked ? "desktop" : "phone"; });
    }

    $("test-send").addEventListener("click", async () => {
      const out = $("test-result");
      const to = $("test-to").value.trim();
      if (!to) { out.textContent = "Type the address to send the test email to."; return; }
      const [kind, name] = pageSel.value.split(":");
      const res = await api("POST", `${base}/test-email`, {
        json: { to, yaml: editor.value, email: kind === "email" ? name : "reset_link", locale: localeSel.value || undefined },
      });
      if (res.status === 202) {
        const sent = await res.json();
        out.textContent = `Sent to ${sent.to}.`;
      } else if (res.status !== 401 && res.status !== 429) {
        const p = await problemOf(res);
        out.textContent = `Not sent: ${p.detail || p.title}`;
      }
    });

    // Translations (on demand: each check is a document check from the key's budget)
    async function translations() {
      const box = $("translations");
      const res = await api("POST", `${base}/config/translations`, { json: { yaml: editor.value } });
      if (!res.ok) {
        if (res.status === 422) box.textContent = "Fix the YAML's errors first.";
        return;
      }
      box.textContent = "";
      const words = { theme: "the theme's text", default_theme: "the default theme's text", none: "nothing: pages using it cannot show" };
      for (const l of await res.json()) {
        const section = el("div", { class: "locale", "data-locale": l.locale }, el("h3", { text: `${l.locale}: ${l.own} text(s) of its own, ${l.missing.length} missing` }));
        if (l.missing.length === 0) section.append(el("p", { class: "empty", text: "Nothing missing." }));
        const list = el("ul", {});
        for (const m of l.missing) {
          list.append(el("li", { class: m.fallback === "none" ? "unmet" : "" }, el("code", { text: m.key }), ` falls back to ${words[m.fallback]}`, m.text ? el("q", { text: m.text }) : ""));
        }
        if (l.missing.length) section.append(list);
        box.append(section);
      }
    }
    $("translations-check").addEventListener("click", translations);

    // Test bench
    const bench = { password: $("bench-password"), email: $("bench-email"), name: $("bench-name") };
    async function checkPassword() {
      const rules = $("bench-rules"), examples = $("bench-examples"), benchSummary = $("bench-summary");
      const res = await api("POST", `${base}/config/rule-bench`, {
        json: { yaml: editor.value, password: bench.password.value, email: bench.email.value || undefined, name: bench.name.value || undefined },
      });
      if (!res.ok) {
        if (res.status === 422) benchSummary.textContent = "Fix the YAML's errors first: the bench checks the YAML being edited.";
        return;
      }
      const v = await res.json();
      rules.textContent = "";
      examples.textContent = "";
      benchSummary.textContent = bench.password.value === "" ? "" : v.accepted ? "Accepted: this password meets every rule." : "Refused: see the rules marked below.";
      for (const r of v.rules) {
        rules.append(el("li", { class: r.met ? "met" : "unmet" }, el("strong", { text: r.met ? "Met: " : "Not met: " }), r.text));
      }
      if (v.examples.length === 0) examples.append(el("li", { class: "empty", text: "The YAML has no examples yet." }));
      const list = (codes) => codes.length ? codes.join(", ") : "accepted";
      for (const x of v.examples) {
        examples.append(el("li", { class: x.ok ? "met" : "unmet" },
          el("strong", { text: x.ok ? "As expected: " : "Unexpected: " }),
          `"${x.password}" expects ${list(x.expected)}, gets ${list(x.actual)}`));
      }
      lastVerdict = v;
    }
    let lastVerdict = null;
    const benchLater = debounce(checkPassword, DEBOUNCE_MS);
    for (const input of Object.values(bench)) input.addEventListener("input", benchLater);
    $("bench-add").addEventListener("click", () => {
      const pw = bench.password.value;
      if (!pw) { $("bench-summary").textContent = "Type a password first."; return; }
      const codes = lastVerdict ? lastVerdict.violations : [];
      const edited = addExample(editor.value, pw, codes);
      if (edited === null) {
        $("bench-summary").textContent = "Examples belong to the app's JavaScript rule (password_policy.script), and this app has none.";
        return;
      }
      editor.value = edited;
      changed(); showDiff();
      $("bench-summary").textContent = `Added "${pw}" to the script's examples, expecting ${codes.length ? codes.join(", ") : "acceptance"}.`;
    });

    // Publish
    const diffBox = $("diff"), conflict = $("conflict");
    function showDiff() {
      renderDiff(diffBox, lineDiff(active, editor.value), "No changes against the active version.");
    }
    async function loadActive() {
      const res = await api("GET", `${base}/config`);
      if (!res.ok) return null;
      return { text: await res.text(), etag: res.headers.get("ETag") };
    }
    function setBase(got) {
      active = got.text;
      etag = got.etag;
      $("publish-base").textContent = `Active version: ${String(etag).replace(/"/g, "")}.`;
    }
    $("publish").addEventListener("click", async () => {
      conflict.hidden = true;
      const comment = $("publish-comment").value.trim();
      const q = comment ? `?comment=${encodeURIComponent(comment)}` : "";
      const res = await api("PUT", `${base}/config${q}`, { yaml: editor.value, headers: { "If-Match": etag } });
      if (res.status === 201) {
        const out = await res.json();
        setBase({ text: editor.value, etag: res.headers.get("ETag") });
        $("publish-comment").value = "";
        setStatus(`Published version ${out.version}. The reset pages serve it now.`, "ok");
        showDiff();
        history();
      } else if (res.status === 412) {
        const theirs = await loadActive();
        if (!theirs) return;
        conflict.hidden = false;
        conflict.textContent = "";
        const v = String(theirs.etag).replace(/"/g, "");
        conflict.append(
          el("p", { text: `Someone else published version ${v} while you were editing. Nothing was overwritten. Their changes against the version you started from:` }),
        );
        const pre = el("pre", { class: "diff", tabindex: "0" });
        renderDiff(pre, lineDiff(active, theirs.text));
        conflict.append(pre);
        conflict.append(el("p", { text: "Your edits stay in the editor. To publish them over theirs, review the difference and confirm:" }));
        conflict.append(el("button", {
          type: "button", text: `Compare my edits with version ${v}`,
          onclick: () => { setBase(theirs); showDiff(); conflict.hidden = true; setStatus(`Now comparing with version ${v}: publish again once you have checked the changes.`); },
        }));
        setStatus("Not published: someone else published meanwhile.", "error");
      } else if (res.status === 422) {
        const p = await problemOf(res);
        showProblems(p.errors || []);
        setStatus("Not published: the YAML has errors (listed beside it).", "error");
      } else if (res.status !== 401 && res.status !== 429) {
        const p = await problemOf(res);
        setStatus(`Not published: ${p.detail || p.title}`, "error");
      }
    });

    // History
    async function history() {
      const list = $("history");
      const res = await api("GET", `${base}/config/versions`);
      if (!res.ok) return;
      const versions = await res.json();
      list.textContent = "";
      for (const v of versions) {
        const when = new Date(v.created_at).toLocaleString();
        const item = el("li", { "data-version": String(v.version) },
          el("strong", { text: `Version ${v.version}` }), v.active ? el("span", { class: "badge", text: " active" }) : "",
          ` · ${v.author} · ${when}`, v.comment ? el("span", { class: "comment", text: ` · “${v.comment}”` }) : "");
        if (v.diff) {
          const pre = el("pre", { class: "diff", tabindex: "0" });
          renderUnifiedDiff(pre, v.diff);
          item.append(el("details", {}, el("summary", { text: `Changes in version ${v.version}` }), pre));
        }
        if (!v.active) {
          item.append(el("button", {
            type: "button", class: "rollback", text: `Roll back to version ${v.version}`,
            onclick: () => rollBack(v.version),
          }));
        }
        list.append(item);
      }
    }
    async function rollBack(version) {
      const res = await api("POST", `${base}/config/versions/${version}/activate`, { headers: { "If-Match": etag } });
      if (res.ok) {
        const got = await loadActive();
        if (got) { setBase(got); editor.value = got.text; changed(); showDiff(); }
        setStatus(`Rolled back: version ${version} serves again.`, "ok");
        history();
      } else if (res.status === 412) {
        setStatus("Not rolled back: someone else published meanwhile. Reload to see their version.", "error");
      } else if (res.status !== 401 && res.status !== 429) {
        const p = await problemOf(res);
        setStatus(`Not rolled back: ${p.detail || p.title}`, "error");
      }
    }

    // Each pause checks the draft once; the preview and the bench (each a document check
    // against the key's budget) run only on a draft that validates.
    const later = debounce(async () => {
      if (!(await validate())) {
        note.textContent = "The preview shows the last version that could be rendered: fix the problems listed beside the YAML.";
        return;
      }
      preview();
      if (bench.password.value) checkPassword();
    }, DEBOUNCE_MS);
    function changed() { later(); }

    // Leaving with edits that were never published asks first.
    window.addEventListener("beforeunload", (e) => {
      if (active && editor.value !== active) { e.preventDefault(); e.returnValue = ""; }
    });

    const got = await loadActive();
    if (!got) { setStatus("This app has no active configuration yet.", "error"); return; }
    setBase(got);
    editor.value = got.text;
    showDiff();
    fillLocales();
    if (await validate()) { preview(); translations(); }
    history();
  }

  // Adds `password` with the violation codes it gets now to password_policy.script.examples
  // (a script's examples run on every validation); null when the document has no script.
  function addExample(yaml, password, codes) {
    const lines = yaml.split("\n");
    const script = lines.findIndex((l) => /^\s+script:\s*$/.test(l));
    if (script < 0) return null;
    const inner = lines[script].match(/^\s*/)[0] + "  ";
    let end = script + 1;
    while (end < lines.length && (lines[end].trim() === "" || lines[end].startsWith(inner))) end++;
    const item = (indent) => [`${indent}- password: ${JSON.stringify(password)}`, `${indent}  expect: [${codes.map((c) => JSON.stringify(c)).join(", ")}]`];
    const ex = lines.findIndex((l, i) => i > script && i < end && l.startsWith(inner + "examples:"));
    if (ex >= 0 && /examples:\s*\[\s*\]\s*$/.test(lines[ex])) {
      lines.splice(ex, 1, `${inner}examples:`, ...item(inner + "  "));
    } else if (ex >= 0) {
      lines.splice(ex + 1, 0, ...item(inner + "  "));
    } else {
      lines.splice(end, 0, `${inner}examples:`, ...item(inner + "  "));
    }
    return lines.join("\n");
  }

  // ---- platform admin screen ----
  function platformScreen() {
    const list = (s) => s.split(",").map((x) => x.trim()).filter(Boolean);
    const show = (id, ...nodes) => { const box = $(id); box.textContent = ""; box.append(...nodes); };
    const failure = async (res) => {
      const p = await problemOf(res);
      const details = (p.errors || []).map((e) => el("li", { text: `${e.path ? e.path + ": " : ""}${e.message}` }));
      return el("div", { class: "alert", role: "alert" }, `${p.title || "Failed"}${p.detail ? ": " + p.detail : ""}`, details.length ? el("ul", {}, ...details) : "");
    };

    $("onboard").addEventListener("submit", async (e) => {
      e.preventDefault();
      const f = new FormData(e.target);
      const provider = {
        kind: f.get("kind"), domain: f.get("domain"),
        management_client_id: f.get("management_client_id"), management_client_secret: f.get("management_client_secret"),
      };
      if (f.get("connection")) provider.connection = f.get("connection");
      const res = await api("POST", "/tenants", {
        json: { id: f.get("id"), display_name: f.get("display_name"), client_ids: list(f.get("client_ids")), provider },
      });
      if (res.status === 201) {
        const client = list(f.get("client_ids"))[0];
        show("onboard-result", el("p", { class: "ok" }, `Onboarded ${f.get("id")}. Its reset page: `,
          el("a", { href: `/reset?client_id=${encodeURIComponent(client)}`, id: "onboarded-link", text: `/reset?client_id=${client}` }),
          ". Its editor: ", el("a", { href: `/console/tenants/${encodeURIComponent(f.get("id"))}`, text: "open" })));
        e.target.reset();
      } else if (res.status !== 401 && res.status !== 429) {
        show("onboard-result", await failure(res));
      }
    });

    async function keys() {
      const res = await api("GET", "/keys");
      if (!res.ok) return;
      const rows = $("keys");
      rows.textContent = "";
      for (const k of await res.json()) {
        const action = k.revoked_at ? el("span", { text: "revoked" }) : el("button", {
          type: "button", text: `Revoke ${k.prefix}`,
          onclick: async () => {
            const r = await api("DELETE", `/keys/${k.id}`);
            if (r.ok) { setStatus(`Key ${k.prefix} revoked; its sessions ended.`, "ok"); keys(); }
            else if (r.status !== 401 && r.status !== 429) setStatus(`Not revoked: ${(await problemOf(r)).detail || ""}`, "error");
          },
        });
        rows.append(el("tr", {}, el("td", {}, el("code", { text: k.prefix })), el("td", { text: k.label }), el("td", { text: k.role }),
          el("td", { text: (k.tenants || []).join(", ") }), el("td", { text: k.last_used_at ? new Date(k.last_used_at).toLocaleString() : "never" }), el("td", {}, action)));
      }
    }
    $("key-create").addEventListener("submit", async (e) => {
      e.preventDefault();
      const f = new FormData(e.target);
      const role = f.get("role");
      const res = await api("POST", "/keys", { json: { role, label: f.get("label"), tenants: role === "tenant-editor" ? list(f.get("tenants")) : [] } });
      if (res.status === 201) {
        const out = await res.json();
        show("key-result", el("p", { class: "ok" }, "Shown once: give it to its holder now. ", el("code", { id: "new-key", text: out.key })));
        e.target.reset();
        keys();
      } else if (res.status !== 401 && res.status !== 429) {
        show("key-result", await failure(res));
      }
    });

    $("sd-load").addEventListener("click", async () => {
      const t = $("sd-tenant").value.trim();
      if (!t) return;
      const res = await api("GET", `/tenants/${encodeURIComponent(t)}/sender-domains`);
      if (res.ok) { const out = await res.json(); $("sd-domains").value = (out.domains || []).join(", "); show("senders-result", el("p", { text: `${(out.domains || []).length} domain(s).` })); }
      else if (res.status !== 401 && res.status !== 429) show("senders-result", await failure(res));
    });
    $("senders").addEventListener("submit", async (e) => {
      e.preventDefault();
      const t = $("sd-tenant").value.trim();
      const res = await api("PUT", `/tenants/${encodeURIComponent(t)}/sender-domains`, { json: { domains: list($("sd-domains").value) } });
      if (res.ok) show("senders-result", el("p", { class: "ok", text: "Saved." }));
      else if (res.status !== 401 && res.status !== 429) show("senders-result", await failure(res));
    });

    async function audit() {
      const res = await api("GET", "/audit?limit=50");
      if (!res.ok) return;
      const out = await res.json();
      const rows = $("audit");
      rows.textContent = "";
      if (out.events.length === 0) rows.append(el("tr", {}, el("td", { colspan: "5", text: "No events yet." })));
      for (const ev of out.events) {
        rows.append(el("tr", {}, el("td", { text: new Date(ev.created_at).toLocaleString() }), el("td", { text: ev.tenant_id || "" }),
          el("td", { text: ev.actor }), el("td", { text: ev.action }), el("td", { text: ev.outcome })));
      }
    }
    $("stats").addEventListener("submit", async (e) => {
      e.preventDefault();
      const t = $("st-tenant").value.trim();
      const res = await api("GET", `/tenants/${encodeURIComponent(t)}/stats`);
      const rows = $("stats-rows");
      rows.textContent = "";
      if (!res.ok) { if (res.status !== 401 && res.status !== 429) setStatus(`No stats: ${(await problemOf(res)).detail || ""}`, "error"); return; }
      const out = await res.json();
      if (out.days.length === 0) rows.append(el("tr", {}, el("td", { colspan: "3", text: "No resets yet." })));
      for (const d of out.days) rows.append(el("tr", {}, el("td", { text: d.date }), el("td", { text: String(d.requested) }), el("td", { text: String(d.completed) })));
    });
    keys();
    audit();
  }

  const screen = main.dataset.screen;
  if (screen === "editor") editorScreen();
  else if (screen === "platform") platformScreen();
  else if (screen === "sign-in") { const k = $("key"); if (k) k.focus(); }
})();
