/**
 * `GET /admin/quotas/usage` (platform admins): the consumption overview — every organization
 * with each limited resource's use against its limit (%, level, grace) as the 30 s job last
 * stored it, the wallet's balance and standing, and this month's charges (through the billing
 * service); highest percentage first, 50 a page (lib/quotas/overview.ts; the API:
 * GET /api/v1/quotas/overview).
 */
import type { Hono } from "hono";
import type { AppEnv } from "../../../lib/http/context.ts";
import { page } from "../../../lib/http/pages.ts";
import { PageHeader } from "../../../components/PageHeader.tsx";
import { EmptyState } from "../../../components/EmptyState.tsx";
import { Badge } from "../../../components/Badge.tsx";
import { money } from "../../../components/money.ts";
import { timeLeft } from "../../../components/time_left.ts";
import { formatAmount } from "../../../lib/quotas/resources.ts";
import { OVERVIEW_PAGE, overviewOf } from "../../../lib/quotas/overview.ts";
import { render } from "../../_render.tsx";

const TONE = {
  ok: "ok",
  warning: "warn",
  critical: "error",
  full: "error",
  over: "error",
} as const;

export function register(app: Hono<AppEnv>): void {
  page(app, "GET", "/admin/quotas/usage", "platform_admin", async (c) => {
    const raw = c.req.query("offset") ?? "0";
    const offset = /^\d{1,6}$/.test(raw) ? Number(raw) : 0;
    const { total, items } = await overviewOf(c.var.services, offset);
    const now = c.var.services.clock.now();
    return render(
      c,
      <>
        <PageHeader
          title="Consumption"
          sub={
            <>
              Every organization's use of its limits (as the quota job found it within the last 30
              s), its wallet and this month's charges; highest share of a limit first.{" "}
              <a href="/admin/quotas">Edit quotas</a>
            </>
          }
        />
        {items.length
          ? (
            <div class="table-wrap">
              <table class="table-cards quota-overview">
                <thead>
                  <tr>
                    <th scope="col">Organization</th>
                    <th scope="col" class="num">Highest</th>
                    <th scope="col">Use of limits</th>
                    <th scope="col" class="num">Wallet</th>
                    <th scope="col" class="num">This month</th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((row) => (
                    <tr key={row.org.slug} data-org={row.org.slug}>
                      <td class="card-title">
                        <a href={`/o/${encodeURIComponent(row.org.slug)}/quotas`}>{row.org.name}</a>
                        {" "}
                        <span class="muted small">{row.org.slug}</span>
                      </td>
                      <td data-label="Highest" class="num">
                        {row.max_pct === null ? "—" : `${row.max_pct} %`}
                      </td>
                      <td data-label="Use of limits">
                        {row.resources.length
                          ? (
                            <ul>
                              {row.resources.map((r) => (
                                <li key={r.resource} data-resource={r.resource}>
                                  {r.label}: {formatAmount(r.resource, r.used)} of{" "}
                                  {r.limit === null ? "∞" : formatAmount(r.resource, r.limit)}
                                  {r.pct !== null && ` (${r.pct} %)`}{" "}
                                  {r.level !== "ok" && (
                                    <Badge tone={TONE[r.level]}>{r.level}</Badge>
                                  )}
                                  {r.blocked
                                    ? <span class="small">deploys blocked</span>
                                    : r.grace_ends_at !== null && (
                                      <span class="small">
                                        grace {timeLeft(r.grace_ends_at, now)} left
                                      </span>
                                    )}
                                </li>
                              ))}
                            </ul>
                          )
                          : <span class="muted">no limits</span>}
                      </td>
                      <td data-label="Wallet" class="num">
                        {money(row.wallet.balance, row.wallet.currency)}
                        {row.wallet.state !== "ok" && (
                          <>
                            {" "}
                            <Badge tone={row.wallet.state === "blocked" ? "error" : "warn"}>
                              {row.wallet.state === "blocked"
                                ? "blocked"
                                : `grace ${timeLeft(row.wallet.ends_at ?? now, now)}`}
                            </Badge>
                          </>
                        )}
                      </td>
                      <td data-label="This month" class="num">
                        {money(row.month_charges, row.wallet.currency)}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
          : (
            <EmptyState title="No organizations">
              <p>Organizations appear here once they exist.</p>
            </EmptyState>
          )}
        {(offset > 0 || offset + OVERVIEW_PAGE < total) && (
          <nav class="pager" aria-label="Organization pages">
            {offset > 0 && (
              <a
                class="btn"
                href={`/admin/quotas/usage?offset=${Math.max(0, offset - OVERVIEW_PAGE)}`}
              >
                ← Previous
              </a>
            )}
            <span class="muted small">
              {offset + 1}–{Math.min(total, offset + OVERVIEW_PAGE)} of {total}
            </span>
            {offset + OVERVIEW_PAGE < total && (
              <a
                class="btn"
                rel="next"
                href={`/admin/quotas/usage?offset=${offset + OVERVIEW_PAGE}`}
              >
                Next →
              </a>
            )}
          </nav>
        )}
      </>,
      { title: "Consumption · Quotas", active: "admin-quotas" },
    );
  });
}
