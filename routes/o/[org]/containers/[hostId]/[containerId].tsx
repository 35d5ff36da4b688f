import type { Hono } from "hono";
import { type AppEnv, orgScopeOf } from "../../../../../lib/http/context.ts";
import { page } from "../../../../../lib/http/pages.ts";
import { declaredRoutes } from "../../../../../lib/http/policy.ts";
import { validationError } from "../../../../../lib/http/errors.ts";
import { roleAtLeast } from "../../../../../lib/auth/principal.ts";
import type { OrgRole } from "../../../../../lib/db/schema.ts";
import { island } from "../../../../../lib/islands/island.tsx";
import { containerFactsOf } from "../../../../../lib/hosts/container_use_cases.ts";
import { ContainerRefParams } from "../../../../_schemas/docker.ts";
import LogViewer from "../../../../../islands/LogViewer.tsx";
import LiveStats from "../../../../../islands/LiveStats.tsx";
import { PageHeader } from "../../../../../components/PageHeader.tsx";
import { Alert } from "../../../../../components/Alert.tsx";
import { ContainerDetails, StateBadge } from "../../../../../components/ContainerDetails.tsx";
import { hasIsland, type PageKit, render } from "../../../../_render.tsx";
import HealthLive from "../../../../../islands/HealthLive.tsx";
import { HealthContainerPanel } from "../../../../../components/HealthContainerPanel.tsx";
import { topics } from "../../../../../lib/realtime/topics.ts";
import { storageCard } from "../../storage/_card.tsx";

const LogViewerIsland = island("LogViewer", LogViewer);
const LiveStatsIsland = island("LiveStats", LiveStats);
const HealthLiveIsland = island("HealthLive", HealthLive);

const PATH = "/o/:org/containers/:hostId/:containerId";
/** Lifecycle actions, shown when their page routes exist (they live beside this page). */
const ACTIONS = ["start", "stop", "restart"] as const;
/** Actions that first ask for confirmation on a page of their own. */
const CONFIRMED = ["kill", "remove"] as const;

/** Whether a page route `method path` is registered and the caller's role meets its policy. */
function allowed(method: string, path: string, role: OrgRole): boolean {
  const r = declaredRoutes.find((d) => d.method === method && d.path === path);
  return Boolean(
    r && r.policy.startsWith("org:") && roleAtLeast(role, r.policy.slice(4) as OrgRole),
  );
}

/** The actions this caller may take on a container in this state. */
function availableActions(role: OrgRole, running: boolean) {
  return {
    forms: ACTIONS.filter((a) =>
      (running ? a !== "start" : a === "start") && allowed("POST", `${PATH}/${a}`, role)
    ),
    links: CONFIRMED.filter((a) =>
      (a !== "kill" || running) && allowed("GET", `${PATH}/${a}`, role) &&
      allowed("POST", `${PATH}/${a}`, role)
    ),
  };
}

/** Where to get the logs when the live viewer cannot run. */
function DownloadNote({ api }: { api: string }) {
  return (
    <p class="muted">
      Live logs need JavaScript. Download the last 1000 lines as{" "}
      <a href={`${api}/logs?tail=1000&format=txt`}>text</a> or{" "}
      <a href={`${api}/logs?tail=1000&format=json`}>JSON</a>.
    </p>
  );
}

/** `GET /o/:org/containers/:hostId/:containerId`: facts, live stats and logs of one container. */
export function register(app: Hono<AppEnv>, kit: PageKit): void {
  page(app, "GET", PATH, "org:viewer", async (c) => {
    const { org, role } = orgScopeOf(c);
    const parsed = ContainerRefParams.safeParse({
      hostId: c.req.param("hostId"),
      id: c.req.param("containerId"),
    });
    if (!parsed.success) throw validationError(parsed.error);
    const { hostId, id } = parsed.data;
    const host = await c.var.services.hosts.get(org.id, hostId);
    const { facts: f, online } = await containerFactsOf(c.var.services, org.id, host.id, id);

    const o = `/o/${encodeURIComponent(org.slug)}`;
    const api = `/api/v1/orgs/${encodeURIComponent(org.slug)}/hosts/${host.id}/containers/${f.id}`;
    const self = `${o}/containers/${host.id}/${f.id}`;
    const actions = online ? availableActions(role, f.running) : { forms: [], links: [] };
    const hasLogs = hasIsland(kit.manifest, "LogViewer");
    const hasStats = hasIsland(kit.manifest, "LiveStats");
    const checks = await c.var.services.health.service.list(org.id, {
      hostId: host.id,
      containerId: f.id,
      limit: 50,
    });
    // Named volumes only: bind mounts and tmpfs are not Docker volumes, nothing to snapshot.
    const storage = await storageCard(
      c,
      f.mounts.filter((m) => m.type === "volume" && m.source).map((m) => ({
        host_id: host.id,
        volume: m.source,
      })),
      self,
    );
    const addHref = allowed("GET", "/o/:org/health/new", role)
      ? `${o}/health/new?${new URLSearchParams({ host: host.id, container: f.id, kind: "http" })}`
      : null;
    return render(
      c,
      <>
        <nav class="crumbs" aria-label="Breadcrumb">
          <a href={`${o}/containers`}>Containers</a> <span aria-hidden="true">/</span>{" "}
          <a href={`${o}/hosts/${host.id}`}>{host.name}</a>
        </nav>
        <PageHeader
          title={f.name || f.id.slice(0, 12)}
          sub={
            <>
              <StateBadge state={f.state} health={f.health} /> <code>{f.image}</code> on{" "}
              <a href={`${o}/hosts/${host.id}`}>{host.name}</a>
            </>
          }
        >
          {actions.forms.map((a) => (
            <form method="post" action={`${self}/${a}`} key={a}>
              <input type="hidden" name="next" value={self} />
              <button type="submit" class={`btn ${a === "start" ? "btn-primary" : ""}`}>
                {a[0].toUpperCase() + a.slice(1)}
              </button>
            </form>
          ))}
          {actions.links.map((a) => (
            <a
              key={a}
              class="btn btn-danger-ghost"
              href={`${self}/${a}?next=${
                encodeURIComponent(a === "remove" ? `${o}/containers` : self)
              }`}
            >
              {a[0].toUpperCase() + a.slice(1)}…
            </a>
          ))}
        </PageHeader>
        {!online && (
          <Alert kind="warn">
            The host's agent is offline: these are the facts it last reported. Live logs and stats
            return when it reconnects.
          </Alert>
        )}
        {online && f.running && hasStats && <LiveStatsIsland streamUrl={`${api}/stats/stream`} />}
        <HealthContainerPanel
          checks={checks.items}
          base={o}
          addHref={addHref}
          live={hasIsland(kit.manifest, "HealthLive") && (
            <HealthLiveIsland topic={topics.health(org.id)} />
          )}
        />
        {storage}
        {online && (
          <section class="card log-card">
            <h2>Logs</h2>
            {hasLogs && (
              <LogViewerIsland
                streamUrl={`${api}/logs/stream`}
                downloadUrl={`${api}/logs`}
                tail={500}
              />
            )}
            {hasLogs
              ? (
                <noscript>
                  <DownloadNote api={api} />
                </noscript>
              )
              : <DownloadNote api={api} />}
          </section>
        )}
        <ContainerDetails f={f} />
      </>,
      {
        title: `${f.name || f.id.slice(0, 12)} · ${host.name}`,
        active: "containers",
        manifest: kit.manifest,
      },
    );
  });
}
