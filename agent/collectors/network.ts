/** Network throughput per interface from /proc/net/dev. */
import {
  counterRate,
  countersDue,
  type HostCollector,
  keyFamily,
  readKernelFile,
  rooted,
  type Series,
} from "./common.ts";

/** Byte counters of one interface. */
export interface IfaceCounters {
  rx: number;
  tx: number;
}

/**
 * Interfaces left out by default: loopback, and the veth end of every container (each container's
 * traffic is reported per container, and 100 containers would otherwise add 200 host series
 * against the protocol's cap of 512).
 */
export const DEFAULT_SKIP_IFACES = /^(lo|veth.*)$/;

/** Parses /proc/net/dev into rx/tx bytes per interface, skipping names that match `skip`. */
export function parseNetDevInterfaces(
  text: string,
  skip: RegExp = DEFAULT_SKIP_IFACES,
): Map<string, IfaceCounters> {
  const out = new Map<string, IfaceCounters>();
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue; // the two header lines
    const name = line.slice(0, colon).trim();
    if (!name || skip.test(name)) continue;
    const f = line.slice(colon + 1).trim().split(/\s+/);
    const rx = Number(f[0]);
    const tx = Number(f[8]);
    if (Number.isFinite(rx) && Number.isFinite(tx)) out.set(name, { rx, tx });
  }
  return out;
}

const rxKey = keyFamily("net.rx_bps", "iface");
const txKey = keyFamily("net.tx_bps", "iface");

/** net.rx_bps/net.tx_bps per interface between two reads; a counter that went back is skipped. */
export function networkSeries(
  prev: Map<string, IfaceCounters>,
  cur: Map<string, IfaceCounters>,
  seconds: number,
): Series {
  const out: Series = {};
  for (const [name, c] of cur) {
    const p = prev.get(name);
    if (!p) continue; // new interface: baseline only
    const rx = counterRate(p.rx, c.rx, seconds);
    const tx = counterRate(p.tx, c.tx, seconds);
    if (rx !== undefined) out[rxKey(name)] = Math.round(rx);
    if (tx !== undefined) out[txKey(name)] = Math.round(tx);
  }
  return out;
}

const rxTotalKey = keyFamily("net.rx_bytes_total", "iface");
const txTotalKey = keyFamily("net.tx_bytes_total", "iface");

/**
 * net.rx_bytes_total/net.tx_bytes_total per interface: the kernel's byte counters since boot, as
 * they are, for Prometheus (which takes rates itself and expects counters, not rates).
 */
export function networkCounters(cur: Map<string, IfaceCounters>, out: Series = {}): Series {
  for (const [name, c] of cur) {
    out[rxTotalKey(name)] = c.rx;
    out[txTotalKey(name)] = c.tx;
  }
  return out;
}

/**
 * Reads `<root>/proc/net/dev` each run and reports bytes per second since the previous run, and
 * with `countersEveryMs` also the byte counters themselves at most that often.
 */
export function createNetworkCollector(
  opts: { root?: string; skip?: RegExp; monotonic?: () => number; countersEveryMs?: number } = {},
): HostCollector {
  // The agent's own network namespace: an agent in a container runs with the host's network.
  const path = rooted(opts.root ?? "/", "/proc/net/dev");
  const clock = opts.monotonic ?? (() => performance.now());
  let prev: { at: number; counters: Map<string, IfaceCounters> } | undefined;
  const due = countersDue(opts.countersEveryMs);
  return {
    name: "network",
    collect() {
      const text = readKernelFile(path);
      if (text === undefined) return undefined;
      const cur = { at: clock(), counters: parseNetDevInterfaces(text, opts.skip) };
      let out = prev && networkSeries(prev.counters, cur.counters, (cur.at - prev.at) / 1000);
      if (due(cur.at)) out = networkCounters(cur.counters, out);
      prev = cur;
      return out;
    },
  };
}
