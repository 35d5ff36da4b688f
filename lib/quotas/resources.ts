/**
 * The resources an organization's quotas limit, each in one integer unit (no floats): millicores,
 * bytes, counts, minutes, whole GiB (2^30 bytes; the resource keeps its name `egress_gb_month`). A limit that is not set is unlimited.
 */
import { z } from "zod";

/** Every quota resource, in the order pages and the API list them. */
export const RESOURCES = [
  "cpu_millis",
  "memory_bytes",
  "storage_bytes",
  "apps",
  "replicas_per_service",
  "build_minutes_month",
  "egress_gb_month",
] as const;
export type Resource = (typeof RESOURCES)[number];

/** How each resource is named and counted. */
export const RESOURCE_INFO: Record<Resource, { label: string; unit: string; max: number }> = {
  cpu_millis: { label: "CPU reserved by running services", unit: "millicores", max: 10_000_000 },
  memory_bytes: { label: "Memory reserved by running services", unit: "bytes", max: 2 ** 50 },
  storage_bytes: {
    label: "Persistent storage (volumes + snapshots)",
    unit: "bytes",
    max: 2 ** 53 - 1,
  },
  apps: { label: "Apps", unit: "apps", max: 100_000 },
  replicas_per_service: { label: "Replicas per service", unit: "replicas", max: 100 },
  build_minutes_month: { label: "Build minutes per month", unit: "minutes", max: 10_000_000 },
  egress_gb_month: { label: "Egress per month", unit: "GiB", max: 10_000_000 },
};

/** Limits per resource; an absent one is unlimited. */
export type Limits = Partial<Record<Resource, number>>;

/** Amounts per resource (what is used, what a request adds). */
export type Amounts = Partial<Record<Resource, number>>;

/** One limit's value: a whole number of the resource's unit, 0 up to its cap. */
export function limitValue(r: Resource) {
  return z.number().int().min(0).max(RESOURCE_INFO[r].max);
}

/** A set of limits (install defaults): each resource a value, or null to make it unlimited. */
export const LimitsPatch = z.object(
  Object.fromEntries(RESOURCES.map((r) => [r, limitValue(r).nullable().optional()])) as {
    [K in Resource]: z.ZodOptional<z.ZodNullable<ReturnType<typeof limitValue>>>;
  },
).strict();
export type LimitsPatch = z.infer<typeof LimitsPatch>;

/** A human figure for an amount in a resource's unit (pages and error messages). */
export function formatAmount(r: Resource, n: number): string {
  switch (r) {
    case "cpu_millis":
      return `${(n / 1000).toFixed(n % 1000 === 0 ? 0 : 2)} CPU`;
    case "memory_bytes":
    case "storage_bytes":
      return n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : `${Math.round(n / 2 ** 20)} MiB`;
    case "apps":
      return `${n} app${n === 1 ? "" : "s"}`;
    case "replicas_per_service":
      return `${n} replica${n === 1 ? "" : "s"}`;
    case "build_minutes_month":
      return `${n} min`;
    case "egress_gb_month":
      return `${n} GiB`;
  }
}
