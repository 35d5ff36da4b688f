import type { DbHandle } from "../db/mod.ts";
import type { EventBus } from "../events.ts";
import type { Clock } from "../util/clock.ts";
import type { RealtimePublisher } from "../realtime/publisher.ts";
import { type FleetEvent, topics } from "../realtime/topics.ts";
import type { Logger } from "../log.ts";
import type { MetricsBatch } from "../protocol/metrics.ts";
import { createMetricStore, type IngestMeta, type IngestResult } from "./store.ts";
import { createRollups } from "./rollup.ts";
import { createMetricQuery } from "./query.ts";
import { createMetricOverview } from "./overview.ts";
import { applyMetricsRetention } from "./retention.ts";
import { createChunkCompaction } from "./chunk_compaction.ts";
import { createChunkMigration } from "./chunk_migration.ts";
import type { Job } from "../jobs/scheduler.ts";
import { type IngestNote, ingestNotes } from "./ingest_status.ts";

/** Largest live message published per batch; bigger batches publish only their latest sample. */
const MAX_LIVE_BYTES = 7000;
/** CPU/memory points per fleet summary: a sparkline's worth, so a drained spool stays one small message. */
const MAX_FLEET_POINTS = 60;

const HOUR = 3_600_000;

/**
 * The database could not store a batch for a reason that passes (a full disk, an I/O error, a
 * database that is restarting or unreachable): the agent should send it again later.
 */
export class MetricsUnavailable extends Error {
  constructor(readonly reason: string) {
    super(`The hub cannot store metrics right now (${reason}); send the batch again later`);
  }
}

/** Whether a database error is one that passes, so the batch is worth sending again. */
export function isTransientStorageError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const message = String(e?.message ?? err);
  // SQLite: SQLITE_FULL, SQLITE_IOERR, SQLITE_BUSY/LOCKED, SQLITE_CANTOPEN, SQLITE_READONLY, SQLITE_NOMEM.
  if (
    /database or disk is full|disk I\/O error|database is locked|database table is locked|unable to open database file|readonly database|out of memory/i
      .test(message)
  ) return true;
  const code = typeof e?.code === "string" ? e.code : "";
  // PostgreSQL: insufficient resources (53…), operator intervention (57P…: shutdown, crash), the
  // connection (08…), serialization failures and deadlocks; postgres.js's own connection errors.
  return /^(53|57P|08|40001|40P01)/.test(code) ||
    /^(CONNECTION_|CONNECT_TIMEOUT|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT)/.test(code);
}

/** The last ingest failure of a host on this hub process, for its page. */
export interface IngestFailure {
  at: number;
  reason: string;
}

/** Metrics of the fleet: ingest (with live publishing), rollups, queries and their scheduled jobs. */
declare module "../events.ts" {
  interface DomainEvents {
    /** A host's batch is stored (a retried duplicate is not announced twice). */
    "metrics.batch_committed": { host: { id: string; org_id: string }; batch: MetricsBatch };
  }
}

export function createMetrics(deps: {
  dbh: DbHandle;
  clock: Clock;
  /** Publishes committed batches live: the host's samples and the fleet's summary. */
  realtime: RealtimePublisher;
  log: Logger;
  retention: { rawHours: number; minuteDays: number; hourDays: number };
  /** Live series a host may have; a batch's new series past it are dropped and counted (store.ts). */
  maxSeriesPerHost?: number;
  /**
   * Where each newly committed batch is announced (`metrics.batch_committed`): alert rules are
   * evaluated on the ingest path, by a synchronous and cheap listener, not by polling the database.
   */
  events?: EventBus;
}) {
  const store = createMetricStore(deps.dbh, deps.clock, {
    maxSeriesPerHost: deps.maxSeriesPerHost,
  });
  const rollups = createRollups(deps.dbh.db, deps.clock);
  const query = createMetricQuery(deps.dbh.db, deps.clock);
  const overview = createMetricOverview(deps.dbh.db, deps.dbh.dialect);
  const compaction = createChunkCompaction(deps.dbh, deps.clock);
  const chunkMigration = createChunkMigration(deps.dbh, deps.clock);
  // The last failure per host (bounded: one entry per host, dropped when a batch commits).
  const failures = new Map<string, IngestFailure>();
  const startedAt = deps.clock.now();
  // When refused samples were last logged per host: a clock a day off would log every batch.
  const refusedLogged = new Map<string, number>();

  /** Remembers why a host's report was not stored, for its page (this process only). */
  function noteFailure(hostId: string, reason: string) {
    failures.delete(hostId);
    failures.set(hostId, { at: deps.clock.now(), reason: reason.slice(0, 300) });
    if (failures.size > 10_000) failures.delete(failures.keys().next().value!);
  }

  /** What ingest last saw of a host's agent (epoch, clock skew, refused samples, problems). */
  async function agentState(hostId: string) {
    const row = await deps.dbh.db.selectFrom("metric_agents").selectAll()
      .where("host_id", "=", hostId).executeTakeFirst();
    if (!row) return undefined;
    const n = (v: number | null) => v === null ? null : Number(v);
    return {
      ...row,
      epoch_since: Number(row.epoch_since),
      last_report_at: Number(row.last_report_at),
      last_stored_at: n(row.last_stored_at),
      skew_ms: n(row.skew_ms),
      refused_future: Number(row.refused_future),
      refused_old: Number(row.refused_old),
      refused_at: n(row.refused_at),
      lost: Number(row.lost),
      capped_series: Number(row.capped_series),
      capped_samples: Number(row.capped_samples),
      capped_at: n(row.capped_at),
      series_gen: Number(row.series_gen),
    };
  }

  /** Logs what a committed batch says about its agent: a new spool epoch, refused samples (at most every 10 min per host). */
  function logCommitted(host: { id: string }, batch: MetricsBatch, r: IngestResult) {
    if (r.epochChanged) {
      const fields = { host_id: host.id, from: r.epochChanged.from, to: r.epochChanged.to };
      if (r.epochChanged.from === "") {
        deps.log.info("metrics: the agent now numbers its batches by spool epoch", fields);
      } else {
        deps.log.warn(
          "metrics: the agent's spool epoch changed (its spool was reset or lost); batches of the new epoch are stored from seq 0",
          { ...fields, seq: batch.seq },
        );
      }
    }
    const now = deps.clock.now();
    if (
      r.refused.future + r.refused.old > 0 && now - (refusedLogged.get(host.id) ?? 0) >= HOUR / 6
    ) {
      refusedLogged.set(host.id, now);
      if (refusedLogged.size > 10_000) refusedLogged.delete(refusedLogged.keys().next().value!);
      deps.log.warn(
        "metrics: samples refused (dated outside the raw retention window or > 5 min ahead)",
        {
          host_id: host.id,
          seq: batch.seq,
          future: r.refused.future,
          old: r.refused.old,
          skew_ms: r.skewMs,
        },
      );
    }
  }

  /** Publishes a committed batch's host samples to the host's topic and a compact summary to the fleet. */
  async function publish(host: { id: string; org_id: string }, batch: MetricsBatch) {
    const { realtime } = deps;
    const hostTopic = topics.hostMetrics(host.org_id, host.id);
    const samples = batch.samples.map((s) => ({ t: s.t, host: s.host }));
    // Encoded once: the text measured here is the text every client receives.
    let live = realtime.encode(hostTopic, { host_id: host.id, samples });
    if (live.json.length > MAX_LIVE_BYTES) {
      live = realtime.encode(hostTopic, { host_id: host.id, samples: samples.slice(-1) });
    }
    const last = batch.samples.at(-1);
    const fleet: FleetEvent | undefined = last && {
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
      ...containerUsage(batch, last.host["mem.total_bytes"]),
    };
    if (live.json.length <= MAX_LIVE_BYTES) await realtime.publish(hostTopic, live);
    if (fleet) await realtime.publish(topics.fleetMetrics(host.org_id), fleet);
  }

  return {
    store,
    rollups,
    query,
    overview,

    /**
     * Commits a batch (idempotent by epoch and seq), then publishes what it stored live. Samples
     * outside the raw retention window or more than 5 minutes ahead are refused and counted, on
     * every path: alert rules and live topics see only what was stored. A database failure that
     * passes is logged and thrown as MetricsUnavailable.
     */
    async ingest(
      host: { id: string; org_id: string },
      batch: MetricsBatch,
      meta: Omit<IngestMeta, "oldestMs"> = {},
    ): Promise<IngestResult> {
      const oldestMs = deps.clock.now() - deps.retention.rawHours * HOUR;
      let r: IngestResult;
      try {
        r = await store.ingest(host.id, batch, { ...meta, oldestMs });
      } catch (err) {
        deps.log.error("metrics: a batch could not be stored", {
          host_id: host.id,
          seq: batch.seq,
          error: String(err),
        });
        noteFailure(
          host.id,
          `the hub could not store its report: ${(err as Error)?.message ?? err}`,
        );
        if (isTransientStorageError(err)) {
          throw new MetricsUnavailable((err as Error)?.message ?? String(err));
        }
        throw err;
      }
      failures.delete(host.id);
      if (!r.duplicate) {
        logCommitted(host, batch, r);
        if (r.samples.length) {
          const stored = { ...batch, samples: r.samples };
          // Alert rules see the batch once it is committed (a retried duplicate is not seen twice).
          deps.events?.emit("metrics.batch_committed", { host, batch: stored });
          await publish(host, stored);
        }
      }
      return r;
    },

    /** Records why a host's report was refused before ingest (wrong machine, bad body), for its page. */
    refused(hostId: string, reason: string): void {
      noteFailure(hostId, reason);
    },

    /** The last failure to store a host's report seen by this hub process, if it has not recovered. */
    lastFailure(hostId: string): IngestFailure | undefined {
      return failures.get(hostId);
    },

    /** The lines a host's page shows about its metrics (not reporting, clock, spool reset, problems). */
    async notes(
      host: { id: string; local: boolean; enrolled_at: number | null },
      online: boolean,
    ): Promise<IngestNote[]> {
      return ingestNotes({
        now: deps.clock.now(),
        online,
        enrolledAt: host.enrolled_at,
        since: startedAt,
        local: host.local,
        agent: await agentState(host.id),
        failure: failures.get(host.id),
        maxSeriesPerHost: store.maxSeriesPerHost,
      });
    },

    agentState,

    /** How far the conversion of old raw rows into chunks is (undefined: not started). */
    chunkMigrationStatus: () => chunkMigration.status(),
    /** Merges small chunks now (tests and tools; the job does it every minute). */
    compactChunks: () => compaction.run(),

    /**
     * The scheduled jobs (each lease-protected): rollups, chunk compaction and the conversion of
     * old raw rows every minute, retention every hour.
     */
    jobs(): Job[] {
      return [
        {
          name: "metrics_rollup",
          schedule: "* * * * *",
          intervalMs: 60_000,
          run: () => rollups.run(),
        },
        {
          // Merges each batch's small chunks into full ones (chunk_compaction.ts).
          name: "metrics_compact",
          schedule: "* * * * *",
          intervalMs: 60_000,
          run: () => compaction.run(),
        },
        {
          // Converts rows of the old raw table into chunks, 20 s a minute until none are left.
          name: "metrics_chunk_migration",
          schedule: "* * * * *",
          intervalMs: 60_000,
          run: async () => {
            const converted = await chunkMigration.run();
            if (converted > 0) {
              const s = await chunkMigration.status();
              deps.log.info("metrics: raw rows converted to chunks", {
                converted,
                done: s?.converted_rows,
                total: s?.total_rows,
                finished: s?.finished_at !== null,
              });
            }
          },
        },
        {
          name: "metrics_retention",
          schedule: "23 * * * *",
          intervalMs: 3_600_000,
          run: () =>
            applyMetricsRetention(
              deps.dbh.db,
              deps.clock,
              rollups,
              deps.retention,
              {},
              (ids) => store.forget(ids),
            ),
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
/** What ingest last saw of a host's agent; see Metrics.agentState. */
export type MetricAgentState = NonNullable<Awaited<ReturnType<Metrics["agentState"]>>>;

/**
 * The batch's newest container sample as `[cpu %, memory %]` per container (FleetEvent.ctr), for
 * at most MAX_FLEET_CONTAINERS of them: every fleet client receives it with each host's batch. Memory
 * is of the container's limit, or of the host's memory when it has none.
 */
const MAX_FLEET_CONTAINERS = 250;

function containerUsage(
  batch: MetricsBatch,
  hostMemBytes: number | undefined,
): Pick<FleetEvent, "ctr"> {
  const sample = batch.samples.findLast((s) => s.containers);
  if (!sample?.containers) return {};
  const ctr: NonNullable<FleetEvent["ctr"]> = {};
  for (const [id, v] of Object.entries(sample.containers).slice(0, MAX_FLEET_CONTAINERS)) {
    const used = v["ctr.mem_used_bytes"];
    const mem = v["ctr.mem_pct"] ??
      (used !== undefined && hostMemBytes ? Math.round((used / hostMemBytes) * 1000) / 10 : null);
    ctr[id] = [v["ctr.cpu_pct"] ?? null, mem];
  }
  return { ctr };
}
