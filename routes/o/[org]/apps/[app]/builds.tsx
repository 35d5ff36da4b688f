import type { Hono } from "hono";
import type { AppContext, AppEnv } from "../../../../../lib/http/context.ts";
import type { HttpError } from "../../../../../lib/http/errors.ts";
import { page } from "../../../../../lib/http/pages.ts";
import { buildCaller } from "../../../../../lib/http/callers.ts";
import type { App } from "../../../../../lib/apps/store.ts";
import type { Build } from "../../../../../lib/builds/store.ts";
import { PageHeader } from "../../../../../components/PageHeader.tsx";
import { EmptyState } from "../../../../../components/EmptyState.tsx";
import { BuildBadge } from "../../../../../components/BuildBadge.tsx";
import { Time } from "../../../../../components/Time.tsx";
import { readForm } from "../../../../_forms.ts";
import { type PageKit, render, seeOther } from "../../../../_render.tsx";
import { ActionError, actionError, AppCrumbs, appOf, mayOperate } from "../_app.tsx";
import {
  buildDuration,
  buildHref,
  BuildNowButton,
  BuildsFlash,
  buildsHref,
  BuildsTabs,
  CommitSummary,
  sourceHref,
  triggerWords,
} from "./_builds.tsx";

const PATH = "/o/:org/apps/:app/builds";
const PAGE = 25;

/** The app's builds, newest first: number, state, service, trigger, commit, duration. */
function BuildsTable(
  { c, app, builds, positions, now }: {
    c: AppContext;
    app: App;
    builds: Build[];
    positions: Map<string, number>;
    now: number;
  },
) {
  return (
    <div class="table-wrap">
      <table class="builds-table table-cards">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">State</th>
            <th scope="col">Service</th>
            <th scope="col">Commit</th>
            <th scope="col">Trigger</th>
            <th scope="col">When</th>
          </tr>
        </thead>
        <tbody>
          {builds.map((b) => {
            const took = buildDuration(b, now);
            const ahead = positions.get(b.id);
            return (
              <tr key={b.id} data-build={b.number}>
                <td class="card-title nowrap">
                  <a href={buildHref(c, app, b.number)}>#{b.number}</a>
                </td>
                <td data-label="State">
                  <BuildBadge state={b.state} />
                  {ahead !== undefined && (
                    <div class="muted small">
                      {ahead === 0 ? "next in line" : `${ahead} ahead`}
                    </div>
                  )}
                </td>
                <td data-label="Service">
                  <code>{b.service}</code>
                </td>
                <td class="cell-commit" data-label="Commit">
                  <CommitSummary b={b} />
                </td>
                <td data-label="Trigger">{triggerWords(b)}</td>
                <td class="nowrap" data-label="When">
                  <div>
                    <Time ms={b.queued_at} />
                    {took && (
                      <div class="muted small">
                        {b.finished_at ? `took ${took}` : `running ${took}`}
                      </div>
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

/** The builds page, optionally with the error of a "Build now". */
async function buildsPage(c: AppContext, app: App, error?: HttpError) {
  const { builds, clock } = c.var.services;
  const raw = c.req.query("before") ?? "";
  const before = /^\d{1,9}$/.test(raw) ? Number(raw) : undefined;
  const [list, sources] = await Promise.all([
    builds.builds(app, { before, limit: PAGE + 1 }),
    builds.sources(app),
  ]);
  const shown = list.slice(0, PAGE);
  const positions = new Map<string, number>();
  for (const b of shown) if (b.state === "queued") positions.set(b.id, await builds.position(b));
  const operate = mayOperate(c);
  const self = buildsHref(c, app);
  return render(
    c,
    <>
      <AppCrumbs c={c} app={app} />
      <PageHeader title="Builds" sub={<>{app.name}'s images, built from Git on a worker.</>}>
        {operate && sources.map((s) => (
          <BuildNowButton
            key={s.service}
            c={c}
            app={app}
            service={s.service}
            label={sources.length > 1 ? `Build ${s.service}` : "Build now"}
            primary={sources.length === 1}
          />
        ))}
      </PageHeader>
      <BuildsTabs c={c} app={app} current="builds" />
      <BuildsFlash c={c} />
      <ActionError error={error} />
      {shown.length
        ? (
          <BuildsTable
            c={c}
            app={app}
            builds={shown}
            positions={positions}
            now={clock.now()}
          />
        )
        : (
          <EmptyState title={before ? "No older builds" : "No builds yet"}>
            {sources.length ? <p>Build now, or push to the branch the source follows.</p> : (
              <p>
                Builds start once a service is connected to a Git repository:{" "}
                <a href={sourceHref(c, app)}>
                  {operate ? "connect a repository" : "see the Git source"}
                </a>.
              </p>
            )}
          </EmptyState>
        )}
      <nav class="pager" aria-label="Build pages">
        {before && <a class="btn" href={self}>Newest</a>}
        {list.length > PAGE && (
          <a class="btn" rel="next" href={`${self}?before=${shown.at(-1)!.number}`}>Older →</a>
        )}
      </nav>
    </>,
    { title: `Builds · ${app.name}`, active: "apps", status: error?.status ?? 200 },
  );
}

/**
 * `GET /o/:org/apps/:app/builds` (viewers): the app's builds, paginated; `POST …/builds/new`
 * (members): "Build now" of a service, which leads to the new build's page.
 */
export function register(app: Hono<AppEnv>, _kit: PageKit): void {
  page(app, "GET", PATH, "org:viewer", async (c) => await buildsPage(c, await appOf(c)));

  page(app, "POST", `${PATH}/new`, "org:member", async (c) => {
    const target = await appOf(c);
    const { service } = await readForm(c);
    let b: Build;
    try {
      b = await c.var.services.builds.trigger(buildCaller(c), target, service ?? "");
    } catch (err) {
      return await buildsPage(c, target, actionError(err));
    }
    return seeOther(c, `${buildHref(c, target, b.number)}?done=queued`);
  });
}
