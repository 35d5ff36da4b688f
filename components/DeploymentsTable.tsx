import type { Deployment } from "../lib/apps/store.ts";
import { DeploymentBadge } from "./AppStatus.tsx";
import { Time } from "./Time.tsx";
import { duration } from "./format.ts";

/** How a deployment came about, in words: "rollback to #2", "scale", "create". */
export function triggerText(d: Deployment, numbers: Map<string, number>): string {
  const t = d.trigger;
  if (t.kind === "rollback" && t.from) {
    const n = numbers.get(t.from);
    return n ? `rollback to #${n}` : "rollback";
  }
  if (t.kind === "build" && t.build) {
    return `build #${t.build.number}${t.build.commit ? ` (${t.build.commit.slice(0, 7)})` : ""}`;
  }
  return t.kind;
}

/** Whether "Roll back to this" fits: a deployment that ran and is not the one running now. */
export function canRollBackTo(d: Deployment, currentId: string | null): boolean {
  return d.id !== currentId && (d.status === "superseded" || d.status === "running");
}

/**
 * An app's deployments, newest first: number (to its diff), state, trigger, when and how long,
 * the reason of a failure; "Roll back to this" leads to a confirmation. Cards on phones.
 */
export function DeploymentsTable(
  { deployments, currentId, self, operate }: {
    deployments: Deployment[];
    currentId: string | null;
    /** The app page. */
    self: string;
    operate: boolean;
  },
) {
  const numbers = new Map(deployments.map((d) => [d.id, d.number]));
  return (
    <div class="table-wrap">
      <table class="deployments-table table-cards">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Status</th>
            <th scope="col">Trigger</th>
            <th scope="col">When</th>
            <th scope="col">Reason</th>
            <th scope="col" class="actions-col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {deployments.map((d) => {
            const href = `${self}/deployments/${d.number}`;
            const took = d.finished_at && d.started_at
              ? duration((d.finished_at - d.started_at) / 1000)
              : null;
            return (
              <tr key={d.id} data-deployment={d.number}>
                <td class="card-title nowrap">
                  <a href={href}>#{d.number}</a>
                  {d.id === currentId && <span class="badge badge-accent">current</span>}
                </td>
                <td data-label="Status">
                  <DeploymentBadge d={d} />
                </td>
                <td data-label="Trigger">{triggerText(d, numbers)}</td>
                <td class="nowrap" data-label="When">
                  <div>
                    <Time ms={d.created_at} />
                    {took && <div class="muted small">took {took}</div>}
                  </div>
                </td>
                <td class="cell-reason" data-label="Reason">
                  {d.reason ? <span class="reason">{d.reason}</span> : <span class="muted">—</span>}
                </td>
                <td class="actions-cell">
                  <div class="row-actions">
                    <a class="btn btn-small" href={href}>
                      Diff<span class="visually-hidden">of #{d.number}</span>
                    </a>
                    {operate && canRollBackTo(d, currentId) && (
                      <a class="btn btn-small" href={`${href}/rollback`}>
                        Roll back to this<span class="visually-hidden">(#{d.number})</span>
                      </a>
                    )}
                  </div>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
