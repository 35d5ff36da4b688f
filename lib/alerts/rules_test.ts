import assert from "node:assert/strict";
import { dbTest } from "../../tests/support/db.ts";
import { SYSTEM_CTX, testServices } from "../../tests/support/services.ts";
import { DEFAULT_RULES } from "./schema.ts";
import type { RuleView } from "./rules.ts";
import type { DbHandle } from "../db/mod.ts";

const names = (rules: { name: string }[]) => rules.map((r) => r.name).sort();

/**
 * Leaves an organization as the first release seeded it: its six rules and the marker it wrote
 * ("1"). Returns the names of the defaults added since.
 */
async function asSeededByFirstRelease(
  h: DbHandle,
  s: ReturnType<typeof testServices>,
  orgId: string,
): Promise<string[]> {
  await s.alerts.rules.list(orgId);
  const later = DEFAULT_RULES.slice(6).map((r) => r.name!);
  await h.db.deleteFrom("alert_rules").where("org_id", "=", orgId).where("name", "in", later)
    .execute();
  await h.db.updateTable("kv").set({ value: "1" }).where("key", "=", `alerts.defaults:${orgId}`)
    .execute();
  return later;
}

dbTest("alert rules: defaults are given once; deleted ones stay deleted", async (h) => {
  const s = testServices(h);
  const org = await s.orgs.create(SYSTEM_CTX, { name: "Acme", slug: "acme" });
  const first = await s.alerts.rules.list(org.id);
  assert.deepEqual(names(first), names(DEFAULT_RULES as { name: string }[]));
  await s.alerts.rules.remove(SYSTEM_CTX, org.id, first[0].id);
  // Another replica (fresh in-memory state) must not bring it back.
  const again = await testServices(h).alerts.rules.list(org.id);
  assert.equal(again.length, DEFAULT_RULES.length - 1);
});

dbTest(
  "alert rules: a default added by a later release reaches an existing organization once",
  async (h) => {
    const s = testServices(h);
    const org = await s.orgs.create(SYSTEM_CTX, { name: "Acme", slug: "acme" });
    const later = await asSeededByFirstRelease(h, s, org.id);
    assert.ok(later.length > 0, "this test needs a default added after the first release");
    const [a, b] = await Promise.all([
      testServices(h).alerts.rules.list(org.id),
      testServices(h).alerts.rules.list(org.id),
    ]);
    const after = await testServices(h).alerts.rules.list(org.id);
    assert.equal(after.length, DEFAULT_RULES.length, "each later default exactly once");
    for (const n of later) assert.ok(names(after).includes(n), n);
    assert.ok(a.length >= 6 && b.length >= 6);
  },
);

/** The resource-exhaustion defaults (issue 14): per host, held long enough not to flap. */
const EXHAUSTION = [
  { metric: "cpu.total_pct", trigger: 90, clear: 80, hold_s: 300 },
  { metric: "mem.used_pct", trigger: 95, clear: 90, hold_s: 300 },
  { metric: "fs.used_pct", trigger: 90, clear: 85, hold_s: 60 },
];

dbTest(
  "alert rules: CPU > 90 %, memory > 95 % and disk > 90 % per host are defaults of a new organization and of one seeded by the first release",
  async (h) => {
    const s = testServices(h);
    const exhaustion = (rules: RuleView[]) =>
      EXHAUSTION.map((want) => {
        const got = rules.filter((r) => r.kind === "metric" && r.metric === want.metric);
        assert.equal(got.length, 1, `one ${want.metric} default`);
        const r = got[0];
        // Every host of the organization (scope org), the host's own series (not per container).
        assert.deepEqual(
          { scope: r.scope, container: r.container, enabled: r.enabled, op: r.op },
          { scope: "org", container: false, enabled: true, op: ">" },
        );
        return { metric: r.metric, trigger: r.trigger, clear: r.clear, hold_s: r.hold_s };
      });
    const fresh = await s.orgs.create(SYSTEM_CTX, { name: "New", slug: "new" });
    assert.deepEqual(exhaustion(await s.alerts.rules.list(fresh.id)), EXHAUSTION);

    const old = await s.orgs.create(SYSTEM_CTX, { name: "Old", slug: "old" });
    await asSeededByFirstRelease(h, s, old.id);
    const after = await testServices(h).alerts.rules.list(old.id);
    assert.deepEqual(exhaustion(after), EXHAUSTION);
    assert.equal(after.length, DEFAULT_RULES.length);
  },
);
