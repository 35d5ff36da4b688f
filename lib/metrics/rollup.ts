import type { Db } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import { add, decode, encode, type Histogram, merge } from "./histogram.ts";

const MINUTE = 60_000;
const HOUR = 3_600_000;

interface Acc {
  min: number;
  max: number;
  sum: number;
  count: number;
  hist: Histogram;
}

function newAcc(): Acc {
  return { min: Infinity, max: -Infinity, sum: 0, count: 0, hist: new Map() };
}

/**
 * Computes rollups for the host-buckets marked dirty by ingest: one-minute rows from raw samples,
 * then one-hour rows by merging minutes. A bucket that receives late samples is marked dirty again
 * and recomputed from scratch, so late and retried data end up counted exactly once.
 */
export function createRollups(db: Db, clock: Clock) {
  async function seriesOf(hostId: string): Promise<number[]> {
    const rows = await db.selectFrom("metric_series").select("id").where("host_id", "=", hostId)
      .execute();
    return rows.map((r) => Number(r.id));
  }

  async function write(tier: "metric_1m" | "metric_1h", bucket: number, accs: Map<number, Acc>) {
    if (!accs.size) return;
    await db.transaction().execute(async (tx) => {
      const sids = [...accs.keys()];
      await tx.deleteFrom(tier).where("t", "=", bucket).where("series_id", "in", sids).execute();
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
    });
  }

  async function minute(hostId: string, bucket: number) {
    const sids = await seriesOf(hostId);
    const accs = new Map<number, Acc>();
    for (let i = 0; i < sids.length; i += 500) {
      const rows = await db.selectFrom("metric_raw").select(["series_id", "v"])
        .where("series_id", "in", sids.slice(i, i + 500)).where("t", ">=", bucket).where(
          "t",
          "<",
          bucket + MINUTE,
        )
        .execute();
      for (const r of rows) {
        const sid = Number(r.series_id);
        let a = accs.get(sid);
        if (!a) accs.set(sid, a = newAcc());
        if (r.v < a.min) a.min = r.v;
        if (r.v > a.max) a.max = r.v;
        a.sum += r.v;
        a.count++;
        add(a.hist, r.v);
      }
    }
    await write("metric_1m", bucket, accs);
  }

  async function hour(hostId: string, bucket: number) {
    const sids = await seriesOf(hostId);
    const accs = new Map<number, Acc>();
    for (let i = 0; i < sids.length; i += 500) {
      const rows = await db.selectFrom("metric_1m").selectAll().where(
        "series_id",
        "in",
        sids.slice(i, i + 500),
      )
        .where("t", ">=", bucket).where("t", "<", bucket + HOUR).execute();
      for (const r of rows) {
        const sid = Number(r.series_id);
        let a = accs.get(sid);
        if (!a) accs.set(sid, a = newAcc());
        a.min = Math.min(a.min, r.min);
        a.max = Math.max(a.max, r.max);
        a.sum += r.sum;
        a.count += r.count;
        merge(a.hist, decode(r.hist));
      }
    }
    await write("metric_1h", bucket, accs);
  }

  async function take(tier: "1m" | "1h", before: number, limit: number) {
    return await db.selectFrom("metric_dirty").select(["host_id", "bucket"]).where(
      "tier",
      "=",
      tier,
    )
      .where("bucket", "<", before).orderBy("bucket").limit(limit).execute();
  }

  async function done(tier: "1m" | "1h", hostId: string, bucket: number) {
    await db.deleteFrom("metric_dirty").where("tier", "=", tier).where("host_id", "=", hostId)
      .where("bucket", "=", Number(bucket)).execute();
  }

  return {
    /**
     * Rolls up dirty buckets. Minutes are rolled once they are complete (`settleMs` after their end,
     * for reports in flight); `all` also rolls the current minute (tests, retention before deletes).
     */
    async run(
      opts: { limit?: number; all?: boolean; settleMs?: number } = {},
    ): Promise<{ minutes: number; hours: number }> {
      const limit = opts.limit ?? 10_000;
      const now = clock.now();
      const minuteCutoff = opts.all
        ? Number.MAX_SAFE_INTEGER
        : now - MINUTE - (opts.settleMs ?? 15_000);
      let minutes = 0;
      for (const d of await take("1m", minuteCutoff, limit)) {
        const b = Number(d.bucket);
        // Unmark first: a batch landing while we compute marks it again and nothing is lost.
        await done("1m", d.host_id, b);
        await minute(d.host_id, b);
        const h = b - (b % HOUR);
        await db.insertInto("metric_dirty").values({ tier: "1h", host_id: d.host_id, bucket: h })
          .onConflict((oc) => oc.doNothing()).execute();
        minutes++;
      }
      let hours = 0;
      for (const d of await take("1h", Number.MAX_SAFE_INTEGER, limit)) {
        const b = Number(d.bucket);
        await done("1h", d.host_id, b);
        await hour(d.host_id, b);
        hours++;
      }
      return { minutes, hours };
    },
  };
}

export type Rollups = ReturnType<typeof createRollups>;
