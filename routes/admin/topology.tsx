/**
 * `/admin/topology` (platform admins): the topology of the whole install, every organization's
 * nodes on one map, with the same table beneath (see routes/o/[org]/topology.tsx).
 */
import type { Hono } from "hono";
import type { AppEnv } from "../../lib/http/context.ts";
import { page } from "../../lib/http/pages.ts";
import { topologyPage } from "../o/[org]/topology.tsx";

/** `GET /admin/topology`: the whole install's topology (platform admins). */
export function register(app: Hono<AppEnv>): void {
  page(
    app,
    "GET",
    "/admin/topology",
    "platform_admin",
    (c) =>
      topologyPage(c, { kind: "install" }, {
        title: "Topology",
        sub: "The whole install: every organization's routes, apps, hosts and storage, live.",
        active: "admin-topology",
        graphUrl: "/api/v1/topology",
      }),
  );
}
