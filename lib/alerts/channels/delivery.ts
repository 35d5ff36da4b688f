/**
 * The delivery queue. A notification is a row per channel, written in the same transaction as the
 * state change that caused it, then tried at once in the background; failures are retried with
 * exponential backoff by a lease-protected job until `maxAttempts`. Sending never runs on the
 * evaluation path, so a slow or failing channel cannot hold up alerts.
 *
 * A row is claimed (attempts+1, `claimed_until`) by a conditional update before it is sent, so two
 * replicas never send the same attempt; a replica that dies mid-send leaves a claim that expires,
 * and the job tries again (at-least-once: receivers deduplicate on the delivery id).
 */
import type { Db } from "../../db/mod.ts";
import type { AlertDeliveriesTable, Database } from "../../db/schema.ts";
import type { Transaction } from "kysely";
import type { Clock } from "../../util/clock.ts";
import type { Logger } from "../../log.ts";
import { uuidv7 } from "../../util/ids.ts";
import type { ChannelRow, ChannelStore } from "./store.ts";
import type { AlertMessage, NotificationEvent } from "./message.ts";
import { type SendOptions, sendToChannel } from "./send.ts";

/** A delivery row. */
export type DeliveryRow = AlertDeliveriesTable;

/** Retry policy: attempt n (1-based) failing waits base·2^(n−1), at most `capMs`. */
export interface Backoff {
  baseMs: number;
  capMs: number;
  maxAttempts: number;
}

/** Defaults: 30 s, 1 min, 2 min, … up to 1 h; 8 attempts (about 2 h in all). */
export const DEFAULT_BACKOFF: Backoff = { baseMs: 30_000, capMs: 3600_000, maxAttempts: 8 };
/** How long a claim holds a row: longer than any send may take (timeouts are 10–30 s). */
const CLAIM_MS = 120_000;
/** Rows tried per job tick, and at once. */
const BATCH = 50;
const CONCURRENCY = 8;

/** Delay before the next attempt after `attempts` failed ones. */
export function backoffDelay(b: Backoff, attempts: number): number {
  return Math.min(b.capMs, b.baseMs * 2 ** Math.max(0, attempts - 1));
}

/** The queue and its sender. */
export function createDelivery(deps: {
  db: Db;
  clock: Clock;
  log: Logger;
  channels: ChannelStore;
  send: SendOptions;
  backoff?: Backoff;
}) {
  const { db, clock } = deps;
  const backoff = deps.backoff ?? DEFAULT_BACKOFF;
  const inFlight = new Set<Promise<unknown>>();

  async function claim(id: string, now: number): Promise<boolean> {
    const r = await db.updateTable("alert_deliveries").set((eb) => ({
      claimed_until: now + CLAIM_MS,
      attempts: eb("attempts", "+", 1),
    })).where("id", "=", id).where("status", "=", "pending").where("next_attempt_at", "<=", now)
      .where((eb) => eb.or([eb("claimed_until", "is", null), eb("claimed_until", "<", now)]))
      .executeTakeFirst();
    return Number(r.numUpdatedRows ?? 0) === 1;
  }

  /** Sends a claimed row once and records the outcome. */
  async function attempt(id: string): Promise<DeliveryRow["status"] | "skipped"> {
    const now = clock.now();
    if (!await claim(id, now)) return "skipped";
    const d = (await db.selectFrom("alert_deliveries").selectAll().where("id", "=", id)
      .executeTakeFirst())!;
    let error: string | null = null;
    let channel: ChannelRow | undefined;
    try {
      channel = await db.selectFrom("alert_channels").selectAll().where("id", "=", d.channel_id)
        .executeTakeFirst();
      if (!channel || channel.enabled !== 1) throw new Error("channel is disabled");
      const cfg = await deps.channels.open(channel);
      await sendToChannel(channel.kind, cfg, JSON.parse(d.message) as AlertMessage, {
        deliveryId: d.id,
        now,
        options: deps.send,
      });
    } catch (err) {
      error = (err instanceof Error ? err.message : String(err)).slice(0, 500);
    }
    const done = clock.now();
    if (error === null) {
      await db.updateTable("alert_deliveries").set({
        status: "sent",
        sent_at: done,
        last_error: null,
        claimed_until: null,
      }).where("id", "=", id).execute();
      return "sent";
    }
    const attempts = Number(d.attempts);
    const final = attempts >= backoff.maxAttempts || error === "channel is disabled";
    await db.updateTable("alert_deliveries").set({
      status: final ? "failed" : "pending",
      last_error: error,
      next_attempt_at: done + backoffDelay(backoff, attempts),
      claimed_until: null,
    }).where("id", "=", id).execute();
    if (final) {
      deps.log.warn("alert delivery failed for good", { delivery: id, channel: d.channel_id });
    }
    return final ? "failed" : "pending";
  }

  const track = <T>(p: Promise<T>) => {
    inFlight.add(p);
    p.finally(() => inFlight.delete(p)).catch(() => {});
    return p;
  };

  return {
    /** Queues one notification per channel inside the caller's transaction; returns the row ids. */
    async enqueue(
      tx: Transaction<Database> | Db,
      orgId: string,
      alertId: string | null,
      event: NotificationEvent,
      message: AlertMessage,
      channels: ChannelRow[],
    ): Promise<string[]> {
      const now = clock.now();
      const rows: DeliveryRow[] = channels.map((c) => ({
        id: uuidv7(now),
        org_id: orgId,
        alert_id: alertId,
        channel_id: c.id,
        event,
        status: "pending",
        attempts: 0,
        last_error: null,
        next_attempt_at: now,
        claimed_until: null,
        message: JSON.stringify(message),
        created_at: now,
        sent_at: null,
      }));
      if (rows.length) await tx.insertInto("alert_deliveries").values(rows).execute();
      return rows.map((r) => r.id);
    },

    /** Tries freshly queued rows now, in the background (after their transaction committed). */
    kick(ids: string[]): void {
      for (const id of ids) {
        track(
          attempt(id).catch((e) =>
            deps.log.error("alert delivery attempt failed", { delivery: id, error: String(e) })
          ),
        );
      }
    },

    attempt,

    /** The retry job: tries every due row (a bounded batch per tick). */
    async runDue(): Promise<{ tried: number }> {
      const now = clock.now();
      const due = await db.selectFrom("alert_deliveries").select("id").where(
        "status",
        "=",
        "pending",
      )
        .where("next_attempt_at", "<=", now)
        .where((eb) => eb.or([eb("claimed_until", "is", null), eb("claimed_until", "<", now)]))
        .orderBy("next_attempt_at").limit(BATCH).execute();
      for (let i = 0; i < due.length; i += CONCURRENCY) {
        await Promise.all(due.slice(i, i + CONCURRENCY).map((d) => track(attempt(d.id))));
      }
      return { tried: due.length };
    },

    /** Sends a test message through one channel now; recorded like any delivery. */
    async sendTest(orgId: string, channel: ChannelRow, message: AlertMessage) {
      const [id] = await this.enqueue(db, orgId, null, "test", message, [channel]);
      await attempt(id);
      const row = (await db.selectFrom("alert_deliveries").selectAll().where("id", "=", id)
        .executeTakeFirst())!;
      // A failed test is not retried: the admin is looking at the result now.
      if (row.status === "pending") {
        await db.updateTable("alert_deliveries").set({ status: "failed" }).where("id", "=", id)
          .execute();
      }
      return {
        id,
        status: row.status === "sent" ? "sent" as const : "failed" as const,
        error: row.last_error,
      };
    },

    /** Recent deliveries of a channel, newest first. */
    async list(orgId: string, channelId: string, limit = 50): Promise<DeliveryRow[]> {
      return await db.selectFrom("alert_deliveries").selectAll().where("org_id", "=", orgId)
        .where("channel_id", "=", channelId).orderBy("id", "desc").limit(limit).execute();
    },

    /** Resolves once every background attempt started so far has finished (tests, shutdown). */
    async idle(): Promise<void> {
      while (inFlight.size) await Promise.allSettled([...inFlight]);
    },
  };
}

export type Delivery = ReturnType<typeof createDelivery>;
