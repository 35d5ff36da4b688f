import type { Hono } from "hono";
import { settingsTabs } from "./[panel].tsx";
import { z } from "zod";
import {
  actionContext,
  type AppContext,
  type AppEnv,
  orgScopeOf,
} from "../../../../lib/http/context.ts";
import { page } from "../../../../lib/http/pages.ts";
import { EXEC_ROLES, type ExecRole, setExecRole } from "../../../../lib/hosts/exec_policy.ts";
import { containerExecRole } from "../../../../lib/hosts/container_use_cases.ts";
import { PageHeader } from "../../../../components/PageHeader.tsx";
import { Alert } from "../../../../components/Alert.tsx";
import { type FormState, SelectField } from "../../../../components/Field.tsx";
import { parseForm, readForm } from "../../../_forms.ts";
import { render, seeOther } from "../../../_render.tsx";

const PATH = "/o/:org/settings/containers";
const Input = z.object({ exec_role: z.enum(EXEC_ROLES, "choose one of the listed roles") });

const CHOICES: { value: ExecRole; label: string }[] = [
  { value: "admin", label: "Admins and owners (default)" },
  { value: "member", label: "Members, admins and owners" },
];

/** The settings form; `state` carries a refused submission. */
async function settingsPage(c: AppContext, state?: FormState, status = 200) {
  const { org } = orgScopeOf(c);
  const role = await containerExecRole(c.var.services, org.id);
  const base = `/o/${encodeURIComponent(org.slug)}`;
  return render(
    c,
    <>
      <PageHeader
        title="Container settings"
        sub="Who may do what inside this organization's containers."
      />
      {settingsTabs(c, "containers")}
      {c.req.query("ok") === "saved" && <Alert kind="ok">Settings saved.</Alert>}
      <section class="card">
        <h2>Running commands in containers</h2>
        <p>
          A command health check runs its command inside the container every few seconds: whoever
          may create one may run anything there, with the container's files, mounts and credentials.
          The same people read what those commands print. Everyone else still sees each check's
          state and response times.
        </p>
        <form method="post" action={`${base}/settings/containers`} class="stack">
          <SelectField
            name="exec_role"
            label="Who may create command checks and read their output"
            options={CHOICES}
            value={role}
            values={state?.values}
            errors={state?.errors}
          />
          <div class="actions">
            <button class="btn btn-primary" type="submit">Save</button>
          </div>
        </form>
      </section>
    </>,
    { title: "Container settings", active: "settings", status },
  );
}

/** `/o/:org/settings/containers` (admins): who may run commands in containers. */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", PATH, "org:admin", (c) => settingsPage(c));

  page(app, "POST", PATH, "org:admin", async (c) => {
    const { org } = orgScopeOf(c);
    const values = await readForm(c);
    const parsed = parseForm(Input, values);
    if (!parsed.ok) return settingsPage(c, { values, errors: parsed.errors }, 400);
    await setExecRole(c.var.services, actionContext(c), org.id, parsed.data.exec_role);
    return seeOther(c, `/o/${encodeURIComponent(org.slug)}/settings/containers?ok=saved`);
  });
}
