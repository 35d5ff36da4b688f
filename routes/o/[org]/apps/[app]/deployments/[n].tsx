import type { Hono } from "hono";
import type { AppContext, AppEnv } from "../../../../../../lib/http/context.ts";
import { page } from "../../../../../../lib/http/pages.ts";
import { appCaller } from "../../../../../../lib/http/callers.ts";
import type { App } from "../../../../../../lib/apps/store.ts";
import type { DeploymentWithDiff } from "../../../../../../lib/apps/service.ts";
import { PageHeader } from "../../../../../../components/PageHeader.tsx";
import { DeploymentBadge } from "../../../../../../components/AppStatus.tsx";
import { canRollBackTo } from "../../../../../../components/DeploymentsTable.tsx";
import { DeploymentDiff } from "../../../../../../components/DeploymentDiff.tsx";
import { ConfirmAction } from "../../../../../../components/ConfirmAction.tsx";
import { Time } from "../../../../../../components/Time.tsx";
import { duration } from "../../../../../../components/format.ts";
import { type PageKit, render, seeOther } from "../../../../../_render.tsx";
import { ActionError, actionError, AppCrumbs, appHref, appOf, mayOperate } from "../../_app.tsx";
import { notFound } from "../../../../../../lib/http/errors.ts";

const PATH = "/o/:org/apps/:app/deployments/:n";
const ACTOR: Record<string, string> = {
  user: "by a user",
  token: "through an API token",
  system: "by Capstan",
};

/** The app and its deployment `:n` (a number) with its diff, or 404. */
async function deploymentOf(c: AppContext): Promise<{ app: App; d: DeploymentWithDiff }> {
  const app = await appOf(c);
  const n = c.req.param("n") ?? "";
  if (!/^\d{1,9}$/.test(n)) throw notFound(`Deployment "${n}"`);
  return { app, d: await c.var.services.apps.deploymentWithDiff(app, n) };
}

/** A deployment: its facts, what changed against the one before, and "Roll back to this". */
async function deploymentPage(c: AppContext, app: App, d: DeploymentWithDiff, error?: unknown) {
  const self = appHref(c, app);
  const e = error === undefined ? undefined : actionError(error);
  const from = d.trigger.from
    ? await c.var.services.apps.store.deployment(app, d.trigger.from).catch(() => undefined)
    : undefined;
  return render(
    c,
    <>
      <AppCrumbs c={c} app={app} />
      <PageHeader
        title={`Deployment #${d.number}`}
        sub={
          <>
            <DeploymentBadge d={d} />
            {d.id === app.current_deployment_id && " · running now"}
          </>
        }
      >
        {mayOperate(c) && canRollBackTo(d, app.current_deployment_id) && (
          <a class="btn btn-primary" href={`${self}/deployments/${d.number}/rollback`}>
            Roll back to this
          </a>
        )}
      </PageHeader>
      <ActionError error={e} />
      <section class="card">
        <dl class="props">
          <dt>Trigger</dt>
          <dd>
            {d.trigger.kind}
            {from && <>, to the snapshot of #{from.number}</>} {ACTOR[d.trigger.actor_type] ?? ""}
          </dd>
          <dt>Created</dt>
          <dd>
            <Time ms={d.created_at} seconds />
          </dd>
          <dt>Finished</dt>
          <dd>
            <Time ms={d.finished_at} seconds />
            {d.finished_at && d.started_at && (
              <span class="muted took">
                (took {duration((d.finished_at - d.started_at) / 1000)})
              </span>
            )}
          </dd>
          {d.reason && (
            <>
              <dt>Reason</dt>
              <dd class="reason">{d.reason}</dd>
            </>
          )}
          <dt>Images</dt>
          <dd>
            {Object.entries(d.images).length
              ? Object.entries(d.images).map(([s, img]) => (
                <div key={s}>
                  {s}: <code class="app-image">{img}</code>
                </div>
              ))
              : <span class="muted">not resolved yet</span>}
          </dd>
        </dl>
      </section>
      <section class="card" aria-labelledby="diff-title">
        <h2 id="diff-title">
          {d.previous_number === null
            ? "The first deployment"
            : `Changes since #${d.previous_number}`}
        </h2>
        <DeploymentDiff diff={d.diff} first={d.previous_number === null} spec={d.spec} />
      </section>
    </>,
    { title: `#${d.number} · ${app.name}`, active: "apps", status: e?.status ?? 200 },
  );
}

/**
 * `GET /o/:org/apps/:app/deployments/:n` (viewers): a deployment and its diff;
 * `GET/POST …/rollback` (members): deploy its snapshot again, after a confirmation.
 */
export function register(app: Hono<AppEnv>, _kit: PageKit): void {
  page(app, "GET", PATH, "org:viewer", async (c) => {
    const { app: target, d } = await deploymentOf(c);
    return await deploymentPage(c, target, d);
  });

  page(app, "GET", `${PATH}/rollback`, "org:member", async (c) => {
    const { app: target, d } = await deploymentOf(c);
    const self = appHref(c, target);
    const changes = d.diff.changed.length + d.diff.added.length + d.diff.removed.length +
      d.diff.secrets.length;
    return render(
      c,
      <ConfirmAction
        title={`Roll ${target.name} back to deployment #${d.number}?`}
        action={`${self}/deployments/${d.number}/rollback`}
        confirm={`Roll back to #${d.number}`}
        cancelHref={`${self}/deployments/${d.number}`}
      >
        <p>
          Its snapshot is deployed again as it was, with the same images, new tasks first. The saved
          configuration becomes that snapshot's.
          {changes > 0 && (
            <>
              {" "}See <a href={`${self}/deployments/${d.number}`}>what it changed</a>{" "}
              against the deployment before it.
            </>
          )}
        </p>
      </ConfirmAction>,
      { title: `Roll back · ${target.name}`, active: "apps" },
    );
  });

  page(app, "POST", `${PATH}/rollback`, "org:member", async (c) => {
    const { app: target, d } = await deploymentOf(c);
    try {
      await c.var.services.apps.rollback(appCaller(c), target, d.id);
    } catch (err) {
      return await deploymentPage(c, target, d, err);
    }
    return seeOther(c, `${appHref(c, target)}?done=rolled_back`);
  });
}
