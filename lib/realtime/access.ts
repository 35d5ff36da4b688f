import type { Principal } from "../auth/principal.ts";
import { roleAtLeast } from "../auth/principal.ts";
import type { Orgs } from "../orgs/service.ts";
import {
  ACCESS_GONE,
  type CheckCredential,
  createRealtimeHub,
  CREDENTIAL_GONE,
  type RealtimeHub,
} from "./hub.ts";
import { INSTALL_ID, orgTopicRole, parseTopic } from "./topics.ts";
import type { OrgRole } from "../db/schema.ts";
import type { Services } from "../../services.ts";

/**
 * Who may read a topic: `user:<id>:*` only that user; `org:<id>:<name>` members of the organization
 * with the role `roles` names for it (by default the topics of topics.ts; platform admins everywhere;
 * tokens only in their own organization), `org:install:<name>` platform admins' sessions only, and
 * nobody for a name `roles` does not have.
 */
export function topicAccess(
  orgs: Pick<Orgs, "roleOf">,
  roles?: Readonly<Record<string, OrgRole>>,
) {
  return async (p: Principal, topic: string): Promise<boolean> => {
    const t = parseTopic(topic);
    if (!t) return false;
    if (t.scope === "user") return t.id === p.userId;
    const needed = orgTopicRole(t.name, roles);
    if (needed === undefined) return false;
    // The whole install's topics: platform admins' sessions only (a token is bound to one org).
    if (t.id === INSTALL_ID) return p.isAdmin && !p.tokenOrgId;
    if (p.tokenOrgId && p.tokenOrgId !== t.id) return false;
    const role = p.isAdmin ? "owner" : await orgs.roleOf(t.id, p.userId);
    return role !== undefined && roleAtLeast(role, needed);
  };
}

/**
 * Whether a socket's credential still holds: the user exists, the session or token is live (else
 * 4401), and a platform admin is still one (else 4403: the socket's view was an admin's).
 */
export function credentialCheck(
  deps: Pick<Services, "sessions" | "tokens" | "users">,
): CheckCredential {
  return async (p) => {
    const user = await deps.users.byId(p.userId);
    if (!user) return CREDENTIAL_GONE;
    const live = p.kind === "session"
      ? await deps.sessions.isLive(p.credentialId)
      : await deps.tokens.isLive(p.credentialId);
    if (!live) return CREDENTIAL_GONE;
    if (p.isAdmin && user.is_admin !== 1) return ACCESS_GONE;
    return null;
  };
}

/** The realtime hub of a set of services: their bus, topic access and credential re-checks. */
export function realtimeHubFor(
  services: Pick<Services, "bus" | "orgs" | "sessions" | "tokens" | "users">,
  options: {
    /** The least role per topic name, from the modules (default: every topic of topics.ts). */
    topics?: Readonly<Record<string, OrgRole>>;
    onError?: (error: unknown) => void;
  } = {},
): RealtimeHub {
  return createRealtimeHub({
    bus: services.bus,
    canRead: topicAccess(services.orgs, options.topics),
    checkCredential: credentialCheck(services),
    onError: options.onError,
  });
}
