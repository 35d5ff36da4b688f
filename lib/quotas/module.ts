/**
 * Per-organization quotas (issue 21, lib/quotas/QUOTAS.md): limits set by platform admins and
 * the admission decision the apps (create, update, scale, deploy, start, rollback, template
 * deploy) and builds modules ask for in the transaction that records an intent, and while apps
 * run the 30 s `quotas_usage` job: levels, crossings told once, a violation's grace period and
 * then blocked deploys (watch.ts). Listed before apps, which receive `quotaAdmission` as a
 * dependency and report their use back to it.
 */
import { defineModule } from "../module.ts";
import type { AuditLog } from "../audit/service.ts";
import { type Admission, createQuotas, type Quotas } from "./service.ts";
import { createQuotaWatch, type QuotaWatch } from "./watch.ts";
import * as quotasMigration from "./migration.ts";
import * as usageMigration from "./migration_usage.ts";
import * as historyMigration from "./migration_history.ts";

/** What the quotas module adds to the services. */
export interface QuotasServices {
  quotas: Quotas;
  /** The narrow interface for the modules that admit intents. */
  quotaAdmission: Admission;
  /** Use while running: levels, crossings, a violation's grace period (watch.ts). */
  quotaWatch: QuotaWatch;
}

export const quotasModule = defineModule<QuotasServices, { audit: AuditLog }>({
  name: "quotas",
  deps: ["audit"],
  services: (core, { audit }) => {
    const quotas = createQuotas({ db: core.db, clock: core.clock, audit });
    const quotaWatch = createQuotaWatch({
      db: core.db,
      clock: core.clock,
      events: core.events,
      audit,
      limits: quotas.limits,
      used: quotas.used,
      graceMs: core.config.quotaGraceHours * 3_600_000,
    });
    // A violation (use above a lowered limit) whose grace period ended blocks new deploys.
    quotas.admission.addBlocker((orgId) => quotaWatch.blocksDeploys(orgId));
    return { quotas, quotaAdmission: quotas.admission, quotaWatch };
  },
  jobs: ({ quotaWatch }) => [{
    name: "quotas_usage",
    schedule: "* * * * *",
    intervalMs: 30_000,
    // Crossings are told within 30 s of the use (or limit) that made them; each exactly once.
    run: () => quotaWatch.checkAll(),
  }],
  // 0024 is taken by billing's grace period (branch billing-ui), landing in parallel.
  migrations: {
    "0025_quotas": quotasMigration,
    "0026_quota_usage": usageMigration,
    "0031_quota_history": historyMigration,
  },
  nav: [
    {
      key: "quotas",
      group: "Organization",
      label: "Quotas",
      scope: "org",
      path: "/quotas",
      minRole: "viewer",
      order: 10, // beside Billing, before the audit log
    },
    {
      key: "admin-quotas",
      group: "Admin",
      label: "Quotas",
      scope: "platform",
      path: "/admin/quotas",
      order: 5, // beside Billing, before Organizations
    },
  ],
});
