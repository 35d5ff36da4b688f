/**
 * Upgrading a hub whose raw samples are rows of the old `metric_raw` table: the conversion job
 * moves them into compressed chunks while the hub serves and ingests, the host's charts answer the
 * same points before, during and after, and Settings → Metrics says how far it is.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { SYSTEM_CTX } from "./support/services.ts";
import { createChunkMigration } from "../lib/metrics/chunk_migration.ts";
import { countRawSamples } from "../lib/metrics/chunks.ts";

const KEYS = ["cpu.total_pct", "mem.used_pct", "load.1"];

dbTest(
  "[e2e] metrics: old raw rows are converted to chunks while the hub serves; charts unchanged, progress shown",
  async (h) => {
    const t = testApp(h);
    const admin = await t.user("admin@acme.io", { org: "acme", role: "admin" });
    const org = (await t.services.orgs.bySlug("acme"))!;
    const host = (await t.services.hosts.create(SYSTEM_CTX, org.id, { name: "legacy" })).host;
    const now = t.services.clock.now();
    const from = now - 2 * 3600_000;
    // Two hours of three series as the hub stored them before chunks: one row per sample.
    for (const key of KEYS) {
      await h.db.insertInto("metric_series").values({
        host_id: host.id,
        container_id: "",
        key,
        created_at: from,
      }).execute();
      const { id } = await h.db.selectFrom("metric_series").select("id")
        .where("host_id", "=", host.id).where("key", "=", key).executeTakeFirstOrThrow();
      const rows = Array.from({ length: 7200 }, (_, i) => ({
        series_id: Number(id),
        t: from + i * 1000,
        v: Math.round(Math.sin(i / 60) * 5000) / 100 + 50,
      }));
      for (let i = 0; i < rows.length; i += 1000) {
        await h.db.insertInto("metric_raw").values(rows.slice(i, i + 1000)).execute();
      }
    }
    const url = `/api/v1/orgs/acme/hosts/${host.id}/metrics?keys=${KEYS.join(",")}&from=${
      from - 1000
    }&to=${now}`;
    const chart = async () => {
      const res = await t.request(url, { cookie: admin.cookie });
      assert.equal(res.status, 200);
      return await res.json();
    };
    const before = await chart();
    assert.equal(before.tier, "raw");
    assert.ok(before.series.every((s: { points: unknown[] }) => s.points.length > 0));

    // One short step of the conversion, as a hub stopped right after it would leave things.
    const partial = createChunkMigration(h, t.services.clock);
    assert.ok((await partial.run(1)) > 0);
    const settings = async () =>
      await (await t.request("/o/acme/settings/metrics", { cookie: admin.cookie })).text();
    let html = await settings();
    assert.match(html, /data-conversion/);
    assert.match(html, /Converting raw samples stored before this version/);
    assert.match(html, /of 21,600/);
    const storage = await (await t.request("/api/v1/orgs/acme/metrics/storage", {
      cookie: admin.cookie,
    })).json();
    assert.equal(storage.conversion.total_rows, 21_600);
    assert.ok(storage.conversion.converted_rows > 0 && storage.conversion.converted_rows < 21_600);
    assert.equal(storage.conversion.finished_at, null);
    assert.deepEqual(await chart(), before, "the same points mid-way");

    // The scheduled job finishes it while a new batch arrives.
    const job = t.services.metrics.jobs().find((j) => j.name === "metrics_chunk_migration")!;
    await Promise.all([
      job.run(),
      t.services.metrics.ingest(host, {
        seq: 0,
        dropped: 0,
        samples: [{ t: now + 1000, host: { "cpu.total_pct": 7 } }], // past the charted range
      }),
    ]);
    // A run converts for up to 20 s; a slow machine may need another.
    for (let i = 0; i < 20 && (await partial.status())?.finished_at === null; i++) await job.run();
    const left = await h.db.selectFrom("metric_raw").select("t").limit(1).execute();
    assert.equal(left.length, 0, "every old row converted");
    assert.equal(await countRawSamples(h.db, host.id), 21_601);
    const after = await chart();
    assert.deepEqual(after, before, "the same points after");
    html = await settings();
    assert.doesNotMatch(html, /data-conversion/);
  },
);
