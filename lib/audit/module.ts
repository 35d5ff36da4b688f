/** The audit feature: every state-changing action's row, the live feed, the retention job. */
import { defineModule } from "../module.ts";
import { topicRoles, topics } from "../realtime/topics.ts";
import { createAuditLog } from "./service.ts";

const DAY = 24 * 3600_000;

export const auditModule = defineModule({
  name: "audit",
  services: (core) => ({
    audit: createAuditLog(core.db, core.clock, (row) => {
      // Live audit feeds; best effort, the row is already committed.
      if (row.org_id) {
        void core.realtime.publish(topics.audit(row.org_id), { id: row.id, action: row.action });
      }
    }),
  }),
  jobs: ({ audit }, core) => [{
    name: "audit_retention",
    schedule: "17 * * * *",
    intervalMs: 3600_000,
    run: () => audit.purgeOlderThan(core.clock.now() - core.config.auditRetentionDays * DAY),
  }],
  topics: topicRoles([topics.audit]),
  nav: [{
    key: "audit",
    group: "Organization",
    label: "Audit log",
    scope: "org",
    path: "/audit",
    minRole: "admin",
    order: 20,
  }],
});
