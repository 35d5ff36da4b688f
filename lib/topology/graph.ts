/**
 * The topology graph (issue 22): what `/api/v1/topology` returns and what the realtime topic
 * `org:<orgId>:topology` (platform admins, whole install: `org:install:topology`) patches. The
 * server builds it from the other modules' exported services (never their tables); the island
 * lays it out in ranks. The protocol is in lib/topology/TOPOLOGY.md.
 *
 * Node ids are stable strings `<kind>:<id>` so a patch can name the node it changes.
 */

/** Ranks of the map, left to right (or top to bottom on phones). */
export type TopologyRank = "ingress" | "apps" | "hosts" | "storage";

export type TopologyNodeKind =
  | "route" // a domain/route of the proxy
  | "app"
  | "service" // a Swarm service of an app
  | "task" // a task/container of a service
  | "host"
  | "volume"
  | "target"; // a backup target: filesystem, S3, NAS (SFTP)

export type TopologyStatus = "running" | "degraded" | "down" | "unknown";

/** Freshness of the newest successful snapshot of a volume (or of an app's volumes, worst first). */
export interface BackupBadge {
  state: "fresh" | "stale" | "failed" | "none";
  /** When the newest successful snapshot finished (ms since epoch), if any. */
  lastAt: number | null;
}

export interface TopologyNode {
  id: string; // `${kind}:${id}`
  kind: TopologyNodeKind;
  rank: TopologyRank;
  label: string;
  /** Where clicking the node goes (a page of Capstan), if it has one. */
  href: string | null;
  status: TopologyStatus;
  /** Realtime metrics topic whose samples feed the CPU/memory bars (hosts, tasks), if any. */
  metricsTopic?: string;
  replicas?: { running: number; desired: number };
  health?: "passing" | "failing" | "unknown" | "none";
  backup?: BackupBadge;
  /** Extra facts shown in the tooltip and the table view (e.g. target kind "s3", host address). */
  detail?: Record<string, string>;
}

export type TopologyEdgeKind = "routes_to" | "runs_on" | "mounts" | "backs_up_to" | "has";

export interface TopologyEdge {
  id: string; // `${kind}:${from}->${to}`
  kind: TopologyEdgeKind;
  from: string;
  to: string;
}

export interface TopologyGraph {
  /** Server time the graph was built (ms since epoch); patches newer than it apply on top. */
  at: number;
  /** Bumped by each patch published for this scope; a client seeing a gap reloads the graph. */
  version: number;
  nodes: TopologyNode[];
  edges: TopologyEdge[];
  /** True when the graph was cut at the node limit (bounded result sets, DESIGN §5). */
  truncated: boolean;
  /** The realtime topic of this graph's patches (set by the API's answer). */
  topic?: string;
}

/** Small changes pushed on the realtime topic; never the whole graph. */
export type TopologyPatch =
  | { op: "node"; version: number; node: TopologyNode } // added or changed
  | { op: "node_removed"; version: number; id: string }
  | { op: "edge"; version: number; edge: TopologyEdge }
  | { op: "edge_removed"; version: number; id: string }
  /**
   * Too much changed at once for small patches (more than a bound): reload the graph through the
   * API. Numbered like any patch.
   */
  | { op: "reload"; version: number };
