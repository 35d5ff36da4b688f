/**
 * The cost estimate of a form that is about to run something (new app, template deploy, scale):
 * server-rendered from the form's values through the billing service's meter, and hydrated as the
 * CostEstimateLive island, which asks the same endpoint again as the numbers change. Nothing at
 * all when the org's plan prices neither CPU nor memory (billing is free: no noise).
 */
import type { JSX } from "preact";
import { type AppContext, orgScopeOf } from "../../../../lib/http/context.ts";
import { island } from "../../../../lib/islands/island.tsx";
import type { App } from "../../../../lib/apps/store.ts";
import { Invalid } from "../../../../lib/errors.ts";
import { bytes, type Template } from "../../../../lib/templates/format.ts";
import CostEstimateLive, {
  type CostEstimateLiveProps,
} from "../../../../islands/CostEstimateLive.tsx";
import {
  CostEstimate,
  type EstimateFields,
  type EstimateService,
  type EstimateView,
  proposedServices,
  reserves,
} from "../../../../components/CostEstimate.tsx";
import { hasIsland } from "../../../_render.tsx";

const CostEstimateLiveIsland = island("CostEstimateLive", CostEstimateLive);

/** The fields of the app form (components/AppForm.tsx) an estimate reads. */
export const APP_FORM_FIELDS: EstimateFields = {
  replicas: "replicas",
  cpus: "cpu_reservation",
  memory_mib: "memory_reservation_mib",
};

/** An app's saved services as the estimate takes them (reservations per task). */
export function servicesOf(app: Pick<App, "spec">): EstimateService[] {
  return app.spec.services.map((s) => ({
    replicas: s.replicas,
    global: s.global ?? false,
    cpus: s.resources.reservations?.cpus ?? 0,
    memory_bytes: s.resources.reservations?.memory_bytes ?? 0,
  }));
}

/**
 * A template's services as the estimate takes them, as renderTemplate makes them (replicas 1
 * unless said; cores and memory sizes as numbers). The deploy form's variables do not change them.
 */
export function templateServices(t: Pick<Template, "services">): EstimateService[] {
  return Object.values(t.services).map((s) => {
    const r = s.resources?.reservations;
    return {
      replicas: s.replicas ?? 1,
      cpus: r?.cpus !== undefined ? Number(r.cpus) : 0,
      memory_bytes: r?.memory !== undefined ? bytes(r.memory) : 0,
    };
  });
}

/** One blank service (the new-app form: its fields say the rest). */
export const ONE_SERVICE: EstimateService[] = [{ replicas: 1, cpus: 0, memory_bytes: 0 }];

/**
 * The estimate line for `base` with service `index` changed by the form's `values`, or null when
 * the org's plan is free. Rendered as the live island when the page can hydrate it.
 */
export async function costEstimate(
  c: AppContext,
  opts: {
    base: EstimateService[];
    index?: number;
    fields: EstimateFields;
    values: Record<string, string | undefined>;
    names?: string[];
  },
): Promise<JSX.Element | null> {
  const { org } = orgScopeOf(c);
  const billing = c.var.services.billing;
  const { plan } = await billing.plan(org.id);
  // Reservations are priced by CPU and memory only: a plan pricing neither makes them free.
  if (plan.cpu_core_hour === 0 && plan.memory_gib_hour === 0) return null;
  const index = opts.index ?? 0;
  const services = proposedServices(
    opts.base,
    index,
    opts.fields,
    (n) => opts.values[n],
    opts.names,
  );
  let view: EstimateView;
  if (!services) view = { kind: "invalid" };
  else if (!reserves(services)) view = { kind: "unreserved" };
  else {
    try {
      const e = await billing.estimate(org.id, { services });
      view = { kind: "priced", currency: e.currency, per_hour: e.per_hour, per_month: e.per_month };
    } catch (err) {
      // A saved spec past the estimate's bounds (more than 64 services, say) must not cost the
      // page: no figure.
      if (!(err instanceof Invalid)) throw err;
      view = { kind: "invalid" };
    }
  }
  const props: CostEstimateLiveProps = {
    url: `/api/v1/orgs/${encodeURIComponent(org.slug)}/billing/estimate`,
    services: opts.base,
    index,
    fields: opts.fields,
    names: opts.names,
    initial: view,
  };
  // No field changes it (a template's services are fixed): the server's line is all there is.
  const live = Object.keys(opts.fields).length > 0;
  return live && hasIsland(c.get("pageManifest") ?? null, "CostEstimateLive")
    ? <CostEstimateLiveIsland {...props} />
    : <CostEstimate view={view} />;
}
