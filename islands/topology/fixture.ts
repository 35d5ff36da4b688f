// Graphs for the map's tests and its bench: a small install like the fixture, and a
// generated one of any size with the same shape (routes → apps → services → tasks → hosts,
// volumes → targets).
import type { TopologyEdge, TopologyGraph, TopologyNode } from "../../lib/topology/graph.ts";

const edge = (kind: TopologyEdge["kind"], from: string, to: string): TopologyEdge => ({
  id: `${kind}:${from}->${to}`,
  kind,
  from,
  to,
});

/** Two apps (web with two services, db with one) on two hosts, a route, two volumes, a NAS. */
export function smallGraph(now = 1_800_000_000_000): TopologyGraph {
  const n = (node: Omit<TopologyNode, "href"> & { href?: string | null }): TopologyNode => ({
    href: `/o/acme/${node.kind}/${node.id}`,
    ...node,
  });
  const nodes: TopologyNode[] = [
    n({
      id: "route:r1",
      kind: "route",
      rank: "ingress",
      label: "shop.example.com",
      status: "running",
    }),
    n({
      id: "app:web",
      kind: "app",
      rank: "apps",
      label: "web",
      status: "running",
      replicas: { running: 3, desired: 3 },
      backup: { state: "fresh", lastAt: now - 3_600_000 },
    }),
    n({
      id: "app:db",
      kind: "app",
      rank: "apps",
      label: "db",
      status: "degraded",
      replicas: { running: 0, desired: 1 },
    }),
    n({
      id: "service:web_front",
      kind: "service",
      rank: "apps",
      label: "front",
      status: "running",
      replicas: { running: 2, desired: 2 },
      health: "passing",
    }),
    n({
      id: "service:web_worker",
      kind: "service",
      rank: "apps",
      label: "worker",
      status: "running",
      replicas: { running: 1, desired: 1 },
    }),
    n({
      id: "service:db_pg",
      kind: "service",
      rank: "apps",
      label: "pg",
      status: "down",
      replicas: { running: 0, desired: 1 },
      health: "failing",
    }),
    n({ id: "task:t1", kind: "task", rank: "apps", label: "front.1", status: "running" }),
    n({ id: "task:t2", kind: "task", rank: "apps", label: "front.2", status: "running" }),
    n({ id: "task:t3", kind: "task", rank: "apps", label: "worker.1", status: "running" }),
    n({
      id: "host:h1",
      kind: "host",
      rank: "hosts",
      label: "alpha",
      status: "running",
      metricsTopic: "org:o1:metrics.h1",
      detail: { address: "10.0.0.1" },
    }),
    n({
      id: "host:h2",
      kind: "host",
      rank: "hosts",
      label: "beta",
      status: "running",
      metricsTopic: "org:o1:metrics.h2",
    }),
    n({ id: "host:h3", kind: "host", rank: "hosts", label: "idle", status: "unknown" }),
    n({
      id: "volume:h1/data",
      kind: "volume",
      rank: "storage",
      label: "data",
      status: "running",
      backup: { state: "fresh", lastAt: now - 3_600_000 },
    }),
    n({
      id: "volume:h2/pg",
      kind: "volume",
      rank: "storage",
      label: "pg",
      status: "running",
      backup: { state: "stale", lastAt: now - 3 * 86_400_000 },
    }),
    n({
      id: "target:nas",
      kind: "target",
      rank: "storage",
      label: "nas",
      status: "running",
      detail: { kind: "sftp" },
    }),
  ];
  const edges = [
    edge("routes_to", "route:r1", "service:web_front"),
    edge("has", "app:web", "service:web_front"),
    edge("has", "app:web", "service:web_worker"),
    edge("has", "app:db", "service:db_pg"),
    edge("has", "service:web_front", "task:t1"),
    edge("has", "service:web_front", "task:t2"),
    edge("has", "service:web_worker", "task:t3"),
    edge("runs_on", "task:t1", "host:h1"),
    edge("runs_on", "task:t2", "host:h2"),
    edge("runs_on", "task:t3", "host:h2"),
    edge("mounts", "service:web_worker", "volume:h1/data"),
    edge("mounts", "service:db_pg", "volume:h2/pg"),
    edge("backs_up_to", "volume:h1/data", "target:nas"),
    edge("backs_up_to", "volume:h2/pg", "target:nas"),
  ];
  return { at: now, version: 1, nodes, edges, truncated: false };
}

/**
 * About `size` nodes: hosts (1 per 10 nodes), apps with 2 services of 2 tasks each, a route per app
 * and a volume per app backed up to one target. Hosts name `metricsTopic(hostId)` when given.
 */
export function generatedGraph(
  size: number,
  opts: { org?: string; metricsTopic?: (hostId: string) => string; now?: number } = {},
): TopologyGraph {
  const org = opts.org ?? "acme";
  const now = opts.now ?? Date.now();
  const nodes: TopologyNode[] = [];
  const edges: TopologyEdge[] = [];
  const hosts = Math.max(1, Math.round(size / 10));
  for (let h = 0; h < hosts; h++) {
    nodes.push({
      id: `host:h${h}`,
      kind: "host",
      rank: "hosts",
      label: `host-${h}`,
      href: `/o/${org}/hosts/h${h}`,
      status: "running",
      ...(opts.metricsTopic ? { metricsTopic: opts.metricsTopic(`h${h}`) } : {}),
    });
  }
  nodes.push({
    id: "target:t0",
    kind: "target",
    rank: "storage",
    label: "nas",
    href: `/o/${org}/storage/targets`,
    status: "running",
  });
  // Each app brings 8 nodes: app, route, 2 services, 3 tasks, 1 volume.
  for (let a = 0; nodes.length + 8 <= size; a++) {
    const app = `app:a${a}`;
    nodes.push({
      id: app,
      kind: "app",
      rank: "apps",
      label: `app-${a}`,
      href: `/o/${org}/apps/app-${a}`,
      status: "running",
      replicas: { running: 3, desired: 3 },
      backup: {
        state: a % 7 === 0 ? "stale" : "fresh",
        lastAt: now - (a % 7 === 0 ? 3 : 0.1) * 86_400_000,
      },
    });
    nodes.push({
      id: `route:r${a}`,
      kind: "route",
      rank: "ingress",
      label: `app-${a}.example.com`,
      href: null,
      status: "running",
    });
    edges.push(edge("routes_to", `route:r${a}`, app));
    for (let s = 0; s < 2; s++) {
      const svc = `service:a${a}s${s}`;
      nodes.push({
        id: svc,
        kind: "service",
        rank: "apps",
        label: `svc-${s}`,
        href: null,
        status: "running",
        replicas: { running: s === 0 ? 2 : 1, desired: s === 0 ? 2 : 1 },
        health: "passing",
      });
      edges.push(edge("has", app, svc));
      for (let t = 0; t < (s === 0 ? 2 : 1); t++) {
        const task = `task:a${a}s${s}t${t}`;
        nodes.push({
          id: task,
          kind: "task",
          rank: "apps",
          label: `svc-${s}.${t + 1}`,
          href: null,
          status: "running",
        });
        edges.push(edge("has", svc, task));
        edges.push(edge("runs_on", task, `host:h${(a * 3 + s * 2 + t) % hosts}`));
      }
    }
    const vol = `volume:a${a}`;
    nodes.push({
      id: vol,
      kind: "volume",
      rank: "storage",
      label: `data-${a}`,
      href: null,
      status: "running",
      backup: { state: "fresh", lastAt: now - 3_600_000 },
    });
    edges.push(edge("mounts", `service:a${a}s1`, vol));
    edges.push(edge("backs_up_to", vol, "target:t0"));
  }
  return { at: now, version: 1, nodes, edges, truncated: false };
}
