import type { Db } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import { randomToken } from "../util/ids.ts";
import { tokenHash } from "../util/token_hash.ts";

export const SESSION_COOKIE = "capstan_session";
/** Sessions last two weeks from sign-in; a password change ends them sooner. */
export const SESSION_TTL_MS = 14 * 24 * 3600 * 1000;

/** Browser sessions. The cookie carries a random id; the database keeps only its SHA-256. */
export function createSessions(db: Db, clock: Clock) {
  return {
    /** Starts a session and returns the cookie value (shown to nobody else). */
    async create(
      userId: string,
      meta: { ip?: string | null; userAgent?: string | null },
    ): Promise<string> {
      const id = randomToken("", 32);
      const now = clock.now();
      await db.insertInto("sessions").values({
        id_hash: await tokenHash(id),
        user_id: userId,
        created_at: now,
        expires_at: now + SESSION_TTL_MS,
        ip: meta.ip ?? null,
        user_agent: meta.userAgent?.slice(0, 300) ?? null,
      }).execute();
      return id;
    },

    /** The live session for a cookie value, or undefined. */
    async resolve(cookie: string): Promise<{ idHash: string; userId: string } | undefined> {
      if (!/^[\w-]{43}$/.test(cookie)) return undefined;
      const idHash = await tokenHash(cookie);
      const row = await db.selectFrom("sessions").select(["user_id", "expires_at"]).where(
        "id_hash",
        "=",
        idHash,
      )
        .executeTakeFirst();
      if (!row || row.expires_at <= clock.now()) return undefined;
      return { idHash, userId: row.user_id };
    },

    /** Whether the session with this id hash exists and has not expired. */
    async isLive(idHash: string): Promise<boolean> {
      const row = await db.selectFrom("sessions").select("expires_at").where("id_hash", "=", idHash)
        .executeTakeFirst();
      return row !== undefined && row.expires_at > clock.now();
    },
    async end(idHash: string): Promise<void> {
      await db.deleteFrom("sessions").where("id_hash", "=", idHash).execute();
    },

    /** Ends every session of a user except `keepIdHash` (used after a password change). */
    async endAllFor(userId: string, keepIdHash?: string): Promise<number> {
      let q = db.deleteFrom("sessions").where("user_id", "=", userId);
      if (keepIdHash) q = q.where("id_hash", "!=", keepIdHash);
      const r = await q.executeTakeFirst();
      return Number(r.numDeletedRows ?? 0);
    },

    async purgeExpired(): Promise<number> {
      const r = await db.deleteFrom("sessions").where("expires_at", "<=", clock.now())
        .executeTakeFirst();
      return Number(r.numDeletedRows ?? 0);
    },
  };
}

export type Sessions = ReturnType<typeof createSessions>;
