// stilt dashboard. Plain JS, no framework, no network but stilt itself.
//
// Data flow mirrors the engine's: the server pushes snapshots and log lines over
// one EventSource (/api/stream); they land in `state` and the log store; a render is
// scheduled for the next animation frame, so a burst of events costs one render.
// Mutations go out as POSTs carrying the instance token from the page's meta tag;
// the page never changes what it shows until the next snapshot says so.
"use strict";

// ---------------------------------------------------------------- helpers

const $ = (sel) => document.querySelector(sel);
const $$ = (sel) => Array.from(document.querySelectorAll(sel));

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) =>
    ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

// Times arrive as RFC 3339; Go's zero time (year 1) and junk mean "no time".
function parseTime(s) {
  if (!s) return null;
  const t = Date.parse(s);
  return Number.isFinite(t) && t > 946684800000 ? t : null;
}

function fmtDuration(ms) {
  if (ms == null || ms < 0) return "";
  if (ms < 10000) return (ms / 1000).toFixed(1) + "s";
  if (ms < 60000) return Math.round(ms / 1000) + "s";
  const m = Math.floor(ms / 60000);
  return m < 60 ? `${m}m ${Math.round((ms % 60000) / 1000)}s` : `${Math.floor(m / 60)}h ${m % 60}m`;
}

function fmtAgo(t) {
  if (t == null) return "";
  const s = Math.max(0, Math.round((Date.now() - t) / 1000));
  if (s < 2) return "just now";
  if (s < 60) return s + "s ago";
  if (s < 3600) return Math.floor(s / 60) + "m ago";
  return Math.floor(s / 3600) + "h ago";
}

// A time cell that the once-a-second ticker keeps current without re-rendering rows.
function agoHtml(t) {
  if (t == null) return "";
  return `<time data-ago="${t}" title="${esc(new Date(t).toLocaleString())}">${esc(fmtAgo(t))}</time>`;
}

const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;

// ---------------------------------------------------------------- the API

const token = document.querySelector('meta[name="stilt-token"]')?.content ?? "";

async function post(path, body) {
  try {
    const res = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Stilt-Token": token },
      body: JSON.stringify(body),
    });
    const answer = await res.json().catch(() => ({}));
    if (!res.ok || answer.error) toast(answer.error || `${path}: HTTP ${res.status}`, true);
  } catch (e) {
    toast(`${path}: ${e.message}`, true);
  }
}

const api = {
  trigger: (name) => post("/api/trigger", { resource: name }),
  enable: (names, enabled) => post("/api/enable", { resources: names, enabled }),
  mode: (name, manual) => post("/api/trigger-mode", { resource: name, mode: manual ? "manual" : "auto" }),
};

// ---------------------------------------------------------------- resources
// Readers over Tilt's UIResource shape; every field may be missing.

const R = {
  name: (r) => r?.metadata?.name ?? "",
  st: (r) => r?.status ?? {},
  labels(r) {
    const l = r?.metadata?.labels;
    if (Array.isArray(l)) return l;
    return l && typeof l === "object" ? Object.keys(l) : [];
  },
  update: (r) => R.st(r).updateStatus || "none",
  runtime: (r) => R.st(r).runtimeStatus || "unknown",
  disabled: (r) => R.st(r).disableStatus?.state === "Disabled",
  kind: (r) => R.st(r).stilt?.kind || R.st(r).specs?.[0]?.type || "",
  // Tilt's TriggerMode: 0 auto, 1 manual after an automatic first run, 2 manual,
  // 3 auto after a manual first run.
  manual(r) {
    const m = R.st(r).triggerMode;
    return m === 1 || m === 2 || m === "manual";
  },
  container(r) {
    const s = R.st(r);
    const x = s.stilt ?? {};
    const id = x.container || x.containerId || x.pod || s.k8sResourceInfo?.podName;
    if (id) return String(id);
    const pid = s.localResourceInfo?.pid;
    return pid && pid !== "0" ? `pid ${pid}` : "";
  },
  endpoints: (r) => (R.st(r).endpointLinks ?? []).filter((l) => l && l.url),
  hold(r) {
    const s = R.st(r);
    return s.stilt?.holdReason || s.waiting?.waitingReason || s.waiting?.reason || "";
  },
  error(r) {
    const s = R.st(r);
    return s.stilt?.error || s.buildHistory?.[0]?.error || "";
  },
  current(r) {
    const b = R.st(r).currentBuild;
    return b && parseTime(b.startTime) != null ? b : null;
  },
  history: (r) => R.st(r).buildHistory ?? [],
  // When the latest update started (running or finished), for "updated" and warnings.
  lastStart(r) {
    const b = R.current(r) ?? R.history(r)[0];
    return b ? parseTime(b.startTime) : null;
  },
  lastTime(r) {
    const cur = R.current(r);
    if (cur) return parseTime(cur.startTime);
    const b = R.history(r)[0];
    return b ? parseTime(b.finishTime) ?? parseTime(b.startTime) : null;
  },
  reason: (r) => R.st(r).stilt?.lastReason || R.current(r)?.reason || R.history(r)[0]?.reason || "",
  buttons(name) {
    const list = state.session?.uiButtons ?? state.session?.buttons ?? [];
    return list.filter((b) => b?.spec?.location?.componentID === name);
  },
  // One word for a resource's colour, as Tilt combines update and runtime status.
  combined(r) {
    if (R.disabled(r)) return "disabled";
    const u = R.update(r), rt = R.runtime(r);
    if (u === "error" || rt === "error") return "error";
    if (u === "in_progress") return "in_progress";
    if (u === "pending" || rt === "pending") return "pending";
    if (u === "ok" || rt === "ok") return "ok";
    return "none";
  },
};

// ---------------------------------------------------------------- the log store
// Capped per resource as the engine's store is (oldest lines go first). Lines are
// kept in arrival (seq) order in one array; dropped lines are marked and swept out
// once they are a good share of it, so a drop costs O(1).

class LogStore {
  constructor(capBytes) {
    this.cap = capBytes;
    this.clear();
  }
  clear() {
    this.lines = [];
    this.per = new Map(); // resource -> {queue, head, bytes, warns: [time]}
    this.dropped = 0;
    this.lastSeq = -Infinity;
    this.generation = (this.generation ?? 0) + 1; // bumps when views must rebuild
  }
  resource(name) {
    let p = this.per.get(name);
    if (!p) this.per.set(name, (p = { queue: [], head: 0, bytes: 0, warns: [] }));
    return p;
  }
  // Adds lines in seq order; returns the ones that were new.
  add(raw) {
    const fresh = [];
    for (const l of raw) {
      if (typeof l?.seq !== "number" || l.seq <= this.lastSeq) continue;
      this.lastSeq = l.seq;
      const line = {
        seq: l.seq, resource: l.resource || "(Tiltfile)", source: l.source || "build",
        level: l.level || "info", time: parseTime(l.time), text: String(l.text ?? "").replace(ANSI, ""),
      };
      this.lines.push(line);
      fresh.push(line);
      const p = this.resource(line.resource);
      p.queue.push(line);
      p.bytes += line.text.length + 1;
      if (line.level === "warn") {
        p.warns.push(line.time ?? Date.now());
        if (p.warns.length > 500) p.warns.splice(0, 250);
      }
      this.trim(p);
    }
    if (this.dropped > 5000 && this.dropped * 2 > this.lines.length) {
      this.lines = this.lines.filter((l) => !l.dropped);
      this.dropped = 0;
      this.generation++;
    }
    return fresh;
  }
  trim(p) {
    while (p.bytes > this.cap && p.queue.length - p.head > 1) {
      const old = p.queue[p.head++];
      old.dropped = true;
      p.bytes -= old.text.length + 1;
      this.dropped++;
    }
    if (p.head > 4096 && p.head * 2 > p.queue.length) {
      p.queue = p.queue.slice(p.head);
      p.head = 0;
    }
  }
  warningsSince(name, t) {
    const w = this.per.get(name)?.warns ?? [];
    return t == null ? w.length : w.filter((x) => x >= t).length;
  }
}

// ---------------------------------------------------------------- state

const state = {
  session: null, // the last snapshot, as /api/session returns it
  resources: [],
  byName: new Map(),
  view: "table", // or "detail"
  current: null, // the detail view's resource, null = all
  cursor: null, // the table's highlighted resource (j/k)
  selected: new Set(),
  tableFilter: "",
  sidebarFilter: "",
  log: { source: "all", level: "all", text: "", follow: true },
  startTime: null,
};
const logs = new LogStore(1 << 20);
// Counters the browser tests and the performance figures read.
const stats = {
  snapshots: 0, logEvents: 0, logLines: 0, renders: 0, lastSnapshotAt: 0, lastRenderAt: 0,
  firstPaintAt: 0, // when the first snapshot's resources were on screen (ms since navigation)
};
window.stiltDashboard = { state, logs, stats };

// ---------------------------------------------------------------- rendering

const dirty = { header: true, table: true, detail: true, logs: true };
let frame = 0;

function schedule(...parts) {
  for (const p of parts) dirty[p] = true;
  if (!frame) frame = requestAnimationFrame(render);
}

function render() {
  frame = 0;
  stats.renders++;
  if (dirty.header) renderHeader();
  if (state.view === "table" && dirty.table) renderTable();
  if (state.view === "detail") {
    if (dirty.detail) renderDetail();
    if (dirty.logs) renderLogs();
  }
  Object.assign(dirty, { header: false, table: false, detail: false, logs: false });
  stats.lastRenderAt = performance.now();
  if (!stats.firstPaintAt && state.session) stats.firstPaintAt = stats.lastRenderAt;
}

function renderHeader() {
  const s = state.session?.session ?? {};
  $("#tiltfile").textContent = s.tiltfilePath || s.tiltfile || "";
  const n = { error: 0, warning: 0, pending: 0, ok: 0 };
  for (const r of state.resources) {
    const c = R.combined(r);
    if (c === "error") n.error++;
    else if (c === "pending" || c === "in_progress") n.pending++;
    else if (c === "ok") n.ok++;
    if (!R.disabled(r) && logs.warningsSince(R.name(r), R.lastStart(r)) > 0) n.warning++;
  }
  const words = { error: "error", warning: "warning", pending: "pending", ok: "ok" };
  for (const [k, v] of Object.entries(n)) {
    const el = $(`[data-count="${k}"]`);
    el.textContent = `${v} ${words[k]}${v === 1 || k === "pending" || k === "ok" ? "" : "s"}`;
    el.dataset.value = v;
    el.classList.toggle("nonzero", v > 0);
  }
  const err = s.error || s.tiltfileError || s.loadError || "";
  const banner = $("#load-error");
  banner.hidden = !err;
  banner.textContent = err ? `Tiltfile error: ${err}` : "";
  const crit = s.critical ?? [];
  $("#critical").hidden = crit.length === 0;
  $("#critical").textContent = crit.join("\n");
  for (const a of $$("[data-nav]")) {
    const on = a.dataset.nav === state.view && (state.view === "table" || state.current == null);
    a.classList.toggle("active", on);
  }
}

// Resources by label, as Tilt groups its table; no groups when nothing has a label.
function groups(list) {
  if (!list.some((r) => R.labels(r).length)) return [[null, list]];
  const by = new Map();
  for (const r of list) {
    const ls = R.labels(r);
    for (const l of ls.length ? ls : ["unlabeled"]) {
      if (!by.has(l)) by.set(l, []);
      by.get(l).push(r);
    }
  }
  const names = [...by.keys()].sort((a, b) => (a === "unlabeled") - (b === "unlabeled") || a.localeCompare(b));
  return names.map((l) => [l, by.get(l)]);
}

function matchesName(r, filter) {
  return !filter || R.name(r).toLowerCase().includes(filter.toLowerCase());
}

// Enabled first, disabled at the bottom (Tilt sinks them), each in the engine's order.
function tableOrder() {
  const list = state.resources.filter((r) => matchesName(r, state.tableFilter));
  return [...list.filter((r) => !R.disabled(r)), ...list.filter(R.disabled)];
}

function statusHtml(r) {
  if (R.disabled(r)) return `<span class="pill st-disabled" data-status="disabled">disabled</span>`;
  const u = R.update(r), rt = R.runtime(r);
  let html = `<span class="pill st-${esc(u)}" data-update="${esc(u)}" title="update status">` +
    `<span class="dot"></span>${esc(u.replace("_", " "))}</span>`;
  if (rt !== "not_applicable") {
    html += `<span class="pill st-${esc(rt)}" data-runtime="${esc(rt)}" title="runtime status">` +
      `${esc(rt === "unknown" ? "runtime ?" : "runtime " + rt)}</span>`;
  }
  const err = R.error(r);
  if (err && R.combined(r) === "error") html += `<div class="muted mono" title="${esc(err)}">${esc(err.split("\n")[0].slice(0, 120))}</div>`;
  return html;
}

function endpointsHtml(r) {
  return R.endpoints(r).map((l) =>
    `<a href="${esc(l.url)}" target="_blank" rel="noopener" data-endpoint>${esc(l.name || l.url)}</a>`).join("");
}

function triggerButton(r) {
  const st = R.st(r);
  const busy = R.update(r) === "in_progress" || st.queued;
  const cls = st.queued ? "trigger queued" : "trigger";
  const title = st.queued ? "queued" : st.hasPendingChanges ? "has pending changes: update now" : "update now";
  return `<button type="button" class="${cls}" data-action="trigger" data-resource="${esc(R.name(r))}"` +
    `${busy || R.disabled(r) ? " disabled" : ""} title="${title}">&#x21bb;${st.hasPendingChanges ? "*" : ""}</button>`;
}

function modeButton(r) {
  const manual = R.manual(r);
  return `<button type="button" class="mode ${manual ? "manual" : "auto"}" data-action="mode" ` +
    `data-resource="${esc(R.name(r))}" data-mode="${manual ? "manual" : "auto"}" ` +
    `title="file changes ${manual ? "wait for a trigger" : "start an update"}: click to switch">${manual ? "manual" : "auto"}</button>`;
}

function rowHtml(r) {
  const name = R.name(r);
  const reason = R.reason(r);
  const t = R.lastTime(r);
  return `<td class="sel"><input type="checkbox" data-select="${esc(name)}"${state.selected.has(name) ? " checked" : ""}></td>` +
    `<td>${triggerButton(r)}</td>` +
    `<td class="name"><a href="#/r/${encodeURIComponent(name)}" data-name>${esc(name)}</a></td>` +
    `<td class="kind muted" data-kind>${esc(R.kind(r))}</td>` +
    `<td class="status">${statusHtml(r)}</td>` +
    `<td class="container" data-container>${esc(R.container(r))}</td>` +
    `<td class="endpoints">${endpointsHtml(r)}</td>` +
    `<td>${modeButton(r)}</td>` +
    `<td class="updated">${agoHtml(t)}${reason ? `<div class="reason" data-reason>${esc(reason)}</div>` : ""}</td>` +
    `<td class="hold" data-hold>${esc(R.hold(r))}</td>`;
}

// Rows are kept by key and their cells rewritten only when their HTML changes, so a
// snapshot that changes one resource touches one row (and a click is not lost).
const rowCache = new Map(); // key -> {tr, html}

function renderTable() {
  const body = $("#table-body");
  const order = tableOrder();
  const wanted = [];
  for (const [label, list] of groups(order)) {
    if (label != null) wanted.push({ key: "g\0" + label, group: label, count: list.length });
    for (const r of list) wanted.push({ key: `r\0${label}\0${R.name(r)}`, r });
  }
  const keep = new Set(wanted.map((w) => w.key));
  for (const [k, v] of rowCache) if (!keep.has(k)) { v.tr.remove(); rowCache.delete(k); }
  let prev = null;
  for (const w of wanted) {
    let c = rowCache.get(w.key);
    if (!c) {
      const tr = document.createElement("tr");
      c = { tr, html: "" };
      rowCache.set(w.key, c);
    }
    const html = w.group != null
      ? `<td colspan="10" data-group="${esc(w.group)}">${esc(w.group)} <span class="muted">${w.count}</span></td>`
      : rowHtml(w.r);
    if (html !== c.html) { c.tr.innerHTML = html; c.html = html; }
    if (w.r) {
      const name = R.name(w.r);
      c.tr.className = `res${R.disabled(w.r) ? " disabled" : ""}${state.cursor === name ? " cursor" : ""}`;
      c.tr.dataset.resource = name;
      c.tr.dataset.status = R.combined(w.r);
    } else c.tr.className = "group";
    const next = prev ? prev.nextSibling : body.firstChild;
    if (next !== c.tr) body.insertBefore(c.tr, next);
    prev = c.tr;
  }
  $("#table-empty").hidden = state.resources.length > 0;
  renderBulk();
}

function renderBulk() {
  for (const n of state.selected) if (!state.byName.has(n)) state.selected.delete(n);
  const n = state.selected.size;
  $("#selection-count").textContent = n ? `${n} selected` : "";
  for (const b of $$("[data-bulk]")) b.disabled = n === 0;
  const all = $("[data-select-all]");
  all.checked = n > 0 && n === state.resources.length;
  all.indeterminate = n > 0 && n < state.resources.length;
}

function sidebarOrder() {
  return state.resources.filter((r) => matchesName(r, state.sidebarFilter));
}

function renderDetail() {
  const items = [`<li data-resource="" class="${state.current == null ? "current" : ""}">` +
    `<span class="label">All resources</span></li>`];
  for (const r of sidebarOrder()) {
    const name = R.name(r);
    items.push(`<li data-resource="${esc(name)}" data-status="${R.combined(r)}" class="st-${R.combined(r)}` +
      `${state.current === name ? " current" : ""}${R.disabled(r) ? " disabled" : ""}">` +
      `<span class="dot"></span><span class="label">${esc(name)}</span>${triggerButton(r)}</li>`);
  }
  const html = items.join("");
  const list = $("#sidebar-list");
  if (list.dataset.html !== html) { list.innerHTML = html; list.dataset.html = html; }
  renderResourceBar();
  renderHistory();
}

function renderResourceBar() {
  const bar = $("#resource-bar");
  const r = state.current == null ? null : state.byName.get(state.current);
  let html;
  if (state.current == null) {
    html = `<h1>All resources</h1><span class="muted">${state.resources.length} resources</span>`;
  } else if (!r) {
    html = `<h1>${esc(state.current)}</h1><span class="muted">no such resource</span>`;
  } else {
    const name = R.name(r);
    const dis = R.disabled(r);
    html = `<h1 data-detail-name>${esc(name)}</h1>${statusHtml(r)}` +
      `<span class="muted">${esc(R.kind(r))}</span>${triggerButton(r)}${modeButton(r)}` +
      `<button type="button" data-action="${dis ? "enable" : "disable"}" data-resource="${esc(name)}">${dis ? "Enable" : "Disable"}</button>` +
      (R.container(r) ? `<span class="mono" data-container>${esc(R.container(r))}</span>` : "") +
      `<span class="endpoints">${endpointsHtml(r)}</span>` +
      R.buttons(name).map((b) => `<button type="button" data-ui-button="${esc(b.metadata?.name)}" disabled ` +
        `title="custom buttons arrive with extensions">${esc(b.spec?.text || b.metadata?.name)}</button>`).join("") +
      (R.hold(r) ? `<span class="muted" data-hold>${esc(R.hold(r))}</span>` : "");
  }
  if (bar.dataset.html !== html) { bar.innerHTML = html; bar.dataset.html = html; }
}

function renderHistory() {
  const el = $("#history");
  const r = state.current == null ? null : state.byName.get(state.current);
  let html = "";
  if (r) {
    const rows = [];
    const cur = R.current(r);
    if (cur) {
      rows.push(`<tr data-run="current"><td>${agoHtml(parseTime(cur.startTime))}</td>` +
        `<td>${esc(cur.reason || R.reason(r))}</td><td class="st-in_progress">running</td><td></td></tr>`);
    }
    R.history(r).forEach((b, i) => {
      const s = parseTime(b.startTime), f = parseTime(b.finishTime);
      const reason = b.reason || b.stilt?.reason || (i === 0 && !cur ? R.reason(r) : "");
      rows.push(`<tr data-run="${i}"><td>${agoHtml(s)}</td><td>${esc(reason)}</td>` +
        `<td>${s != null && f != null ? esc(fmtDuration(f - s)) : ""}</td>` +
        `<td class="${b.error ? "st-error" : "st-ok"}">${esc(b.error ? b.error.split("\n")[0] : "ok")}</td></tr>`);
    });
    if (rows.length) html = `<table><tbody>${rows.join("")}</tbody></table>`;
  }
  if (el.dataset.html !== html) { el.innerHTML = html; el.dataset.html = html; }
}

// ---------------------------------------------------------------- the log pane
// Virtual: only the rows in sight are in the DOM, so 100k lines scroll as 50 do.

const LINE_PX = 18;
const logView = { lines: [], key: "", generation: 0, rendered: "" };

function logFilter() {
  const f = state.log;
  let re = null;
  const m = /^\/(.+)\/([a-z]*)$/.exec(f.text);
  if (m) {
    try { re = new RegExp(m[1], m[2]); } catch { re = null; }
  }
  $("#log-filter").classList.toggle("invalid", !!m && !re);
  const needle = f.text.toLowerCase();
  return (l) => {
    if (l.dropped) return false;
    if (state.current != null && l.resource !== state.current) return false;
    if (f.source === "build" && l.source === "runtime") return false;
    if (f.source === "runtime" && l.source !== "runtime") return false;
    if (f.level !== "all" && l.level !== f.level) return false;
    if (re) return re.test(l.text);
    return !needle || l.text.toLowerCase().includes(needle);
  };
}

function filterKey() {
  const f = state.log;
  return JSON.stringify([state.current, f.source, f.level, f.text]);
}

// Adds new store lines to the filtered view, or rebuilds it when the filter or the
// store's generation changed.
function refreshLogView(fresh) {
  const key = filterKey();
  if (key !== logView.key || logView.generation !== logs.generation) {
    const keep = logFilter();
    logView.lines = logs.lines.filter(keep);
    logView.key = key;
    logView.generation = logs.generation;
    return;
  }
  if (fresh?.length) {
    const keep = logFilter();
    for (const l of fresh) if (keep(l)) logView.lines.push(l);
  }
}

function renderLogs() {
  refreshLogView(null);
  const pane = $("#log-pane");
  const n = logView.lines.length;
  $("#log-spacer").style.height = `${n * LINE_PX}px`;
  if (state.log.follow) pane.scrollTop = pane.scrollHeight;
  const first = Math.max(0, Math.floor(pane.scrollTop / LINE_PX) - 10);
  const last = Math.min(n, first + Math.ceil((pane.clientHeight || 600) / LINE_PX) + 20);
  const all = state.current == null;
  const parts = [];
  for (let i = first; i < last; i++) {
    const l = logView.lines[i];
    parts.push(`<div class="log-line ${l.level}" data-seq="${l.seq}" data-resource="${esc(l.resource)}" ` +
      `data-source="${l.source}" data-level="${l.level}">` +
      (all ? `<span class="who">${esc(l.resource)}</span>` : "") + `${esc(l.text)}</div>`);
  }
  const html = parts.join("");
  const rows = $("#log-rows");
  rows.style.top = `${first * LINE_PX}px`;
  if (html !== logView.rendered) { rows.innerHTML = html; logView.rendered = html; }
  $("#log-count").textContent = `${n} lines`;
  $("#log-count").dataset.value = n;
}

function copyLogs() {
  const all = state.current == null;
  const text = logView.lines.map((l) => (all ? `${l.resource} | ` : "") + l.text).join("\n");
  const done = () => toast(`Copied ${logView.lines.length} lines`);
  if (navigator.clipboard?.writeText) {
    navigator.clipboard.writeText(text).then(done, () => copyFallback(text, done));
  } else copyFallback(text, done);
}

function copyFallback(text, done) {
  const ta = document.createElement("textarea");
  ta.value = text;
  document.body.appendChild(ta);
  ta.select();
  const ok = document.execCommand("copy");
  ta.remove();
  if (ok) done(); else toast("Copy failed: the browser refused", true);
}

// ---------------------------------------------------------------- live data

function onSnapshot(data) {
  stats.snapshots++;
  stats.lastSnapshotAt = performance.now();
  const start = data?.session?.startTime ?? null;
  if (state.startTime != null && start !== state.startTime) {
    // A new stilt answers on this port: its log sequence starts over.
    logs.clear();
    loadBacklog();
  }
  state.startTime = start;
  state.session = data;
  state.resources = Array.isArray(data?.uiResources) ? data.uiResources : [];
  state.byName = new Map(state.resources.map((r) => [R.name(r), r]));
  if (state.cursor == null || !state.byName.has(state.cursor)) state.cursor = R.name(state.resources[0]) || null;
  schedule("header", "table", "detail", "logs");
}

// Stream lines that arrive while the backlog loads wait, then follow it in seq order.
const backlog = { loading: false, waiting: [] };

function onLogs(lines) {
  stats.logEvents++;
  if (!Array.isArray(lines)) return;
  stats.logLines += lines.length;
  if (backlog.loading) { backlog.waiting.push(...lines); return; }
  ingest(lines);
}

function ingest(lines) {
  const fresh = logs.add(lines);
  if (!fresh.length && logView.generation === logs.generation) return;
  if (state.view === "detail") refreshLogView(fresh);
  schedule("logs", "header");
}

async function loadBacklog() {
  if (backlog.loading) return;
  backlog.loading = true;
  try {
    const since = Number.isFinite(logs.lastSeq) ? `?since_seq=${logs.lastSeq}` : "";
    const res = await fetch(`/api/logs${since}`);
    if (res.ok) {
      const body = await res.json();
      ingest(body.lines ?? []);
    }
  } catch (e) {
    console.warn("stilt: loading the log backlog failed", e);
  } finally {
    backlog.loading = false;
    const waiting = backlog.waiting.splice(0);
    ingest(waiting);
  }
}

function setConn(s) {
  const el = $("#conn");
  el.dataset.conn = s;
  el.textContent = s;
}

let stream = null;
function connect() {
  stream = new EventSource("/api/stream");
  stream.addEventListener("snapshot", (e) => {
    try { onSnapshot(JSON.parse(e.data)); } catch (err) { console.warn("stilt: bad snapshot", err); }
  });
  stream.addEventListener("logs", (e) => {
    let data;
    try { data = JSON.parse(e.data); } catch (err) { console.warn("stilt: bad logs event", err); return; }
    onLogs(data.lines);
    // The server skipped lines this page was too slow for: fetch them by seq.
    if (data.dropped) loadBacklog();
  });
  stream.onopen = () => { setConn("live"); loadBacklog(); };
  stream.onerror = () => {
    setConn("reconnecting");
    // EventSource retries by itself unless the server refused it outright.
    if (stream.readyState === EventSource.CLOSED) setTimeout(connect, 1000);
  };
}

// ---------------------------------------------------------------- navigation

function route() {
  const h = decodeURIComponent(location.hash.replace(/^#/, ""));
  if (h.startsWith("/r/")) {
    state.view = "detail";
    state.current = h.slice(3) || null;
    state.cursor = state.current ?? state.cursor;
  } else if (h.startsWith("/logs")) {
    state.view = "detail";
    state.current = null;
  } else state.view = "table";
  $("#table-view").hidden = state.view !== "table";
  $("#detail-view").hidden = state.view !== "detail";
  schedule("header", "table", "detail", "logs");
}

function openDetail(name) {
  location.hash = name ? `#/r/${encodeURIComponent(name)}` : "#/logs";
}

// The resources j/k walk through, in the order the current view shows them.
function visibleNames() {
  if (state.view === "detail") return [null, ...sidebarOrder().map(R.name)];
  const seen = new Set();
  for (const [, list] of groups(tableOrder())) for (const r of list) seen.add(R.name(r));
  return [...seen];
}

function move(delta) {
  const names = visibleNames();
  if (!names.length) return;
  const at = state.view === "detail" ? state.current : state.cursor;
  const i = Math.max(-1, names.indexOf(at));
  const next = names[Math.min(names.length - 1, Math.max(0, i + delta))];
  if (state.view === "detail") openDetail(next);
  else {
    state.cursor = next;
    schedule("table");
    requestAnimationFrame(() => $("tr.res.cursor")?.scrollIntoView({ block: "nearest" }));
  }
}

function focused() {
  return state.view === "detail" ? state.current : state.cursor;
}

const keys = {
  j: () => move(1),
  k: () => move(-1),
  r: () => { const n = focused(); if (n) api.trigger(n); },
  x: () => {
    const n = state.cursor;
    if (!n || state.view !== "table") return;
    selectToggle(n, !state.selected.has(n));
    schedule("table");
  },
  Enter: () => { if (state.view === "table" && state.cursor) openDetail(state.cursor); },
  "/": () => (state.view === "table" ? $("#table-filter") : $("#log-filter")).focus(),
  "?": () => { $("#help").hidden = !$("#help").hidden; },
  t: () => { location.hash = "#/"; },
  l: () => openDetail(null),
  Escape: () => { $("#help").hidden = true; },
};

function onKey(e) {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const typing = /^(INPUT|SELECT|TEXTAREA)$/.test(e.target.tagName);
  if (typing) {
    if (e.key === "Escape") e.target.blur();
    return;
  }
  const f = keys[e.key];
  if (f) { e.preventDefault(); f(); }
}

// ---------------------------------------------------------------- events

function selectToggle(name, on) {
  if (on) state.selected.add(name); else state.selected.delete(name);
  renderBulk();
}

function onClick(e) {
  const a = e.target.closest("[data-action]");
  if (a) {
    e.stopPropagation();
    const name = a.dataset.resource;
    const r = state.byName.get(name);
    if (a.dataset.action === "trigger") api.trigger(name);
    else if (a.dataset.action === "mode") api.mode(name, !R.manual(r));
    else if (a.dataset.action === "enable") api.enable([name], true);
    else if (a.dataset.action === "disable") api.enable([name], false);
    return;
  }
  const bulk = e.target.closest("[data-bulk]");
  if (bulk) {
    const names = [...state.selected];
    if (bulk.dataset.bulk === "trigger") names.forEach(api.trigger);
    else api.enable(names, bulk.dataset.bulk === "enable");
    return;
  }
  const li = e.target.closest("#sidebar-list li");
  if (li) openDetail(li.dataset.resource || null);
  const row = e.target.closest("tr.res");
  if (row && !e.target.closest("a, input, button")) {
    state.cursor = row.dataset.resource;
    schedule("table");
  }
}

function toast(msg, isError) {
  const el = $("#toast");
  el.textContent = msg;
  el.classList.toggle("error", !!isError);
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, isError ? 6000 : 2000);
}

function wire() {
  document.addEventListener("click", onClick);
  document.addEventListener("keydown", onKey);
  window.addEventListener("hashchange", route);
  $("#table-body").addEventListener("change", (e) => {
    const box = e.target.closest("[data-select]");
    if (box) selectToggle(box.dataset.select, box.checked);
  });
  $("[data-select-all]").addEventListener("change", (e) => {
    state.selected = new Set(e.target.checked ? state.resources.map(R.name) : []);
    schedule("table");
  });
  // Text fields: "input" as one types, "change" when cleared by script or WebDriver.
  const onText = (sel, f) => { for (const ev of ["input", "change"]) $(sel).addEventListener(ev, (e) => f(e.target.value)); };
  onText("#table-filter", (v) => { state.tableFilter = v; schedule("table"); });
  onText("#sidebar-filter", (v) => { state.sidebarFilter = v; schedule("detail"); });
  $("#log-source").addEventListener("change", (e) => { state.log.source = e.target.value; schedule("logs"); });
  $("#log-level").addEventListener("change", (e) => { state.log.level = e.target.value; schedule("logs"); });
  onText("#log-filter", (v) => { state.log.text = v; schedule("logs"); });
  $("#log-follow").addEventListener("change", (e) => { state.log.follow = e.target.checked; schedule("logs"); });
  $("#log-copy").addEventListener("click", copyLogs);
  $("#help-button").addEventListener("click", keys["?"]);
  $("[data-help-close]").addEventListener("click", () => { $("#help").hidden = true; });
  const pane = $("#log-pane");
  pane.addEventListener("scroll", () => {
    const atBottom = pane.scrollTop + pane.clientHeight >= pane.scrollHeight - LINE_PX;
    if (atBottom !== state.log.follow) {
      state.log.follow = atBottom;
      $("#log-follow").checked = atBottom;
    }
    schedule("logs");
  });
  window.addEventListener("resize", () => schedule("logs"));
  setInterval(() => {
    for (const t of $$("time[data-ago]")) t.textContent = fmtAgo(Number(t.dataset.ago));
  }, 1000);
}

wire();
route();
connect();
