/**
 * Notifications of the engine's ops: the message a notification carries, queueing it for the
 * rule's channels inside the op's transaction, and the notify op itself (a reminder, or the first
 * notification of an alert that was withheld when it fired, e.g. in quiet hours).
 */
import type { Transaction } from "kysely";
import type { AlertsEvent } from "../../realtime/topics.ts";
import type { Db } from "../../db/mod.ts";
import type { AlertsTable, Database } from "../../db/schema.ts";
import type { ChannelStore } from "../channels/store.ts";
import type { Delivery } from "../channels/delivery.ts";
import type { AlertMessage, NotificationEvent } from "../channels/message.ts";
import type { StateStore } from "../state_store.ts";
import type { CompiledRule } from "../compile.ts";
import { withheld } from "../evaluator.ts";
import { firingDetail } from "../describe.ts";
import type { OrgState } from "./cache.ts";
import type { NotifyOp } from "./worker.ts";
import { snapOf, stateWrite } from "./subject.ts";

/** What the fire, resolve and notify ops use: storage, channels and the engine's judgement. */
export interface OpContext {
  db: Db;
  states: StateStore;
  channels: ChannelStore;
  delivery: Delivery;
  /** Publishes an alert change on `org:<id>:alerts`. */
  publish(orgId: string, data: AlertsEvent): void;
  /** Whether a host counts as down (its containers' alerts are muted). */
  hostDown(org: OrgState, hostId: string, now: number): boolean;
  publicUrl: string;
}

/** Link to an organization's notification center, when the hub's public URL is known. */
export function notificationsUrl(publicUrl: string, slug: string): string | null {
  return publicUrl ? `${publicUrl}/o/${slug}/notifications` : null;
}

/** The message of a notification about alert `a`. */
export function alertMessage(
  c: OpContext,
  org: OrgState,
  rule: CompiledRule,
  a: AlertsTable,
  event: NotificationEvent,
  detail: string,
): AlertMessage {
  return {
    event,
    alert_id: a.id,
    org: org.slug,
    rule: rule.name,
    severity: a.severity,
    title: a.title,
    detail,
    host: a.host_name,
    container: a.container_name,
    value: a.value,
    started_at: Number(a.started_at),
    ended_at: a.ended_at === null ? null : Number(a.ended_at),
    url: notificationsUrl(c.publicUrl, org.slug),
  };
}

/** Queues a notification to each of the rule's channels in `tx`; returns the deliveries to kick. */
export async function queueNotifications(
  c: OpContext,
  tx: Transaction<Database>,
  org: OrgState,
  rule: CompiledRule,
  a: AlertsTable,
  event: NotificationEvent,
  detail: string,
): Promise<string[]> {
  const channels = await c.channels.forRule(org.id, rule.spec.channels, tx);
  return await c.delivery.enqueue(
    tx,
    org.id,
    a.id,
    event,
    alertMessage(c, org, rule, a, event, detail),
    channels,
  );
}

/**
 * Runs a notify op: notifies a firing, unacknowledged alert unless something withholds it now.
 * Returns false when another writer changed the subject first (the caller reloads it).
 */
export async function runNotify(
  c: OpContext,
  op: NotifyOp,
  rule: CompiledRule,
  now: number,
): Promise<boolean> {
  const { org, subj } = op;
  if (subj.state !== "firing" || !subj.alertId) return true;
  let kicked: string[] = [];
  const done = await c.db.transaction().execute(async (tx) => {
    const stored = await c.states.get(subj.ruleId, subj.subject, tx);
    const a = await tx.selectFrom("alerts").selectAll().where("id", "=", subj.alertId!)
      .executeTakeFirst();
    if (!a || a.state !== "firing") return undefined;
    const muted = subj.containerId !== "" && c.hostDown(org, subj.hostId, now);
    const gate = withheld({
      quiet: rule.quiet,
      silencedUntil: Math.max(Number(stored?.silenced_until ?? 0), Number(a.silenced_until ?? 0)) ||
        null,
      acknowledged: a.acknowledged_at !== null,
      muted,
      event: op.event,
    }, now);
    if (gate !== null) return undefined;
    const v = await c.states.cas(
      tx,
      stateWrite(subj, snapOf(subj), org.id, { last_notified_at: now }),
      subj.version,
      now,
    );
    if (v === null) return null;
    if (a.muted) {
      await tx.updateTable("alerts").set({ muted: 0 }).where("id", "=", a.id).execute();
    }
    const detail = op.event === "reminder"
      ? `Still firing since ${new Date(Number(a.started_at)).toISOString()}`
      : firingDetail(rule, { value: a.value, container: a.container_name });
    kicked = await queueNotifications(c, tx, org, rule, a, op.event, detail);
    return v;
  });
  if (done === null) return false;
  if (done === undefined) return true;
  subj.version = done;
  subj.lastNotifiedAt = now;
  c.delivery.kick(kicked);
  return true;
}
