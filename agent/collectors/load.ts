/** Load averages from /proc/loadavg. */
import { type HostCollector, readKernelFile, rooted, type Series } from "./common.ts";

/** Parses `1.27 1.67 1.36 2/145 1432` into load.1, load.5 and load.15. */
export function parseLoadavg(text: string): Series | undefined {
  const [a, b, c] = text.trim().split(/\s+/).map(parseFloat);
  if (![a, b, c].every(Number.isFinite)) return undefined;
  return { "load.1": a, "load.5": b, "load.15": c };
}

/** Reads `<root>/proc/loadavg` each run. */
export function createLoadCollector(opts: { root?: string } = {}): HostCollector {
  const path = rooted(opts.root ?? "/", "/proc/loadavg");
  return {
    name: "load",
    collect() {
      const text = readKernelFile(path);
      return text === undefined ? undefined : parseLoadavg(text);
    },
  };
}
