import type { Hono } from "hono";
import { z } from "zod";
import {
  actionContext,
  type AppContext,
  type AppEnv,
  principalOf,
} from "../../lib/http/context.ts";
import { page } from "../../lib/http/pages.ts";
import { nameSchema, slugSchema } from "../../lib/auth/schema.ts";
import { PageHeader } from "../../components/PageHeader.tsx";
import { OrgTable } from "../../components/OrgTable.tsx";
import { CreateOrgForm } from "../../components/CreateOrgForm.tsx";
import { EmptyState } from "../../components/EmptyState.tsx";
import type { FormState } from "../../components/Field.tsx";
import { errorsOf, formError, parseForm, readForm } from "../_forms.ts";
import { render, seeOther } from "../_render.tsx";

const CreateOrgInput = z.object({ slug: slugSchema, name: nameSchema });

async function orgsPage(c: AppContext, form: FormState = {}, status = 200) {
  const p = principalOf(c);
  // For platform admins this lists every organization.
  const orgs = await c.var.services.orgs.listForUser(p.userId, true);
  return render(
    c,
    <>
      <PageHeader title="Organizations" sub={`${orgs.length} on this hub`} />
      {orgs.length > 0 ? <OrgTable orgs={orgs} /> : (
        <EmptyState title="No organizations yet">
          <p>Create the first one below.</p>
        </EmptyState>
      )}
      <CreateOrgForm values={form.values} errors={form.errors} />
    </>,
    { title: "Organizations", active: "orgs", status },
  );
}

/** `GET/POST /admin/orgs`: every organization, and organization creation (platform admins). */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", "/admin/orgs", "platform_admin", (c) => orgsPage(c));

  page(app, "POST", "/admin/orgs", "platform_admin", async (c) => {
    const values = await readForm(c);
    const parsed = parseForm(CreateOrgInput, values);
    if (!parsed.ok) return orgsPage(c, { values, errors: parsed.errors }, 400);
    try {
      await c.var.services.orgs.create(actionContext(c), {
        ...parsed.data,
        ownerId: principalOf(c).userId,
      });
    } catch (err) {
      const e = formError(err);
      return orgsPage(c, { values, errors: errorsOf(e, "slug") }, e.status);
    }
    return seeOther(c, `/o/${encodeURIComponent(parsed.data.slug)}?ok=org_created`);
  });
}
