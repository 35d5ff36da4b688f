/**
 * Account use cases that span services: minting an API token for the caller in one of their
 * organizations, under the rules that keep a token from widening itself. The API and the tokens
 * page both call this.
 */
import type { ActionContext } from "../audit/service.ts";
import { Forbidden, Invalid, NotFound } from "../errors.ts";
import type { Orgs } from "../orgs/service.ts";
import type { Clock } from "../util/clock.ts";
import type { Accounts } from "./accounts.ts";
import type { Principal } from "./principal.ts";

const DAY = 24 * 3600 * 1000;

/** What a new token asks for: its name, organization (slug), scope and lifetime in days. */
export interface TokenRequest {
  name: string;
  org: string;
  scope: "read" | "write";
  /** Days until it expires; null or absent: never. */
  expires_days?: number | null;
}

/** What minting a token needs from the services. */
export interface TokenUseCaseDeps {
  orgs: Pick<Orgs, "bySlug" | "roleOf">;
  accounts: Pick<Accounts, "createToken">;
  clock: Clock;
}

/**
 * Refuses what an API token may not mint: a scope wider than its own, or a token that outlives it
 * (so a stolen short-lived token cannot make itself a permanent one).
 */
function assertTokenMayMint(
  p: Principal,
  scope: "read" | "write",
  expiresAt: number | null,
  now: number,
) {
  if (p.kind !== "token") return;
  if (scope === "write" && p.tokenScope !== "write") {
    throw new Forbidden("A read-scoped token cannot create a write-scoped token");
  }
  const limit = p.tokenExpiresAt;
  if (limit === null || limit === undefined || (expiresAt !== null && expiresAt <= limit)) return;
  const days = Math.floor((limit - now) / DAY);
  const until = new Date(limit).toISOString();
  throw new Invalid("Invalid input: expires_days", {
    expires_days: days < 1
      ? `cannot be set: this token expires at ${until}, in less than a day, and may not create a token that outlives it`
      : `must be at most ${days} ${
        days === 1 ? "day" : "days"
      }: this token expires at ${until} and may not create a token that outlives it`,
  });
}

/**
 * Creates a token for the caller in an organization they belong to (NotFound otherwise). An API
 * token acting may create tokens only in its own organization, no wider and no longer-lived than
 * itself.
 */
export async function createTokenFor(
  deps: TokenUseCaseDeps,
  p: Principal,
  ctx: ActionContext,
  input: TokenRequest,
) {
  const org = await deps.orgs.bySlug(input.org);
  const member = org && (p.isAdmin || await deps.orgs.roleOf(org.id, p.userId));
  if (!org || !member || (p.tokenOrgId && p.tokenOrgId !== org.id)) {
    throw new NotFound("organization not found");
  }
  const now = deps.clock.now();
  const expiresAt = input.expires_days ? now + input.expires_days * DAY : null;
  assertTokenMayMint(p, input.scope, expiresAt, now);
  return await deps.accounts.createToken(ctx, {
    userId: p.userId,
    orgId: org.id,
    name: input.name,
    scope: input.scope,
    expiresAt,
  });
}
