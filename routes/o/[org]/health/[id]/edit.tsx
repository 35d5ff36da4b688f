import type { Hono } from "hono";
import {
  actionContext,
  type AppContext,
  type AppEnv,
  orgScopeOf,
} from "../../../../../lib/http/context.ts";
import { page } from "../../../../../lib/http/pages.ts";
import type { HealthCheckView } from "../../../../../lib/health/rows.ts";
import { PageHeader } from "../../../../../components/PageHeader.tsx";
import { HealthCheckForm } from "../../../../../components/HealthCheckForm.tsx";
import { KIND_LABELS } from "../../../../../components/HealthBadge.tsx";
import type { FormState } from "../../../../../components/Field.tsx";
import { Alert } from "../../../../../components/Alert.tsx";
import { httpErrorOf, readForm } from "../../../../_forms.ts";
import { render, seeOther } from "../../../../_render.tsx";
import { checkValues, serviceErrors, updateInput } from "../_form.ts";

const baseOf = (slug: string) => `/o/${encodeURIComponent(slug)}`;

/** The note a check declared by labels gets instead of a form (`error`: a refused change). */
function LabelNote({ check, error }: { check: HealthCheckView; error?: string }) {
  return (
    <Alert kind={error ? "error" : "info"}>
      {error ?? (
        <>
          This check is declared by the labels of {check.container_name}{" "}
          (<code>capstan.health.*</code>): change the labels to change it.
        </>
      )} Here it can only be enabled or disabled.
    </Alert>
  );
}

/** The edit form of a check; a label check shows why it cannot be edited here. */
function editPage(
  c: AppContext,
  check: HealthCheckView,
  state: FormState & { labelError?: string },
  status = 200,
) {
  const { org } = orgScopeOf(c);
  const base = baseOf(org.slug);
  const detail = `${base}/health/${check.id}`;
  return render(
    c,
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={`${base}/health`}>Health</a> <span aria-hidden="true">/</span>{" "}
        <a href={detail}>{check.name}</a>
      </nav>
      <PageHeader
        title={`Edit "${check.name}"`}
        sub={<>{KIND_LABELS[check.kind]} check of {check.container_name} on {check.host_name}</>}
      />
      {check.source === "label"
        ? (
          <>
            <LabelNote check={check} error={state.labelError} />
            <form method="post" action={`${detail}/${check.enabled ? "disable" : "enable"}`}>
              <button class="btn" type="submit">{check.enabled ? "Disable" : "Enable"}</button>{" "}
              <a class="btn btn-ghost" href={detail}>Back</a>
            </form>
          </>
        )
        : (
          <HealthCheckForm
            action={`${detail}/edit`}
            kind={check.kind}
            values={state.values}
            errors={state.errors}
            submit="Save check"
            cancelHref={detail}
          />
        )}
    </>,
    { title: `Edit ${check.name}`, active: "health", status },
  );
}

/** The edit form of a health check (members, like the API). */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", "/o/:org/health/:id/edit", "org:member", async (c) => {
    const { org } = orgScopeOf(c);
    const check = await c.var.services.health.service.get(org.id, c.req.param("id") ?? "");
    return editPage(c, check, { values: checkValues(check) });
  });

  page(app, "POST", "/o/:org/health/:id/edit", "org:member", async (c) => {
    const { org } = orgScopeOf(c);
    const check = await c.var.services.health.service.get(org.id, c.req.param("id") ?? "");
    const values = await readForm(c);
    const parsed = updateInput(check.kind, values);
    if (!parsed.ok) return editPage(c, check, { values, errors: parsed.errors }, 400);
    try {
      await c.var.services.health.service.update(
        actionContext(c),
        org.id,
        check.id,
        parsed.data,
        { role: orgScopeOf(c).role },
      );
    } catch (err) {
      const conflict = httpErrorOf(err);
      if (conflict?.status === 409) {
        return editPage(c, check, { values, labelError: conflict.message }, 409);
      }
      const { errors, status } = serviceErrors(err);
      return editPage(c, check, { values, errors }, status);
    }
    return seeOther(c, `${baseOf(org.slug)}/health/${check.id}?done=saved`);
  });
}
