import type { App, Deployment } from "../lib/apps/store.ts";
import type { AppUsage } from "../lib/apps/metrics.ts";
import { bytes, pct } from "./format.ts";
import { AppState } from "./AppStatus.tsx";
import { Time } from "./Time.tsx";

/** One app of the list: its latest deployment and, when the cluster answered, its tasks. */
export interface AppRow {
  app: App;
  latest?: Deployment;
  /** Tasks running and desired over all its services; undefined when the cluster is away. */
  replicas?: { running: number; desired: number };
  /** CPU and memory summed over its running containers, as of the page's loading. */
  usage?: AppUsage;
}

/** The quick actions of a row: start when stopped; stop and restart when running. */
function QuickAction(
  { href, action, back, name, primary }: {
    href: string;
    action: "start" | "stop" | "restart";
    back: string;
    name: string;
    primary?: boolean;
  },
) {
  return (
    <form method="post" action={`${href}/${action}`}>
      <input type="hidden" name="next" value={back} />
      <button class={`btn btn-small${primary ? " btn-primary" : ""}`} type="submit">
        {action[0].toUpperCase() + action.slice(1)}
        <span class="visually-hidden">{name}</span>
      </button>
    </form>
  );
}

/**
 * The organization's apps: state, tasks running of desired, CPU and memory now, image, last
 * deployment, and the quick actions as plain POST forms (they work without JS). One card per app
 * on phones.
 */
export function AppsTable(
  { rows, base, operate, back }: {
    rows: AppRow[];
    /** `/o/<slug>/apps`. */
    base: string;
    operate: boolean;
    /** The list with its search and page, to come back to after a quick action. */
    back: string;
  },
) {
  return (
    <div class="table-wrap">
      <table class="apps-table table-cards">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Status</th>
            <th scope="col" class="num">Replicas</th>
            <th scope="col" class="num">CPU · Memory</th>
            <th scope="col">Image</th>
            <th scope="col">Last deploy</th>
            {operate && (
              <th scope="col" class="actions-col">
                <span class="visually-hidden">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {rows.map(({ app, latest, replicas, usage }) => {
            const href = `${base}/${encodeURIComponent(app.name)}`;
            const [first, ...more] = app.spec.services;
            const short = replicas && replicas.running < replicas.desired;
            return (
              <tr key={app.id} data-app-row={app.name}>
                <td class="card-title">
                  <a href={href}>{app.name}</a>
                  {app.spec.services.length > 1 && (
                    <div class="muted small">{app.spec.services.length} services</div>
                  )}
                </td>
                <td data-label="Status">
                  <AppState app={app} latest={latest} />
                </td>
                <td class="num nowrap" data-label="Replicas">
                  {replicas
                    ? (
                      <span class={short ? "warn-text" : undefined}>
                        {replicas.running}/{replicas.desired}
                      </span>
                    )
                    : <span class="muted" title="The cluster did not answer">—</span>}
                </td>
                <td class="num nowrap" data-label="CPU · Memory" data-usage={app.name}>
                  {usage?.cpu_pct != null || usage?.mem_used_bytes != null
                    ? <>{pct(usage.cpu_pct)} · {bytes(usage.mem_used_bytes)}</>
                    : <span class="muted" title="No figures in the last minute">—</span>}
                </td>
                <td class="cell-image" data-label="Image">
                  <div>
                    <code>{first.image}</code>
                    {more.length > 0 && <span class="muted small">+{more.length} more</span>}
                  </div>
                </td>
                <td class="nowrap" data-label="Last deploy">
                  <div>
                    <Time ms={latest?.created_at} />
                    {latest && <div class="muted small">{latest.trigger.kind}</div>}
                  </div>
                </td>
                {operate && (
                  <td class="actions-cell">
                    <div class="row-actions">
                      {app.desired_state === "stopped"
                        ? (
                          <QuickAction
                            href={href}
                            action="start"
                            back={back}
                            name={app.name}
                            primary
                          />
                        )
                        : (
                          <>
                            <QuickAction href={href} action="stop" back={back} name={app.name} />
                            <QuickAction
                              href={href}
                              action="restart"
                              back={back}
                              name={app.name}
                            />
                          </>
                        )}
                    </div>
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
