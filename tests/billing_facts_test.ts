/**
 * Storage, egress and build facts end to end on both dialects: a real Docker volume with data on
 * the test engine (its size from the engine's `system df`, asked through the agent's own control
 * operations), transmit counters written through the metrics store's real ingest (growth, a
 * reset, two hub replicas reading at once), snapshot data and a build in their modules' stores;
 * then the hourly cycles bill storage, egress and build minutes once each, the CSV carries them,
 * and the quotas job puts storage and egress at their levels. Swarm's task list is the one input
 * written by hand (Swarm-shaped tasks naming the real container): the apps tests cover Swarm.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { manualClock } from "./support/clock.ts";
import { SYSTEM_CTX, testServices } from "./support/services.ts";
import { insertOrg } from "./support/org_row.ts";
import { controlAgent } from "./support/control_agent.ts";
import { volumeInUse } from "./support/volume_files.ts";
import { dockerTestsIgnored, TEST_RUN_ID, testName, withDocker } from "../lib/docker/testing.ts";
import { createFacts } from "../lib/billing/facts.ts";
import { factSources, TX_COUNTER } from "../lib/billing/fact_sources.ts";
import { createCycles } from "../lib/billing/cycles.ts";
import { GIB, GIB_MONTH, HOUR_MS, priceOf } from "../lib/billing/meter.ts";
import type { SwarmTask } from "../lib/docker/swarm_types.ts";
import type { NodeView } from "../lib/apps/cluster.ts";

const SUITE = "billing-facts";
const ignored = dockerTestsIgnored(SUITE);
const MIN = 60_000;

dbTest(
  "billing facts: real volume sizes, counters through the metrics store and builds are billed once per hour and measured by quotas",
  async (h) => {
    await withDocker(SUITE, async (docker) => {
      // Five minutes into an hour, so everything below lands in that hour.
      const H0 = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
      const clock = manualClock(H0 + 5 * MIN);
      const s = testServices(h, clock);
      const db = s.db;
      const orgId = await insertOrg(db, `facts-${TEST_RUN_ID}`);
      const appId = crypto.randomUUID();
      await db.insertInto("apps").values({
        id: appId,
        org_id: orgId,
        name: "web",
        spec: JSON.stringify({ services: [] }),
        migration_policy: "automatic",
        desired_state: "running",
        priority: 0,
        current_deployment_id: null,
        created_by: null,
        created_at: 0,
        updated_at: 0,
      }).execute();
      const hostId = crypto.randomUUID();

      // A real volume with 3 MiB of data and more, mounted by a running container.
      const vname = testName(SUITE, "data");
      const { containerId } = await volumeInUse(docker, SUITE, vname, 3);
      const df = await docker.systemDf();
      const engineSize = df.Volumes?.find((v) => v.Name === vname)?.UsageData?.Size ?? -1;
      assert.ok(engineSize >= 3 * 2 ** 20, `the engine sizes the volume (${engineSize})`);

      // Swarm's view: the container is the app's task on the host's node.
      const task = {
        ID: "task1",
        NodeID: "node1",
        CreatedAt: new Date(clock.now()).toISOString(),
        Spec: { ContainerSpec: { Labels: { "capstan.org": orgId, "capstan.app": appId } } },
        Status: { State: "running", ContainerStatus: { ContainerID: containerId } },
      } as unknown as SwarmTask;
      const cluster = {
        info: () => Promise.resolve({}),
        manager: () => Promise.resolve({ gw: { tasks: () => Promise.resolve([task]) } }),
        nodes: () => Promise.resolve([{ node_id: "node1", host_id: hostId } as NodeView]),
      } as unknown as Parameters<typeof factSources>[0]["cluster"];
      const agent = controlAgent(docker);
      const sources = factSources({
        cluster,
        agents: { isOnline: () => true, require: () => agent as never },
        metrics: s.metrics,
        snapshotStore: s.snapshotStore,
        builds: s.builds,
        now: () => clock.now(),
      });
      const facts = createFacts({ db, clock, sources });
      const replica = createFacts({ db, clock, sources });

      // Snapshot data: a complete snapshot counts its added bytes, a failed one nothing.
      const vol = await s.snapshotStore.ensureVolume(orgId, hostId, vname, { app_id: appId });
      const snap = (id: string, status: "complete" | "failed", bytes: number) =>
        s.snapshotStore.insertSnapshot({
          id,
          org_id: orgId,
          volume_id: vol.id,
          host_id: hostId,
          volume: vname,
          app_id: appId,
          target_id: "t",
          restic_id: null,
          status,
          trigger: "manual",
          mode: "live",
          schedule_id: null,
          files: null,
          files_new: null,
          files_changed: null,
          bytes_processed: null,
          bytes_added: bytes,
          progress_bytes: null,
          progress_total: null,
          started_at: clock.now(),
          heartbeat_at: clock.now(),
          finished_at: clock.now(),
          duration_ms: 0,
          error: null,
          created_by: null,
        });
      await snap(crypto.randomUUID(), "complete", 12_345);
      await snap(crypto.randomUUID(), "failed", 999);

      // Counter samples through the metrics store's ingest.
      let seq = 0;
      const sample = (v: number) =>
        s.metrics.ingest({ id: hostId, org_id: orgId }, {
          seq: seq++,
          dropped: 0,
          samples: [{
            t: clock.now() - 1000,
            host: {},
            containers: { [containerId]: { [TX_COUNTER]: v } },
          }],
        });

      await sample(1000);
      const r1 = await facts.run();
      // A container newer than egress metering counts from zero: its whole counter.
      assert.equal(r1.egress?.bytes, 1000);
      assert.equal(r1.storage?.volumes_complete, true);
      const storage = await db.selectFrom("billing_storage").selectAll()
        .where("org_id", "=", orgId).orderBy("kind").execute();
      assert.deepEqual(
        storage.map((r) => [r.app_id, r.kind, Number(r.bytes), r.ended_at]),
        [[appId, "snapshots", 12_345, null], [appId, "volumes", engineSize, null]],
        "the engine's size of the app's volume, and its complete snapshots' data",
      );

      // A build that ran 2 min 20 s: 3 minutes.
      await db.insertInto("builds").values({
        id: crypto.randomUUID(),
        org_id: orgId,
        app_id: appId,
        service: "web",
        number: 1,
        state: "succeeded",
        trigger: "manual",
        actor_id: null,
        actor_name: null,
        delivery_id: null,
        repo_url: "https://example.test/r.git",
        branch: "main",
        commit_sha: null,
        commit_author: null,
        commit_message: null,
        builder: null,
        plan: null,
        dockerfile: null,
        host_id: null,
        runner: null,
        cancel_requested: 0,
        image: null,
        image_id: null,
        size_bytes: null,
        failure: null,
        error: null,
        deploy: 0,
        deployment_id: null,
        queued_at: clock.now() - 150_000,
        started_at: clock.now() - 150_000,
        finished_at: clock.now() + 10_000,
        heartbeat_at: null,
      }).execute();

      clock.advance(MIN);
      await sample(5000);
      const r2 = await facts.run();
      assert.equal(r2.egress?.bytes, 4000, "growth");
      assert.equal(r2.builds?.recorded, 1);
      assert.equal((await facts.run()).builds?.recorded, 0, "a build is recorded once");

      clock.advance(MIN);
      await sample(300);
      assert.equal((await facts.run()).egress?.bytes, 300, "a reset: the bytes since it");

      // Two replicas read the same new sample at once: it is counted once.
      clock.advance(MIN);
      await sample(3 * 2 ** 30);
      const both = await Promise.all([facts.run(), replica.run()]);
      assert.equal(
        both.reduce((n, r) => n + (r.egress?.bytes ?? 0), 0),
        3 * 2 ** 30 - 300,
        JSON.stringify(both.map((r) => r.egress)),
      );
      const egressTotal = 1000 + 4000 + 300 + 3 * 2 ** 30 - 300;
      const egress = await db.selectFrom("billing_egress").selectAll().where("org_id", "=", orgId)
        .execute();
      assert.deepEqual(egress.map((r) => [r.app_id, Number(r.hour), Number(r.bytes)]), [
        [appId, H0, egressTotal],
      ]);

      // Quotas measure both: storage now, egress this month (whole GiB).
      const used = await s.quotas.used(orgId);
      assert.equal(used.storage_bytes, engineSize + 12_345);
      assert.equal(used.egress_gb_month, 3);
      await s.quotas.setOverride(SYSTEM_CTX, orgId, "storage_bytes", {
        value: Math.floor((engineSize + 12_345) / 0.85),
        reason: "test",
      });
      await s.quotas.setOverride(SYSTEM_CTX, orgId, "egress_gb_month", {
        value: 2,
        reason: "test",
      });
      await s.quotaWatch.checkAll();
      const st = await s.quotaWatch.standings(orgId);
      assert.equal(st.storage_bytes?.level, "warning");
      assert.equal(st.egress_gb_month?.level, "over");
      assert.ok(st.egress_gb_month?.grace_ends_at, "a violation starts a grace period");

      // The hour is billed once: storage prorated, egress per GiB, build minutes.
      await s.billingPlans.set("default", {
        currency: "EUR",
        cpu_core_hour: 0,
        memory_gib_hour: 0,
        storage_gib_month: 10_000,
        egress_gib: 9,
        build_minute: 7,
      }, null);
      clock.set(H0 + HOUR_MS + 3 * MIN);
      const c1 = await s.billingCycles.run();
      assert.equal(c1.billed, 1);
      const items = await db.selectFrom("billing_line_items").selectAll()
        .where("org_id", "=", orgId).where("hour", "=", H0).orderBy("resource").execute();
      const storedSecs = BigInt((H0 + HOUR_MS - Number(storage[0].started_at)) / 1000);
      const q = {
        build: 3n,
        egress: BigInt(egressTotal),
        storage: BigInt(engineSize + 12_345) * storedSecs,
      };
      assert.deepEqual(items.map((i) => [i.app_id, i.resource, BigInt(i.quantity)]), [
        [appId, "build", q.build],
        [appId, "egress", q.egress],
        [appId, "storage", q.storage],
      ]);
      assert.deepEqual(items.map((i) => Number(i.amount)), [
        21,
        Number(priceOf(q.egress, 9, GIB)),
        Number(priceOf(q.storage, 10_000, GIB_MONTH)),
      ]);
      assert.deepEqual(await s.billingCycles.run(), {
        billed: 0,
        raced: 0,
        charged: 0,
        more: false,
      });

      // The next hour: storage only (still stored), billed once by two runners at once.
      clock.set(H0 + 2 * HOUR_MS + 3 * MIN);
      const other = createCycles({ db, clock, plan: (o) => s.billingPlans.forOrg(o) });
      const two = await Promise.all([s.billingCycles.run(), other.run()]);
      assert.equal(two[0].billed + two[1].billed, 1);
      assert.equal(two[0].raced + two[1].raced, 1);
      const next = await db.selectFrom("billing_line_items").select(["resource", "quantity"])
        .where("org_id", "=", orgId).where("hour", "=", H0 + HOUR_MS).execute();
      assert.deepEqual(next.map((i) => [i.resource, BigInt(i.quantity)]), [
        ["storage", BigInt(engineSize + 12_345) * 3600n],
      ]);

      // The CSV carries the new resources with their quantity units.
      const csv = await new Response(s.billing.csv(orgId, "EUR", H0, H0 + 2 * HOUR_MS)).text();
      assert.match(csv, new RegExp(`,${appId},build,3,minutes,7,21,EUR`));
      assert.match(csv, new RegExp(`,${appId},egress,${egressTotal},bytes,9,`));
      assert.match(csv, new RegExp(`,${appId},storage,${q.storage},byte_seconds,10000,`));

      // The container's data gone: storage ends (a later picture without the volume).
      await docker.removeContainer(containerId, { force: true });
      await docker.removeVolume(vname);
      clock.advance(11 * MIN);
      await facts.run();
      const open = await db.selectFrom("billing_storage").select(["kind", "bytes"])
        .where("org_id", "=", orgId).where("ended_at", "is", null).execute();
      assert.deepEqual(open.map((r) => [r.kind, Number(r.bytes)]), [["snapshots", 12_345]]);
    });
  },
  { ignore: ignored },
);
