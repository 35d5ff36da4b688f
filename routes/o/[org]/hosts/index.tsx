import type { Hono } from "hono";
import { z } from "zod";
import { actionContext, type AppEnv, orgScopeOf } from "../../../../lib/http/context.ts";
import { page } from "../../../../lib/http/pages.ts";
import { roleAtLeast } from "../../../../lib/auth/principal.ts";
import { island } from "../../../../lib/islands/island.tsx";
import { HostName, parseLabelLines } from "../../../../lib/hosts/schema.ts";
import { hostView } from "../../../../lib/hosts/view.ts";
import { addHost } from "../../../../lib/hosts/use_cases.ts";
import { hubUrlOf } from "../../../../lib/agents/install_script.ts";
import LiveHosts from "../../../../islands/LiveHosts.tsx";
import { PageHeader } from "../../../../components/PageHeader.tsx";
import { HostsTable } from "../../../../components/HostsTable.tsx";
import { EmptyState } from "../../../../components/EmptyState.tsx";
import { errorsOf, formError, parseForm, readForm } from "../../../_forms.ts";
import { hasIsland, type PageKit, render } from "../../../_render.tsx";
import { enrollmentPage } from "./_enrollment.tsx";
import { addPage } from "./new.tsx";
import { topics } from "../../../../lib/realtime/topics.ts";

const LiveHostsIsland = island("LiveHosts", LiveHosts);

/** The add-host form: a name, and labels as `key=value` lines. */
const AddInput = z.object({ name: HostName, labels: z.string().max(10_000).optional() });

const base = (slug: string) => `/o/${encodeURIComponent(slug)}`;

/** Hosts pages: the list (viewers), and the add-host form's submission (admins). */
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

  page(app, "POST", "/o/:org/hosts", "org:admin", async (c) => {
    const values = await readForm(c);
    const parsed = parseForm(AddInput, values);
    if (!parsed.ok) return addPage(c, { values, errors: parsed.errors }, 400);
    const labels = parseLabelLines(parsed.data.labels ?? "");
    if (!labels.ok) return addPage(c, { values, errors: { labels: labels.error } }, 400);
    try {
      const { org } = orgScopeOf(c);
      const input = { name: parsed.data.name, labels: labels.labels };
      const r = await addHost(c.var.services, actionContext(c), org.id, input, hubUrlOf(c));
      // Rendered, not redirected: the token must not travel in a URL or survive in a flash.
      return enrollmentPage(c, kit, {
        hostName: r.host.name,
        hostId: r.host.id,
        token: r.enrollment.token,
        command: r.enrollment.installCommand,
        expiresAt: r.enrollment.expiresAt,
      });
    } catch (err) {
      const e = formError(err);
      return addPage(c, { values, errors: errorsOf(e, "name") }, e.status);
    }
  });
}
