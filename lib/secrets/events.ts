/**
 * What the secrets module tells other modules (lib/events.ts): a secret got a new version. The
 * apps module listens and restarts the apps that use it as the rotation mode says; the alerts
 * module tells the owners of those apps.
 */
import type { ActionContext } from "../audit/service.ts";

/** How the apps that use a rotated secret pick up its new version. */
export type RotationMode = "rolling" | "next_deploy" | "restart";

/** A secret got version `version`. Never carries a value. */
export interface SecretRotated {
  org_id: string;
  secret_id: string;
  name: string;
  version: number;
  mode: RotationMode;
  /** Who rotated it (the restarts are theirs in the audit log). */
  ctx: ActionContext;
}

declare module "../events.ts" {
  interface DomainEvents {
    "secret.rotated": SecretRotated;
  }
}
