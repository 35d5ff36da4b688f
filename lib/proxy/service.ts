/**
 * Routes, as users act on them: create, change, delete, read — each audited, each answered once
 * the proxy has loaded the change (or refused it: the route then carries the proxy's words and
 * the last good config keeps serving). Who may do what: members route to their organization's
 * apps; wildcard hostnames and external URLs are for platform admins (an external URL makes the
 * ingress fetch an address of the caller's choosing). A hostname belongs to one route in the
 * whole install; the conflict names the owner only to platform admins.
 */
import bcrypt from "bcryptjs";
import type { ActionContext, AuditLog } from "../audit/service.ts";
import { Conflict, Forbidden, invalidFields, invalidInput } from "../errors.ts";
import type { TokenScope } from "../db/schema.ts";
import { BasicAuthUsername, Hostname, RouteSpec, type StoredRouteSpec } from "./spec.ts";
import { z } from "zod";

/** What Settings → Proxy may change; absent keys stay, null clears. */
const SettingsInput = z.object({
  provider: z.enum(["caddy", "traefik"]).optional(),
  default_domain: Hostname.refine((h) => !h.startsWith("*."), "must not be a wildcard").nullable()
    .optional(),
  default_tls: z.enum(["acme", "internal"]).optional(),
  acme_email: z.email().max(254).nullable().optional(),
  acme_ca: z.url({ protocol: /^https$/ }).max(500).nullable().optional(),
  ingress: z.object({
    ipv4: z.array(z.ipv4()).max(16).default([]),
    ipv6: z.array(z.ipv6()).max(16).default([]),
    cname: Hostname.refine((h) => !h.startsWith("*."), "must not be a wildcard").optional(),
  }).strict().optional(),
  traefik_cert_resolver: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be a resolver name")
    .nullable().optional(),
  traefik_dir: z.string().regex(/^\/[^\0]{0,1000}$/, "must be an absolute path").nullable()
    .optional(),
}).strict();
import { HostnameTaken, type ProxySettings, type ProxyStore, type Route } from "./store.ts";
import type { Ingress } from "./ingress.ts";
import type { Domains } from "./domains.ts";
import type { ApplyOutcome } from "./applier.ts";
import type { TlsState } from "./tables.ts";

/** Who acts on routes. */
export interface RouteCaller {
  ctx: ActionContext;
  orgId: string;
  tokenScope?: TokenScope;
  platformAdmin: boolean;
}

/** What the routes service needs from the apps module: an app's service names, or null. */
export type AppServicesOf = (orgId: string, app: string) => Promise<string[] | null>;

export interface ProxyDeps {
  store: ProxyStore;
  ingress: Ingress;
  domains: Domains;
  audit: Pick<AuditLog, "run">;
  appServices: AppServicesOf;
  /** bcrypt cost; tests lower it. */
  bcryptCost?: number;
  /** Told after a route was created, changed or removed (the module emits `proxy.route_changed`). */
  changed?: (orgId: string, routeId: string) => void;
}

/** A route with how its last load went. */
export interface RouteResult {
  route: Route;
  applied: ApplyOutcome;
}

/** The stored basic auth an update keeps: the input names a user, no password, and one is stored. */
function keepsPassword(route: Route, input: unknown) {
  const auth = (input as { basic_auth?: unknown } | null)?.basic_auth;
  if (!route.spec.basic_auth || !auth || typeof auth !== "object") return undefined;
  const { username, password } = auth as { username?: unknown; password?: unknown };
  if (username === undefined || (password !== undefined && password !== "")) return undefined;
  return route.spec.basic_auth;
}

/** Creates the routes service. */
export function createProxy(deps: ProxyDeps) {
  const { store } = deps;
  const cost = deps.bcryptCost ?? 10;

  /**
   * Parses and checks a spec; the password leaves as its bcrypt hash. `kept` is the stored basic
   * auth an edit without a password keeps (the edit form never shows the password back).
   */
  async function prepare(
    caller: RouteCaller,
    input: unknown,
    kept?: { username: string; bcrypt: string },
  ): Promise<StoredRouteSpec> {
    let keptAuth: { username: string; bcrypt: string } | undefined;
    if (kept) {
      const username = BasicAuthUsername.safeParse(
        (input as { basic_auth: { username: unknown } }).basic_auth.username,
      );
      if (!username.success) throw invalidInput(username.error, "basic_auth.username");
      keptAuth = { username: username.data, bcrypt: kept.bcrypt };
      input = { ...(input as Record<string, unknown>), basic_auth: undefined };
    }
    const parsed = RouteSpec.safeParse(input);
    if (!parsed.success) throw invalidInput(parsed.error);
    const spec = parsed.data;
    if (!caller.platformAdmin) {
      const wild = spec.hostnames.findIndex((h) => h.startsWith("*."));
      if (wild >= 0) {
        throw new Forbidden("Only platform admins may route a wildcard hostname", {
          [`hostnames.${wild}`]: "wildcards are for platform admins",
        });
      }
      if (spec.target.kind === "url") {
        throw new Forbidden("Only platform admins may route to an external URL", {
          "target.kind": "external URLs are for platform admins",
        });
      }
    }
    if (spec.target.kind === "app") {
      const services = await deps.appServices(caller.orgId, spec.target.app);
      if (!services) throw invalidFields({ "target.app": `there is no app ${spec.target.app}` });
      if (!services.includes(spec.target.service)) {
        throw invalidFields({
          "target.service": `app ${spec.target.app} has no service ${spec.target.service}`,
        });
      }
    }
    const { basic_auth, ...rest } = spec;
    if (keptAuth) return { ...rest, basic_auth: keptAuth };
    if (!basic_auth) return rest;
    return {
      ...rest,
      basic_auth: {
        username: basic_auth.username,
        bcrypt: await bcrypt.hash(basic_auth.password, cost),
      },
    };
  }

  function initialTls(spec: StoredRouteSpec): (h: string) => TlsState {
    return () => (spec.tls === "internal" ? "internal" : "pending_dns");
  }

  /** Words a taken hostname for this caller: the owner only for platform admins. */
  function taken(caller: RouteCaller, e: HostnameTaken): Conflict {
    const { hostname, org_id, route_id } = e.owner;
    const words = caller.platformAdmin
      ? `${hostname} is in use by route ${route_id} of organization ${org_id}`
      : org_id === caller.orgId
      ? `${hostname} is in use by another route of this organization`
      : `${hostname} is in use`;
    return new Conflict(words, "conflict", { hostnames: words });
  }

  const audited = <T>(
    caller: RouteCaller,
    action: string,
    target: { id?: string; name: string },
    metadata: Record<string, unknown>,
    fn: () => Promise<T>,
  ) =>
    deps.audit.run(caller.ctx, action, {
      orgId: caller.orgId,
      target: { type: "route", id: target.id ?? null, name: target.name },
      metadata,
      after: (r: T) => {
        const id = (r as { route?: Route })?.route?.id;
        return id ? { target: { type: "route", id, name: target.name } } : {};
      },
    }, fn);

  /** Waits for the proxy to take the change and reads the route again (its status moved). */
  async function applied(orgId: string, id: string): Promise<RouteResult> {
    const outcome = await deps.ingress.request();
    const route = await store.get(orgId, id);
    deps.changed?.(orgId, id);
    return { route, applied: outcome };
  }

  const described = (spec: StoredRouteSpec) => ({
    hostnames: spec.hostnames,
    path_prefix: spec.path_prefix ?? null,
    target: spec.target,
  });

  return {
    store,

    async create(caller: RouteCaller, input: unknown): Promise<RouteResult> {
      const spec = await prepare(caller, input);
      return await audited(
        caller,
        "route.create",
        { name: spec.hostnames[0] },
        described(spec),
        async () => {
          let route: Route;
          try {
            route = await store.create(
              caller.orgId,
              spec,
              caller.ctx.actor.id ?? null,
              initialTls(spec),
            );
          } catch (e) {
            throw e instanceof HostnameTaken ? taken(caller, e) : e;
          }
          return await applied(caller.orgId, route.id);
        },
      );
    },

    /**
     * Replaces a route's spec. Basic auth with a username and no password keeps the stored
     * password (its hash), so an edit need not know it; a new password replaces it.
     */
    async update(caller: RouteCaller, route: Route, input: unknown): Promise<RouteResult> {
      const spec = await prepare(caller, input, keepsPassword(route, input));
      return await audited(
        caller,
        "route.update",
        { id: route.id, name: spec.hostnames[0] },
        described(spec),
        async () => {
          try {
            await store.update(route, spec, initialTls(spec));
          } catch (e) {
            throw e instanceof HostnameTaken ? taken(caller, e) : e;
          }
          return await applied(caller.orgId, route.id);
        },
      );
    },

    async remove(caller: RouteCaller, route: Route): Promise<ApplyOutcome> {
      return await audited(
        caller,
        "route.delete",
        { id: route.id, name: route.spec.hostnames[0] },
        described(route.spec),
        async () => {
          await store.remove(route);
          const outcome = await deps.ingress.request();
          deps.changed?.(route.org_id, route.id);
          return outcome;
        },
      );
    },

    /** Changes the install's proxy settings (platform admins) and loads everything again. */
    async saveSettings(
      ctx: ActionContext,
      input: unknown,
    ): Promise<{ settings: ProxySettings; applied: ApplyOutcome }> {
      const parsed = SettingsInput.safeParse(input);
      if (!parsed.success) throw invalidInput(parsed.error);
      const current = await store.settings();
      const { updated_at: _at, ...rest } = current;
      const next = { ...rest, ...parsed.data, updated_by: ctx.actor.id ?? null };
      return await deps.audit.run(ctx, "proxy.settings", { metadata: parsed.data }, async () => {
        const settings = await store.saveSettings(next);
        return { settings, applied: await deps.ingress.request() };
      });
    },

    /** Checks a route's hostnames' DNS now and reads their certificates (members and up). */
    checkDns: (route: Route) => deps.domains.checkRoute(route),

    /** Renders and loads everything again (admins: "Regenerate all"). */
    async regenerate(ctx: ActionContext): Promise<ApplyOutcome> {
      return await deps.audit.run(ctx, "proxy.regenerate", {}, async () => {
        deps.ingress.forget();
        return await deps.ingress.request();
      });
    },
  };
}

export type Proxy = ReturnType<typeof createProxy>;
