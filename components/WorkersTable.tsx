import type { NodeView } from "../lib/apps/cluster.ts";
import { Badge } from "./Badge.tsx";
import { bytes, duration } from "./format.ts";
import type { Heartbeat } from "../lib/agents/heartbeat.ts";

/** What the table needs to offer actions on a node. */
export interface NodeActions {
  href(hostId: string, action: string): string;
  /** Whether the caller may act on this node. */
  allowed(n: NodeView): boolean;
  /** The cluster's manager host: it cannot be demoted or leave. */
  managerHostId: string | null;
  /** The node's host page, when it is a host of this organization. */
  hostHref(n: NodeView): string | null;
}

const STATE_TONE: Record<string, "ok" | "error" | "warn" | "neutral"> = {
  ready: "ok",
  down: "error",
  disconnected: "error",
  unknown: "warn",
};
const AVAILABILITY_TONE: Record<string, "ok" | "warn" | "neutral"> = {
  active: "ok",
  pause: "warn",
  drain: "neutral",
};

/** "0.5 of 2 CPUs" with a bar of how much is reserved. */
function Reserved({ used, total, text }: { used: number; total: number; text: string }) {
  const pct = total > 0 ? Math.min(100, Math.round((used / total) * 100)) : 0;
  return (
    <div class="reserved">
      <span>{text}</span>
      <span class="meter" aria-hidden="true">
        <span class="meter-fill" style={`width:${pct}%`} />
      </span>
    </div>
  );
}

/** How long ago the node's agent answered last; "unhealthy" past the timeout. */
function HeartbeatCell({ beat }: { beat: Heartbeat | undefined }) {
  if (!beat) return <span class="muted">—</span>;
  const age = beat.ageMs === null ? "never" : `${duration(beat.ageMs / 1000)} ago`;
  return (
    <span class="node-heartbeat" data-unhealthy={beat.unhealthy ? "1" : "0"}>
      {beat.unhealthy && <Badge tone="error">unhealthy</Badge>} {age}
    </span>
  );
}

/** A POST button of a node action. */
function Post({ href, label, name, primary }: {
  href: string;
  label: string;
  name: string;
  primary?: boolean;
}) {
  return (
    <form method="post" action={href}>
      <button class={`btn btn-small${primary ? " btn-primary" : ""}`} type="submit">
        {label}
        <span class="visually-hidden">{name}</span>
      </button>
    </form>
  );
}

/** A node's actions: availability, role and leaving; destructive ones go through a confirmation. */
function Actions({ n, a }: { n: NodeView; a: NodeActions }) {
  if (!n.host_id || !a.allowed(n)) return null;
  const id = n.host_id;
  const isManagerHost = id === a.managerHostId;
  return (
    <div class="row-actions">
      {n.availability === "active"
        ? (
          <>
            <Post href={a.href(id, "pause")} label="Pause" name={n.hostname} />
            <a class="btn btn-small" href={a.href(id, "drain")}>
              Drain…<span class="visually-hidden">{n.hostname}</span>
            </a>
          </>
        )
        : <Post href={a.href(id, "active")} label="Activate" name={n.hostname} primary />}
      {n.role === "worker"
        ? <Post href={a.href(id, "promote")} label="Promote" name={n.hostname} />
        : !isManagerHost && (
          <a class="btn btn-small" href={a.href(id, "demote")}>
            Demote…<span class="visually-hidden">{n.hostname}</span>
          </a>
        )}
      {!isManagerHost && (
        <a class="btn btn-small btn-danger-ghost" href={a.href(id, "leave")}>
          Leave…<span class="visually-hidden">{n.hostname}</span>
        </a>
      )}
    </div>
  );
}

/**
 * The cluster's nodes: address and engine, role, state and availability, CPU and memory with what
 * tasks reserve, and the tasks it runs; actions as plain POST forms. One card per node on phones.
 */
export function WorkersTable({ nodes, actions, heartbeats }: {
  nodes: NodeView[];
  actions: NodeActions;
  /** The last heartbeat of each node's agent, by node id (none: no agent the caller may see). */
  heartbeats: Map<string, Heartbeat>;
}) {
  const sorted = [...nodes].sort((a, b) =>
    (a.role === b.role ? 0 : a.role === "manager" ? -1 : 1) || a.hostname.localeCompare(b.hostname)
  );
  return (
    <div class="table-wrap">
      <table class="workers-table table-cards">
        <thead>
          <tr>
            <th scope="col">Node</th>
            <th scope="col">Role</th>
            <th scope="col">State</th>
            <th scope="col">Heartbeat</th>
            <th scope="col">CPU reserved</th>
            <th scope="col">Memory reserved</th>
            <th scope="col" class="num">Tasks</th>
            <th scope="col" class="actions-col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {sorted.map((n) => {
            const host = actions.hostHref(n);
            return (
              <tr key={n.node_id} data-node={n.hostname} data-availability={n.availability}>
                <td class="card-title">
                  {host ? <a href={host}>{n.hostname}</a> : n.hostname}
                  <div class="muted small">
                    <span class="mono">{n.addr}</span> · Docker {n.engine_version}
                  </div>
                </td>
                <td data-label="Role">
                  {n.role}
                  {n.leader && <Badge tone="accent">leader</Badge>}
                  {n.role === "manager" && !n.leader && n.reachability && (
                    <div class="muted small">{n.reachability}</div>
                  )}
                </td>
                <td data-label="State">
                  <span class="node-state">
                    <Badge tone={STATE_TONE[n.state] ?? "neutral"}>{n.state}</Badge>
                    <Badge tone={AVAILABILITY_TONE[n.availability] ?? "neutral"}>
                      {n.availability}
                    </Badge>
                  </span>
                </td>
                <td data-label="Heartbeat">
                  <HeartbeatCell beat={heartbeats.get(n.node_id)} />
                </td>
                <td data-label="CPU reserved">
                  <Reserved
                    used={n.reserved_cpus}
                    total={n.cpus}
                    text={`${Number(n.reserved_cpus.toFixed(2))} of ${Number(n.cpus.toFixed(2))}`}
                  />
                </td>
                <td data-label="Memory reserved">
                  <Reserved
                    used={n.reserved_memory_bytes}
                    total={n.memory_bytes}
                    text={`${bytes(n.reserved_memory_bytes)} of ${bytes(n.memory_bytes)}`}
                  />
                </td>
                <td class="num" data-label="Tasks">{n.tasks}</td>
                <td class="actions-cell">
                  <Actions n={n} a={actions} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
