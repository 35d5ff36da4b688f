/**
 * Attempt counters in the database, shared by every hub replica. An attempt is reserved before the
 * slow work it guards (a password hash) in one atomic upsert per counter, so parallel requests
 * cannot all pass the check before any of them is counted.
 */
import { sql } from "kysely";
import type { Db } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import { randomToken } from "../util/ids.ts";
import { tokenHash } from "../util/token_hash.ts";

/**
 * How one counter limits: `max` attempts per `windowMs`; after that either no attempt until the
 * window ends (`lock`) or one attempt every `slowMs` (a back-off that slows guessing down without
 * locking anyone out for the whole window).
 */
export type AttemptRule =
  | { max: number; windowMs: number; lock: true }
  | { max: number; windowMs: number; slowMs: number };

/** One counter to reserve an attempt under: its name (stored only hashed) and its rule. */
export interface AttemptKey {
  name: string;
  rule: AttemptRule;
}

/** A counter an attempt was taken under (its hashed key). */
interface Taken {
  key: string;
  rule: AttemptRule;
}

/** What `reserve` answers: accepted (with what to give back on success), or the wait and who refused. */
export type Reservation =
  | { ok: true; taken: Taken[] }
  | { ok: false; retryAfterMs: number; refusedBy: string };

/** Counters of attempts per key, with atomic reservation (see the module comment). */
export function createAttemptCounters(db: Db, clock: Clock) {
  const hashOf = (name: string) => tokenHash(name);

  /** Takes one slot under `key` atomically; accepted when the row carries our nonce afterwards. */
  async function take(key: string, rule: AttemptRule, now: number) {
    const nonce = randomToken("", 12);
    const resetAt = now + rule.windowMs;
    // When the max is used up, no attempt until the window ends, or until the next slow step.
    const blockUntil = "lock" in rule ? sql`t.reset_at` : sql`cast(${now + rule.slowMs} as bigint)`;
    const firstNext = rule.max > 1 ? 0 : "lock" in rule ? resetAt : now + rule.slowMs;
    // Every SET expression reads the old row, in SQLite as in PostgreSQL.
    const { rows } = await sql<{ next_at: number; nonce: string }>`
      insert into auth_attempts as t (key, count, reset_at, next_at, nonce)
      values (${key}, 1, ${resetAt}, ${firstNext}, ${nonce})
      on conflict (key) do update set
        count = case when t.reset_at <= ${now} then 1
          when t.next_at <= ${now} then t.count + 1 else t.count end,
        next_at = case when t.reset_at <= ${now} then cast(${firstNext} as bigint)
          when t.next_at > ${now} then t.next_at
          when t.count + 1 >= ${rule.max} then ${blockUntil} else 0 end,
        reset_at = case when t.reset_at <= ${now} then cast(${resetAt} as bigint)
          else t.reset_at end,
        nonce = case when t.reset_at <= ${now} or t.next_at <= ${now} then ${nonce}
          else t.nonce end
      returning next_at, nonce`.execute(db);
    const row = rows[0];
    return { accepted: row.nonce === nonce, waitMs: Math.max(1000, Number(row.next_at) - now) };
  }

  /**
   * Gives back one attempt under each key (the attempt succeeded, or another counter refused it),
   * lifting a block that attempt had set off.
   */
  async function giveBack(taken: Taken[]): Promise<void> {
    for (const { key, rule } of taken) {
      await sql`update auth_attempts set count = count - 1,
          next_at = case when count - 1 < ${rule.max} then 0 else next_at end
        where key = ${key} and count > 0`.execute(db);
    }
  }

  return {
    /**
     * Reserves one attempt under every key, in order. When one refuses, the attempts already
     * taken are given back (a refused attempt costs its caller nothing but the wait).
     */
    async reserve(keys: AttemptKey[]): Promise<Reservation> {
      const now = clock.now();
      const taken: Taken[] = [];
      for (const k of keys) {
        const key = await hashOf(k.name);
        const r = await take(key, k.rule, now);
        if (!r.accepted) {
          await giveBack(taken);
          return { ok: false, retryAfterMs: r.waitMs, refusedBy: k.name };
        }
        taken.push({ key, rule: k.rule });
      }
      return { ok: true, taken };
    },
    /** Gives back a reservation's attempts (a successful sign-in is not a failure). */
    async release(reservation: { taken: Taken[] }): Promise<void> {
      await giveBack(reservation.taken);
    },
    /** Forgets a counter (a success clears the failures of that account from that address). */
    async clear(name: string): Promise<void> {
      await db.deleteFrom("auth_attempts").where("key", "=", await hashOf(name)).execute();
    },
    /** Remembers `name` for `ttlMs` (e.g. an address an account signed in from). */
    async remember(name: string, ttlMs: number): Promise<void> {
      const key = await hashOf(name);
      const resetAt = clock.now() + ttlMs;
      await db.insertInto("auth_attempts").values({
        key,
        count: 0,
        reset_at: resetAt,
        next_at: 0,
        nonce: "",
      }).onConflict((oc) => oc.column("key").doUpdateSet({ reset_at: resetAt })).execute();
    },
    /** Whether `name` was remembered and has not expired. */
    async remembers(name: string): Promise<boolean> {
      const row = await db.selectFrom("auth_attempts").select("reset_at")
        .where("key", "=", await hashOf(name)).executeTakeFirst();
      return row !== undefined && Number(row.reset_at) > clock.now();
    },
    /** Deletes counters whose window has ended (a scheduled job). */
    async purgeExpired(): Promise<number> {
      const r = await db.deleteFrom("auth_attempts").where("reset_at", "<=", clock.now())
        .executeTakeFirst();
      return Number(r.numDeletedRows ?? 0);
    },
  };
}

export type AttemptCounters = ReturnType<typeof createAttemptCounters>;
