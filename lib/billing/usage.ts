/**
 * Usage facts: what each app service runs, as Swarm holds it, recorded as segments
 * (lib/billing/tables.ts). `observe` takes the whole picture (every Capstan service, or every
 * service of some apps) and makes the open segments equal to it in one transaction: a segment
 * whose service changed (replicas, reservations) or went away is closed now, and the new state
 * opened at the same instant. Observing the same picture again writes nothing.
 */
import type { Db } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import { uuidv7 } from "../util/ids.ts";
import { closeSegment, lostRace } from "./segments.ts";
import type { SwarmService, SwarmTask } from "../docker/swarm_types.ts";
import { LABELS } from "../apps/swarm_spec.ts";
import type { SwarmGateway } from "../apps/gateway.ts";
import type { Segment } from "./meter.ts";

/** What one service runs now. */
export interface ServiceUsage {
  org_id: string;
  app_id: string;
  service: string;
  replicas: number;
  cpu_millis: number;
  memory_bytes: number;
}

/** What one observation changed. */
export interface ObserveReport {
  opened: number;
  closed: number;
  /** Another observer (a hub replica) changed the same segments first; its picture stands. */
  raced?: boolean;
}

const keyOf = (u: { app_id: string; service: string }) => `${u.app_id}\0${u.service}`;

/**
 * The usage of every Capstan service in Swarm's answer: desired replicas (a global service: its
 * tasks meant to run) and the reservation of each task, NanoCPUs rounded to millicores. Services
 * without Capstan's labels are not billed to anyone.
 */
export function usageFromSwarm(services: SwarmService[], tasks: SwarmTask[] = []): ServiceUsage[] {
  const out: ServiceUsage[] = [];
  for (const s of services) {
    const l = s.Spec.Labels ?? {};
    const org_id = l[LABELS.org], app_id = l[LABELS.app], service = l[LABELS.service];
    if (!org_id || !app_id || !service) continue;
    const replicas = "Replicated" in s.Spec.Mode
      ? s.Spec.Mode.Replicated.Replicas
      : tasks.filter((t) => t.ServiceID === s.ID && t.DesiredState === "running").length;
    const r = s.Spec.TaskTemplate.Resources?.Reservations;
    out.push({
      org_id,
      app_id,
      service,
      replicas,
      cpu_millis: Math.round((r?.NanoCPUs ?? 0) / 1e6),
      memory_bytes: r?.MemoryBytes ?? 0,
    });
  }
  return out;
}

/** Creates the usage recorder. */
export function createUsage(db: Db, clock: Clock) {
  return {
    /**
     * Makes the open segments match `now` (services with no replicas run nothing and have none).
     * With `apps`, only those apps' segments are considered (an observation of a few apps);
     * without, `now` is everything that runs and every other open segment is closed.
     */
    async observe(now: ServiceUsage[], opts: { apps?: string[] } = {}): Promise<ObserveReport> {
      // Whole seconds: what the meter counts, so segments that meet still tile exactly.
      const at = Math.floor(clock.now() / 1000) * 1000;
      const want = new Map(now.filter((u) => u.replicas > 0).map((u) => [keyOf(u), u]));
      try {
        return await db.transaction().execute(async (tx) => {
          let q = tx.selectFrom("billing_usage").selectAll().where("ended_at", "is", null);
          if (opts.apps) {
            if (opts.apps.length === 0) return { opened: 0, closed: 0 };
            q = q.where("app_id", "in", opts.apps);
          }
          const open = await q.execute();
          let opened = 0, closed = 0;
          const kept = new Set<string>();
          for (const o of open) {
            const w = want.get(keyOf(o));
            if (
              w && w.org_id === o.org_id && w.replicas === Number(o.replicas) &&
              w.cpu_millis === Number(o.cpu_millis) && w.memory_bytes === Number(o.memory_bytes)
            ) {
              kept.add(keyOf(o));
              continue;
            }
            // Conditional: a replica that closed it first wins, and this transaction gives way.
            await closeSegment(tx, "billing_usage", o, at);
            closed++;
          }
          for (const [k, w] of want) {
            if (kept.has(k)) continue;
            if (opts.apps && !opts.apps.includes(w.app_id)) continue;
            await tx.insertInto("billing_usage").values({
              id: uuidv7(at),
              org_id: w.org_id,
              app_id: w.app_id,
              service: w.service,
              replicas: w.replicas,
              cpu_millis: w.cpu_millis,
              memory_bytes: w.memory_bytes,
              started_at: at,
              ended_at: null,
            }).execute();
            opened++;
          }
          return { opened, closed };
        });
      } catch (err) {
        if (lostRace(err)) {
          return { opened: 0, closed: 0, raced: true };
        }
        throw err;
      }
    },

    /**
     * What an org's services reserve now as Swarm ran them at the last observation (the open
     * segments: desired replicas × reservations), for the quotas' utilisation.
     */
    async reservedNow(orgId: string): Promise<{ cpu_millis: number; memory_bytes: number }> {
      const rows = await db.selectFrom("billing_usage")
        .select(["replicas", "cpu_millis", "memory_bytes"])
        .where("org_id", "=", orgId).where("ended_at", "is", null).execute();
      let cpu = 0, memory = 0;
      for (const r of rows) {
        cpu += Number(r.replicas) * Number(r.cpu_millis);
        memory += Number(r.replicas) * Number(r.memory_bytes);
      }
      return { cpu_millis: cpu, memory_bytes: memory };
    },

    /** An org's segments that overlap [from, to) (ms), oldest first. */
    async segments(orgId: string, from: number, to: number): Promise<Segment[]> {
      const rows = await db.selectFrom("billing_usage").selectAll().where("org_id", "=", orgId)
        .where("started_at", "<", to)
        .where((eb) => eb.or([eb("ended_at", "is", null), eb("ended_at", ">", from)]))
        .orderBy("started_at").orderBy("app_id").orderBy("service").execute();
      return rows.map(segmentOf);
    },
  };
}

/** A row of billing_usage as the meter takes it (PostgreSQL answers int8 as numbers here too). */
export function segmentOf(r: {
  app_id: string;
  service: string;
  replicas: number;
  cpu_millis: number;
  memory_bytes: number;
  started_at: number;
  ended_at: number | null;
}): Segment {
  return {
    app_id: r.app_id,
    service: r.service,
    replicas: Number(r.replicas),
    cpu_millis: Number(r.cpu_millis),
    memory_bytes: Number(r.memory_bytes),
    started_at: Number(r.started_at),
    ended_at: r.ended_at === null ? null : Number(r.ended_at),
  };
}

export type Usage = ReturnType<typeof createUsage>;

/** The cluster as the usage job reads it (lib/apps/cluster.ts). */
export interface SwarmView {
  /** The cluster's record, undefined when none was created. */
  info(): Promise<unknown | undefined>;
  /** The manager's gateway; throws while it is out of reach. */
  manager(): Promise<{ gw: Pick<SwarmGateway, "services" | "tasks"> }>;
}

/**
 * Takes what Swarm runs now into the segments (the billing_usage job). No cluster: nothing runs,
 * every open segment ends. A manager out of reach: what runs is unknown, and the open segments
 * stand until it answers (the last known state is billed meanwhile).
 */
export async function observeSwarm(
  usage: Usage,
  cluster: SwarmView,
): Promise<ObserveReport | { skipped: string }> {
  if (!await cluster.info()) return await usage.observe([]);
  const m = await cluster.manager().catch(() => null);
  if (!m) return { skipped: "manager offline" };
  const services = await m.gw.services(LABELS.app);
  const global = services.some((s) => !("Replicated" in s.Spec.Mode));
  const tasks = global ? await m.gw.tasks({ label: [LABELS.app] }) : [];
  return await usage.observe(usageFromSwarm(services, tasks));
}
