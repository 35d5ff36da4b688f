import type { DbHandle } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import type { Bus } from "../realtime/bus.ts";
import type { Logger } from "../log.ts";
import type { MetricsBatch } from "../protocol/metrics.ts";
import { createMetricStore } from "./store.ts";
import { createRollups } from "./rollup.ts";
import { createMetricQuery } from "./query.ts";
import { createMetricOverview } from "./overview.ts";
import { applyMetricsRetention } from "./retention.ts";
import type { Job } from "../jobs/scheduler.ts";

/** Largest live message published per batch; bigger batches publish only their latest sample. */
const MAX_LIVE_BYTES = 7000;
/** CPU/memory points per fleet summary: a sparkline's worth, so a drained spool stays one small message. */
const MAX_FLEET_POINTS = 60;

/** Metrics of the fleet: ingest (with live publishing), rollups, queries and their scheduled jobs. */
export function createMetrics(deps: {
  dbh: DbHandle;
  clock: Clock;
  bus: Bus;
  log: Logger;
  retention: { rawHours: number; minuteDays: number; hourDays: number };
  /**
   * Alerts hook (lib/alerts/engine.ts): sees each newly committed batch. Synchronous, cheap and
   * never throws; rules are evaluated here, on the ingest path, rather than by polling the database.
   */
  onCommitted?: (host: { id: string; org_id: string }, batch: MetricsBatch) => void;
}) {
  const store = createMetricStore(deps.dbh, deps.clock);
  const rollups = createRollups(deps.dbh.db, deps.clock);
  const query = createMetricQuery(deps.dbh.db, deps.clock);
  const overview = createMetricOverview(deps.dbh.db, deps.dbh.dialect);

  /** Publishes a committed batch's host samples to the host's topic and a compact summary to the fleet. */
  async function publish(host: { id: string; org_id: string }, batch: MetricsBatch) {
    const samples = batch.samples.map((s) => ({ t: s.t, host: s.host }));
    let payload = JSON.stringify({ host_id: host.id, samples });
    if (payload.length > MAX_LIVE_BYTES) {
      payload = JSON.stringify({ host_id: host.id, samples: samples.slice(-1) });
    }
    const last = batch.samples.at(-1);
    const fleet = last && {
      host_id: host.id,
      t: last.t,
      cpu: last.host["cpu.total_pct"],
      mem: last.host["mem.used_pct"],
      rx: sumPrefix(last.host, "net.rx_bps"),
      tx: sumPrefix(last.host, "net.tx_bps"),
      // Every sample's CPU and memory, so fleet sparklines keep the same 1-per-sample pace as the
      // raw points the page started from (the summary fields above are the last sample only).
      points: batch.samples.slice(-MAX_FLEET_POINTS).map((s) => [
        s.t,
        s.host["cpu.total_pct"] ?? null,
        s.host["mem.used_pct"] ?? null,
      ]),
    };
    try {
      if (payload.length <= MAX_LIVE_BYTES) {
        await deps.bus.publish(`org:${host.org_id}:metrics.${host.id}`, JSON.parse(payload));
      }
      if (fleet) await deps.bus.publish(`org:${host.org_id}:metrics`, fleet);
    } catch (err) {
      deps.log.warn("live metrics publish failed", { error: String(err) });
    }
  }

  return {
    store,
    rollups,
    query,
    overview,

    /** Commits a batch (idempotent by seq), then publishes it live when it was new. */
    async ingest(host: { id: string; org_id: string }, batch: MetricsBatch) {
      const r = await store.ingest(host.id, batch);
      if (!r.duplicate) {
        // Alert rules see the batch once it is committed (a retried duplicate is not seen twice).
        deps.onCommitted?.(host, batch);
        await publish(host, batch);
      }
      return r;
    },

    /** The scheduled jobs: rollups every minute, retention every hour (both lease-protected). */
    jobs(): Job[] {
      return [
        {
          name: "metrics_rollup",
          schedule: "* * * * *",
          intervalMs: 60_000,
          run: () => rollups.run(),
        },
        {
          name: "metrics_retention",
          schedule: "23 * * * *",
          intervalMs: 3_600_000,
          run: () => applyMetricsRetention(deps.dbh.db, deps.clock, rollups, deps.retention),
        },
      ];
    },
  };
}

function sumPrefix(values: Record<string, number>, prefix: string): number {
  let total = 0;
  for (const k in values) if (k.startsWith(prefix)) total += values[k];
  return total;
}

export type Metrics = ReturnType<typeof createMetrics>;
