/**
 * The graph from real services on both dialects: an app with two services on two hosts (one of
 * them offline), a route to it, a standalone container, two volumes with snapshots of different
 * ages backing up to a filesystem target and an SFTP (NAS) target.
 */
import assert from "node:assert/strict";
import { dbTest } from "../../tests/support/db.ts";
import { SYSTEM_CTX, testServices } from "../../tests/support/services.ts";
import { manualClock } from "../../tests/support/clock.ts";
import { insertOrg } from "../../tests/support/org_row.ts";
import { attachScriptedAgent } from "../../tests/support/agent.ts";
import { fakeContainer } from "../../tests/support/containers.ts";
import { parseSpec } from "../apps/service.ts";
import { RouteSpec } from "../proxy/spec.ts";
import type { StorageTarget } from "../snapshots/store.ts";
import type { TopologyGraph, TopologyNode, TopologyPatch } from "./graph.ts";

const HOUR = 3_600_000;

function target(orgId: string, id: string, name: string, kind: StorageTarget["kind"], now: number) {
  return {
    id,
    org_id: orgId,
    name,
    kind,
    config: "{}",
    secrets: "unused",
    secrets_key_id: "unused",
    is_default: kind === "filesystem" ? 1 : 0,
    tested_at: null,
    test_ok: null,
    test_error: null,
    verify_cron: "0 3 * * 0",
    verified_at: now,
    verify_status: "ok" as const,
    verify_error: null,
    verify_next_at: null,
    created_by: null,
    created_at: now,
    updated_at: now,
  };
}

function snapshot(
  v: { id: string; org_id: string; host_id: string; volume: string; app_id: string | null },
  id: string,
  target_id: string,
  status: "complete" | "failed",
  finishedAt: number,
) {
  return {
    id,
    org_id: v.org_id,
    volume_id: v.id,
    host_id: v.host_id,
    volume: v.volume,
    app_id: v.app_id,
    target_id,
    restic_id: status === "complete" ? "f".repeat(64) : null,
    status,
    trigger: "manual" as const,
    mode: "live" as const,
    schedule_id: null,
    files: null,
    files_new: null,
    files_changed: null,
    bytes_processed: null,
    bytes_added: null,
    progress_bytes: null,
    progress_total: null,
    started_at: finishedAt - 60_000,
    heartbeat_at: finishedAt,
    finished_at: finishedAt,
    duration_ms: 60_000,
    error: status === "failed" ? "boom" : null,
    created_by: null,
  };
}

const node = (g: TopologyGraph, id: string): TopologyNode => {
  const n = g.nodes.find((x) => x.id === id);
  assert.ok(n, `node ${id} is in the graph`);
  return n;
};
const edge = (g: TopologyGraph, kind: string, from: string, to: string) =>
  assert.ok(
    g.edges.some((e) => e.kind === kind && e.from === from && e.to === to),
    `edge ${kind} ${from} -> ${to}`,
  );

dbTest("[db] topology.graph() builds the map from the modules' services", async (h) => {
  const clock = manualClock(Date.UTC(2026, 5, 1, 12));
  const s = testServices(h, clock);
  const now = clock.now();
  const orgId = await insertOrg(h.db, "acme");
  const otherOrg = await insertOrg(h.db, "globex");

  const alpha = (await s.hosts.create(SYSTEM_CTX, orgId, { name: "alpha" })).host;
  const beta = (await s.hosts.create(SYSTEM_CTX, orgId, { name: "beta" })).host;
  const foreign = (await s.hosts.create(SYSTEM_CTX, otherOrg, { name: "elsewhere" })).host;
  const a = await attachScriptedAgent(s, alpha);
  const b = await attachScriptedAgent(s, beta);
  b.hubEnd.close(); // beta has been seen and is offline now
  while (s.agents.isOnline(beta.id)) await new Promise((r) => setTimeout(r, 5));

  const app = await s.apps.store.create(orgId, {
    name: "shop",
    spec: parseSpec({
      services: [
        {
          name: "web",
          image: "capstan-test/busybox:latest",
          replicas: 2,
          volumes: [{ name: "shop-uploads", target: "/data" }],
        },
        {
          name: "db",
          image: "capstan-test/busybox:latest",
          volumes: [{ name: "shop-db", target: "/var/lib/db" }],
        },
      ],
    }),
  }, null);
  const task = (service: string) => ({ "capstan.app": app.id, "capstan.service": service });
  await s.hosts.applySnapshot(alpha, [
    fakeContainer("a1", "shop_web.1.x", task("web")),
    fakeContainer("b2", "shop_db.1.y", task("db")),
    fakeContainer("c3", "tools"),
  ]);
  await s.hosts.applySnapshot(beta, [fakeContainer("d4", "shop_web.2.z", task("web"))]);
  await s.hosts.applySnapshot(foreign, [fakeContainer("e5", "theirs")]);

  const { basic_auth: _none, ...spec } = RouteSpec.parse({
    hostnames: ["shop.example.com"],
    target: { kind: "app", app: "shop", service: "web", port: 8080 },
  });
  const route = await s.proxy.store.create(
    orgId,
    spec,
    null,
    () => "internal",
  );

  const fs = await s.snapshotStore.insertTarget(target(orgId, "t-fs", "local", "filesystem", now));
  const nas = await s.snapshotStore.insertTarget(target(orgId, "t-nas", "nas", "sftp", now));
  const uploads = await s.snapshotStore.ensureVolume(orgId, alpha.id, "shop-uploads", {
    app_id: app.id,
    service: "web",
  });
  const db = await s.snapshotStore.ensureVolume(orgId, alpha.id, "shop-db", {
    app_id: app.id,
    service: "db",
    target_id: nas.id,
  });
  // Uploads: an hourly schedule, done 30 min ago (fresh). Db: no schedule, 3 days old (stale),
  // and an older failure that the later complete one clears.
  await s.snapshotStore.insertSchedule({
    id: "sch-1",
    org_id: orgId,
    volume_id: uploads.id,
    cron: "0 * * * *",
    timezone: "UTC",
    keep_last: 3,
    keep_daily: null,
    keep_weekly: null,
    keep_monthly: null,
    enabled: 1,
    next_run_at: null,
    last_run_at: null,
    last_snapshot_id: null,
    last_error: null,
    created_by: null,
    created_at: now,
    updated_at: now,
  });
  await s.snapshotStore.insertSnapshot(
    snapshot(uploads, "01900000-0000-7000-8000-000000000010", fs.id, "complete", now - HOUR / 2),
  );
  await s.snapshotStore.insertSnapshot(
    snapshot(db, "01900000-0000-7000-8000-000000000001", nas.id, "failed", now - 4 * 24 * HOUR),
  );
  await s.snapshotStore.insertSnapshot(
    snapshot(db, "01900000-0000-7000-8000-000000000002", nas.id, "complete", now - 3 * 24 * HOUR),
  );

  const g = await s.topology.graph({ kind: "org", orgId });
  assert.equal(g.truncated, false);
  assert.equal(g.at, now);

  // Hosts: alpha live, beta seen and gone.
  assert.equal(node(g, `host:${alpha.id}`).status, "running");
  assert.equal(node(g, `host:${beta.id}`).status, "down");
  assert.equal(node(g, `host:${alpha.id}`).metricsTopic, `org:${orgId}:metrics`);
  assert.ok(!g.nodes.some((n) => n.id === `host:${foreign.id}`), "another org's host");
  assert.ok(!g.nodes.some((n) => n.label === "theirs"), "another org's container");

  // The app, its services and tasks: web runs 1 of 2 (beta's task is not known to run).
  const web = node(g, `service:${app.id}/web`);
  assert.deepEqual(web.replicas, { running: 1, desired: 2 });
  assert.equal(web.status, "degraded");
  const dbService = node(g, `service:${app.id}/db`);
  assert.deepEqual(dbService.replicas, { running: 1, desired: 1 });
  assert.equal(dbService.status, "running");
  const appNode = node(g, `app:${app.id}`);
  assert.equal(appNode.status, "degraded");
  assert.deepEqual(appNode.replicas, { running: 2, desired: 3 });
  assert.equal(appNode.href, "/o/acme/apps/shop");
  const a1 = "a1".repeat(32);
  const d4 = "d4".repeat(32);
  assert.equal(node(g, `task:${a1}`).status, "running");
  assert.equal(node(g, `task:${d4}`).status, "unknown");
  edge(g, "has", `app:${app.id}`, `service:${app.id}/web`);
  edge(g, "has", `service:${app.id}/web`, `task:${a1}`);
  edge(g, "has", `service:${app.id}/web`, `task:${d4}`);
  edge(g, "runs_on", `task:${a1}`, `host:${alpha.id}`);
  edge(g, "runs_on", `task:${d4}`, `host:${beta.id}`);

  // A standalone container is a task node of its own on its host.
  const c3 = node(g, `task:${"c3".repeat(32)}`);
  assert.equal(c3.detail?.kind, "container");
  edge(g, "runs_on", c3.id, `host:${alpha.id}`);

  // The route leads to the app.
  const r = node(g, `route:${route.id}`);
  assert.equal(r.rank, "ingress");
  assert.equal(r.label, "shop.example.com");
  edge(g, "routes_to", r.id, `app:${app.id}`);

  // Volumes, their badges and targets.
  const up = node(g, `volume:${alpha.id}/shop-uploads`);
  assert.deepEqual(up.backup, { state: "fresh", lastAt: now - HOUR / 2 });
  const dbv = node(g, `volume:${alpha.id}/shop-db`);
  assert.deepEqual(dbv.backup, { state: "stale", lastAt: now - 3 * 24 * HOUR });
  edge(g, "mounts", web.id, up.id);
  edge(g, "mounts", dbService.id, dbv.id);
  edge(g, "backs_up_to", up.id, "target:t-fs");
  edge(g, "backs_up_to", dbv.id, "target:t-nas");
  assert.equal(node(g, "target:t-nas").detail?.kind, "sftp");
  assert.equal(node(g, "target:t-fs").status, "running");
  // Web also runs on beta, where its volume has no snapshot row: no backup yet.
  assert.equal(node(g, `volume:${beta.id}/shop-uploads`).backup?.state, "none");
  // The app's badge is its worst volume's.
  assert.deepEqual(appNode.backup, { state: "stale", lastAt: now - 3 * 24 * HOUR });

  // Every edge joins two nodes of the graph.
  const ids = new Set(g.nodes.map((n) => n.id));
  for (const e of g.edges) assert.ok(ids.has(e.from) && ids.has(e.to), e.id);

  // Live: a snapshot completing turns the db volume's badge fresh, the agent of alpha going
  // turns its host down — each a `node` patch on the org's topic, from the module's events.
  const patches: TopologyPatch[] = [];
  const topic = `org:${orgId}:topology`;
  const off = s.bus.subscribe((t, data) => {
    if (t === topic) patches.push(data as TopologyPatch);
  });
  const until = async (what: string, ok: () => boolean) => {
    const deadline = Date.now() + 20_000;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const nodePatch = (id: string, ok: (n: TopologyNode) => boolean) => () =>
    patches.some((p) => p.op === "node" && p.node.id === id && ok(p.node));
  await s.snapshotStore.insertSnapshot(
    snapshot(db, "01900000-0000-7000-8000-000000000003", nas.id, "complete", now),
  );
  s.events.emit("snapshots.completed", {
    org_id: orgId,
    id: "01900000-0000-7000-8000-000000000003",
    host_id: alpha.id,
    volume: "shop-db",
    at: now,
  });
  await until(
    "the db volume fresh",
    nodePatch(dbv.id, (n) => n.backup?.state === "fresh" && n.backup.lastAt === now),
  );
  assert.ok(patches.every((p) => p.version > g.version));
  a.hubEnd.close();
  await until("alpha down", nodePatch(`host:${alpha.id}`, (n) => n.status === "down"));
  off();

  // The whole install holds both organizations.
  const all = await s.topology.graph({ kind: "install" });
  assert.ok(all.nodes.some((n) => n.id === `host:${foreign.id}`));
  assert.ok(all.nodes.some((n) => n.id === `app:${app.id}`));
  await s.topology.close();
});
