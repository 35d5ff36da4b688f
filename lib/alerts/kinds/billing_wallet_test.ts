import assert from "node:assert/strict";
import { billingWallet } from "./billing_wallet.ts";
import type { WalletNotice } from "./kind.ts";
import { assertOrgOnly, harness, lastInfo, rule, T0 } from "./testing.ts";

const HOUR = 3_600_000;
const notice = (transition: WalletNotice["transition"], started = T0): WalletNotice => ({
  org_id: "o1",
  transition,
  balance: -130,
  started_at: started,
  ends_at: started + 24 * HOUR,
});

Deno.test("billing_wallet tells grace's start, halfway, end and the recovery once each", async () => {
  const r = rule({ name: "Wallet", kind: "event", event: "billing_wallet" });
  const h = harness([r]);
  const titles: string[] = [];
  for (const t of ["grace_started", "grace_halfway", "blocked", "recovered"] as const) {
    billingWallet.billingWallet!(h.at(T0 + 1), r, notice(t));
    titles.push((await lastInfo(h.ops))!.title);
    // Heard again (a replay): not told twice.
    billingWallet.billingWallet!(h.at(T0 + 2), r, notice(t));
  }
  assert.deepEqual(titles, [
    "Wallet below zero: grace period started",
    "Wallet below zero: grace period half over",
    "Wallet below zero: new deploys blocked",
    "Wallet recovered",
  ]);
  assert.equal(h.take().length, 4);
  // The next grace period is told again.
  billingWallet.billingWallet!(h.at(T0 + 50 * HOUR), r, notice("grace_started", T0 + 50 * HOUR));
  assert.equal(h.take().length, 1);
});

Deno.test("billing_wallet rules are organization-wide", () => {
  assertOrgOnly("billing_wallet");
});
