/** The channel-neutral notification every sender formats its own way. Carries no secrets. */

/** What a notification is about. */
export type NotificationEvent = "firing" | "resolved" | "reminder" | "test";

/** A rendered notification, stored with its delivery so every retry says the same thing. */
export interface AlertMessage {
  event: NotificationEvent;
  alert_id: string | null;
  org: string;
  rule: string;
  severity: "warning" | "critical";
  title: string;
  /** One line of detail: the value against the threshold, or what happened. */
  detail: string;
  host: string | null;
  container: string | null;
  value: number | null;
  started_at: number;
  ended_at: number | null;
  /** Link to the hub's notification center, when the public URL is known. */
  url: string | null;
}

const LABEL: Record<NotificationEvent, string> = {
  firing: "FIRING",
  resolved: "RESOLVED",
  reminder: "STILL FIRING",
  test: "TEST",
};

/** Removes control characters (CR/LF included), so names from hosts and containers cannot forge lines. */
export function oneLine(s: string, max = 300): string {
  // deno-lint-ignore no-control-regex
  return s.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, " ").trim().slice(0, max);
}

/** "[FIRING] warning: CPU above 90% on web-1". */
export function headline(m: AlertMessage): string {
  return oneLine(`[${LABEL[m.event]}] ${m.severity}: ${m.title}`);
}

/** A duration as "5m 3s", "2h 10m". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  // Two units at most, the smaller left out when zero: "5m", "5m 30s", "2h", "1d 4h".
  const two = (a: number, ua: string, b: number, ub: string) =>
    b ? `${a}${ua} ${b}${ub}` : `${a}${ua}`;
  if (s < 60) return `${s}s`;
  if (s < 3600) return two(Math.floor(s / 60), "m", s % 60, "s");
  if (s < 86400) return two(Math.floor(s / 3600), "h", Math.floor((s % 3600) / 60), "m");
  return two(Math.floor(s / 86400), "d", Math.floor((s % 86400) / 3600), "h");
}

/** Plain-text lines of a notification (email body, fallback text). */
export function textLines(m: AlertMessage): string[] {
  const lines = [headline(m), "", oneLine(m.detail, 1000)];
  if (m.host) lines.push(`Host: ${oneLine(m.host)}`);
  if (m.container) lines.push(`Container: ${oneLine(m.container)}`);
  lines.push(`Rule: ${oneLine(m.rule)}`, `Started: ${new Date(m.started_at).toISOString()}`);
  if (m.ended_at !== null) {
    lines.push(
      `Ended: ${new Date(m.ended_at).toISOString()} (after ${
        formatDuration(m.ended_at - m.started_at)
      })`,
    );
  }
  if (m.url) lines.push("", m.url);
  return lines;
}
