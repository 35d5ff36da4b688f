/**
 * Small pieces every health page shares: the state badge (marked so the live islands can rewrite
 * it in place), response times and uptime percentages in one format, and a check's target in words.
 */
import type { CheckState } from "../lib/health/schema.ts";
import type { Uptime } from "../lib/health/service.ts";
import type { HealthCheckView } from "../lib/health/rows.ts";
import { Badge } from "./Badge.tsx";

/** Badge colour of a check state. */
export const STATE_TONE = { healthy: "ok", unhealthy: "error", unknown: "neutral" } as const;

/**
 * A check's state as a colour-coded badge; `[data-check-state=<id>]` is what live islands update.
 * A check whose container is gone says so instead of a state (it does not run).
 */
export function HealthBadge(
  { id, state, enabled = true, gone = false }: {
    id: string;
    state: CheckState;
    enabled?: boolean;
    gone?: boolean;
  },
) {
  const shown = gone ? "gone" : enabled ? state : "disabled";
  return (
    <span class="health-state" data-check-state={id} data-state={shown}>
      {gone
        ? <Badge tone="warn">container removed</Badge>
        : enabled
        ? <Badge tone={STATE_TONE[state]}>{state}</Badge>
        : <Badge tone="neutral">disabled</Badge>}
    </span>
  );
}

/** 12.345 → "12.3 ms", 1234 → "1.23 s", null → "—". */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
}

/** 99.95 → "99.95%", 100 → "100%", null → "—". */
export function formatPct(p: number | null | undefined): string {
  if (p === null || p === undefined) return "—";
  return `${Number.isInteger(p) ? p : p.toFixed(2).replace(/0$/, "")}%`;
}

/** The last result in a few words: the status code or exit code, else the error. */
export function lastResultText(last: HealthCheckView["last"]): string {
  if (!last) return "no result yet";
  const code = last.status_code !== null ? `HTTP ${last.status_code}` : null;
  if (last.ok) return code ?? "ok";
  return [code, last.error].filter(Boolean).join(" · ") || "failed";
}

/** What a check probes, in words: "GET :8080/healthz", "TCP :5432", the argv, or Docker health. */
export function targetText(c: Pick<HealthCheckView, "kind" | "config">): string {
  const cfg = c.config as Record<string, unknown>;
  switch (c.kind) {
    case "http": {
      const host = cfg.host ? String(cfg.host) : "";
      const scheme = cfg.scheme === "https" ? "https://" : "";
      return `${cfg.method ?? "GET"} ${scheme}${host}:${cfg.port}${cfg.path ?? "/"}`;
    }
    case "tcp":
      return `TCP :${cfg.port}`;
    case "command":
      return (cfg.argv as string[]).join(" ");
    default:
      return "the image's HEALTHCHECK";
  }
}

/** Words for the kinds. */
export const KIND_LABELS = {
  http: "HTTP",
  tcp: "TCP",
  docker: "Docker health",
  command: "Command",
} as const;

/** Uptime over 24 h / 7 d / 30 d in one line. */
export function UptimeCells({ uptime }: { uptime: Uptime }) {
  return (
    <span class="uptime">
      {(["24h", "7d", "30d"] as const).map((k, i) => (
        <span key={k} title={`last ${k}`}>
          {i > 0 && <span class="muted">&nbsp;·&nbsp;</span>}
          {formatPct(uptime[k])}
        </span>
      ))}
    </span>
  );
}
