// Fleet totals from per-host figures, computed the same way on the server (static numbers) and
// in the FleetLive island (live numbers), so hydration never changes a figure by itself.
import type { FleetHost } from "../../lib/metrics/views.ts";
import type { FleetEvent } from "../../lib/realtime/topics.ts";

/** The fleet's headline figures. */
export interface FleetTotals {
  hosts: number;
  online: number;
  offline: number;
  waiting: number;
  running: number;
  containers: number;
  /** Hosts with a current sample; CPU, memory and network are over these. */
  reporting: number;
  /** Average of the reporting hosts' CPU %. */
  cpu: number | null;
  memUsed: number;
  memTotal: number;
  /** Sum of used over sum of total, %. */
  mem: number | null;
  rx: number | null;
  tx: number | null;
}

/** Totals over every host; samples older than `staleMs` before `now` do not count. */
export function fleetTotals(hosts: FleetHost[], now: number, staleMs: number): FleetTotals {
  const t: FleetTotals = {
    hosts: hosts.length,
    online: 0,
    offline: 0,
    waiting: 0,
    running: 0,
    containers: 0,
    reporting: 0,
    cpu: null,
    memUsed: 0,
    memTotal: 0,
    mem: null,
    rx: null,
    tx: null,
  };
  let cpuSum = 0;
  let cpuN = 0;
  for (const h of hosts) {
    t[h.status]++;
    t.running += h.running ?? 0;
    t.containers += h.containers ?? 0;
    if (h.t === null || now - h.t > staleMs) continue;
    t.reporting++;
    if (h.cpu !== null) {
      cpuSum += h.cpu;
      cpuN++;
    }
    if (h.memUsed !== null && h.memTotal !== null) {
      t.memUsed += h.memUsed;
      t.memTotal += h.memTotal;
    }
    if (h.rx !== null) t.rx = (t.rx ?? 0) + h.rx;
    if (h.tx !== null) t.tx = (t.tx ?? 0) + h.tx;
  }
  t.cpu = cpuN ? cpuSum / cpuN : null;
  t.mem = t.memTotal > 0 ? (t.memUsed / t.memTotal) * 100 : null;
  return t;
}

/** Whether `d` looks like a fleet event (the socket carries JSON from the hub, but check anyway). */
export function isFleetEvent(d: unknown): d is FleetEvent {
  const e = d as FleetEvent;
  return typeof e?.host_id === "string" && typeof e.t === "number";
}

/** A host's figures after a fleet event; older events than what the host shows are ignored. */
export function applyFleetEvent(h: FleetHost, e: FleetEvent): FleetHost {
  if (h.t !== null && e.t <= h.t) return h;
  const mem = e.mem ?? null;
  return {
    ...h,
    // A report proves the agent is there, whatever the last hosts event said.
    status: "online",
    t: e.t,
    cpu: e.cpu ?? null,
    mem,
    // The summary carries memory as a percentage; bytes follow from the host's known total.
    memUsed: mem !== null && h.memTotal !== null ? (mem / 100) * h.memTotal : h.memUsed,
    rx: e.rx ?? null,
    tx: e.tx ?? null,
  };
}
