/**
 * The hourly billing run: for each org with usage, each closed hour not yet billed (from the hour
 * after its last cycle, or its first usage) becomes one `billing_cycles` row with its line items
 * and one ledger charge, in one transaction. The (org_id, hour) key makes it exactly-once: a second
 * runner (another replica, a restart, an overlapping run) that reaches the same hour fails on the
 * key, its transaction rolls back whole, and it moves on.
 */
import type { Db } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import { uuidv7 } from "../util/ids.ts";
import { isUniqueViolation } from "../db/unique.ts";
import {
  type BuildFact,
  type EgressFact,
  HOUR_MS,
  type HourFacts,
  lineItems,
  meterHour,
  type PricePlan,
  type Segment,
  type StorageSegment,
} from "./meter.ts";
import { segmentOf } from "./usage.ts";
import { appendEntry } from "./ledger.ts";

/** What the billing run needs. */
export interface CycleDeps {
  db: Db;
  clock: Clock;
  plan(orgId: string): Promise<PricePlan>;
  /**
   * An hour is billed once it ended this long ago (default 2 min): an observation that read Swarm
   * just before the hour ended may commit just after, and must land before its hour is billed.
   */
  settleMs?: number;
  /** At most this many org-hours are billed per run (default 5000); the next run goes on. */
  maxHoursPerRun?: number;
}

/** What one run did. */
export interface CycleReport {
  /** Org-hours this run billed. */
  billed: number;
  /** Org-hours another runner billed first (the unique key answered). */
  raced: number;
  /** Sum of the charges written, minor units. */
  charged: number;
  /** Whether the bound stopped the run with hours left. */
  more: boolean;
}

/** Creates the billing run. */
export function createCycles(deps: CycleDeps) {
  const { db, clock } = deps;
  const settleMs = deps.settleMs ?? 120_000;
  const maxHours = deps.maxHoursPerRun ?? 5000;

  /** Writes one org-hour; false when it was billed already. */
  async function bill(
    orgId: string,
    hour: number,
    segs: Segment[],
    facts: HourFacts,
    plan: PricePlan,
  ) {
    const items = lineItems(meterHour(segs, hour, facts), plan);
    const total = items.reduce((s, i) => s + i.amount, 0);
    const now = clock.now();
    const id = uuidv7(now);
    try {
      await db.transaction().execute(async (tx) => {
        await tx.insertInto("billing_cycles").values({
          id,
          org_id: orgId,
          hour,
          currency: plan.currency,
          total,
          created_at: now,
        }).execute();
        if (items.length) {
          await tx.insertInto("billing_line_items").values(items.map((i) => ({
            cycle_id: id,
            org_id: orgId,
            hour,
            app_id: i.app_id,
            resource: i.resource,
            quantity: i.quantity.toString(),
            unit_price: i.unit_price,
            amount: i.amount,
          }))).execute();
        }
        // A free hour is recorded (it is billed) but moves no money.
        if (total > 0) {
          await appendEntry(tx, {
            org_id: orgId,
            kind: "charge",
            amount: -total,
            currency: plan.currency,
            reference: id,
            actor: "system:billing",
            note: `usage ${new Date(hour).toISOString().slice(0, 13)}h`,
          }, now);
        }
      });
      return total;
    } catch (err) {
      if (isUniqueViolation(err)) return undefined;
      throw err;
    }
  }

  /**
   * The first instant of each org's facts: usage and storage segments' starts, the hours of
   * recorded egress and builds.
   */
  async function firsts(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const take = (rows: { org_id: string; first: unknown }[]) => {
      for (const r of rows) {
        if (r.first === null || r.first === undefined) continue;
        out.set(r.org_id, Math.min(out.get(r.org_id) ?? Infinity, Number(r.first)));
      }
    };
    take(
      await db.selectFrom("billing_usage").select("org_id")
        .select((eb) => eb.fn.min("started_at").as("first")).groupBy("org_id").execute(),
    );
    take(
      await db.selectFrom("billing_storage").select("org_id")
        .select((eb) => eb.fn.min("started_at").as("first")).groupBy("org_id").execute(),
    );
    take(
      await db.selectFrom("billing_egress").select("org_id")
        .select((eb) => eb.fn.min("hour").as("first")).groupBy("org_id").execute(),
    );
    take(
      await db.selectFrom("billing_builds").select("org_id")
        .select((eb) => eb.fn.min("hour").as("first")).groupBy("org_id").execute(),
    );
    return out;
  }

  /** The first instant at or after hour `h` that an org has a fact in, or undefined. */
  async function nextFact(orgId: string, h: number): Promise<number | undefined> {
    const at: number[] = [];
    for (const table of ["billing_usage", "billing_storage"] as const) {
      const r = await db.selectFrom(table)
        .select((eb) => eb.fn.min("started_at").as("at")).where("org_id", "=", orgId)
        .where((eb) => eb.or([eb("ended_at", "is", null), eb("ended_at", ">", h)]))
        .executeTakeFirst();
      if (r?.at !== null && r?.at !== undefined) at.push(Math.max(h, Number(r.at)));
    }
    for (const table of ["billing_egress", "billing_builds"] as const) {
      const r = await db.selectFrom(table)
        .select((eb) => eb.fn.min("hour").as("at")).where("org_id", "=", orgId)
        .where("hour", ">=", h).executeTakeFirst();
      if (r?.at !== null && r?.at !== undefined) at.push(Number(r.at));
    }
    return at.length ? Math.min(...at) : undefined;
  }

  /** An org's facts that reach into [h, until). */
  async function factsOf(orgId: string, h: number, until: number) {
    const segs = (await db.selectFrom("billing_usage").selectAll()
      .where("org_id", "=", orgId).where("started_at", "<", until)
      .where((eb) => eb.or([eb("ended_at", "is", null), eb("ended_at", ">", h)]))
      .orderBy("started_at").execute()).map(segmentOf);
    const storage: StorageSegment[] = (await db.selectFrom("billing_storage").selectAll()
      .where("org_id", "=", orgId).where("started_at", "<", until)
      .where((eb) => eb.or([eb("ended_at", "is", null), eb("ended_at", ">", h)]))
      .orderBy("started_at").execute()).map((r) => ({
        app_id: r.app_id,
        kind: r.kind,
        bytes: Number(r.bytes),
        started_at: Number(r.started_at),
        ended_at: r.ended_at === null ? null : Number(r.ended_at),
      }));
    const egress: EgressFact[] = (await db.selectFrom("billing_egress")
      .select(["app_id", "hour", "bytes"]).where("org_id", "=", orgId)
      .where("hour", ">=", h).where("hour", "<", until).execute())
      .map((r) => ({ app_id: r.app_id, hour: Number(r.hour), bytes: Number(r.bytes) }));
    const builds: BuildFact[] = (await db.selectFrom("billing_builds")
      .select(["app_id", "hour", "minutes"]).where("org_id", "=", orgId)
      .where("hour", ">=", h).where("hour", "<", until).execute())
      .map((r) => ({ app_id: r.app_id, hour: Number(r.hour), minutes: Number(r.minutes) }));
    return { segs, storage, egress, builds };
  }

  return {
    /** Bills every closed, unbilled org-hour with facts, up to the per-run bound. */
    async run(): Promise<CycleReport> {
      const report: CycleReport = { billed: 0, raced: 0, charged: 0, more: false };
      // Hours that start before `end` have ended and settled.
      const end = Math.floor((clock.now() - settleMs) / HOUR_MS) * HOUR_MS;
      const first = await firsts();
      const lasts = new Map(
        (await db.selectFrom("billing_cycles").select("org_id")
          .select((eb) => eb.fn.max("hour").as("last")).groupBy("org_id").execute())
          .map((r) => [r.org_id, Number(r.last)]),
      );
      let budget = maxHours;
      for (const orgId of [...first.keys()].sort()) {
        const last = lasts.get(orgId);
        let h = last === undefined
          ? Math.floor(first.get(orgId)! / HOUR_MS) * HOUR_MS
          : last + HOUR_MS;
        if (h >= end) continue;
        // Past a stretch with no fact (weeks stopped), go straight to the hour of the next one:
        // walking the empty hours would spend the per-run bound on nothing.
        const next = await nextFact(orgId, h);
        if (next === undefined) continue;
        h = Math.max(h, Math.floor(next / HOUR_MS) * HOUR_MS);
        if (h >= end) continue;
        if (budget <= 0) {
          report.more = true;
          break;
        }
        const until = Math.min(end, h + budget * HOUR_MS);
        const { segs, storage, egress, builds } = await factsOf(orgId, h, until);
        const plan = await deps.plan(orgId);
        while (h < until) {
          // Hours no fact reaches are not billed (an org that stopped everything and stores
          // nothing is left alone); jump to the next hour one does.
          const next = Math.min(
            [...segs, ...storage].filter((s) => s.ended_at === null || s.ended_at > h)
              .reduce((m, s) => Math.min(m, Math.max(h, s.started_at)), Infinity),
            [...egress, ...builds].filter((f) => f.hour >= h)
              .reduce((m, f) => Math.min(m, f.hour), Infinity),
          );
          if (next >= h + HOUR_MS) {
            if (next === Infinity) break;
            h = Math.floor(next / HOUR_MS) * HOUR_MS;
            continue;
          }
          const charged = await bill(orgId, h, segs, { storage, egress, builds }, plan);
          budget--;
          if (charged === undefined) report.raced++;
          else {
            report.billed++;
            report.charged += charged;
          }
          h += HOUR_MS;
        }
        if (h < end && budget <= 0) report.more = true;
      }
      return report;
    },
  };
}

export type Cycles = ReturnType<typeof createCycles>;
