/**
 * What a host's page says about its metrics pipeline, from what ingest saw of its agent: reports
 * that stopped arriving (and why, where the hub knows), a clock that is off, a spool that was reset
 * (a new epoch), and problems the agent reports on its side (a spool it cannot write).
 */
import type { MetricAgentState } from "./service.ts";

/** Reports are due every 10 s by default: this long without one stored means they stopped. */
export const NOT_REPORTING_AFTER_MS = 60_000;
/** A clock this far off the hub's is shown. */
export const SKEW_SHOWN_MS = 2000;
/** A measured skew older than this is no longer shown (the agent stopped reporting). */
const SKEW_FRESH_MS = 10 * 60_000;
/** A new spool epoch is mentioned for this long. */
const EPOCH_SHOWN_MS = 7 * 24 * 3600_000;
/** New series dropped at the series limit are mentioned for this long after the last one. */
const CAPPED_SHOWN_MS = 24 * 3600_000;

/** One line of the host page's metrics status. */
export type IngestNote =
  | { kind: "not_reporting"; reason: string; lastStoredAt: number | null }
  | { kind: "clock"; skewMs: number; refused: number }
  | { kind: "epoch"; at: number }
  | { kind: "problem"; text: string; lost: number }
  | { kind: "series_cap"; series: number; samples: number; at: number; limit: number };

/** What the notes are made from. */
export interface IngestStatusInput {
  now: number;
  /** Whether the host's agent is connected now. */
  online: boolean;
  enrolledAt: number | null;
  /** When this hub process began taking reports (a restarted hub gives agents time to catch up). */
  since: number;
  /** Whether this is the hub's own host (its embedded agent logs to the hub's log). */
  local: boolean;
  agent?: MetricAgentState;
  /** The last failure to store or accept a report of the host, seen by this hub process. */
  failure?: { at: number; reason: string };
  /** The series limit per host the counts in `agent` were made against. */
  maxSeriesPerHost: number;
}

/** The notes for a host, most urgent first. */
export function ingestNotes(i: IngestStatusInput): IngestNote[] {
  const notes: IngestNote[] = [];
  const a = i.agent;
  const lastStoredAt = a?.last_stored_at ?? null;
  const quietSince = Math.max(lastStoredAt ?? i.enrolledAt ?? i.now, i.since);
  if (i.online && i.enrolledAt !== null && i.now - quietSince > NOT_REPORTING_AFTER_MS) {
    notes.push({ kind: "not_reporting", reason: whyNotReporting(i), lastStoredAt });
  }
  if (
    a && a.skew_ms !== null && Math.abs(a.skew_ms) >= SKEW_SHOWN_MS &&
    i.now - a.last_report_at < SKEW_FRESH_MS
  ) {
    notes.push({ kind: "clock", skewMs: a.skew_ms, refused: a.refused_future + a.refused_old });
  }
  if (a?.prev_epoch && i.now - a.epoch_since < EPOCH_SHOWN_MS) {
    notes.push({ kind: "epoch", at: a.epoch_since });
  }
  if (a?.capped_at != null && i.now - a.capped_at < CAPPED_SHOWN_MS) {
    notes.push({
      kind: "series_cap",
      series: a.capped_series,
      samples: a.capped_samples,
      at: a.capped_at,
      limit: i.maxSeriesPerHost,
    });
  }
  if (a?.problem && !notes.some((n) => n.kind === "not_reporting")) {
    notes.push({ kind: "problem", text: a.problem, lost: a.lost });
  }
  return notes;
}

function whyNotReporting(i: IngestStatusInput): string {
  const a = i.agent;
  const lastStoredAt = a?.last_stored_at ?? 0;
  if (i.failure && i.failure.at >= lastStoredAt) return i.failure.reason;
  if (a && a.last_report_at > lastStoredAt && (a.refused_at ?? 0) > lastStoredAt) {
    return "its reports arrive but every sample in them is refused (dated more than 5 minutes ahead of the hub's clock, or older than the raw retention)";
  }
  if (a?.problem) return a.problem;
  const log = i.local ? "the hub's log" : "the agent's log (journalctl -u capstan-agent)";
  return a
    ? `the agent is connected but its reports stopped arriving; ${log} says why`
    : `the agent is connected but no report has arrived yet; ${log} says why`;
}
