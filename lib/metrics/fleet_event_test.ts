import assert from "node:assert/strict";
import { dbTest } from "../../tests/support/db.ts";
import { testServices } from "../../tests/support/services.ts";
import { insertOrg } from "../../tests/support/org_row.ts";
import type { FleetEvent } from "../realtime/topics.ts";

const A = "a".repeat(64);
const B = "b".repeat(64);

dbTest(
  "the fleet summary carries each container's CPU and memory (of its limit, else of the host)",
  async (h) => {
    const s = testServices(h);
    const org = await insertOrg(h.db, "acme");
    const host = { id: crypto.randomUUID(), org_id: org };
    const got: FleetEvent[] = [];
    const off = s.bus.subscribe((topic, data) => {
      if (topic === `org:${org}:metrics`) got.push(data as FleetEvent);
    });
    const t = Date.now() - 2000;
    await s.metrics.ingest(host, {
      seq: 0,
      dropped: 0,
      samples: [
        { t, host: { "cpu.total_pct": 5 }, containers: { [A]: { "ctr.cpu_pct": 1 } } },
        {
          t: t + 1000,
          host: { "cpu.total_pct": 7, "mem.total_bytes": 1000 },
          containers: {
            [A]: { "ctr.cpu_pct": 12.5, "ctr.mem_used_bytes": 50, "ctr.mem_pct": 40 },
            [B]: { "ctr.cpu_pct": 3, "ctr.mem_used_bytes": 250 },
          },
        },
      ],
    });
    off();
    assert.equal(got.length, 1);
    assert.deepEqual(got[0].ctr, { [A]: [12.5, 40], [B]: [3, 25] }, "the newest sample's");
  },
);
