/**
 * What the route pages share: the route a path names, the links between them, the flash messages
 * after an action, and the words and colours of a route's and its hostnames' states.
 */
import type { AppContext } from "../../../../lib/http/context.ts";
import { orgScopeOf } from "../../../../lib/http/context.ts";
import type { Domain, Route } from "../../../../lib/proxy/store.ts";
import type { StoredRouteSpec } from "../../../../lib/proxy/spec.ts";
import { Alert } from "../../../../components/Alert.tsx";
import { Badge } from "../../../../components/Badge.tsx";

export { ActionError, actionError, mayOperate } from "../apps/_app.tsx";

/** `/o/<slug>/routes`. */
export function routesBase(c: AppContext): string {
  return `/o/${encodeURIComponent(orgScopeOf(c).org.slug)}/routes`;
}

/** `/o/<slug>/routes/<id>`. */
export function routeHref(c: AppContext, route: Pick<Route, "id">): string {
  return `${routesBase(c)}/${encodeURIComponent(route.id)}`;
}

/** The route the `:id` parameter names in the caller's organization, or 404. */
export async function routeOf(c: AppContext): Promise<Route> {
  return await c.var.services.proxy.store.get(orgScopeOf(c).org.id, c.req.param("id") ?? "");
}

/** Messages `?done=` may show on the route pages; anything else is ignored, never echoed. */
const DONE: Record<string, string> = {
  created: "Route created.",
  saved: "Route saved.",
  checked: "DNS checked and certificates read.",
  deleted: "Route deleted. Its hostnames are free again.",
};

/** The flash message of the request's `?done=`, if it is one of ours. */
export function RouteFlash({ c }: { c: AppContext }) {
  const key = c.req.query("done");
  return key && Object.hasOwn(DONE, key) ? <Alert kind="ok">{DONE[key]}</Alert> : null;
}

/** Where a route sends requests, in words: `shop · web:80` or the URL. */
export function targetText(spec: StoredRouteSpec): string {
  const t = spec.target;
  if (t.kind === "app") return `${t.app} · ${t.service}:${t.port}`;
  if (t.kind === "url") return t.url;
  return `container ${t.container}:${t.port}`;
}

/** The target, linking to the app when it is one. */
export function Target({ c, spec }: { c: AppContext; spec: StoredRouteSpec }) {
  const t = spec.target;
  if (t.kind !== "app") return <code>{targetText(spec)}</code>;
  const href = `/o/${encodeURIComponent(orgScopeOf(c).org.slug)}/apps/${encodeURIComponent(t.app)}`;
  return (
    <span>
      <a href={href}>{t.app}</a> <span class="muted">·</span> <code>{t.service}:{t.port}</code>
    </span>
  );
}

/** The route's state at the proxy; an error carries the proxy's words. */
export function RouteStatus({ route }: { route: Route }) {
  const tone = route.status === "active" ? "ok" : route.status === "error" ? "error" : "warn";
  return (
    <span data-route-status={route.status}>
      <Badge tone={tone}>{route.status}</Badge>
      {route.status === "error" && route.last_error && (
        <span class="small route-error">{route.last_error}</span>
      )}
    </span>
  );
}

const DNS_WORDS: Record<Domain["dns_status"], [string, "ok" | "warn" | "error" | "neutral"]> = {
  unchecked: ["not checked", "neutral"],
  pending: ["DNS pending", "warn"],
  verified: ["DNS verified", "ok"],
  wrong_target: ["DNS points elsewhere", "error"],
};

const TLS_WORDS: Record<Domain["tls_state"], [string, "ok" | "warn" | "error" | "neutral"]> = {
  internal: ["internal CA", "neutral"],
  pending_dns: ["certificate waits for DNS", "warn"],
  issuing: ["certificate issuing", "warn"],
  active: ["certificate active", "ok"],
  expiring: ["certificate expiring", "warn"],
  failed: ["certificate failed", "error"],
};

/** A hostname's DNS check as a badge. */
export function DnsBadge({ domain }: { domain: Domain }) {
  const [words, tone] = DNS_WORDS[domain.dns_status];
  return (
    <span data-dns={domain.dns_status}>
      <Badge tone={tone}>{words}</Badge>
    </span>
  );
}

/** A hostname's certificate state as a badge. */
export function TlsBadge({ domain }: { domain: Domain }) {
  const [words, tone] = TLS_WORDS[domain.tls_state];
  return (
    <span data-tls={domain.tls_state}>
      <Badge tone={tone}>{words}</Badge>
    </span>
  );
}

/** Whether the ingress serves a certificate for the hostname (so `https://` links work). */
export function servesCertificate(d: Domain | undefined): boolean {
  return Boolean(
    d && (d.cert_issuer || ["internal", "active", "expiring"].includes(d.tls_state)),
  );
}
