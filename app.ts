/**
 * The composition root's HTTP half: the hub's app from the modules of modules.ts and the route
 * indexes of routes/ (lib/http does not import routes/; this file hands them over).
 */
import type { Hono } from "hono";
import type { AppEnv } from "./lib/http/context.ts";
import { type AppOptions, createApp } from "./lib/http/app.ts";
import type { RealtimeHub } from "./lib/realtime/hub.ts";
import type { Services } from "./services.ts";
import { MODULES } from "./modules.ts";
import { apiRoutes } from "./routes/api/v1/mod.ts";
import { pageRoutes, preparePages, renderErrorPage } from "./routes/mod.ts";
import * as ws from "./routes/api/ws.ts";
import { healthz } from "./routes/api/v1/system.ts";

/** Builds the hub's whole HTTP surface. */
export function createHubApp(
  services: Services,
  hub: RealtimeHub,
  options: AppOptions = {},
): Hono<AppEnv> {
  return createApp(services, hub, {
    modules: MODULES,
    routes: {
      api: apiRoutes,
      pages: pageRoutes,
      healthz,
      websocket: ws.register,
      preparePages,
      renderErrorPage,
    },
  }, options);
}
