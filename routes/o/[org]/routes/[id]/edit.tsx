import type { Hono } from "hono";
import type { AppEnv } from "../../../../../lib/http/context.ts";
import { page } from "../../../../../lib/http/pages.ts";
import { routeOf } from "../_route.tsx";
import { routeFormPage, submitRoute } from "../_form_page.tsx";

const PATH = "/o/:org/routes/:id/edit";

/** `GET/POST /o/:org/routes/:id/edit`: change a route (members); a blank password keeps it. */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", PATH, "org:member", async (c) => routeFormPage(c, await routeOf(c)));
  page(app, "POST", PATH, "org:member", async (c) => submitRoute(c, await routeOf(c)));
}
