/**
 * An app's metrics: per service the sum of its containers' CPU, memory and network over a range,
 * and per replica (slot) the same over the containers that held the slot, from the container
 * series the metrics store already keeps (same keys as the container charts). The containers come
 * from task_containers.ts, so replaced containers' history stays in the charts.
 *
 * Bounded: at most MAX_CONTAINERS containers per read (the most recently seen), replica series
 * for at most REPLICA_SERIES per service, at most MAX_POINTS points per series.
 */
import { MAX_POINTS } from "../metrics/query.ts";
import type { MetricQuery } from "../metrics/query.ts";
import type { MetricOverview } from "../metrics/overview.ts";
import type { Clock } from "../util/clock.ts";
import { type MemberBucket, sumAcrossMembers } from "../metrics/aggregate.ts";
import type { App } from "./store.ts";
import type { TaskContainer, TaskContainers } from "./task_containers.ts";

const MINUTE = 60_000;
const HOUR = 3_600_000;

/** Container series an app chart may ask for; the first four are drawn by default. */
export const APP_METRIC_KEYS = [
  "ctr.cpu_pct",
  "ctr.mem_used_bytes",
  "ctr.net_rx_bps",
  "ctr.net_tx_bps",
  "ctr.cpu_cores",
  "ctr.blk_read_bps",
  "ctr.blk_write_bps",
] as const;
export type AppMetricKey = typeof APP_METRIC_KEYS[number];
export const DEFAULT_APP_METRIC_KEYS: AppMetricKey[] = APP_METRIC_KEYS.slice(0, 4);
/** Containers read per request, newest first. */
export const MAX_CONTAINERS = 200;
/** Replicas per service that get series of their own (a service's total covers them all). */
export const REPLICA_SERIES = 20;

/** What an app's metrics read answers; `series` as the host metrics API gives them. */
export interface AppMetrics {
  tier: "1m" | "1h";
  from: number;
  to: number;
  /** Containers summed (replaced ones included). */
  containers: number;
  /** True when the app had more containers in the range than MAX_CONTAINERS. */
  truncated: boolean;
  series: { key: string; points: [number, number, number, number][] }[];
}

/**
 * A replica's name: `web.2` for slot 2; for a global service's task, `web@` and the end of its
 * host's id (ids are UUIDv7: their start is a time, the same for hosts added together).
 */
export function replicaName(c: Pick<TaskContainer, "service" | "slot" | "host_id">): string {
  return c.slot !== null
    ? `${c.service}.${c.slot}`
    : `${c.service}@${c.host_id.replaceAll("-", "").slice(-8)}`;
}

/** The key of a service's total (`ctr.cpu_pct{service=web}`). */
export const serviceKey = (key: string, service: string) => `${key}{service=${service}}`;
/** The key of a replica's series (`ctr.cpu_pct{replica=web.1}`). */
export const replicaKey = (key: string, replica: string) => `${key}{replica=${replica}}`;

/** An app's CPU and memory now: sums over its running containers' newest figures. */
export interface AppUsage {
  cpu_pct: number | null;
  mem_used_bytes: number | null;
}

/** A container counts as running when the apps module saw it within this (reconciler: 1 min). */
const CURRENT_MS = 3 * MINUTE;
/** Container figures older than this are not current (the agent samples every 10 s). */
const FRESH_MS = MINUTE;

/** Reads apps' metrics from their recorded task containers and the metrics store. */
export function createAppMetrics(deps: {
  containers: Pick<TaskContainers, "forApp" | "current">;
  query: Pick<MetricQuery, "containerBuckets">;
  latest: Pick<MetricOverview, "containerLatest">;
  clock: Clock;
}) {
  return {
    /** CPU and memory now of each given app (null figures: none current), for the apps list. */
    async usage(appIds: string[]): Promise<Map<string, AppUsage>> {
      const now = deps.clock.now();
      const rows = await deps.containers.current(appIds, now - CURRENT_MS, MAX_CONTAINERS * 5);
      const out = new Map<string, AppUsage>();
      const hosts = [...new Set(rows.map((r) => r.host_id))];
      const figures = new Map(
        await Promise.all(
          hosts.map(async (h) =>
            [h, await deps.latest.containerLatest(h, now - FRESH_MS)] as const
          ),
        ),
      );
      const add = (a: number | null, b: number | undefined) => b === undefined ? a : (a ?? 0) + b;
      for (const r of rows) {
        const f = figures.get(r.host_id)?.get(r.container_id);
        const u = out.get(r.app_id) ?? { cpu_pct: null, mem_used_bytes: null };
        u.cpu_pct = add(u.cpu_pct, f?.["ctr.cpu_pct"]?.v);
        u.mem_used_bytes = add(u.mem_used_bytes, f?.["ctr.mem_used_bytes"]?.v);
        out.set(r.app_id, u);
      }
      return out;
    },

    /** An app's (or one of its services') summed series over [from, to). */
    async read(
      app: App,
      opts: { from: number; to: number; keys: AppMetricKey[]; service?: string },
    ): Promise<AppMetrics> {
      const { from, to } = opts;
      // Minutes even for short ranges: containers report every 10 s at their own phase, so raw
      // seconds of different hosts never line up to be summed.
      const tier = to - from <= 3 * 24 * HOUR ? "1m" : "1h";
      const resolution = tier === "1m" ? MINUTE : HOUR;
      const step = resolution * Math.max(1, Math.ceil((to - from) / MAX_POINTS / resolution));
      const found = await deps.containers.forApp(app.id, from, to, MAX_CONTAINERS);
      const items = found.items.filter((c) => !opts.service || c.service === opts.service);

      // Replicas with series of their own: the lowest slots of each service.
      const replicas = new Map<string, string[]>();
      for (const c of items) {
        const names = replicas.get(c.service) ?? [];
        const r = replicaName(c);
        if (!names.includes(r)) names.push(r);
        replicas.set(c.service, names);
      }
      const drawn = new Set<string>();
      for (const names of replicas.values()) {
        names.sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
        for (const n of names.slice(0, REPLICA_SERIES)) drawn.add(n);
      }

      const groups = new Map<string, string[]>();
      const byHost = new Map<string, string[]>();
      for (const c of items) {
        const r = replicaName(c);
        groups.set(`${c.host_id}/${c.container_id}`, [
          `service=${c.service}`,
          ...(drawn.has(r) ? [`replica=${r}`] : []),
        ]);
        byHost.set(c.host_id, [...(byHost.get(c.host_id) ?? []), c.container_id]);
      }
      const rows: MemberBucket[] = [];
      for (const [hostId, ids] of byHost) {
        for (const r of await deps.query.containerBuckets(hostId, ids, opts.keys, tier, from, to)) {
          rows.push({
            member: `${hostId}/${r.container}`,
            key: r.key,
            t: r.t,
            sum: r.sum,
            count: r.count,
          });
        }
      }
      const summed = sumAcrossMembers(rows, (m) => groups.get(m) ?? [], step, from, to);
      return {
        tier,
        from,
        to,
        containers: items.length,
        truncated: found.truncated,
        series: summed.map((s) => ({ key: `${s.key}{${s.group}}`, points: s.points })),
      };
    },
  };
}

export type AppMetricsReader = ReturnType<typeof createAppMetrics>;
