/**
 * `/admin/billing` (platform admins): the install's default price plan, which every organization
 * without its own plan is billed by. An organization's own plan and its wallet's top-ups are on
 * its Billing page.
 */
import type { Hono } from "hono";
import {
  actionContext,
  type AppContext,
  type AppEnv,
  principalOf,
} from "../../lib/http/context.ts";
import { page } from "../../lib/http/pages.ts";
import { FREE_PLAN } from "../../lib/billing/meter.ts";
import { DEFAULT_SCOPE } from "../../lib/billing/plans.ts";
import { PageHeader } from "../../components/PageHeader.tsx";
import { Alert } from "../../components/Alert.tsx";
import type { FormState } from "../../components/Field.tsx";
import { errorsOf, formError, parseForm, readForm } from "../_forms.ts";
import { render, seeOther } from "../_render.tsx";
import { PlanEditor, PlanForm } from "../o/[org]/billing.tsx";

async function adminPage(c: AppContext, form: FormState = {}, status = 200) {
  const plan = await c.var.services.billingPlans.get(DEFAULT_SCOPE);
  const orgs = await c.var.services.orgs.listForUser(principalOf(c).userId, true);
  return render(
    c,
    <>
      <PageHeader
        title="Billing"
        sub="The default price plan; an organization's own plan and top-ups are on its Billing page."
      />
      {c.req.query("done") === "plan" && <Alert kind="ok">Default price plan saved.</Alert>}
      {!plan && (
        <Alert kind="info">No default plan is set: organizations without their own are free.</Alert>
      )}
      <PlanEditor
        action="/admin/billing"
        plan={plan ?? FREE_PLAN}
        form={form}
        idPrefix="default"
        title="Default price plan"
      />
      <section class="card">
        <h2>Organizations</h2>
        <ul>
          {orgs.map((o) => (
            <li key={o.id}>
              <a href={`/o/${o.slug}/billing`}>{o.name}</a> <span class="muted">{o.slug}</span>
            </li>
          ))}
        </ul>
      </section>
    </>,
    { title: "Billing", active: "admin-billing", status, noStore: true },
  );
}

/** `GET/POST /admin/billing`: the default price plan (platform admins). */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", "/admin/billing", "platform_admin", (c) => adminPage(c));

  page(app, "POST", "/admin/billing", "platform_admin", async (c) => {
    const values = await readForm(c);
    const parsed = parseForm(PlanForm, values);
    if (!parsed.ok) return adminPage(c, { values, errors: parsed.errors }, 400);
    try {
      await c.var.services.billing.setPlan(actionContext(c), undefined, parsed.data);
    } catch (err) {
      const e = formError(err);
      return adminPage(c, { values, errors: errorsOf(e, "currency") }, e.status);
    }
    return seeOther(c, "/admin/billing?done=plan");
  });
}
