import type { HostNode } from "../lib/apps/host_node.ts";

const GiB = 2 ** 30;

/** The host's Swarm node and the app tasks it runs (the host page). */
export function HostNodePanel(
  { data, appsHref, workersHref }: { data: HostNode; appsHref: string; workersHref?: string },
) {
  const { node, tasks, others } = data;
  return (
    <section class="card" aria-labelledby="swarm-title">
      <h2 id="swarm-title">Cluster node</h2>
      <dl class="props">
        <dt>Role</dt>
        <dd>{node.role}{node.leader ? " (leader)" : ""}</dd>
        <dt>Availability</dt>
        <dd>{node.availability}</dd>
        <dt>State</dt>
        <dd>{node.state}</dd>
        <dt>Reserved</dt>
        <dd>
          {node.reserved_cpus.toFixed(2)} of {node.cpus} CPUs ·{" "}
          {(node.reserved_memory_bytes / GiB).toFixed(1)} of {(node.memory_bytes / GiB).toFixed(1)}
          {" "}
          GiB
        </dd>
      </dl>
      {tasks.length
        ? (
          <div class="table-wrap">
            <table class="table-cards">
              <thead>
                <tr>
                  <th>App</th>
                  <th>Task</th>
                  <th>State</th>
                </tr>
              </thead>
              <tbody>
                {tasks.map((t) => (
                  <tr key={`${t.app_id}-${t.service}-${t.slot}`}>
                    <td data-label="App">
                      {t.app
                        ? <a href={`${appsHref}/${encodeURIComponent(t.app)}`}>{t.app}</a>
                        : "—"}
                    </td>
                    <td data-label="Task">{t.service}{t.slot !== null ? `.${t.slot}` : ""}</td>
                    <td data-label="State">{t.state}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
        : <p class="muted">No app of this organization runs a task here.</p>}
      {others > 0 && (
        <p class="muted small">
          {others} {others === 1 ? "task" : "tasks"} of other organizations' apps also run here.
        </p>
      )}
      {workersHref && (
        <p>
          <a href={workersHref}>All workers</a>
        </p>
      )}
    </section>
  );
}
