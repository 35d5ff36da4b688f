/**
 * How install.sh's systemd unit runs the agent bundle: its `deno run` flags and its memory
 * settings (issue 20: a steady agent under 60 MB). One place for the benchmark (which runs the
 * agent exactly so) and `deno task agent:build` (which builds the V8 flags into the binary);
 * install.sh is shell and says the same, which tests/install_script_test.ts checks word for word.
 */

/**
 * V8 flags. A 1 MB young generation instead of V8's default up to 16 MB semi-spaces: the agent
 * allocates little per second, and the default sizes kept some 15 MB of heap resident for nothing.
 * `--max-opt=1`: JavaScript runs in V8's interpreter and its baseline compiler (Sparkplug), never
 * in the optimizing ones (Maglev, TurboFan), whose code pages in the executable and their own
 * memory came to 2 MB and more of the agent's RSS as the hours went by; the agent's work is I/O
 * and small parsing, and its CPU measured the same (bench/agent_bench.ts: 0.98 % both ways).
 */
export const AGENT_V8_FLAGS: readonly string[] = ["--max-semi-space-size=1", "--max-opt=1"];

/**
 * The unit's environment. Two malloc arenas with fixed trim/mmap thresholds: glibc's per-thread
 * arenas and its growing mmap threshold held 15-20 MB of freed memory of the runtime's threads
 * that it never gave back. DENO_USR2_MEMORY_TRIM: the agent signals itself every 30 s to have
 * Deno call malloc_trim (agent/memory_trim.ts).
 */
export const AGENT_UNIT_ENV: Readonly<Record<string, string>> = {
  DENO_V8_FLAGS: AGENT_V8_FLAGS.join(","),
  MALLOC_ARENA_MAX: "2",
  GLIBC_TUNABLES: "glibc.malloc.trim_threshold=131072:glibc.malloc.mmap_threshold=131072",
  DENO_USR2_MEMORY_TRIM: "1",
};

/**
 * The unit's `deno run` flags before `--allow-write` and the bundle. `--allow-ffi`: the
 * filesystems collector calls libc's statfs (agent/collectors/statfs.ts) rather than loading
 * Deno's Node layer for it; the agent may already run any program (`--allow-run`: restic, git).
 */
export const AGENT_RUN_FLAGS: readonly string[] = [
  "--no-config",
  "--no-prompt",
  "--allow-net",
  "--allow-env",
  "--allow-sys=hostname",
  "--allow-read",
  "--allow-run",
  "--allow-ffi",
];
