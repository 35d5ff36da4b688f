/** The auth feature: user accounts, sessions and API tokens (sign-in itself is in the orgs module's accounts). */
import { defineModule } from "../module.ts";
import { createUsers } from "./users.ts";
import { createSessions } from "./sessions.ts";
import { createTokens } from "./tokens.ts";

export const authModule = defineModule({
  name: "auth",
  services: (core) => ({
    users: createUsers(core.db, core.clock),
    sessions: createSessions(core.db, core.clock),
    tokens: createTokens(core.db, core.clock),
  }),
  jobs: ({ sessions }) => [{
    name: "sessions_purge_expired",
    schedule: "41 * * * *",
    intervalMs: 3600_000,
    run: () => sessions.purgeExpired(),
  }],
  nav: [{ key: "users", group: "Admin", label: "Users", scope: "platform", path: "/admin/users" }],
});
