/**
 * What the app pages share: the app a path names, who may act on it, the words and colours of
 * states, the flash messages after an action, and the error of an action shown where it was asked.
 */
import type { AppContext } from "../../../../lib/http/context.ts";
import { orgScopeOf } from "../../../../lib/http/context.ts";
import type { HttpError } from "../../../../lib/http/errors.ts";
import { roleAtLeast } from "../../../../lib/auth/principal.ts";
import type { App } from "../../../../lib/apps/store.ts";
import { Alert } from "../../../../components/Alert.tsx";
import { httpErrorOf } from "../../../_forms.ts";

/** `/o/<slug>/apps`. */
export function appsBase(c: AppContext): string {
  return `/o/${encodeURIComponent(orgScopeOf(c).org.slug)}/apps`;
}

/** `/o/<slug>/apps/<name>`. */
export function appHref(c: AppContext, app: Pick<App, "name">): string {
  return `${appsBase(c)}/${encodeURIComponent(app.name)}`;
}

/** The app the `:app` parameter names (by name or id) in the caller's organization, or 404. */
export async function appOf(c: AppContext): Promise<App> {
  const { org } = orgScopeOf(c);
  const ref = c.req.param("app") ?? "";
  return await c.var.services.apps.store.get(org.id, ref);
}

/** Whether the caller may change apps: a member or more, not through a read-only token. */
export function mayOperate(c: AppContext): boolean {
  const { role } = orgScopeOf(c);
  return c.get("principal")?.tokenScope !== "read" && roleAtLeast(role, "member");
}

/** Messages `?done=` may show on the app pages; anything else is ignored, never echoed. */
const DONE: Record<string, string> = {
  created: "App created. Its first deployment is under way.",
  saved: "Changes saved. Deploy to run them.",
  deployed: "Deployment started.",
  started: "App starting: its services scale back to their replicas.",
  stopped: "App stopping: its services scale to 0. Configuration and volumes are kept.",
  restarted: "Restart started: every task is replaced, one after another.",
  scaled: "Scaling started.",
  rolled_back: "Rollback started: the earlier deployment's snapshot is deployed again.",
  deleted: "App deleted.",
  policy_saved: "Migration policy saved.",
  policy_deployed: "Migration policy saved; a deployment applies it to the services now.",
  moved: "Move started: new tasks start on the chosen node, then the old ones stop.",
};

/** The flash message of the request's `?done=`, if it is one of ours. */
export function AppFlash({ c }: { c: AppContext }) {
  const key = c.req.query("done");
  return key && Object.hasOwn(DONE, key) ? <Alert kind="ok">{DONE[key]}</Alert> : null;
}

/**
 * An action's error to show on the page it was asked from (refusals, conflicts, no cluster, no
 * capacity); anything the user cannot act on (sign-in, internal errors) goes to the error page.
 */
export { pageError as actionError } from "../_docker.tsx";

/** The breadcrumb of a page below an app: Apps / <app>. */
export function AppCrumbs({ c, app }: { c: AppContext; app: Pick<App, "name"> }) {
  return (
    <nav class="crumbs" aria-label="Breadcrumb">
      <a href={appsBase(c)}>Apps</a> <span aria-hidden="true">/</span>{" "}
      <a href={appHref(c, app)}>{app.name}</a>
    </nav>
  );
}

/** The error of an action, with its per-field messages spelled out. */
export function ActionError({ error }: { error?: HttpError }) {
  if (!error) return null;
  const fields = Object.entries(error.fields ?? {});
  return (
    <Alert kind="error">
      {error.message}
      {fields.length > 0 && (
        <ul class="error-fields">
          {fields.map(([k, v]) => <li key={k}>{k.replace(/^spec\./, "")}: {v}</li>)}
        </ul>
      )}
    </Alert>
  );
}

/** The cluster is missing or its manager away: what the app pages say instead of live state. */
export function ClusterAway({ error, settingsHref }: { error: HttpError; settingsHref?: string }) {
  return (
    <Alert kind="warn">
      {error.message}
      {error.code === "no_cluster" && settingsHref && (
        <>
          {" "}
          <a href={settingsHref}>Settings → Cluster</a>
        </>
      )}
    </Alert>
  );
}

/** Runs a read of the cluster; a 503 (no cluster, manager offline) is answered as a value. */
export async function fromCluster<T>(
  read: () => Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: HttpError }> {
  try {
    return { ok: true, value: await read() };
  } catch (err) {
    const e = httpErrorOf(err);
    if (e?.status === 503) return { ok: false, error: e };
    throw err;
  }
}
