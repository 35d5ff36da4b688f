// The topology map's data, without the DOM: the graph as maps by id, patches applied in place
// (reporting whether the layout must change), neighbourhoods, filters and search. Pure functions
// and plain data, so the island, the server-rendered table and the tests share them.
import type {
  TopologyEdge,
  TopologyGraph,
  TopologyNode,
  TopologyPatch,
  TopologyRank,
  TopologyStatus,
} from "../../lib/topology/graph.ts";

/** The graph as the island keeps it: by id, with the version of the last patch applied. */
export interface GraphState {
  version: number;
  nodes: Map<string, TopologyNode>;
  edges: Map<string, TopologyEdge>;
  truncated: boolean;
}

/** A graph from the API (or the page's props) as maps by id. */
export function stateOf(graph: TopologyGraph): GraphState {
  return {
    version: graph.version,
    nodes: new Map(graph.nodes.map((n) => [n.id, n])),
    edges: new Map(graph.edges.map((e) => [e.id, e])),
    truncated: graph.truncated,
  };
}

/** What applying a patch did, so the island knows how little it may redraw. */
export type PatchOutcome =
  /** A known node changed where it stands: repaint that node only. */
  | { kind: "repaint"; id: string }
  /** Nodes or edges came or went (or a node moved rank): lay out again. */
  | { kind: "relayout" }
  /** Already applied (a duplicate or an older patch): nothing to do. */
  | { kind: "stale" }
  /** A version was skipped: patches were missed, the graph must be fetched again. */
  | { kind: "gap"; expected: number; got: number }
  /** Applied but changes nothing visible (an edge that was already there). */
  | { kind: "none" }
  /** The server says too much changed for patches: fetch the graph again. */
  | { kind: "reload" };

/**
 * Applies `patch` to `state` in place. Versions must follow one another: an older or equal version
 * is ignored, a skipped one is a gap (nothing is applied; the caller refetches the graph).
 */
export function applyPatch(state: GraphState, patch: TopologyPatch): PatchOutcome {
  if (patch.version <= state.version) return { kind: "stale" };
  if (patch.version !== state.version + 1) {
    return { kind: "gap", expected: state.version + 1, got: patch.version };
  }
  state.version = patch.version;
  switch (patch.op) {
    case "node": {
      const old = state.nodes.get(patch.node.id);
      state.nodes.set(patch.node.id, patch.node);
      // Same place in the layout (rank, kind and size unchanged): only its paint differs.
      if (old && old.rank === patch.node.rank && old.kind === patch.node.kind) {
        return { kind: "repaint", id: patch.node.id };
      }
      return { kind: "relayout" };
    }
    case "node_removed": {
      if (!state.nodes.delete(patch.id)) return { kind: "none" };
      for (const [id, e] of state.edges) {
        if (e.from === patch.id || e.to === patch.id) state.edges.delete(id);
      }
      return { kind: "relayout" };
    }
    case "edge": {
      const old = state.edges.get(patch.edge.id);
      state.edges.set(patch.edge.id, patch.edge);
      if (old && old.from === patch.edge.from && old.to === patch.edge.to) return { kind: "none" };
      return { kind: "relayout" };
    }
    case "edge_removed":
      return state.edges.delete(patch.id) ? { kind: "relayout" } : { kind: "none" };
    default:
      // `reload` (lib/topology/graph.ts), and any op this page does not know yet: start afresh.
      return { kind: "reload" };
  }
}

/** Node id → ids of the nodes it has an edge with (either way). */
export function adjacency(edges: Iterable<TopologyEdge>): Map<string, Set<string>> {
  const adj = new Map<string, Set<string>>();
  const add = (a: string, b: string) => {
    let s = adj.get(a);
    if (!s) adj.set(a, s = new Set());
    s.add(b);
  };
  for (const e of edges) {
    add(e.from, e.to);
    add(e.to, e.from);
  }
  return adj;
}

/** A node's neighbourhood as hover shows it: itself, the nodes next to it and the edges between. */
export function neighbourhood(
  id: string,
  edges: Iterable<TopologyEdge>,
): { nodes: Set<string>; edges: Set<string> } {
  const nodes = new Set([id]);
  const ids = new Set<string>();
  for (const e of edges) {
    if (e.from === id || e.to === id) {
      nodes.add(e.from);
      nodes.add(e.to);
      ids.add(e.id);
    }
  }
  return { nodes, edges: ids };
}

/** What the map's filter bar holds; empty strings mean "any". */
export interface MapFilter {
  /** An app node's id. */
  app: string;
  /** A host node's id. */
  host: string;
  status: TopologyStatus | "";
}

export const NO_FILTER: MapFilter = { app: "", host: "", status: "" };

/** Rank order left to right, to tell edges' direction from the ranks of their ends. */
export const RANK_ORDER: Record<TopologyRank, number> = {
  ingress: 0,
  apps: 1,
  hosts: 2,
  storage: 3,
};

/**
 * Everything linked to `seed` along one direction: what it leads to (downstream, towards storage)
 * and what leads to it (upstream, towards ingress), without turning back; plus what points into
 * its downstream from a rank left of the seed (a route to one of an app's services). So an app
 * keeps its routes, services, tasks, hosts and volumes, but not the other apps on the same host.
 */
export function lineage(seed: string, state: Pick<GraphState, "edges" | "nodes">): Set<string> {
  const down = new Map<string, string[]>();
  const up = new Map<string, string[]>();
  for (const e of state.edges.values()) {
    (down.get(e.from) ?? down.set(e.from, []).get(e.from)!).push(e.to);
    (up.get(e.to) ?? up.set(e.to, []).get(e.to)!).push(e.from);
  }
  const closure = (next: Map<string, string[]>) => {
    const visited = new Set([seed]);
    const stack = [seed];
    while (stack.length) {
      for (const w of next.get(stack.pop()!) ?? []) {
        if (!visited.has(w)) {
          visited.add(w);
          stack.push(w);
        }
      }
    }
    return visited;
  };
  const below = closure(down);
  const seen = new Set([...below, ...closure(up)]);
  const seedRank = RANK_ORDER[state.nodes.get(seed)?.rank ?? "ingress"];
  for (const d of below) {
    for (const p of up.get(d) ?? []) {
      const r = state.nodes.get(p)?.rank;
      if (r && RANK_ORDER[r] < seedRank) seen.add(p);
    }
  }
  return seen;
}

/** Ids of the nodes the filter keeps (all of them when it is empty). */
export function visibleNodes(state: GraphState, filter: MapFilter): Set<string> {
  let keep: Set<string> | null = null;
  const within = (s: Set<string>) => {
    keep = keep ? new Set([...keep].filter((id) => s.has(id))) : s;
  };
  if (filter.app && state.nodes.has(filter.app)) within(lineage(filter.app, state));
  if (filter.host && state.nodes.has(filter.host)) within(lineage(filter.host, state));
  if (filter.status) {
    within(
      new Set([...state.nodes.values()].filter((n) => n.status === filter.status).map((n) => n.id)),
    );
  }
  return keep ?? new Set(state.nodes.keys());
}

/** Whether a node matches a search: every word in its label, id, kind or detail values. */
export function matches(node: TopologyNode, query: string): boolean {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return true;
  const text = [node.label, node.id, node.kind, ...Object.values(node.detail ?? {})]
    .join(" ")
    .toLowerCase();
  return words.every((w) => text.includes(w));
}

/** Ids of the nodes among `ids` that match `query`, at most `limit` (bounded work per keystroke). */
export function search(
  state: GraphState,
  ids: Iterable<string>,
  query: string,
  limit = 500,
): string[] {
  if (!query.trim()) return [];
  const out: string[] = [];
  for (const id of ids) {
    const n = state.nodes.get(id);
    if (n && matches(n, query)) {
      out.push(id);
      if (out.length >= limit) break;
    }
  }
  return out;
}

/** The app and host nodes, by label, for the filter bar's lists. */
export function facets(state: GraphState): { apps: TopologyNode[]; hosts: TopologyNode[] } {
  const by = (kind: string) =>
    [...state.nodes.values()].filter((n) => n.kind === kind).sort((a, b) =>
      a.label.localeCompare(b.label)
    );
  return { apps: by("app"), hosts: by("host") };
}
