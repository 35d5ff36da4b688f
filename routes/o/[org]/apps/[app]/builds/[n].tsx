import type { Hono } from "hono";
import { type AppContext, type AppEnv, orgScopeOf } from "../../../../../../lib/http/context.ts";
import type { HttpError } from "../../../../../../lib/http/errors.ts";
import { notFound } from "../../../../../../lib/http/errors.ts";
import { page } from "../../../../../../lib/http/pages.ts";
import { buildCaller } from "../../../../../../lib/http/callers.ts";
import { island } from "../../../../../../lib/islands/island.tsx";
import type { App } from "../../../../../../lib/apps/store.ts";
import type { Build } from "../../../../../../lib/builds/store.ts";
import { failureHint } from "../../../../../../lib/builds/service.ts";
import { buildTopic } from "../../../../../../lib/builds/topics.ts";
import BuildLive, { type BuildLiveProps } from "../../../../../../islands/BuildLive.tsx";
import { PageHeader } from "../../../../../../components/PageHeader.tsx";
import { ConfirmAction } from "../../../../../../components/ConfirmAction.tsx";
import { bytes } from "../../../../../../components/format.ts";
import { hasIsland, type PageKit, render, seeOther } from "../../../../../_render.tsx";
import { ActionError, actionError, AppCrumbs, appHref, appOf, mayOperate } from "../../_app.tsx";
import {
  buildDuration,
  buildHref,
  BuildsFlash,
  BuildsTabs,
  sourceHref,
  triggerWords,
} from "../_builds.tsx";

const BuildLiveIsland = island("BuildLive", BuildLive);
const PATH = "/o/:org/apps/:app/builds/:n";
/** Log lines the page carries (the download has the whole stored tail). */
const PAGE_LINES = 1000;

/** The app and its build `:n` (a number), or 404. */
async function buildOf(c: AppContext): Promise<{ app: App; b: Build }> {
  const app = await appOf(c);
  const n = c.req.param("n") ?? "";
  if (!/^\d{1,9}$/.test(n)) throw notFound(`Build "${n}"`);
  return { app, b: await c.var.services.builds.build(app, Number(n)) };
}

/** `/api/v1/orgs/<org>/apps/<id>/builds/<n>/log`: the stored log as a download. */
function logHref(c: AppContext, app: App, b: Build): string {
  const org = encodeURIComponent(orgScopeOf(c).org.slug);
  return `/api/v1/orgs/${org}/apps/${app.id}/builds/${b.number}/log`;
}

/** The island's props: the build in display terms, its log's last lines and the buttons. */
async function liveProps(c: AppContext, app: App, b: Build): Promise<BuildLiveProps> {
  const { builds, hosts, apps, clock } = c.var.services;
  const { org } = orgScopeOf(c);
  const [log, host, deployment, position] = await Promise.all([
    builds.logText(b),
    b.host_id ? hosts.byId(b.host_id) : undefined,
    b.deployment_id
      ? apps.store.deployment(app, b.deployment_id).catch(() => undefined)
      : undefined,
    b.state === "queued" ? builds.position(b) : null,
  ]);
  const text = log.text.replace(/\n$/, "");
  const lines = text ? text.split("\n") : [];
  const plan = b.plan ? JSON.parse(b.plan) as { summary?: string } : null;
  const self = appHref(c, app);
  return {
    topic: buildTopic(org.id, b.id),
    refreshHref: buildHref(c, app, b.number),
    deploymentsHref: `${self}/deployments/`,
    view: {
      number: b.number,
      state: b.state,
      service: b.service,
      trigger: triggerWords(b),
      repo_url: b.repo_url,
      branch: b.branch,
      commit: b.commit_sha
        ? { sha: b.commit_sha, author: b.commit_author, message: b.commit_message }
        : null,
      worker: host
        ? {
          name: host.name,
          href: host.org_id === org.id
            ? `/o/${encodeURIComponent(org.slug)}/hosts/${encodeURIComponent(host.id)}`
            : null,
        }
        : null,
      builder: b.builder,
      plan_summary: plan?.summary ?? null,
      dockerfile: b.dockerfile,
      image: b.image,
      size: b.size_bytes === null ? null : bytes(b.size_bytes),
      queued_at: b.queued_at,
      started_at: b.started_at,
      finished_at: b.finished_at,
      duration: buildDuration(b, clock.now()),
      queue_position: position,
      deploy: b.deploy === 1,
      deployment: deployment
        ? { number: deployment.number, href: `${self}/deployments/${deployment.number}` }
        : null,
      failure: b.failure,
      hint: b.state === "failed" ? failureHint(b) : null,
      error: b.error,
    },
    log: lines.slice(-PAGE_LINES),
    earlier: log.dropped_bytes > 0 || lines.length > PAGE_LINES,
    logHref: logHref(c, app, b),
    actions: mayOperate(c)
      ? {
        retry: `${buildHref(c, app, b.number)}/retry`,
        cancel: `${buildHref(c, app, b.number)}/cancel`,
        source: sourceHref(c, app, b.service),
      }
      : null,
  };
}

/** A build: its state, commit, worker, plan, image, deployment and log, live while it runs. */
async function buildPage(c: AppContext, kit: PageKit, app: App, b: Build, error?: HttpError) {
  const props = await liveProps(c, app, b);
  return render(
    c,
    <>
      <AppCrumbs c={c} app={app} />
      <PageHeader title={`Build #${b.number}`} sub={<>{b.service} of {app.name}</>} />
      <BuildsTabs c={c} app={app} current="builds" />
      <BuildsFlash c={c} />
      <ActionError error={error} />
      {hasIsland(kit.manifest, "BuildLive")
        ? <BuildLiveIsland {...props} />
        : <BuildLive {...props} />}
    </>,
    {
      title: `Build #${b.number} · ${app.name}`,
      active: "apps",
      status: error?.status ?? 200,
      manifest: kit.manifest,
    },
  );
}

/**
 * `GET /o/:org/apps/:app/builds/:n` (viewers): one build, live; `POST …/retry` (members) builds
 * its commit again; `GET/POST …/cancel` (members) stops a queued or running one, after asking.
 */
export function register(app: Hono<AppEnv>, kit: PageKit): void {
  page(app, "GET", PATH, "org:viewer", async (c) => {
    const { app: target, b } = await buildOf(c);
    return await buildPage(c, kit, target, b);
  });

  page(app, "POST", `${PATH}/retry`, "org:member", async (c) => {
    const { app: target, b } = await buildOf(c);
    let again: Build;
    try {
      again = await c.var.services.builds.retry(buildCaller(c), target, b);
    } catch (err) {
      return await buildPage(c, kit, target, b, actionError(err));
    }
    return seeOther(c, `${buildHref(c, target, again.number)}?done=retried`);
  });

  page(app, "GET", `${PATH}/cancel`, "org:member", async (c) => {
    const { app: target, b } = await buildOf(c);
    const self = buildHref(c, target, b.number);
    return render(
      c,
      <ConfirmAction
        title={`Cancel build #${b.number} of ${target.name}?`}
        action={`${self}/cancel`}
        confirm="Cancel build"
        cancelHref={self}
      >
        <p>
          {b.state === "queued"
            ? "It has not started: it leaves the queue."
            : "The worker stops the clone or the build; nothing is deployed."}{" "}
          Retry builds the same commit again later.
        </p>
      </ConfirmAction>,
      { title: `Cancel build #${b.number} · ${target.name}`, active: "apps" },
    );
  });

  page(app, "POST", `${PATH}/cancel`, "org:member", async (c) => {
    const { app: target, b } = await buildOf(c);
    try {
      await c.var.services.builds.cancel(buildCaller(c), target, b);
    } catch (err) {
      return await buildPage(c, kit, target, b, actionError(err));
    }
    return seeOther(c, `${buildHref(c, target, b.number)}?done=cancelled`);
  });
}
