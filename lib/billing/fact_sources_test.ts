import assert from "node:assert/strict";
import type { SwarmTask } from "../docker/swarm_types.ts";
import { appContainers } from "./fact_sources.ts";

const C1 = "a".repeat(64), C2 = "b".repeat(64);
const task = (p: {
  node?: string;
  container?: string;
  labels?: Record<string, string>;
  created?: string;
}) =>
  ({
    ID: crypto.randomUUID(),
    NodeID: p.node ?? "n1",
    CreatedAt: p.created ?? "2026-01-01T00:00:00Z",
    Spec: { ContainerSpec: { Labels: p.labels ?? { "capstan.org": "o", "capstan.app": "a" } } },
    Status: { State: "running", ContainerStatus: { ContainerID: p.container ?? C1 } },
  }) as unknown as SwarmTask;

Deno.test("appContainers(): app task containers on Capstan hosts, with their org, app and age", () => {
  const hosts = new Map([["n1", "h1"]]);
  const now = Date.UTC(2026, 5, 1);
  assert.deepEqual(
    appContainers(
      [
        task({}),
        // On a node that is not a Capstan host: nobody's counters or volumes to read.
        task({ node: "n2", container: C2 }),
        // Not an app's (no labels), no container yet, not a container id.
        task({ labels: {} }),
        task({ container: "" }),
        task({ container: "xyz" }),
        // A creation time that does not parse: now.
        task({ container: C2, created: "0001-bad" }),
      ],
      hosts,
      now,
    ),
    [
      {
        host_id: "h1",
        container_id: C1,
        org_id: "o",
        app_id: "a",
        created_at: Date.UTC(2026, 0, 1),
      },
      { host_id: "h1", container_id: C2, org_id: "o", app_id: "a", created_at: now },
    ],
  );
});
