/**
 * The graph builder: pure, from the facts the other modules' services answered (facts.ts reads
 * them). Nothing here reads a table or the clock; the same facts give the same graph, which is
 * what lets the live side diff two builds into small patches (diff.ts).
 */
import type {
  BackupBadge,
  TopologyEdge,
  TopologyEdgeKind,
  TopologyGraph,
  TopologyNode,
  TopologyStatus,
} from "./graph.ts";
import { type BackupFacts, volumeBadge, worstBadge } from "./backup.ts";

/** Most nodes a graph holds by default (bounded result sets, DESIGN §5.7). */
export const MAX_NODES = 2000;

/** Swarm's and Capstan's labels on task containers (lib/apps/swarm_spec.ts). */
const APP_LABEL = "capstan.app";
const SERVICE_LABEL = "capstan.service";
/** Docker's own label on a Swarm task's container: `<service>.<slot>.<task id>`. */
const TASK_NAME_LABEL = "com.docker.swarm.task.name";

export interface OrgFact {
  id: string;
  slug: string;
}

export interface HostFact {
  id: string;
  org_id: string;
  name: string;
  online: boolean;
  /** An agent has said hello at least once (else a host waiting for its agent: unknown, not down). */
  seen: boolean;
}

export interface ContainerFact {
  host_id: string;
  org_id: string;
  id: string;
  name: string;
  /** Docker's state: running, exited, paused, restarting, created, dead, removing. */
  state: string;
  labels: Record<string, string>;
  /** When Docker created it (any unit, compared only): the newest container of a task slot wins. */
  created: number;
}

export interface AppFact {
  id: string;
  org_id: string;
  name: string;
  desired_state: "running" | "stopped";
  services: { name: string; replicas: number; global: boolean; volumes: string[] }[];
}

export interface RouteFact {
  id: string;
  org_id: string;
  hostnames: string[];
  path_prefix: string | null;
  status: "pending" | "active" | "error";
  target:
    | { kind: "app"; app: string; service: string }
    | { kind: "container"; host_id: string; container: string }
    | { kind: "url"; url: string };
}

export interface VolumeFact extends BackupFacts {
  id: string;
  org_id: string;
  host_id: string;
  volume: string;
  app_id: string | null;
  service: string | null;
  /** Where its snapshots go; null: the org's default target. */
  target_id: string | null;
}

/** A backup target: a snapshot target (filesystem, SFTP, S3) or a NAS watched by lib/nas. */
export interface TargetFact {
  id: string;
  org_id: string;
  name: string;
  kind: "filesystem" | "sftp" | "s3" | "nas";
  is_default: boolean;
  status: TopologyStatus;
  /** Where clicking goes, under the organization (`/storage/targets`, `/storage/nas`). */
  path: string;
  detail: Record<string, string>;
}

export interface CheckFact {
  host_id: string;
  container_id: string;
  state: "unknown" | "healthy" | "unhealthy";
}

/** Everything the builder needs for one scope (an organization, or the whole install). */
export interface TopologyFacts {
  orgs: OrgFact[];
  hosts: HostFact[];
  containers: ContainerFact[];
  apps: AppFact[];
  routes: RouteFact[];
  volumes: VolumeFact[];
  targets: TargetFact[];
  checks: CheckFact[];
  /** Realtime metrics topic of a host's CPU/memory samples (lib/realtime/topics.ts). */
  hostMetricsTopic?: (orgId: string, hostId: string) => string;
  /** True when a source was cut at its limit before the builder saw it. */
  truncated?: boolean;
}

type Health = NonNullable<TopologyNode["health"]>;

const STATUS_ORDER: Record<TopologyStatus, number> = {
  down: 3,
  degraded: 2,
  unknown: 1,
  running: 0,
};
const HEALTH_ORDER: Record<Health, number> = { failing: 3, unknown: 2, passing: 1, none: 0 };

function worstHealth(all: Health[]): Health {
  return all.reduce<Health>((w, h) => (HEALTH_ORDER[h] > HEALTH_ORDER[w] ? h : w), "none");
}

function worstStatus(all: TopologyStatus[], empty: TopologyStatus): TopologyStatus {
  if (!all.length) return empty;
  return all.reduce((w, s) => (STATUS_ORDER[s] > STATUS_ORDER[w] ? s : w));
}

/** A container's status from Docker's state, its host's presence and its health checks. */
export function containerStatus(
  state: string,
  hostOnline: boolean,
  health: Health,
): TopologyStatus {
  // What an offline host last reported is not known to hold now.
  if (!hostOnline) return "unknown";
  switch (state) {
    case "running":
      return health === "failing" ? "degraded" : "running";
    case "restarting":
    case "paused":
    case "removing":
      return "degraded";
    case "exited":
    case "dead":
      return "down";
    default:
      return "unknown";
  }
}

/** A service's status from its replicas running and desired, and its tasks' health. */
export function serviceStatus(running: number, desired: number, health: Health): TopologyStatus {
  if (desired === 0) return running === 0 ? "down" : "degraded";
  if (running === 0) return "down";
  if (running < desired || health === "failing") return "degraded";
  return "running";
}

function checkHealth(states: CheckFact["state"][]): Health {
  if (!states.length) return "none";
  if (states.includes("unhealthy")) return "failing";
  if (states.includes("unknown")) return "unknown";
  return "passing";
}

const enc = encodeURIComponent;

/**
 * A task container's slot: `<service>.<slot>.<task id>` in Swarm's task name label (or the
 * container's name); a global service's "slot" is its node id. Unknown: the container's own id.
 */
function taskSlot(c: ContainerFact): string {
  const parts = (c.labels[TASK_NAME_LABEL] ?? c.name.replace(/^\//, "")).split(".");
  return parts.length >= 3 ? parts[parts.length - 2] : c.id;
}

/** Builds the graph of `facts`, cut at `maxNodes` (then `truncated`). `at` and `version` are the caller's. */
export function buildTopology(
  facts: TopologyFacts,
  opts: { at: number; version: number; maxNodes?: number },
): TopologyGraph {
  const maxNodes = opts.maxNodes ?? MAX_NODES;
  const at = opts.at;
  const slug = new Map(facts.orgs.map((o) => [o.id, o.slug]));
  const page = (orgId: string, path: string) => {
    const s = slug.get(orgId);
    return s ? `/o/${s}${path}` : null;
  };
  const nodes = new Map<string, TopologyNode>();
  const edges = new Map<string, TopologyEdge>();
  let truncated = Boolean(facts.truncated);
  const add = (n: TopologyNode): boolean => {
    if (nodes.has(n.id)) return true;
    if (nodes.size >= maxNodes) {
      truncated = true;
      return false;
    }
    nodes.set(n.id, n);
    return true;
  };
  const link = (kind: TopologyEdgeKind, from: string, to: string) => {
    const id = `${kind}:${from}->${to}`;
    edges.set(id, { id, kind, from, to });
  };

  // ---- facts indexed
  const hosts = new Map(facts.hosts.map((h) => [h.id, h]));
  const checksOf = new Map<string, CheckFact["state"][]>();
  for (const c of facts.checks) {
    const list = checksOf.get(c.container_id) ?? [];
    list.push(c.state);
    checksOf.set(c.container_id, list);
  }
  const appsById = new Map(facts.apps.map((a) => [a.id, a]));
  const appByName = new Map(facts.apps.map((a) => [`${a.org_id}/${a.name}`, a]));
  /** Task containers per `appId/service`. */
  const tasksOf = new Map<string, ContainerFact[]>();
  const standalone: ContainerFact[] = [];
  // Swarm keeps a few finished containers per task slot (its task history); only the newest of a
  // slot is what the slot runs now, so the map does not show every past restart as a dead task.
  const newestOfSlot = new Map<string, ContainerFact>();
  for (const c of facts.containers) {
    const appId = c.labels[APP_LABEL];
    const service = c.labels[SERVICE_LABEL];
    if (appId && service !== undefined && appsById.get(appId)?.org_id === c.org_id) {
      const slot = `${appId}/${service}/${taskSlot(c)}`;
      const seen = newestOfSlot.get(slot);
      if (!seen || c.created > seen.created || (c.created === seen.created && c.id > seen.id)) {
        newestOfSlot.set(slot, c);
      }
    } else standalone.push(c);
  }
  for (const c of newestOfSlot.values()) {
    const key = `${c.labels[APP_LABEL]}/${c.labels[SERVICE_LABEL]}`;
    tasksOf.set(key, [...(tasksOf.get(key) ?? []), c]);
  }
  const defaultTarget = new Map<string, string>();
  for (const t of facts.targets) if (t.is_default) defaultTarget.set(t.org_id, t.id);

  // ---- per-node facts computed first (a node's status can depend on others')
  const containerHealth = (c: ContainerFact) => checkHealth(checksOf.get(c.id) ?? []);
  const containerNode = (c: ContainerFact, service?: string): TopologyNode => {
    const host = hosts.get(c.host_id);
    const health = containerHealth(c);
    return {
      id: `task:${c.id}`,
      kind: "task",
      rank: "hosts",
      label: c.name.replace(/^\//, ""),
      href: page(c.org_id, `/containers/${enc(c.host_id)}/${c.id.slice(0, 12)}`),
      status: containerStatus(c.state, host?.online ?? false, health),
      health,
      // The host's fleet summary carries its containers' CPU and memory too (FleetEvent.ctr).
      ...(facts.hostMetricsTopic
        ? { metricsTopic: facts.hostMetricsTopic(c.org_id, c.host_id) }
        : {}),
      detail: {
        state: c.state,
        container: c.id.slice(0, 12),
        ...(host ? { host: host.name } : {}),
        ...(service !== undefined ? { service } : { kind: "container" }),
      },
    };
  };

  // Volume badges, and which volumes each app mounts (for the app's badge).
  const volumeId = (hostId: string, name: string) => `volume:${hostId}/${name}`;
  const volumeFacts = new Map(facts.volumes.map((v) => [volumeId(v.host_id, v.volume), v]));
  const badgeOf = (id: string): BackupBadge => {
    const v = volumeFacts.get(id);
    return v ? volumeBadge(v, at) : { state: "none", lastAt: null };
  };

  // ---- hosts first: every other rank hangs off them
  for (const h of facts.hosts) {
    add({
      id: `host:${h.id}`,
      kind: "host",
      rank: "hosts",
      label: h.name,
      href: page(h.org_id, `/hosts/${enc(h.id)}`),
      status: h.online ? "running" : h.seen ? "down" : "unknown",
      ...(facts.hostMetricsTopic ? { metricsTopic: facts.hostMetricsTopic(h.org_id, h.id) } : {}),
      detail: { online: h.online ? "yes" : "no" },
    });
  }

  // ---- apps, their services, tasks and mounted volumes
  const appStatus = new Map<string, TopologyStatus>();
  for (const a of facts.apps) {
    const appNode: TopologyNode = {
      id: `app:${a.id}`,
      kind: "app",
      rank: "apps",
      label: a.name,
      href: page(a.org_id, `/apps/${enc(a.name)}`),
      status: "unknown",
      detail: { desired: a.desired_state },
    };
    if (!add(appNode)) continue;
    const statuses: TopologyStatus[] = [];
    const healths: Health[] = [];
    const badges: BackupBadge[] = [];
    let running = 0;
    let desired = 0;
    const appVolumes = new Set<string>();
    for (const s of a.services) {
      const tasks = tasksOf.get(`${a.id}/${s.name}`) ?? [];
      const up = tasks.filter((t) => t.state === "running" && hosts.get(t.host_id)?.online);
      const want = a.desired_state === "stopped"
        ? 0
        : s.global
        ? Math.max(1, new Set(tasks.map((t) => t.host_id)).size)
        : s.replicas;
      const taskNodes = tasks.map((t) => containerNode(t, s.name));
      const health = worstHealth(taskNodes.map((n) => n.health ?? "none"));
      const sNode: TopologyNode = {
        id: `service:${a.id}/${s.name}`,
        kind: "service",
        rank: "apps",
        label: `${a.name}/${s.name}`,
        href: page(a.org_id, `/apps/${enc(a.name)}`),
        status: serviceStatus(up.length, want, health),
        replicas: { running: up.length, desired: want },
        health,
      };
      if (!add(sNode)) continue;
      link("has", appNode.id, sNode.id);
      statuses.push(sNode.status);
      healths.push(health);
      running += up.length;
      desired += want;
      for (const tn of taskNodes) {
        if (!add(tn)) continue;
        link("has", sNode.id, tn.id);
        const hostId = tasks.find((t) => `task:${t.id}` === tn.id)!.host_id;
        if (nodes.has(`host:${hostId}`)) link("runs_on", tn.id, `host:${hostId}`);
      }
      // A named volume is the host's own: the service mounts it on each host its tasks are on.
      for (const hostId of new Set(tasks.map((t) => t.host_id))) {
        for (const name of s.volumes) {
          const vid = volumeId(hostId, name);
          appVolumes.add(vid);
          if (volumeNode(vid, hostId, name, a.org_id)) link("mounts", sNode.id, vid);
        }
      }
    }
    // Snapshot rows of the app's volumes (on hosts its tasks left) count for its badge too.
    for (const v of facts.volumes) {
      if (v.app_id !== a.id) continue;
      const vid = volumeId(v.host_id, v.volume);
      appVolumes.add(vid);
      if (volumeNode(vid, v.host_id, v.volume, v.org_id) && v.service !== null) {
        const sid = `service:${a.id}/${v.service}`;
        if (nodes.has(sid)) link("mounts", sid, vid);
      }
    }
    for (const vid of appVolumes) badges.push(badgeOf(vid));
    appNode.status = a.desired_state === "stopped" && running === 0
      ? "down"
      : worstStatus(statuses, "unknown");
    appNode.replicas = { running, desired };
    appNode.health = worstHealth(healths);
    const badge = worstBadge(badges);
    if (badge) appNode.backup = badge;
    appStatus.set(a.id, appNode.status);
  }

  // ---- routes (ingress) to apps or to containers
  for (const r of facts.routes) {
    let to: string | undefined;
    let targetStatus: TopologyStatus = "unknown";
    if (r.target.kind === "app") {
      const app = appByName.get(`${r.org_id}/${r.target.app}`);
      if (app) {
        to = `app:${app.id}`;
        targetStatus = appStatus.get(app.id) ?? "unknown";
      }
    } else if (r.target.kind === "container") {
      const t = r.target;
      const c = facts.containers.find((c) =>
        c.host_id === t.host_id && (c.name.replace(/^\//, "") === t.container ||
          (t.container.length >= 12 && c.id.startsWith(t.container)))
      );
      if (c) {
        to = `task:${c.id}`;
        targetStatus = nodes.get(to)?.status ?? "unknown";
      }
    }
    const status: TopologyStatus = r.status === "error"
      ? "down"
      : r.status === "pending"
      ? "unknown"
      : to && targetStatus === "down"
      ? "degraded"
      : "running";
    const label = (r.hostnames[0] ?? "(no hostname)") + (r.path_prefix ?? "");
    const ok = add({
      id: `route:${r.id}`,
      kind: "route",
      rank: "ingress",
      label,
      href: page(r.org_id, `/routes/${enc(r.id)}`),
      status,
      detail: {
        hostnames: r.hostnames.join(", "),
        target: r.target.kind === "app"
          ? `${r.target.app}/${r.target.service}`
          : r.target.kind === "container"
          ? `container ${r.target.container}`
          : r.target.url,
        route: r.status,
      },
    });
    if (ok && to && nodes.has(to)) link("routes_to", `route:${r.id}`, to);
  }

  // ---- standalone containers (not a task of a Capstan app)
  for (const c of standalone) {
    const n = containerNode(c);
    if (!add(n)) continue;
    if (nodes.has(`host:${c.host_id}`)) link("runs_on", n.id, `host:${c.host_id}`);
  }

  // ---- backup targets, and every volume with a snapshot row backs up to one
  for (const t of facts.targets) {
    add({
      id: `target:${t.id}`,
      kind: "target",
      rank: "storage",
      label: t.name,
      href: page(t.org_id, t.path),
      status: t.status,
      detail: { kind: t.kind, ...t.detail, ...(t.is_default ? { default: "yes" } : {}) },
    });
  }
  for (const v of facts.volumes) {
    const vid = volumeId(v.host_id, v.volume);
    if (!volumeNode(vid, v.host_id, v.volume, v.org_id)) continue;
    const target = v.target_id ?? defaultTarget.get(v.org_id);
    if (target && nodes.has(`target:${target}`)) link("backs_up_to", vid, `target:${target}`);
  }

  /** Adds a volume's node once (with its badge); false when the cap refused it. */
  function volumeNode(id: string, hostId: string, name: string, orgId: string): boolean {
    if (nodes.has(id)) return true;
    const host = hosts.get(hostId);
    const backup = badgeOf(id);
    return add({
      id,
      kind: "volume",
      rank: "storage",
      label: name,
      href: page(orgId, `/storage/hosts/${enc(hostId)}/volumes/${enc(name)}`),
      status: !host?.online ? "unknown" : backup.state === "failed" ? "degraded" : "running",
      backup,
      detail: host ? { host: host.name } : {},
    });
  }

  // Edges only between nodes the graph kept.
  const kept = [...edges.values()].filter((e) => nodes.has(e.from) && nodes.has(e.to));
  return {
    at,
    version: opts.version,
    nodes: [...nodes.values()].sort((a, b) => a.id.localeCompare(b.id)),
    edges: kept.sort((a, b) => a.id.localeCompare(b.id)),
    truncated,
  };
}
