import type { Hono } from "hono";
import type { AppContext, AppEnv } from "../../../../../lib/http/context.ts";
import type { HttpError } from "../../../../../lib/http/errors.ts";
import { page } from "../../../../../lib/http/pages.ts";
import { buildCaller } from "../../../../../lib/http/callers.ts";
import type { App } from "../../../../../lib/apps/store.ts";
import type { Delivery } from "../../../../../lib/builds/store.ts";
import { PageHeader } from "../../../../../components/PageHeader.tsx";
import { EmptyState } from "../../../../../components/EmptyState.tsx";
import { Badge } from "../../../../../components/Badge.tsx";
import { Time } from "../../../../../components/Time.tsx";
import { type PageKit, render, seeOther } from "../../../../_render.tsx";
import { ActionError, actionError, AppCrumbs, appOf, mayOperate } from "../_app.tsx";
import {
  buildHref,
  BuildsFlash,
  BuildsTabs,
  shortSha,
  sourceHref,
  webhookHref,
} from "./_builds.tsx";

const PATH = "/o/:org/apps/:app/webhook";
const PAGE = 30;

/** Each outcome in words and colour ("queued" means a build was made of it). */
const OUTCOME: Record<
  Delivery["outcome"],
  [string, "ok" | "error" | "warn" | "accent" | "neutral"]
> = {
  queued: ["built", "ok"],
  skipped: ["skipped", "neutral"],
  duplicate: ["duplicate", "neutral"],
  bad_signature: ["bad signature", "error"],
  ignored: ["ignored", "neutral"],
  disabled: ["disabled", "warn"],
  ping: ["ping", "accent"],
};

/** The deliveries, newest first, with what became of each and "Redeliver" for a stored push. */
function DeliveriesTable(
  { c, app, deliveries, numbers, operate }: {
    c: AppContext;
    app: App;
    deliveries: Delivery[];
    numbers: Map<string, number>;
    operate: boolean;
  },
) {
  return (
    <div class="table-wrap">
      <table class="deliveries-table table-cards">
        <thead>
          <tr>
            <th scope="col">Received</th>
            <th scope="col">Outcome</th>
            <th scope="col">Event</th>
            <th scope="col">Branch</th>
            <th scope="col">Commit</th>
            <th scope="col">Reason</th>
            <th scope="col" class="actions-col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {deliveries.map((d) => {
            const [words, tone] = OUTCOME[d.outcome] ?? [d.outcome, "neutral"];
            const n = d.build_id ? numbers.get(d.build_id) : undefined;
            return (
              <tr key={d.id} data-delivery={d.id} data-outcome={d.outcome}>
                <td class="card-title nowrap">
                  <Time ms={d.at} seconds />
                </td>
                <td data-label="Outcome">
                  <Badge tone={tone}>{words}</Badge>
                </td>
                <td data-label="Event">
                  {d.provider} <span class="muted">{d.event || "—"}</span>
                </td>
                <td data-label="Branch">{d.branch ? <code>{d.branch}</code> : "—"}</td>
                <td data-label="Commit">
                  {d.commit_sha ? <code title={d.commit_sha}>{shortSha(d.commit_sha)}</code> : "—"}
                </td>
                <td class="cell-reason" data-label="Reason">
                  {d.reason ? <span class="reason">{d.reason}</span> : <span class="muted">—</span>}
                </td>
                <td class="actions-cell">
                  <div class="row-actions">
                    {n !== undefined && (
                      <a class="btn btn-small" href={buildHref(c, app, n)}>Build #{n}</a>
                    )}
                    {operate && d.push !== null && (
                      <form
                        method="post"
                        action={`${webhookHref(c, app)}/${encodeURIComponent(d.id)}/redeliver`}
                        class="inline-action"
                      >
                        <button class="btn btn-small" type="submit">Redeliver</button>
                      </form>
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

/** The deliveries page, optionally with the error of a redelivery. */
async function webhookPage(c: AppContext, app: App, error?: HttpError) {
  const { builds } = c.var.services;
  const raw = c.req.query("before") ?? "";
  const before = /^[0-9a-f-]{36}$/.test(raw) ? raw : undefined;
  const [list, hook] = await Promise.all([
    builds.deliveries(app, { before, limit: PAGE + 1 }),
    builds.hook(app),
  ]);
  const shown = list.slice(0, PAGE);
  const numbers = new Map<string, number>();
  for (const id of new Set(shown.map((d) => d.build_id).filter((x): x is string => !!x))) {
    const b = await builds.store.get(id);
    if (b && b.app_id === app.id) numbers.set(id, b.number);
  }
  const self = webhookHref(c, app);
  return render(
    c,
    <>
      <AppCrumbs c={c} app={app} />
      <PageHeader
        title="Webhook deliveries"
        sub={<>What the Git host sent {app.name}, and what became of each.</>}
      />
      <BuildsTabs c={c} app={app} current="webhook" />
      <BuildsFlash c={c} />
      <ActionError error={error} />
      {hook?.disabled_until && (
        <p class="alert alert-warn" role="status">
          The webhook is disabled until <Time ms={hook.disabled_until} seconds />{" "}
          after too many bad signatures.
        </p>
      )}
      {shown.length
        ? (
          <DeliveriesTable
            c={c}
            app={app}
            deliveries={shown}
            numbers={numbers}
            operate={mayOperate(c)}
          />
        )
        : (
          <EmptyState title={before ? "No older deliveries" : "No deliveries yet"}>
            <p>
              {hook
                ? "Add the webhook's URL and secret to the Git host: "
                : "The webhook is made when a service is connected to a repository: "}
              <a href={`${sourceHref(c, app)}#webhook`}>Git source</a>.
            </p>
          </EmptyState>
        )}
      <nav class="pager" aria-label="Delivery pages">
        {before && <a class="btn" href={self}>Newest</a>}
        {list.length > PAGE && (
          <a class="btn" rel="next" href={`${self}?before=${shown.at(-1)!.id}`}>Older →</a>
        )}
      </nav>
    </>,
    { title: `Webhook deliveries · ${app.name}`, active: "apps", status: error?.status ?? 200 },
  );
}

/**
 * `GET /o/:org/apps/:app/webhook` (viewers): the webhook's deliveries, paginated;
 * `POST …/webhook/:id/redeliver` (members): builds a stored verified push again.
 */
export function register(app: Hono<AppEnv>, _kit: PageKit): void {
  page(app, "GET", PATH, "org:viewer", async (c) => await webhookPage(c, await appOf(c)));

  page(app, "POST", `${PATH}/:id/redeliver`, "org:member", async (c) => {
    const target = await appOf(c);
    try {
      const b = await c.var.services.builds.redeliver(
        buildCaller(c),
        target,
        c.req.param("id") ?? "",
      );
      return seeOther(c, `${buildHref(c, target, b.number)}?done=redelivered`);
    } catch (err) {
      return await webhookPage(c, target, actionError(err));
    }
  });
}
