/**
 * Persisted state of each (rule, subject). Every write is a compare-and-set on `version`: a replica
 * (or a process restarted over the same database) that evaluated the same subject from stale state
 * loses the race, reloads, and so can never fire or resolve an alert a second time.
 */
import type { Db } from "../db/mod.ts";
import type { AlertRuleStatesTable } from "../db/schema.ts";
import type { Transaction } from "kysely";
import type { Database } from "../db/schema.ts";

/** A state row. */
export type StateRow = AlertRuleStatesTable;
/** What a write sets; identity columns are used on the first insert only. */
export type StateWrite = Omit<StateRow, "version" | "updated_at" | "silenced_until">;

type Exec = Db | Transaction<Database>;

/** The rule_states table behind compare-and-set writes. */
export function createStateStore(db: Db) {
  return {
    /** Every state row of an organization's rules. */
    async loadOrg(orgId: string): Promise<StateRow[]> {
      return await db.selectFrom("alert_rule_states").selectAll().where("org_id", "=", orgId)
        .execute();
    },

    async get(ruleId: string, subject: string, ex: Exec = db): Promise<StateRow | undefined> {
      return await ex.selectFrom("alert_rule_states").selectAll().where("rule_id", "=", ruleId)
        .where("subject", "=", subject).executeTakeFirst();
    },

    /**
     * Writes `next` if the stored version is still `expected` (0: no row yet). Returns the new
     * version, or null when someone else wrote first. `silenced_until` is never written here: only
     * the silence action sets it, so a write from stale memory cannot undo a silence.
     */
    async cas(ex: Exec, next: StateWrite, expected: number, now: number): Promise<number | null> {
      if (expected === 0) {
        const r = await ex.insertInto("alert_rule_states").values({
          ...next,
          silenced_until: null,
          version: 1,
          updated_at: now,
        }).onConflict((oc) => oc.columns(["rule_id", "subject"]).doNothing()).executeTakeFirst();
        return Number(r.numInsertedOrUpdatedRows ?? 0) === 1 ? 1 : null;
      }
      const r = await ex.updateTable("alert_rule_states").set({
        state: next.state,
        since: next.since,
        value: next.value,
        last_event_at: next.last_event_at,
        last_notified_at: next.last_notified_at,
        alert_id: next.alert_id,
        version: expected + 1,
        updated_at: now,
      }).where("rule_id", "=", next.rule_id).where("subject", "=", next.subject)
        .where("version", "=", expected).executeTakeFirst();
      return Number(r.numUpdatedRows ?? 0) === 1 ? expected + 1 : null;
    },

    /** Organizations with a subject that is not ok (they need the tick even without hosts). */
    async orgsWithOpenStates(): Promise<string[]> {
      const rows = await db.selectFrom("alert_rule_states").select("org_id").distinct()
        .where("state", "!=", "ok").execute();
      return rows.map((r) => r.org_id);
    },

    /** Forgets every state of a rule (disabled or deleted: its subjects start from ok again). */
    async clearRule(ruleId: string, ex: Exec = db): Promise<void> {
      await ex.deleteFrom("alert_rule_states").where("rule_id", "=", ruleId).execute();
    },
  };
}

export type StateStore = ReturnType<typeof createStateStore>;
