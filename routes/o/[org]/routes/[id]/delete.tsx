import type { Hono } from "hono";
import type { AppContext, AppEnv } from "../../../../../lib/http/context.ts";
import { page } from "../../../../../lib/http/pages.ts";
import { routeCaller } from "../../../../../lib/http/callers.ts";
import type { Route } from "../../../../../lib/proxy/store.ts";
import { ConfirmForm } from "../../../../../components/ConfirmForm.tsx";
import { FormAlert, type FormState } from "../../../../../components/Field.tsx";
import { errorsOf } from "../../../../_forms.ts";
import { render, seeOther } from "../../../../_render.tsx";
import { actionError, routeHref, routeOf, routesBase, targetText } from "../_route.tsx";

const PATH = "/o/:org/routes/:id/delete";

/** The confirmation, naming what stops answering. */
function confirmPage(c: AppContext, route: Route, form: FormState = {}, status = 200) {
  const self = routeHref(c, route);
  const names = route.spec.hostnames.join(", ");
  return render(
    c,
    <ConfirmForm
      title={`Delete the route of ${route.spec.hostnames[0]}?`}
      action={`${self}/delete`}
      confirm="Delete route"
      cancelHref={self}
      options={<FormAlert errors={form.errors} />}
    >
      <p>
        {names} stop{route.spec.hostnames.length === 1 ? "s" : ""} reaching{" "}
        <code>{targetText(route.spec)}</code>{" "}
        as soon as the proxy has loaded the change, and the hostnames are free for another route.
        The target itself is not touched.
      </p>
    </ConfirmForm>,
    { title: `Delete route ${route.spec.hostnames[0]}`, active: "routes", status },
  );
}

/** `GET/POST /o/:org/routes/:id/delete`: delete a route after a confirmation (members). */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", PATH, "org:member", async (c) => confirmPage(c, await routeOf(c)));

  page(app, "POST", PATH, "org:member", async (c) => {
    const route = await routeOf(c);
    try {
      await c.var.services.proxy.remove(routeCaller(c), route);
    } catch (err) {
      const e = actionError(err);
      return await confirmPage(c, route, { errors: errorsOf(e) }, e.status);
    }
    return seeOther(c, `${routesBase(c)}?done=deleted`);
  });
}
