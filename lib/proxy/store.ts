/**
 * Routes and their hostnames in the database. A route's hostnames are claimed in the same
 * transaction that writes the route: the hostname is the key of `proxy_domains`, so two routes
 * (of any organizations, on any hub replica) can never own one name; the loser gets a Conflict.
 */
import type { Db } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import { uuidv7 } from "../util/ids.ts";
import { Conflict, NotFound } from "../errors.ts";
import { isUniqueViolation } from "../db/unique.ts";
import type { StoredRouteSpec } from "./spec.ts";
import type { IngressTarget } from "./dns_check.ts";
import type {
  DnsStatus,
  ProxyDomainsTable,
  ProxyRoutesTable,
  ProxySettingsTable,
  TlsState,
} from "./tables.ts";

/** A route as the service and the API see it. */
export type Route = Omit<ProxyRoutesTable, "spec" | "target_app"> & { spec: StoredRouteSpec };

/** A hostname of a route with its DNS and certificate state. */
export type Domain = ProxyDomainsTable;

/** The install's proxy settings. */
export type ProxySettings = Omit<ProxySettingsTable, "id" | "ingress"> & { ingress: IngressTarget };

export const DEFAULT_SETTINGS: ProxySettings = {
  provider: "caddy",
  default_domain: null,
  default_tls: "acme",
  acme_email: null,
  acme_ca: null,
  traefik_dir: null,
  traefik_cert_resolver: null,
  ingress: { ipv4: [], ipv6: [] },
  updated_by: null,
  updated_at: 0,
};

const MAX_PAGE = 200;

function routeOf(r: ProxyRoutesTable): Route {
  return {
    id: r.id,
    org_id: r.org_id,
    spec: JSON.parse(r.spec),
    status: r.status,
    last_error: r.last_error,
    applied_at: r.applied_at === null ? null : Number(r.applied_at),
    created_by: r.created_by,
    created_at: Number(r.created_at),
    updated_at: Number(r.updated_at),
  };
}

function domainOf(r: ProxyDomainsTable): Domain {
  return {
    ...r,
    dns_checked_at: r.dns_checked_at === null ? null : Number(r.dns_checked_at),
    cert_not_after: r.cert_not_after === null ? null : Number(r.cert_not_after),
    created_at: Number(r.created_at),
  };
}

/** Who owns a hostname another route asked for (for the Conflict's message). */
export interface HostnameOwner {
  hostname: string;
  route_id: string;
  org_id: string;
}

/** Thrown when a hostname is taken; the service words it for the caller. */
export class HostnameTaken extends Conflict {
  constructor(readonly owner: HostnameOwner) {
    super(`${owner.hostname} is in use`, "conflict", { hostnames: `${owner.hostname} is in use` });
  }
}

/** Creates the routes store. */
export function createProxyStore(db: Db, clock: Clock) {
  const targetApp = (s: StoredRouteSpec) => (s.target.kind === "app" ? s.target.app : null);

  /** Claims `hostnames` for `route` inside `tx`; throws HostnameTaken naming the owner. */
  async function claim(
    tx: Db,
    routeId: string,
    orgId: string,
    hostnames: string[],
    initialTls: (h: string) => TlsState,
  ) {
    const now = clock.now();
    for (const hostname of hostnames) {
      const owner = await tx.selectFrom("proxy_domains").select(["hostname", "route_id", "org_id"])
        .where("hostname", "=", hostname).executeTakeFirst();
      if (owner && owner.route_id !== routeId) throw new HostnameTaken(owner);
      if (owner) continue;
      try {
        await tx.insertInto("proxy_domains").values({
          hostname,
          route_id: routeId,
          org_id: orgId,
          dns_status: "unchecked",
          dns_detail: null,
          dns_checked_at: null,
          tls_state: initialTls(hostname),
          tls_detail: null,
          cert_issuer: null,
          cert_not_after: null,
          created_at: now,
        }).execute();
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        // Another replica claimed it between our read and our insert.
        const winner = await tx.selectFrom("proxy_domains").select([
          "hostname",
          "route_id",
          "org_id",
        ])
          .where("hostname", "=", hostname).executeTakeFirst();
        throw new HostnameTaken(winner ?? { hostname, route_id: "", org_id: "" });
      }
    }
  }

  return {
    /** Stores a new route and claims its hostnames, atomically. */
    async create(
      orgId: string,
      spec: StoredRouteSpec,
      createdBy: string | null,
      initialTls: (h: string) => TlsState,
    ): Promise<Route> {
      const now = clock.now();
      const row: ProxyRoutesTable = {
        id: uuidv7(now),
        org_id: orgId,
        spec: JSON.stringify(spec),
        target_app: targetApp(spec),
        status: "pending",
        last_error: null,
        applied_at: null,
        created_by: createdBy,
        created_at: now,
        updated_at: now,
      };
      await db.transaction().execute(async (tx) => {
        await tx.insertInto("proxy_routes").values(row).execute();
        await claim(tx, row.id, orgId, spec.hostnames, initialTls);
      });
      return routeOf(row);
    },

    /** Replaces a route's spec; hostnames it no longer has are released, new ones claimed. */
    async update(
      route: Route,
      spec: StoredRouteSpec,
      initialTls: (h: string) => TlsState,
    ): Promise<Route> {
      const now = clock.now();
      await db.transaction().execute(async (tx) => {
        const res = await tx.updateTable("proxy_routes").set({
          spec: JSON.stringify(spec),
          target_app: targetApp(spec),
          status: "pending",
          updated_at: now,
        }).where("id", "=", route.id).where("org_id", "=", route.org_id).executeTakeFirst();
        if (!Number(res.numUpdatedRows)) throw new NotFound("Route not found");
        const gone = route.spec.hostnames.filter((h) => !spec.hostnames.includes(h));
        if (gone.length) {
          await tx.deleteFrom("proxy_domains").where("route_id", "=", route.id)
            .where("hostname", "in", gone).execute();
        }
        await claim(tx, route.id, route.org_id, spec.hostnames, initialTls);
      });
      return { ...route, spec, status: "pending", updated_at: now };
    },

    async remove(route: Route): Promise<void> {
      await db.transaction().execute(async (tx) => {
        await tx.deleteFrom("proxy_domains").where("route_id", "=", route.id).execute();
        await tx.deleteFrom("proxy_routes").where("id", "=", route.id)
          .where("org_id", "=", route.org_id).execute();
      });
    },

    /** A route of the organization by id; 404 otherwise (also for another org's route). */
    async get(orgId: string, id: string): Promise<Route> {
      const r = await db.selectFrom("proxy_routes").selectAll().where("org_id", "=", orgId)
        .where("id", "=", id).executeTakeFirst();
      if (!r) throw new NotFound("Route not found");
      return routeOf(r);
    },

    /** Routes of an organization, newest first; `search` matches a hostname. */
    async list(
      orgId: string,
      opts: { search?: string; app?: string; before?: string; limit?: number } = {},
    ): Promise<Route[]> {
      let q = db.selectFrom("proxy_routes").selectAll().where("org_id", "=", orgId);
      if (opts.app) q = q.where("target_app", "=", opts.app);
      if (opts.before) q = q.where("id", "<", opts.before);
      if (opts.search) {
        const s = opts.search.toLowerCase();
        q = q.where(
          "id",
          "in",
          (sub) =>
            sub.selectFrom("proxy_domains").select("route_id").where("org_id", "=", orgId)
              .where("hostname", "like", `%${s.replace(/[%_\\]/g, "")}%`),
        );
      }
      const rows = await q.orderBy("id", "desc").limit(Math.min(opts.limit ?? 50, MAX_PAGE))
        .execute();
      return rows.map(routeOf);
    },

    /** Every route of the install (the proxy renders them all). */
    async all(): Promise<Route[]> {
      return (await db.selectFrom("proxy_routes").selectAll().orderBy("id").execute()).map(routeOf);
    },

    /** The hostnames of these routes with their state. */
    /** Which route owns a hostname, if any (a check before a claim; the claim decides). */
    async domainOwner(hostname: string): Promise<HostnameOwner | undefined> {
      return await db.selectFrom("proxy_domains").select(["hostname", "route_id", "org_id"])
        .where("hostname", "=", hostname).executeTakeFirst();
    },

    async domains(routeIds: string[]): Promise<Domain[]> {
      if (!routeIds.length) return [];
      const rows = await db.selectFrom("proxy_domains").selectAll()
        .where("route_id", "in", routeIds).orderBy("hostname").execute();
      return rows.map(domainOf);
    },

    /** Every hostname of the install. */
    async allDomains(): Promise<Domain[]> {
      return (await db.selectFrom("proxy_domains").selectAll().orderBy("hostname").execute())
        .map(domainOf);
    },

    async setDns(hostname: string, status: DnsStatus, detail: string | null): Promise<void> {
      await db.updateTable("proxy_domains").set({
        dns_status: status,
        dns_detail: detail,
        dns_checked_at: clock.now(),
      }).where("hostname", "=", hostname).execute();
    },

    async setTls(
      hostname: string,
      state: TlsState,
      detail: string | null,
      cert?: { issuer: string | null; not_after: number | null },
    ): Promise<void> {
      await db.updateTable("proxy_domains").set({
        tls_state: state,
        tls_detail: detail,
        ...(cert ? { cert_issuer: cert.issuer, cert_not_after: cert.not_after } : {}),
      }).where("hostname", "=", hostname).execute();
    },

    /** Records the outcome of a load at the proxy on these routes. */
    async setApplied(routeIds: string[], error: string | null): Promise<void> {
      if (!routeIds.length) return;
      const now = clock.now();
      await db.updateTable("proxy_routes").set(
        error === null
          ? { status: "active", last_error: null, applied_at: now }
          : { status: "error", last_error: error.slice(0, 2000) },
      ).where("id", "in", routeIds).execute();
    },

    async settings(): Promise<ProxySettings> {
      const r = await db.selectFrom("proxy_settings").selectAll().where("id", "=", "install")
        .executeTakeFirst();
      if (!r) return DEFAULT_SETTINGS;
      const { id: _id, ingress, ...rest } = r;
      return {
        ...rest,
        ingress: ingress ? JSON.parse(ingress) : DEFAULT_SETTINGS.ingress,
        updated_at: Number(rest.updated_at),
      };
    },

    async saveSettings(s: Omit<ProxySettings, "updated_at">): Promise<ProxySettings> {
      const now = clock.now();
      const values = { ...s, ingress: JSON.stringify(s.ingress), updated_at: now };
      await db.insertInto("proxy_settings").values({ id: "install", ...values })
        .onConflict((oc) => oc.column("id").doUpdateSet(values)).execute();
      return { ...s, updated_at: now };
    },

    /** Hostnames whose DNS check is due: not verified yet, or verified longer ago than `staleMs`. */
    async domainsToCheck(staleMs: number, limit: number): Promise<Domain[]> {
      const before = clock.now() - staleMs;
      const rows = await db.selectFrom("proxy_domains").selectAll()
        .where((eb) =>
          eb.or([
            eb("dns_status", "!=", "verified"),
            eb("dns_checked_at", "is", null),
            eb("dns_checked_at", "<", before),
          ])
        )
        .orderBy("dns_checked_at").limit(limit).execute();
      return rows.map(domainOf);
    },
  };
}

export type ProxyStore = ReturnType<typeof createProxyStore>;
