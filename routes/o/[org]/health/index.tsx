import type { Hono } from "hono";
import { z } from "zod";
import { type AppContext, type AppEnv, orgScopeOf } from "../../../../lib/http/context.ts";
import { page } from "../../../../lib/http/pages.ts";
import { island } from "../../../../lib/islands/island.tsx";
import { CHECK_STATES } from "../../../../lib/health/schema.ts";
import HealthLive from "../../../../islands/HealthLive.tsx";
import { PageHeader } from "../../../../components/PageHeader.tsx";
import { StatCard } from "../../../../components/StatCard.tsx";
import { FilterForm } from "../../../../components/FilterForm.tsx";
import { SelectField } from "../../../../components/Field.tsx";
import { EmptyState } from "../../../../components/EmptyState.tsx";
import { Alert } from "../../../../components/Alert.tsx";
import { type HealthRow, HealthTable } from "../../../../components/HealthTable.tsx";
import { filterLinks, parseForm, queryValues } from "../../../_forms.ts";
import { hasIsland, type PageKit, render } from "../../../_render.tsx";
import { topics } from "../../../../lib/realtime/topics.ts";

const HealthLiveIsland = island("HealthLive", HealthLive);

const FILTER_NAMES = ["state", "host"] as const;
const Filters = z.object({
  state: z.enum(CHECK_STATES).optional(),
  host: z.string().uuid("is not a host of this organization").optional(),
});
/** Checks one page shows (the API pages further). */
const PAGE_SIZE = 500;

/** The empty state: how a check comes to be, from a container's page or from its labels. */
function NoChecks({ base }: { base: string }) {
  return (
    <EmptyState title="No health checks yet">
      <p>
        A health check watches a container from its host's agent and tells you when it stops
        answering. Open a container from <a href={`${base}/containers`}>Containers</a> and press
        {" "}
        <strong>Add HTTP check</strong>{" "}
        (TCP, Docker health and command checks are on the same form).
      </p>
      <p>
        Or declare checks with container labels, so containers started later get checked without a
        click: <code>capstan.health.http=/healthz</code> (with{" "}
        <code>capstan.health.port=8080</code>), <code>capstan.health.tcp=5432</code>,{" "}
        <code>capstan.health.cmd=["pg_isready"]</code>, <code>capstan.health.docker=true</code> and
        {" "}
        <code>capstan.health.interval=10s</code>.
      </p>
    </EmptyState>
  );
}

/** `GET /o/:org/health`: counts, filters and the table of checks, kept live. */
async function healthPage(c: AppContext, kit: PageKit) {
  const { org } = orgScopeOf(c);
  const { health, hosts } = c.var.services;
  const base = `/o/${encodeURIComponent(org.slug)}`;
  const path = `${base}/health`;
  const values = queryValues(c);
  const { href, active: filtered } = filterLinks(path, values, FILTER_NAMES);
  const parsed = parseForm(Filters, values);
  const q = parsed.ok ? parsed.data : {};
  const list = await health.service.list(org.id, {
    state: q.state,
    hostId: q.host,
    limit: PAGE_SIZE,
  });
  const ids = list.items.map((c) => c.id);
  const [uptime, recent] = await Promise.all([
    health.service.uptime(ids),
    health.service.sparklines(ids),
  ]);
  const rows: HealthRow[] = list.items.map((check) => ({
    check,
    uptime: uptime.get(check.id)!,
    recent: recent.get(check.id)!,
  }));
  const total = list.counts.healthy + list.counts.unhealthy + list.counts.unknown;
  const hostOptions = (await hosts.list(org.id)).map((h) => ({ value: h.id, label: h.name }));
  const stateHref = (s: string) => href({ state: s });

  return render(
    c,
    <>
      <PageHeader title="Health" sub={<>{org.name} · checks of your containers</>}>
        {total > 0 && hasIsland(kit.manifest, "HealthLive") && (
          <HealthLiveIsland topic={topics.health(org.id)} />
        )}
      </PageHeader>
      {values.done === "deleted" && (
        <Alert kind="ok">Monitoring stopped: the check and its history are deleted.</Alert>
      )}
      {total > 0 || filtered
        ? (
          <>
            <div class="stats health-stats">
              <StatCard label="Healthy" value={list.counts.healthy} href={stateHref("healthy")} />
              <StatCard
                label="Unhealthy"
                value={list.counts.unhealthy}
                href={stateHref("unhealthy")}
              />
              <StatCard label="Unknown" value={list.counts.unknown} href={stateHref("unknown")} />
            </div>
            <FilterForm action={path}>
              <SelectField
                name="state"
                label="State"
                options={[
                  { value: "", label: "Any state" },
                  ...CHECK_STATES.map((s) => ({ value: s, label: s })),
                ]}
                values={values}
                errors={parsed.ok ? undefined : parsed.errors}
                idPrefix="flt"
              />
              <SelectField
                name="host"
                label="Host"
                options={[{ value: "", label: "Any host" }, ...hostOptions]}
                values={values}
                errors={parsed.ok ? undefined : parsed.errors}
                idPrefix="flt"
              />
            </FilterForm>
            {!parsed.ok && <Alert kind="error">Fix the filters marked above.</Alert>}
            {rows.length ? <HealthTable rows={rows} base={base} /> : (
              parsed.ok && (
                <EmptyState title="No checks match these filters">
                  <p>
                    <a href={path}>Show all checks</a>
                  </p>
                </EmptyState>
              )
            )}
            {list.total > rows.length && (
              <p class="muted small">
                Showing the first {rows.length} of {list.total}; filter by host to see the others.
              </p>
            )}
          </>
        )
        : <NoChecks base={base} />}
    </>,
    {
      title: `Health · ${org.name}`,
      active: "health",
      status: parsed.ok ? 200 : 400,
      manifest: kit.manifest,
    },
  );
}

/** The health page (viewers, like the API's list). */
export function register(app: Hono<AppEnv>, kit: PageKit): void {
  page(app, "GET", "/o/:org/health", "org:viewer", (c) => healthPage(c, kit));
}
