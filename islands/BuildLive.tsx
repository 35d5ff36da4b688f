// One build, kept current from its realtime topic: log lines are appended as the worker sends
// them, the commit once cloned, the state badge as it changes and the deployment the build made.
// When the build ends (and each time the socket connects before any line arrived) the island reads
// the page afresh and takes its props from it: the image, the duration, the failure's hint, the
// stored log. Without JS the page shows the build as of its rendering, with a refresh link.
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { useLiveTopic } from "./live/use_live_topic.ts";
import { freshIslandProps } from "./live/fresh_props.ts";
import { LIVE_LABELS, LiveMarker } from "./live/LiveMarker.tsx";
import { buildActive, BuildBadge } from "../components/BuildBadge.tsx";
import { Time } from "../components/Time.tsx";
import type { Topic } from "../lib/realtime/topics.ts";
import type { BuildTopicEvent } from "../lib/builds/topics.ts";
import type { BuildState } from "../lib/builds/store.ts";

/** A build as the page shows it: display values worked out by the server. */
export interface BuildLiveView {
  number: number;
  state: BuildState;
  service: string;
  trigger: string;
  repo_url: string;
  branch: string;
  commit: { sha: string; author: string | null; message: string | null } | null;
  /** The worker's host: its name, and its page when the caller may see it. */
  worker: { name: string; href: string | null } | null;
  builder: string | null;
  plan_summary: string | null;
  dockerfile: string | null;
  image: string | null;
  size: string | null;
  queued_at: number;
  started_at: number | null;
  finished_at: number | null;
  duration: string | null;
  queue_position: number | null;
  deploy: boolean;
  deployment: { number: number; href: string } | null;
  failure: string | null;
  hint: string | null;
  error: string | null;
}

/** Props of the BuildLive island (JSON-serialisable). */
export interface BuildLiveProps {
  /** `buildTopic(orgId, buildId)`. */
  topic: Topic<BuildTopicEvent>;
  /** This page: the refresh link, and where fresh props are read from. */
  refreshHref: string;
  /** `…/apps/<name>/deployments/`, to link the deployment a build made. */
  deploymentsHref: string;
  view: BuildLiveView;
  /** The log's last lines as of the page's rendering. */
  log: string[];
  /** Bytes of the log not shown (dropped at the cap, or before the lines sent). */
  earlier: boolean;
  /** Download link of the whole stored log. */
  logHref: string;
  /** Members' buttons: the retry POST, the cancel confirmation, the source page; null: none. */
  actions: { retry: string; cancel: string; source: string } | null;
}

/** Lines kept in the page; older ones are dropped from the top (the download has them all). */
export const MAX_LOG_LINES = 3000;

/** The island's props as a fresh copy of the page renders them; null when unreadable. */
const freshProps = (href: string) => freshIslandProps<BuildLiveProps>(href, "BuildLive");

const LABELS = {
  ...LIVE_LABELS,
  live: "Live",
  retrying: "Live log lost; reconnecting…",
  denied: "The live log is not available",
};

/** Why a build has no deployment (yet). */
function deploymentNote(v: BuildLiveView): string {
  if (!v.deploy) return "none: this source deploys by hand";
  if (buildActive(v.state)) return "when the build succeeds";
  return v.state === "succeeded" ? "starting…" : "none";
}

/** The facts of the build. */
function Facts({ v }: { v: BuildLiveView }) {
  return (
    <dl class="props build-facts">
      <dt>Service</dt>
      <dd>
        <code>{v.service}</code>
      </dd>
      <dt>Trigger</dt>
      <dd>{v.trigger}</dd>
      <dt>Commit</dt>
      <dd data-commit>
        {v.commit
          ? (
            <>
              <code class="build-sha">{v.commit.sha}</code>
              {v.commit.author && <div class="muted small">{v.commit.author}</div>}
              {v.commit.message && <pre class="build-message">{v.commit.message.trim()}</pre>}
            </>
          )
          : <span class="muted">the head of {v.branch}, once cloned</span>}
      </dd>
      <dt>Repository</dt>
      <dd>
        <code>{v.repo_url}</code> <span class="muted">({v.branch})</span>
      </dd>
      <dt>Worker</dt>
      <dd>
        {v.worker
          ? (v.worker.href ? <a href={v.worker.href}>{v.worker.name}</a> : v.worker.name)
          : <span class="muted">none yet</span>}
      </dd>
      <dt>Builder</dt>
      <dd>
        {v.builder ?? <span class="muted">chosen when the build starts</span>}
        {v.plan_summary && <div class="small">{v.plan_summary}</div>}
      </dd>
      <dt>Image</dt>
      <dd>
        {v.image
          ? (
            <>
              <code class="app-image">{v.image}</code>{" "}
              {v.size && <span class="muted">{v.size}</span>}
            </>
          )
          : <span class="muted">—</span>}
      </dd>
      <dt>Queued</dt>
      <dd>
        <Time ms={v.queued_at} seconds />
      </dd>
      <dt>Duration</dt>
      <dd>
        {v.duration ?? <span class="muted">—</span>}
        {v.finished_at && (
          <span class="muted small build-ended">
            · ended <Time ms={v.finished_at} seconds />
          </span>
        )}
      </dd>
      <dt>Deployment</dt>
      <dd data-deployment>
        {v.deployment
          ? <a href={v.deployment.href}>Deployment #{v.deployment.number}</a>
          : (
            <span class="muted">
              {deploymentNote(v)}
            </span>
          )}
      </dd>
    </dl>
  );
}

/** A build's state, facts and log, live. */
export default function BuildLive(props: BuildLiveProps) {
  const view = useSignal(props.view);
  const log = useSignal(props.log);
  const earlier = useSignal(props.earlier);
  const actions = useSignal(props.actions);
  const heard = useRef(false);
  const syncing = useRef(false);
  const box = useRef<HTMLPreElement>(null);
  const follow = useRef(true);

  /** Takes the page's fresh props; the stored log too once the build has ended. */
  async function resync() {
    if (syncing.current) return;
    syncing.current = true;
    try {
      const fresh = await freshProps(props.refreshHref);
      if (!fresh) return;
      const ended = !buildActive(fresh.view.state);
      // An event may have come in since the page was read: a live state is never taken back.
      // The deployment may be announced while the page is read: what was heard is kept.
      if (ended || buildActive(view.value.state)) {
        view.value = {
          ...fresh.view,
          commit: fresh.view.commit ?? view.value.commit,
          deployment: fresh.view.deployment ?? view.value.deployment,
        };
      }
      actions.value = fresh.actions;
      if (ended || !heard.current) {
        log.value = fresh.log;
        earlier.value = fresh.earlier;
      }
    } catch {
      // The next event or reconnect tries again; the refresh link always works.
    } finally {
      syncing.current = false;
    }
  }

  const state = useLiveTopic<BuildTopicEvent>([props.topic], (_topic, e) => {
    if (!e) return;
    if (e.kind === "log") {
      heard.current = true;
      const next = log.value.concat(e.lines);
      if (next.length > MAX_LOG_LINES) earlier.value = true;
      log.value = next.slice(-MAX_LOG_LINES);
    } else if (e.kind === "source") {
      view.value = {
        ...view.value,
        commit: { sha: e.commit, author: e.author, message: e.message },
      };
    } else if (e.kind === "state") {
      const was = view.value.state;
      view.value = { ...view.value, state: e.state as BuildState };
      if (!buildActive(e.state) && buildActive(was)) void resync();
    } else if (e.kind === "deployment") {
      view.value = {
        ...view.value,
        deployment: { number: e.number, href: `${props.deploymentsHref}${e.number}` },
      };
    }
  });

  // Lines sent before the socket was subscribed are not replayed: catch up when it is live.
  useEffect(() => {
    if (state.value === "live" && buildActive(view.value.state)) void resync();
  }, [state.value]);

  // Keep the newest line in sight, unless the reader scrolled up.
  useEffect(() => {
    const el = box.current;
    if (el && follow.current) el.scrollTop = el.scrollHeight;
  }, [log.value]);

  const v = view.value;
  const a = actions.value;
  const active = buildActive(v.state);
  return (
    <div class="build-live" data-build={v.number} data-state={v.state}>
      <div class="section-head build-status">
        <BuildBadge state={v.state} />
        {v.state === "queued" && v.queue_position !== null && (
          <span class="muted small" data-queue-position>
            {v.queue_position === 0 ? "next in line" : `${v.queue_position} ahead in the queue`}
          </span>
        )}
        {v.deployment && (
          <a class="btn btn-small" href={v.deployment.href} data-deployment-link>
            Deployment #{v.deployment.number}
          </a>
        )}
        <LiveMarker state={state.value} labels={LABELS} />
        <span class="build-actions">
          {a && active && <a class="btn btn-small" href={a.cancel}>Cancel…</a>}
          {a && (v.state === "failed" || v.state === "cancelled") && (
            <form method="post" action={a.retry} class="inline-action">
              <button class="btn btn-small" type="submit">Retry</button>
            </form>
          )}
          <a class="btn btn-small btn-ghost refresh-link" href={props.refreshHref}>Refresh</a>
        </span>
      </div>
      {v.state === "failed" && (
        <div class="alert alert-error build-failed" role="alert">
          {v.hint && <strong data-hint>{v.hint}</strong>}
          {v.error && <p class="build-error">{v.error}</p>}
          {a && (
            <p class="build-failed-actions">
              <a class="btn btn-small" href={a.source}>Edit settings and retry</a>
            </p>
          )}
        </div>
      )}
      {v.state === "succeeded" && v.error && (
        <div class="alert alert-warn" role="status">{v.error}</div>
      )}
      <div class="grid-2 build-panels">
        <section class="card" aria-labelledby="build-facts-title">
          <h2 id="build-facts-title">Build</h2>
          <Facts v={v} />
        </section>
        {v.dockerfile && (
          <section class="card" aria-labelledby="build-plan-title">
            <h2 id="build-plan-title">Detected plan</h2>
            {v.plan_summary && <p>{v.plan_summary}</p>}
            <details class="build-dockerfile">
              <summary>The Dockerfile Capstan generated</summary>
              <pre>{v.dockerfile}</pre>
            </details>
          </section>
        )}
      </div>
      <section class="card log-card" aria-labelledby="build-log-title">
        <div class="card-head">
          <h2 id="build-log-title">Log</h2>
          <a class="btn btn-small" href={props.logHref} download>Download log</a>
        </div>
        {earlier.value && (
          <p class="muted small">Earlier lines are not shown here; the download has the log.</p>
        )}
        <pre
          ref={box}
          class="log-body build-log"
          tabindex={0}
          aria-label={`Log of build #${v.number}`}
          onScroll={(e) => {
            const el = e.currentTarget;
            follow.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
          }}
        >
          {log.value.length ? log.value.join("\n") : (active ? "Waiting for the worker…" : "No log.")}
        </pre>
      </section>
    </div>
  );
}
