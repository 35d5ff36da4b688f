/**
 * Keeps Capstan's records and what Swarm runs in step, one bounded pass per call (a scheduled
 * job): deployments left pending or deploying past a deadline (a hub that stopped mid-deploy) end
 * `failed` with the reason; for every app with a current deployment and none in progress, a
 * service Swarm no longer has (removed behind Capstan's back) is created again from that
 * deployment's snapshot; services that carry Capstan's labels but belong to no app, or to no
 * service of their app's current deployment, are reported — never removed without being asked;
 * and tasks Swarm moved off a node that went down are recorded on their app's timeline, once.
 */
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../log.ts";
import type { Job } from "../jobs/scheduler.ts";
import type { SwarmNode, SwarmService, SwarmTask } from "../docker/swarm_types.ts";
import { Conflict } from "../errors.ts";
import type { App, AppStore, Deployment } from "./store.ts";
import { ensureAppNetworks, type SwarmGateway } from "./gateway.ts";
import type { ClusterInfo } from "./deployer.ts";
import { LABELS, toSwarmService } from "./swarm_spec.ts";
import type { TaskContainers } from "./task_containers.ts";

/** What the reconciler needs. */
export interface ReconcilerDeps {
  store: AppStore;
  /** The manager's gateway; throws (Unavailable) without a cluster or a connected manager. */
  cluster(): Promise<{ gw: SwarmGateway; info: ClusterInfo }>;
  orgSlug(orgId: string): Promise<string>;
  clock: Clock;
  log: Logger;
  /** A deployment pending or deploying for longer than this has been abandoned (default 15 min). */
  stuckAfterMs?: number;
  /** At most this many apps get services created again per pass (default 5). */
  maxRepairsPerPass?: number;
  /** At most this many task moves are recorded per pass (default 50). */
  maxMovesPerPass?: number;
  /** Tasks moved off a failed node were recorded on an app's timeline (for notifications). */
  moved?(app: App, moves: TaskMove[]): void;
  /** Services with Capstan's labels that no app accounts for (for the admin's attention). */
  orphaned?(orphans: Orphan[]): void;
  /** Where the containers of apps' tasks are recorded (for app metrics over time). */
  containers?: Pick<TaskContainers, "record">;
}

/** A task Swarm started elsewhere because its node went down. */
export interface TaskMove {
  service: string;
  slot: number;
  task_id: string;
  /** When the lost task started (the manager's clock, ms): which failure of its node it was in. */
  task_created_at: number;
  replacement_id: string;
  from_node: string;
  to_node: string;
}

/** The line an app's timeline shows for a move. */
export const moveMessage = (m: TaskMove) =>
  `Task ${m.service}.${m.slot} moved from ${m.from_node} (down) to ${m.to_node}`;

/** A Capstan-labelled Swarm service no app accounts for. */
export interface Orphan {
  id: string;
  name: string;
  org_id: string | null;
  app_id: string | null;
  service: string | null;
  why: "app deleted" | "service not in the current deployment";
}

/** What one pass did. */
export interface ReconcileReport {
  /** Why the Swarm part was skipped (no cluster, manager offline); the stuck check still ran. */
  skipped?: string;
  stuck: { app_id: string; deployment_id: string; number: number }[];
  recreated: { app_id: string; service: string; id: string }[];
  orphans: Orphan[];
  moves: (TaskMove & { app_id: string })[];
  /** Apps with missing services left for the next pass (the per-pass bound). */
  deferred: number;
  errors: string[];
}

const DOWN = new Set(["down", "disconnected", "unknown"]);

/**
 * Capstan-labelled services no app accounts for: their app is gone, or their app's current
 * deployment (with none under way) has no such service.
 */
function findOrphans(
  services: SwarmService[],
  apps: Map<string, App>,
  current: Map<string, Deployment>,
  busy: Set<string>,
): Orphan[] {
  const out: Orphan[] = [];
  for (const s of services) {
    const l = s.Spec.Labels;
    const app = apps.get(l[LABELS.app] ?? "");
    const d = app && current.get(app.id);
    let why: Orphan["why"] | undefined;
    if (!app) why = "app deleted";
    else if (d && !busy.has(app.id) && !d.spec.services.some((x) => x.name === l[LABELS.service])) {
      why = "service not in the current deployment";
    }
    if (!why) continue;
    out.push({
      id: s.ID,
      name: s.Spec.Name,
      org_id: l[LABELS.org] ?? null,
      app_id: l[LABELS.app] ?? null,
      service: l[LABELS.service] ?? null,
      why,
    });
  }
  return out;
}

/** Creates the reconciler; `pass()` does one bounded round. */
export function createReconciler(deps: ReconcilerDeps) {
  const { store, clock } = deps;
  const stuckAfterMs = deps.stuckAfterMs ?? 15 * 60_000;
  const maxRepairs = deps.maxRepairsPerPass ?? 5;
  const maxMoves = deps.maxMovesPerPass ?? 50;
  /** Orphans already logged by this process (they are reported in every pass's answer). */
  const logged = new Set<string>();

  async function failStuck(report: ReconcileReport, active: Deployment[]) {
    const now = clock.now();
    for (const d of active) {
      const since = d.started_at ?? d.created_at;
      if (now - since < stuckAfterMs) continue;
      const minutes = Math.round((now - since) / 60_000);
      const reason = `the deployment did not finish within ${minutes} min ` +
        `(the hub stopped or lost the cluster while it ran); deploy again to retry`;
      await store.setStatus(d, "failed", { reason });
      const app = await store.byId(d.app_id);
      if (app) {
        await store.event(app, "deploy", `Deployment #${d.number} failed: ${reason}`, {
          deployment_id: d.id,
          status: "failed",
        });
      }
      report.stuck.push({ app_id: d.app_id, deployment_id: d.id, number: d.number });
    }
  }

  /** Creates again the services of `d` that Swarm does not have. */
  async function repair(
    gw: SwarmGateway,
    info: ClusterInfo,
    app: App,
    d: Deployment,
    missing: string[],
    report: ReconcileReport,
  ) {
    // The app may have been deleted since the pass began: never bring a deleted app back.
    const fresh = await store.byId(app.id);
    if (!fresh || fresh.current_deployment_id !== d.id) return;
    const org = { id: app.org_id, slug: await deps.orgSlug(app.org_id) };
    const networks = await ensureAppNetworks(gw, org, app, info.encryptedNetworks);
    const stopped = fresh.desired_state === "stopped";
    for (const s of d.spec.services.filter((x) => missing.includes(x.name))) {
      const spec = toSwarmService(stopped && !s.global ? { ...s, replicas: 0 } : s, {
        org,
        app,
        deploymentId: d.id,
        networks,
        routingMesh: info.routingMesh,
        images: d.images,
        pin: d.pins[s.name],
      });
      const { id } = await gw.create(spec);
      await store.event(
        app,
        "reconcile",
        `Service ${s.name} was missing from the cluster and was created again from deployment #${d.number}`,
        { service: s.name, deployment_id: d.id, swarm_id: id },
      );
      report.recreated.push({ app_id: app.id, service: s.name, id });
    }
  }

  /** Tasks of down nodes whose slot Swarm filled on another node, not yet on the timeline. */
  async function recordMoves(
    tasks: SwarmTask[],
    nodes: SwarmNode[],
    services: Map<string, SwarmService>,
    apps: Map<string, App>,
    report: ReconcileReport,
  ) {
    const down = new Set(nodes.filter((n) => DOWN.has(n.Status.State)).map((n) => n.ID));
    if (!down.size) return;
    // Engines on one machine (or cloned ones) may share a hostname: then the node id tells them apart.
    const seenNames = nodes.map((n) => n.Description.Hostname);
    const hostname = new Map(nodes.map((n) => {
      const name = n.Description.Hostname;
      const shared = seenNames.filter((x) => x === name).length > 1;
      return [n.ID, shared ? `${name}/${n.ID.slice(0, 12)}` : name];
    }));
    const byApp = new Map<string, TaskMove[]>();
    for (const t of tasks) {
      if (!t.NodeID || !down.has(t.NodeID) || t.DesiredState === "running") continue;
      if (t.Slot === undefined) continue; // global services run one task per node: nothing moves
      const svc = services.get(t.ServiceID);
      const appId = svc?.Spec.Labels[LABELS.app];
      if (!svc || !appId || !apps.has(appId)) continue;
      const r = tasks.find((x) =>
        x.ServiceID === t.ServiceID && x.Slot === t.Slot && x.DesiredState === "running" &&
        x.NodeID && x.NodeID !== t.NodeID && Date.parse(x.CreatedAt) > Date.parse(t.CreatedAt)
      );
      if (!r) continue; // not rescheduled yet: a later pass records it
      const list = byApp.get(appId) ?? [];
      list.push({
        service: svc.Spec.Labels[LABELS.service] ?? svc.Spec.Name,
        slot: t.Slot,
        task_id: t.ID,
        task_created_at: Date.parse(t.CreatedAt),
        replacement_id: r.ID,
        from_node: hostname.get(t.NodeID) ?? t.NodeID,
        to_node: hostname.get(r.NodeID!) ?? r.NodeID!,
      });
      byApp.set(appId, list);
    }
    let budget = maxMoves;
    for (const [appId, moves] of byApp) {
      if (budget <= 0) break;
      const app = apps.get(appId)!;
      // Once per task, whichever hub replica ran the pass that saw it: the timeline remembers.
      const seen = new Set(
        (await store.events(app, { limit: 200 })).map((e) => e.data.task_id).filter(Boolean),
      );
      const fresh = moves.filter((m) => !seen.has(m.task_id)).slice(0, budget);
      for (const m of fresh) {
        await store.event(
          app,
          "node",
          moveMessage(m),
          { ...m },
        );
        report.moves.push({ ...m, app_id: appId });
      }
      budget -= fresh.length;
      if (fresh.length) deps.moved?.(app, fresh);
    }
  }

  /** One round: stuck deployments, missing services, orphans, task moves. */
  async function pass(): Promise<ReconcileReport> {
    const report: ReconcileReport = {
      stuck: [],
      recreated: [],
      orphans: [],
      moves: [],
      deferred: 0,
      errors: [],
    };
    const unfinished = await store.unfinished();
    await failStuck(report, unfinished);
    let gw: SwarmGateway;
    let info: ClusterInfo;
    try {
      ({ gw, info } = await deps.cluster());
    } catch (err) {
      report.skipped = err instanceof Error ? err.message : String(err);
      return report;
    }
    const [services, allApps, currents, nodes, tasks] = await Promise.all([
      gw.services(LABELS.app),
      store.all(),
      store.currentDeployments(),
      gw.nodes(),
      gw.tasks({ label: [LABELS.app] }),
    ]);
    const apps = new Map(allApps.map((a) => [a.id, a]));
    const current = new Map(currents.map((d) => [d.app_id, d]));
    // Apps with a deployment under way are the deployer's until it ends.
    const failed = new Set(report.stuck.map((x) => x.deployment_id));
    const busy = new Set(unfinished.filter((d) => !failed.has(d.id)).map((d) => d.app_id));
    const swarmOf = new Map<string, SwarmService[]>();
    for (const s of services) {
      const appId = s.Spec.Labels[LABELS.app] ?? "";
      swarmOf.set(appId, [...(swarmOf.get(appId) ?? []), s]);
    }

    report.orphans = findOrphans(services, apps, current, busy);
    for (const o of report.orphans) {
      if (!logged.has(o.id)) {
        logged.add(o.id);
        deps.log.warn("apps: a Capstan-labelled service belongs to no app", { ...o });
      }
    }
    if (report.orphans.length) deps.orphaned?.(report.orphans);

    let repairs = 0;
    // Oldest app first (ids are time-ordered), so the per-pass bound is fair across passes.
    for (const [appId, d] of [...current].sort(([a], [b]) => a.localeCompare(b))) {
      const app = apps.get(appId);
      if (!app || busy.has(appId)) continue;
      const have = new Set((swarmOf.get(appId) ?? []).map((s) => s.Spec.Labels[LABELS.service]));
      const missing = d.spec.services.map((s) => s.name).filter((n) => !have.has(n));
      if (!missing.length) continue;
      if (repairs >= maxRepairs) {
        report.deferred++;
        continue;
      }
      repairs++;
      try {
        await repair(gw, info, app, d, missing, report);
      } catch (err) {
        const msg = `app ${app.name}: cannot create ${missing.join(", ")} again: ${
          err instanceof Error ? err.message : String(err)
        }`;
        report.errors.push(msg);
        deps.log.warn("apps: reconcile failed", { app: app.id, error: msg });
      }
    }

    const byId = new Map(services.map((s) => [s.ID, s]));
    await recordMoves(tasks, nodes, byId, apps, report).catch((err) =>
      report.errors.push(`task moves: ${err instanceof Error ? err.message : String(err)}`)
    );
    const orgOf = new Map(allApps.map((a) => [a.id, a.org_id]));
    await deps.containers?.record(tasks, orgOf).catch((err) =>
      report.errors.push(`task containers: ${err instanceof Error ? err.message : String(err)}`)
    );
    return report;
  }

  return {
    pass,

    /**
     * Removes a service a pass reported as orphaned, after checking again that no app accounts
     * for it (an admin's explicit action).
     */
    async removeOrphan(id: string): Promise<void> {
      const { gw } = await deps.cluster();
      const [services, allApps, currents, unfinished] = await Promise.all([
        gw.services(LABELS.app),
        store.all(),
        store.currentDeployments(),
        store.unfinished(),
      ]);
      const orphans = findOrphans(
        services,
        new Map(allApps.map((a) => [a.id, a])),
        new Map(currents.map((d) => [d.app_id, d])),
        new Set(unfinished.map((d) => d.app_id)),
      );
      if (!orphans.some((o) => o.id === id)) {
        throw new Conflict("That service is not an orphan: an app accounts for it", "not_orphan");
      }
      await gw.remove(id);
    },
  };
}

export type Reconciler = ReturnType<typeof createReconciler>;

/** The reconciler as a scheduled job: one pass a minute, across hub replicas once. */
export function reconcilerJob(r: Reconciler, log: Logger): Job {
  return {
    name: "apps_reconcile",
    schedule: "* * * * *",
    intervalMs: 60_000,
    run: async () => {
      const report = await r.pass();
      if (report.recreated.length || report.stuck.length || report.moves.length) {
        log.info("apps: reconciled", {
          recreated: report.recreated.length,
          stuck: report.stuck.length,
          moves: report.moves.length,
          orphans: report.orphans.length,
        });
      }
      return report;
    },
  };
}
