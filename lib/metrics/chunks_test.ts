import assert from "node:assert/strict";
import { sql } from "kysely";
import { dbTest } from "../../tests/support/db.ts";
import { manualClock } from "../../tests/support/clock.ts";
import type { DbHandle } from "../db/mod.ts";
import type { MetricsBatch } from "../protocol/metrics.ts";
import {
  allRawRows,
  CHUNK_SAMPLES,
  countRawSamples,
  createLegacyRaw,
  cutSamples,
  HOUR,
  mergeSamples,
  readRaw,
  toRows,
} from "./chunks.ts";
import { createMetricStore } from "./store.ts";
import { createChunkCompaction, mergeableRuns } from "./chunk_compaction.ts";
import { createChunkMigration } from "./chunk_migration.ts";

const START = Date.UTC(2026, 0, 1, 10, 0, 0);

/** `n` samples of the given host keys every `step` ms from `from`, values from `value(t, key)`. */
function batch(
  seq: number,
  from: number,
  n: number,
  keys: string[],
  value = (t: number, k: string) => (t / 1000) % 97 + k.length,
  step = 1000,
): MetricsBatch {
  return {
    seq,
    dropped: 0,
    samples: Array.from({ length: n }, (_, i) => {
      const t = from + i * step;
      return { t, host: Object.fromEntries(keys.map((k) => [k, value(t, k)])) };
    }),
  };
}

async function headRows(h: DbHandle) {
  return (await h.db.selectFrom("metric_head").select("id").execute()).length;
}

async function chunkStats(h: DbHandle) {
  const rows = await h.db.selectFrom("metric_chunks").select(["series_id", "t0", "t1", "n"])
    .orderBy("series_id").orderBy("t0").execute();
  return rows.map((r) => ({
    sid: Number(r.series_id),
    t0: Number(r.t0),
    t1: Number(r.t1),
    n: r.n,
  }));
}

Deno.test("cutSamples sorts, keeps the first of repeats, and never crosses an hour or the size", () => {
  const t = START + HOUR - 2000;
  const parts = cutSamples([
    { t: t + 3000, v: 4 },
    { t, v: 1 },
    { t: t + 1000, v: 2 },
    { t: t + 1000, v: 99 },
    { t: t + 2000, v: 3 },
  ]);
  assert.deepEqual(parts.map((p) => p.map((s) => s.v)), [[1, 2], [3, 4]]);
  const many = Array.from({ length: 700 }, (_, i) => ({ t: START + i * 1000, v: i }));
  assert.deepEqual(cutSamples(many).map((p) => p.length), [300, 300, 100]);
});

Deno.test("mergeSamples keeps the stored value at a time already stored and counts the new ones", () => {
  const stored = toRows(1, [[{ t: 1000, v: 1 }, { t: 3000, v: 3 }]]);
  const r = mergeSamples(stored, [{ t: 3000, v: 33 }, { t: 2000, v: 2 }, { t: 2000, v: 22 }]);
  assert.deepEqual(r.samples, [{ t: 1000, v: 1 }, { t: 2000, v: 2 }, { t: 3000, v: 3 }]);
  assert.equal(r.added, 1);
});

Deno.test("mergeableRuns: full runs in an open hour, every run of two or more in a closed one", () => {
  const small = (t0: number, n: number) => ({ t0, n });
  const rows = [
    small(1, 10),
    small(2, 10),
    { t0: 3, n: CHUNK_SAMPLES },
    small(4, 150),
    small(5, 160),
  ];
  assert.deepEqual(mergeableRuns(rows, false).map((r) => r.map((x) => x.t0)), [[4, 5]]);
  assert.deepEqual(mergeableRuns(rows, true).map((r) => r.map((x) => x.t0)), [[1, 2], [4, 5]]);
  const ones = Array.from({ length: 30 }, (_, i) => small(10 + i, 1));
  assert.equal(mergeableRuns(ones, false).length, 1, "30 one-sample chunks are worth merging");
  assert.equal(mergeableRuns(ones.slice(1), false).length, 0);
});

dbTest(
  "chunks: each batch is one head row; the head moves into one chunk per series; late, replayed and repeated samples are merged and counted once",
  async (h) => {
    const clock = manualClock(START + 2 * HOUR);
    const store = createMetricStore(h, clock);
    const compaction = createChunkCompaction(h, clock);
    const keys = ["cpu.total_pct", "mem.used_bytes"];
    for (let i = 0; i < 6; i++) await store.ingest("h1", batch(i, START + i * 10_000, 10, keys));
    assert.equal(await headRows(h), 6, "one head row per batch");
    assert.equal((await chunkStats(h)).length, 0);
    assert.equal(await countRawSamples(h.db), 120);
    assert.equal(await compaction.drainHead(), 6);
    let stats = await chunkStats(h);
    assert.deepEqual(stats.map((c) => c.n), [60, 60], "one chunk per series of the 6 batches");
    assert.equal(await headRows(h), 0);
    // A batch across an hour boundary is cut there.
    await store.ingest("h1", batch(6, START + HOUR - 5000, 10, keys));
    await compaction.drainHead();
    stats = await chunkStats(h);
    assert.ok(stats.every((c) => Math.floor(c.t0 / HOUR) === Math.floor(c.t1 / HOUR)));
    assert.equal(await countRawSamples(h.db), 140);

    // A replay from a new spool: the same samples again with other values and new ones between.
    const replay = batch(0, START + 5000, 20, keys, () => -1, 500);
    replay.epoch = "e2";
    await store.ingest("h1", replay);
    const rows = await allRawRows(h.db, "h1");
    const cpu = rows.filter((r) => r.key === "cpu.total_pct");
    assert.equal(cpu.length, 70 + 10, "10 new half-second samples; the 10 repeated ones once");
    assert.ok(
      cpu.filter((r) => r.t % 1000 === 0).every((r) => r.v !== -1),
      "the stored value stays at a time already stored",
    );
    assert.equal(new Set(cpu.map((r) => r.t)).size, cpu.length, "no time twice");
    // Reads see every sample once and in order.
    const sid = cpu[0].series_id;
    const read = (await readRaw(h.db, createLegacyRaw(Date.now), [sid], START, START + 2 * HOUR))
      .get(sid)!;
    assert.deepEqual(read.map((s) => s.t), cpu.map((r) => r.t));
  },
);

dbTest(
  "chunks: compaction merges small chunks into full ones without changing a sample, and finishes closed hours",
  async (h) => {
    const clock = manualClock(START);
    const store = createMetricStore(h, clock);
    const keys = ["cpu.total_pct", "net.rx_bytes"];
    // Half an hour of 10 s batches: 1,790 samples of each series.
    for (let i = 0; i < 30 * 6 - 1; i++) {
      clock.set(START + (i + 1) * 10_000);
      await store.ingest("h1", batch(i, START + i * 10_000, 10, keys));
    }
    const before = await allRawRows(h.db);
    const compaction = createChunkCompaction(h, clock);
    // An open hour: each series' 179 ten-sample chunks hold more than a full chunk: merged.
    let r = await compaction.run();
    assert.equal(r.finished, 0, "the hour is still open");
    let stats = await chunkStats(h);
    for (const sid of new Set(stats.map((c) => c.sid))) {
      const mine = stats.filter((c) => c.sid === sid);
      // 1,790 samples: five full chunks and the remainder, written back as one small chunk.
      assert.deepEqual(mine.map((c) => c.n), [300, 300, 300, 300, 300, 290], `series ${sid}`);
    }
    assert.deepEqual(await allRawRows(h.db), before, "the same samples, bit for bit");
    assert.equal((await h.db.selectFrom("metric_compact").selectAll().execute()).length, 1);

    // Once the hour and its settling margin are over, the remainders merge too and the mark goes.
    clock.set(START + HOUR + 10 * 60_000);
    r = await compaction.run();
    assert.equal(r.finished, 1);
    stats = await chunkStats(h);
    assert.equal(stats.length, 2 * Math.ceil(1790 / 300));
    assert.deepEqual(await allRawRows(h.db), before);
    assert.equal((await h.db.selectFrom("metric_compact").selectAll().execute()).length, 0);

    // A late batch for the closed hour marks it again, and the next run merges it in.
    await store.ingest("h1", batch(999, START + 1790 * 1000, 5, keys));
    assert.equal((await h.db.selectFrom("metric_compact").selectAll().execute()).length, 1);
    r = await compaction.run();
    assert.equal(r.finished, 1);
    assert.equal(await countRawSamples(h.db), 2 * 1795);
  },
);

/** Writes rows of the old one-row-per-sample table for a series, as a hub before chunks did. */
async function legacyRows(h: DbHandle, host: string, key: string, from: number, n: number) {
  await h.db.insertInto("metric_series").values({
    host_id: host,
    container_id: "",
    key,
    created_at: from,
  }).onConflict((oc) => oc.doNothing()).execute();
  const { id } = await h.db.selectFrom("metric_series").select("id").where("host_id", "=", host)
    .where("key", "=", key).executeTakeFirstOrThrow();
  const rows = Array.from({ length: n }, (_, i) => ({
    series_id: Number(id),
    t: from + i * 1000,
    v: (i % 50) / 4,
  }));
  for (let i = 0; i < rows.length; i += 500) {
    await h.db.insertInto("metric_raw").values(rows.slice(i, i + 500)).execute();
  }
  return Number(id);
}

dbTest(
  "chunk migration: converts metric_raw while batches keep arriving, resumes after a restart, reads see every sample throughout",
  async (h) => {
    const clock = manualClock(START + 3 * HOUR);
    // Two hours of three series in the old table, written before the upgrade.
    const ids: number[] = [];
    for (const key of ["cpu.total_pct", "load.1", "mem.used_pct"]) {
      ids.push(await legacyRows(h, "h1", key, START, 7200));
    }
    // What the hub's readers see (they check for old rows once a minute while some are left).
    const legacy = createLegacyRaw(() => clock.now());
    const count = async () =>
      [...(await readRaw(h.db, legacy, ids, START, START + 3 * HOUR)).values()]
        .reduce((a, list) => a + list.length, 0);
    const expected = await allRawRows(h.db);
    assert.equal(await count(), 3 * 7200);

    // The conversion runs in short steps; the hub is "restarted" (a new migration object) between
    // them, and batches for the same series arrive meanwhile, some overlapping converted times.
    const store = createMetricStore(h, clock);
    let converted = 0;
    let seq = 0;
    for (let round = 0; round < 50 && (await countLegacy(h)) > 0; round++) {
      const migration = createChunkMigration(h, clock);
      const [n] = await Promise.all([
        migration.run(1),
        store.ingest("h1", batch(seq++, START + 2 * HOUR + round * 10_000, 10, ["cpu.total_pct"])),
      ]);
      converted += n;
      const s = await migration.status();
      assert.ok(
        s && s.total_rows === 3 * 7200 && s.converted_rows === converted,
        JSON.stringify(s),
      );
      assert.equal(await count(), 3 * 7200 + (round + 1) * 10, "every sample readable mid-way");
    }
    assert.equal(await countLegacy(h), 0);
    const migration = createChunkMigration(h, clock);
    assert.equal(await migration.run(), 0);
    const s = (await migration.status())!;
    assert.equal(s.converted_rows, 3 * 7200);
    assert.ok(s.finished_at !== null);
    const after = await allRawRows(h.db);
    assert.deepEqual(
      after.filter((r) => r.t < START + 2 * HOUR),
      expected,
      "the converted samples, bit for bit",
    );
    const stats = await chunkStats(h);
    assert.ok(stats.every((c) => Math.floor(c.t0 / HOUR) === Math.floor(c.t1 / HOUR)));
  },
);

async function countLegacy(h: DbHandle): Promise<number> {
  const r = await sql<{ n: number | string }>`select count(*) as n from metric_raw`.execute(h.db);
  return Number(r.rows[0].n);
}
