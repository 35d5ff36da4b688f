/**
 * What the builds module tells other modules (lib/events.ts):
 * - `builds.notice`: a build started, succeeded or failed, or the deployment a build made
 *   started, succeeded, failed or was rolled back (its new version failed its health check). The
 *   alerts module listens and notifies the organization's channels. Names, numbers and commits
 *   only: never a credential, never log lines (a log may hold what a build printed).
 * - `builds.webhook_disabled`: a webhook got too many bad signatures and is refused for a while.
 */

/** The stages a build's notice tells of. */
export type BuildStage =
  | "build_started"
  | "build_succeeded"
  | "build_failed"
  | "deploy_started"
  | "deploy_succeeded"
  | "deploy_failed"
  | "deploy_rolled_back";

export interface BuildNotice {
  org_id: string;
  app: { id: string; name: string };
  build: { id: string; number: number; service: string; branch: string; commit: string | null };
  stage: BuildStage;
  /** One sentence a person can act on ("Installing dependencies failed …"). */
  detail: string;
  deployment_number?: number;
  /** A failed build's class (lib/builds/failure.ts). */
  failure?: string;
}

export interface WebhookDisabled {
  org_id: string;
  app: { id: string; name: string };
  /** When it was disabled (hub ms): the alerts tell each disabling once, by this. */
  since: number;
  /** When it takes requests again (hub ms). */
  until: number;
  bad_signatures: number;
}

declare module "../events.ts" {
  interface DomainEvents {
    "builds.notice": BuildNotice;
    "builds.webhook_disabled": WebhookDisabled;
  }
}
