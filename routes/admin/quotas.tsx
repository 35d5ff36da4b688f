import type { Hono } from "hono";
import { z } from "zod";
import {
  actionContext,
  type AppContext,
  type AppEnv,
  principalOf,
} from "../../lib/http/context.ts";
import { page } from "../../lib/http/pages.ts";
import { PageHeader } from "../../components/PageHeader.tsx";
import { Time } from "../../components/Time.tsx";
import { Alert } from "../../components/Alert.tsx";
import { EmptyState } from "../../components/EmptyState.tsx";
import { FormAlert, type FormState, SelectField, TextField } from "../../components/Field.tsx";
import { type Resource, RESOURCE_INFO, RESOURCES } from "../../lib/quotas/resources.ts";
import { errorsOf, formError, parseForm, readForm } from "../_forms.ts";
import { render, seeOther } from "../_render.tsx";

const DONE: Record<string, string> = {
  defaults: "Defaults saved.",
  override: "Override saved.",
  cleared: "Override removed; the default applies again.",
};

const OverrideForm = z.object({
  org: z.string().min(1, "choose an organization"),
  resource: z.enum(RESOURCES),
  value: z.string().trim(),
  reason: z.string(),
  expires_days: z.string().trim().regex(/^\d{0,4}$/, "a whole number of days, or empty"),
});

async function editor(
  c: AppContext,
  forms: { defaults?: FormState; override?: FormState } = {},
  status = 200,
) {
  const { quotas, orgs } = c.var.services;
  const [defaults, overrides, all] = await Promise.all([
    quotas.defaults(),
    quotas.allOverrides(),
    orgs.listForUser(principalOf(c).userId, true),
  ]);
  const slugOf = new Map(all.map((o) => [o.id, o.slug]));
  const now = Date.now();
  const ok = DONE[c.req.query("ok") ?? ""];
  const dv = forms.defaults?.values ??
    Object.fromEntries(
      RESOURCES.map((r) => [r, defaults[r] === undefined ? "" : String(defaults[r])]),
    );
  return render(
    c,
    <>
      <PageHeader
        title="Quotas"
        sub={
          <>
            Install defaults and per-organization overrides.{" "}
            <a href="/admin/quotas/usage">Consumption of every organization</a>
          </>
        }
      />
      {ok && <Alert kind="ok">{ok}</Alert>}
      <form method="post" action="/admin/quotas/defaults" class="card form quota-defaults">
        <h2>Defaults</h2>
        <p class="hint">Whole numbers in each unit; empty means unlimited.</p>
        <FormAlert errors={forms.defaults?.errors} />
        <div class="quota-grid">
          {RESOURCES.map((r) => (
            <TextField
              key={r}
              name={r}
              type="number"
              min={0}
              idPrefix="d"
              label={`${RESOURCE_INFO[r].label} (${RESOURCE_INFO[r].unit})`}
              values={dv}
              errors={forms.defaults?.errors}
            />
          ))}
        </div>
        <button class="btn" type="submit">Save defaults</button>
      </form>

      <form method="post" action="/admin/quotas/override" class="card form quota-override">
        <h2>Override for an organization</h2>
        <FormAlert errors={forms.override?.errors} />
        <SelectField
          name="org"
          label="Organization"
          idPrefix="o"
          options={all.map((o) => ({ value: o.slug, label: `${o.name} (${o.slug})` }))}
          values={forms.override?.values}
          errors={forms.override?.errors}
        />
        <SelectField
          name="resource"
          label="Resource"
          idPrefix="o"
          options={RESOURCES.map((r) => ({
            value: r,
            label: `${RESOURCE_INFO[r].label} (${RESOURCE_INFO[r].unit})`,
          }))}
          values={forms.override?.values}
          errors={forms.override?.errors}
        />
        <TextField
          name="value"
          label="Limit (empty: unlimited)"
          type="number"
          min={0}
          idPrefix="o"
          values={forms.override?.values}
          errors={forms.override?.errors}
        />
        <TextField
          name="reason"
          label="Reason"
          idPrefix="o"
          maxLength={500}
          required
          values={forms.override?.values}
          errors={forms.override?.errors}
        />
        <TextField
          name="expires_days"
          label="Expires after (days; empty: never)"
          type="number"
          min={0}
          idPrefix="o"
          values={forms.override?.values}
          errors={forms.override?.errors}
        />
        <button class="btn" type="submit">Save override</button>
      </form>

      <section class="card">
        <h2>Overrides</h2>
        {overrides.length === 0
          ? <EmptyState title="No overrides">Every organization has the defaults.</EmptyState>
          : (
            <div class="table-wrap">
              <table class="table-cards quota-overrides">
                <thead>
                  <tr>
                    <th scope="col">Organization</th>
                    <th scope="col">Resource</th>
                    <th scope="col">Limit</th>
                    <th scope="col">Reason</th>
                    <th scope="col">Expires</th>
                    <th scope="col">
                      <span class="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {overrides.map((o) => {
                    const slug = slugOf.get(o.org_id) ?? o.org_id;
                    return (
                      <tr key={`${o.org_id}:${o.resource}`} data-override={`${slug}:${o.resource}`}>
                        <td class="card-title">
                          <a href={`/o/${slug}/quotas`}>{slug}</a>
                        </td>
                        <td data-label="Resource">{RESOURCE_INFO[o.resource as Resource].label}</td>
                        <td data-label="Limit">
                          {o.value === null
                            ? "unlimited"
                            : `${o.value} ${RESOURCE_INFO[o.resource].unit}`}
                        </td>
                        <td data-label="Reason">{o.reason}</td>
                        <td data-label="Expires">
                          {o.expires_at === null ? "never" : <Time ms={o.expires_at} />}
                          {o.expires_at !== null && o.expires_at <= now && " (expired)"}
                        </td>
                        <td>
                          <form method="post" action="/admin/quotas/clear" class="inline-action">
                            <input type="hidden" name="org" value={slug} />
                            <input type="hidden" name="resource" value={o.resource} />
                            <button class="btn btn-small" type="submit">Remove</button>
                          </form>
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
      </section>
    </>,
    { title: "Quotas", active: "admin-quotas", status },
  );
}

/** `/admin/quotas`: the install's default limits and per-organization overrides (platform admins). */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", "/admin/quotas", "platform_admin", (c) => editor(c));

  page(app, "POST", "/admin/quotas/defaults", "platform_admin", async (c) => {
    const values = await readForm(c);
    const patch: Record<string, number | null> = {};
    const errors: Record<string, string> = {};
    for (const r of RESOURCES) {
      const v = (values[r] ?? "").trim();
      if (v === "") patch[r] = null;
      else if (/^\d{1,16}$/.test(v)) patch[r] = Number(v);
      else errors[r] = "must be a whole number, or empty for unlimited";
    }
    if (Object.keys(errors).length) return editor(c, { defaults: { values, errors } }, 400);
    try {
      await c.var.services.quotas.setDefaults(actionContext(c), patch);
    } catch (err) {
      return editor(c, { defaults: { values, errors: errorsOf(formError(err)) } }, 400);
    }
    return seeOther(c, "/admin/quotas?ok=defaults");
  });

  page(app, "POST", "/admin/quotas/override", "platform_admin", async (c) => {
    const values = await readForm(c);
    const parsed = parseForm(OverrideForm, values);
    if (!parsed.ok) return editor(c, { override: { values, errors: parsed.errors } }, 400);
    const f = parsed.data;
    const org = await c.var.services.orgs.bySlug(f.org);
    if (!org) {
      return editor(c, { override: { values, errors: { org: "no such organization" } } }, 400);
    }
    if (f.value !== "" && !/^\d{1,16}$/.test(f.value)) {
      return editor(c, {
        override: { values, errors: { value: "must be a whole number, or empty" } },
      }, 400);
    }
    try {
      await c.var.services.quotas.setOverride(actionContext(c), org.id, f.resource, {
        value: f.value === "" ? null : Number(f.value),
        reason: f.reason,
        expires_at: f.expires_days === "" ? null : Date.now() + Number(f.expires_days) * 86_400_000,
      });
    } catch (err) {
      const e = formError(err);
      return editor(c, { override: { values, errors: errorsOf(e) } }, e.status);
    }
    return seeOther(c, "/admin/quotas?ok=override");
  });

  page(app, "POST", "/admin/quotas/clear", "platform_admin", async (c) => {
    const values = await readForm(c);
    const org = await c.var.services.orgs.bySlug(values.org ?? "");
    if (org) {
      await c.var.services.quotas.clearOverride(actionContext(c), org.id, values.resource ?? "");
    }
    return seeOther(c, "/admin/quotas?ok=cleared");
  });
}
