import type { Hono } from "hono";
import { type AppEnv, orgScopeOf, principalOf } from "../../../lib/http/context.ts";
import { page } from "../../../lib/http/pages.ts";
import { PageHeader } from "../../../components/PageHeader.tsx";
import { Alert } from "../../../components/Alert.tsx";
import { QuotaBars } from "../../../components/QuotaBars.tsx";
import { graceBanner } from "../_grace.tsx";
import { QuotaHistory } from "../../../components/QuotaHistory.tsx";
import { render } from "../../_render.tsx";

/** `GET /o/:org/quotas`: the organization's limits and what it uses of each (every member). */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", "/o/:org/quotas", "org:viewer", async (c) => {
    const { org } = orgScopeOf(c);
    const { quotas, quotaWatch, clock } = c.var.services;
    const now = clock.now();
    const [lines, blocked, standings, history, grace] = await Promise.all([
      quotas.view(org.id),
      quotas.blocked(org.id),
      quotaWatch.standings(org.id),
      quotaWatch.history(org.id, now - 31 * 86_400_000),
      graceBanner(c),
    ]);
    return render(
      c,
      <>
        <PageHeader
          title="Quotas"
          sub="Limits set by the platform's admins. A request past one is refused with the numbers (409)."
        />
        {grace}
        {blocked && <Alert kind="error">Deploys are blocked: {blocked}</Alert>}
        <QuotaBars lines={lines} standings={standings} now={now} />
        <p class="hint">
          CPU and memory count what the apps' services reserve (reservations × replicas) while the
          apps are meant to run; a stopped app holds nothing. Levels (80 %, 90 %, full) are checked
          every 30 s and told through the organization's alert channels; use above a limit starts a
          grace period, after which new deploys are blocked until it fits again.
          {principalOf(c).isAdmin && (
            <>
              {" "}
              <a href="/admin/quotas">Edit quotas</a>
            </>
          )}
        </p>
        <QuotaHistory history={history} now={now} />
      </>,
      { title: "Quotas", active: "quotas" },
    );
  });
}
