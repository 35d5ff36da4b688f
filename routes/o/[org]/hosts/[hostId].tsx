import type { Hono } from "hono";
import { hostNode } from "../../../../lib/apps/host_node.ts";
import { HostNodePanel } from "../../../../components/HostNodePanel.tsx";
import { z } from "zod";
import {
  actionContext,
  type AppContext,
  type AppEnv,
  orgScopeOf,
} from "../../../../lib/http/context.ts";
import { page } from "../../../../lib/http/pages.ts";
import { roleAtLeast } from "../../../../lib/auth/principal.ts";
import { island } from "../../../../lib/islands/island.tsx";
import { HostName, labelLines, parseLabelLines } from "../../../../lib/hosts/schema.ts";
import { hostDetail } from "../../../../lib/hosts/view.ts";
import { hubUrlOf, installCommand } from "../../../../lib/agents/install_script.ts";
import LiveHosts from "../../../../islands/LiveHosts.tsx";
import { PageHeader } from "../../../../components/PageHeader.tsx";
import { HostFacts } from "../../../../components/HostFacts.tsx";
import { HostAdmin } from "../../../../components/HostAdmin.tsx";
import { Alert } from "../../../../components/Alert.tsx";
import type { FormState } from "../../../../components/Field.tsx";
import { errorsOf, formError, parseForm, readForm } from "../../../_forms.ts";
import { hasIsland, type PageKit, render, seeOther } from "../../../_render.tsx";
import { enrollmentPage } from "./_enrollment.tsx";
import { hostMetricsSection } from "./_metrics.tsx";
import { hostIngestStatus } from "./_ingest_status.tsx";
import { AgentUpdatePanel } from "../../../../components/AgentUpdatePanel.tsx";
import { requestAgentUpdate } from "../../../../lib/agents/update_request.ts";
import { hostAlertsSection } from "../notifications.tsx";
import { topics } from "../../../../lib/realtime/topics.ts";

const LiveHostsIsland = island("LiveHosts", LiveHosts);
const RenameInput = z.object({ name: HostName });

export const hostsPath = (slug: string) => `/o/${encodeURIComponent(slug)}/hosts`;
export const hostPath = (slug: string, id: string) =>
  `${hostsPath(slug)}/${encodeURIComponent(id)}`;

/** The host named by `:hostId` in the page's organization (404 for other organizations' hosts). */
export async function hostOf(c: AppContext) {
  const { org } = orgScopeOf(c);
  const { hosts, agents } = c.var.services;
  const h = await hosts.get(org.id, c.req.param("hostId") ?? "");
  return hostDetail(h, agents.isOnline(h.id));
}

/** The host page, with the admin forms' input and errors after a failed submission. */
export async function hostPage(
  c: AppContext,
  kit: PageKit,
  state: { rename?: FormState; labels?: FormState; error?: string } = {},
  status = 200,
) {
  const { org, role } = orgScopeOf(c);
  const host = await hostOf(c);
  const isAdmin = roleAtLeast(role, "admin");
  const metrics = await hostMetricsSection(c, kit, org, host);
  const ingest = await hostIngestStatus(c, host);
  const updates = await c.var.services.releases.outcomesFor(host.id);
  const alerts = await hostAlertsSection(c, host.id);
  const { cluster, apps } = c.var.services;
  const node = await hostNode({ cluster, store: apps.store }, org.id, host.id);
  return render(
    c,
    <>
      <PageHeader
        title={host.name}
        sub={<>{host.local ? "This hub's own Docker engine" : "Host"} · {org.name}</>}
      >
        {hasIsland(kit.manifest, "LiveHosts") && <LiveHostsIsland topic={topics.hosts(org.id)} />}
        <a class="btn" href={hostsPath(org.slug)}>All hosts</a>
      </PageHeader>
      {state.error && <Alert kind="error">{state.error}</Alert>}
      {!host.enrolled && (
        <Alert kind="warn">
          No agent has enrolled for this host yet.{" "}
          {isAdmin ? "Issue a new enrollment token below if the first one expired." : ""}
        </Alert>
      )}
      {ingest}
      {metrics}
      <HostFacts host={host} />
      {node && (
        <HostNodePanel
          data={node}
          appsHref={`/o/${encodeURIComponent(org.slug)}/apps`}
          workersHref={isAdmin ? `/o/${encodeURIComponent(org.slug)}/workers` : undefined}
        />
      )}
      <AgentUpdatePanel
        action={`${hostPath(org.slug, host.id)}/agent-update`}
        outcomes={updates}
        canUpdate={isAdmin && host.enrolled}
        online={host.status === "online"}
        local={host.local}
        requested={c.req.query("agent_update") === "requested"}
      />
      {alerts}
      {Object.keys(host.labels).length > 0 && (
        <section class="card" aria-labelledby="labels-title">
          <h2 id="labels-title">Labels</h2>
          <div class="labels">
            {Object.entries(host.labels).map(([k, v]) => (
              <code key={k} class="label">{k}={v}</code>
            ))}
          </div>
        </section>
      )}
      {isAdmin && (
        <HostAdmin
          host={host}
          path={hostPath(org.slug, host.id)}
          rename={state.rename ?? { values: { name: host.name } }}
          labels={state.labels ?? { values: { labels: labelLines(host.labels) } }}
        />
      )}
    </>,
    { title: `${host.name} · Hosts`, active: "hosts", status, manifest: kit.manifest },
  );
}

/** Host detail page and its admin forms: rename, labels, new enrollment, agent update. */
export function register(app: Hono<AppEnv>, kit: PageKit): void {
  page(app, "GET", "/o/:org/hosts/:hostId", "org:viewer", (c) => hostPage(c, kit));

  page(app, "POST", "/o/:org/hosts/:hostId/rename", "org:admin", async (c) => {
    const { org } = orgScopeOf(c);
    const values = await readForm(c);
    const parsed = parseForm(RenameInput, values);
    if (!parsed.ok) return hostPage(c, kit, { rename: { values, errors: parsed.errors } }, 400);
    const host = await hostOf(c);
    try {
      await c.var.services.hosts.rename(actionContext(c), org.id, host.id, parsed.data.name);
    } catch (err) {
      const e = formError(err);
      return hostPage(c, kit, { rename: { values, errors: errorsOf(e, "name") } }, e.status);
    }
    return seeOther(c, `${hostPath(org.slug, host.id)}?ok=host_renamed`);
  });

  page(app, "POST", "/o/:org/hosts/:hostId/labels", "org:admin", async (c) => {
    const { org } = orgScopeOf(c);
    const values = await readForm(c);
    const host = await hostOf(c);
    const parsed = parseLabelLines((values.labels ?? "").slice(0, 10_000));
    if (!parsed.ok) {
      return hostPage(c, kit, { labels: { values, errors: { labels: parsed.error } } }, 400);
    }
    await c.var.services.hosts.setLabels(actionContext(c), org.id, host.id, parsed.labels);
    return seeOther(c, `${hostPath(org.slug, host.id)}?ok=host_labels_changed`);
  });

  page(app, "POST", "/o/:org/hosts/:hostId/enrollment", "org:admin", async (c) => {
    const { org } = orgScopeOf(c);
    const host = await hostOf(c);
    try {
      const e = await c.var.services.hosts.newEnrollment(actionContext(c), org.id, host.id);
      return enrollmentPage(c, kit, {
        hostName: host.name,
        hostId: host.id,
        token: e.token,
        command: installCommand(hubUrlOf(c), e.token),
        expiresAt: e.expiresAt,
      });
    } catch (err) {
      return hostPage(c, kit, { error: formError(err).message }, formError(err).status);
    }
  });

  page(app, "POST", "/o/:org/hosts/:hostId/agent-update", "org:admin", async (c) => {
    const { org } = orgScopeOf(c);
    const host = await hostOf(c);
    try {
      await requestAgentUpdate(c.var.services, actionContext(c), org.id, host.id);
    } catch (err) {
      const e = formError(err);
      return hostPage(c, kit, { error: `Update agent: ${e.message}` }, e.status);
    }
    const path = hostPath(org.slug, host.id);
    return seeOther(c, `${path}?agent_update=requested#agent-update`);
  });
}
