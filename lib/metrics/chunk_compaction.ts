/**
 * Moves the head (one row per ingested batch, head.ts) into per-series chunks, then merges small
 * chunks into chunks of CHUNK_SAMPLES samples (chunks.ts).
 *
 * The head first (`drainHead`): per host, in transactions of up to HEAD_ROWS_PER_STEP rows taken
 * oldest first, each series' samples of those rows are merged into the chunks they overlap (a
 * stored sample wins, then the older row's; a late sample is merged, counted once) or written as
 * a new chunk, and the rows are deleted in the same transaction, so a crash at any point leaves
 * every sample in exactly one of the two places. Samples of a series that retention has deleted
 * meanwhile go with their row (no reader asks for that id any more).
 *
 * Then the marks: ingest marks each host-hour it writes to in `metric_compact`; a run takes the
 * marks, and per series merges runs of consecutive small chunks:
 * - in an hour still open, only once a run holds a full chunk's worth (the remainder is written
 *   back as one small chunk), so a sample is encoded about twice, not once per batch;
 * - once the hour is over (plus a settling margin for late batches), every run of two or more, and
 *   the mark goes.
 * Each merge is one short transaction that re-reads the chunks it replaces and gives up when one
 * changed (a late batch merged into it meanwhile); the mark stays and the next run tries again.
 */
import type { Clock } from "../util/clock.ts";
import type { Db, DbHandle, Dialect } from "../db/mod.ts";
import { createPacer, type Pacer, type Pacing } from "./pacer.ts";
import {
  CHUNK_SAMPLES,
  chunkBytes,
  type ChunkRow,
  cutSamples,
  HOUR,
  hourOf,
  insertChunkRows,
  lockSeries,
  mergeSamples,
  planMerge,
  type Sample,
  toRows,
} from "./chunks.ts";
import { decodeHead } from "./head.ts";

/** Late batches (an agent's spool replay after a short outage) still land in an hour this long after its end. */
const SETTLE_MS = 5 * 60_000;
/** Host-hours per run; the rest wait for the next minute. */
const MARKS_PER_RUN = 500;
const IDS_PER_QUERY = 500;
/**
 * Head rows moved per transaction: a minute of a host is 6 rows (10 s batches), so one step
 * usually takes all of them, and each series gets one chunk of up to 60 samples.
 */
const HEAD_ROWS_PER_STEP = 60;

/** What one run did. */
export interface CompactionResult {
  /** Head rows moved into chunks. */
  drained: number;
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

/** Moves up to HEAD_ROWS_PER_STEP of a host's oldest head rows into chunks; the rows moved. */
async function drainStep(
  db: Db,
  dialect: Dialect,
  hostId: string,
  upTo: number,
): Promise<{ rows: number; samples: number }> {
  return await db.transaction().execute(async (tx) => {
    const rows = await tx.selectFrom("metric_head").select(["id", "data"])
      .where("host_id", "=", hostId).where("id", "<=", upTo).orderBy("id")
      .limit(HEAD_ROWS_PER_STEP).execute();
    if (!rows.length) return { rows: 0, samples: 0 };
    // Per series, in the order written: cutSamples keeps the first of samples at one time.
    const bySeries = new Map<number, Sample[]>();
    for (const r of rows) {
      decodeHead(chunkBytes(r.data), (sid, samples) => {
        const list = bySeries.get(sid);
        if (list) { for (const s of samples) list.push(s); }
        else bySeries.set(sid, samples);
      });
    }
    const ids = [...bySeries.keys()];
    const known = new Set<number>();
    for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
      for (
        const r of await tx.selectFrom("metric_series").select("id")
          .where("id", "in", ids.slice(i, i + IDS_PER_QUERY)).execute()
      ) known.add(Number(r.id));
    }
    let samples = 0;
    for (const [sid, list] of bySeries) {
      if (!known.has(sid)) continue;
      await lockSeries(tx, dialect, sid);
      const put: ChunkRow[] = [];
      for (const run of cutSamples(list)) {
        const first = run[0].t, last = run[run.length - 1].t;
        // Chunks never cross an hour, so those overlapping [first, last] start in [hour, last].
        const stored = (await tx.selectFrom("metric_chunks").select(["t0", "t1", "n", "data"])
          .where("series_id", "=", sid).where("t0", ">=", hourOf(first))
          .where("t0", "<=", last).where("t1", ">=", first).orderBy("t0").execute())
          .map((r) => ({
            series_id: sid,
            t0: Number(r.t0),
            t1: Number(r.t1),
            n: Number(r.n),
            data: chunkBytes(r.data),
          }));
        const plan = planMerge(sid, run, undefined, () => stored);
        if (plan.remove.length) {
          await tx.deleteFrom("metric_chunks").where("series_id", "=", sid)
            .where("t0", "in", plan.remove).execute();
        }
        put.push(...plan.put);
        samples += run.length;
      }
      await insertChunkRows(tx, dialect, put);
    }
    await tx.deleteFrom("metric_head").where("id", "in", rows.map((r) => Number(r.id)))
      .execute();
    return { rows: rows.length, samples };
  });
}

/**
 * Moves every head row there is when it starts into chunks (rows written meanwhile wait for the
 * next run), yielding through `pacer` between steps. Compaction and retention call it.
 */
export async function drainHead(db: Db, dialect: Dialect, pacer: Pacer): Promise<number> {
  let drained = 0;
  const top = await db.selectFrom("metric_head").select((eb) => eb.fn.max("id").as("m"))
    .executeTakeFirst();
  if (top?.m === null || top?.m === undefined) return 0;
  const hosts = await db.selectFrom("metric_head").select("host_id").distinct().execute();
  for (const { host_id } of hosts) {
    while (true) {
      const step = await drainStep(db, dialect, host_id, Number(top.m));
      drained += step.rows;
      await pacer.step(step.samples + 1);
      if (step.rows < HEAD_ROWS_PER_STEP) break;
    }
  }
  return drained;
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
    /** Moves every head row there is now into chunks (tests and tools; run() does it first). */
    drainHead: () => drainHead(db, dialect, createPacer(pacing)),

    async run(): Promise<CompactionResult> {
      const out: CompactionResult = { drained: 0, hours: 0, finished: 0, merged: 0, written: 0 };
      const pacer = createPacer(pacing);
      out.drained = await drainHead(db, dialect, pacer);
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
