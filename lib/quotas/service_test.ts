import assert from "node:assert/strict";
import { dbTest } from "../../tests/support/db.ts";
import { manualClock } from "../../tests/support/clock.ts";
import { SYSTEM_CTX, testServices } from "../../tests/support/services.ts";
import { insertOrg } from "../../tests/support/org_row.ts";
import { AppSpec } from "../apps/spec.ts";
import { Conflict, Invalid, QuotaExceeded } from "../errors.ts";
import { decide } from "./service.ts";

const spec = (cpus: number, replicas = 1, memory_bytes?: number) =>
  AppSpec.parse({
    services: [{
      name: "web",
      image: "capstan-test/busybox:latest",
      replicas,
      resources: cpus || memory_bytes
        ? { reservations: { ...(cpus ? { cpus } : {}), ...(memory_bytes ? { memory_bytes } : {}) } }
        : {},
    }],
  });

Deno.test("decide() refuses only what adds past a limit, naming the numbers", () => {
  decide({ cpu_millis: 1000 }, { cpu_millis: 700 }, { cpu_millis: 300 });
  decide({ cpu_millis: 1000 }, { cpu_millis: 1700 }, { cpu_millis: -300 }); // frees: passes
  decide({}, { cpu_millis: 10 ** 9 }, { cpu_millis: 10 ** 9 }); // unset: unlimited
  assert.throws(
    () => decide({ cpu_millis: 1000, apps: 5 }, { cpu_millis: 700 }, { cpu_millis: 301 }),
    (e: unknown) =>
      e instanceof QuotaExceeded && e.code === "quota_exceeded" &&
      JSON.stringify(e.quota) ===
        JSON.stringify({
          resource: "cpu_millis",
          unit: "millicores",
          limit: 1000,
          used: 700,
          requested: 301,
        }) &&
      /limited to 1 CPU.*uses 0\.70 CPU.*add 0\.30 CPU/.test(e.message),
  );
});

dbTest("quotas: an override applies until it expires, then the default does", async (h) => {
  const clock = manualClock();
  const s = testServices(h, clock);
  const org = await insertOrg(h.db, "acme");
  await s.quotas.setDefaults(SYSTEM_CTX, { cpu_millis: 2000, apps: 10 });
  await s.quotas.setOverride(SYSTEM_CTX, org, "cpu_millis", {
    value: 8000,
    reason: "launch week",
    expires_at: clock.now() + 3_600_000,
  });
  assert.deepEqual(await s.quotas.limits(org), { cpu_millis: 8000, apps: 10 });
  let line = (await s.quotas.view(org)).find((l) => l.resource === "cpu_millis")!;
  assert.equal(line.source, "override");
  clock.advance(3_600_000);
  assert.deepEqual(await s.quotas.limits(org), { cpu_millis: 2000, apps: 10 });
  line = (await s.quotas.view(org)).find((l) => l.resource === "cpu_millis")!;
  assert.equal(line.source, "default");
  assert.equal(line.override?.expired, true);
  // null makes a resource unlimited for the org; clearing the default makes it unlimited for all.
  await s.quotas.setOverride(SYSTEM_CTX, org, "apps", { value: null, reason: "partner" });
  await s.quotas.setDefaults(SYSTEM_CTX, { cpu_millis: null });
  assert.deepEqual(await s.quotas.limits(org), {});
  await assert.rejects(
    () =>
      s.quotas.setOverride(SYSTEM_CTX, org, "apps", {
        value: 1,
        reason: "x",
        expires_at: clock.now() - 1,
      }),
    (e: unknown) => e instanceof Invalid && e.fields?.expires_at === "must be in the future",
  );
  await assert.rejects(
    () => s.quotas.setOverride(SYSTEM_CTX, org, "apps", { value: 1.5, reason: "" }),
    (e: unknown) => e instanceof Invalid && "value" in e.fields! && "reason" in e.fields!,
  );
  await assert.rejects(
    () => s.quotas.setOverride(SYSTEM_CTX, org, "disks", { value: 1, reason: "x" }),
    (e: unknown) => e instanceof Invalid && "resource" in e.fields!,
  );
  const audit = await h.db.selectFrom("audit_log").select("action").where(
    "action",
    "like",
    "quota.%",
  )
    .execute();
  assert.equal(audit.filter((a) => a.action === "quota.override_set").length, 2);
  assert.equal(audit.filter((a) => a.action === "quota.defaults_set").length, 2);
});

dbTest("quotas: concurrent creates racing for the last CPU admit at most the limit", async (h) => {
  const s = testServices(h, manualClock());
  const store = s.apps.store;
  // Several rounds, each a fresh org: one round's interleaving is up to the scheduler.
  for (let round = 0; round < 5; round++) {
    const org = await insertOrg(h.db, `acme${round}`);
    await s.quotas.setOverride(SYSTEM_CTX, org, "cpu_millis", { value: 1000, reason: "test" });
    // 8 requests of 300 millicores each, all at once: 3 fit in 1000, the 4th would make 1200.
    // The limits are read first, so the 8 transactions start together and overlap.
    const gates = await Promise.all(
      Array.from({ length: 8 }, () => s.quotaAdmission.prepare(org)),
    );
    const results = await Promise.allSettled(
      gates.map((g, i) => store.create(org, { name: `app${i}`, spec: spec(0.3) }, null, g)),
    );
    const ok = results.filter((r) => r.status === "fulfilled").length;
    const refused = results.filter((r) =>
      r.status === "rejected" && r.reason instanceof QuotaExceeded
    );
    assert.equal(ok, 3, `round ${round}`);
    assert.equal(refused.length, 5);
    assert.equal((await store.use(org)).cpu_millis, 900);
  }
});

dbTest(
  "quotas: concurrent scale-ups racing for the last replicas admit at most the limit",
  async (h) => {
    const s = testServices(h, manualClock());
    const org = await insertOrg(h.db, "acme");
    const store = s.apps.store;
    const apps = [];
    for (let i = 0; i < 6; i++) {
      apps.push(await store.create(org, { name: `app${i}`, spec: spec(0.25, 1, 2 ** 28) }, null));
    }
    // 6 apps × 256 MiB use 1.5 GiB; the limit of 2 GiB leaves room for two more replicas.
    await s.quotas.setOverride(SYSTEM_CTX, org, "memory_bytes", { value: 2 ** 31, reason: "t" });
    const gates = await Promise.all(apps.map(() => s.quotaAdmission.prepare(org)));
    const results = await Promise.allSettled(
      apps.map((a, i) => store.update(a, { spec: spec(0.25, 2, 2 ** 28) }, gates[i])),
    );
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 2);
    for (const r of results) {
      if (r.status === "rejected") {
        assert.ok(r.reason instanceof QuotaExceeded, String(r.reason));
        assert.equal(r.reason.quota.resource, "memory_bytes");
        assert.equal(r.reason.quota.limit, 2 ** 31);
        assert.equal(r.reason.quota.requested, 2 ** 28);
      }
    }
    assert.equal((await store.use(org)).memory_bytes, 2 ** 31);
    // Scaling down frees: always admitted, and a stopped app holds nothing. Which two apps won
    // the race varies (app0 may hold one replica or two), so what it frees is read from it.
    const first = await store.get(org, "app0");
    const held = first.spec.services[0].replicas! * 2 ** 28;
    await store.update(first, { desired_state: "stopped" }, await s.quotaAdmission.prepare(org));
    assert.equal((await store.use(org)).memory_bytes, 2 ** 31 - held);
  },
);

dbTest("quotas: apps and replicas per service; a blocker stops deploys", async (h) => {
  const s = testServices(h, manualClock());
  const org = await insertOrg(h.db, "acme");
  const store = s.apps.store;
  await s.quotas.setDefaults(SYSTEM_CTX, { apps: 1, replicas_per_service: 3 });
  const a = await store.create(
    org,
    { name: "a", spec: spec(0) },
    null,
    await s.quotaAdmission.prepare(org),
  );
  await assert.rejects(
    async () =>
      store.create(org, { name: "b", spec: spec(0) }, null, await s.quotaAdmission.prepare(org)),
    (e: unknown) => e instanceof QuotaExceeded && e.quota.resource === "apps" && e.quota.used === 1,
  );
  await store.update(a, { spec: spec(0, 3) }, await s.quotaAdmission.prepare(org));
  await assert.rejects(
    async () => store.update(a, { spec: spec(0, 4) }, await s.quotaAdmission.prepare(org)),
    (e: unknown) =>
      e instanceof QuotaExceeded && e.quota.resource === "replicas_per_service" &&
      e.quota.used === 3 && e.quota.requested === 1,
  );
  let reason: string | undefined = "the wallet's grace period ended";
  s.quotaAdmission.addBlocker(() => Promise.resolve(reason));
  await assert.rejects(
    async () =>
      store.update(a, { desired_state: "running" }, await s.quotaAdmission.prepare(org), true),
    (e: unknown) => e instanceof Conflict && e.code === "deploys_blocked",
  );
  // Scaling down is never blocked.
  await store.update(a, { spec: spec(0, 1) }, await s.quotaAdmission.prepare(org));
  reason = undefined;
  await store.update(a, { desired_state: "running" }, await s.quotaAdmission.prepare(org), true);
  assert.deepEqual(
    (await s.quotas.view(org)).filter((l) => l.used !== null).map((l) => [l.resource, l.used]),
    [
      ["cpu_millis", 0],
      ["memory_bytes", 0],
      // Measured by billing's storage and egress facts (lib/billing/facts.ts): none here.
      ["storage_bytes", 0],
      ["apps", 1],
      ["replicas_per_service", 1],
      ["build_minutes_month", 0],
      ["egress_gb_month", 0],
    ],
  );
});

dbTest("quotas: build minutes this month refuse the next build once used up", async (h) => {
  const clock = manualClock(Date.UTC(2026, 4, 20, 12));
  const s = testServices(h, clock);
  const org = await insertOrg(h.db, "acme");
  const app = await s.apps.store.create(org, { name: "a", spec: spec(0) }, null);
  const builds = s.builds.store;
  const nb = {
    org_id: org,
    app_id: app.id,
    service: "web",
    trigger: "manual" as const,
    actor_id: null,
    actor_name: "t",
    delivery_id: null,
    repo_url: "https://git.example.test/x.git",
    branch: "main",
    commit_sha: null,
    commit_author: null,
    commit_message: null,
    host_id: "h1",
    deploy: 0,
  };
  await s.quotas.setDefaults(SYSTEM_CTX, { build_minutes_month: 10 });
  const first = await builds.enqueue(nb, await s.quotaAdmission.prepare(org));
  // It ran 9 min 30 s (10 minutes, rounded up); last month's build does not count.
  await h.db.updateTable("builds").set({
    started_at: clock.now() - 570_000,
    finished_at: clock.now(),
    state: "succeeded",
  }).where("id", "=", first.id).execute();
  const old = await builds.enqueue(nb);
  await h.db.updateTable("builds").set({
    started_at: Date.UTC(2026, 3, 30),
    finished_at: Date.UTC(2026, 3, 30) + 3_600_000,
  }).where("id", "=", old.id).execute();
  assert.equal(await builds.minutesThisMonth(org), 10);
  await assert.rejects(
    async () => builds.enqueue(nb, await s.quotaAdmission.prepare(org)),
    (e: unknown) =>
      e instanceof QuotaExceeded && e.quota.resource === "build_minutes_month" &&
      e.quota.used === 10 && e.quota.limit === 10,
  );
  // A new month starts from nothing.
  clock.set(Date.UTC(2026, 5, 1));
  await builds.enqueue(nb, await s.quotaAdmission.prepare(org));
});

dbTest(
  "quotas: two sources of one resource count the larger (specs vs what Swarm runs)",
  async (h) => {
    const s = testServices(h, manualClock());
    const org = await insertOrg(h.db, "acme");
    // As the apps module (saved specs) and billing (what Swarm ran at its last observation) do.
    s.quotaAdmission.addUsage(() => Promise.resolve({ cpu_millis: 500, memory_bytes: 1 << 30 }));
    s.quotaAdmission.addUsage(() => Promise.resolve({ cpu_millis: 750, memory_bytes: 1 << 20 }));
    const used = await s.quotas.used(org);
    assert.equal(used.cpu_millis, 750, "a drain scales a service up beyond its saved spec");
    assert.equal(
      used.memory_bytes,
      1 << 30,
      "a deployment not in Swarm yet reserves nothing there",
    );
  },
);
