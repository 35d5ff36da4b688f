import assert from "node:assert/strict";
import { dbTest } from "../../tests/support/db.ts";
import { SYSTEM_CTX, testServices } from "../../tests/support/services.ts";
import { DEFAULT_RULES } from "./schema.ts";

const names = (rules: { name: string }[]) => rules.map((r) => r.name).sort();

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
    // An organization seeded by the first release: its six rules and the marker it wrote ("1").
    await s.alerts.rules.list(org.id);
    const later = DEFAULT_RULES.slice(6).map((r) => r.name!);
    assert.ok(later.length > 0, "this test needs a default added after the first release");
    await h.db.deleteFrom("alert_rules").where("org_id", "=", org.id).where("name", "in", later)
      .execute();
    await h.db.updateTable("kv").set({ value: "1" }).where("key", "=", `alerts.defaults:${org.id}`)
      .execute();
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
