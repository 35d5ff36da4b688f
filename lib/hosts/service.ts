/**
 * Hosts of an organization: adding, renaming, labelling and removing them (audited), the embedded
 * agent's own host, agent credentials (enrollment.ts) and what agents report (agent_facts.ts).
 */
import type { Db } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import { uuidv7 } from "../util/ids.ts";
import { Conflict, NotFound } from "../errors.ts";
import type { ActionContext, AuditLog } from "../audit/service.ts";
import { type Host, HOST_COLUMNS, hostView, newHostRow } from "./rows.ts";
import { createEnrollment } from "./enrollment.ts";
import type { EventBus } from "../events.ts";
import { createAgentFacts } from "./agent_facts.ts";

export type { Host } from "./rows.ts";
export { ENROLLMENT_TOKEN_PATTERN, ENROLLMENT_TTL_MS, HOST_TOKEN_PATTERN } from "./enrollment.ts";

declare module "../events.ts" {
  interface DomainEvents {
    /** A host's new name is stored; `rename` returns once every listener has taken it. */
    "host.renamed": { host: { id: string; org_id: string }; name: string };
  }
}

/** Hosts of an organization: enrollment, agent tokens bound to a machine, facts and the container cache. */
export function createHosts(db: Db, clock: Clock, audit: AuditLog, events?: EventBus) {
  async function nameTaken(orgId: string, name: string, exceptId?: string) {
    let q = db.selectFrom("hosts").select("id").where("org_id", "=", orgId).where("name", "=", name)
      .where("removed_at", "is", null);
    if (exceptId) q = q.where("id", "!=", exceptId);
    return Boolean(await q.executeTakeFirst());
  }

  const lookups = {
    /** Live hosts of an organization, by name. */
    async list(orgId: string): Promise<Host[]> {
      const rows = await db.selectFrom("hosts").select(HOST_COLUMNS).where("org_id", "=", orgId)
        .where("removed_at", "is", null).orderBy("name").limit(5000).execute();
      return rows.map(hostView);
    },

    /** One live host of an organization (404 for other organizations' hosts). */
    async get(orgId: string, hostId: string): Promise<Host> {
      const row = await db.selectFrom("hosts").select(HOST_COLUMNS).where("org_id", "=", orgId)
        .where("id", "=", hostId).where("removed_at", "is", null).executeTakeFirst();
      if (!row) throw new NotFound("host not found");
      return hostView(row);
    },

    /** A live host by id, whatever its organization. */
    async byId(hostId: string): Promise<Host | undefined> {
      const row = await db.selectFrom("hosts").select(HOST_COLUMNS).where("id", "=", hostId)
        .where("removed_at", "is", null).executeTakeFirst();
      return row && hostView(row);
    },
  };
  const { get } = lookups;
  const enrollment = createEnrollment({ db, clock, audit, ...lookups });

  return {
    ...lookups,
    newEnrollment: enrollment.newEnrollment,
    enroll: enrollment.enroll,
    byToken: enrollment.byToken,
    rotateToken: enrollment.rotateToken,
    ...createAgentFacts(db, clock),

    /** Adds a host waiting for its agent, with a single-use enrollment token valid one hour. */
    async create(
      ctx: ActionContext,
      orgId: string,
      input: { name: string; labels?: Record<string, string> },
    ) {
      return await audit.run(ctx, "host.created", {
        orgId,
        target: { type: "host", name: input.name },
        after: (r) => ({ target: { type: "host", id: r.host.id, name: r.host.name } }),
      }, async () => {
        if (await nameTaken(orgId, input.name)) {
          throw new Conflict(`Cannot add host "${input.name}": name is already in use`);
        }
        const now = clock.now();
        const id = uuidv7(now);
        await db.insertInto("hosts").values(newHostRow({
          id,
          org_id: orgId,
          name: input.name,
          labels: JSON.stringify(input.labels ?? {}),
          local: 0,
          machine_id: null,
        }, { created_at: now, enrolled_at: null })).execute();
        const issued = await enrollment.issue(orgId, id, ctx.actor.id ?? null);
        return { host: (await lookups.byId(id))!, enrollment: issued };
      });
    },

    /** Renames a host (audited); then `host.renamed` (alerts show the new name). */
    async rename(ctx: ActionContext, orgId: string, hostId: string, name: string): Promise<Host> {
      const host = await get(orgId, hostId);
      const renamed = await audit.run(ctx, "host.renamed", {
        orgId,
        target: { type: "host", id: host.id, name },
        metadata: { from: host.name, to: name },
      }, async () => {
        if (await nameTaken(orgId, name, host.id)) {
          throw new Conflict(`Cannot rename host to "${name}": name is already in use`);
        }
        await db.updateTable("hosts").set({ name }).where("id", "=", host.id).execute();
        return { ...host, name };
      });
      await events?.emitAndWait("host.renamed", { host, name });
      return renamed;
    },

    /** Replaces a host's labels (audited). */
    async setLabels(
      ctx: ActionContext,
      orgId: string,
      hostId: string,
      labels: Record<string, string>,
    ): Promise<Host> {
      const host = await get(orgId, hostId);
      return await audit.run(ctx, "host.labels_changed", {
        orgId,
        target: { type: "host", id: host.id, name: host.name },
        metadata: { labels },
      }, async () => {
        await db.updateTable("hosts").set({ labels: JSON.stringify(labels) }).where(
          "id",
          "=",
          host.id,
        ).execute();
        return { ...host, labels };
      });
    },

    /** Removes a host: its token stops working at once; its history is kept (hidden) or deleted. */
    async remove(
      ctx: ActionContext,
      orgId: string,
      hostId: string,
      opts: { keepHistory: boolean },
    ): Promise<void> {
      const host = await get(orgId, hostId);
      await audit.run(ctx, "host.removed", {
        orgId,
        target: { type: "host", id: host.id, name: host.name },
        metadata: { keep_history: opts.keepHistory },
      }, async () => {
        if (opts.keepHistory) {
          await db.transaction().execute(async (tx) => {
            await tx.updateTable("hosts").set({ removed_at: clock.now(), token_hash: null }).where(
              "id",
              "=",
              host.id,
            ).execute();
            await tx.deleteFrom("containers").where("host_id", "=", host.id).execute();
            await tx.deleteFrom("host_enrollments").where("host_id", "=", host.id).execute();
          });
        } else await db.deleteFrom("hosts").where("id", "=", host.id).execute();
      });
    },

    /**
     * The embedded agent's host in an organization, created on first use. Keyed by the machine id,
     * so hub replicas on different machines each get their own local host, and replicas sharing a
     * machine share one.
     */
    async ensureLocal(orgId: string, name: string, machineId?: string): Promise<Host> {
      let q = db.selectFrom("hosts").select(HOST_COLUMNS).where("org_id", "=", orgId)
        .where("local", "=", 1).where("removed_at", "is", null);
      if (machineId !== undefined) {
        q = q.where((eb) =>
          eb.or([eb("machine_id", "=", machineId), eb("machine_id", "is", null)])
        );
      }
      const existing = await q.orderBy("created_at").executeTakeFirst();
      if (existing) {
        if (machineId === undefined) return hostView(existing);
        if (existing.machine_id === null) {
          await db.updateTable("hosts").set({ machine_id: machineId }).where("id", "=", existing.id)
            .execute();
        }
        return hostView({ ...existing, machine_id: machineId });
      }
      const now = clock.now();
      let finalName = name;
      for (let i = 2; await nameTaken(orgId, finalName); i++) finalName = `${name}-${i}`;
      const id = uuidv7(now);
      await db.insertInto("hosts").values(newHostRow({
        id,
        org_id: orgId,
        name: finalName,
        labels: JSON.stringify({ local: "true" }),
        local: 1,
        machine_id: machineId ?? null,
      }, { created_at: now, enrolled_at: now })).execute();
      return (await lookups.byId(id))!;
    },
  };
}

export type Hosts = ReturnType<typeof createHosts>;
