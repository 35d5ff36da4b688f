/**
 * Organizations' templates and provisionings in the database. A template id is unique in its
 * organization (a second save of the same id is a Conflict); provisionings record each step's
 * outcome and what was created, so a failure and a deprovision take back exactly that.
 */
import type { Db } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import { uuidv7 } from "../util/ids.ts";
import { Conflict, NotFound } from "../errors.ts";
import { isUniqueViolation } from "../db/unique.ts";
import type { OrgTemplatesTable, ProvisionStatus, TemplateProvisionsTable } from "./tables.ts";

export type OrgTemplate = OrgTemplatesTable;

/** One step of a provisioning as the progress page shows it. */
export interface ProvisionStep {
  step: string;
  status: "running" | "done" | "failed" | "undone";
  message?: string;
  at: number;
}

/** What a provisioning created (taken back on failure, by a deprovision). */
export interface Created {
  secrets: string[];
  route_id?: string;
  volumes: string[];
}

export type Provision =
  & Omit<TemplateProvisionsTable, "created" | "values_json" | "steps">
  & { created: Created; values: Record<string, unknown>; steps: ProvisionStep[] };

const provisionOf = (r: TemplateProvisionsTable): Provision => {
  const { created, values_json, steps, ...rest } = r;
  return {
    ...rest,
    created_at: Number(r.created_at),
    finished_at: r.finished_at === null ? null : Number(r.finished_at),
    created: JSON.parse(created),
    values: JSON.parse(values_json),
    steps: JSON.parse(steps),
  };
};

const MAX_PAGE = 200;

/** Creates the templates store. */
export function createTemplateStore(db: Db, clock: Clock) {
  return {
    async list(orgId: string): Promise<OrgTemplate[]> {
      const rows = await db.selectFrom("org_templates").selectAll().where("org_id", "=", orgId)
        .orderBy("name").limit(MAX_PAGE).execute();
      return rows.map((r) => ({
        ...r,
        created_at: Number(r.created_at),
        updated_at: Number(r.updated_at),
      }));
    },

    async get(orgId: string, templateId: string): Promise<OrgTemplate | undefined> {
      const r = await db.selectFrom("org_templates").selectAll().where("org_id", "=", orgId)
        .where("template_id", "=", templateId).executeTakeFirst();
      return r && { ...r, created_at: Number(r.created_at), updated_at: Number(r.updated_at) };
    },

    async save(
      orgId: string,
      t: Pick<OrgTemplate, "template_id" | "name" | "category" | "version" | "source">,
      by: string | null,
      replacing?: OrgTemplate,
    ): Promise<OrgTemplate> {
      const now = clock.now();
      if (replacing) {
        await db.updateTable("org_templates").set({ ...t, updated_at: now })
          .where("id", "=", replacing.id).execute();
        return { ...replacing, ...t, updated_at: now };
      }
      const row: OrgTemplatesTable = {
        id: uuidv7(now),
        org_id: orgId,
        ...t,
        created_by: by,
        created_at: now,
        updated_at: now,
      };
      try {
        await db.insertInto("org_templates").values(row).execute();
      } catch (err) {
        if (isUniqueViolation(err)) {
          throw new Conflict(`A template with id ${t.template_id} already exists`, "conflict", {
            source: `id ${t.template_id} is taken in this organization`,
          });
        }
        throw err;
      }
      return row;
    },

    async remove(t: OrgTemplate): Promise<void> {
      await db.deleteFrom("org_templates").where("id", "=", t.id).execute();
    },

    async startProvision(
      p: Pick<
        Provision,
        | "org_id"
        | "template_id"
        | "template_version"
        | "source"
        | "source_ref"
        | "app_name"
        | "domain"
        | "values"
        | "created_by"
      >,
    ): Promise<Provision> {
      const now = clock.now();
      const row: TemplateProvisionsTable = {
        id: uuidv7(now),
        org_id: p.org_id,
        template_id: p.template_id,
        template_version: p.template_version,
        source: p.source,
        source_ref: p.source_ref,
        app_name: p.app_name,
        app_id: null,
        domain: p.domain,
        status: "provisioning",
        step: "starting",
        error: null,
        created: JSON.stringify({ secrets: [], volumes: [] }),
        values_json: JSON.stringify(p.values),
        steps: "[]",
        created_by: p.created_by,
        created_at: now,
        finished_at: null,
      };
      await db.insertInto("template_provisions").values(row).execute();
      return provisionOf(row);
    },

    async update(
      p: Provision,
      patch: Partial<
        Pick<Provision, "app_id" | "status" | "step" | "error" | "created" | "steps">
      >,
    ): Promise<Provision> {
      const done = patch.status === "ready" || patch.status === "failed";
      const { created, steps, ...rest } = patch;
      await db.updateTable("template_provisions").set({
        ...rest,
        ...(created ? { created: JSON.stringify(created) } : {}),
        ...(steps ? { steps: JSON.stringify(steps) } : {}),
        ...(done ? { finished_at: clock.now() } : {}),
      }).where("id", "=", p.id).execute();
      return { ...p, ...patch, ...(done ? { finished_at: clock.now() } : {}) };
    },

    async provision(orgId: string, id: string): Promise<Provision> {
      const r = await db.selectFrom("template_provisions").selectAll().where("org_id", "=", orgId)
        .where("id", "=", id).executeTakeFirst();
      if (!r) throw new NotFound("No such provisioning");
      return provisionOf(r);
    },

    /** The provisioning that made an app (the newest ready one), if any. */
    async ofApp(appId: string): Promise<Provision | undefined> {
      const r = await db.selectFrom("template_provisions").selectAll().where("app_id", "=", appId)
        .orderBy("id", "desc").executeTakeFirst();
      return r && provisionOf(r);
    },

    /**
     * Marks provisionings left running for longer than any can take (15 minutes; another hub
     * replica may run a younger one) as failed: a process that stopped left them. What they
     * had made stays listed on them.
     */
    async interrupted(): Promise<number> {
      const r = await db.updateTable("template_provisions").set({
        status: "failed",
        error: "interrupted by a hub restart; what it had made is listed",
        finished_at: clock.now(),
      }).where("status", "=", "provisioning").where("created_at", "<", clock.now() - 15 * 60_000)
        .executeTakeFirst();
      return Number(r.numUpdatedRows ?? 0);
    },

    /** Provisionings of an organization, newest first. */
    async provisions(orgId: string, opts: { before?: string; limit?: number } = {}) {
      let q = db.selectFrom("template_provisions").selectAll().where("org_id", "=", orgId);
      if (opts.before) q = q.where("id", "<", opts.before);
      const rows = await q.orderBy("id", "desc").limit(Math.min(opts.limit ?? 50, MAX_PAGE))
        .execute();
      return rows.map(provisionOf);
    },

    /** Apps made from an organization's template that still exist (a delete is refused then). */
    async appsFrom(orgId: string, templateId: string): Promise<string[]> {
      const rows = await db.selectFrom("template_provisions")
        .innerJoin("apps", "apps.id", "template_provisions.app_id")
        .select("apps.name").where("template_provisions.org_id", "=", orgId)
        .where("template_provisions.source", "=", "org")
        .where("template_provisions.template_id", "=", templateId)
        .where("template_provisions.status", "!=", "failed").execute();
      return [...new Set(rows.map((r) => r.name))];
    },

    /** How often each template was provisioned in an organization, and when last. */
    async usage(orgId: string): Promise<Map<string, { count: number; last: number }>> {
      const rows = await db.selectFrom("template_provisions")
        .select([
          "template_id",
          (eb) => eb.fn.countAll<number>().as("n"),
          (eb) => eb.fn.max("created_at").as("last"),
        ])
        .where("org_id", "=", orgId).groupBy("template_id").execute();
      return new Map(
        rows.map((r) => [r.template_id, { count: Number(r.n), last: Number(r.last) }]),
      );
    },
  };
}

export type TemplateStore = ReturnType<typeof createTemplateStore>;
export type { ProvisionStatus };
