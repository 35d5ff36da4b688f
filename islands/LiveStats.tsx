// Live resource usage of one container: figures every second over Server-Sent Events, and a small
// chart of the last five minutes. The hub computes the figures once per sample for every viewer;
// this island only formats them. Chart.js is loaded on demand (see charts/stats_chart.ts).
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import type { StatsSummary } from "../lib/docker/stats.ts";
import type { StatsChart } from "./charts/stats_chart.ts";

export interface LiveStatsProps {
  /** `…/containers/{id}/stats/stream` */
  streamUrl: string;
}

/** Samples on the chart: about five minutes at one a second. */
const CHART_POINTS = 300;

type Status = "off" | "connecting" | "live" | "reconnecting" | "ended";

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/** 1536 → "1.5 KiB". */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "—";
  let i = 0;
  let v = n;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? Math.round(v) : Number(v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0))} ${UNITS[i]}`;
}

const rate = (
  n: number | null | undefined,
) => (n === null || n === undefined ? "—" : `${formatBytes(n)}/s`);
const pct = (
  n: number | null | undefined,
) => (n === null || n === undefined ? "—" : `${n.toFixed(n < 10 ? 2 : 1)} %`);

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return /^#[0-9a-f]{6}$/i.test(v) ? v : fallback;
}

/** One labelled figure with a line of detail. */
function Figure({ label, value, detail }: { label: string; value: string; detail?: string }) {
  return (
    <div class="card stat live-stat">
      <span class="stat-label">{label}</span>
      <span class="stat-value">{value}</span>
      {detail && <span class="stat-detail">{detail}</span>}
    </div>
  );
}

/** Live CPU, memory, network, block I/O and pids of a container, with a chart. */
export default function LiveStats({ streamUrl }: LiveStatsProps) {
  const s = useSignal<StatsSummary | null>(null);
  const status = useSignal<Status>("off");
  const message = useSignal("");
  const canvas = useRef<HTMLCanvasElement>(null);

  useEffect(() => {
    let es: EventSource | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let attempt = 0;
    let chart: StatsChart | undefined;
    let stopped = false;
    const pending: [string, number | null, number | null][] = [];

    import("./charts/stats_chart.ts").then(({ createStatsChart }) => {
      if (stopped || !canvas.current) return;
      chart = createStatsChart(canvas.current, {
        cpu: cssVar("--accent", "#6ea8fe"),
        memory: cssVar("--warn", "#e3b341"),
        grid: cssVar("--border", "#2b333e"),
        text: cssVar("--muted", "#9aa5b4"),
      }, CHART_POINTS);
      for (const p of pending.splice(0)) chart.push(...p);
    }).catch((err) => console.warn("stats chart unavailable:", err));

    const retry = () => {
      es?.close();
      status.value = "reconnecting";
      timer = setTimeout(connect, Math.min(30_000, 1000 * 2 ** attempt++));
    };
    const connect = () => {
      status.value = attempt === 0 ? "connecting" : "reconnecting";
      const source = es = new EventSource(streamUrl);
      source.addEventListener("stats", (e) => {
        const sum = JSON.parse((e as MessageEvent).data) as StatsSummary;
        s.value = sum;
        status.value = "live";
        message.value = "";
        attempt = 0;
        const at = new Date(sum.readAt ?? Date.now()).toISOString().slice(11, 19);
        const cpu = sum.cpuPercentOfLimit ?? sum.cpuPercentOfHost;
        const point: [string, number | null, number | null] = [at, cpu, sum.memoryPercent];
        if (chart) chart.push(...point);
        else if (pending.push(point) > CHART_POINTS) pending.shift();
      });
      source.addEventListener("end", (e) => {
        const r = JSON.parse((e as MessageEvent).data) as { code: string; reason: string };
        source.close();
        message.value = r.reason;
        if (r.code === "ended" || r.code === "not_found") status.value = "ended";
        else retry();
      });
      source.onerror = () => {
        if (source.readyState === EventSource.CLOSED) retry();
        else status.value = "reconnecting";
      };
    };
    connect();
    return () => {
      stopped = true;
      clearTimeout(timer);
      es?.close();
      chart?.destroy();
    };
  }, [streamUrl]);

  const v = s.value;
  const limited = v?.cpuLimitCores != null;
  const st = status.value;
  return (
    <section class="live-stats" aria-label="Resource usage" data-state={st}>
      <div class="stats live-figures">
        <Figure
          label="CPU (of host)"
          value={pct(v?.cpuPercentOfHost)}
          detail={v ? `${v.cpuCores?.toFixed(3) ?? "—"} of ${v.onlineCpus} cores` : undefined}
        />
        <Figure
          label="CPU (of limit)"
          value={limited ? pct(v?.cpuPercentOfLimit) : "no limit"}
          detail={limited ? `limit ${v!.cpuLimitCores} cores` : undefined}
        />
        <Figure
          label="Memory"
          value={formatBytes(v?.memoryUsedBytes)}
          detail={v ? `${pct(v.memoryPercent)} of ${formatBytes(v.memoryLimitBytes)}` : undefined}
        />
        <Figure
          label="Network"
          value={v ? `↓ ${rate(v.networkRxBytesPerSec)}` : "—"}
          detail={v ? `↑ ${rate(v.networkTxBytesPerSec)}` : undefined}
        />
        <Figure
          label="Block I/O"
          value={v ? `R ${rate(v.blockReadBytesPerSec)}` : "—"}
          detail={v ? `W ${rate(v.blockWriteBytesPerSec)}` : undefined}
        />
        <Figure label="Processes" value={v ? String(v.pids) : "—"} />
      </div>
      <div class="card live-chart">
        <div class="live-chart-head">
          <span class="legend legend-cpu">CPU % {limited ? "of limit" : "of host"}</span>
          <span class="legend legend-mem">Memory %</span>
          <span class="muted small">last 5 minutes</span>
        </div>
        <div class="live-chart-box">
          <canvas ref={canvas} aria-label="CPU and memory over the last five minutes" role="img" />
        </div>
      </div>
      <p class="log-status stats-status" data-state={st} hidden={st === "off" || st === "live"}>
        <span class="live-dot" aria-hidden="true" />
        <span aria-live="polite">
          {st === "connecting"
            ? "Connecting…"
            : st === "reconnecting"
            ? "Connection lost; reconnecting…"
            : `Not updating${message.value ? `: ${message.value}` : ""}`}
        </span>
      </p>
    </section>
  );
}
