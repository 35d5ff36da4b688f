import type { Db } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import { claimSlot } from "./lease.ts";
import type { Logger } from "../log.ts";

/** A scheduled job: idempotent work that runs once per interval across all replicas. Names are Deno.cron names (letters, digits, `_`, `-`). */
export interface Job {
  name: string;
  /** Cron expression for Deno.cron; must fire once per `intervalMs`. */
  schedule: string;
  intervalMs: number;
  run(): Promise<unknown>;
}

/** Runs one tick of a job if this replica wins the lease for the current slot; returns whether it ran. */
export async function runTick(
  db: Db,
  clock: Clock,
  job: Job,
  holder: string,
  log?: Logger,
): Promise<boolean> {
  const now = clock.now();
  const slot = Math.floor(now / job.intervalMs) * job.intervalMs;
  if (!await claimSlot(db, job.name, slot, holder, now)) return false;
  const started = performance.now();
  try {
    const result = await job.run();
    // Routine: jobs run every 10 s to every hour, and info is kept for what an operator acts on.
    log?.debug(`job ${job.name}: done`, { result, ms: Math.round(performance.now() - started) });
  } catch (err) {
    // The slot stays claimed: jobs are idempotent and the next tick does the work.
    log?.error(`job ${job.name}: failed`, {
      error: err instanceof Error ? err.message : String(err),
    });
  }
  return true;
}

/**
 * Registers every job with Deno.cron (which fires on every replica; the lease picks one). Cron has
 * minute resolution, so jobs with a shorter interval run from a timer instead (same lease, and a
 * tick is skipped while the previous one of the job still runs). Returns a function that stops
 * the timers.
 */
export function startJobs(
  db: Db,
  clock: Clock,
  jobs: Job[],
  holder: string,
  log?: Logger,
): () => void {
  const timers: ReturnType<typeof setInterval>[] = [];
  for (const job of jobs) {
    if (job.intervalMs < 60_000) {
      let running = false;
      timers.push(setInterval(() => {
        if (running) return;
        running = true;
        runTick(db, clock, job, holder, log).catch(() => {}).finally(() => running = false);
      }, job.intervalMs));
      continue;
    }
    Deno.cron(job.name, job.schedule, () => runTick(db, clock, job, holder, log).then(() => {}));
  }
  return () => timers.forEach(clearInterval);
}
