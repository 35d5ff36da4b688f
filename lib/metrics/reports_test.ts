import assert from "node:assert/strict";
import { dbTest } from "../../tests/support/db.ts";
import { SYSTEM_CTX, testServices } from "../../tests/support/services.ts";
import { lastReportTimes, seriesSeen } from "./reports.ts";

dbTest("lastReportTimes() and seriesSeen() answer from stored batches and series", async (h) => {
  const s = testServices(h);
  const acme = await s.orgs.create(SYSTEM_CTX, { slug: "acme", name: "Acme" });
  const other = await s.orgs.create(SYSTEM_CTX, { slug: "other", name: "Other" });
  const { host } = await s.hosts.create(SYSTEM_CTX, acme.id, { name: "web-1" });
  const { host: theirs } = await s.hosts.create(SYSTEM_CTX, other.id, { name: "db-1" });
  await s.db.insertInto("metric_batches").values([
    { host_id: host.id, seq: 1, received_at: 1000, samples: 1, dropped: 0 },
    { host_id: host.id, seq: 2, received_at: 3000, samples: 1, dropped: 0 },
    { host_id: theirs.id, seq: 1, received_at: 500, samples: 1, dropped: 0 },
  ]).execute();
  assert.deepEqual(await lastReportTimes(s.db, 0), new Map([[host.id, 3000], [theirs.id, 500]]));
  assert.deepEqual(await lastReportTimes(s.db, 600), new Map([[host.id, 3000]]));

  await s.db.insertInto("metric_series").values([
    { host_id: host.id, container_id: "", key: "cpu.total_pct", created_at: 0 },
    { host_id: host.id, container_id: "c".repeat(64), key: "ctr.cpu_pct", created_at: 0 },
    { host_id: host.id, container_id: "d".repeat(64), key: "ctr.cpu_pct", created_at: 0 },
    { host_id: theirs.id, container_id: "", key: "load.1", created_at: 0 },
  ]).execute();
  const seen = await seriesSeen(s.db, acme.id, 100);
  assert.deepEqual(seen.sort((a, b) => a.key.localeCompare(b.key)), [
    { key: "cpu.total_pct", container: false },
    { key: "ctr.cpu_pct", container: true },
  ]);
  assert.equal((await seriesSeen(s.db, acme.id, 1)).length, 1, "at most the limit");
});
