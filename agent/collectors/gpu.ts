/**
 * NVIDIA GPU utilisation, memory, temperature and power from `nvidia-smi`, the one program the
 * agent runs (an argument array, never a shell). Hosts without the binary get no GPU series.
 */
import { type HostCollector, keyFamily, type Series } from "./common.ts";

/** The query, in the column order the parser expects. */
export const NVIDIA_SMI_ARGS: readonly string[] = [
  "--query-gpu=index,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw",
  "--format=csv,noheader,nounits",
];

const MIB = 1024 * 1024;
const keys = {
  util: keyFamily("gpu.util_pct", "gpu"),
  used: keyFamily("gpu.mem_used_bytes", "gpu"),
  total: keyFamily("gpu.mem_total_bytes", "gpu"),
  temp: keyFamily("gpu.temp_c", "gpu"),
  power: keyFamily("gpu.power_w", "gpu"),
};

/**
 * Parses nvidia-smi's CSV (one GPU per line). Values it cannot read ("[N/A]", "[Not Supported]",
 * "ERR!") are skipped one by one, so a GPU without a power sensor still reports the rest.
 */
export function parseNvidiaSmiCsv(text: string): Series {
  const out: Series = {};
  for (const line of text.split(/\r?\n/)) {
    const cols = line.split(",").map((c) => c.trim());
    if (cols.length < 6 || !/^\d+$/.test(cols[0])) continue;
    const num = (s: string) => (/^-?\d+(\.\d+)?$/.test(s) ? Number(s) : undefined);
    const [util, used, total, temp, power] = cols.slice(1, 6).map(num);
    const gpu = cols[0];
    if (util !== undefined) out[keys.util(gpu)] = util;
    if (used !== undefined) out[keys.used(gpu)] = used * MIB;
    if (total !== undefined) out[keys.total(gpu)] = total * MIB;
    if (temp !== undefined) out[keys.temp(gpu)] = temp;
    if (power !== undefined) out[keys.power(gpu)] = power;
  }
  return out;
}

/** The first executable `name` on `path` (a PATH-style list), found without running anything. */
export function findOnPath(name: string, path = Deno.env.get("PATH") ?? ""): string | undefined {
  for (const dir of path.split(":")) {
    if (!dir) continue;
    const candidate = `${dir.replace(/\/+$/, "")}/${name}`;
    try {
      const st = Deno.statSync(candidate);
      if (st.isFile && ((st.mode ?? 0o111) & 0o111)) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Options of the GPU collector. */
export interface GpuCollectorOptions {
  /** How often to query (each query starts a process: the default keeps it under 1% of a core). */
  intervalMs?: number;
  /** How long one query may take before it is killed. */
  timeoutMs?: number;
  /** How often to look for the binary again when it was absent (drivers installed later). */
  recheckMs?: number;
  /** Where to find the binary; the PATH lookup by default. */
  locate?: () => string | undefined;
  /** Runs the binary with arguments and returns stdout (tests inject fixture CSV). */
  run?: (bin: string, args: readonly string[], timeoutMs: number) => Promise<string>;
  monotonic?: () => number;
}

async function runNvidiaSmi(bin: string, args: readonly string[], timeoutMs: number) {
  const out = await new Deno.Command(bin, {
    args: [...args],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  if (!out.success) throw new Error(`nvidia-smi exited with ${out.code}`);
  return new TextDecoder().decode(out.stdout);
}

/** Queries nvidia-smi on its own interval when it is installed; nothing otherwise. */
export function createGpuCollector(opts: GpuCollectorOptions = {}): HostCollector {
  const locate = opts.locate ?? (() => findOnPath("nvidia-smi"));
  const run = opts.run ?? runNvidiaSmi;
  const clock = opts.monotonic ?? (() => performance.now());
  const recheckMs = opts.recheckMs ?? 10 * 60_000;
  let bin: string | undefined;
  let checkedAt = -Infinity;
  return {
    name: "gpu",
    intervalMs: opts.intervalMs ?? 5000,
    async collect() {
      const now = clock();
      if (!bin && now - checkedAt >= recheckMs) {
        checkedAt = now;
        bin = locate();
      }
      if (!bin) return undefined;
      try {
        return parseNvidiaSmiCsv(await run(bin, NVIDIA_SMI_ARGS, opts.timeoutMs ?? 5000));
      } catch {
        // Removed, driver unloaded or hung: look for it again after the recheck interval.
        bin = undefined;
        checkedAt = now;
        return undefined;
      }
    },
  };
}
