import assert from "node:assert/strict";
import { dbTest } from "../../tests/support/db.ts";
import { manualClock } from "../../tests/support/clock.ts";
import { SYSTEM_CTX, testServices } from "../../tests/support/services.ts";
import { AppSpec } from "./spec.ts";

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1, 12);

dbTest(
  "app metrics: a global service's tasks on two hosts sum per service, each replica named by its host; one service alone; usage now",
  async (h) => {
    const clock = manualClock(T0 + 10 * MIN);
    const s = testServices(h, clock);
    const org = await s.orgs.create(SYSTEM_CTX, { slug: "am", name: "AM" });
    const hosts = [
      (await s.hosts.create(SYSTEM_CTX, org.id, { name: "n1" })).host,
      (await s.hosts.create(SYSTEM_CTX, org.id, { name: "n2" })).host,
    ];
    const spec = AppSpec.parse({
      services: [
        { name: "agent", image: "capstan-test/busybox", global: true },
        { name: "web", image: "capstan-test/busybox", replicas: 1 },
      ],
    });
    const app = await s.apps.store.create(org.id, { name: "mon", spec }, null);
    const ids = { g1: "1".repeat(64), g2: "2".repeat(64), w: "3".repeat(64) };
    const row = (host: number, container: string, service: string, slot: number | null) => ({
      host_id: hosts[host].id,
      container_id: container,
      app_id: app.id,
      org_id: org.id,
      service,
      slot,
      task_id: container.slice(0, 8),
      first_seen: T0,
      last_seen: T0 + 10 * MIN,
    });
    await h.db.insertInto("app_task_containers").values([
      row(0, ids.g1, "agent", null),
      row(1, ids.g2, "agent", null),
      row(1, ids.w, "web", 1),
    ]).execute();
    // Minute T0+2 on both hosts; host 2 also runs the web replica.
    const minute = (containers: Record<string, Record<string, number>>) =>
      Array.from({ length: 6 }, (_, i) => ({ t: T0 + 2 * MIN + i * 10_000, host: {}, containers }));
    await s.metrics.ingest(hosts[0], {
      seq: 0,
      dropped: 0,
      samples: minute({ [ids.g1]: { "ctr.cpu_pct": 4, "ctr.mem_used_bytes": 100 } }),
    });
    await s.metrics.ingest(hosts[1], {
      seq: 0,
      dropped: 0,
      samples: minute({
        [ids.g2]: { "ctr.cpu_pct": 6, "ctr.mem_used_bytes": 300 },
        [ids.w]: { "ctr.cpu_pct": 50, "ctr.mem_used_bytes": 5000 },
      }),
    });

    const r = await s.appMetrics.read(app, {
      from: T0,
      to: T0 + 10 * MIN,
      keys: ["ctr.cpu_pct"],
    });
    const by = new Map(r.series.map((x) => [x.key, x.points.map((p) => p[1])]));
    const n1 = `agent@${hosts[0].id.replaceAll("-", "").slice(-8)}`;
    const n2 = `agent@${hosts[1].id.replaceAll("-", "").slice(-8)}`;
    assert.deepEqual(
      [...by.keys()].sort(),
      [
        `ctr.cpu_pct{replica=${n1}}`,
        `ctr.cpu_pct{replica=${n2}}`,
        "ctr.cpu_pct{replica=web.1}",
        "ctr.cpu_pct{service=agent}",
        "ctr.cpu_pct{service=web}",
      ].sort(),
    );
    assert.deepEqual(by.get("ctr.cpu_pct{service=agent}"), [10]);
    assert.deepEqual(by.get(`ctr.cpu_pct{replica=${n2}}`), [6]);
    assert.deepEqual(by.get("ctr.cpu_pct{service=web}"), [50]);
    assert.equal(r.containers, 3);

    const web = await s.appMetrics.read(app, {
      from: T0,
      to: T0 + 10 * MIN,
      keys: ["ctr.mem_used_bytes"],
      service: "web",
    });
    assert.deepEqual(web.series.map((x) => x.key), [
      "ctr.mem_used_bytes{replica=web.1}",
      "ctr.mem_used_bytes{service=web}",
    ]);
    assert.equal(web.containers, 1);

    // The list's figure: newest values of containers seen lately, summed over the app.
    clock.set(T0 + 2 * MIN + 55_000);
    const usage = (await s.appMetrics.usage([app.id])).get(app.id);
    assert.deepEqual(usage, { cpu_pct: 60, mem_used_bytes: 5400 });
    clock.set(T0 + 30 * MIN);
    assert.equal((await s.appMetrics.usage([app.id])).get(app.id), undefined, "none seen lately");
  },
);
