/**
 * Quotas: per-organization limits set by platform admins — install defaults and per-org
 * overrides with a reason and an optional expiry (an expired override no longer applies: the
 * default does) — and admission, the decision other modules ask for in the transaction that
 * records an intent. This module never reads their tables: the apps module counts its own use
 * inside its transaction and asks `admission.prepare(org)` for the limits and the verdict.
 */
import type { Db } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import type { ActionContext, AuditLog } from "../audit/service.ts";
import { Conflict, Invalid, invalidInput, QuotaExceeded } from "../errors.ts";
import { z } from "zod";
import {
  type Amounts,
  formatAmount,
  type Limits,
  LimitsPatch,
  limitValue,
  type Resource,
  RESOURCE_INFO,
  RESOURCES,
} from "./resources.ts";

/**
 * The verdict on one intent, run inside the caller's transaction (so synchronous, no I/O):
 * throws QuotaExceeded (409 `quota_exceeded`) when a resource the request adds to would pass
 * its limit, or Conflict `deploys_blocked` when a blocker holds and the request deploys or adds.
 * `use` is the organization's use before the request; `adds` what it changes (negative: frees).
 */
export type AdmissionGate = (use: Amounts, adds: Amounts, opts?: { deploying?: boolean }) => void;

/** What another module reports of an organization's use (apps: CPU, memory, apps). */
export type UsageSource = (orgId: string) => Promise<Amounts>;

/**
 * A reason deploys are blocked for an organization right now (undefined: not blocked). The
 * billing wallet's grace period registers one: an org whose grace ran out cannot deploy.
 */
export type Blocker = (orgId: string) => Promise<string | undefined>;

/** The narrow interface the apps and builds modules use (lib/quotas/QUOTAS.md). */
export interface Admission {
  /** Reads the org's limits and blockers, before the caller's transaction opens. */
  prepare(orgId: string): Promise<AdmissionGate>;
  /** Adds a source of current use (shown on the quota page and in the API). */
  addUsage(source: UsageSource): void;
  /** Adds a hook that can block an organization's deploys. */
  addBlocker(blocker: Blocker): void;
}

/** An override as the API shows it. */
export interface Override {
  value: number | null;
  reason: string;
  expires_at: number | null;
  set_by: string | null;
  set_at: number;
}

/** One resource of an organization's quota view. */
export interface QuotaLine {
  resource: Resource;
  label: string;
  unit: string;
  /** The limit in force (null: unlimited). */
  limit: number | null;
  source: "override" | "default" | "none";
  default: number | null;
  /** The override in force, or one that expired (then `expired` is true and it no longer applies). */
  override: (Override & { expired: boolean }) | null;
  /** Use now (null: not measured by anything yet). */
  used: number | null;
}

/** What the quotas service needs. */
export interface QuotasDeps {
  db: Db;
  clock: Clock;
  audit: Pick<AuditLog, "run">;
}

/** Throws when `adds` would take a limited resource past its limit (see AdmissionGate). */
export function decide(limits: Limits, use: Amounts, adds: Amounts): void {
  for (const r of RESOURCES) {
    const add = adds[r] ?? 0;
    const limit = limits[r];
    if (add <= 0 || limit === undefined) continue;
    const used = Math.max(0, use[r] ?? 0);
    if (used + add <= limit) continue;
    const info = RESOURCE_INFO[r];
    // Mid-sentence: "apps", "memory …", but "CPU …" keeps its capitals.
    const what = /^[A-Z][a-z]/.test(info.label)
      ? info.label[0].toLowerCase() + info.label.slice(1)
      : info.label;
    throw new QuotaExceeded(
      `Quota exceeded: ${what} is limited to ${formatAmount(r, limit)} ` +
        `for this organization; it uses ${formatAmount(r, used)} and this would add ` +
        `${formatAmount(r, add)}`,
      { resource: r, unit: info.unit, limit, used, requested: add },
    );
  }
}

/** An override's input: a value (null: unlimited), why, and until when (optional). */
export const OverrideInput = z.object({
  value: z.number().int().min(0).nullable(),
  reason: z.string().trim().min(1).max(500),
  expires_at: z.number().int().positive().nullable().optional(),
}).strict();

/** Creates the quotas service. */
export function createQuotas(deps: QuotasDeps) {
  const { db, clock } = deps;
  const usage: UsageSource[] = [];
  const blockers: Blocker[] = [];

  async function defaults(): Promise<Limits> {
    const rows = await db.selectFrom("quota_defaults").selectAll().execute();
    const out: Limits = {};
    for (const r of rows) {
      if ((RESOURCES as readonly string[]).includes(r.resource)) {
        out[r.resource as Resource] = Number(r.value);
      }
    }
    return out;
  }

  async function overrides(orgId: string): Promise<Partial<Record<Resource, Override>>> {
    const rows = await db.selectFrom("quota_overrides").selectAll().where("org_id", "=", orgId)
      .execute();
    const out: Partial<Record<Resource, Override>> = {};
    for (const r of rows) {
      if (!(RESOURCES as readonly string[]).includes(r.resource)) continue;
      out[r.resource as Resource] = {
        value: r.value === null ? null : Number(r.value),
        reason: r.reason,
        expires_at: r.expires_at === null ? null : Number(r.expires_at),
        set_by: r.set_by,
        set_at: Number(r.set_at),
      };
    }
    return out;
  }

  const live = (o: Override | undefined, now: number) =>
    o !== undefined && (o.expires_at === null || o.expires_at > now);

  /** The limits in force for an organization: live overrides, else the defaults. */
  async function limits(orgId: string): Promise<Limits> {
    const [d, o] = await Promise.all([defaults(), overrides(orgId)]);
    const now = clock.now();
    const out: Limits = {};
    for (const r of RESOURCES) {
      const v = live(o[r], now) ? o[r]!.value : d[r];
      if (v !== null && v !== undefined) out[r] = v;
    }
    return out;
  }

  // Two sources may measure one resource (CPU and memory: the apps' saved specs, and what Swarm
  // runs as billing observes it). The larger counts: Swarm's specs hold more during a drain (the
  // service scaled up for its replacements) or after its own rollback, and the saved specs hold
  // more while a deployment has not reached Swarm yet.
  async function used(orgId: string): Promise<Amounts> {
    const out: Amounts = {};
    for (const parts of await Promise.all(usage.map((u) => u(orgId)))) {
      for (const [r, v] of Object.entries(parts) as [Resource, number | undefined][]) {
        if (v !== undefined) out[r] = Math.max(out[r] ?? v, v);
      }
    }
    return out;
  }

  async function blocked(orgId: string): Promise<string | undefined> {
    for (const b of blockers) {
      const why = await b(orgId);
      if (why) return why;
    }
    return undefined;
  }

  const admission: Admission = {
    async prepare(orgId) {
      const [l, why] = await Promise.all([limits(orgId), blocked(orgId)]);
      return (use, adds, opts) => {
        if (why && (opts?.deploying || RESOURCES.some((r) => (adds[r] ?? 0) > 0))) {
          throw new Conflict(
            `Deploys are blocked for this organization: ${why}`,
            "deploys_blocked",
          );
        }
        decide(l, use, adds);
      };
    },
    addUsage: (s) => void usage.push(s),
    addBlocker: (b) => void blockers.push(b),
  };

  function parseResource(r: string): Resource {
    if (!(RESOURCES as readonly string[]).includes(r)) {
      throw new Invalid("Invalid input: resource", {
        resource: `must be one of ${RESOURCES.join(", ")}`,
      });
    }
    return r as Resource;
  }

  return {
    admission,
    limits,
    defaults,
    /** The organization's use now, from every usage source (what admission counts). */
    used,
    /** Why deploys are blocked for the organization now, if they are. */
    blocked,

    /** Every resource with its limit in force, where it comes from, and the use now. */
    async view(orgId: string): Promise<QuotaLine[]> {
      const [d, o, u] = await Promise.all([defaults(), overrides(orgId), used(orgId)]);
      const now = clock.now();
      return RESOURCES.map((r) => {
        const ov = o[r];
        const inForce = live(ov, now);
        const limit = inForce ? ov!.value : d[r] ?? null;
        return {
          resource: r,
          label: RESOURCE_INFO[r].label,
          unit: RESOURCE_INFO[r].unit,
          limit,
          source: inForce ? "override" : d[r] !== undefined ? "default" : "none",
          default: d[r] ?? null,
          override: ov ? { ...ov, expired: !inForce } : null,
          used: u[r] ?? null,
        };
      });
    },

    /** Every organization's overrides (the admin editor), newest first, at most `limit`. */
    async allOverrides(
      limit = 500,
    ): Promise<Array<Override & { org_id: string; resource: Resource }>> {
      const rows = await db.selectFrom("quota_overrides").selectAll().orderBy("set_at", "desc")
        .limit(limit).execute();
      return rows.filter((r) => (RESOURCES as readonly string[]).includes(r.resource)).map((r) => ({
        org_id: r.org_id,
        resource: r.resource as Resource,
        value: r.value === null ? null : Number(r.value),
        reason: r.reason,
        expires_at: r.expires_at === null ? null : Number(r.expires_at),
        set_by: r.set_by,
        set_at: Number(r.set_at),
      }));
    },

    /** Sets install defaults: a value per resource given, null to make it unlimited. */
    async setDefaults(ctx: ActionContext, input: unknown): Promise<Limits> {
      const p = LimitsPatch.safeParse(input);
      if (!p.success) throw invalidInput(p.error);
      const patch = p.data;
      return await deps.audit.run(
        ctx,
        "quota.defaults_set",
        { metadata: { ...patch } },
        async () => {
          const now = clock.now();
          await db.transaction().execute(async (tx) => {
            for (const r of RESOURCES) {
              const v = patch[r];
              if (v === undefined) continue;
              if (v === null) {
                await tx.deleteFrom("quota_defaults").where("resource", "=", r).execute();
                continue;
              }
              await tx.insertInto("quota_defaults")
                .values({
                  resource: r,
                  value: v,
                  updated_at: now,
                  updated_by: ctx.actor.id ?? null,
                })
                .onConflict((oc) =>
                  oc.column("resource").doUpdateSet({
                    value: v,
                    updated_at: now,
                    updated_by: ctx.actor.id ?? null,
                  })
                ).execute();
            }
          });
          return await defaults();
        },
      );
    },

    /** Sets an organization's own limit of one resource, with a reason and an optional expiry. */
    async setOverride(
      ctx: ActionContext,
      orgId: string,
      resource: string,
      input: unknown,
    ): Promise<Override> {
      const r = parseResource(resource);
      const p = OverrideInput.safeParse(input);
      if (!p.success) throw invalidInput(p.error);
      const { value, reason } = p.data;
      const expires = p.data.expires_at ?? null;
      const fields: Record<string, string> = {};
      if (value !== null && !limitValue(r).safeParse(value).success) {
        fields.value = `must be a whole number of ${RESOURCE_INFO[r].unit} up to ${
          RESOURCE_INFO[r].max
        }`;
      }
      const now = clock.now();
      if (expires !== null && expires <= now) fields.expires_at = "must be in the future";
      if (Object.keys(fields).length) {
        throw new Invalid(`Invalid input: ${Object.keys(fields).join(", ")}`, fields);
      }
      const row = {
        org_id: orgId,
        resource: r,
        value,
        reason,
        expires_at: expires,
        set_by: ctx.actor.id ?? null,
        set_at: now,
      };
      await deps.audit.run(ctx, "quota.override_set", {
        orgId,
        target: { type: "quota", name: r },
        metadata: { value, reason, expires_at: expires },
      }, async () => {
        await db.insertInto("quota_overrides").values(row).onConflict((oc) =>
          oc.columns(["org_id", "resource"]).doUpdateSet({
            value,
            reason,
            expires_at: expires,
            set_by: row.set_by,
            set_at: now,
          })
        ).execute();
      });
      const { org_id: _o, resource: _r, ...o } = row;
      return o;
    },

    /** Removes an organization's override of one resource (the default applies again). */
    async clearOverride(ctx: ActionContext, orgId: string, resource: string): Promise<void> {
      const r = parseResource(resource);
      await deps.audit.run(ctx, "quota.override_cleared", {
        orgId,
        target: { type: "quota", name: r },
      }, async () => {
        await db.deleteFrom("quota_overrides").where("org_id", "=", orgId)
          .where("resource", "=", r).execute();
      });
    },
  };
}

export type Quotas = ReturnType<typeof createQuotas>;
