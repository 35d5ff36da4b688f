/**
 * Per-organization quotas (issue 21, lib/quotas/QUOTAS.md): limits set by platform admins and
 * the admission decision the apps (create, update, scale, deploy, start, rollback, template
 * deploy) and builds modules ask for in the transaction that records an intent. Listed before
 * apps, which receive `quotaAdmission` as a dependency and report their use back to it.
 */
import { defineModule } from "../module.ts";
import type { AuditLog } from "../audit/service.ts";
import { type Admission, createQuotas, type Quotas } from "./service.ts";
import * as quotasMigration from "./migration.ts";

/** What the quotas module adds to the services. */
export interface QuotasServices {
  quotas: Quotas;
  /** The narrow interface for the modules that admit intents. */
  quotaAdmission: Admission;
}

export const quotasModule = defineModule<QuotasServices, { audit: AuditLog }>({
  name: "quotas",
  deps: ["audit"],
  services: (core, { audit }) => {
    const quotas = createQuotas({ db: core.db, clock: core.clock, audit });
    return { quotas, quotaAdmission: quotas.admission };
  },
  // 0024 is taken by billing's grace period (branch billing-ui), landing in parallel.
  migrations: { "0025_quotas": quotasMigration },
  nav: [
    {
      key: "quotas",
      group: "Organization",
      label: "Quotas",
      scope: "org",
      path: "/quotas",
      minRole: "viewer",
      order: 50,
    },
    {
      key: "admin-quotas",
      group: "Admin",
      label: "Quotas",
      scope: "platform",
      path: "/admin/quotas",
      order: 30,
    },
  ],
});
