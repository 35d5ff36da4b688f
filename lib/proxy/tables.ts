/** Table types of the proxy module (its migration: lib/proxy/migration.ts). */

/** Where a domain's DNS check stands. */
export type DnsStatus = "unchecked" | "pending" | "verified" | "wrong_target";
/** Where a domain's certificate stands; `failed` carries the CA's words in `tls_detail`. */
export type TlsState = "internal" | "pending_dns" | "issuing" | "active" | "expiring" | "failed";
/** Where a route stands at the proxy. */
export type RouteStatus = "pending" | "active" | "error";

export interface ProxyRoutesTable {
  id: string;
  org_id: string;
  /** StoredRouteSpec as JSON (the basic-auth password only as its bcrypt hash). */
  spec: string;
  /** The app a route targets, so an app's redeploy finds its routes without parsing specs. */
  target_app: string | null;
  status: RouteStatus;
  /** The proxy's refusal, in its words, when status is `error`. */
  last_error: string | null;
  applied_at: number | null;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

/** One row per hostname in the whole install: a hostname belongs to one route. */
export interface ProxyDomainsTable {
  hostname: string;
  route_id: string;
  org_id: string;
  dns_status: DnsStatus;
  dns_detail: string | null;
  dns_checked_at: number | null;
  tls_state: TlsState;
  tls_detail: string | null;
  cert_issuer: string | null;
  cert_not_after: number | null;
  created_at: number;
}

/** The install's proxy settings (one row, id `install`). */
export interface ProxySettingsTable {
  id: string;
  provider: "caddy" | "traefik";
  /** Apps get `<app>-<org>.<default_domain>` when set. */
  default_domain: string | null;
  /** How routes without their own choice get certificates. */
  default_tls: "acme" | "internal";
  acme_email: string | null;
  acme_ca: string | null;
  traefik_dir: string | null;
  /** Traefik's certificate resolver (its static configuration) for ACME hostnames. */
  traefik_cert_resolver: string | null;
  /** JSON `{ ipv4: string[], ipv6: string[], cname?: string }`: where custom domains must point. */
  ingress: string | null;
  updated_by: string | null;
  updated_at: number;
}

/** The proxy module's tables, merged into the database type by lib/db/schema.ts. */
export interface ProxyTables {
  proxy_routes: ProxyRoutesTable;
  proxy_domains: ProxyDomainsTable;
  proxy_settings: ProxySettingsTable;
}
