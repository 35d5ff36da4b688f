/**
 * Usage facts from a real single-node Swarm: an app deployed with reservations, scaled, resized,
 * rolled back, stopped, started and deleted through the apps service, each change read back by the
 * billing_usage job's observation (lib/billing/usage.ts observeSwarm) as segments that close and
 * reopen.
 */
import assert from "node:assert/strict";
import { dbService, OWNER, withSingleNodeApps } from "./support/apps.ts";
import { dockerTestsIgnored } from "../lib/docker/testing.ts";
import { manualClock } from "./support/clock.ts";
import { createUsage, observeSwarm } from "../lib/billing/usage.ts";

const SUITE = "billing-swarm";
const ignore = dockerTestsIgnored(SUITE);
const MIB = 1 << 20;

Deno.test({
  name:
    "[docker] billing usage: deploy, scale, resize, rollback, stop, start and delete become segments",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withSingleNodeApps(SUITE, async (env) => {
      const { apps, orgA } = env;
      const db = env.services.dbh.db;
      const clock = manualClock(Date.UTC(2026, 0, 1, 12));
      const usage = createUsage(db, clock);
      const observe = async () => {
        clock.advance(60_000);
        return await observeSwarm(usage, env.cluster);
      };
      const segments = async () =>
        (await usage.segments(orgA.id, 0, Date.UTC(2027, 0, 1)))
          .filter((s) => s.app_id === app.id)
          .map((s) => [s.service, s.replicas, s.cpu_millis, s.memory_bytes, s.ended_at !== null]);
      const reserve = (cpus: number, mem: number) => ({
        resources: { reservations: { cpus, memory_bytes: mem } },
      });
      const { app } = await apps.create(OWNER, orgA.id, {
        name: `billed-${env.run}`,
        spec: { services: [dbService({ replicas: 2, ...reserve(0.05, 16 * MIB) })] },
      });
      assert.equal((await env.deployed(orgA.id, app.id, 1)).status, "running");
      await observe();
      assert.deepEqual(await segments(), [["db", 2, 50, 16 * MIB, false]]);
      assert.deepEqual(await observe(), { opened: 0, closed: 0 }, "nothing changed");

      const reload = () => env.store.get(orgA.id, app.id);
      await apps.scale(OWNER, await reload(), "db", 3);
      assert.equal((await env.deployed(orgA.id, app.id, 2)).status, "running");
      await observe();
      const resized = await apps.update(OWNER, await reload(), {
        spec: { services: [dbService({ replicas: 3, ...reserve(0.1, 24 * MIB) })] },
      });
      await apps.deploy(OWNER, resized);
      assert.equal((await env.deployed(orgA.id, app.id, 3)).status, "running");
      await observe();
      // Back to deployment #2's snapshot: 3 replicas of the first reservation.
      await apps.rollback(OWNER, await reload(), "2");
      assert.equal((await env.deployed(orgA.id, app.id, 4)).status, "running");
      await observe();
      await apps.stop(OWNER, await reload());
      assert.equal((await env.deployed(orgA.id, app.id, 5)).status, "running");
      await observe();
      assert.deepEqual(await segments(), [
        ["db", 2, 50, 16 * MIB, true],
        ["db", 3, 50, 16 * MIB, true],
        ["db", 3, 100, 24 * MIB, true],
        ["db", 3, 50, 16 * MIB, true],
      ], "stopped: replicas 0 run nothing");
      await apps.start(OWNER, await reload());
      assert.equal((await env.deployed(orgA.id, app.id, 6)).status, "running");
      await observe();
      assert.deepEqual((await segments()).at(-1), ["db", 3, 50, 16 * MIB, false]);
      await apps.remove(OWNER, await reload());
      await observe();
      const all = await segments();
      assert.equal(all.length, 5);
      assert.deepEqual(all[4], ["db", 3, 50, 16 * MIB, true], "deleted: it ran until then");
    }),
});
