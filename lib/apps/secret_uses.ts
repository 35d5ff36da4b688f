/**
 * The apps side of secrets: which apps use which secret (their saved spec or their running
 * deployment names it — either keeps the secret from being deleted), which versions running
 * deployments hold (never purged), and what a rotation does to the apps that use the secret:
 * a new deployment of what runs, with the rotated secret at its new version and every other
 * secret as it was — start-first and health-gated ("rolling"), or stop-first ("restart").
 */
import type { App, AppStore, Deployment } from "./store.ts";
import type { AppSpec } from "./spec.ts";
import { secretFileTarget } from "./spec.ts";
import type { SecretConsumer, SecretUse } from "../secrets/service.ts";
import type { SecretRotated } from "../secrets/events.ts";
import type { Logger } from "../log.ts";

/** How each service of a spec gets a secret. */
function servicesUsing(spec: AppSpec, secret: string): SecretUse["services"] {
  return spec.services.flatMap((s) =>
    s.secrets.filter((r) => r.secret === secret).map((r) => ({
      service: s.name,
      ...(r.env !== undefined ? { env: r.env } : {}),
      ...(r.file ? { file: secretFileTarget(r) } : {}),
    }))
  );
}

/** The secret consumer the apps module registers with the secrets module. */
export function appSecretConsumer(store: AppStore): SecretConsumer {
  const currentOf = async (app: App) =>
    app.current_deployment_id
      ? await store.deployment(app, app.current_deployment_id).catch(() => undefined)
      : undefined;
  return {
    async uses(orgId, secret) {
      const out: SecretUse[] = [];
      for (const app of await store.ofOrg(orgId)) {
        const cur = await currentOf(app);
        const names = new Set(
          [...app.spec.services, ...(cur?.spec.services ?? [])].flatMap((s) =>
            s.secrets.map((r) => r.secret)
          ),
        );
        for (const name of names) {
          if (secret !== undefined && name !== secret) continue;
          const saved = servicesUsing(app.spec, name);
          out.push({
            secret: name,
            app_id: app.id,
            app: app.name,
            services: saved.length ? saved : servicesUsing(cur!.spec, name),
            deployed_version: cur?.secrets[name]?.version ?? null,
          });
        }
      }
      return out;
    },
    async versionsInUse() {
      const out = new Set<string>();
      for (const d of await store.currentDeployments()) {
        for (const s of Object.values(d.secrets)) out.add(`${s.id}:${s.version}`);
      }
      return out;
    },
  };
}

/** What a rotation did to one app. */
export interface RotationRestart {
  app: string;
  app_id: string;
  deployment_number?: number;
  /** Why it was not restarted now. */
  skipped?: string;
}

/** Restarts the apps whose running deployment uses a rotated secret, as the rotation asks. */
export async function restartForRotation(
  deps: {
    store: AppStore;
    log: Logger;
    /** Starts a deployment of `current` with the rotated secret at its new version. */
    redeploy(app: App, current: Deployment, e: SecretRotated): Promise<Deployment>;
  },
  e: SecretRotated,
): Promise<RotationRestart[]> {
  const out: RotationRestart[] = [];
  for (const app of await deps.store.ofOrg(e.org_id)) {
    const cur = app.current_deployment_id
      ? await deps.store.deployment(app, app.current_deployment_id).catch(() => undefined)
      : undefined;
    if (!cur || !cur.spec.services.some((s) => s.secrets.some((r) => r.secret === e.name))) {
      continue;
    }
    if (e.mode === "next_deploy") {
      out.push({ app: app.name, app_id: app.id, skipped: "gets it at its next deployment" });
      continue;
    }
    if (app.desired_state === "stopped") {
      out.push({ app: app.name, app_id: app.id, skipped: "is stopped; gets it when started" });
      continue;
    }
    try {
      const d = await deps.redeploy(app, cur, e);
      out.push({ app: app.name, app_id: app.id, deployment_number: d.number });
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      deps.log.warn("apps: not restarted for a rotated secret", { app: app.id, error: why });
      out.push({ app: app.name, app_id: app.id, skipped: why });
    }
  }
  return out;
}
