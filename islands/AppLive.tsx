// An app's services and their tasks per node, kept current from the app's realtime topic while a
// deployment runs: task states as Swarm reports them, tasks running of desired, and the
// deployment's state (every `[data-deployment-status=<id>]` badge of the page is rewritten in
// place). When a deployment ends, or the socket (re)connects while one runs, the island reads the
// page afresh and takes its props from it, so what it shows is what the server sees. Without JS the
// page shows the state as of its rendering, with a refresh link.
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { freshIslandProps } from "./live/fresh_props.ts";
import { useLiveTopic } from "./live/use_live_topic.ts";
import { LIVE_LABELS, LiveMarker } from "./live/LiveMarker.tsx";
import type { Topic } from "../lib/realtime/topics.ts";
import type { AppTopicEvent } from "../lib/apps/topics.ts";
import type { DeploymentStatus } from "../lib/apps/tables.ts";
import { DEPLOYMENT_TONE } from "../components/AppStatus.tsx";

/** A task as the island shows it. */
export interface LiveTask {
  id: string;
  slot: number | null;
  node_id: string | null;
  state: string;
  desired: string;
  error: string | null;
  updated_at: string;
  /** Host-mode ports: where the task answers on its node. */
  ports: { target: number; published: number; protocol: string }[];
}

/** A service of the app with its newest tasks. */
export interface LiveService {
  name: string;
  image: string;
  running: number;
  desired: number;
  /** Swarm's update state (updating, rollback_completed…), or null. */
  update: string | null;
  tasks: LiveTask[];
}

/** Props of the AppLive island (JSON-serialisable). */
export interface AppLiveProps {
  /** `appTopic(orgId, appId)`. */
  topic: Topic<AppTopicEvent>;
  /** The app page: refresh link, and where fresh props are read from. */
  refreshHref: string;
  services: LiveService[];
  /** Node id → its hostname and address. */
  nodes: Record<string, { name: string; addr: string }>;
  /** The newest deployment, or null before the first. */
  deployment: { id: string; number: number; status: string } | null;
  /** Why the cluster could not be asked (no live state then), or null. */
  away: string | null;
}

const TERMINAL = new Set(["running", "failed", "rolled_back", "superseded"]);

/** Badge colour of a task state. */
function taskTone(state: string): string {
  if (state === "running") return "ok";
  if (state === "failed" || state === "rejected" || state === "orphaned") return "error";
  if (state === "shutdown" || state === "complete" || state === "remove") return "neutral";
  return "accent";
}

/** Rewrites every badge of deployment `id` on the page to `status`. */
function showDeploymentStatus(id: string, status: string): void {
  for (const el of document.querySelectorAll<HTMLElement>("[data-deployment-status]")) {
    if (el.dataset.deploymentStatus !== id) continue;
    el.dataset.status = status;
    const badge = el.querySelector(".badge");
    if (!badge) continue;
    badge.className = `badge badge-${DEPLOYMENT_TONE[status as DeploymentStatus] ?? "neutral"}`;
    badge.textContent = status.replace(/_/g, " ");
  }
}

/** The AppLive props the page renders now, read from a fresh copy of it; null when unreadable. */
const freshProps = (href: string) => freshIslandProps<AppLiveProps>(href, "AppLive");

/** `12:04:05` of an ISO time (UTC, like the rest of the page). */
const clock = (iso: string) => (iso.length >= 19 ? iso.slice(11, 19) : iso);

/** Distinct published ports of a task, with its node's address. */
function portsText(t: LiveTask, addr: string | undefined): string[] {
  const seen = new Set<string>();
  for (const p of t.ports) {
    if (!p.published) continue;
    seen.add(`${addr || "node"}:${p.published}→${p.target}${p.protocol === "udp" ? "/udp" : ""}`);
  }
  return [...seen];
}

const LABELS = {
  ...LIVE_LABELS,
  live: "Live",
  retrying: "Live state lost; reconnecting…",
  denied: "Live state is not available",
};

/** Tasks of a service: slot, node, state (and error), published ports, last change. */
function TaskTable(
  { service, tasks, nodes, empty }: {
    service: string;
    tasks: LiveTask[];
    nodes: AppLiveProps["nodes"];
    empty: string;
  },
) {
  if (!tasks.length) return empty ? <p class="muted small">{empty}</p> : null;
  const sorted = [...tasks].sort((a, b) =>
    (a.slot ?? 0) - (b.slot ?? 0) || b.updated_at.localeCompare(a.updated_at)
  );
  return (
    <div class="table-wrap">
      <table class="tasks-table table-cards">
        <thead>
          <tr>
            <th scope="col">Task</th>
            <th scope="col">Node</th>
            <th scope="col">State</th>
            <th scope="col">Ports</th>
            <th scope="col">Updated</th>
          </tr>
        </thead>
        <tbody>
          {sorted.map((t) => {
            const node = t.node_id ? nodes[t.node_id] : undefined;
            const ports = portsText(t, node?.addr);
            return (
              <tr key={t.id} data-task={t.id} data-state={t.state} data-desired={t.desired}>
                <td class="card-title nowrap">{service}.{t.slot ?? t.id.slice(0, 6)}</td>
                <td data-label="Node">
                  {node?.name ?? (t.node_id ? t.node_id.slice(0, 12) : "—")}
                </td>
                <td data-label="State">
                  <div>
                    <span class={`badge badge-${taskTone(t.state)}`}>{t.state}</span>
                    {t.desired !== "running" && t.desired !== t.state && (
                      <span class="muted small">→ {t.desired}</span>
                    )}
                    {t.error && <div class="small error-text">{t.error}</div>}
                  </div>
                </td>
                <td data-label="Ports">
                  {ports.length
                    ? ports.map((p) => <code key={p}>{p}</code>)
                    : <span class="muted">—</span>}
                </td>
                <td class="nowrap" data-label="Updated">
                  <time datetime={t.updated_at}>{clock(t.updated_at)}</time>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** The services panel of the app page. */
export default function AppLive(props: AppLiveProps) {
  const services = useSignal(props.services);
  const nodes = useSignal(props.nodes);
  const deployment = useSignal(props.deployment);
  const note = useSignal("");
  const stale = useSignal(false);
  const syncing = useRef(false);

  /** Takes the page's fresh props; the timeline on the page may be behind, so offer a refresh. */
  async function resync() {
    if (syncing.current) return;
    syncing.current = true;
    try {
      const p = await freshProps(props.refreshHref);
      if (!p) return;
      services.value = p.services;
      nodes.value = p.nodes;
      if (p.deployment) {
        showDeploymentStatus(p.deployment.id, p.deployment.status);
        if (deployment.value && p.deployment.id !== deployment.value.id) stale.value = true;
      }
      deployment.value = p.deployment;
    } catch {
      // The next event or reconnect tries again; the refresh link always works.
    } finally {
      syncing.current = false;
    }
  }

  const state = useLiveTopic([props.topic], (_topic, e) => {
    if (!e) return;
    if (e.kind === "event") {
      note.value = e.message;
      stale.value = true;
      return;
    }
    const known = deployment.value;
    if (!known || e.number > known.number) {
      // A deployment this page has no row for yet.
      stale.value = true;
    }
    if (!known || e.number >= known.number) {
      deployment.value = { id: e.deployment_id, number: e.number, status: e.status };
    }
    showDeploymentStatus(e.deployment_id, e.status);
    if (e.services) {
      const byName = new Map(e.services.map((s) => [s.name, s]));
      services.value = services.value.map((s) => {
        const u = byName.get(s.name);
        if (!u) return s;
        return {
          ...s,
          running: u.running,
          desired: u.desired,
          tasks: u.tasks.map((t) => ({
            id: t.id,
            slot: t.slot ?? null,
            node_id: t.node_id ?? null,
            state: t.state,
            desired: t.desired,
            error: t.error ?? null,
            updated_at: t.updated_at,
            ports: t.ports,
          })),
        };
      });
      // A service the page did not know yet (added by this deployment): read the page again.
      if (e.services.some((s) => !services.value.some((x) => x.name === s.name))) void resync();
    }
    if (e.message) note.value = e.message;
    else if (!TERMINAL.has(e.status)) note.value = `Deployment #${e.number} is ${e.status}…`;
    if (TERMINAL.has(e.status)) void resync();
  });

  // Events sent before the socket was subscribed are not replayed: catch up each time it is live.
  useEffect(() => {
    if (state.value !== "live") return;
    const d = deployment.value;
    if (d && !TERMINAL.has(d.status)) void resync();
  }, [state.value]);

  return (
    <section class="app-services" aria-labelledby="app-services-title">
      <div class="section-head">
        <h2 id="app-services-title">Services</h2>
        <LiveMarker state={state.value} labels={LABELS}>
          {note.value}
          {stale.value && (
            <>
              {note.value ? " — " : ""}
              <a href={props.refreshHref}>refresh for the timeline</a>
            </>
          )}
        </LiveMarker>
        <a class="btn btn-small btn-ghost refresh-link" href={props.refreshHref}>Refresh</a>
      </div>
      {props.away && <p class="muted">{props.away}</p>}
      {!props.away && services.value.length === 0 && (
        <p class="muted">
          Nothing of this app runs in the cluster yet.
        </p>
      )}
      {services.value.map((s) => (
        <div class="card app-service" key={s.name} data-service={s.name}>
          <div class="card-head">
            <h3>{s.name}</h3>
            <span
              class={s.running < s.desired ? "warn-text" : "muted"}
              data-service-replicas={s.name}
            >
              {s.running}/{s.desired} running
            </span>
            {s.update && (
              <span class="badge badge-neutral">update {s.update.replace(/_/g, " ")}</span>
            )}
          </div>
          <p class="small">
            <code class="app-image">{s.image}</code>
          </p>
          <TaskTable
            service={s.name}
            tasks={s.tasks.filter((t) => t.desired === "running")}
            nodes={nodes.value}
            empty="No tasks run now."
          />
          {s.tasks.some((t) => t.desired !== "running") && (
            <details
              class="ended-tasks"
              open={s.tasks.some((t) => t.desired !== "running" && t.error)}
            >
              <summary>
                {s.tasks.filter((t) => t.desired !== "running").length} ended recently
              </summary>
              <TaskTable
                service={s.name}
                tasks={s.tasks.filter((t) => t.desired !== "running")}
                nodes={nodes.value}
                empty=""
              />
            </details>
          )}
        </div>
      ))}
    </section>
  );
}
