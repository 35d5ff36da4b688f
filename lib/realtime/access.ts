import type { Principal } from "../auth/principal.ts";
import { roleAtLeast } from "../auth/principal.ts";
import type { OrgRole } from "../db/schema.ts";
import type { Orgs } from "../orgs/service.ts";
import { parseTopic } from "./hub.ts";

/** Topic names that need more than the viewer role; everything else in an organization is for viewers. */
const TOPIC_ROLES: Record<string, OrgRole> = {
  audit: "admin",
  // Health check states and results (lib/health): what the health pages show viewers.
  health: "viewer",
};

/**
 * Who may read a topic: `user:<id>:*` only that user; `org:<id>:<name>` members of the organization
 * with the topic's role (platform admins everywhere; tokens only in their own organization).
 */
export function topicAccess(orgs: Orgs) {
  return async (p: Principal, topic: string): Promise<boolean> => {
    const t = parseTopic(topic);
    if (!t) return false;
    if (t.scope === "user") return t.id === p.userId;
    if (p.tokenOrgId && p.tokenOrgId !== t.id) return false;
    const role = p.isAdmin ? "owner" : await orgs.roleOf(t.id, p.userId);
    return role !== undefined && roleAtLeast(role, TOPIC_ROLES[t.name] ?? "viewer");
  };
}
