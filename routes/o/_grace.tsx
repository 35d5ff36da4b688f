/**
 * The grace banner of an organization's pages (issue 21): while one of its quotas is exceeded
 * (a violation's grace period runs or has ended) or its wallet is below zero (in grace or
 * blocked), what, and the time left before deploys are blocked (and apps stopped, when the
 * install is set to). Server-rendered; the countdown is the GraceCountdown island when the page
 * can hydrate it (it ticks down), plain text otherwise.
 */
import type { JSX } from "preact";
import { type AppContext, orgScopeOf } from "../../lib/http/context.ts";
import { island } from "../../lib/islands/island.tsx";
import GraceCountdown from "../../islands/GraceCountdown.tsx";
import { Alert } from "../../components/Alert.tsx";
import { Time } from "../../components/Time.tsx";
import { timeLeft } from "../../components/time_left.ts";
import { formatAmount, RESOURCE_INFO, RESOURCES } from "../../lib/quotas/resources.ts";
import { hasIsland } from "../_render.tsx";

const GraceCountdownIsland = island("GraceCountdown", GraceCountdown);

/** The banner, or null when the org is in no grace period and nothing is blocked. */
export async function graceBanner(
  c: AppContext,
  opts: { wallet?: boolean } = {},
): Promise<JSX.Element | null> {
  const { org } = orgScopeOf(c);
  const { quotaWatch, billingWallet, clock, config } = c.var.services;
  const [standings, wallet] = await Promise.all([
    quotaWatch.standings(org.id),
    opts.wallet === false ? null : billingWallet.standing(org.id),
  ]);
  const now = clock.now();
  const live = hasIsland(c.get("pageManifest") ?? null, "GraceCountdown");
  const left = (ends: number) =>
    live
      ? <GraceCountdownIsland ends_at={ends} now={now} />
      : <span data-countdown={ends}>{timeLeft(ends, now)}</span>;
  const base = `/o/${encodeURIComponent(org.slug)}`;
  const quotaStops = config.quotaViolationAction === "stop_lowest_priority";
  const walletStops = config.billingGraceAction === "stop_apps";
  const items: JSX.Element[] = [];
  for (const r of RESOURCES) {
    const s = standings[r];
    if (!s || s.level !== "over" || s.grace_ends_at === null || s.limit === null) continue;
    const what = `${RESOURCE_INFO[r].label} uses ${formatAmount(r, s.used)} of ${
      formatAmount(r, s.limit)
    }`;
    items.push(
      now < s.grace_ends_at
        ? (
          <p key={r} data-grace={`quota:${r}`}>
            <strong>Quota exceeded:</strong> {what}. New deploys are blocked
            {quotaStops && " and the lowest-priority apps stopped"} in {left(s.grace_ends_at)} (at
            {" "}
            <Time ms={s.grace_ends_at} />) unless the use fits the limit again.{" "}
            <a href={`${base}/quotas`}>Quotas</a>
          </p>
        )
        : (
          <p key={r} data-grace={`quota:${r}:blocked`}>
            <strong>Quota exceeded, grace period over:</strong> {what}. New deploys are blocked
            {quotaStops && " and the lowest-priority apps are stopped until it fits"} (since{" "}
            <Time ms={s.grace_ends_at} />). <a href={`${base}/quotas`}>Quotas</a>
          </p>
        ),
    );
  }
  if (wallet?.state === "grace" && wallet.ends_at !== null) {
    items.push(
      <p key="wallet" data-grace="wallet">
        <strong>The wallet is below zero:</strong> new deploys are blocked
        {walletStops && " and running apps stopped"} in {left(wallet.ends_at)} (at{" "}
        <Time ms={wallet.ends_at} />) unless it is topped up.{" "}
        <a href={`${base}/billing`}>Billing</a>
      </p>,
    );
  } else if (wallet?.state === "blocked") {
    items.push(
      <p key="wallet" data-grace="wallet:blocked">
        <strong>The wallet is below zero, grace period over:</strong> new deploys are blocked
        {walletStops && " and running apps are stopped"}; a top-up lifts it.{" "}
        <a href={`${base}/billing`}>Billing</a>
      </p>,
    );
  }
  if (!items.length) return null;
  const blocked = items.some((i) => String(i.props["data-grace"]).includes("blocked"));
  return (
    <div class="grace-banner">
      <Alert kind={blocked ? "error" : "warn"}>{items}</Alert>
    </div>
  );
}
