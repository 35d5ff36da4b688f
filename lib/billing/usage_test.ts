import assert from "node:assert/strict";
import { dbTest } from "../../tests/support/db.ts";
import { manualClock } from "../../tests/support/clock.ts";
import type { SwarmService, SwarmTask } from "../docker/swarm_types.ts";
import { createUsage, type ServiceUsage, usageFromSwarm } from "./usage.ts";

const T0 = Date.UTC(2026, 0, 1, 12);
const web: ServiceUsage = {
  org_id: "o",
  app_id: "a",
  service: "web",
  replicas: 2,
  cpu_millis: 500,
  memory_bytes: 1 << 28,
};

dbTest(
  "usage: observe() closes and reopens segments at the same second on every change",
  async (h) => {
    const clock = manualClock(T0 + 250);
    const usage = createUsage(h.db, clock);
    assert.deepEqual(await usage.observe([web]), { opened: 1, closed: 0 });
    clock.advance(30_000);
    assert.deepEqual(await usage.observe([web]), { opened: 0, closed: 0 }, "same picture: nothing");
    clock.advance(30_000);
    const db = { ...web, service: "db", replicas: 1 };
    assert.deepEqual(await usage.observe([{ ...web, replicas: 3 }, db]), { opened: 2, closed: 1 });
    clock.advance(60_000);
    // Resized, and db's app observed alone: only its app's segments are looked at.
    assert.deepEqual(await usage.observe([{ ...db, memory_bytes: 1 << 30 }], { apps: ["a"] }), {
      opened: 1,
      closed: 2,
    }, "web is gone from app a's picture, db changed");
    clock.advance(60_000);
    assert.deepEqual(await usage.observe([{ ...web, app_id: "b", replicas: 0 }]), {
      opened: 0,
      closed: 1,
    }, "no replicas: nothing runs");
    const segs = await usage.segments("o", 0, T0 + 10 * 3600_000);
    const s = (ms: number) => T0 + ms;
    assert.deepEqual(
      segs.map((x) => [x.service, x.replicas, x.memory_bytes, x.started_at, x.ended_at]),
      [
        ["web", 2, 1 << 28, s(0), s(60_000)],
        ["db", 1, 1 << 28, s(60_000), s(120_000)],
        ["web", 3, 1 << 28, s(60_000), s(120_000)],
        ["db", 1, 1 << 30, s(120_000), s(180_000)],
      ],
      "whole seconds; each segment ends where the next begins",
    );
  },
);

dbTest("usage: two observers of one change open one segment", async (h) => {
  const usage = createUsage(h.db, manualClock(T0));
  const r = await Promise.all([usage.observe([web]), usage.observe([web])]);
  const open = await h.db.selectFrom("billing_usage").selectAll().execute();
  assert.equal(open.length, 1);
  assert.equal(r.filter((x) => x.opened === 1).length, 1, JSON.stringify(r));
});

Deno.test("usageFromSwarm() reads labels, desired replicas and reservations", () => {
  const svc = (id: string, labels: Record<string, string>, mode: unknown, res?: unknown) =>
    ({
      ID: id,
      Spec: { Labels: labels, Mode: mode, TaskTemplate: { ContainerSpec: {}, Resources: res } },
    }) as unknown as SwarmService;
  const labels = { "capstan.org": "o", "capstan.app": "a", "capstan.service": "web" };
  const out = usageFromSwarm([
    svc("1", labels, { Replicated: { Replicas: 3 } }, {
      Reservations: { NanoCPUs: 250_000_000, MemoryBytes: 64 << 20 },
    }),
    svc("2", { ...labels, "capstan.service": "agent" }, { Global: {} }),
    svc("3", { "capstan.org": "o" }, { Replicated: { Replicas: 1 } }),
  ], [
    { ServiceID: "2", DesiredState: "running" },
    { ServiceID: "2", DesiredState: "running" },
    { ServiceID: "2", DesiredState: "shutdown" },
  ] as SwarmTask[]);
  assert.deepEqual(out, [
    { ...labelsOut("web"), replicas: 3, cpu_millis: 250, memory_bytes: 64 << 20 },
    { ...labelsOut("agent"), replicas: 2, cpu_millis: 0, memory_bytes: 0 },
  ]);
  function labelsOut(service: string) {
    return { org_id: "o", app_id: "a", service };
  }
});

dbTest("usage: reservedNow() sums the open segments, replicas × reservations", async (h) => {
  const clock = manualClock(T0);
  const usage = createUsage(h.db, clock);
  await usage.observe([web, { ...web, service: "db", replicas: 1, cpu_millis: 250 }]);
  clock.advance(60_000);
  await usage.observe([{ ...web, replicas: 3 }, {
    ...web,
    service: "db",
    replicas: 1,
    cpu_millis: 250,
  }]);
  assert.deepEqual(await usage.reservedNow("o"), {
    cpu_millis: 3 * 500 + 250,
    memory_bytes: 4 * (1 << 28),
  });
  assert.deepEqual(await usage.reservedNow("other"), { cpu_millis: 0, memory_bytes: 0 });
});
