import type { Clock } from "../util/clock.ts";
import { systemClock } from "../util/clock.ts";

/**
 * SQLite result codes (primary, `errcode & 0xff`) that mean the database could not do its work —
 * busy, locked, out of memory, read-only, I/O error, corrupt, full, cannot open, not a database —
 * rather than that the statement was wrong (a constraint, a syntax error).
 */
const SQLITE_STORAGE = new Set([5, 6, 7, 8, 10, 11, 13, 14, 26]);
/** The same by message, for errors that carry no code (node:sqlite's `exec()` gives none). */
const SQLITE_STORAGE_MESSAGE =
  /database or disk is full|disk I\/O error|readonly database|database is locked|database table is locked|unable to open database|malformed|not a database|out of memory/i;
/**
 * PostgreSQL SQLSTATE classes of the same kind: connection exception, insufficient resources (disk
 * full), operator intervention (shutdown), system error, internal error; and a read-only server.
 */
const PG_STORAGE_CLASSES = new Set(["08", "53", "57", "58", "XX"]);
/** Errors of the client or the network: the database could not be reached at all. */
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
  "CONNECTION_ENDED",
  "CONNECT_TIMEOUT",
]);

/** Whether an error says the database could not store or serve data (not that the query was wrong). */
export function isStorageFailure(err: unknown): boolean {
  const e = err as { code?: unknown; errcode?: unknown } | null;
  if (!e || typeof e !== "object") return false;
  if (e.code === "ERR_SQLITE_ERROR") {
    return typeof e.errcode === "number"
      ? SQLITE_STORAGE.has(e.errcode & 0xff)
      : SQLITE_STORAGE_MESSAGE.test(String((e as { message?: unknown }).message));
  }
  if (typeof e.code !== "string") return false;
  if (UNREACHABLE.has(e.code)) return true;
  return /^[0-9A-Z]{5}$/.test(e.code) &&
    (PG_STORAGE_CLASSES.has(e.code.slice(0, 2)) || e.code === "25006");
}

/** What went wrong lately, for /healthz. */
export interface RecentFailures {
  /** When the newest failure happened (ms since the epoch). */
  lastAt: number;
  /** Its message. */
  lastError: string;
  /** How many failures fell in the window. */
  count: number;
}

/** Storage failures of one database, as its queries meet them; read by /healthz. */
export interface FailureLog {
  /** Records `err` when it is a storage failure (see isStorageFailure); other errors are ignored. */
  note(err: unknown): void;
  /** The failures of the last `windowMs` (default a minute), or undefined when there were none. */
  recent(windowMs?: number): RecentFailures | undefined;
}

/** How many failure times are kept: enough to count a minute's worth at any rate that matters. */
const KEEP = 1000;

/** A failure log on `clock`. Bounded: it keeps the times of the last 1000 failures. */
export function createFailureLog(clock: Clock = systemClock): FailureLog {
  const times: number[] = [];
  let lastError = "";
  return {
    note(err) {
      if (!isStorageFailure(err)) return;
      times.push(clock.now());
      if (times.length > KEEP) times.shift();
      lastError = (err instanceof Error ? err.message : String(err)).split("\n")[0].slice(0, 300);
    },
    recent(windowMs = 60_000) {
      const since = clock.now() - windowMs;
      const count = times.filter((t) => t >= since).length;
      return count ? { lastAt: times.at(-1)!, lastError, count } : undefined;
    },
  };
}
