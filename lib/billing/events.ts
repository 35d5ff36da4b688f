/**
 * What the billing module tells other modules (lib/events.ts):
 * - `billing.wallet`: an org's wallet entered grace, reached its halfway point, was blocked (grace
 *   ended) or recovered (a top-up brought it to zero or more); each exactly once
 *   (lib/billing/wallet.ts). The alerts module raises `billing_wallet` notices from it.
 */

/** A wallet's transition, as the `billing.wallet` event and the audit log tell it. */
export type WalletTransition =
  | "grace_started"
  | "grace_halfway"
  | "blocked"
  | "recovered"
  /** CAPSTAN_BILLING_GRACE_ACTION=stop_apps stopped the org's running apps (lib/enforcement). */
  | "apps_stopped";

/** The `billing.wallet` event: an org's wallet moved into, through or out of grace. */
export interface WalletNotice {
  org_id: string;
  transition: WalletTransition;
  /** Balance when the transition was made, minor units. */
  balance: number;
  /** When grace started and ends (ms); for `recovered`, those of the grace that ended. */
  started_at: number;
  ends_at: number;
  /** `apps_stopped`: the names of the apps stopped. */
  apps?: string[];
  /** `apps_stopped`: when they were stopped (ms). */
  at?: number;
}

declare module "../events.ts" {
  interface DomainEvents {
    "billing.wallet": WalletNotice;
  }
}
