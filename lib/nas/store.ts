/** The NAS module's rows: targets (one organization's each) and the sites of their last good check. */
import type { Db } from "../db/mod.ts";
import type { NasSitesTable, NasTargetsTable } from "./tables.ts";
import { isUniqueViolation } from "../db/unique.ts";
import { Conflict } from "../errors.ts";

export type NasTarget = NasTargetsTable;
export type NasSite = NasSitesTable;

/** Reads and writes nas_targets and nas_sites. */
export function createNasStore(db: Db) {
  const nameTaken = (name: string) =>
    new Conflict(`Cannot save NAS "${name}": name is already in use`, "name_in_use");

  return {
    /** The organization's targets by name. */
    list(orgId: string): Promise<NasTarget[]> {
      return db.selectFrom("nas_targets").selectAll().where("org_id", "=", orgId)
        .orderBy("name").execute();
    },

    /** Every target (the periodic check), oldest check first. */
    all(limit: number): Promise<NasTarget[]> {
      return db.selectFrom("nas_targets").selectAll().orderBy("last_checked_at")
        .orderBy("id").limit(limit).execute();
    },

    /** One target of the organization. */
    get(orgId: string, id: string): Promise<NasTarget | undefined> {
      return db.selectFrom("nas_targets").selectAll().where("org_id", "=", orgId)
        .where("id", "=", id).executeTakeFirst();
    },

    async insert(row: NasTarget): Promise<void> {
      try {
        await db.insertInto("nas_targets").values(row).execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw nameTaken(row.name);
        throw err;
      }
    },

    async update(row: NasTarget): Promise<void> {
      const { id, org_id: _o, created_at: _c, created_by: _b, ...rest } = row;
      try {
        await db.updateTable("nas_targets").set(rest).where("id", "=", id).execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw nameTaken(row.name);
        throw err;
      }
    },

    /** Deletes a target (its sites go with it); false when it was not there. */
    async remove(orgId: string, id: string): Promise<boolean> {
      const r = await db.deleteFrom("nas_targets").where("org_id", "=", orgId)
        .where("id", "=", id).executeTakeFirst();
      return Number(r.numDeletedRows ?? 0) > 0;
    },

    /** The sites of targets, by target id. */
    async sites(targetIds: string[]): Promise<Map<string, NasSite[]>> {
      const out = new Map<string, NasSite[]>(targetIds.map((id) => [id, []]));
      if (!targetIds.length) return out;
      const rows = await db.selectFrom("nas_sites").selectAll()
        .where("target_id", "in", targetIds).orderBy("name").execute();
      for (const r of rows) out.get(r.target_id)?.push(r);
      return out;
    },

    /** Records a check: the target's outcome and, after a good one, its sites in place of the old. */
    async recordCheck(
      id: string,
      outcome: Pick<
        NasTarget,
        "last_checked_at" | "last_error" | "truncated" | "known_host" | "known_host_fingerprint"
      >,
      sites: NasSite[] | undefined,
    ): Promise<void> {
      await db.transaction().execute(async (tx) => {
        const r = await tx.updateTable("nas_targets").set(outcome).where("id", "=", id)
          .executeTakeFirst();
        // Deleted while it was being checked: nothing to record.
        if (!sites || Number(r.numUpdatedRows ?? 0) === 0) return;
        await tx.deleteFrom("nas_sites").where("target_id", "=", id).execute();
        // In slices: a statement's parameters are bounded (SQLite: 32766).
        for (let i = 0; i < sites.length; i += 200) {
          await tx.insertInto("nas_sites").values(sites.slice(i, i + 200)).execute();
        }
      });
    },
  };
}

export type NasStore = ReturnType<typeof createNasStore>;
