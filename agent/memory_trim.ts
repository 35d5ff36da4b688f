/**
 * Hands the agent's freed memory back to the system at a steady pace (issue 20: a steady agent
 * under 60 MB, flat over time).
 *
 * Measured on a host with 10 containers, some 20 of the agent's ~45 MB of anonymous memory was
 * glibc malloc's free space: buffers of the runtime's threads (the engine socket, HTTP reports,
 * gzip, file reads) and ArrayBuffer backing stores, freed but kept in the arenas, fragmented, so
 * glibc's own trimming (top of the heap only) never returns it. Only malloc_trim(0) does, and Deno
 * calls it (with a V8 low-memory notification, which compacts the JS heap) on SIGUSR2 when started
 * with DENO_USR2_MEMORY_TRIM set, as install.sh's unit does. So the agent signals itself.
 *
 * Off unless that variable is set: without Deno's handler SIGUSR2 would end the process. A no-op
 * listener is registered anyway before the first signal, so a runtime that ignored the variable
 * still never gets the default action.
 */
import type { Logger } from "../lib/log.ts";

/** Between two trims: a trim with a full GC costs a few ms of CPU; memory regrows within a minute. */
export const TRIM_EVERY_MS = 30_000;

/** What the trim loop needs; injectable for tests. */
export interface MemoryTrimOptions {
  env: Record<string, string | undefined>;
  log: Logger;
  everyMs?: number;
  os?: typeof Deno.build.os;
  /** Sends SIGUSR2 to this process. */
  signalSelf?: () => void;
  addListener?: (handler: () => void) => void;
  removeListener?: (handler: () => void) => void;
}

/** A running trim loop. */
export interface MemoryTrim {
  /** Whether the loop runs (Linux, DENO_USR2_MEMORY_TRIM set). */
  readonly active: boolean;
  stop(): void;
}

/** Starts trimming every `everyMs` where the runtime listens for SIGUSR2; a no-op elsewhere. */
export function startMemoryTrim(opts: MemoryTrimOptions): MemoryTrim {
  if ((opts.os ?? Deno.build.os) !== "linux" || !opts.env.DENO_USR2_MEMORY_TRIM) {
    return { active: false, stop() {} };
  }
  const signalSelf = opts.signalSelf ?? (() => Deno.kill(Deno.pid, "SIGUSR2"));
  const addListener = opts.addListener ??
    ((h: () => void) => Deno.addSignalListener("SIGUSR2", h));
  const removeListener = opts.removeListener ??
    ((h: () => void) => Deno.removeSignalListener("SIGUSR2", h));
  const ignore = () => {};
  addListener(ignore);
  const stop = () => {
    clearInterval(timer);
    removeListener(ignore);
  };
  const timer = setInterval(() => {
    try {
      signalSelf();
    } catch (err) {
      // Not allowed or not supported here: memory stays as it is, nothing else changes.
      opts.log.warn("memory trim unavailable; stopped", { error: String(err) });
      stop();
    }
  }, opts.everyMs ?? TRIM_EVERY_MS);
  // The agent ends when its work ends, not when this timer would next fire.
  Deno.unrefTimer(timer);
  return { active: true, stop };
}
