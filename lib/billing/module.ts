/**
 * The billing module's foundation (lib/billing/BILLING.md): usage facts taken from what Swarm
 * runs, the meter, price plans, the ledger, and the billing run that turns each closed org-hour
 * into one cycle and one charge, exactly once; the wallet whose grace period, once over, blocks
 * deploys through the quotas module's admission; top-ups through a payment provider (PayPal).
 */
import { defineModule } from "../module.ts";
import type { Cluster } from "../apps/cluster.ts";
import { createUsage, observeSwarm, type Usage } from "./usage.ts";
import { createLedger, type Ledger } from "./ledger.ts";
import { createPlans, type Plans } from "./plans.ts";
import { createCycles, type Cycles } from "./cycles.ts";
import { createWallet, type Wallet } from "./wallet.ts";
import { type Billing, createBilling } from "./service.ts";
import type { AuditLog } from "../audit/service.ts";
import type { Admission } from "../quotas/service.ts";
import * as billingMigration from "./migration.ts";
import * as graceMigration from "./migration_grace.ts";
import * as factsMigration from "./migration_facts.ts";
import { createFacts, type Facts } from "./facts.ts";
import { factSources } from "./fact_sources.ts";
import type { AgentRegistry } from "../agents/registry.ts";
import type { Metrics } from "../metrics/service.ts";
import type { SnapshotStore } from "../snapshots/store.ts";
import type { Builds } from "../builds/service.ts";
import * as paymentsMigration from "./migration_payments.ts";
import { createPayments, type Payments } from "./payments/service.ts";
import { createPayPal } from "./payments/paypal.ts";

/** What the billing module adds to the services. */
export interface BillingServices {
  billingUsage: Usage;
  billingLedger: Ledger;
  billingPlans: Plans;
  billingCycles: Cycles;
  /** Wallet grace and deploy blocking (wallet.ts). */
  billingWallet: Wallet;
  /** Balance, ledger, cycles, CSV, projection, plans and admin money moves (service.ts). */
  billing: Billing;
  /** Wallet top-ups through the configured payment provider (payments/service.ts). */
  billingPayments: Payments;
  /**
   * Why the org may not deploy now (its wallet has been below zero past the grace period), or
   * undefined. For the quotas module's checks before a create/update/scale/deploy.
   */
  blocksDeploys(orgId: string): Promise<string | undefined>;
  /** Takes what Swarm runs now into the usage segments (the billing_usage job). */
  billingObserve(): Promise<unknown>;
  /** Storage, egress and build facts (the billing_facts job, facts.ts). */
  billingFacts: Facts;
}

export const billingModule = defineModule<
  BillingServices,
  {
    cluster: Cluster;
    audit: AuditLog;
    quotaAdmission: Admission;
    agents: AgentRegistry;
    metrics: Metrics;
    snapshotStore: SnapshotStore;
    builds: Builds;
  }
>({
  name: "billing",
  deps: ["cluster", "audit", "quotaAdmission", "agents", "metrics", "snapshotStore", "builds"],
  services: (core, { cluster, audit, quotaAdmission, agents, metrics, snapshotStore, builds }) => {
    const { db, clock } = core;
    const billingUsage = createUsage(db, clock);
    const billingPlans = createPlans(db, clock);
    const billingLedger = createLedger(db, clock);
    const billingCycles = createCycles({ db, clock, plan: (org) => billingPlans.forOrg(org) });
    const billingObserve = () => observeSwarm(billingUsage, cluster);
    const billingWallet = createWallet({
      db,
      clock,
      events: core.events,
      audit,
      graceMs: core.config.billingGraceHours * 3_600_000,
    });
    const billing = createBilling({
      db,
      clock,
      ledger: billingLedger,
      plans: billingPlans,
      wallet: billingWallet,
      audit,
    });
    const billingPayments = createPayments({
      db,
      clock,
      log: core.log,
      audit,
      plans: billingPlans,
      wallet: billingWallet,
      provider: core.config.paypal ? createPayPal(core.config.paypal) : undefined,
      publicUrl: () => core.config.publicUrl,
    });
    // An org whose wallet stayed below zero past its grace period deploys nothing new: every
    // admission (create, scale, deploy, template, build) asks this before its quota.
    quotaAdmission.addBlocker((orgId) => billingWallet.blocksDeploys(orgId));
    const billingFacts = createFacts({
      db,
      clock,
      sources: factSources({
        cluster,
        agents,
        metrics,
        snapshotStore,
        builds,
        now: () => clock.now(),
      }),
    });
    // Storage and egress use, measured here, for the quota page and the quotas_usage job's levels
    // (neither is added by a request, so admission has nothing to refuse: they grow while apps
    // run, and a violation's grace period then blocks deploys like any other).
    quotaAdmission.addUsage(async (orgId) => ({
      // What Swarm runs (the last minute's observation) beside the apps' saved specs.
      ...await billingUsage.reservedNow(orgId),
      storage_bytes: await billingFacts.storedBytes(orgId),
      egress_gb_month: Math.floor(await billingFacts.egressThisMonth(orgId) / 2 ** 30),
    }));
    return {
      billingFacts,
      billingUsage,
      billingLedger,
      billingPlans,
      billingCycles,
      billingObserve,
      billingWallet,
      billing,
      billingPayments,
      blocksDeploys: (orgId) => billingWallet.blocksDeploys(orgId),
    };
  },
  jobs: ({ billingCycles, billingObserve, billingWallet, billingFacts }, core) =>
    core.config.billingEnabled
      ? [{
        name: "billing_usage",
        schedule: "* * * * *",
        intervalMs: 60_000,
        // Segments change when Swarm's picture does; a boundary is at most a minute late.
        run: billingObserve,
      }, {
        name: "billing_facts",
        schedule: "* * * * *",
        intervalMs: 60_000,
        // Egress counters and ended builds every minute (recorded in the hour they are read),
        // storage every 10 minutes (facts.ts).
        run: () => billingFacts.run(),
      }, {
        name: "billing_cycles",
        schedule: "*/5 * * * *",
        intervalMs: 300_000,
        // Bills the closed hours; every 5 minutes, so a missed run is caught up soon after.
        run: () => billingCycles.run(),
      }, {
        name: "billing_wallet",
        schedule: "* * * * *",
        intervalMs: 60_000,
        // Grace starts within a minute of the charge that left the balance below zero, and its
        // halfway and end notices within a minute of their time; each transition exactly once.
        run: () => billingWallet.checkAll(),
      }]
      : [],
  migrations: {
    "0023_billing": billingMigration,
    "0024_billing_grace": graceMigration,
    "0027_billing_facts": factsMigration,
    "0029_billing_payments": paymentsMigration,
  },
  nav: [{
    key: "billing",
    group: "Organization",
    label: "Billing",
    scope: "org",
    path: "/billing",
    minRole: "viewer",
  }, {
    key: "admin-billing",
    group: "Admin",
    label: "Billing",
    scope: "platform",
    path: "/admin/billing",
  }],
});
