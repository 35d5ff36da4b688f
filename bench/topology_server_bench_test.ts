import assert from "node:assert/strict";
import { topologyRuns } from "./topology_server_bench.ts";

Deno.test("topologyRuns() sees each change arrive as its node's patch", async () => {
  const r = await topologyRuns({ hosts: 2, apps: 2, changes: 4 });
  assert.ok(r.nodes > 40, `${r.nodes} nodes`);
  assert.equal(r.latencies.length, 4);
  assert.ok(r.latencies.every((ms) => ms > 0));
});
