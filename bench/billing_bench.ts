/**
 * Billing (issue 21): `billing_hour_ms_1000_apps` — one billing run over one closed hour for 100
 * orgs × 10 apps (1000 open usage segments, one service each; each app also stores a volume, sent
 * egress and ran a build in that hour): 100 cycles, 5000 line items (cpu, memory, storage, egress,
 * build) and 100 ledger charges, each org-hour in its own transaction, on a SQLite file as the hub
 * runs it.
 * Target < 2 s. Beside it, `billing_catchup_24h_ms_1000_apps`: the same orgs after 24 missed hours.
 */
import { openDatabase } from "../lib/db/mod.ts";
import { migrateToLatest } from "../lib/db/migrate.ts";
import { createUsage, type ServiceUsage } from "../lib/billing/usage.ts";
import { createPlans } from "../lib/billing/plans.ts";
import { createCycles, type CycleReport } from "../lib/billing/cycles.ts";
import { HOUR_MS } from "../lib/billing/meter.ts";
import type { RecordFigure } from "./results.ts";
import { recordAlone } from "./results.ts";

/** The run of one closed hour and of 24 missed ones; `orgs × apps` open segments. */
export async function billingRuns(opts: { orgs: number; apps: number }) {
  const dir = await Deno.makeTempDir({ prefix: "capstan-billing-bench-" });
  const h = openDatabase(`sqlite:${dir}/capstan.db`);
  try {
    await migrateToLatest(h.db);
    let now = Date.UTC(2026, 0, 1, 0, 0, 30);
    const clock = { now: () => now };
    const usage = createUsage(h.db, clock);
    const plans = createPlans(h.db, clock);
    await plans.set("default", {
      currency: "EUR",
      cpu_core_hour: 4,
      memory_gib_hour: 1,
      storage_gib_month: 10,
      egress_gib: 9,
      build_minute: 1,
    }, null);
    const facts: ServiceUsage[] = [];
    for (let o = 0; o < opts.orgs; o++) {
      for (let a = 0; a < opts.apps; a++) {
        facts.push({
          org_id: `org${o}`,
          app_id: `org${o}-app${a}`,
          service: "web",
          replicas: 1 + (a % 3),
          cpu_millis: 250 * (1 + (a % 4)),
          memory_bytes: (256 << 20) * (1 + (a % 2)),
        });
      }
    }
    await usage.observe(facts);
    // Storage, egress and builds of every app in the first hour (lib/billing/facts.ts's tables).
    const hour0 = Math.floor(now / HOUR_MS) * HOUR_MS;
    for (const f of facts) {
      await h.db.insertInto("billing_storage").values({
        id: `${f.app_id}-st`,
        org_id: f.org_id,
        app_id: f.app_id,
        kind: "volumes",
        bytes: 5 * 2 ** 30,
        started_at: now,
        ended_at: null,
      }).execute();
      await h.db.insertInto("billing_egress").values({
        org_id: f.org_id,
        app_id: f.app_id,
        hour: hour0,
        bytes: 3 * 2 ** 30,
      }).execute();
      await h.db.insertInto("billing_builds").values({
        build_id: `${f.app_id}-b`,
        org_id: f.org_id,
        app_id: f.app_id,
        started_at: now,
        finished_at: now + 90_000,
        minutes: 2,
        hour: hour0,
      }).execute();
    }
    const cycles = createCycles({ db: h.db, clock, plan: (o) => plans.forOrg(o) });
    const timed = async () => {
      const t = performance.now();
      const report: CycleReport = await cycles.run();
      return { ms: performance.now() - t, report };
    };
    // The first hour (00:00–01:00, from 00:00:30) has closed and settled.
    now += HOUR_MS + 5 * 60_000;
    const hour = await timed();
    // The hub was down for a day: 24 hours of every org to catch up.
    now += 24 * HOUR_MS;
    const catchUp = await timed();
    return { hour, catchUp };
  } finally {
    await h.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Measures the figures and hands them to `record`. */
export async function billingBench(record: RecordFigure) {
  const { hour, catchUp } = await billingRuns({ orgs: 100, apps: 10 });
  if (hour.report.billed !== 100 || catchUp.report.billed !== 2400) {
    throw new Error(
      `billing bench: unexpected runs ${JSON.stringify([hour.report, catchUp.report])}`,
    );
  }
  record("billing_hour_ms_1000_apps", hour.ms);
  record("billing_catchup_24h_ms_1000_apps", catchUp.ms);
}

if (import.meta.main) await recordAlone(billingBench);
