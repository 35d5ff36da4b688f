import type { Db } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import { encode } from "./histogram.ts";
import { addRow, addSample, emptySummary, type Summary } from "./summary.ts";
import { createPacer, type Pacer, type Pacing } from "./pacer.ts";
import type { Transaction } from "kysely";
import type { Database } from "../db/schema.ts";
import { createLegacyRaw, readRaw } from "./chunks.ts";

const MINUTE = 60_000;
const HOUR = 3_600_000;

/** What one run did. */
export interface RollupResult {
  minutes: number;
  hours: number;
  /** Slices the run took (one more than the times it yielded). */
  slices: number;
}

type Tier = "1m" | "1h";
type Tx = Transaction<Database>;

/**
 * A bucket being computed carries this mark instead of its dirty one, so readers still take it from
 * the finer data until the last rows are written (query.ts), and a batch landing meanwhile leaves
 * a fresh dirty mark that the next run sees.
 */
export const RUNNING = { "1m": "1m/running", "1h": "1h/running" } as const;

/** Series per step: a step reads at most ~60 raw rows (or minute rows) of each. */
const SERIES_PER_STEP: Record<Tier, number> = { "1m": 8, "1h": 2 };

/**
 * Computes rollups for the host-buckets marked dirty by ingest: one-minute rows from raw samples,
 * then, once an hour is over, one-hour rows by merging its minutes (until then readers merge the
 * minutes themselves). A bucket that receives late samples is marked dirty again and recomputed
 * from scratch, so late and retried data end up counted exactly once. Runs in one process never
 * overlap (the minute job and retention's catch-up share one queue).
 */
export function createRollups(db: Db, clock: Clock, pacing: Pacing = {}) {
  let queue: Promise<unknown> = Promise.resolve();
  const legacy = createLegacyRaw(() => clock.now());

  /** Moves a bucket's dirty mark to running; false when another run took it first. */
  async function claim(tx: Tx, tier: Tier, hostId: string, b: number): Promise<boolean> {
    const taken = await tx.deleteFrom("metric_dirty").where("tier", "=", tier)
      .where("host_id", "=", hostId).where("bucket", "=", b).executeTakeFirst();
    if (Number(taken.numDeletedRows ?? 0) === 0) return false;
    await tx.insertInto("metric_dirty").values({ tier: RUNNING[tier], host_id: hostId, bucket: b })
      .onConflict((oc) => oc.doNothing()).execute();
    return true;
  }

  /** Recomputes the rollup rows of some series of one bucket; returns the rows read and written. */
  async function compute(tx: Tx, tier: Tier, b: number, sids: number[]): Promise<number> {
    const accs = new Map<number, Summary>();
    const summary = (sid: number) => {
      let a = accs.get(sid);
      if (!a) accs.set(sid, a = emptySummary());
      return a;
    };
    let read: number;
    if (tier === "1m") {
      read = 0;
      for (const [sid, samples] of await readRaw(tx, legacy, sids, b, b + MINUTE)) {
        for (const r of samples) addSample(summary(sid), r.v);
        read += samples.length;
      }
    } else {
      const rows = await tx.selectFrom("metric_1m")
        .select(["series_id", "min", "max", "sum", "count", "hist"])
        .where("series_id", "in", sids).where("t", ">=", b).where("t", "<", b + HOUR).execute();
      for (const r of rows) addRow(summary(Number(r.series_id)), r);
      read = rows.length;
    }
    if (!accs.size) return read;
    const table = tier === "1m" ? "metric_1m" : "metric_1h";
    const written = [...accs.keys()];
    await tx.deleteFrom(table).where("t", "=", b).where("series_id", "in", written).execute();
    const rows = written.map((sid) => {
      const a = accs.get(sid)!;
      return {
        series_id: sid,
        t: b,
        min: a.min,
        max: a.max,
        sum: a.sum,
        count: a.count,
        hist: encode(a.hist),
      };
    });
    for (let i = 0; i < rows.length; i += 100) {
      await tx.insertInto(table).values(rows.slice(i, i + 100)).execute();
    }
    return read + rows.length;
  }

  /** Ends a bucket: its running mark goes, and a finished minute marks its hour. */
  async function finish(tx: Tx, tier: Tier, hostId: string, b: number) {
    await tx.deleteFrom("metric_dirty").where("tier", "=", RUNNING[tier])
      .where("host_id", "=", hostId).where("bucket", "=", b).execute();
    if (tier === "1m") {
      await tx.insertInto("metric_dirty")
        .values({ tier: "1h", host_id: hostId, bucket: b - (b % HOUR) })
        .onConflict((oc) => oc.doNothing()).execute();
    }
  }

  /**
   * Recomputes one bucket in steps of a few series, each one short transaction: the first also
   * claims the bucket and lists its series (one created later marks the bucket dirty again), the
   * last also finishes it. False when another run had claimed it.
   */
  async function bucket(
    d: { tier: string; host_id: string; bucket: number },
    tier: Tier,
    pacer: Pacer,
  ): Promise<boolean> {
    const b = Number(d.bucket);
    const n = SERIES_PER_STEP[tier];
    let sids: number[] = [];
    for (let i = 0; i === 0 || i < sids.length; i += n) {
      const rows = await db.transaction().execute(async (tx) => {
        if (i === 0) {
          if (d.tier === tier && !(await claim(tx, tier, d.host_id, b))) return null;
          sids = (await tx.selectFrom("metric_series").select("id").where("host_id", "=", d.host_id)
            .orderBy("id").execute()).map((r) => Number(r.id));
        }
        const touched = sids.length ? await compute(tx, tier, b, sids.slice(i, i + n)) : 0;
        if (i + n >= sids.length) await finish(tx, tier, d.host_id, b);
        return touched;
      });
      if (rows === null) return false;
      await pacer.step(rows + 1);
    }
    return true;
  }

  /** Marked buckets of a tier that ended before `before`, oldest first; running ones are left over from a run that died. */
  async function take(tier: Tier, before: number, limit: number) {
    return await db.selectFrom("metric_dirty").select(["tier", "host_id", "bucket"])
      .where("tier", "in", [tier, RUNNING[tier]]).where("bucket", "<", before)
      .orderBy("bucket").limit(limit).execute();
  }

  async function runOnce(
    opts: { limit?: number; all?: boolean; settleMs?: number },
  ): Promise<RollupResult> {
    const limit = opts.limit ?? 10_000;
    const settle = opts.settleMs ?? 15_000;
    const now = clock.now();
    const cutoff = (length: number) => opts.all ? Number.MAX_SAFE_INTEGER : now - length - settle;
    const done = { minutes: 0, hours: 0 };
    // Each step is one short transaction, so a slice ends within a step's work (see pacer.ts).
    const pacer = createPacer(pacing);
    for (const tier of ["1m", "1h"] as const) {
      for (const d of await take(tier, cutoff(tier === "1m" ? MINUTE : HOUR), limit)) {
        if (!(await bucket(d, tier, pacer))) continue;
        if (tier === "1m") done.minutes++;
        else done.hours++;
      }
    }
    return { ...done, slices: pacer.slices };
  }

  return {
    /**
     * Rolls up dirty buckets, yielding to the event loop between slices (see pacer.ts).
     * Minutes are rolled once they are complete (`settleMs` after their end, for reports in
     * flight), hours likewise once over; `all` also rolls the current ones (tests, retention
     * before deletes).
     */
    run(opts: { limit?: number; all?: boolean; settleMs?: number } = {}): Promise<RollupResult> {
      const next = queue.then(() => runOnce(opts));
      queue = next.catch(() => {});
      return next;
    },
  };
}

export type Rollups = ReturnType<typeof createRollups>;
