import type { Hono } from "hono";
import { type AppEnv, orgScopeOf } from "../../../lib/http/context.ts";
import { page } from "../../../lib/http/pages.ts";
import { roleAtLeast } from "../../../lib/auth/principal.ts";
import { PageHeader } from "../../../components/PageHeader.tsx";
import { StatCard } from "../../../components/StatCard.tsx";
import { NoHosts } from "../../../components/NoHosts.tsx";
import { render } from "../../_render.tsx";

const DAY_MS = 24 * 3600 * 1000;
/** Counts are capped so the dashboard never reads an unbounded number of rows. */
const CAP = 500;

/** `GET /o/:org`: the organization dashboard (an empty state until hosts exist). */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", "/o/:org", "org:viewer", async (c) => {
    const { org, role } = orgScopeOf(c);
    const { orgs, audit, clock, hosts, agents } = c.var.services;
    const hostList = await hosts.list(org.id);
    const online = hostList.filter((h) => agents.isOnline(h.id)).length;
    const members = await orgs.members(org.id, CAP + 1);
    const events = await audit.list({ orgId: org.id, from: clock.now() - DAY_MS, limit: CAP });
    const isAdmin = roleAtLeast(role, "admin");
    const base = `/o/${encodeURIComponent(org.slug)}`;
    const capped = (n: number, more: boolean) => (more ? `${CAP}+` : String(n));
    return render(
      c,
      <>
        <PageHeader title={org.name} sub={<>Dashboard · you are {role}</>} />
        <div class="stats">
          <StatCard
            label="Members"
            value={capped(members.length, members.length > CAP)}
            href={`${base}/members`}
          />
          <StatCard
            label="Audit events (24 h)"
            value={capped(events.rows.length, events.nextBefore !== null)}
            href={isAdmin ? `${base}/audit` : undefined}
          />
          <StatCard
            label={hostList.length ? `Hosts (${online} online)` : "Hosts"}
            value={hostList.length}
            href={`${base}/hosts`}
          />
        </div>
        {hostList.length === 0 && <NoHosts base={base} isAdmin={isAdmin} />}
      </>,
      { title: org.name, active: "home" },
    );
  });
}
