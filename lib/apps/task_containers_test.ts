import assert from "node:assert/strict";
import { dbTest } from "../../tests/support/db.ts";
import { manualClock } from "../../tests/support/clock.ts";
import { SYSTEM_CTX, testServices } from "../../tests/support/services.ts";
import type { SwarmTask } from "../docker/swarm_types.ts";
import { AppSpec } from "./spec.ts";
import { LABELS } from "./swarm_spec.ts";
import { createTaskContainers, SEEN_SLACK_MS } from "./task_containers.ts";

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1);

/** A task as the Engine API lists it, with the fields the record reads. */
function task(
  o: { app: string; node?: string; container?: string; slot?: number; state?: string; at?: number },
): SwarmTask {
  return {
    ID: crypto.randomUUID(),
    CreatedAt: new Date(T0).toISOString(),
    UpdatedAt: new Date(o.at ?? T0).toISOString(),
    ServiceID: "svc",
    Slot: o.slot,
    NodeID: o.node,
    DesiredState: o.state === "running" ? "running" : "shutdown",
    Spec: { ContainerSpec: { Labels: { [LABELS.app]: o.app, [LABELS.service]: "web" } } },
    Status: {
      Timestamp: new Date(o.at ?? T0).toISOString(),
      State: o.state ?? "running",
      ContainerStatus: o.container ? { ContainerID: o.container } : undefined,
    },
  } as unknown as SwarmTask;
}

dbTest(
  "task containers: recorded from tasks of known apps on Capstan nodes; last seen moves; read by range with slack and a bound",
  async (h) => {
    const clock = manualClock(T0 + 5 * MIN);
    const s = testServices(h, clock);
    const org = await s.orgs.create(SYSTEM_CTX, { slug: "tc", name: "TC" });
    const { host } = await s.hosts.create(SYSTEM_CTX, org.id, { name: "n1" });
    await h.db.insertInto("swarm_members").values({
      host_id: host.id,
      node_id: "node-1",
      role: "manager",
      joined_at: T0,
    }).execute();
    const spec = AppSpec.parse({ services: [{ name: "web", image: "capstan-test/busybox" }] });
    const app = await s.apps.store.create(org.id, { name: "shop", spec }, null);
    const tc = createTaskContainers(h.db, clock);
    const apps = new Map([[app.id, org.id]]);
    const [a, b, c] = ["a", "b", "c"].map((x) => x.repeat(64));

    const n = await tc.record([
      task({ app: app.id, node: "node-1", container: a, slot: 1 }),
      task({ app: app.id, node: "node-1", container: b, slot: 1, state: "shutdown", at: T0 + MIN }),
      // Not recorded: another app, a node that is no Capstan host, no container yet, a bad id.
      task({ app: "gone", node: "node-1", container: c, slot: 2 }),
      task({ app: app.id, node: "node-x", container: c, slot: 2 }),
      task({ app: app.id, node: "node-1", slot: 2, state: "pending" }),
      task({ app: app.id, node: "node-1", container: "../etc", slot: 2 }),
    ], apps);
    assert.equal(n, 2);

    clock.advance(30 * MIN);
    await tc.record([task({ app: app.id, node: "node-1", container: a, slot: 1 })], apps);
    const all = await tc.forApp(app.id, T0, clock.now(), 10);
    assert.deepEqual(
      all.items.map((i) => [i.container_id.slice(0, 1), i.slot, i.first_seen, i.last_seen]),
      [["a", 1, T0, T0 + 35 * MIN], ["b", 1, T0, T0 + MIN]],
    );
    assert.equal(all.truncated, false);

    // b stopped at T0 + 1 min: a range starting after that plus the slack leaves it out.
    const later = await tc.forApp(app.id, T0 + MIN + SEEN_SLACK_MS + 1, clock.now(), 10);
    assert.deepEqual(later.items.map((i) => i.container_id.slice(0, 1)), ["a"]);
    const bounded = await tc.forApp(app.id, T0, clock.now(), 1);
    assert.equal(bounded.items.length, 1);
    assert.equal(bounded.truncated, true);

    // Deleting the app takes its rows.
    await s.apps.store.remove(app);
    assert.equal((await tc.forApp(app.id, T0, clock.now(), 10)).items.length, 0);
  },
);
