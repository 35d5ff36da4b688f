import type { Hono } from "hono";
import type { AppEnv } from "../../../../../lib/http/context.ts";
import { page } from "../../../../../lib/http/pages.ts";
import { seeOther } from "../../../../_render.tsx";
import { routeHref, routeOf } from "../_route.tsx";

/**
 * `POST /o/:org/routes/:id/check-dns` (members): checks the route's hostnames' DNS now and reads
 * the certificates the ingress serves, then shows the route with what was found.
 */
export function register(app: Hono<AppEnv>): void {
  page(app, "POST", "/o/:org/routes/:id/check-dns", "org:member", async (c) => {
    const route = await routeOf(c);
    await c.var.services.proxy.checkDns(route);
    return seeOther(c, `${routeHref(c, route)}?done=checked`);
  });
}
