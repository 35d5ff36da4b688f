/**
 * What the apps module tells other modules (lib/events.ts):
 * - `apps.tasks_moved`: Swarm moved an app's tasks off a node that went down. The reconciler has
 *   recorded each move on the app's timeline (once per task) when this goes out; the alerts module
 *   listens and notifies the organization's channels.
 * - `apps.secret_restarts`: a secret the apps use was rotated and the apps module has done what
 *   the rotation asked (restarted them, or not and why) and noted it on the secret's trail; the
 *   alerts module listens and notifies the organization's channels, one message per app.
 * - `apps.stopped`: a stop the user asked for (scale to 0) has ended with the app's tasks gone;
 *   the snapshots module takes the snapshots of its volumes marked "snapshot on stop".
 * - `app.changed`: where an app's tasks run may have changed (a deployment ended, tasks moved);
 *   whoever routes to the app (the proxy) looks again.
 */
import type { Core } from "../module.ts";
import type { ActionContext } from "../audit/service.ts";
import type { RotationMode } from "../secrets/events.ts";
import type { App } from "./store.ts";
import { moveMessage, type TaskMove } from "./reconciler.ts";
import { appTopic } from "./topics.ts";

/** Tasks of one app moved off down nodes, as one reconcile pass recorded them. */
export interface AppTasksMoved {
  org_id: string;
  app: { id: string; name: string };
  moves: TaskMove[];
}

/**
 * What a secret's rotation did to the apps that use it. Names and numbers only: the rotation
 * event it follows carries no value, and neither does this.
 */
export interface AppSecretRestarts {
  org_id: string;
  secret: { id: string; name: string };
  /** The version the secret was rotated to. */
  version: number;
  mode: RotationMode;
  /** Who rotated it (the restarts are theirs in the audit log). */
  actor_name: string;
  /** Each app whose running deployment uses the secret. */
  apps: {
    id: string;
    name: string;
    /** The deployment that restarts it with the new version. */
    deployment_number?: number;
    /** Why it was not restarted now (it gets the version at its next deployment, it is stopped…). */
    skipped?: string;
  }[];
}

/** An app whose tasks may run elsewhere now. */
export interface AppChanged {
  org_id: string;
  app_id: string;
  app: string;
  reason: "deployed" | "tasks_changed" | "tasks_moved";
}

/** An app stopped by a user: its stop deployment ended, its tasks are gone. */
export interface AppStopped {
  org_id: string;
  app_id: string;
  app: string;
  /** Who stopped it (the snapshots it causes are theirs in the audit log). */
  ctx: ActionContext;
}

declare module "../events.ts" {
  interface DomainEvents {
    "apps.tasks_moved": AppTasksMoved;
    "apps.stopped": AppStopped;
    "apps.secret_restarts": AppSecretRestarts;
    "app.changed": AppChanged;
  }
}

/**
 * The reconciler's `moved` hook: the moves go to the app page's live timeline and, as
 * `apps.tasks_moved`, to whoever listens (alerts); `app.changed` tells the routes to look again.
 */
export function announceMoves(core: Pick<Core, "realtime" | "events">) {
  return (app: App, moves: TaskMove[]): void => {
    for (const m of moves) {
      void core.realtime.publish(appTopic(app.org_id, app.id), {
        kind: "event",
        app_id: app.id,
        message: moveMessage(m),
      });
    }
    core.events.emit("apps.tasks_moved", {
      org_id: app.org_id,
      app: { id: app.id, name: app.name },
      moves,
    });
    core.events.emit("app.changed", {
      org_id: app.org_id,
      app_id: app.id,
      app: app.name,
      reason: "tasks_moved",
    });
  };
}
