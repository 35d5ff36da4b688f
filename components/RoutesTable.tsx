import type { ComponentChildren } from "preact";
import type { Domain, Route } from "../lib/proxy/store.ts";
import { formatTime } from "./Time.tsx";

/** One route of the list with its hostnames' state and how its cells render. */
export interface RouteRow {
  route: Route;
  domains: Domain[];
  href: string;
  target: ComponentChildren;
  status: ComponentChildren;
  /** A hostname's DNS and certificate badges. */
  badges: (d: Domain) => ComponentChildren;
}

/**
 * The organization's routes: hostnames linking to the route, the target, the state at the proxy,
 * and per hostname its DNS and certificate state. One card per route on phones.
 */
export function RoutesTable({ rows }: { rows: RouteRow[] }) {
  return (
    <div class="table-wrap">
      <table class="routes-table table-cards">
        <thead>
          <tr>
            <th scope="col">Hostnames</th>
            <th scope="col">Target</th>
            <th scope="col">Status</th>
            <th scope="col">DNS and certificates</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ route, domains, href, target, status, badges }) => (
            <tr key={route.id} data-route-row={route.spec.hostnames[0]}>
              <td class="card-title">
                {route.spec.hostnames.map((h) => (
                  <div key={h}>
                    <a href={href}>{h}</a>
                  </div>
                ))}
                {route.spec.path_prefix && (
                  <div class="muted small">
                    path <code>{route.spec.path_prefix}</code>
                  </div>
                )}
              </td>
              <td data-label="Target">{target}</td>
              <td data-label="Status">{status}</td>
              <td data-label="DNS and certificates">
                <ul class="domain-states">
                  {domains.map((d) => (
                    <li key={d.hostname}>
                      {/* One hostname needs no name; several are told apart by it. */}
                      <span class={domains.length > 1 ? "small" : "visually-hidden"}>
                        {d.hostname}:
                      </span>{" "}
                      {badges(d)}
                      {d.cert_issuer && (
                        <span class="muted small">
                          {" "}
                          {d.cert_issuer}, until{" "}
                          {d.cert_not_after ? formatTime(d.cert_not_after).slice(0, 10) : "?"}
                        </span>
                      )}
                    </li>
                  ))}
                </ul>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
