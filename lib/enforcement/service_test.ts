import assert from "node:assert/strict";
import { choose, stopOrder } from "./service.ts";
import type { RunningApp } from "../apps/service.ts";
import type { App } from "../apps/store.ts";

const app = (name: string, priority: number, created_at: number, cpu: number, replicas = 1) =>
  ({
    app: { id: name, name, priority, created_at } as App,
    cpu_millis: cpu,
    memory_bytes: 0,
    replicas,
  }) satisfies RunningApp;

Deno.test("stop order: lowest priority first, ties newest first", () => {
  const apps = [app("a", 0, 1, 10), app("b", 5, 2, 10), app("c", 0, 3, 10), app("d", -1, 0, 10)];
  assert.deepEqual(stopOrder(apps).map((a) => a.app.name), ["d", "c", "a", "b"]);
});

Deno.test("choose: just enough to fit, skipping apps that free nothing", () => {
  const apps = [app("a", 0, 1, 10), app("b", 5, 2, 10), app("z", 0, 9, 0), app("c", 0, 3, 10)];
  assert.deepEqual(choose(apps, "cpu_millis", 30, 15).map((a) => a.app.name), ["c", "a"]);
  assert.deepEqual(choose(apps, "cpu_millis", 30, 30), []);
  assert.deepEqual(choose(apps, "cpu_millis", 30, 0).map((a) => a.app.name), ["c", "a", "b"]);
  // A stop frees no app count: nothing chosen.
  assert.deepEqual(choose(apps, "apps", 4, 2), []);
});

Deno.test("choose: replicas per service stops every app above the limit, whatever its priority", () => {
  const apps = [app("a", 9, 1, 0, 5), app("b", 0, 2, 0, 2), app("c", 0, 3, 0, 4)];
  assert.deepEqual(choose(apps, "replicas_per_service", 5, 3).map((a) => a.app.name), ["c", "a"]);
});
