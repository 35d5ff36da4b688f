/** Human words for alerts: titles, one-line details and values. */
import type { CompiledRule } from "./compile.ts";
import { formatDuration } from "./channels/message.ts";

/** What a firing records and says: its title and detail, and the names it shows. */
export interface FireInfo {
  title: string;
  detail: string;
  /** null: the alert is about no host (an app's secret). */
  hostName: string | null;
  containerName: string | null;
}

/** A value in the unit its series name implies. */
export function formatValue(metric: string | null, v: number | null): string {
  if (v === null || !Number.isFinite(v)) return "—";
  if (metric?.includes("_pct")) return `${v.toFixed(1)}%`;
  if (metric?.includes("_bytes")) {
    const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let x = v;
    let i = 0;
    while (Math.abs(x) >= 1024 && i < units.length - 1) {
      x /= 1024;
      i++;
    }
    return `${x >= 10 || i === 0 ? Math.round(x) : x.toFixed(1)} ${units[i]}`;
  }
  return Number.isInteger(v) ? String(v) : v.toPrecision(4);
}

/** "CPU above 90% on web-1 / nginx (mount=/)". */
export function alertTitle(
  r: CompiledRule,
  host: string,
  container: string | null,
  labels: string,
): string {
  const where = container ? `${host} / ${container}` : host;
  const lbl = labels ? ` (${labels.replace(/^\{|\}$/g, "")})` : "";
  return `${r.name} on ${where}${lbl}`;
}

/** What is wrong, in one line, for a firing notification. */
export function firingDetail(
  r: CompiledRule,
  o: { value: number | null; key?: string; container?: string | null; exitCode?: number | null },
): string {
  const ctr = o.container ?? "the container";
  switch (r.spec.kind === "event" ? r.spec.event : "metric") {
    case "metric":
    case "data_root_size": {
      const t = r.threshold!;
      const hold = t.holdMs ? ` for ${formatDuration(t.holdMs)}` : "";
      const avg = t.mode === "avg" ? ` (average over ${formatDuration(t.windowMs)})` : "";
      return `${o.key ?? r.metric} is ${formatValue(r.metric, o.value)}${avg}, ${t.op} ${
        formatValue(r.metric, t.trigger)
      }${hold}`;
    }
    case "host_offline":
      return `No report and no connection from the host for ${
        formatDuration((o.value ?? 0) * 1000)
      }`;
    case "container_exited":
      return `${ctr} exited with code ${o.exitCode ?? o.value ?? "?"} and was not restarted`;
    case "restart_loop":
      return `${ctr} restarted ${o.value} times in ${
        formatDuration((r.spec.event_window_s ?? 0) * 1000)
      }`;
    case "unhealthy":
      return `${ctr} is unhealthy (its health check fails)`;
    case "oom":
      return `${ctr} was killed: out of memory`;
    case "certificate":
      return "A route's certificate expires soon or could not be had";
    case "tasks_moved":
      return "Swarm started the app's tasks on other nodes";
    case "secret_rotated":
      return "A secret the app uses was rotated";
    case "build":
      return "A build from Git or its deployment changed stage";
    case "webhook_disabled":
      return "The app's Git webhook was disabled after bad signatures";
    case "nas_backup_stale":
      return "A NAS site has no recent backup, or the NAS cannot be read";
    case "snapshot_failed":
      return "A volume snapshot or restore failed";
    case "snapshot_verify_failed":
      return "A storage target's verification failed";
    case "quota_usage":
      return "An organization's use of a quota crossed 80 %, 90 %, 100 % or its limit, or came back";
    case "billing_wallet":
      return "The wallet went below zero, its grace period passed halfway or ended, or it recovered";
    default:
      return r.name;
  }
}

/** What changed, in one line, for a resolved notification. */
export function resolvedDetail(
  r: CompiledRule,
  value: number | null,
  startedAt: number,
  endedAt: number,
) {
  const after = formatDuration(endedAt - startedAt);
  if (r.threshold) {
    const back = r.threshold.op === ">" ? "<" : ">";
    return `Back to ${formatValue(r.metric, value)} (clear ${back} ${
      formatValue(r.metric, r.threshold.clear)
    }) after ${after}`;
  }
  return `Resolved after ${after}`;
}
