import type { Db } from "../db/mod.ts";
import type { HostsTable } from "../db/schema.ts";
import type { Clock } from "../util/clock.ts";
import { randomToken, sha256Hex, uuidv7 } from "../util/ids.ts";
import { conflict, HttpError, notFound } from "../http/errors.ts";
import type { ActionContext, AuditLog } from "../audit/service.ts";
import type { ContainerState, Hello } from "../protocol/messages.ts";

/** Enrollment tokens are valid for one hour and one use. */
export const ENROLLMENT_TTL_MS = 3600_000;
export const HOST_TOKEN_PATTERN = /^caph_[\w-]{43}$/;
export const ENROLLMENT_TOKEN_PATTERN = /^cape_[\w-]{43}$/;

export type Host = Omit<HostsTable, "token_hash" | "labels" | "engine"> & {
  labels: Record<string, string>;
  engine: Record<string, unknown>;
};

const HOST_COLUMNS = [
  "id",
  "org_id",
  "name",
  "labels",
  "local",
  "machine_id",
  "created_at",
  "enrolled_at",
  "last_seen_at",
  "agent_version",
  "hostname",
  "docker_version",
  "os",
  "kernel",
  "arch",
  "cpus",
  "memory_bytes",
  "containers_running",
  "containers_total",
  "engine",
  "removed_at",
] as const;

function view(row: Omit<HostsTable, "token_hash">): Host {
  return { ...row, labels: JSON.parse(row.labels), engine: JSON.parse(row.engine) };
}

/** What other modules hear from hosts (hooks set by the composition root). */
export interface HostHooks {
  /** After a rename is stored (alerts show host names). */
  renamed?(host: { id: string; org_id: string }, name: string): Promise<void>;
}

/** Hosts of an organization: enrollment, agent tokens bound to a machine, facts and the container cache. */
export function createHosts(db: Db, clock: Clock, audit: AuditLog, hooks: HostHooks = {}) {
  async function nameTaken(orgId: string, name: string, exceptId?: string) {
    let q = db.selectFrom("hosts").select("id").where("org_id", "=", orgId).where("name", "=", name)
      .where("removed_at", "is", null);
    if (exceptId) q = q.where("id", "!=", exceptId);
    return Boolean(await q.executeTakeFirst());
  }

  async function issueEnrollment(orgId: string, hostId: string, createdBy: string | null) {
    const token = randomToken("cape_", 32);
    const now = clock.now();
    await db.insertInto("host_enrollments").values({
      id: uuidv7(now),
      org_id: orgId,
      host_id: hostId,
      token_hash: await sha256Hex(token),
      created_by: createdBy,
      created_at: now,
      expires_at: now + ENROLLMENT_TTL_MS,
      used_at: null,
    }).execute();
    return { token, expiresAt: now + ENROLLMENT_TTL_MS };
  }

  const self = {
    /** Live hosts of an organization, by name. */
    async list(orgId: string): Promise<Host[]> {
      const rows = await db.selectFrom("hosts").select(HOST_COLUMNS).where("org_id", "=", orgId)
        .where("removed_at", "is", null).orderBy("name").limit(5000).execute();
      return rows.map(view);
    },

    /** One live host of an organization (404 for other organizations' hosts). */
    async get(orgId: string, hostId: string): Promise<Host> {
      const row = await db.selectFrom("hosts").select(HOST_COLUMNS).where("org_id", "=", orgId)
        .where("id", "=", hostId).where("removed_at", "is", null).executeTakeFirst();
      if (!row) throw notFound("host");
      return view(row);
    },

    async byId(hostId: string): Promise<Host | undefined> {
      const row = await db.selectFrom("hosts").select(HOST_COLUMNS).where("id", "=", hostId)
        .where("removed_at", "is", null).executeTakeFirst();
      return row && view(row);
    },

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
          throw conflict(`Cannot add host "${input.name}": name is already in use`);
        }
        const now = clock.now();
        const id = uuidv7(now);
        await db.insertInto("hosts").values({
          id,
          org_id: orgId,
          name: input.name,
          labels: JSON.stringify(input.labels ?? {}),
          local: 0,
          machine_id: null,
          token_hash: null,
          created_at: now,
          enrolled_at: null,
          last_seen_at: null,
          agent_version: null,
          hostname: null,
          docker_version: null,
          os: null,
          kernel: null,
          arch: null,
          cpus: null,
          memory_bytes: null,
          containers_running: null,
          containers_total: null,
          engine: "{}",
          removed_at: null,
        }).execute();
        const enrollment = await issueEnrollment(orgId, id, ctx.actor.id ?? null);
        return { host: (await self.byId(id))!, enrollment };
      });
    },

    /** A fresh enrollment token for a host that has not enrolled yet (the old one stops working). */
    async newEnrollment(ctx: ActionContext, orgId: string, hostId: string) {
      const host = await self.get(orgId, hostId);
      return await audit.run(ctx, "host.enrollment_issued", {
        orgId,
        target: { type: "host", id: host.id, name: host.name },
      }, async () => {
        if (host.enrolled_at !== null) {
          throw conflict(
            `Cannot issue an enrollment token for "${host.name}": its agent has enrolled already; rotate its token instead`,
          );
        }
        await db.deleteFrom("host_enrollments").where("host_id", "=", host.id).where(
          "used_at",
          "is",
          null,
        ).execute();
        return await issueEnrollment(orgId, host.id, ctx.actor.id ?? null);
      });
    },

    /**
     * Exchanges an enrollment token for a long-lived host token bound to the machine id. The token
     * is consumed in one conditional update, so two racing agents cannot both enroll.
     */
    async enroll(
      ctx: ActionContext,
      input: { token: string; machineId: string; hostname: string },
    ) {
      const hash = await sha256Hex(input.token);
      const row = await db.selectFrom("host_enrollments").selectAll().where("token_hash", "=", hash)
        .executeTakeFirst();
      const now = clock.now();
      const host = row && await self.byId(row.host_id);
      return await audit.run(ctx, "host.enrolled", {
        orgId: row?.org_id,
        target: { type: "host", id: host?.id, name: host?.name },
        metadata: { machine_id: input.machineId, hostname: input.hostname },
      }, async () => {
        if (!row || !host || row.used_at !== null || row.expires_at <= now) {
          throw new HttpError(
            401,
            "invalid_enrollment",
            "The enrollment token is invalid, used or expired",
          );
        }
        const used = await db.updateTable("host_enrollments").set({ used_at: now }).where(
          "id",
          "=",
          row.id,
        )
          .where("used_at", "is", null).executeTakeFirst();
        if (Number(used.numUpdatedRows ?? 0) !== 1) {
          throw new HttpError(
            401,
            "invalid_enrollment",
            "The enrollment token is invalid, used or expired",
          );
        }
        const token = randomToken("caph_", 32);
        await db.updateTable("hosts").set({
          token_hash: await sha256Hex(token),
          machine_id: input.machineId,
          hostname: input.hostname,
          enrolled_at: now,
        }).where("id", "=", host.id).execute();
        return { hostId: host.id, orgId: host.org_id, token };
      });
    },

    /** The host a token belongs to, or undefined. */
    async byToken(token: string): Promise<(Host & { machine_id: string | null }) | undefined> {
      if (!HOST_TOKEN_PATTERN.test(token)) return undefined;
      const row = await db.selectFrom("hosts").select(HOST_COLUMNS).where(
        "token_hash",
        "=",
        await sha256Hex(token),
      )
        .where("removed_at", "is", null).executeTakeFirst();
      return row && view(row);
    },

    /** Replaces the host token; the old one stops working at once. Returns the new token (shown once). */
    async rotateToken(ctx: ActionContext, orgId: string, hostId: string): Promise<string> {
      const host = await self.get(orgId, hostId);
      return await audit.run(ctx, "host.token_rotated", {
        orgId,
        target: { type: "host", id: host.id, name: host.name },
      }, async () => {
        if (host.local) {
          throw conflict(`Cannot rotate the token of "${host.name}": the embedded agent has none`);
        }
        const token = randomToken("caph_", 32);
        await db.updateTable("hosts").set({ token_hash: await sha256Hex(token) }).where(
          "id",
          "=",
          host.id,
        ).execute();
        return token;
      });
    },

    /** Renames a host (audited); then the `renamed` hook (alerts show the new name). */
    async rename(ctx: ActionContext, orgId: string, hostId: string, name: string): Promise<Host> {
      const host = await self.get(orgId, hostId);
      const renamed = await audit.run(ctx, "host.renamed", {
        orgId,
        target: { type: "host", id: host.id, name },
        metadata: { from: host.name, to: name },
      }, async () => {
        if (await nameTaken(orgId, name, host.id)) {
          throw conflict(`Cannot rename host to "${name}": name is already in use`);
        }
        await db.updateTable("hosts").set({ name }).where("id", "=", host.id).execute();
        return { ...host, name };
      });
      await hooks.renamed?.(host, name);
      return renamed;
    },

    async setLabels(
      ctx: ActionContext,
      orgId: string,
      hostId: string,
      labels: Record<string, string>,
    ): Promise<Host> {
      const host = await self.get(orgId, hostId);
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
      const host = await self.get(orgId, hostId);
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
        if (machineId === undefined) return view(existing);
        if (existing.machine_id === null) {
          await db.updateTable("hosts").set({ machine_id: machineId }).where("id", "=", existing.id)
            .execute();
        }
        return view({ ...existing, machine_id: machineId });
      }
      const now = clock.now();
      let finalName = name;
      for (let i = 2; await nameTaken(orgId, finalName); i++) finalName = `${name}-${i}`;
      const id = uuidv7(now);
      await db.insertInto("hosts").values({
        id,
        org_id: orgId,
        name: finalName,
        labels: JSON.stringify({ local: "true" }),
        local: 1,
        machine_id: machineId ?? null,
        token_hash: null,
        created_at: now,
        enrolled_at: now,
        last_seen_at: null,
        agent_version: null,
        hostname: null,
        docker_version: null,
        os: null,
        kernel: null,
        arch: null,
        cpus: null,
        memory_bytes: null,
        containers_running: null,
        containers_total: null,
        engine: "{}",
        removed_at: null,
      }).execute();
      return (await self.byId(id))!;
    },

    /** Stores what the agent said about itself on connecting. */
    async recordHello(hostId: string, hello: Hello): Promise<void> {
      const e = hello.engine;
      await db.updateTable("hosts").set({
        last_seen_at: clock.now(),
        agent_version: hello.agent_version,
        hostname: hello.hostname,
        ...(e
          ? {
            docker_version: e.docker_version,
            os: e.os,
            kernel: e.kernel,
            arch: e.arch,
            cpus: e.cpus,
            memory_bytes: e.memory_bytes,
            containers_running: e.containers_running,
            containers_total: e.containers_total,
            engine: JSON.stringify(e),
          }
          : {}),
      }).where("id", "=", hostId).execute();
    },

    async touch(hostId: string): Promise<void> {
      await db.updateTable("hosts").set({ last_seen_at: clock.now() }).where("id", "=", hostId)
        .execute();
    },

    /** Replaces the cached container list of a host with a full snapshot (reconcile). */
    async applySnapshot(
      host: { id: string; org_id: string },
      containers: ContainerState[],
    ): Promise<void> {
      const now = clock.now();
      await db.transaction().execute(async (tx) => {
        await tx.deleteFrom("containers").where("host_id", "=", host.id).execute();
        for (let i = 0; i < containers.length; i += 200) {
          await tx.insertInto("containers").values(
            containers.slice(i, i + 200).map((c) => row(host, c, now)),
          ).execute();
        }
        await tx.updateTable("hosts").set({
          containers_total: containers.length,
          containers_running: containers.filter((c) => c.state === "running").length,
          last_seen_at: now,
        }).where("id", "=", host.id).execute();
      });
    },

    /** Applies one container event: upsert the container's new state, or drop it when destroyed. */
    async applyContainer(
      host: { id: string; org_id: string },
      id: string,
      c: ContainerState | undefined,
    ): Promise<void> {
      const now = clock.now();
      await db.transaction().execute(async (tx) => {
        await tx.deleteFrom("containers").where("host_id", "=", host.id).where("id", "=", id)
          .execute();
        if (c) await tx.insertInto("containers").values(row(host, c, now)).execute();
        const counts = await tx.selectFrom("containers").select((eb) => [
          eb.fn.countAll<number>().as("total"),
          eb.fn.sum<number>(eb.case().when("state", "=", "running").then(1).else(0).end()).as(
            "running",
          ),
        ]).where("host_id", "=", host.id).executeTakeFirstOrThrow();
        await tx.updateTable("hosts").set({
          containers_total: Number(counts.total),
          containers_running: Number(counts.running ?? 0),
          last_seen_at: now,
        }).where("id", "=", host.id).execute();
      });
    },
  };
  return self;
}

function row(host: { id: string; org_id: string }, c: ContainerState, now: number) {
  return {
    host_id: host.id,
    id: c.id,
    org_id: host.org_id,
    name: c.name,
    image: c.image,
    image_id: c.image_id,
    command: c.command,
    state: c.state,
    status: c.status,
    created: c.created,
    labels: JSON.stringify(c.labels),
    ports: JSON.stringify(c.ports),
    updated_at: now,
  };
}

export type Hosts = ReturnType<typeof createHosts>;
