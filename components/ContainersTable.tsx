import { Fragment } from "preact";
import type { CachedContainer } from "../lib/hosts/container_list.ts";
import { StateBadge } from "./ContainerDetails.tsx";
import { Time } from "./Time.tsx";
import { SyncBadge } from "./SyncBadge.tsx";
import type { SyncState } from "../lib/snapshots/volume_cards.ts";

/** `0.0.0.0:8080→80/tcp`, or `80/tcp` when not published. */
export function portText(p: CachedContainer["ports"][number]): string {
  const inside = `${p.private_port}/${p.type}`;
  return p.public_port ? `${p.ip || "0.0.0.0"}:${p.public_port}→${inside}` : inside;
}

/** Distinct ports of a container (the engine lists IPv4 and IPv6 bindings separately). */
function ports(c: CachedContainer): string[] {
  return [...new Set(c.ports.map(portText).map((t) => t.replace(/^:::?|^\[::\]:/, "0.0.0.0:")))];
}

/** An image reference that may wrap after "/" and before ":" (never inside a word). */
function ImageRef({ image }: { image: string }) {
  const parts = image.split(/(?<=\/)|(?=:)/);
  return (
    <code>
      {parts.map((p, i) => (
        <Fragment key={i}>
          {i > 0 && <wbr />}
          {p}
        </Fragment>
      ))}
    </code>
  );
}

/** A port for the list: "all addresses" is the usual case, so only another address is spelled out. */
function shortPort(text: string): { short: string; full: string } {
  return { short: text.replace(/^0\.0\.0\.0:/, ""), full: text };
}

/** The actions posted straight from the list; kill and remove have confirmation pages. */
const LIFECYCLE = ["start", "stop", "restart"] as const;

interface Props {
  containers: CachedContainer[];
  /** `/o/<slug>`. */
  base: string;
  /** `/api/v1/orgs/<slug>`: the live island posts actions there, so the page can show progress. */
  apiBase: string;
  /** Online state per host id; actions are only offered where the agent is connected. */
  online: Record<string, boolean>;
  /** Members may start, stop, restart, kill and remove. */
  operate: boolean;
  /** The list page with its filters, to come back to after an action. */
  back: string;
  /**
   * The snapshots' sync state of containers whose volumes Capstan snapshots (the worst among
   * them), keyed `<host id>/<container id>`.
   */
  sync?: ReadonlyMap<string, SyncState>;
}

/**
 * Containers across hosts. Each row carries its state (`data-state`) and each badge the container
 * id, so the live island can update them in place; the stylesheet shows the actions that fit the
 * row's state (start when stopped; stop, restart and kill when running), so a state that changes
 * live changes the buttons too. Actions are plain POST forms (kill and remove go through a
 * confirmation page), so everything works without JS. The table fits a desktop without sideways
 * scrolling and becomes one card per container on phones.
 */
export function ContainersTable(
  { containers, base, apiBase, online, operate, back, sync }: Props,
) {
  return (
    <div class="table-wrap">
      <table class="containers-table table-cards">
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
            const api = `${apiBase}/hosts/${encodeURIComponent(c.host_id)}/containers/${c.id}`;
            const live = online[c.host_id] === true;
            const p = ports(c).map(shortPort);
            const synced = sync?.get(`${c.host_id}/${c.id}`);
            return (
              <tr key={`${c.host_id}/${c.id}`} data-container-row={c.id} data-state={c.state}>
                <td class="cell-container card-title">
                  <a href={path}>{c.name || c.id.slice(0, 12)}</a>
                  {synced && (
                    <span class="container-sync" title="Snapshots of its volumes">
                      <SyncBadge state={synced} />
                    </span>
                  )}
                </td>
                <td class="nowrap" data-label="Host">
                  {c.host_name}
                  {!live && <span class="muted small">(offline)</span>}
                </td>
                <td class="cell-image" data-label="Image">
                  <ImageRef image={c.image} />
                </td>
                <td class="cell-state" data-label="State">
                  <span data-container-state={c.id}>
                    <StateBadge state={c.state} />
                  </span>
                  <div class="small muted" data-container-status={c.id}>{c.status}</div>
                </td>
                <td class="cell-ports" data-label="Ports">
                  {p.length
                    ? p.map((t) => <code key={t.full} title={t.full}>{t.short}</code>)
                    : <span class="muted">—</span>}
                </td>
                <td class="cell-created" data-label="Created">
                  <Time ms={c.created} />
                </td>
                {operate && (
                  <td class="actions-cell">
                    {live && (
                      <div class="row-actions">
                        {LIFECYCLE.map((action) => (
                          <ActionForm
                            key={action}
                            path={path}
                            api={api}
                            action={action}
                            back={back}
                            name={c.name}
                          />
                        ))}
                        <a class="btn btn-small when-running" href={`${path}/kill`}>
                          Kill<span class="visually-hidden">{c.name}</span>
                        </a>
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

/**
 * One lifecycle button as a POST form that returns to `back`. `data-api` is the same action in the
 * API, which the live island calls instead so the row can show progress while the engine works.
 */
function ActionForm(
  { path, api, action, back, name }: {
    path: string;
    api: string;
    action: (typeof LIFECYCLE)[number];
    back: string;
    name: string;
  },
) {
  return (
    <form method="post" action={`${path}/${action}`}>
      <input type="hidden" name="next" value={back} />
      <button
        class={`btn btn-small ${action === "start" ? "btn-primary when-stopped" : "when-running"}`}
        type="submit"
        data-action={action}
        data-api={`${api}/${action}`}
      >
        {action[0].toUpperCase() + action.slice(1)}
        <span class="visually-hidden">{name}</span>
      </button>
    </form>
  );
}
