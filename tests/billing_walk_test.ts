/**
 * Issue 21's "Done when", walked as an admin would through the HTTP API, on the real engine adopted
 * as a single-node Swarm, on both dialects: a price plan and an org CPU quota are set; apps with
 * reservations are deployed until the 80 % and 90 % notices reach the org's webhook channel and
 * the deploy past 100 % is refused with the numbers; hourly charges appear in the ledger, exactly
 * once per org-hour however often the billing run goes; the wallet runs down into a grace period
 * (notices at start, halfway and end), deploys are then refused, and a top-up ends it at once.
 *
 * The jobs (billing_usage, billing_cycles, billing_wallet, quotas_usage) are called as the
 * scheduler calls them, under a manual clock: an hour passes in a step instead of an hour. The
 * clock starts 30 hours in the past so that it never runs ahead of the engine's real timestamps,
 * which the deployer compares task start times with.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { manualClock } from "./support/clock.ts";
import { attachTestAgent } from "./support/agent.ts";
import { cleanupApps } from "./support/apps.ts";
import { loopbackAlertsEnv, startReceiver } from "./support/receivers.ts";
import { SYSTEM_CTX } from "./support/services.ts";
import { createDockerClient } from "../lib/docker/client.ts";
import { dockerTestsIgnored, TEST_IMAGE } from "../lib/docker/testing.ts";
import { HOUR_MS } from "../lib/billing/meter.ts";

const SUITE = "billing-walk";
const ignored = dockerTestsIgnored(SUITE);
const HOOK_SECRET = "webhook-signing-secret-billing-walk";

/** A busybox service reserving `cpus` cores (one replica). */
function reserving(cpus: number) {
  return {
    name: "web",
    image: TEST_IMAGE,
    command: ["sleep", "3600"],
    resources: { reservations: { cpus } },
    restart: { condition: "any", delay_s: 1 },
    stop_grace_s: 1,
  };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 120_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

dbTest(
  "[docker] billing walk: plan and quota, 80/90 % notices, 100 % refused, hourly charges, grace, top-up",
  async (h) => {
    if (ignored) return;
    // Five minutes into an hour, 30 hours ago (see the file's comment).
    const start = Math.floor((Date.now() - 30 * HOUR_MS) / HOUR_MS) * HOUR_MS + 5 * 60_000;
    const clock = manualClock(start);
    const t = testApp(h, clock, undefined, {
      ...loopbackAlertsEnv(),
      CAPSTAN_BILLING_GRACE_HOURS: "2",
    });
    const s = t.services;
    const root = await t.user("root@hub.io", { admin: true });
    const owner = await t.user("owner@acme.io", { org: "acme", role: "owner" });
    const org = (await s.orgs.bySlug("acme"))!;
    const agent = await attachTestAgent(s, org.id);
    const docker = createDockerClient({ timeoutMs: 60_000 });
    const rx = startReceiver({ secret: HOOK_SECRET });
    const call = async (
      cookie: string,
      method: string,
      path: string,
      json?: unknown,
      // deno-lint-ignore no-explicit-any
    ): Promise<{ status: number; body: any }> => {
      const res = await t.request(path, { method, cookie, json });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    };
    const admin = (m: string, p: string, j?: unknown) => call(root.cookie, m, p, j);
    const member = (m: string, p: string, j?: unknown) => call(owner.cookie, m, p, j);
    const notices = () => rx.got.map((g) => String(g.json.title));
    /** What the scheduler runs every 30 s to 5 min, after `ms` of manual time. */
    const jobs = async (ms: number) => {
      clock.advance(ms);
      await s.billingObserve();
      await s.billingCycles.run();
      await s.billingWallet.checkAll();
      await s.quotaWatch.checkAll();
      await s.alerts.idle();
    };
    const api = "/api/v1/orgs/acme/apps";
    // Swarm service names are <org>_<app>_<service>: unique per run, as other suites use "acme".
    const run = crypto.randomUUID().slice(0, 6);
    const deploy = async (app: string, cpus: number) => {
      const name = `${app}-${run}`;
      const r = await member("POST", api, { name, spec: { services: [reserving(cpus)] } });
      if (r.status !== 202) return r;
      await until(`${name} running`, async () => {
        const d = (await member("GET", `${api}/${name}/deployments/1`)).body;
        assert.notEqual(d.status, "failed", JSON.stringify(d));
        return d.status === "running" ? d : undefined;
      });
      await jobs(30_000);
      return r;
    };
    try {
      // The admin: a price plan (1.00 EUR per core-hour reserved), a CPU quota of 0.5 cores for
      // acme, and 1.00 EUR in acme's wallet. The org's channel hears the default rules' notices.
      let r = await admin("PUT", "/api/v1/billing/plans/default", {
        currency: "EUR",
        cpu_core_hour: 100,
        memory_gib_hour: 0,
        storage_gib_month: 0,
        egress_gib: 0,
        build_minute: 0,
      });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      r = await admin("PUT", "/api/v1/quotas/orgs/acme/overrides/cpu_millis", {
        value: 500,
        reason: "walk",
      });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      r = await admin("POST", "/api/v1/billing/orgs/acme/entries", {
        kind: "top_up",
        amount: 100,
        note: "first money",
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      await s.alerts.channels.create(SYSTEM_CTX, org.id, {
        name: "ops",
        kind: "webhook",
        config: { url: `${rx.url}/hook`, secret: HOOK_SECRET },
      });
      r = await admin("POST", "/api/v1/cluster", {
        host_id: agent.host.id,
        advertise_addr: "127.0.0.1",
        adopt: true,
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));

      // Deploys until 80 % (4 × 0.1 cores) and 90 % (+ 0.05); the next 0.1 is refused.
      for (let i = 1; i <= 4; i++) {
        assert.equal((await deploy(`app-${i}`, 0.1)).status, 202);
      }
      assert.deepEqual(notices(), ["Quota at 80 %: CPU reserved by running services"]);
      assert.equal((await deploy("app-5", 0.05)).status, 202);
      assert.deepEqual(notices().slice(1), ["Quota at 90 %: CPU reserved by running services"]);
      r = await deploy("app-6", 0.1);
      assert.equal(r.status, 409, JSON.stringify(r.body));
      assert.equal(r.body.error.code, "quota_exceeded");
      assert.deepEqual(
        { ...r.body.error.quota },
        {
          resource: "cpu_millis",
          unit: r.body.error.quota.unit,
          limit: 500,
          used: 450,
          requested: 100,
        },
      );
      assert.equal(
        r.body.error.message,
        "Quota exceeded: CPU reserved by running services is limited to 0.50 CPU for this " +
          "organization; it uses 0.45 CPU and this would add 0.10 CPU",
      );
      r = await member("GET", "/api/v1/orgs/acme/quotas");
      assert.equal(r.status, 200);

      // Hourly charges: 0.45 cores reserved at 1.00 EUR per core-hour. The first hour is billed
      // from the observation (55 min 30 s after the start of the hour, minus what ran before).
      const ledger = async () =>
        (await member("GET", "/api/v1/orgs/acme/billing/ledger")).body.items as {
          kind: string;
          amount: number;
        }[];
      const charges = async () => (await ledger()).filter((e) => e.kind === "charge");
      await jobs(HOUR_MS); // the first hour closes
      await s.billingCycles.run(); // a second run (a replica, a restart) bills nothing more
      const first = await charges();
      assert.equal(first.length, 1, JSON.stringify(first));
      assert.ok(first[0].amount < 0 && first[0].amount > -45, JSON.stringify(first));
      await jobs(HOUR_MS);
      await s.billingCycles.run();
      const second = await charges();
      assert.equal(second.length, 2);
      assert.equal(second[0].amount, -45, "a whole hour of 0.45 cores");
      let balance = (await member("GET", "/api/v1/orgs/acme/billing/balance")).body;
      assert.equal(balance.balance, 100 + first[0].amount - 45);
      assert.equal(balance.wallet.state, "ok");

      // The third hour leaves the wallet below zero: grace starts, with a notice.
      await jobs(HOUR_MS);
      balance = (await member("GET", "/api/v1/orgs/acme/billing/balance")).body;
      assert.ok(balance.balance < 0, JSON.stringify(balance));
      assert.equal(balance.wallet.state, "grace");
      const cycles = (await member("GET", "/api/v1/orgs/acme/billing/cycles")).body;
      assert.equal(cycles.items.length, 3, "one cycle per org-hour");
      assert.ok(
        cycles.items.every((c: { items: { resource: string; app_id: string }[] }) =>
          c.items.length === 5 && c.items.every((i) => i.resource === "cpu")
        ),
        "itemised by app",
      );
      await jobs(HOUR_MS); // halfway
      await jobs(HOUR_MS + 60_000); // the end: deploys blocked
      balance = (await member("GET", "/api/v1/orgs/acme/billing/balance")).body;
      assert.equal(balance.wallet.state, "blocked");
      r = await deploy("app-7", 0.05);
      assert.equal(r.status, 409, JSON.stringify(r.body));
      assert.equal(r.body.error.code, "deploys_blocked");

      // A top-up that covers the debt ends it at once: the same deploy is admitted (500 of 500).
      const debt = -balance.balance;
      r = await admin("POST", "/api/v1/billing/orgs/acme/entries", {
        kind: "top_up",
        amount: debt + 1000,
        note: "paid by bank transfer",
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      r = await deploy("app-7", 0.05);
      assert.equal(r.status, 202, JSON.stringify(r.body));
      balance = (await member("GET", "/api/v1/orgs/acme/billing/balance")).body;
      assert.equal(balance.wallet.state, "ok");

      assert.deepEqual(notices().slice(2), [
        "Wallet below zero: grace period started",
        "Wallet below zero: grace period half over",
        "Wallet below zero: new deploys blocked",
        "Wallet recovered",
        "Quota full: CPU reserved by running services",
      ]);
      assert.ok(rx.got.every((g) => g.verified && g.json.org === "acme"));

      // Every charge is one ledger entry per billed hour, and the balance is their sum.
      const all = await ledger();
      const sum = all.reduce((a, e) => a + e.amount, 0);
      balance = (await member("GET", "/api/v1/orgs/acme/billing/balance")).body;
      assert.equal(balance.balance, sum);
      const audit = await member("GET", "/api/v1/orgs/acme/audit?limit=200");
      assert.equal(audit.status, 200, JSON.stringify(audit.body));
      const actions = new Set(audit.body.items.map((e: { action: string }) => e.action));
      for (
        const a of [
          "quota.override_set",
          "app.created",
          "billing.top_up",
          "billing.grace_started",
          "billing.grace_halfway",
          "billing.deploys_blocked",
          "billing.grace_ended",
        ]
      ) assert.ok(actions.has(a), `audited: ${a}`);
    } finally {
      await rx.close();
      await s.apps.idle();
      await cleanupApps(docker, [org.id], SUITE);
      docker.close();
      await agent.stop();
    }
  },
);
