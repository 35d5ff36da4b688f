import type { Db } from "../db/mod.ts";
import type { ApiTokensTable, TokenScope } from "../db/schema.ts";
import type { Clock } from "../util/clock.ts";
import { randomToken, uuidv7 } from "../util/ids.ts";
import { tokenHash } from "../util/token_hash.ts";

export type ApiToken = Omit<ApiTokensTable, "token_hash">;

/** Tokens look like `cap_<43 base64url chars>` so secret scanners can recognise them. */
export const TOKEN_PATTERN = /^cap_[\w-]{43}$/;
/** How often last_used_at is written at most, so a busy script does not write on every call. */
const LAST_USED_RESOLUTION_MS = 60_000;

const LIST_COLUMNS = [
  "id",
  "user_id",
  "org_id",
  "name",
  "scope",
  "prefix",
  "created_at",
  "expires_at",
  "last_used_at",
  "revoked_at",
] as const;

/** API tokens: random, shown once, stored as SHA-256, scoped to one organization, expiring, revocable. */
export function createTokens(db: Db, clock: Clock) {
  return {
    /** Creates a token and returns its value once together with the stored record. */
    async create(input: {
      userId: string;
      orgId: string;
      name: string;
      scope: TokenScope;
      expiresAt: number | null;
    }): Promise<{ token: string; record: ApiToken }> {
      const token = randomToken("cap_", 32);
      const now = clock.now();
      const row: ApiTokensTable = {
        id: uuidv7(now),
        user_id: input.userId,
        org_id: input.orgId,
        name: input.name,
        scope: input.scope,
        token_hash: await tokenHash(token),
        prefix: token.slice(0, 10),
        created_at: now,
        expires_at: input.expiresAt,
        last_used_at: null,
        revoked_at: null,
      };
      await db.insertInto("api_tokens").values(row).execute();
      const { token_hash: _, ...record } = row;
      return { token, record };
    },

    /** The live token for a bearer value, touching last_used_at; undefined when unknown, expired or revoked. */
    async resolve(bearer: string): Promise<ApiToken | undefined> {
      if (!TOKEN_PATTERN.test(bearer)) return undefined;
      const row = await db.selectFrom("api_tokens").select(LIST_COLUMNS)
        .where("token_hash", "=", await tokenHash(bearer)).executeTakeFirst();
      const now = clock.now();
      if (!row || row.revoked_at !== null || (row.expires_at !== null && row.expires_at <= now)) {
        return undefined;
      }
      if (row.last_used_at === null || now - row.last_used_at > LAST_USED_RESOLUTION_MS) {
        await db.updateTable("api_tokens").set({ last_used_at: now }).where("id", "=", row.id)
          .execute();
        row.last_used_at = now;
      }
      return row;
    },

    /** A user's tokens, newest first; `orgId` narrows them to one organization's. */
    async listForUser(userId: string, orgId?: string): Promise<ApiToken[]> {
      let q = db.selectFrom("api_tokens").select(LIST_COLUMNS).where("user_id", "=", userId);
      if (orgId !== undefined) q = q.where("org_id", "=", orgId);
      return await q.orderBy("created_at", "desc").limit(500).execute();
    },
    /** One of a user's tokens (in organization `orgId`, when given), or undefined. */
    async byIdForUser(id: string, userId: string, orgId?: string): Promise<ApiToken | undefined> {
      let q = db.selectFrom("api_tokens").select(LIST_COLUMNS).where("id", "=", id)
        .where("user_id", "=", userId);
      if (orgId !== undefined) q = q.where("org_id", "=", orgId);
      return await q.executeTakeFirst();
    },
    /** Whether the token with this id exists, is not revoked and has not expired. */
    async isLive(id: string): Promise<boolean> {
      const row = await db.selectFrom("api_tokens").select(["revoked_at", "expires_at"])
        .where("id", "=", id).executeTakeFirst();
      return row !== undefined && row.revoked_at === null &&
        (row.expires_at === null || row.expires_at > clock.now());
    },
    async revoke(id: string): Promise<void> {
      await db.updateTable("api_tokens").set({ revoked_at: clock.now() }).where("id", "=", id)
        .where("revoked_at", "is", null).execute();
    },
  };
}

export type Tokens = ReturnType<typeof createTokens>;
