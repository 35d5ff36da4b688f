import type { Services } from "../../services.ts";
import type { PageSetup } from "./app.ts";
import type { Principal } from "../auth/principal.ts";
import type { Organization } from "../orgs/service.ts";
import type { OrgRole } from "../db/schema.ts";
import type { ActionContext } from "../audit/service.ts";
import type { Context } from "hono";
import type { Host } from "../hosts/service.ts";
import type { IslandManifest } from "../islands/manifest.ts";

/** The organization a request acts in, and the caller's effective role there. */
export interface OrgScope {
  org: Organization;
  role: OrgRole;
}

/** Hono environment of the hub: per-request variables set by middleware. */
export type AppEnv = {
  Variables: {
    services: Services;
    principal: Principal | undefined;
    orgScope: OrgScope | undefined;
    /** The host whose agent is calling (routes with the `agent` policy). */
    agentHost: Host | undefined;
    ip: string | null;
    /** Islands manifest of the pages (set before every page route), for islands of the layout. */
    pageManifest: IslandManifest | null | undefined;
    /** What pages share (navigation entries, settings panels), set before every page route. */
    pageSetup: PageSetup | undefined;
    /** This response's CSP nonce: the one inline script a page may carry (the islands boot) uses it. */
    cspNonce: string | undefined;
  };
};

export type AppContext = Context<AppEnv>;

/** The signed-in caller; only valid behind a guard that is not "public". */
export function principalOf(c: AppContext): Principal {
  const p = c.get("principal");
  if (!p) throw new Error("principalOf() used on a route without an authenticated policy");
  return p;
}

/** The organization resolved by an `org:*` guard. */
export function orgScopeOf(c: AppContext): OrgScope {
  const s = c.get("orgScope");
  if (!s) throw new Error("orgScopeOf() used on a route without an org policy");
  return s;
}

/** The audit context of a request: who is calling and from where. */
export function actionContext(c: AppContext): ActionContext {
  const p = c.get("principal");
  const ip = c.get("ip");
  if (!p) return { actor: { type: "anonymous" }, ip };
  if (p.kind === "token") {
    return { actor: { type: "token", id: p.credentialId, name: `${p.email} (token)` }, ip };
  }
  return { actor: { type: "user", id: p.userId, name: p.email }, ip };
}
