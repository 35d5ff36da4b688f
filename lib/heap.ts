import v8 from "node:v8";

/** Set in the re-run's environment, so a heap flag that does not take cannot loop. */
export const RERUN_MARK = "CAPSTAN_HEAP_RERUN";

/** V8's heap limit includes the young generation (96 MB on 64-bit builds) above the old space. */
const YOUNG_GENERATION_SLACK_MB = 128;

/** V8's heap limit of this process, MB (old space plus young generation). */
export function heapLimitMb(): number {
  return Math.round(v8.getHeapStatistics().heap_size_limit / 1048576);
}

/**
 * Whether this process runs with its old space sized to `mb` (0: whatever V8 chose). Deno sets
 * V8's flags only at start (`--v8-flags`, `DENO_V8_FLAGS`), so a mismatch means a re-run.
 */
export function heapMatches(mb: number, limitMb = heapLimitMb()): boolean {
  return mb === 0 || (limitMb >= mb && limitMb <= mb + YOUNG_GENERATION_SLACK_MB);
}

/**
 * Runs this process's own command line again (from /proc/self/cmdline: same runtime flags, same
 * permissions) with the old space sized to `mb` through DENO_V8_FLAGS, passes SIGINT, SIGTERM and
 * SIGHUP on, and resolves with its exit code. Undefined where the command line cannot be read.
 */
export async function rerunWithHeap(mb: number): Promise<number | undefined> {
  let argv: string[];
  try {
    argv = (await Deno.readTextFile("/proc/self/cmdline")).split("\0").filter(Boolean);
  } catch {
    return undefined;
  }
  if (argv.length < 2 || Deno.env.get(RERUN_MARK)) return undefined;
  const flags = [Deno.env.get("DENO_V8_FLAGS"), `--max-old-space-size=${mb}`].filter(Boolean);
  const child = new Deno.Command(Deno.execPath(), {
    args: argv.slice(1),
    env: { DENO_V8_FLAGS: flags.join(" "), [RERUN_MARK]: "1" },
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  const forward = signals.map((sig) => {
    const pass = () => {
      try {
        child.kill(sig);
      } catch {
        // Already gone.
      }
    };
    Deno.addSignalListener(sig, pass);
    return () => Deno.removeSignalListener(sig, pass);
  });
  try {
    const status = await child.status;
    return status.signal ? 128 + signalNumber(status.signal) : status.code;
  } finally {
    forward.forEach((off) => off());
  }
}

function signalNumber(sig: Deno.Signal): number {
  return ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[sig] ?? 1;
}
