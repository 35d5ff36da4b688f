/**
 * The platform admins' consumption overview (issue 21): every organization with each limited
 * resource's use against its limit (%, level, grace) as the 30 s job last stored it, and its
 * wallet balance and this month's charges read through the billing service (passed in: the
 * quotas module comes before billing and reads none of its tables). Sorted by the highest
 * percentage of any limit first (orgs with no limit last, then by slug), 50 a page.
 */
import type { QuotaWatch, UsageStanding } from "./watch.ts";
import { RESOURCE_INFO, RESOURCES } from "./resources.ts";

export const OVERVIEW_PAGE = 50;

export interface OverviewOrg {
  id: string;
  slug: string;
  name: string;
}

export interface OverviewRow {
  org: { slug: string; name: string };
  /** The highest percentage of a limit any resource uses (null: nothing limited). */
  max_pct: number | null;
  resources: Array<
    Pick<UsageStanding, "resource" | "used" | "limit" | "pct" | "level" | "grace_ends_at"> & {
      label: string;
      blocked: boolean;
    }
  >;
  wallet: {
    balance: number;
    currency: string;
    state: "ok" | "grace" | "blocked";
    ends_at: number | null;
  };
  /** Charged for this UTC month's billed hours, minor units. */
  month_charges: number;
}

export interface OverviewDeps {
  /** Every organization (the orgs service bounds it). */
  orgs(): Promise<OverviewOrg[]>;
  watch: Pick<QuotaWatch, "highestPct" | "standings">;
  billing: {
    summary(orgId: string): Promise<{
      balance: number;
      currency: string;
      wallet: { state: "ok" | "grace" | "blocked"; ends_at: number | null };
    }>;
    charged(orgId: string, from: number, to: number): Promise<number>;
  };
  now: number;
}

/** One page from the hub's services (the API and the page both use it). */
export function overviewOf(
  services: {
    orgs: { listForUser(userId: string, isAdmin: boolean): Promise<OverviewOrg[]> };
    quotaWatch: OverviewDeps["watch"];
    billing: OverviewDeps["billing"];
    clock: { now(): number };
  },
  offset: number,
) {
  return consumptionOverview({
    // Every organization, as a platform admin sees them (the orgs service bounds it to 1000).
    orgs: () => services.orgs.listForUser("", true),
    watch: services.quotaWatch,
    billing: services.billing,
    now: services.clock.now(),
  }, offset);
}

/** Start of the UTC month of `ms`. */
export const monthStart = (ms: number) => {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
};

/** One page of the overview: rows [offset, offset + 50) in the order above, and the total. */
export async function consumptionOverview(
  deps: OverviewDeps,
  offset: number,
): Promise<{ total: number; items: OverviewRow[] }> {
  const [orgs, pct] = await Promise.all([deps.orgs(), deps.watch.highestPct()]);
  const sorted = orgs.map((o) => ({ o, p: pct.get(o.id) ?? null })).sort((a, b) =>
    (b.p ?? -1) - (a.p ?? -1) || (a.o.slug < b.o.slug ? -1 : a.o.slug > b.o.slug ? 1 : 0)
  );
  const page = sorted.slice(offset, offset + OVERVIEW_PAGE);
  const from = monthStart(deps.now);
  const items = await Promise.all(page.map(async ({ o, p }): Promise<OverviewRow> => {
    const [standings, summary, charged] = await Promise.all([
      deps.watch.standings(o.id),
      deps.billing.summary(o.id),
      deps.billing.charged(o.id, from, deps.now + 1),
    ]);
    return {
      org: { slug: o.slug, name: o.name },
      max_pct: p,
      resources: RESOURCES.flatMap((r) => {
        const s = standings[r];
        if (!s || s.limit === null) return [];
        return [{
          resource: r,
          label: RESOURCE_INFO[r].label,
          used: s.used,
          limit: s.limit,
          pct: s.pct,
          level: s.level,
          grace_ends_at: s.level === "over" ? s.grace_ends_at : null,
          blocked: s.level === "over" &&
            (s.blocked || (s.grace_ends_at !== null && deps.now >= s.grace_ends_at)),
        }];
      }),
      wallet: {
        balance: summary.balance,
        currency: summary.currency,
        state: summary.wallet.state,
        ends_at: summary.wallet.ends_at,
      },
      month_charges: charged,
    };
  }));
  return { total: sorted.length, items };
}
