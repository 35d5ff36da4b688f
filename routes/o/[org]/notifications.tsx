import type { Hono } from "hono";
import { z } from "zod";
import {
  actionContext,
  type AppContext,
  type AppEnv,
  orgScopeOf,
  principalOf,
} from "../../../lib/http/context.ts";
import { page } from "../../../lib/http/pages.ts";
import { roleAtLeast } from "../../../lib/auth/principal.ts";
import type { AlertRow } from "../../../lib/alerts/history.ts";
import { AlertQuery } from "../../_schemas/alerts.ts";
import { PageHeader } from "../../../components/PageHeader.tsx";
import { AlertFilters } from "../../../components/AlertFilters.tsx";
import { AlertsTable } from "../../../components/AlertsTable.tsx";
import { EmptyState } from "../../../components/EmptyState.tsx";
import { HostAlerts } from "../../../components/HostAlerts.tsx";
import { Alert } from "../../../components/Alert.tsx";
import {
  type FieldErrors,
  filterLinks,
  localTime,
  parseForm,
  queryValues,
  readForm,
  safePath,
} from "../../_forms.ts";
import { render, seeOther } from "../../_render.tsx";

const PAGE_SIZE = 50;
const FILTER_NAMES = ["state", "severity", "host", "from", "to"] as const;

/** The API's filters, with browser-friendly times in place of milliseconds. */
const PageQuery = AlertQuery.pick({ state: true, severity: true, host: true, before: true })
  .extend({ from: localTime.optional(), to: localTime.optional() });
const SilenceInput = z.object({ minutes: z.coerce.number().int().min(1).max(10_080) });

const base = (slug: string) => `/o/${encodeURIComponent(slug)}`;

/** Series name per rule id, so values show in their unit. */
export async function ruleMetrics(c: AppContext, orgId: string) {
  const rules = await c.var.services.alerts.rules.list(orgId);
  return Object.fromEntries(rules.map((r) => [r.id, r.metric]));
}

/** The notifications page: filters, alerts newest first, pager, actions for members. */
async function notificationsPage(c: AppContext) {
  const { org, role } = orgScopeOf(c);
  const { alerts, hosts, clock } = c.var.services;
  const values = queryValues(c);
  const path = `${base(org.slug)}/notifications`;
  const { href: withFilters, active: filtered } = filterLinks(path, values, FILTER_NAMES);

  const parsed = parseForm(PageQuery, values);
  let errors: FieldErrors | undefined;
  let result: { rows: AlertRow[]; nextBefore: string | null } = { rows: [], nextBefore: null };
  if (parsed.ok) {
    const q = parsed.data;
    result = await alerts.history.list({
      orgId: org.id,
      state: q.state,
      severity: q.severity,
      hostId: q.host,
      from: q.from?.ms,
      to: q.to ? q.to.ms + (q.to.minutePrecision ? 59_999 : 0) : undefined,
      before: q.before,
      limit: PAGE_SIZE,
    });
  } else errors = parsed.errors;
  // Opening the notification center reads everything: the bell's count drops to zero.
  await alerts.history.markRead(principalOf(c).userId, org.id);
  const canAct = roleAtLeast(role, "member");
  const here = safePath(new URL(c.req.url).pathname + new URL(c.req.url).search, path);

  return render(
    c,
    <>
      <PageHeader title="Notifications" sub={<>{org.name} · alerts, newest first</>}>
        <a class="btn" href={`${base(org.slug)}/alerts/rules`}>Alert rules</a>
        {roleAtLeast(role, "admin") && (
          <a class="btn" href={`${base(org.slug)}/alerts/channels`}>Channels</a>
        )}
      </PageHeader>
      <AlertFilters
        action={path}
        values={values}
        errors={errors}
        hosts={(await hosts.list(org.id)).map((h) => ({ id: h.id, name: h.name }))}
      />
      {errors && <Alert kind="error">Fix the filters marked above.</Alert>}
      {result.rows.length > 0
        ? (
          <AlertsTable
            rows={result.rows}
            now={clock.now()}
            metricOf={await ruleMetrics(c, org.id)}
            hostHref={(id) => `${base(org.slug)}/hosts/${encodeURIComponent(id)}`}
            actionBase={canAct ? path : null}
            back={here}
          />
        )
        : (
          !errors && (
            <EmptyState title={filtered ? "No alerts match these filters" : "No alerts yet"}>
              <p>
                {filtered
                  ? "Widen the time range or clear a filter."
                  : "When a host crosses an alert rule's threshold for its hold time, the alert shows up here and is sent to your channels."}
              </p>
              {!filtered && roleAtLeast(role, "admin") && (
                <p>
                  <a href={`${base(org.slug)}/alerts/channels/new`}>Add a channel</a>{" "}
                  (Slack, Discord, webhook or email) to be told, and review the{" "}
                  <a href={`${base(org.slug)}/alerts/rules`}>alert rules</a>.
                </p>
              )}
            </EmptyState>
          )
        )}
      <nav class="pager" aria-label="Pages">
        {values.before && <a class="btn" href={withFilters()}>← Newest</a>}
        {result.nextBefore && (
          <a class="btn" rel="next" href={withFilters({ before: result.nextBefore })}>Older →</a>
        )}
      </nav>
    </>,
    {
      title: `Notifications · ${org.name}`,
      active: "notifications",
      status: errors ? 400 : 200,
    },
  );
}

/** Alerts shown on the host page. */
const HOST_ALERTS = 10;

/** The host page's alert section: the host's latest alerts, actions coming back to the host page. */
export async function hostAlertsSection(c: AppContext, hostId: string) {
  const { org, role } = orgScopeOf(c);
  const { alerts, clock } = c.var.services;
  const { rows } = await alerts.history.list({ orgId: org.id, hostId, limit: HOST_ALERTS });
  const list = `${base(org.slug)}/notifications`;
  const hostHref = (id: string) => `${base(org.slug)}/hosts/${encodeURIComponent(id)}`;
  return (
    <HostAlerts
      rows={rows}
      now={clock.now()}
      metricOf={rows.length ? await ruleMetrics(c, org.id) : {}}
      hostHref={hostHref}
      actionBase={roleAtLeast(role, "member") ? list : null}
      back={hostHref(hostId)}
      allHref={`${list}?host=${encodeURIComponent(hostId)}`}
    />
  );
}

/** Where an action returns to: the page it was posted from (same site only). */
function backOf(values: Record<string, string>, slug: string): string {
  const list = `${base(slug)}/notifications`;
  const back = safePath(values.back, list);
  return back.startsWith(list) || back.startsWith(`${base(slug)}/hosts/`) ? back : list;
}

/** `path` with `?ok=key` in place of any earlier flash. */
function withFlash(path: string, key: string): string {
  const u = new URL(path, "http://x.invalid");
  u.searchParams.delete("error");
  u.searchParams.set("ok", key);
  return u.pathname + u.search;
}

/** Notifications pages: list with filters (viewers), acknowledge and silence (members). */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", "/o/:org/notifications", "org:viewer", (c) => notificationsPage(c));

  page(app, "POST", "/o/:org/notifications/:id/acknowledge", "org:member", async (c) => {
    const { org } = orgScopeOf(c);
    const values = await readForm(c);
    await c.var.services.alerts.history.acknowledge(
      actionContext(c),
      org.id,
      c.req.param("id") ?? "",
    );
    return seeOther(c, withFlash(backOf(values, org.slug), "alert_acknowledged"));
  });

  page(app, "POST", "/o/:org/notifications/:id/silence", "org:member", async (c) => {
    const { org } = orgScopeOf(c);
    const values = await readForm(c);
    const parsed = parseForm(SilenceInput, values);
    const back = backOf(values, org.slug);
    if (!parsed.ok) return seeOther(c, back);
    await c.var.services.alerts.history.silence(
      actionContext(c),
      org.id,
      c.req.param("id") ?? "",
      parsed.data.minutes,
    );
    return seeOther(c, withFlash(back, "alert_silenced"));
  });
}
