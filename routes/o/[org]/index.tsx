import type { Hono } from "hono";
import { type AppContext, type AppEnv, orgScopeOf } from "../../../lib/http/context.ts";
import { page } from "../../../lib/http/pages.ts";
import { roleAtLeast } from "../../../lib/auth/principal.ts";
import { island } from "../../../lib/islands/island.tsx";
import { fleetData, type HostState, SPARK_POINTS, STALE_MS } from "../../../lib/metrics/views.ts";
import FleetLive, { type FleetLiveProps } from "../../../islands/FleetLive.tsx";
import { PageHeader } from "../../../components/PageHeader.tsx";
import { StatCard } from "../../../components/StatCard.tsx";
import { NoHosts } from "../../../components/NoHosts.tsx";
import { Attention, type AttentionProps } from "../../../components/Attention.tsx";
import { hasIsland, type PageKit, render } from "../../_render.tsx";
import { topics } from "../../../lib/realtime/topics.ts";

const FleetLiveIsland = island("FleetLive", FleetLive);
const DAY_MS = 24 * 3600 * 1000;
/** Counts are capped so the dashboard never reads an unbounded number of rows. */
const CAP = 500;
/** Host cards per page; the headline figures always cover every host. */
const CARDS_PER_PAGE = 100;

/** Previous/next links over the host cards, when there are more than one page of them. */
function CardPager(
  { base, offset, total }: { base: string; offset: number; total: number },
) {
  if (total <= CARDS_PER_PAGE) return null;
  const last = Math.min(offset + CARDS_PER_PAGE, total);
  return (
    <nav class="pager" aria-label="Host cards">
      <span class="pager-count muted small">Hosts {offset + 1}–{last} of {total}</span>
      {offset > 0 && (
        <a class="btn btn-small" href={`${base}?offset=${Math.max(0, offset - CARDS_PER_PAGE)}`}>
          Previous
        </a>
      )}
      {last < total && <a class="btn btn-small" href={`${base}?offset=${last}`}>Next</a>}
    </nav>
  );
}

/** Firing alerts and failing checks shown at the top of the dashboard. */
const ATTENTION_ITEMS = 5;
/** Firing alerts read to count them; beyond this the dashboard says "50+". */
const ATTENTION_CAP = 50;

/** The dashboard's "needs attention" data: firing alerts (not muted) and unhealthy checks. */
async function attentionOf(c: AppContext, orgId: string, base: string): Promise<AttentionProps> {
  const { alerts, health } = c.var.services;
  const firing = (await alerts.history.list({ orgId, state: "firing", limit: ATTENTION_CAP }))
    .rows.filter((a) => a.muted === 0);
  const checks = await health.service.list(orgId, { state: "unhealthy", limit: ATTENTION_ITEMS });
  return {
    base,
    alerts: firing.slice(0, ATTENTION_ITEMS),
    alertsTotal: firing.length >= ATTENTION_CAP ? `${ATTENTION_CAP}+` : firing.length,
    checks: checks.items,
    checksTotal: checks.total,
  };
}

/** `GET /o/:org`: the fleet overview (an empty state until hosts exist). */
export function register(app: Hono<AppEnv>, kit: PageKit): void {
  page(app, "GET", "/o/:org", "org:viewer", async (c) => {
    const { org, role } = orgScopeOf(c);
    const { orgs, audit, clock, hosts, agents, metrics } = c.var.services;
    const hostList = await hosts.list(org.id);
    const members = await orgs.members(org.id, CAP + 1);
    const events = await audit.list({ orgId: org.id, from: clock.now() - DAY_MS, limit: CAP });
    const isAdmin = roleAtLeast(role, "admin");
    const base = `/o/${encodeURIComponent(org.slug)}`;
    const capped = (n: number, more: boolean) => (more ? `${CAP}+` : String(n));
    const offsetParam = Number(c.req.query("offset") ?? 0);
    const offset = Number.isInteger(offsetParam) && offsetParam > 0 && offsetParam < hostList.length
      ? offsetParam
      : 0;

    let fleet = null;
    if (hostList.length) {
      const now = clock.now();
      const data = await fleetData(
        metrics.overview,
        now,
        hostList.map((h) => ({
          id: h.id,
          name: h.name,
          local: Boolean(h.local),
          status: (agents.isOnline(h.id)
            ? "online"
            : h.enrolled_at === null
            ? "waiting"
            : "offline") as HostState,
          running: h.containers_running === null ? null : Number(h.containers_running),
          containers: h.containers_total === null ? null : Number(h.containers_total),
        })),
        {
          offset,
          limit: CARDS_PER_PAGE,
          href: (id) =>
            `${base}/hosts/${encodeURIComponent(id)}`,
        },
      );
      const props: FleetLiveProps = {
        topic: topics.fleetMetrics(org.id),
        hostsTopic: topics.hosts(org.id),
        now,
        staleMs: STALE_MS,
        sparkPoints: SPARK_POINTS,
        ...data,
      };
      // Without a built island the same component renders once, as a static page.
      fleet = hasIsland(kit.manifest, "FleetLive")
        ? <FleetLiveIsland {...props} />
        : <FleetLive {...props} />;
    }
    return render(
      c,
      <>
        <PageHeader title={org.name} sub={<>Fleet overview · you are {role}</>} />
        {hostList.length > 0 && <Attention {...await attentionOf(c, org.id, base)} />}
        {fleet}
        <CardPager base={base} offset={offset} total={hostList.length} />
        {hostList.length === 0 && <NoHosts base={base} isAdmin={isAdmin} />}
        <h2 class="section-title">Organization</h2>
        <div class="stats">
          <StatCard
            label="Members"
            value={capped(members.length, members.length > CAP)}
            href={`${base}/members`}
          />
          <StatCard
            label="Audit events (24 h)"
            value={capped(events.rows.length, events.nextBefore !== null)}
            href={isAdmin ? `${base}/audit` : undefined}
          />
          {hostList.length === 0 && <StatCard label="Hosts" value={0} href={`${base}/hosts`} />}
        </div>
      </>,
      { title: org.name, active: "home", manifest: hostList.length ? kit.manifest : null },
    );
  });
}
