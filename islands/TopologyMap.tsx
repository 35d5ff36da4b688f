// The topology map (issue 22): the graph of routes, apps, services, tasks, hosts, volumes and backup
// targets laid out in columns by dagre and drawn as SVG, kept current from the topology topic's
// patches and the metrics topics' samples, without polling.
//
// Why it is built this way:
// - 500 nodes must stay smooth, so each node reads its own signal: a patch that changes a node sets
//   that signal and only that node re-renders; the layout runs again only when nodes or edges come
//   or go. Hover highlights and pan/zoom touch DOM attributes, never the node components.
// - A patch whose version skips one means patches were lost: the graph is fetched again (and after
//   a reconnect too), with patches arriving meanwhile held and applied on top.
// - The page renders a table of the same data for phones, screen readers and browsers without
//   JavaScript; the map is the enhancement, so the island renders nothing on the server.
import { type Signal, signal, useComputed, useSignal } from "@preact/signals";
import type { VNode } from "preact";
import { useEffect, useMemo, useRef } from "preact/hooks";
import type { Topic } from "../lib/realtime/topics.ts";
import type {
  TopologyGraph,
  TopologyNode,
  TopologyPatch,
  TopologyStatus,
} from "../lib/topology/graph.ts";
import { subscribeLive } from "./client/realtime.ts";
import { LiveMarker } from "./live/LiveMarker.tsx";
import type { LiveState } from "./client/realtime.ts";
import {
  applyPatch,
  facets,
  type GraphState,
  type MapFilter,
  neighbourhood,
  NO_FILTER,
  search,
  stateOf,
  visibleNodes,
} from "./topology/model.ts";
import {
  edgePath,
  type Layout,
  layoutInput,
  NODE_H,
  NODE_W,
  runLayout,
  straightEdge,
} from "./topology/layout.ts";
import { containerUsages, type Usage, usageOf } from "./topology/metrics.ts";
import {
  BACKUP_TONE,
  backupText,
  KIND_LABEL,
  nodeSummary,
  RANKS,
  replicasText,
  STATUS_TONE,
} from "./topology/format.ts";

/** Props of the TopologyMap island (JSON-serialisable). */
export interface TopologyMapProps {
  graph: TopologyGraph;
  /** The topology topic of the page's scope (patches), or null when there is none. */
  topic: Topic<TopologyPatch> | null;
  /** Where the graph is fetched again after a gap or a reconnect. */
  graphUrl: string;
}

/** Most metrics topics one map subscribes to (bounded work per page, DESIGN §5.7). */
const MAX_METRICS_TOPICS = 200;
/** Most patches held while the graph is fetched again; past it the fetch result wins anyway. */
const MAX_HELD = 2000;
/** Structural patches arriving within this time share one layout. */
const RELAYOUT_DEBOUNCE_MS = 150;
const MIN_ZOOM = 0.08;
/** Below this scale node labels cannot be read; fitting stops there (see `fit`). */
const READABLE_ZOOM = 0.45;
const MAX_ZOOM = 4;

interface View {
  x: number;
  y: number;
  k: number;
}

/** The map's live data: the graph plus one signal per node (its paint) and per metrics source. */
class MapStore {
  state: GraphState;
  nodes = new Map<string, Signal<TopologyNode>>();
  usage = new Map<string, Signal<Usage | null>>();
  /** Bumped when nodes or edges come or go: the layout and the node list follow it. */
  structure = signal(0);

  constructor(graph: TopologyGraph) {
    this.state = stateOf(graph);
    this.syncSignals();
  }

  /** Makes the per-node signals match the graph (after a relayout or a refetch). */
  syncSignals() {
    for (const [id, n] of this.state.nodes) {
      const s = this.nodes.get(id);
      if (!s) this.nodes.set(id, signal(n));
      else if (s.peek() !== n) s.value = n;
    }
    for (const id of this.nodes.keys()) if (!this.state.nodes.has(id)) this.nodes.delete(id);
  }

  usageSignal(key: string): Signal<Usage | null> {
    let s = this.usage.get(key);
    if (!s) this.usage.set(key, s = signal(null));
    return s;
  }

  /**
   * Takes a freshly fetched graph. When the same nodes and edges are there (the usual case: the
   * fetch that follows subscribing), only the nodes that differ repaint, with no new layout.
   */
  replace(graph: TopologyGraph) {
    const next = stateOf(graph);
    const same = next.nodes.size === this.state.nodes.size &&
      next.edges.size === this.state.edges.size &&
      [...next.edges.keys()].every((id) => this.state.edges.has(id)) &&
      [...next.nodes.values()].every((n) => {
        const old = this.state.nodes.get(n.id);
        return old && old.rank === n.rank && old.kind === n.kind;
      });
    this.state = next;
    this.syncSignals();
    if (!same) this.structure.value++;
  }
}

/** The host a node's metrics are of: a host node's own id, else the `host_id` its detail names. */
function hostIdOf(n: TopologyNode): string | null {
  if (n.kind === "host") return n.id.slice("host:".length);
  return n.detail?.host_id ?? null;
}

/**
 * The key of a node's usage signal: its metrics topic plus its host, since a topic may be shared
 * by every host of the organization (the fleet topic) and its events say which host they are of.
 */
function usageKey(n: TopologyNode): string | null {
  if (!n.metricsTopic) return null;
  // A task's bars come from its host's fleet summary, under its container id (FleetEvent.ctr).
  if (n.kind === "task") return `${n.metricsTopic}#${n.id}`;
  const host = hostIdOf(n);
  return host ? `${n.metricsTopic}#${host}` : n.metricsTopic;
}

/** Colours by status: the same variables as the badges (static/app.css). */
const STATUS_CLASS: Record<TopologyStatus, string> = {
  running: "st-running",
  degraded: "st-degraded",
  down: "st-down",
  unknown: "st-unknown",
};

function Bar({ y, label, value }: { y: number; label: string; value: number | null }) {
  const w = NODE_W - 58;
  const v = value ?? 0;
  return (
    <g class="topo-bar" transform={`translate(12 ${y})`}>
      <text x={0} y={7} class="topo-bar-label">{label}</text>
      <rect x={30} y={0} width={w} height={8} rx={2} class="topo-bar-bg" />
      <rect
        x={30}
        y={0}
        width={Math.max(0, Math.min(w, (w * v) / 100))}
        height={8}
        rx={2}
        class={v >= 90 ? "topo-bar-fill hot" : "topo-bar-fill"}
      />
      <text x={w + 34} y={7} class="topo-bar-value">
        {value === null ? "–" : `${Math.round(v)}%`}
      </text>
    </g>
  );
}

/**
 * One node: reads its own signal (and its usage signal), so a patch repaints it alone. The map
 * hands Preact the same vnode again while position and signals are unchanged, which skips it on
 * the map's own re-renders (no `memo`: preact/compat would change rendering server-wide).
 */
function NodeView(
  { node, usage, x, y, now }: {
    node: Signal<TopologyNode>;
    usage: Signal<Usage | null> | null;
    x: number;
    y: number;
    now: number;
  },
) {
  const n = node.value;
  const u = usage?.value ?? null;
  const hasBars = !!n.metricsTopic;
  const meta = [
    replicasText(n) && `${replicasText(n)} running`,
    n.health && n.health !== "none" ? `health ${n.health}` : "",
  ].filter(Boolean).join(" · ");
  return (
    <g
      class={`topo-node ${STATUS_CLASS[n.status] ?? "st-unknown"} kind-${n.kind}`}
      transform={`translate(${x - NODE_W / 2} ${y - NODE_H / 2})`}
      data-id={n.id}
      data-status={n.status}
      data-backup={n.backup?.state}
      // Lower-case: on SVG, Preact sets attributes as written and `tabIndex` is not one.
      tabindex={0}
      role={n.href ? "link" : "img"}
      aria-label={nodeSummary(n, now)}
    >
      <title>{nodeSummary(n, now)}</title>
      <rect class="topo-box" width={NODE_W} height={NODE_H} rx={6} />
      <rect class="topo-stripe" width={5} height={NODE_H} rx={2} />
      <text x={12} y={15} class="topo-kind">{KIND_LABEL[n.kind] ?? n.kind}</text>
      <text x={12} y={31} class="topo-label">
        {n.label.length > 24 ? n.label.slice(0, 23) + "…" : n.label}
      </text>
      {n.backup && (
        <g class={`topo-backup bk-${n.backup.state}`} transform={`translate(${NODE_W - 8} 6)`}>
          <text x={0} y={9} text-anchor="end">{backupText(n.backup, now)}</text>
        </g>
      )}
      {hasBars
        ? (
          <>
            <Bar y={38} label="CPU" value={u?.cpu ?? null} />
            <Bar y={50} label="Mem" value={u?.mem ?? null} />
          </>
        )
        : meta && <text x={12} y={50} class="topo-meta">{meta}</text>}
      {hasBars && meta && (
        <text x={NODE_W - 8} y={31} class="topo-meta" text-anchor="end">{meta}</text>
      )}
    </g>
  );
}

/** The props a cached node vnode was made with. */
interface NodeVNode {
  node: Signal<TopologyNode>;
  usage: Signal<Usage | null> | null;
  x: number;
  y: number;
  now: number;
  vnode: VNode;
}

/**
 * Keeps the page's table row of a node (components/TopologyTable.tsx) in step with the map: its
 * status, replicas and backup state, so the table read by a screen reader is live as well.
 */
function syncRow(n: TopologyNode) {
  const row = document.querySelector(`tr[data-node="${CSS.escape(n.id)}"]`);
  if (!row) return;
  row.setAttribute("data-status", n.status);
  const status = row.querySelector("td[data-label=Status] .badge");
  if (status) {
    status.className = `badge badge-${STATUS_TONE[n.status] ?? "neutral"}`;
    status.textContent = n.status;
  }
  const replicas = row.querySelector("td[data-label=Replicas]");
  if (replicas && n.replicas) replicas.textContent = replicasText(n);
  const backup = row.querySelector("td[data-label=Backup] .badge");
  if (backup && n.backup) {
    backup.className = `badge badge-${BACKUP_TONE[n.backup.state]}`;
    backup.textContent = n.backup.state;
  }
}

/** Fetches the graph of the page's scope again; accepts the graph or `{ graph }`. */
async function fetchGraph(url: string): Promise<TopologyGraph> {
  const res = await fetch(url, { headers: { accept: "application/json" } });
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  const body = await res.json();
  const g = (body && Array.isArray(body.nodes) ? body : body?.graph ?? body?.data) as TopologyGraph;
  if (!g || !Array.isArray(g.nodes) || !Array.isArray(g.edges)) {
    throw new Error(`GET ${url}: not a topology graph`);
  }
  return g;
}

export default function TopologyMap({ graph, topic, graphUrl }: TopologyMapProps) {
  const store = useMemo(() => new MapStore(graph), []);
  const mounted = useSignal(false);
  const live = useSignal<LiveState>("off");
  const filter = useSignal<MapFilter>(NO_FILTER);
  const query = useSignal("");
  const view = useSignal<View>({ x: 0, y: 0, k: 1 });
  const notice = useSignal("");
  const narrow = useSignal(false);
  // Backup ages move on once a minute, not with every render.
  const now = useSignal(Date.now());
  const svgRef = useRef<SVGSVGElement>(null);
  const frameRef = useRef<HTMLDivElement>(null);
  const layoutCache = useRef(new Map<string, Layout>());
  const vnodeCache = useRef(new Map<string, NodeVNode>());

  useEffect(() => {
    narrow.value = (frameRef.current?.clientWidth ?? 1000) < 560;
    mounted.value = true;
    const tick = setInterval(() => now.value = Date.now(), 60_000);
    return () => clearInterval(tick);
  }, []);

  // Visible nodes and their layout: recomputed when the structure or the filter changes only.
  const visible = useComputed(() => {
    store.structure.value;
    return visibleNodes(store.state, filter.value);
  });
  const layout = useComputed<Layout | null>(() => {
    if (!mounted.value) return null;
    store.structure.value;
    const ids = visible.value;
    const dir = narrow.value ? "TB" : "LR";
    const key =
      `${store.structure.value}|${dir}|${filter.value.app}|${filter.value.host}|${filter.value.status}`;
    const cached = layoutCache.current.get(key);
    if (cached) return cached;
    const nodes = [...ids].map((id) => store.state.nodes.get(id)!).filter(Boolean);
    const edges = [...store.state.edges.values()].filter((e) => ids.has(e.from) && ids.has(e.to));
    const l = runLayout(layoutInput(nodes, edges), dir);
    // Only the current structure's layouts are worth keeping.
    if (layoutCache.current.size > 16) layoutCache.current.clear();
    layoutCache.current.set(key, l);
    return l;
  });
  const matchIds = useComputed(() => new Set(search(store.state, visible.value, query.value)));

  const fit = (only?: Set<string>) => {
    const l = layout.peek();
    const frame = frameRef.current;
    if (!l || !frame) return;
    let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    for (const [id, p] of l.nodes) {
      if (only && only.size && !only.has(id)) continue;
      minX = Math.min(minX, p.x - NODE_W / 2);
      minY = Math.min(minY, p.y - NODE_H / 2);
      maxX = Math.max(maxX, p.x + NODE_W / 2);
      maxY = Math.max(maxY, p.y + NODE_H / 2);
    }
    if (!Number.isFinite(minX)) return;
    const pad = 24;
    const w = frame.clientWidth, h = frame.clientHeight;
    const byWidth = (w - 2 * pad) / (maxX - minX);
    const whole = Math.min(1.5, byWidth, (h - 2 * pad) / (maxY - minY));
    if (whole >= READABLE_ZOOM || byWidth < READABLE_ZOOM) {
      const k = Math.max(MIN_ZOOM, whole);
      view.value = {
        k,
        x: (w - (maxX - minX) * k) / 2 - minX * k,
        y: (h - (maxY - minY) * k) / 2 - minY * k,
      };
    } else {
      // A tall graph (hundreds of apps) would shrink past reading: fit its width, show its top,
      // and let the reader pan down.
      const k = Math.min(1.5, byWidth);
      view.value = { k, x: (w - (maxX - minX) * k) / 2 - minX * k, y: pad - minY * k };
    }
  };

  // A new layout (first draw, filter, structure change) fits the view to it.
  useEffect(() => layout.subscribe((l) => l && requestAnimationFrame(() => fit())), []);

  const zoomAt = (factor: number, cx?: number, cy?: number) => {
    const frame = frameRef.current;
    const v = view.peek();
    const k = Math.max(MIN_ZOOM, Math.min(MAX_ZOOM, v.k * factor));
    const px = cx ?? (frame?.clientWidth ?? 0) / 2;
    const py = cy ?? (frame?.clientHeight ?? 0) / 2;
    view.value = { k, x: px - ((px - v.x) * k) / v.k, y: py - ((py - v.y) * k) / v.k };
  };
  const panBy = (dx: number, dy: number) => {
    const v = view.peek();
    view.value = { ...v, x: v.x + dx, y: v.y + dy };
  };

  // Patches from the topology topic, with a refetch on a version gap or after a reconnect.
  useEffect(() => {
    if (!topic) return;
    let fetching = false;
    let held: TopologyPatch[] = [];
    let wasLive = false;
    let relayoutTimer: ReturnType<typeof setTimeout> | undefined;
    const apply = (p: TopologyPatch) => {
      const out = applyPatch(store.state, p);
      if (out.kind === "repaint") {
        const n = store.state.nodes.get(out.id)!;
        store.nodes.get(out.id)!.value = n;
        syncRow(n);
      } else if (out.kind === "relayout") {
        store.syncSignals();
        // A deploy sends a burst of structural patches: lay out once for all of them.
        relayoutTimer ??= setTimeout(() => {
          relayoutTimer = undefined;
          store.structure.value++;
        }, RELAYOUT_DEBOUNCE_MS);
      } else if (out.kind === "gap") refetch(`missed patches ${out.expected}–${out.got - 1}`);
      else if (out.kind === "reload") refetch("many changes");
      return out;
    };
    // `why` is shown while the fetch runs; the quiet fetch after subscribing shows nothing.
    const refetch = (why: string | null) => {
      if (fetching) return;
      fetching = true;
      if (why) notice.value = `Reloading the map (${why})…`;
      fetchGraph(graphUrl).then((g) => {
        store.replace(g);
        const later = held.filter((p) => p.version > g.version).sort((a, b) =>
          a.version - b.version
        );
        held = [];
        fetching = false;
        notice.value = "";
        for (const p of later) apply(p);
      }).catch((err) => {
        fetching = false;
        held = [];
        notice.value = `The map could not be reloaded (${
          (err as Error).message
        }); refresh the page.`;
      });
    };
    const unsubscribe = subscribeLive([topic], {
      event: (_t, p) => {
        if (fetching) {
          if (held.length < MAX_HELD) held.push(p);
          return;
        }
        apply(p);
      },
      state: (s) => {
        live.value = s;
        // Subscribed first, then read (lib/topology/TOPOLOGY.md): patches published between the
        // page's rendering and the subscription would otherwise be lost until the next gap. After
        // a reconnect the same holds for everything published while the socket was away.
        if (s === "live") refetch(wasLive ? "reconnected" : null);
        if (s === "live") wasLive = true;
      },
    });
    return () => {
      unsubscribe();
      clearTimeout(relayoutTimer);
    };
  }, [topic, graphUrl]);

  // CPU and memory from the metrics topics the nodes name (one subscription per distinct topic).
  const metricsKey = useComputed(() => {
    store.structure.value;
    const set = new Set<string>();
    for (const n of store.state.nodes.values()) {
      if (n.metricsTopic && set.size < MAX_METRICS_TOPICS) set.add(n.metricsTopic);
    }
    return [...set].sort().join("\n");
  });
  useEffect(() => {
    const key = metricsKey.value;
    if (!key) return;
    const list = key.split("\n") as Topic<unknown>[];
    return subscribeLive(list, {
      event: (t, data) => {
        const u = usageOf(data);
        if (u) store.usageSignal(u.hostId ? `${t}#${u.hostId}` : t).value = u.usage;
        // Only containers on the map: a signal per container the org ever ran would pile up.
        for (const [id, usage] of containerUsages(data)) {
          if (store.state.nodes.has(`task:${id}`)) {
            store.usageSignal(`${t}#task:${id}`).value = usage;
          }
        }
      },
      state: () => {},
    });
  }, [metricsKey.value]);

  // Hover: the node, its neighbours and the edges between light up; the rest dims (DOM only).
  const hl = useRef<Element[]>([]);
  const clearHover = () => {
    svgRef.current?.removeAttribute("data-hover");
    for (const el of hl.current) el.removeAttribute("data-near");
    hl.current = [];
  };
  const hover = (id: string) => {
    const svg = svgRef.current;
    if (!svg) return;
    clearHover();
    const near = neighbourhood(id, store.state.edges.values());
    svg.setAttribute("data-hover", "1");
    for (const el of svg.querySelectorAll<SVGElement>("[data-id]")) {
      const nid = el.dataset.id!;
      if (near.nodes.has(nid) || near.edges.has(nid)) {
        el.setAttribute("data-near", nid === id ? "self" : "1");
        hl.current.push(el);
      }
    }
  };

  // Drag to pan; a drag that started on a node does not open it.
  const drag = useRef<{ x: number; y: number; moved: boolean; id: number } | null>(null);
  const onPointerDown = (e: PointerEvent) => {
    if (e.button !== 0) return;
    drag.current = { x: e.clientX, y: e.clientY, moved: false, id: e.pointerId };
  };
  const onPointerMove = (e: PointerEvent) => {
    const d = drag.current;
    if (!d || d.id !== e.pointerId) return;
    const dx = e.clientX - d.x, dy = e.clientY - d.y;
    if (!d.moved && Math.hypot(dx, dy) < 4) return;
    if (!d.moved) {
      d.moved = true;
      (e.currentTarget as Element).setPointerCapture?.(e.pointerId);
    }
    d.x = e.clientX;
    d.y = e.clientY;
    panBy(dx, dy);
  };
  const onPointerUp = (e: PointerEvent) => {
    const d = drag.current;
    drag.current = null;
    if (!d || d.moved) return;
    const el = (e.target as Element).closest?.("[data-id].topo-node") as SVGElement | null;
    const n = el && store.state.nodes.get(el.dataset.id!);
    if (n?.href) location.href = n.href;
  };
  const onWheel = (e: WheelEvent) => {
    e.preventDefault();
    const r = frameRef.current!.getBoundingClientRect();
    zoomAt(Math.exp(-e.deltaY * 0.0015), e.clientX - r.left, e.clientY - r.top);
  };
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const step = 60;
    const target = e.target as Element;
    switch (e.key) {
      case "Enter": {
        const el = target.closest?.(".topo-node") as SVGElement | null;
        const n = el && store.state.nodes.get(el.dataset.id!);
        if (n?.href) location.href = n.href;
        return;
      }
      case "+":
      case "=":
        zoomAt(1.25);
        break;
      case "-":
      case "_":
        zoomAt(0.8);
        break;
      case "0":
        fit();
        break;
      case "ArrowLeft":
        panBy(step, 0);
        break;
      case "ArrowRight":
        panBy(-step, 0);
        break;
      case "ArrowUp":
        panBy(0, step);
        break;
      case "ArrowDown":
        panBy(0, -step);
        break;
      default:
        return;
    }
    e.preventDefault();
  };
  // A node reached with Tab comes into view.
  const onFocusIn = (e: FocusEvent) => {
    const el = (e.target as Element).closest?.(".topo-node") as SVGElement | null;
    const p = el && layout.peek()?.nodes.get(el.dataset.id!);
    const frame = frameRef.current;
    if (!p || !frame) return;
    const v = view.peek();
    const sx = p.x * v.k + v.x, sy = p.y * v.k + v.y;
    const w = frame.clientWidth, h = frame.clientHeight;
    const mx = (NODE_W / 2) * v.k + 8, my = (NODE_H / 2) * v.k + 8;
    if (sx < mx || sx > w - mx || sy < my || sy > h - my) {
      view.value = { ...v, x: w / 2 - p.x * v.k, y: h / 2 - p.y * v.k };
    }
  };
  // The wheel listener must not be passive, or preventDefault cannot keep the page from scrolling.
  useEffect(() => {
    const frame = frameRef.current;
    if (!frame) return;
    frame.addEventListener("wheel", onWheel, { passive: false });
    return () => frame.removeEventListener("wheel", onWheel);
  }, [mounted.value]);

  const transform = useComputed(() =>
    `translate(${view.value.x.toFixed(1)} ${view.value.y.toFixed(1)}) scale(${
      view.value.k.toFixed(4)
    })`
  );

  if (!mounted.value) return <div class="topo-map" hidden />;

  const l = layout.value;
  const ids = visible.value;
  const matchSet = matchIds.value;
  const vnodes = vnodeCache.current;
  const nextVNodes = new Map<string, NodeVNode>();
  const nodeEls = l
    ? [...l.nodes].map(([id, p]) => {
      const sig = store.nodes.get(id);
      if (!sig) return null;
      const uk = usageKey(sig.peek());
      const usage = uk ? store.usageSignal(uk) : null;
      let c = vnodes.get(id);
      if (
        !c || c.node !== sig || c.usage !== usage || c.x !== p.x || c.y !== p.y ||
        c.now !== now.value
      ) {
        c = {
          node: sig,
          usage,
          x: p.x,
          y: p.y,
          now: now.value,
          vnode: <NodeView node={sig} usage={usage} x={p.x} y={p.y} now={now.value} />,
        };
      }
      nextVNodes.set(id, c);
      return <g key={id} data-match={matchSet.has(id) ? "1" : undefined}>{c.vnode}</g>;
    })
    : null;
  // The cache holds exactly the nodes drawn now.
  vnodeCache.current = nextVNodes;
  const f = facets(store.state);
  const total = store.state.nodes.size;
  const setFilter = (patch: Partial<MapFilter>) => filter.value = { ...filter.value, ...patch };

  return (
    <section class="topo-map card" aria-label="Topology map">
      <div class="topo-toolbar">
        <label>
          <span>App</span>
          <select
            value={filter.value.app}
            onChange={(e) => setFilter({ app: (e.target as HTMLSelectElement).value })}
            name="topo-app"
          >
            <option value="">All apps</option>
            {f.apps.map((n) => <option key={n.id} value={n.id}>{n.label}</option>)}
          </select>
        </label>
        <label>
          <span>Host</span>
          <select
            value={filter.value.host}
            onChange={(e) => setFilter({ host: (e.target as HTMLSelectElement).value })}
            name="topo-host"
          >
            <option value="">All hosts</option>
            {f.hosts.map((n) => <option key={n.id} value={n.id}>{n.label}</option>)}
          </select>
        </label>
        <label>
          <span>Status</span>
          <select
            value={filter.value.status}
            onChange={(e) =>
              setFilter({ status: (e.target as HTMLSelectElement).value as TopologyStatus | "" })}
            name="topo-status"
          >
            <option value="">Any status</option>
            <option value="running">Running</option>
            <option value="degraded">Degraded</option>
            <option value="down">Down</option>
            <option value="unknown">Unknown</option>
          </select>
        </label>
        <label class="topo-search">
          <span>Search</span>
          <input
            type="search"
            value={query.value}
            placeholder="Name, id, address…"
            onInput={(e) => query.value = (e.target as HTMLInputElement).value}
            onKeyDown={(e) => {
              if (e.key === "Enter") {
                e.preventDefault();
                fit(matchIds.peek());
              }
            }}
          />
        </label>
        <div class="topo-zoom" role="group" aria-label="Zoom">
          <button
            type="button"
            class="btn btn-small"
            onClick={() => zoomAt(1.25)}
            title="Zoom in (+)"
          >
            +
          </button>
          <button
            type="button"
            class="btn btn-small"
            onClick={() => zoomAt(0.8)}
            title="Zoom out (−)"
          >
            −
          </button>
          <button type="button" class="btn btn-small" onClick={() => fit()} title="Fit (0)">
            Fit
          </button>
        </div>
        <LiveMarker state={live.value} />
      </div>
      <p class="topo-status muted small" aria-live="polite">
        {ids.size === total ? `${total} nodes` : `${ids.size} of ${total} nodes`}
        {query.value.trim() ? ` · ${matchSet.size} match${matchSet.size === 1 ? "" : "es"}` : ""}
        {store.state.truncated ? " · the graph was cut at its node limit" : ""}
        {notice.value ? ` · ${notice.value}` : ""}
      </p>
      <div
        class="topo-frame"
        ref={frameRef}
        tabIndex={0}
        aria-label="Map: Tab moves between nodes, Enter opens one, + and − zoom, arrows pan, 0 fits"
        onKeyDown={onKeyDown}
        onFocusIn={onFocusIn}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={() => drag.current = null}
        onPointerOver={(e) => {
          const el = (e.target as Element).closest?.(".topo-node") as SVGElement | null;
          if (el) hover(el.dataset.id!);
        }}
        onPointerOut={(e) => {
          const to = (e.relatedTarget as Element | null)?.closest?.(".topo-node");
          if (!to) clearHover();
        }}
      >
        <svg
          ref={svgRef}
          class="topo-svg"
          data-search={query.value.trim() ? "1" : undefined}
          role="group"
          aria-label={`Topology map, ${ids.size} nodes`}
        >
          <g transform={transform}>
            {l && (
              <>
                <g class="topo-columns" aria-hidden="true">
                  {RANKS.map((r) => {
                    const xs = [...l.nodes].filter(([id]) =>
                      store.state.nodes.get(id)?.rank === r.rank
                    ).map(([, p]) => narrow.value ? p.y : p.x);
                    if (!xs.length) return null;
                    const at = Math.min(...xs) - (narrow.value ? NODE_H : NODE_W) / 2;
                    return narrow.value
                      ? <text key={r.rank} x={4} y={at - 8} class="topo-rank">{r.title}</text>
                      : <text key={r.rank} x={at} y={12} class="topo-rank">{r.title}</text>;
                  })}
                </g>
                <g class="topo-edges" aria-hidden="true">
                  {[...store.state.edges.values()].map((e) => {
                    if (!ids.has(e.from) || !ids.has(e.to)) return null;
                    const pts = l.edges.get(e.id) ??
                      (l.nodes.has(e.from) && l.nodes.has(e.to)
                        ? straightEdge(l.nodes.get(e.from)!, l.nodes.get(e.to)!)
                        : null);
                    if (!pts) return null;
                    return (
                      <path
                        key={e.id}
                        d={edgePath(pts)}
                        class={`topo-edge ek-${e.kind}`}
                        data-id={e.id}
                      />
                    );
                  })}
                </g>
                <g class="topo-nodes">{nodeEls}</g>
              </>
            )}
          </g>
        </svg>
      </div>
      <p class="hint small">
        Drag to pan, wheel or + / − to zoom, 0 to fit. Tab moves between nodes, Enter opens one. The
        table below lists the same nodes.
      </p>
    </section>
  );
}
