/**
 * What the API and pages ask of billing: the balance, the ledger, the billed cycles and their line
 * items (and a CSV of them), the projected cost of what runs now, price plans, and the money moves
 * platform admins make (top-up, refund, adjustment). Every change is audited; money moves only by
 * ledger entries (`appendEntry`), and a move that brings the balance back to zero or more ends the
 * wallet's grace at once.
 */
import { z } from "zod";
import type { Db } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import type { ActionContext, AuditLog } from "../audit/service.ts";
import { Invalid } from "../errors.ts";
import {
  type AppUsage,
  BILLED_RESOURCES,
  type BilledResource,
  HOUR_MS,
  lineItems,
  meterHour,
  type PricePlan,
} from "./meter.ts";
import type { Ledger, LedgerEntry } from "./ledger.ts";
import type { Plans } from "./plans.ts";
import { DEFAULT_SCOPE } from "./plans.ts";
import type { Wallet } from "./wallet.ts";
import { segmentOf } from "./usage.ts";

/** Hours in the projected month: an average month (8760 / 12). */
export const MONTH_HOURS = 730;
/** Rows a CSV export carries at most (the rest is cut, and the last line says so). */
export const CSV_MAX_ROWS = 100_000;

/** A money move by a platform admin. */
export const MoneyMove = z.object({
  kind: z.enum(["top_up", "refund", "adjustment"]),
  amount: z.number().int().min(-1_000_000_000_000).max(1_000_000_000_000),
  note: z.string().trim().min(1, "a note is required").max(1000),
}).strict();
export type MoneyMove = z.input<typeof MoneyMove>;

/** A proposed app's services, as the cost estimate takes them (before a create, deploy or scale). */
export const EstimateInput = z.object({
  services: z.array(
    z.object({
      replicas: z.number().int().min(0).max(100).default(1),
      /** A global service is counted as one task (one per node; the node count is not known here). */
      global: z.boolean().default(false),
      /** Reserved cores per task, as the app spec says them (0.25 = 250 millicores). */
      cpus: z.number().min(0).max(1024).default(0),
      memory_bytes: z.number().int().min(0).max(2 ** 50).default(0),
    }).strict(),
  ).min(1).max(64),
}).strict();
export type EstimateInput = z.input<typeof EstimateInput>;

/** A billed line item as listed and exported. */
export interface LineItemRow {
  hour: number;
  app_id: string;
  resource: string;
  quantity: string;
  unit_price: number;
  amount: number;
}

/** A billed org-hour with its items. */
export interface CycleRow {
  id: string;
  hour: number;
  currency: string;
  total: number;
  items: LineItemRow[];
}

/** The cost of what runs now, per hour, day and month, in minor units. */
export interface Projection {
  currency: string;
  per_hour: number;
  per_day: number;
  per_month: number;
  /** Per app, per hour. */
  apps: { app_id: string; per_hour: number }[];
}

export interface BillingDeps {
  db: Db;
  clock: Clock;
  ledger: Ledger;
  plans: Plans;
  wallet: Wallet;
  audit: Pick<AuditLog, "run">;
}

const fieldsOf = (e: z.ZodError) =>
  Object.fromEntries(e.issues.map((i) => [i.path.join(".") || "input", i.message]));

const scaled = (u: AppUsage[], n: bigint): AppUsage[] =>
  u.map((a) => ({
    app_id: a.app_id,
    cpu_millicore_s: a.cpu_millicore_s * n,
    memory_byte_s: a.memory_byte_s * n,
  }));

const sum = (items: { amount: number }[]) => items.reduce((s, i) => s + i.amount, 0);

/** One CSV field: quoted when it holds a separator, quote or line break; formula starts defused. */
export function csvField(v: string | number): string {
  let s = String(v);
  // A spreadsheet runs a cell starting with = + - @ as a formula; numbers stay numbers.
  if (typeof v === "string" && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Creates the billing service. */
export function createBilling(deps: BillingDeps) {
  const { db, clock, ledger, plans, wallet, audit } = deps;

  const itemRow = (r: {
    hour: number;
    app_id: string;
    resource: string;
    quantity: string;
    unit_price: number;
    amount: number;
  }): LineItemRow => ({
    hour: Number(r.hour),
    app_id: r.app_id,
    resource: r.resource,
    quantity: String(r.quantity),
    unit_price: Number(r.unit_price),
    amount: Number(r.amount),
  });

  return {
    /** The hub's time (the billing clock; tests move it). */
    now: () => clock.now(),

    /** The balance (the ledger's sum), the currency and the wallet's standing. */
    async summary(orgId: string) {
      const [balance, plan, standing] = await Promise.all([
        ledger.balance(orgId),
        plans.forOrg(orgId),
        wallet.standing(orgId),
      ]);
      return { balance, currency: plan.currency, wallet: standing };
    },

    /**
     * What the org was charged for the hours in [from, to) (the sum of its cycles' totals, minor
     * units of its plan's currency): the admins' consumption overview's "this month".
     */
    async charged(orgId: string, from: number, to: number): Promise<number> {
      const r = await db.selectFrom("billing_cycles")
        .select((eb) => eb.fn.sum<string | number | null>("total").as("s"))
        .where("org_id", "=", orgId).where("hour", ">=", from).where("hour", "<", to)
        .executeTakeFirst();
      return Number(r?.s ?? 0);
    },

    /** Ledger entries, newest first. */
    entries(orgId: string, page: { limit: number; offset: number }): Promise<LedgerEntry[]> {
      return ledger.entries(orgId, page);
    },

    /** Billed hours in [from, to), newest first, with their line items. */
    async cycles(
      orgId: string,
      f: { from: number; to: number; limit: number; offset: number },
    ): Promise<CycleRow[]> {
      const cycles = await db.selectFrom("billing_cycles").selectAll().where("org_id", "=", orgId)
        .where("hour", ">=", f.from).where("hour", "<", f.to).orderBy("hour", "desc")
        .limit(Math.min(f.limit, 500)).offset(f.offset).execute();
      if (!cycles.length) return [];
      const items = await db.selectFrom("billing_line_items").selectAll()
        .where("org_id", "=", orgId).where("cycle_id", "in", cycles.map((c) => c.id))
        .orderBy("app_id").orderBy("resource").execute();
      return cycles.map((c) => ({
        id: c.id,
        hour: Number(c.hour),
        currency: c.currency,
        total: Number(c.total),
        items: items.filter((i) => i.cycle_id === c.id).map(itemRow),
      }));
    },

    /**
     * The CSV of the line items billed in [from, to), oldest first, read a page at a time and
     * streamed; at most CSV_MAX_ROWS rows (a last comment line says the export was cut).
     */
    csv(orgId: string, currency: string, from: number, to: number): ReadableStream<Uint8Array> {
      const enc = new TextEncoder();
      let after: { hour: number; app_id: string; resource: string } | undefined;
      let rows = 0;
      let started = false;
      return new ReadableStream({
        async pull(ctl) {
          if (!started) {
            started = true;
            ctl.enqueue(enc.encode(
              "hour_utc,app_id,resource,quantity,unit,unit_price,amount,currency\r\n",
            ));
            return;
          }
          let q = db.selectFrom("billing_line_items").selectAll().where("org_id", "=", orgId)
            .where("hour", ">=", from).where("hour", "<", to);
          if (after) {
            const a = after;
            q = q.where((eb) =>
              eb.or([
                eb("hour", ">", a.hour),
                eb.and([eb("hour", "=", a.hour), eb("app_id", ">", a.app_id)]),
                eb.and([
                  eb("hour", "=", a.hour),
                  eb("app_id", "=", a.app_id),
                  eb("resource", ">", a.resource),
                ]),
              ])
            );
          }
          const page = (await q.orderBy("hour").orderBy("app_id").orderBy("resource")
            .limit(Math.min(1000, CSV_MAX_ROWS - rows + 1)).execute()).map(itemRow);
          if (rows + page.length > CSV_MAX_ROWS) {
            page.length = CSV_MAX_ROWS - rows;
            ctl.enqueue(enc.encode(lines(page)));
            ctl.enqueue(enc.encode(`# cut at ${CSV_MAX_ROWS} rows: export a shorter period\r\n`));
            ctl.close();
            return;
          }
          if (page.length) ctl.enqueue(enc.encode(lines(page)));
          rows += page.length;
          if (page.length < 1000) ctl.close();
          else after = page[page.length - 1];
        },
      });
      function lines(items: LineItemRow[]) {
        return items.map((i) =>
          [
            new Date(i.hour).toISOString(),
            i.app_id,
            i.resource,
            i.quantity,
            BILLED_RESOURCES[i.resource as BilledResource]?.quantity ?? "",
            i.unit_price,
            i.amount,
            currency,
          ].map(csvField).join(",") + "\r\n"
        ).join("");
      }
    },

    /**
     * What what runs now costs under the org's plan: the open usage segments metered over a whole
     * hour, priced by the meter; a day is 24 such hours and a month 730, each priced in one
     * rounding step (not the hour's rounded amount times n).
     */
    async projection(orgId: string): Promise<Projection> {
      const plan = await plans.forOrg(orgId);
      const open = (await db.selectFrom("billing_usage").selectAll().where("org_id", "=", orgId)
        .where("ended_at", "is", null).execute()).map(segmentOf);
      // As if each had run the whole of an hour: started at its start, still open.
      const hour = Math.floor(clock.now() / HOUR_MS) * HOUR_MS;
      const usage = meterHour(open.map((s) => ({ ...s, started_at: hour })), hour);
      const perHour = lineItems(usage, plan);
      const apps = new Map<string, number>();
      for (const i of perHour) apps.set(i.app_id, (apps.get(i.app_id) ?? 0) + i.amount);
      return {
        currency: plan.currency,
        per_hour: sum(perHour),
        per_day: sum(lineItems(scaled(usage, 24n), plan)),
        per_month: sum(lineItems(scaled(usage, BigInt(MONTH_HOURS)), plan)),
        apps: [...apps].map(([app_id, per_hour]) => ({ app_id, per_hour })),
      };
    },

    /**
     * What a proposed app would cost per hour, day and month under the org's plan, priced through
     * the meter like the projection (cores to millicores as Swarm rounds NanoCPUs).
     */
    async estimate(orgId: string, input: unknown): Promise<Omit<Projection, "apps">> {
      const p = EstimateInput.safeParse(input);
      if (!p.success) throw new Invalid("Invalid input: estimate", fieldsOf(p.error));
      const plan = await plans.forOrg(orgId);
      const hour = Math.floor(clock.now() / HOUR_MS) * HOUR_MS;
      const usage = meterHour(
        p.data.services.map((s, i) => ({
          app_id: "proposed",
          service: String(i),
          replicas: s.global ? 1 : s.replicas,
          cpu_millis: Math.round(s.cpus * 1000),
          memory_bytes: s.memory_bytes,
          started_at: hour,
          ended_at: null,
        })),
        hour,
      );
      return {
        currency: plan.currency,
        per_hour: sum(lineItems(usage, plan)),
        per_day: sum(lineItems(scaled(usage, 24n), plan)),
        per_month: sum(lineItems(scaled(usage, BigInt(MONTH_HOURS)), plan)),
      };
    },

    /** The plan an org is billed by, and whether it is the org's own override. */
    async plan(orgId: string): Promise<{ plan: PricePlan; override: boolean }> {
      const own = await plans.get(orgId);
      return { plan: own ?? await plans.forOrg(orgId), override: own !== undefined };
    },

    /** Sets the install's default plan (`org` undefined) or an org's override; audited. */
    setPlan(
      ctx: ActionContext,
      org: { id: string; slug: string } | undefined,
      input: unknown,
    ): Promise<PricePlan> {
      const scope = org?.id ?? DEFAULT_SCOPE;
      return audit.run(ctx, "billing.plan_set", {
        orgId: org?.id ?? null,
        target: { type: "price_plan", id: scope, name: org?.slug ?? DEFAULT_SCOPE },
        metadata: { plan: input },
      }, () => plans.set(scope, input, actorOf(ctx)));
    },

    /** Removes an org's override (it is billed by the default again); audited. */
    clearPlan(ctx: ActionContext, org: { id: string; slug: string }): Promise<void> {
      return audit.run(ctx, "billing.plan_cleared", {
        orgId: org.id,
        target: { type: "price_plan", id: org.id, name: org.slug },
      }, () => plans.clear(org.id));
    },

    /**
     * A top-up, refund or adjustment by a platform admin, in the org's plan currency, with a
     * note; audited. A move that brings the balance to zero or more ends grace at once.
     */
    async move(ctx: ActionContext, orgId: string, input: unknown): Promise<LedgerEntry> {
      const p = MoneyMove.safeParse(input);
      if (!p.success) throw new Invalid("Invalid input: ledger entry", fieldsOf(p.error));
      const m = p.data;
      const { currency } = await plans.forOrg(orgId);
      const entry = await audit.run(ctx, `billing.${m.kind}`, {
        orgId,
        target: { type: "wallet", id: orgId },
        metadata: { kind: m.kind, amount: m.amount, currency, note: m.note },
        after: (e: LedgerEntry) => ({ target: { type: "ledger_entry", id: e.id } }),
      }, () =>
        ledger.append({
          org_id: orgId,
          kind: m.kind,
          amount: m.amount,
          currency,
          actor: actorOf(ctx),
          note: m.note,
        }));
      await wallet.check(orgId);
      return entry;
    },
  };
}

/** `user:<id>`, `token:<id>`, `system:<id>`: who, as the ledger records it. */
export function actorOf(ctx: ActionContext): string {
  return `${ctx.actor.type}:${ctx.actor.id ?? ctx.actor.name ?? "unknown"}`;
}

export type Billing = ReturnType<typeof createBilling>;
