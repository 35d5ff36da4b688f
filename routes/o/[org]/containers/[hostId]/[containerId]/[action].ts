import type { Hono } from "hono";
import type { AppEnv } from "../../../../../../lib/http/context.ts";
import { page } from "../../../../../../lib/http/pages.ts";
import { readForm } from "../../../../../_forms.ts";
import type { PageKit } from "../../../../../_render.tsx";
import { act, ITEM } from "./_item.ts";

/** `POST …/start`, `…/stop`, `…/restart` of a container (members), back to where they came from. */
export function register(app: Hono<AppEnv>, kit: PageKit): void {
  for (const action of ["start", "stop", "restart"] as const) {
    page(app, "POST", `${ITEM}/${action}`, "org:member", async (c) => {
      const values = await readForm(c);
      return await act(c, kit, action, values.next, {});
    });
  }
}
