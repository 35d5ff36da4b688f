/**
 * Converts the rows of the old one-row-per-sample raw table (`metric_raw`) into chunks while the
 * hub runs. Each step is one transaction: it reads up to STEP_ROWS rows of the lowest series
 * left, merges them into that series' chunks, deletes exactly those rows and counts them in
 * `metric_chunk_migration`. The rows left are the cursor, so a hub stopped mid-way resumes where
 * it was and nothing is converted twice. Readers take the rows not yet converted beside the
 * chunks (chunks.ts readRaw), so every page keeps its data throughout.
 */
import type { DbHandle } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import { createPacer, type Pacing } from "./pacer.ts";
import { chunkBytes, hourOf, insertChunkRows, lockSeries, planMerge } from "./chunks.ts";

/** Rows per step: an hour of a 1 s series. */
const STEP_ROWS = 3600;

/** How far the conversion is, for the settings page and the log. */
export interface ChunkMigrationStatus {
  started_at: number;
  total_rows: number;
  converted_rows: number;
  finished_at: number | null;
}

export function createChunkMigration(dbh: DbHandle, clock: Clock, pacing: Pacing = {}) {
  const { db, dialect } = dbh;
  let finished = false;

  async function status(): Promise<ChunkMigrationStatus | undefined> {
    const row = await db.selectFrom("metric_chunk_migration").selectAll().where("id", "=", 1)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      started_at: Number(row.started_at),
      total_rows: Number(row.total_rows),
      converted_rows: Number(row.converted_rows),
      finished_at: row.finished_at === null ? null : Number(row.finished_at),
    };
  }

  /** Converts the oldest rows of the lowest series left; the rows converted (0: none left). */
  async function step(): Promise<number> {
    return await db.transaction().execute(async (tx) => {
      const next = await tx.selectFrom("metric_raw").select("series_id").orderBy("series_id")
        .limit(1).executeTakeFirst();
      if (!next) return 0;
      const sid = Number(next.series_id);
      await lockSeries(tx, dialect, sid);
      const rows = (await tx.selectFrom("metric_raw").select(["t", "v"])
        .where("series_id", "=", sid).orderBy("t").limit(STEP_ROWS).execute())
        .map((r) => ({ t: Number(r.t), v: r.v }));
      if (!rows.length) return 0;
      const first = rows[0].t, last = rows[rows.length - 1].t;
      const stored = (await tx.selectFrom("metric_chunks").select(["t0", "t1", "n", "data"])
        .where("series_id", "=", sid).where("t0", ">=", hourOf(first)).where("t0", "<=", last)
        .where("t1", ">=", first).execute()).map((r) => ({
          series_id: sid,
          t0: Number(r.t0),
          t1: Number(r.t1),
          n: Number(r.n),
          data: chunkBytes(r.data),
        }));
      const plan = planMerge(sid, rows, undefined, () => stored);
      if (plan.remove.length) {
        await tx.deleteFrom("metric_chunks").where("series_id", "=", sid)
          .where("t0", "in", plan.remove).execute();
      }
      await insertChunkRows(tx, dialect, plan.put);
      await tx.deleteFrom("metric_raw").where("series_id", "=", sid).where("t", "<=", last)
        .execute();
      await tx.updateTable("metric_chunk_migration")
        .set((eb) => ({ converted_rows: eb("converted_rows", "+", rows.length) }))
        .where("id", "=", 1).execute();
      return rows.length;
    });
  }

  return {
    status,

    /**
     * Converts rows for up to `budgetMs` (paced, so ingest and pages keep the thread); returns the
     * rows converted in this run. The first run records how many rows there are to convert.
     */
    async run(budgetMs = 20_000): Promise<number> {
      if (finished) return 0;
      const started = performance.now();
      if (!(await status())) {
        const total = await db.selectFrom("metric_raw").select((eb) => eb.fn.countAll().as("n"))
          .executeTakeFirstOrThrow();
        await db.insertInto("metric_chunk_migration").values({
          id: 1,
          started_at: clock.now(),
          total_rows: Number(total.n),
          converted_rows: 0,
          finished_at: null,
        }).onConflict((oc) => oc.doNothing()).execute();
      }
      const pacer = createPacer(pacing);
      let converted = 0;
      // At least one step a run, however small the budget.
      do {
        const n = await step();
        if (n === 0) {
          await db.updateTable("metric_chunk_migration").set({ finished_at: clock.now() })
            .where("id", "=", 1).where("finished_at", "is", null).execute();
          finished = true;
          break;
        }
        converted += n;
        await pacer.step(n);
      } while (performance.now() - started < budgetMs);
      return converted;
    },
  };
}

export type ChunkMigration = ReturnType<typeof createChunkMigration>;
