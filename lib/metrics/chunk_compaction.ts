/**
 * Merges the small chunks ingest writes (one per series per batch) into chunks of CHUNK_SAMPLES
 * samples (chunks.ts). Ingest marks each host-hour it writes to in `metric_compact`; a run takes
 * the marks, and per series merges runs of consecutive small chunks:
 * - in an hour still open, only once a run holds a full chunk's worth (the remainder is written
 *   back as one small chunk), so a sample is encoded about twice, not once per batch;
 * - once the hour is over (plus a settling margin for late batches), every run of two or more, and
 *   the mark goes.
 * Each merge is one short transaction that re-reads the chunks it replaces and gives up when one
 * changed (a late batch merged into it meanwhile); the mark stays and the next run tries again.
 */
import type { DbHandle } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import { createPacer, type Pacing } from "./pacer.ts";
import {
  CHUNK_SAMPLES,
  chunkBytes,
  cutSamples,
  HOUR,
  insertChunkRows,
  lockSeries,
  mergeSamples,
  toRows,
} from "./chunks.ts";

/** Late batches (an agent's spool replay after a short outage) still land in an hour this long after its end. */
const SETTLE_MS = 5 * 60_000;
/** Host-hours per run; the rest wait for the next minute. */
const MARKS_PER_RUN = 500;
const IDS_PER_QUERY = 500;

/** What one run did. */
export interface CompactionResult {
  /** Host-hours looked at, and finished (mark removed). */
  hours: number;
  finished: number;
  /** Chunks merged away and written. */
  merged: number;
  written: number;
}

interface Meta {
  t0: number;
  n: number;
}

/**
 * In an open hour a run of this many small chunks is merged even short of a full chunk: a 10 s
 * series fills one only after 50 minutes, and its one-sample chunks cost ~40 bytes each meanwhile.
 * Re-encoding its few hundred samples every 5 minutes costs next to nothing.
 */
const OPEN_RUN_CHUNKS = 30;

/**
 * Runs of consecutive small chunks of one series (ordered by t0) worth merging now: in an open
 * hour runs holding at least a full chunk or OPEN_RUN_CHUNKS chunks, in a closed one every run of
 * two or more.
 */
export function mergeableRuns(rows: Meta[], closed: boolean): Meta[][] {
  const out: Meta[][] = [];
  let run: Meta[] = [];
  const close = () => {
    const total = run.reduce((a, r) => a + r.n, 0);
    if (run.length > 1 && (closed || total >= CHUNK_SAMPLES || run.length >= OPEN_RUN_CHUNKS)) {
      out.push(run);
    }
    run = [];
  };
  for (const r of rows) {
    if (r.n >= CHUNK_SAMPLES) close();
    else run.push(r);
  }
  close();
  return out;
}

export function createChunkCompaction(dbh: DbHandle, clock: Clock, pacing: Pacing = {}) {
  const { db, dialect } = dbh;

  /** Replaces one run by its merged chunks; false when a chunk of it changed since it was read. */
  async function merge(seriesId: number, run: Meta[]): Promise<number> {
    return await db.transaction().execute(async (tx) => {
      await lockSeries(tx, dialect, seriesId);
      const rows = await tx.selectFrom("metric_chunks").select(["t0", "n", "data"])
        .where("series_id", "=", seriesId).where("t0", "in", run.map((r) => r.t0)).execute();
      const want = new Map(run.map((r) => [r.t0, r.n]));
      if (rows.length !== run.length || rows.some((r) => want.get(Number(r.t0)) !== Number(r.n))) {
        return 0;
      }
      const { samples } = mergeSamples(rows.map((r) => ({ data: chunkBytes(r.data) })), []);
      await tx.deleteFrom("metric_chunks").where("series_id", "=", seriesId)
        .where("t0", "in", run.map((r) => r.t0)).execute();
      const written = toRows(seriesId, cutSamples(samples));
      await insertChunkRows(tx, dialect, written);
      return written.length;
    });
  }

  return {
    async run(): Promise<CompactionResult> {
      const out: CompactionResult = { hours: 0, finished: 0, merged: 0, written: 0 };
      const pacer = createPacer(pacing);
      const marks = await db.selectFrom("metric_compact").select(["host_id", "hour"])
        .orderBy("hour").limit(MARKS_PER_RUN).execute();
      for (const mark of marks) {
        const hour = Number(mark.hour);
        const closed = clock.now() >= hour + HOUR + SETTLE_MS;
        // A closed hour's mark goes before its chunks are read, so a batch landing after the read
        // marks it again rather than finding the mark there and leaving its chunk unmerged.
        const unmark = () =>
          db.deleteFrom("metric_compact").where("host_id", "=", mark.host_id)
            .where("hour", "=", hour).execute();
        if (closed) await unmark();
        const ids = (await db.selectFrom("metric_series").select("id")
          .where("host_id", "=", mark.host_id).execute()).map((r) => Number(r.id));
        let complete = true;
        for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
          const rows = await db.selectFrom("metric_chunks").select(["series_id", "t0", "n"])
            .where("series_id", "in", ids.slice(i, i + IDS_PER_QUERY)).where("t0", ">=", hour)
            .where("t0", "<", hour + HOUR).orderBy("series_id").orderBy("t0").execute();
          const bySeries = new Map<number, Meta[]>();
          for (const r of rows) {
            const sid = Number(r.series_id);
            let list = bySeries.get(sid);
            if (!list) bySeries.set(sid, list = []);
            list.push({ t0: Number(r.t0), n: Number(r.n) });
          }
          for (const [sid, list] of bySeries) {
            for (const run of mergeableRuns(list, closed)) {
              const written = await merge(sid, run);
              if (written === 0) complete = false;
              else {
                out.merged += run.length;
                out.written += written;
              }
              await pacer.step(run.reduce((a, r) => a + r.n, 0));
            }
          }
          await pacer.step(rows.length + 1);
        }
        out.hours++;
        if (closed && complete) out.finished++;
        else if (closed) {
          await db.insertInto("metric_compact").values({ host_id: mark.host_id, hour })
            .onConflict((oc) => oc.doNothing()).execute();
        }
      }
      return out;
    },
  };
}

export type ChunkCompaction = ReturnType<typeof createChunkCompaction>;
