/**
 * The backup badge of a volume (and of an app, the worst of its volumes'). The snapshots module
 * has no notion of a stale backup of its own (its "stale" runs are runs whose hub stopped
 * following them), so the rule lives here and TOPOLOGY.md documents it:
 *
 * - `failed`: the newest finished snapshot of the volume failed (a complete one after it clears it).
 * - `none`: no complete snapshot yet.
 * - `stale`: the newest complete snapshot is older than allowed: with an enabled schedule, one
 *   period of the schedule (the gap between its next two runs) plus an hour of grace, so one
 *   missed run turns it stale; without a schedule, 26 hours (a daily habit plus slack).
 * - `fresh`: otherwise.
 */
import { nextRun } from "../snapshots/cron.ts";
import type { BackupBadge } from "./graph.ts";

/** Without a schedule a volume's newest complete snapshot is stale past this age. */
export const UNSCHEDULED_STALE_MS = 26 * 3_600_000;
/** A scheduled volume's newest snapshot may be this late past its schedule's period. */
export const SCHEDULE_GRACE_MS = 3_600_000;

/** The facts of one volume that its badge depends on. */
export interface BackupFacts {
  /** When the newest complete snapshot finished, if any. */
  lastCompleteAt: number | null;
  /** When the newest failed snapshot finished, if it is newer than the newest complete one. */
  failedAfterAt: number | null;
  /** Enabled schedules of the volume (cron in its time zone). */
  schedules: { cron: string; timezone: string }[];
}

/** The period of a schedule around `now` (gap between its next two runs), or null when none comes. */
export function schedulePeriodMs(cron: string, timezone: string, now: number): number | null {
  try {
    const a = nextRun(cron, timezone, now);
    const b = a === null ? null : nextRun(cron, timezone, a);
    return a === null || b === null ? null : b - a;
  } catch {
    return null;
  }
}

/** How old the newest complete snapshot may be before the badge turns stale. */
export function allowedAgeMs(schedules: BackupFacts["schedules"], now: number): number {
  const periods = schedules.map((s) => schedulePeriodMs(s.cron, s.timezone, now))
    .filter((p): p is number => p !== null);
  // The most frequent schedule sets the pace: a volume backed up hourly is stale after a missed hour.
  return periods.length ? Math.min(...periods) + SCHEDULE_GRACE_MS : UNSCHEDULED_STALE_MS;
}

/** The badge of one volume at `now`. */
export function volumeBadge(f: BackupFacts, now: number): BackupBadge {
  const lastAt = f.lastCompleteAt;
  if (f.failedAfterAt !== null && (lastAt === null || f.failedAfterAt > lastAt)) {
    return { state: "failed", lastAt };
  }
  if (lastAt === null) return { state: "none", lastAt: null };
  return { state: now - lastAt > allowedAgeMs(f.schedules, now) ? "stale" : "fresh", lastAt };
}

const WORST: Record<BackupBadge["state"], number> = { failed: 3, stale: 2, none: 1, fresh: 0 };

/** The worst of several badges (an app's, from its volumes'); undefined for none at all. */
export function worstBadge(badges: BackupBadge[]): BackupBadge | undefined {
  let worst: BackupBadge | undefined;
  for (const b of badges) {
    if (!worst || WORST[b.state] > WORST[worst.state]) worst = b;
    else if (WORST[b.state] === WORST[worst.state] && (b.lastAt ?? 0) < (worst.lastAt ?? 0)) {
      // Among equals the oldest tells the age that matters.
      worst = b;
    }
  }
  return worst;
}
