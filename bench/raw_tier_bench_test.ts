import assert from "node:assert/strict";
import { sql } from "kysely";
import { dbTest } from "../tests/support/db.ts";
import { RAW_TIER_TABLES } from "../lib/metrics/raw_tier.ts";
import { capstanRawTier, prometheusBlocks, rawTierBytes } from "./raw_tier_bench.ts";
import { hostHour } from "./support/host_hour.ts";

/** Ten minutes of the benchmark's host: enough rows to fill pages, quick to store. */
const tenMinutes = hostHour({ seconds: 600, replacements: 1 });

dbTest("capstanRawTier() stores every sample and measures only raw-tier tables", async (dbh) => {
  const r = await capstanRawTier(dbh, tenMinutes);
  assert.equal(r.samples, tenMinutes.samples);
  const raw: readonly string[] = RAW_TIER_TABLES;
  assert.ok(Object.keys(r.tables).length > 0);
  assert.ok(Object.keys(r.tables).every((n) => raw.includes(n)));
  assert.equal(r.bytes, Object.values(r.tables).reduce((a, b) => a + b, 0));
  assert.ok(r.bytesPerSample > 0.5 && r.bytesPerSample < 200, `${r.bytesPerSample} B/sample`);
  // The rollup ran (minute rows exist) and is not in the figure; missing tables are skipped.
  const minutes = await sql<{ n: number }>`select count(*) as n from metric_1m`.execute(dbh.db);
  assert.ok(Number(minutes.rows[0].n) > 0);
  const other = await rawTierBytes(dbh, ["metric_1m", "no_such_table"]);
  assert.deepEqual(Object.keys(other.tables), ["metric_1m"]);
  assert.ok(other.bytes > 0);
  // Ingest writes chunks only: the old row-per-sample table holds nothing (its empty root page),
  // and the chunks hold every sample in a few bytes each (a PostgreSQL row costs ~90 bytes beyond
  // its data, and ten minutes of a 10 s series make short chunks).
  assert.ok((r.tables.metric_raw ?? 0) <= 8192, JSON.stringify(r.tables));
  const most = dbh.dialect === "sqlite" ? 4 : 16;
  assert.ok(r.tables.metric_chunks / r.samples < most, JSON.stringify(r.tables));
});

Deno.test("prometheusBlocks() builds one block holding every sample with promtool", async () => {
  const dir = await Deno.makeTempDir({ prefix: "capstan-prom-test-" });
  try {
    const r = await prometheusBlocks(tenMinutes, dir);
    assert.equal(r.blocks, 1);
    assert.equal(r.samples, tenMinutes.samples);
    assert.ok(r.bytesPerSample > 0.5 && r.bytesPerSample < 16, `${r.bytesPerSample} B/sample`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
