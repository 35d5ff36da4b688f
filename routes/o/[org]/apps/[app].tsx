import type { Hono } from "hono";
import { type AppContext, type AppEnv, orgScopeOf } from "../../../../lib/http/context.ts";
import type { HttpError } from "../../../../lib/http/errors.ts";
import { page } from "../../../../lib/http/pages.ts";
import { island } from "../../../../lib/islands/island.tsx";
import { appTopic } from "../../../../lib/apps/topics.ts";
import type { App, AppEvent } from "../../../../lib/apps/store.ts";
import type { ServiceLogLine } from "../../../../lib/apps/gateway.ts";
import AppLive, { type AppLiveProps, type LiveService } from "../../../../islands/AppLive.tsx";
import LogViewer from "../../../../islands/LogViewer.tsx";
import { PageHeader } from "../../../../components/PageHeader.tsx";
import { AppState } from "../../../../components/AppStatus.tsx";
import { DeploymentsTable } from "../../../../components/DeploymentsTable.tsx";
import { AppSpecSummary } from "../../../../components/AppSpecSummary.tsx";
import { AppPlacement } from "../../../../components/AppPlacement.tsx";
import { SelectField, TextField } from "../../../../components/Field.tsx";
import { Time } from "../../../../components/Time.tsx";
import { Alert } from "../../../../components/Alert.tsx";
import { httpErrorOf } from "../../../_forms.ts";
import { appRoutes } from "../routes/_app_routes.tsx";
import { DeprovisionZone, FromTemplate, templateOrigin } from "../templates/_app_template.tsx";
import { hasIsland, type PageKit, render } from "../../../_render.tsx";
import {
  ActionError,
  AppFlash,
  appHref,
  appOf,
  appsBase,
  ClusterAway,
  fromCluster,
  mayOperate,
} from "./_app.tsx";
import { appMetricsSection } from "./_metrics.tsx";
import { costEstimate, servicesOf } from "./_estimate.tsx";
import { appBuildsSection } from "./[app]/_builds.tsx";
import { listContainers } from "../../../../lib/hosts/container_use_cases.ts";
import { LABELS } from "../../../../lib/apps/swarm_spec.ts";
import { type CardVolume, storageCard } from "../storage/_card.tsx";

const AppLiveIsland = island("AppLive", AppLive);
const LogViewerIsland = island("LogViewer", LogViewer);
const LOG_LINES = 200;
const LOG_WAIT_MS = 5000;

/** The last lines of a service's logs (all its tasks), or the reason there are none. */
async function serviceLogs(
  c: AppContext,
  app: App,
  service: string,
): Promise<{ lines: ServiceLogLine[]; note?: string }> {
  const lines: ServiceLogLine[] = [];
  try {
    const stream = await c.var.services.apps.logs(app, service, {
      tail: LOG_LINES,
      follow: false,
    });
    // A quiet engine must not hold the page: what arrived by then is shown.
    const timer = setTimeout(() => stream.cancel(), LOG_WAIT_MS);
    try {
      for await (const batch of stream) lines.push(...batch);
    } finally {
      clearTimeout(timer);
    }
  } catch (err) {
    const e = httpErrorOf(err);
    if (e?.status === 404) {
      return {
        lines: [],
        note: `${service} has no tasks in the cluster yet: refresh to see its logs.`,
      };
    }
    if (e?.status === 503) return { lines: [], note: e.message };
    throw err;
  }
  // Lines of several tasks arrive interleaved; the engine's timestamps put them in order.
  lines.sort((a, b) => (a.ts ?? "").localeCompare(b.ts ?? ""));
  return { lines: lines.slice(-LOG_LINES) };
}

/** The status of the app's services as the island takes it, or why the cluster did not answer. */
async function liveState(c: AppContext, app: App) {
  const status = await fromCluster(() => c.var.services.apps.status(app));
  const nodes = await fromCluster(() => c.var.services.cluster.nodes());
  const services: LiveService[] = status.ok
    ? status.value.services.map((s) => ({
      name: s.name,
      // The spec's image reads better than the id or digest it was pinned to.
      image: app.spec.services.find((x) => x.name === s.name)?.image ??
        s.image.replace(/@sha256:[0-9a-f]{64}$/, ""),
      running: s.running,
      desired: s.desired,
      update: s.update,
      tasks: s.tasks.map((t) => ({
        id: t.id,
        slot: t.slot,
        node_id: t.node_id,
        state: t.state,
        desired: t.desired,
        error: t.error,
        updated_at: t.updated_at,
        ports: t.ports ?? [],
      })),
    }))
    : [];
  // Services in the order of the spec, as the rest of the page lists them.
  const order = new Map(app.spec.services.map((s, i) => [s.name, i]));
  services.sort((a, b) => (order.get(a.name) ?? 99) - (order.get(b.name) ?? 99));
  const nodeMap: AppLiveProps["nodes"] = {};
  if (nodes.ok) {
    for (const n of nodes.value) nodeMap[n.node_id] = { name: n.hostname, addr: n.addr };
  }
  return {
    services,
    nodes: nodeMap,
    nodeList: nodes.ok ? nodes.value : [],
    error: status.ok ? undefined : status.error,
  };
}

/**
 * The storage card of the app's volumes (its services' named volumes) on every host where Capstan
 * has a row of one or where a task container of the service that mounts it runs.
 */
async function appStorage(c: AppContext, app: App, self: string) {
  const { org } = orgScopeOf(c);
  const byService = new Map(app.spec.services.map((s) => [s.name, s.volumes.map((v) => v.name)]));
  const names = new Set([...byService.values()].flat());
  if (!names.size) return null;
  const [rows, tasks, hosts] = await Promise.all([
    c.var.services.snapshotStore.volumes(org.id, { app_id: app.id }),
    listContainers(c.var.services, org.id, {
      label: { key: LABELS.app, value: app.id },
      limit: 200,
      offset: 0,
    }),
    c.var.services.hosts.list(org.id),
  ]);
  const hostName = new Map(hosts.map((h) => [h.id, h.name]));
  const out: CardVolume[] = [];
  const add = (host_id: string, volume: string) => {
    if (!out.some((v) => v.host_id === host_id && v.volume === volume)) {
      out.push({ host_id, host_name: hostName.get(host_id) ?? host_id, volume });
    }
  };
  for (const r of rows) if (names.has(r.volume)) add(r.host_id, r.volume);
  for (const t of tasks.items) {
    for (const v of byService.get(t.labels[LABELS.service] ?? "") ?? []) add(t.host_id, v);
  }
  out.sort((a, b) => a.volume.localeCompare(b.volume) || a.host_name!.localeCompare(b.host_name!));
  return await storageCard(c, out, self);
}

/** `HH:MM:SS` of an engine timestamp. */
const logTime = (ts: string | undefined) => (ts && ts.length >= 19 ? ts.slice(11, 19) : "");

/** The app page, optionally with the error of an action posted from it. */
export async function appPage(c: AppContext, kit: PageKit, error?: HttpError, app?: App) {
  const { org } = orgScopeOf(c);
  app ??= await appOf(c);
  const store = c.var.services.apps.store;
  const self = appHref(c, app);
  const before = c.req.query("before");
  const [deployments, events, live, origin, storage] = await Promise.all([
    store.deployments(app, {
      limit: 20,
      before: before && /^\d{1,9}$/.test(before) ? Number(before) : undefined,
    }),
    store.events(app, { limit: 30 }),
    liveState(c, app),
    templateOrigin(c, app, self),
    appStorage(c, app, self),
  ]);
  const latest = before ? (await store.deployments(app, { limit: 1 }))[0] : deployments[0];
  const current = app.current_deployment_id
    ? deployments.find((d) => d.id === app!.current_deployment_id) ??
      await store.deployment(app, app.current_deployment_id).catch(() => undefined)
    : undefined;
  const services = app.spec.services.map((s) => s.name);
  const shownService = services.includes(c.req.query("service") ?? "")
    ? c.req.query("service")!
    : services[0];
  const logs = live.error
    ? { lines: [], note: undefined }
    : await serviceLogs(c, app, shownService);
  const operate = mayOperate(c);
  // The scale form: "Preview cost" (a GET back here) brings the service and replicas typed.
  const scaleIndex = Math.max(0, services.indexOf(c.req.query("service") ?? ""));
  const scaleValues = {
    service: services[scaleIndex],
    replicas: c.req.query("replicas") ?? String(app.spec.services[scaleIndex].replicas),
  };
  const scaleEstimate = operate
    ? await costEstimate(c, {
      base: servicesOf(app),
      index: scaleIndex,
      fields: { replicas: "replicas", ...(services.length > 1 ? { service: "service" } : {}) },
      values: scaleValues,
      names: services,
    })
    : null;
  const followLogs = !live.error && !logs.note && hasIsland(kit.manifest, "LogViewer");
  const unsaved = current && JSON.stringify(current.spec) !== JSON.stringify(app.spec);
  const taskSlot = new Map<string, string>();
  for (const s of live.services) {
    for (const t of s.tasks) taskSlot.set(t.id, `${s.name}.${t.slot ?? t.id.slice(0, 6)}`);
  }
  const liveProps: AppLiveProps = {
    topic: appTopic(org.id, app.id),
    refreshHref: self,
    services: live.services,
    nodes: live.nodes,
    deployment: latest ? { id: latest.id, number: latest.number, status: latest.status } : null,
    away: live.error ? live.error.message : null,
  };

  return render(
    c,
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={appsBase(c)}>Apps</a>
      </nav>
      <PageHeader
        title={app.name}
        sub={
          <>
            <AppState app={app} latest={latest} />{" "}
            <span
              class="muted small nowrap"
              data-priority={app.priority}
              title="Higher is more important: if the platform stops apps for a quota, the lowest priority stops first"
            >
              · priority {app.priority}
            </span>
          </>
        }
      >
        {operate && <AppActions app={app} self={self} />}
      </PageHeader>
      {origin && <FromTemplate origin={origin} />}
      <AppFlash c={c} />
      <ActionError error={error} />
      {live.error && (
        <ClusterAway
          error={live.error}
          settingsHref={c.get("principal")?.isAdmin
            ? `/o/${encodeURIComponent(org.slug)}/settings/cluster`
            : undefined}
        />
      )}
      {unsaved && (
        <Alert kind="info">
          The saved configuration differs from the one running (deployment #{current!.number}).
          {operate && " Deploy to run it."}
        </Alert>
      )}
      {hasIsland(kit.manifest, "AppLive")
        ? <AppLiveIsland {...liveProps} />
        : <AppLive {...liveProps} />}
      {appMetricsSection(c, kit, org, app)}
      <div class="grid-2 app-panels">
        <AppSpecSummary app={app} />
        {operate && (
          <section class="card" aria-labelledby="scale-title">
            <h2 id="scale-title">Scale</h2>
            <form method="post" action={`${self}/scale`} class="inline-form scale-form">
              {services.length > 1
                ? (
                  <SelectField
                    name="service"
                    label="Service"
                    options={services.map((s) => ({ value: s, label: s }))}
                    values={scaleValues}
                    idPrefix="scale"
                  />
                )
                : <input type="hidden" name="service" value={services[0]} />}
              <TextField
                name="replicas"
                label={services.length > 1 ? "Replicas" : `Replicas of ${services[0]}`}
                type="number"
                min={0}
                max={100}
                required
                values={scaleValues}
                idPrefix="scale"
              />
              <button class="btn" type="submit">Scale</button>
              {scaleEstimate && (
                // Back to this page with the typed numbers and their estimate (no JavaScript).
                <button
                  class="btn"
                  type="submit"
                  formmethod="get"
                  formaction={`${self}#scale-title`}
                >
                  Preview cost
                </button>
              )}
              {scaleEstimate}
            </form>
            <p class="hint">
              Scaling is a deployment of the running configuration with another number of replicas.
            </p>
          </section>
        )}
      </div>
      <AppPlacement
        app={app}
        pins={current?.pins ?? {}}
        nodes={live.nodeList}
        self={self}
        operate={operate}
      />
      {storage}
      {await appBuildsSection(c, app)}
      {await appRoutes(c, app)}
      <section aria-labelledby="deployments-title">
        <h2 id="deployments-title" class="section-title">Deployments</h2>
        {deployments.length
          ? (
            <DeploymentsTable
              deployments={deployments}
              currentId={app.current_deployment_id}
              self={self}
              operate={operate}
            />
          )
          : <p class="muted">No deployments yet.</p>}
        <nav class="pager" aria-label="Deployment pages">
          {before && <a class="btn" href={self}>Newest</a>}
          {deployments.length === 20 && deployments.at(-1)!.number > 1 && (
            <a class="btn" rel="next" href={`${self}?before=${deployments.at(-1)!.number}`}>
              Older →
            </a>
          )}
        </nav>
      </section>
      <section class="card log-card app-logs" aria-labelledby="logs-title">
        <div class="card-head">
          <h2 id="logs-title">Logs</h2>
          {services.length > 1 && (
            <form method="get" action={self} class="inline-form">
              <label for="log-service">Service</label>
              <select id="log-service" name="service">
                {services.map((s) => (
                  <option key={s} value={s} selected={s === shownService}>{s}</option>
                ))}
              </select>
              <button class="btn btn-small" type="submit">Show</button>
            </form>
          )}
        </div>
        {logs.note && <p class="muted">{logs.note}</p>}
        {followLogs
          ? (
            <>
              <p class="muted small">
                Every task of {shownService}, live; each line says its task and node.
              </p>
              <LogViewerIsland
                streamUrl={`${apiBase(c, app)}/services/${
                  encodeURIComponent(shownService)
                }/logs/stream`}
                tail={100}
                label={`Logs of ${shownService}`}
              />
              <noscript>
                <StaticLogs lines={logs.lines} service={shownService} taskSlot={taskSlot} />
              </noscript>
            </>
          )
          : !logs.note && !live.error &&
            <StaticLogs lines={logs.lines} service={shownService} taskSlot={taskSlot} />}
      </section>
      <Timeline events={events} />
      {origin && <DeprovisionZone origin={origin} />}
      {operate && (
        <section class="card danger-zone" aria-labelledby="delete-title">
          <h2 id="delete-title">Delete this app</h2>
          <p>
            Its services stop and are removed with its network, deployments and timeline. Volumes
            are kept unless you ask.
          </p>
          <a class="btn btn-danger-ghost" href={`${self}/delete`}>Delete app…</a>
        </section>
      )}
    </>,
    {
      title: `${app.name} · Apps`,
      active: "apps",
      status: error?.status ?? 200,
      manifest: kit.manifest,
    },
  );
}

/** The API path of an app, for the islands' streams. */
function apiBase(c: AppContext, app: App): string {
  return `/api/v1/orgs/${encodeURIComponent(orgScopeOf(c).org.slug)}/apps/${app.id}`;
}

/** The last lines of a service as of the page's loading (without JavaScript). */
function StaticLogs(
  { lines, service, taskSlot }: {
    lines: ServiceLogLine[];
    service: string;
    taskSlot: Map<string, string>;
  },
) {
  if (!lines.length) return <p class="muted">No lines yet.</p>;
  return (
    <>
      <p class="muted small">
        The last {LOG_LINES} lines of {service}, every task, as of this page's loading.
      </p>
      <div class="log-body app-log" tabindex={0} aria-label={`Logs of ${service}`}>
        {lines.map((l, i) => (
          <div key={i} class={l.stream === "stderr" ? "log-line log-err" : "log-line"}>
            <span class="log-ts">{logTime(l.ts)}</span>
            <span class="log-task">
              {(l.taskId && taskSlot.get(l.taskId)) ?? l.taskId?.slice(0, 6) ?? ""}
            </span>
            <span class="log-tx">{l.line}</span>
          </div>
        ))}
      </div>
    </>
  );
}

/** The app's buttons: deploy, restart, stop or start, edit. */
function AppActions({ app, self }: { app: App; self: string }) {
  const button = (action: string, label: string, primary = false) => (
    <form method="post" action={`${self}/${action}`} class="inline-action">
      <button class={primary ? "btn btn-primary" : "btn"} type="submit">{label}</button>
    </form>
  );
  return (
    <>
      <a class="btn" href={`${self}/edit`}>Edit</a>
      {button("deploy", "Deploy", true)}
      {app.desired_state === "stopped" ? button("start", "Start") : (
        <>
          {button("restart", "Restart")}
          {button("stop", "Stop")}
        </>
      )}
    </>
  );
}

/** The app's timeline: deployments started and ended, tasks moved, the app created. */
function Timeline({ events }: { events: AppEvent[] }) {
  return (
    <section class="card" aria-labelledby="timeline-title">
      <h2 id="timeline-title">Timeline</h2>
      {events.length
        ? (
          <ol class="app-timeline">
            {events.map((e) => (
              <li key={e.id} data-kind={e.kind}>
                <Time ms={e.at} seconds />
                <span class="app-timeline-text">{e.message}</span>
              </li>
            ))}
          </ol>
        )
        : <p class="muted">Nothing yet.</p>}
    </section>
  );
}

/** `GET /o/:org/apps/:app`: an app's services, deployments, logs and timeline (viewers). */
export function register(app: Hono<AppEnv>, kit: PageKit): void {
  page(app, "GET", "/o/:org/apps/:app", "org:viewer", (c) => appPage(c, kit));
}
