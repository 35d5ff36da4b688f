/**
 * Alert rules of an organization. Every organization gets the default rules the first time its
 * rules are read (once: a kv marker, so rules an admin deleted stay deleted). Writes are audited
 * and tell the engine to rebuild its compiled rules (here and, through the bus, on other replicas).
 */
import type { Db } from "../db/mod.ts";
import type { AlertRulesTable } from "../db/schema.ts";
import type { Clock } from "../util/clock.ts";
import type { ActionContext, AuditLog } from "../audit/service.ts";
import { uuidv7 } from "../util/ids.ts";
import { Invalid, NotFound } from "../errors.ts";
import { checkRuleMetric } from "./metric_catalog.ts";
import type { AlertFacts } from "./facts.ts";
import {
  DEFAULT_RULES,
  normalizeRule,
  ruleColumns,
  type RuleFields,
  type RuleSpec,
  ruleSpecOf,
} from "./schema.ts";

/** A rule as the API shows it. */
export type RuleView = RuleSpec & { id: string; created_at: number; updated_at: number };

/** A stored rule row. */
export type RuleRow = AlertRulesTable;

/** Shows a row. */
export function ruleView(r: RuleRow): RuleView {
  return {
    id: r.id,
    ...ruleSpecOf(r),
    created_at: Number(r.created_at),
    updated_at: Number(r.updated_at),
  };
}

const defaultsKey = (orgId: string) => `alerts.defaults:${orgId}`;
/** Defaults the first release seeded; its marker holds "1" rather than a count. */
const FIRST_RELEASE_DEFAULTS = 6;

/** How many of DEFAULT_RULES an organization has been given, from its marker's value. */
function seededCount(value: string): number {
  return value.startsWith("n:") ? Number(value.slice(2)) : FIRST_RELEASE_DEFAULTS;
}

/** Rule CRUD; `onChange` runs after every committed write. */
export function createRuleStore(deps: {
  db: Db;
  clock: Clock;
  audit: AuditLog;
  /** Hosts, organizations and series, read through their modules. */
  facts: Pick<AlertFacts, "host" | "orgSlug" | "seriesSeen">;
  onChange: (orgId: string) => void;
}) {
  const { db, clock, audit } = deps;
  const seeded = new Set<string>();

  /**
   * Gives an organization each default rule once, whichever replica gets there first. The
   * marker counts the defaults given, so a default added in a later release (DEFAULT_RULES is
   * append-only) reaches existing organizations too, while one a user deleted stays deleted.
   */
  async function ensureDefaults(orgId: string): Promise<void> {
    if (seeded.has(orgId)) return;
    // An unknown organization gets nothing (its rules would have no owner).
    if (await deps.facts.orgSlug(orgId) === undefined) return;
    const now = clock.now();
    const total = DEFAULT_RULES.length;
    await db.transaction().execute(async (tx) => {
      const key = defaultsKey(orgId);
      const marker = await tx.selectFrom("kv").select("value").where("key", "=", key)
        .executeTakeFirst();
      const done = marker ? seededCount(marker.value) : 0;
      if (done >= total) return;
      // Claim the missing defaults: the insert or the compare-and-set lets one replica win.
      const claim = marker
        ? await tx.updateTable("kv").set({ value: `n:${total}`, updated_at: now })
          .where("key", "=", key).where("value", "=", marker.value).executeTakeFirst()
        : await tx.insertInto("kv").values({ key, value: `n:${total}`, updated_at: now })
          .onConflict((oc) => oc.column("key").doNothing()).executeTakeFirst();
      const claimed = "numUpdatedRows" in claim
        ? Number(claim.numUpdatedRows)
        : Number(claim.numInsertedOrUpdatedRows ?? 0);
      if (claimed !== 1) return;
      await tx.insertInto("alert_rules").values(
        DEFAULT_RULES.slice(done).map((d) => ({
          id: uuidv7(now),
          org_id: orgId,
          ...ruleColumns(normalizeRule(d)),
          created_at: now,
          updated_at: now,
        })),
      ).execute();
    });
    seeded.add(orgId);
  }

  /**
   * Checks what a rule refers to exists in the organization: its host, its channels and the metric
   * it watches (a series the agents report, lib/alerts/metric_catalog.ts).
   */
  async function checkRefs(orgId: string, spec: RuleSpec): Promise<void> {
    if (spec.scope === "host") {
      const h = await deps.facts.host(spec.scope_value!);
      if (h?.org_id !== orgId) {
        throw new Invalid("Invalid rule: scope_value", {
          scope_value: "no such host in this organization",
        });
      }
    }
    if (Array.isArray(spec.channels) && spec.channels.length) {
      const rows = await db.selectFrom("alert_channels").select("id").where("org_id", "=", orgId)
        .where("id", "in", spec.channels).execute();
      if (rows.length !== new Set(spec.channels).size) {
        throw new Invalid("Invalid rule: channels", {
          channels: "names a channel that does not exist in this organization",
        });
      }
    }
    await checkRuleMetric(deps.facts, orgId, spec);
  }

  async function row(orgId: string, id: string): Promise<RuleRow> {
    await ensureDefaults(orgId);
    const r = await db.selectFrom("alert_rules").selectAll().where("org_id", "=", orgId)
      .where("id", "=", id).executeTakeFirst();
    if (!r) throw new NotFound("alert rule not found");
    return r;
  }

  /** Ends the open alerts of a rule that stopped applying (disabled or deleted), without notifying. */
  async function retire(ruleId: string, now: number) {
    await db.transaction().execute(async (tx) => {
      await tx.updateTable("alerts").set({ state: "resolved", ended_at: now })
        .where("rule_id", "=", ruleId).where("state", "=", "firing").execute();
      await tx.deleteFrom("alert_rule_states").where("rule_id", "=", ruleId).execute();
    });
  }

  return {
    ensureDefaults,

    /** All rules of an organization, by name. */
    async list(orgId: string): Promise<RuleView[]> {
      await ensureDefaults(orgId);
      const rows = await db.selectFrom("alert_rules").selectAll().where("org_id", "=", orgId)
        .orderBy("name").limit(1000).execute();
      return rows.map(ruleView);
    },

    /** Enabled rule rows (the engine compiles these). */
    async enabledRows(orgId: string): Promise<RuleRow[]> {
      await ensureDefaults(orgId);
      return await db.selectFrom("alert_rules").selectAll().where("org_id", "=", orgId)
        .where("enabled", "=", 1).limit(1000).execute();
    },

    async get(orgId: string, id: string): Promise<RuleView> {
      return ruleView(await row(orgId, id));
    },

    async create(ctx: ActionContext, orgId: string, input: RuleFields): Promise<RuleView> {
      await ensureDefaults(orgId);
      return await audit.run(ctx, "alert_rule.created", {
        orgId,
        target: { type: "alert_rule", name: input.name },
        after: (v) => ({ target: { type: "alert_rule", id: v.id, name: v.name } }),
      }, async () => {
        const spec = normalizeRule(input);
        await checkRefs(orgId, spec);
        const now = clock.now();
        const r: RuleRow = {
          id: uuidv7(now),
          org_id: orgId,
          ...ruleColumns(spec),
          created_at: now,
          updated_at: now,
        };
        await db.insertInto("alert_rules").values(r).execute();
        deps.onChange(orgId);
        return ruleView(r);
      });
    },

    /** Changes any fields; the merged rule is checked as a whole. */
    async update(ctx: ActionContext, orgId: string, id: string, patch: RuleFields) {
      const current = await row(orgId, id);
      return await audit.run(ctx, "alert_rule.updated", {
        orgId,
        target: { type: "alert_rule", id, name: patch.name ?? current.name },
        metadata: { changed: Object.keys(patch) },
      }, async () => {
        const spec = normalizeRule(patch, ruleSpecOf(current));
        await checkRefs(orgId, spec);
        const now = clock.now();
        await db.updateTable("alert_rules").set({ ...ruleColumns(spec), updated_at: now })
          .where("id", "=", id).execute();
        // A changed scope, metric or event makes the old subjects meaningless: start them afresh.
        const old = ruleSpecOf(current);
        const reshaped = old.kind !== spec.kind || old.metric !== spec.metric ||
          old.event !== spec.event || old.scope !== spec.scope ||
          old.scope_value !== spec.scope_value || old.container !== spec.container;
        if (!spec.enabled || reshaped) await retire(id, now);
        deps.onChange(orgId);
        return ruleView(await row(orgId, id));
      });
    },

    async remove(ctx: ActionContext, orgId: string, id: string): Promise<void> {
      const current = await row(orgId, id);
      await audit.run(ctx, "alert_rule.deleted", {
        orgId,
        target: { type: "alert_rule", id, name: current.name },
      }, async () => {
        await retire(id, clock.now());
        await db.deleteFrom("alert_rules").where("id", "=", id).execute();
        deps.onChange(orgId);
      });
    },
  };
}

export type RuleStore = ReturnType<typeof createRuleStore>;
