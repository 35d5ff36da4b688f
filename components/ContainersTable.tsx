import type { CachedContainer } from "../lib/hosts/container_list.ts";
import { StateBadge } from "./ContainerDetails.tsx";
import { Time } from "./Time.tsx";

/** `0.0.0.0:8080→80/tcp`, or `80/tcp` when not published. */
export function portText(p: CachedContainer["ports"][number]): string {
  const inside = `${p.private_port}/${p.type}`;
  return p.public_port ? `${p.ip || "0.0.0.0"}:${p.public_port}→${inside}` : inside;
}

/** Distinct ports of a container (the engine lists IPv4 and IPv6 bindings separately). */
function ports(c: CachedContainer): string[] {
  return [...new Set(c.ports.map(portText).map((t) => t.replace(/^:::?|^\[::\]:/, "0.0.0.0:")))];
}

interface Props {
  containers: CachedContainer[];
  /** `/o/<slug>`. */
  base: string;
  /** Online state per host id; actions are only offered where the agent is connected. */
  online: Record<string, boolean>;
  /** Members may start, stop, restart, kill and remove. */
  operate: boolean;
  /** The list page with its filters, to come back to after an action. */
  back: string;
}

/**
 * Containers across hosts. Each state badge carries the container id so the live island can
 * update it in place; actions are plain POST forms (kill and remove go through a confirmation
 * page), so everything works without JS.
 */
export function ContainersTable({ containers, base, online, operate, back }: Props) {
  return (
    <div class="table-wrap">
      <table class="containers-table sticky-actions">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Host</th>
            <th scope="col">Image</th>
            <th scope="col">State</th>
            <th scope="col">Ports</th>
            <th scope="col">Created</th>
            {operate && (
              <th scope="col" class="actions-col">
                <span class="visually-hidden">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {containers.map((c) => {
            const path = `${base}/containers/${encodeURIComponent(c.host_id)}/${c.id}`;
            const running = c.state === "running" || c.state === "restarting";
            const live = online[c.host_id] === true;
            const p = ports(c);
            return (
              <tr key={`${c.host_id}/${c.id}`} data-container-row={c.id}>
                <td class="cell-container">
                  <a href={path}>{c.name || c.id.slice(0, 12)}</a>
                </td>
                <td class="nowrap">
                  {c.host_name}
                  {!live && <span class="muted small">(offline)</span>}
                </td>
                <td class="cell-image">
                  <code>{c.image}</code>
                </td>
                <td class="cell-state">
                  <span data-container-state={c.id}>
                    <StateBadge state={c.state} />
                  </span>
                  <div class="small muted" data-container-status={c.id}>{c.status}</div>
                </td>
                <td class="cell-ports">
                  {p.length ? p.map((t) => <code key={t}>{t}</code>) : <span class="muted">—</span>}
                </td>
                <td class="nowrap">
                  <Time ms={c.created} />
                </td>
                {operate && (
                  <td class="actions-cell">
                    {live && (
                      <div class="row-actions">
                        {running
                          ? (
                            <>
                              <ActionForm path={path} action="stop" back={back} name={c.name} />
                              <ActionForm path={path} action="restart" back={back} name={c.name} />
                              <a class="btn btn-small" href={`${path}/kill`}>
                                Kill<span class="visually-hidden">{c.name}</span>
                              </a>
                            </>
                          )
                          : <ActionForm path={path} action="start" back={back} name={c.name} />}
                        <a class="btn btn-small btn-danger-ghost" href={`${path}/remove`}>
                          Remove<span class="visually-hidden">{c.name}</span>
                        </a>
                      </div>
                    )}
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

/** One lifecycle button as a POST form that returns to `back`. */
function ActionForm(
  { path, action, back, name }: { path: string; action: string; back: string; name: string },
) {
  return (
    <form method="post" action={`${path}/${action}`}>
      <input type="hidden" name="next" value={back} />
      <button class={`btn btn-small${action === "start" ? " btn-primary" : ""}`} type="submit">
        {action[0].toUpperCase() + action.slice(1)}
        <span class="visually-hidden">{name}</span>
      </button>
    </form>
  );
}
