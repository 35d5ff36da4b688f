import assert from "node:assert/strict";
import type { TopologyNode } from "../../lib/topology/graph.ts";
import {
  applyPatch,
  facets,
  lineage,
  matches,
  neighbourhood,
  search,
  stateOf,
  visibleNodes,
} from "./model.ts";
import { generatedGraph, smallGraph } from "./fixture.ts";

const node = (id: string, patch: Partial<TopologyNode> = {}): TopologyNode => {
  const n = smallGraph().nodes.find((x) => x.id === id)!;
  return { ...n, ...patch };
};

Deno.test("applyPatch() repaints a changed node in place, without a relayout", () => {
  const s = stateOf(smallGraph());
  const out = applyPatch(s, { op: "node", version: 2, node: node("task:t1", { status: "down" }) });
  assert.deepEqual(out, { kind: "repaint", id: "task:t1" });
  assert.equal(s.nodes.get("task:t1")!.status, "down");
  assert.equal(s.version, 2);
  assert.equal(s.nodes.size, smallGraph().nodes.length);
});

Deno.test("applyPatch() lays out again when nodes or edges come or go, or a node changes rank", () => {
  const s = stateOf(smallGraph());
  const added: TopologyNode = {
    id: "task:t9",
    kind: "task",
    rank: "apps",
    label: "x",
    href: null,
    status: "running",
  };
  assert.equal(applyPatch(s, { op: "node", version: 2, node: added }).kind, "relayout");
  const edge = {
    id: "runs_on:task:t9->host:h3",
    kind: "runs_on" as const,
    from: "task:t9",
    to: "host:h3",
  };
  assert.equal(applyPatch(s, { op: "edge", version: 3, edge }).kind, "relayout");
  // The same edge again changes nothing.
  assert.equal(applyPatch(s, { op: "edge", version: 4, edge }).kind, "none");
  assert.equal(applyPatch(s, { op: "edge_removed", version: 5, id: edge.id }).kind, "relayout");
  assert.equal(applyPatch(s, { op: "edge_removed", version: 6, id: edge.id }).kind, "none");
  // Removing a node takes its edges along.
  assert.equal(applyPatch(s, { op: "node_removed", version: 7, id: "host:h2" }).kind, "relayout");
  assert.ok(![...s.edges.values()].some((e) => e.from === "host:h2" || e.to === "host:h2"));
  assert.equal(
    applyPatch(s, { op: "node", version: 8, node: node("host:h1", { rank: "storage" }) }).kind,
    "relayout",
  );
  assert.equal(s.version, 8);
});

Deno.test("applyPatch() ignores old patches and reports a version gap without applying", () => {
  const s = stateOf(smallGraph());
  assert.equal(
    applyPatch(s, { op: "node", version: 1, node: node("task:t1", { status: "down" }) }).kind,
    "stale",
  );
  assert.equal(s.nodes.get("task:t1")!.status, "running");
  const gap = applyPatch(s, { op: "node", version: 4, node: node("task:t1", { status: "down" }) });
  assert.deepEqual(gap, { kind: "gap", expected: 2, got: 4 });
  assert.equal(s.nodes.get("task:t1")!.status, "running", "nothing applied past a gap");
  assert.equal(s.version, 1);
});

Deno.test("neighbourhood() is the node, the nodes next to it and the edges between", () => {
  const s = stateOf(smallGraph());
  const near = neighbourhood("service:web_front", s.edges.values());
  assert.deepEqual(
    [...near.nodes].sort(),
    ["app:web", "route:r1", "service:web_front", "task:t1", "task:t2"],
  );
  assert.equal(near.edges.size, 4);
});

Deno.test("lineage() follows edges down and up without turning back", () => {
  const s = stateOf(smallGraph());
  const web = lineage("app:web", s);
  for (
    const id of [
      "app:web",
      "route:r1",
      "service:web_front",
      "task:t3",
      "host:h1",
      "host:h2",
      "volume:h1/data",
      "target:nas",
    ]
  ) {
    assert.ok(web.has(id), id);
  }
  // db's service shares no path with web except through host/target, which is not turning back.
  assert.ok(!web.has("app:db"));
  assert.ok(!web.has("service:db_pg"));
  const beta = lineage("host:h2", s);
  assert.ok(beta.has("task:t2") && beta.has("app:web") && beta.has("route:r1"));
  assert.ok(!beta.has("task:t1"), "a task on another host is not beta's");
});

Deno.test("visibleNodes() intersects the app, host and status filters", () => {
  const s = stateOf(smallGraph());
  assert.equal(visibleNodes(s, { app: "", host: "", status: "" }).size, s.nodes.size);
  const down = visibleNodes(s, { app: "", host: "", status: "down" });
  assert.deepEqual([...down], ["service:db_pg"]);
  const webOnAlpha = visibleNodes(s, { app: "app:web", host: "host:h1", status: "" });
  assert.ok(webOnAlpha.has("task:t1") && webOnAlpha.has("host:h1"));
  assert.ok(!webOnAlpha.has("task:t2") && !webOnAlpha.has("host:h2"));
  // A filter naming a node that is gone keeps everything rather than nothing.
  assert.equal(visibleNodes(s, { app: "app:gone", host: "", status: "" }).size, s.nodes.size);
});

Deno.test("search() matches every word in label, id, kind or detail, bounded", () => {
  const s = stateOf(smallGraph());
  assert.deepEqual(search(s, s.nodes.keys(), "10.0.0"), ["host:h1"]);
  assert.deepEqual(search(s, s.nodes.keys(), "FRONT task"), ["task:t1", "task:t2"]);
  assert.deepEqual(search(s, s.nodes.keys(), "   "), []);
  assert.ok(matches(s.nodes.get("target:nas")!, "sftp"));
  const big = stateOf(generatedGraph(500));
  assert.equal(search(big, big.nodes.keys(), "svc", 10).length, 10);
});

Deno.test("facets() lists apps and hosts by label", () => {
  const f = facets(stateOf(smallGraph()));
  assert.deepEqual(f.apps.map((n) => n.label), ["db", "web"]);
  assert.deepEqual(f.hosts.map((n) => n.label), ["alpha", "beta", "idle"]);
});
