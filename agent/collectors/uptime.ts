/** Host uptime from /proc/uptime. */
import { type HostCollector, readKernelFile, rooted, type Series } from "./common.ts";

/** Parses `2117.41 2776.99` (uptime, idle seconds) into host.uptime_s (whole seconds). */
export function parseUptime(text: string): Series | undefined {
  const up = parseFloat(text);
  return Number.isFinite(up) && up >= 0 ? { "host.uptime_s": Math.floor(up) } : undefined;
}

/** Reads `<root>/proc/uptime` each run. */
export function createUptimeCollector(opts: { root?: string } = {}): HostCollector {
  const path = rooted(opts.root ?? "/", "/proc/uptime");
  return {
    name: "uptime",
    collect() {
      const text = readKernelFile(path);
      return text === undefined ? undefined : parseUptime(text);
    },
  };
}
