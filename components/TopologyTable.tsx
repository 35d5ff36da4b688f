import type { TopologyGraph, TopologyNode } from "../lib/topology/graph.ts";
import { Badge } from "./Badge.tsx";
import {
  age,
  BACKUP_TONE,
  backupText,
  KIND_LABEL,
  RANKS,
  replicasText,
  STATUS_TONE,
} from "../islands/topology/format.ts";
import { formatTime } from "./Time.tsx";

/** Most neighbours listed in a row; the rest is a count (a host with 200 tasks stays readable). */
const MAX_LINKS = 6;

const KIND_ORDER = ["route", "app", "service", "task", "host", "volume", "target"];

function NodeName({ n }: { n: Pick<TopologyNode, "href" | "label"> }) {
  return n.href ? <a href={n.href}>{n.label}</a> : <>{n.label}</>;
}

/**
 * The topology as tables, one per rank (ingress, apps, hosts, storage): what phones, screen readers
 * and browsers without JavaScript get, and the same data the map draws. Rows are cards on phones.
 */
export function TopologyTable({ graph, now }: { graph: TopologyGraph; now: number }) {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const links = new Map<string, string[]>();
  for (const e of graph.edges) {
    if (!byId.has(e.from) || !byId.has(e.to)) continue;
    (links.get(e.from) ?? links.set(e.from, []).get(e.from)!).push(e.to);
    (links.get(e.to) ?? links.set(e.to, []).get(e.to)!).push(e.from);
  }
  return (
    <div class="topo-tables">
      {RANKS.map(({ rank, title }) => {
        const rows = graph.nodes.filter((n) => n.rank === rank).sort((a, b) =>
          KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || a.label.localeCompare(b.label)
        );
        return (
          <section class="card" key={rank} aria-labelledby={`topo-rank-${rank}`}>
            <h2 id={`topo-rank-${rank}`}>
              {title} <span class="muted small">{rows.length}</span>
            </h2>
            {rows.length === 0 ? <p class="muted">Nothing here.</p> : (
              <div class="table-wrap">
                <table class="table-cards topo-table">
                  <thead>
                    <tr>
                      <th scope="col">Name</th>
                      <th scope="col">Kind</th>
                      <th scope="col">Status</th>
                      <th scope="col">Replicas</th>
                      <th scope="col">Health</th>
                      <th scope="col">Backup</th>
                      <th scope="col">Connected to</th>
                    </tr>
                  </thead>
                  <tbody>
                    {rows.map((n) => {
                      const near = [...new Set(links.get(n.id) ?? [])].map((id) => byId.get(id)!);
                      return (
                        <tr key={n.id} data-node={n.id} data-status={n.status}>
                          <th scope="row" data-label="Name">
                            <span>
                              <NodeName n={n} />
                              {n.detail && Object.keys(n.detail).length > 0 && (
                                <span class="muted small topo-detail">
                                  {" "}
                                  {Object.entries(n.detail).slice(0, 4).map(([k, v]) => `${k} ${v}`)
                                    .join(" · ")}
                                </span>
                              )}
                            </span>
                          </th>
                          <td data-label="Kind">{KIND_LABEL[n.kind] ?? n.kind}</td>
                          <td data-label="Status">
                            <Badge tone={STATUS_TONE[n.status] ?? "neutral"}>{n.status}</Badge>
                          </td>
                          <td data-label="Replicas">{replicasText(n) || "—"}</td>
                          <td data-label="Health">
                            {!n.health || n.health === "none" ? "—" : (
                              <Badge
                                tone={n.health === "passing"
                                  ? "ok"
                                  : n.health === "failing"
                                  ? "error"
                                  : "neutral"}
                              >
                                {n.health}
                              </Badge>
                            )}
                          </td>
                          <td data-label="Backup" data-backup={n.backup?.state}>
                            {!n.backup ? "—" : (
                              <span
                                title={n.backup.lastAt === null
                                  ? undefined
                                  : `Last snapshot ${formatTime(n.backup.lastAt)}`}
                              >
                                <Badge tone={BACKUP_TONE[n.backup.state]}>{n.backup.state}</Badge>
                                {n.backup.lastAt !== null && (
                                  <span class="muted small">
                                    {" "}
                                    {n.backup.state === "failed" ? "last ok " : ""}
                                    {age(n.backup.lastAt, now)} ago
                                  </span>
                                )}
                                <span class="visually-hidden">{backupText(n.backup, now)}</span>
                              </span>
                            )}
                          </td>
                          <td data-label="Connected to">
                            {near.length === 0 ? "—" : (
                              <span class="topo-links">
                                {near.slice(0, MAX_LINKS).map((m, i) => (
                                  <>
                                    {i > 0 && ", "}
                                    <NodeName n={m} />
                                  </>
                                ))}
                                {near.length > MAX_LINKS && ` and ${near.length - MAX_LINKS} more`}
                              </span>
                            )}
                          </td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
            )}
          </section>
        );
      })}
    </div>
  );
}
