import type { NetworkView } from "../lib/hosts/docker_views.ts";
import { Badge } from "./Badge.tsx";
import { Time } from "./Time.tsx";

/** Names of the containers using a network or volume, the first few and a count of the rest. */
export function UsedBy({ users }: { users: { name: string; state: string }[] }) {
  if (users.length === 0) return <span class="muted">none</span>;
  const shown = users.slice(0, 3);
  return (
    <span class="used-by">
      {shown.map((u) => (
        <code key={u.name} title={u.state}>
          {u.name}
        </code>
      ))}
      {users.length > shown.length && <span class="muted">+{users.length - shown.length}</span>}
    </span>
  );
}

/** A host's networks; system networks are marked protected and never offer removal. */
export function NetworksTable(
  { networks, removeHref }: { networks: NetworkView[]; removeHref?: (id: string) => string },
) {
  return (
    <div class="table-wrap">
      <table class="table-cards sticky-actions">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Driver</th>
            <th scope="col">Scope</th>
            <th scope="col">Subnet</th>
            <th scope="col">Gateway</th>
            <th scope="col">Containers</th>
            <th scope="col">Created</th>
            {removeHref && (
              <th scope="col" class="actions-col">
                <span class="visually-hidden">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {networks.map((n) => (
            <tr key={n.id}>
              <td class="cell-container card-title">
                {n.name}
                {n.internal && <span class="muted small">(internal)</span>}
              </td>
              <td data-label="Driver">{n.driver}</td>
              <td data-label="Scope">{n.scope}</td>
              <td data-label="Subnet" class="nowrap">
                {n.subnet ? <code>{n.subnet}</code> : <span class="muted">—</span>}
              </td>
              <td data-label="Gateway" class="nowrap">
                {n.gateway ? <code>{n.gateway}</code> : <span class="muted">—</span>}
              </td>
              <td data-label="Containers">
                <UsedBy users={n.containers} />
              </td>
              <td data-label="Created" class="nowrap">
                <Time ms={n.created} />
              </td>
              {removeHref && (
                <td class="actions-cell">
                  {n.protected
                    ? <Badge>protected</Badge>
                    : (
                      <a class="btn btn-small btn-danger-ghost" href={removeHref(n.name)}>
                        Remove<span class="visually-hidden">{n.name}</span>
                      </a>
                    )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
