/**
 * The apps module's domain events. `app.changed` says where an app's tasks run may have changed
 * (a deployment ended, tasks moved off a failed node): whoever routes to the app (the proxy)
 * looks again.
 */
declare module "../events.ts" {
  interface DomainEvents {
    "app.changed": AppChanged;
  }
}

/** An app whose tasks may run elsewhere now. */
export interface AppChanged {
  org_id: string;
  app_id: string;
  app: string;
  reason: "deployed" | "tasks_moved";
}
