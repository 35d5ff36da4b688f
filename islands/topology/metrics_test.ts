import assert from "node:assert/strict";
import { containerUsages, usageOf } from "./metrics.ts";
import { age, backupText, nodeSummary } from "./format.ts";
import { smallGraph } from "./fixture.ts";

Deno.test("usageOf() reads a host topic's newest sample and the fleet summary", () => {
  assert.deepEqual(
    usageOf({
      host_id: "h1",
      samples: [{ t: 1, host: { "cpu.total_pct": 10 } }, {
        t: 2,
        host: { "cpu.total_pct": 42.5, "mem.used_pct": 130 },
      }],
    }),
    { hostId: "h1", usage: { cpu: 42.5, mem: 100 } },
  );
  assert.deepEqual(usageOf({ host_id: "h2", t: 1, cpu: 5, mem: null }), {
    hostId: "h2",
    usage: { cpu: 5, mem: null },
  });
  assert.equal(usageOf({ host_id: "h1", samples: [] }), null);
  assert.equal(usageOf({ host_id: "h1", online: true }), null);
  assert.equal(usageOf(null), null);
  assert.equal(usageOf({ samples: [{ t: 1, host: { "load.1": 3 } }] }), null);
});

Deno.test("backupText() and age() say the state and how long ago", () => {
  const now = 10 * 86_400_000;
  assert.equal(age(now - 30_000, now), "30 s");
  assert.equal(age(now - 5 * 60_000, now), "5 min");
  assert.equal(age(now - 3 * 3_600_000, now), "3 h");
  assert.equal(age(now - 2 * 86_400_000, now), "2 d");
  assert.equal(backupText({ state: "fresh", lastAt: now - 3_600_000 }, now), "fresh · 1 h ago");
  assert.equal(
    backupText({ state: "failed", lastAt: now - 86_400_000 }, now),
    "failed · last ok 1 d ago",
  );
  assert.equal(backupText({ state: "none", lastAt: null }, now), "no backup");
  const web = smallGraph(now).nodes.find((n) => n.id === "app:web")!;
  assert.equal(
    nodeSummary(web, now),
    "App web, running, 3/3 replicas running, backup fresh · 1 h ago",
  );
});

Deno.test("containerUsages() reads the fleet summary's containers, clamped to 0–100", () => {
  assert.deepEqual(containerUsages({ host_id: "h", ctr: { c1: [12, null], c2: [150, 40] } }), [
    ["c1", { cpu: 12, mem: null }],
    ["c2", { cpu: 100, mem: 40 }],
  ]);
  assert.deepEqual(containerUsages({ host_id: "h", cpu: 1 }), []);
  assert.deepEqual(containerUsages(null), []);
});
