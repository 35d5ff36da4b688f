/** The alert history: list and filter, acknowledge, silence, and each user's unread count. */
import { sql } from "kysely";
import type { Db } from "../db/mod.ts";
import type { AlertsTable } from "../db/schema.ts";
import type { Clock } from "../util/clock.ts";
import type { ActionContext, AuditLog } from "../audit/service.ts";
import { NotFound } from "../errors.ts";
import type { AlertsEvent } from "../realtime/topics.ts";

/** An alert row. */
export type AlertRow = AlertsTable;

/** Filters of the alert list; `before` is the id of the last row of the previous page. */
export interface AlertFilters {
  orgId: string;
  state?: "firing" | "resolved";
  severity?: "warning" | "critical";
  hostId?: string;
  from?: number;
  to?: number;
  before?: string;
  limit: number;
}

/** How far back an unread count looks for a user who never opened the notification center. */
const UNREAD_LOOKBACK_MS = 7 * 24 * 3600_000;
/** Unread counts stop at this (a badge says 99+ long before). */
const UNREAD_CAP = 1000;

/** Alert history queries and the user actions on alerts (audited). */
export function createAlertHistory(
  db: Db,
  clock: Clock,
  audit: AuditLog,
  onChange: (orgId: string, data: AlertsEvent) => void,
) {
  const self = {
    /** Newest first; `nextBefore` pages further back. */
    async list(f: AlertFilters): Promise<{ rows: AlertRow[]; nextBefore: string | null }> {
      let q = db.selectFrom("alerts").selectAll().where("org_id", "=", f.orgId);
      if (f.state) q = q.where("state", "=", f.state);
      if (f.severity) q = q.where("severity", "=", f.severity);
      if (f.hostId) q = q.where("host_id", "=", f.hostId);
      if (f.from !== undefined) q = q.where("started_at", ">=", f.from);
      if (f.to !== undefined) q = q.where("started_at", "<=", f.to);
      if (f.before) q = q.where("id", "<", f.before);
      const rows = await q.orderBy("id", "desc").limit(f.limit + 1).execute();
      const page = rows.slice(0, f.limit);
      return { rows: page, nextBefore: rows.length > f.limit ? page[page.length - 1].id : null };
    },

    /** One alert of an organization (404 for another organization's). */
    async get(orgId: string, id: string): Promise<AlertRow> {
      const row = await db.selectFrom("alerts").selectAll().where("org_id", "=", orgId)
        .where("id", "=", id).executeTakeFirst();
      if (!row) throw new NotFound("alert not found");
      return row;
    },

    /** Marks an alert seen and handled by someone: no more reminders for it. */
    async acknowledge(ctx: ActionContext, orgId: string, id: string): Promise<AlertRow> {
      const alert = await self.get(orgId, id);
      return await audit.run(ctx, "alert.acknowledged", {
        orgId,
        target: { type: "alert", id, name: alert.title },
      }, async () => {
        const now = clock.now();
        await db.updateTable("alerts").set({
          acknowledged_by: ctx.actor.name ?? ctx.actor.id ?? null,
          acknowledged_at: now,
        }).where("id", "=", id).where("acknowledged_at", "is", null).execute();
        const row = await self.get(orgId, id);
        onChange(orgId, { kind: "acknowledged", id });
        return row;
      });
    },

    /**
     * Withholds notifications of an alert for `minutes`, and of its subject re-firing within that
     * time (a flapping service should not wake anyone through a silence).
     */
    async silence(ctx: ActionContext, orgId: string, id: string, minutes: number) {
      const alert = await self.get(orgId, id);
      return await audit.run(ctx, "alert.silenced", {
        orgId,
        target: { type: "alert", id, name: alert.title },
        metadata: { minutes },
      }, async () => {
        const until = clock.now() + minutes * 60_000;
        await db.updateTable("alerts").set({ silenced_until: until }).where("id", "=", id)
          .execute();
        if (alert.rule_id) {
          await db.updateTable("alert_rule_states").set({ silenced_until: until })
            .where("rule_id", "=", alert.rule_id).where("subject", "=", alert.subject).execute();
        }
        onChange(orgId, { kind: "silenced", id, silenced_until: until });
        return await self.get(orgId, id);
      });
    },

    /**
     * Firing alerts nobody has acknowledged (muted ones, about an offline host's containers, left
     * out): what the bell counts, so it stays up while something is wrong and unhandled, however
     * often the notification center is opened.
     */
    async openCount(orgId: string): Promise<number> {
      const rows = await db.selectFrom("alerts").select("id").where("org_id", "=", orgId)
        .where("state", "=", "firing").where("acknowledged_at", "is", null)
        .where("muted", "=", 0).limit(UNREAD_CAP).execute();
      return rows.length;
    },

    /** Alerts that started since the user last opened the notification center. */
    async unreadCount(
      userId: string,
      orgId: string,
    ): Promise<{ count: number; last_read_at: number | null }> {
      const read = await db.selectFrom("alert_reads").select("last_read_at")
        .where("user_id", "=", userId).where("org_id", "=", orgId).executeTakeFirst();
      const since = read ? Number(read.last_read_at) : clock.now() - UNREAD_LOOKBACK_MS;
      const rows = await db.selectFrom("alerts").select("id").where("org_id", "=", orgId)
        .where("started_at", ">", since).where("muted", "=", 0).limit(UNREAD_CAP).execute();
      return { count: rows.length, last_read_at: read ? Number(read.last_read_at) : null };
    },

    /**
     * A host was renamed: its alerts show the new name. Titles are "<rule> on <host>…"
     * (describe.ts), so the part naming the host is replaced where a title starts that way.
     */
    async renameHost(hostId: string, name: string): Promise<void> {
      const head = sql<string>`alerts.rule_name || ' on ' || alerts.host_name`;
      await db.updateTable("alerts").set({
        title: sql<string>`case when substr(alerts.title, 1, length(${head})) = ${head}
          then alerts.rule_name || ' on ' || cast(${name} as text) ||
            substr(alerts.title, length(${head}) + 1)
          else alerts.title end`,
        host_name: name,
      }).where("host_id", "=", hostId).where("host_name", "is not", null)
        .where("host_name", "!=", name).execute();
    },

    /** Marks everything up to now read for the user. */
    async markRead(userId: string, orgId: string): Promise<number> {
      const now = clock.now();
      await db.insertInto("alert_reads").values({
        user_id: userId,
        org_id: orgId,
        last_read_at: now,
      })
        .onConflict((oc) => oc.columns(["user_id", "org_id"]).doUpdateSet({ last_read_at: now }))
        .execute();
      return now;
    },
  };
  return self;
}

export type AlertHistory = ReturnType<typeof createAlertHistory>;
