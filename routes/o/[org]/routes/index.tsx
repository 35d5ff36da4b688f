import type { Hono } from "hono";
import { type AppContext, type AppEnv, orgScopeOf } from "../../../../lib/http/context.ts";
import { page } from "../../../../lib/http/pages.ts";
import { PageHeader } from "../../../../components/PageHeader.tsx";
import { EmptyState } from "../../../../components/EmptyState.tsx";
import { FilterForm } from "../../../../components/FilterForm.tsx";
import { TextField } from "../../../../components/Field.tsx";
import { type RouteRow, RoutesTable } from "../../../../components/RoutesTable.tsx";
import { filterLinks, queryValues } from "../../../_forms.ts";
import { render } from "../../../_render.tsx";
import {
  DnsBadge,
  mayOperate,
  RouteFlash,
  routeHref,
  routesBase,
  RouteStatus,
  Target,
  TlsBadge,
} from "./_route.tsx";

const PAGE_SIZE = 25;

/** The organization's routes, searched by hostname, a page at a time (newest first). */
async function listPage(c: AppContext) {
  const { org } = orgScopeOf(c);
  const base = routesBase(c);
  const values = queryValues(c);
  const q = (values.q ?? "").trim().slice(0, 100);
  const before = /^[0-9a-f-]{36}$/.test(values.before ?? "") ? values.before : undefined;
  const links = filterLinks(base, values, ["q"]);
  const { store } = c.var.services.proxy;
  // One more than a page says whether there is a next one.
  const found = await store.list(org.id, { search: q || undefined, before, limit: PAGE_SIZE + 1 });
  const routes = found.slice(0, PAGE_SIZE);
  const domains = await store.domains(routes.map((r) => r.id));
  const operate = mayOperate(c);
  const rows: RouteRow[] = routes.map((route) => ({
    route,
    domains: domains.filter((d) => d.route_id === route.id),
    href: routeHref(c, route),
    target: <Target c={c} spec={route.spec} />,
    status: <RouteStatus route={route} />,
    badges: (d) => (
      <>
        <DnsBadge domain={d} /> <TlsBadge domain={d} />
      </>
    ),
  }));
  const filtered = links.active || Boolean(before);

  return render(
    c,
    <>
      <PageHeader
        title="Routes"
        sub={<>{org.name} · hostnames the proxy sends to your apps, with HTTPS</>}
      >
        {operate && <a class="btn btn-primary" href={`${base}/new`}>New route</a>}
      </PageHeader>
      <RouteFlash c={c} />
      {(routes.length > 0 || filtered) && (
        <FilterForm action={base}>
          <TextField
            name="q"
            label="Search"
            type="search"
            placeholder="Part of a hostname"
            values={{ q }}
            idPrefix="rf"
          />
        </FilterForm>
      )}
      {rows.length > 0
        ? <RoutesTable rows={rows} />
        : (
          <EmptyState title={filtered ? "No routes match this search" : "No routes yet"}>
            <p>
              {filtered
                ? "Search for another part of a hostname, or reset the search."
                : "A route sends the requests for your hostnames (shop.example.com) to one of your apps, over HTTPS with a certificate the proxy gets and renews for you. Point the hostname's DNS at the ingress and the route page tells you when it is live."}
            </p>
            {operate && !filtered && (
              <p>
                <a class="btn btn-primary" href={`${base}/new`}>New route</a>
              </p>
            )}
          </EmptyState>
        )}
      {(before || found.length > PAGE_SIZE) && (
        <nav class="pager" aria-label="Pages">
          {before && <a class="btn" href={links.href()}>Newest</a>}
          {found.length > PAGE_SIZE && (
            <a class="btn" rel="next" href={links.href({ before: routes.at(-1)!.id })}>
              Next page →
            </a>
          )}
        </nav>
      )}
    </>,
    { title: `Routes · ${org.name}`, active: "routes" },
  );
}

/** `GET /o/:org/routes`: the organization's routes (viewers). */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", "/o/:org/routes", "org:viewer", (c) => listPage(c));
}
