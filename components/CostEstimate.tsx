/**
 * The cost estimate shown before a user confirms what they are about to run (new app, template
 * deploy, scale): "≈ X per hour · Y per month" under the org's price plan, as the server's meter
 * priced it (`POST …/billing/estimate`). Server-rendered; the CostEstimateLive island re-renders
 * the same markup as the form's numbers change.
 */
import { money } from "./money.ts";

/** What the estimate line says: priced, not priced because nothing is reserved, or unknown. */
export type EstimateView =
  | { kind: "priced"; currency: string; per_hour: number; per_month: number }
  | { kind: "unreserved" }
  /** The form's numbers are not numbers (yet): no figure rather than a wrong one. */
  | { kind: "invalid" };

/** One proposed service as the estimate endpoint takes it. */
export interface EstimateService {
  replicas: number;
  global?: boolean;
  cpus: number;
  memory_bytes: number;
}

/** Whether any service reserves something (an unreserved one is not billed for CPU or memory). */
export function reserves(services: readonly EstimateService[]): boolean {
  return services.some((s) => s.cpus > 0 || s.memory_bytes > 0);
}

/** The sentence of an estimate. */
export function estimateText(v: EstimateView): string {
  if (v.kind === "unreserved") {
    return "No CPU or memory reserved: unreserved resources are not billed.";
  }
  if (v.kind === "invalid") return "Enter replicas and reservations as numbers to see the cost.";
  return `≈ ${money(v.per_hour, v.currency)} per hour · ${
    money(v.per_month, v.currency)
  } per month`;
}

/** The estimate line (a live region: the island changes it as the form changes). */
export function CostEstimate({ view, busy }: { view: EstimateView; busy?: boolean }) {
  return (
    <p class="cost-estimate" role="status" aria-busy={busy ? "true" : undefined}>
      <span class="cost-estimate-label">Estimated cost:</span> <span>{estimateText(view)}</span>
      {view.kind === "priced" && (
        <span class="hint">
          {" "}From the organization's price plan, for the reserved CPU and memory of every replica.
        </span>
      )}
    </p>
  );
}

/** The form fields an estimate reads, for service `index` of the proposed services. */
export interface EstimateFields {
  replicas?: string;
  /** Reserved cores per task. */
  cpus?: string;
  /** Reserved MiB of memory per task. */
  memory_mib?: string;
  /** A select naming the service the fields apply to (the scale form of a multi-service app). */
  service?: string;
}

const MIB = 1024 * 1024;

/**
 * The proposed services: `base` with service `index` (or the one the `service` field names, out of
 * `names`) changed by the form's values. Undefined when a value is not a number the app form would
 * take (the same patterns as routes/o/[org]/apps/_form.ts), so no figure is shown for it. A blank
 * replicas field is 1 (the form's default); blank reservations are none.
 */
export function proposedServices(
  base: readonly EstimateService[],
  index: number,
  fields: EstimateFields,
  value: (name: string) => string | undefined,
  names: readonly string[] = [],
): EstimateService[] | undefined {
  const named = fields.service ? names.indexOf(value(fields.service) ?? "") : -1;
  const i = named >= 0 ? named : index;
  const s = { ...base[i] };
  const read = (f: string | undefined) => f === undefined ? undefined : (value(f) ?? "").trim();
  const replicas = read(fields.replicas);
  if (replicas !== undefined) {
    if (replicas !== "" && !/^\d{1,3}$/.test(replicas)) return undefined;
    s.replicas = replicas === "" ? 1 : Number(replicas);
    if (s.replicas > 100) return undefined;
  }
  const cpus = read(fields.cpus);
  if (cpus !== undefined) {
    if (cpus !== "" && !/^\d{1,4}(\.\d{1,3})?$/.test(cpus)) return undefined;
    s.cpus = cpus === "" ? 0 : Number(cpus);
    if (s.cpus > 1024) return undefined;
  }
  const mib = read(fields.memory_mib);
  if (mib !== undefined) {
    if (mib !== "" && !/^\d{1,9}$/.test(mib)) return undefined;
    s.memory_bytes = mib === "" ? 0 : Number(mib) * MIB;
    if (s.memory_bytes > 2 ** 50) return undefined;
  }
  return base.map((b, j) => j === i ? s : b);
}
