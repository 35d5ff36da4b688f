import assert from "node:assert/strict";
import { tasksMoved } from "./tasks_moved.ts";
import type { TasksMoved } from "./kind.ts";
import { harness, lastInfo, rule, T0 } from "./testing.ts";

const APP = { id: "app1", name: "shop" };
const move = (service: string, slot: number, createdAt: number, from = "node-2") => ({
  service,
  slot,
  task_id: `${service}-${slot}-${createdAt}`,
  task_created_at: createdAt,
  from_node: from,
  to_node: "node-1",
});
const moved = (...moves: TasksMoved["moves"]): TasksMoved => ({ org_id: "o1", app: APP, moves });

Deno.test("tasks_moved tells once per app and failed node, naming the services and where they went", async () => {
  const r = rule({ name: "Moved", kind: "event", event: "tasks_moved" });
  const h = harness([r]);
  // The node fails at T0 + 10 s; two of its tasks are rescheduled by the first pass.
  tasksMoved.tasksMoved!(h.at(T0 + 60_000), r, moved(move("web", 1, T0), move("db", 1, T0)));
  assert.deepEqual(await lastInfo(h.ops), {
    hostName: "node-2",
    containerName: null,
    title: "App shop: db, web moved off node-2 (down)",
    detail:
      "Swarm started 2 tasks of shop on other nodes after node-2 went down: web.1 → node-1, db.1 → node-1",
  });
  assert.deepEqual(h.take(), ["instant app:app1/node-2 ok 2"]);

  // A later pass finds one more task of the same failure: recorded on the timeline, not told again.
  tasksMoved.tasksMoved!(h.at(T0 + 120_000), r, moved(move("web", 2, T0 + 1000)));
  assert.deepEqual(h.take(), []);
  // Another node of the same app fails: its own subject.
  tasksMoved.tasksMoved!(h.at(T0 + 130_000), r, moved(move("web", 2, T0, "node-3")));
  assert.deepEqual(h.take(), ["instant app:app1/node-3 ok 1"]);

  // node-2 came back, Swarm placed a new task there, and node-2 failed again: told again.
  tasksMoved.tasksMoved!(h.at(T0 + 3_600_000), r, moved(move("web", 1, T0 + 1_800_000)));
  assert.equal((await lastInfo(h.ops))?.title, "App shop: web moved off node-2 (down)");
  assert.deepEqual(h.take(), ["instant app:app1/node-2 ok 1"]);
});

Deno.test("tasks_moved rules are organization-wide: another scope is refused naming the field", () => {
  assert.throws(
    () =>
      rule({ name: "M", kind: "event", event: "tasks_moved", scope: "label", scope_value: "a=b" }),
    (e: Error & { fields?: Record<string, string> }) => Boolean(e.fields?.scope),
  );
});
