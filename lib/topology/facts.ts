/**
 * Reads the facts of a scope through the other modules' exported services (never their tables):
 * hosts and their agents' presence (lib/hosts, lib/agents), the container cache (lib/hosts'
 * container use cases), apps and their specs (lib/apps' store), routes (lib/proxy's store),
 * snapshot volumes, snapshots, schedules and targets (lib/snapshots' store), NAS targets (lib/nas)
 * and health checks (lib/health). Every read is bounded; a cut one marks the graph truncated.
 */
import type {
  AppFact,
  CheckFact,
  ContainerFact,
  HostFact,
  OrgFact,
  RouteFact,
  TargetFact,
  TopologyFacts,
  VolumeFact,
} from "./build.ts";
import type { TopologyScope } from "./topics.ts";
import type { TopologyStatus } from "./graph.ts";

/** The narrow reads the facts need, each a method of another module's service. */
export interface FactSources {
  orgs(scope: TopologyScope): Promise<OrgFact[]>;
  hosts(orgId: string): Promise<Omit<HostFact, "online">[]>;
  online(hostId: string): boolean;
  containers(orgId: string, limit: number): Promise<{ items: ContainerFact[]; total: number }>;
  apps(orgId: string): Promise<AppFact[]>;
  routes(orgId: string, limit: number): Promise<RouteFact[]>;
  snapshots: {
    volumes(orgId: string): Promise<
      {
        id: string;
        org_id: string;
        host_id: string;
        volume: string;
        app_id: string | null;
        service: string | null;
        target_id: string | null;
      }[]
    >;
    lastComplete(orgId: string, volumeIds: string[]): Promise<Map<string, number>>;
    /** The newest snapshots of the organization, newest first (at most `limit`). */
    recent(orgId: string, limit: number): Promise<
      { volume_id: string; status: string; finished_at: number | null; started_at: number }[]
    >;
    schedules(
      orgId: string,
    ): Promise<{ volume_id: string; cron: string; timezone: string; enabled: number }[]>;
    targets(orgId: string): Promise<
      {
        id: string;
        org_id: string;
        name: string;
        kind: "filesystem" | "sftp" | "s3";
        is_default: number;
        verify_status: "none" | "running" | "ok" | "failed";
        test_ok: number | null;
      }[]
    >;
  };
  nas(orgId: string): Promise<
    {
      id: string;
      name: string;
      host: string;
      last_checked_at: number | null;
      last_error: string | null;
      stale_sites: number;
    }[]
  >;
  checks(orgId: string, limit: number): Promise<CheckFact[]>;
  hostMetricsTopic(orgId: string, hostId: string): string;
}

/** Most snapshots read per organization to tell a volume's newest run failed. */
const RECENT_SNAPSHOTS = 200;
/** Most routes read per organization. */
const MAX_ROUTES = 200;
/** Most health checks read per organization. */
const MAX_CHECKS = 1000;

function snapshotTargetStatus(t: { verify_status: string; test_ok: number | null }) {
  if (t.verify_status === "failed" || t.test_ok === 0) return "degraded" as const;
  if (t.verify_status === "ok" || t.test_ok === 1) return "running" as const;
  return "unknown" as const;
}

/** Reads one organization's facts (at most about `maxNodes` containers). */
async function orgFacts(src: FactSources, org: OrgFact, maxNodes: number) {
  const orgId = org.id;
  const [hostRows, containers, apps, routes, vols, recent, schedules, targets, nas, checks] =
    await Promise.all([
      src.hosts(orgId),
      src.containers(orgId, maxNodes),
      src.apps(orgId),
      src.routes(orgId, MAX_ROUTES),
      src.snapshots.volumes(orgId),
      src.snapshots.recent(orgId, RECENT_SNAPSHOTS),
      src.snapshots.schedules(orgId),
      src.snapshots.targets(orgId),
      src.nas(orgId),
      src.checks(orgId, MAX_CHECKS),
    ]);
  const last = await src.snapshots.lastComplete(orgId, vols.map((v) => v.id));
  // The newest finished run of each volume among the recent ones: failed after the last complete?
  const failedAfter = new Map<string, number>();
  const seen = new Set<string>();
  for (const s of recent) {
    if (s.status === "running" || seen.has(s.volume_id)) continue;
    seen.add(s.volume_id);
    if (s.status === "failed") failedAfter.set(s.volume_id, s.finished_at ?? s.started_at);
  }
  const volumes: VolumeFact[] = vols.map((v) => ({
    ...v,
    lastCompleteAt: last.get(v.id) ?? null,
    failedAfterAt: failedAfter.get(v.id) ?? null,
    schedules: schedules.filter((s) => s.volume_id === v.id && s.enabled === 1)
      .map((s) => ({ cron: s.cron, timezone: s.timezone })),
  }));
  const targetFacts: TargetFact[] = [
    ...targets.map((t) => ({
      id: t.id,
      org_id: t.org_id,
      name: t.name,
      kind: t.kind,
      is_default: t.is_default === 1,
      status: snapshotTargetStatus(t),
      path: "/storage/targets",
      detail: { verify: t.verify_status },
    })),
    ...nas.map((n) => ({
      id: n.id,
      org_id: orgId,
      name: n.name,
      kind: "nas" as const,
      is_default: false,
      status:
        (n.last_error
          ? "down"
          : n.last_checked_at === null
          ? "unknown"
          : n.stale_sites > 0
          ? "degraded"
          : "running") as TopologyStatus,
      path: "/storage/nas",
      detail: { host: n.host, stale_sites: String(n.stale_sites) },
    })),
  ];
  return {
    hosts: hostRows.map((h) => ({ ...h, online: src.online(h.id) })),
    containers: containers.items,
    truncated: containers.total > containers.items.length,
    apps,
    routes,
    volumes,
    targets: targetFacts,
    checks,
  };
}

/** The facts of a scope; the whole install reads organization after organization until the cap. */
export async function readFacts(
  src: FactSources,
  scope: TopologyScope,
  maxNodes: number,
): Promise<TopologyFacts> {
  const orgs = await src.orgs(scope);
  const facts: TopologyFacts = {
    orgs,
    hosts: [],
    containers: [],
    apps: [],
    routes: [],
    volumes: [],
    targets: [],
    checks: [],
    hostMetricsTopic: src.hostMetricsTopic,
    truncated: false,
  };
  for (const org of orgs) {
    // A rough budget: containers are the most numerous nodes; the builder cuts exactly.
    const left = maxNodes - facts.hosts.length - facts.containers.length - facts.apps.length;
    if (left <= 0) {
      facts.truncated = true;
      break;
    }
    const f = await orgFacts(src, org, left);
    facts.hosts.push(...f.hosts);
    facts.containers.push(...f.containers);
    facts.apps.push(...f.apps);
    facts.routes.push(...f.routes);
    facts.volumes.push(...f.volumes);
    facts.targets.push(...f.targets);
    facts.checks.push(...f.checks);
    if (f.truncated) facts.truncated = true;
  }
  return facts;
}
