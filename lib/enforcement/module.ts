/**
 * Violation actions (lib/enforcement/service.ts): once a quota violation's or a wallet's grace
 * period is over, stop apps as configured (CAPSTAN_QUOTA_VIOLATION_ACTION,
 * CAPSTAN_BILLING_GRACE_ACTION; both default to blocking deploys only). Listed after apps and
 * billing: it acts through their exported services and the quota watch, never their tables.
 */
import { defineModule } from "../module.ts";
import type { Apps } from "../apps/service.ts";
import type { Quotas } from "../quotas/service.ts";
import type { QuotaWatch } from "../quotas/watch.ts";
import type { Wallet } from "../billing/wallet.ts";
import { createEnforcement, type Enforcement } from "./service.ts";

export interface EnforcementServices {
  enforcement: Enforcement;
}

export const enforcementModule = defineModule<
  EnforcementServices,
  { apps: Apps; quotas: Quotas; quotaWatch: QuotaWatch; billingWallet: Wallet }
>({
  name: "enforcement",
  deps: ["apps", "quotas", "quotaWatch", "billingWallet"],
  services: (core, { apps, quotas, quotaWatch, billingWallet }) => ({
    enforcement: createEnforcement({
      apps,
      quotas,
      watch: quotaWatch,
      wallet: billingWallet,
      quotaAction: core.config.quotaViolationAction,
      walletAction: core.config.billingGraceAction,
      log: core.log,
    }),
  }),
  jobs: ({ enforcement }, core) =>
    core.config.quotaViolationAction === "block" && core.config.billingGraceAction === "block"
      ? []
      : [{
        name: "violation_actions",
        schedule: "* * * * *",
        intervalMs: 30_000,
        // Within 30 s of the block the quota or wallet job wrote; again every 30 s while it
        // holds (an app whose deployment was in progress is taken on a later pass).
        run: () => enforcement.run(),
      }],
});
