/**
 * A second hub's billing run in a thread of its own (lib/billing/cycles_test.ts): its own
 * connection to the same database, so two runs truly overlap — on SQLite a transaction waiting for
 * the write lock blocks its thread, which must not be the thread holding the lock.
 */
import { openDatabase } from "../../lib/db/mod.ts";
import { createCycles } from "../../lib/billing/cycles.ts";
import { createPlans } from "../../lib/billing/plans.ts";

self.onmessage = async (e: MessageEvent<{ url: string; now: number; runs: number }>) => {
  const h = openDatabase(e.data.url);
  try {
    const clock = { now: () => e.data.now };
    const plans = createPlans(h.db, clock);
    const cycles = createCycles({ db: h.db, clock, plan: (o) => plans.forOrg(o) });
    const reports = await Promise.all(Array.from({ length: e.data.runs }, () => cycles.run()));
    self.postMessage({ reports });
  } catch (err) {
    self.postMessage({ error: String(err) });
  } finally {
    await h.close();
    self.close();
  }
};
