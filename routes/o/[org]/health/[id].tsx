import type { Hono } from "hono";
import {
  actionContext,
  type AppContext,
  type AppEnv,
  orgScopeOf,
} from "../../../../lib/http/context.ts";
import { page } from "../../../../lib/http/pages.ts";
import { roleAtLeast } from "../../../../lib/auth/principal.ts";
import { island } from "../../../../lib/islands/island.tsx";
import { SERIES_RANGES, type SeriesRange, type Uptime } from "../../../../lib/health/service.ts";
import type { HealthCheckView } from "../../../../lib/health/rows.ts";
import HealthDetail from "../../../../islands/HealthDetail.tsx";
import { PageHeader } from "../../../../components/PageHeader.tsx";
import { Alert } from "../../../../components/Alert.tsx";
import { StatCard } from "../../../../components/StatCard.tsx";
import { Time } from "../../../../components/Time.tsx";
import { HealthChart, type Series } from "../../../../components/HealthChart.tsx";
import { RangePicker } from "../../../../components/RangePicker.tsx";
import { HealthHistory } from "../../../../components/HealthHistory.tsx";
import {
  formatMs,
  formatPct,
  HealthBadge,
  KIND_LABELS,
  lastResultText,
  targetText,
} from "../../../../components/HealthBadge.tsx";
import { queryValues } from "../../../_forms.ts";
import { hasIsland, type PageKit, render, seeOther } from "../../../_render.tsx";
import { topics } from "../../../../lib/realtime/topics.ts";

const HealthDetailIsland = island("HealthDetail", HealthDetail);

const RANGES = Object.keys(SERIES_RANGES) as SeriesRange[];
/** A new check's first results show at once in the last hour; longer ranges are a click away. */
const DEFAULT_RANGE: SeriesRange = "1h";
const HISTORY_PAGE = 50;
/** Notices `?done=` may show (never echoed). */
const DONE: Record<string, string> = {
  created:
    "Monitoring started. The first result arrives within a few seconds (after the start delay).",
  saved: "Check saved. Its state starts over when what it probes changed.",
  enabled: "Check enabled.",
  disabled: "Check disabled: it no longer runs, and an open alert for it ends.",
};

const baseOf = (slug: string) => `/o/${encodeURIComponent(slug)}`;

/** The check's container: a link while it exists, its name once it is gone (no link to a 404). */
function ContainerLink({ c, base }: { c: HealthCheckView; base: string }) {
  return c.container_gone_at === null
    ? <a href={`${base}/containers/${c.host_id}/${c.container_id}`}>{c.container_name}</a>
    : <span>{c.container_name}</span>;
}

/** What the check does, in a definition list. */
function Facts({ c, base }: { c: HealthCheckView; base: string }) {
  const cfg = c.config as Record<string, unknown>;
  const headers = Object.keys((cfg.headers ?? {}) as Record<string, string>);
  const statuses = ((cfg.expect_status ?? []) as [number, number][])
    .map(([lo, hi]) => (lo === hi ? String(lo) : `${lo}–${hi}`)).join(", ");
  return (
    <section class="card health-facts">
      <h2>Check</h2>
      <dl class="props">
        <dt>Container</dt>
        <dd>
          <ContainerLink c={c} base={base} />{" "}
          <span class="muted">{c.container_gone_at === null ? "on" : "was on"}</span>{" "}
          <a href={`${base}/hosts/${c.host_id}`}>{c.host_name}</a>
        </dd>
        <dt>Kind</dt>
        <dd>{KIND_LABELS[c.kind]}</dd>
        <dt>Target</dt>
        <dd>
          <code>{targetText(c)}</code>
        </dd>
        {c.kind === "http" && (
          <>
            <dt>Healthy codes</dt>
            <dd>{statuses}</dd>
            {cfg.body_contains !== undefined && (
              <>
                <dt>Body contains</dt>
                <dd>
                  <code>{String(cfg.body_contains)}</code>
                </dd>
              </>
            )}
            {headers.length > 0 && (
              <>
                <dt>Headers</dt>
                <dd>{headers.join(", ")}</dd>
              </>
            )}
            <dt>Redirects</dt>
            <dd>{cfg.follow_redirects ? "followed" : "not followed"}</dd>
          </>
        )}
        <dt>Interval</dt>
        <dd>every {c.interval_s} s</dd>
        <dt>Timeout</dt>
        <dd>{c.timeout_s} s</dd>
        <dt>Retries</dt>
        <dd>{c.retries} in a row before the state changes</dd>
        <dt>Start delay</dt>
        <dd>{c.start_delay_s} s</dd>
        <dt>Source</dt>
        <dd>{c.source === "label" ? "container labels" : "added by hand"}</dd>
        <dt>State since</dt>
        <dd>
          <Time ms={c.state_since} seconds />
        </dd>
        <dt>Last result</dt>
        <dd class={c.last && !c.last.ok ? "error-text" : undefined}>
          {lastResultText(c.last)}
          {c.last && (
            <span class="muted">
              &nbsp;· <Time ms={c.last.at} seconds />
            </span>
          )}
        </dd>
      </dl>
    </section>
  );
}

/** Uptime and last response time as stat cards. */
function Figures({ c, uptime }: { c: HealthCheckView; uptime: Uptime }) {
  return (
    <div class="stats health-figures">
      <StatCard label="Last response" value={formatMs(c.last?.response_ms)} />
      <StatCard label="Uptime 24 h" value={formatPct(uptime["24h"])} />
      <StatCard label="Uptime 7 d" value={formatPct(uptime["7d"])} />
      <StatCard label="Uptime 30 d" value={formatPct(uptime["30d"])} />
    </div>
  );
}

/** `GET /o/:org/health/:id`: state, figures, chart, facts and history of one check. */
async function detailPage(c: AppContext, kit: PageKit) {
  const { org, role } = orgScopeOf(c);
  const svc = c.var.services.health.service;
  const id = c.req.param("id") ?? "";
  const check = await svc.get(org.id, id);
  const q = queryValues(c);
  const range: SeriesRange = RANGES.includes(q.range as SeriesRange)
    ? q.range as SeriesRange
    : DEFAULT_RANGE;
  // A command check's results carry the command's output: only for those who may run commands.
  const readable = await svc.mayReadResults(org.id, { role }, check.kind);
  const [series, history] = await Promise.all([
    svc.series(org.id, id, range) as Promise<Series>,
    readable
      ? svc.history(org.id, id, { role }, { limit: HISTORY_PAGE, cursor: q.cursor || undefined })
      : { items: [], next_cursor: null },
  ]);
  const base = baseOf(org.slug);
  const self = `${base}/health/${check.id}`;
  const canEdit = roleAtLeast(role, "member");
  const manual = check.source === "manual";
  const apiBase = `/api/v1/orgs/${encodeURIComponent(org.slug)}/health-checks/${check.id}`;
  const keep = (extra: Record<string, string>) =>
    `${self}?${new URLSearchParams({ ...(range !== DEFAULT_RANGE ? { range } : {}), ...extra })}`;

  return render(
    c,
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={`${base}/health`}>Health</a> <span aria-hidden="true">/</span>{" "}
        <ContainerLink c={check} base={base} />
      </nav>
      <PageHeader
        title={check.name}
        sub={
          <>
            <HealthBadge
              id={check.id}
              state={check.state}
              enabled={check.enabled}
              gone={check.container_gone_at !== null}
            />{" "}
            {KIND_LABELS[check.kind]} check of {check.container_name} on {check.host_name}
          </>
        }
      >
        {canEdit && (
          <>
            {manual && <a class="btn" href={`${self}/edit`}>Edit</a>}
            <form method="post" action={`${self}/${check.enabled ? "disable" : "enable"}`}>
              <button class="btn" type="submit">{check.enabled ? "Disable" : "Enable"}</button>
            </form>
            {manual && <a class="btn btn-danger-ghost" href={`${self}/delete`}>Stop monitoring…</a>}
          </>
        )}
      </PageHeader>
      {DONE[q.done] && <Alert kind="ok">{DONE[q.done]}</Alert>}
      {!manual && (
        <Alert kind="info">
          Declared by the labels of {check.container_name}{" "}
          (<code>capstan.health.*</code>): change the labels to change or remove it; here it can
          only be enabled or disabled.
        </Alert>
      )}
      {check.container_gone_at !== null && (
        <Alert kind="warn">
          The container {check.container_name} was removed from {check.host_name}{" "}
          (<Time ms={check.container_gone_at} seconds />): this check does not run and raises no
          alerts. It starts again by itself when a container named {check.container_name} is back on
          {" "}
          {check.host_name}
          {check.enabled ? "" : " and the check is enabled"}.{manual &&
            " Or stop monitoring to delete it and its history."}
        </Alert>
      )}
      {!check.enabled && check.container_gone_at === null && (
        <Alert kind="warn">This check is disabled: it does not run and raises no alerts.</Alert>
      )}
      <Figures c={check} uptime={check.uptime} />
      {hasIsland(kit.manifest, "HealthDetail")
        ? (
          <HealthDetailIsland
            topic={topics.health(org.id)}
            checkId={check.id}
            hostId={check.host_id}
            seriesUrl={`${apiBase}/response-times`}
            ranges={RANGES}
            series={series}
          />
        )
        : (
          <section class="card health-chart-card">
            <div class="card-head">
              <h2>Response time</h2>
              <RangePicker ranges={RANGES} range={range} />
            </div>
            <HealthChart series={series} />
          </section>
        )}
      <div class="health-detail">
        <Facts c={check} base={base} />
        <section class="card health-history-card" aria-labelledby="history-title">
          <h2 id="history-title">History</h2>
          {!readable
            ? (
              <p class="muted" data-results-hidden>
                The results of command checks carry what the command printed, so only those who may
                run commands in this organization's containers see them. The state and response
                times above are open to everyone.
              </p>
            )
            : history.items.length
            ? <HealthHistory items={history.items} />
            : (
              <p class="muted">
                No results yet: the first arrives within a few seconds of the start delay.
              </p>
            )}
          <nav class="pager" aria-label="Pages">
            {q.cursor && <a class="btn" href={keep({})}>← Newest</a>}
            {history.next_cursor && (
              <a class="btn" rel="next" href={keep({ cursor: history.next_cursor })}>Older →</a>
            )}
          </nav>
        </section>
      </div>
    </>,
    { title: `${check.name} · Health`, active: "health", manifest: kit.manifest },
  );
}

/** The detail page (viewers), enable and disable (members). */
export function register(app: Hono<AppEnv>, kit: PageKit): void {
  page(app, "GET", "/o/:org/health/:id", "org:viewer", (c) => detailPage(c, kit));

  for (const action of ["enable", "disable"] as const) {
    page(app, "POST", `/o/:org/health/:id/${action}`, "org:member", async (c) => {
      const { org, role } = orgScopeOf(c);
      const id = c.req.param("id") ?? "";
      await c.var.services.health.service.update(actionContext(c), org.id, id, {
        enabled: action === "enable",
      }, { role });
      return seeOther(c, `${baseOf(org.slug)}/health/${encodeURIComponent(id)}?done=${action}d`);
    });
  }
}
