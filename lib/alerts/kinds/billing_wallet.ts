/**
 * billing_wallet: an organization's wallet went below zero (its grace period starts), passed the
 * grace period's halfway point, reached its end (new deploys are blocked) or recovered (a top-up
 * brought it to zero or more). lib/billing/wallet.ts makes each transition exactly once and tells
 * it on the bus (`billing.wallet`); each is one instant notice through the org's channels.
 *
 * One subject per transition kind (bounded); its value is when the grace period it belongs to
 * started, so the same transition heard again is not told twice.
 */
import type { EventRuleKind, WalletNotice } from "./kind.ts";

const money = (n: WalletNotice) => `balance ${n.balance} (minor units)`;
const at = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace("T", " ") + " UTC";

/** The billing_wallet kind. */
export const billingWallet: EventRuleKind = {
  billingWallet(c, rule, n) {
    const s = c.subject(rule, `wallet/${n.transition}`, "");
    // A stop pass is told by when it stopped (a grace period may need more than one).
    const when = n.transition === "apps_stopped" ? n.at ?? n.started_at : n.started_at;
    if (s.value !== null && s.value >= when) return;
    s.value = when;
    const [title, detail] = n.transition === "grace_started"
      ? [
        "Wallet below zero: grace period started",
        `The last charge left the ${money(n)}. New deploys are blocked at ${
          at(n.ends_at)
        } unless the wallet is topped up.`,
      ]
      : n.transition === "grace_halfway"
      ? [
        "Wallet below zero: grace period half over",
        `The ${money(n)}. New deploys are blocked at ${at(n.ends_at)} unless topped up.`,
      ]
      : n.transition === "blocked"
      ? [
        "Wallet below zero: new deploys blocked",
        `The grace period that started ${at(n.started_at)} ended; the ${
          money(n)
        }. A top-up ends the block at once.`,
      ]
      : n.transition === "apps_stopped"
      ? [
        "Wallet below zero: apps stopped",
        `The grace period that started ${at(n.started_at)} ended; the ${money(n)}. Stopped: ${
          (n.apps ?? []).join(", ")
        }. A top-up allows starting them again.`,
      ]
      : ["Wallet recovered", `A top-up brought the ${money(n)}: grace and blocking ended.`];
    c.instant(s, when, { hostName: null, containerName: null, title, detail });
  },
};
