import assert from "node:assert/strict";
import type { FleetHost } from "../../lib/metrics/views.ts";
import { applyFleetEvent, fleetTotals } from "./fleet_model.ts";

const GIB = 2 ** 30;
const host = (id: string, over: Partial<FleetHost> = {}): FleetHost => ({
  id,
  status: "online",
  running: 1,
  containers: 2,
  t: 1000,
  cpu: 10,
  mem: 25,
  memUsed: 2 * GIB,
  memTotal: 8 * GIB,
  rx: 100,
  tx: 50,
  ...over,
});

Deno.test("fleetTotals() averages CPU and sums memory and network over current hosts only", () => {
  const t = fleetTotals(
    [
      host("a"),
      host("b", { cpu: 30, memUsed: 6 * GIB, rx: 300, tx: 150 }),
      // Stale: counted as a host and for containers, not for the figures.
      host("c", { status: "offline", t: 1000 - 200_000, cpu: 99, rx: 9999 }),
      host("d", { status: "waiting", t: null, running: null, containers: null }),
    ],
    1500,
    120_000,
  );
  assert.deepEqual(
    [t.hosts, t.online, t.offline, t.waiting, t.running, t.containers, t.reporting],
    [4, 2, 1, 1, 3, 6, 2],
  );
  assert.equal(t.cpu, 20);
  assert.equal(t.mem, 50);
  assert.deepEqual([t.rx, t.tx], [400, 200]);
});

Deno.test("fleetTotals() has no figures when no host reports", () => {
  const t = fleetTotals([host("a", { t: null })], 0, 120_000);
  assert.deepEqual([t.cpu, t.mem, t.rx, t.tx, t.reporting], [null, null, null, null, 0]);
});

Deno.test("applyFleetEvent() takes newer summaries, derives bytes and ignores older ones", () => {
  const h = host("a", { status: "offline" });
  const next = applyFleetEvent(h, { host_id: "a", t: 2000, cpu: 50, mem: 50, rx: 1, tx: 2 });
  assert.equal(next.status, "online");
  assert.deepEqual([next.t, next.cpu, next.memUsed, next.rx, next.tx], [2000, 50, 4 * GIB, 1, 2]);
  assert.equal(applyFleetEvent(next, { host_id: "a", t: 1500, cpu: 1 }), next, "older: ignored");
});
