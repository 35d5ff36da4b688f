/**
 * The billing module's foundation (lib/billing/BILLING.md): usage facts taken from what Swarm
 * runs, the meter, price plans, the ledger, and the billing run that turns each closed org-hour
 * into one cycle and one charge, exactly once. Quotas, wallet grace, payments and pages come later.
 */
import { defineModule } from "../module.ts";
import type { Cluster } from "../apps/cluster.ts";
import { createUsage, observeSwarm, type Usage } from "./usage.ts";
import { createLedger, type Ledger } from "./ledger.ts";
import { createPlans, type Plans } from "./plans.ts";
import { createCycles, type Cycles } from "./cycles.ts";
import * as billingMigration from "./migration.ts";

/** What the billing module adds to the services. */
export interface BillingServices {
  billingUsage: Usage;
  billingLedger: Ledger;
  billingPlans: Plans;
  billingCycles: Cycles;
  /** Takes what Swarm runs now into the usage segments (the billing_usage job). */
  billingObserve(): Promise<unknown>;
}

export const billingModule = defineModule<BillingServices, { cluster: Cluster }>({
  name: "billing",
  deps: ["cluster"],
  services: (core, { cluster }) => {
    const { db, clock } = core;
    const billingUsage = createUsage(db, clock);
    const billingPlans = createPlans(db, clock);
    const billingLedger = createLedger(db, clock);
    const billingCycles = createCycles({ db, clock, plan: (org) => billingPlans.forOrg(org) });
    const billingObserve = () => observeSwarm(billingUsage, cluster);
    return { billingUsage, billingLedger, billingPlans, billingCycles, billingObserve };
  },
  jobs: ({ billingCycles, billingObserve }, core) =>
    core.config.billingEnabled
      ? [{
        name: "billing_usage",
        schedule: "* * * * *",
        intervalMs: 60_000,
        // Segments change when Swarm's picture does; a boundary is at most a minute late.
        run: billingObserve,
      }, {
        name: "billing_cycles",
        schedule: "*/5 * * * *",
        intervalMs: 300_000,
        // Bills the closed hours; every 5 minutes, so a missed run is caught up soon after.
        run: () => billingCycles.run(),
      }]
      : [],
  migrations: { "0023_billing": billingMigration },
});
