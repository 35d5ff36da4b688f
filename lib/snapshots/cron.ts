/**
 * Cron expressions of snapshot schedules and verifications, read by `croner`: five fields
 * (minute to weekday), evaluated in an IANA time zone, so "every day at 02:00" means 02:00 where
 * the user is, across daylight-saving changes.
 */
import { Cron as Croner } from "croner";
import { z } from "zod";

/** Five space-separated cron fields croner accepts. */
export const Cron = z.string().trim().max(128).superRefine((expr, ctx) => {
  if (expr.split(/\s+/).length !== 5) {
    ctx.addIssue({
      code: "custom",
      message: "must have five fields: minute hour day month weekday",
    });
    return;
  }
  try {
    new Croner(expr, { paused: true, timezone: "UTC" });
  } catch (err) {
    ctx.addIssue({
      code: "custom",
      message: `is not a cron expression: ${err instanceof Error ? err.message : String(err)}`,
    });
  }
});

/** An IANA time zone name the runtime knows. */
export const TimeZone = z.string().trim().min(1).max(64).refine((tz) => {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, "must be a time zone like Europe/Berlin or UTC");

/** The first run of `expr` in `timezone` strictly after `after` (ms), or null when none comes. */
export function nextRun(expr: string, timezone: string, after: number): number | null {
  const next = new Croner(expr, { paused: true, timezone }).nextRun(new Date(after));
  return next ? next.getTime() : null;
}
