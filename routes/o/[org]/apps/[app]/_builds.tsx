/**
 * What the build pages of an app share: their paths, the tabs between them, the flash after an
 * action, how a commit, a trigger and a duration read, and the "Build now" button.
 */
import type { AppContext } from "../../../../../lib/http/context.ts";
import type { App } from "../../../../../lib/apps/store.ts";
import type { Build } from "../../../../../lib/builds/store.ts";
import { Alert } from "../../../../../components/Alert.tsx";
import { duration } from "../../../../../components/format.ts";
import { BuildBadge } from "../../../../../components/BuildBadge.tsx";
import { appHref, mayOperate } from "../_app.tsx";

/** `…/apps/<name>/source`, optionally for one service. */
export function sourceHref(c: AppContext, app: Pick<App, "name">, service?: string): string {
  const base = `${appHref(c, app)}/source`;
  return service ? `${base}?service=${encodeURIComponent(service)}` : base;
}

/** `…/apps/<name>/builds`. */
export const buildsHref = (c: AppContext, app: Pick<App, "name">) => `${appHref(c, app)}/builds`;

/** `…/apps/<name>/builds/<n>`. */
export const buildHref = (c: AppContext, app: Pick<App, "name">, n: number) =>
  `${buildsHref(c, app)}/${n}`;

/** `…/apps/<name>/webhook` (the deliveries). */
export const webhookHref = (c: AppContext, app: Pick<App, "name">) => `${appHref(c, app)}/webhook`;

/** The public URL a Git host posts pushes to. */
export const hookUrl = (c: AppContext, hookId: string) =>
  `${c.var.services.config.publicUrl}/api/v1/hooks/${hookId}`;

/** The service `?service=` names when the app has it, else the app's first service. */
export function chosenService(c: AppContext, app: App, value = c.req.query("service")): string {
  const names = app.spec.services.map((s) => s.name);
  return value && names.includes(value) ? value : names[0];
}

/** Messages `?done=` may show on the build pages; anything else is ignored, never echoed. */
const DONE: Record<string, string> = {
  connected: "Repository connected. Build now, or push to the branch once the webhook is set up.",
  saved: "Git source saved. The next build uses it.",
  disconnected: "Disconnected from the repository. Its builds stay in the history.",
  rotated:
    "Webhook secret rotated: the old one no longer works. Paste the new one into the Git host.",
  queued: "Build queued.",
  retried: "Build queued again.",
  cancelled: "Cancel asked: the worker stops the build.",
  redelivered: "Delivered again: its commit is building.",
};

/** The flash message of the request's `?done=`, if it is one of ours. */
export function BuildsFlash({ c }: { c: AppContext }) {
  const key = c.req.query("done");
  return key && Object.hasOwn(DONE, key) ? <Alert kind="ok">{DONE[key]}</Alert> : null;
}

/** The tabs between an app's Git source, its builds and its webhook deliveries. */
export function BuildsTabs(
  { c, app, current }: {
    c: AppContext;
    app: Pick<App, "name">;
    current: "source" | "builds" | "webhook";
  },
) {
  const tabs = [
    ["source", sourceHref(c, app), "Git source"],
    ["builds", buildsHref(c, app), "Builds"],
    ["webhook", webhookHref(c, app), "Webhook deliveries"],
  ] as const;
  return (
    <nav class="tabs" aria-label="Source and builds">
      {tabs.map(([key, href, label]) => (
        <a key={key} href={href} aria-current={key === current ? "page" : undefined}>{label}</a>
      ))}
    </nav>
  );
}

/** The first 7 hex digits of a commit. */
export const shortSha = (sha: string | null) => sha ? sha.slice(0, 7) : "";

/** The first line of a commit message, capped. */
export function firstLine(message: string | null): string {
  const line = (message ?? "").split("\n", 1)[0].trim();
  return line.length > 100 ? `${line.slice(0, 99)}…` : line;
}

/** A build's commit: short SHA, the message's first line and its author (or the branch head). */
export function CommitSummary(
  { b }: { b: Pick<Build, "commit_sha" | "commit_message" | "commit_author" | "branch"> },
) {
  if (!b.commit_sha) return <span class="muted">head of {b.branch}</span>;
  return (
    <span class="build-commit">
      <code title={b.commit_sha}>{shortSha(b.commit_sha)}</code>
      {b.commit_message && <span class="build-commit-message">{firstLine(b.commit_message)}</span>}
      {b.commit_author && <span class="muted small">{b.commit_author}</span>}
    </span>
  );
}

/** How a build came about, in words. */
export function triggerWords(b: Pick<Build, "trigger" | "actor_name">): string {
  const who = b.actor_name ? ` by ${b.actor_name}` : "";
  if (b.trigger === "webhook") return `push${b.actor_name ? ` (${b.actor_name})` : ""}`;
  if (b.trigger === "retry") return `retry${who}`;
  return who ? `manual,${who}` : "manual";
}

/** How long a build took, or has been running; null before it started. */
export function buildDuration(b: Pick<Build, "started_at" | "finished_at">, now: number) {
  if (!b.started_at) return null;
  return duration(((b.finished_at ?? now) - b.started_at) / 1000);
}

/** "Build now" of one service: a POST that leads to the new build's page. */
export function BuildNowButton(
  { c, app, service, label = "Build now", primary = true }: {
    c: AppContext;
    app: Pick<App, "name">;
    service: string;
    label?: string;
    primary?: boolean;
  },
) {
  return (
    <form method="post" action={`${buildsHref(c, app)}/new`} class="inline-action">
      <input type="hidden" name="service" value={service} />
      <button class={primary ? "btn btn-primary" : "btn"} type="submit">{label}</button>
    </form>
  );
}

/**
 * The "Source & builds" section of an app's page: the repository and branch of each connected
 * service and the latest build; for members of an app not built from Git, "Connect a Git
 * repository". Viewers of such an app see nothing.
 */
export async function appBuildsSection(c: AppContext, app: App) {
  const { builds } = c.var.services;
  const [sources, [latest]] = await Promise.all([
    builds.sources(app),
    builds.builds(app, { limit: 1 }),
  ]);
  const operate = mayOperate(c);
  if (!sources.length && !latest && !operate) return null;
  return (
    <section class="card app-builds" aria-labelledby="app-builds-title">
      <div class="card-head">
        <h2 id="app-builds-title">Source & builds</h2>
        {sources.length > 0 && (
          <span class="app-builds-links">
            <a class="btn btn-small" href={buildsHref(c, app)}>Builds</a>
            <a class="btn btn-small btn-ghost" href={webhookHref(c, app)}>Deliveries</a>
          </span>
        )}
      </div>
      {sources.length
        ? (
          <ul class="app-source-list">
            {sources.map((s) => (
              <li key={s.service} data-source={s.service}>
                <code>{s.service}</code> <span class="muted">from</span>{" "}
                <a class="app-source-repo" href={sourceHref(c, app, s.service)}>{s.repo_url}</a>
                {" "}
                <span class="muted">({s.branch})</span>
              </li>
            ))}
          </ul>
        )
        : (
          <p class="muted">
            {app.name}'s images are set by hand. Connected to a Git repository, each push builds and
            deploys it.
          </p>
        )}
      {latest && (
        <p class="app-latest-build">
          <span class="muted">Latest build</span>{" "}
          <a href={buildHref(c, app, latest.number)}>#{latest.number}</a>{" "}
          <BuildBadge state={latest.state} /> <CommitSummary b={latest} />
        </p>
      )}
      {!sources.length && operate && (
        <a class="btn btn-primary" href={sourceHref(c, app)}>Connect a Git repository</a>
      )}
    </section>
  );
}
