import assert from "node:assert/strict";
import { sql } from "kysely";
import { dbTest } from "../../tests/support/db.ts";
import { manualClock } from "../../tests/support/clock.ts";
import type { DbHandle } from "../db/mod.ts";
import type { MetricsBatch } from "../protocol/metrics.ts";
import { allRawRows, countRawSamples, createLegacyRaw, HOUR, readRaw } from "./chunks.ts";
import { decodeHead, encodeHead, HeadError, headSpan } from "./head.ts";
import { createMetricStore } from "./store.ts";
import { createChunkCompaction } from "./chunk_compaction.ts";
import { createRollups } from "./rollup.ts";

const START = Date.UTC(2026, 0, 1, 10, 0, 0);

/** `n` samples of the given host keys every second from `from`, values from `value(t, key)`. */
function batch(
  seq: number,
  from: number,
  n: number,
  keys: string[],
  value = (t: number, k: string) => (t / 1000) % 97 + k.length,
): MetricsBatch {
  return {
    seq,
    dropped: 0,
    samples: Array.from({ length: n }, (_, i) => {
      const t = from + i * 1000;
      return { t, host: Object.fromEntries(keys.map((k) => [k, value(t, k)])) };
    }),
  };
}

const headRows = async (h: DbHandle) =>
  (await h.db.selectFrom("metric_head").select("id").execute()).length;
const chunkRows = async (h: DbHandle) =>
  (await h.db.selectFrom("metric_chunks").select("series_id").execute()).length;

Deno.test("head rows: every series of a batch round-trips bit for bit; a damaged row throws", () => {
  const series = new Map([
    [7, [{ t: START, v: 1.5 }, { t: START + 1000, v: NaN }, { t: START + 2000, v: -0 }]],
    [2 ** 40, [{ t: START + 500, v: -Infinity }]],
    [9, []],
  ]);
  const data = encodeHead(series);
  const back = new Map<number, { t: number; v: number }[]>();
  decodeHead(data, (sid, samples) => back.set(sid, samples));
  assert.deepEqual([...back.keys()], [7, 2 ** 40, 9]);
  assert.ok(Object.is(back.get(7)![2].v, -0) && Number.isNaN(back.get(7)![1].v));
  assert.deepEqual(back.get(2 ** 40), [{ t: START + 500, v: -Infinity }]);
  assert.deepEqual(headSpan(series), { t0: START, t1: START + 2000, n: 4 });
  const only = new Map<number, unknown>();
  decodeHead(data, (sid, s) => only.set(sid, s), (sid) => sid === 9);
  assert.deepEqual([...only.keys()], [9], "other series skipped");
  assert.throws(() => decodeHead(data.subarray(0, data.length - 8), () => {}), HeadError);
  assert.throws(() => decodeHead(data.subarray(0, 12), () => {}), HeadError);
});

dbTest(
  "head: reads see head samples exactly once beside chunks, compaction moves them without changing one, late and repeated samples count once",
  async (h) => {
    const clock = manualClock(START + 2 * HOUR);
    const store = createMetricStore(h, clock);
    const compaction = createChunkCompaction(h, clock);
    const keys = ["cpu.total_pct", "load.1"];
    for (let i = 0; i < 6; i++) await store.ingest("h1", batch(i, START + i * 10_000, 10, keys));
    await compaction.drainHead();
    // A minute in chunks; then a batch in the head that repeats 5 stored times with other values
    // (a replay from a lost spool) and brings 5 new ones, and a late batch for a gap before them.
    await store.ingest("h1", batch(6, START + 55_000, 10, keys, () => -1));
    await store.ingest("h1", {
      ...batch(7, START - 20_000, 5, keys, () => -2),
      epoch: "another-spool",
    });
    // Within the head too: the older row's sample wins at a time two rows hold.
    await store.ingest("h1", batch(8, START + 60_000, 3, keys, () => -3));
    assert.equal(await headRows(h), 3);
    assert.ok(await chunkRows(h) > 0);

    const expectT = [
      ...Array.from({ length: 5 }, (_, i) => START - 20_000 + i * 1000),
      ...Array.from({ length: 65 }, (_, i) => START + i * 1000),
    ];
    const check = async (when: string) => {
      const rows = await allRawRows(h.db, "h1");
      const cpu = rows.filter((r) => r.key === "cpu.total_pct");
      assert.deepEqual(cpu.map((r) => r.t), expectT, `${when}: each time once, in order`);
      assert.ok(
        cpu.filter((r) => r.t < START + 60_000 && r.t >= START).every((r) => r.v >= 0),
        `${when}: a stored value stays`,
      );
      assert.ok(cpu.filter((r) => r.t >= START + 60_000).every((r) => r.v === -1), when);
      assert.ok(cpu.filter((r) => r.t < START).every((r) => r.v === -2), when);
      assert.equal(await countRawSamples(h.db, "h1"), 2 * 70, `${when}: counted once`);
      const sid = cpu[0].series_id;
      const read = await readRaw(
        h.db,
        createLegacyRaw(Date.now),
        [sid],
        START - HOUR,
        START + HOUR,
      );
      assert.deepEqual(read.get(sid), cpu.map(({ t, v }) => ({ t, v })), `${when}: readRaw`);
      // A range inside the head only, and one ending inside it.
      const part = await readRaw(
        h.db,
        createLegacyRaw(Date.now),
        [sid],
        START + 58_000,
        START + 62_000,
      );
      assert.deepEqual(
        part.get(sid)!.map((s) => s.t),
        [58, 59, 60, 61].map((s) => START + s * 1000),
      );
      return rows;
    };
    const before = await check("head and chunks");
    assert.equal(await compaction.drainHead(), 3);
    assert.equal(await headRows(h), 0);
    assert.deepEqual(await check("chunks only"), before, "the same samples, bit for bit");
  },
);

dbTest(
  "head: a compaction that fails midway (the database refuses a chunk) loses nothing and moves it all on the next run",
  async (h) => {
    const clock = manualClock(START + 2 * HOUR);
    const store = createMetricStore(h, clock);
    const compaction = createChunkCompaction(h, clock);
    const keys = ["cpu.total_pct", "load.1", "mem.used_pct"];
    for (let i = 0; i < 4; i++) await store.ingest("h1", batch(i, START + i * 10_000, 10, keys));
    await compaction.drainHead();
    for (let i = 4; i < 8; i++) await store.ingest("h1", batch(i, START + i * 10_000, 10, keys));
    const before = await allRawRows(h.db);
    assert.equal(before.length, 3 * 80);
    // The third series' chunk write fails, after two series' chunks were written in the same
    // transaction: as a full disk or a crash would leave it, that transaction never commits.
    const sid = Math.max(...before.map((r) => r.series_id));
    if (h.dialect === "sqlite") {
      await sql.raw(`create trigger refuse before insert on metric_chunks
        when new.series_id = ${sid} begin select raise(abort, 'disk full'); end`).execute(h.db);
    } else {
      await sql.raw(`create function refuse() returns trigger language plpgsql as
        $$ begin if new.series_id = ${sid} then raise exception 'disk full'; end if; return new; end $$`)
        .execute(h.db);
      await sql.raw(`create trigger refuse before insert on metric_chunks
        for each row execute function refuse()`).execute(h.db);
    }
    await assert.rejects(() => compaction.run(), /disk full/);
    assert.equal(await headRows(h), 4, "the head rows stay");
    assert.deepEqual(await allRawRows(h.db), before, "every sample still read once");
    await sql.raw(
      h.dialect === "sqlite" ? "drop trigger refuse" : "drop trigger refuse on metric_chunks",
    ).execute(h.db);
    const r = await compaction.run();
    assert.equal(r.drained, 4);
    assert.equal(await headRows(h), 0);
    assert.deepEqual(await allRawRows(h.db), before);
    assert.equal(await countRawSamples(h.db), 3 * 80);
  },
);

dbTest("head: rollups of a minute still in the head see its samples once", async (h) => {
  const clock = manualClock(START + 2 * HOUR);
  const store = createMetricStore(h, clock);
  await store.ingest("h1", batch(0, START, 60, ["cpu.total_pct"], (t) => (t - START) / 1000));
  // Half the minute again from a replayed spool, other values: the first stored stay.
  await store.ingest("h1", {
    ...batch(0, START, 30, ["cpu.total_pct"], () => 1000),
    epoch: "another-spool",
  });
  assert.equal(await headRows(h), 2);
  await createRollups(h.db, clock).run({ all: true });
  const [m] = await h.db.selectFrom("metric_1m").selectAll().execute();
  assert.equal(Number(m.count), 60);
  assert.equal(Number(m.max), 59);
});
