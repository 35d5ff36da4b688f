/**
 * The "Routes" section of an app's page: the routes to the app with their hostnames as links
 * (`https://` once a certificate is served), and "Add a route" prefilled with the app.
 */
import type { AppContext } from "../../../../lib/http/context.ts";
import { orgScopeOf } from "../../../../lib/http/context.ts";
import type { App } from "../../../../lib/apps/store.ts";
import type { Domain, Route } from "../../../../lib/proxy/store.ts";
import { mayOperate, routeHref, routesBase, RouteStatus, servesCertificate } from "./_route.tsx";

/** Routes shown on an app's page (more are on the Routes page, searched). */
const MAX = 20;

/** The section, with the app's routes loaded. */
export async function appRoutes(c: AppContext, app: Pick<App, "name">) {
  const { store } = c.var.services.proxy;
  const routes = await store.list(orgScopeOf(c).org.id, { app: app.name, limit: MAX });
  const domains = await store.domains(routes.map((r) => r.id));
  return <AppRoutes c={c} app={app} routes={routes} domains={domains} />;
}

function AppRoutes(
  { c, app, routes, domains }: {
    c: AppContext;
    app: Pick<App, "name">;
    routes: Route[];
    domains: Domain[];
  },
) {
  const byHost = new Map(domains.map((d) => [d.hostname, d]));
  const add = `${routesBase(c)}/new?app=${encodeURIComponent(app.name)}`;
  return (
    <section class="card app-routes" aria-labelledby="routes-title">
      <div class="card-head">
        <h2 id="routes-title">Routes</h2>
        {mayOperate(c) && <a class="btn btn-small" href={add}>Add a route</a>}
      </div>
      {routes.length
        ? (
          <ul class="app-route-list">
            {routes.map((r) => (
              <li key={r.id}>
                {r.spec.hostnames.map((h) => (
                  <a
                    key={h}
                    class="app-route-host"
                    href={`${servesCertificate(byHost.get(h)) ? "https" : "http"}://${h}${
                      r.spec.path_prefix ?? ""
                    }`}
                  >
                    {h}
                    {r.spec.path_prefix ?? ""}
                  </a>
                ))} <RouteStatus route={r} /> <a class="small" href={routeHref(c, r)}>Details</a>
              </li>
            ))}
          </ul>
        )
        : (
          <p class="muted">
            No hostname routes to {app.name} yet: a route gives it a domain name with HTTPS.
          </p>
        )}
    </section>
  );
}
