import type { Hono } from "hono";
import { actionContext, type AppEnv, orgScopeOf } from "../../../../../lib/http/context.ts";
import { page } from "../../../../../lib/http/pages.ts";
import { Alert } from "../../../../../components/Alert.tsx";
import { ConfirmAction } from "../../../../../components/ConfirmAction.tsx";
import { render, seeOther } from "../../../../_render.tsx";

const baseOf = (slug: string) => `/o/${encodeURIComponent(slug)}`;

/** Stop monitoring (members): confirmation, then the check and its history are deleted. */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", "/o/:org/health/:id/delete", "org:member", async (c) => {
    const { org } = orgScopeOf(c);
    const check = await c.var.services.health.service.get(org.id, c.req.param("id") ?? "");
    const self = `${baseOf(org.slug)}/health/${check.id}`;
    if (check.source === "label") {
      // The API answers 409 here too: say why, and what to do instead.
      return render(
        c,
        <section class="card confirm">
          <h1>Cannot stop monitoring "{check.name}"</h1>
          <Alert kind="error">
            It is declared by the labels of {check.container_name}{" "}
            (<code>capstan.health.*</code>): remove the labels to remove the check, or disable it.
          </Alert>
          <p>
            <a class="btn" href={self}>Back to the check</a>
          </p>
        </section>,
        { title: "Stop monitoring", active: "health", status: 409 },
      );
    }
    return render(
      c,
      <ConfirmAction
        title={`Stop monitoring "${check.name}"?`}
        action={`${self}/delete`}
        confirm="Stop monitoring"
        cancelHref={self}
      >
        <p>
          The check of {check.container_name} on {check.host_name}{" "}
          stops running and its history is deleted. An open alert for it resolves.
        </p>
      </ConfirmAction>,
      { title: "Stop monitoring", active: "health" },
    );
  });

  page(app, "POST", "/o/:org/health/:id/delete", "org:member", async (c) => {
    const { org } = orgScopeOf(c);
    await c.var.services.health.service.remove(actionContext(c), org.id, c.req.param("id") ?? "");
    return seeOther(c, `${baseOf(org.slug)}/health?done=deleted`);
  });
}
