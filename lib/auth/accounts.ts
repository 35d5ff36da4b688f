import type { Db } from "../db/mod.ts";
import type { OrgRole, TokenScope } from "../db/schema.ts";
import type { Clock } from "../util/clock.ts";
import { constantTimeEqual, randomToken } from "../util/ids.ts";
import { tokenHash } from "../util/token_hash.ts";
import { Invalid, NotFound, RateLimited, Unauthenticated } from "../errors.ts";
import type { ActionContext, AuditLog } from "../audit/service.ts";
import type { Orgs } from "../orgs/service.ts";
import { DUMMY_HASH, verifyPassword } from "./password.ts";
import type { Sessions } from "./sessions.ts";
import type { ApiToken, Tokens } from "./tokens.ts";
import type { User, Users } from "./users.ts";
import { type AttemptKey, type AttemptRule, createAttemptCounters } from "./attempts.ts";

const SETUP_KEY = "setup_token_hash";
/** Name of the file in the data dir that holds the setup token until setup is done. */
export const SETUP_TOKEN_FILE = "setup-token";

const MINUTE = 60_000;

/**
 * Sign-in limits, each a counter in the database shared by every replica (see attempts.ts).
 * `pair` stops guessing one account from one address; `ip` stops one address trying many accounts;
 * `account` slows down guessing one account from many addresses without locking its owner out:
 * after 10 failures in the window it takes one attempt per 30 s from everywhere, and an address
 * the account signed in from before (kept 30 days) skips it.
 */
export const SIGN_IN_LIMITS = {
  pair: { max: 5, windowMs: 15 * MINUTE, lock: true },
  ip: { max: 20, windowMs: 15 * MINUTE, lock: true },
  account: { max: 10, windowMs: 15 * MINUTE, slowMs: 30_000 },
} satisfies Record<string, AttemptRule>;
const KNOWN_ADDRESS_MS = 30 * 24 * 60 * MINUTE;

/** "45 s" or "15 min". */
function waitText(ms: number): string {
  return ms < 90_000 ? `${Math.ceil(ms / 1000)} s` : `${Math.ceil(ms / MINUTE)} min`;
}

/** Sign-in, first-run setup, passwords and tokens: the account actions users take, each audited. */
export function createAccounts(deps: {
  db: Db;
  clock: Clock;
  audit: AuditLog;
  users: Users;
  sessions: Sessions;
  tokens: Tokens;
  orgs: Orgs;
  /** Where the hub wrote the setup token; removed once setup is done, as the token is then spent. */
  setupTokenFile?: string;
  /** Told after a user's sessions or tokens end, so their open sockets are closed (realtime). */
  onAccessChanged?: (userId: string) => void;
}) {
  const { db, clock, audit, users, sessions, tokens, orgs } = deps;
  const accessChanged = deps.onAccessChanged ?? (() => {});
  const attempts = createAttemptCounters(db, clock);

  return {
    /**
     * Checks email and password and starts a session. The attempt is reserved against the limits
     * (`SIGN_IN_LIMITS`) before the password is hashed, so parallel guesses cannot slip past them;
     * failures and refusals are audited; unknown emails cost the same time as wrong passwords.
     */
    async signIn(ctx: ActionContext, email: string, password: string, userAgent?: string | null) {
      const started = performance.now();
      const fail = async (status: 401 | 429, message: string, userId?: string) => {
        await audit.record({
          ctx: { ...ctx, actor: { type: "anonymous", id: userId ?? null, name: email } },
          action: "auth.sign_in",
          target: { type: "user", id: userId ?? null, name: email },
          status: "error",
          error: message,
          durationMs: performance.now() - started,
        });
        return status === 429
          ? new RateLimited(message)
          : new Unauthenticated(message, "invalid_credentials");
      };
      const ip = ctx.ip ?? "unknown";
      const pair = `pair:${email}|${ip}`;
      const known = `known:${email}|${ip}`;
      const keys: AttemptKey[] = [
        { name: pair, rule: SIGN_IN_LIMITS.pair },
        { name: `ip:${ip}`, rule: SIGN_IN_LIMITS.ip },
      ];
      if (!await attempts.remembers(known)) {
        keys.push({ name: `account:${email}`, rule: SIGN_IN_LIMITS.account });
      }
      const reserved = await attempts.reserve(keys);
      if (!reserved.ok) {
        const from = reserved.refusedBy.startsWith("account:")
          ? "for this account from many addresses"
          : reserved.refusedBy.startsWith("ip:")
          ? "from your address"
          : "for this account from your address";
        throw await fail(
          429,
          `Too many failed sign-ins ${from}; try again in ${waitText(reserved.retryAfterMs)}`,
        );
      }
      let cred: Awaited<ReturnType<Users["credentials"]>>;
      let ok: boolean;
      try {
        cred = await users.credentials(email);
        ok = await verifyPassword(password, cred?.password_hash ?? DUMMY_HASH);
      } catch (err) {
        // Not checked (the hash queue was full, the database failed): not a failed guess either.
        await attempts.release(reserved);
        throw err;
      }
      if (!cred || !ok) throw await fail(401, "Email or password is wrong", cred?.id);
      await attempts.release(reserved);
      await attempts.clear(pair);
      await attempts.remember(known, KNOWN_ADDRESS_MS);
      const user = (await users.byId(cred.id))!;
      const sessionId = await sessions.create(user.id, { ip: ctx.ip, userAgent });
      await audit.record({
        ctx: { ...ctx, actor: { type: "user", id: user.id, name: user.email } },
        action: "auth.sign_in",
        target: { type: "user", id: user.id, name: user.email },
        status: "ok",
        durationMs: performance.now() - started,
      });
      return { user, sessionId };
    },

    /** Deletes sign-in counters whose window has ended (a scheduled job). */
    purgeSignInAttempts(): Promise<number> {
      return attempts.purgeExpired();
    },

    async signOut(ctx: ActionContext, sessionIdHash: string): Promise<void> {
      await audit.run(ctx, "auth.sign_out", {
        target: { type: "user", id: ctx.actor.id, name: ctx.actor.name },
      }, () => sessions.end(sessionIdHash));
      if (ctx.actor.id) accessChanged(ctx.actor.id);
    },

    /** Changes a password after checking the current one, and ends the user's other sessions. */
    async changePassword(
      ctx: ActionContext,
      userId: string,
      input: { current: string; next: string },
      keepSessionIdHash?: string,
    ): Promise<{ endedSessions: number }> {
      return await audit.run(ctx, "user.password_changed", {
        target: { type: "user", id: userId, name: ctx.actor.name },
      }, async () => {
        const user = await users.byId(userId);
        const cred = user && await users.credentials(user.email);
        if (!cred || !await verifyPassword(input.current, cred.password_hash)) {
          throw new Invalid("Current password is wrong", { current: "is wrong" });
        }
        await users.setPassword(userId, input.next);
        const endedSessions = await sessions.endAllFor(userId, keepSessionIdHash);
        accessChanged(userId);
        return { endedSessions };
      });
    },

    /** Creates a user account (platform admins and the admin task). */
    async createUser(
      ctx: ActionContext,
      input: { email: string; name: string; password: string; isAdmin?: boolean },
    ): Promise<User> {
      return await audit.run(ctx, "user.created", {
        target: { type: "user", name: input.email },
        metadata: { admin: Boolean(input.isAdmin) },
        after: (u) => ({ target: { type: "user", id: u.id, name: u.email } }),
      }, () => users.create(input));
    },

    /** Sets a new password without the old one (platform admins, the admin task) and ends all sessions. */
    async resetPassword(ctx: ActionContext, email: string, password: string): Promise<void> {
      await audit.run(
        ctx,
        "user.password_reset",
        { target: { type: "user", name: email } },
        async () => {
          const user = await users.byEmail(email);
          if (!user) throw new NotFound(`user "${email}" not found`);
          await users.setPassword(user.id, password);
          await sessions.endAllFor(user.id);
          accessChanged(user.id);
        },
      );
    },

    async createToken(
      ctx: ActionContext,
      input: {
        userId: string;
        orgId: string;
        name: string;
        scope: TokenScope;
        expiresAt: number | null;
      },
    ): Promise<{ token: string; record: ApiToken }> {
      return await audit.run(ctx, "token.created", {
        orgId: input.orgId,
        target: { type: "token", name: input.name },
        metadata: { scope: input.scope, expires_at: input.expiresAt },
        after: (r) => ({ target: { type: "token", id: r.record.id, name: r.record.name } }),
      }, () => tokens.create(input));
    },

    /**
     * Revokes one of the user's own tokens (in organization `orgId` only, when given: an API token
     * acting); another user's token, or one of another organization, is 404.
     */
    async revokeToken(
      ctx: ActionContext,
      userId: string,
      tokenId: string,
      orgId?: string,
    ): Promise<void> {
      const t = await tokens.byIdForUser(tokenId, userId, orgId);
      await audit.run(ctx, "token.revoked", {
        orgId: t?.org_id,
        target: { type: "token", id: tokenId, name: t?.name },
      }, async () => {
        if (!t) throw new NotFound("token not found");
        await tokens.revoke(tokenId);
        accessChanged(userId);
      });
    },

    /** Issues a new one-time setup token when no user exists; returns undefined once set up. */
    async issueSetupToken(): Promise<string | undefined> {
      if (await users.count() > 0) return undefined;
      const token = randomToken("", 24);
      const value = await tokenHash(token);
      const now = clock.now();
      await db.insertInto("kv").values({ key: SETUP_KEY, value, updated_at: now })
        .onConflict((oc) => oc.column("key").doUpdateSet({ value, updated_at: now })).execute();
      return token;
    },

    /** Whether setup is still open and the token is the current one. */
    async setupTokenValid(token: string): Promise<boolean> {
      if (!token || await users.count() > 0) return false;
      const row = await db.selectFrom("kv").select("value").where("key", "=", SETUP_KEY)
        .executeTakeFirst();
      return Boolean(row) && constantTimeEqual(row!.value, await tokenHash(token));
    },

    /**
     * Creates the first platform admin and organization with the setup token, which is consumed in the
     * same transaction so two racing requests cannot both succeed.
     */
    async completeSetup(
      ctx: ActionContext,
      token: string,
      input: { email: string; name: string; password: string; orgSlug: string; orgName: string },
    ): Promise<User> {
      const hashed = await tokenHash(token);
      const consumed = await db.deleteFrom("kv").where("key", "=", SETUP_KEY).where(
        "value",
        "=",
        hashed,
      )
        .executeTakeFirst();
      if (Number(consumed.numDeletedRows ?? 0) !== 1 || await users.count() > 0) {
        throw new NotFound("page not found");
      }
      const user = await this.createUser(ctx, { ...input, isAdmin: true });
      const actor: ActionContext = {
        ...ctx,
        actor: { type: "user", id: user.id, name: user.email },
      };
      await orgs.create(actor, { slug: input.orgSlug, name: input.orgName, ownerId: user.id });
      if (deps.setupTokenFile) await Deno.remove(deps.setupTokenFile).catch(() => {});
      return user;
    },

    /** Adds a user to an organization with a role, creating the organization when missing (admin task). */
    async ensureMembership(
      ctx: ActionContext,
      userId: string,
      orgSlug: string,
      role: OrgRole,
    ): Promise<void> {
      const org = await orgs.bySlug(orgSlug) ??
        await orgs.create(ctx, { slug: orgSlug, name: orgSlug });
      const current = await orgs.roleOf(org.id, userId);
      if (current === role) return;
      if (current) await orgs.changeRole(ctx, org, userId, role);
      else {
        const user = (await users.byId(userId))!;
        await orgs.addMember(ctx, org, { email: user.email, role });
      }
    },
  };
}

export type Accounts = ReturnType<typeof createAccounts>;
