// Reading a large lineage (Marquez #2014: big graphs are "impossible to follow"):
// * collapse: the nodes of one kind (or one source) at one depth become one box with a count,
//   expandable on click; the edges between boxes are summed into one edge with a count;
// * critical path: what the decision relied on — every chain of derived_from edges from the
//   decision event back through its scores to the data updates and repairs, to the depth shown.
// Pure functions over the lineage JSON: graph.js draws what they return.

export const COLLAPSE = ["none", "kind", "source"];
// fewer nodes than this at one depth and key stay as they are: a box of one hides nothing
const MIN_GROUP = 2;

// the decision and everything it relied on: { nodes: Set(record_id), edges: Set("from to") }
export function criticalPath(graph) {
  const nodes = new Set(), edges = new Set();
  const start = graph.loan?.decision;
  if (!start || !graph.nodes.some((n) => n.record_id === start)) return { nodes, edges };
  const reliesOn = new Map();
  for (const edge of graph.edges) {
    if (edge.kind !== "derived_from") continue;  // a correction or objection is not relied on
    if (!reliesOn.has(edge.from)) reliesOn.set(edge.from, []);
    reliesOn.get(edge.from).push(edge.to);
  }
  const todo = [start];
  nodes.add(start);
  while (todo.length) {
    const from = todo.pop();
    for (const to of reliesOn.get(from) || []) {
      edges.add(`${from} ${to}`);
      if (!nodes.has(to)) { nodes.add(to); todo.push(to); }
    }
  }
  return { nodes, edges };
}

export function groupKey(node, by) {
  return `group:${node.depth}:${by}:${by === "kind" ? node.kind : node.source || "-"}`;
}

// The graph as drawn: { nodes, edges }, where a node is a lineage node or a group
// { group: key, depth, kind, source, members, record_id: key, recorded_at } and an edge is
// { from, to, kind, members: [lineage edges] }. `expanded`: group keys opened by a click.
export function collapseGraph(graph, by, expanded = new Set()) {
  if (by === "none") {
    return { nodes: graph.nodes, edges: graph.edges.map((e) => ({ ...e, members: [e] })) };
  }
  const decision = graph.loan?.decision;
  const buckets = new Map();
  for (const node of graph.nodes) {
    if (node.record_id === decision) continue;  // the decision stays a node of its own
    const key = groupKey(node, by);
    if (!buckets.has(key)) buckets.set(key, []);
    buckets.get(key).push(node);
  }
  const shownAs = new Map();  // record_id -> the id it is drawn as
  const nodes = [];
  const placed = new Set();
  for (const node of graph.nodes) {
    const key = node.record_id === decision ? null : groupKey(node, by);
    const members = key ? buckets.get(key) : null;
    if (!members || members.length < MIN_GROUP || expanded.has(key)) {
      shownAs.set(node.record_id, node.record_id);
      nodes.push(node);
      continue;
    }
    shownAs.set(node.record_id, key);
    if (placed.has(key)) continue;
    placed.add(key);
    const kinds = new Set(members.map((m) => m.kind));
    nodes.push({
      group: key, record_id: key, depth: node.depth, by, members,
      kind: kinds.size === 1 ? node.kind : "mixed",
      source: by === "source" ? node.source : null,
      recorded_at: members.reduce((a, m) => (m.recorded_at < a ? m.recorded_at : a), node.recorded_at),
    });
  }
  const merged = new Map();
  for (const edge of graph.edges) {
    const from = shownAs.get(edge.from), to = shownAs.get(edge.to);
    if (!from || !to || from === to) continue;
    const key = `${from} ${to} ${edge.kind}`;
    if (!merged.has(key)) merged.set(key, { from, to, kind: edge.kind, members: [] });
    merged.get(key).members.push(edge);
  }
  return { nodes, edges: [...merged.values()] };
}
