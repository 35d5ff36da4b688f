import type { Hono } from "hono";
import { z } from "zod";
import { actionContext, type AppEnv, orgScopeOf } from "../../../../../lib/http/context.ts";
import { page } from "../../../../../lib/http/pages.ts";
import { removeHostNow } from "../../../../../lib/hosts/use_cases.ts";
import { parseForm, readForm } from "../../../../_forms.ts";
import { type PageKit, render, seeOther } from "../../../../_render.tsx";
import { hostOf, hostPage, hostPath, hostsPath } from "../[hostId].tsx";

const RemoveInput = z.object({ history: z.enum(["keep", "delete"]) });

/** Removing a host (admins): confirmation with the choice of keeping its history, then removal. */
export function register(app: Hono<AppEnv>, kit: PageKit): void {
  page(app, "GET", "/o/:org/hosts/:hostId/remove", "org:admin", async (c) => {
    const { org } = orgScopeOf(c);
    const host = await hostOf(c);
    const path = hostPath(org.slug, host.id);
    return render(
      c,
      <section class="card confirm">
        <h1>Remove “{host.name}”?</h1>
        <p>
          Its agent is disconnected and its token stops working at once. Containers keep running on
          the machine; Capstan just stops managing it.{host.local &&
            " This is the hub's own engine: it comes back when the hub restarts unless CAPSTAN_LOCAL_AGENT=0."}
        </p>
        <form method="post" action={`${path}/remove`} class="form">
          <fieldset>
            <legend>Its history (metrics, container list)</legend>
            <div class="field field-check">
              <input id="history-keep" type="radio" name="history" value="keep" checked />
              <label for="history-keep">Keep it (hidden; the audit log always stays)</label>
            </div>
            <div class="field field-check">
              <input id="history-delete" type="radio" name="history" value="delete" />
              <label for="history-delete">Delete it</label>
            </div>
          </fieldset>
          <div class="actions">
            <button class="btn btn-danger" type="submit">Remove host</button>
            <a class="btn" href={path}>Cancel</a>
          </div>
        </form>
      </section>,
      { title: "Remove host", active: "hosts" },
    );
  });

  page(app, "POST", "/o/:org/hosts/:hostId/remove", "org:admin", async (c) => {
    const { org } = orgScopeOf(c);
    const host = await hostOf(c);
    const parsed = parseForm(RemoveInput, await readForm(c));
    if (!parsed.ok) return hostPage(c, kit, { error: "Choose whether to keep its history." }, 400);
    await removeHostNow(
      c.var.services,
      actionContext(c),
      org.id,
      host.id,
      parsed.data.history === "keep",
    );
    return seeOther(c, `${hostsPath(org.slug)}?ok=host_removed`);
  });
}
