/**
 * The life of a route's hostnames after they are claimed: their DNS check (does the name point at
 * the ingress?) and their certificate (what does the ingress serve for it?). A hostname that gets
 * its certificate from an ACME CA moves `pending_dns → issuing → active → expiring`, or `failed`
 * with what went wrong; it is handed to ACME only once its DNS check passes, so a certificate
 * order never fails on DNS the user has not set up. Certificates are read the way a client sees
 * them: a TLS handshake with the ingress naming the hostname.
 */
import * as tls from "node:tls";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../log.ts";
import { checkDomain, type DnsResolver, type DomainCheckOptions } from "./dns_check.ts";
import type { Domain, ProxyStore, Route } from "./store.ts";
import type { TlsState } from "./tables.ts";
import type { CertificateChange } from "./events.ts";

/** Certificates expiring sooner than this are `expiring` (and alert). */
export const EXPIRY_WARNING_MS = 14 * 24 * 3600_000;
/** An ACME hostname with no certificate this long after its DNS passed is `failed`. */
const ISSUE_TIMEOUT_MS = 15 * 60_000;
/** How often a verified hostname's DNS is checked again. */
const RECHECK_MS = 6 * 3600_000;

/** What a handshake with the ingress showed for a hostname. */
export interface ServedCertificate {
  issuer: string;
  not_after: number;
}

/** Reads the certificate the ingress at `host:port` serves for `servername`; null when none. */
export function readServedCertificate(
  host: string,
  port: number,
  servername: string,
  timeoutMs = 5000,
): Promise<ServedCertificate | null> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host, port, servername, rejectUnauthorized: false });
    const done = (v: ServedCertificate | null) => {
      socket.destroy();
      resolve(v);
    };
    socket.setTimeout(timeoutMs, () => done(null));
    socket.on("error", () => done(null));
    socket.on("secureConnect", () => {
      const cert = socket.getPeerCertificate();
      if (!cert || !cert.valid_to) return done(null);
      const issuer = [cert.issuer?.O, cert.issuer?.CN].filter(Boolean).join(" · ");
      done({ issuer: issuer || "unknown issuer", not_after: Date.parse(cert.valid_to) });
    });
  });
}

export interface DomainsDeps {
  store: ProxyStore;
  resolver: DnsResolver;
  clock: Clock;
  log: Logger;
  /** Where the ingress serves HTTPS, for certificate reads (null: none configured). */
  ingressTls: { host: string; port: number } | null;
  /** The ingress should render again (a hostname's DNS passed or failed: ACME on or off). */
  changed(): Promise<unknown>;
  /** A hostname's certificate changed state (alerts listen). */
  certificate?(change: CertificateChange): void;
  dnsOptions?: DomainCheckOptions;
}

/** The certificate state a hostname should be in, from its route, DNS and what is served. */
export function nextTlsState(
  d: Domain,
  internal: boolean,
  served: ServedCertificate | null,
  now: number,
): { state: TlsState; detail: string | null } {
  if (internal) return { state: "internal", detail: null };
  if (d.dns_status !== "verified") {
    return { state: "pending_dns", detail: "waiting for the DNS records to point here" };
  }
  // Caddy's internal CA stands in while ACME has not issued: that is not the real certificate.
  if (served && !/Caddy Local Authority/i.test(served.issuer)) {
    if (served.not_after < now) return { state: "failed", detail: "the certificate has expired" };
    if (served.not_after - now < EXPIRY_WARNING_MS) {
      return { state: "expiring", detail: `expires ${new Date(served.not_after).toISOString()}` };
    }
    return { state: "active", detail: null };
  }
  const since = d.dns_checked_at ?? now;
  if (d.tls_state === "issuing" && now - since > ISSUE_TIMEOUT_MS) {
    return {
      state: "failed",
      detail: "no certificate from the CA after 15 minutes; see the ingress's log",
    };
  }
  return { state: d.tls_state === "failed" ? "failed" : "issuing", detail: d.tls_detail };
}

/** Creates the domains' checker. */
export function createDomains(deps: DomainsDeps) {
  const { store } = deps;

  /** Checks and stores one hostname's DNS; returns whether its verified-ness changed. */
  async function checkOne(d: Domain): Promise<boolean> {
    const settings = await store.settings();
    const ingress = settings.ingress;
    if (!ingress.ipv4.length && !ingress.ipv6.length && !ingress.cname) {
      await store.setDns(
        d.hostname,
        "pending",
        "the ingress addresses are not set (Settings → Proxy)",
      );
      return d.dns_status === "verified";
    }
    const r = await checkDomain(d.hostname, ingress, deps.resolver, deps.dnsOptions);
    await store.setDns(d.hostname, r.status, r.detail);
    return (d.dns_status === "verified") !== (r.status === "verified");
  }

  /** Reads what the ingress serves for each hostname and moves its certificate state. */
  async function probe(routes: Route[], domains: Domain[]): Promise<void> {
    const byId = new Map(routes.map((r) => [r.id, r]));
    const settings = await store.settings();
    const now = deps.clock.now();
    for (const d of domains) {
      const route = byId.get(d.route_id);
      if (!route) continue;
      const internal = (route.spec.tls ?? settings.default_tls) === "internal";
      const served = deps.ingressTls && !d.hostname.startsWith("*.")
        ? await readServedCertificate(deps.ingressTls.host, deps.ingressTls.port, d.hostname)
        : null;
      const next = nextTlsState(d, internal, served, now);
      if (next.state !== d.tls_state) {
        deps.certificate?.({
          org_id: d.org_id,
          route_id: d.route_id,
          hostname: d.hostname,
          state: next.state,
          detail: next.detail,
          not_after: served?.not_after ?? null,
        });
      }
      await store.setTls(
        d.hostname,
        next.state,
        next.detail,
        served ? { issuer: served.issuer, not_after: served.not_after } : undefined,
      );
    }
  }

  return {
    /** Checks a route's hostnames now (the "Check DNS" button), then reads their certificates. */
    async checkRoute(route: Route): Promise<Domain[]> {
      let changed = false;
      for (const d of await store.domains([route.id])) changed = (await checkOne(d)) || changed;
      if (changed) await deps.changed();
      await probe([route], await store.domains([route.id]));
      return await store.domains([route.id]);
    },

    /** The periodic pass: due DNS checks (bounded), then every hostname's certificate. */
    async pass(limit = 50): Promise<{ checked: number; changed: number }> {
      let changed = 0;
      const due = await store.domainsToCheck(RECHECK_MS, limit);
      for (const d of due) {
        try {
          if (await checkOne(d)) changed++;
        } catch (e) {
          deps.log.warn("proxy: DNS check failed", { hostname: d.hostname, error: String(e) });
        }
      }
      if (changed) await deps.changed();
      await probe(await store.all(), await store.allDomains());
      return { checked: due.length, changed };
    },
  };
}

export type Domains = ReturnType<typeof createDomains>;
