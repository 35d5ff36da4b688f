// Lays the topology out with dagre in fixed columns: ingress → apps (app, service, task) → hosts →
// storage (volume, target). Columns are given, not found: dagre's own ranking would pull a host
// with nothing on it into the ingress column, so each node's rank is set from its kind and dagre
// runs with `ranker: "none"`, left only the ordering within columns and the coordinates.
import dagre from "@dagrejs/dagre";
import type {
  TopologyEdge,
  TopologyNode,
  TopologyNodeKind,
  TopologyRank,
} from "../../lib/topology/graph.ts";

/** Size of a node's box on the map (SVG units). */
export const NODE_W = 184;
export const NODE_H = 64;

/**
 * The columns of each rank, by kind, left to right. Tasks may stand with their app (rank "apps")
 * or with the host they run on (rank "hosts", as the API puts them): either way they get a column
 * of their own, so a task and its host never share one.
 */
const RANK_KINDS: Record<TopologyRank, TopologyNodeKind[]> = {
  ingress: ["route"],
  apps: ["app", "service", "task"],
  hosts: ["task", "host"],
  storage: ["volume", "target"],
};
const RANK_ORDER: TopologyRank[] = ["ingress", "apps", "hosts", "storage"];
const RANK_COLUMN = Object.fromEntries(
  RANK_ORDER.map((r, i) => [
    r,
    RANK_ORDER.slice(0, i).reduce((sum, before) => sum + RANK_KINDS[before].length, 0),
  ]),
) as Record<TopologyRank, number>;

/** The column of a node: its rank's first, plus its kind's place within the rank. */
export function columnOf(n: Pick<TopologyNode, "rank" | "kind">): number {
  const kinds = RANK_KINDS[n.rank] ?? [];
  return (RANK_COLUMN[n.rank] ?? 0) + Math.max(0, kinds.indexOf(n.kind));
}

/** What dagre is given: nodes with their column, edges pointing from lower to higher column. */
export interface LayoutInput {
  nodes: { id: string; column: number }[];
  edges: { id: string; v: string; w: string }[];
}

/**
 * Builds dagre's input from the visible nodes and edges. Edges are turned to point rightwards (the
 * API may name them either way: a service mounts a volume, a task runs on a host); edges within one
 * column or to a hidden node are left out of the layout (they are still drawn, straight).
 */
export function layoutInput(
  nodes: Iterable<TopologyNode>,
  edges: Iterable<TopologyEdge>,
): LayoutInput {
  const column = new Map<string, number>();
  const out: LayoutInput = { nodes: [], edges: [] };
  for (const n of nodes) {
    const c = columnOf(n);
    column.set(n.id, c);
    out.nodes.push({ id: n.id, column: c });
  }
  const seen = new Set<string>();
  for (const e of edges) {
    const a = column.get(e.from);
    const b = column.get(e.to);
    if (a === undefined || b === undefined || a === b) continue;
    const [v, w] = a < b ? [e.from, e.to] : [e.to, e.from];
    // dagre keeps one edge per pair (no multigraph): "routes to" and "has" between the same two
    // nodes are one line on the map.
    const key = `${v}\n${w}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.edges.push({ id: e.id, v, w });
  }
  return out;
}

/** Where everything goes: node centres, edge polylines and the drawing's size. */
export interface Layout {
  nodes: Map<string, { x: number; y: number }>;
  /** Edge id → points (first and last on the nodes' borders). */
  edges: Map<string, { x: number; y: number }[]>;
  width: number;
  height: number;
}

/**
 * Above this many nodes dagre's crossing minimisation is skipped: its sweeps took 1.0–1.3 s of
 * the 1.3 s a 500-node layout took here (blocking the page), while the depth-first first order
 * already keeps each app's services and tasks together. Measured: 270 ms without.
 */
export const OPTIMAL_ORDER_MAX_NODES = 200;

/** Runs dagre on `input`; `dir` "LR" (columns left to right) or "TB" (top to bottom, phones). */
export function runLayout(input: LayoutInput, dir: "LR" | "TB" = "LR"): Layout {
  const g = new dagre.graphlib.Graph();
  g.setGraph({
    rankdir: dir,
    ranker: "none",
    nodesep: 18,
    ranksep: dir === "LR" ? 70 : 50,
    marginx: 24,
    marginy: 24,
  });
  g.setDefaultEdgeLabel(() => ({}));
  // dagre doubles every edge's minlen to make room for edge labels, so columns are doubled too.
  for (const n of input.nodes) {
    g.setNode(n.id, { width: NODE_W, height: NODE_H, rank: n.column * 2 });
  }
  for (const e of input.edges) g.setEdge(e.v, e.w, { id: e.id });
  dagre.layout(g, {
    disableOptimalOrderHeuristic: input.nodes.length > OPTIMAL_ORDER_MAX_NODES,
  });
  const nodes = new Map<string, { x: number; y: number }>();
  for (const id of g.nodes()) {
    const n = g.node(id);
    nodes.set(id, { x: n.x, y: n.y });
  }
  const edges = new Map<string, { x: number; y: number }[]>();
  for (const e of g.edges()) {
    const label = g.edge(e) as { id: string; points?: { x: number; y: number }[] };
    if (label.points) edges.set(label.id, label.points);
  }
  const size = g.graph();
  return { nodes, edges, width: size.width ?? 0, height: size.height ?? 0 };
}

/** An SVG path through `points`: straight ends, smoothed corners. */
export function edgePath(points: { x: number; y: number }[]): string {
  if (points.length === 0) return "";
  const r = (v: number) => Math.round(v * 10) / 10;
  let d = `M${r(points[0].x)},${r(points[0].y)}`;
  if (points.length === 2) return d + `L${r(points[1].x)},${r(points[1].y)}`;
  for (let i = 1; i < points.length - 1; i++) {
    const p = points[i];
    const next = points[i + 1];
    const mid = i === points.length - 2 ? next : { x: (p.x + next.x) / 2, y: (p.y + next.y) / 2 };
    d += `Q${r(p.x)},${r(p.y)} ${r(mid.x)},${r(mid.y)}`;
  }
  return d;
}

/** Where a straight edge between two node centres leaves and enters their boxes. */
export function straightEdge(
  a: { x: number; y: number },
  b: { x: number; y: number },
): { x: number; y: number }[] {
  const clip = (from: { x: number; y: number }, to: { x: number; y: number }) => {
    const dx = to.x - from.x;
    const dy = to.y - from.y;
    if (dx === 0 && dy === 0) return from;
    const sx = dx === 0 ? Infinity : (NODE_W / 2) / Math.abs(dx);
    const sy = dy === 0 ? Infinity : (NODE_H / 2) / Math.abs(dy);
    const s = Math.min(sx, sy, 1);
    return { x: from.x + dx * s, y: from.y + dy * s };
  };
  return [clip(a, b), clip(b, a)];
}
