/**
 * Diffs two builds of one scope's graph into the small patches the realtime topic carries: a node
 * added or changed (the whole node, so applying is an upsert), a node removed, an edge added, an
 * edge removed. Edges never change in place: their id names their kind and both ends.
 */
import type { TopologyEdge, TopologyGraph, TopologyNode, TopologyPatch } from "./graph.ts";

/** A patch before it is numbered. */
export type PatchBody =
  | { op: "node"; node: TopologyNode }
  | { op: "node_removed"; id: string }
  | { op: "edge"; edge: TopologyEdge }
  | { op: "edge_removed"; id: string };

/** Deterministic JSON of a node (keys sorted), so equal nodes compare equal whatever built them. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * What turns `before` into `after`: removals of edges first, then of nodes, then nodes added or
 * changed, then edges added — so a client applying them in order never holds an edge to a node it
 * does not have.
 */
export function diffGraphs(
  before: Pick<TopologyGraph, "nodes" | "edges">,
  after: Pick<TopologyGraph, "nodes" | "edges">,
): PatchBody[] {
  const out: PatchBody[] = [];
  const oldNodes = new Map(before.nodes.map((n) => [n.id, canonical(n)]));
  const newNodes = new Set(after.nodes.map((n) => n.id));
  const oldEdges = new Set(before.edges.map((e) => e.id));
  const newEdges = new Set(after.edges.map((e) => e.id));
  for (const e of before.edges) if (!newEdges.has(e.id)) out.push({ op: "edge_removed", id: e.id });
  for (const n of before.nodes) if (!newNodes.has(n.id)) out.push({ op: "node_removed", id: n.id });
  for (const n of after.nodes) {
    if (oldNodes.get(n.id) !== canonical(n)) out.push({ op: "node", node: n });
  }
  for (const e of after.edges) if (!oldEdges.has(e.id)) out.push({ op: "edge", edge: e });
  return out;
}

/** Numbers patches from `fromVersion + 1` on. */
export function numberPatches(bodies: PatchBody[], fromVersion: number): TopologyPatch[] {
  return bodies.map((b, i) => ({ ...b, version: fromVersion + i + 1 }) as TopologyPatch);
}

/** Applies patches to a graph (what a client does; tests use it to check a diff round-trips). */
export function applyPatches(graph: TopologyGraph, patches: TopologyPatch[]): TopologyGraph {
  const nodes = new Map(graph.nodes.map((n) => [n.id, n]));
  const edges = new Map(graph.edges.map((e) => [e.id, e]));
  let version = graph.version;
  for (const p of patches) {
    if (p.version <= version) continue;
    if (p.op === "node") nodes.set(p.node.id, p.node);
    else if (p.op === "node_removed") nodes.delete(p.id);
    else if (p.op === "edge") edges.set(p.edge.id, p.edge);
    else if (p.op === "edge_removed") edges.delete(p.id);
    else return { ...graph, version: -1 }; // reload: the caller reads the graph again
    version = p.version;
  }
  return {
    ...graph,
    version,
    nodes: [...nodes.values()].sort((a, b) => a.id.localeCompare(b.id)),
    edges: [...edges.values()].sort((a, b) => a.id.localeCompare(b.id)),
  };
}
