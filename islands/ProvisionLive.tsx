// A provisioning's progress, kept current from its realtime topic: each step with its state and
// message, and — once the app exists — the app's topic for the task states of its services, and
// the live logs of the service being started. When the app's id first becomes known, when the
// provisioning ends, and each time the socket (re)connects, the island reads the page afresh and
// takes its props from it (the app's topic, links, what the server sees). Without JS the page
// shows the progress as of its rendering, with a refresh link.
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { useLiveTopic } from "./live/use_live_topic.ts";
import { freshIslandProps } from "./live/fresh_props.ts";
import { LIVE_LABELS, LiveMarker } from "./live/LiveMarker.tsx";
import LogViewer from "./LogViewer.tsx";
import type { Topic } from "../lib/realtime/topics.ts";
import type { AppTopicEvent } from "../lib/apps/topics.ts";
import type { Provision, ProvisionStep } from "../lib/templates/store.ts";

/** A provisioning as the page shows it (who made it and the organization left out). */
export type ProvisionView = Omit<Provision, "org_id" | "created_by" | "source_ref">;

/** A service of the app being provisioned: tasks running of desired and the newest tasks. */
export interface ProvisionService {
  name: string;
  running: number;
  desired: number;
  tasks: { id: string; state: string; desired: string; error: string | null }[];
}

/** Props of the ProvisionLive island (JSON-serialisable). */
export interface ProvisionLiveProps {
  /** `provisionTopic(orgId, id)`. */
  topic: Topic<Provision>;
  /** `appTopic(orgId, appId)` once the app exists, else null. */
  appTopic: Topic<AppTopicEvent> | null;
  provision: ProvisionView;
  /** The template's services, in its order (the app's services once it exists). */
  services: ProvisionService[];
  /** This page: the refresh link, and where fresh props are read from. */
  refreshHref: string;
  /** The app's page. */
  appHref: string;
  /** `https://<domain>` when a domain was routed. */
  siteUrl: string | null;
  /** `/api/v1/orgs/<org>/apps/<appId>/services/` once the app exists (logs), else null. */
  logsBase: string | null;
  /** The provisioning ended well, but its app has been deprovisioned or deleted since. */
  appGone: boolean;
}

/** How each step reads on the page. */
export const STEP_LABELS: Record<string, string> = {
  starting: "Starting",
  secrets: "Secrets",
  app: "App",
  deploy: "Services start",
  route: "Route",
  check: "DNS and certificate",
};

const STEP_TONE: Record<ProvisionStep["status"], string> = {
  running: "accent",
  done: "ok",
  failed: "error",
  undone: "neutral",
};

const STATUS_TONE: Record<Provision["status"], string> = {
  provisioning: "accent",
  ready: "ok",
  failed: "error",
};

/** `12:04:05` (UTC) of a time in ms. */
const clock = (ms: number) => new Date(ms).toISOString().slice(11, 19);

/** Badge colour of a task state. */
function taskTone(state: string): string {
  if (state === "running") return "ok";
  if (state === "failed" || state === "rejected" || state === "orphaned") return "error";
  if (state === "shutdown" || state === "complete" || state === "remove") return "neutral";
  return "accent";
}

/** How far a provisioning has come: more steps, more of them ended, then its end. */
function progressOf(v: ProvisionView): number {
  return v.steps.length * 4 + v.steps.filter((s) => s.status !== "running").length * 2 +
    (v.status === "provisioning" ? 0 : 1);
}

/** The island's props as a fresh copy of the page renders them; null when unreadable. */
const freshProps = (href: string) => freshIslandProps<ProvisionLiveProps>(href, "ProvisionLive");

const LABELS = {
  ...LIVE_LABELS,
  live: "Live",
  retrying: "Live progress lost; reconnecting…",
  denied: "Live progress is not available",
};

/** The steps in the order they ran, with their state and message. */
function StepList({ steps }: { steps: ProvisionStep[] }) {
  if (!steps.length) return <p class="muted">Waiting for the first step…</p>;
  return (
    <ol class="provision-steps">
      {steps.map((s, i) => (
        <li key={`${s.step}-${i}`} data-step={s.step} data-status={s.status}>
          <span class={`badge badge-${STEP_TONE[s.status]}`}>{s.status}</span>
          <span class="provision-step-name">{STEP_LABELS[s.step] ?? s.step}</span>
          {s.message && <span class="provision-step-message">{s.message}</span>}
          <time class="muted small" datetime={new Date(s.at).toISOString()}>{clock(s.at)}</time>
        </li>
      ))}
    </ol>
  );
}

/** The services of the app being started: running of desired, the newest tasks' states. */
function ServiceStates({ services }: { services: ProvisionService[] }) {
  return (
    <ul class="provision-services">
      {services.map((s) => {
        const tasks = s.tasks.filter((t) => t.desired === "running" || t.error).slice(0, 3);
        return (
          <li key={s.name} data-service={s.name}>
            <code>{s.name}</code>{" "}
            <span
              class={s.running < s.desired ? "warn-text" : "muted"}
              data-service-replicas={s.name}
            >
              {s.running}/{s.desired} running
            </span>
            {tasks.map((t) => (
              <span key={t.id} class="provision-task">
                <span class={`badge badge-${taskTone(t.state)}`}>{t.state}</span>
                {t.error && <span class="small error-text">{t.error}</span>}
              </span>
            ))}
          </li>
        );
      })}
    </ul>
  );
}

/** The progress of one provisioning. */
export default function ProvisionLive(props: ProvisionLiveProps) {
  const p = useSignal(props.provision);
  const appTopic = useSignal(props.appTopic);
  const services = useSignal(props.services);
  const links = useSignal({
    app: props.appHref,
    site: props.siteUrl,
    logs: props.logsBase,
  });
  const logService = useSignal(props.services[0]?.name ?? "");
  // The log viewer is for browsers only: without JS it would be an empty box.
  const mounted = useSignal(false);
  const syncing = useRef(false);

  /** Takes the page's fresh props (the app's topic once it exists, the links, the steps). */
  async function resync() {
    if (syncing.current) return;
    syncing.current = true;
    try {
      const fresh = await freshProps(props.refreshHref);
      if (!fresh) return;
      // An event may have come in since the page was read: keep whichever is further.
      if (progressOf(fresh.provision) >= progressOf(p.value)) p.value = fresh.provision;
      appTopic.value = fresh.appTopic;
      if (fresh.services.length) services.value = fresh.services;
      links.value = { app: fresh.appHref, site: fresh.siteUrl, logs: fresh.logsBase };
      if (!fresh.services.some((s) => s.name === logService.value)) {
        logService.value = fresh.services[0]?.name ?? "";
      }
    } catch {
      // The next event or reconnect tries again; the refresh link always works.
    } finally {
      syncing.current = false;
    }
  }

  const topics: Topic<unknown>[] = [props.topic];
  if (appTopic.value) topics.push(appTopic.value);
  const state = useLiveTopic<unknown>(topics, (topic, data) => {
    if (!data) return;
    if (topic === props.topic) {
      const next = data as Provision;
      const known = p.value;
      const { org_id: _o, created_by: _c, source_ref: _s, ...view } = next;
      p.value = view;
      if (next.app_id && !appTopic.value) void resync();
      if (next.status !== "provisioning" && known.status === "provisioning") void resync();
      return;
    }
    const e = data as AppTopicEvent;
    if (e.kind === "event" || !e.services) return;
    const byName = new Map(e.services.map((s) => [s.name, s]));
    services.value = services.value.map((s) => {
      const u = byName.get(s.name);
      if (!u) return s;
      return {
        name: s.name,
        running: u.running,
        desired: u.desired,
        tasks: u.tasks.map((t) => ({
          id: t.id,
          state: t.state,
          desired: t.desired,
          error: t.error ?? null,
        })),
      };
    });
  });

  useEffect(() => {
    mounted.value = true;
  }, []);

  // Events sent before the socket was subscribed are not replayed: catch up each time it is live.
  useEffect(() => {
    if (state.value === "live" && p.value.status === "provisioning") void resync();
  }, [state.value]);

  const v = p.value;
  const steps = v.steps.filter((s) => s.status !== "undone");
  const undone = v.steps.filter((s) => s.status === "undone");
  const failed = v.steps.find((s) => s.status === "failed");
  const started = v.steps.some((s) => s.step === "deploy");
  const showLogs = mounted.value && links.value.logs && v.status !== "failed" && started &&
    logService.value;
  return (
    <section class="provision" data-provision-status={v.status} aria-labelledby="progress-title">
      <div class="section-head">
        <h2 id="progress-title">Progress</h2>
        <span class={`badge badge-${STATUS_TONE[v.status]}`} data-status={v.status}>
          {v.status === "provisioning"
            ? (v.step === "rolling back" ? "rolling back" : "provisioning")
            : v.status}
        </span>
        <LiveMarker state={state.value} labels={LABELS} />
        <a class="btn btn-small btn-ghost refresh-link" href={props.refreshHref}>Refresh</a>
      </div>
      {v.status === "ready" && props.appGone && (
        <div class="alert alert-info" role="status">
          {v.app_name} was made here; it has since been deprovisioned or deleted.
        </div>
      )}
      {v.status === "ready" && !props.appGone && (
        <div class="alert alert-ok provision-ready" role="status">
          <strong>{v.app_name} is ready.</strong>{" "}
          <span class="provision-links">
            <a class="btn btn-small" href={links.value.app}>Open the app</a>
            {links.value.site && (
              <a class="btn btn-small btn-primary" href={links.value.site} rel="noopener">
                Open the site
              </a>
            )}
          </span>
        </div>
      )}
      {v.status === "failed" && (
        <div class="alert alert-error provision-failed" role="alert">
          <strong>
            Failed at step {STEP_LABELS[failed?.step ?? v.step] ?? failed?.step ?? v.step}:
          </strong>{" "}
          <span data-failure>{failed?.message ?? v.error}</span>
          <p class="small">
            {undone.length
              ? "What it had made was taken back (below); nothing is left half-made."
              : "Nothing had been made yet, so nothing needed taking back."}
          </p>
        </div>
      )}
      <div class="card">
        <StepList steps={steps} />
      </div>
      {undone.length > 0 && (
        <section class="card provision-undone" aria-labelledby="undone-title">
          <h3 id="undone-title">Taken back</h3>
          <StepList steps={undone} />
        </section>
      )}
      {v.status !== "failed" && started && services.value.length > 0 && (
        <section class="card" aria-labelledby="svc-title">
          <h3 id="svc-title">Services</h3>
          <ServiceStates services={services.value} />
        </section>
      )}
      {showLogs && (
        <section class="card log-card" aria-labelledby="plogs-title">
          <div class="card-head">
            <h3 id="plogs-title">Logs</h3>
            {services.value.length > 1 && (
              <label class="log-field">
                <span>Service</span>
                <select
                  value={logService.value}
                  onChange={(e) => logService.value = (e.target as HTMLSelectElement).value}
                >
                  {services.value.map((s) => <option key={s.name} value={s.name}>{s.name}</option>)}
                </select>
              </label>
            )}
          </div>
          <LogViewer
            key={logService.value}
            streamUrl={`${links.value.logs}${encodeURIComponent(logService.value)}/logs/stream`}
            tail={100}
            label={`Logs of ${logService.value}`}
          />
        </section>
      )}
    </section>
  );
}
