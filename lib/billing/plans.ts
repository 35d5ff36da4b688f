/**
 * Price plans: the install's default (scope "default", set by platform admins) and per-org
 * overrides. An install that set none charges nothing (FREE_PLAN).
 */
import type { Db } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import { Invalid } from "../errors.ts";
import { FREE_PLAN, PricePlan } from "./meter.ts";

/** The scope of the install's default plan. */
export const DEFAULT_SCOPE = "default";

/** Creates the price plan store. */
export function createPlans(db: Db, clock: Clock) {
  const read = async (scope: string): Promise<PricePlan | undefined> => {
    const r = await db.selectFrom("billing_plans").selectAll().where("scope", "=", scope)
      .executeTakeFirst();
    if (!r) return undefined;
    return {
      currency: r.currency,
      cpu_core_hour: Number(r.cpu_core_hour),
      memory_gib_hour: Number(r.memory_gib_hour),
      storage_gib_month: Number(r.storage_gib_month),
      egress_gib: Number(r.egress_gib),
      build_minute: Number(r.build_minute),
    };
  };
  return {
    /** The plan an org is billed by: its override, else the install's default, else free. */
    async forOrg(orgId: string): Promise<PricePlan> {
      return await read(orgId) ?? await read(DEFAULT_SCOPE) ?? FREE_PLAN;
    },

    /** The plan of one scope ("default" or an org id), if set. */
    get: read,

    /** Sets the plan of a scope ("default" or an org id); 400 naming the field when invalid. */
    async set(scope: string, input: unknown, actor: string | null): Promise<PricePlan> {
      const p = PricePlan.safeParse(input);
      if (!p.success) {
        const fields = Object.fromEntries(
          p.error.issues.map((i) => [i.path.join(".") || "plan", i.message]),
        );
        throw new Invalid("Invalid input: price plan", fields);
      }
      const row = { scope, ...p.data, updated_at: clock.now(), updated_by: actor };
      await db.insertInto("billing_plans").values(row).onConflict((oc) =>
        oc.column("scope").doUpdateSet({ ...p.data, updated_at: row.updated_at, updated_by: actor })
      ).execute();
      return p.data;
    },

    /** Removes an org's override (it is billed by the default again). */
    async clear(orgId: string): Promise<void> {
      await db.deleteFrom("billing_plans").where("scope", "=", orgId).execute();
    },
  };
}

export type Plans = ReturnType<typeof createPlans>;
