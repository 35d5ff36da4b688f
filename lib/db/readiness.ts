import { sql } from "kysely";
import type { DbHandle } from "./mod.ts";

/** What /healthz reports. */
export type Readiness =
  | { status: "ok"; database: DbHandle["dialect"] }
  | {
    status: "degraded";
    database: DbHandle["dialect"];
    /** Storage failures of the last minute: the hub serves, but some writes were lost. */
    failures: { count_last_minute: number; last_at: number; last_error: string };
  }
  | {
    status: "unavailable";
    database: DbHandle["dialect"];
    error: { code: "not_ready"; message: string };
  };

/** The database answers a health check within this, or the hub reports itself unavailable. */
export const READINESS_TIMEOUT_MS = 800;

const checks = new WeakMap<DbHandle, () => Promise<Readiness>>();

/**
 * A readiness check of `dbh`: reachable within 0.8 s (a hung server must not hang the health
 * check — load balancers give up after a second or two), migrations applied (`migrations` of
 * them), and no storage failure met in the last minute (else "degraded": a full disk fails writes
 * while reads still work). One check runs at a time per database; callers meanwhile share it.
 */
export function readinessOf(dbh: DbHandle, migrations: number): () => Promise<Readiness> {
  let check = checks.get(dbh);
  if (check) return check;
  let running: Promise<Readiness> | undefined;
  const unavailable = (message: string): Readiness => ({
    status: "unavailable",
    database: dbh.dialect,
    error: { code: "not_ready", message: `Not ready: ${message}` },
  });
  const probe = async (): Promise<Readiness> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((
      r,
    ) => (timer = setTimeout(() => r("late"), READINESS_TIMEOUT_MS)));
    try {
      const applied = await Promise.race([
        sql<{ n: number }>`select count(*) as n from kysely_migration`.execute(dbh.db),
        late,
      ]);
      if (applied === "late") {
        return unavailable(`the database did not answer within ${READINESS_TIMEOUT_MS / 1000} s`);
      }
      if (Number(applied.rows[0].n) < migrations) return unavailable("migrations pending");
    } catch (err) {
      return unavailable(`the database failed: ${(err as Error)?.message ?? String(err)}`);
    } finally {
      clearTimeout(timer);
    }
    const recent = dbh.failures.recent();
    if (!recent) return { status: "ok", database: dbh.dialect };
    return {
      status: "degraded",
      database: dbh.dialect,
      failures: {
        count_last_minute: recent.count,
        last_at: recent.lastAt,
        last_error: recent.lastError,
      },
    };
  };
  check = () => running ??= probe().finally(() => (running = undefined));
  checks.set(dbh, check);
  return check;
}
