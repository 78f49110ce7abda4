// The lineage graph drawn as plain SVG: one column per depth (the loan's events on the right,
// raw data to the left), nodes sorted by kind then time inside a column. A layered layout is
// enough for a DAG ordered by acceptance and stays linear in the node count (1,000 nodes).
import { t } from "./i18n.js";

const SVG = "http://www.w3.org/2000/svg";
const W = 170, H = 40, GAP_X = 70, GAP_Y = 14;
export const KINDS = ["data_update", "score_change", "financing_event", "credit_repair"];

function el(name, attrs, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.append(node);
  return node;
}

function layout(graph) {
  const columns = new Map();
  for (const node of graph.nodes) {
    if (!columns.has(node.depth)) columns.set(node.depth, []);
    columns.get(node.depth).push(node);
  }
  const maxDepth = Math.max(0, ...columns.keys());
  const place = new Map();
  let rows = 0;
  for (const [depth, nodes] of columns) {
    nodes.sort((a, b) => KINDS.indexOf(a.kind) - KINDS.indexOf(b.kind)
      || a.recorded_at.localeCompare(b.recorded_at) || a.record_id.localeCompare(b.record_id));
    nodes.forEach((node, i) => {
      place.set(node.record_id, { x: 10 + (maxDepth - depth) * (W + GAP_X), y: 10 + i * (H + GAP_Y) });
    });
    rows = Math.max(rows, nodes.length);
  }
  return { place, width: 20 + (maxDepth + 1) * (W + GAP_X) - GAP_X, height: 20 + rows * (H + GAP_Y) };
}

export function isExpired(node) {
  return Boolean(node.erased && node.erasure && node.erasure.basis === "expiry");
}

function label(node) {
  if (node.kind === "financing_event" && node.loan_event) return t(`event_${node.loan_event}`);
  return t(`kind_${node.kind}`);
}

function groupLabel(group) {
  const what = group.by === "source" ? (group.source || "—") : t(`kind_${group.kind}`);
  return `▸ ${what} ×${group.members.length}`;
}

// shown: collapseGraph's answer; changes: record_id -> ["added", "disputed", ...] (the now
// view's diff) or an empty map; critical: criticalPath's answer or null (everything else is
// dimmed when given); onSelect(node) for a record, onExpand(group) for a collapsed box.
export function drawGraph(svg, shown, { loan, changes, critical, onSelect, onExpand }) {
  svg.replaceChildren();
  const { place, width, height } = layout(shown);
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  svg.classList.toggle("critical-view", Boolean(critical));
  const onPath = (node) => (node.group ? node.members.filter((m) => critical.nodes.has(m.record_id)).length
    : Number(critical.nodes.has(node.record_id)));
  const edges = el("g", { class: "edges" }, svg);
  for (const edge of shown.edges) {
    const from = place.get(edge.from), to = place.get(edge.to);
    if (!from || !to) continue;
    // an edge points from the later record to the one it relies on: draw it parent → child
    const x1 = to.x + W, y1 = to.y + H / 2, x2 = from.x, y2 = from.y + H / 2;
    const mid = (x1 + x2) / 2;
    const classes = ["edge", `edge-${edge.kind}`];
    if (critical) {
      const hit = edge.members.some((e) => critical.edges.has(`${e.from} ${e.to}`));
      classes.push(hit ? "critical" : "dim");
    }
    const path = el("path", {
      d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`,
      class: classes.join(" "), "data-from": edge.from, "data-to": edge.to,
      "data-count": edge.members.length,
      // summed edges get thicker with their count, not without bound
      style: `stroke-width: ${(1.2 + Math.log2(edge.members.length)).toFixed(1)}px`,
    }, edges);
    if (edge.members.length > 1) el("title", {}, path).textContent = `×${edge.members.length}`;
  }
  const decision = loan?.decision;
  const layer = el("g", { class: "nodes" }, svg);
  for (const node of shown.nodes) {
    const at = place.get(node.record_id);
    if (node.group) { drawGroup(layer, node, at, critical ? onPath(node) : null, onExpand); continue; }
    const marks = changes.get(node.record_id) || [];
    const classes = ["node", `kind-${node.kind}`, ...marks.map((m) => `changed changed-${m}`)];
    if (node.disputed) classes.push("disputed");
    if (node.superseded_by) classes.push("superseded");
    // expired: deleted by the retention run (Art. 16); erased: any other erasure
    if (node.erased) classes.push(isExpired(node) ? "expired" : "erased");
    if (node.repair) classes.push(`repair-${node.repair.status}`);
    if (node.record_id === decision) classes.push("decision");
    if (critical) classes.push(onPath(node) ? "critical" : "dim");
    const g = el("g", {
      class: classes.join(" "), transform: `translate(${at.x},${at.y})`,
      "data-record-id": node.record_id, "data-kind": node.kind, tabindex: "0",
      "data-changes": marks.join(" "),
    }, layer);
    el("rect", { width: W, height: H, rx: 6 }, g);
    const text = el("text", { x: 8, y: 16 }, g);
    text.textContent = `${node.record_id === decision ? "◆ " : ""}${label(node)}`;
    const sub = el("text", { x: 8, y: 32, class: "sub" }, g);
    sub.textContent = node.record_id.slice(0, 12) + (node.source ? ` · ${node.source}` : "");
    const flags = [];
    if (node.disputed) flags.push("⚠");
    if (node.superseded_by) flags.push("↻");
    if (node.erased) flags.push(isExpired(node) ? "⊘" : "✕");
    if (node.repair?.status === "approved") flags.push("✓");
    if (!node.anchor) flags.push("…");
    if (flags.length) {
      const f = el("text", { x: W - 6, y: 16, class: "flags", "text-anchor": "end" }, g);
      f.textContent = flags.join("");
    }
    const title = el("title", {}, g);
    title.textContent = `${node.record_id} (${node.kind})${marks.length ? " — " + marks.map((m) => t(`change_${m}`)).join(", ") : ""}`;
    g.addEventListener("click", () => onSelect(node));
    g.addEventListener("keydown", (e) => { if (e.key === "Enter") onSelect(node); });
  }
}

// a collapsed box: its count, how many of its members are on the critical path, click to open
function drawGroup(layer, group, at, onPath, onExpand) {
  const classes = ["node", "group", `kind-${group.kind}`];
  if (onPath !== null) classes.push(onPath ? "critical" : "dim");
  const g = el("g", {
    class: classes.join(" "), transform: `translate(${at.x},${at.y})`,
    "data-group": group.group, "data-kind": group.kind, "data-count": group.members.length,
    "data-by": group.by, "data-source": group.source ?? "", tabindex: "0",
  }, layer);
  el("rect", { width: W, height: H, rx: 6 }, g);
  el("text", { x: 8, y: 16 }, g).textContent = groupLabel(group);
  const sub = el("text", { x: 8, y: 32, class: "sub" }, g);
  sub.textContent = onPath ? `${t("on_critical_path")}: ${onPath} · ${t("click_to_expand")}` : t("click_to_expand");
  if (onPath !== null) g.dataset.critical = String(onPath);
  el("title", {}, g).textContent = `${group.members.length} ${t("nodes")} — ${t("click_to_expand")}`;
  g.addEventListener("click", () => onExpand(group));
  g.addEventListener("keydown", (e) => { if (e.key === "Enter") onExpand(group); });
}
