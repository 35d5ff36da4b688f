import type { Hono } from "hono";
import { type AppContext, type AppEnv, orgScopeOf } from "../../../../lib/http/context.ts";
import type { HttpError } from "../../../../lib/http/errors.ts";
import { page } from "../../../../lib/http/pages.ts";
import type { App, Deployment } from "../../../../lib/apps/store.ts";
import { LABELS } from "../../../../lib/apps/swarm_spec.ts";
import { PageHeader } from "../../../../components/PageHeader.tsx";
import { graceBanner } from "../../_grace.tsx";
import { EmptyState } from "../../../../components/EmptyState.tsx";
import { FilterForm } from "../../../../components/FilterForm.tsx";
import { TextField } from "../../../../components/Field.tsx";
import { type AppRow, AppsTable } from "../../../../components/AppsTable.tsx";
import { filterLinks, queryValues } from "../../../_forms.ts";
import { render } from "../../../_render.tsx";
import { ActionError, AppFlash, appsBase, ClusterAway, fromCluster, mayOperate } from "./_app.tsx";

const PAGE_SIZE = 20;

/** Tasks running and desired per app, from one listing of the organization's Swarm services. */
async function replicasByApp(c: AppContext) {
  const { org } = orgScopeOf(c);
  return await fromCluster(async () => {
    const { gw } = await c.var.services.cluster.manager();
    const out = new Map<string, { running: number; desired: number }>();
    for (const s of await gw.services(`${LABELS.org}=${org.id}`)) {
      const id = s.Spec.Labels[LABELS.app];
      if (!id) continue;
      const r = out.get(id) ?? { running: 0, desired: 0 };
      r.running += s.ServiceStatus?.RunningTasks ?? 0;
      r.desired += s.ServiceStatus?.DesiredTasks ?? 0;
      out.set(id, r);
    }
    return out;
  });
}

/** The list of apps, optionally with the error of a quick action posted from it. */
export async function listPage(c: AppContext, error?: HttpError) {
  const { org } = orgScopeOf(c);
  const base = appsBase(c);
  const values = queryValues(c);
  const q = (values.q ?? "").trim().slice(0, 100);
  const offset = /^\d{1,6}$/.test(values.offset ?? "") ? Number(values.offset) : 0;
  const links = filterLinks(base, values, ["q"]);
  const { apps, total } = await c.var.services.apps.store.list(org.id, {
    search: q || undefined,
    limit: PAGE_SIZE,
    offset,
  });
  const latest = await Promise.all(
    apps.map(async (a) =>
      (await c.var.services.apps.store.deployments(a, { limit: 1 }))[0] as Deployment | undefined
    ),
  );
  const replicas = apps.length ? await replicasByApp(c) : undefined;
  const usage = await c.var.services.appMetrics.usage(apps.map((a) => a.id));
  const operate = mayOperate(c);
  const grace = await graceBanner(c);
  const back = links.href(offset ? { offset: String(offset) } : {});
  const rows: AppRow[] = apps.map((a: App, i) => ({
    app: a,
    latest: latest[i],
    replicas: replicas?.ok ? replicas.value.get(a.id) ?? { running: 0, desired: 0 } : undefined,
    usage: usage.get(a.id),
  }));
  const from = total ? offset + 1 : 0;
  const to = offset + apps.length;
  const settingsHref = `/o/${encodeURIComponent(org.slug)}/settings/cluster`;

  return render(
    c,
    <>
      <PageHeader
        title="Apps"
        sub={<>{org.name} · {total} {links.active ? "matching" : "in all"} · run on the cluster</>}
      >
        {operate && <a class="btn btn-primary" href={`${base}/new`}>New app</a>}
      </PageHeader>
      {grace}
      <AppFlash c={c} />
      <ActionError error={error} />
      {replicas && !replicas.ok && (
        <ClusterAway
          error={replicas.error}
          settingsHref={c.get("principal")?.isAdmin ? settingsHref : undefined}
        />
      )}
      {(total > 0 || links.active) && (
        <FilterForm action={base}>
          <TextField
            name="q"
            label="Search"
            type="search"
            placeholder="Part of the name"
            values={{ q }}
            idPrefix="af"
          />
        </FilterForm>
      )}
      {rows.length > 0
        ? (
          <AppsTable
            rows={rows}
            base={base}
            operate={operate}
            back={back}
          />
        )
        : (
          <EmptyState title={links.active ? "No apps match this search" : "No apps yet"}>
            <p>
              {links.active
                ? "Search for another part of the name, or reset the search."
                : "An app is one or more services from images, run on the cluster with as many replicas as you ask for, updated without downtime and rolled back when a version fails."}
            </p>
            {operate && !links.active && (
              <p>
                <a class="btn btn-primary" href={`${base}/new`}>New app</a>
              </p>
            )}
          </EmptyState>
        )}
      {total > PAGE_SIZE && (
        <nav class="pager" aria-label="Pages">
          <span class="muted small pager-count">{from}–{to} of {total}</span>
          {offset > 0 && (
            <a
              class="btn"
              rel="prev"
              href={links.href(
                offset - PAGE_SIZE > 0 ? { offset: String(offset - PAGE_SIZE) } : {},
              )}
            >
              ← Previous
            </a>
          )}
          {to < total && (
            <a class="btn" rel="next" href={links.href({ offset: String(offset + PAGE_SIZE) })}>
              Next →
            </a>
          )}
        </nav>
      )}
    </>,
    { title: `Apps · ${org.name}`, active: "apps", status: error?.status ?? 200 },
  );
}

/** `GET /o/:org/apps`: the organization's apps (viewers); quick actions for members. */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", "/o/:org/apps", "org:viewer", (c) => listPage(c));
}
