import v8 from "node:v8";

/** The parent's pid, in a re-run's environment: no re-run of a re-run, and exit with the parent. */
export const RERUN_MARK = "CAPSTAN_HEAP_RERUN";

/** V8's heap limit includes the young generation (96 MB on 64-bit builds) above the old space. */
const YOUNG_GENERATION_SLACK_MB = 128;

/** V8's heap limit of this process, MB (old space plus young generation). */
export function heapLimitMb(): number {
  return Math.round(v8.getHeapStatistics().heap_size_limit / 1048576);
}

/**
 * Whether this process runs with its old space sized to `mb`. Deno sets V8's flags only at start
 * (`--v8-flags`, `DENO_V8_FLAGS`), so a mismatch means a re-run.
 */
export function heapMatches(mb: number, limitMb = heapLimitMb()): boolean {
  return limitMb >= mb && limitMb <= mb + YOUNG_GENERATION_SLACK_MB;
}

/**
 * Runs this process's own command line again (from /proc/self/cmdline: same runtime flags, same
 * permissions) with the old space sized to `mb`, passes SIGINT, SIGTERM and SIGHUP on, and resolves
 * with its exit code. Undefined where the command line cannot be read, or in such a re-run already.
 */
export async function rerunWithHeap(mb: number): Promise<number | undefined> {
  let argv: string[];
  try {
    argv = (await Deno.readTextFile("/proc/self/cmdline")).split("\0").filter(Boolean);
  } catch {
    return undefined;
  }
  if (argv[1] !== "run" || Deno.env.get(RERUN_MARK)) return undefined;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", `--v8-flags=--max-old-space-size=${mb}`, ...withoutHeapFlag(argv.slice(2))],
    env: { [RERUN_MARK]: String(Deno.pid) },
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

/** Drops `--max-old-space-size` from the `--v8-flags=` arguments (the re-run sets its own). */
function withoutHeapFlag(args: string[]): string[] {
  return args.flatMap((a) => {
    if (!a.startsWith("--v8-flags=")) return [a];
    const kept = a.slice("--v8-flags=".length).split(",")
      .filter((f) => !f.startsWith("--max-old-space-size"));
    return kept.length ? [`--v8-flags=${kept.join(",")}`] : [];
  });
}

/**
 * In a re-run, exits when the parent that started it is gone: a parent killed with SIGKILL cannot
 * pass the signal on, and the hub must not live on without it, holding its port.
 */
export function exitWithParent(): void {
  const parent = Number(Deno.env.get(RERUN_MARK));
  if (!parent) return;
  const timer = setInterval(() => {
    if (Deno.ppid !== parent) Deno.exit(1);
  }, 500);
  Deno.unrefTimer(timer);
}

function signalNumber(sig: Deno.Signal): number {
  return ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[sig] ?? 1;
}
