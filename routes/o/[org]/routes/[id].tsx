import type { Hono } from "hono";
import type { AppContext, AppEnv } from "../../../../lib/http/context.ts";
import { orgScopeOf, principalOf } from "../../../../lib/http/context.ts";
import { page } from "../../../../lib/http/pages.ts";
import type { Domain, Route } from "../../../../lib/proxy/store.ts";
import { wwwPartner } from "../../../../lib/proxy/spec.ts";
import { dnsRecordsOrNone, type IngressTarget } from "../../../../lib/proxy/dns_check.ts";
import { PageHeader } from "../../../../components/PageHeader.tsx";
import { Alert } from "../../../../components/Alert.tsx";
import { Time } from "../../../../components/Time.tsx";
import { render } from "../../../_render.tsx";
import {
  DnsBadge,
  mayOperate,
  RouteFlash,
  routeHref,
  routeOf,
  routesBase,
  RouteStatus,
  servesCertificate,
  Target,
  TlsBadge,
} from "./_route.tsx";

/** What the route does, one sentence per option it sets. */
function Behaviour({ c, route }: { c: AppContext; route: Route }) {
  const s = route.spec;
  const prefix = s.path_prefix && s.path_prefix !== "/" ? s.path_prefix : null;
  const partners = s.hostnames.map((h) => wwwPartner(h, s.www)).filter(Boolean);
  const tls = s.tls === "internal"
    ? "Certificates come from the ingress's internal CA (browsers do not trust it by default)."
    : s.tls === "acme"
    ? "Certificates come from the ACME CA once each hostname's DNS points at the ingress."
    : "Certificates follow the install's default (Settings → Proxy).";
  return (
    <section class="card" aria-labelledby="does-title">
      <h2 id="does-title">What it does</h2>
      <ul class="route-behaviour">
        <li>
          Requests for {s.hostnames.join(", ")}
          {prefix ? " under " : ""}
          {prefix && <code>{prefix}</code>} go to <Target c={c} spec={s} />
          {prefix && s.strip_prefix ? ", with the prefix stripped" : ""}.
        </li>
        <li>{tls}</li>
        <li>
          {s.https_redirect
            ? "Plain HTTP is redirected to HTTPS."
            : "Plain HTTP is served as it is, not redirected."}
        </li>
        {partners.length > 0 && <li>{partners.join(", ")} redirect to the hostnames above.</li>}
        {s.basic_auth && <li>Visitors sign in with basic auth as {s.basic_auth.username}.</li>}
        {s.ip_allow?.length
          ? <li>Only {s.ip_allow.join(", ")} may connect; others get 403.</li>
          : null}
        {s.rate_limit && (
          <li>
            Rate limit: {s.rate_limit.per_second} requests per second, bursts of{" "}
            {s.rate_limit.burst} (applied by Traefik; Caddy's standard build has no rate limiter).
          </li>
        )}
        {s.max_body_bytes && (
          <li>Request bodies over {Math.ceil(s.max_body_bytes / 2 ** 20)} MiB get 413.</li>
        )}
        {Object.keys(s.request_headers).length > 0 && (
          <li>Sets request headers {Object.keys(s.request_headers).join(", ")}.</li>
        )}
        {Object.keys(s.response_headers).length > 0 && (
          <li>Sets response headers {Object.keys(s.response_headers).join(", ")}.</li>
        )}
        {s.maintenance && <li>In maintenance: every request gets a 503 maintenance page.</li>}
      </ul>
    </section>
  );
}

/** A hostname: its DNS records to create, its DNS check and its certificate. */
function HostnameCard(
  { domain, ingress, settingsHref }: {
    domain: Domain;
    ingress: IngressTarget;
    settingsHref?: string;
  },
) {
  const records = dnsRecordsOrNone(domain.hostname, ingress);
  const scheme = servesCertificate(domain) ? "https" : "http";
  const link = domain.hostname.startsWith("*.") ? null : `${scheme}://${domain.hostname}`;
  return (
    <section class="card hostname-card" data-hostname={domain.hostname}>
      <h3>{link ? <a href={link}>{domain.hostname}</a> : domain.hostname}</h3>
      <dl class="props">
        <dt>DNS</dt>
        <dd>
          <DnsBadge domain={domain} /> {domain.dns_detail && <span>{domain.dns_detail}</span>}
          <div class="muted small">
            {domain.dns_checked_at
              ? (
                <>
                  Checked <Time ms={domain.dns_checked_at} />
                </>
              )
              : "Not checked yet"}
          </div>
        </dd>
        <dt>Certificate</dt>
        <dd data-cert>
          <TlsBadge domain={domain} /> {domain.tls_detail && <span>{domain.tls_detail}</span>}
          {domain.cert_issuer && (
            <div class="small">
              Issued by <span data-cert-issuer>{domain.cert_issuer}</span>, expires{" "}
              <Time ms={domain.cert_not_after} />
            </div>
          )}
        </dd>
      </dl>
      <h4>DNS records to create</h4>
      {records.length
        ? (
          <div class="table-wrap">
            <table class="dns-records">
              <thead>
                <tr>
                  <th scope="col">Type</th>
                  <th scope="col">Name</th>
                  <th scope="col">Value</th>
                </tr>
              </thead>
              <tbody>
                {records.map((r) => (
                  <tr key={`${r.type} ${r.value}`}>
                    <td>{r.type}</td>
                    <td>
                      <code>{r.name}</code>
                    </td>
                    <td>
                      <code>{r.value}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
        : (
          <p class="muted">
            The ingress's public addresses are not set yet, so there is nothing to point at
            {settingsHref
              ? (
                <>
                  : <a href={settingsHref}>Settings → Proxy</a>
                </>
              )
              : "; a platform admin sets them in Settings → Proxy"}.
          </p>
        )}
    </section>
  );
}

/** `GET /o/:org/routes/:id`: a route, its hostnames' DNS and certificates (viewers). */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", "/o/:org/routes/:id", "org:viewer", async (c) => {
    const route = await routeOf(c);
    const { store } = c.var.services.proxy;
    const [domains, settings] = await Promise.all([store.domains([route.id]), store.settings()]);
    const self = routeHref(c, route);
    const operate = mayOperate(c);
    const settingsHref = principalOf(c).isAdmin
      ? `/o/${encodeURIComponent(orgScopeOf(c).org.slug)}/settings/proxy`
      : undefined;
    return render(
      c,
      <>
        <nav class="crumbs" aria-label="Breadcrumb">
          <a href={routesBase(c)}>Routes</a>
        </nav>
        <PageHeader title={route.spec.hostnames[0]} sub={<RouteStatus route={route} />}>
          {operate && (
            <>
              <form method="post" action={`${self}/check-dns`} class="inline-action">
                <button class="btn btn-primary" type="submit">Check DNS now</button>
              </form>
              <a class="btn" href={`${self}/edit`}>Edit</a>
              <a class="btn btn-danger-ghost" href={`${self}/delete`}>Delete…</a>
            </>
          )}
        </PageHeader>
        <RouteFlash c={c} />
        {route.status === "error" && (
          <Alert kind="error">
            The proxy did not take this route's last change; the previous configuration keeps
            serving. Its words: {route.last_error ?? "none"}
          </Alert>
        )}
        {route.status === "pending" && (
          <Alert kind="info">The proxy has not loaded this route yet.</Alert>
        )}
        <Behaviour c={c} route={route} />
        <h2 class="section-title">Hostnames</h2>
        <div class="hostname-cards">
          {domains.map((d) => (
            <HostnameCard
              key={d.hostname}
              domain={d}
              ingress={settings.ingress}
              settingsHref={settingsHref}
            />
          ))}
        </div>
        <p class="muted small">
          Loaded <Time ms={route.applied_at} /> · changed <Time ms={route.updated_at} />
        </p>
      </>,
      { title: `${route.spec.hostnames[0]} · Routes`, active: "routes" },
    );
  });
}
