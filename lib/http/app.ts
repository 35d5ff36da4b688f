import { Hono } from "hono";
import type { AppEnv } from "./context.ts";
import type { Services } from "../services.ts";
import { createApiApp } from "./openapi.ts";
import { errorHandler, toHttpError } from "./error_handler.ts";
import { HttpError } from "./errors.ts";
import {
  authenticate,
  bodyLimit,
  csrfProtection,
  refuseNul,
  requestBasics,
  securityHeaders,
} from "./middleware.ts";
import type { RealtimeHub } from "../realtime/hub.ts";
import { apiModules } from "../../routes/api/v1/mod.ts";
import * as ws from "../../routes/api/ws.ts";
import { healthz } from "../../routes/api/v1/system.ts";
import { registerPages, renderErrorPage } from "../../routes/mod.ts";
import { declare } from "./policy.ts";
import type { IslandManifest } from "../islands/manifest.ts";

/** Largest request body the hub reads (API JSON and forms). */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Optional parts of the app that depend on build output rather than on services. */
export interface AppOptions {
  /** Islands manifest from `buildIslands()`; without one, pages render without islands (no JS). */
  islands?: IslandManifest | null;
  /** Folder holding the manifest's files, served at `/_islands/`. Default `<root>/static/_islands`. */
  islandsDir?: string;
}

/** Builds the whole HTTP surface of the hub. */
export function createApp(
  services: Services,
  hub: RealtimeHub,
  options: AppOptions = {},
): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use("*", requestBasics(services));
  app.use("*", async (c, next) => {
    // A 101 Switching Protocols response must go out untouched.
    if (c.req.path === "/api/v1/ws" || c.req.path === "/api/v1/agent/connect") return await next();
    return await securityHeaders()(c, next);
  });
  // Health answers before body limits and authentication: JSON within a second, whatever the
  // database or the caller's cookie (routes/api/v1/system.ts).
  app.get("/healthz", healthz);
  app.use("*", bodyLimit(MAX_BODY_BYTES));
  app.use("*", refuseNul());
  app.use("*", authenticate());
  // Read per request: a hub started on port 0 learns its public URL's port only once it listens.
  const csrf = csrfProtection(() => services.config.publicUrl);
  app.use("*", async (c, next) => {
    // Agent endpoints take no cookies (their credential is a host or enrollment token a browser
    // never holds), so there is no ambient authority to forge; agents send no Origin header.
    if (c.req.path.startsWith("/api/v1/agent/")) return await next();
    return await csrf(c, next);
  });

  const api = createApiApp();
  for (const m of apiModules) m.register(api);
  api.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
  });
  api.openAPIRegistry.registerComponent("securitySchemes", "session", {
    type: "apiKey",
    in: "cookie",
    name: "capstan_session",
  });
  declare({ method: "GET", path: "/api/v1/openapi.json", policy: "public", kind: "api" });
  const docConfig = {
    openapi: "3.1.0",
    info: {
      title: "Capstan API",
      version: "1.0.0",
      description: "Fleet monitor and container platform",
    },
  };
  api.doc31("/api/v1/openapi.json", docConfig);
  app.route("/", api);
  ws.register(app, hub);
  registerPages(app, {
    manifest: options.islands ?? null,
    islandsDir: options.islandsDir,
    // The API reference page renders the same document the API serves.
    openapi: () => api.getOpenAPI31Document(docConfig),
  });

  app.onError(errorHandler(renderErrorPage));
  app.notFound((c) =>
    errorHandler(renderErrorPage)(new HttpError(404, "not_found", "No such page or endpoint"), c)
  );
  return app;
}

export { toHttpError };
