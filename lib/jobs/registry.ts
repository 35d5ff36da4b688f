import type { AuditLog } from "../audit/service.ts";
import type { Sessions } from "../auth/sessions.ts";
import type { Accounts } from "../auth/accounts.ts";
import type { Clock } from "../util/clock.ts";
import type { Job } from "./scheduler.ts";

const DAY = 24 * 3600 * 1000;

/** The static list of the hub's scheduled jobs. */
export function hubJobs(
  deps: {
    audit: AuditLog;
    sessions: Sessions;
    accounts: Accounts;
    clock: Clock;
    auditRetentionDays: number;
  },
): Job[] {
  return [
    {
      name: "audit_retention",
      schedule: "17 * * * *",
      intervalMs: 3600_000,
      run: () => deps.audit.purgeOlderThan(deps.clock.now() - deps.auditRetentionDays * DAY),
    },
    {
      name: "sessions_purge_expired",
      schedule: "41 * * * *",
      intervalMs: 3600_000,
      run: () => deps.sessions.purgeExpired(),
    },
    {
      name: "sign_in_attempts_purge",
      schedule: "43 * * * *",
      intervalMs: 3600_000,
      run: () => deps.accounts.purgeSignInAttempts(),
    },
  ];
}
