import type { Hono } from "hono";
import { z } from "zod";
import { actionContext, type AppEnv, orgScopeOf } from "../../../lib/http/context.ts";
import { page } from "../../../lib/http/pages.ts";
import { emailSchema } from "../../../lib/auth/schema.ts";
import { formError, parseForm, readForm } from "../../_forms.ts";
import { seeOther } from "../../_render.tsx";
import { membersPage } from "./members.tsx";

const base = (slug: string) => `/o/${encodeURIComponent(slug)}`;

/** `POST /o/:org/invitations/withdraw` (admins): the members page's "Withdraw" on a pending invitation. */
export function register(app: Hono<AppEnv>): void {
  page(app, "POST", "/o/:org/invitations/withdraw", "org:admin", async (c) => {
    const { org } = orgScopeOf(c);
    const parsed = parseForm(z.object({ email: emailSchema }), await readForm(c));
    if (!parsed.ok) return membersPage(c, { error: "Name the invitation to withdraw." }, 400);
    try {
      await c.var.services.invitations.cancel(actionContext(c), org, parsed.data.email);
    } catch (err) {
      const e = formError(err);
      return membersPage(c, { error: e.message }, e.status);
    }
    return seeOther(c, `${base(org.slug)}/members?ok=invitation_withdrawn`);
  });
}
