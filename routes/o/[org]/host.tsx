import type { Hono } from "hono";
import { z } from "zod";
import {
  actionContext,
  type AppContext,
  type AppEnv,
  orgScopeOf,
} from "../../../lib/http/context.ts";
import { page } from "../../../lib/http/pages.ts";
import { roleAtLeast } from "../../../lib/auth/principal.ts";
import { island } from "../../../lib/islands/island.tsx";
import { HostName, labelLines, parseLabelLines } from "../../../lib/hosts/schema.ts";
import { hostDetail } from "../../../lib/hosts/view.ts";
import { hubUrlOf, installCommand } from "../../../lib/agents/install_script.ts";
import { removeHostNow, rotateHostToken } from "../../api/v1/hosts.ts";
import CopyButton from "../../../islands/CopyButton.tsx";
import LiveHosts from "../../../islands/LiveHosts.tsx";
import { PageHeader } from "../../../components/PageHeader.tsx";
import { HostFacts } from "../../../components/HostFacts.tsx";
import { HostAdmin } from "../../../components/HostAdmin.tsx";
import { ConfirmAction } from "../../../components/ConfirmAction.tsx";
import { NewToken } from "../../../components/NewToken.tsx";
import { Alert } from "../../../components/Alert.tsx";
import type { FormState } from "../../../components/Field.tsx";
import { errorsOf, formError, parseForm, readForm } from "../../_forms.ts";
import { hasIsland, type PageKit, render, seeOther } from "../../_render.tsx";
import { enrollmentPage } from "./hosts.tsx";
import { hostMetricsSection } from "./_host_metrics.tsx";
import { hostIngestStatus } from "./_host_ingest_status.tsx";
import { AgentUpdatePanel } from "../../../components/AgentUpdatePanel.tsx";
import { requestAgentUpdate } from "../../../lib/agents/update_request.ts";
import { hostAlertsSection } from "./notifications.tsx";
import { topics } from "../../../lib/realtime/topics.ts";

const CopyButtonIsland = island("CopyButton", CopyButton);
const LiveHostsIsland = island("LiveHosts", LiveHosts);
const RenameInput = z.object({ name: HostName });
const RemoveInput = z.object({ history: z.enum(["keep", "delete"]) });

const hostsPath = (slug: string) => `/o/${encodeURIComponent(slug)}/hosts`;
const hostPath = (slug: string, id: string) => `${hostsPath(slug)}/${encodeURIComponent(id)}`;

/** The host named by `:hostId` in the page's organization (404 for other organizations' hosts). */
async function hostOf(c: AppContext) {
  const { org } = orgScopeOf(c);
  const { hosts, agents } = c.var.services;
  const h = await hosts.get(org.id, c.req.param("hostId") ?? "");
  return hostDetail(h, agents.isOnline(h.id));
}

/** The host page, with the admin forms' input and errors after a failed submission. */
async function hostPage(
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

/** Host detail page and its admin actions: rename, labels, new enrollment, rotate, remove. */
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

  page(app, "GET", "/o/:org/hosts/:hostId/rotate", "org:admin", async (c) => {
    const { org } = orgScopeOf(c);
    const host = await hostOf(c);
    const path = hostPath(org.slug, host.id);
    return render(
      c,
      <ConfirmAction
        title={`Rotate the token of “${host.name}”?`}
        action={`${path}/rotate`}
        confirm="Rotate token"
        cancelHref={path}
      >
        <p>The current host token stops working at once.</p>
        <p>
          {host.status === "online"
            ? "The agent is connected: it receives the new token over its connection, stores it and reconnects by itself."
            : "The agent is offline: you will have to write the new token into its token file (/var/lib/capstan-agent/host-token, mode 0600) and restart it."}
        </p>
      </ConfirmAction>,
      { title: "Rotate host token", active: "hosts" },
    );
  });

  page(app, "POST", "/o/:org/hosts/:hostId/rotate", "org:admin", async (c) => {
    const { org } = orgScopeOf(c);
    const host = await hostOf(c);
    let r;
    try {
      r = await rotateHostToken(c.var.services, actionContext(c), org.id, host.id);
    } catch (err) {
      const e = formError(err);
      return hostPage(c, kit, { error: e.message }, e.status);
    }
    const path = hostPath(org.slug, host.id);
    return render(
      c,
      <>
        <PageHeader title={`Token of “${host.name}” rotated`}>
          <a class="btn" href={path}>Back to the host</a>
        </PageHeader>
        {r.delivered
          ? (
            <Alert kind="ok">
              The connected agent stored the new token and is reconnecting with it. Nothing else to
              do; the token is below only in case you keep a copy elsewhere.
            </Alert>
          )
          : (
            <Alert kind="warn">
              The agent did not receive it (offline). Write the token into{" "}
              <code>/var/lib/capstan-agent/host-token</code>{" "}
              on the host (mode 0600, owned by the agent's user) and restart the agent:{" "}
              <code>systemctl restart capstan-agent</code>.
            </Alert>
          )}
        <NewToken
          name={`host token of ${host.name}`}
          token={r.host_token}
          copy={hasIsland(kit.manifest, "CopyButton") && (
            <CopyButtonIsland target="new-token-value" label="Copy token" />
          )}
        />
      </>,
      { title: "Host token rotated", active: "hosts", noStore: true, manifest: kit.manifest },
    );
  });

  page(app, "GET", "/o/:org/hosts/:hostId/remove", "org:admin", async (c) => {
    const { org } = orgScopeOf(c);
    const host = await hostOf(c);
    const path = hostPath(org.slug, host.id);
    return render(
      c,
      <section class="card confirm">
        <h1>Remove “{host.name}”?</h1>
        <p>
          Its agent is disconnected and its token stops working at once. Containers keep running on
          the machine; Capstan just stops managing it.{host.local &&
            " This is the hub's own engine: it comes back when the hub restarts unless CAPSTAN_LOCAL_AGENT=0."}
        </p>
        <form method="post" action={`${path}/remove`} class="form">
          <fieldset>
            <legend>Its history (metrics, container list)</legend>
            <div class="field field-check">
              <input id="history-keep" type="radio" name="history" value="keep" checked />
              <label for="history-keep">Keep it (hidden; the audit log always stays)</label>
            </div>
            <div class="field field-check">
              <input id="history-delete" type="radio" name="history" value="delete" />
              <label for="history-delete">Delete it</label>
            </div>
          </fieldset>
          <div class="actions">
            <button class="btn btn-danger" type="submit">Remove host</button>
            <a class="btn" href={path}>Cancel</a>
          </div>
        </form>
      </section>,
      { title: "Remove host", active: "hosts" },
    );
  });

  page(app, "POST", "/o/:org/hosts/:hostId/remove", "org:admin", async (c) => {
    const { org } = orgScopeOf(c);
    const host = await hostOf(c);
    const parsed = parseForm(RemoveInput, await readForm(c));
    if (!parsed.ok) return hostPage(c, kit, { error: "Choose whether to keep its history." }, 400);
    await removeHostNow(
      c.var.services,
      actionContext(c),
      org.id,
      host.id,
      parsed.data.history === "keep",
    );
    return seeOther(c, `${hostsPath(org.slug)}?ok=host_removed`);
  });
}
