// The regulator's page: sign in with an auditor key, choose a purpose, search a loan or an
// enterprise; a loan's lineage as of its decision or now (with the diff), node details and
// in-service verification, exports; an enterprise's timeline and access log.
import { ApiError, download, request, session } from "./http.js";
import { KINDS, drawGraph, isExpired } from "./graph.js";
import { collapseGraph, criticalPath } from "./view.js";
import { applyLabels, lang, setLanguage, t, timeElement } from "./i18n.js";
import { looksLikeUscc, usccProblem } from "./uscc.js";

const $ = (id) => document.getElementById(id);
const state = {
  loan: null, mode: "decision", graph: null, changes: new Map(), diff: null, selected: null,
  expanded: new Set(), collapseChosen: false, critical: false,
};
// a lineage larger than this opens collapsed by kind unless the reader chose otherwise
const LARGE_GRAPH = 150;

function show(id, visible) { $(id).hidden = !visible; }

function purposeQuery() {
  return { purpose: $("purpose").value, purpose_detail: $("purpose-detail").value.trim() };
}

function message(error) {
  return error instanceof ApiError ? `${error.message} (${error.status} ${error.code})` : String(error);
}

// -- sign in ---------------------------------------------------------------------------------

async function signIn(key) {
  const me = await request("/v1/whoami", { key });
  if (me.role !== "auditor") throw new Error(`${t("not_auditor")} ${me.role}`);
  session.key = key;
  $("who").textContent = `${me.org}/${me.name} (${me.role})`;
  show("sign-in", false);
  show("workspace", true);
  show("sign-out", true);
}

$("sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("sign-in-error").textContent = "";
  try {
    await signIn($("api-key").value.trim());
  } catch (error) {
    session.key = null;
    $("sign-in-error").textContent = `${t("key_refused")}: ${message(error)}`;
  }
});

$("sign-out").addEventListener("click", () => {
  session.key = null;
  window.location.reload();
});

$("lang").addEventListener("click", () => {
  setLanguage(lang() === "zh" ? "en" : "zh");
  rerender();
});

// -- search ----------------------------------------------------------------------------------

$("search-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = $("search-error");
  error.textContent = "";
  const { purpose, purpose_detail } = purposeQuery();
  if (!purpose) { error.textContent = t("purpose_first"); return; }
  if (purpose === "other" && !purpose_detail) { error.textContent = t("detail_needed"); return; }
  const text = $("query").value.trim();
  try {
    if (looksLikeUscc(text)) {
      const problem = usccProblem(text);
      if (problem) {
        error.textContent = problem.reason === "check"
          ? `${t("uscc_check")} ${problem.expected}` : t("uscc_format");
        return;
      }
      await openEnterprise(text);
    } else {
      await openLoan(text);
    }
  } catch (e) {
    error.textContent = message(e);
  }
});

// -- a loan's lineage --------------------------------------------------------------------------

async function openLoan(loanId) {
  state.loan = loanId;
  state.mode = "decision";
  state.expanded = new Set();
  show("enterprise-view", false);
  await loadLineage();
  show("loan-view", true);
}

async function loadLineage() {
  const depth = $("depth").value || "6";
  const query = { ...purposeQuery(), depth, as_of: "decision" };
  const name = encodeURIComponent(state.loan);
  if (state.mode === "decision") {
    state.graph = await request(`/v1/lineage/${name}`, { query });
    state.diff = null;
    state.changes = new Map();
  } else {
    state.diff = await request(`/v1/lineage/${name}/diff`, { query });
    state.graph = state.diff.now;
    state.changes = new Map();
    for (const change of state.diff.changes) {
      if (!state.changes.has(change.record_id)) state.changes.set(change.record_id, []);
      state.changes.get(change.record_id).push(change.change);
    }
  }
  state.selected = null;
  show("node-panel", false);
  if (!state.collapseChosen) $("collapse").value = state.graph.nodes.length > LARGE_GRAPH ? "kind" : "none";
  renderLoan();
}

function renderLoan() {
  const graph = state.graph;
  $("loan-id").textContent = state.loan;
  $("mode-decision").classList.toggle("on", state.mode === "decision");
  $("mode-now").classList.toggle("on", state.mode === "now");
  const summary = $("loan-summary");
  summary.replaceChildren();
  const loan = graph.loan;
  summary.append(`${t("decision")}: ${loan?.decision ? loan.decision.slice(0, 12) : t("no_decision")} · ${t("decided_at")}: `);
  summary.append(timeElement(loan?.decided_at));
  summary.append(` · ${t("as_of")}: `);
  summary.append(state.mode === "now" ? t("now") : timeElement(graph.as_of));
  const counts = $("counts");
  counts.replaceChildren();
  for (const kind of KINDS) {
    const n = graph.nodes.filter((node) => node.kind === kind).length;
    if (!n) continue;
    const chip = document.createElement("span");
    chip.className = `chip kind-${kind}`;
    chip.dataset.kind = kind;
    chip.dataset.count = n;
    chip.textContent = `${t(`kind_${kind}`)}: ${n}`;
    counts.append(chip);
  }
  const legend = $("legend");
  legend.textContent = `◆ ${t("marker_decision")}  ⚠ ${t("marker_disputed")}  ↻ ${t("marker_superseded")}  ✕ ${t("marker_erased")}  ⊘ ${t("marker_expired")}  ✓ ${t("repair_approved")}  … ${t("not_anchored")}`;
  drawGraph($("graph"), collapseGraph(graph, $("collapse").value, state.expanded), {
    loan: graph.loan, changes: state.changes, critical: state.critical ? criticalPath(graph) : null,
    onSelect: selectNode, onExpand: expandGroup,
  });
  $("critical-path").classList.toggle("on", state.critical);
  $("critical-path").setAttribute("aria-pressed", String(state.critical));
  renderChanges();
  if (state.selected) renderPanel(state.selected);
}

function renderChanges() {
  const box = $("changes");
  box.replaceChildren();
  if (!state.diff) return;
  // Anchoring (the chain catching up, seconds after the decision) is summed up in one line;
  // the table lists what changes what the lineage says.
  const shown = state.diff.changes.filter((c) => c.change !== "anchored");
  const anchored = state.diff.changes.length - shown.length;
  const title = document.createElement("h3");
  title.textContent = shown.length ? t("changes_since") : t("no_changes");
  box.append(title);
  if (anchored) {
    const note = document.createElement("p");
    note.id = "anchored-since";
    note.textContent = `${anchored} ${t("anchored_since")}`;
    box.append(note);
  }
  if (!shown.length) return;
  const table = document.createElement("table");
  table.id = "change-table";
  table.append(row("th", [t("change"), t("record_id"), t("by"), t("at")]));
  for (const change of shown) {
    const tr = row("td", [t(`change_${change.change}`), change.record_id, change.by || "", timeElement(change.at)]);
    tr.className = `changed-${change.change}`;
    tr.dataset.change = change.change;
    table.append(tr);
  }
  box.append(table);
}

function row(cell, values) {
  const tr = document.createElement("tr");
  for (const value of values) {
    const td = document.createElement(cell);
    td.append(value ?? "");
    tr.append(td);
  }
  return tr;
}

$("mode-decision").addEventListener("click", () => switchMode("decision"));
$("mode-now").addEventListener("click", () => switchMode("now"));
$("depth").addEventListener("change", () => loadLineage().catch(showError));

async function switchMode(mode) {
  if (state.mode === mode) return;
  state.mode = mode;
  await loadLineage().catch(showError);
}

$("collapse").addEventListener("change", () => {
  state.collapseChosen = true;
  state.expanded = new Set();
  if (state.graph) renderLoan();
});
$("critical-path").addEventListener("click", () => {
  state.critical = !state.critical;
  if (state.graph) renderLoan();
});

function expandGroup(group) {
  state.expanded.add(group.group);
  renderLoan();
}

function showError(e) { $("search-error").textContent = message(e); }

// -- the node panel ------------------------------------------------------------------------------

function selectNode(node) {
  state.selected = node;
  for (const g of document.querySelectorAll("#graph .node.selected")) g.classList.remove("selected");
  document.querySelector(`#graph .node[data-record-id="${CSS.escape(node.record_id)}"]`)?.classList.add("selected");
  renderPanel(node);
  loadRecord(node).catch(showError);
}

function field(dl, key, value) {
  const dt = document.createElement("dt");
  dt.textContent = t(key);
  const dd = document.createElement("dd");
  dd.dataset.field = key;
  dd.append(value ?? "—");
  dl.append(dt, dd);
}

function renderPanel(node) {
  const panel = $("node-panel");
  panel.replaceChildren();
  show("node-panel", true);
  const dl = document.createElement("dl");
  field(dl, "record_id", node.record_id);
  field(dl, "kind", t(`kind_${node.kind}`));
  if (node.loan_event) field(dl, "loan_event", node.loan_event);
  field(dl, "subject", node.subject);
  field(dl, "occurred_at", timeElement(node.occurred_at));
  field(dl, "recorded_at", timeElement(node.recorded_at));
  field(dl, "source", node.source);
  field(dl, "actor", node.actor);
  field(dl, "commitment", node.commitment || "…");
  const a = node.anchor;
  if (a) {
    field(dl, "batch", `${a.batch_id} #${a.leaf_index}`);
    field(dl, "tx", a.tx_id);
    field(dl, "block", a.block_number === null ? "—" : String(a.block_number));
    field(dl, "block_time", timeElement(a.block_time));
    field(dl, "committed_at", timeElement(a.committed_at));
  } else {
    field(dl, "block", t("not_anchored"));
  }
  const marks = [];
  if (node.disputed) marks.push(t("marker_disputed"));
  const o = node.objection;
  if (o) marks.push(`${t("marker_objection")} ${o.case}: ${t(`objection_${o.status}`)} (${t("objection_deadline")} ${o.deadline})`);
  if (node.superseded_by) marks.push(`${t("marker_superseded")} → ${node.superseded_by}`);
  if (node.erased) {
    const e = node.erasure;
    const word = t(isExpired(node) ? "marker_expired" : "marker_erased");
    marks.push(e ? `${word} (${e.rule}, ${e.on.slice(0, 10)})` : word);
  }
  const r = node.repair;  // auditors only: the credit-repair case concerning this record
  if (r) {
    const approved = r.approved_at ? ` ${r.approved_at}` : "";
    const score = r.score_change ? ` → ${t("score_change")} ${r.score_change}` : "";
    marks.push(`${t("marker_repair")} ${r.case}: ${t(`repair_${r.status}`)}${approved}${score}`);
  }
  for (const m of state.changes.get(node.record_id) || []) marks.push(`${t("change")}: ${t(`change_${m}`)}`);
  if (marks.length) {
    const p = document.createElement("p");
    p.className = "marks";
    p.textContent = marks.join(" · ");
    panel.append(p);
  }
  panel.append(dl);
  if (node.content) {
    const pre = document.createElement("pre");
    pre.id = "node-content";
    pre.textContent = JSON.stringify(node.content, null, 2);
    panel.append(pre);
  }
  const verify = document.createElement("button");
  verify.id = "verify-node";
  verify.type = "button";
  verify.textContent = t("verify_node");
  // the anchor shown is as of the view's time; verification is of today's chain (409 if none)
  verify.addEventListener("click", () => verifyNode(node));
  const result = document.createElement("div");
  result.id = "verification";
  if (node.verification) renderVerification(result, node.verification);
  const open = document.createElement("button");
  open.type = "button";
  open.id = "open-enterprise";
  open.textContent = t("open_enterprise");
  open.addEventListener("click", () => openEnterprise(node.subject).catch(showError));
  panel.append(verify, result, open);
}

async function loadRecord(node) {
  const record = await request(`/v1/records/${encodeURIComponent(node.record_id)}`, { query: purposeQuery() });
  node.commitment = record.commitment;
  node.content = record.payload ?? record.content ?? null;
  if (state.selected === node) renderPanel(node);
}

async function verifyNode(node) {
  const box = $("verification");
  box.textContent = t("verifying");
  try {
    node.verification = await request(`/v1/records/${encodeURIComponent(node.record_id)}/verification`, { query: purposeQuery() });
  } catch (e) {
    node.verification = { ok: false, message: message(e), steps: [] };
  }
  if (state.selected === node) renderPanel(node);
}

function renderVerification(box, outcome) {
  box.replaceChildren();
  const head = document.createElement("p");
  head.className = outcome.ok ? "verified" : "failed";
  head.id = "verification-status";
  head.dataset.ok = String(outcome.ok);
  head.dataset.status = outcome.status || (outcome.ok ? "verified" : "failed");
  const erasure = outcome.ok ? outcome.erasure : null;
  // an erased record's evidence is its anchored erasure record: not content, not tampering
  head.textContent = erasure
    ? `✔ ${t("verified_erased")}: ${erasure.erased_at.slice(0, 10)} · ${erasure.rule} (${erasure.erasure_record})`
    : outcome.ok ? `✔ ${t("verified")}` : `✘ ${t("verify_failed")}: ${outcome.message}`;
  box.append(head);
  if (outcome.block_number !== undefined && outcome.block_number !== null) {
    const p = document.createElement("p");
    p.append(`${t("block")} ${outcome.block_number} · ${t("block_time")}: `, timeElement(outcome.block_time));
    box.append(p);
  }
  const ol = document.createElement("ol");
  for (const step of outcome.steps) {
    const li = document.createElement("li");
    li.value = step.step;  // numbered as in docs/evidence-format.md
    li.className = `step-${step.status.replace(" ", "-")}`;
    li.textContent = `${step.name}: ${t(`status_${step.status}`)}${step.detail ? ` — ${step.detail}` : ""}`;
    ol.append(li);
  }
  box.append(ol);
}

// -- exports ---------------------------------------------------------------------------------

function exportQuery(format) {
  const query = { ...purposeQuery(), depth: $("depth").value || "6", format };
  if (state.mode === "decision") query.as_of = "decision";
  return query;
}

function exportName(ext) {
  return `lineage-${state.loan}-${state.mode}.${ext}`;
}

$("export-prov").addEventListener("click", () =>
  download(`/v1/lineage/${encodeURIComponent(state.loan)}`, exportName("prov.json"), { query: exportQuery("prov-json") }).catch(showError));
$("export-svg").addEventListener("click", () =>
  download(`/v1/lineage/${encodeURIComponent(state.loan)}`, exportName("svg"), { query: exportQuery("svg") }).catch(showError));
$("export-png").addEventListener("click", () =>
  download(`/v1/lineage/${encodeURIComponent(state.loan)}`, exportName("png"), { query: exportQuery("png") }).catch(showError));
$("export-bundle").addEventListener("click", () => {
  const body = { start: [state.loan], depth: Number($("depth").value || 6) };
  if (state.mode === "decision") body.as_of = "decision";
  download("/v1/evidence/lineage", exportName("bundle.json"), { query: purposeQuery(), body }).catch(showError);
});

// -- an enterprise: timeline and access log ----------------------------------------------------

async function openEnterprise(subject) {
  const enc = encodeURIComponent(subject);
  const [timeline, log] = await Promise.all([
    request(`/v1/subjects/${enc}/timeline`, { query: { ...purposeQuery(), limit: 200 } }),
    request("/v1/access-log", { query: { subject, limit: 200 } }),
  ]);
  state.enterprise = { subject, timeline, log };
  renderEnterprise();
  show("enterprise-view", true);
  $("enterprise-view").scrollIntoView();
}

function renderEnterprise() {
  const { subject, timeline, log } = state.enterprise;
  $("subject-id").textContent = subject;
  const tl = $("timeline");
  tl.replaceChildren(row("th", [t("occurred_at"), t("kind"), t("record_id"), t("source"), t("block")]));
  for (const n of timeline.items) {
    const r = n.repair;  // the credit-repair case concerning this record, if any
    const id = r ? `${n.record_id} · ${t("marker_repair")} ${r.case}: ${t(`repair_${r.status}`)}` : n.record_id;
    const tr = row("td", [timeElement(n.occurred_at), t(`kind_${n.kind}`), id, n.source, n.anchor?.block_number?.toString() ?? t("not_anchored")]);
    tr.dataset.recordId = n.record_id;
    if (r) tr.dataset.repair = r.status;
    tl.append(tr);
  }
  const al = $("access-log");
  al.replaceChildren(row("th", [t("accessed_at"), t("accessor"), t("query"), t("purpose"), t("record")]));
  for (const e of log.items) {
    const tr = row("td", [timeElement(e.accessed_at), e.accessor, e.query, e.purpose, e.record_id || ""]);
    tr.dataset.query = e.query;
    al.append(tr);
  }
}

function rerender() {
  applyLabels();
  if (state.graph && !$("loan-view").hidden) renderLoan();
  if (state.enterprise && !$("enterprise-view").hidden) renderEnterprise();
}

// -- start -------------------------------------------------------------------------------------

applyLabels();
if (session.key) signIn(session.key).catch(() => { session.key = null; });
