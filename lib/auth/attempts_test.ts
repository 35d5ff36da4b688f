import assert from "node:assert/strict";
import { dbTest } from "../../tests/support/db.ts";
import { manualClock } from "../../tests/support/clock.ts";
import { createAttemptCounters } from "./attempts.ts";

const lock = { max: 3, windowMs: 60_000, lock: true as const };
const slow = { max: 2, windowMs: 60_000, slowMs: 10_000 };

dbTest("attempt counters: a lock rule refuses after max until the window ends", async (h) => {
  const clock = manualClock();
  const a = createAttemptCounters(h.db, clock);
  const k = [{ name: "pair:x", rule: lock }];
  for (let i = 0; i < 3; i++) assert.equal((await a.reserve(k)).ok, true);
  const refused = await a.reserve(k);
  assert.ok(!refused.ok && refused.retryAfterMs === 60_000 && refused.refusedBy === "pair:x");
  clock.advance(60_000);
  assert.equal((await a.reserve(k)).ok, true, "a new window");
});

dbTest("attempt counters: a slow rule takes one attempt per step after max", async (h) => {
  const clock = manualClock();
  const a = createAttemptCounters(h.db, clock);
  const k = [{ name: "account:x", rule: slow }];
  assert.equal((await a.reserve(k)).ok, true);
  assert.equal((await a.reserve(k)).ok, true);
  const r = await a.reserve(k);
  assert.ok(!r.ok && r.retryAfterMs === 10_000);
  clock.advance(10_000);
  assert.equal((await a.reserve(k)).ok, true);
  assert.equal((await a.reserve(k)).ok, false);
});

dbTest("attempt counters: a refusal gives back what it took; release and purge", async (h) => {
  const clock = manualClock();
  const a = createAttemptCounters(h.db, clock);
  const full = { name: "ip:y", rule: { ...lock, max: 1 } };
  assert.equal((await a.reserve([full])).ok, true);
  const first = { name: "pair:y", rule: lock };
  for (let i = 0; i < 5; i++) assert.equal((await a.reserve([first, full])).ok, false);
  // Five refusals later pair:y still has all three of its attempts.
  const ok = await a.reserve([first]);
  assert.equal(ok.ok, true);
  if (ok.ok) await a.release(ok);
  for (let i = 0; i < 3; i++) assert.equal((await a.reserve([first])).ok, true);
  await a.remember("known:y", 120_000);
  assert.equal(await a.remembers("known:y"), true);
  clock.advance(60_000);
  assert.equal(await a.purgeExpired(), 2, "the two counters, not the remembered address");
  assert.equal(await a.remembers("known:y"), true);
  const names = await h.db.selectFrom("auth_attempts").select("key").execute();
  assert.ok(names.every((n) => /^[0-9a-f]{64}$/.test(n.key)), "names are stored hashed");
});
