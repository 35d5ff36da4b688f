import type { Hono } from "hono";
import type { AppContext, AppEnv } from "../../../../../lib/http/context.ts";
import { page } from "../../../../../lib/http/pages.ts";
import { appCaller } from "../../../../../lib/http/callers.ts";
import type { App } from "../../../../../lib/apps/store.ts";
import { ConfirmForm } from "../../../../../components/ConfirmForm.tsx";
import { FormAlert } from "../../../../../components/Field.tsx";
import { readForm } from "../../../../_forms.ts";
import { render, seeOther } from "../../../../_render.tsx";
import { actionError, appHref, appOf } from "../_app.tsx";

const PATH = "/o/:org/apps/:app/move";

/** The node's hostname for the question (the id itself when the cluster does not answer). */
async function nodeName(c: AppContext, node: string): Promise<string> {
  const nodes = await c.var.services.cluster.nodes().catch(() => []);
  return nodes.find((n) => n.node_id === node)?.hostname ?? node;
}

/** "Move <service> to <node>?": what a move does, with the choice carried in the form. */
async function confirmPage(
  c: AppContext,
  app: App,
  choice: { service: string; node: string },
  errors?: Record<string, string>,
  status = 200,
) {
  const self = appHref(c, app);
  const name = await nodeName(c, choice.node);
  return render(
    c,
    <ConfirmForm
      title={`Move ${choice.service} to ${name}?`}
      action={`${self}/move`}
      confirm={`Move to ${name}`}
      cancelHref={self}
      hidden={choice}
      danger={false}
      options={<FormAlert errors={errors} />}
    >
      <p>
        A new deployment of the running configuration pins {choice.service} to{" "}
        {name}. Its new tasks start there first; the old ones stop once the new ones run, so the
        service keeps answering (host-mode ports are bound on {name}, not beside the old tasks).
      </p>
      <p class="muted">
        Data in volumes stays on the old node: a service that keeps state in a volume starts empty
        on {name}.
      </p>
    </ConfirmForm>,
    { title: `Move ${choice.service} · ${app.name}`, active: "apps", status },
  );
}

/** `GET/POST /o/:org/apps/:app/move`: move a service to another node, after a confirmation. */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", PATH, "org:member", async (c) => {
    const target = await appOf(c);
    const choice = { service: c.req.query("service") ?? "", node: c.req.query("node") ?? "" };
    return await confirmPage(c, target, choice);
  });

  page(app, "POST", PATH, "org:member", async (c) => {
    const target = await appOf(c);
    const { service = "", node = "" } = await readForm(c);
    try {
      await c.var.services.apps.move(appCaller(c), target, service, node);
    } catch (err) {
      const e = actionError(err);
      // A 400 names the field in words ("no node … in the cluster"); others say it whole.
      const message = e.status === 400 && e.fields ? Object.values(e.fields).join("; ") : e.message;
      return await confirmPage(c, target, { service, node }, { _form: message }, e.status);
    }
    return seeOther(c, `${appHref(c, target)}?done=moved`);
  });
}
