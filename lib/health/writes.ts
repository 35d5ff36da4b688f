/**
 * The writes of health checks, each audited: create on a cached container, update (label checks
 * take only `enabled`), delete, and what becomes of a removed container's checks. Every write
 * announces itself on the organization's health topic and asks for the host's agent to sync.
 */
import type { z } from "zod";
import type { Db } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import type { ActionContext, AuditLog } from "../audit/service.ts";
import { Conflict, NotFound } from "../errors.ts";
import { uuidv7 } from "../util/ids.ts";
import { findCachedContainer } from "../hosts/container_ref.ts";
import { type CheckCreateInput, type CheckFields, normalizeCheck } from "./schema.ts";
import {
  changeBase,
  freshState,
  type HealthChange,
  type HealthCheckView,
  newRow,
  type Row,
  specColumns,
  specOf,
  view,
} from "./rows.ts";
import { checkWrite, type HealthCaller, type RightsDeps } from "./rights.ts";
import { checkRows, MAX_LIST } from "./reads.ts";
import type { HealthEvent } from "../realtime/topics.ts";

/** What the writes need: storage, time, the audit log, rights, and the service's announcements. */
export interface HealthWritesDeps {
  db: Db;
  clock: Clock;
  audit: AuditLog;
  rights: RightsDeps;
  /** Publishes on the organization's health topic (best effort). */
  announce(orgId: string, data: HealthEvent): void;
  /** A state change: announced live and handed to the alerts hook. */
  announceChange(c: HealthChange): void;
  /** Asks for the host's agent to get the host's current set of checks. */
  requestSync(hostId: string): void;
}

/** Creates the writes; see the module comment. */
export function createHealthWrites(deps: HealthWritesDeps) {
  const { db, clock, audit, rights, announce, announceChange } = deps;
  const { base, row } = checkRows(db);

  /** A container of an organization's host in the cache, by full id, unique id prefix or name. */
  async function findContainer(orgId: string, hostId: string, ref: string) {
    const host = await db.selectFrom("hosts").select(["id", "name"]).where("org_id", "=", orgId)
      .where("id", "=", hostId).where("removed_at", "is", null).executeTakeFirst();
    if (!host) throw new NotFound("Host not found");
    const c = await findCachedContainer(db, orgId, hostId, ref);
    if (!c) throw new NotFound(`Container "${ref}" not found`);
    return { id: c.id, name: c.name.replace(/^\//, "") };
  }

  const self = {
    /**
     * Starts monitoring a container (audited `health_check.created`, with the command of a
     * command check); the caller's rights decide what the check may probe (rights.ts).
     */
    async create(
      ctx: ActionContext,
      orgId: string,
      input: z.infer<typeof CheckCreateInput>,
      caller: HealthCaller,
      opts: { urlField?: "http.url" | "http.host" } = {},
    ): Promise<HealthCheckView> {
      const { host_id, container, ...fields } = input;
      const normal = normalizeCheck(fields as CheckFields);
      const ctr = await findContainer(orgId, host_id, container);
      const spec = await checkWrite(
        rights,
        { orgId, hostId: host_id, containerId: ctr.id },
        caller,
        normal,
        undefined,
        opts.urlField,
      );
      const now = clock.now();
      const id = uuidv7(now);
      await audit.run(ctx, "health_check.created", {
        orgId,
        target: { type: "health_check", id, name: spec.name },
        metadata: {
          kind: spec.kind,
          host_id,
          container: ctr.name,
          ...(spec.kind === "command" ? { command: spec.config.argv } : {}),
        },
      }, async () => {
        await db.insertInto("health_checks").values(newRow(
          {
            id,
            org_id: orgId,
            host_id,
            container_id: ctr.id,
            container_name: ctr.name,
            source: "manual",
            created_by: ctx.actor.id ?? null,
          },
          spec,
          now,
        )).execute();
      });
      announce(orgId, { kind: "created", check_id: id, host_id });
      deps.requestSync(host_id);
      return view(await row(orgId, id));
    },

    /**
     * Changes a check (audited `health_check.updated`, with the command before and after when it
     * changed); label checks only take `enabled`; the caller's rights as for create.
     */
    async update(
      ctx: ActionContext,
      orgId: string,
      id: string,
      input: CheckFields,
      caller: HealthCaller,
      opts: { urlField?: "http.url" | "http.host" } = {},
    ): Promise<HealthCheckView> {
      const r = await row(orgId, id);
      if (r.source === "label") {
        const other = Object.keys(input).filter((k) =>
          k !== "enabled" && input[k as keyof CheckFields] !== undefined
        );
        if (other.length) {
          throw new Conflict(
            `Cannot change health check "${r.name}": it is declared by the container's labels ` +
              `(change the labels instead; only enabled can be set here)`,
            "label_check",
          );
        }
      }
      const before = specOf(r);
      const spec = await checkWrite(
        rights,
        { orgId, hostId: r.host_id, containerId: r.container_id },
        caller,
        normalizeCheck(input, before),
        before,
        opts.urlField,
      );
      const argv = (s: typeof spec) => (s.kind === "command" ? s.config.argv : null);
      const command = JSON.stringify(argv(before)) !== JSON.stringify(argv(spec))
        ? { command: { from: argv(before), to: argv(spec) } }
        : {};
      const now = clock.now();
      const probeChanged = JSON.stringify({ ...before, name: "", enabled: true }) !==
        JSON.stringify({ ...spec, name: "", enabled: true });
      const reset = probeChanged || spec.enabled !== before.enabled;
      await audit.run(ctx, "health_check.updated", {
        orgId,
        target: { type: "health_check", id, name: spec.name },
        metadata: {
          fields: Object.keys(input).filter((k) => k !== "http" && k !== "command"),
          ...command,
        },
      }, async () => {
        await db.updateTable("health_checks").set({
          ...specColumns(spec),
          ...(reset ? freshState(now) : {}),
          updated_at: now,
        }).where("id", "=", id).execute();
      });
      if (reset && r.state !== "unknown") {
        announceChange({
          ...changeBase(r),
          from: r.state,
          to: spec.enabled ? "unknown" : "removed",
          at: now,
          error: null,
        });
      }
      deps.requestSync(r.host_id);
      return view(await row(orgId, id));
    },

    /** Stops monitoring (audited `health_check.deleted`); its history goes with it. */
    async remove(ctx: ActionContext, orgId: string, id: string): Promise<void> {
      const r = await row(orgId, id);
      if (r.source === "label") {
        throw new Conflict(
          `Cannot delete health check "${r.name}": it is declared by the container's labels ` +
            `(remove the labels, or disable it)`,
          "label_check",
        );
      }
      await audit.run(ctx, "health_check.deleted", {
        orgId,
        target: { type: "health_check", id, name: r.name },
      }, async () => {
        await db.deleteFrom("health_checks").where("id", "=", id).execute();
      });
      announceChange({
        ...changeBase(r),
        from: r.state,
        to: "removed",
        at: clock.now(),
        error: null,
      });
      deps.requestSync(r.host_id);
    },

    /**
     * A container was removed through Capstan, as the user chose for its checks: `pause` keeps
     * each manual check with its history, disabled and marked gone (enabled again by hand, e.g.
     * once a container of that name is back); `delete` deletes them with their history. Checks
     * declared by labels go with their container either way. Audited per check; open alerts end.
     */
    async containerRemoved(
      ctx: ActionContext,
      orgId: string,
      hostId: string,
      container: { id: string; name: string },
      mode: "pause" | "delete",
    ): Promise<number> {
      const rows = await base().where("health_checks.org_id", "=", orgId)
        .where("health_checks.host_id", "=", hostId)
        .where("health_checks.container_id", "=", container.id)
        .where("health_checks.source", "=", "manual").limit(MAX_LIST).execute() as Row[];
      for (const r of rows) {
        if (mode === "delete") {
          await self.remove(ctx, orgId, r.id);
          continue;
        }
        const now = clock.now();
        await audit.run(ctx, "health_check.paused", {
          orgId,
          target: { type: "health_check", id: r.id, name: r.name },
          metadata: { reason: "container removed", container: container.name },
        }, async () => {
          await db.updateTable("health_checks").set({
            enabled: 0,
            ...freshState(now),
            container_gone_at: now,
            updated_at: now,
          }).where("id", "=", r.id).execute();
        });
        announceChange({ ...changeBase(r), from: r.state, to: "removed", at: now, error: null });
      }
      if (rows.length && mode === "pause") deps.requestSync(hostId);
      return rows.length;
    },
  };
  return self;
}
