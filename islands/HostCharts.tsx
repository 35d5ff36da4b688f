// A host's metrics on its page: live gauges, history charts with range selectors, and the
// statistics table of the chosen range. The server renders gauges and the table with current
// numbers (links switch the range without JS); hydrated, the island follows the host's metrics
// topic (every sample of each report), draws the charts with Chart.js (loaded on demand), and
// switches ranges by refetching the metrics and stats APIs — no page load. An app's page uses
// the same island for its history charts alone (no topic: no gauges; no stats keys: no table),
// fed by the app metrics API, which answers in the same shape.
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import type { SeriesStats } from "../lib/metrics/query.ts";
import type { HistoryChart, XY } from "./charts/history_chart.ts";
import { Gauge } from "../components/Gauge.tsx";
import { RangePicker } from "../components/RangePicker.tsx";
import { type ChartSpec, formatUnit, labelKey, unitOf } from "./client/keys.ts";
import { bytes, duration, labelOf, num, pct, rate } from "../components/format.ts";
import { type LiveState, subscribeLive } from "./client/realtime.ts";
import { CHART_LIVE_LABELS, LiveMarker } from "./live/LiveMarker.tsx";
import type { HostMetricsEvent, HostSample as Sample, Topic } from "../lib/realtime/topics.ts";

/** Props of the HostCharts island (JSON-serialisable). */
export interface HostChartsProps {
  /** `topics.hostMetrics(orgId, hostId)`; without one, no live gauges (an app's charts). */
  topic?: Topic<HostMetricsEvent>;
  /** `/api/v1/orgs/<slug>/hosts/<hostId>` (or an app's): `/metrics` and `/stats` under it. */
  apiBase: string;
  /** The heading of the charts (default "History"). */
  historyTitle?: string;
  /** What the charts say when the range has no data (default: about samples and rollups). */
  emptyNote?: string;
  range: string;
  /** Range name → length in ms, in display order. */
  ranges: Record<string, number>;
  charts: ChartSpec[];
  /** Series of the statistics table; none: no table and no stats requests. */
  statsKeys: string[];
  stats: SeriesStats[];
  relativeError: number;
  /** Newest value of every host series. */
  latest: Record<string, number>;
  latestT: number | null;
  cpus: number | null;
  /** The server's clock when it rendered, ms. */
  now: number;
}

interface MetricsResponse {
  tier: string;
  series: { key: string; points: [number, number, number, number][] }[];
}

const LIVE_RANGE = "1h";

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return /^#[0-9a-f]{6}$/i.test(v) ? v : fallback;
}

/** Sum of the keys a line stands for in one sample; null when the sample has none of them. */
function lineValue(host: Record<string, number>, keys: string[]): number | null {
  let total: number | null = null;
  for (const k of keys) if (k in host) total = (total ?? 0) + host[k];
  return total;
}

/** A line's points from the API's series: one key as is, a family summed per time bucket. */
function linePoints(series: Map<string, [number, number][]>, keys: string[]): XY[] {
  if (keys.length === 1) return (series.get(keys[0]) ?? []).map(([x, y]) => ({ x, y }));
  const sum = new Map<number, number>();
  for (const k of keys) for (const [t, v] of series.get(k) ?? []) sum.set(t, (sum.get(t) ?? 0) + v);
  return [...sum].sort((a, b) => a[0] - b[0]).map(([x, y]) => ({ x, y }));
}

/** The fullest filesystem: its mount, used %, used and total bytes. */
function fullest(latest: Record<string, number>) {
  let best: { mount: string; pct: number } | null = null;
  for (const k in latest) {
    if (!k.startsWith("fs.used_pct{")) continue;
    if (!best || latest[k] > best.pct) best = { mount: labelOf(k) ?? "?", pct: latest[k] };
  }
  if (!best) return null;
  return {
    ...best,
    used: latest[`fs.used_bytes{mount=${best.mount}}`],
    total: latest[`fs.total_bytes{mount=${best.mount}}`],
  };
}

function sumFamily(latest: Record<string, number>, name: string): number | null {
  let total: number | null = null;
  for (const k in latest) if (k.startsWith(`${name}{`)) total = (total ?? 0) + latest[k];
  return total;
}

/** CPU, memory, fullest disk and load gauges, and network, disk I/O and uptime figures. */
function Gauges(
  { latest, cpus, t }: { latest: Record<string, number>; cpus: number | null; t: number | null },
) {
  const cpu = latest["cpu.total_pct"] ?? null;
  const mem = latest["mem.used_pct"] ?? null;
  const disk = fullest(latest);
  const load1 = latest["load.1"] ?? null;
  return (
    <div class="host-gauges" data-t={t ?? undefined}>
      <div class="gauges">
        <Gauge
          id="cpu"
          label="CPU"
          fill={cpu}
          value={pct(cpu)}
          detail={cpus ? `${cpus} CPUs` : undefined}
        />
        <Gauge
          id="mem"
          label="Memory"
          fill={mem}
          value={pct(mem)}
          detail={latest["mem.total_bytes"]
            ? `${bytes(latest["mem.used_bytes"])} of ${bytes(latest["mem.total_bytes"])}`
            : undefined}
        />
        <Gauge
          id="disk"
          label={disk ? `Disk ${disk.mount}` : "Disk"}
          fill={disk?.pct ?? null}
          value={pct(disk?.pct)}
          detail={disk?.total
            ? `${bytes(disk.used)} of ${bytes(disk.total)}`
            : "fullest filesystem"}
        />
        <Gauge
          id="load"
          label="Load (1 min)"
          fill={load1 !== null && cpus ? (load1 / cpus) * 100 : null}
          value={num(load1)}
          detail={load1 === null
            ? undefined
            : `5 min ${num(latest["load.5"])} · 15 min ${num(latest["load.15"])}`}
        />
      </div>
      <div class="stats host-figures">
        <div class="card stat">
          <span class="stat-label">Network</span>
          <span class="stat-value" data-fig="net">↓ {rate(sumFamily(latest, "net.rx_bps"))}</span>
          <span class="stat-detail">↑ {rate(sumFamily(latest, "net.tx_bps"))}</span>
        </div>
        <div class="card stat">
          <span class="stat-label">Disk I/O</span>
          <span class="stat-value">R {rate(sumFamily(latest, "disk.read_bps"))}</span>
          <span class="stat-detail">W {rate(sumFamily(latest, "disk.write_bps"))}</span>
        </div>
        <div class="card stat">
          <span class="stat-label">Uptime</span>
          <span class="stat-value">{duration(latest["host.uptime_s"])}</span>
          {latest["swap.total_bytes"]
            ? (
              <span class="stat-detail">
                swap {bytes(latest["swap.used_bytes"])} of {bytes(latest["swap.total_bytes"])}
              </span>
            )
            : null}
        </div>
      </div>
    </div>
  );
}

/** avg, max and p95 of each main series over the range, with the error bound of p95. */
function StatsTable(
  { keys, stats, range, relativeError }: {
    keys: string[];
    stats: SeriesStats[];
    range: string;
    relativeError: number;
  },
) {
  const byKey = new Map(stats.map((s) => [s.key, s]));
  // An interface or disk that never moved a byte in the range is noise in this table.
  const idle = (k: string) =>
    byKey.get(k)!.max === 0 && ((k.includes("{") && unitOf(k) === "bps") || k.startsWith("swap."));
  const present = keys.filter((k) => byKey.has(k));
  const rows = present.filter((k) => !idle(k));
  const hidden = present.length - rows.length;
  return (
    <section class="card host-stats" aria-labelledby="stats-title">
      <h2 id="stats-title">Statistics, last {range}</h2>
      {rows.length === 0
        ? (
          <p class="muted" data-empty="stats">
            No statistics for this range yet: the host has not reported these series in it.
          </p>
        )
        : (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Metric</th>
                  <th scope="col" class="num">Average</th>
                  <th scope="col" class="num">Max</th>
                  <th scope="col" class="num">p95</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((k) => {
                  const s = byKey.get(k)!;
                  const u = unitOf(k);
                  return (
                    <tr key={k} data-key={k}>
                      <th scope="row">{labelKey(k)}</th>
                      <td class="num">{formatUnit(u, s.avg)}</td>
                      <td class="num">{formatUnit(u, s.max)}</td>
                      <td class="num">{formatUnit(u, s.p95)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      {hidden > 0 && (
        <p class="muted small footnote">
          {hidden} idle series (interfaces or disks without traffic in this range) not shown.
        </p>
      )}
      <p class="muted small footnote">
        Average and max are exact and include the current minute. p95 is read from mergeable
        log-bucketed histograms, so it is within {Math.round(relativeError * 100)}{" "}
        % of the exact value; for network and disk throughput it is the p95 of the one-minute
        (ranges up to 24 h) or one-hour averages, since most single seconds of a quiet link are
        idle.
      </p>
    </section>
  );
}

/** One history chart's frame: title, legend and the canvas the island draws on. */
function ChartCard(
  { spec, canvasRef, empty, points, lastT }: {
    spec: ChartSpec;
    canvasRef: (el: HTMLCanvasElement | null) => void;
    empty: string | null;
    points?: number;
    lastT?: number | null;
  },
) {
  return (
    <div
      class="card live-chart history-chart"
      data-chart={spec.id}
      data-points={points}
      data-last-t={lastT ?? undefined}
    >
      <div class="live-chart-head">
        <strong>{spec.title}</strong>
        {spec.lines.map((l) => (
          <span key={l.label} class="legend" style={`--legend:var(${l.color})`}>{l.label}</span>
        ))}
      </div>
      <div class="live-chart-box">
        <canvas ref={canvasRef} role="img" aria-label={`${spec.title} over the chosen range`} />
        {empty && <p class="chart-note muted small">{empty}</p>}
      </div>
    </div>
  );
}

/** Gauges, charts and statistics of one host. */
export default function HostCharts(props: HostChartsProps) {
  const latest = useSignal(props.latest);
  const latestT = useSignal(props.latestT);
  const range = useSignal(props.range);
  const stats = useSignal(props.stats);
  const live = useSignal<LiveState>("off");
  const loading = useSignal(false);
  const tier = useSignal<string | null>(null);
  const note = useSignal<string | null>("Charts draw once JavaScript has loaded.");
  const cpuInfo = useSignal<{ points: number; lastT: number | null }>({ points: 0, lastT: null });
  const canvases = useRef(new Map<string, HTMLCanvasElement>());
  const charts = useRef(new Map<string, HistoryChart>());
  const loader = useRef<((r: string) => void) | null>(null);

  useEffect(() => {
    let stopped = false;
    let ready = false;
    let request = 0;
    const skew = props.now - Date.now();
    const pending: Sample[] = [];
    const cpuLine = () => props.charts.find((c) => c.id === "cpu")?.lines[0]?.keys ?? [];

    const appendLive = (s: Sample) => {
      if (range.value !== LIVE_RANGE) return;
      const from = s.t - props.ranges[LIVE_RANGE];
      for (const spec of props.charts) {
        charts.current.get(spec.id)?.append(
          s.t,
          spec.lines.map((l) => lineValue(s.host, l.keys)),
          from,
        );
      }
      if (lineValue(s.host, cpuLine()) !== null) {
        cpuInfo.value = { points: cpuInfo.value.points + 1, lastT: s.t };
      }
    };

    const load = async (r: string) => {
      const mine = ++request;
      loading.value = true;
      const to = Date.now() + skew;
      const from = to - props.ranges[r];
      const keys = [...new Set(props.charts.flatMap((c) => c.lines.flatMap((l) => l.keys)))];
      try {
        const [m, s] = await Promise.all([
          fetch(
            `${props.apiBase}/metrics?from=${from}&to=${to}&metric=${
              encodeURIComponent(keys.join(","))
            }`,
          ).then((res) =>
            res.ok ? res.json() as Promise<MetricsResponse> : Promise.reject(res.status)
          ),
          props.statsKeys.length
            ? fetch(
              `${props.apiBase}/stats?range=${r}&metric=${
                encodeURIComponent(props.statsKeys.join(","))
              }`,
            ).then((res) => res.ok ? res.json() : Promise.reject(res.status))
            : { series: [] },
        ]);
        if (stopped || mine !== request) return;
        const series = new Map(
          m.series.map((x) => [x.key, x.points.map((p) => [p[0], p[1]] as [number, number])]),
        );
        let any = false;
        for (const spec of props.charts) {
          const lines = spec.lines.map((l) => linePoints(series, l.keys));
          any ||= lines.some((l) => l.length > 0);
          charts.current.get(spec.id)?.set(lines, from, to);
          if (spec.id === "cpu") {
            cpuInfo.value = { points: lines[0].length, lastT: lines[0].at(-1)?.x ?? null };
          }
        }
        tier.value = m.tier;
        stats.value = s.series;
        note.value = any
          ? null
          : props.emptyNote ?? (m.tier === "raw"
            ? "No samples in this range yet."
            : "No rollups in this range yet: minute rollups appear a minute after the samples.");
        ready = true;
        for (const p of pending.splice(0)) appendLive(p);
      } catch (err) {
        if (!stopped && mine === request) note.value = `Could not load the history (${err}).`;
      } finally {
        if (mine === request) loading.value = false;
      }
    };

    import("./charts/history_chart.ts").then(({ createHistoryChart }) => {
      if (stopped) return;
      const grid = cssVar("--border", "#2b333e");
      const text = cssVar("--muted", "#9aa5b4");
      for (const spec of props.charts) {
        const canvas = canvases.current.get(spec.id);
        if (!canvas) continue;
        charts.current.set(
          spec.id,
          createHistoryChart(canvas, {
            lines: spec.lines.map((l) => ({
              label: l.label,
              color: cssVar(l.color, "#6ea8fe"),
              dashed: l.dashed,
            })),
            grid,
            text,
            format: (v) => formatUnit(spec.unit, v),
            tick: spec.unit === "pct" ? (v) => `${Math.round(v)} %` : undefined,
            suggestedMax: spec.unit === "pct" ? 100 : undefined,
          }),
        );
      }
      note.value = "Loading…";
      return load(range.value);
    }).catch((err) => note.value = `Charts are unavailable (${err}).`);

    const stop = !props.topic ? () => {} : subscribeLive([props.topic], {
      state: (s) => live.value = s,
      event(_topic, data) {
        // The socket carries JSON from the hub; check its shape anyway.
        if (!Array.isArray(data?.samples) || !data.samples.length) return;
        const samples = data.samples.filter((s) => typeof s?.t === "number" && s.host);
        const last = samples.at(-1);
        if (!last || (latestT.value !== null && last.t <= latestT.value)) return;
        latest.value = { ...latest.value, ...last.host };
        latestT.value = last.t;
        for (const s of samples) {
          if (ready) appendLive(s);
          // Kept only until the first history arrives; bounded in case it never does.
          else if (pending.push(s) > 3600) pending.shift();
        }
      },
    });

    loader.current = (r) => {
      range.value = r;
      history.replaceState(history.state, "", `?range=${encodeURIComponent(r)}`);
      load(r);
    };
    return () => {
      stopped = true;
      loader.current = null;
      stop();
      for (const c of charts.current.values()) c.destroy();
      charts.current.clear();
    };
  }, [props.topic, props.apiBase]);

  // The click handler reaches the loader the effect set up (it needs the effect's closures).
  const pick = (r: string) => loader.current?.(r);

  return (
    <div
      class="host-metrics"
      data-range={range.value}
      data-tier={tier.value ?? undefined}
      data-loading={loading.value ? "true" : undefined}
    >
      {props.topic && (
        <>
          <div class="section-head">
            <h2>Now</h2>
            <LiveMarker state={live.value} labels={CHART_LIVE_LABELS} />
          </div>
          <Gauges latest={latest.value} cpus={props.cpus} t={latestT.value} />
        </>
      )}
      <div class="section-head">
        <h2>{props.historyTitle ?? "History"}</h2>
        <RangePicker ranges={Object.keys(props.ranges)} range={range.value} onPick={pick} />
      </div>
      <div class="history-charts">
        {props.charts.map((spec) => (
          <ChartCard
            key={spec.id}
            spec={spec}
            canvasRef={(el) =>
              el ? canvases.current.set(spec.id, el) : canvases.current.delete(spec.id)}
            empty={note.value}
            points={spec.id === "cpu" ? cpuInfo.value.points : undefined}
            lastT={spec.id === "cpu" ? cpuInfo.value.lastT : undefined}
          />
        ))}
      </div>
      {props.statsKeys.length > 0 && (
        <StatsTable
          keys={props.statsKeys}
          stats={stats.value}
          range={range.value}
          relativeError={props.relativeError}
        />
      )}
    </div>
  );
}
