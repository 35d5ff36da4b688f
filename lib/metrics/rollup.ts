import type { Transaction } from "kysely";
import type { Db } from "../db/mod.ts";
import type { Database } from "../db/schema.ts";
import type { Clock } from "../util/clock.ts";
import { encode } from "./histogram.ts";
import { addRow, addSample, emptySummary, type Summary } from "./summary.ts";

const MINUTE = 60_000;
const HOUR = 3_600_000;

/**
 * How a rollup run shares the hub's one thread. On SQLite every query runs synchronously and
 * resolves at once, so a run of thousands of buckets never reached the event loop: ingest acks and
 * live updates waited for all of it (seconds, once a minute). A run now works in slices and yields
 * between them; each bucket is one short transaction, so a slice ends within one bucket's work.
 */
export interface RollupPacing {
  /** Rows read and written per slice before yielding; default 4000. */
  sliceRows?: number;
  /** Time per slice before yielding, ms; default 5. */
  sliceMs?: number;
  /**
   * Hands the thread back until the event loop has had a turn. A timer by default: in Deno,
   * setImmediate and MessageChannel continuations run before pending sockets are polled, so only a
   * timer lets waiting requests in.
   */
  pause?: () => Promise<void>;
  /** Monotonic ms for slice lengths; performance.now() by default. */
  monotonic?: () => number;
}

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
 * Computes rollups for the host-buckets marked dirty by ingest: one-minute rows from raw samples,
 * then one-hour rows by merging minutes. A bucket that receives late samples is marked dirty again
 * and recomputed from scratch, so late and retried data end up counted exactly once.
 */
export function createRollups(db: Db, clock: Clock, pacing: RollupPacing = {}) {
  const sliceRows = pacing.sliceRows ?? 4000;
  const sliceMs = pacing.sliceMs ?? 5;
  const pause = pacing.pause ?? (() => new Promise<void>((r) => setTimeout(r, 0)));
  const monotonic = pacing.monotonic ?? (() => performance.now());

  async function write(
    tx: Tx,
    tier: "metric_1m" | "metric_1h",
    bucket: number,
    accs: Map<number, Summary>,
  ) {
    const sids = [...accs.keys()];
    for (let i = 0; i < sids.length; i += 500) {
      await tx.deleteFrom(tier).where("t", "=", bucket).where(
        "series_id",
        "in",
        sids.slice(i, i + 500),
      )
        .execute();
    }
    const rows = sids.map((sid) => {
      const a = accs.get(sid)!;
      return {
        series_id: sid,
        t: bucket,
        min: a.min,
        max: a.max,
        sum: a.sum,
        count: a.count,
        hist: encode(a.hist),
      };
    });
    for (let i = 0; i < rows.length; i += 100) {
      await tx.insertInto(tier).values(rows.slice(i, i + 100)).execute();
    }
  }

  /**
   * Takes a bucket's mark and recomputes it, in one transaction: a reader sees the mark (and reads
   * the finer data) until the new rows are committed, never neither. A batch landing meanwhile marks
   * the bucket again (on PostgreSQL it waits for this commit to do so), so nothing is lost. Returns
   * the rows read and written, or null when another run had already taken the mark.
   */
  async function bucket(tier: Tier, hostId: string, b: number): Promise<number | null> {
    return await db.transaction().execute(async (tx) => {
      const taken = await tx.deleteFrom("metric_dirty").where("tier", "=", tier)
        .where("host_id", "=", hostId).where("bucket", "=", b).executeTakeFirst();
      if (Number(taken.numDeletedRows ?? 0) === 0) return null;
      const accs = new Map<number, Summary>();
      const summary = (sid: number) => {
        let a = accs.get(sid);
        if (!a) accs.set(sid, a = emptySummary());
        return a;
      };
      let read: number;
      if (tier === "1m") {
        const rows = await tx.selectFrom("metric_raw as r")
          .innerJoin("metric_series as s", "s.id", "r.series_id")
          .select(["r.series_id", "r.v"]).where("s.host_id", "=", hostId)
          .where("r.t", ">=", b).where("r.t", "<", b + MINUTE).execute();
        for (const r of rows) addSample(summary(Number(r.series_id)), r.v);
        read = rows.length;
        await write(tx, "metric_1m", b, accs);
        await tx.insertInto("metric_dirty").values({
          tier: "1h",
          host_id: hostId,
          bucket: b - (b % HOUR),
        })
          .onConflict((oc) => oc.doNothing()).execute();
      } else {
        const rows = await tx.selectFrom("metric_1m as r")
          .innerJoin("metric_series as s", "s.id", "r.series_id")
          .select(["r.series_id", "r.min", "r.max", "r.sum", "r.count", "r.hist"])
          .where("s.host_id", "=", hostId).where("r.t", ">=", b).where("r.t", "<", b + HOUR)
          .execute();
        for (const r of rows) addRow(summary(Number(r.series_id)), r);
        read = rows.length;
        await write(tx, "metric_1h", b, accs);
      }
      return read + accs.size;
    });
  }

  async function take(tier: Tier, before: number, limit: number) {
    return await db.selectFrom("metric_dirty").select(["host_id", "bucket"]).where(
      "tier",
      "=",
      tier,
    )
      .where("bucket", "<", before).orderBy("bucket").limit(limit).execute();
  }

  return {
    /**
     * Rolls up dirty buckets, yielding to the event loop between slices (see RollupPacing).
     * Minutes are rolled once they are complete (`settleMs` after their end, for reports in
     * flight); `all` also rolls the current minute (tests, retention before deletes).
     */
    async run(
      opts: { limit?: number; all?: boolean; settleMs?: number } = {},
    ): Promise<RollupResult> {
      const limit = opts.limit ?? 10_000;
      const now = clock.now();
      const minuteCutoff = opts.all
        ? Number.MAX_SAFE_INTEGER
        : now - MINUTE - (opts.settleMs ?? 15_000);
      const done = { minutes: 0, hours: 0, slices: 1 };
      let rows = 0;
      let sliceStart = monotonic();
      const step = async (tier: Tier, d: { host_id: string; bucket: number }) => {
        const n = await bucket(tier, d.host_id, Number(d.bucket));
        if (n === null) return;
        rows += n;
        if (tier === "1m") done.minutes++;
        else done.hours++;
        if (rows >= sliceRows || monotonic() - sliceStart >= sliceMs) {
          await pause();
          done.slices++;
          rows = 0;
          sliceStart = monotonic();
        }
      };
      for (const d of await take("1m", minuteCutoff, limit)) await step("1m", d);
      for (const d of await take("1h", Number.MAX_SAFE_INTEGER, limit)) await step("1h", d);
      return done;
    },
  };
}

export type Rollups = ReturnType<typeof createRollups>;
