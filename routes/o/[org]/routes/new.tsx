import type { Hono } from "hono";
import type { AppEnv } from "../../../../lib/http/context.ts";
import { page } from "../../../../lib/http/pages.ts";
import { routeFormPage, submitRoute } from "./_form_page.tsx";

const PATH = "/o/:org/routes/new";

/** `GET/POST /o/:org/routes/new`: create a route (members); `?app=` prefills the target. */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", PATH, "org:member", (c) => routeFormPage(c, undefined));
  page(app, "POST", PATH, "org:member", (c) => submitRoute(c, undefined));
}
