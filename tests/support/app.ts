import type { DbHandle } from "../../lib/db/mod.ts";
import { collectTopics } from "../../lib/module.ts";
import { MODULES } from "../../modules.ts";
import type { AppOptions } from "../../lib/http/app.ts";
import { createHubApp as createApp } from "../../app.ts";
import { realtimeHubFor } from "../../lib/realtime/access.ts";
import type { OrgRole } from "../../lib/db/schema.ts";
import { SYSTEM_CTX, testServices } from "./services.ts";
import type { Clock } from "../../lib/util/clock.ts";

export const ORIGIN = "http://hub.test";

/** The whole app on a test database, driven with `app.request()` (no socket). */
export function testApp(
  dbh: DbHandle,
  clock?: Clock,
  options?: AppOptions,
  env?: Record<string, string>,
) {
  const services = testServices(dbh, clock, env);
  const hub = realtimeHubFor(services, { topics: collectTopics(MODULES) });
  const app = createApp(services, hub, options);

  /** Sends a request as a browser on this hub would (same-origin). */
  async function request(
    path: string,
    init: RequestInit & { cookie?: string; token?: string; json?: unknown } = {},
  ) {
    const headers = new Headers(init.headers);
    if (init.cookie) headers.set("cookie", init.cookie);
    if (init.token) headers.set("authorization", `Bearer ${init.token}`);
    if (init.json !== undefined) headers.set("content-type", "application/json");
    if (init.method && init.method !== "GET" && !headers.has("origin")) {
      headers.set("origin", ORIGIN);
    }
    return await app.request(`${ORIGIN}${path}`, {
      ...init,
      headers,
      body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
    });
  }

  /** Creates a user (optionally a member of `org` with `role`) and returns a session cookie for them. */
  async function user(email: string, opts: { admin?: boolean; org?: string; role?: OrgRole } = {}) {
    const password = "password-" + email;
    const u = await services.accounts.createUser(SYSTEM_CTX, {
      email,
      name: email.split("@")[0],
      password,
      isAdmin: opts.admin,
    });
    if (opts.org) {
      await services.accounts.ensureMembership(SYSTEM_CTX, u.id, opts.org, opts.role ?? "member");
    }
    const { sessionId } = await services.accounts.signIn(SYSTEM_CTX, email, password);
    return { ...u, password, cookie: `capstan_session=${sessionId}` };
  }

  /** An API token for a user in an organization. */
  async function token(userId: string, org: string, scope: "read" | "write" = "write") {
    const o = (await services.orgs.bySlug(org))!;
    return (await services.tokens.create({
      userId,
      orgId: o.id,
      name: "t",
      scope,
      expiresAt: null,
    })).token;
  }

  return { app, services, hub, request, user, token };
}
