import type { Hono } from "hono";
import type { AppContext, AppEnv } from "../../../../../lib/http/context.ts";
import { page } from "../../../../../lib/http/pages.ts";
import { appCaller } from "../../../../../lib/http/callers.ts";
import type { App } from "../../../../../lib/apps/store.ts";
import { readForm, safePath } from "../../../../_forms.ts";
import { type PageKit, seeOther } from "../../../../_render.tsx";
import { actionError, appHref, appOf, appsBase } from "../_app.tsx";
import { appPage } from "../[app].tsx";
import { listPage } from "../index.tsx";

const ITEM = "/o/:org/apps/:app";

/** What each button asks of the apps service. */
const ACTIONS = {
  start: (c: AppContext, app: App) => c.var.services.apps.start(appCaller(c), app),
  stop: (c: AppContext, app: App) => c.var.services.apps.stop(appCaller(c), app),
  restart: (c: AppContext, app: App) => c.var.services.apps.restart(appCaller(c), app),
  deploy: (c: AppContext, app: App) => c.var.services.apps.deploy(appCaller(c), app),
} as const;

/** The flash each action returns with (`?done=`), saying it started. */
const DONE: Record<keyof typeof ACTIONS | "scale", string> = {
  start: "started",
  stop: "stopped",
  restart: "restarted",
  deploy: "deployed",
  scale: "scaled",
};

/** `next` with `?done=` added (only a path of the apps pages; anything else is the app page). */
function back(c: AppContext, app: App, next: string | undefined, done: string): string {
  const base = appsBase(c);
  const target = safePath(next, appHref(c, app));
  const path = target.split(/[?#]/)[0];
  const ok = path === base || path === appHref(c, app);
  const url = new URL(ok ? target : appHref(c, app), "http://x.invalid");
  url.searchParams.set("done", done);
  return url.pathname + url.search;
}

/** Where an error is shown: the list when the action came from it, else the app page. */
async function failed(
  c: AppContext,
  kit: PageKit,
  app: App,
  next: string | undefined,
  err: unknown,
) {
  const e = actionError(err);
  const fromList = safePath(next, "").split("?")[0] === appsBase(c);
  return fromList ? await listPage(c, e) : await appPage(c, kit, e, app);
}

/**
 * `POST …/start`, `…/stop`, `…/restart`, `…/deploy` and `…/scale` of an app (members): each
 * starts a deployment and returns at once to where it was asked; progress shows live there.
 */
export function register(app: Hono<AppEnv>, kit: PageKit): void {
  for (const action of Object.keys(ACTIONS) as (keyof typeof ACTIONS)[]) {
    page(app, "POST", `${ITEM}/${action}`, "org:member", async (c) => {
      const target = await appOf(c);
      const { next } = await readForm(c);
      try {
        await ACTIONS[action](c, target);
      } catch (err) {
        return await failed(c, kit, target, next, err);
      }
      return seeOther(c, back(c, target, next, DONE[action]));
    });
  }

  page(app, "POST", `${ITEM}/scale`, "org:member", async (c) => {
    const target = await appOf(c);
    const values = await readForm(c);
    const replicas = /^\d{1,3}$/.test(values.replicas?.trim() ?? "")
      ? Number(values.replicas.trim())
      : Number.NaN;
    try {
      await c.var.services.apps.scale(appCaller(c), target, values.service ?? "", replicas);
    } catch (err) {
      return await failed(c, kit, target, undefined, err);
    }
    return seeOther(c, back(c, target, undefined, DONE.scale));
  });
}
