// Words and colours of the topology, shared by the server-rendered table and the map island, so a
// node reads the same in both.
import type {
  BackupBadge,
  TopologyNode,
  TopologyNodeKind,
  TopologyRank,
  TopologyStatus,
} from "../../lib/topology/graph.ts";

/** Titles of the ranks, in map order. */
export const RANKS: { rank: TopologyRank; title: string }[] = [
  { rank: "ingress", title: "Ingress" },
  { rank: "apps", title: "Apps" },
  { rank: "hosts", title: "Hosts" },
  { rank: "storage", title: "Storage" },
];

export const KIND_LABEL: Record<TopologyNodeKind, string> = {
  route: "Route",
  app: "App",
  service: "Service",
  task: "Task",
  host: "Host",
  volume: "Volume",
  target: "Backup target",
};

/** Badge tone (components/Badge.tsx) of a status. */
export const STATUS_TONE: Record<TopologyStatus, "ok" | "warn" | "error" | "neutral"> = {
  running: "ok",
  degraded: "warn",
  down: "error",
  unknown: "neutral",
};

/** Badge tone of a backup state: none is a warning only where a backup would be expected. */
export const BACKUP_TONE: Record<BackupBadge["state"], "ok" | "warn" | "error" | "neutral"> = {
  fresh: "ok",
  stale: "warn",
  failed: "error",
  none: "neutral",
};

/** `45 s`, `12 min`, `3 h`, `2 d`: how long ago `at` was, coarse on purpose (a badge, not a log). */
export function age(at: number, now: number): string {
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86_400)} d`;
}

/** A backup badge as words: `fresh · 3 h`, `failed · last ok 2 d`, `none`. */
export function backupText(b: BackupBadge, now: number): string {
  if (b.lastAt === null) return b.state === "none" ? "no backup" : b.state;
  const ago = age(b.lastAt, now);
  return b.state === "failed" ? `failed · last ok ${ago} ago` : `${b.state} · ${ago} ago`;
}

/** `2/3` replicas, or "" when the node has none. */
export function replicasText(n: Pick<TopologyNode, "replicas">): string {
  return n.replicas ? `${n.replicas.running}/${n.replicas.desired}` : "";
}

/** Health as words, or "" when the node has no check. */
export function healthText(n: Pick<TopologyNode, "health">): string {
  return !n.health || n.health === "none" ? "" : `health ${n.health}`;
}

/** One line describing a node for screen readers and tooltips. */
export function nodeSummary(n: TopologyNode, now: number): string {
  return [
    `${KIND_LABEL[n.kind] ?? n.kind} ${n.label}`,
    n.status,
    n.replicas ? `${replicasText(n)} replicas running` : "",
    healthText(n),
    n.backup ? `backup ${backupText(n.backup, now)}` : "",
  ].filter(Boolean).join(", ");
}
