/**
 * Stopping and starting an app around a restore of its volume (or a snapshot in stop mode),
 * through the apps module's use cases, waiting until each deployment ended: Swarm would otherwise
 * start a new task on the volume while restic writes it.
 */
import type { ActionContext } from "../audit/service.ts";
import type { Apps } from "../apps/service.ts";
import type { App } from "../apps/store.ts";
import { Conflict } from "../errors.ts";
import type { AppControl } from "./runs.ts";

/** How long an app's stop or start may take before a restore gives up on it. */
const APP_DEPLOY_WAIT_MS = 300_000;
const POLL_MS = 500;

export function createAppControl(apps: Apps): AppControl {
  /** Asks `step` every half second until it answers, for at most APP_DEPLOY_WAIT_MS. */
  async function poll<T>(name: () => string, step: () => Promise<T | undefined>): Promise<T> {
    const until = Date.now() + APP_DEPLOY_WAIT_MS;
    for (;;) {
      const got = await step();
      if (got !== undefined) return got;
      if (Date.now() > until) throw new Conflict(`App "${name()}" did not settle in time`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
  const inProgress = (status: string) => status === "pending" || status === "deploying";

  /** Waits until the app's deployment `id` ended; a failed one is a Conflict. */
  const ended = (app: App, id: string) =>
    poll(() => app.name, async () => {
      const d = await apps.store.deployment(app, id);
      if (inProgress(d.status)) return undefined;
      if (d.status !== "running") {
        throw new Conflict(`App "${app.name}": deployment #${d.number} ended ${d.status}`);
      }
      return true;
    });

  /**
   * The app once no deployment of it is in progress: a restore on start hears of the task while
   * the deployment that started it (a move, a deploy) still runs, and the apps module refuses a
   * stop meanwhile (409 deploy_in_progress).
   */
  const settled = (orgId: string, appId: string) =>
    poll(() => appId, async () => {
      const app = await apps.store.get(orgId, appId);
      const [latest] = await apps.store.deployments(app, { limit: 1 });
      return !latest || !inProgress(latest.status) ? app : undefined;
    });

  const caller = (ctx: ActionContext) => ({ ctx, role: "owner" as const });
  return {
    async stop(ctx, orgId, appId) {
      const app = await settled(orgId, appId);
      if (app.desired_state === "stopped") return false;
      await ended(app, (await apps.stop(caller(ctx), app)).id);
      return true;
    },
    async start(ctx, orgId, appId) {
      const app = await settled(orgId, appId);
      await ended(app, (await apps.start(caller(ctx), app)).id);
    },
  };
}
