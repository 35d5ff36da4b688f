/**
 * Violation actions on a real single-node Swarm (both dialects; lib/enforcement): once a quota
 * violation's grace period is over with CAPSTAN_QUOTA_VIOLATION_ACTION=stop_lowest_priority, the
 * org's running apps are stopped lowest priority first (ties: newest first) until the resource
 * fits, and their Swarm tasks really go; with CAPSTAN_BILLING_GRACE_ACTION=stop_apps a blocked
 * wallet stops every running app. Two enforcement instances (two hub replicas) act at once: each
 * app is stopped and audited exactly once, with the reason, actor "system", and one notice.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { appsHarness, cleanupApps, dbService, OWNER } from "./support/apps.ts";
import { SYSTEM_CTX } from "./support/services.ts";
import { createDockerClient } from "../lib/docker/client.ts";
import { dockerTestsIgnored, eventually } from "../lib/docker/testing.ts";
import { LABELS } from "../lib/apps/swarm_spec.ts";
import { createEnforcement } from "../lib/enforcement/service.ts";
import type { QuotaNotice } from "../lib/quotas/events.ts";
import type { WalletNotice } from "../lib/billing/events.ts";

const SUITE = "enforcement-swarm";
const ignore = dockerTestsIgnored(SUITE);

dbTest(
  "[docker] violation actions: quota stops lowest priority first until it fits; wallet stops all; once across two replicas",
  async (h) => {
    const docker = createDockerClient({ timeoutMs: 60_000 });
    const orgIds: string[] = [];
    try {
      const env = await appsHarness(h, docker, {
        env: {
          CAPSTAN_QUOTA_GRACE_HOURS: "0",
          CAPSTAN_BILLING_GRACE_HOURS: "0",
          CAPSTAN_QUOTA_VIOLATION_ACTION: "stop_lowest_priority",
          CAPSTAN_BILLING_GRACE_ACTION: "stop_apps",
        },
      });
      const { orgA, orgB, apps, store, cluster } = env;
      const s = env.services;
      orgIds.push(orgA.id, orgB.id);
      await cluster.create(OWNER.ctx, {
        hostId: env.managerHost.id,
        advertiseAddr: "127.0.0.1",
        adopt: true,
      });
      const quotaNotices: QuotaNotice[] = [];
      const walletNotices: WalletNotice[] = [];
      s.events.on("quotas.usage", (n) => void quotaNotices.push(n));
      s.events.on("billing.wallet", (n) => void walletNotices.push(n));

      // 10 millicores each; created in this order, so "young" is newer than "old".
      const make = async (orgId: string, name: string, priority: number) =>
        (await apps.create(OWNER, orgId, {
          name: `${name}-${env.run}`,
          priority,
          spec: {
            services: [dbService({ resources: { reservations: { cpus: 0.01 } } })],
          },
        })).app;
      const old = await make(orgA.id, "old", 0);
      const high = await make(orgA.id, "high", 5);
      const young = await make(orgA.id, "young", 0);
      const b1 = await make(orgB.id, "b1", 0);
      const b2 = await make(orgB.id, "b2", 3);
      for (const a of [old, high, young, b1, b2]) {
        assert.equal((await env.deployed(a.org_id, a.id, 1)).status, "running", a.name);
      }

      // Two hub replicas: the same services, two enforcement instances acting at once.
      const replica = () =>
        createEnforcement({
          apps,
          quotas: s.quotas,
          watch: s.quotaWatch,
          wallet: s.billingWallet,
          quotaAction: "stop_lowest_priority",
          walletAction: "stop_apps",
        });
      const [r1, r2] = [replica(), replica()];

      // Org A: 30 millicores reserved, limit lowered to 15 → over; grace 0 → blocked at once.
      await s.quotas.setOverride(SYSTEM_CTX, orgA.id, "cpu_millis", { value: 15, reason: "test" });
      await s.quotaWatch.checkAll();
      assert.equal((await s.quotaWatch.standings(orgA.id)).cpu_millis?.blocked, true);
      // Org B: the wallet goes below zero; grace 0 → blocked at once.
      await s.billingPlans.set("default", {
        currency: "EUR",
        cpu_core_hour: 100,
        memory_gib_hour: 0,
        storage_gib_month: 0,
        egress_gib: 0,
        build_minute: 0,
      }, null);
      await s.billing.move(SYSTEM_CTX, orgB.id, { kind: "adjustment", amount: -100, note: "debt" });
      await s.billingWallet.checkAll();
      assert.equal((await s.billingWallet.standing(orgB.id)).state, "blocked");

      const results = await Promise.all([r1.run(), r2.run()]);
      assert.deepEqual(
        results.reduce((a, r) => ({ quota: a.quota + r.quota, wallet: a.wallet + r.wallet })),
        { quota: 2, wallet: 2 },
        "two stops for the quota (young, then old), two for the wallet, across both replicas",
      );
      await apps.idle();
      const state = async (a: { org_id: string; id: string }) =>
        (await store.get(a.org_id, a.id)).desired_state;
      assert.equal(await state(young), "stopped");
      assert.equal(await state(old), "stopped");
      assert.equal(await state(high), "running", "the highest priority keeps running");
      assert.equal(await state(b1), "stopped");
      assert.equal(await state(b2), "stopped");
      assert.deepEqual(await s.quotas.used(orgA.id).then((u) => u.cpu_millis), 10);

      // Swarm really stopped them: no task of a stopped app runs; the kept one still does.
      const running = async (appId: string) =>
        (await docker.listContainers({ all: false })).filter((c) =>
          c.Labels?.[LABELS.app] === appId
        ).length;
      for (const a of [young, old, b1, b2]) {
        await eventually(
          async () => (await running(a.id)) === 0 ? true : undefined,
          `${a.name}'s tasks gone`,
        );
      }
      assert.equal(await running(high.id), 1);

      // Audited once per app, as the system, with the reason.
      const audits = await h.db.selectFrom("audit_log").selectAll()
        .where("action", "=", "app.stopped").execute();
      assert.equal(audits.length, 4, "each stop audited exactly once");
      for (const a of audits) {
        const meta = JSON.parse(String(a.metadata));
        assert.equal(a.actor_type, "system");
        assert.match(meta.reason, /quota exceeded: CPU|wallet below zero/);
      }
      const stopped = quotaNotices.filter((n) => n.change === "apps_stopped");
      assert.deepEqual(stopped.flatMap((n) => n.apps), [young.name, old.name]);
      assert.deepEqual(
        walletNotices.filter((n) => n.transition === "apps_stopped").flatMap((n) => n.apps).sort(),
        [b1.name, b2.name].sort(),
      );

      // Billing's observation of Swarm trails a stop by up to a minute: one still saying the three
      // apps run must not make the next pass stop more (it counts what the apps' specs hold).
      await s.billingUsage.observe([old, high, young].map((a) => ({
        org_id: orgA.id,
        app_id: a.id,
        service: "db",
        replicas: 1,
        cpu_millis: 10,
        memory_bytes: 0,
      })));
      assert.equal((await s.quotas.used(orgA.id)).cpu_millis, 30, "the stale observation counts");
      // Another pass changes nothing (it fits now; the wallet org runs nothing).
      assert.deepEqual(await r1.run(), { quota: 0, wallet: 0 });
      assert.equal(await state(high), "running");
    } finally {
      await cleanupApps(docker, orgIds, SUITE);
      docker.close();
    }
  },
  { ignore },
);
