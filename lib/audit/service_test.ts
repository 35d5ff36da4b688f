import assert from "node:assert/strict";
import { dbTest } from "../../tests/support/db.ts";
import { manualClock } from "../../tests/support/clock.ts";
import { createAuditLog, redact } from "./service.ts";

const ctx = { actor: { type: "user" as const, id: "u1", name: "ann@x.io" }, ip: "10.0.0.1" };

Deno.test("redact() hides values under secret-looking keys, nested too", () => {
  assert.deepEqual(redact({ role: "admin", password: "x", nested: { api_token: "y", ok: 1 } }), {
    role: "admin",
    password: "[redacted]",
    nested: { api_token: "[redacted]", ok: 1 },
  });
});

dbTest("audit.run() records outcome, duration and rethrows errors", async (h) => {
  const audit = createAuditLog(h.db, manualClock());
  assert.equal(
    await audit.run(
      ctx,
      "thing.done",
      { orgId: "o1", target: { type: "thing", id: "t1" } },
      () => Promise.resolve(7),
    ),
    7,
  );
  await assert.rejects(
    audit.run(ctx, "thing.failed", { orgId: "o1" }, () => Promise.reject(new Error("boom"))),
    /boom/,
  );
  const { rows } = await audit.list({ orgId: "o1", limit: 10 });
  assert.equal(rows.length, 2);
  assert.equal(rows[0].action, "thing.failed");
  assert.equal(rows[0].status, "error");
  assert.equal(rows[0].error, "boom");
  assert.equal(rows[1].status, "ok");
  assert.equal(rows[1].actor_name, "ann@x.io");
  assert.equal(rows[1].ip, "10.0.0.1");
  assert.ok(rows[1].duration_ms >= 0);
});

dbTest(
  "audit.list() filters by actor, action, target, status and time, and pages by cursor",
  async (h) => {
    const clock = manualClock();
    const audit = createAuditLog(h.db, clock);
    for (let i = 0; i < 25; i++) {
      clock.advance(1000);
      await audit.record({
        ctx: i % 2 ? ctx : { actor: { type: "system", name: "capstan" } },
        orgId: "o1",
        action: i % 3 ? "member.added" : "token.created",
        target: { type: "user", id: `u${i}`, name: `user${i}@x.io` },
        status: i % 5 ? "ok" : "error",
        durationMs: 1,
      });
    }
    assert.equal((await audit.list({ orgId: "o1", actor: "ANN@", limit: 100 })).rows.length, 12);
    assert.equal((await audit.list({ orgId: "o1", action: "token", limit: 100 })).rows.length, 9);
    assert.equal((await audit.list({ orgId: "o1", target: "user7@", limit: 100 })).rows.length, 1);
    assert.equal((await audit.list({ orgId: "o1", status: "error", limit: 100 })).rows.length, 5);
    assert.equal(
      (await audit.list({ orgId: "o1", action: "%", limit: 100 })).rows.length,
      0,
      "LIKE wildcards are literal",
    );
    const start = Date.UTC(2026, 0, 1);
    assert.equal(
      (await audit.list({ orgId: "o1", from: start + 5000, to: start + 9000, limit: 100 })).rows
        .length,
      5,
    );
    const seen: string[] = [];
    let before: string | undefined;
    for (;;) {
      const page = await audit.list({ orgId: "o1", limit: 10, before });
      seen.push(...page.rows.map((r) => r.id));
      if (!page.nextBefore) break;
      before = page.nextBefore;
    }
    assert.equal(seen.length, 25);
    assert.equal(new Set(seen).size, 25);
    assert.deepEqual(seen, [...seen].sort().reverse());
    assert.equal((await audit.list({ orgId: "other", limit: 10 })).rows.length, 0);
  },
);

dbTest("audit.purgeOlderThan() enforces retention", async (h) => {
  const clock = manualClock();
  const audit = createAuditLog(h.db, clock);
  await audit.record({ ctx, action: "old", status: "ok", durationMs: 0 });
  clock.advance(91 * 24 * 3600_000);
  await audit.record({ ctx, action: "new", status: "ok", durationMs: 0 });
  assert.equal(await audit.purgeOlderThan(clock.now() - 90 * 24 * 3600_000), 1);
  assert.deepEqual((await audit.list({ limit: 10 })).rows.map((r) => r.action), ["new"]);
});
