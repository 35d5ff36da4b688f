import assert from "node:assert/strict";
import { dbTest, openTestDb } from "../../tests/support/db.ts";
import { openDatabase } from "../db/mod.ts";
import { claimSlot } from "./lease.ts";
import { runTick } from "./scheduler.ts";
import { manualClock } from "../../tests/support/clock.ts";

dbTest("claimSlot() lets exactly one holder run each slot, and only forward", async (h) => {
  assert.equal(await claimSlot(h.db, "j", 1000, "a", 1), true);
  assert.equal(await claimSlot(h.db, "j", 1000, "b", 2), false);
  assert.equal(await claimSlot(h.db, "j", 2000, "b", 3), true);
  assert.equal(await claimSlot(h.db, "j", 1000, "a", 4), false, "a past slot never runs again");
  assert.equal(await claimSlot(h.db, "other", 1000, "a", 5), true);
});

dbTest("runTick() from several replicas runs the job once per slot", async (h) => {
  const clock = manualClock(Date.UTC(2026, 0, 1, 12, 0, 5));
  let runs = 0;
  const job = {
    name: "count",
    schedule: "* * * * *",
    intervalMs: 60_000,
    run: () => Promise.resolve(++runs),
  };
  const results = await Promise.all(
    ["r1", "r2", "r3", "r4"].map((r) => runTick(h.db, clock, job, r)),
  );
  assert.equal(results.filter(Boolean).length, 1);
  assert.equal(runs, 1);
  clock.advance(60_000);
  await Promise.all(["r1", "r2"].map((r) => runTick(h.db, clock, job, r)));
  assert.equal(runs, 2);
});

Deno.test("[sqlite] claimSlot() across two connections to one file (two processes' view)", async () => {
  const dir = await Deno.makeTempDir();
  const url = `sqlite:${dir}/lease.db`;
  const first = await openTestDb("sqlite");
  await first.close();
  const a = openDatabase(url);
  const { migrateToLatest } = await import("../db/migrate.ts");
  await migrateToLatest(a.db);
  const b = openDatabase(url);
  try {
    const wins = await Promise.all(
      Array.from({ length: 20 }, (_, i) => claimSlot(i % 2 ? a.db : b.db, "j", 5000, `h${i}`, i)),
    );
    assert.equal(wins.filter(Boolean).length, 1);
  } finally {
    await a.close();
    await b.close();
    await Deno.remove(dir, { recursive: true });
  }
});
