/**
 * The organizations feature: organizations and memberships, invitations, and the accounts flows
 * that span users and organizations (setup, sign-in, members). Ended sessions, revoked tokens and
 * changed memberships close the user's sockets on every replica.
 */
import { join } from "node:path";
import { defineModule } from "../module.ts";
import { publishAccessChanged } from "../realtime/hub.ts";
import type { AuditLog } from "../audit/service.ts";
import type { Users } from "../auth/users.ts";
import type { Sessions } from "../auth/sessions.ts";
import type { Tokens } from "../auth/tokens.ts";
import { createAccounts, SETUP_TOKEN_FILE } from "../auth/accounts.ts";
import { createOrgs } from "./service.ts";
import { createInvitations } from "./invitations.ts";

export const orgsModule = defineModule<
  {
    orgs: ReturnType<typeof createOrgs>;
    invitations: ReturnType<typeof createInvitations>;
    accounts: ReturnType<typeof createAccounts>;
  },
  { audit: AuditLog; users: Users; sessions: Sessions; tokens: Tokens }
>({
  name: "orgs",
  deps: ["audit", "users", "sessions", "tokens"],
  services: (core, { audit, users, sessions, tokens }) => {
    const accessChanged = (userId: string) => publishAccessChanged(core.bus, userId);
    const orgs = createOrgs(core.db, core.clock, audit, users, accessChanged);
    const accounts = createAccounts({
      db: core.db,
      clock: core.clock,
      audit,
      users,
      sessions,
      tokens,
      orgs,
      setupTokenFile: join(core.config.dataDir, SETUP_TOKEN_FILE),
      onAccessChanged: accessChanged,
    });
    const invitations = createInvitations({ db: core.db, clock: core.clock, audit, orgs });
    return { orgs, invitations, accounts };
  },
  jobs: ({ accounts }) => [{
    name: "sign_in_attempts_purge",
    schedule: "43 * * * *",
    intervalMs: 3600_000,
    run: () => accounts.purgeSignInAttempts(),
  }],
  nav: [
    { key: "members", group: "Organization", label: "Members", scope: "org", path: "/members" },
    {
      key: "orgs",
      group: "Admin",
      label: "Organizations",
      scope: "platform",
      path: "/admin/orgs",
      order: 10,
    },
  ],
});
