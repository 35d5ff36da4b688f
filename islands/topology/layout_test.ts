import assert from "node:assert/strict";
import { columnOf, edgePath, layoutInput, NODE_W, runLayout, straightEdge } from "./layout.ts";
import { generatedGraph, smallGraph } from "./fixture.ts";

Deno.test("columnOf() puts kinds in rank order: ingress, apps (app, service, task), (task) hosts, storage", () => {
  const col = (kind: string, rank: string) => columnOf({ kind, rank } as never);
  assert.deepEqual(
    [
      col("route", "ingress"),
      col("app", "apps"),
      col("service", "apps"),
      col("task", "apps"),
      col("host", "hosts"),
      col("volume", "storage"),
      col("target", "storage"),
    ],
    [0, 1, 2, 3, 5, 6, 7],
  );
  // A task put with the hosts gets the column before them; an unknown kind the rank's first.
  assert.equal(col("task", "hosts"), 4);
  assert.equal(col("app", "hosts"), 4);
});

Deno.test("layoutInput() points edges rightwards, drops same-column, hidden and repeated pairs", () => {
  const g = smallGraph();
  g.edges.push({ id: "x", kind: "runs_on", from: "host:h1", to: "task:t3" }); // leftwards
  g.edges.push({ id: "y", kind: "has", from: "task:t1", to: "task:t2" }); // same column
  g.edges.push({ id: "z", kind: "has", from: "task:t1", to: "host:h1" }); // same pair as runs_on
  const visible = g.nodes.filter((n) => n.id !== "target:nas");
  const input = layoutInput(visible, g.edges);
  assert.equal(input.nodes.length, visible.length);
  const byId = new Map(input.nodes.map((n) => [n.id, n.column]));
  for (const e of input.edges) assert.ok(byId.get(e.v)! < byId.get(e.w)!, `${e.v} → ${e.w}`);
  const ids = input.edges.map((e) => e.id);
  assert.ok(ids.includes("x"));
  assert.ok(!ids.includes("y") && !ids.includes("z"));
  assert.ok(!input.edges.some((e) => e.w === "target:nas"), "edges to hidden nodes are left out");
});

Deno.test("runLayout() keeps every kind in its own column, left to right", () => {
  const g = smallGraph();
  const l = runLayout(layoutInput(g.nodes, g.edges));
  const x = (id: string) => l.nodes.get(id)!.x;
  assert.ok(x("route:r1") < x("app:web"));
  assert.ok(x("app:web") < x("service:web_front"));
  assert.ok(x("service:web_front") < x("task:t1"));
  assert.ok(x("task:t1") < x("host:h1"));
  // A host with nothing on it still sits with the hosts, not with the routes.
  assert.equal(x("host:h3"), x("host:h1"));
  assert.ok(x("host:h1") < x("volume:h1/data") && x("volume:h1/data") < x("target:nas"));
  assert.ok(l.width > 6 * NODE_W && l.height > 0);
  // Edges come with polylines from dagre.
  assert.ok((l.edges.get("runs_on:task:t1->host:h1")?.length ?? 0) >= 2);
  const tb = runLayout(layoutInput(g.nodes, g.edges), "TB");
  assert.ok(tb.nodes.get("route:r1")!.y < tb.nodes.get("host:h1")!.y);
});

Deno.test("runLayout() lays out 500 nodes with every node placed", () => {
  const g = generatedGraph(500);
  const l = runLayout(layoutInput(g.nodes, g.edges));
  assert.equal(l.nodes.size, g.nodes.length);
  for (const p of l.nodes.values()) assert.ok(Number.isFinite(p.x) && Number.isFinite(p.y));
});

Deno.test("edgePath() and straightEdge() draw between box borders", () => {
  assert.equal(edgePath([{ x: 0, y: 0 }, { x: 10, y: 5 }]), "M0,0L10,5");
  assert.match(edgePath([{ x: 0, y: 0 }, { x: 5, y: 5 }, { x: 10, y: 0 }]), /^M0,0Q5,5 10,0$/);
  const [a, b] = straightEdge({ x: 0, y: 0 }, { x: 1000, y: 0 });
  assert.deepEqual([a.x, b.x], [NODE_W / 2, 1000 - NODE_W / 2]);
});
