import type { AppContext } from "./context.ts";
import { principalOf } from "./context.ts";
import { notFound } from "./errors.ts";
import type { Host } from "../hosts/service.ts";
import { roleAtLeast } from "../auth/principal.ts";
import type { OrgRole } from "../db/schema.ts";

/**
 * The host a caller may read, for routes addressed by host id alone (`/api/v1/hosts/{id}/…`):
 * 404 unless the caller belongs to the host's organization with at least `role` (tokens: only
 * their own organization), so other organizations' hosts look like missing ones.
 */
export async function hostForCaller(
  c: AppContext,
  hostId: string,
  role: OrgRole = "viewer",
): Promise<Host> {
  const p = principalOf(c);
  const { hosts, orgs } = c.var.services;
  const host = /^[0-9a-f-]{36}$/.test(hostId) ? await hosts.byId(hostId) : undefined;
  if (!host || (p.tokenOrgId && p.tokenOrgId !== host.org_id)) throw notFound("host");
  const actual = p.isAdmin ? "owner" : await orgs.roleOf(host.org_id, p.userId);
  if (!actual || !roleAtLeast(actual, role)) throw notFound("host");
  return host;
}
