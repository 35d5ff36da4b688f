import type { Hono } from "hono";
import { type AppContext, type AppEnv, orgScopeOf } from "../../../../lib/http/context.ts";
import { page } from "../../../../lib/http/pages.ts";
import { PageHeader } from "../../../../components/PageHeader.tsx";
import { AddHostForm } from "../../../../components/AddHostForm.tsx";
import type { FormState } from "../../../../components/Field.tsx";
import { render } from "../../../_render.tsx";
import { hubAddressWarning } from "./_enrollment.tsx";

/** The add-host form, blank or with the submitted input and its errors (it posts to the list). */
export function addPage(c: AppContext, form: FormState = {}, status = 200) {
  const { org } = orgScopeOf(c);
  return render(
    c,
    <>
      <PageHeader
        title="Add a host"
        sub="Name the machine; the next page gives you the command that installs the agent on it."
      />
      {hubAddressWarning(c)}
      <AddHostForm
        action={`/o/${encodeURIComponent(org.slug)}/hosts`}
        values={form.values}
        errors={form.errors}
      />
    </>,
    { title: "Add a host", active: "hosts", status },
  );
}

/** `GET /o/:org/hosts/new`: the add-host form (admins). */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", "/o/:org/hosts/new", "org:admin", (c) => addPage(c));
}
