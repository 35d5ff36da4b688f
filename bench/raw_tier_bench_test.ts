import assert from "node:assert/strict";
import { sql } from "kysely";
import { dbTest } from "../tests/support/db.ts";
import { capstanRawTier, prometheusBlocks, rawTierBytes } from "./raw_tier_bench.ts";
import { hostHour } from "./support/host_hour.ts";

/** Ten minutes of the benchmark's host: enough rows to fill pages, quick to store. */
const tenMinutes = hostHour({ seconds: 600, replacements: 1 });

dbTest(
  "capstanRawTier() stores every sample and measures only the raw-tier tables",
  async (dbh) => {
    const r = await capstanRawTier(dbh, tenMinutes);
    assert.equal(r.samples, tenMinutes.samples);
    assert.deepEqual(Object.keys(r.tables), ["metric_raw"]);
    // A row per sample costs at least its three columns.
    assert.ok(r.bytesPerSample >= 16 && r.bytesPerSample < 200, `${r.bytesPerSample} B/sample`);
    // The rollup ran (minute rows exist) and is not in the figure.
    const minutes = await sql<{ n: number }>`select count(*) as n from metric_1m`.execute(dbh.db);
    assert.ok(Number(minutes.rows[0].n) > 0);
    const more = await rawTierBytes(dbh, ["metric_raw", "metric_1m", "no_such_table"]);
    assert.deepEqual(Object.keys(more.tables), ["metric_raw", "metric_1m"]);
    assert.equal(more.tables.metric_raw, r.tables.metric_raw);
  },
);

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
