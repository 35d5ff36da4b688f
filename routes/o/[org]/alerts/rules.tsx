import type { Hono } from "hono";
import {
  actionContext,
  type AppContext,
  type AppEnv,
  orgScopeOf,
} from "../../../../lib/http/context.ts";
import { page } from "../../../../lib/http/pages.ts";
import { HttpError } from "../../../../lib/http/errors.ts";
import { roleAtLeast } from "../../../../lib/auth/principal.ts";
import { EVENT_TYPES, RuleFields } from "../../../../lib/alerts/schema.ts";
import { PageHeader } from "../../../../components/PageHeader.tsx";
import { RulesTable } from "../../../../components/RulesTable.tsx";
import { RuleForm } from "../../../../components/RuleForm.tsx";
import { EmptyState } from "../../../../components/EmptyState.tsx";
import { ConfirmAction } from "../../../../components/ConfirmAction.tsx";
import type { FormState } from "../../../../components/Field.tsx";
import { errorsOf, formError, type FormValues, queryValues, readForm } from "../../../_forms.ts";
import { render, seeOther } from "../../../_render.tsx";
import { formErrors, newRuleValues, ruleFormValues, ruleInput } from "./_rule_form.ts";

const rulesPath = (slug: string) => `/o/${encodeURIComponent(slug)}/alerts/rules`;

/** The rules list (everyone in the organization; admins change). */
async function listPage(c: AppContext) {
  const { org, role } = orgScopeOf(c);
  const { alerts, hosts } = c.var.services;
  const rules = await alerts.rules.list(org.id);
  const names = new Map((await hosts.list(org.id)).map((h) => [h.id, h.name]));
  const canEdit = roleAtLeast(role, "admin");
  const base = rulesPath(org.slug);
  return render(
    c,
    <>
      <PageHeader
        title="Alert rules"
        sub={<>{org.name} · when an alert fires, and who is told</>}
      >
        {canEdit && <a class="btn btn-primary" href={`${base}/new?kind=metric`}>New metric rule</a>}
        {canEdit && <a class="btn" href={`${base}/new?kind=event`}>New event rule</a>}
      </PageHeader>
      {rules.length
        ? (
          <RulesTable
            rules={rules}
            base={base}
            canEdit={canEdit}
            hostName={(id) => names.get(id) ?? id}
          />
        )
        : (
          <EmptyState title="No alert rules">
            <p>Nothing is watched: add a metric rule (CPU, memory, disk…) or an event rule.</p>
          </EmptyState>
        )}
    </>,
    { title: `Alert rules · ${org.name}`, active: "alert_rules" },
  );
}

/** The create or edit form, with the submitted input and its errors after a failed save. */
async function formPage(
  c: AppContext,
  o: { kind: "metric" | "event"; id?: string; name?: string } & FormState,
  status = 200,
) {
  const { org } = orgScopeOf(c);
  const { alerts, hosts } = c.var.services;
  const base = rulesPath(org.slug);
  const title = o.id ? `Edit "${o.name}"` : `New ${o.kind} rule`;
  return render(
    c,
    <>
      <PageHeader title={title} sub={<a href={base}>← Alert rules</a>} />
      <RuleForm
        action={o.id ? `${base}/${encodeURIComponent(o.id)}/edit` : `${base}/new`}
        kind={o.kind}
        values={o.values}
        errors={o.errors}
        hosts={(await hosts.list(org.id)).map((h) => ({ id: h.id, name: h.name }))}
        channels={(await alerts.channels.list(org.id)).map((ch) => ({
          id: ch.id,
          name: ch.name,
          kind: ch.kind,
        }))}
        eventTypes={EVENT_TYPES}
        metrics={o.kind === "metric" ? await c.var.services.alerts.metricCatalog(org.id) : []}
        submit={o.id ? "Save rule" : "Create rule"}
        cancelHref={base}
      />
    </>,
    { title, active: "alert_rules", status },
  );
}

/** Form → validated rule fields, or the form's errors (zod ranges first, like the API). */
function parseRule(values: FormValues) {
  const input = ruleInput(values);
  if (!input.ok) return input;
  const r = RuleFields.safeParse(input.data);
  if (r.success) return { ok: true as const, data: r.data };
  const fields: Record<string, string> = {};
  for (const i of r.error.issues) fields[i.path.map(String).join(".") || "_form"] ??= i.message;
  return { ok: false as const, errors: formErrors(fields, values) };
}

/** Errors of a failed save, on the form's inputs. */
function saveErrors(err: unknown, values: FormValues) {
  const e = formError(err);
  return { status: e.status, errors: formErrors(errorsOf(e), values) };
}

/** Alert rule pages: list, create, edit, enable/disable and delete (admins change). */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", "/o/:org/alerts/rules", "org:viewer", (c) => listPage(c));

  page(app, "GET", "/o/:org/alerts/rules/new", "org:admin", (c) => {
    const kind = queryValues(c).kind === "event" ? "event" : "metric";
    return formPage(c, { kind, values: newRuleValues(kind) });
  });

  page(app, "POST", "/o/:org/alerts/rules/new", "org:admin", async (c) => {
    const { org } = orgScopeOf(c);
    const values = await readForm(c);
    const kind = values.kind === "event" ? "event" : "metric";
    const parsed = parseRule(values);
    if (!parsed.ok) return formPage(c, { kind, values, errors: parsed.errors }, 400);
    try {
      await c.var.services.alerts.rules.create(actionContext(c), org.id, parsed.data);
    } catch (err) {
      const { status, errors } = saveErrors(err, values);
      return formPage(c, { kind, values, errors }, status);
    }
    return seeOther(c, `${rulesPath(org.slug)}?ok=rule_saved`);
  });

  page(app, "GET", "/o/:org/alerts/rules/:id/edit", "org:admin", async (c) => {
    const { org } = orgScopeOf(c);
    const r = await c.var.services.alerts.rules.get(org.id, c.req.param("id") ?? "");
    return formPage(c, { kind: r.kind, id: r.id, name: r.name, values: ruleFormValues(r) });
  });

  page(app, "POST", "/o/:org/alerts/rules/:id/edit", "org:admin", async (c) => {
    const { org } = orgScopeOf(c);
    const r = await c.var.services.alerts.rules.get(org.id, c.req.param("id") ?? "");
    const values = { ...(await readForm(c)), kind: r.kind };
    const state = { kind: r.kind, id: r.id, name: r.name, values };
    const parsed = parseRule(values);
    if (!parsed.ok) return formPage(c, { ...state, errors: parsed.errors }, 400);
    try {
      await c.var.services.alerts.rules.update(actionContext(c), org.id, r.id, parsed.data);
    } catch (err) {
      const { status, errors } = saveErrors(err, values);
      return formPage(c, { ...state, errors }, status);
    }
    return seeOther(c, `${rulesPath(org.slug)}?ok=rule_saved`);
  });

  page(app, "POST", "/o/:org/alerts/rules/:id/enabled", "org:admin", async (c) => {
    const { org } = orgScopeOf(c);
    const values = await readForm(c);
    if (values.enabled !== "0" && values.enabled !== "1") {
      throw new HttpError(400, "validation", "Invalid form: enabled", {
        enabled: "must be 0 or 1",
      });
    }
    await c.var.services.alerts.rules.update(actionContext(c), org.id, c.req.param("id") ?? "", {
      enabled: values.enabled === "1",
    });
    return seeOther(
      c,
      `${rulesPath(org.slug)}?ok=${values.enabled === "1" ? "rule_enabled" : "rule_disabled"}`,
    );
  });

  page(app, "GET", "/o/:org/alerts/rules/:id/delete", "org:admin", async (c) => {
    const { org } = orgScopeOf(c);
    const r = await c.var.services.alerts.rules.get(org.id, c.req.param("id") ?? "");
    const base = rulesPath(org.slug);
    return render(
      c,
      <ConfirmAction
        title={`Delete the rule "${r.name}"?`}
        action={`${base}/${encodeURIComponent(r.id)}/delete`}
        confirm="Delete rule"
        cancelHref={base}
      >
        <p>
          Its open alerts end without a notification, and nothing is watched for it any more. Past
          alerts stay in Notifications. To pause it instead, disable it.
        </p>
      </ConfirmAction>,
      { title: "Delete alert rule", active: "alert_rules" },
    );
  });

  page(app, "POST", "/o/:org/alerts/rules/:id/delete", "org:admin", async (c) => {
    const { org } = orgScopeOf(c);
    await c.var.services.alerts.rules.remove(actionContext(c), org.id, c.req.param("id") ?? "");
    return seeOther(c, `${rulesPath(org.slug)}?ok=rule_deleted`);
  });
}
