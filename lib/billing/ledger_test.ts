import assert from "node:assert/strict";
import { dbTest } from "../../tests/support/db.ts";
import { manualClock } from "../../tests/support/clock.ts";
import { Invalid } from "../errors.ts";
import { appendEntry, createLedger, type LedgerEntryInput } from "./ledger.ts";
import { mulberry32 } from "../../tests/support/random.ts";

dbTest("ledger: 10,000 random operations; the cached balance is the entries' sum", async (h) => {
  const clock = manualClock();
  const ledger = createLedger(h.db, clock);
  const rnd = mulberry32(21);
  const orgs = ["o1", "o2", "o3"];
  const expected = new Map(orgs.map((o) => [o, 0]));
  const kinds = ["top_up", "charge", "refund", "adjustment"] as const;
  let refused = 0, rolledBack = 0, written = 0;
  // Batches of 100 operations in one transaction each (10,000 round trips one by one would be
  // the slow part of the test, not what it checks); every tenth batch fails at its end and must
  // leave neither its entries nor its balance moves behind.
  for (let batch = 0; batch < 100; batch++) {
    const moves = new Map<string, number>();
    let inBatch = 0;
    const fail = batch % 10 === 9;
    try {
      await h.db.transaction().execute(async (tx) => {
        for (let i = 0; i < 100; i++) {
          const org = orgs[Math.floor(rnd() * orgs.length)];
          const kind = kinds[Math.floor(rnd() * kinds.length)];
          const size = 1 + Math.floor(rnd() * 1_000_000);
          // One in twenty has the wrong sign for its kind: refused, nothing written.
          const wrong = rnd() < 0.05;
          const amount = (kind === "charge" || (kind === "adjustment" && rnd() < 0.5)) !== wrong
            ? -size
            : size;
          const e: LedgerEntryInput = {
            org_id: org,
            kind,
            amount,
            currency: "EUR",
            actor: "user:test",
            reference: kind === "charge" ? `c-${batch}-${i}` : null,
          };
          clock.advance(1000);
          try {
            await appendEntry(tx, e, clock.now());
            moves.set(org, (moves.get(org) ?? 0) + amount);
            inBatch++;
          } catch (err) {
            assert.ok(err instanceof Invalid, String(err));
            refused++;
          }
        }
        if (fail) throw new Error("rolled back");
      });
    } catch (err) {
      assert.equal((err as Error).message, "rolled back");
      rolledBack++;
      continue;
    }
    for (const [o, m] of moves) expected.set(o, expected.get(o)! + m);
    written += inBatch;
  }
  assert.ok(refused > 0 && rolledBack === 10);
  for (const o of orgs) {
    assert.equal(await ledger.balance(o), expected.get(o), `derived balance of ${o}`);
    assert.equal(await ledger.cachedBalance(o), expected.get(o), `cached balance of ${o}`);
  }
  const n = await h.db.selectFrom("billing_ledger").select((eb) => eb.fn.countAll().as("n"))
    .executeTakeFirstOrThrow();
  assert.equal(Number(n.n), written, "entries of rolled-back batches are gone");
});

dbTest("ledger: signs must suit the kind; a reference is used once per kind", async (h) => {
  const ledger = createLedger(h.db, manualClock());
  const base = { org_id: "o", currency: "EUR", actor: "user:u" };
  await assert.rejects(() => ledger.append({ ...base, kind: "charge", amount: 5 }), /negative/);
  await assert.rejects(() => ledger.append({ ...base, kind: "top_up", amount: -5 }), /positive/);
  await assert.rejects(() => ledger.append({ ...base, kind: "adjustment", amount: 0 }), Invalid);
  await ledger.append({ ...base, kind: "top_up", amount: 500, reference: "pay-1", note: "wire" });
  await assert.rejects(() =>
    ledger.append({ ...base, kind: "top_up", amount: 500, reference: "pay-1" })
  );
  await ledger.append({ ...base, kind: "charge", amount: -120, reference: "cycle-1" });
  assert.equal(await ledger.balance("o"), 380);
  assert.equal(await ledger.cachedBalance("o"), 380);
  assert.deepEqual((await ledger.entries("o")).map((e) => [e.kind, e.amount]), [
    ["charge", -120],
    ["top_up", 500],
  ]);
});
