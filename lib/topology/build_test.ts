import assert from "node:assert/strict";
import { buildTopology, type ContainerFact, type TopologyFacts } from "./build.ts";
import { applyPatches, diffGraphs, numberPatches } from "./diff.ts";
import { allowedAgeMs, UNSCHEDULED_STALE_MS, volumeBadge, worstBadge } from "./backup.ts";
import { createTopology, MAX_PATCHES } from "./service.ts";
import type { FactSources } from "./facts.ts";
import type { TopologyPatch } from "./graph.ts";
import { silentLogger } from "../log.ts";
import { manualClock } from "../../tests/support/clock.ts";

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 5, 1, 12);

function container(id: string, state: string, labels: Record<string, string> = {}): ContainerFact {
  return {
    host_id: "h1",
    org_id: "o1",
    id: id.repeat(64 / id.length),
    name: id,
    state,
    labels,
    created: 1,
  };
}

function facts(containers: ContainerFact[], more: Partial<TopologyFacts> = {}): TopologyFacts {
  return {
    orgs: [{ id: "o1", slug: "acme" }],
    hosts: [{ id: "h1", org_id: "o1", name: "alpha", online: true, seen: true }],
    containers,
    apps: [{
      id: "a1",
      org_id: "o1",
      name: "shop",
      desired_state: "running",
      services: [{ name: "web", replicas: 2, global: false, volumes: [] }],
    }],
    routes: [],
    volumes: [],
    targets: [],
    checks: [],
    ...more,
  };
}

const web = { "capstan.app": "a1", "capstan.service": "web" };

Deno.test("buildTopology() derives statuses from states, replicas and health checks", () => {
  const g = buildTopology(
    facts([container("a", "running", web), container("b", "running", web)], {
      checks: [{ host_id: "h1", container_id: "b".repeat(64), state: "unhealthy" }],
    }),
    { at: NOW, version: 1 },
  );
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  assert.equal(byId.get(`task:${"a".repeat(64)}`)?.health, "none");
  assert.equal(byId.get(`task:${"b".repeat(64)}`)?.status, "degraded");
  assert.equal(byId.get(`task:${"b".repeat(64)}`)?.health, "failing");
  const svc = byId.get("service:a1/web")!;
  assert.deepEqual(svc.replicas, { running: 2, desired: 2 });
  assert.equal(svc.health, "failing");
  assert.equal(svc.status, "degraded");
  assert.equal(byId.get("app:a1")?.health, "failing");

  // One replica exited: degraded; both: down; the host gone: unknown tasks, host down.
  const one = buildTopology(
    facts([container("a", "running", web), container("b", "exited", web)]),
    {
      at: NOW,
      version: 1,
    },
  );
  assert.equal(one.nodes.find((n) => n.id === "service:a1/web")?.status, "degraded");
  assert.equal(one.nodes.find((n) => n.id === `task:${"b".repeat(64)}`)?.status, "down");
  const none = buildTopology(facts([container("a", "exited", web)]), { at: NOW, version: 1 });
  assert.equal(none.nodes.find((n) => n.id === "service:a1/web")?.status, "down");
  const gone = buildTopology(
    facts([container("a", "running", web)], {
      hosts: [{ id: "h1", org_id: "o1", name: "alpha", online: false, seen: true }],
    }),
    { at: NOW, version: 1 },
  );
  assert.equal(gone.nodes.find((n) => n.id === "host:h1")?.status, "down");
  assert.equal(gone.nodes.find((n) => n.id === `task:${"a".repeat(64)}`)?.status, "unknown");
  assert.equal(gone.nodes.find((n) => n.id === "service:a1/web")?.status, "down");
});

Deno.test("buildTopology() shows the newest container of each task slot, not Swarm's history", () => {
  const slot = (id: string, n: number, state: string, created: number) => ({
    ...container(id, state, { ...web, "com.docker.swarm.task.name": `shop_web.${n}.t${id}` }),
    created,
  });
  const g = buildTopology(
    facts([
      slot("a", 1, "exited", 10), // replaced by b
      slot("b", 1, "running", 20),
      slot("c", 2, "exited", 30), // the newest of slot 2: it is down now
    ]),
    { at: NOW, version: 1 },
  );
  const tasks = g.nodes.filter((n) => n.kind === "task").map((n) => n.id).sort();
  assert.deepEqual(tasks, [`task:${"b".repeat(64)}`, `task:${"c".repeat(64)}`]);
  assert.deepEqual(g.nodes.find((n) => n.id === "service:a1/web")?.replicas, {
    running: 1,
    desired: 2,
  });
});

Deno.test("buildTopology() cuts at maxNodes, marks truncated and keeps no dangling edge", () => {
  const many = Array.from(
    { length: 40 },
    (_, i) => container(i.toString(16).padStart(2, "0"), "running"),
  );
  const g = buildTopology(facts(many), { at: NOW, version: 1, maxNodes: 10 });
  assert.equal(g.nodes.length, 10);
  assert.equal(g.truncated, true);
  const ids = new Set(g.nodes.map((n) => n.id));
  for (const e of g.edges) assert.ok(ids.has(e.from) && ids.has(e.to), e.id);
  // Hosts and apps come before containers.
  assert.ok(ids.has("host:h1") && ids.has("app:a1"));
});

Deno.test("diffGraphs() gives patches that turn one build into the next", () => {
  const a = buildTopology(facts([container("a", "running", web), container("c", "running")]), {
    at: NOW,
    version: 100,
  });
  const b = buildTopology(facts([container("a", "exited", web), container("d", "running")]), {
    at: NOW + 1,
    version: 100,
  });
  const bodies = diffGraphs(a, b);
  const ops = bodies.map((p) => p.op);
  // Removals first, additions of edges last.
  assert.ok(ops.indexOf("edge_removed") < ops.indexOf("node_removed"));
  assert.ok(ops.lastIndexOf("node") < ops.indexOf("edge"));
  const patches = numberPatches(bodies, 100);
  assert.deepEqual(patches.map((p) => p.version), bodies.map((_, i) => 101 + i));
  const applied = applyPatches(a, patches);
  assert.deepEqual(applied.nodes, b.nodes);
  assert.deepEqual(applied.edges, b.edges);
  assert.deepEqual(diffGraphs(b, b), []);
});

Deno.test("volumeBadge() is failed, none, stale or fresh by the documented rule", () => {
  const base = { lastCompleteAt: NOW - HOUR, failedAfterAt: null, schedules: [] };
  assert.deepEqual(volumeBadge(base, NOW), { state: "fresh", lastAt: NOW - HOUR });
  assert.equal(volumeBadge({ ...base, lastCompleteAt: NOW - 27 * HOUR }, NOW).state, "stale");
  assert.equal(volumeBadge({ ...base, lastCompleteAt: null }, NOW).state, "none");
  assert.deepEqual(volumeBadge({ ...base, failedAfterAt: NOW - 60_000 }, NOW), {
    state: "failed",
    lastAt: NOW - HOUR,
  });
  // A failure older than the newest complete snapshot does not count.
  assert.equal(volumeBadge({ ...base, failedAfterAt: NOW - 2 * HOUR }, NOW).state, "fresh");
  // Hourly: stale after one missed run (period + 1 h grace); without a schedule 26 h.
  const hourly = [{ cron: "0 * * * *", timezone: "UTC" }];
  assert.equal(allowedAgeMs(hourly, NOW), 2 * HOUR);
  assert.equal(allowedAgeMs([], NOW), UNSCHEDULED_STALE_MS);
  assert.equal(
    volumeBadge({ ...base, lastCompleteAt: NOW - 3 * HOUR, schedules: hourly }, NOW).state,
    "stale",
  );
  assert.equal(
    worstBadge([{ state: "fresh", lastAt: 5 }, { state: "stale", lastAt: 2 }, {
      state: "none",
      lastAt: null,
    }])
      ?.state,
    "stale",
  );
  assert.equal(worstBadge([]), undefined);
});

/** Sources answering whatever containers the test holds now. */
function sources(state: { containers: ContainerFact[] }): FactSources {
  const f = facts([]);
  return {
    orgs: () => Promise.resolve(f.orgs),
    hosts: () => Promise.resolve(f.hosts),
    online: () => true,
    containers: (_o, limit) =>
      Promise.resolve({ items: state.containers.slice(0, limit), total: state.containers.length }),
    apps: () => Promise.resolve(f.apps),
    routes: () => Promise.resolve([]),
    snapshots: {
      volumes: () => Promise.resolve([]),
      lastComplete: () => Promise.resolve(new Map()),
      recent: () => Promise.resolve([]),
      schedules: () => Promise.resolve([]),
      targets: () => Promise.resolve([]),
    },
    nas: () => Promise.resolve([]),
    checks: () => Promise.resolve([]),
    hostMetricsTopic: (o) => `org:${o}:metrics`,
  };
}

Deno.test("topology service: publishes diffs of watched scopes only, one rebuild per burst, reload past the bound", async () => {
  const clock = manualClock(NOW);
  const state = { containers: [container("a", "running", web)] };
  const published: TopologyPatch[] = [];
  let builds = 0;
  const src = sources(state);
  const counted: FactSources = {
    ...src,
    containers: (o, l) => {
      builds++;
      return src.containers(o, l);
    },
  };
  const topo = createTopology({
    sources: counted,
    clock,
    log: silentLogger,
    publish: (_s, p) => {
      published.push(p);
      return Promise.resolve();
    },
    debounceMs: 20,
  });
  // Nobody read the scope: events cost nothing.
  topo.changed("o1");
  await topo.idle();
  assert.equal(builds, 0);

  const g = await topo.graph({ kind: "org", orgId: "o1" });
  assert.equal(g.version, NOW, "a new baseline is numbered from the clock");
  builds = 0;
  state.containers = [container("a", "exited", web)];
  for (let i = 0; i < 50; i++) topo.changed("o1");
  topo.changed("other-org"); // not watched
  await topo.idle();
  assert.equal(builds, 1, "a burst of events is one rebuild");
  assert.ok(published.length > 0);
  assert.deepEqual(published.map((p) => p.version), published.map((_, i) => NOW + i + 1));
  const down = published.find((p) => p.op === "node" && p.node.id === `task:${"a".repeat(64)}`);
  assert.ok(down && down.op === "node" && down.node.status === "down");

  // Too many changes at once: one reload instead.
  published.length = 0;
  state.containers = Array.from(
    { length: MAX_PATCHES + 10 },
    (_, i) => container(i.toString(16).padStart(4, "0"), "running"),
  );
  topo.changed(null);
  await topo.idle();
  assert.equal(published.length, 1);
  assert.equal(published[0].op, "reload");

  // A read of a watched scope continues the numbering.
  const again = await topo.graph({ kind: "org", orgId: "o1" });
  assert.equal(again.version, published[0].version);
  await topo.close();
});

Deno.test("topology service: events during a rebuild share the one rebuild queued after it", async () => {
  const state = { containers: [container("a", "running", web)] };
  const src = sources(state);
  let builds = 0;
  let release: (() => void) | undefined;
  const topo = createTopology({
    sources: {
      ...src,
      containers: async (o, l) => {
        builds++;
        // The second build (the first after the read) holds until the test lets it go.
        if (builds === 2) await new Promise<void>((r) => release = r);
        return src.containers(o, l);
      },
    },
    clock: manualClock(NOW),
    log: silentLogger,
    publish: () => Promise.resolve(),
    debounceMs: 1,
  });
  await topo.graph({ kind: "org", orgId: "o1" });
  topo.changed("o1");
  while (!release) await new Promise((r) => setTimeout(r, 1)); // the rebuild is running
  state.containers = [container("a", "exited", web)];
  for (let i = 0; i < 20; i++) {
    topo.changed("o1");
    await new Promise((r) => setTimeout(r, 2)); // spread past the debounce
  }
  release();
  await topo.idle();
  assert.equal(builds, 3, "the read, the running rebuild, one follow-up for all 20 events");
  await topo.close();
});
