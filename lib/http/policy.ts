import type { MiddlewareHandler } from "hono";
import type { OrgRole } from "../db/schema.ts";
import { roleAtLeast } from "../auth/principal.ts";
import type { AppEnv } from "./context.ts";
import { forbidden, HttpError, notFound, unauthorized } from "./errors.ts";
import { slugSchema } from "../auth/schema.ts";
import { isApiPath } from "./paths.ts";
import { nulError, nulFieldIn } from "./nul.ts";

/**
 * Who may call a route. `public`: anyone; `user`: any signed-in user or token; `platform_admin`;
 * `org:<role>`: a member of the route's organization with at least that role; `agent`: a host's
 * agent presenting its host token (sets `agentHost`).
 */
export type Policy = "public" | "agent" | "user" | "platform_admin" | `org:${OrgRole}`;

export interface DeclaredRoute {
  method: string;
  /** Hono path syntax (`/api/v1/orgs/:org`). */
  path: string;
  policy: Policy;
  kind: "api" | "page" | "ws" | "asset";
}

/**
 * Every route of the app, recorded when it is registered. The route-walk test compares it with
 * Hono's own route list, so a route registered without a policy fails the build.
 */
export const declaredRoutes: DeclaredRoute[] = [];

/** Records a route's policy (idempotent per method+path). */
export function declare(route: DeclaredRoute): void {
  const i = declaredRoutes.findIndex((r) => r.method === route.method && r.path === route.path);
  if (i >= 0) declaredRoutes[i] = route;
  else declaredRoutes.push(route);
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Whether a request wants HTML (pages redirect to sign-in instead of answering 401). */
function wantsPage(path: string): boolean {
  return !isApiPath(path);
}

/** How a route bends its policy. */
export interface GuardOptions {
  /**
   * An `org:*` route that platform admins signed in with a session may call without naming an
   * organization, for the whole install: `orgScope` stays unset then (the topology map).
   */
  installForAdmins?: boolean;
}

/** The middleware enforcing a policy; sets `orgScope` for org policies. */
export function guard(policy: Policy, opts: GuardOptions = {}): MiddlewareHandler<AppEnv> {
  return async function guardPolicy(c, next) {
    // Every route passes here with its parameters decoded, so a NUL is refused naming the parameter
    // (query and bodies are checked before routing, by `refuseNul`).
    const nul = nulFieldIn(Object.entries(c.req.param() as Record<string, string>), "path");
    if (nul !== undefined) throw nulError(nul);
    if (policy === "public") return await next();
    if (policy === "agent") {
      const m = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "");
      const host = m ? await c.var.services.hosts.byToken(m[1]) : undefined;
      if (!host) throw new HttpError(401, "invalid_host_token", "A valid host token is required");
      c.set("agentHost", host);
      return await next();
    }
    const principal = c.get("principal");
    if (!principal) {
      if (wantsPage(c.req.path) && SAFE_METHODS.has(c.req.method)) {
        const back = c.req.path + (new URL(c.req.url).search);
        return c.redirect(`/login?next=${encodeURIComponent(back)}`, 303);
      }
      throw unauthorized();
    }
    if (
      principal.kind === "token" && principal.tokenScope === "read" &&
      !SAFE_METHODS.has(c.req.method)
    ) {
      throw forbidden("This token has read scope; a write-scoped token is required");
    }
    if (policy === "user") return await next();
    if (policy === "platform_admin") {
      if (!principal.isAdmin) throw forbidden("Only platform admins may do this");
      return await next();
    }
    const required = policy.slice(4) as OrgRole;
    const { services } = c.var;
    const slugRaw = c.req.param("org") ?? c.req.query("org");
    let org;
    if (slugRaw !== undefined) {
      const slug = slugSchema.safeParse(slugRaw);
      if (!slug.success) throw notFound("organization");
      org = await services.orgs.bySlug(slug.data);
    } else if (principal.tokenOrgId) {
      org = await services.orgs.byId(principal.tokenOrgId);
    } else if (opts.installForAdmins && principal.isAdmin) {
      // A platform admin's session without ?org: the whole install (no orgScope).
      return await next();
    } else {
      const mine = await services.orgs.listForUser(principal.userId, principal.isAdmin);
      if (mine.length !== 1) {
        throw new HttpError(400, "validation", "Name the organization with ?org=<slug>", {
          org: "is required",
        });
      }
      org = mine[0];
    }
    // Another organization's resources look the same as missing ones: 404, never 403.
    if (!org) throw notFound("organization");
    if (principal.tokenOrgId && principal.tokenOrgId !== org.id) throw notFound("organization");
    const role = principal.isAdmin ? "owner" : await services.orgs.roleOf(org.id, principal.userId);
    if (!role) throw notFound("organization");
    if (!roleAtLeast(role, required)) {
      throw forbidden(`Requires the ${required} role in ${org.slug}; you are ${role}`);
    }
    c.set("orgScope", { org, role });
    await next();
  };
}
