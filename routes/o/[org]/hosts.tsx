import type { Hono } from "hono";
import { z } from "zod";
import { type AppContext, type AppEnv, orgScopeOf } from "../../../lib/http/context.ts";
import { page } from "../../../lib/http/pages.ts";
import { roleAtLeast } from "../../../lib/auth/principal.ts";
import { island } from "../../../lib/islands/island.tsx";
import { HostName, parseLabelLines } from "../../../lib/hosts/schema.ts";
import { hostView } from "../../../lib/hosts/view.ts";
import { addHost } from "../../api/v1/hosts.ts";
import { hubUrlOf, isLoopbackHost } from "../../../lib/agents/install_script.ts";
import { HubAddressWarning } from "../../../components/HubAddressWarning.tsx";
import CopyButton from "../../../islands/CopyButton.tsx";
import LiveHosts from "../../../islands/LiveHosts.tsx";
import { PageHeader } from "../../../components/PageHeader.tsx";
import { HostsTable } from "../../../components/HostsTable.tsx";
import { AddHostForm } from "../../../components/AddHostForm.tsx";
import { Enrollment } from "../../../components/Enrollment.tsx";
import { EmptyState } from "../../../components/EmptyState.tsx";
import type { FormState } from "../../../components/Field.tsx";
import { errorsOf, formError, parseForm, readForm } from "../../_forms.ts";
import { hasIsland, type PageKit, render } from "../../_render.tsx";
import { topics } from "../../../lib/realtime/topics.ts";

const CopyButtonIsland = island("CopyButton", CopyButton);
const LiveHostsIsland = island("LiveHosts", LiveHosts);

/** The add-host form: a name, and labels as `key=value` lines. */
const AddInput = z.object({ name: HostName, labels: z.string().max(10_000).optional() });

const base = (slug: string) => `/o/${encodeURIComponent(slug)}`;

/**
 * The warning an install command needs when agents elsewhere could not reach the hub's URL (a
 * loopback address: CAPSTAN_PUBLIC_URL unset and the hub on 127.0.0.1), or nothing.
 */
function hubAddressWarning(c: AppContext) {
  const hubUrl = hubUrlOf(c);
  if (!isLoopbackHost(new URL(hubUrl).hostname)) return null;
  const listen = c.var.services.config.host;
  return <HubAddressWarning hubUrl={hubUrl} listensOnLoopback={isLoopbackHost(listen)} />;
}

/** Shows a single-use enrollment (new host or a fresh token); never cached, never in a URL. */
export function enrollmentPage(
  c: AppContext,
  kit: PageKit,
  e: { hostName: string; hostId: string; token: string; command: string; expiresAt: number },
) {
  const { org } = orgScopeOf(c);
  const hostHref = `${base(org.slug)}/hosts/${encodeURIComponent(e.hostId)}`;
  return render(
    c,
    <>
      <PageHeader title={`Add host “${e.hostName}”`} sub="One step left: run the agent on it.">
        <a class="btn" href={hostHref}>Go to the host</a>
      </PageHeader>
      {hubAddressWarning(c)}
      <Enrollment
        hostName={e.hostName}
        token={e.token}
        command={e.command}
        expiresAt={e.expiresAt}
        hostHref={hostHref}
        copy={hasIsland(kit.manifest, "CopyButton") && (
          <CopyButtonIsland target="install-command" label="Copy command" />
        )}
      />
      <p class="muted">
        The host shows as <strong>online</strong> on the{" "}
        <a href={`${base(org.slug)}/hosts`}>Hosts</a> page within seconds of the agent starting.
      </p>
    </>,
    { title: "Add host", active: "hosts", noStore: true, manifest: kit.manifest },
  );
}

function addPage(c: AppContext, form: FormState = {}, status = 200) {
  const { org } = orgScopeOf(c);
  return render(
    c,
    <>
      <PageHeader
        title="Add a host"
        sub="Name the machine; the next page gives you the command that installs the agent on it."
      />
      {hubAddressWarning(c)}
      <AddHostForm action={`${base(org.slug)}/hosts`} values={form.values} errors={form.errors} />
    </>,
    { title: "Add a host", active: "hosts", status },
  );
}

/** Hosts pages: the list (viewers), and adding a host (admins). */
export function register(app: Hono<AppEnv>, kit: PageKit): void {
  page(app, "GET", "/o/:org/hosts", "org:viewer", async (c) => {
    const { org, role } = orgScopeOf(c);
    const { hosts, agents } = c.var.services;
    const list = (await hosts.list(org.id)).map((h) => hostView(h, agents.isOnline(h.id)));
    const isAdmin = roleAtLeast(role, "admin");
    const online = list.filter((h) => h.status === "online").length;
    return render(
      c,
      <>
        <PageHeader
          title="Hosts"
          sub={list.length ? <>{online} of {list.length} online</> : "Machines running the agent"}
        >
          {list.length > 0 && hasIsland(kit.manifest, "LiveHosts") && (
            <LiveHostsIsland topic={topics.hosts(org.id)} />
          )}
          {isAdmin && <a class="btn btn-primary" href={`${base(org.slug)}/hosts/new`}>Add host</a>}
        </PageHeader>
        {list.length
          ? <HostsTable hosts={list} base={base(org.slug)} />
          : (
            <EmptyState title="No hosts yet">
              <p>
                A host appears here once the Capstan agent runs on it and connects to this hub.
                {isAdmin
                  ? " Add one to get the install command."
                  : " Ask an admin of this organization to add one."}
              </p>
              {isAdmin && (
                <p>
                  <a class="btn btn-primary" href={`${base(org.slug)}/hosts/new`}>Add host</a>
                </p>
              )}
            </EmptyState>
          )}
      </>,
      { title: "Hosts", active: "hosts", manifest: list.length ? kit.manifest : null },
    );
  });

  page(app, "GET", "/o/:org/hosts/new", "org:admin", (c) => addPage(c));

  page(app, "POST", "/o/:org/hosts", "org:admin", async (c) => {
    const values = await readForm(c);
    const parsed = parseForm(AddInput, values);
    if (!parsed.ok) return addPage(c, { values, errors: parsed.errors }, 400);
    const labels = parseLabelLines(parsed.data.labels ?? "");
    if (!labels.ok) return addPage(c, { values, errors: { labels: labels.error } }, 400);
    try {
      const r = await addHost(c, { name: parsed.data.name, labels: labels.labels });
      // Rendered, not redirected: the token must not travel in a URL or survive in a flash.
      return enrollmentPage(c, kit, {
        hostName: r.host.name,
        hostId: r.host.id,
        token: r.enrollment.token,
        command: r.enrollment.install_command,
        expiresAt: r.enrollment.expires_at,
      });
    } catch (err) {
      const e = formError(err);
      return addPage(c, { values, errors: errorsOf(e, "name") }, e.status);
    }
  });
}
