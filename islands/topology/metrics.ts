// CPU and memory of a node from the realtime metrics topics it names (`node.metricsTopic`): a host's
// own topic carries HostMetricsEvent (samples of every host series), the fleet topic FleetEvent
// (cpu and mem of one host per event). Anything else yields nothing rather than a wrong bar.
import type { FleetEvent, HostMetricsEvent } from "../../lib/realtime/topics.ts";

/** Percentages (0–100) of CPU and memory, or null where the sample had none. */
export interface Usage {
  cpu: number | null;
  mem: number | null;
}

/** Host series the bars show (lib/metrics/service.ts summarises the fleet with the same). */
const CPU_KEYS = ["cpu.total_pct", "ctr.cpu_pct"];
const MEM_KEYS = ["mem.used_pct", "ctr.mem_pct"];

const pctOf = (v: unknown): number | null =>
  typeof v === "number" && Number.isFinite(v) && v >= 0 ? Math.min(100, v) : null;

function firstOf(values: Record<string, number>, keys: string[]): number | null {
  for (const k of keys) {
    const v = pctOf(values[k]);
    if (v !== null) return v;
  }
  return null;
}

/**
 * The newest usage an event of a metrics topic tells, and which host it is of (`host_id`, so a node
 * fed by the shared fleet topic takes only its own host's events); null when it tells none.
 */
export function usageOf(data: unknown): { hostId: string | null; usage: Usage } | null {
  if (!data || typeof data !== "object") return null;
  const d = data as Partial<HostMetricsEvent & FleetEvent>;
  const hostId = typeof d.host_id === "string" ? d.host_id : null;
  if (Array.isArray(d.samples)) {
    const last = d.samples.at(-1);
    if (!last || typeof last.host !== "object" || !last.host) return null;
    const usage = { cpu: firstOf(last.host, CPU_KEYS), mem: firstOf(last.host, MEM_KEYS) };
    return usage.cpu === null && usage.mem === null ? null : { hostId, usage };
  }
  if ("cpu" in d || "mem" in d) {
    const usage = { cpu: pctOf(d.cpu), mem: pctOf(d.mem) };
    return usage.cpu === null && usage.mem === null ? null : { hostId, usage };
  }
  return null;
}

/**
 * The containers' usage a fleet event carries (FleetEvent.ctr), as `[containerId, usage]`; none
 * for any other event.
 */
export function containerUsages(data: unknown): [string, Usage][] {
  if (!data || typeof data !== "object") return [];
  const ctr = (data as Partial<FleetEvent>).ctr;
  if (!ctr || typeof ctr !== "object") return [];
  const out: [string, Usage][] = [];
  for (const [id, v] of Object.entries(ctr)) {
    if (!Array.isArray(v)) continue;
    out.push([id, { cpu: pctOf(v[0]), mem: pctOf(v[1]) }]);
  }
  return out;
}
