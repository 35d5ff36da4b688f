import { Hono } from "hono";
import type { AppEnv } from "./context.ts";
import type { Services } from "../../services.ts";
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
import { declare } from "./policy.ts";
import type { IslandManifest } from "../islands/manifest.ts";
import type { AnyModule, FeatureModule, NavEntry, SettingsPanel } from "../module.ts";
import type { Handler } from "hono";
import type { OpenAPIHono } from "@hono/zod-openapi";

/** Largest request body the hub reads (API JSON and forms). */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Owner key of the routes that belong to the hub itself, not to a feature (static files, sign-in frame). */
export const SHELL = "shell";

/** A route file of the API: registers its operations on the OpenAPI app. */
export interface ApiRoutes {
  register(app: OpenAPIHono<AppEnv>): void;
}

/** What page routes get besides the services on the context. */
export interface PageSetup {
  manifest: IslandManifest | null;
  islandsDir?: string;
  openapi: () => unknown;
  nav: readonly NavEntry[];
  settings: readonly SettingsPanel[];
}

/** A page route file: registers its pages. */
export interface PageRoutes {
  register(app: Hono<AppEnv>, kit: PageSetup): void;
}

/**
 * The route indexes (routes/), keyed by the module that owns each route file (or SHELL). The HTTP
 * layer does not import routes/: the composition root hands them over, and the app registers the
 * shell's and then each module's, in modules.ts order.
 */
export interface RouteIndexes {
  api: Readonly<Record<string, readonly ApiRoutes[]>>;
  pages: Readonly<Record<string, readonly PageRoutes[]>>;
  /** `GET /healthz`, answered before body limits and authentication. */
  healthz: Handler<AppEnv>;
  /** The realtime WebSocket endpoint. */
  websocket(app: Hono<AppEnv>, hub: RealtimeHub): void;
  /** Runs once before any page registers (validation wording, the layout's manifest). */
  preparePages(app: Hono<AppEnv>, kit: PageSetup): void;
  /** Renders an error for a browser (pages) or as JSON (API). */
  renderErrorPage: Parameters<typeof errorHandler>[0];
}

/** Route files of `index` in registration order: the shell's, then each module's; an owner that is not a module is refused. */
export function routesInOrder<T>(
  index: Readonly<Record<string, readonly T[]>>,
  modules: readonly Pick<FeatureModule, "name">[],
): T[] {
  const names = [SHELL, ...modules.map((m) => m.name)];
  for (const owner of Object.keys(index)) {
    if (!names.includes(owner)) {
      throw new Error(`routes are filed under "${owner}", which is not a module in modules.ts`);
    }
  }
  return names.flatMap((n) => [...(index[n] ?? [])]);
}

/** Optional parts of the app that depend on build output rather than on services. */
export interface AppOptions {
  /** Islands manifest from `buildIslands()`; without one, pages render without islands (no JS). */
  islands?: IslandManifest | null;
  /** Folder holding the manifest's files, served at `/_islands/`. Default `<root>/static/_islands`. */
  islandsDir?: string;
}

/** Builds the whole HTTP surface of the hub from the modules and their routes. */
export function createApp(
  services: Services,
  hub: RealtimeHub,
  wiring: { modules: readonly AnyModule[]; routes: RouteIndexes },
  options: AppOptions = {},
): Hono<AppEnv> {
  const { routes } = wiring;
  const { modules } = wiring;
  const app = new Hono<AppEnv>();
  app.use("*", requestBasics(services));
  app.use("*", async (c, next) => {
    // A 101 Switching Protocols response must go out untouched.
    if (c.req.path === "/api/v1/ws" || c.req.path === "/api/v1/agent/connect") return await next();
    return await securityHeaders()(c, next);
  });
  // Health answers before body limits and authentication: JSON within a second, whatever the
  // database or the caller's cookie (routes/api/v1/system.ts). A GET has no body to read, so the
  // NUL check here costs only the query string.
  app.get("/healthz", refuseNul(), routes.healthz);
  app.use("*", bodyLimit(MAX_BODY_BYTES));
  app.use("*", refuseNul());
  app.use("*", authenticate());
  // Read per request: a hub started on port 0 learns its public URL's port only once it listens.
  const csrf = csrfProtection(() => services.config.publicUrl);
  app.use("*", async (c, next) => {
    // Agent endpoints take no cookies (their credential is a host or enrollment token a browser
    // never holds), so there is no ambient authority to forge; agents send no Origin header.
    if (c.req.path.startsWith("/api/v1/agent/")) return await next();
    // Git hosts' webhooks: authenticated by the signature over the body alone, never by a
    // cookie, so a forged cross-site request gains nothing a stranger could not send anyway.
    if (c.req.path.startsWith("/api/v1/hooks/")) return await next();
    // PayPal's webhook: the same, verified through PayPal's own API (lib/billing/payments).
    if (c.req.path === "/api/v1/billing/paypal/webhook") return await next();
    return await csrf(c, next);
  });

  const api = createApiApp();
  for (const r of routesInOrder(routes.api, modules)) r.register(api);
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
  routes.websocket(app, hub);
  const kit: PageSetup = {
    manifest: options.islands ?? null,
    islandsDir: options.islandsDir,
    // The API reference page renders the same document the API serves.
    openapi: () => api.getOpenAPI31Document(docConfig),
    nav: modules.flatMap((m) => m.nav ?? []),
    settings: modules.flatMap((m) => m.settings ?? []),
  };
  routes.preparePages(app, kit);
  for (const r of routesInOrder(routes.pages, modules)) r.register(app, kit);

  const onError = errorHandler(routes.renderErrorPage);
  app.onError(onError);
  app.notFound((c) => onError(new HttpError(404, "not_found", "No such page or endpoint"), c));
  return app;
}

export { toHttpError };
