import type { Hono } from "hono";
import { type AppContext, type AppEnv, orgScopeOf } from "../../../../lib/http/context.ts";
import { page } from "../../../../lib/http/pages.ts";
import { island } from "../../../../lib/islands/island.tsx";
import { appTopic } from "../../../../lib/apps/topics.ts";
import { provisionTopic } from "../../../../lib/templates/topics.ts";
import type { Provision } from "../../../../lib/templates/store.ts";
import type { App } from "../../../../lib/apps/store.ts";
import { NotFound } from "../../../../lib/errors.ts";
import ProvisionLive, {
  type ProvisionLiveProps,
  type ProvisionService,
} from "../../../../islands/ProvisionLive.tsx";
import { PageHeader } from "../../../../components/PageHeader.tsx";
import { Time } from "../../../../components/Time.tsx";
import { hasIsland, type PageKit, render } from "../../../_render.tsx";
import { fromCluster } from "../apps/_app.tsx";
import { appHrefOf, templateHref, templatesBase } from "../templates/_template.tsx";

const ProvisionLiveIsland = island("ProvisionLive", ProvisionLive);

/** The template's name and services (a deleted organization template: its id, no services). */
async function templateFacts(c: AppContext, p: Provision) {
  try {
    const t = await c.var.services.templates.get(p.org_id, p.template_id);
    return { name: t.name, services: Object.keys(t.template.services), exists: true };
  } catch {
    return { name: p.template_id, services: [] as string[], exists: false };
  }
}

/** The app a provisioning made, while it exists (not after a failure or a deprovision). */
async function appOfProvision(c: AppContext, p: Provision): Promise<App | undefined> {
  if (!p.app_id || p.status === "failed") return undefined;
  return await c.var.services.apps.store.get(p.org_id, p.app_id).catch((err) => {
    if (err instanceof NotFound) return undefined;
    throw err;
  });
}

/** The app's services as Swarm runs them now, while there is an app (none, or the cluster away). */
async function serviceStates(c: AppContext, app: App | undefined, names: string[]) {
  const blank = (name: string): ProvisionService => ({ name, running: 0, desired: 0, tasks: [] });
  if (!app) return names.map(blank);
  const status = await fromCluster(() => c.var.services.apps.status(app));
  const order = app.spec.services.map((s) => s.name);
  if (!status.ok) return order.map(blank);
  const byName = new Map(status.value.services.map((s) => [s.name, s]));
  return order.map((name) => {
    const s = byName.get(name);
    if (!s) return blank(name);
    return {
      name,
      running: s.running,
      desired: s.desired,
      tasks: s.tasks.map((t) => ({
        id: t.id,
        state: t.state,
        desired: t.desired,
        error: t.error ?? null,
      })),
    };
  });
}

/** `GET /o/:org/provisions/:id`: a provisioning's steps, live (viewers). */
async function provisionPage(c: AppContext, kit: PageKit) {
  const { org } = orgScopeOf(c);
  const p = await c.var.services.templates.store.provision(org.id, c.req.param("id") ?? "");
  const facts = await templateFacts(c, p);
  const { org_id: _o, created_by: _c, source_ref: _s, ...view } = p;
  const self = `/o/${encodeURIComponent(org.slug)}/provisions/${encodeURIComponent(p.id)}`;
  const app = await appOfProvision(c, p);
  const appExists = Boolean(app);
  const appGone = p.status === "ready" && !app;
  const props: ProvisionLiveProps = {
    topic: provisionTopic(org.id, p.id),
    appTopic: app ? appTopic(org.id, app.id) : null,
    provision: view,
    services: await serviceStates(c, app, facts.services),
    refreshHref: self,
    appHref: appHrefOf(c, p.app_name),
    siteUrl: p.domain && p.created.route_id && !appGone ? `https://${p.domain}` : null,
    appGone,
    logsBase: appExists
      ? `/api/v1/orgs/${encodeURIComponent(org.slug)}/apps/${p.app_id}/services/`
      : null,
  };
  return render(
    c,
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={templatesBase(c)}>Templates</a> <span aria-hidden="true">/</span>{" "}
        {facts.exists
          ? <a href={templateHref(c, p.template_id)}>{facts.name}</a>
          : <span>{facts.name}</span>}
      </nav>
      <PageHeader
        title={`${p.app_name} from ${facts.name}`}
        sub={
          <>
            Template version {p.template_version}
            {p.domain && (
              <>
                {" "}· domain <code>{p.domain}</code>
              </>
            )} · started <Time ms={p.created_at} seconds />
            {p.finished_at && (
              <>
                {" "}· ended <Time ms={p.finished_at} seconds />
              </>
            )}
          </>
        }
      />
      {hasIsland(kit.manifest, "ProvisionLive")
        ? <ProvisionLiveIsland {...props} />
        : <ProvisionLive {...props} />}
      {Object.keys(p.values).length > 0 && (
        <details class="card">
          <summary>Values used (secrets are not shown)</summary>
          <dl class="props">
            {Object.entries(p.values).map(([k, v]) => (
              <>
                <dt key={`k-${k}`}>
                  <code>{k}</code>
                </dt>
                <dd key={`v-${k}`}>{String(v)}</dd>
              </>
            ))}
          </dl>
        </details>
      )}
    </>,
    {
      title: `${p.app_name} · Provisioning`,
      active: "templates",
      manifest: kit.manifest,
    },
  );
}

/** `GET /o/:org/provisions/:id`: a provisioning's progress (viewers, as its topic). */
export function register(app: Hono<AppEnv>, kit: PageKit): void {
  page(app, "GET", "/o/:org/provisions/:id", "org:viewer", (c) => provisionPage(c, kit));
}
